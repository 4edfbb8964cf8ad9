/* handler_callback.c -- GET <endpoint>/callback: finish a login.
 *
 * Order: parse the query strictly (duplicates -> 400); find the pending flow whose state
 * matches (constant time) in the sealed flow cookie; an IdP error -> 400 page showing the
 * escaped error code, and a code that is not 1*VSCHAR of at most AF_LOGIN_CODE_MAX bytes
 * -> 400, both without touching the store (the flow cookie is cleared; replaying them is
 * harmless, so the unauthenticated path costs no durable write); take a lease of the
 * provider's outbound guard (MaxConcurrent, circuit breaker) -- refused: 503 + Retry-After
 * at once, with the state not consumed and the flow cookie kept, so the user can simply
 * retry; only a callback that will exchange its code consumes the flow in the store, once
 * for all children (a replay -> 400); then the OIDC core exchanges the code and validates
 * id_token / userinfo under that lease, given back right after.  On success:
 * the login cookies already present are discarded and their family revoked (D14), a new
 * family is created, our access token minted, -at / -rt set, the flow removed, and the
 * browser sent to return_to (302, no-store, no-referrer; with AuthFlowCookieSameSite
 * Strict a 200 page that continues there by meta refresh, since a redirect chain started
 * at the IdP would not carry Strict cookies).  On any failure nothing but the
 * consumed flow id is written, the flow cookie is cleared, and an error page with a reason
 * code is shown (400/401/502/504; 503 when the store fails, or when the guard refuses a call
 * half-way, which can only happen if the circuit opened meanwhile).
 */
#include <string.h>

#include <httpd.h>
#include <http_config.h>

#include <apr_strings.h>
#include <http_log.h>
#include <http_protocol.h>
#include <openssl/crypto.h>

#include "common/af_cookie.h"
#include "common/af_error.h"
#include "common/af_json.h"
#include "httpd/af_config.h"
#include "httpd/gate.h"
#include "httpd/login.h"

APLOG_USE_MODULE(authflow);

static int fail(request_rec *r, af_srv_conf_t *sc, int status, const char *reason,
                const char *idp_error, const char *provider)
{
    apr_table_unset(r->headers_out, "Set-Cookie");
    af_login_set_cookie(r, sc, sc->r_cookie_flow, NULL, 0, 1);
    ap_log_rerror(APLOG_MARK, status >= 500 ? APLOG_WARNING : APLOG_INFO, 0, r,
                  "AF08020: callback failed: %s (%d)%s%s", reason, status,
                  provider ? ", provider " : "", provider ? provider : "");
    return af_login_error_page(r, sc, status, reason, idp_error);
}

static void retry_after(request_rec *r, const af_oidc_provider_t *pv)
{
    apr_table_setn(r->headers_out, "Retry-After",
                   apr_psprintf(r->pool, "%" APR_INT64_T_FMT, af_oidc_idp_retry_after(pv)));
}

/* The outbound guard refused before anything was consumed: the flow cookie stays, so the
 * very same callback can be retried.  INFO: a flood of callbacks must not flood the log. */
static int refused(request_rec *r, af_srv_conf_t *sc, apr_status_t rv, const af_oidc_provider_t *pv)
{
    retry_after(r, pv);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "AF08042: callback refused: %s, provider %s",
                  af_strerror(rv), pv->name);
    return af_login_error_page(r, sc, HTTP_SERVICE_UNAVAILABLE, af_strerror(rv), NULL);
}

static int fail_rv(request_rec *r, af_srv_conf_t *sc, apr_status_t rv, const char *idp_error,
                   const char *provider)
{
    int status = af_oidc_status(rv);

    return fail(r, sc, status == 200 ? 500 : status, af_strerror(rv), idp_error, provider);
}

static int store_failed(request_rec *r, af_srv_conf_t *sc, apr_status_t rv, const char *what)
{
    ap_log_rerror(APLOG_MARK, af_login_store_loglevel(rv), 0, r,
                  "AF08021: callback: store error during %s: %s", what, af_strerror(rv));
    return fail(r, sc, HTTP_SERVICE_UNAVAILABLE, "store_unavailable", NULL, NULL);
}

/* RFC 6749 A.11: code = 1*VSCHAR (%x20-7E); and not absurdly long. */
static int code_ok(const char *code)
{
    apr_size_t n = 0;

    for (; code != NULL && *code != '\0'; code++, n++) {
        if ((unsigned char) *code < 0x20 || (unsigned char) *code > 0x7e) {
            return 0;
        }
    }
    return n > 0 && n <= AF_LOGIN_CODE_MAX;
}

static apr_status_t create_family(af_store_family_t **fam, const char **rt, af_store_t *st,
                                  const char *sub, const char *provider, const char *claims,
                                  apr_int64_t now, const af_login_conf_t *lc, apr_pool_t *p)
{
    af_store_login_in_t in;

    memset(&in, 0, sizeof(in));
    in.sub = sub;
    in.provider = provider;
    in.claims_json = claims;
    in.now = now;
    in.ttl = lc->r_refresh_ttl;
    in.idle = lc->r_refresh_idle;
    return af_store_family_create(fam, rt, st, &in, p);
}

