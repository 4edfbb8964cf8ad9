/* config.c -- directives, create and merge of the per-server and per-directory config.
 *
 * Values are validated here by pure checks, keys are loaded and checked here (so a bad
 * key stops `apachectl -t`), and every message names the directive.  Defaults are not
 * applied here: see af_config_resolve() (config_check.c) and the getters in af_config.h.
 */
#include <string.h>

#include <httpd.h>
#include <http_config.h>

#include <apr_file_info.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <http_log.h>
#include <http_core.h>
#include <http_main.h>

#include "common/af_error.h"
#include "common/af_parse.h"
#include "http/af_http.h"
#include "httpd/af_config.h"
#include "httpd/af_httpd.h"
#include "httpd/login.h"
#include "httpd/refresh.h"
#include "jose/af_jose_errors.h"

APLOG_USE_MODULE(authflow);

/* ---- create / merge ------------------------------------------------------------------ */

void *af_config_srv_create(apr_pool_t *p, server_rec *s)
{
    af_srv_conf_t *c = apr_pcalloc(p, sizeof(*c));

    c->clock_skew = AF_UNSET;
    c->access_ttl = AF_UNSET;
    c->token_cache = AF_UNSET;
    c->scrub = apr_hash_make(p);
    return c;
}

static apr_array_header_t *append(apr_pool_t *p, apr_array_header_t *a, apr_array_header_t *b)
{
    if (a == NULL) {
        return b;
    }
    if (b == NULL) {
        return a;
    }
    return apr_array_append(p, a, b);
}

#define MERGE_PTR(f) c->f = add->f != NULL ? add->f : base->f
#define MERGE_INT(f) c->f = add->f != AF_UNSET ? add->f : base->f

void *af_config_srv_merge(apr_pool_t *p, void *basev, void *addv)
{
    af_srv_conf_t *base = basev, *add = addv, *c = apr_pcalloc(p, sizeof(*c));

    c->used = add->used || base->used;
    MERGE_PTR(base_url);
    MERGE_PTR(endpoint);
    MERGE_PTR(issuer);
    MERGE_PTR(audience);
    MERGE_PTR(signing_key);
    c->verify = append(p, base->verify, add->verify);
    c->trust = append(p, base->trust, add->trust);
    MERGE_INT(clock_skew);
    MERGE_INT(access_ttl);
    MERGE_PTR(cookie_prefix);
    MERGE_INT(token_cache);
    c->test_clock_set = add->test_clock_set || base->test_clock_set;
    c->test_clock_offset = add->test_clock_set ? add->test_clock_offset : base->test_clock_offset;
    c->scrub = apr_hash_overlay(p, add->scrub, base->scrub);
    c->login = af_login_conf_merge(p, base->login, add->login);
    return c;
}

void *af_config_dir_create(apr_pool_t *p, char *dir)
{
    af_dir_conf_t *c = apr_pcalloc(p, sizeof(*c));

    c->unauth = AF_UNSET;
    c->export_all = AF_UNSET;
    c->forward_token = AF_UNSET;
    c->check_revocation = AF_UNSET;
    c->refresh = AF_UNSET;
    return c;
}

void *af_config_dir_merge(apr_pool_t *p, void *basev, void *addv)
{
    af_dir_conf_t *base = basev, *add = addv, *c = apr_pcalloc(p, sizeof(*c));

    MERGE_INT(unauth);
    if (add->n_from > 0) {
        c->n_from = add->n_from, c->from[0] = add->from[0], c->from[1] = add->from[1];
    } else {
        c->n_from = base->n_from, c->from[0] = base->from[0], c->from[1] = base->from[1];
    }
    MERGE_PTR(user_claim);
    c->exports = append(p, base->exports, add->exports);
    MERGE_INT(export_all);
    MERGE_INT(forward_token);
    MERGE_PTR(login);
    MERGE_INT(check_revocation);
    MERGE_INT(refresh);
    return c;
}

/* ---- helpers ------------------------------------------------------------------------- */

static const char *dname(cmd_parms *cmd)
{
    return cmd->directive ? cmd->directive->directive : cmd->cmd->name;
}

static af_srv_conf_t *srv_of(cmd_parms *cmd)
{
    af_srv_conf_t *sc = ap_get_module_config(cmd->server->module_config, &authflow_module);

    if (cmd->pool == cmd->server->process->pconf) {
        sc->used = 1; /* not from .htaccess at request time: the conf is shared then */
    }
    return sc;
}

