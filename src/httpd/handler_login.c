/* handler_login.c -- GET <endpoint>/login?provider=NAME&return_to=URL
 *
 * The provider is the one named, or the only one configured; with several and none named
 * the chooser page is rendered (chooser.html).  return_to is kept only when it is a
 * same-origin path (one '/', not "//" or "/\", no control characters or backslashes) or an
 * absolute URL whose origin is AuthFlowBaseURL's or listed in AuthFlowReturnTo; anything
 * else becomes "/" (D08).  The flow (state, nonce, PKCE verifier, provider, return_to,
 * created) goes sealed into the flow cookie; the browser goes to the IdP (302, no-store).
 */
#include <string.h>

#include <httpd.h>
#include <http_config.h>

#include <apr_lib.h>
#include <apr_strings.h>
#include <http_log.h>
#include <http_protocol.h>

#include "common/af_error.h"
#include "httpd/af_config.h"
#include "httpd/login.h"

APLOG_USE_MODULE(authflow);

static int hexval(char c)
{
    return apr_isdigit(c) ? c - '0' : apr_isxdigit(c) ? (apr_tolower(c) - 'a' + 10) : -1;
}

/* x-www-form-urlencoded decoding; NULL on a bad escape or NUL. */
static char *form_decode(const char *s, apr_size_t len, apr_pool_t *p)
{
    char *out = apr_palloc(p, len + 1), *w = out;
    apr_size_t i;
    int hi, lo;

    for (i = 0; i < len; i++) {
        if (s[i] == '+') {
            *w++ = ' ';
        } else if (s[i] == '%') {
            if (i + 2 >= len) {
                return NULL;
            }
            hi = hexval(s[i + 1]);
            lo = hi < 0 ? -1 : hexval(s[i + 2]);
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                return NULL;
            }
            *w++ = (char) (hi * 16 + lo);
            i += 2;
        } else {
            *w++ = s[i];
        }
    }
    *w = '\0';
    return out;
}

const char *af_login_query(const char **vals, const char *const *keys, int n, const char *query,
                           apr_pool_t *p)
{
    const char *c = query, *amp, *eq;
    apr_size_t len, klen;
    int count = 0, i;
    char *k;

    for (i = 0; i < n; i++) {
        vals[i] = NULL;
    }
    if (query == NULL || *query == '\0') {
        return NULL;
    }
    while (c != NULL) {
        if (++count > AF_LOGIN_QUERY_MAX_PARAMS) {
            return "too_many_parameters";
        }
        amp = strchr(c, '&');
        len = amp ? (apr_size_t) (amp - c) : strlen(c);
        if (len == 0) {
            return "empty_parameter";
        }
        eq = memchr(c, '=', len);
        klen = eq ? (apr_size_t) (eq - c) : len;
        if ((k = form_decode(c, klen, p)) == NULL) {
            return "bad_escape";
        }
        for (i = 0; i < n; i++) {
            if (strcmp(k, keys[i]) != 0) {
                continue;
            }
            if (vals[i] != NULL) {
                return "duplicate_parameter";
            }
            vals[i] = eq ? form_decode(eq + 1, len - klen - 1, p) : "";
            if (vals[i] == NULL) {
                return "bad_escape";
            }
        }
        c = amp ? amp + 1 : NULL;
    }
    return NULL;
}

static int origin_allowed(const af_srv_conf_t *sc, const char *origin)
{
    const af_login_conf_t *lc = sc->login;
    int i;

    if (sc->r_base_url != NULL && strcasecmp(origin, sc->r_base_url) == 0) {
        return 1;
    }
    for (i = 0; lc && lc->return_to && i < lc->return_to->nelts; i++) {
        if (strcasecmp(origin, APR_ARRAY_IDX(lc->return_to, i, const char *)) == 0) {
            return 1;
        }
    }
    return 0;
}

const char *af_login_return_to(const af_srv_conf_t *sc, const char *rt, apr_pool_t *p)
{
    const char *c, *host, *path;
    apr_size_t n;

    if (rt == NULL || *rt == '\0' || strlen(rt) > AF_LOGIN_RETURN_TO_MAX) {
        return "/";
    }
    for (c = rt; *c; c++) {
        if ((unsigned char) *c <= 0x20 || (unsigned char) *c == 0x7f || *c == '\\') {
            return "/";
        }
    }
    if (rt[0] == '/') {
        return rt[1] == '/' ? "/" : rt;
    }
    if (strncasecmp(rt, "https://", 8) == 0) {
        host = rt + 8;
    } else if (strncasecmp(rt, "http://", 7) == 0) {
        host = rt + 7;
    } else {
        return "/";
    }
    n = strcspn(host, "/?#");
    if (n == 0 || memchr(host, '@', n) != NULL) {
        return "/";
    }
    path = host + n;
    if (!origin_allowed(sc, apr_pstrmemdup(p, rt, (apr_size_t) (path - rt)))) {
        return "/";
    }
    return *path == '/'
               ? rt
               : apr_pstrcat(p, apr_pstrmemdup(p, rt, (apr_size_t) (path - rt)), "/", path, NULL);
}

