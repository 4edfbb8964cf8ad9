/* handler.c -- SetHandler authflow: <endpoint>/login, callback, refresh, logout, jwks.json,
 * session, backchannel/NAME.  The route, the decision and the page are the core's
 * (af_session_route, af_session_handle); here the request body is read within its limit, and
 * the answer applied.  The path routed is the request's raw path (from r->unparsed_uri, before
 * decoding and slash merging): only exact names count (D09).
 */
#include <string.h>

#include <httpd.h>
#include <http_config.h>

#include <apr_strings.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>

#include "httpd/af_httpd.h"
#include "httpd/respond.h"

APLOG_USE_MODULE(authflow);

#define AF_BODY_MAX 16384 /* larger request bodies are refused */

/* Read the request body, at most AF_BODY_MAX bytes, into *body (NUL-terminated; NULL when
 * there is none): a body announced by Content-Length (larger: refused unread) or chunked
 * (H10: a small chunked body is fine, a large one is refused once the limit is passed).
 * @return OK or 413 */
static int read_body(request_rec *r, const char **body, apr_size_t *len)
{
    const char *cl = apr_table_get(r->headers_in, "Content-Length");
    apr_size_t total = 0;
    char *buf = NULL;
    long n;

    *body = NULL;
    *len = 0;
    if (cl != NULL && (strlen(cl) > 9 || apr_atoi64(cl) > AF_BODY_MAX)) {
        return HTTP_REQUEST_ENTITY_TOO_LARGE;
    }
    if (ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK) != OK) {
        r->connection->keepalive = AP_CONN_CLOSE;
        return OK; /* a malformed body: the answer closes the connection */
    }
    if (!ap_should_client_block(r)) {
        return OK;
    }
    buf = apr_palloc(r->pool, AF_BODY_MAX + 1);
    while ((n = ap_get_client_block(r, buf + total, AF_BODY_MAX + 1 - total)) > 0) {
        if ((total += (apr_size_t) n) > AF_BODY_MAX) {
            return HTTP_REQUEST_ENTITY_TOO_LARGE;
        }
    }
    if (n < 0) {
        r->connection->keepalive = AP_CONN_CLOSE;
        return OK; /* a broken body is no body */
    }
    buf[total] = '\0';
    *body = buf;
    *len = total;
    return OK;
}

static int authflow_handler(request_rec *r)
{
    const af_site_t *site;
    af_effects_t *eff;
    af_endpoint_t ep;
    af_req_in_t in;
    const char *path, *allow = NULL, *body = NULL;
    apr_size_t body_len = 0;
    apr_status_t rv;

    if (r->handler == NULL || strcmp(r->handler, "authflow") != 0) {
        return DECLINED;
    }
    site = af_srv_conf(r->server)->site;
    eff = af_effects_make(r->pool);
    /* the request-target as sent (r->parsed_uri.path has its slashes merged already) */
    path = r->unparsed_uri != NULL && r->unparsed_uri[0] == '/'
               ? apr_pstrmemdup(r->pool, r->unparsed_uri, strcspn(r->unparsed_uri, "?#"))
               : NULL;
    rv = af_session_route(&ep, &allow, site, path, r->method);
    if (rv != AF_ESESS_NOT_FOUND && read_body(r, &body, &body_len) != OK) {
        r->connection->keepalive = AP_CONN_CLOSE;
        rv = AF_ESESS_BODY_TOO_LARGE, allow = NULL;
    }
    if (rv != APR_SUCCESS) {
        eff->allow = allow;
        af_session_error(eff, site, rv, NULL, r->pool);
        return af_respond_handler(r, eff);
    }
    af_req_read(&in, r, site);
    in.raw_path = path;
    in.body = body;
    in.body_len = body_len;
    if (ep == AF_EP_PASSWORD) { /* the password form: the check is httpd's authn providers */
        af_session_handle_password(eff, site, &in, af_password_check, r, r->pool);
        return af_respond_handler(r, eff);
    }
    af_session_handle(eff, site, ep, &in, r->pool);
    return af_respond_handler(r, eff);
}

void af_handler_register_hooks(apr_pool_t *p)
{
    ap_hook_handler(authflow_handler, NULL, NULL, APR_HOOK_MIDDLE);
}
