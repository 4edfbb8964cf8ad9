/* oidc_provider.c -- the provider model: presets, defaults and the configtest validator. */
#include <stddef.h>
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_uri.h>

#include "common/af_url.h"
#include "oidc/af_oidc.h"

#define DEFAULT_TIMEOUT     apr_time_from_sec(10)
#define DEFAULT_IAT_MAX_AGE 300
#define DEFAULT_LEEWAY      60
#define MAX_LEEWAY          300

#define GOOGLE_ISSUER "https://accounts.google.com"
#define KAKAO_ISSUER  "https://kauth.kakao.com"
#define KAKAO_SCOPE   "openid profile_nickname profile_image account_email"
#define KAKAO_PROFILE "https://kapi.kakao.com/v2/user/me"
#define KAKAO_LOGOUT  "https://kauth.kakao.com/oauth/logout"
#define NAVER_AUTHZ   "https://nid.naver.com/oauth2.0/authorize"
#define NAVER_TOKEN   "https://nid.naver.com/oauth2.0/token"
#define NAVER_PROFILE "https://openapi.naver.com/v1/nid/me"
#define GITHUB_AUTHZ  "https://github.com/login/oauth/authorize"
#define GITHUB_TOKEN  "https://github.com/login/oauth/access_token"
#define GITHUB_USER   "https://api.github.com/user"
#define GITHUB_EMAILS "https://api.github.com/user/emails"

af_oidc_provider_t *af_oidc_provider_make(const char *name, apr_pool_t *p)
{
    af_oidc_provider_t *prov = apr_pcalloc(p, sizeof(*prov));

    prov->name = apr_pstrdup(p, name);
    prov->auth_params = apr_array_make(p, 2, sizeof(af_oidc_kv_t));
    prov->claims = apr_array_make(p, 4, sizeof(af_oidc_kv_t));
    prov->id_token_algs = apr_array_make(p, 2, sizeof(const char *));
    prov->iat_max_age = -1;
    prov->leeway = -1;
    return prov;
}

int af_oidc_preset_from_name(af_oidc_preset_t *out, const char *name)
{
    static const struct {
        const char *name;
        af_oidc_preset_t preset;
    } presets[] = {{"none", AF_OIDC_PRESET_NONE},   {"google", AF_OIDC_PRESET_GOOGLE},
                   {"kakao", AF_OIDC_PRESET_KAKAO}, {"github", AF_OIDC_PRESET_GITHUB},
                   {"naver", AF_OIDC_PRESET_NAVER}, {"apple", AF_OIDC_PRESET_APPLE}};
    apr_size_t i;

    for (i = 0; i < sizeof(presets) / sizeof(presets[0]); i++) {
        if (name != NULL && strcasecmp(name, presets[i].name) == 0) {
            *out = presets[i].preset;
            return 0;
        }
    }
    *out = AF_OIDC_PRESET_NONE;
    return -1;
}

static int host_is(const char *url, const char *host)
{
    apr_uri_t u;
    apr_pool_t *p;
    int r = 0;

    if (url == NULL || apr_pool_create(&p, NULL) != APR_SUCCESS) {
        return 0;
    }
    if (apr_uri_parse(p, url, &u) == APR_SUCCESS && u.hostname != NULL) {
        r = strcasecmp(u.hostname, host) == 0;
    }
    apr_pool_destroy(p);
    return r;
}

static int scope_has(const char *scope, const char *want)
{
    apr_size_t n = strlen(want);
    const char *s = scope;

    while (s != NULL && *s) {
        while (*s == ' ') {
            s++;
        }
        if (strncmp(s, want, n) == 0 && (s[n] == ' ' || s[n] == '\0')) {
            return 1;
        }
        s = strchr(s, ' ');
    }
    return 0;
}

static void add_claim(af_oidc_provider_t *prov, const char *name, const char *path)
{
    af_oidc_kv_t *kv;
    int i;

    for (i = 0; i < prov->claims->nelts; i++) {
        if (strcmp(APR_ARRAY_IDX(prov->claims, i, af_oidc_kv_t).key, name) == 0) {
            return; /* the operator's mapping wins */
        }
    }
    kv = apr_array_push(prov->claims);
    kv->key = name;
    kv->value = path;
}

