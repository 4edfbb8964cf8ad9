/* seal.c -- HKDF-SHA256 key derivation and AES-256-GCM sealed blobs (SECURITY.md F10). */
#include <string.h>

#include <apr_strings.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "common/af_b64.h"
#include "token/af_token.h"

#define SEAL_SALT "authflow-seal-v1"
#define AAD_MAX   256

apr_status_t af_token_hkdf(unsigned char out[32], const unsigned char *ikm, apr_size_t ikm_len,
                           const char *salt, const char *info)
{
    EVP_KDF *kdf = NULL;
    EVP_KDF_CTX *ctx = NULL;
    OSSL_PARAM params[5], *pp = params;
    apr_status_t rv = AF_ECRYPTO;

    kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    if (kdf == NULL || (ctx = EVP_KDF_CTX_new(kdf)) == NULL) {
        goto leave;
    }
    *pp++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *) "SHA256", 0);
    *pp++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *) ikm, ikm_len);
    if (salt != NULL) {
        *pp++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *) salt, strlen(salt));
    }
    if (info != NULL) {
        *pp++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *) info, strlen(info));
    }
    *pp = OSSL_PARAM_construct_end();
    if (EVP_KDF_derive(ctx, out, 32, params) == 1) {
        rv = APR_SUCCESS;
    }
leave:
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
    return rv;
}

apr_status_t af_token_gcm_seal(unsigned char *out, const unsigned char key[32],
                               const unsigned char *aad, apr_size_t aad_len,
                               const unsigned char *pt, apr_size_t len)
{
    EVP_CIPHER_CTX *ctx = NULL;
    unsigned char *nonce = out, *ct = out + AF_SEAL_NONCE;
    int n = 0, fin = 0;
    apr_status_t rv = AF_ECRYPTO;

    if (len > (apr_size_t) 1 << 30 || aad_len > (apr_size_t) 1 << 30) {
        return APR_EINVAL;
    }
    if (af_token_random(nonce, AF_SEAL_NONCE) != APR_SUCCESS) {
        goto leave;
    }
    ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL || EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, AF_SEAL_NONCE, NULL) != 1 ||
        EVP_EncryptInit_ex(ctx, NULL, NULL, key, nonce) != 1) {
        goto leave;
    }
    if (aad_len > 0 && EVP_EncryptUpdate(ctx, NULL, &n, aad, (int) aad_len) != 1) {
        goto leave;
    }
    n = 0;
    if (len > 0 && EVP_EncryptUpdate(ctx, ct, &n, pt, (int) len) != 1) {
        goto leave;
    }
    if (EVP_EncryptFinal_ex(ctx, ct + n, &fin) != 1 || (apr_size_t) (n + fin) != len ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, AF_SEAL_TAG, ct + len) != 1) {
        goto leave;
    }
    rv = APR_SUCCESS;
leave:
    EVP_CIPHER_CTX_free(ctx);
    return rv;
}

apr_status_t af_token_gcm_open(unsigned char *out, apr_size_t *out_len, const unsigned char key[32],
                               const unsigned char *aad, apr_size_t aad_len,
                               const unsigned char *in, apr_size_t in_len)
{
    EVP_CIPHER_CTX *ctx = NULL;
    apr_size_t len;
    int n = 0, fin = 0;
    apr_status_t rv = AF_ECRYPTO;

    *out_len = 0;
    if (in_len < AF_SEAL_NONCE + AF_SEAL_TAG || in_len > ((apr_size_t) 1 << 30)) {
        return AF_ETOKEN_SEAL;
    }
    len = in_len - AF_SEAL_NONCE - AF_SEAL_TAG;
    ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL || EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, AF_SEAL_NONCE, NULL) != 1 ||
        EVP_DecryptInit_ex(ctx, NULL, NULL, key, in) != 1) {
        goto leave;
    }
    if (aad_len > 0 && EVP_DecryptUpdate(ctx, NULL, &n, aad, (int) aad_len) != 1) {
        goto leave;
    }
    n = 0;
    if (len > 0 && EVP_DecryptUpdate(ctx, out, &n, in + AF_SEAL_NONCE, (int) len) != 1) {
        goto leave;
    }
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, AF_SEAL_TAG,
                            (void *) (in + AF_SEAL_NONCE + len)) != 1) {
        goto leave;
    }
    if (EVP_DecryptFinal_ex(ctx, out + n, &fin) != 1) {
        OPENSSL_cleanse(out, len);
        rv = AF_ETOKEN_SEAL; /* tag mismatch: tampered, other key or other AAD */
        goto leave;
    }
    *out_len = (apr_size_t) (n + fin);
    rv = APR_SUCCESS;
