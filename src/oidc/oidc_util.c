/* oidc_util.c -- the mapping of failures to HTTP statuses. */
#include <string.h>
#include <apr_strings.h>

#include "http/af_http_errors.h"
#include "oidc/af_oidc.h"

apr_status_t af_oidc_http_error(apr_status_t rv)
{
    if (rv == AF_EOIDC_IDP_BUSY || rv == AF_EOIDC_IDP_UNAVAILABLE) {
        return rv; /* refused by the outbound guard, nothing was sent */
    }
    if (rv == AF_EHTTP_TIMEOUT) {
        return AF_EOIDC_IDP_TIMEOUT;
    }
    if (rv == AF_EHTTP_TOOBIG) {
        return AF_EOIDC_IDP_FAILED;
    }
    return AF_EOIDC_IDP_UNREACHABLE;
}

int af_oidc_status(apr_status_t rv)
{
    if (rv == APR_SUCCESS) {
        return 200;
    }
    if (rv == AF_EOIDC_IDP_TIMEOUT) {
        return 504;
    }
    if (rv == AF_EOIDC_IDP_BUSY || rv == AF_EOIDC_IDP_UNAVAILABLE) {
        return 503;
    }
    if (rv == AF_EOIDC_EVENT_AUTH) {
        return 401;
    }
    if (rv == AF_EOIDC_EVENT_MALFORMED) {
        return 400;
    }
    if (rv == AF_EOIDC_EVENT_UNSUPPORTED) {
        return 404;
    }
    if (rv == AF_EOIDC_PROFILE_RESULT || rv == AF_EOIDC_IDP_UNREACHABLE ||
        rv == AF_EOIDC_IDP_FAILED || rv == AF_EOIDC_DISCOVERY || rv == AF_EOIDC_DISCOVERY_ISS ||
        rv == AF_EOIDC_JWKS) {
        return 502;
    }
    if (rv == AF_EOIDC_APPLE_USER || rv == AF_EOIDC_RESPONSE_MODE || rv == AF_EOIDC_APPLE_EVENT) {
        return 400;
    }
    if (rv == AF_EOIDC_APPLE_EVENT_SIG || rv == AF_EOIDC_APPLE_EVENT_CLAIMS) {
        return 401;
    }
    if ((rv >= AF_EOIDC_PARAM && rv <= AF_EOIDC_FLOW) ||
        (rv >= AF_EOIDC_LOGOUT_TOKEN && rv <= AF_EOIDC_LOGOUT_UNSUPPORTED)) {
        return 400;
    }
    if ((rv >= AF_EOIDC_TOKEN_REJECTED && rv <= AF_EOIDC_USERINFO_SUB) ||
        (rv >= AF_EOIDC_AUTH_TIME_MISSING && rv <= AF_EOIDC_ACR)) {
        return 401;
    }
    return 500;
}

int af_oidc_claim_bool(const json_t *v)
{
    /* Apple (and Kakao's profile) send booleans as the strings "true" / "false"; nothing
     * else counts (no "yes", no 1, no embedded NUL) */
    const char *s = json_is_string(v) ? json_string_value(v) : NULL;

    if (json_is_boolean(v)) {
        return json_is_true(v);
    }
    if (s != NULL && strlen(s) == json_string_length(v)) {
        if (strcmp(s, "true") == 0) {
            return 1;
        }
        if (strcmp(s, "false") == 0) {
            return 0;
        }
    }
    return -1;
}
