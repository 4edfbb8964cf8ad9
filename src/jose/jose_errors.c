/* jose_errors.c -- reason strings of the src/jose error block (AF_E_JOSE).
 * Append-only: never renumber or rename a released reason. */
#include "common/af_error.h"
#include "jose/af_jose_errors.h"

const af_errdesc_t af_jose_errors[] = {{AF_EJWS_FORMAT, "jws_malformed"},
                                       {AF_EJWS_ALG, "jws_alg_not_allowed"},
                                       {AF_EJWS_UNSUPPORTED, "jws_unsupported_header"},
                                       {AF_EJWS_SIG, "jws_bad_signature"},
                                       {AF_EJWS_NOKEY, "jws_no_key"},
                                       {AF_EKEY_INVALID, "key_invalid"},
                                       {AF_EKEY_WEAK, "key_too_weak"},
                                       {AF_EKEY_UNSUPPORTED, "key_unsupported"},
                                       {AF_EKEY_SET, "keyset_invalid"},
                                       {AF_EKEY_PUBLIC, "key_cannot_sign"},
                                       {AF_EJWT_EXP, "token_expired"},
                                       {AF_EJWT_NBF, "token_not_yet_valid"},
                                       {AF_EJWT_IAT, "token_iat_invalid"},
                                       {AF_EJWT_LIFETIME, "token_lifetime_too_long"},
                                       {AF_EJWT_ISS, "token_issuer_mismatch"},
                                       {AF_EJWT_AUD, "token_audience_mismatch"},
                                       {AF_EJWT_TYP, "token_type_mismatch"},
                                       {AF_EJWT_SUB, "token_subject_invalid"},
                                       {AF_EJWT_JTI, "token_jti_invalid"},
                                       {0, NULL}};
