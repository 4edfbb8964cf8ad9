/* session_endpoints.c -- the SetHandler authflow endpoints other than login / callback:
 * routing, refresh (F07, G02-G08), logout (F08, G09, E19), session, jwks.json. */
#include <string.h>

#include <apr_strings.h>
#include <openssl/crypto.h>

#include "common/af_cookie.h"
#include "common/af_form.h"
#include "common/af_json.h"
#include "common/af_log.h"
#include "common/af_parse.h"
#include "common/af_url.h"
#include "session/af_session.h"

/* ---- routing ------------------------------------------------------------------------------ */

#define GET  1
#define POST 2

static const struct {
    const char *name;
    af_endpoint_t ep;
    int methods;
    const char *allow;
} endpoints[] = {
    {"login", AF_EP_LOGIN, GET | POST, "GET, HEAD, POST"},
    {"callback", AF_EP_CALLBACK, GET | POST, "GET, HEAD, POST"},
    {"jwks.json", AF_EP_JWKS, GET, "GET, HEAD"},
    {"session", AF_EP_SESSION, GET, "GET, HEAD"},
    {"refresh", AF_EP_REFRESH, POST, "POST"},
    {"logout", AF_EP_LOGOUT, GET | POST, "GET, HEAD, POST"},
    {"denied", AF_EP_DENIED, GET, "GET, HEAD"},
};

/* POST-only endpoints that name a provider: <endpoint>/<prefix>NAME */
static const struct {
    const char *prefix;
    af_endpoint_t ep;
} named[] = {
    {"backchannel/", AF_EP_BACKCHANNEL}, /* OpenID Connect Back-Channel Logout */
    {"events/", AF_EP_EVENTS},           /* provider account events */
};

static int has_password_provider(const af_site_t *site)
{
    int i;

    for (i = 0; site->providers != NULL && i < site->providers->nelts; i++) {
        if (APR_ARRAY_IDX(site->providers, i, af_oidc_provider_t *)->kind ==
            AF_OIDC_KIND_PASSWORD) {
            return 1;
        }
    }
    return 0;
}

apr_status_t af_session_route(af_endpoint_t *ep, const char **allow, const af_site_t *site,
                              const char *raw_path, const char *method)
{
    apr_size_t n = strlen(site->endpoint), i;
    int m = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0 ? GET
            : strcmp(method, "POST") == 0                             ? POST
                                                                      : 0;
    const char *rest;

    *allow = NULL;
    /* the path as sent, only exact matches (D09): /auth/callback/x, /auth/callback;x,
     * /auth//callback are not the callback */
    if (raw_path == NULL || strncmp(raw_path, site->endpoint, n) != 0 || raw_path[n] != '/') {
        return AF_ESESS_NOT_FOUND;
    }
    rest = raw_path + n + 1;
    /* <prefix>NAME (one segment): NAME is checked against the providers by the endpoint */
    for (i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
        apr_size_t k = strlen(named[i].prefix);
        if (strncmp(rest, named[i].prefix, k) == 0 && rest[k] != '\0' &&
            strchr(rest + k, '/') == NULL) {
            if (m != POST) {
                *allow = "POST";
                return AF_ESESS_METHOD;
            }
            *ep = named[i].ep;
            return APR_SUCCESS;
        }
    }
    for (i = 0; i < sizeof(endpoints) / sizeof(endpoints[0]); i++) {
        if (strcmp(rest, endpoints[i].name) != 0) {
            continue;
        }
        if (!(endpoints[i].methods & m)) {
            *allow = endpoints[i].allow;
            return AF_ESESS_METHOD;
        }
        *ep = endpoints[i].ep;
        if (*ep == AF_EP_LOGIN && m == POST) {
            if (!has_password_provider(site)) { /* no form to post: as before */
                *allow = "GET, HEAD";
                return AF_ESESS_METHOD;
            }
            *ep = AF_EP_PASSWORD; /* the password form */
        }
        return APR_SUCCESS;
    }
    return AF_ESESS_NOT_FOUND;
}