static int has_ctl(const char *s)
{
    for (; *s; s++) {
        if ((unsigned char) *s < 0x20 || (unsigned char) *s == 0x7f) {
            return 1;
        }
    }
    return 0;
}

/* RFC 7230 token characters (header and cookie names). */
static int is_token(const char *s)
{
    if (*s == '\0') {
        return 0;
    }
    for (; *s; s++) {
        unsigned char c = (unsigned char) *s;

        if (c <= 0x20 || c >= 0x7f || strchr("()<>@,;:\\\"/[]?={}", c) != NULL) {
            return 0;
        }
    }
    return 1;
}

char *af_config_norm_name(apr_pool_t *p, const char *name)
{
    char *n = apr_pstrdup(p, name), *c;

    for (c = n; *c; c++) {
        *c = *c == '-' ? '_' : (char) apr_toupper(*c);
    }
    return n;
}

/* ---- server directives --------------------------------------------------------------- */

static const char *set_base_url(cmd_parms *cmd, void *d, const char *arg)
{
    af_srv_conf_t *sc = srv_of(cmd);
    const char *rest;
    apr_size_t len = strlen(arg);

    if (af_http_url_check(arg) != APR_SUCCESS) {
        return apr_psprintf(cmd->pool,
                            "%s: '%s' must be an https URL (http only on a loopback host)",
                            dname(cmd), arg);
    }
    while (len > 0 && arg[len - 1] == '/') {
        len--;
    }
    arg = apr_pstrmemdup(cmd->pool, arg, len);
    rest = strstr(arg, "://") + 3;
    if (strpbrk(rest, "/?#") != NULL || has_ctl(arg)) {
        return apr_psprintf(cmd->pool,
                            "%s: '%s' must be an origin (scheme://host[:port]), "
                            "without path, query or fragment",
                            dname(cmd), arg);
    }
    sc->base_url = arg;
    return NULL;
}

static const char *set_endpoint(cmd_parms *cmd, void *d, const char *arg)
{
    af_srv_conf_t *sc = srv_of(cmd);
    apr_size_t len = strlen(arg);

    if (arg[0] != '/' || len < 2 || arg[len - 1] == '/' || strpbrk(arg, "?#%\\ ") != NULL ||
        has_ctl(arg) || strstr(arg, "//") != NULL) {
        return apr_psprintf(cmd->pool, "%s: '%s' must be a path like /auth", dname(cmd), arg);
    }
    sc->endpoint = arg;
    return NULL;
}

static const char *set_string(cmd_parms *cmd, void *d, const char *arg)
{
    af_srv_conf_t *sc = srv_of(cmd);
    int off = (int) (apr_uintptr_t) cmd->info;

    if (*arg == '\0' || has_ctl(arg) || strlen(arg) > 1024) {
        return apr_psprintf(cmd->pool, "%s: value must be 1..1024 printable characters",
                            dname(cmd));
    }
    *(const char **) ((char *) sc + off) = arg;
    return NULL;
}

static const char *set_duration(cmd_parms *cmd, void *d, const char *arg)
{
    af_srv_conf_t *sc = srv_of(cmd);
    apr_int64_t v;

    if (af_parse_duration(&v, arg) != APR_SUCCESS) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not a duration (90s, 10m, 12h, 14d, seconds)",
                            dname(cmd), arg);
    }
    if (strcmp(cmd->cmd->name, "AuthFlowClockSkew") == 0) {
        if (v > AF_MAX_CLOCK_SKEW) {
            return apr_psprintf(cmd->pool, "%s: %s is above the maximum of %d seconds", dname(cmd),
                                arg, AF_MAX_CLOCK_SKEW);
        }
        sc->clock_skew = v;
    } else {
        if (v < 1 || v > 86400) {
            return apr_psprintf(cmd->pool, "%s: %s must be between 1s and 1d", dname(cmd), arg);
        }
        sc->access_ttl = v;
    }
    return NULL;
}

static const char *set_cookie_prefix(cmd_parms *cmd, void *d, const char *arg)
{
    af_srv_conf_t *sc = srv_of(cmd);

    if (!is_token(arg) || strlen(arg) > 64) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not a valid cookie name (token, <= 64)",
                            dname(cmd), arg);
    }
    sc->cookie_prefix = arg;
    return NULL;
}

