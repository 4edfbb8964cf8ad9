/* gate_fail.c -- what an unauthenticated request gets: a 302 to login or a 401.
 *
 * `auto`: browser navigations (Sec-Fetch-Mode: navigate, or Accept: text/html from a
 * client that sends no Sec-Fetch-* at all) are redirected to the login URL with
 * return_to = the original path and query (same origin, percent-encoded); everything else
 * gets 401, `WWW-Authenticate: Bearer error="invalid_token"` and a small JSON body
 * {"error": reason, "login_url": url}.  Both carry Cache-Control: no-store.
 * The reason is a stable code; no token material ever reaches the response or the log.
 */
#include <string.h>

#include <httpd.h>
#include <http_config.h>

#include <apr_lib.h>
#include <apr_strings.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>

#include "common/af_json.h"
#include "httpd/af_config.h"
#include "httpd/af_httpd.h"
#include "httpd/gate.h"
#include "httpd/login.h"

APLOG_USE_MODULE(authflow);

static int is_unreserved(unsigned char c)
{
    return apr_isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '/';
}

static const char *pct_encode(const char *s, apr_pool_t *p)
{
    static const char hex[] = "0123456789ABCDEF";
    apr_size_t n = strlen(s), i;
    char *out = apr_palloc(p, 3 * n + 1), *w = out;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char) s[i];

        if (is_unreserved(c) && c < 0x80) {
            *w++ = (char) c;
        } else {
            *w++ = '%';
            *w++ = hex[c >> 4];
            *w++ = hex[c & 15];
        }
    }
    *w = '\0';
    return out;
}

