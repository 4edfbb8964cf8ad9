/* af_error.c -- reason strings for our error codes. */
#include "common/af_error.h"

/* One table per layer, each in <area>/<area>_errors.c, terminated by {0}. */
extern const af_errdesc_t af_common_errors[];
extern const af_errdesc_t af_jose_errors[];
extern const af_errdesc_t af_token_errors[];
extern const af_errdesc_t af_store_errors[];
extern const af_errdesc_t af_policy_errors[];
extern const af_errdesc_t af_oidc_errors[];
extern const af_errdesc_t af_http_errors[];
extern const af_errdesc_t af_session_errors[];

const af_errdesc_t af_common_errors[] = {{AF_EBASE64, "base64url_invalid"},
                                         {AF_EJSON, "json_invalid"},
                                         {AF_EJSON_DEPTH, "json_too_deep"},
                                         {AF_ETOOBIG, "input_too_large"},
                                         {AF_EDURATION, "duration_invalid"},
                                         {AF_ESIZE, "size_invalid"},
                                         {AF_ECOOKIE, "cookie_invalid"},
                                         {AF_ENOTFOUND, "not_found"},
                                         {AF_EINTERNAL, "internal_error"},
                                         {AF_ECRYPTO, "crypto_error"},
                                         {AF_EFORM_LIMIT, "too_many_parameters"},
                                         {AF_EFORM_EMPTY, "empty_parameter"},
                                         {AF_EFORM_ESCAPE, "bad_escape"},
                                         {AF_EFORM_DUP, "duplicate_parameter"},
                                         {AF_EFILE_NOT_REGULAR, "file_not_regular"},
                                         {AF_EFILE_OTHERS_READ, "file_readable_by_others"},
                                         {AF_EFILE_OTHERS_WRITE, "file_writable_by_others"},
                                         {0, NULL}};

static const af_errdesc_t *find(apr_status_t rv)
{
    static const af_errdesc_t *const tables[] = {
        af_common_errors, af_jose_errors, af_token_errors, af_store_errors,
        af_policy_errors, af_oidc_errors, af_http_errors,  af_session_errors};
    const af_errdesc_t *t;
    int block;

    if (!AF_IS_AF_ERROR(rv)) {
        return NULL;
    }
    block = (int) ((rv - AF_E_BASE) / 100);
    if (block >= (int) (sizeof(tables) / sizeof(tables[0]))) {
        return NULL;
    }
    for (t = tables[block]; t->reason != NULL; t++) {
        if (t->code == rv) {
            return t;
        }
    }
    return NULL;
}

const char *af_strerror(apr_status_t rv)
{
    const af_errdesc_t *d;

    if (rv == APR_SUCCESS) {
        return "ok";
    }
    d = find(rv);
    if (d != NULL) {
        return d->reason;
    }
    return AF_IS_AF_ERROR(rv) ? "unknown_error" : "system_error";
}
