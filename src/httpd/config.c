/* config.c -- the directive table, create/merge of the per-server configuration and the
 * server directives' handlers (the key directives are in config_keys.c, the per-directory
 * configuration and its directives in config_dir.c).
 *
 * Values are validated here by pure checks and every message names the directive;
 * defaults are applied in one place, resolve.c (check_config), never here.  Every field
 * starts unset (AF_UNSET, NULL, 0 for counts) and merge is one line per field, the
 * added (inner) scope winning when set.
 */
#include <string.h>

#include <httpd.h>
#include <http_config.h>

#include <apr_lib.h>
#include <apr_strings.h>
#include <http_core.h>
#include <http_log.h>
#include <http_main.h>

#include "common/af_error.h"
#include "common/af_file.h"
#include "common/af_parse.h"
#include "common/af_url.h"
#include "httpd/af_httpd.h"

/* ---- create / merge ------------------------------------------------------------------ */

void *af_config_srv_create(apr_pool_t *p, server_rec *s)
{
    af_srv_conf_t *c = apr_pcalloc(p, sizeof(*c));

    c->clock_skew = c->access_ttl = AF_UNSET;
    c->token_cache = AF_UNSET;
    c->refresh_ttl = c->refresh_idle = c->reuse_grace = c->sweep_interval = AF_UNSET;
    c->revocation_delay = AF_UNSET;
    c->language = AF_UNSET;
    c->scrub = apr_hash_make(p);
    return c;
}

apr_array_header_t *af_config_append(apr_pool_t *p, apr_array_header_t *a, apr_array_header_t *b)
{
    return a == NULL ? b : b == NULL ? a : apr_array_append(p, a, b);
}

/* providers: the virtual host's own, plus the main server's of other names */
static void merge_providers(apr_pool_t *p, af_srv_conf_t *c, const af_srv_conf_t *base,
                            const af_srv_conf_t *add)
{
    int i, j, dup;

    if (base->providers == NULL || add->providers == NULL) {
        c->providers = add->providers ? add->providers : base->providers;
        c->prov_where = add->providers ? add->prov_where : base->prov_where;
        return;
    }
    c->providers = apr_array_copy(p, add->providers);
    c->prov_where = apr_array_copy(p, add->prov_where);
    for (i = 0; i < base->providers->nelts; i++) {
        const af_oidc_provider_t *b = APR_ARRAY_IDX(base->providers, i, af_oidc_provider_t *);

        for (dup = 0, j = 0; j < add->providers->nelts; j++) {
            dup |=
                strcmp(APR_ARRAY_IDX(add->providers, j, af_oidc_provider_t *)->name, b->name) == 0;
        }
        if (!dup) {
            APR_ARRAY_PUSH(c->providers, const af_oidc_provider_t *) = b;
            APR_ARRAY_PUSH(c->prov_where, const char *) =
                APR_ARRAY_IDX(base->prov_where, i, const char *);
        }
    }
}

void *af_config_srv_merge(apr_pool_t *p, void *basev, void *addv)
{
    af_srv_conf_t *base = basev, *add = addv, *c = apr_pcalloc(p, sizeof(*c));

    c->used = add->used || base->used;
    MERGE_PTR(base_url);
    MERGE_PTR(endpoint);
    MERGE_PTR(issuer);
    MERGE_PTR(audience);
    MERGE_PTR(signing_key);
    c->verify = af_config_append(p, base->verify, add->verify);
    c->trust = af_config_append(p, base->trust, add->trust);
    MERGE_INT(clock_skew);
    MERGE_INT(access_ttl);
    MERGE_PTR(cookie_prefix);
    MERGE_INT(token_cache);
    c->test_clock_set = add->test_clock_set || base->test_clock_set;
    c->test_clock_offset = add->test_clock_set ? add->test_clock_offset : base->test_clock_offset;
    c->scrub = apr_hash_overlay(p, add->scrub, base->scrub);
    merge_providers(p, c, base, add);
    MERGE_PTR(store);
    MERGE_PTR(secret_file);
    c->secret = add->secret != NULL ? add->secret : base->secret;
    c->secret_len = add->secret != NULL ? add->secret_len : base->secret_len;
    MERGE_INT(revocation_delay);
    c->mapsize = add->mapsize ? add->mapsize : base->mapsize;
    MERGE_PTR(token_claims);
    c->return_to = af_config_append(p, base->return_to, add->return_to);
    MERGE_INT(refresh_ttl);
    MERGE_INT(refresh_idle);
    MERGE_INT(reuse_grace);
    MERGE_INT(sweep_interval);
    MERGE_PTR(samesite);
    MERGE_PTR(template_dir);
    MERGE_INT(language);
    return c;
}

