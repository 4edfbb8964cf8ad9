/* store_seal.c -- the sealed successor shared by every store backend (store_seal.h). */
#include <string.h>

#include <apr_strings.h>
#include <openssl/crypto.h>

#include "store/af_store_errors.h"
#include "store/store_seal.h"

#define SUCC_SALT "authflow-rt-successor-v1"
#define SUCC_AAD  "authflow-rt-successor"

static apr_size_t succ_aad(unsigned char *aad, const unsigned char *old_hash)
{
    apr_size_t n = sizeof(SUCC_AAD) - 1;

    memcpy(aad, SUCC_AAD, n);
    aad[n] = 0;
    aad[n + 1] = 1; /* version */
    memcpy(aad + n + 2, old_hash, AF_RT_HASH_LEN);
    return n + 2 + AF_RT_HASH_LEN;
}

apr_status_t af_store_succ_key(unsigned char k[32], const char *rt, apr_size_t rt_len)
{
    return af_token_hkdf(k, (const unsigned char *) rt, rt_len, SUCC_SALT, "successor");
}

apr_status_t af_store_succ_seal(unsigned char out[AF_STORE_SEALED_LEN], const unsigned char k[32],
                                const unsigned char old_hash[AF_RT_HASH_LEN], const char *nrt)
{
    unsigned char aad[64];

    if (nrt == NULL || strlen(nrt) != AF_RT_LEN) {
        return APR_EINVAL;
    }
    return af_token_gcm_seal(out, k, aad, succ_aad(aad, old_hash), (const unsigned char *) nrt,
                             AF_RT_LEN);
}

apr_status_t af_store_succ_open(const char **nrt, const unsigned char k[32],
                                const unsigned char old_hash[AF_RT_HASH_LEN],
                                const unsigned char *sealed, apr_size_t sealed_len,
                                const unsigned char succ_hash[AF_RT_HASH_LEN], apr_pool_t *p)
{
    unsigned char aad[64], pt[AF_STORE_SEALED_LEN], chk[AF_RT_HASH_LEN];
    apr_size_t n = 0;
    apr_status_t rv;

    *nrt = NULL;
    if (sealed_len > AF_STORE_SEALED_LEN) {
        return AF_ESTORE_CORRUPT;
    }
    rv = af_token_gcm_open(pt, &n, k, aad, succ_aad(aad, old_hash), sealed, sealed_len);
    if (rv != APR_SUCCESS || n != AF_RT_LEN ||
        af_token_refresh_hash(chk, (const char *) pt, n) != APR_SUCCESS ||
        CRYPTO_memcmp(chk, succ_hash, AF_RT_HASH_LEN) != 0) {
        OPENSSL_cleanse(pt, sizeof(pt));
        return AF_ESTORE_CORRUPT;
    }
    *nrt = apr_pstrmemdup(p, (const char *) pt, n);
    OPENSSL_cleanse(pt, sizeof(pt));
    return APR_SUCCESS;
}
