/* jwk_pem.c -- PEM/DER and secret-file loading, generation, export, thumbprints. */
#include <string.h>

#include <apr_file_io.h>
#include <apr_strings.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "common/af_b64.h"
#include "common/af_file.h"
#include "common/af_json.h"
#include "jose/jose_int.h"

#define AF_KEY_FILE_MAX (1024 * 1024)

static const char *no_why;

/* Does this "secret" look like a key in PEM, DER or JWK form?  Then alg=HS* would make
 * public key bytes an HMAC secret (A02: the algorithm confusion from one configuration
 * word), so the secret is refused. */
int af_key_is_key_material(const char *data, apr_size_t len)
{
    static const int selections[] = {EVP_PKEY_KEYPAIR, EVP_PKEY_PUBLIC_KEY};
    apr_size_t i;

    for (i = 0; i + 11 <= len; i++) {
        if (memcmp(data + i, "-----BEGIN ", 11) == 0) {
            return 1;
        }
    }
    for (i = 0;
         i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n');
         i++) {
    }
    if (i < len && data[i] == '{') {
        for (; i + 5 <= len; i++) {
            if (memcmp(data + i, "\"kty\"", 5) == 0) {
                return 1;
            }
        }
    }
    for (i = 0; i < sizeof(selections) / sizeof(selections[0]); i++) {
        const unsigned char *d = (const unsigned char *) data;
        size_t dlen = len;
        EVP_PKEY *pkey = NULL;
        OSSL_DECODER_CTX *dctx =
            OSSL_DECODER_CTX_new_for_pkey(&pkey, "DER", NULL, NULL, selections[i], NULL, NULL);
        int ok = dctx != NULL && OSSL_DECODER_from_data(dctx, &d, &dlen);

        OSSL_DECODER_CTX_free(dctx);
        EVP_PKEY_free(pkey);
        if (ok) {
            return 1;
        }
    }
    return 0;
}

apr_status_t af_key_load_pem(af_key_t **out, const char *pem, apr_size_t len, af_alg_t alg,
                             const char *kid, const char **why, apr_pool_t *p)
{
    static const int selections[] = {EVP_PKEY_KEYPAIR, EVP_PKEY_PUBLIC_KEY};
    EVP_PKEY *pkey = NULL;
    af_key_t *key;
    apr_size_t i;
    apr_status_t rv;

    if (why == NULL) {
        why = &no_why;
    }
    *why = NULL;
    *out = NULL;
    if (AF_ALG_IS_HMAC(alg)) {
        if (af_key_is_key_material(pem, len)) {
            *why = "hmac_secret_is_a_key";
            return AF_EKEY_INVALID;
        }
        return af_key_from_secret(out, (const unsigned char *) pem, len, alg, kid, why, p);
    }
    for (i = 0; i < sizeof(selections) / sizeof(selections[0]) && pkey == NULL; i++) {
        const unsigned char *data = (const unsigned char *) pem;
        size_t dlen = len;
        OSSL_DECODER_CTX *dctx =
            OSSL_DECODER_CTX_new_for_pkey(&pkey, NULL, NULL, NULL, selections[i], NULL, NULL);

        if (dctx == NULL) {
            return AF_ECRYPTO;
        }
        if (!OSSL_DECODER_from_data(dctx, &data, &dlen)) {
            EVP_PKEY_free(pkey);
            pkey = NULL;
        }
        OSSL_DECODER_CTX_free(dctx);
    }
    if (pkey == NULL) {
        *why = "key_not_decodable";
        return AF_EKEY_INVALID;
    }
    key = apr_pcalloc(p, sizeof(*key));
    key->kid = kid != NULL ? apr_pstrdup(p, kid) : NULL;
    key->pkey = pkey;
    rv = af_jose_key_finish(key, alg, why, p);
    if (rv == APR_SUCCESS) {
        *out = key;
    }
    return rv;
}

