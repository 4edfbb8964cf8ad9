/* config_login.c -- the login directives: <AuthFlowProvider NAME>, AuthFlowStore, token
 * claims, return_to origins, refresh lifetimes, SameSite, templates; merge and resolve.
 *
 * <AuthFlowProvider NAME> is a container whose body lines are not directives of their own:
 * httpd keeps them as child nodes of the container, and they are read here key by key
 * (case-insensitive, like directives), so an unknown key stops configtest naming the key,
 * the file and the line.  Providers are checked by the OIDC core (af_oidc_provider_check)
 * when the server is resolved, after AuthFlowBaseURL gave the default redirect_uri.
 */
#include <stdlib.h>
#include <string.h>

#include <httpd.h>
#include <http_config.h>

#include <apr_lib.h>
#include <apr_strings.h>
#include <http_log.h>

#include "common/af_error.h"
#include "common/af_parse.h"
#include "httpd/af_config.h"
#include "httpd/login.h"
#include "jose/af_jwk.h"

APLOG_USE_MODULE(authflow);

static const char *dname(cmd_parms *cmd)
{
    return cmd->directive ? cmd->directive->directive : cmd->cmd->name;
}

static af_login_conf_t *login_new(apr_pool_t *p)
{
    af_login_conf_t *c = apr_pcalloc(p, sizeof(*c));

    c->refresh_ttl = AF_UNSET;
    c->refresh_idle = AF_UNSET;
    c->reuse_grace = AF_UNSET;
    c->sweep_interval = AF_UNSET;
    return c;
}

static af_login_conf_t *login_of(cmd_parms *cmd)
{
    af_srv_conf_t *sc = ap_get_module_config(cmd->server->module_config, &authflow_module);

    if (cmd->pool == cmd->server->process->pconf) {
        sc->used = 1;
    }
    if (sc->login == NULL) {
        sc->login = login_new(cmd->pool);
    }
    return sc->login;
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

static int is_name(const char *s, apr_size_t max)
{
    apr_size_t n = strlen(s);

    return n > 0 && n <= max &&
           strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                     "0123456789-_.") == n;
}

/* ---- <AuthFlowProvider NAME> --------------------------------------------------------- */

static const char *root_relative(void *baton, const char *path, apr_pool_t *p)
{
    return ap_server_root_relative(p, path);
}

/* One body line "Key value..." of a provider: words as httpd splits directive arguments,
 * then the OIDC core's one parser.  Returns an error text (without location). */
static const char *provider_key(af_oidc_provider_t *pv, const char *key, const char *args,
                                apr_pool_t *p)
{
    const char *argv[8];
    int argc = 0;
    const char *w;

    while (*args && argc < 8) {
        w = ap_getword_conf(p, &args);
        if (*w == '\0' && *args == '\0') {
            break;
        }
        argv[argc++] = w;
    }
    if (*args != '\0') {
        return apr_psprintf(p, "%s: too many arguments", key);
    }
    return af_oidc_provider_key(pv, key, argc, argv, root_relative, NULL, p);
}

const char *af_login_cmd_provider(cmd_parms *cmd, void *d, const char *arg)
{
    af_login_conf_t *lc = login_of(cmd);
    const ap_directive_t *dir = cmd->directive, *c;
    const char *end = ap_strrchr_c(arg, '>'), *name, *err;
    af_oidc_provider_t *pv;
    int i;

    if ((err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT)) != NULL) {
        return err;
    }
    if (end == NULL || end[1] != '\0') {
        return "<AuthFlowProvider> directive missing closing '>'";
    }
    name = apr_pstrmemdup(cmd->pool, arg, (apr_size_t) (end - arg));
    name = ap_getword_conf(cmd->pool, &name);
    if (!is_name(name, 64)) {
        return apr_psprintf(cmd->pool,
                            "<AuthFlowProvider %s>: the name must be 1..64 letters, "
                            "digits, '-', '_' or '.'",
                            name);
    }
    for (i = 0; lc->providers != NULL && i < lc->providers->nelts; i++) {
        if (strcmp(APR_ARRAY_IDX(lc->providers, i, af_oidc_provider_t *)->name, name) == 0) {
            return apr_psprintf(cmd->pool, "<AuthFlowProvider %s>: defined twice", name);
        }
    }
    pv = af_oidc_provider_make(name, cmd->pool);
    for (c = dir ? dir->first_child : NULL; c != NULL; c = c->next) {
        if (c->first_child != NULL || c->directive[0] == '<') {
            return apr_psprintf(cmd->pool,
                                "<AuthFlowProvider %s>: %s at %s:%d: no sections "
                                "allowed inside",
                                name, c->directive, c->filename, c->line_num);
        }
        err = provider_key(pv, c->directive, c->args ? c->args : "", cmd->pool);
        if (err != NULL) {
            return apr_psprintf(cmd->pool, "<AuthFlowProvider %s>: %s (%s:%d)", name, err,
                                c->filename, c->line_num);
        }
    }
    if (lc->providers == NULL) {
        lc->providers = apr_array_make(cmd->pool, 2, sizeof(af_oidc_provider_t *));
        lc->prov_where = apr_array_make(cmd->pool, 2, sizeof(const char *));
    }
    APR_ARRAY_PUSH(lc->providers, af_oidc_provider_t *) = pv;
    APR_ARRAY_PUSH(lc->prov_where, const char *) =
        dir ? apr_psprintf(cmd->pool, "%s:%d", dir->filename, dir->line_num) : "?";
    return NULL;
}