/* The pending flow with this state, removed from flows; NULL if none. */
static af_oidc_flow_t *take_flow(apr_array_header_t *flows, const char *state)
{
    af_oidc_flow_t *found = NULL, *f;
    apr_size_t n = state ? strlen(state) : 0;
    int i, j;

    for (i = 0; n > 0 && i < flows->nelts; i++) {
        f = APR_ARRAY_IDX(flows, i, af_oidc_flow_t *);
        if (found == NULL && strlen(f->state) == n && CRYPTO_memcmp(f->state, state, n) == 0) {
            found = f;
            for (j = i + 1; j < flows->nelts; j++) {
                APR_ARRAY_IDX(flows, j - 1, af_oidc_flow_t *) =
                    APR_ARRAY_IDX(flows, j, af_oidc_flow_t *);
            }
            flows->nelts--;
            break;
        }
    }
    return found;
}

/* D14: the login cookies this browser already has are discarded, their family revoked. */
apr_status_t af_login_revoke_current(request_rec *r, af_srv_conf_t *sc, af_store_t *st,
                                     apr_int64_t now)
{
    const char *hdr = apr_table_get(r->headers_in, "Cookie"), *v = NULL, *sid;
    json_t *claims = NULL;
    apr_status_t rv;

    if (hdr == NULL) {
        return APR_SUCCESS;
    }
    if (af_cookie_get(&v, hdr, sc->r_cookie_at, r->pool) == APR_SUCCESS && *v != '\0' &&
        af_gate_verify_own(&claims, r, sc, v, strlen(v), now) == APR_SUCCESS &&
        (sid = json_string_value(json_object_get(claims, "sid"))) != NULL) {
        rv = af_store_family_revoke(st, sid, now, r->pool);
        if (rv != APR_SUCCESS && rv != AF_ENOTFOUND) {
            return rv;
        }
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      "AF08022: callback: previous login %s revoked (new login)", sid);
    }
    if (af_cookie_get(&v, hdr, sc->r_cookie_rt, r->pool) == APR_SUCCESS &&
        af_token_refresh_check(v, strlen(v)) == APR_SUCCESS) {
        const char *fsid = NULL;

        rv = af_store_token_family(&fsid, st, v, strlen(v), r->pool);
        if (rv == APR_SUCCESS) {
            rv = af_store_family_revoke(st, fsid, now, r->pool);
            if (rv != APR_SUCCESS && rv != AF_ENOTFOUND) {
                return rv;
            }
            ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                          "AF08022: callback: previous login %s revoked (new login)", fsid);
        } else if (rv == AF_ESTORE_FULL || rv == AF_ESTORE_BUSY || rv == AF_ESTORE_IO ||
                   rv == AF_ESTORE_CORRUPT) {
            return rv;
        }
    }
    return APR_SUCCESS;
}

