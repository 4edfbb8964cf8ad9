/* authz.c -- `Require authflow EXPR` and `Require authflow-claim PATH VALUE...`
 * (mod_authz_core providers), and the ap_expr functions authflow_claim() /
 * authflow_claims().
 *
 * The expression is compiled once, in parse_require_line, into the config pool;
 * a syntax or type error is returned as the directive's error, so `apachectl -t`
 * stops with "Syntax error on line N of FILE: Require authflow: column C: ...".
 * mod_authz_core does the combining (RequireAll/RequireAny/RequireNone, AuthMerging).
 * Per request: no user yet -> AUTHZ_DENIED_NO_USER (mod_authz_core then asks for
 * authentication), except a CORS preflight that AuthFlowPreflight pass lets through
 * (granted: it then skips check_user_id and auth_checker, other Require rules still apply); a user
 * but no claims from our gate -> denied; otherwise the compiled tree is evaluated over the verified
 * claims with r->request_time as now(). Denials are logged at INFO with a stable tag and a reason
 * code; never a claim value.
 */
#include <apr_lib.h>
#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <http_request.h>
#include <mod_auth.h>
#include <ap_expr.h>

#include "httpd/af_httpd.h"
#include "policy/af_policy.h"

APLOG_USE_MODULE(authflow);

#define LOG_EXPR_MAX 160 /* characters of the expression quoted in a log line */

/* Like mod_authz_core's `Require expr`: one pair of surrounding double quotes is
 * removed, nothing inside is unescaped, so columns count inside the quotes. */
static const char *require_text(apr_pool_t *p, const char *line)
{
    apr_size_t len;

    while (apr_isspace(*line)) {
        line++;
    }
    len = strlen(line);
    while (len > 0 && apr_isspace(line[len - 1])) {
        len--;
    }
    if (len >= 2 && line[0] == '"' && line[len - 1] == '"') {
        return apr_pstrmemdup(p, line + 1, len - 2);
    }
    return apr_pstrmemdup(p, line, len);
}

static const char *authflow_parse(cmd_parms *cmd, const char *require_line,
                                  const void **parsed_require_line)
{
    af_policy_t *pol;
    const char *err;

    if (af_policy_compile(&pol, &err, require_text(cmd->temp_pool, require_line), cmd->pool) !=
        APR_SUCCESS) {
        return apr_pstrcat(cmd->pool, "Require authflow: ", err, NULL);
    }
    *parsed_require_line = pol;
    return NULL;
}

static const char *authflow_claim_parse(cmd_parms *cmd, const char *require_line,
                                        const void **parsed_require_line)
{
    apr_array_header_t *values = apr_array_make(cmd->temp_pool, 4, sizeof(const char *));
    const char *path, *err;
    af_policy_t *pol;

    path = ap_getword_conf(cmd->temp_pool, &require_line);
    if (*path == '\0') {
        return "Require authflow-claim: needs a claim path and at least one value";
    }
    while (*require_line != '\0') {
        const char *w = ap_getword_conf(cmd->temp_pool, &require_line);
        if (*w != '\0') {
            *(const char **) apr_array_push(values) = w;
        }
    }
    if (af_policy_compile_claim(&pol, &err, path, (const char *const *) values->elts, values->nelts,
                                cmd->pool) != APR_SUCCESS) {
        return apr_pstrcat(cmd->pool, "Require authflow-claim: ", err, NULL);
    }
    *parsed_require_line = pol;
    return NULL;
}

/* now() of the claim language: the module clock, the same as the gate's (the request
 * time plus AuthFlowTestClockOffset) -- one clock. */
static apr_int64_t request_clock(void *baton)
{
    return af_request_now((const request_rec *) baton);
}

static const char *short_source(request_rec *r, const af_policy_t *pol)
{
    const char *s = af_policy_source(pol);

    if (strlen(s) > LOG_EXPR_MAX) {
        return apr_pstrcat(r->pool, apr_pstrndup(r->pool, s, LOG_EXPR_MAX), "...", NULL);
    }
    return s;
}

