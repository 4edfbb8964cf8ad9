/* config.c -- the directive table, create/merge of the per-server and per-directory
 * configuration, and the directive handlers (the key directives are in config_keys.c).
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

static apr_array_header_t *append(apr_pool_t *p, apr_array_header_t *a, apr_array_header_t *b)
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
    merge_providers(p, c, base, add);
    MERGE_PTR(store);
    MERGE_PTR(secret_file);
    c->secret = add->secret != NULL ? add->secret : base->secret;
    c->secret_len = add->secret != NULL ? add->secret_len : base->secret_len;
    MERGE_INT(revocation_delay);
    c->mapsize = add->mapsize ? add->mapsize : base->mapsize;
    MERGE_PTR(token_claims);
    c->return_to = append(p, base->return_to, add->return_to);
    MERGE_INT(refresh_ttl);
    MERGE_INT(refresh_idle);
    MERGE_INT(reuse_grace);
    MERGE_INT(sweep_interval);
    MERGE_PTR(samesite);
    MERGE_PTR(template_dir);
    MERGE_INT(language);
    return c;
}

void *af_config_dir_create(apr_pool_t *p, char *dir)
{
    af_dir_conf_t *c = apr_pcalloc(p, sizeof(*c));

    c->unauth = c->export_all = c->forward_token = c->check_revocation = c->refresh = AF_UNSET;
    c->max_age = AF_UNSET;
    c->preflight = AF_UNSET;
    return c;
}

void *af_config_dir_merge(apr_pool_t *p, void *basev, void *addv)
{
    af_dir_conf_t *base = basev, *add = addv, *c = apr_pcalloc(p, sizeof(*c));
    const af_dir_conf_t *from = add->n_from > 0 ? add : base;

    MERGE_INT(unauth);
    c->n_from = from->n_from;
    c->from[0] = from->from[0];
    c->from[1] = from->from[1];
    MERGE_PTR(user_path);
    c->exports = append(p, base->exports, add->exports);
    MERGE_INT(export_all);
    MERGE_INT(forward_token);
    MERGE_PTR(login);
    MERGE_INT(check_revocation);
    MERGE_INT(refresh);
    MERGE_INT(max_age);
    MERGE_PTR(acr_values);
    MERGE_INT(preflight);
    return c;
}

void af_dir_opts(af_gate_opts_t *o, const af_dir_conf_t *dc)
{
    memset(o, 0, sizeof(*o));
    o->unauth = dc->unauth == AF_UNSET ? AF_UNAUTH_AUTO : dc->unauth;
    o->n_from = dc->n_from;
    o->from[0] = dc->from[0];
    o->from[1] = dc->from[1];
    o->user_path = dc->user_path;
    o->check_revocation = dc->check_revocation == AF_UNSET ? 1 : dc->check_revocation;
    o->refresh = dc->refresh != 0;
    o->login = dc->login;
    o->max_age = dc->max_age < 0 ? 0 : dc->max_age; /* unset or off: none */
    o->acr_values = dc->acr_values != NULL && *dc->acr_values != '\0' ? dc->acr_values : NULL;
    o->preflight = dc->preflight == AF_UNSET ? AF_PREFLIGHT_PASS : dc->preflight;
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
    if (!is_token(arg) || strlen(arg) > 64) {
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

/* ---- per-directory directives -------------------------------------------------------- */

static const char *set_unauth(cmd_parms *cmd, void *dv, const char *arg)
{
    static const char *const modes[] = {"auto", "redirect", "401", "pass"};
    af_dir_conf_t *dc = dv;
    int i;

    af_config_srv(cmd);
    for (i = 0; i < 4; i++) {
        if (strcasecmp(arg, modes[i]) == 0) {
            dc->unauth = i; /* af_unauth_t, in this order */
            return NULL;
        }
    }
    return apr_psprintf(cmd->pool, "%s: '%s' is not auto, redirect, 401 or pass", dname(cmd), arg);
}

static const char *set_token_from(cmd_parms *cmd, void *dv, int argc, char *const argv[])
{
    af_dir_conf_t *dc = dv;
    int i, v;

    af_config_srv(cmd);
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

/* A claim path of the claim language's grammar, compiled now (one path grammar for
 * REMOTE_USER, AuthFlowExport, Require authflow-claim and authflow_claim()). */
static const char *claim_path(cmd_parms *cmd, const af_policy_path_t **out, const char *arg)
{
    af_policy_path_t *path = NULL;
    const char *err = NULL;

    if (strlen(arg) > 256 || af_policy_path_compile(&path, &err, arg, cmd->pool) != APR_SUCCESS) {
        return apr_psprintf(cmd->pool, "%s: invalid claim path '%s'%s%s", dname(cmd), arg,
                            err ? ": " : "", err ? err : "");
    }
    *out = path;
    return NULL;
}

static const char *set_user_claim(cmd_parms *cmd, void *dv, const char *arg)
{
    af_config_srv(cmd);
    return claim_path(cmd, &((af_dir_conf_t *) dv)->user_path, arg);
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
    af_srv_conf_t *sc = af_config_srv(cmd);
    int in_htaccess = cmd->pool != cmd->server->process->pconf;
    af_export_spec_t e;
    const char *err;
    char *norm;

    if (argc < 3 || argc > 4) {
        return apr_psprintf(cmd->pool, "%s: takes header|env NAME PATH [join=SEP]", dname(cmd));
    }
    memset(&e, 0, sizeof(e));
    if (strcasecmp(argv[0], "header") == 0) {
        e.to_header = 1;
    } else if (strcasecmp(argv[0], "env") != 0) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not header or env", dname(cmd), argv[0]);
    }
    e.name = argv[1];
    e.sep = ",";
    if (argc == 4) {
        if (strncmp(argv[3], "join=", 5) != 0 || af_parse_has_ctl(argv[3]) ||
            strlen(argv[3]) > 21) {
            return apr_psprintf(cmd->pool, "%s: '%s' is not join=SEP", dname(cmd), argv[3]);
        }
        e.sep = argv[3] + 5;
    }
    if ((err = claim_path(cmd, &e.path, argv[2])) != NULL) {
        return err;
    }
    if (e.to_header) {
        if (!is_token(e.name) || strlen(e.name) > 128) {
            return apr_psprintf(cmd->pool, "%s: '%s' is not a valid header name", dname(cmd),
                                e.name);
        }
        norm = af_config_norm_name(cmd->pool, e.name);
        if (strcmp(norm, "AUTHORIZATION") == 0 || strcmp(norm, "COOKIE") == 0 ||
            strcmp(norm, "HOST") == 0 || strcmp(norm, "CONTENT_LENGTH") == 0 ||
            strcmp(norm, "TRANSFER_ENCODING") == 0) {
            return apr_psprintf(cmd->pool, "%s: header %s cannot carry a claim", dname(cmd),
                                e.name);
        }
        if (in_htaccess && strncmp(norm, "AUTHFLOW_", 9) != 0) {
            /* the scrub set is fixed at startup: only names always scrubbed are allowed */
            return apr_psprintf(
                cmd->pool, "%s: in .htaccess, header names must start with AuthFlow-", dname(cmd));
        }
        if (!in_htaccess) {
            apr_hash_set(sc->scrub, norm, APR_HASH_KEY_STRING, norm);
        }
    } else if (!is_env_name(e.name)) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not a valid variable name ([A-Za-z0-9_])",
                            dname(cmd), e.name);
    } else if (is_reserved_env(e.name)) {
        return apr_psprintf(cmd->pool,
                            "%s: env %s is reserved (a CGI/server variable, a loader variable "
                            "or AUTHFLOW_*); choose another name, e.g. USER_%s",
                            dname(cmd), e.name, e.name);
    }
    if (dc->exports == NULL) {
        dc->exports = apr_array_make(cmd->pool, 4, sizeof(af_export_spec_t));
    }
    APR_ARRAY_PUSH(dc->exports, af_export_spec_t) = e;
    return NULL;
}

