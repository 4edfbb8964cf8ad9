/* jose_int.h -- internals shared by the files of src/jose (not a public API). */
#ifndef AF_JOSE_INT_H
#define AF_JOSE_INT_H

#include "jose/af_jose_errors.h"
#include "jose/af_jwk.h"

#define AF_ALG_IS_HMAC(a) ((a) >= AF_ALG_HS256 && (a) <= AF_ALG_HS512)
#define AF_ALG_IS_RSA(a)  ((a) >= AF_ALG_RS256 && (a) <= AF_ALG_PS512)
#define AF_ALG_IS_PSS(a)  ((a) >= AF_ALG_PS256 && (a) <= AF_ALG_PS512)
#define AF_ALG_IS_EC(a)   ((a) >= AF_ALG_ES256 && (a) <= AF_ALG_ES512)

/** The digest of an algorithm, fetched once per process (NULL for EdDSA). */
const EVP_MD *af_jose_md(af_alg_t alg);
/** The digest length in bytes (0 for EdDSA). */
apr_size_t af_jose_hash_len(af_alg_t alg);
/** ECDSA coordinate length for ES* (32/48/66), 0 otherwise. */
apr_size_t af_jose_ec_len(af_alg_t alg);
/** The OpenSSL group name for ES* ("prime256v1" ...). */
const char *af_jose_ec_group(af_alg_t alg);
/** The JOSE curve name for ES* ("P-256" ...). */
const char *af_jose_ec_crv(af_alg_t alg);

/**
 * Finish an asymmetric key whose pkey is set: derive kty, apply the key policy
 * (RSA size/exponent/ROCA, EC curve + public check, Ed25519 only), pin alg (want, or
 * the default for the key), register the EVP_PKEY cleanup on p.
 */
apr_status_t af_jose_key_finish(af_key_t *key, af_alg_t want, const char **why, apr_pool_t *p);

/** Prepare the inner and outer HMAC digest states of an oct key (registers a cleanup). */
apr_status_t af_jose_hmac_prepare(af_key_t *key, apr_pool_t *p);

/** Does the EVP_PKEY hold a private key? */
int af_jose_pkey_is_private(const EVP_PKEY *pkey);

/** Register EVP_PKEY_free on the pool. */
void af_jose_pkey_pool_own(EVP_PKEY *pkey, apr_pool_t *p);

/** Largest signature we produce (RSA 8192 bits). */
#define AF_JOSE_SIG_MAX 1024

/** Sign msg with key->alg into out (AF_JOSE_SIG_MAX bytes); ECDSA as R||S. */
apr_status_t af_jose_sign_raw(unsigned char *out, apr_size_t *out_len, const af_key_t *key,
                              const unsigned char *msg, apr_size_t msg_len);

#endif
