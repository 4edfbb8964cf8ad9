/* af_oidc_errors.h -- error codes of src/oidc, in the AF_E_OIDC block.
 * Append-only; each code has a row in oidc_errors.c. */
#ifndef AF_OIDC_ERRORS_H
#define AF_OIDC_ERRORS_H

#include "common/af_error.h"

/* configuration and discovery */
#define AF_EOIDC_CONFIG        (AF_E_OIDC + 1) /* "oidc_config_invalid" */
#define AF_EOIDC_DISCOVERY     (AF_E_OIDC + 2) /* "oidc_discovery_invalid" */
#define AF_EOIDC_DISCOVERY_ISS (AF_E_OIDC + 3) /* "oidc_discovery_issuer_mismatch" */
#define AF_EOIDC_JWKS          (AF_E_OIDC + 4) /* "oidc_jwks_invalid" */
/* the authorization response (400) */
#define AF_EOIDC_PARAM         (AF_E_OIDC + 5)  /* "oidc_callback_malformed" */
#define AF_EOIDC_PARAM_DUP     (AF_E_OIDC + 6)  /* "oidc_callback_duplicate_parameter" */
#define AF_EOIDC_STATE_MISSING (AF_E_OIDC + 7)  /* "oidc_state_missing" */
#define AF_EOIDC_STATE         (AF_E_OIDC + 8)  /* "oidc_state_mismatch" */
#define AF_EOIDC_CODE_MISSING  (AF_E_OIDC + 9)  /* "oidc_code_missing" */
#define AF_EOIDC_IDP_ERROR     (AF_E_OIDC + 10) /* "oidc_idp_error" */
#define AF_EOIDC_ISS_PARAM     (AF_E_OIDC + 11) /* "oidc_iss_parameter_mismatch" */
#define AF_EOIDC_FLOW          (AF_E_OIDC + 12) /* "oidc_flow_state_invalid" */
/* the token response and the id_token (401) */
#define AF_EOIDC_TOKEN_REJECTED (AF_E_OIDC + 13) /* "oidc_token_request_rejected" */
#define AF_EOIDC_TOKEN_RESPONSE (AF_E_OIDC + 14) /* "oidc_token_response_invalid" */
#define AF_EOIDC_TOKEN_TYPE     (AF_E_OIDC + 15) /* "oidc_token_type_not_bearer" */
#define AF_EOIDC_NO_ID_TOKEN    (AF_E_OIDC + 16) /* "oidc_id_token_missing" */
#define AF_EOIDC_ID_TOKEN       (AF_E_OIDC + 17) /* "oidc_id_token_malformed" */
#define AF_EOIDC_ID_TOKEN_ALG   (AF_E_OIDC + 18) /* "oidc_id_token_alg_not_allowed" */
#define AF_EOIDC_ID_TOKEN_NOKEY (AF_E_OIDC + 19) /* "oidc_id_token_no_key" */
#define AF_EOIDC_ID_TOKEN_SIG   (AF_E_OIDC + 20) /* "oidc_id_token_bad_signature" */
#define AF_EOIDC_ID_TOKEN_ISS   (AF_E_OIDC + 21) /* "oidc_id_token_issuer_mismatch" */
#define AF_EOIDC_ID_TOKEN_AUD   (AF_E_OIDC + 22) /* "oidc_id_token_audience_mismatch" */
#define AF_EOIDC_ID_TOKEN_AZP   (AF_E_OIDC + 23) /* "oidc_id_token_azp_mismatch" */
#define AF_EOIDC_ID_TOKEN_EXP   (AF_E_OIDC + 24) /* "oidc_id_token_expired" */
#define AF_EOIDC_ID_TOKEN_IAT   (AF_E_OIDC + 25) /* "oidc_id_token_iat_invalid" */
#define AF_EOIDC_NONCE          (AF_E_OIDC + 26) /* "oidc_nonce_mismatch" */
#define AF_EOIDC_AT_HASH        (AF_E_OIDC + 27) /* "oidc_at_hash_mismatch" */
#define AF_EOIDC_SUB            (AF_E_OIDC + 28) /* "oidc_subject_invalid" */
#define AF_EOIDC_USERINFO       (AF_E_OIDC + 29) /* "oidc_userinfo_invalid" */
#define AF_EOIDC_USERINFO_SUB   (AF_E_OIDC + 30) /* "oidc_userinfo_sub_mismatch" */
/* the IdP cannot be used right now (502/504) */
#define AF_EOIDC_IDP_UNREACHABLE (AF_E_OIDC + 31) /* "oidc_idp_unreachable" */
#define AF_EOIDC_IDP_TIMEOUT     (AF_E_OIDC + 32) /* "oidc_idp_timeout" */
#define AF_EOIDC_IDP_FAILED      (AF_E_OIDC + 33) /* "oidc_idp_server_error" */
/* the outbound guard refused the call without sending it (503 + Retry-After) */
#define AF_EOIDC_IDP_BUSY        (AF_E_OIDC + 34) /* "oidc_idp_busy" */
#define AF_EOIDC_IDP_UNAVAILABLE (AF_E_OIDC + 35) /* "oidc_idp_unavailable" */
/* a profile API that answered 200 with a failure inside (Naver resultcode != "00") (502) */
#define AF_EOIDC_PROFILE_RESULT (AF_E_OIDC + 36) /* "oidc_profile_resultcode" */
/* provider account events (POST <endpoint>/events/NAME) */
#define AF_EOIDC_EVENT_AUTH        (AF_E_OIDC + 37) /* "event_unauthorized"  401 */
#define AF_EOIDC_EVENT_MALFORMED   (AF_E_OIDC + 38) /* "event_malformed"     400 */
#define AF_EOIDC_EVENT_UNSUPPORTED (AF_E_OIDC + 39) /* "event_not_supported" 404 */
/* step-up: what the login asked for (max_age, acr_values) was not met (401);
 * numbered from 50 so that codes other branches append do not collide */