static authz_status authflow_check(request_rec *r, const char *require_line,
                                   const void *parsed_require_line)
{
    const af_policy_t *pol = parsed_require_line;
    af_policy_ctx_t ctx;
    json_t *claims;
    apr_status_t rv;
    int allowed = 0;

    if (r->user == NULL) {
        if (af_request_preflight_passes(r)) {
            /* AuthFlowPreflight pass: a CORS preflight never carries credentials */
            ap_log_rerror(APLOG_MARK, APLOG_TRACE1, 0, r,
                          "AF04005: CORS preflight to %s passed unauthenticated", r->uri);
            return AUTHZ_GRANTED;
        }
        return AUTHZ_DENIED_NO_USER;
    }
    if (pol == NULL) { /* cannot happen: parse_require_line always sets it */
        return AUTHZ_DENIED;
    }
    claims = af_request_claims(r);
    if (claims == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      "AF04002: access to %s denied for user %s: not authenticated by "
                      "authflow, no claims (reason=%s)",
                      r->uri, r->user, af_strerror(AF_EPOLICY_NO_CLAIMS));
        return AUTHZ_DENIED;
    }
    af_policy_ctx_init(&ctx, r->pool);
    ctx.now = request_clock;
    ctx.now_baton = r;
    rv = af_policy_eval(&allowed, pol, claims, &ctx);
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      "AF04003: access to %s denied for user %s: \"%s\" could not be "
                      "evaluated (reason=%s)",
                      r->uri, r->user, short_source(r, pol), af_strerror(rv));
        return AUTHZ_DENIED;
    }
    if (!allowed) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      "AF04001: access to %s denied for user %s: \"%s\" is false (reason=%s)",
                      r->uri, r->user, short_source(r, pol), af_strerror(AF_EPOLICY_DENIED));
        return AUTHZ_DENIED;
    }
    ap_log_rerror(APLOG_MARK, APLOG_TRACE1, 0, r, "AF04004: \"%s\" granted access to %s",
                  short_source(r, pol), r->uri);
    return AUTHZ_GRANTED;
}

static const authz_provider authflow_provider = {authflow_check, authflow_parse};
static const authz_provider authflow_claim_provider = {authflow_check, authflow_claim_parse};

/* ---- ap_expr: authflow_claim('path') and authflow_claims('path') ---------------------- */

static const json_t *expr_claim(ap_expr_eval_ctx_t *ctx, const void *data, const char *arg)
{
    const af_policy_path_t *path = data;
    const char *err;
    json_t *claims;

    if (ctx->r == NULL || (claims = af_request_claims(ctx->r)) == NULL) {
        return NULL;
    }
    if (path == NULL) { /* the argument was not a constant: compile it now */
        af_policy_path_t *p;
        if (arg == NULL || af_policy_path_compile(&p, &err, arg, ctx->p) != APR_SUCCESS) {
            return NULL;
        }
        path = p;
    }
    return af_policy_path_get(path, claims);
}

/* The one claim renderer (af_policy_claim_text): the same text as env and headers get;
 * absent, null or refused (control characters, too long) is "". */
static const char *expr_claim_string(ap_expr_eval_ctx_t *ctx, const void *data, const char *arg)
{
    const char *s = af_policy_claim_text(expr_claim(ctx, data, arg), ",", ctx->p);

    return s ? s : "";
}

static apr_array_header_t *expr_claim_list(ap_expr_eval_ctx_t *ctx, const void *data,
                                           const char *arg)
{
    const json_t *v = expr_claim(ctx, data, arg);
    apr_array_header_t *list = apr_array_make(ctx->p, 4, sizeof(const char *));
    apr_size_t i, n;

    if (v == NULL) {
        return list;
    }
    n = json_is_array(v) ? json_array_size(v) : 1;
    for (i = 0; i < n; i++) {
        const json_t *e = json_is_array(v) ? json_array_get(v, i) : v;
        const char *t = af_policy_claim_text(e, ",", ctx->p);

        *(const char **) apr_array_push(list) = t ? t : "";
    }
    return list;
}

static int authz_expr_lookup(ap_expr_lookup_parms *parms)
{
    af_policy_path_t *path = NULL;
    const char *err;

    if (!((parms->type == AP_EXPR_FUNC_STRING && strcasecmp(parms->name, "authflow_claim") == 0) ||
          (parms->type == AP_EXPR_FUNC_LIST && strcasecmp(parms->name, "authflow_claims") == 0))) {
        return DECLINED;
    }
    if (parms->arg != NULL) { /* a constant path: compile it with the expression */
        if (af_policy_path_compile(&path, &err, parms->arg, parms->pool) != APR_SUCCESS) {
            *parms->err = apr_psprintf(parms->ptemp, "%s('%s'): %s", parms->name, parms->arg, err);
            return !OK;
        }
    }
    *parms->data = path;
    *parms->func = parms->type == AP_EXPR_FUNC_STRING ? (const void *) expr_claim_string
                                                      : (const void *) expr_claim_list;
    return OK;
}

void af_authz_register_hooks(apr_pool_t *p)
{
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "authflow", AUTHZ_PROVIDER_VERSION,
                              &authflow_provider, AP_AUTH_INTERNAL_PER_CONF);
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "authflow-claim", AUTHZ_PROVIDER_VERSION,
                              &authflow_claim_provider, AP_AUTH_INTERNAL_PER_CONF);
    ap_hook_expr_lookup(authz_expr_lookup, NULL, NULL, APR_HOOK_MIDDLE);
}