static const char *set_dir_flag(cmd_parms *cmd, void *dv, int on)
{
    af_dir_conf_t *dc = dv;

    af_config_srv(cmd); /* marks the server used, never from .htaccess */
    *(int *) ((char *) dc + (apr_uintptr_t) cmd->info) = on;
    return NULL;
}

static const char *set_refresh(cmd_parms *cmd, void *dv, const char *arg)
{
    af_dir_conf_t *dc = dv;

    if (strcasecmp(arg, "auto") == 0 || strcasecmp(arg, "on") == 0) {
        dc->refresh = 1;
    } else if (strcasecmp(arg, "off") == 0) {
        dc->refresh = 0;
    } else {
        return apr_psprintf(cmd->pool, "%s: '%s' is not auto or off", dname(cmd), arg);
    }
    return NULL;
}

/* AuthFlowMaxAge DUR|off: step-up by the age of the login's authentication. */
static const char *set_max_age(cmd_parms *cmd, void *dv, const char *arg)
{
    af_dir_conf_t *dc = dv;
    apr_int64_t v = 0;

    af_config_srv(cmd);
    if (strcasecmp(arg, "off") == 0) {
        dc->max_age = AF_MAX_AGE_OFF;
        return NULL;
    }
    if (af_parse_duration(&v, arg) != APR_SUCCESS || v < 1 || v > 315360000) {
        return apr_psprintf(cmd->pool,
                            "%s: '%s' is not a duration of 1s to 10 years (90s, 10m, 12h, 14d, "
                            "seconds) or off",
                            dname(cmd), arg);
    }
    dc->max_age = v;
    return NULL;
}