/* ---- helpers ------------------------------------------------------------------------- */

const char *af_config_dname(cmd_parms *cmd)
{
    return cmd->directive ? cmd->directive->directive : cmd->cmd->name;
}

af_srv_conf_t *af_config_srv(cmd_parms *cmd)
{
    af_srv_conf_t *sc = ap_get_module_config(cmd->server->module_config, &authflow_module);

    if (cmd->pool == cmd->server->process->pconf) {
        sc->used = 1; /* not from .htaccess at request time: the conf is shared then */
    }
    return sc;
}

#define dname af_config_dname

/* RFC 7230 token characters (header and cookie names). */
int af_config_is_token(const char *s)
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

static const char *duration(cmd_parms *cmd, apr_int64_t *out, const char *arg, apr_int64_t min,
                            apr_int64_t max, const char *range)
{
    apr_int64_t v;

    if (af_parse_duration(&v, arg) != APR_SUCCESS) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not a duration (90s, 10m, 12h, 14d, seconds)",
                            dname(cmd), arg);
    }
    if (v < min || v > max) {
        return apr_psprintf(cmd->pool, "%s: %s %s", dname(cmd), arg, range);
    }
    *out = v;
    return NULL;
}

static const char *path_arg(cmd_parms *cmd, const char **out, const char *arg)
{
    const char *path = ap_server_root_relative(cmd->pool, arg);

    if (path == NULL || *arg == '\0' || af_parse_has_ctl(arg)) {
        return apr_psprintf(cmd->pool, "%s: bad path '%s'", dname(cmd), arg);
    }
    *out = path;
    return NULL;
}

/* ---- server directives --------------------------------------------------------------- */

static const char *set_base_url(cmd_parms *cmd, void *d, const char *arg)
{
    af_srv_conf_t *sc = af_config_srv(cmd);
    apr_size_t len = strlen(arg);

    if (!af_url_ok(arg)) {
        return apr_psprintf(cmd->pool,
                            "%s: '%s' must be an https URL (http only on a loopback host)",
                            dname(cmd), arg);
    }
    while (len > 0 && arg[len - 1] == '/') {
        len--;
    }
    arg = apr_pstrmemdup(cmd->pool, arg, len);
    if (strpbrk(strstr(arg, "://") + 3, "/?#") != NULL) {
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
    af_srv_conf_t *sc = af_config_srv(cmd);
    apr_size_t len = strlen(arg);

    if (arg[0] != '/' || len < 2 || arg[len - 1] == '/' || strpbrk(arg, "?#%\\ ") != NULL ||
        af_parse_has_ctl(arg) || strstr(arg, "//") != NULL) {
        return apr_psprintf(cmd->pool, "%s: '%s' must be a path like /auth", dname(cmd), arg);
    }
    sc->endpoint = arg;
    return NULL;
}

static const char *set_string(cmd_parms *cmd, void *d, const char *arg)
{
    af_srv_conf_t *sc = af_config_srv(cmd);
    int off = (int) (apr_uintptr_t) cmd->info;

    if (*arg == '\0' || af_parse_has_ctl(arg) || strlen(arg) > 1024) {
        return apr_psprintf(cmd->pool, "%s: value must be 1..1024 printable characters",
                            dname(cmd));
    }
    *(const char **) ((char *) sc + off) = arg;
    return NULL;
}

static const char *set_clock_skew(cmd_parms *cmd, void *d, const char *arg)
{
    return duration(cmd, &af_config_srv(cmd)->clock_skew, arg, 0, AF_MAX_CLOCK_SKEW,
                    "is above the maximum of 300 seconds");
}

static const char *set_access_ttl(cmd_parms *cmd, void *d, const char *arg)
{
    return duration(cmd, &af_config_srv(cmd)->access_ttl, arg, 1, 86400,
                    "must be between 1s and 1d");
}

static const char *set_lifetime(cmd_parms *cmd, void *d, const char *arg)
{
    af_srv_conf_t *sc = af_config_srv(cmd);

    return duration(cmd,
                    strcmp(cmd->cmd->name, "AuthFlowRefreshTTL") == 0 ? &sc->refresh_ttl
                                                                      : &sc->refresh_idle,
                    arg, 60, 366 * 86400, "must be between 1m and 366d");
}

static const char *set_reuse_grace(cmd_parms *cmd, void *d, const char *arg)
{
    return duration(cmd, &af_config_srv(cmd)->reuse_grace, arg, 0, 60,
                    "is above the maximum of 60s");
}

static const char *set_sweep_interval(cmd_parms *cmd, void *d, const char *arg)
{
    return duration(cmd, &af_config_srv(cmd)->sweep_interval, arg, 0, 7 * 86400,
                    "must be 0 (off) or between 1s and 7d");
}

static const char *set_cookie_prefix(cmd_parms *cmd, void *d, const char *arg)
{
    if (!af_config_is_token(arg) || strlen(arg) > 64) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not a valid cookie name (token, <= 64)",
                            dname(cmd), arg);
    }
    af_config_srv(cmd)->cookie_prefix = arg;
    return NULL;
}