/* Fill what a preset implies, only where the operator left it unset. */
static void apply_preset(af_oidc_provider_t *prov, apr_pool_t *p)
{
    if (prov->preset == AF_OIDC_PRESET_NONE) {
        if (prov->issuer != NULL && strcmp(prov->issuer, GOOGLE_ISSUER) == 0) {
            prov->preset = AF_OIDC_PRESET_GOOGLE;
        } else if (prov->issuer != NULL && strcmp(prov->issuer, KAKAO_ISSUER) == 0) {
            prov->preset = AF_OIDC_PRESET_KAKAO;
        } else if (prov->issuer != NULL && strcmp(prov->issuer, AF_OIDC_APPLE_ISSUER) == 0) {
            prov->preset = AF_OIDC_PRESET_APPLE;
        } else if (prov->issuer == NULL && host_is(prov->authorization_endpoint, "github.com")) {
            prov->preset = AF_OIDC_PRESET_GITHUB;
        } else if (prov->issuer == NULL && host_is(prov->authorization_endpoint, "nid.naver.com")) {
            prov->preset = AF_OIDC_PRESET_NAVER;
        }
    }
    switch (prov->preset) {
    case AF_OIDC_PRESET_GOOGLE:
        if (prov->issuer == NULL) {
            prov->issuer = GOOGLE_ISSUER;
        }
        if (prov->scope == NULL) {
            prov->scope = "openid email profile";
        }
        break;
    case AF_OIDC_PRESET_KAKAO:
        if (prov->issuer == NULL) {
            prov->issuer = KAKAO_ISSUER;
        }
        if (prov->token_auth == AF_OIDC_AUTH_DEFAULT) {
            prov->token_auth = AF_OIDC_AUTH_POST;
        }
        if (prov->scope == NULL) {
            prov->scope = KAKAO_SCOPE; /* Kakao's consent items */
        }
        /* the REST profile: the only place Kakao says whether the address is verified
         * (is_email_valid, is_email_verified); its "id" must be the id_token's sub */
        if (prov->userinfo_endpoint == NULL) {
            prov->userinfo_endpoint = KAKAO_PROFILE;
        }
        /* Kakao logout (/oauth/logout with client_id and logout_redirect_uri) */
        if (prov->end_session_endpoint == NULL) {
            prov->end_session_endpoint = KAKAO_LOGOUT;
        }
        break;
    case AF_OIDC_PRESET_NAVER:
        prov->kind = AF_OIDC_KIND_OAUTH2;
        if (prov->authorization_endpoint == NULL) {
            prov->authorization_endpoint = NAVER_AUTHZ;
        }
        if (prov->token_endpoint == NULL) {
            prov->token_endpoint = NAVER_TOKEN;
        }
        if (prov->userinfo_endpoint == NULL) {
            prov->userinfo_endpoint = NAVER_PROFILE;
        }
        if (prov->subject_claim == NULL) {
            prov->subject_claim = "response.id";
        }
        if (prov->token_auth == AF_OIDC_AUTH_DEFAULT) {
            prov->token_auth = AF_OIDC_AUTH_POST;
        }
        if (prov->email_verified == AF_OIDC_EV_DEFAULT) {
            prov->email_verified = AF_OIDC_EV_NEVER; /* a contact address, no flag */
        }
        break;
    case AF_OIDC_PRESET_APPLE:
        /* Sign in with Apple: OIDC at appleid.apple.com (discovery), the name and email
         * scopes need response_mode=form_post, the client secret is a minted ES256 JWT sent
         * in the body */
        if (prov->issuer == NULL) {
            prov->issuer = AF_OIDC_APPLE_ISSUER;
        }
        if (prov->scope == NULL) {
            prov->scope = "openid name email";
        }
        if (prov->response_mode == AF_OIDC_RESPONSE_DEFAULT) {
            prov->response_mode = AF_OIDC_RESPONSE_FORM_POST;
        }
        if (prov->token_auth == AF_OIDC_AUTH_DEFAULT) {
            prov->token_auth = AF_OIDC_AUTH_POST;
        }
        break;
    case AF_OIDC_PRESET_GITHUB:
        prov->kind = AF_OIDC_KIND_OAUTH2;
        if (prov->authorization_endpoint == NULL) {
            prov->authorization_endpoint = GITHUB_AUTHZ;
        }
        if (prov->token_endpoint == NULL) {
            prov->token_endpoint = GITHUB_TOKEN;
        }
        if (prov->userinfo_endpoint == NULL) {
            prov->userinfo_endpoint = GITHUB_USER;
        }
        if (prov->emails_endpoint == NULL) {
            apr_size_t n = strlen(prov->userinfo_endpoint);
            /* .../user -> .../user/emails (also for a test double on loopback) */
            if (n >= 5 && strcmp(prov->userinfo_endpoint + n - 5, "/user") == 0) {
                prov->emails_endpoint = apr_pstrcat(p, prov->userinfo_endpoint, "/emails", NULL);
            } else {
                prov->emails_endpoint = GITHUB_EMAILS;
            }
        }
        if (prov->scope == NULL) {
            prov->scope = "read:user user:email";
        }
        if (prov->subject_claim == NULL) {
            prov->subject_claim = "id";
        }
        if (prov->token_auth == AF_OIDC_AUTH_DEFAULT) {
            prov->token_auth = AF_OIDC_AUTH_POST;
        }
        add_claim(prov, "preferred_username", "login");
        add_claim(prov, "name", "name");
        break;
    default:
        break;
    }
}