/* AuthFlowACR VALUE...|off: step-up by the login's authentication context class. */
static const char *set_acr(cmd_parms *cmd, void *dv, int argc, char *const argv[])
{
    af_dir_conf_t *dc = dv;
    const char *v;
    int i;

    af_config_srv(cmd);
    if (argc < 1) {
        return apr_psprintf(cmd->pool, "%s: takes one or more acr values, or off", dname(cmd));
    }
    if (argc == 1 && strcasecmp(argv[0], "off") == 0) {
        dc->acr_values = "";
        return NULL;
    }
    for (i = 0; i < argc; i++) {
        if (!af_oidc_acr_values_ok(argv[i]) || strchr(argv[i], ' ') != NULL) {
            return apr_psprintf(cmd->pool,
                                "%s: '%s' is not an acr value (printable ASCII without space, "
                                "'\"' or '\\')",
                                dname(cmd), argv[i]);
        }
    }
    for (v = argv[0], i = 1; i < argc; i++) {
        v = apr_pstrcat(cmd->pool, v, " ", argv[i], NULL);
    }
    if (!af_oidc_acr_values_ok(v)) {
        return apr_psprintf(cmd->pool, "%s: the values are longer than %d bytes", dname(cmd),
                            AF_OIDC_ACR_VALUES_MAX);
    }
    dc->acr_values = v;
    return NULL;
}

static const char *set_preflight(cmd_parms *cmd, void *dv, const char *arg)
{
    af_dir_conf_t *dc = dv;

    af_config_srv(cmd);
    if (strcasecmp(arg, "pass") == 0) {
        dc->preflight = AF_PREFLIGHT_PASS;
    } else if (strcasecmp(arg, "deny") == 0) {
        dc->preflight = AF_PREFLIGHT_DENY;
    } else {
        return apr_psprintf(cmd->pool, "%s: '%s' is not pass or deny", dname(cmd), arg);
    }
    return NULL;
}

static const char *set_login(cmd_parms *cmd, void *dv, const char *arg)
{
    af_dir_conf_t *dc = dv;

    af_config_srv(cmd);
    if (strstr(arg, "://") != NULL) {
        if (!af_url_ok(arg)) {
            return apr_psprintf(cmd->pool,
                                "%s: '%s' must be an https URL (http only on loopback) or a path",
                                dname(cmd), arg);
        }
    } else if (arg[0] == '/') {
        if (arg[1] == '/' || arg[1] == '\\' || af_parse_has_ctl(arg) || strchr(arg, '#')) {
            return apr_psprintf(cmd->pool, "%s: '%s' is not a local path", dname(cmd), arg);
        }
    } else if (!af_parse_is_name(arg, 64)) {
        return apr_psprintf(cmd->pool, "%s: '%s' is neither a provider name nor a URL", dname(cmd),
                            arg);
    }
    dc->login = arg;
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
    AP_INIT_TAKE1("AuthFlowUnauthenticated", set_unauth, NULL, OR_AUTHCFG,
                  "auto|redirect|401|pass (default auto)"),
    AP_INIT_TAKE_ARGV("AuthFlowTokenFrom", set_token_from, NULL, OR_AUTHCFG,
                      "cookie and/or bearer, in order (default cookie bearer)"),
    AP_INIT_TAKE1("AuthFlowUserClaim", set_user_claim, NULL, OR_AUTHCFG,
                  "claim that becomes REMOTE_USER (default sub)"),
    AP_INIT_TAKE_ARGV("AuthFlowExport", set_export, NULL, OR_AUTHCFG,
                      "header|env NAME PATH [join=SEP]: hand one claim to the backend"),
    AP_INIT_FLAG("AuthFlowExportAll", set_dir_flag, DOFF(export_all), OR_AUTHCFG,
                 "export every top-level claim as AUTHFLOW_CLAIM_<NAME> (default on)"),
    AP_INIT_FLAG("AuthFlowForwardToken", set_dir_flag, DOFF(forward_token), OR_AUTHCFG,
                 "send the verified access token to the backend (default off)"),
    AP_INIT_FLAG("AuthFlowCheckRevocation", set_dir_flag, DOFF(check_revocation), OR_AUTHCFG,
                 "reject our access tokens whose login was revoked (default on)"),
    AP_INIT_TAKE1("AuthFlowRefresh", set_refresh, NULL, OR_AUTHCFG,
                  "auto|off: the gate refreshes an expired access token inline (default auto)"),
    AP_INIT_TAKE1("AuthFlowLogin", set_login, NULL, OR_AUTHCFG,
                  "PROVIDER or URL where unauthenticated browsers go"),
    AP_INIT_TAKE1("AuthFlowMaxAge", set_max_age, NULL, OR_AUTHCFG,
                  "DUR|off: step-up when the login's authentication is older"),
    AP_INIT_TAKE_ARGV("AuthFlowACR", set_acr, NULL, OR_AUTHCFG,
                      "VALUE...|off: step-up unless the login's acr is one of these"),
    AP_INIT_TAKE1("AuthFlowPreflight", set_preflight, NULL, OR_AUTHCFG,
                  "pass|deny: CORS preflights reach the backend unauthenticated (default pass)"),
    {NULL}};