/* ---- refresh --------------------------------------------------------------------------------- */

void af_session_refresh(af_effects_t *eff, const af_site_t *site, const af_req_in_t *in,
                        apr_pool_t *p)
{
    af_rotated_t *res = NULL;
    apr_status_t rv;

    if (!af_session_same_origin(site, in->origin, in->sec_fetch_site)) {
        af_log_p(p, AF_LOG_INFO, "AF09020", "refresh: not same-origin");
        af_session_json_error(eff, AF_ESESS_CROSS_SITE, p);
        return;
    }
    rv = af_session_rotate(&res, eff, site, in, 0, p);
    if (rv == AF_ESESS_NO_REFRESH) {
        af_session_clear_login_cookies(eff, site, p);
        af_session_json_error(eff, rv, p);
        return;
    }
    if (af_session_store_failed(rv)) {
        apr_array_clear(eff->cookies); /* nothing changed */
        af_session_json_error(eff, AF_ESESS_STORE, p);
        return;
    }
    if (rv != APR_SUCCESS) {
        af_session_json_error(eff, rv, p); /* 401 (cookies cleared) or 500 */
        return;
    }
    eff->status = 204;
}

/* ---- session and jwks.json ---------------------------------------------------------------- */

void af_session_info(af_effects_t *eff, const af_site_t *site, const af_req_in_t *in, apr_pool_t *p)
{
    const char *v = NULL, *sid;
    json_t *claims = NULL;
    af_store_t *st;
    apr_status_t rv;

    rv = af_cookie_get(&v, in->cookie, site->cookie_at, p);
    if (rv != APR_SUCCESS || *v == '\0') {
        af_session_json_error(eff, AF_ESESS_NO_SESSION, p);
        return;
    }
    rv = af_session_verify_own(&claims, site, v, strlen(v), in->now, p);
    if (rv != APR_SUCCESS) {
        af_log_p(p, AF_LOG_INFO, "AF08030", "session: %s", af_strerror(rv));
        af_session_json_error(eff, AF_ESESS_INVALID_SESSION, p);
        return;
    }
    sid = json_string_value(json_object_get(claims, "sid"));
    if (sid != NULL && site->has_store) {
        if ((st = af_site_store(site)) == NULL) {
            af_session_json_error(eff, AF_ESESS_STORE, p);
            return;
        }
        rv = af_session_is_revoked(site, st, sid, in->now);
        if (rv == AF_ESTORE_REVOKED || rv == AF_ESTORE_UNKNOWN) {
            af_session_json_error(eff, AF_ESESS_SESSION_REVOKED, p);
            return;
        }
        if (rv != APR_SUCCESS) {
            af_session_json_error(eff, AF_ESESS_STORE, p);
            return;
        }
    }
    eff->status = 200;
    eff->body_kind = AF_BODY_JSON;
    if ((eff->body = af_json_dump(claims, p)) == NULL) {
        af_session_json_error(eff, AF_EINTERNAL, p);
    }
}

void af_session_jwks(af_effects_t *eff, const af_site_t *site, apr_pool_t *p)
{
    json_t *doc = af_json_pool_own(json_object(), p), *keys = json_array(), *jwk;
    int i;

    json_object_set_new(doc, "keys", keys);
    for (i = 0; site->own_keys != NULL && i < site->own_keys->keys->nelts; i++) {
        const af_key_t *k = APR_ARRAY_IDX(site->own_keys->keys, i, const af_key_t *);

        if (k->kty != AF_KTY_OCT && af_key_to_public_jwk(&jwk, k, p) == APR_SUCCESS) {
            json_array_append(keys, jwk); /* symmetric keys are never published */
        }
    }
    eff->status = 200;
    eff->body_kind = AF_BODY_JSON;
    eff->content_type = "application/jwk-set+json";
    eff->cache_control = "public, max-age=300";
    if ((eff->body = af_json_dump(doc, p)) == NULL) {
        af_session_json_error(eff, AF_EINTERNAL, p);
    }
}

/* ---- logout ---------------------------------------------------------------------------------- */