/* ---- the other directives ------------------------------------------------------------ */

const char *af_login_cmd_store(cmd_parms *cmd, void *d, const char *arg)
{
    af_login_conf_t *lc = login_of(cmd);
    const char *path = ap_server_root_relative(cmd->pool, arg);

    if (path == NULL || *arg == '\0' || has_ctl(arg)) {
        return apr_psprintf(cmd->pool, "%s: bad path '%s'", dname(cmd), arg);
    }
    lc->store_dir = path;
    return NULL;
}

const char *af_login_cmd_mapsize(cmd_parms *cmd, void *d, const char *arg)
{
    af_login_conf_t *lc = login_of(cmd);
    apr_uint64_t v;

    if (af_parse_size(&v, arg) != APR_SUCCESS || v < 1024 * 1024 ||
        v > (apr_uint64_t) 1024 * 1024 * 1024 * 1024) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not a size between 1M and 1T (256M, 1G)",
                            dname(cmd), arg);
    }
    lc->mapsize = v;
    return NULL;
}

const char *af_login_cmd_token_claims(cmd_parms *cmd, void *d, int argc, char *const argv[])
{
    af_login_conf_t *lc = login_of(cmd);
    int i;

    if (argc < 1) {
        return apr_psprintf(cmd->pool, "%s: takes one or more claim names", dname(cmd));
    }
    lc->token_claims = apr_array_make(cmd->pool, argc, sizeof(const char *));
    for (i = 0; i < argc; i++) {
        if (!is_name(argv[i], 64)) {
            return apr_psprintf(cmd->pool, "%s: '%s' is not a claim name", dname(cmd), argv[i]);
        }
        APR_ARRAY_PUSH(lc->token_claims, const char *) = argv[i];
    }
    return NULL;
}

/* An origin: scheme "://" host [":" port], lower-cased; NULL if not one. */
static const char *origin_of(const char *s, apr_pool_t *p)
{
    const char *host;
    char *o;

    if (strncasecmp(s, "https://", 8) == 0) {
        host = s + 8;
    } else if (strncasecmp(s, "http://", 7) == 0) {
        host = s + 7;
    } else {
        return NULL;
    }
    if (*host == '\0' || strpbrk(host, "/?#@\\ ") != NULL || has_ctl(s)) {
        return NULL;
    }
    o = apr_pstrdup(p, s);
    ap_str_tolower(o);
    return o;
}

const char *af_login_cmd_return_to(cmd_parms *cmd, void *d, int argc, char *const argv[])
{
    af_login_conf_t *lc = login_of(cmd);
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
        o = origin_of(apr_pstrmemdup(cmd->pool, argv[i], n), cmd->pool);
        if (o == NULL || strchr(o, '*') != NULL) {
            return apr_psprintf(cmd->pool,
                                "%s: '%s' is not an origin (https://host[:port]; no "
                                "wildcards, paths or empty values)",
                                dname(cmd), argv[i]);
        }
        if (strncmp(o, "http://", 7) == 0 && af_oidc_url_ok(o) == 0) {
            return apr_psprintf(cmd->pool, "%s: '%s' must be https (http only on loopback)",
                                dname(cmd), argv[i]);
        }
        if (lc->return_to == NULL) {
            lc->return_to = apr_array_make(cmd->pool, 2, sizeof(const char *));
        }
        APR_ARRAY_PUSH(lc->return_to, const char *) = o;
    }
    return NULL;
}

const char *af_login_cmd_duration(cmd_parms *cmd, void *d, const char *arg)
{
    af_login_conf_t *lc = login_of(cmd);
    const char *n = cmd->cmd->name;
    apr_int64_t v;

    if (af_parse_duration(&v, arg) != APR_SUCCESS) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not a duration (90s, 10m, 12h, 14d, seconds)",
                            dname(cmd), arg);
    }
    if (strcmp(n, "AuthFlowReuseGrace") == 0) {
        if (v > 60) {
            return apr_psprintf(cmd->pool, "%s: %s is above the maximum of 60s", dname(cmd), arg);
        }
        lc->reuse_grace = v;
    } else if (strcmp(n, "AuthFlowSweepInterval") == 0) {
        if (v > 7 * 86400) {
            return apr_psprintf(cmd->pool, "%s: %s must be 0 (off) or between 1s and 7d",
                                dname(cmd), arg);
        }
        lc->sweep_interval = v;
    } else if (v < 60 || v > 366 * 86400) {
        return apr_psprintf(cmd->pool, "%s: %s must be between 1m and 366d", dname(cmd), arg);
    } else if (strcmp(n, "AuthFlowRefreshTTL") == 0) {
        lc->refresh_ttl = v;
    } else {
        lc->refresh_idle = v;
    }
    return NULL;
}