leave:
    EVP_CIPHER_CTX_free(ctx);
    return rv;
}

apr_status_t af_token_seal_key(af_seal_key_t **out, const unsigned char *secret,
                               apr_size_t secret_len, const char *purpose, apr_pool_t *p)
{
    af_seal_key_t *k;
    apr_status_t rv;

    *out = NULL;
    if (secret == NULL || secret_len < AF_SECRET_LEN || purpose == NULL || *purpose == '\0' ||
        strlen(purpose) > AAD_MAX - 2) {
        return APR_EINVAL;
    }
    k = apr_pcalloc(p, sizeof(*k));
    k->purpose = apr_pstrdup(p, purpose);
    rv = af_token_hkdf(k->key, secret, secret_len, SEAL_SALT, purpose);
    if (rv == APR_SUCCESS) {
        *out = k;
    }
    return rv;
}

static apr_size_t make_aad(unsigned char *aad, const af_seal_key_t *key, unsigned char version)
{
    apr_size_t n = strlen(key->purpose);

    memcpy(aad, key->purpose, n);
    aad[n] = 0;
    aad[n + 1] = version;
    return n + 2;
}

static void put_i64(unsigned char *b, apr_int64_t v)
{
    apr_uint64_t u = (apr_uint64_t) v;
    int i;

    for (i = 7; i >= 0; i--) {
        b[i] = (unsigned char) (u & 0xff);
        u >>= 8;
    }
}

static apr_int64_t get_i64(const unsigned char *b)
{
    apr_uint64_t u = 0;
    int i;

    for (i = 0; i < 8; i++) {
        u = (u << 8) | b[i];
    }
    return (apr_int64_t) u;
}

apr_status_t af_token_seal(const char **blob, const af_seal_key_t *key, const void *data,
                           apr_size_t len, apr_int64_t now, apr_int64_t max_age, apr_pool_t *p)
{
    unsigned char aad[AAD_MAX], *pt, *raw;
    apr_size_t aad_len, pt_len = 8 + len;
    apr_status_t rv;

    *blob = NULL;
    if (key == NULL || max_age <= 0 || len > 64 * 1024) {
        return APR_EINVAL;
    }
    pt = apr_palloc(p, pt_len);
    put_i64(pt, now + max_age);
    if (len > 0) {
        memcpy(pt + 8, data, len);
    }
    raw = apr_palloc(p, 1 + AF_SEAL_NONCE + pt_len + AF_SEAL_TAG);
    raw[0] = AF_SEAL_VERSION;
    aad_len = make_aad(aad, key, AF_SEAL_VERSION);
    rv = af_token_gcm_seal(raw + 1, key->key, aad, aad_len, pt, pt_len);
    OPENSSL_cleanse(pt, pt_len);
    if (rv == APR_SUCCESS) {
        *blob = af_b64url_encode(raw, 1 + AF_SEAL_NONCE + pt_len + AF_SEAL_TAG, p);
    }
    return rv;
}

apr_status_t af_token_unseal(unsigned char **data, apr_size_t *len, const af_seal_key_t *key,
                             const char *blob, apr_size_t blob_len, apr_int64_t now, apr_pool_t *p)
{
    unsigned char aad[AAD_MAX], *raw = NULL, *pt;
    apr_size_t raw_len = 0, pt_len = 0, aad_len;
    apr_status_t rv;

    *data = NULL;
    *len = 0;
    if (key == NULL || blob == NULL || blob_len > 128 * 1024) {
        return AF_ETOKEN_SEAL;
    }
    if (af_b64url_decode(&raw, &raw_len, blob, blob_len, p) != APR_SUCCESS ||
        raw_len < AF_SEAL_OVERHEAD + 8 || raw[0] != AF_SEAL_VERSION) {
        return AF_ETOKEN_SEAL;
    }
    aad_len = make_aad(aad, key, raw[0]);
    pt = apr_palloc(p, raw_len - AF_SEAL_OVERHEAD + 1);
    rv = af_token_gcm_open(pt, &pt_len, key->key, aad, aad_len, raw + 1, raw_len - 1);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (pt_len < 8) {
        return AF_ETOKEN_SEAL;
    }
    if (now > get_i64(pt)) {
        OPENSSL_cleanse(pt, pt_len);
        return AF_ETOKEN_EXPIRED;
    }
    pt[pt_len] = '\0';
    *data = pt + 8;
    *len = pt_len - 8;
    return APR_SUCCESS;
}
