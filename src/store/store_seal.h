/* store_seal.h -- for the store's backends only: the successor of a rotated refresh token,
 * sealed so that only the holder of the old token can open it (the race-free grace window,
 * ARCHITECTURE.md "Store").  One scheme for every backend, byte for byte:
 *
 *   K   = HKDF-SHA256(ikm = old token, salt = "authflow-rt-successor-v1", info = "successor")
 *   AAD = "authflow-rt-successor" || 0x00 || 0x01 (version) || SHA-256(old token)
 *   blob = AES-256-GCM(K, AAD, successor) = nonce (12) || ciphertext (AF_RT_LEN) || tag (16)
 *
 * The blob is useless without the old token, and cannot be moved to another record.
 */
#ifndef AF_STORE_SEAL_H
#define AF_STORE_SEAL_H

#include <apr_pools.h>

#include "token/af_token.h"

/* bytes of a sealed successor */
#define AF_STORE_SEALED_LEN (AF_SEAL_NONCE + AF_RT_LEN + AF_SEAL_TAG)

/** K from the presented (old) token.  @return APR_SUCCESS, AF_ECRYPTO */
apr_status_t af_store_succ_key(unsigned char k[32], const char *rt, apr_size_t rt_len);

/**
 * Seal the successor nrt (AF_RT_LEN chars) under k for the old token whose hash is old_hash.
 * @return APR_SUCCESS, APR_EINVAL (nrt not AF_RT_LEN long), AF_ECRYPTO
 */
apr_status_t af_store_succ_seal(unsigned char out[AF_STORE_SEALED_LEN], const unsigned char k[32],
                                const unsigned char old_hash[AF_RT_HASH_LEN], const char *nrt);

/**
 * Open a sealed successor and check it against its stored hash succ_hash.
 * @param nrt the successor, a pool string
 * @return APR_SUCCESS, AF_ESTORE_CORRUPT (wrong key, tampered, or not the recorded successor)
 */
apr_status_t af_store_succ_open(const char **nrt, const unsigned char k[32],
                                const unsigned char old_hash[AF_RT_HASH_LEN],
                                const unsigned char *sealed, apr_size_t sealed_len,
                                const unsigned char succ_hash[AF_RT_HASH_LEN], apr_pool_t *p);

#endif