static const char *check_url(const char *key, const char *url, apr_pool_t *p)
{
    if (url != NULL && !af_url_ok(url)) {
        return apr_psprintf(p,
                            "%s must be an https URL (plain http only on 127.0.0.0/8, [::1] "
                            "or localhost), without user info or fragment",
                            key);
    }
    return NULL;
}

static const char *check_algs(af_oidc_provider_t *prov, apr_pool_t *p)
{
    int i, has_none = 0, has_hs = 0;

    for (i = 0; i < prov->id_token_algs->nelts; i++) {
        const char *a = APR_ARRAY_IDX(prov->id_token_algs, i, const char *);
        if (strcmp(a, "none") == 0) {
            has_none = 1;
            continue;
        }
        if (af_alg_from_name(a) == AF_ALG_UNKNOWN) {
            return apr_psprintf(p, "IDTokenSigningAlg: unknown algorithm '%s'", a);
        }
        if (a[0] == 'H') {
            has_hs = 1;
        }
    }
    if (has_none && prov->id_token_algs->nelts > 1) {
        return "IDTokenSigningAlg: 'none' may only be configured alone (the client is "
               "registered with id_token_signed_response_alg none)";
    }
    if (has_none &&
        !(prov->token_endpoint == NULL || strncmp(prov->token_endpoint, "https:", 6) == 0)) {
        return "IDTokenSigningAlg none needs an https token endpoint";
    }
    if (has_hs && (prov->client_secret == NULL || strlen(prov->client_secret) < 32)) {
        return "IDTokenSigningAlg HS*: needs a ClientSecret of at least 32 bytes";
    }
    return NULL;
}

/* Type password: the authn providers check passwords; nothing of an IdP applies.  Claim
 * paths name AUTHENTICATE_* variables (mod_authnz_ldap's attributes), with or without the
 * prefix. */