static const char *set_token_cache(cmd_parms *cmd, void *d, int on)
{
    af_config_srv(cmd)->token_cache = on;
    return NULL;
}

static const char *set_test_clock(cmd_parms *cmd, void *d, const char *arg)
{
    af_srv_conf_t *sc = af_config_srv(cmd);
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

static const char *set_store(cmd_parms *cmd, void *d, const char *arg)
{
    if (af_store_is_uri(arg)) { /* checked whole by resolve.c (the store's URI parser) */
        if (af_parse_has_ctl(arg) || strlen(arg) > 4096) {
            return apr_psprintf(cmd->pool, "%s: not a connection URI", dname(cmd));
        }
        af_config_srv(cmd)->store = arg;
        return NULL;
    }
    return path_arg(cmd, &af_config_srv(cmd)->store, arg);
}

static const char *set_secret_file(cmd_parms *cmd, void *d, const char *arg)
{
    af_srv_conf_t *sc = af_config_srv(cmd);
    const char *err, *why = NULL;
    apr_status_t rv;

    if ((err = path_arg(cmd, &sc->secret_file, arg)) != NULL) {
        return err;
    }
    rv = af_token_secret_file(&sc->secret, &sc->secret_len, sc->secret_file, &why, cmd->pool);
    if ((err = af_file_private_hint(rv, sc->secret_file, cmd->pool)) != NULL) {
        return apr_psprintf(cmd->pool, "%s: %s: %s", dname(cmd), sc->secret_file, err);
    }
    if (rv != APR_SUCCESS) {
        return apr_psprintf(cmd->pool,
                            "%s: %s: %s (at least %d random bytes, not readable by others, "
                            "the same file on every host)",
                            dname(cmd), sc->secret_file, why ? why : af_strerror(rv),
                            AF_SECRET_LEN);
    }
    return NULL;
}

static const char *set_revocation_delay(cmd_parms *cmd, void *d, const char *arg)
{
    return duration(cmd, &af_config_srv(cmd)->revocation_delay, arg, 0, 3600,
                    "must be 0 (ask the store every time) or between 1s and 1h");
}

static const char *set_template_dir(cmd_parms *cmd, void *d, const char *arg)
{
    return path_arg(cmd, &af_config_srv(cmd)->template_dir, arg);
}

static const char *set_language(cmd_parms *cmd, void *d, const char *arg)
{
    int l = strcasecmp(arg, "auto") == 0 ? -1 : af_session_lang_from_tag(arg);

    if (l < 0 && strcasecmp(arg, "auto") != 0) {
        return apr_psprintf(cmd->pool, "%s: unknown language '%s' (auto, en, ko)", dname(cmd), arg);
    }
    af_config_srv(cmd)->language = l;
    return NULL;
}

static const char *set_mapsize(cmd_parms *cmd, void *d, const char *arg)
{
    apr_uint64_t v;

    if (af_parse_size(&v, arg) != APR_SUCCESS || v < 1024 * 1024 ||
        v > (apr_uint64_t) 1024 * 1024 * 1024 * 1024) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not a size between 1M and 1T (256M, 1G)",
                            dname(cmd), arg);
    }
    af_config_srv(cmd)->mapsize = v;
    return NULL;
}

static const char *set_token_claims(cmd_parms *cmd, void *d, int argc, char *const argv[])
{
    af_srv_conf_t *sc = af_config_srv(cmd);
    int i;

    if (argc < 1) {
        return apr_psprintf(cmd->pool, "%s: takes one or more claim names", dname(cmd));
    }
    sc->token_claims = apr_array_make(cmd->pool, argc, sizeof(const char *));
    for (i = 0; i < argc; i++) {
        if (!af_parse_is_name(argv[i], 64)) {
            return apr_psprintf(cmd->pool, "%s: '%s' is not a claim name", dname(cmd), argv[i]);
        }
        APR_ARRAY_PUSH(sc->token_claims, const char *) = argv[i];
    }
    return NULL;
}