const char *af_login_return_url(const af_srv_conf_t *sc, const char *rt, apr_pool_t *p)
{
    if (rt == NULL || rt[0] != '/' || rt[1] == '/' || rt[1] == '\\') {
        return rt != NULL && rt[0] != '/' ? rt : apr_pstrcat(p, sc->r_base_url, "/", NULL);
    }
    return apr_pstrcat(p, sc->r_base_url, rt, NULL);
}

af_oidc_provider_t *af_login_provider(const af_srv_conf_t *sc, const char *name)
{
    const af_login_conf_t *lc = sc->login;
    int i;

    for (i = 0; lc && lc->r_providers && i < lc->r_providers->nelts; i++) {
        af_oidc_provider_t *pv = APR_ARRAY_IDX(lc->r_providers, i, af_oidc_provider_t *);

        if (strcmp(pv->name, name) == 0) {
            return pv;
        }
    }
    return NULL;
}

static int chooser(request_rec *r, const af_srv_conf_t *sc, const char *return_to)
{
    static const char *const names[] = {"providers", "return_to"};
    const af_login_conf_t *lc = sc->login;
    const char *vals[2], *items = "", *href;
    int i;

    for (i = 0; i < lc->r_providers->nelts; i++) {
        const af_oidc_provider_t *pv = APR_ARRAY_IDX(lc->r_providers, i, af_oidc_provider_t *);

        href = apr_pstrcat(r->pool, sc->r_base_url, sc->r_endpoint,
                           "/login?provider=", af_login_url_encode(pv->name, r->pool),
                           "&return_to=", af_login_url_encode(return_to, r->pool), NULL);
        items = apr_pstrcat(r->pool, items, "<li><a href=\"", af_login_html_escape(href, r->pool),
                            "\">", af_login_html_escape(pv->name, r->pool), "</a></li>\n", NULL);
    }
    vals[0] = items;
    vals[1] = af_login_html_escape(return_to, r->pool);
    return af_login_send(r, HTTP_OK, "text/html; charset=utf-8",
                         af_login_template(lc->r_tpl_chooser, names, vals, 2, r->pool));
}

int af_handler_login(request_rec *r, af_srv_conf_t *sc)
{
    static const char *const keys[] = {"provider", "return_to"};
    const char *vals[2], *why, *return_to, *auth_url = NULL;
    af_login_conf_t *lc = sc->login;
    af_oidc_provider_t *pv = NULL;
    af_oidc_flow_t *flow = NULL;
    apr_array_header_t *flows;
    apr_int64_t now = af_login_now(r, sc);
    apr_status_t rv;
    int n = lc && lc->r_providers ? lc->r_providers->nelts : 0;

    if ((why = af_login_query(vals, keys, 2, r->args, r->pool)) != NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "AF08010: login: bad query (%s)", why);
        return af_login_error_page(r, sc, HTTP_BAD_REQUEST, why, NULL);
    }
    if (n == 0 || sc->r_base_url == NULL) {
        return af_login_error_page(r, sc, HTTP_NOT_FOUND, "no_provider", NULL);
    }
    return_to = af_login_return_to(sc, vals[1], r->pool);
    if (vals[0] != NULL) {
        if ((pv = af_login_provider(sc, vals[0])) == NULL) {
            return af_login_error_page(r, sc, HTTP_BAD_REQUEST, "unknown_provider", NULL);
        }
    } else if (n == 1) {
        pv = APR_ARRAY_IDX(lc->r_providers, 0, af_oidc_provider_t *);
    } else {
        return chooser(r, sc, return_to);
    }
    if (lc->r_seal == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "AF08011: login: no store secret");
        return af_login_error_page(r, sc, HTTP_SERVICE_UNAVAILABLE, "store_unavailable", NULL);
    }
    rv = af_oidc_login_start(&auth_url, &flow, pv, return_to, now, r->pool);
    if (rv == AF_EOIDC_IDP_BUSY || rv == AF_EOIDC_IDP_UNAVAILABLE) {
        /* the outbound guard said no at once (limit reached, or the IdP's circuit open) */
        apr_table_setn(r->headers_out, "Retry-After",
                       apr_psprintf(r->pool, "%" APR_INT64_T_FMT, af_oidc_idp_retry_after(pv)));
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "AF08043: login refused: %s, provider %s",
                      af_strerror(rv), pv->name);
        return af_login_error_page(r, sc, af_oidc_status(rv), af_strerror(rv), NULL);
    }
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "AF08012: login: provider %s: %s", pv->name,
                      af_strerror(rv));
        return af_login_error_page(r, sc, af_oidc_status(rv), af_strerror(rv), NULL);
    }
    flows = af_login_flows_read(r, sc, now);
    APR_ARRAY_PUSH(flows, af_oidc_flow_t *) = flow;
    if ((rv = af_login_flows_write(r, sc, flows, now)) != APR_SUCCESS) {
        apr_table_unset(r->headers_out, "Set-Cookie");
        return af_login_error_page(r, sc, HTTP_INTERNAL_SERVER_ERROR, af_strerror(rv), NULL);
    }
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "AF08013: login: to provider %s", pv->name);
    return af_login_redirect(r, auth_url);
}
