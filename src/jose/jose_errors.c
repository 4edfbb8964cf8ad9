/* jose_errors.c -- reason strings of the src/jose error block (AF_E_JOSE).
 * Append-only: never renumber or rename a released reason. */
#include "common/af_error.h"
#include "jose/af_jose_errors.h"

const af_errdesc_t af_jose_errors[] = {
    {AF_EJWS_FORMAT, "jws_malformed", "not a JWS in compact serialization"},
    {AF_EJWS_ALG, "jws_alg_not_allowed", "algorithm not allowed for this key"},
    {AF_EJWS_UNSUPPORTED, "jws_unsupported_header", "unsupported JWS header parameter"},
    {AF_EJWS_SIG, "jws_bad_signature", "signature verification failed"},
    {AF_EJWS_NOKEY, "jws_no_key", "no key matches the token"},
    {AF_EKEY_INVALID, "key_invalid", "the key is malformed"},
    {AF_EKEY_WEAK, "key_too_weak", "the key is below the key policy"},
    {AF_EKEY_UNSUPPORTED, "key_unsupported", "unsupported key type or curve"},
    {AF_EKEY_SET, "keyset_invalid", "the key set is refused"},
    {AF_EKEY_PUBLIC, "key_cannot_sign", "a public key cannot sign"},
    {AF_EJWT_EXP, "token_expired", "exp missing, malformed or in the past"},
    {AF_EJWT_NBF, "token_not_yet_valid", "nbf malformed or in the future"},
    {AF_EJWT_IAT, "token_iat_invalid", "iat malformed, missing or in the future"},
    {AF_EJWT_LIFETIME, "token_lifetime_too_long", "exp - iat exceeds the maximum lifetime"},
    {AF_EJWT_ISS, "token_issuer_mismatch", "iss is not the expected issuer"},
    {AF_EJWT_AUD, "token_audience_mismatch", "aud does not contain our audience"},
    {AF_EJWT_TYP, "token_type_mismatch", "typ header is not the expected type"},
    {AF_EJWT_SUB, "token_subject_invalid", "sub missing or malformed"},
    {AF_EJWT_JTI, "token_jti_invalid", "jti missing or malformed"},
    {0, NULL, NULL}};