static const char *set_token_cache(cmd_parms *cmd, void *d, int on)
{
    srv_of(cmd)->token_cache = on;
    return NULL;
}

static const char *set_test_clock(cmd_parms *cmd, void *d, const char *arg)
{
    af_srv_conf_t *sc = srv_of(cmd);
    char *end;
    apr_int64_t v;

    if (!ap_exists_config_define("AUTHFLOW_TESTING")) {
        return apr_psprintf(cmd->pool,
                            "%s: test-only directive, refused unless httpd is started "
                            "with -DAUTHFLOW_TESTING",
                            dname(cmd));
    }
    v = apr_strtoi64(arg, &end, 10);
    if (*arg == '\0' || *end != '\0' || v < -3153600000LL || v > 3153600000LL) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not a number of seconds", dname(cmd), arg);
    }
    sc->test_clock_set = 1;
    sc->test_clock_offset = v;
    return NULL;
}

/* "kid=ID" / "alg=ALG" options of the key directives. */
static const char *key_opts(cmd_parms *cmd, int argc, char *const argv[], const char **kid,
                            af_alg_t *alg)
{
    int i;

    *kid = NULL;
    *alg = AF_ALG_UNKNOWN;
    for (i = 1; i < argc; i++) {
        if (strncmp(argv[i], "kid=", 4) == 0 && argv[i][4] != '\0' && !has_ctl(argv[i])) {
            *kid = argv[i] + 4;
        } else if (strncmp(argv[i], "alg=", 4) == 0) {
            *alg = af_alg_from_name(argv[i] + 4);
            if (*alg == AF_ALG_UNKNOWN) {
                return apr_psprintf(cmd->pool, "%s: unknown or forbidden algorithm '%s'",
                                    dname(cmd), argv[i] + 4);
            }
        } else {
            return apr_psprintf(cmd->pool, "%s: unknown option '%s' (kid=ID, alg=ALG)", dname(cmd),
                                argv[i]);
        }
    }
    return NULL;
}

static const char *load_key(cmd_parms *cmd, int argc, char *const argv[], af_key_t **out)
{
    const char *kid, *why = NULL, *path, *err;
    af_alg_t alg;
    apr_status_t rv;

    if (argc < 1 || argc > 3) {
        return apr_psprintf(cmd->pool, "%s: takes FILE [kid=ID] [alg=ALG]", dname(cmd));
    }
    if ((err = key_opts(cmd, argc, argv, &kid, &alg)) != NULL) {
        return err;
    }
    path = ap_server_root_relative(cmd->pool, argv[0]);
    if (path == NULL) {
        return apr_psprintf(cmd->pool, "%s: bad path '%s'", dname(cmd), argv[0]);
    }
    rv = af_key_load_file(out, path, alg, kid, &why, cmd->pool);
    if (rv != APR_SUCCESS) {
        return apr_psprintf(cmd->pool, "%s: cannot use key %s: %s%s%s%s", dname(cmd), path,
                            AF_IS_AF_ERROR(rv) ? af_strerror(rv) : "cannot read file",
                            why ? " (" : "", why ? why : "", why ? ")" : "");
    }
    if ((*out)->kid == NULL) {
        (*out)->kid = af_key_thumbprint(*out, cmd->pool);
    }
    return NULL;
}

static const char *set_signing_key(cmd_parms *cmd, void *d, int argc, char *const argv[])
{
    af_srv_conf_t *sc = srv_of(cmd);
    af_key_t *key = NULL;
    const char *err;

    if (sc->signing_key != NULL) {
        return apr_psprintf(cmd->pool, "%s: given twice (use AuthFlowVerifyKey for old keys)",
                            dname(cmd));
    }
    if ((err = load_key(cmd, argc, argv, &key)) != NULL) {
        return err;
    }
    if (!key->is_private) {
        return apr_psprintf(cmd->pool, "%s: %s is not a private key (it must sign)", dname(cmd),
                            argv[0]);
    }
    sc->signing_key = key;
    return NULL;
}

static const char *set_verify_key(cmd_parms *cmd, void *d, int argc, char *const argv[])
{
    af_srv_conf_t *sc = srv_of(cmd);
    af_key_t *key = NULL;
    const char *err;

    if ((err = load_key(cmd, argc, argv, &key)) != NULL) {
        return err;
    }
    if (sc->verify == NULL) {
        sc->verify = apr_array_make(cmd->pool, 2, sizeof(af_key_t *));
    }
    APR_ARRAY_PUSH(sc->verify, af_key_t *) = key;
    return NULL;
}