static const char *check_password(af_oidc_provider_t *prov, apr_pool_t *p)
{
    static const struct {
        const char *key;
        apr_size_t offset;
    } idp_only[] = {
        {"Issuer", offsetof(af_oidc_provider_t, issuer)},
        {"AuthorizationEndpoint", offsetof(af_oidc_provider_t, authorization_endpoint)},
        {"TokenEndpoint", offsetof(af_oidc_provider_t, token_endpoint)},
        {"UserinfoEndpoint", offsetof(af_oidc_provider_t, userinfo_endpoint)},
        {"JwksURI", offsetof(af_oidc_provider_t, jwks_uri)},
        {"EndSessionEndpoint", offsetof(af_oidc_provider_t, end_session_endpoint)},
        {"ClientID", offsetof(af_oidc_provider_t, client_id)},
        {"ClientSecret", offsetof(af_oidc_provider_t, client_secret)},
        {"Scope", offsetof(af_oidc_provider_t, scope)},
        {"SubjectClaim", offsetof(af_oidc_provider_t, subject_claim)},
        {"CAFile", offsetof(af_oidc_provider_t, ca_file)},
    };
    apr_size_t k;
    int i;

    for (k = 0; k < sizeof(idp_only) / sizeof(idp_only[0]); k++) {
        if (*(const char *const *) ((const char *) prov + idp_only[k].offset) != NULL) {
            return apr_psprintf(p, "%s has no meaning for Type password", idp_only[k].key);
        }
    }
    if (prov->preset != AF_OIDC_PRESET_NONE || prov->auth_params->nelts > 0 ||
        prov->id_token_algs->nelts > 0) {
        return "Preset, AuthParam and IDTokenSigningAlg have no meaning for Type password";
    }
    if (prov->authn_providers == NULL || prov->authn_providers->nelts == 0) {
        return "Type password needs AuthnProvider (httpd authn providers: file, dbd, ldap, "
               "an <AuthnProviderAlias> name ...)";
    }
    for (i = 0; i < prov->claims->nelts; i++) {
        const af_oidc_kv_t *kv = &APR_ARRAY_IDX(prov->claims, i, af_oidc_kv_t);
        const char *c;

        for (c = kv->value; *c; c++) {
            if (!apr_isalnum(*c) && *c != '_' && *c != '-') {
                return apr_psprintf(p,
                                    "Claim %s %s: for Type password the path names an "
                                    "AUTHENTICATE_* variable (letters, digits, '_', '-')",
                                    kv->key, kv->value);
            }
        }
    }
    if (prov->throttle_n == 0) {
        prov->throttle_n = AF_OIDC_THROTTLE_N;
        prov->throttle_window = AF_OIDC_THROTTLE_WINDOW;
    }
    if (prov->timeout <= 0) {
        prov->timeout = DEFAULT_TIMEOUT;
    }
    if (prov->max_concurrent <= 0) {
        prov->max_concurrent = AF_OIDC_GUARD_DEFAULT_MAX;
    }
    prov->subject_claim = "sub";
    return NULL;
}

