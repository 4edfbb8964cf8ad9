/* refresh.c -- refresh-token format, hashing and CSPRNG helpers. */
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "common/af_b64.h"
#include "token/af_token.h"

apr_status_t af_token_random(unsigned char *out, apr_size_t len)
{
    if (len > 0 && RAND_bytes(out, (int) len) != 1) {
        return AF_ECRYPTO;
    }
    return APR_SUCCESS;
}

apr_status_t af_token_random_id(const char **id, apr_size_t nbytes, apr_pool_t *p)
{
    unsigned char buf[64];
    apr_status_t rv;

    *id = NULL;
    if (nbytes == 0 || nbytes > sizeof(buf)) {
        return APR_EINVAL;
    }
    rv = af_token_random(buf, nbytes);
    if (rv == APR_SUCCESS) {
        *id = af_b64url_encode(buf, nbytes, p);
    }
    OPENSSL_cleanse(buf, sizeof(buf));
    return rv;
}

apr_status_t af_token_refresh_new(const char **rt, apr_pool_t *p)
{
    return af_token_random_id(rt, AF_RT_BYTES, p);
}

apr_status_t af_token_refresh_check(const char *rt, apr_size_t len)
{
    unsigned char buf[AF_B64URL_DECODED_MAX(AF_RT_LEN)];
    apr_size_t n = 0;
    apr_status_t rv;

    if (rt == NULL || len != AF_RT_LEN) {
        return AF_ETOKEN_FORMAT;
    }
    rv = af_b64url_decode_buf(buf, &n, rt, len);
    OPENSSL_cleanse(buf, sizeof(buf));
    if (rv != APR_SUCCESS || n != AF_RT_BYTES) {
        return AF_ETOKEN_FORMAT;
    }
    return APR_SUCCESS;
}

apr_status_t af_token_refresh_hash(unsigned char out[AF_RT_HASH_LEN], const char *rt,
                                   apr_size_t len)
{
    if (SHA256((const unsigned char *) rt, len, out) == NULL) {
        return AF_ECRYPTO;
    }
    return APR_SUCCESS;
}
