/* jws_crypto.c -- the signature primitives of RFC 7518 §3 on OpenSSL 3 EVP.
 *
 * The algorithm always comes from the key (key->alg).  ECDSA signatures are exactly
 * 2 * coordinate length (P1363 R||S) and converted to DER here; RSA-PSS pins the salt
 * length to the hash length and MGF1 to the same hash; HMAC only runs with an oct key
 * of non-zero length, the tag length must equal the hash length, compared with
 * CRYPTO_memcmp.
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "jose/af_jws.h"
#include "jose/jose_int.h"

#define AF_MAX_MD 64

static apr_status_t hmac_compute(unsigned char *out, size_t *out_len, const af_key_t *key,
                                 const unsigned char *msg, apr_size_t msg_len)
{
    unsigned char inner[EVP_MAX_MD_SIZE];
    unsigned int il = 0, ol = 0;
    EVP_MD_CTX *ctx;
    apr_status_t rv = AF_ECRYPTO;

    /* never an HMAC keyed with a public key, a non-oct key, or nothing (A02, A03) */
    if (key->kty != AF_KTY_OCT || key->pkey != NULL || key->secret == NULL ||
        key->secret_len == 0 || key->secret_len < af_jose_hash_len(key->alg)) {
        return AF_EJWS_ALG;
    }
    if (key->hmac_pads[0] == NULL) {
        return AF_ECRYPTO; /* every loader prepares them (af_jose_hmac_prepare) */
    }
    /* H((K0 ^ opad) || H((K0 ^ ipad) || msg)), from the prepared states */
    ctx = EVP_MD_CTX_new();
    if (ctx != NULL && EVP_MD_CTX_copy_ex(ctx, key->hmac_pads[0]) &&
        EVP_DigestUpdate(ctx, msg, msg_len) && EVP_DigestFinal_ex(ctx, inner, &il) &&
        EVP_MD_CTX_copy_ex(ctx, key->hmac_pads[1]) && EVP_DigestUpdate(ctx, inner, il) &&
        EVP_DigestFinal_ex(ctx, out, &ol)) {
        *out_len = ol;
        rv = APR_SUCCESS;
    }
    EVP_MD_CTX_free(ctx);
    OPENSSL_cleanse(inner, sizeof(inner));
    return rv;
}

/* One DER INTEGER from a fixed-width big-endian value. */
static apr_size_t der_int(unsigned char *o, const unsigned char *v, apr_size_t n)
{
    apr_size_t pad;

    while (n > 1 && v[0] == 0) {
        v++;
        n--;
    }
    pad = (v[0] & 0x80) ? 1 : 0;
    o[0] = 0x02;
    o[1] = (unsigned char) (n + pad);
    o[2] = 0x00;
    memcpy(o + 2 + pad, v, n);
    return 2 + pad + n;
}

/* R||S (each clen bytes, clen <= 66) -> DER ECDSA-Sig-Value; out >= 2 * clen + 9. */
static apr_size_t p1363_to_der(unsigned char *out, const unsigned char *sig, apr_size_t clen)
{
    unsigned char body[2 * 69];
    apr_size_t bl = der_int(body, sig, clen);

    bl += der_int(body + bl, sig + clen, clen);
    out[0] = 0x30;
    if (bl < 0x80) {
        out[1] = (unsigned char) bl;
        memcpy(out + 2, body, bl);
        return bl + 2;
    }
    out[1] = 0x81;
    out[2] = (unsigned char) bl;
    memcpy(out + 3, body, bl);
    return bl + 3;
}

static int all_zero(const unsigned char *v, apr_size_t n)
{
    unsigned char acc = 0;
    apr_size_t i;

    for (i = 0; i < n; i++) {
        acc |= v[i];
    }
    return acc == 0;
}

static apr_status_t pkey_ctx_for(EVP_PKEY_CTX **out, const af_key_t *key, int sign)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key->pkey, NULL);
    const EVP_MD *md = af_jose_md(key->alg);
    int ok;

    *out = NULL;
    if (ctx == NULL) {
        return AF_ECRYPTO;
    }
    ok = (sign ? EVP_PKEY_sign_init(ctx) : EVP_PKEY_verify_init(ctx)) == 1;
    if (ok && AF_ALG_IS_RSA(key->alg)) {
        if (AF_ALG_IS_PSS(key->alg)) {
            ok = EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) == 1 &&
                 EVP_PKEY_CTX_set_signature_md(ctx, md) == 1 &&
                 EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) == 1 &&
                 EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, (int) af_jose_hash_len(key->alg)) == 1;
        } else {
            ok = EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1 &&
                 EVP_PKEY_CTX_set_signature_md(ctx, md) == 1;
        }
    }
    if (!ok) {
        EVP_PKEY_CTX_free(ctx);
        return AF_ECRYPTO;
    }
    *out = ctx;
    return APR_SUCCESS;
}

static int key_type_ok(const af_key_t *key)
{
    int id;

    if (key->pkey == NULL) {
        return 0;
    }
    id = EVP_PKEY_get_base_id(key->pkey);
    if (AF_ALG_IS_RSA(key->alg)) {
        return id == EVP_PKEY_RSA && key->kty == AF_KTY_RSA;
    }
    if (AF_ALG_IS_EC(key->alg)) {
        return id == EVP_PKEY_EC && key->kty == AF_KTY_EC;
    }
    return key->alg == AF_ALG_EDDSA && id == EVP_PKEY_ED25519 && key->kty == AF_KTY_OKP;
}

