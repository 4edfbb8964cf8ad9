/* gate.h -- internals shared by gate.c and gate_fail.c. */
#ifndef AF_GATE_H
#define AF_GATE_H

#include <httpd.h>

#include "httpd/af_config.h"

/** The login URL for this request, with return_to. */
const char *af_gate_login_url(request_rec *r, const af_srv_conf_t *sc, const af_dir_conf_t *dc);

/** Answer an unauthenticated request (302 or 401 + JSON); returns the hook's status. */
int af_gate_fail(request_rec *r, const af_srv_conf_t *sc, const af_dir_conf_t *dc,
                 const char *reason);

/**
 * 503 with a reason (G10): the store could not be read or written, so the request can
 * neither be let through nor sent to the IdP (which would only loop back here).  HTML for
 * navigations, JSON {"error": reason} otherwise; Retry-After.  Returns the hook's status.
 */
int af_gate_unavailable(request_rec *r, const af_srv_conf_t *sc, const char *reason);

/**
 * Verify one of our own access tokens exactly as the gate does (signature, typ, iss, aud,
 * exp/nbf/iat, jti); tokens of AuthFlowTrustIssuer issuers are refused.  For the handler
 * (session endpoint, login fixation check).  @return APR_SUCCESS or the reason code
 */
apr_status_t af_gate_verify_own(json_t **claims, request_rec *r, const af_srv_conf_t *sc,
                                const char *tok, apr_size_t len, apr_int64_t now);

#endif
