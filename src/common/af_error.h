/* af_error.h -- mod_authflow error codes.
 *
 * Every function of the core library returns apr_status_t: APR_SUCCESS, an
 * APR/errno code, or one of our own AF_E* codes in APR's user range.  Codes are
 * append-only: a code's number and its reason string never change once
 * released, because operators grep logs for the reason string and clients see
 * it in 4xx bodies.
 *
 * Each layer owns a block of 100 codes and a table of reasons in its own
 * <area>_errors.c file; af_strerror() finds the table by the block.
 */
#ifndef AF_ERROR_H
#define AF_ERROR_H

#include <apr_errno.h>

#define AF_E_BASE (APR_OS_START_USERERR + 7000)

/* blocks, one per layer */
#define AF_E_COMMON (AF_E_BASE + 0)   /* src/common */
#define AF_E_JOSE   (AF_E_BASE + 100) /* src/jose */
#define AF_E_TOKEN  (AF_E_BASE + 200) /* src/token */
#define AF_E_STORE  (AF_E_BASE + 300) /* src/store */
#define AF_E_POLICY (AF_E_BASE + 400) /* src/policy */
#define AF_E_OIDC   (AF_E_BASE + 500) /* src/oidc */
#define AF_E_HTTP   (AF_E_BASE + 600) /* src/http */
#define AF_E_HTTPD  (AF_E_BASE + 700) /* src/httpd (glue) */
#define AF_E_END    (AF_E_BASE + 800)

/* src/common */
#define AF_EBASE64            (AF_E_COMMON + 1)  /* "base64url_invalid" */
#define AF_EJSON              (AF_E_COMMON + 2)  /* "json_invalid" */
#define AF_EJSON_DEPTH        (AF_E_COMMON + 3)  /* "json_too_deep" */
#define AF_ETOOBIG            (AF_E_COMMON + 4)  /* "input_too_large" */
#define AF_EDURATION          (AF_E_COMMON + 5)  /* "duration_invalid" */
#define AF_ESIZE              (AF_E_COMMON + 6)  /* "size_invalid" */
#define AF_ECOOKIE            (AF_E_COMMON + 7)  /* "cookie_invalid" */
#define AF_ENOTFOUND          (AF_E_COMMON + 8)  /* "not_found" */
#define AF_EINTERNAL          (AF_E_COMMON + 9)  /* "internal_error" */
#define AF_ECRYPTO            (AF_E_COMMON + 10) /* "crypto_error" (OpenSSL failed) */
#define AF_EFORM_LIMIT        (AF_E_COMMON + 11) /* "too_many_parameters" */
#define AF_EFORM_EMPTY        (AF_E_COMMON + 12) /* "empty_parameter" */
#define AF_EFORM_ESCAPE       (AF_E_COMMON + 13) /* "bad_escape" */
#define AF_EFORM_DUP          (AF_E_COMMON + 14) /* "duplicate_parameter" */
#define AF_EFILE_NOT_REGULAR  (AF_E_COMMON + 15) /* "file_not_regular" (a secret file) */
#define AF_EFILE_OTHERS_READ  (AF_E_COMMON + 16) /* "file_readable_by_others" */
#define AF_EFILE_OTHERS_WRITE (AF_E_COMMON + 17) /* "file_writable_by_others" */

/** One row of a layer's reason table. */
typedef struct af_errdesc_t {
    apr_status_t code;
    const char *reason; /* stable, lower_snake_case, no spaces */
} af_errdesc_t;

/**
 * The stable reason string of an error code, e.g. "jws_bad_signature".
 * Never NULL: APR/errno codes give "system_error", unknown AF codes "unknown_error".
 */
const char *af_strerror(apr_status_t rv);

/** Is rv one of ours? */
#define AF_IS_AF_ERROR(rv) ((rv) > AF_E_BASE && (rv) < AF_E_END)

#endif