apr_status_t af_key_load_file(af_key_t **out, const char *path, af_alg_t alg, const char *kid,
                              const char **why, apr_pool_t *p)
{
    char *buf = NULL;
    apr_size_t len = 0, n;
    apr_status_t rv;

    if (why == NULL) {
        why = &no_why;
    }
    *why = NULL;
    *out = NULL;
    rv = af_file_read(&buf, &len, path, AF_KEY_FILE_MAX, p);
    if (rv != APR_SUCCESS) {
        *why = rv == AF_ETOOBIG ? "key_file_too_large" : "key_file_unreadable";
        return rv;
    }
    n = len;
    if (AF_ALG_IS_HMAC(alg)) {
        /* a secret file: raw bytes; one trailing newline (echo, editors) is not key material */
        if (n > 0 && buf[n - 1] == '\n') {
            n--;
            if (n > 0 && buf[n - 1] == '\r') {
                n--;
            }
        }
    }
    rv = af_key_load_pem(out, buf, n, alg, kid, why, p);
    OPENSSL_cleanse(buf, len);
    if (rv == APR_SUCCESS && (*out)->is_private) {
        /* private material (a private key, an HMAC secret): the one secret-file rule; a
         * public key needs none */
        rv = af_file_check_private(path);
        if (rv != APR_SUCCESS) {
            *out = NULL;
            *why = AF_IS_AF_ERROR(rv) ? af_strerror(rv) : "key_file_unreadable";
        }
    }
    return rv;
}

apr_status_t af_key_generate(af_key_t **out, af_alg_t alg, const char *kid, apr_pool_t *p)
{
    EVP_PKEY *pkey = NULL;
    af_key_t *key;
    const char *why = NULL;
    apr_status_t rv;

    *out = NULL;
    if (AF_ALG_IS_HMAC(alg)) {
        unsigned char secret[64];
        apr_size_t n = af_jose_hash_len(alg);

        if (RAND_bytes(secret, (int) n) != 1) {
            return AF_ECRYPTO;
        }
        rv = af_key_from_secret(out, secret, n, alg, kid, &why, p);
        OPENSSL_cleanse(secret, sizeof(secret));
        goto leave;
    }
    if (AF_ALG_IS_EC(alg)) {
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", af_jose_ec_group(alg));
    } else if (AF_ALG_IS_RSA(alg)) {
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 3072);
    } else if (alg == AF_ALG_EDDSA) {
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    } else {
        return AF_EKEY_UNSUPPORTED;
    }
    if (pkey == NULL) {
        return AF_ECRYPTO;
    }
    key = apr_pcalloc(p, sizeof(*key));
    key->pkey = pkey;
    rv = af_jose_key_finish(key, alg, &why, p);
    if (rv == APR_SUCCESS) {
        *out = key;
    }
leave:
    if (rv == APR_SUCCESS) {
        (*out)->kid = kid != NULL ? apr_pstrdup(p, kid) : af_key_thumbprint(*out, p);
    }
    return rv;
}

apr_status_t af_key_to_pem(const char **pem, const af_key_t *key, apr_pool_t *p)
{
    BIO *bio;
    char *data;
    long n;
    apr_status_t rv = APR_SUCCESS;

    *pem = NULL;
    if (key->pkey == NULL) {
        return AF_EKEY_UNSUPPORTED;
    }
    if (!key->is_private) {
        return AF_EKEY_PUBLIC;
    }
    bio = BIO_new(BIO_s_mem());
    if (bio == NULL) {
        return AF_ECRYPTO;
    }
    if (!PEM_write_bio_PrivateKey(bio, key->pkey, NULL, NULL, 0, NULL, NULL)) {
        rv = AF_ECRYPTO;
        goto leave;
    }
    n = BIO_get_mem_data(bio, &data);
    *pem = apr_pstrmemdup(p, data, (apr_size_t) n);
    OPENSSL_cleanse(data, (size_t) n);
leave:
    BIO_free(bio);
    return rv;
}

static const char *bn_param_b64(const EVP_PKEY *pkey, const char *name, int pad, apr_pool_t *p)
{
    BIGNUM *bn = NULL;
    unsigned char *buf;
    int n;
    const char *r = NULL;

    if (!EVP_PKEY_get_bn_param(pkey, name, &bn) || bn == NULL) {
        return NULL;
    }
    n = pad > 0 ? pad : BN_num_bytes(bn);
    buf = apr_palloc(p, (apr_size_t) n + 1);
    if (BN_bn2binpad(bn, buf, n) == n) {
        r = af_b64url_encode(buf, (apr_size_t) n, p);
    }
    BN_free(bn);
    return r;
}