static const char *set_return_to(cmd_parms *cmd, void *d, int argc, char *const argv[])
{
    af_srv_conf_t *sc = af_config_srv(cmd);
    const char *o;
    apr_size_t n;
    int i;

    if (argc < 1) {
        return apr_psprintf(cmd->pool, "%s: takes one or more origins", dname(cmd));
    }
    for (i = 0; i < argc; i++) {
        n = strlen(argv[i]);
        while (n > 0 && argv[i][n - 1] == '/') {
            n--;
        }
        o = apr_pstrmemdup(cmd->pool, argv[i], n);
        if (!af_url_ok(o) || strchr(o, '*') != NULL || strpbrk(strstr(o, "://") + 3, "/?#")) {
            return apr_psprintf(cmd->pool,
                                "%s: '%s' is not an origin (https://host[:port], http only on "
                                "loopback; no wildcards, paths or empty values)",
                                dname(cmd), argv[i]);
        }
        if (sc->return_to == NULL) {
            sc->return_to = apr_array_make(cmd->pool, 2, sizeof(const char *));
        }
        APR_ARRAY_PUSH(sc->return_to, const char *) = af_url_origin(o, cmd->pool);
    }
    return NULL;
}

static const char *set_samesite(cmd_parms *cmd, void *d, const char *arg)
{
    static const char *const values[] = {"Lax", "Strict", "None"};
    int i;

    for (i = 0; i < 3; i++) {
        if (strcasecmp(arg, values[i]) == 0) {
            af_config_srv(cmd)->samesite = values[i];
            return NULL;
        }
    }
    return apr_psprintf(cmd->pool, "%s: '%s' is not Lax, Strict or None", dname(cmd), arg);
}

static const char *root_relative(void *baton, const char *path, apr_pool_t *p)
{
    return ap_server_root_relative(p, path);
}

/* <AuthFlowProvider NAME> ... </AuthFlowProvider>: httpd keeps the body lines as child
 * nodes of the container; each goes through the OIDC core's one parser of provider keys
 * (af_oidc_provider_key), so an unknown key stops configtest naming it, the file and line. */
static const char *provider_block(cmd_parms *cmd, void *d, const char *arg)
{
    af_srv_conf_t *sc = af_config_srv(cmd);
    const ap_directive_t *dir = cmd->directive, *c;
    const char *end = ap_strrchr_c(arg, '>'), *name, *err, *argv[8], *args, *w;
    af_oidc_provider_t *pv;
    int i, argc;

    if ((err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT)) != NULL) {
        return err;
    }
    if (end == NULL || end[1] != '\0') {
        return "<AuthFlowProvider> directive missing closing '>'";
    }
    name = apr_pstrmemdup(cmd->pool, arg, (apr_size_t) (end - arg));
    name = ap_getword_conf(cmd->pool, &name);
    if (!af_parse_is_name(name, 64)) {
        return apr_psprintf(cmd->pool,
                            "<AuthFlowProvider %s>: the name must be 1..64 letters, "
                            "digits, '-', '_' or '.'",
                            name);
    }
    for (i = 0; sc->providers != NULL && i < sc->providers->nelts; i++) {
        if (strcmp(APR_ARRAY_IDX(sc->providers, i, af_oidc_provider_t *)->name, name) == 0) {
            return apr_psprintf(cmd->pool, "<AuthFlowProvider %s>: defined twice", name);
        }
    }
    pv = af_oidc_provider_make(name, cmd->pool);
    for (c = dir ? dir->first_child : NULL; c != NULL; c = c->next) {
        if (c->first_child != NULL || c->directive[0] == '<') {
            return apr_psprintf(cmd->pool,
                                "<AuthFlowProvider %s>: %s at %s:%d: no sections allowed inside",
                                name, c->directive, c->filename, c->line_num);
        }
        for (argc = 0, args = c->args ? c->args : ""; *args && argc < 8; argv[argc++] = w) {
            if (*(w = ap_getword_conf(cmd->pool, &args)) == '\0' && *args == '\0') {
                break;
            }
        }
        err = *args != '\0' ? apr_psprintf(cmd->pool, "%s: too many arguments", c->directive)
                            : af_oidc_provider_key(pv, c->directive, argc, argv, root_relative,
                                                   NULL, cmd->pool);
        if (err != NULL) {
            return apr_psprintf(cmd->pool, "<AuthFlowProvider %s>: %s (%s:%d)", name, err,
                                c->filename, c->line_num);
        }
    }
    if (sc->providers == NULL) {
        sc->providers = apr_array_make(cmd->pool, 2, sizeof(af_oidc_provider_t *));
        sc->prov_where = apr_array_make(cmd->pool, 2, sizeof(const char *));
    }
    APR_ARRAY_PUSH(sc->providers, af_oidc_provider_t *) = pv;
    APR_ARRAY_PUSH(sc->prov_where, const char *) =
        dir ? apr_psprintf(cmd->pool, "%s:%d", dir->filename, dir->line_num) : "?";
    return NULL;
}

