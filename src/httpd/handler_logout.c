/* handler_logout.c -- <endpoint>/logout.
 *
 * GET (no state): a confirmation page with a POST form (nothing changes: an <img src> or a
 * link cannot sign anybody out, F08).
 * POST, same-origin only (else 403, nothing changed): the login behind the -at / -rt
 * cookies is revoked in the store (af_login_revoke_current: the access token's sid, the
 * refresh token's family), every cookie of the module is cleared (same names, Path=/,
 * Max-Age=0).  When the login's provider has an end_session_endpoint, 303 there
 * (OIDC RP-Initiated Logout 1.0) with client_id, post_logout_redirect_uri = this endpoint
 * (register it at the IdP) and a fresh state kept sealed in the <prefix>-logout cookie
 * together with return_to, and id_token_hint = the IdP's id_token of this login, kept
 * sealed in the store (login_idt.c) and read before the login is revoked.  Otherwise 303 to
 * return_to (validated) or to the signed-out page.  Idempotent. GET with state (the IdP sends the
 * browser back, E19): the state must equal the sealed one (constant time); then the cookie is
 * cleared and 303 to the saved return_to.  A foreign or missing state shows an error page and
 * redirects nowhere.
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
#include "httpd/refresh.h"

APLOG_USE_MODULE(authflow);

#define AF_LOGOUT_MAX_AGE 600

static const char *self_url(request_rec *r, const af_srv_conf_t *sc)
{
    return apr_pstrcat(r->pool, sc->r_base_url ? sc->r_base_url : "", sc->r_endpoint, "/logout",
                       NULL);
}

static const char *state_cookie(request_rec *r, const af_srv_conf_t *sc)
{
    return sc->r_cookie_logout;
}

static af_seal_key_t *state_key(request_rec *r, const af_srv_conf_t *sc)
{
    af_seal_key_t *k = NULL;
    const af_login_store_t *slot = sc->login ? sc->login->r_store : NULL;

    if (slot == NULL || slot->secret == NULL ||
        af_token_seal_key(&k, slot->secret, AF_SECRET_LEN, state_cookie(r, sc), r->pool) !=
            APR_SUCCESS) {
        return NULL;
    }
    return k;
}

/* text/html with the handler's headers; form-action also allows the IdP (redirect). */
static int page(request_rec *r, const af_srv_conf_t *sc, int signed_in, const char *return_to)
{
    static const char *const names[] = {"title", "message", "form"};
    const char *vals[3], *body;
    const char *tpl =
        sc->login && sc->login->r_tpl_logout ? sc->login->r_tpl_logout : af_login_tpl_logout;

    vals[0] = signed_in ? "Sign out" : "Signed out";
    vals[1] = signed_in ? "Do you want to sign out?" : "You are signed out.";
    vals[2] = !signed_in
                  ? ""
                  : apr_pstrcat(r->pool, "<form method=\"post\" action=\"",
                                af_login_html_escape(self_url(r, sc), r->pool),
                                "?return_to=", af_login_url_encode(return_to, r->pool),
                                "\"><button type=\"submit\">Sign out</button></form>\n", NULL);
    body = af_login_template(tpl, names, vals, 3, r->pool);
    af_login_std_headers(r);
    apr_table_setn(r->headers_out, "Content-Security-Policy",
                   "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; "
                   "base-uri 'none'; form-action 'self' https: http:");
    apr_table_setn(r->headers_out, "Referrer-Policy", "same-origin"); /* Origin on the POST */
    r->status = HTTP_OK;
    ap_set_content_type(r, "text/html; charset=utf-8");
    ap_set_content_length(r, (apr_off_t) strlen(body));
    if (!r->header_only) {
        ap_rwrite(body, (int) strlen(body), r);
    }
    return OK;
}

static int see_other(request_rec *r, const char *url)
{
    af_login_std_headers(r);
    apr_table_setn(r->headers_out, "Location", url);
    r->status = HTTP_SEE_OTHER;
    ap_set_content_length(r, 0);
    return OK;
}

/* The provider of the current login: the verified access token's idp claim; *sid its sid. */
static af_oidc_provider_t *current_provider(const char **sid, request_rec *r, af_srv_conf_t *sc,
                                            apr_int64_t now)
{
    const char *v = NULL;
    json_t *claims = NULL;

    if (af_cookie_get(&v, apr_table_get(r->headers_in, "Cookie"), sc->r_cookie_at, r->pool) !=
            APR_SUCCESS ||
        *v == '\0' || af_gate_verify_own(&claims, r, sc, v, strlen(v), now) != APR_SUCCESS) {
        return NULL;
    }
    *sid = json_string_value(json_object_get(claims, "sid"));
    v = json_string_value(json_object_get(claims, "idp"));
    return v ? af_login_provider(sc, v) : NULL;
}

