/* jose_testutil.h -- helpers shared by the test_jose*.c binaries (header only: static
 * inline functions, so binaries that do not include it are unaffected).
 *
 *
 * Attack tokens are built here from hand-written header/payload JSON, with signatures
 * made by OpenSSL directly (EVP_Q_mac, EVP_DigestSign) or by af_jws_sign_with_header,
 * which signs any header verbatim.
 */
#ifndef AF_JOSE_TESTUTIL_H
#define AF_JOSE_TESTUTIL_H

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <apr_strings.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/encoder.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "af_testutil.h"
#include "common/af_b64.h"
#include "common/af_json.h"
#include "common/af_log.h"
#include "jose/af_jose_errors.h"
#include "jose/af_jwt.h"

#define NOW    1700000000L
#define LEEWAY 60
#define ISS    "https://issuer.example"
#define AUD    "https://app.example"

/* ---- helpers ------------------------------------------------------------------------------ */

static inline const char *b64s(const char *s, apr_pool_t *p)
{
    return af_b64url_encode((const unsigned char *) s, strlen(s), p);
}

static inline af_jwt_policy_t policy(void)
{
    af_jwt_policy_t pol;

    memset(&pol, 0, sizeof(pol));
    pol.now = NOW;
    pol.leeway = LEEWAY;
    pol.iss = ISS;
    pol.aud = AUD;
    return pol;
}

/* A good claim set with extra members appended (extra starts with ',' or is ""). */
static inline const char *claims(apr_pool_t *p, const char *extra)
{
    return apr_psprintf(p,
                        "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"alice\","
                        "\"jti\":\"j-1\",\"iat\":%ld,\"exp\":%ld%s}",
                        NOW - 10, NOW + 600, extra);
}

/* Claims without the time members, for B02/B03 (the caller adds them). */
static inline const char *claims_t(apr_pool_t *p, const char *times)
{
    return apr_psprintf(p,
                        "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"alice\","
                        "\"jti\":\"j-1\"%s}",
                        times);
}

/* b64(header).b64(payload).b64(HMAC(secret)) made with OpenSSL directly. */
static inline const char *hmac_token(apr_pool_t *p, const char *md, const unsigned char *secret,
                                     size_t slen, const char *header, const char *payload)
{
    const char *input = apr_pstrcat(p, b64s(header, p), ".", b64s(payload, p), NULL);
    unsigned char tag[64];
    size_t tl = 0;

    ck_assert_ptr_nonnull(EVP_Q_mac(NULL, "HMAC", NULL, md, NULL, secret, slen,
                                    (const unsigned char *) input, strlen(input), tag, sizeof(tag),
                                    &tl));
    return apr_pstrcat(p, input, ".", af_b64url_encode(tag, tl, p), NULL);
}

static inline const char *sign_hdr(apr_pool_t *p, const af_key_t *key, const char *header,
                                   const char *payload)
{
    const char **t = apr_pcalloc(p, sizeof(*t)); /* not a local: GCC's dangling check */
    apr_status_t rv = af_jws_sign_with_header(t, key, header, (const unsigned char *) payload,
                                              strlen(payload), p);

    ck_assert_int_eq(rv, APR_SUCCESS);
    return *t;
}

static inline const char *raw_token(apr_pool_t *p, const char *header, const char *payload,
                                    const unsigned char *sig, size_t sl)
{
    return apr_pstrcat(p, b64s(header, p), ".", b64s(payload, p), ".", af_b64url_encode(sig, sl, p),
                       NULL);
}

static inline af_keyset_t *ks_of(apr_pool_t *p, af_key_t *a, af_key_t *b)
{
    af_keyset_t *ks = af_keyset_make(p);

    af_keyset_add(ks, a);
    if (b != NULL) {
        af_keyset_add(ks, b);
    }
    return ks;
}

static inline apr_status_t jwt(apr_pool_t *p, const char *token, const af_keyset_t *ks,
                               const af_jwt_policy_t *pol)
{
    json_t *c = NULL;
    apr_status_t rv = af_jwt_verify(&c, NULL, token, strlen(token), ks, pol, p);

    ck_assert(rv == APR_SUCCESS ? c != NULL : c == NULL);
    return rv;
}

static inline apr_status_t jwt_default(apr_pool_t *p, const char *token, const af_keyset_t *ks)
{
    af_jwt_policy_t pol = policy();

    return jwt(p, token, ks, &pol);
}

static inline af_key_t *gen(apr_pool_t *p, af_alg_t alg, const char *kid)
{
    af_key_t *k = NULL;

    ck_assert_int_eq(af_key_generate(&k, alg, kid, p), APR_SUCCESS);
    ck_assert_int_eq(k->alg, alg);
    return k;
}

/* PEM text of an EVP_PKEY in a given structure (OSSL_ENCODER). */
static inline const char *encode(apr_pool_t *p, EVP_PKEY *pkey, int selection, const char *type,
                                 const char *structure, size_t *len)
{
    OSSL_ENCODER_CTX *ectx = OSSL_ENCODER_CTX_new_for_pkey(pkey, selection, type, structure, NULL);
    unsigned char *data = NULL;
    size_t dl = 0;
    const char *r;

    ck_assert_ptr_nonnull(ectx);
    ck_assert_int_eq(OSSL_ENCODER_to_data(ectx, &data, &dl), 1);
    OSSL_ENCODER_CTX_free(ectx);
    r = apr_pmemdup(p, data, dl + 1);
    ((char *) r)[dl] = '\0';
    OPENSSL_free(data);
    if (len != NULL) {
        *len = dl;
    }
    return r;
}

static inline af_key_t *load_pem(apr_pool_t *p, const char *pem, size_t len, af_alg_t alg,
                                 const char *kid)
{
    af_key_t *k = NULL;
    const char *why = NULL;
    apr_status_t rv = af_key_load_pem(&k, pem, len, alg, kid, &why, p);

    ck_assert_msg(rv == APR_SUCCESS, "load_pem: %s (%s)", af_strerror(rv), why ? why : "");
    return k;
}

static inline af_key_t *rsa_key(apr_pool_t *p, unsigned bits, af_alg_t alg, const char *kid)
{
    EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) bits);
    size_t len;
    const char *pem;

    ck_assert_ptr_nonnull(pk);
    pem = encode(p, pk, EVP_PKEY_KEYPAIR, "PEM", "PrivateKeyInfo", &len);
    EVP_PKEY_free(pk);
    return load_pem(p, pem, len, alg, kid);
}

static inline af_key_t *jwk_key(apr_pool_t *p, const char *json, int flags, apr_status_t *rv,
                                const char **why)
{
    json_t *j;
    af_key_t *k = NULL;

    ck_assert_int_eq(af_json_parse(&j, json, strlen(json), 0, p), APR_SUCCESS);
    *rv = af_jwk_parse(&k, j, flags, why, p);
    return k;
}

/* The payload of a good token for the default policy. */
#define GOOD(p) claims(p, "")

#endif