static const char *parse_alg_list(cmd_parms *cmd, const char *list, unsigned *mask)
{
    char *copy = apr_pstrdup(cmd->temp_pool, list), *tok, *last = NULL;
    af_alg_t alg;

    *mask = 0;
    for (tok = apr_strtok(copy, ",", &last); tok; tok = apr_strtok(NULL, ",", &last)) {
        alg = af_alg_from_name(tok);
        if (alg == AF_ALG_UNKNOWN) {
            return apr_psprintf(cmd->pool, "%s: unknown or forbidden algorithm '%s'", dname(cmd),
                                tok);
        }
        *mask |= 1u << alg;
    }
    if (*mask == 0) {
        return apr_psprintf(cmd->pool, "%s: empty alg= list", dname(cmd));
    }
    return NULL;
}

static const char *set_trust_issuer(cmd_parms *cmd, void *d, int argc, char *const argv[])
{
    af_srv_conf_t *sc = srv_of(cmd);
    af_trust_t *t;
    const char *err, *why = NULL, *ca = NULL;
    int i;
    apr_status_t rv;

    if (argc < 2 || argc > 5) {
        return apr_psprintf(cmd->pool, "%s: takes ISSUER JWKS [aud=A] [alg=A,B] [ca=FILE]",
                            dname(cmd));
    }
    t = apr_pcalloc(cmd->pool, sizeof(*t));
    t->issuer = argv[0];
    t->jwks = argv[1];
    if (*t->issuer == '\0' || has_ctl(t->issuer)) {
        return apr_psprintf(cmd->pool, "%s: empty or invalid issuer", dname(cmd));
    }
    for (i = 2; i < argc; i++) {
        if (strncmp(argv[i], "aud=", 4) == 0 && argv[i][4] != '\0' && !has_ctl(argv[i])) {
            t->aud = argv[i] + 4;
        } else if (strncmp(argv[i], "alg=", 4) == 0) {
            if ((err = parse_alg_list(cmd, argv[i] + 4, &t->alg_mask)) != NULL) {
                return err;
            }
        } else if (strncmp(argv[i], "ca=", 3) == 0 && argv[i][3] != '\0') {
            apr_finfo_t fi;

            ca = ap_server_root_relative(cmd->pool, argv[i] + 3);
            if (ca == NULL || apr_stat(&fi, ca, APR_FINFO_TYPE, cmd->temp_pool) != APR_SUCCESS ||
                fi.filetype != APR_REG) {
                return apr_psprintf(cmd->pool, "%s: CA file '%s' not found", dname(cmd),
                                    argv[i] + 3);
            }
        } else {
            return apr_psprintf(cmd->pool, "%s: unknown option '%s' (aud=, alg=, ca=)", dname(cmd),
                                argv[i]);
        }
    }
    if (sc->trust != NULL) {
        for (i = 0; i < sc->trust->nelts; i++) {
            if (strcmp(APR_ARRAY_IDX(sc->trust, i, af_trust_t *)->issuer, t->issuer) == 0) {
                return apr_psprintf(cmd->pool, "%s: issuer %s given twice", dname(cmd), t->issuer);
            }
        }
    }
    if (strncasecmp(t->jwks, "https://", 8) == 0 || strncasecmp(t->jwks, "http://", 7) == 0) {
        af_jwks_opts_t opts;

        memset(&opts, 0, sizeof(opts));
        opts.alg_mask = t->alg_mask;
        opts.ca_file = ca;
        rv = af_jwks_cache_create(&t->cache, t->jwks, &opts, cmd->pool);
        if (rv != APR_SUCCESS) {
            return apr_psprintf(cmd->pool,
                                "%s: JWKS URL '%s' refused: must be https (http only on a "
                                "loopback host)",
                                dname(cmd), t->jwks);
        }
    } else {
        const char *path = ap_server_root_relative(cmd->pool, t->jwks);

        rv = path ? af_jwks_load_file(&t->keys, path, 0, t->alg_mask, 0, &why, cmd->pool)
                  : APR_EBADPATH;
        if (rv != APR_SUCCESS) {
            return apr_psprintf(cmd->pool, "%s: cannot use JWKS file %s: %s", dname(cmd), t->jwks,
                                why ? why : "bad path");
        }
        if (t->keys->keys->nelts == 0) {
            return apr_psprintf(cmd->pool, "%s: JWKS file %s has no usable key", dname(cmd),
                                t->jwks);
        }
    }
    if (sc->trust == NULL) {
        sc->trust = apr_array_make(cmd->pool, 2, sizeof(af_trust_t *));
    }
    APR_ARRAY_PUSH(sc->trust, af_trust_t *) = t;
    return NULL;
}

