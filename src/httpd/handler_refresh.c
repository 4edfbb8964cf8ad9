/* handler_refresh.c -- POST <endpoint>/refresh (the dispatch in handler.c allows POST only;
 * GET -> 405 with Allow: POST).
 *
 * Same-origin only (F07): Origin equal to the origin of AuthFlowBaseURL, or (without
 * Origin) Sec-Fetch-Site: same-origin; anything else is 403 with nothing changed and no
 * cookie.  Then one rotation (refresh.c, the same code as the gate's transparent refresh):
 *   success                              204, new -at and -rt cookies (no token in a body)
 *   no refresh cookie / unknown          401 {"error": ...}, cookies cleared
 *   expired, idle, revoked, reused       401, cookies cleared (reuse revoked the family)
 *   store failure (MDB_MAP_FULL, ...)    503, nothing written, no cookie
 */
#include <httpd.h>
#include <http_config.h>

#include <apr_strings.h>
#include <http_log.h>
#include <http_protocol.h>

#include "common/af_error.h"
#include "common/af_json.h"
#include "httpd/af_config.h"
#include "httpd/login.h"
#include "httpd/refresh.h"

APLOG_USE_MODULE(authflow);

static int reply(request_rec *r, int status, const char *reason)
{
    json_t *j = af_json_pool_own(json_pack("{s:s}", "error", reason), r->pool);

    return af_login_send(r, status, "application/json",
                         j ? af_json_dump(j, r->pool) : "{\"error\":\"internal_error\"}");
}

int af_refresh_endpoint(request_rec *r, af_srv_conf_t *sc)
{
    af_refresh_t *res = NULL;
    apr_status_t rv;

    if (!af_refresh_same_origin(r, sc)) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "AF09020: refresh: not same-origin");
        return reply(r, HTTP_FORBIDDEN, "cross_site");
    }
    rv = af_refresh_rotate(&res, r, sc, 0);
    if (rv == AF_ENOTFOUND) {
        af_refresh_clear_cookies(r, sc, 0);
        return reply(r, HTTP_UNAUTHORIZED, "no_refresh_token");
    }
    if (rv == AF_ESTORE_UNKNOWN || rv == AF_ESTORE_EXPIRED || rv == AF_ESTORE_REUSE ||
        rv == AF_ESTORE_REVOKED) {
        return reply(r, HTTP_UNAUTHORIZED, af_strerror(rv));
    }
    if (af_refresh_store_failed(rv)) {
        apr_table_unset(r->headers_out, "Set-Cookie");
        return reply(r, HTTP_SERVICE_UNAVAILABLE, "store_unavailable");
    }
    if (rv != APR_SUCCESS) {
        return reply(r, HTTP_INTERNAL_SERVER_ERROR, af_strerror(rv));
    }
    af_login_std_headers(r);
    r->status = HTTP_NO_CONTENT;
    return OK;
}
