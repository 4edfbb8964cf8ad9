/* session_errors.c -- reason strings and HTTP statuses of the src/session error block
 * (AF_E_HTTPD).  Append-only: never renumber or rename a released reason. */
#include "common/af_error.h"
#include "common/af_log.h"
#include "jose/af_jose_errors.h"
#include "oidc/af_oidc.h"
#include "session/af_session_errors.h"
#include "store/af_store_errors.h"
#include "token/af_token_errors.h"

const af_errdesc_t af_session_errors[] = {{AF_ESESS_NO_TOKEN, "no_token"},
                                          {AF_ESESS_BEARER, "bearer_malformed"},
                                          {AF_ESESS_TOKEN_TOO_LARGE, "token_too_large"},
                                          {AF_ESESS_USER_CLAIM, "user_claim_invalid"},
                                          {AF_ESESS_LOGIN_REVOKED, "login_revoked"},
                                          {AF_ESESS_STORE, "store_unavailable"},
                                          {AF_ESESS_REFRESH_STORE, "refresh_unavailable"},
                                          {AF_ESESS_CROSS_SITE, "cross_site"},
                                          {AF_ESESS_NO_REFRESH, "no_refresh_token"},
                                          {AF_ESESS_BODY_TOO_LARGE, "body_too_large"},
                                          {AF_ESESS_METHOD, "method_not_allowed"},
                                          {AF_ESESS_NOT_FOUND, "not_found"},
                                          {AF_ESESS_NO_PROVIDER, "no_provider"},
                                          {AF_ESESS_UNKNOWN_PROVIDER, "unknown_provider"},
                                          {AF_ESESS_SUBJECT, "subject_invalid"},
                                          {AF_ESESS_NO_SESSION, "no_session"},
                                          {AF_ESESS_INVALID_SESSION, "invalid_session"},
                                          {AF_ESESS_SESSION_REVOKED, "session_revoked"},
                                          {AF_ESESS_LOGOUT_STATE, "logout_state_mismatch"},
                                          {AF_ESESS_STEP_UP_MAX_AGE, "step_up_max_age"},
                                          {AF_ESESS_STEP_UP_ACR, "step_up_acr"},
                                          {AF_ESESS_STEP_UP_PARAM, "step_up_parameter_invalid"},
                                          {AF_ESESS_BCL_CONTENT_TYPE, "backchannel_content_type"},
                                          {AF_ESESS_BCL_REQUEST, "backchannel_request_malformed"},
                                          {AF_ESESS_BCL_REPLAY, "oidc_logout_token_replayed"},
                                          {AF_ESESS_BCL_UNMAPPED, "backchannel_sub_not_mappable"},
                                          {AF_ESESS_BCL_FAILED, "backchannel_logout_failed"},
                                          {AF_ESESS_LOGIN_FAILED, "login_failed"},
                                          {AF_ESESS_THROTTLED, "too_many_failures"},
                                          {AF_ESESS_AUTHN_ERROR, "authn_unavailable"},
                                          {AF_ESESS_LOGIN_FLOW, "login_flow_invalid"},
                                          {AF_ESESS_CREDENTIALS, "credentials_invalid"},
                                          {AF_ESESS_MEDIA_TYPE, "unsupported_media_type"},
                                          {0, NULL}};

static const struct {
    apr_status_t code;
    int status;
} statuses[] = {
    {AF_ESESS_STORE, 503},
    {AF_ESESS_REFRESH_STORE, 503},
    {AF_ESESS_CROSS_SITE, 403},
    {AF_ESESS_BODY_TOO_LARGE, 413},
    {AF_ESESS_METHOD, 405},
    {AF_ESESS_NOT_FOUND, 404},
    {AF_ESESS_NO_PROVIDER, 404},
    {AF_ESESS_UNKNOWN_PROVIDER, 400},
    {AF_ESESS_LOGOUT_STATE, 400},
    {AF_EFORM_LIMIT, 400},
    {AF_EFORM_EMPTY, 400},
    {AF_EFORM_ESCAPE, 400},
    {AF_EFORM_DUP, 400},
    {AF_ETOOBIG, 400},
    {AF_ESTORE_REPLAY, 400},
    {AF_ENOTFOUND, 404},
    {AF_ESESS_BCL_CONTENT_TYPE, 400},
    {AF_ESESS_BCL_REQUEST, 400},
    {AF_ESESS_BCL_REPLAY, 400},
    {AF_ESESS_BCL_UNMAPPED, 400},
    {AF_ESESS_BCL_FAILED, 400},
    {AF_ESESS_STEP_UP_PARAM, 400},
    {AF_ESESS_LOGIN_FAILED, 403},
    {AF_ESESS_THROTTLED, 429},
    {AF_ESESS_AUTHN_ERROR, 503},
    {AF_ESESS_LOGIN_FLOW, 400},
    {AF_ESESS_CREDENTIALS, 400},
    {AF_ESESS_MEDIA_TYPE, 415},
};

int af_session_store_failed(apr_status_t rv)
{
    return rv == AF_ESTORE_FULL || rv == AF_ESTORE_BUSY || rv == AF_ESTORE_IO ||
           rv == AF_ESTORE_CORRUPT || rv == AF_ESESS_STORE || rv == AF_ESESS_REFRESH_STORE;
}

int af_session_store_loglevel(apr_status_t rv)
{
    return rv == AF_ESTORE_FULL || rv == AF_ESTORE_BUSY || rv == AF_ESTORE_IO ? AF_LOG_DEBUG
                                                                              : AF_LOG_ERR;
}

int af_session_status(apr_status_t rv)
{
    apr_size_t i;

    if (rv == APR_SUCCESS) {
        return 200;
    }
    for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
        if (statuses[i].code == rv) {
            return statuses[i].status;
        }
    }
    if (af_session_store_failed(rv)) {
        return 503;
    }
    if (rv > AF_E_OIDC && rv < AF_E_OIDC + 100) {
        return af_oidc_status(rv);
    }
    if ((rv > AF_E_HTTPD && rv < AF_E_HTTPD + 100) || (rv > AF_E_JOSE && rv < AF_E_JOSE + 100) ||
        (rv > AF_E_STORE && rv < AF_E_STORE + 100) || rv == AF_ECOOKIE || rv == AF_EBASE64 ||
        rv == AF_EJSON || rv == AF_EJSON_DEPTH) {
        return 401; /* token and login verdicts */
    }
    return 500;
}
