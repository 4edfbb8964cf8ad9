/* oidc_config.c -- the body keys of <AuthFlowProvider NAME>, one table-driven parser for the
 * module's configuration and `authflowctl check` alike (CONFIG.md "Inside
 * <AuthFlowProvider NAME>"). */
#include <stddef.h>
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include "common/af_file.h"
#include "common/af_parse.h"
#include "oidc/af_oidc.h"
#include "oidc/af_oidc_guard.h"

#define SECRET_FILE_MAX 4096

typedef enum {
    K_STRING,         /* one value into a const char * field, once */
    K_PATH,           /* a file path (resolved), once */
    K_KEY_PATH,       /* a private key's path (resolved, the secret-file rule), once */
    K_SECRET,         /* ClientSecret */
    K_SECRET_FILE,    /* ClientSecretFile */
    K_AUTH,           /* TokenEndpointAuth */
    K_PARAM,          /* AuthParam KEY VALUE (repeatable) */
    K_CLAIM,          /* Claim OURNAME PATH (repeatable) */
    K_TIMEOUT,        /* Timeout DUR */
    K_COUNT,          /* MaxConcurrent N */
    K_PRESET,         /* Preset NAME */
    K_ALGS,           /* IDTokenSigningAlg ALG... */
    K_EMAIL_VERIFIED, /* EmailVerified claim|never|always */
    K_ADMIN_KEY_FILE, /* AdminKeyFile (Kakao) */
    K_RESPMODE,       /* ResponseMode query|form_post */
    K_TYPE,           /* Type oidc|oauth2|password */
    K_AUTHN,          /* AuthnProvider NAME... (Type password) */
    K_THROTTLE,       /* Throttle N DUR (Type password) */
    K_DISPLAY         /* DisplayName [LANG] TEXT (repeatable, once per language) */
} kind_t;

static const struct {
    const char *name;
    kind_t kind;
    apr_size_t offset;
} keys[] = {
    {"Issuer", K_STRING, offsetof(af_oidc_provider_t, issuer)},
    {"AuthorizationEndpoint", K_STRING, offsetof(af_oidc_provider_t, authorization_endpoint)},
    {"TokenEndpoint", K_STRING, offsetof(af_oidc_provider_t, token_endpoint)},
    {"UserinfoEndpoint", K_STRING, offsetof(af_oidc_provider_t, userinfo_endpoint)},
    {"JwksURI", K_STRING, offsetof(af_oidc_provider_t, jwks_uri)},
    {"EndSessionEndpoint", K_STRING, offsetof(af_oidc_provider_t, end_session_endpoint)},
    {"ClientID", K_STRING, offsetof(af_oidc_provider_t, client_id)},
    {"RedirectURI", K_STRING, offsetof(af_oidc_provider_t, redirect_uri)},
    {"Scope", K_STRING, offsetof(af_oidc_provider_t, scope)},
    {"SubjectClaim", K_STRING, offsetof(af_oidc_provider_t, subject_claim)},
    {"CAFile", K_PATH, offsetof(af_oidc_provider_t, ca_file)},
    {"ClientSecret", K_SECRET, 0},
    {"ClientSecretFile", K_SECRET_FILE, 0},
    {"TokenEndpointAuth", K_AUTH, 0},
    {"AuthParam", K_PARAM, 0},
    {"Claim", K_CLAIM, 0},
    {"Timeout", K_TIMEOUT, 0},
    {"MaxConcurrent", K_COUNT, 0},
    {"Preset", K_PRESET, 0},
    {"IDTokenSigningAlg", K_ALGS, 0},
    {"EmailVerified", K_EMAIL_VERIFIED, 0},
    {"AdminKeyFile", K_ADMIN_KEY_FILE, 0},
    {"ResponseMode", K_RESPMODE, 0},
    {"TeamID", K_STRING, offsetof(af_oidc_provider_t, team_id)},
    {"KeyID", K_STRING, offsetof(af_oidc_provider_t, key_id)},
    {"PrivateKeyFile", K_KEY_PATH, offsetof(af_oidc_provider_t, private_key_file)},
    {"Type", K_TYPE, 0},
    {"AuthnProvider", K_AUTHN, 0},
    {"Throttle", K_THROTTLE, 0},
    {"DisplayName", K_DISPLAY, 0},
};

