/* handler_session.c -- POST <endpoint>/refresh and <endpoint>/logout.
 *
 * Both need a same-origin request: an Origin header equal to AuthFlowBaseURL's origin, or
 * (without Origin) Sec-Fetch-Site: same-origin; anything else is 403 and changes nothing
 * (F07, F08).  Browsers send Origin on every POST, so this is the CSRF defence.
 *
 * refresh: rotates the refresh cookie in one store transaction (af_store_rotate, with
 * AuthFlowReuseGrace for parallel tabs) and answers 204 with a new access cookie and the
 * successor refresh cookie.  Unknown / expired / revoked / reused refresh tokens: 401 with
 * both cookies cleared (a reuse revokes the whole login in the store).  Store failures:
 * 503, nothing changed (fail closed).
 * logout: GET shows a confirmation page (nothing changes); POST revokes the login behind
 * the cookies, clears every cookie of the module and answers 303 to return_to (validated;
 * default: the logout page, which then says "signed out").
 */
#include <string.h>

#include <httpd.h>
#include <http_config.h>

#include <apr_strings.h>
#include <http_log.h>
#include <http_protocol.h>

#include "common/af_cookie.h"
#include "common/af_error.h"
#include "common/af_json.h"
#include "httpd/af_config.h"
#include "httpd/login.h"

APLOG_USE_MODULE(authflow);

static int same_origin(request_rec *r, const af_srv_conf_t *sc)
{
    const char *origin = apr_table_get(r->headers_in, "Origin");
    const char *site = apr_table_get(r->headers_in, "Sec-Fetch-Site");

    if (site != NULL && strcmp(site, "same-origin") != 0) {
        return 0;
    }
    if (origin != NULL) {
        return sc->r_base_url != NULL && strcasecmp(origin, sc->r_base_url) == 0;
    }
    return site != NULL;
}

static int json_reply(request_rec *r, int status, const char *reason)
{
    json_t *j = af_json_pool_own(json_pack("{s:s}", "error", reason), r->pool);

    return af_login_send(r, status, "application/json",
                         j ? af_json_dump(j, r->pool) : "{\"error\":\"internal_error\"}");
}

static void clear_login_cookies(request_rec *r, const af_srv_conf_t *sc)
{
    af_login_set_cookie(r, sc, sc->r_cookie_at, NULL, 0, 0);
    af_login_set_cookie(r, sc, sc->r_cookie_rt, NULL, 0, 0);
}

int af_handler_refresh(request_rec *r, af_srv_conf_t *sc)
{
    af_login_conf_t *lc = sc->login;
    apr_int64_t now = af_login_now(r, sc);
    af_store_rotation_t *rot = NULL;
    const af_store_family_t *fam;
    const char *rt = NULL, *at = NULL;
    json_t *claims = NULL;
    af_store_t *st;
    apr_status_t rv;

    if (!same_origin(r, sc)) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "AF08040: refresh: not same-origin");
        return json_reply(r, HTTP_FORBIDDEN, "cross_site");
    }
    rv = af_cookie_get(&rt, apr_table_get(r->headers_in, "Cookie"), sc->r_cookie_rt, r->pool);
    if (rv != APR_SUCCESS || af_token_refresh_check(rt, strlen(rt)) != APR_SUCCESS) {
        clear_login_cookies(r, sc);
        return json_reply(r, HTTP_UNAUTHORIZED, "no_refresh_token");
    }
    if (lc == NULL || lc->r_store == NULL || (st = af_login_store(r, sc)) == NULL) {
        return json_reply(r, HTTP_SERVICE_UNAVAILABLE, "store_unavailable");
    }
    rv = af_store_rotate(&rot, st, rt, strlen(rt), now, lc->r_reuse_grace, lc->r_refresh_idle, NULL,
                         NULL, r->pool);
    if (rv == AF_ESTORE_UNKNOWN || rv == AF_ESTORE_EXPIRED || rv == AF_ESTORE_REUSE) {
        ap_log_rerror(APLOG_MARK, rv == AF_ESTORE_REUSE ? APLOG_NOTICE : APLOG_INFO, 0, r,
                      "AF08041: refresh refused: %s%s", af_strerror(rv),
                      rv == AF_ESTORE_REUSE ? " (reuse detected: the login was revoked)" : "");
        clear_login_cookies(r, sc);
        return json_reply(r, HTTP_UNAUTHORIZED, af_strerror(rv));
    }
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "AF08042: refresh: store error: %s",
                      af_strerror(rv));
        return json_reply(r, HTTP_SERVICE_UNAVAILABLE, "store_unavailable");
    }
    fam = rot->family;
    if (fam->claims_json != NULL && *fam->claims_json != '\0' &&
        af_json_parse(&claims, fam->claims_json, strlen(fam->claims_json), AF_STORE_CLAIMS_MAX,
                      r->pool) != APR_SUCCESS) {
        claims = NULL;
    }
    rv = af_token_mint_access(&at, sc->signing_key, sc->r_issuer, sc->r_audience, fam->sub,
                              fam->sid, fam->provider, sc->r_access_ttl, now, claims,
                              lc->r_token_claims, strlen(sc->r_cookie_at), r->pool);
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "AF08043: refresh: cannot mint: %s",
                      af_strerror(rv));
        return json_reply(r, HTTP_INTERNAL_SERVER_ERROR, af_strerror(rv));
    }
    af_login_set_cookie(r, sc, sc->r_cookie_at, at, sc->r_access_ttl, 0);
    af_login_set_cookie(r, sc, sc->r_cookie_rt, rot->refresh_token, fam->expires - now, 0);
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "AF08044: refresh: login %s generation %u%s",
                  fam->sid, (unsigned) rot->generation, rot->replayed ? " (grace)" : "");
    af_login_std_headers(r);
    r->status = HTTP_NO_CONTENT;
    return OK;
}