/* ---- per-directory directives -------------------------------------------------------- */

static const char *set_unauth(cmd_parms *cmd, void *dv, const char *arg)
{
    af_dir_conf_t *dc = dv;

    srv_of(cmd);
    if (strcasecmp(arg, "auto") == 0) {
        dc->unauth = AF_UNAUTH_AUTO;
    } else if (strcasecmp(arg, "redirect") == 0) {
        dc->unauth = AF_UNAUTH_REDIRECT;
    } else if (strcmp(arg, "401") == 0) {
        dc->unauth = AF_UNAUTH_401;
    } else if (strcasecmp(arg, "pass") == 0) {
        dc->unauth = AF_UNAUTH_PASS;
    } else {
        return apr_psprintf(cmd->pool, "%s: '%s' is not auto, redirect, 401 or pass", dname(cmd),
                            arg);
    }
    return NULL;
}

static const char *set_token_from(cmd_parms *cmd, void *dv, int argc, char *const argv[])
{
    af_dir_conf_t *dc = dv;
    int i, v;

    srv_of(cmd);
    if (argc < 1 || argc > 2) {
        return apr_psprintf(cmd->pool, "%s: takes cookie, bearer or both", dname(cmd));
    }
    for (i = 0; i < argc; i++) {
        if (strcasecmp(argv[i], "cookie") == 0) {
            v = AF_FROM_COOKIE;
        } else if (strcasecmp(argv[i], "bearer") == 0) {
            v = AF_FROM_BEARER;
        } else {
            return apr_psprintf(cmd->pool, "%s: '%s' is not cookie or bearer", dname(cmd), argv[i]);
        }
        if (i == 1 && dc->from[0] == v) {
            return apr_psprintf(cmd->pool, "%s: '%s' given twice", dname(cmd), argv[i]);
        }
        dc->from[i] = v;
    }
    dc->n_from = argc;
    return NULL;
}

static const char *set_user_claim(cmd_parms *cmd, void *dv, const char *arg)
{
    af_dir_conf_t *dc = dv;

    srv_of(cmd);
    if (*arg == '\0' || has_ctl(arg) || strlen(arg) > 256) {
        return apr_psprintf(cmd->pool, "%s: invalid claim path", dname(cmd));
    }
    dc->user_claim = arg;
    return NULL;
}

static int is_env_name(const char *s)
{
    if (*s == '\0' || apr_isdigit(*s)) {
        return 0;
    }
    for (; *s; s++) {
        if (!apr_isalnum(*s) && *s != '_') {
            return 0;
        }
    }
    return 1;
}

/* H05: names AuthFlowExport env may not take -- what httpd, CGI and the C runtime set or
 * read (REMOTE_USER, PATH, HTTP_*, LD_*...), and our own AUTHFLOW_* (case-insensitive). */
static int is_reserved_env(const char *name)
{
    static const char *const exact[] = {"AUTH_TYPE",
                                        "CONTENT_LENGTH",
                                        "CONTENT_TYPE",
                                        "DOCUMENT_ROOT",
                                        "GATEWAY_INTERFACE",
                                        "HOME",
                                        "HTTPS",
                                        "IFS",
                                        "LOGNAME",
                                        "PATH",
                                        "PATH_INFO",
                                        "PATH_TRANSLATED",
                                        "QUERY_STRING",
                                        "SHELL",
                                        "TMPDIR",
                                        "TZ",
                                        "UNIQUE_ID",
                                        "USER",
                                        NULL};
    static const char *const prefix[] = {"AUTHFLOW_", "CONTEXT_", "DYLD_",   "GCONV_",    "HTTP_",
                                         "LD_",       "MALLOC_",  "PROXY_",  "REDIRECT_", "REMOTE_",
                                         "REQUEST_",  "SCRIPT_",  "SERVER_", "SSL_",      NULL};
    int i;

    for (i = 0; exact[i] != NULL; i++) {
        if (strcasecmp(name, exact[i]) == 0) {
            return 1;
        }
    }
    for (i = 0; prefix[i] != NULL; i++) {
        if (strncasecmp(name, prefix[i], strlen(prefix[i])) == 0) {
            return 1;
        }
    }
    return 0;
}