static apr_array_header_t *kv_push(apr_array_header_t *a, const char *k, const char *v,
                                   apr_pool_t *p)
{
    af_oidc_kv_t *kv;

    if (a == NULL) {
        a = apr_array_make(p, 2, sizeof(af_oidc_kv_t));
    }
    kv = apr_array_push(a);
    kv->key = k;
    kv->value = v;
    return a;
}

const char *af_oidc_secret_file(const char **out, const char *path, apr_pool_t *p)
{
    const char *err;
    char *buf = NULL;
    apr_size_t n = 0;
    apr_status_t rv;

    rv = af_file_check_private(path); /* the one rule for secret files */
    if (rv != APR_SUCCESS) {
        err = af_file_private_hint(rv, path, p);
        return err != NULL ? err : "cannot read the file";
    }
    rv = af_file_read(&buf, &n, path, SECRET_FILE_MAX, p);
    if (rv == AF_ETOOBIG) {
        return "the file is larger than 4 KiB";
    }
    if (rv != APR_SUCCESS) {
        return "cannot read the file";
    }
    while (n > 0 && apr_isspace(buf[n - 1])) {
        n--;
    }
    buf[n] = '\0';
    if (n == 0 || memchr(buf, '\0', n) != NULL || af_parse_has_ctl(buf)) {
        return "the file is empty or holds control characters";
    }
    *out = buf;
    return NULL;
}

