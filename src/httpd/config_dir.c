/* config_dir.c -- the per-directory configuration: create/merge, the gate's options
 * (af_dir_opts), and the handlers of the per-directory directives (AuthType AuthFlow
 * locations, also .htaccess with AuthConfig).  The directive table is config.c's. */
#include <string.h>

#include <httpd.h>
#include <http_config.h>

#include <apr_lib.h>
#include <apr_strings.h>
#include <http_core.h>

#include "common/af_error.h"
#include "common/af_parse.h"
#include "common/af_url.h"
#include "httpd/af_httpd.h"

#define dname af_config_dname

/* ---- create / merge ------------------------------------------------------------------ */

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
    c->exports = af_config_append(p, base->exports, add->exports);
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

/* ---- per-directory directives -------------------------------------------------------- */

const char *af_config_dir_unauth(cmd_parms *cmd, void *dv, const char *arg)
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

const char *af_config_dir_token_from(cmd_parms *cmd, void *dv, int argc, char *const argv[])
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

const char *af_config_dir_user_claim(cmd_parms *cmd, void *dv, const char *arg)
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

const char *af_config_dir_export(cmd_parms *cmd, void *dv, int argc, char *const argv[])
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
        if (!af_config_is_token(e.name) || strlen(e.name) > 128) {
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

const char *af_config_dir_flag(cmd_parms *cmd, void *dv, int on)
{
    af_dir_conf_t *dc = dv;

    af_config_srv(cmd); /* marks the server used, never from .htaccess */
    *(int *) ((char *) dc + (apr_uintptr_t) cmd->info) = on;
    return NULL;
}

const char *af_config_dir_refresh(cmd_parms *cmd, void *dv, const char *arg)
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
const char *af_config_dir_max_age(cmd_parms *cmd, void *dv, const char *arg)
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
const char *af_config_dir_acr(cmd_parms *cmd, void *dv, int argc, char *const argv[])
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

const char *af_config_dir_preflight(cmd_parms *cmd, void *dv, const char *arg)
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

const char *af_config_dir_login(cmd_parms *cmd, void *dv, const char *arg)
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
