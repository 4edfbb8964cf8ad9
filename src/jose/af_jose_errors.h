/* af_jose_errors.h -- error codes of src/jose, in the AF_E_JOSE block.
 * Append-only; each code has a row in jose_errors.c. */
#ifndef AF_JOSE_ERRORS_H
#define AF_JOSE_ERRORS_H

#include "common/af_error.h"

#define AF_EJWS_FORMAT      (AF_E_JOSE + 1)  /* "jws_malformed" */
#define AF_EJWS_ALG         (AF_E_JOSE + 2)  /* "jws_alg_not_allowed" */
#define AF_EJWS_UNSUPPORTED (AF_E_JOSE + 3)  /* "jws_unsupported_header" */
#define AF_EJWS_SIG         (AF_E_JOSE + 4)  /* "jws_bad_signature" */
#define AF_EJWS_NOKEY       (AF_E_JOSE + 5)  /* "jws_no_key" */
#define AF_EKEY_INVALID     (AF_E_JOSE + 6)  /* "key_invalid" */
#define AF_EKEY_WEAK        (AF_E_JOSE + 7)  /* "key_too_weak" */
#define AF_EKEY_UNSUPPORTED (AF_E_JOSE + 8)  /* "key_unsupported" */
#define AF_EKEY_SET         (AF_E_JOSE + 9)  /* "keyset_invalid" */
#define AF_EKEY_PUBLIC      (AF_E_JOSE + 10) /* "key_cannot_sign" */
#define AF_EJWT_EXP         (AF_E_JOSE + 11) /* "token_expired" */
#define AF_EJWT_NBF         (AF_E_JOSE + 12) /* "token_not_yet_valid" */
#define AF_EJWT_IAT         (AF_E_JOSE + 13) /* "token_iat_invalid" */
#define AF_EJWT_LIFETIME    (AF_E_JOSE + 14) /* "token_lifetime_too_long" */
#define AF_EJWT_ISS         (AF_E_JOSE + 15) /* "token_issuer_mismatch" */
#define AF_EJWT_AUD         (AF_E_JOSE + 16) /* "token_audience_mismatch" */
#define AF_EJWT_TYP         (AF_E_JOSE + 17) /* "token_type_mismatch" */
#define AF_EJWT_SUB         (AF_E_JOSE + 18) /* "token_subject_invalid" */
#define AF_EJWT_JTI         (AF_E_JOSE + 19) /* "token_jti_invalid" */

#endif
