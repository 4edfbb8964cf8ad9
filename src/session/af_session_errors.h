/* af_session_errors.h -- error codes of src/session (the gate's and the handler's reasons),
 * in the AF_E_HTTPD block.  Append-only; each code has a row in session_errors.c, which
 * also maps it to its HTTP status (af_session_status). */
#ifndef AF_SESSION_ERRORS_H
#define AF_SESSION_ERRORS_H

#include "common/af_error.h"

#define AF_ESESS_NO_TOKEN         (AF_E_HTTPD + 1)  /* "no_token"              401/302 */
#define AF_ESESS_BEARER           (AF_E_HTTPD + 2)  /* "bearer_malformed"      401/302 */
#define AF_ESESS_TOKEN_TOO_LARGE  (AF_E_HTTPD + 3)  /* "token_too_large"       401/302 */
#define AF_ESESS_USER_CLAIM       (AF_E_HTTPD + 4)  /* "user_claim_invalid"    401/302 */
#define AF_ESESS_LOGIN_REVOKED    (AF_E_HTTPD + 5)  /* "login_revoked"         401/302 */
#define AF_ESESS_STORE            (AF_E_HTTPD + 6)  /* "store_unavailable"     503 */
#define AF_ESESS_REFRESH_STORE    (AF_E_HTTPD + 7)  /* "refresh_unavailable"   503 */
#define AF_ESESS_CROSS_SITE       (AF_E_HTTPD + 8)  /* "cross_site"            403 */
#define AF_ESESS_NO_REFRESH       (AF_E_HTTPD + 9)  /* "no_refresh_token"      401 */
#define AF_ESESS_BODY_TOO_LARGE   (AF_E_HTTPD + 10) /* "body_too_large"        413 */
#define AF_ESESS_METHOD           (AF_E_HTTPD + 11) /* "method_not_allowed"    405 */
#define AF_ESESS_NOT_FOUND        (AF_E_HTTPD + 12) /* "not_found"             404 */
#define AF_ESESS_NO_PROVIDER      (AF_E_HTTPD + 13) /* "no_provider"           404 */
#define AF_ESESS_UNKNOWN_PROVIDER (AF_E_HTTPD + 14) /* "unknown_provider"      400 */
#define AF_ESESS_SUBJECT          (AF_E_HTTPD + 15) /* "subject_invalid"       401 */
#define AF_ESESS_NO_SESSION       (AF_E_HTTPD + 16) /* "no_session"            401 */
#define AF_ESESS_INVALID_SESSION  (AF_E_HTTPD + 17) /* "invalid_session"       401 */
#define AF_ESESS_SESSION_REVOKED  (AF_E_HTTPD + 18) /* "session_revoked"       401 */
#define AF_ESESS_LOGOUT_STATE     (AF_E_HTTPD + 19) /* "logout_state_mismatch" 400 */
#define AF_ESESS_LOGIN_FAILED     (AF_E_HTTPD + 20) /* "login_failed"          403 */
#define AF_ESESS_THROTTLED        (AF_E_HTTPD + 21) /* "too_many_failures"     429 */
#define AF_ESESS_AUTHN_ERROR      (AF_E_HTTPD + 22) /* "authn_unavailable"     503 */
#define AF_ESESS_LOGIN_FLOW       (AF_E_HTTPD + 23) /* "login_flow_invalid"    400 */
#define AF_ESESS_CREDENTIALS      (AF_E_HTTPD + 24) /* "credentials_invalid"   400 */
#define AF_ESESS_MEDIA_TYPE       (AF_E_HTTPD + 25) /* "unsupported_media_type" 415 */
/* step-up (AuthFlowMaxAge, AuthFlowACR): a valid login that is too old or too weak here;
 * numbered from +40 so that codes appended by parallel work do not collide */
#define AF_ESESS_STEP_UP_MAX_AGE (AF_E_HTTPD + 40) /* "step_up_max_age"        401/302 */
#define AF_ESESS_STEP_UP_ACR     (AF_E_HTTPD + 41) /* "step_up_acr"            401/302 */
#define AF_ESESS_STEP_UP_PARAM   (AF_E_HTTPD + 42) /* "step_up_parameter_invalid" 400 */
/* back-channel logout (all 400); numbered from 60 so that codes other branches append after
 * 19 do not collide */
#define AF_ESESS_BCL_CONTENT_TYPE (AF_E_HTTPD + 60) /* "backchannel_content_type" */
#define AF_ESESS_BCL_REQUEST      (AF_E_HTTPD + 61) /* "backchannel_request_malformed" */
#define AF_ESESS_BCL_REPLAY       (AF_E_HTTPD + 62) /* "oidc_logout_token_replayed" */
#define AF_ESESS_BCL_UNMAPPED     (AF_E_HTTPD + 63) /* "backchannel_sub_not_mappable" */
#define AF_ESESS_BCL_FAILED       (AF_E_HTTPD + 64) /* "backchannel_logout_failed" */

/**
 * The HTTP status for a reason code: our own codes by the table in session_errors.c,
 * store failures (full, busy, I/O, corrupt) 503, refresh-token verdicts 401, the OIDC
 * codes by af_oidc_status, token-verification failures 401, anything else 500.
 */
int af_session_status(apr_status_t rv);

/** Is rv a store failure (503, fail closed) rather than a verdict? */
int af_session_store_failed(apr_status_t rv);

/** The level of a per-request line about a store failure: DEBUG for those the store logs
 *  itself, once a minute (full, busy, I/O), else ERR. */
int af_session_store_loglevel(apr_status_t rv);

#endif