const char *af_login_cmd_samesite(cmd_parms *cmd, void *d, const char *arg)
{
    af_login_conf_t *lc = login_of(cmd);

    if (strcasecmp(arg, "Lax") == 0) {
        lc->samesite = "Lax";
    } else if (strcasecmp(arg, "Strict") == 0) {
        lc->samesite = "Strict";
    } else if (strcasecmp(arg, "None") == 0) {
        lc->samesite = "None";
    } else {
        return apr_psprintf(cmd->pool, "%s: '%s' is not Lax, Strict or None", dname(cmd), arg);
    }
    return NULL;
}

const char *af_login_cmd_template_dir(cmd_parms *cmd, void *d, const char *arg)
{
    af_login_conf_t *lc = login_of(cmd);
    const char *path = ap_server_root_relative(cmd->pool, arg);

    if (path == NULL || *arg == '\0' || has_ctl(arg)) {
        return apr_psprintf(cmd->pool, "%s: bad path '%s'", dname(cmd), arg);
    }
    lc->template_dir = path;
    return NULL;
}

/* ---- merge --------------------------------------------------------------------------- */

af_login_conf_t *af_login_conf_merge(apr_pool_t *p, const af_login_conf_t *base,
                                     const af_login_conf_t *add)
{
    af_login_conf_t *c = login_new(p);
    int i, j, dup;

    if (base == NULL && add == NULL) {
        return NULL;
    }
    if (base == NULL || add == NULL) {
        *c = base ? *base : *add;
        return c;
    }
    /* providers: the vhost's own, plus the main server's of other names */
    if (add->providers != NULL || base->providers != NULL) {
        c->providers = apr_array_make(p, 4, sizeof(af_oidc_provider_t *));
        c->prov_where = apr_array_make(p, 4, sizeof(const char *));
    }
    for (i = 0; add->providers != NULL && i < add->providers->nelts; i++) {
        APR_ARRAY_PUSH(c->providers, af_oidc_provider_t *) =
            APR_ARRAY_IDX(add->providers, i, af_oidc_provider_t *);
        APR_ARRAY_PUSH(c->prov_where, const char *) =
            APR_ARRAY_IDX(add->prov_where, i, const char *);
    }
    for (i = 0; base->providers != NULL && i < base->providers->nelts; i++) {
        const af_oidc_provider_t *b = APR_ARRAY_IDX(base->providers, i, af_oidc_provider_t *);

        for (dup = 0, j = 0; add->providers != NULL && j < add->providers->nelts; j++) {
            dup |=
                strcmp(APR_ARRAY_IDX(add->providers, j, af_oidc_provider_t *)->name, b->name) == 0;
        }
        if (!dup) {
            APR_ARRAY_PUSH(c->providers, const af_oidc_provider_t *) = b;
            APR_ARRAY_PUSH(c->prov_where, const char *) =
                APR_ARRAY_IDX(base->prov_where, i, const char *);
        }
    }
    c->store_dir = add->store_dir ? add->store_dir : base->store_dir;
    c->mapsize = add->mapsize ? add->mapsize : base->mapsize;
    c->token_claims = add->token_claims ? add->token_claims : base->token_claims;
    c->return_to = !add->return_to    ? base->return_to
                   : !base->return_to ? add->return_to
                                      : apr_array_append(p, base->return_to, add->return_to);
    c->refresh_ttl = add->refresh_ttl != AF_UNSET ? add->refresh_ttl : base->refresh_ttl;
    c->refresh_idle = add->refresh_idle != AF_UNSET ? add->refresh_idle : base->refresh_idle;
    c->reuse_grace = add->reuse_grace != AF_UNSET ? add->reuse_grace : base->reuse_grace;
    c->sweep_interval =
        add->sweep_interval != AF_UNSET ? add->sweep_interval : base->sweep_interval;
    c->samesite = add->samesite ? add->samesite : base->samesite;
    c->template_dir = add->template_dir ? add->template_dir : base->template_dir;
    return c;
}

const char *af_login_cmd_check_revocation(cmd_parms *cmd, void *d, int on)
{
    af_dir_conf_t *dc = d;

    dc->check_revocation = on; /* also from .htaccess: touches no server config */
    return NULL;
}
