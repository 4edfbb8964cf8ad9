/* gate.c -- AuthType AuthFlow: check_user_id and the hooks around it.
 *
 * The decision is the core's (af_session_gate); this file reads the request, applies the
 * answer, and keeps the per-request state httpd needs across hooks (in request_config):
 * the verified claims for the authz providers and ap_expr, the token for subrequests and
 * internal redirects.
 */
#include <string.h>

#include <httpd.h>
#include <http_config.h>

#include <apr_strings.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>

#include "httpd/af_httpd.h"
#include "httpd/respond.h"

APLOG_USE_MODULE(authflow);

/* Per-request state, in r->request_config. */
typedef struct af_req_t {
    af_gate_t *g;  /* the decision (claims, user, issuer, token) */
    int done;      /* the gate ran */
    int forwarded; /* our token was put in Authorization (AuthFlowForwardToken) */
} af_req_t;

static af_req_t *req_ctx(const request_rec *r)
{
    return ap_get_module_config(r->request_config, &authflow_module);
}

/* The state of the request this one derives from (internal redirect or subrequest). */
static af_req_t *inherited_ctx(const request_rec *r)
{
    const request_rec *o;
    af_req_t *c;

    for (o = r->prev ? r->prev : r->main; o != NULL; o = o->prev ? o->prev : o->main) {
        if ((c = req_ctx(o)) != NULL && c->g != NULL) {
            return c;
        }
    }
    return NULL;
}

json_t *af_request_claims(request_rec *r)
{
    af_req_t *c = req_ctx(r);

    if ((c == NULL || c->g == NULL) && r->user != NULL) {
        c = inherited_ctx(r);
    }
    return c != NULL && c->g != NULL ? c->g->claims : NULL;
}

apr_int64_t af_request_now(const request_rec *r)
{
    const af_site_t *site = af_srv_conf(r->server)->site;

    return apr_time_sec(r->request_time) + (site != NULL ? site->clock_offset : 0);
}

static int is_authflow(request_rec *r)
{
    const char *t = ap_auth_type(r);

    return t != NULL && strcasecmp(t, "AuthFlow") == 0;
}

int af_request_preflight_passes(request_rec *r)
{
    const af_site_t *site = af_srv_conf(r->server)->site;
    af_gate_opts_t opts;
    af_req_in_t in;

    if (site == NULL || !is_authflow(r)) {
        return 0;
    }
    af_dir_opts(&opts, af_dir_conf(r));
    af_req_read(&in, r, site);
    return af_session_preflight_passes(&opts, &in);
}

/* Run the core's decision once per request; the answer's cookies are always applied. */
static af_req_t *authenticate(request_rec *r)
{
    const af_site_t *site = af_srv_conf(r->server)->site;
    af_req_t *ctx = req_ctx(r), *inh = inherited_ctx(r);
    af_gate_opts_t opts;
    af_req_in_t in;

    if (ctx == NULL) {
        ctx = apr_pcalloc(r->pool, sizeof(*ctx));
        ap_set_module_config(r->request_config, &authflow_module, ctx);
    }
    if (ctx->done) {
        return ctx;
    }
    ctx->done = 1;
    af_dir_opts(&opts, af_dir_conf(r));
    af_req_read(&in, r, site);
    if (af_session_preflight_passes(&opts, &in)) {
        /* AuthFlowPreflight pass: no cookie read, no user, no claim; the authz providers
         * grant it (af_request_preflight_passes) */
        ctx->g = apr_pcalloc(r->pool, sizeof(*ctx->g));
        ctx->g->eff = af_effects_make(r->pool);
        ctx->g->reason = AF_ESESS_NO_TOKEN;
        return ctx;
    }
    af_session_gate(&ctx->g, site, &opts, &in, inh ? inh->g->token : NULL, inh ? inh->g->src : 0,
                    r->pool);
    af_respond_cookies(r, site, ctx->g->eff);
    /* F09: the client's Authorization header (a Bearer we read or not, Basic, ...) never
     * reaches the backend from an AuthFlow location; ours is put back below when
     * AuthFlowForwardToken is on */
    apr_table_unset(r->headers_in, "Authorization");
    return ctx;
}