static int logout_page(request_rec *r, const af_srv_conf_t *sc, int signed_in,
                       const char *return_to)
{
    static const char *const names[] = {"title", "message", "form"};
    const char *vals[3], *action;
    const char *tpl =
        sc->login && sc->login->r_tpl_logout ? sc->login->r_tpl_logout : af_login_tpl_logout;

    action = apr_pstrcat(r->pool, sc->r_base_url ? sc->r_base_url : "", sc->r_endpoint,
                         "/logout?return_to=", af_login_url_encode(return_to, r->pool), NULL);
    vals[0] = signed_in ? "Sign out" : "Signed out";
    vals[1] = signed_in ? "Do you want to sign out?" : "You are signed out.";
    vals[2] = !signed_in
                  ? ""
                  : apr_pstrcat(r->pool, "<form method=\"post\" action=\"",
                                af_login_html_escape(action, r->pool),
                                "\"><button type=\"submit\">Sign out</button></form>\n", NULL);
    return af_login_send(r, HTTP_OK, "text/html; charset=utf-8",
                         af_login_template(tpl, names, vals, 3, r->pool));
}

int af_handler_logout(request_rec *r, af_srv_conf_t *sc)
{
    static const char *const keys[] = {"return_to"};
    const char *vals[1], *why, *hdr = apr_table_get(r->headers_in, "Cookie"), *v = NULL;
    apr_int64_t now = af_login_now(r, sc);
    af_store_t *st;
    apr_status_t rv;
    int signed_in;

    if ((why = af_login_query(vals, keys, 1, r->args, r->pool)) != NULL) {
        return af_login_error_page(r, sc, HTTP_BAD_REQUEST, why, NULL);
    }
    signed_in = (af_cookie_get(&v, hdr, sc->r_cookie_at, r->pool) == APR_SUCCESS && *v) ||
                (af_cookie_get(&v, hdr, sc->r_cookie_rt, r->pool) == APR_SUCCESS && *v);
    if (r->method_number == M_GET) {
        return logout_page(r, sc, signed_in, af_login_return_to(sc, vals[0], r->pool));
    }
    if (!same_origin(r, sc)) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "AF08045: logout: not same-origin");
        return af_login_error_page(r, sc, HTTP_FORBIDDEN, "cross_site", NULL);
    }
    if (signed_in && sc->login != NULL && sc->login->r_store != NULL) {
        if ((st = af_login_store(r, sc)) == NULL) {
            return af_login_error_page(r, sc, HTTP_SERVICE_UNAVAILABLE, "store_unavailable", NULL);
        }
        if ((rv = af_login_revoke_current(r, sc, st, now)) != APR_SUCCESS) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "AF08046: logout: store error: %s",
                          af_strerror(rv));
            return af_login_error_page(r, sc, HTTP_SERVICE_UNAVAILABLE, "store_unavailable", NULL);
        }
    }
    clear_login_cookies(r, sc);
    af_login_set_cookie(r, sc, sc->r_cookie_flow, NULL, 0, 1);
    af_login_std_headers(r);
    apr_table_setn(r->headers_out, "Location",
                   vals[0] != NULL
                       ? af_login_return_url(sc, af_login_return_to(sc, vals[0], r->pool), r->pool)
                       : apr_pstrcat(r->pool, sc->r_base_url ? sc->r_base_url : "", sc->r_endpoint,
                                     "/logout", NULL));
    r->status = HTTP_SEE_OTHER;
    ap_set_content_length(r, 0);
    return OK;
}