static const char *set_export(cmd_parms *cmd, void *dv, int argc, char *const argv[])
{
    af_dir_conf_t *dc = dv;
    af_srv_conf_t *sc = srv_of(cmd);
    af_export_t *e;
    char *norm;

    if (argc < 3 || argc > 4) {
        return apr_psprintf(cmd->pool, "%s: takes header|env NAME PATH [join=SEP]", dname(cmd));
    }
    e = apr_pcalloc(cmd->pool, sizeof(*e));
    if (strcasecmp(argv[0], "header") == 0) {
        e->to_header = 1;
    } else if (strcasecmp(argv[0], "env") != 0) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not header or env", dname(cmd), argv[0]);
    }
    e->name = argv[1];
    e->path = argv[2];
    e->sep = ",";
    if (argc == 4) {
        if (strncmp(argv[3], "join=", 5) != 0 || has_ctl(argv[3]) || strlen(argv[3]) > 21) {
            return apr_psprintf(cmd->pool, "%s: '%s' is not join=SEP", dname(cmd), argv[3]);
        }
        e->sep = argv[3] + 5;
    }
    if (*e->path == '\0' || has_ctl(e->path)) {
        return apr_psprintf(cmd->pool, "%s: invalid claim path", dname(cmd));
    }
    if (e->to_header) {
        if (!is_token(e->name) || strlen(e->name) > 128) {
            return apr_psprintf(cmd->pool, "%s: '%s' is not a valid header name", dname(cmd),
                                e->name);
        }
        norm = af_config_norm_name(cmd->pool, e->name);
        if (strcmp(norm, "AUTHORIZATION") == 0 || strcmp(norm, "COOKIE") == 0 ||
            strcmp(norm, "HOST") == 0 || strcmp(norm, "CONTENT_LENGTH") == 0 ||
            strcmp(norm, "TRANSFER_ENCODING") == 0) {
            return apr_psprintf(cmd->pool, "%s: header %s cannot carry a claim", dname(cmd),
                                e->name);
        }
        if (cmd->pool != cmd->server->process->pconf && strncmp(norm, "AUTHFLOW_", 9) != 0) {
            /* .htaccess: the vhost's scrub list is fixed at startup, so only names that are
             * always scrubbed are allowed here */
            return apr_psprintf(cmd->pool,
                                "%s: in .htaccess, header names must start with "
                                "AuthFlow-",
                                dname(cmd));
        }
        if (cmd->pool == cmd->server->process->pconf) {
            apr_hash_set(sc->scrub, norm, APR_HASH_KEY_STRING, norm);
        }
    } else if (!is_env_name(e->name)) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not a valid variable name ([A-Za-z0-9_])",
                            dname(cmd), e->name);
    } else if (is_reserved_env(e->name)) {
        return apr_psprintf(cmd->pool,
                            "%s: env %s is reserved (a CGI/server variable, a loader variable "
                            "or AUTHFLOW_*); choose another name, e.g. USER_%s",
                            dname(cmd), e->name, e->name);
    }
    if (dc->exports == NULL) {
        dc->exports = apr_array_make(cmd->pool, 4, sizeof(af_export_t));
    }
    APR_ARRAY_PUSH(dc->exports, af_export_t) = *e;
    return NULL;
}

static const char *set_dir_flag(cmd_parms *cmd, void *dv, int on)
{
    af_dir_conf_t *dc = dv;

    srv_of(cmd);
    if (strcmp(cmd->cmd->name, "AuthFlowExportAll") == 0) {
        dc->export_all = on;
    } else {
        dc->forward_token = on;
    }
    return NULL;
}

static const char *set_login(cmd_parms *cmd, void *dv, const char *arg)
{
    af_dir_conf_t *dc = dv;

    srv_of(cmd);
    if (strstr(arg, "://") != NULL) {
        if (af_http_url_check(arg) != APR_SUCCESS || has_ctl(arg) || strchr(arg, '#')) {
            return apr_psprintf(cmd->pool,
                                "%s: '%s' must be an https URL (http only on loopback) or a path",
                                dname(cmd), arg);
        }
    } else if (arg[0] == '/') {
        if (arg[1] == '/' || arg[1] == '\\' || has_ctl(arg) || strchr(arg, '#')) {
            return apr_psprintf(cmd->pool, "%s: '%s' is not a local path", dname(cmd), arg);
        }
    } else if (!is_env_name(arg) &&
               strspn(arg, "abcdefghijklmnopqrstuvwxyz"
                           "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") != strlen(arg)) {
        return apr_psprintf(cmd->pool, "%s: '%s' is neither a provider name nor a URL", dname(cmd),
                            arg);
    }
    dc->login = arg;
    return NULL;
}