static int check_user_id(request_rec *r)
{
    const af_site_t *site;
    af_dir_conf_t *dc;
    af_gate_opts_t opts;
    af_req_in_t in;
    af_req_t *ctx;

    if (!is_authflow(r)) {
        return DECLINED;
    }
    site = af_srv_conf(r->server)->site;
    dc = af_dir_conf(r);
    ctx = authenticate(r);
    if (ctx->g->reason != APR_SUCCESS) {
        /* `pass` gets here only when a Require line wants a user: that is a 401 too */
        af_dir_opts(&opts, dc);
        af_req_read(&in, r, site);
        af_effects_read(ctx->g->eff, r, site); /* the language of an error page */
        af_session_gate_fail(ctx->g->eff, site, &opts, &in, ctx->g->reason, r->pool);
        return af_respond_gate(r, ctx->g->eff);
    }
    r->user = (char *) ctx->g->user;
    r->ap_auth_type = (char *) ap_auth_type(r);
    af_export_apply(r, af_session_exports(ctx->g->claims, r->user, ctx->g->issuer,
                                          af_dir_export_all(dc), dc->exports, r->pool));
    if (af_dir_forward_token(dc)) {
        apr_table_setn(r->headers_in, "Authorization",
                       apr_pstrcat(r->pool, "Bearer ", ctx->g->token, NULL));
        ctx->forwarded = 1;
    }
    if (af_log_wanted(AF_LOG_DEBUG)) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "AF02002: gate: authenticated %s%s", r->user,
                      ctx->g->cached ? " (cached)" : "");
    }
    return OK;
}

/* `pass` with Require all granted: httpd would skip authentication.  Decide here: a valid
 * token runs check_user_id (user + export), anything else stays anonymous (httpd refuses a
 * check_user_id that returns OK without a user). */
static int force_authn(request_rec *r)
{
    af_gate_opts_t opts;

    if (!is_authflow(r)) {
        return DECLINED;
    }
    af_dir_opts(&opts, af_dir_conf(r));
    if (opts.unauth != AF_UNAUTH_PASS) {
        return DECLINED;
    }
    return authenticate(r)->g->reason == APR_SUCCESS ? OK : DECLINED;
}

static int note_auth_failure(request_rec *r, const char *type)
{
    if (strcasecmp(type, "AuthFlow") != 0) {
        return DECLINED;
    }
    apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
    apr_table_setn(r->err_headers_out, "WWW-Authenticate", "Bearer");
    return OK;
}

static int post_read_request(request_rec *r)
{
    apr_pool_userdata_setn(r, AF_REQUEST_KEY, NULL, r->pool); /* the core's log lines */
    af_export_scrub(r, af_srv_conf(r->server));
    return DECLINED;
}

static int fixups(request_rec *r)
{
    af_srv_conf_t *sc = af_srv_conf(r->server);
    af_req_t *ctx = req_ctx(r), *inh;

    if (r->handler != NULL && strcmp(r->handler, "authflow") == 0) {
        return DECLINED; /* the login/refresh/logout handler reads our cookies */
    }
    if (sc->site != NULL) {
        af_export_strip_cookies(r, sc->site);
    }
    if (!is_authflow(r)) {
        return DECLINED;
    }
    inh = ctx == NULL ? inherited_ctx(r) : NULL;
    /* F09: also where authentication did not run (Require all granted, pass), except our
     * own forwarded token */
    if (!(r->user != NULL && ((ctx && ctx->forwarded) || (inh && inh->forwarded)))) {
        apr_table_unset(r->headers_in, "Authorization");
    }
    /* auth skipped because the config did not change (internal redirect, subrequest): the
     * env was renamed REDIRECT_*, so export again for this request */
    if (r->user != NULL && ctx == NULL && inh != NULL && inh->g->claims != NULL) {
        af_dir_conf_t *dc = af_dir_conf(r);

        af_export_apply(r, af_session_exports(inh->g->claims, r->user, inh->g->issuer,
                                              af_dir_export_all(dc), dc->exports, r->pool));
    }
    return DECLINED;
}

void af_gate_register_hooks(apr_pool_t *p)
{
    ap_hook_post_read_request(post_read_request, NULL, NULL, APR_HOOK_REALLY_FIRST);
    ap_hook_check_authn(check_user_id, NULL, NULL, APR_HOOK_MIDDLE, AP_AUTH_INTERNAL_PER_CONF);
    ap_hook_force_authn(force_authn, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_note_auth_failure(note_auth_failure, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_fixups(fixups, NULL, NULL, APR_HOOK_FIRST);
}
