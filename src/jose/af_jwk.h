/* af_jwk.h -- keys: PEM and JWK/JWKS, parsed once into EVP_PKEY, alg pinned.
 *
 * Key policy (refused with a reason, never silently weakened):
 *   RSA  >= 2048 bits (<= 8192), e odd and >= 65537
 *   EC   P-256/ES256, P-384/ES384, P-521/ES512 only; the point must be on the curve;
 *        x/y exactly the curve's length
 *   OKP  Ed25519/EdDSA (Ed448 refused unless enabled later)
 *   oct  HS256 >= 32 bytes, HS384 >= 48, HS512 >= 64; never empty
 * Every key has exactly one pinned algorithm: from the JWK "alg" (must agree with the
 * key type and curve), else from an explicit alg given by the caller, else the
 * default for the key type (EC by curve, OKP EdDSA, RSA RS256; oct has none and is
 * refused without alg).  JWS verification uses that algorithm and nothing else.
 *
 * EVP_PKEY objects are freed by pool cleanups.
 */
#ifndef AF_JWK_H
#define AF_JWK_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <jansson.h>
#include <openssl/evp.h>

typedef enum {
    AF_ALG_UNKNOWN = 0,
    AF_ALG_HS256,
    AF_ALG_HS384,
    AF_ALG_HS512,
    AF_ALG_RS256,
    AF_ALG_RS384,
    AF_ALG_RS512,
    AF_ALG_PS256,
    AF_ALG_PS384,
    AF_ALG_PS512,
    AF_ALG_ES256,
    AF_ALG_ES384,
    AF_ALG_ES512,
    AF_ALG_EDDSA,
    AF_ALG_COUNT
} af_alg_t;

typedef enum { AF_KTY_NONE = 0, AF_KTY_OCT, AF_KTY_RSA, AF_KTY_EC, AF_KTY_OKP } af_kty_t;

typedef struct af_key_t {
    const char *kid; /* NULL when the key has none */
    af_alg_t alg;    /* pinned; never AF_ALG_UNKNOWN in a loaded key */
    af_kty_t kty;
    EVP_PKEY *pkey;              /* RSA/EC/OKP; NULL for oct */
    const unsigned char *secret; /* oct only */
    apr_size_t secret_len;
    int is_private; /* can sign */
    /* internal, oct keys: digest states after the inner and outer padded key (RFC 2104),
     * set by the loaders */
    EVP_MD_CTX *hmac_pads[2];
} af_key_t;

typedef struct af_keyset_t {
    apr_array_header_t *keys; /* of af_key_t * */
} af_keyset_t;

/** Flags for the loaders. */
#define AF_JWK_PUBLIC_ONLY 0x01 /* a fetched public JWKS: private members refuse the key */
#define AF_JWK_ALLOW_OCT   0x02 /* symmetric keys allowed (never in a fetched JWKS) */

/** "ES256" -> AF_ALG_ES256 (exact, case-sensitive); AF_ALG_UNKNOWN otherwise ("none" too). */
af_alg_t af_alg_from_name(const char *name);
/** AF_ALG_ES256 -> "ES256"; NULL for AF_ALG_UNKNOWN. */
const char *af_alg_name(af_alg_t alg);

/**
 * Parse one JWK object.
 * @param why on failure, a short reason for logs ("rsa_modulus_too_small", ...)
 * @return APR_SUCCESS or an AF_EKEY_* code
 */
apr_status_t af_jwk_parse(af_key_t **out, const json_t *jwk, int flags, const char **why,
                          apr_pool_t *p);

/**
 * Parse a JWKS document ({"keys":[...]}) or a single JWK object.  Unusable keys are
 * skipped: each skip is reported in skipped (array of const char *, "kid: reason"),
 * may be NULL.  Set-level problems refuse the whole set: duplicate kid,
 * symmetric and asymmetric keys mixed.  Skips and refusals are also logged at WARNING
 * (AF01001..AF01003, kid and reason only).  Caps: 256 KiB, 50 keys.
 * @return APR_SUCCESS (possibly with zero keys), AF_ETOOBIG, AF_EJSON, AF_EKEY_SET
 */
apr_status_t af_jwks_parse(af_keyset_t **out, const char *json, apr_size_t len, int flags,
                           apr_array_header_t *skipped, apr_pool_t *p);

/**
 * Load a PEM file (public or private key, SPKI/PKCS#8/traditional) or, for
 * alg HS*, a raw secret file.  alg AF_ALG_UNKNOWN picks the default for the key.
 * A file holding private material (a private key, an HMAC secret) must keep to the
 * secret-file rule (af_file_check_private: others can neither read nor write it; a symlink
 * is judged by its target); a public key needs no rule.
 * @return APR_SUCCESS, APR_ENOENT/errno, AF_EKEY_* (with why set), AF_EFILE_* (the rule;
 *         af_file_private_hint words it for the operator)
 */
apr_status_t af_key_load_file(af_key_t **out, const char *path, af_alg_t alg, const char *kid,
                              const char **why, apr_pool_t *p);

/** Same from memory. */
apr_status_t af_key_load_pem(af_key_t **out, const char *pem, apr_size_t len, af_alg_t alg,
                             const char *kid, const char **why, apr_pool_t *p);

/** Does data look like a key (PEM, DER or a JWK)?  Such bytes are never used as a secret
 *  (A02: public key bytes as an HMAC secret).  1 or 0. */
int af_key_is_key_material(const char *data, apr_size_t len);

/** A symmetric key from raw bytes (policy: length >= hash length of alg). */
apr_status_t af_key_from_secret(af_key_t **out, const unsigned char *secret, apr_size_t len,
                                af_alg_t alg, const char *kid, const char **why, apr_pool_t *p);

/** Generate a fresh private key for alg (ES256/384/512, EdDSA, RS*, PS* 3072 bits; HS*: a
 *  random secret of the hash length).  kid NULL: the RFC 7638 thumbprint becomes the kid. */
apr_status_t af_key_generate(af_key_t **out, af_alg_t alg, const char *kid, apr_pool_t *p);

/** Write a private key as PKCS#8 PEM (pool string). */
apr_status_t af_key_to_pem(const char **pem, const af_key_t *key, apr_pool_t *p);

/** The public JWK of an asymmetric key (kty, crv/n/e/x/y, kid, alg, use "sig"); the json_t
 *  is released by a cleanup on p (af_json_pool_own). oct keys: AF_EKEY_UNSUPPORTED. */
apr_status_t af_key_to_public_jwk(json_t **out, const af_key_t *key, apr_pool_t *p);

/** RFC 7638 thumbprint (base64url SHA-256), used as the default kid. */
const char *af_key_thumbprint(const af_key_t *key, apr_pool_t *p);

af_keyset_t *af_keyset_make(apr_pool_t *p);
void af_keyset_add(af_keyset_t *ks, af_key_t *key);

/**
 * Candidate keys for a token: with a kid, the keys of exactly that kid; without a kid,
 * every key whose pinned alg equals alg.  Writes up to max pointers, returns the count.
 */
int af_keyset_select(const af_key_t **cands, int max, const af_keyset_t *ks, const char *kid,
                     af_alg_t alg);

#endif