static const char *self_url(const af_site_t *site, apr_pool_t *p)
{
    return apr_pstrcat(p, site->base_url ? site->base_url : "", site->endpoint, "/logout", NULL);
}

static void see_other(af_effects_t *eff, const char *url)
{
    eff->status = 303;
    eff->location = url;
}

/* GET without state: a confirmation page with a POST form (an <img src> or a link cannot
 * sign anybody out, F08); form-action also allows the IdP (redirect). */
static void page(af_effects_t *eff, const af_site_t *site, int signed_in, const char *return_to,
                 apr_pool_t *p)
{
    static const char *const names[] = {"title", "message", "form"};
    const char *vals[3];

    static const char *const text[AF_LANG_N][4] = {
        {"Sign out", "Signed out", "Do you want to sign out?", "You are signed out."},
        {"로그아웃", "로그아웃됨", "로그아웃하시겠습니까?", "로그아웃되었습니다."}};
    const char *const *t = text[(unsigned) eff->lang < AF_LANG_N ? eff->lang : AF_LANG_EN];

    vals[0] = signed_in ? t[0] : t[1];
    vals[1] = signed_in ? t[2] : t[3];
    vals[2] = !signed_in ? ""
                         : apr_pstrcat(p, "<form method=\"post\" action=\"",
                                       af_html_escape(self_url(site, p), p),
                                       "?return_to=", af_url_encode(return_to, p),
                                       "\"><button class=\"b primary\" type=\"submit\">", t[0],
                                       "</button></form>\n", NULL);
    eff->status = 200;
    eff->body_kind = AF_BODY_HTML;
    eff->body =
        af_session_template(af_session_tpl(site, eff->lang, AF_PAGE_LOGOUT), names, vals, 3, p);
    eff->csp = af_session_page_csp(eff->body, "'self' https: http:", p);
    eff->referrer_policy = "same-origin"; /* Origin on the POST */
}

/* The provider of the current login: the verified access token's idp claim; *sid its sid. */
static af_oidc_provider_t *current_provider(const char **sid, const af_site_t *site,
                                            const af_req_in_t *in, apr_pool_t *p)
{
    const char *v = NULL;
    json_t *claims = NULL;

    if (af_cookie_get(&v, in->cookie, site->cookie_at, p) != APR_SUCCESS || *v == '\0' ||
        af_session_verify_own(&claims, site, v, strlen(v), in->now, p) != APR_SUCCESS) {
        return NULL;
    }
    *sid = json_string_value(json_object_get(claims, "sid"));
    return af_session_provider(site, json_string_value(json_object_get(claims, "idp")));
}

/* The IdP's end_session_endpoint URL (OIDC RP-Initiated Logout 1.0) with client_id,
 * post_logout_redirect_uri, a fresh state (sealed in the -logout cookie with return_to) and
 * id_token_hint; NULL when the provider has none. */
static const char *end_session_url(af_effects_t *eff, const af_site_t *site, af_oidc_provider_t *pv,
                                   const char *return_to, const char *hint, apr_int64_t now,
                                   apr_pool_t *p)
{
    const af_oidc_meta_t *meta = NULL;
    const char *ep, *state = NULL, *blob = NULL, *txt;
    json_t *j;

    if (pv == NULL || site->logout_key == NULL ||
        af_oidc_meta_get(&meta, pv, now, p) != APR_SUCCESS) {
        return NULL;
    }
    ep = meta->end_session_endpoint ? meta->end_session_endpoint : pv->end_session_endpoint;
    if (ep == NULL || *ep == '\0' || af_oidc_random(&state, 16, p) != APR_SUCCESS) {
        return NULL;
    }
    j = af_json_pool_own(json_pack("{s:s, s:s}", "state", state, "return_to", return_to), p);
    if (j == NULL || (txt = af_json_dump(j, p)) == NULL ||
        af_token_seal(&blob, site->logout_key, txt, strlen(txt), now, AF_SESSION_LOGOUT_MAX_AGE,
                      p) != APR_SUCCESS) {
        return NULL;
    }
    af_effects_cookie(eff, af_session_set_cookie(site, site->cookie_logout, blob,
                                                 AF_SESSION_LOGOUT_MAX_AGE, 1, p));
    if (pv->preset == AF_OIDC_PRESET_KAKAO) {
        /* Kakao logout (not RP-initiated logout): /oauth/logout?client_id&logout_redirect_uri,
         * Kakao sends the browser back with our state */
        return apr_pstrcat(
            p, ep, strchr(ep, '?') ? "&" : "?", "client_id=", af_url_encode(pv->client_id, p),
            "&logout_redirect_uri=", af_url_encode(self_url(site, p), p), "&state=", state, NULL);
    }
    return apr_pstrcat(
        p, ep, strchr(ep, '?') ? "&" : "?", "client_id=", af_url_encode(pv->client_id, p),
        "&post_logout_redirect_uri=", af_url_encode(self_url(site, p), p), "&state=", state,
        hint ? "&id_token_hint=" : "", hint ? af_url_encode(hint, p) : "", NULL);
}