int af_handler_callback(request_rec *r, af_srv_conf_t *sc)
{
    af_login_conf_t *lc = sc->login;
    apr_int64_t now = af_login_now(r, sc), rt_age;
    const char *query = r->args ? r->args : "", *c, *claims_json, *rt = NULL, *at = NULL, *url;
    const char *sub = NULL;
    af_oidc_cbparams_t *cb = NULL;
    af_oidc_flow_t *flow;
    af_oidc_provider_t *pv;
    af_oidc_identity_t *id = NULL;
    af_store_family_t *fam = NULL;
    apr_array_header_t *flows;
    af_store_t *st;
    apr_status_t rv, prv;
    int amps = 0;

    for (c = query; *c; c++) {
        amps += *c == '&';
    }
    if (amps >= AF_LOGIN_QUERY_MAX_PARAMS) {
        return fail(r, sc, HTTP_BAD_REQUEST, "too_many_parameters", NULL, NULL);
    }
    if (lc == NULL || lc->r_providers == NULL || lc->r_providers->nelts == 0) {
        return fail(r, sc, HTTP_NOT_FOUND, "no_provider", NULL, NULL);
    }
    prv = af_oidc_callback_parse(&cb, query, r->pool);
    if (prv != APR_SUCCESS && prv != AF_EOIDC_IDP_ERROR) {
        return fail_rv(r, sc, prv, NULL, NULL);
    }
    flows = af_login_flows_read(r, sc, now);
    flow = take_flow(flows, cb ? cb->state : NULL);
    if (flow == NULL) {
        return fail_rv(r, sc, prv != APR_SUCCESS ? prv : AF_EOIDC_STATE,
                       prv != APR_SUCCESS && cb ? cb->error : NULL, NULL);
    }
    /* nothing is written for a callback that will not exchange a code */
    if (prv == AF_EOIDC_IDP_ERROR) {
        return fail_rv(r, sc, prv, cb->error, flow->provider);
    }
    if (!code_ok(cb->code)) {
        return fail_rv(r, sc, AF_EOIDC_PARAM, NULL, flow->provider);
    }
    if ((pv = af_login_provider(sc, flow->provider)) == NULL) {
        return fail_rv(r, sc, AF_EOIDC_FLOW, NULL, flow->provider);
    }
    if ((st = af_login_store(r, sc)) == NULL) {
        return fail(r, sc, HTTP_SERVICE_UNAVAILABLE, "store_unavailable", NULL, flow->provider);
    }
    /* the IdP will be called: take the lease now, before the state is consumed */
    if ((rv = af_oidc_idp_enter(pv, r->pool)) != APR_SUCCESS) {
        return refused(r, sc, rv, pv);
    }
    rv = af_store_flow_consume(st, flow->state, strlen(flow->state), now,
                               flow->created + AF_LOGIN_FLOW_MAX_AGE + 60);
    if (rv == AF_ESTORE_REPLAY) {
        return fail(r, sc, HTTP_BAD_REQUEST, "flow_replayed", NULL, flow->provider);
    }
    if (rv != APR_SUCCESS) {
        return store_failed(r, sc, rv, "flow consume");
    }
    rv = af_oidc_callback_finish(&id, NULL, pv, flow, query, now, r->pool);
    af_oidc_idp_leave(pv, r->pool); /* the IdP is done with: the slot goes back now */
    if (rv == AF_EOIDC_IDP_BUSY || rv == AF_EOIDC_IDP_UNAVAILABLE) {
        retry_after(r, pv);
    }
    if (rv != APR_SUCCESS) {
        return fail_rv(r, sc, rv, NULL, pv->name);
    }

    /* H05: our subject is the IdP's namespaced by the provider (two providers' accounts
     * never share an identity); the IdP's own stays in the claims as "sub" -> idp_sub */
    if (af_token_subject(&sub, id->sub, pv->name, r->pool) != APR_SUCCESS) {
        return fail(r, sc, HTTP_UNAUTHORIZED, "subject_invalid", NULL, pv->name);
    }
    if ((rv = af_login_revoke_current(r, sc, st, now)) != APR_SUCCESS) {
        return store_failed(r, sc, rv, "revocation of the previous login");
    }
    /* the id_token, sealed, for a later logout's id_token_hint (E19); left out when the
     * snapshot would be too large, and then the claims too */
    claims_json = af_login_idt_claims(r, sc, id->claims, id->id_token, now);
    rv = AF_ETOOBIG;
    if (claims_json != NULL) {
        rv = create_family(&fam, &rt, st, sub, pv->name, claims_json, now, lc, r->pool);
    }
    if (rv == AF_ETOOBIG) {
        claims_json = af_json_dump(id->claims, r->pool);
        rv = create_family(&fam, &rt, st, sub, pv->name, claims_json ? claims_json : "", now, lc,
                           r->pool);
    }
    if (rv == AF_ETOOBIG) {
        rv = create_family(&fam, &rt, st, sub, pv->name, "", now, lc, r->pool);
    }
    if (rv == APR_EINVAL) {
        return fail(r, sc, HTTP_UNAUTHORIZED, "subject_invalid", NULL, pv->name);
    }
    if (rv != APR_SUCCESS) {
        return store_failed(r, sc, rv, "login creation");
    }
    rv = af_login_mint(&at, r, sc, sub, fam->sid, pv->name, id->claims, now);
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "AF08023: callback: cannot mint the access "
                      "token: %s (see AuthFlowTokenClaims)",
                      af_strerror(rv));
        af_store_family_revoke(st, fam->sid, now, r->pool);
        return fail(r, sc, HTTP_INTERNAL_SERVER_ERROR, af_strerror(rv), NULL, pv->name);
    }

    rt_age = fam->expires - now;
    af_login_set_cookie(r, sc, sc->r_cookie_at, at, sc->r_access_ttl, 0);
    af_login_set_cookie(r, sc, sc->r_cookie_rt, rt, rt_age, 0);
    if (af_login_flows_write(r, sc, flows, now) != APR_SUCCESS) {
        af_login_set_cookie(r, sc, sc->r_cookie_flow, NULL, 0, 1);
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "AF08024: login: provider %s, login %s", pv->name,
                  fam->sid);
    url = af_login_return_url(sc, flow->return_to, r->pool);
    if (strcmp(lc->r_samesite, "Strict") == 0) {
        /* Strict cookies are not sent on a redirect chain that began at the IdP (another
         * site): continue from a page of our own, so the next navigation is same-site */
        return af_login_send(r, HTTP_OK, "text/html; charset=utf-8",
                             apr_pstrcat(r->pool,
                                         "<!DOCTYPE html><html><head><meta charset=\"utf-8\">"
                                         "<meta http-equiv=\"refresh\" content=\"0;url=",
                                         af_login_html_escape(url, r->pool),
                                         "\"><title>Signed in</title></head><body><a href=\"",
                                         af_login_html_escape(url, r->pool),
                                         "\">Continue</a></body></html>\n", NULL));
    }
    return af_login_redirect(r, url);
}