/* The required members of the key (RFC 7638 §3.2), as base64url strings. */
static apr_status_t public_members(const char **a, const char **b, const char **crv,
                                   const af_key_t *key, apr_pool_t *p)
{
    unsigned char raw[64];
    size_t rl = sizeof(raw);

    *a = *b = *crv = NULL;
    switch (key->kty) {
    case AF_KTY_RSA:
        *a = bn_param_b64(key->pkey, OSSL_PKEY_PARAM_RSA_N, 0, p);
        *b = bn_param_b64(key->pkey, OSSL_PKEY_PARAM_RSA_E, 0, p);
        break;
    case AF_KTY_EC:
        *crv = af_jose_ec_crv(key->alg);
        *a = bn_param_b64(key->pkey, OSSL_PKEY_PARAM_EC_PUB_X, (int) af_jose_ec_len(key->alg), p);
        *b = bn_param_b64(key->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, (int) af_jose_ec_len(key->alg), p);
        break;
    case AF_KTY_OKP:
        *crv = "Ed25519";
        if (EVP_PKEY_get_raw_public_key(key->pkey, raw, &rl) == 1) {
            *a = af_b64url_encode(raw, rl, p);
            *b = "";
        }
        break;
    default:
        return AF_EKEY_UNSUPPORTED;
    }
    return (*a != NULL && *b != NULL) ? APR_SUCCESS : AF_ECRYPTO;
}

apr_status_t af_key_to_public_jwk(json_t **out, const af_key_t *key, apr_pool_t *p)
{
    const char *a, *b, *crv;
    json_t *j;
    apr_status_t rv;

    *out = NULL;
    rv = public_members(&a, &b, &crv, key, p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    j = af_json_pool_own(json_object(), p);
    if (j == NULL) {
        return AF_EINTERNAL;
    }
    switch (key->kty) {
    case AF_KTY_RSA:
        json_object_set_new(j, "kty", json_string("RSA"));
        json_object_set_new(j, "n", json_string(a));
        json_object_set_new(j, "e", json_string(b));
        break;
    case AF_KTY_EC:
        json_object_set_new(j, "kty", json_string("EC"));
        json_object_set_new(j, "crv", json_string(crv));
        json_object_set_new(j, "x", json_string(a));
        json_object_set_new(j, "y", json_string(b));
        break;
    default:
        json_object_set_new(j, "kty", json_string("OKP"));
        json_object_set_new(j, "crv", json_string(crv));
        json_object_set_new(j, "x", json_string(a));
        break;
    }
    if (key->kid != NULL) {
        json_object_set_new(j, "kid", json_string(key->kid));
    }
    json_object_set_new(j, "alg", json_string(af_alg_name(key->alg)));
    json_object_set_new(j, "use", json_string("sig"));
    *out = j;
    return APR_SUCCESS;
}

const char *af_key_thumbprint(const af_key_t *key, apr_pool_t *p)
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    const char *a, *b, *crv, *canon;

    if (key->kty == AF_KTY_OCT) {
        canon = apr_psprintf(p, "{\"k\":\"%s\",\"kty\":\"oct\"}",
                             af_b64url_encode(key->secret, key->secret_len, p));
    } else if (public_members(&a, &b, &crv, key, p) != APR_SUCCESS) {
        return NULL;
    } else if (key->kty == AF_KTY_RSA) {
        canon = apr_psprintf(p, "{\"e\":\"%s\",\"kty\":\"RSA\",\"n\":\"%s\"}", b, a);
    } else if (key->kty == AF_KTY_EC) {
        canon =
            apr_psprintf(p, "{\"crv\":\"%s\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", crv, a, b);
    } else {
        canon = apr_psprintf(p, "{\"crv\":\"%s\",\"kty\":\"OKP\",\"x\":\"%s\"}", crv, a);
    }
    if (!EVP_Digest(canon, strlen(canon), md, &mdlen, af_jose_md(AF_ALG_ES256), NULL)) {
        return NULL;
    }
    return af_b64url_encode(md, mdlen, p);
}
