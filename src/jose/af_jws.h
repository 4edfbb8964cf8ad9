/* af_jws.h -- JWS compact serialization only (RFC 7515 §7.1), strict.
 *
 * Parsing rejects: anything but exactly three non-empty segments (JWE's five, JSON
 * serialization, trailing dots, empty header/payload/signature), non-strict
 * base64url, a header that is not a strict JSON object, alg missing / not a string /
 * "none" in any case, "enc" (JWE), "b64" (any value), "zip", "crit" (we understand
 * no extensions, so any crit is unknown), "cty" naming a nested JWT.
 * jku/x5u/jwk/x5c are never used to find keys.
 *
 * Verification takes the algorithm from the key, never from the header: the header
 * alg must equal the key's pinned alg exactly, ECDSA signatures must be exactly
 * 64/96/132 bytes (P1363 R||S), RSA-PSS uses salt length = hash length and MGF1
 * with the same hash, HMAC compares with CRYPTO_memcmp after a length check, and
 * HMAC never runs with a non-oct or empty key.
 */
#ifndef AF_JWS_H
#define AF_JWS_H

#include "jose/af_jwk.h"

/** Default cap on a compact token (RFC: none; ours: 8 KiB). */
#define AF_JWS_MAX_LEN 8192

typedef struct af_jws_t {
    const char *signing_input; /* header_b64 "." payload_b64, points into the token */
    apr_size_t signing_input_len;
    json_t *header;               /* pool-owned */
    af_alg_t alg;                 /* the header's alg, parsed (never trusted for key choice) */
    const char *kid;              /* header kid or NULL */
    const char *typ;              /* header typ or NULL */
    const unsigned char *payload; /* decoded, NUL-terminated */
    apr_size_t payload_len;
    const unsigned char *sig; /* decoded */
    apr_size_t sig_len;
} af_jws_t;

/**
 * Parse a compact JWS. max_len 0 means AF_JWS_MAX_LEN; longer input gets AF_ETOOBIG
 * before any decoding.
 * @return APR_SUCCESS, AF_ETOOBIG, AF_EJWS_FORMAT, AF_EBASE64, AF_EJSON, AF_EJWS_ALG,
 *         AF_EJWS_UNSUPPORTED (b64/zip/crit/enc/nested cty)
 */
apr_status_t af_jws_parse(af_jws_t **out, const char *compact, apr_size_t len, apr_size_t max_len,
                          apr_pool_t *p);

/** Flags for af_jws_parse_ex. */
#define AF_JWS_ALLOW_EMPTY_PAYLOAD 0x01 /* RFC 7515 allows it; a JWT never has one (A05) */

/**
 * af_jws_parse with flags.  AF_JWS_ALLOW_EMPTY_PAYLOAD accepts "header..sig" as a JWS
 * with an empty payload (general JWS use, Wycheproof W01); af_jws_parse and the JWT
 * path never set it.
 */
apr_status_t af_jws_parse_ex(af_jws_t **out, const char *compact, apr_size_t len,
                             apr_size_t max_len, int flags, apr_pool_t *p);

/** Verify with one key. @return APR_SUCCESS, AF_EJWS_ALG (header alg != key alg), AF_EJWS_SIG */
apr_status_t af_jws_verify(const af_jws_t *jws, const af_key_t *key);

/**
 * Choose keys by kid (af_keyset_select) and verify; at most a few candidates are tried.
 * @param used the key that verified (may be NULL)
 * @return APR_SUCCESS, AF_EJWS_NOKEY (no candidate), AF_EJWS_ALG, AF_EJWS_SIG
 */
apr_status_t af_jws_verify_keyset(const af_key_t **used, const af_jws_t *jws,
                                  const af_keyset_t *ks);

/**
 * Sign: header {"alg":<key alg>,"typ":typ?,"kid":<key kid>?}, payload bytes as given.
 * @return APR_SUCCESS, AF_EKEY_PUBLIC (key cannot sign), AF_ECRYPTO
 */
apr_status_t af_jws_sign(const char **compact, const af_key_t *key, const char *typ,
                         const unsigned char *payload, apr_size_t payload_len, apr_pool_t *p);

/**
 * Sign with an explicit protected header given as a JSON text (known-answer tests, crafted
 * test tokens).  The header bytes are used verbatim and NOT checked: the signature is
 * always made with key->alg, whatever the header says.
 */
apr_status_t af_jws_sign_with_header(const char **compact, const af_key_t *key,
                                     const char *header_json, const unsigned char *payload,
                                     apr_size_t payload_len, apr_pool_t *p);

/** Raw signature primitive on arbitrary input (Wycheproof, benchmarks). */
apr_status_t af_jws_verify_raw(const af_key_t *key, const unsigned char *msg, apr_size_t msg_len,
                               const unsigned char *sig, apr_size_t sig_len);

#endif
