/* refresh.h -- refresh-token rotation glue, shared by POST <endpoint>/refresh
 * (handler_refresh.c) and the gate's transparent refresh (gate.c), and the same-origin rule
 * of the state-changing endpoints (refresh, logout).
 *
 * One rotation (af_refresh_rotate): the refresh cookie's token is rotated in one LMDB write
 * transaction (af_store_rotate with AuthFlowReuseGrace / AuthFlowRefreshIdle), a new access
 * token is minted from the family's claims snapshot, and both cookies are added to the
 * response (headers_out for the endpoint, err_headers_out for the gate, so that they also
 * ride on redirects and error responses).  A rejected token (unknown, expired, revoked,
 * reused) clears both cookies; a reuse after the grace window has already revoked the whole
 * family in the store, and is logged with the family id only.  Store failures change
 * nothing and set no cookie (the caller answers 503).
 *
 * AuthFlowRefresh auto|off (per directory, default auto): whether the gate rotates inline
 * when the access token is missing or expired and a refresh cookie is present.
 */
#ifndef AF_REFRESH_H
#define AF_REFRESH_H

#include <httpd.h>
#include <http_config.h>
#include <jansson.h>

#include "httpd/af_config.h"

/** The outcome of a successful rotation (pool memory of r). */
typedef struct af_refresh_t {
    const char *access_token; /* the new access JWT (in the -at cookie; never in a body) */
    const char *sid;          /* the family */
    apr_int64_t at_expires;   /* exp of the new access token */
    apr_int64_t rt_expires;   /* the family's absolute expiry (never extended) */
    int replayed;             /* 1: the grace path handed out the same successor again */
} af_refresh_t;

/**
 * Rotate the refresh cookie of r and mint a new access token; Set-Cookie on headers_out
 * (to_err 0) or err_headers_out (to_err 1).
 * @return APR_SUCCESS; AF_ENOTFOUND (no refresh cookie: nothing done); AF_ESTORE_UNKNOWN,
 *         AF_ESTORE_EXPIRED, AF_ESTORE_REUSE, AF_ESTORE_REVOKED (G08: another login's
 *         access cookie; the family is revoked) (cookies cleared); AF_ESTORE_FULL/BUSY/IO/
 *         CORRUPT or AF_EINTERNAL (no store): nothing changed, no cookie; mint errors
 *         (AF_ETOKEN_*, AF_EKEY_*: logged; the successor refresh cookie is still set)
 */
apr_status_t af_refresh_rotate(af_refresh_t **out, request_rec *r, const af_srv_conf_t *sc,
                               int to_err);

/** Is rv a store failure (503, fail closed) rather than a verdict on the token? */
int af_refresh_store_failed(apr_status_t rv);

/** Add Set-Cookie headers that clear the access and refresh cookies. */
void af_refresh_clear_cookies(request_rec *r, const af_srv_conf_t *sc, int to_err);

/**
 * Same-origin check of a state-changing request (F07, F08): an Origin header equal to the
 * origin of AuthFlowBaseURL, or, without Origin (or with "Origin: null", sent after a
 * no-referrer page), Sec-Fetch-Site: same-origin.  A Sec-Fetch-Site other than same-origin
 * always fails.
 */
int af_refresh_same_origin(request_rec *r, const af_srv_conf_t *sc);

/**
 * The gate's transparent refresh.  When reason is "no_token" or "token_expired" (nothing
 * else), the token did not come from a Bearer header, AuthFlowRefresh is not off, and
 * the request carries a refresh cookie: rotate (cookies on err_headers_out), and verify the
 * new access token like any other.
 * @param claims the verified claims of the new token; token: the new token
 * @return APR_SUCCESS, AF_ENOTFOUND (not applicable), or why the rotation failed
 */
apr_status_t af_refresh_gate(json_t **claims, const char **token, request_rec *r,
                             const af_srv_conf_t *sc, const af_dir_conf_t *dc, const char *reason,
                             int src);

/** POST <endpoint>/refresh (handler_refresh.c) and <endpoint>/logout (handler_logout.c). */
int af_refresh_endpoint(request_rec *r, af_srv_conf_t *sc);
int af_logout_endpoint(request_rec *r, af_srv_conf_t *sc);

/** AuthFlowRefresh auto|off (per directory). */
const char *af_refresh_cmd(cmd_parms *cmd, void *d, const char *arg);

#define AF_REFRESH_CMDS                                                                            \
    AP_INIT_TAKE1("AuthFlowRefresh", af_refresh_cmd, NULL, OR_AUTHCFG,                             \
                  "auto|off: the gate refreshes an expired access token inline (default auto)")

#endif