const char *af_oidc_provider_key(af_oidc_provider_t *pv, const char *key, int argc,
                                 const char *const *argv, af_oidc_path_fn *resolve, void *baton,
                                 apr_pool_t *p)
{
    const char **field, *err, *path;
    apr_int64_t secs;
    apr_size_t i;
    int j;

    for (j = 0; j < argc; j++) {
        if (af_parse_has_ctl(argv[j]) || strlen(argv[j]) > 2048) {
            return apr_psprintf(p, "%s: value too long or with control characters", key);
        }
    }
    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        if (strcasecmp(key, keys[i].name) == 0) {
            break;
        }
    }
    if (i == sizeof(keys) / sizeof(keys[0])) {
        return apr_psprintf(p, "unknown key '%s'", key);
    }
    key = keys[i].name;
    switch (keys[i].kind) {
    case K_STRING:
    case K_PATH:
    case K_KEY_PATH:
        if (argc != 1 || *argv[0] == '\0') {
            return apr_psprintf(p, "%s takes one value", key);
        }
        field = (const char **) ((char *) pv + keys[i].offset);
        if (*field != NULL) {
            return apr_psprintf(p, "%s given twice", key);
        }
        path = keys[i].kind != K_STRING && resolve != NULL ? resolve(baton, argv[0], p) : argv[0];
        if (path == NULL) {
            return apr_psprintf(p, "%s: bad path", key);
        }
        /* the secret-file rule now, so that the refusal names this line; the key itself is
         * loaded (and a missing file reported) when the provider is checked */
        if (keys[i].kind == K_KEY_PATH &&
            (err = af_file_private_hint(af_file_check_private(path), path, p)) != NULL) {
            return apr_psprintf(p, "%s %s: %s", key, argv[0], err);
        }
        *field = path;
        return NULL;
    case K_SECRET:
    case K_SECRET_FILE:
        if (argc != 1 || *argv[0] == '\0') {
            return apr_psprintf(p, "%s takes one value", key);
        }
        if (pv->client_secret != NULL) {
            return apr_psprintf(p, "%s: the client secret is given twice", key);
        }
        if (keys[i].kind == K_SECRET) {
            pv->client_secret = argv[0];
            return NULL;
        }
        path = resolve != NULL ? resolve(baton, argv[0], p) : argv[0];
        if (path == NULL) {
            return apr_psprintf(p, "%s: bad path", key);
        }
        if ((err = af_oidc_secret_file(&pv->client_secret, path, p)) != NULL) {
            return apr_psprintf(p, "%s %s: %s", key, argv[0], err);
        }
        return NULL;
    case K_AUTH:
        if (argc == 1 && strcmp(argv[0], "client_secret_basic") == 0) {
            pv->token_auth = AF_OIDC_AUTH_BASIC;
        } else if (argc == 1 && strcmp(argv[0], "client_secret_post") == 0) {
            pv->token_auth = AF_OIDC_AUTH_POST;
        } else {
            return apr_psprintf(p, "%s: '%s' is not client_secret_basic or client_secret_post", key,
                                argc > 0 ? argv[0] : "");
        }
        return NULL;
    case K_PARAM:
        if (argc != 2 || *argv[0] == '\0') {
            return "AuthParam takes KEY VALUE";
        }
        pv->auth_params = kv_push(pv->auth_params, argv[0], argv[1], p);
        return NULL;
    case K_CLAIM:
        if (argc != 2 || !af_parse_is_name(argv[0], 64) || *argv[1] == '\0') {
            return "Claim takes OURNAME PATH (OURNAME: letters, digits, - _ .)";
        }
        pv->claims = kv_push(pv->claims, argv[0], argv[1], p);
        return NULL;
    case K_DISPLAY: {
        const char *lang = argc == 2 ? argv[0] : "";

        if (argc < 1 || argc > 2 || *argv[argc - 1] == '\0' || strlen(argv[argc - 1]) > 80 ||
            (argc == 2 && !af_parse_is_name(lang, 8))) {
            return "DisplayName takes [LANG] TEXT (LANG: a language tag such as ko; TEXT: 1..80 "
                   "bytes)";
        }
        for (j = 0; pv->display_names != NULL && j < pv->display_names->nelts; j++) {
            if (strcasecmp(APR_ARRAY_IDX(pv->display_names, j, af_oidc_kv_t).key, lang) == 0) {
                return apr_psprintf(p, "DisplayName given twice%s%s", *lang ? " for " : "", lang);
            }
        }
        pv->display_names = kv_push(pv->display_names, lang, argv[argc - 1], p);
        return NULL;
    }
    case K_TIMEOUT:
        if (argc != 1 || af_parse_duration(&secs, argv[0]) != APR_SUCCESS || secs < 1 ||
            secs > 300) {
            return "Timeout takes a duration between 1s and 300s";
        }
        pv->timeout = apr_time_from_sec(secs);
        return NULL;
    case K_COUNT: {
        char *end = NULL;
        long n = argc == 1 ? strtol(argv[0], &end, 10) : 0;

        if (argc != 1 || !apr_isdigit(argv[0][0]) || *end != '\0' || n < 1 ||
            n > AF_OIDC_GUARD_LIMIT) {
            return "MaxConcurrent takes a number between 1 and 1024";
        }
        if (pv->max_concurrent != 0) {
            return "MaxConcurrent given twice";
        }
        pv->max_concurrent = (int) n;
        return NULL;
    }
    case K_PRESET:
        if (argc != 1 || af_oidc_preset_from_name(&pv->preset, argv[0]) != 0 ||
            pv->preset == AF_OIDC_PRESET_NONE) {
            return "Preset takes google, kakao, naver, github or apple";
        }
        return NULL;
    case K_RESPMODE:
        if (argc == 1 && strcmp(argv[0], "query") == 0) {
            pv->response_mode = AF_OIDC_RESPONSE_QUERY;
        } else if (argc == 1 && strcmp(argv[0], "form_post") == 0) {
            pv->response_mode = AF_OIDC_RESPONSE_FORM_POST;
        } else {
            return "ResponseMode takes query or form_post";
        }
        return NULL;
    case K_EMAIL_VERIFIED:
        if (pv->email_verified != AF_OIDC_EV_DEFAULT) {
            return "EmailVerified given twice";
        }
        if (argc == 1 && strcmp(argv[0], "claim") == 0) {
            pv->email_verified = AF_OIDC_EV_CLAIM;
        } else if (argc == 1 && strcmp(argv[0], "never") == 0) {
            pv->email_verified = AF_OIDC_EV_NEVER;
        } else if (argc == 1 && strcmp(argv[0], "always") == 0) {
            pv->email_verified = AF_OIDC_EV_ALWAYS;
        } else {
            return "EmailVerified takes claim, never or always";
        }
        return NULL;
    case K_ADMIN_KEY_FILE:
        if (argc != 1 || *argv[0] == '\0') {
            return apr_psprintf(p, "%s takes one value", key);
        }
        if (pv->admin_key != NULL) {
            return apr_psprintf(p, "%s given twice", key);
        }
        path = resolve != NULL ? resolve(baton, argv[0], p) : argv[0];
        if (path == NULL) {
            return apr_psprintf(p, "%s: bad path", key);
        }
        if ((err = af_oidc_secret_file(&pv->admin_key, path, p)) != NULL) {
            return apr_psprintf(p, "%s %s: %s", key, argv[0], err);
        }
        return NULL;
    case K_ALGS:
        if (argc < 1) {
            return "IDTokenSigningAlg takes one or more algorithms";
        }
        for (j = 0; j < argc; j++) {
            if (af_alg_from_name(argv[j]) == AF_ALG_UNKNOWN && strcmp(argv[j], "none") != 0) {
                return apr_psprintf(p, "IDTokenSigningAlg: unknown algorithm '%s'", argv[j]);
            }
            if (pv->id_token_algs == NULL) {
                pv->id_token_algs = apr_array_make(p, 2, sizeof(const char *));
            }
            APR_ARRAY_PUSH(pv->id_token_algs, const char *) = argv[j];
        }
        return NULL;
    case K_TYPE:
        if (pv->kind != AF_OIDC_KIND_AUTO) {
            return "Type given twice";
        }
        if (argc == 1 && strcasecmp(argv[0], "password") == 0) {
            pv->kind = AF_OIDC_KIND_PASSWORD;
        } else if (argc == 1 && strcasecmp(argv[0], "oidc") == 0) {
            pv->kind = AF_OIDC_KIND_OIDC;
        } else if (argc == 1 && strcasecmp(argv[0], "oauth2") == 0) {
            pv->kind = AF_OIDC_KIND_OAUTH2;
        } else {
            return "Type takes oidc, oauth2 or password";
        }
        return NULL;
    case K_AUTHN:
        if (argc < 1) {
            return "AuthnProvider takes one or more httpd authn provider names";
        }
        if (pv->authn_providers != NULL) {
            return "AuthnProvider given twice (name all providers on one line)";
        }
        for (j = 0; j < argc; j++) { /* all checked before any is kept */
            if (!af_parse_is_name(argv[j], 64)) {
                return apr_psprintf(p, "AuthnProvider: '%s' is not a provider name", argv[j]);
            }
        }
        pv->authn_providers = apr_array_make(p, argc, sizeof(const char *));
        for (j = 0; j < argc; j++) {
            APR_ARRAY_PUSH(pv->authn_providers, const char *) = apr_pstrdup(p, argv[j]);
        }
        return NULL;
    case K_THROTTLE: {
        char *end = NULL;
        long n = argc == 2 ? strtol(argv[0], &end, 10) : 0;

        if (argc != 2 || !apr_isdigit(argv[0][0]) || *end != '\0' || n < 1 || n > 100000 ||
            af_parse_duration(&secs, argv[1]) != APR_SUCCESS || secs < 1 || secs > 86400) {
            return "Throttle takes N DUR: 1..100000 failures per 1s..1d (e.g. Throttle 5 15m)";
        }
        if (pv->throttle_n != 0) {
            return "Throttle given twice";
        }
        pv->throttle_n = (int) n;
        pv->throttle_window = secs;
        return NULL;
    }
    }
    return apr_psprintf(p, "unknown key '%s'", key);
}