const command_rec af_config_cmds[] = {
    AP_INIT_TAKE1("AuthFlowBaseURL", set_base_url, NULL, RSRC_CONF,
                  "public origin of this site, e.g. https://app.example.com"),
    AP_INIT_TAKE1("AuthFlowEndpoint", set_endpoint, NULL, RSRC_CONF,
                  "path where SetHandler authflow is mounted (default /auth)"),
    AP_INIT_TAKE1("AuthFlowIssuer", set_string, (void *) APR_OFFSETOF(af_srv_conf_t, issuer),
                  RSRC_CONF, "iss of our access tokens (default: the base URL)"),
    AP_INIT_TAKE1("AuthFlowAudience", set_string, (void *) APR_OFFSETOF(af_srv_conf_t, audience),
                  RSRC_CONF, "aud of our access tokens (default: the issuer)"),
    AP_INIT_TAKE_ARGV("AuthFlowSigningKey", set_signing_key, NULL, RSRC_CONF,
                      "FILE [kid=ID] [alg=ALG]: key that signs our access tokens"),
    AP_INIT_TAKE_ARGV("AuthFlowVerifyKey", set_verify_key, NULL, RSRC_CONF,
                      "FILE [kid=ID] [alg=ALG]: an extra key still accepted (repeatable)"),
    AP_INIT_TAKE_ARGV("AuthFlowTrustIssuer", set_trust_issuer, NULL, RSRC_CONF,
                      "ISSUER JWKS [aud=A] [alg=A,B] [ca=FILE]: also accept this issuer's JWTs"),
    AP_INIT_TAKE1("AuthFlowClockSkew", set_duration, NULL, RSRC_CONF,
                  "leeway for exp/nbf/iat (default 60s, at most 300s)"),
    AP_INIT_TAKE1("AuthFlowAccessTTL", set_duration, NULL, RSRC_CONF,
                  "lifetime of our access tokens (default 10m)"),
    AP_INIT_TAKE1("AuthFlowCookiePrefix", set_cookie_prefix, NULL, RSRC_CONF,
                  "cookie name prefix (default __Host-authflow)"),
    AP_INIT_FLAG("AuthFlowTokenCache", set_token_cache, NULL, RSRC_CONF,
                 "cache verified tokens per process (default on)"),
    AP_INIT_TAKE1("AuthFlowTestClockOffset", set_test_clock, NULL, RSRC_CONF,
                  "tests only (-DAUTHFLOW_TESTING): shift the gate's clock by SECONDS"),
    AP_INIT_TAKE1("AuthFlowUnauthenticated", set_unauth, NULL, OR_AUTHCFG,
                  "auto|redirect|401|pass (default auto)"),
    AP_INIT_TAKE_ARGV("AuthFlowTokenFrom", set_token_from, NULL, OR_AUTHCFG,
                      "cookie and/or bearer, in order (default cookie bearer)"),
    AP_INIT_TAKE1("AuthFlowUserClaim", set_user_claim, NULL, OR_AUTHCFG,
                  "claim that becomes REMOTE_USER (default sub)"),
    AP_INIT_TAKE_ARGV("AuthFlowExport", set_export, NULL, OR_AUTHCFG,
                      "header|env NAME PATH [join=SEP]: hand one claim to the backend"),
    AP_INIT_FLAG("AuthFlowExportAll", set_dir_flag, NULL, OR_AUTHCFG,
                 "export every top-level claim as AUTHFLOW_CLAIM_<NAME> (default on)"),
    AP_INIT_FLAG("AuthFlowForwardToken", set_dir_flag, NULL, OR_AUTHCFG,
                 "send the verified access token to the backend (default off)"),
    AP_INIT_TAKE1("AuthFlowLogin", set_login, NULL, OR_AUTHCFG,
                  "PROVIDER or URL where unauthenticated browsers go"),
    AF_LOGIN_CMDS,
    AF_REFRESH_CMDS,
    {NULL}};