/* E19: the IdP sends the browser back with our state. */
static void idp_return(af_effects_t *eff, const af_site_t *site, const af_req_in_t *in,
                       const char *state, apr_pool_t *p)
{
    const char *blob = NULL, *want, *rt;
    unsigned char *data = NULL;
    apr_size_t len = 0;
    json_t *doc = NULL;

    af_effects_cookie(eff, af_session_set_cookie(site, site->cookie_logout, NULL, 0, 1, p));
    if (site->logout_key == NULL ||
        af_cookie_get(&blob, in->cookie, site->cookie_logout, p) != APR_SUCCESS ||
        af_token_unseal(&data, &len, site->logout_key, blob, strlen(blob), in->now, p) !=
            APR_SUCCESS ||
        af_json_parse(&doc, (const char *) data, len, AF_COOKIE_MAX, p) != APR_SUCCESS ||
        (want = json_string_value(json_object_get(doc, "state"))) == NULL ||
        strlen(want) != strlen(state) || CRYPTO_memcmp(want, state, strlen(state)) != 0) {
        af_log_p(p, AF_LOG_INFO, "AF09030", "logout: foreign or stale state");
        af_session_error(eff, site, AF_ESESS_LOGOUT_STATE, NULL, p);
        return;
    }
    rt = json_string_value(json_object_get(doc, "return_to"));
    see_other(eff, rt && *rt ? af_session_return_url(site, rt, p) : self_url(site, p));
}

void af_session_logout(af_effects_t *eff, const af_site_t *site, const af_req_in_t *in,
                       apr_pool_t *p)
{
    static const char *const keys[] = {"return_to", "state"};
    const char *vals[2], *v = NULL, *rt, *idp_url = NULL, *sid = NULL, *hint = NULL;
    af_oidc_provider_t *pv;
    af_store_t *st;
    apr_status_t rv;
    int signed_in;

    if ((rv = af_form_get(vals, keys, 2, in->query, p)) != APR_SUCCESS) {
        af_session_error(eff, site, rv, NULL, p);
        return;
    }
    signed_in = (af_cookie_get(&v, in->cookie, site->cookie_at, p) == APR_SUCCESS && *v) ||
                (af_cookie_get(&v, in->cookie, site->cookie_rt, p) == APR_SUCCESS && *v);
    rt = af_session_return_to(site, vals[0], p);
    if (strcmp(in->method, "POST") != 0) {
        if (vals[1] != NULL) {
            idp_return(eff, site, in, vals[1], p);
        } else {
            page(eff, site, signed_in, rt, p);
        }
        return;
    }
    if (!af_session_same_origin(site, in->origin, in->sec_fetch_site)) {
        af_log_p(p, AF_LOG_INFO, "AF09031", "logout: not same-origin");
        af_session_error(eff, site, AF_ESESS_CROSS_SITE, NULL, p);
        return;
    }
    pv = signed_in ? current_provider(&sid, site, in, p) : NULL;
    if (signed_in && site->has_store) {
        if ((st = af_site_store(site)) == NULL) {
            af_session_error(eff, site, AF_ESESS_STORE, NULL, p);
            return;
        }
        if (pv != NULL) {
            hint = af_session_idt_hint(site, st, sid, in->now, p);
        }
        if ((rv = af_session_revoke_current(site, in, st, "logout", p)) != APR_SUCCESS) {
            af_log_p(p, af_session_store_loglevel(rv), "AF09032", "logout: store error: %s",
                     af_strerror(rv));
            af_session_error(eff, site, AF_ESESS_STORE, NULL, p);
            return;
        }
    }
    af_session_clear_login_cookies(eff, site, p);
    af_effects_cookie(eff, af_session_set_cookie(site, site->cookie_flow, NULL, 0, 1, p));
    if (pv != NULL) {
        idp_url = end_session_url(eff, site, pv, rt, hint, in->now, p);
    }
    if (idp_url == NULL) {
        af_effects_cookie(eff, af_session_set_cookie(site, site->cookie_logout, NULL, 0, 1, p));
    }
    af_log_p(p, AF_LOG_INFO, "AF09033", "logout%s%s", pv ? ": provider " : "", pv ? pv->name : "");
    see_other(eff, idp_url           ? idp_url
                   : vals[0] != NULL ? af_session_return_url(site, rt, p)
                                     : self_url(site, p));
}