const char *af_oidc_provider_check(af_oidc_provider_t *prov, apr_pool_t *p)
{
    const char *err;
    int i;

    if (prov->kind == AF_OIDC_KIND_PASSWORD) {
        return check_password(prov, p);
    }
    if (prov->authn_providers != NULL || prov->throttle_n != 0) {
        return "AuthnProvider and Throttle need Type password";
    }
    apply_preset(prov, p);
    if (prov->kind == AF_OIDC_KIND_AUTO) {
        prov->kind = prov->issuer != NULL ? AF_OIDC_KIND_OIDC : AF_OIDC_KIND_OAUTH2;
    }
    if (prov->token_auth == AF_OIDC_AUTH_DEFAULT) {
        prov->token_auth = AF_OIDC_AUTH_BASIC;
    }
    if (prov->response_mode == AF_OIDC_RESPONSE_DEFAULT) {
        prov->response_mode = AF_OIDC_RESPONSE_QUERY;
    }
    if (prov->email_verified == AF_OIDC_EV_DEFAULT) {
        prov->email_verified = AF_OIDC_EV_CLAIM;
    }
    if (prov->scope == NULL && prov->kind == AF_OIDC_KIND_OIDC) {
        prov->scope = "openid";
    }
    if (prov->subject_claim == NULL) {
        prov->subject_claim = "sub";
    }
    if (prov->timeout <= 0) {
        prov->timeout = DEFAULT_TIMEOUT;
    }
    if (prov->max_concurrent <= 0) {
        prov->max_concurrent = AF_OIDC_GUARD_DEFAULT_MAX;
    }
    if (prov->iat_max_age < 0) {
        prov->iat_max_age = DEFAULT_IAT_MAX_AGE;
    }
    if (prov->leeway < 0) {
        prov->leeway = DEFAULT_LEEWAY;
    }

    if (prov->name == NULL || *prov->name == '\0') {
        return "AuthFlowProvider needs a name";
    }
    if (prov->max_concurrent > AF_OIDC_GUARD_LIMIT) {
        return "MaxConcurrent takes a number between 1 and 1024";
    }
    if (prov->client_id == NULL || *prov->client_id == '\0') {
        return "ClientID is required";
    }
    if (prov->redirect_uri == NULL || !af_url_ok(prov->redirect_uri)) {
        return "RedirectURI must be an absolute https URL (plain http only on loopback)";
    }
    if ((err = check_url("Issuer", prov->issuer, p)) != NULL ||
        (err = check_url("AuthorizationEndpoint", prov->authorization_endpoint, p)) != NULL ||
        (err = check_url("TokenEndpoint", prov->token_endpoint, p)) != NULL ||
        (err = check_url("UserinfoEndpoint", prov->userinfo_endpoint, p)) != NULL ||
        (err = check_url("JwksURI", prov->jwks_uri, p)) != NULL ||
        (err = check_url("EndSessionEndpoint", prov->end_session_endpoint, p)) != NULL ||
        (err = check_url("UserinfoEndpoint (emails)", prov->emails_endpoint, p)) != NULL) {
        return err;
    }
    if (prov->issuer != NULL && strchr(prov->issuer, '?') != NULL) {
        return "Issuer must not contain a query";
    }
    if (prov->kind == AF_OIDC_KIND_OIDC) {
        if (prov->issuer == NULL) {
            return "Issuer is required for an OpenID Connect provider";
        }
        if (!scope_has(prov->scope, "openid")) {
            return "Scope must contain 'openid' for an OpenID Connect provider";
        }
    } else {
        if (prov->authorization_endpoint == NULL || prov->token_endpoint == NULL ||
            prov->userinfo_endpoint == NULL) {
            return "a plain OAuth 2.0 provider (no Issuer) needs AuthorizationEndpoint, "
                   "TokenEndpoint and UserinfoEndpoint";
        }
        if (prov->userinfo < 0) {
            return "a plain OAuth 2.0 provider cannot turn the userinfo call off";
        }
    }
    if (prov->token_auth != AF_OIDC_AUTH_BASIC && prov->token_auth != AF_OIDC_AUTH_POST) {
        return "TokenEndpointAuth must be client_secret_basic or client_secret_post";
    }
    if (prov->preset == AF_OIDC_PRESET_APPLE) {
        if (prov->client_secret != NULL) {
            return "ClientSecret / ClientSecretFile cannot be used with Preset apple: the client "
                   "secret is minted from TeamID, KeyID and PrivateKeyFile";
        }
        if (prov->token_auth != AF_OIDC_AUTH_POST) {
            return "Preset apple sends its client secret by client_secret_post";
        }
        if ((err = af_oidc_apple_load_key(prov, p)) != NULL) {
            return err;
        }
    } else if (prov->team_id != NULL || prov->key_id != NULL || prov->private_key_file != NULL) {
        return "TeamID, KeyID and PrivateKeyFile are only for Preset apple";
    } else if ((prov->client_secret == NULL || *prov->client_secret == '\0') &&
               prov->preset != AF_OIDC_PRESET_KAKAO) {
        /* Kakao: the client secret is optional (an app setting), client_id is enough */
        return "ClientSecret or ClientSecretFile is required";
    }
    if (prov->client_secret == NULL && prov->token_auth != AF_OIDC_AUTH_POST) {
        return "a provider without a client secret needs TokenEndpointAuth client_secret_post";
    }
    if (prov->admin_key != NULL && prov->preset != AF_OIDC_PRESET_KAKAO) {
        return "AdminKeyFile is only for Preset kakao (unlink callbacks)";
    }
    if (prov->leeway > MAX_LEEWAY) {
        return "the clock-skew leeway must not exceed 300 seconds";
    }
    for (i = 0; i < prov->auth_params->nelts; i++) {
        const af_oidc_kv_t *kv = &APR_ARRAY_IDX(prov->auth_params, i, af_oidc_kv_t);
        static const char *const reserved[] = {
            "response_type", "client_id", "redirect_uri",   "scope",
            "state",         "nonce",     "code_challenge", "code_challenge_method",
            "response_mode", "request",   "request_uri"};
        apr_size_t j;
        for (j = 0; j < sizeof(reserved) / sizeof(reserved[0]); j++) {
            if (strcmp(kv->key, reserved[j]) == 0) {
                return apr_psprintf(p, "AuthParam %s is set by the module and cannot be changed",
                                    kv->key);
            }
        }
    }
    for (i = 0; i < prov->claims->nelts; i++) {
        const af_oidc_kv_t *kv = &APR_ARRAY_IDX(prov->claims, i, af_oidc_kv_t);
        if (kv->key == NULL || *kv->key == '\0' || kv->value == NULL || *kv->value == '\0') {
            return "Claim needs OURNAME and PATH";
        }
    }
    return check_algs(prov, p);
}