/* A token in the query (which the gate ignores, D13) is not copied into return_to. */
static int is_token_param(const char *b, apr_size_t n, apr_pool_t *p)
{
    static const char *const names[] = {"access_token", "id_token", "refresh_token", "code"};
    char *name = apr_pstrmemdup(p, b, n);
    apr_size_t i;

    if (strchr(name, '=') != NULL) {
        *strchr(name, '=') = '\0';
    }
    ap_unescape_url(name);
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcasecmp(name, names[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

static const char *drop_token_params(const char *u, apr_pool_t *p)
{
    const char *q = strchr(u, '?'), *b, *e;
    char *out, *w;
    int kept = 0;

    if (q == NULL) {
        return u;
    }
    out = w = apr_palloc(p, strlen(u) + 1);
    memcpy(w, u, (apr_size_t) (q - u));
    w += q - u;
    for (b = q + 1; *b != '\0'; b = *e ? e + 1 : e) {
        e = b + strcspn(b, "&");
        if (e == b || is_token_param(b, (apr_size_t) (e - b), p)) {
            continue;
        }
        *w++ = kept++ ? '&' : '?';
        memcpy(w, b, (apr_size_t) (e - b));
        w += e - b;
    }
    *w = '\0';
    return out;
}

/* The path + query the client first asked for, if it is a safe same-origin path. */
static const char *return_to(request_rec *r)
{
    const char *u;

    while (r->prev != NULL) {
        r = r->prev;
    }
    while (r->main != NULL) {
        r = r->main;
    }
    u = r->unparsed_uri;
    if (u == NULL || u[0] != '/' || u[1] == '/' || u[1] == '\\') {
        u = r->uri;
        if (u == NULL || u[0] != '/' || u[1] == '/' || u[1] == '\\') {
            return "/";
        }
        if (r->args != NULL) {
            u = apr_pstrcat(r->pool, u, "?", r->args, NULL);
        }
    }
    if (strchr(u, '#') != NULL) {
        u = apr_pstrmemdup(r->pool, u, (apr_size_t) (strchr(u, '#') - u));
    }
    return drop_token_params(u, r->pool);
}

const char *af_gate_login_url(request_rec *r, const af_srv_conf_t *sc, const af_dir_conf_t *dc)
{
    const char *base = sc->r_base_url ? sc->r_base_url : "", *url;

    if (dc->login == NULL) {
        url = apr_pstrcat(r->pool, base, sc->r_endpoint, "/login", NULL);
    } else if (strstr(dc->login, "://") != NULL) {
        url = dc->login;
    } else if (dc->login[0] == '/') {
        url = apr_pstrcat(r->pool, base, dc->login, NULL);
    } else {
        url = apr_pstrcat(r->pool, base, sc->r_endpoint,
                          "/login?provider=", pct_encode(dc->login, r->pool), NULL);
    }
    return apr_pstrcat(r->pool, url, strchr(url, '?') ? "&" : "?",
                       "return_to=", pct_encode(return_to(r), r->pool), NULL);
}

static int is_navigation(request_rec *r)
{
    const char *mode = apr_table_get(r->headers_in, "Sec-Fetch-Mode");
    const char *accept;

    if (mode != NULL) {
        return strcasecmp(mode, "navigate") == 0;
    }
    if (apr_table_get(r->headers_in, "Sec-Fetch-Dest") != NULL ||
        apr_table_get(r->headers_in, "Sec-Fetch-Site") != NULL) {
        return 0;
    }
    accept = apr_table_get(r->headers_in, "Accept");
    return accept != NULL && ap_strcasestr(accept, "text/html") != NULL;
}

int af_gate_fail(request_rec *r, const af_srv_conf_t *sc, const af_dir_conf_t *dc,
                 const char *reason)
{
    int mode = af_dir_unauth(dc);
    const char *login = af_gate_login_url(r, sc, dc), *body;
    json_t *j;

    apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
    if (mode == AF_UNAUTH_REDIRECT || (mode == AF_UNAUTH_AUTO && is_navigation(r))) {
        apr_table_setn(r->headers_out, "Location", login);
        return HTTP_MOVED_TEMPORARILY;
    }
    /* RFC 6750 3.1: no error code when no credentials were presented at all */
    apr_table_setn(r->err_headers_out, "WWW-Authenticate",
                   strcmp(reason, "no_token") == 0 ? "Bearer" : "Bearer error=\"invalid_token\"");
    if (r->main != NULL) {
        return HTTP_UNAUTHORIZED; /* a subrequest writes no body */
    }
    j = json_pack("{s:s, s:s}", "error", reason, "login_url", login);
    body = j ? af_json_dump(af_json_pool_own(j, r->pool), r->pool) : NULL;
    if (body == NULL) {
        return HTTP_UNAUTHORIZED;
    }
    if (ap_discard_request_body(r) != OK) {
        r->connection->keepalive = AP_CONN_CLOSE;
    }
    r->status = HTTP_UNAUTHORIZED;
    r->status_line = NULL;
    ap_set_content_type(r, "application/json");
    ap_set_content_length(r, (apr_off_t) strlen(body));
    if (!r->header_only) {
        ap_rwrite(body, (int) strlen(body), r);
    }
    return DONE;
}

int af_gate_unavailable(request_rec *r, const af_srv_conf_t *sc, const char *reason)
{
    const char *body;
    json_t *j;

    apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
    apr_table_setn(r->err_headers_out, "Retry-After", "5");
    if (r->main != NULL) {
        return HTTP_SERVICE_UNAVAILABLE; /* a subrequest writes no body */
    }
    if (ap_discard_request_body(r) != OK) {
        r->connection->keepalive = AP_CONN_CLOSE;
    }
    if (is_navigation(r)) {
        af_login_error_page(r, sc, HTTP_SERVICE_UNAVAILABLE, reason, NULL);
        return DONE;
    }
    j = json_pack("{s:s}", "error", reason);
    body = j ? af_json_dump(af_json_pool_own(j, r->pool), r->pool) : NULL;
    if (body == NULL) {
        return HTTP_SERVICE_UNAVAILABLE;
    }
    r->status = HTTP_SERVICE_UNAVAILABLE;
    r->status_line = NULL;
    ap_set_content_type(r, "application/json");
    ap_set_content_length(r, (apr_off_t) strlen(body));
    if (!r->header_only) {
        ap_rwrite(body, (int) strlen(body), r);
    }
    return DONE;
}