/* 303 to the IdP's end_session_endpoint, or NULL when it has none. */
static const char *end_session_url(request_rec *r, af_srv_conf_t *sc, af_oidc_provider_t *pv,
                                   const char *return_to, const char *hint, apr_int64_t now)
{
    const af_oidc_meta_t *meta = NULL;
    const char *ep, *state = NULL, *blob = NULL, *txt;
    af_seal_key_t *k = state_key(r, sc);
    json_t *j;

    if (pv == NULL || k == NULL || af_oidc_meta_get(&meta, pv, now, r->pool) != APR_SUCCESS) {
        return NULL;
    }
    ep = meta->end_session_endpoint ? meta->end_session_endpoint : pv->end_session_endpoint;
    if (ep == NULL || *ep == '\0' || af_oidc_random(&state, 16, r->pool) != APR_SUCCESS) {
        return NULL;
    }
    j = af_json_pool_own(json_pack("{s:s, s:s}", "state", state, "return_to", return_to), r->pool);
    if (j == NULL || (txt = af_json_dump(j, r->pool)) == NULL ||
        af_token_seal(&blob, k, txt, strlen(txt), now, AF_LOGOUT_MAX_AGE, r->pool) != APR_SUCCESS) {
        return NULL;
    }
    af_login_set_cookie(r, sc, state_cookie(r, sc), blob, AF_LOGOUT_MAX_AGE, 1);
    return apr_pstrcat(r->pool, ep, strchr(ep, '?') ? "&" : "?",
                       "client_id=", af_login_url_encode(pv->client_id, r->pool),
                       "&post_logout_redirect_uri=", af_login_url_encode(self_url(r, sc), r->pool),
                       "&state=", state, hint ? "&id_token_hint=" : "",
                       hint ? af_login_url_encode(hint, r->pool) : "", NULL);
}

/* E19: the IdP sends the browser back with our state. */
static int idp_return(request_rec *r, af_srv_conf_t *sc, const char *state, apr_int64_t now)
{
    const char *blob = NULL, *want, *rt;
    unsigned char *data = NULL;
    apr_size_t len = 0;
    af_seal_key_t *k = state_key(r, sc);
    json_t *doc = NULL;

    af_login_set_cookie(r, sc, state_cookie(r, sc), NULL, 0, 1);
    if (k == NULL ||
        af_cookie_get(&blob, apr_table_get(r->headers_in, "Cookie"), state_cookie(r, sc),
                      r->pool) != APR_SUCCESS ||
        af_token_unseal(&data, &len, k, blob, strlen(blob), now, r->pool) != APR_SUCCESS ||
        af_json_parse(&doc, (const char *) data, len, AF_COOKIE_MAX, r->pool) != APR_SUCCESS ||
        (want = json_string_value(json_object_get(doc, "state"))) == NULL ||
        strlen(want) != strlen(state) || CRYPTO_memcmp(want, state, strlen(state)) != 0) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "AF09030: logout: foreign or stale state");
        return af_login_error_page(r, sc, HTTP_BAD_REQUEST, "logout_state_mismatch", NULL);
    }
    rt = json_string_value(json_object_get(doc, "return_to"));
    return see_other(r, rt && *rt ? af_login_return_url(sc, rt, r->pool)
                                  : apr_pstrcat(r->pool, self_url(r, sc), NULL));
}

int af_logout_endpoint(request_rec *r, af_srv_conf_t *sc)
{
    static const char *const keys[] = {"return_to", "state"};
    const char *vals[2], *why, *hdr = apr_table_get(r->headers_in, "Cookie"), *v = NULL, *rt;
    const char *idp_url = NULL, *sid = NULL, *hint = NULL;
    apr_int64_t now = af_login_now(r, sc);
    af_oidc_provider_t *pv;
    af_store_t *st;
    apr_status_t rv;
    int signed_in;

    if ((why = af_login_query(vals, keys, 2, r->args, r->pool)) != NULL) {
        return af_login_error_page(r, sc, HTTP_BAD_REQUEST, why, NULL);
    }
    signed_in = (af_cookie_get(&v, hdr, sc->r_cookie_at, r->pool) == APR_SUCCESS && *v) ||
                (af_cookie_get(&v, hdr, sc->r_cookie_rt, r->pool) == APR_SUCCESS && *v);
    rt = af_login_return_to(sc, vals[0], r->pool);
    if (r->method_number == M_GET) {
        if (vals[1] != NULL) {
            return idp_return(r, sc, vals[1], now);
        }
        return page(r, sc, signed_in, rt);
    }
    if (!af_refresh_same_origin(r, sc)) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "AF09031: logout: not same-origin");
        return af_login_error_page(r, sc, HTTP_FORBIDDEN, "cross_site", NULL);
    }
    pv = signed_in ? current_provider(&sid, r, sc, now) : NULL;
    if (signed_in && sc->login != NULL && sc->login->r_store != NULL) {
        if ((st = af_login_store(r, sc)) == NULL) {
            return af_login_error_page(r, sc, HTTP_SERVICE_UNAVAILABLE, "store_unavailable", NULL);
        }
        if (pv != NULL) {
            hint = af_login_idt_hint(r, sc, st, sid, now);
        }
        if ((rv = af_login_revoke_current(r, sc, st, now)) != APR_SUCCESS) {
            ap_log_rerror(APLOG_MARK, af_login_store_loglevel(rv), 0, r,
                          "AF09032: logout: store error: %s", af_strerror(rv));
            return af_login_error_page(r, sc, HTTP_SERVICE_UNAVAILABLE, "store_unavailable", NULL);
        }
    }
    af_refresh_clear_cookies(r, sc, 0);
    af_login_set_cookie(r, sc, sc->r_cookie_flow, NULL, 0, 1);
    if (pv != NULL) {
        idp_url = end_session_url(r, sc, pv, rt, hint, now);
    }
    if (idp_url == NULL) {
        af_login_set_cookie(r, sc, state_cookie(r, sc), NULL, 0, 1);
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "AF09033: logout%s%s", pv ? ": provider " : "",
                  pv ? pv->name : "");
    return see_other(r, idp_url           ? idp_url
                        : vals[0] != NULL ? af_login_return_url(sc, rt, r->pool)
                                          : self_url(r, sc));
}
