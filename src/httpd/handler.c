/* handler.c -- SetHandler authflow: a dispatch table on the path below AuthFlowEndpoint,
 * and the hooks of the login part (store lifecycle, the sweep).
 *
 * The path compared is the request's raw path (from r->unparsed_uri, before decoding and
 * slash merging), and only exact matches count: /auth/callback is the callback, while
 * /auth/callback/x, /auth/callback;x, /auth/callback%2F.., /auth//callback are not (404,
 * D09).  The handler must be mounted at AuthFlowEndpoint (default /auth).
 */
#include <string.h>

#include <httpd.h>
#include <http_config.h>

#include <apr_strings.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>

#include "httpd/af_config.h"
#include "httpd/af_httpd.h"
#include "httpd/login.h"
#include "httpd/refresh.h"

APLOG_USE_MODULE(authflow);

typedef int af_endpoint_fn(request_rec *r, af_srv_conf_t *sc);

#define GET  (AP_METHOD_BIT << M_GET)
#define POST (AP_METHOD_BIT << M_POST)

static const struct {
    const char *name;
    af_endpoint_fn *fn;
    apr_int64_t methods;
    const char *allow;
} endpoints[] = {
    {"login", af_handler_login, GET, "GET, HEAD"},
    {"callback", af_handler_callback, GET, "GET, HEAD"},
    {"jwks.json", af_handler_jwks, GET, "GET, HEAD"},
    {"session", af_handler_session, GET, "GET, HEAD"},
    {"refresh", af_refresh_endpoint, POST, "POST"},
    {"logout", af_logout_endpoint, GET | POST, "GET, HEAD, POST"},
};

#define AF_BODY_MAX 16384 /* the endpoints read no body; larger ones are refused */

/* Read and drop the request body, at most AF_BODY_MAX bytes: a body announced by
 * Content-Length (checked by the caller) or chunked (H10: a small chunked body is fine,
 * a large one is refused without reading it all).  @return OK or 413 */
static int discard_body(request_rec *r)
{
    char buf[4096];
    apr_off_t total = 0;
    long n;

    if (ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK) != OK) {
        r->connection->keepalive = AP_CONN_CLOSE;
        return OK; /* a malformed body: the answer closes the connection */
    }
    if (!ap_should_client_block(r)) {
        return OK;
    }
    while ((n = ap_get_client_block(r, buf, sizeof(buf))) > 0) {
        total += n;
        if (total > AF_BODY_MAX) {
            return HTTP_REQUEST_ENTITY_TOO_LARGE;
        }
    }
    if (n < 0) {
        r->connection->keepalive = AP_CONN_CLOSE;
    }
    return OK;
}

static int authflow_handler(request_rec *r)
{
    af_srv_conf_t *sc;
    const char *path, *rest, *cl;
    apr_size_t n;
    unsigned i;

    if (r->handler == NULL || strcmp(r->handler, "authflow") != 0) {
        return DECLINED;
    }
    sc = af_srv_conf(r->server);
    /* the request-target as sent (r->parsed_uri.path has its slashes merged already) */
    path = r->unparsed_uri != NULL && r->unparsed_uri[0] == '/'
               ? apr_pstrmemdup(r->pool, r->unparsed_uri, strcspn(r->unparsed_uri, "?#"))
               : NULL;
    n = strlen(sc->r_endpoint);
    if (path == NULL || strncmp(path, sc->r_endpoint, n) != 0 || path[n] != '/') {
        return af_login_error_page(r, sc, HTTP_NOT_FOUND, "not_found", NULL);
    }
    rest = path + n + 1;
    for (i = 0; i < sizeof(endpoints) / sizeof(endpoints[0]); i++) {
        if (strcmp(rest, endpoints[i].name) != 0) {
            continue;
        }
        cl = apr_table_get(r->headers_in, "Content-Length");
        if ((cl != NULL && (strlen(cl) > 9 || apr_atoi64(cl) > AF_BODY_MAX)) ||
            discard_body(r) == HTTP_REQUEST_ENTITY_TOO_LARGE) {
            r->connection->keepalive = AP_CONN_CLOSE;
            return af_login_error_page(r, sc, HTTP_REQUEST_ENTITY_TOO_LARGE, "body_too_large",
                                       NULL);
        }
        if (!(endpoints[i].methods & (AP_METHOD_BIT << r->method_number))) {
            apr_table_setn(r->headers_out, "Allow", endpoints[i].allow);
            return af_login_error_page(r, sc, HTTP_METHOD_NOT_ALLOWED, "method_not_allowed", NULL);
        }
        return endpoints[i].fn(r, sc);
    }
    return af_login_error_page(r, sc, HTTP_NOT_FOUND, "not_found", NULL);
}

static int post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    return af_login_post_config(pconf, s);
}

static int sweep_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    return af_login_sweep_post_config(pconf, s);
}

static void child_init(apr_pool_t *pchild, server_rec *s)
{
    af_login_child_init(pchild, s);
}

void af_handler_register_hooks(apr_pool_t *p)
{
    ap_hook_handler(authflow_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(post_config, NULL, NULL, APR_HOOK_LAST);
    /* before mod_watchdog's own post_config (APR_HOOK_LAST), which starts what is registered */
    ap_hook_post_config(sweep_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(child_init, NULL, NULL, APR_HOOK_MIDDLE);
}