/* ---- dispatch ------------------------------------------------------------------------------- */

void af_session_handle(af_effects_t *eff, const af_site_t *site, af_endpoint_t ep,
                       const af_req_in_t *in, apr_pool_t *p)
{
    switch (ep) {
    case AF_EP_LOGIN:
        af_session_login(eff, site, in, p);
        if (eff->status == 302) {
            af_metrics_count(site->metrics, AF_M_LOGINS_STARTED);
        } else if (eff->reason != APR_SUCCESS) {
            af_metrics_reason(site->metrics, AF_MR_LOGIN_FAILED, eff->reason);
        }
        break;
    case AF_EP_CALLBACK:
        af_session_callback(eff, site, in, p);
        if (eff->reason == APR_SUCCESS && eff->status < 400) {
            af_metrics_count(site->metrics, AF_M_LOGINS_COMPLETED);
        } else {
            af_metrics_reason(site->metrics, AF_MR_LOGIN_FAILED,
                              eff->reason != APR_SUCCESS ? eff->reason : AF_EINTERNAL);
        }
        break;
    case AF_EP_JWKS:
        af_session_jwks(eff, site, p);
        break;
    case AF_EP_SESSION:
        af_session_info(eff, site, in, p);
        break;
    case AF_EP_REFRESH:
        af_session_refresh(eff, site, in, p);
        af_metrics_reason(site->metrics, AF_MR_REFRESH,
                          eff->status == 204           ? APR_SUCCESS
                          : eff->reason != APR_SUCCESS ? eff->reason
                                                       : AF_EINTERNAL);
        break;
    case AF_EP_LOGOUT:
        af_session_logout(eff, site, in, p);
        break;
    case AF_EP_BACKCHANNEL:
        af_session_backchannel(eff, site, in, p);
        break;
    case AF_EP_EVENTS:
        af_session_events(eff, site, in, p);
        break;
    case AF_EP_DENIED:
        af_session_denied(eff, site, in, p);
        break;
    case AF_EP_PASSWORD: /* the glue passes its password check: without one, none works */
        af_session_handle_password(eff, site, in, NULL, NULL, p);
        break;
    }
}

void af_session_handle_password(af_effects_t *eff, const af_site_t *site, const af_req_in_t *in,
                                af_pw_check_fn *check, void *baton, apr_pool_t *p)
{
    af_session_password_login(eff, site, in, check, baton, p);
    if (eff->status == 303) {
        af_metrics_count(site->metrics, AF_M_LOGINS_COMPLETED);
    } else {
        af_metrics_reason(site->metrics, AF_MR_LOGIN_FAILED,
                          eff->reason != APR_SUCCESS ? eff->reason : AF_EINTERNAL);
    }
}
