/* af_jwt.h -- JWT claim checks (RFC 7519, RFC 9068, RFC 8725) with an injected clock.
 *
 * Types are strict: exp/nbf/iat must be JSON numbers (fractions allowed, negative or
 * > 2^53 refused); iss/sub/jti strings; aud a string or an array of strings.
 */
#ifndef AF_JWT_H
#define AF_JWT_H

#include "jose/af_jws.h"

typedef struct af_jwt_policy_t {
    apr_int64_t now;          /* seconds since the epoch: the injected clock */
    apr_int64_t leeway;       /* seconds, applied to exp, nbf, iat */
    apr_int64_t max_lifetime; /* exp - iat above this is refused; 0: no limit */
    const char *iss;          /* exact match required when non-NULL */
    const char *aud;          /* must be the string or a member of the array, when non-NULL */
    const char *typ;          /* header typ media type, e.g. "at+jwt"; "application/" optional,
                                 case-insensitive; NULL: typ not checked */
    unsigned require_iat : 1; /* iat must be present */
    unsigned require_jti : 1; /* jti must be a non-empty string */
    unsigned require_sub : 1; /* sub must be 1..255 chars, no CR/LF/NUL/control */
} af_jwt_policy_t;

/**
 * Check the claims of a verified JWS, in this order: payload is a strict JSON object, typ,
 * exp (required; valid while now < exp + leeway), nbf (now + leeway >= nbf), iat
 * (<= now + leeway), max_lifetime (exp - iat, or exp - now without iat), iss, aud, sub, jti
 * (a present sub/jti must be well-formed even when not required).
 * @param claims_out the payload as a strict JSON object (pool-owned)
 * @return APR_SUCCESS, AF_EJSON, AF_EJWT_EXP (missing/expired/bad type), AF_EJWT_NBF,
 *         AF_EJWT_IAT, AF_EJWT_LIFETIME, AF_EJWT_ISS, AF_EJWT_AUD, AF_EJWT_TYP, AF_EJWT_SUB,
 *         AF_EJWT_JTI
 */
apr_status_t af_jwt_check(json_t **claims_out, const af_jws_t *jws, const af_jwt_policy_t *pol,
                          apr_pool_t *p);

/** Parse + verify with a key set + check, in one call (the gate's path). */
apr_status_t af_jwt_verify(json_t **claims_out, const af_key_t **used, const char *token,
                           apr_size_t len, const af_keyset_t *ks, const af_jwt_policy_t *pol,
                           apr_pool_t *p);

/** Does a typ header value name the media type want ("at+jwt" ~ "application/AT+JWT")? */
/** Is want the aud claim (a string) or in it (a non-empty array of strings, nothing else)? */
int af_jwt_aud_contains(const json_t *aud, const char *want);

int af_jwt_typ_matches(const char *typ, const char *want);

#endif