#define AF_EOIDC_AUTH_TIME_MISSING (AF_E_OIDC + 50) /* "oidc_auth_time_missing" */
#define AF_EOIDC_AUTH_TIME_OLD     (AF_E_OIDC + 51) /* "oidc_auth_time_too_old" */
#define AF_EOIDC_ACR               (AF_E_OIDC + 52) /* "oidc_acr_not_satisfied" */
/* Sign in with Apple (from +60: other blocks are appended in parallel) */
#define AF_EOIDC_CLIENT_SECRET      (AF_E_OIDC + 60) /* "oidc_client_secret_unavailable" 500 */
#define AF_EOIDC_APPLE_USER         (AF_E_OIDC + 61) /* "oidc_apple_user_invalid" 400 */
#define AF_EOIDC_RESPONSE_MODE      (AF_E_OIDC + 62) /* "oidc_response_mode_mismatch" 400 */
#define AF_EOIDC_APPLE_EVENT        (AF_E_OIDC + 63) /* "oidc_apple_event_malformed" 400 */
#define AF_EOIDC_APPLE_EVENT_SIG    (AF_E_OIDC + 64) /* "oidc_apple_event_bad_signature" 401 */
#define AF_EOIDC_APPLE_EVENT_CLAIMS (AF_E_OIDC + 65) /* "oidc_apple_event_claims_invalid" 401 */
/* back-channel logout tokens (400); numbered from 70 so that codes other branches append
 * after 35 do not collide */
#define AF_EOIDC_LOGOUT_TOKEN       (AF_E_OIDC + 70) /* "oidc_logout_token_malformed" */
#define AF_EOIDC_LOGOUT_ALG         (AF_E_OIDC + 71) /* "oidc_logout_token_alg_not_allowed" */
#define AF_EOIDC_LOGOUT_NOKEY       (AF_E_OIDC + 72) /* "oidc_logout_token_no_key" */
#define AF_EOIDC_LOGOUT_SIG         (AF_E_OIDC + 73) /* "oidc_logout_token_bad_signature" */
#define AF_EOIDC_LOGOUT_TYP         (AF_E_OIDC + 74) /* "oidc_logout_token_typ_invalid" */
#define AF_EOIDC_LOGOUT_ISS         (AF_E_OIDC + 75) /* "oidc_logout_token_issuer_mismatch" */
#define AF_EOIDC_LOGOUT_AUD         (AF_E_OIDC + 76) /* "oidc_logout_token_audience_mismatch" */
#define AF_EOIDC_LOGOUT_IAT         (AF_E_OIDC + 77) /* "oidc_logout_token_iat_invalid" */
#define AF_EOIDC_LOGOUT_EXP         (AF_E_OIDC + 78) /* "oidc_logout_token_expired" */
#define AF_EOIDC_LOGOUT_JTI         (AF_E_OIDC + 79) /* "oidc_logout_token_jti_invalid" */
#define AF_EOIDC_LOGOUT_EVENTS      (AF_E_OIDC + 80) /* "oidc_logout_token_event_missing" */
#define AF_EOIDC_LOGOUT_NONCE       (AF_E_OIDC + 81) /* "oidc_logout_token_nonce_present" */
#define AF_EOIDC_LOGOUT_SUBJECT     (AF_E_OIDC + 82) /* "oidc_logout_token_subject_invalid" */
#define AF_EOIDC_LOGOUT_UNSUPPORTED (AF_E_OIDC + 83) /* "oidc_logout_not_supported" */

#endif