apr_status_t af_jws_verify_raw(const af_key_t *key, const unsigned char *msg, apr_size_t msg_len,
                               const unsigned char *sig, apr_size_t sig_len)
{
    unsigned char h[AF_MAX_MD], der[2 * 66 + 16];
    unsigned int hl = 0;
    const unsigned char *s = sig;
    apr_size_t sl = sig_len;
    EVP_PKEY_CTX *ctx;
    apr_status_t rv;
    int ok;

    if (key == NULL || key->alg <= AF_ALG_UNKNOWN || key->alg >= AF_ALG_COUNT) {
        return AF_EJWS_ALG;
    }
    if (AF_ALG_IS_HMAC(key->alg)) {
        unsigned char tag[AF_MAX_MD];
        size_t tl = 0;

        if (sig_len != af_jose_hash_len(key->alg)) {
            return AF_EJWS_SIG; /* truncated or extended tags never (A15) */
        }
        rv = hmac_compute(tag, &tl, key, msg, msg_len);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        ok = tl == sig_len && CRYPTO_memcmp(tag, sig, sig_len) == 0;
        OPENSSL_cleanse(tag, sizeof(tag));
        return ok ? APR_SUCCESS : AF_EJWS_SIG;
    }
    if (!key_type_ok(key)) {
        return AF_EJWS_ALG;
    }
    if (key->alg == AF_ALG_EDDSA) {
        EVP_MD_CTX *mctx;

        if (sig_len != 64) {
            return AF_EJWS_SIG;
        }
        mctx = EVP_MD_CTX_new();
        ok = mctx != NULL &&
             EVP_DigestVerifyInit_ex(mctx, NULL, NULL, NULL, NULL, key->pkey, NULL) == 1 &&
             EVP_DigestVerify(mctx, sig, sig_len, msg, msg_len) == 1;
        EVP_MD_CTX_free(mctx);
        return ok ? APR_SUCCESS : AF_EJWS_SIG;
    }
    if (AF_ALG_IS_EC(key->alg)) {
        apr_size_t clen = af_jose_ec_len(key->alg);

        if (sig_len != 2 * clen || all_zero(sig, clen) || all_zero(sig + clen, clen)) {
            return AF_EJWS_SIG;
        }
        sl = p1363_to_der(der, sig, clen);
        s = der;
    } else if (sig_len != (apr_size_t) EVP_PKEY_get_size(key->pkey)) {
        return AF_EJWS_SIG;
    }
    if (!EVP_Digest(msg, msg_len, h, &hl, af_jose_md(key->alg), NULL)) {
        return AF_ECRYPTO;
    }
    rv = pkey_ctx_for(&ctx, key, 0);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    ok = EVP_PKEY_verify(ctx, s, sl, h, hl) == 1;
    EVP_PKEY_CTX_free(ctx);
    return ok ? APR_SUCCESS : AF_EJWS_SIG;
}

apr_status_t af_jose_sign_raw(unsigned char *out, apr_size_t *out_len, const af_key_t *key,
                              const unsigned char *msg, apr_size_t msg_len)
{
    unsigned char h[AF_MAX_MD], der[2 * 66 + 16];
    unsigned int hl = 0;
    size_t ol;
    EVP_PKEY_CTX *ctx = NULL;
    apr_status_t rv = APR_SUCCESS;

    *out_len = 0;
    if (key == NULL || !key->is_private) {
        return AF_EKEY_PUBLIC;
    }
    if (AF_ALG_IS_HMAC(key->alg)) {
        rv = hmac_compute(out, &ol, key, msg, msg_len);
        *out_len = rv == APR_SUCCESS ? ol : 0;
        return rv;
    }
    if (!key_type_ok(key)) {
        return AF_EJWS_ALG;
    }
    if (key->alg == AF_ALG_EDDSA) {
        EVP_MD_CTX *mctx = EVP_MD_CTX_new();

        ol = 64;
        if (mctx == NULL ||
            EVP_DigestSignInit_ex(mctx, NULL, NULL, NULL, NULL, key->pkey, NULL) != 1 ||
            EVP_DigestSign(mctx, out, &ol, msg, msg_len) != 1) {
            rv = AF_ECRYPTO;
        }
        EVP_MD_CTX_free(mctx);
        *out_len = rv == APR_SUCCESS ? ol : 0;
        return rv;
    }
    if (!EVP_Digest(msg, msg_len, h, &hl, af_jose_md(key->alg), NULL)) {
        return AF_ECRYPTO;
    }
    rv = pkey_ctx_for(&ctx, key, 1);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (AF_ALG_IS_EC(key->alg)) {
        apr_size_t clen = af_jose_ec_len(key->alg);
        const unsigned char *dp = der;
        ECDSA_SIG *es = NULL;
        const BIGNUM *r, *s;

        ol = sizeof(der);
        if (EVP_PKEY_sign(ctx, der, &ol, h, hl) != 1 ||
            (es = d2i_ECDSA_SIG(NULL, &dp, (long) ol)) == NULL) {
            rv = AF_ECRYPTO;
            goto leave;
        }
        ECDSA_SIG_get0(es, &r, &s);
        if (BN_bn2binpad(r, out, (int) clen) != (int) clen ||
            BN_bn2binpad(s, out + clen, (int) clen) != (int) clen) {
            rv = AF_ECRYPTO;
        }
        ECDSA_SIG_free(es);
        *out_len = rv == APR_SUCCESS ? 2 * clen : 0;
        goto leave;
    }
    ol = (size_t) EVP_PKEY_get_size(key->pkey);
    if (EVP_PKEY_sign(ctx, out, &ol, h, hl) != 1) {
        rv = AF_ECRYPTO;
        goto leave;
    }
    *out_len = ol;
leave:
    EVP_PKEY_CTX_free(ctx);
    return rv;
}