/* ---- the one directive table ------------------------------------------------------------ */

#define OFF(f)  ((void *) APR_OFFSETOF(af_srv_conf_t, f))
#define DOFF(f) ((void *) APR_OFFSETOF(af_dir_conf_t, f))

const command_rec af_config_cmds[] = {
    /* the site */
    AP_INIT_TAKE1("AuthFlowBaseURL", set_base_url, NULL, RSRC_CONF,
                  "public origin of this site, e.g. https://app.example.com"),
    AP_INIT_TAKE1("AuthFlowEndpoint", set_endpoint, NULL, RSRC_CONF,
                  "path where SetHandler authflow is mounted (default /auth)"),
    AP_INIT_TAKE1("AuthFlowIssuer", set_string, OFF(issuer), RSRC_CONF,
                  "iss of our access tokens (default: the base URL)"),
    AP_INIT_TAKE1("AuthFlowAudience", set_string, OFF(audience), RSRC_CONF,
                  "aud of our access tokens (default: the issuer)"),
    AP_INIT_TAKE_ARGV("AuthFlowSigningKey", af_config_signing_key, NULL, RSRC_CONF,
                      "FILE [kid=ID] [alg=ALG]: key that signs our access tokens"),
    AP_INIT_TAKE_ARGV("AuthFlowVerifyKey", af_config_verify_key, NULL, RSRC_CONF,
                      "FILE [kid=ID] [alg=ALG]: an extra key still accepted (repeatable)"),
    AP_INIT_TAKE_ARGV("AuthFlowTrustIssuer", af_config_trust_issuer, NULL, RSRC_CONF,
                      "ISSUER JWKS [aud=A] [alg=A,B] [ca=FILE]: also accept this issuer's JWTs"),
    AP_INIT_TAKE1("AuthFlowClockSkew", set_clock_skew, NULL, RSRC_CONF,
                  "leeway for exp/nbf/iat of our and the IdP's tokens (default 60s, at most 300s)"),
    AP_INIT_TAKE1("AuthFlowAccessTTL", set_access_ttl, NULL, RSRC_CONF,
                  "lifetime of our access tokens (default 10m)"),
    AP_INIT_TAKE1("AuthFlowCookiePrefix", set_cookie_prefix, NULL, RSRC_CONF,
                  "cookie name prefix (default __Host-authflow)"),
    AP_INIT_TAKE1("AuthFlowCookieSameSite", set_samesite, NULL, RSRC_CONF,
                  "Lax|Strict|None for the access and refresh cookies (default Lax)"),
    AP_INIT_FLAG("AuthFlowTokenCache", set_token_cache, NULL, RSRC_CONF,
                 "cache verified tokens per process (default on)"),
    AP_INIT_TAKE1("AuthFlowTestClockOffset", set_test_clock, NULL, RSRC_CONF,
                  "tests only (-DAUTHFLOW_TESTING): shift the module's clock by SECONDS"),
    /* logins */
    AP_INIT_RAW_ARGS("<AuthFlowProvider", provider_block, NULL, RSRC_CONF,
                     "<AuthFlowProvider NAME> ... </AuthFlowProvider>: one identity provider"),
    AP_INIT_TAKE1("AuthFlowStore", set_store, NULL, RSRC_CONF,
                  "LMDB directory (default: authflow under the runtime dir), or a "
                  "postgresql:// URI (a store shared by several hosts)"),
    AP_INIT_TAKE1("AuthFlowSecretFile", set_secret_file, NULL, RSRC_CONF,
                  "the server secret (>= 32 random bytes, the same on every host); default: "
                  "secret.key in the LMDB store directory"),
    AP_INIT_TAKE1("AuthFlowRevocationDelay", set_revocation_delay, NULL, RSRC_CONF,
                  "shared store: how long a revocation may take to reach this host (default "
                  "1s, 0 = ask the store on every request)"),
    AP_INIT_TAKE1("AuthFlowStoreMapSize", set_mapsize, NULL, RSRC_CONF,
                  "LMDB map size (default 4G on 64-bit hosts)"),
    AP_INIT_TAKE1("AuthFlowSweepInterval", set_sweep_interval, NULL, RSRC_CONF,
                  "how often httpd purges expired store records (default 10m, 0 = off)"),
    AP_INIT_TAKE_ARGV("AuthFlowTokenClaims", set_token_claims, NULL, RSRC_CONF,
                      "mapped claims copied into our access tokens"),
    AP_INIT_TAKE_ARGV("AuthFlowReturnTo", set_return_to, NULL, RSRC_CONF,
                      "extra origins a return_to may point at"),
    AP_INIT_TAKE1("AuthFlowRefreshTTL", set_lifetime, NULL, RSRC_CONF,
                  "absolute lifetime of a login (default 14d)"),
    AP_INIT_TAKE1("AuthFlowRefreshIdle", set_lifetime, NULL, RSRC_CONF,
                  "idle timeout of a login (default 3d)"),
    AP_INIT_TAKE1("AuthFlowReuseGrace", set_reuse_grace, NULL, RSRC_CONF,
                  "grace window for a just-rotated refresh token (default 10s)"),
    AP_INIT_TAKE1("AuthFlowTemplateDir", set_template_dir, NULL, RSRC_CONF,
                  "directory with chooser.html and error.html (default: built in)"),
    AP_INIT_TAKE1("AuthFlowLanguage", set_language, NULL, RSRC_CONF,
                  "auto (by Accept-Language), en or ko: the language of the pages"),
    /* gate locations (also .htaccess with AuthConfig) */
    AP_INIT_TAKE1("AuthFlowUnauthenticated", af_config_dir_unauth, NULL, OR_AUTHCFG,
                  "auto|redirect|401|pass (default auto)"),
    AP_INIT_TAKE_ARGV("AuthFlowTokenFrom", af_config_dir_token_from, NULL, OR_AUTHCFG,
                      "cookie and/or bearer, in order (default cookie bearer)"),
    AP_INIT_TAKE1("AuthFlowUserClaim", af_config_dir_user_claim, NULL, OR_AUTHCFG,
                  "claim that becomes REMOTE_USER (default sub)"),
    AP_INIT_TAKE_ARGV("AuthFlowExport", af_config_dir_export, NULL, OR_AUTHCFG,
                      "header|env NAME PATH [join=SEP]: hand one claim to the backend"),
    AP_INIT_FLAG("AuthFlowExportAll", af_config_dir_flag, DOFF(export_all), OR_AUTHCFG,
                 "export every top-level claim as AUTHFLOW_CLAIM_<NAME> (default on)"),
    AP_INIT_FLAG("AuthFlowForwardToken", af_config_dir_flag, DOFF(forward_token), OR_AUTHCFG,
                 "send the verified access token to the backend (default off)"),
    AP_INIT_FLAG("AuthFlowCheckRevocation", af_config_dir_flag, DOFF(check_revocation), OR_AUTHCFG,
                 "reject our access tokens whose login was revoked (default on)"),
    AP_INIT_TAKE1("AuthFlowRefresh", af_config_dir_refresh, NULL, OR_AUTHCFG,
                  "auto|off: the gate refreshes an expired access token inline (default auto)"),
    AP_INIT_TAKE1("AuthFlowLogin", af_config_dir_login, NULL, OR_AUTHCFG,
                  "PROVIDER or URL where unauthenticated browsers go"),
    AP_INIT_TAKE1("AuthFlowMaxAge", af_config_dir_max_age, NULL, OR_AUTHCFG,
                  "DUR|off: step-up when the login's authentication is older"),
    AP_INIT_TAKE_ARGV("AuthFlowACR", af_config_dir_acr, NULL, OR_AUTHCFG,
                      "VALUE...|off: step-up unless the login's acr is one of these"),
    AP_INIT_TAKE1("AuthFlowPreflight", af_config_dir_preflight, NULL, OR_AUTHCFG,
                  "pass|deny: CORS preflights reach the backend unauthenticated (default pass)"),
    {NULL}};
