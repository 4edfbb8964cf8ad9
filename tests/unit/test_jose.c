/* test_jose.c -- SECURITY.md groups A, B and C at the JOSE layer (one test per row ID).
 *
 * Attack tokens are built here from hand-written header/payload JSON, with signatures
 * made by OpenSSL directly (EVP_Q_mac, EVP_DigestSign) or by af_jws_sign_with_header,
 * which signs any header verbatim.
 */
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

static const char *b64s(const char *s, apr_pool_t *p)
{
    return af_b64url_encode((const unsigned char *) s, strlen(s), p);
}

static af_jwt_policy_t policy(void)
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
static const char *claims(apr_pool_t *p, const char *extra)
{
    return apr_psprintf(p,
                        "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"alice\","
                        "\"jti\":\"j-1\",\"iat\":%ld,\"exp\":%ld%s}",
                        NOW - 10, NOW + 600, extra);
}

/* Claims without the time members, for B02/B03 (the caller adds them). */
static const char *claims_t(apr_pool_t *p, const char *times)
{
    return apr_psprintf(p,
                        "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"alice\","
                        "\"jti\":\"j-1\"%s}",
                        times);
}

/* b64(header).b64(payload).b64(HMAC(secret)) made with OpenSSL directly. */
static const char *hmac_token(apr_pool_t *p, const char *md, const unsigned char *secret,
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

static const char *sign_hdr(apr_pool_t *p, const af_key_t *key, const char *header,
                            const char *payload)
{
    const char *t = NULL;

    ck_assert_int_eq(af_jws_sign_with_header(&t, key, header, (const unsigned char *) payload,
                                             strlen(payload), p),
                     APR_SUCCESS);
    return t;
}

static const char *raw_token(apr_pool_t *p, const char *header, const char *payload,
                             const unsigned char *sig, size_t sl)
{
    return apr_pstrcat(p, b64s(header, p), ".", b64s(payload, p), ".", af_b64url_encode(sig, sl, p),
                       NULL);
}

static af_keyset_t *ks_of(apr_pool_t *p, af_key_t *a, af_key_t *b)
{
    af_keyset_t *ks = af_keyset_make(p);

    af_keyset_add(ks, a);
    if (b != NULL) {
        af_keyset_add(ks, b);
    }
    return ks;
}

static apr_status_t jwt(apr_pool_t *p, const char *token, const af_keyset_t *ks,
                        const af_jwt_policy_t *pol)
{
    json_t *c = NULL;
    apr_status_t rv = af_jwt_verify(&c, NULL, token, strlen(token), ks, pol, p);

    ck_assert(rv == APR_SUCCESS ? c != NULL : c == NULL);
    return rv;
}

static apr_status_t jwt_default(apr_pool_t *p, const char *token, const af_keyset_t *ks)
{
    af_jwt_policy_t pol = policy();

    return jwt(p, token, ks, &pol);
}

static af_key_t *gen(apr_pool_t *p, af_alg_t alg, const char *kid)
{
    af_key_t *k = NULL;

    ck_assert_int_eq(af_key_generate(&k, alg, kid, p), APR_SUCCESS);
    ck_assert_int_eq(k->alg, alg);
    return k;
}

/* PEM text of an EVP_PKEY in a given structure (OSSL_ENCODER). */
static const char *encode(apr_pool_t *p, EVP_PKEY *pkey, int selection, const char *type,
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

static af_key_t *load_pem(apr_pool_t *p, const char *pem, size_t len, af_alg_t alg, const char *kid)
{
    af_key_t *k = NULL;
    const char *why = NULL;
    apr_status_t rv = af_key_load_pem(&k, pem, len, alg, kid, &why, p);

    ck_assert_msg(rv == APR_SUCCESS, "load_pem: %s (%s)", af_strerror(rv), why ? why : "");
    return k;
}

static af_key_t *rsa_key(apr_pool_t *p, unsigned bits, af_alg_t alg, const char *kid)
{
    EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) bits);
    size_t len;
    const char *pem;

    ck_assert_ptr_nonnull(pk);
    pem = encode(p, pk, EVP_PKEY_KEYPAIR, "PEM", "PrivateKeyInfo", &len);
    EVP_PKEY_free(pk);
    return load_pem(p, pem, len, alg, kid);
}

static af_key_t *jwk_key(apr_pool_t *p, const char *json, int flags, apr_status_t *rv,
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

/* ---- group A ------------------------------------------------------------------------------ */

START_TEST(test_A01_alg_none)
{
    static const char *const algs[] = {"\"none\"",  "\"None\"",    "\"NONE\"",  "\"nOnE\"",
                                       "\"none \"", "\" none\"",   "null",      "0",
                                       "1",         "[\"ES256\"]", "{\"a\":1}", "true",
                                       "\"\"",      "\"ES256 \"",  "\"es256\""};
    /* RFC 7515 A.5 */
    static const char *a5 = "eyJhbGciOiJub25lIn0"
                            ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"
                            "cGxlLmNvbS9pc19yb290Ijp0cnVlfQ.";
    apr_pool_t *p = af_test_pool();
    af_key_t *k = gen(p, AF_ALG_ES256, "k1");
    af_keyset_t *ks = ks_of(p, k, NULL);
    af_jws_t *jws;
    size_t i;

    ck_assert_int_eq(af_alg_from_name("none"), AF_ALG_UNKNOWN);
    ck_assert_int_eq(jwt_default(p, a5, ks), AF_EJWS_FORMAT);
    ck_assert_int_ne(af_jws_parse(&jws, a5, strlen(a5), 0, p), APR_SUCCESS);
    for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        const char *h = apr_psprintf(p, "{\"alg\":%s,\"kid\":\"k1\"}", algs[i]);
        const char *empty_sig = apr_pstrcat(p, b64s(h, p), ".", b64s(GOOD(p), p), ".", NULL);
        /* a signature made by the right key does not help a bad alg */
        const char *signed_t = sign_hdr(p, k, h, GOOD(p));

        ck_assert_msg(jwt_default(p, empty_sig, ks) != APR_SUCCESS, "accepted %s", algs[i]);
        ck_assert_int_eq(af_jws_parse(&jws, signed_t, strlen(signed_t), 0, p), AF_EJWS_ALG);
        ck_assert_int_eq(jwt_default(p, signed_t, ks), AF_EJWS_ALG);
    }
    /* alg missing */
    ck_assert_int_eq(jwt_default(p, sign_hdr(p, k, "{\"kid\":\"k1\"}", GOOD(p)), ks), AF_EJWS_ALG);
    /* the control: the same key and claims with alg ES256 verify */
    ck_assert_int_eq(
        jwt_default(p, sign_hdr(p, k, "{\"alg\":\"ES256\",\"kid\":\"k1\"}", GOOD(p)), ks),
        APR_SUCCESS);
    apr_pool_destroy(p);
}
END_TEST

/* HS256 tokens keyed with every serialization of the public key must all fail. */
static void confusion(apr_pool_t *p, af_key_t *pub, const char *kid)
{
    EVP_PKEY *pk = pub->pkey;
    const char *hdr = apr_psprintf(p, "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"%s\"}", kid);
    const char *hdr_nokid = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
    af_keyset_t *ks = ks_of(p, pub, NULL);
    const char *secrets[12];
    size_t lens[12], n = 0, i, len;
    const char *spki = encode(p, pk, EVP_PKEY_PUBLIC_KEY, "PEM", "SubjectPublicKeyInfo", &len);
    unsigned char *der = NULL;
    int dl = i2d_PUBKEY(pk, &der);
    json_t *jwk;

    ck_assert_int_gt(dl, 0);
    secrets[n] = spki; /* with the trailing newline */
    lens[n++] = len;
    secrets[n] = spki; /* without it */
    lens[n++] = len - 1;
    secrets[n] = apr_pstrcat(p, " ", spki, NULL); /* leading whitespace */
    lens[n] = len + 1;
    n++;
    secrets[n] = apr_pstrcat(p, spki, "\n", NULL);
    lens[n] = len + 1;
    n++;
    secrets[n] = apr_pmemdup(p, der, (apr_size_t) dl);
    lens[n++] = (size_t) dl;
    OPENSSL_free(der);
    ck_assert_int_eq(af_key_to_public_jwk(&jwk, pub, p), APR_SUCCESS);
    secrets[n] = af_json_dump(jwk, p);
    lens[n] = strlen(secrets[n]);
    n++;
    if (pub->kty == AF_KTY_RSA) {
        BIGNUM *bn = NULL;
        unsigned char *raw;
        const char *pkcs1;

        pkcs1 = encode(p, pk, EVP_PKEY_PUBLIC_KEY, "PEM", "type-specific", &len);
        ck_assert_ptr_nonnull(strstr(pkcs1, "BEGIN RSA PUBLIC KEY"));
        secrets[n] = pkcs1;
        lens[n++] = len;
        ck_assert_int_eq(EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_N, &bn), 1);
        raw = apr_palloc(p, (apr_size_t) BN_num_bytes(bn));
        lens[n] = (size_t) BN_bn2bin(bn, raw);
        secrets[n++] = (const char *) raw;                         /* raw n */
        secrets[n] = json_string_value(json_object_get(jwk, "n")); /* n as base64url */
        lens[n] = strlen(secrets[n]);
        n++;
        BN_free(bn);
    } else {
        unsigned char pt[200];
        size_t pl = 0;

        ck_assert_int_eq(
            EVP_PKEY_get_octet_string_param(pk, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt), &pl), 1);
        secrets[n] = apr_pmemdup(p, pt, pl); /* raw point */
        lens[n++] = pl;
    }
    for (i = 0; i < n; i++) {
        const char *t1 =
            hmac_token(p, "SHA256", (const unsigned char *) secrets[i], lens[i], hdr, GOOD(p));
        const char *t2 = hmac_token(p, "SHA256", (const unsigned char *) secrets[i], lens[i],
                                    hdr_nokid, GOOD(p));
        af_jws_t *jws;

        ck_assert_int_eq(jwt_default(p, t1, ks), AF_EJWS_ALG);
        ck_assert_int_eq(jwt_default(p, t2, ks), AF_EJWS_NOKEY);
        ck_assert_int_eq(af_jws_parse(&jws, t1, strlen(t1), 0, p), APR_SUCCESS);
        ck_assert_int_eq(af_jws_verify(jws, pub), AF_EJWS_ALG);
    }
}

START_TEST(test_A02_alg_confusion)
{
    apr_pool_t *p = af_test_pool();
    af_key_t *rsa = rsa_key(p, 2048, AF_ALG_RS256, "rsa1");
    af_key_t *ec = gen(p, AF_ALG_ES256, "ec1");
    af_key_t *pub;
    json_t *jwk;
    const char *why;

    /* with the private and with the public-only key objects */
    confusion(p, rsa, "rsa1");
    confusion(p, ec, "ec1");
    ck_assert_int_eq(af_key_to_public_jwk(&jwk, rsa, p), APR_SUCCESS);
    ck_assert_int_eq(af_jwk_parse(&pub, jwk, AF_JWK_PUBLIC_ONLY, &why, p), APR_SUCCESS);
    ck_assert(!pub->is_private);
    confusion(p, pub, "rsa1");
    apr_pool_destroy(p);
}
END_TEST

START_TEST(test_A03_empty_key_hmac)
{
    apr_pool_t *p = af_test_pool();
    af_key_t *rsa = rsa_key(p, 2048, AF_ALG_UNKNOWN, NULL), *k, fake;
    json_t *jwk;
    char *text;
    af_keyset_t *ks;
    const char *t, *why = NULL;
    af_jws_t *jws;
    apr_status_t rv;

    /* a JWKS with an RSA key without alg, kid "k1" */
    ck_assert_int_eq(af_key_to_public_jwk(&jwk, rsa, p), APR_SUCCESS);
    json_object_del(jwk, "alg");
    json_object_set_new(jwk, "kid", json_string("k1"));
    text = apr_psprintf(p, "{\"keys\":[%s]}", af_json_dump(jwk, p));
    ck_assert_int_eq(af_jwks_parse(&ks, text, strlen(text), AF_JWK_PUBLIC_ONLY, NULL, p),
                     APR_SUCCESS);
    ck_assert_int_eq(ks->keys->nelts, 1);
    ck_assert_int_eq(APR_ARRAY_IDX(ks->keys, 0, af_key_t *)->alg, AF_ALG_RS256);
    t = hmac_token(p, "SHA256", (const unsigned char *) "", 0, "{\"alg\":\"HS256\",\"kid\":\"k1\"}",
                   GOOD(p));
    ck_assert_int_eq(jwt_default(p, t, ks), AF_EJWS_ALG);
    /* the loaders never produce an empty HMAC key */
    ck_assert_int_eq(
        af_key_from_secret(&k, (const unsigned char *) "", 0, AF_ALG_HS256, NULL, &why, p),
        AF_EKEY_WEAK);
    k = jwk_key(p, "{\"kty\":\"oct\",\"alg\":\"HS256\",\"k\":\"\"}", AF_JWK_ALLOW_OCT, &rv, &why);
    ck_assert_int_eq(rv, AF_EKEY_WEAK);
    /* and the primitive refuses a hand-made empty or non-oct HMAC key */
    ck_assert_int_eq(af_jws_parse(&jws, t, strlen(t), 0, p), APR_SUCCESS);
    memset(&fake, 0, sizeof(fake));
    fake.alg = AF_ALG_HS256;
    fake.kty = AF_KTY_OCT;
    fake.secret = (const unsigned char *) "";
    ck_assert_int_eq(af_jws_verify(jws, &fake), AF_EJWS_ALG);
    fake.kty = AF_KTY_RSA;
    fake.pkey = rsa->pkey;
    fake.secret = NULL;
    ck_assert_int_eq(af_jws_verify(jws, &fake), AF_EJWS_ALG);
    apr_pool_destroy(p);
}
END_TEST

START_TEST(test_A04_alg_key_mismatch)
{
    apr_pool_t *p = af_test_pool();
    af_key_t *rsa = rsa_key(p, 2048, AF_ALG_RS256, "r"), *ec256 = gen(p, AF_ALG_ES256, "e");
    af_key_t *ec384 = gen(p, AF_ALG_ES384, "e");
    af_key_t *ps512, *rs512_signer, *k;
    const char *pem, *t, *why;
    apr_status_t rv;

    /* ES256 header, RSA key (the signature is a real ES256 one from another key) */
    t = sign_hdr(p, ec256, "{\"alg\":\"ES256\",\"kid\":\"r\"}", GOOD(p));
    ck_assert_int_eq(jwt_default(p, t, ks_of(p, rsa, NULL)), AF_EJWS_ALG);
    /* ES384 header and signature, P-256 key */
    t = sign_hdr(p, ec384, "{\"alg\":\"ES384\",\"kid\":\"e\"}", GOOD(p));
    ck_assert_int_eq(jwt_default(p, t, ks_of(p, ec256, NULL)), AF_EJWS_ALG);
    /* PS512 header with an RS512 (PKCS#1 v1.5) signature made by the same RSA key */
    ck_assert_int_eq(af_key_to_pem(&pem, rsa, p), APR_SUCCESS);
    ps512 = load_pem(p, pem, strlen(pem), AF_ALG_PS512, "r");
    rs512_signer = load_pem(p, pem, strlen(pem), AF_ALG_RS512, "r");
    t = sign_hdr(p, rs512_signer, "{\"alg\":\"PS512\",\"kid\":\"r\"}", GOOD(p));
    ck_assert_int_eq(jwt_default(p, t, ks_of(p, ps512, NULL)), AF_EJWS_SIG);
    /* header alg differs from the JWK alg */
    t = sign_hdr(p, rs512_signer, "{\"alg\":\"RS512\",\"kid\":\"r\"}", GOOD(p));
    ck_assert_int_eq(jwt_default(p, t, ks_of(p, rsa, NULL)), AF_EJWS_ALG);
    ck_assert_int_eq(jwt_default(p, t, ks_of(p, rs512_signer, NULL)), APR_SUCCESS);
    /* a JWK whose alg does not fit its key type or curve is refused */
    k = jwk_key(p,
                "{\"kty\":\"EC\",\"crv\":\"P-256\",\"alg\":\"ES384\","
                "\"x\":\"04N0xi21hshyvBp7I167sbE_bXqyqkAPfefdklMO7wY\","
                "\"y\":\"UI8exy-C06a7DUnjIdENkxeFtHM4-l_41LqEw9nVgmw\"}",
                AF_JWK_PUBLIC_ONLY, &rv, &why);
    ck_assert_int_eq(rv, AF_EKEY_INVALID);
    ck_assert_str_eq(why, "alg_crv_mismatch");
    k = jwk_key(p,
                "{\"kty\":\"EC\",\"crv\":\"P-256\",\"alg\":\"RS256\","
                "\"x\":\"04N0xi21hshyvBp7I167sbE_bXqyqkAPfefdklMO7wY\","
                "\"y\":\"UI8exy-C06a7DUnjIdENkxeFtHM4-l_41LqEw9nVgmw\"}",
                AF_JWK_PUBLIC_ONLY, &rv, &why);
    ck_assert_int_eq(rv, AF_EKEY_INVALID);
    (void) k;
    apr_pool_destroy(p);
}
END_TEST

START_TEST(test_A05_structure)
{
    apr_pool_t *p = af_test_pool();
    af_key_t *k = gen(p, AF_ALG_HS256, "h");
    af_keyset_t *ks = ks_of(p, k, NULL);
    const char *good = sign_hdr(p, k, "{\"alg\":\"HS256\"}", GOOD(p));
    const char *d1 = strchr(good, '.'), *d2 = strrchr(good, '.');
    const char *h = apr_pstrmemdup(p, good, (apr_size_t) (d1 - good));
    const char *pl = apr_pstrmemdup(p, d1 + 1, (apr_size_t) (d2 - d1 - 1));
    const char *s = d2 + 1;
    const char *bad[16];
    size_t n = 0, i;

    ck_assert_int_eq(jwt_default(p, good, ks), APR_SUCCESS);
    bad[n++] = h;                                                        /* 1 segment */
    bad[n++] = apr_pstrcat(p, h, ".", pl, NULL);                         /* 2 */
    bad[n++] = apr_pstrcat(p, good, ".", s, NULL);                       /* 4 */
    bad[n++] = apr_pstrcat(p, h, ".", pl, ".", s, ".", s, ".", s, NULL); /* 5: JWE */
    bad[n++] = apr_pstrcat(p, good, ".", NULL);                          /* trailing dot */
    bad[n++] = apr_pstrcat(p, ".", pl, ".", s, NULL);                    /* empty header */
    bad[n++] = apr_pstrcat(p, h, "..", s, NULL);                         /* empty payload */
    bad[n++] = apr_pstrcat(p, h, ".", pl, ".", NULL);                    /* empty signature */
    bad[n++] = "..";
    bad[n++] = "";
    bad[n++] = apr_psprintf(p, "{\"payload\":\"%s\",\"protected\":\"%s\",\"signature\":\"%s\"}", pl,
                            h, s); /* JSON serialization */
    bad[n++] = apr_psprintf(p,
                            "{\"payload\":\"%s\",\"signatures\":[{\"protected\":\"%s\","
                            "\"signature\":\"%s\"}]}",
                            pl, h, s);
    for (i = 0; i < n; i++) {
        apr_status_t rv = jwt_default(p, bad[i], ks);
        ck_assert_msg(rv == AF_EJWS_FORMAT, "case %zu: %s", i, af_strerror(rv));
    }
    /* a JWE header where a JWS is expected: refused even with a valid MAC */
    ck_assert_int_eq(
        jwt_default(p, sign_hdr(p, k, "{\"alg\":\"HS256\",\"enc\":\"A128GCM\"}", GOOD(p)), ks),
        AF_EJWS_UNSUPPORTED);
    ck_assert_int_eq(
        jwt_default(p, sign_hdr(p, k, "{\"alg\":\"dir\",\"enc\":\"A128GCM\"}", GOOD(p)), ks),
        AF_EJWS_UNSUPPORTED);
    apr_pool_destroy(p);
}
END_TEST

START_TEST(test_A06_non_strict_base64url)
{
    apr_pool_t *p = af_test_pool();
    af_key_t *k = gen(p, AF_ALG_HS256, "h");
    af_keyset_t *ks = ks_of(p, k, NULL);
    const char *good = sign_hdr(p, k, "{\"alg\":\"HS256\"}", GOOD(p));
    size_t gl = strlen(good), i;
    char *t;
    const char *cases[16];
    size_t n = 0;
    static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    ck_assert_int_eq(jwt_default(p, good, ks), APR_SUCCESS);
    /* HS256 tag: 32 bytes = 43 characters, the last carries 2 unused bits: set one.  A
     * lenient decoder would decode the same tag and accept the token. */
    t = apr_pstrdup(p, good);
    ck_assert_int_eq((int) ((strchr(alpha, t[gl - 1]) - alpha) & 3), 0);
    t[gl - 1] = alpha[(strchr(alpha, t[gl - 1]) - alpha) + 1];
    cases[n++] = t;
    cases[n++] = apr_pstrcat(p, good, "=", NULL);
    cases[n++] = apr_pstrcat(p, good, "==", NULL);
    for (i = 0; i < 7; i++) {
        static const char ins[] = {'+', '/', ' ', '\t', '\r', '\n', '?'};
        char *u = apr_pstrdup(p, good);
        u[5] = ins[i]; /* inside the header */
        cases[n++] = u;
    }
    t = apr_pstrdup(p, good);
    t[gl - 3] = '#';
    cases[n++] = t;
    cases[n++] = apr_pstrcat(p, good, "A", NULL);  /* signature length 44 ≡ 0: decodes to 33 */
    cases[n++] = apr_pstrcat(p, good, "AA", NULL); /* 45 ≡ 1 (mod 4) */
    for (i = 0; i < n; i++) {
        apr_status_t rv = jwt_default(p, cases[i], ks);
        ck_assert_msg(rv != APR_SUCCESS, "case %zu accepted", i);
    }
    ck_assert_int_eq(jwt_default(p, cases[0], ks), AF_EBASE64);
    ck_assert_int_eq(jwt_default(p, cases[1], ks), AF_EBASE64);
    ck_assert_int_eq(jwt_default(p, cases[n - 1], ks), AF_EBASE64);
    apr_pool_destroy(p);
}
END_TEST

START_TEST(test_A07_duplicate_members)
{
    apr_pool_t *p = af_test_pool();
    af_key_t *k = gen(p, AF_ALG_HS256, "h");
    af_keyset_t *ks = ks_of(p, k, NULL);

    ck_assert_int_eq(
        jwt_default(p, sign_hdr(p, k, "{\"alg\":\"HS256\",\"alg\":\"none\"}", GOOD(p)), ks),
        AF_EJSON);
    ck_assert_int_eq(
        jwt_default(p, sign_hdr(p, k, "{\"alg\":\"HS256\",\"alg\":\"HS256\"}", GOOD(p)), ks),
        AF_EJSON);
    ck_assert_int_eq(
        jwt_default(p, sign_hdr(p, k, "{\"alg\":\"HS256\"}", claims(p, ",\"sub\":\"admin\"")), ks),
        AF_EJSON);
    ck_assert_int_eq(
        jwt_default(p, sign_hdr(p, k, "{\"alg\":\"HS256\"}", claims(p, ",\"s\\u0075b\":\"admin\"")),
                    ks),
        AF_EJSON);
    apr_pool_destroy(p);
}
END_TEST

START_TEST(test_A08_non_canonical_json)
{
    apr_pool_t *p = af_test_pool();
    af_key_t *k = gen(p, AF_ALG_HS256, "h");
    af_keyset_t *ks = ks_of(p, k, NULL);
    const char *payloads[8], *headers[6];
    char deep[200];
    size_t n = 0, i;

    memset(deep, 0, sizeof(deep));
    for (i = 0; i < 33; i++) {
        strcat(deep, "[");
    }
    for (i = 0; i < 33; i++) {
        strcat(deep, "]");
    }
    payloads[n++] = claims(p, ",\"x\":\"\xff\"");
    payloads[n++] = apr_pstrcat(p, "\xef\xbb\xbf", GOOD(p), NULL);
    payloads[n++] = claims(p, ",\"name\":\"admin\\u0000x\"");
    payloads[n++] = apr_pstrcat(p, GOOD(p), "x", NULL);
    payloads[n++] = apr_pstrcat(p, GOOD(p), "{}", NULL);
    payloads[n++] = apr_pstrcat(p, "[", GOOD(p), "]", NULL);
    payloads[n++] = claims(p, apr_pstrcat(p, ",\"deep\":", deep, NULL));
    for (i = 0; i < n; i++) {
        apr_status_t rv = jwt_default(p, sign_hdr(p, k, "{\"alg\":\"HS256\"}", payloads[i]), ks);
        ck_assert_msg(rv == AF_EJSON || rv == AF_EJSON_DEPTH, "payload %zu: %s", i,
                      af_strerror(rv));
    }
    /* "sub":"admin\u0000x" never reaches a C string */
    ck_assert_int_eq(jwt_default(p,
                                 sign_hdr(p, k, "{\"alg\":\"HS256\"}",
                                          "{\"sub\":\"admin\\u0000x\",\"exp\":1800000000}"),
                                 ks),
                     AF_EJSON);
    n = 0;
    headers[n++] = "{\"alg\":\"HS256\",\"x\":\"\xc0\xaf\"}";
    headers[n++] = "\xef\xbb\xbf{\"alg\":\"HS256\"}";
    headers[n++] = "{\"alg\":\"HS256\"} ";
    headers[n++] = "{\"alg\":\"HS256\"}x";
    headers[n++] = "[{\"alg\":\"HS256\"}]";
    for (i = 0; i < n; i++) {
        apr_status_t rv = jwt_default(p, sign_hdr(p, k, headers[i], GOOD(p)), ks);
        ck_assert_msg(i == 2 ? rv == APR_SUCCESS : rv == AF_EJSON, "header %zu: %s", i,
                      af_strerror(rv));
    }
    /* UTF-16 header */
    {
        static const char u16[] = "{\0\"\0a\0l\0g\0\"\0:\0\"\0H\0S\0\x32\0\x35\0\x36\0\"\0}\0";
        const char *in =
            apr_pstrcat(p, af_b64url_encode((const unsigned char *) u16, sizeof(u16) - 1, p), ".",
                        b64s(GOOD(p), p), NULL);
        const char *t =
            apr_pstrcat(p, in, ".", af_b64url_encode((const unsigned char *) "x", 1, p), NULL);
        ck_assert_int_eq(jwt_default(p, t, ks), AF_EJSON);
    }
    apr_pool_destroy(p);
}
END_TEST

START_TEST(test_A09_crit)
{
    static const char *const crits[] = {"[\"exp\"]", "[]",   "\"b64\"",  "[\"alg\"]",
                                        "[\"foo\"]", "null", "[\"b64\"]"};
    apr_pool_t *p = af_test_pool();
    af_key_t *k = gen(p, AF_ALG_HS256, "h");
    af_keyset_t *ks = ks_of(p, k, NULL);
    size_t i;

    for (i = 0; i < sizeof(crits) / sizeof(crits[0]); i++) {
        const char *h = apr_psprintf(p, "{\"alg\":\"HS256\",\"crit\":%s,\"exp\":1}", crits[i]);
        ck_assert_int_eq(jwt_default(p, sign_hdr(p, k, h, GOOD(p)), ks), AF_EJWS_UNSUPPORTED);
    }
    apr_pool_destroy(p);
}
END_TEST

START_TEST(test_A10_b64_false)
{
    apr_pool_t *p = af_test_pool();
    af_key_t *k = gen(p, AF_ALG_HS256, "h");
    af_keyset_t *ks = ks_of(p, k, NULL);

    ck_assert_int_eq(
        jwt_default(
            p, sign_hdr(p, k, "{\"alg\":\"HS256\",\"b64\":false,\"crit\":[\"b64\"]}", GOOD(p)), ks),
        AF_EJWS_UNSUPPORTED);
    ck_assert_int_eq(
        jwt_default(p, sign_hdr(p, k, "{\"alg\":\"HS256\",\"b64\":false}", GOOD(p)), ks),
        AF_EJWS_UNSUPPORTED);
    ck_assert_int_eq(
        jwt_default(p, sign_hdr(p, k, "{\"alg\":\"HS256\",\"b64\":true}", GOOD(p)), ks),
        AF_EJWS_UNSUPPORTED);
    apr_pool_destroy(p);
}
END_TEST

START_TEST(test_A11_zip)
{
    apr_pool_t *p = af_test_pool();
    af_key_t *k = gen(p, AF_ALG_HS256, "h");
    af_keyset_t *ks = ks_of(p, k, NULL);

    ck_assert_int_eq(
        jwt_default(p, sign_hdr(p, k, "{\"alg\":\"HS256\",\"zip\":\"DEF\"}", GOOD(p)), ks),
        AF_EJWS_UNSUPPORTED);
    apr_pool_destroy(p);
}
END_TEST

START_TEST(test_A12_nested_jwt)
{
    static const char *const ctys[] = {"JWT", "jwt", "application/jwt", "APPLICATION/JWT"};
    apr_pool_t *p = af_test_pool();
    af_key_t *k = gen(p, AF_ALG_HS256, "h");
    af_keyset_t *ks = ks_of(p, k, NULL);
    const char *inner = sign_hdr(p, k, "{\"alg\":\"HS256\"}", GOOD(p));
    size_t i;

    for (i = 0; i < 4; i++) {
        const char *h = apr_psprintf(p, "{\"alg\":\"HS256\",\"cty\":\"%s\"}", ctys[i]);
        ck_assert_int_eq(jwt_default(p, sign_hdr(p, k, h, inner), ks), AF_EJWS_UNSUPPORTED);
        ck_assert_int_eq(jwt_default(p, sign_hdr(p, k, h, GOOD(p)), ks), AF_EJWS_UNSUPPORTED);
    }
    /* a JWS whose payload is a JWS is not a claim set either */
    ck_assert_int_eq(jwt_default(p, sign_hdr(p, k, "{\"alg\":\"HS256\"}", inner), ks), AF_EJSON);
    apr_pool_destroy(p);
}
END_TEST

START_TEST(test_A13_key_selection_headers_ignored)
{
    apr_pool_t *p = af_test_pool();
    af_key_t *ours = gen(p, AF_ALG_ES256, "k1"), *evil = gen(p, AF_ALG_ES256, "k1");
    af_keyset_t *ks = ks_of(p, ours, NULL);
    json_t *evil_jwk;
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);
    int lsock = socket(AF_INET, SOCK_STREAM, 0), c;
    const char *url, *hdrs[5];
    size_t i;

    /* an attacker listener on 127.0.0.1: it must see no connection */
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(lsock, (struct sockaddr *) &sa, sizeof(sa)), 0);
    ck_assert_int_eq(listen(lsock, 8), 0);
    ck_assert_int_eq(getsockname(lsock, (struct sockaddr *) &sa, &sl), 0);
    url = apr_psprintf(p, "http://127.0.0.1:%d/jwks.json", ntohs(sa.sin_port));
    ck_assert_int_eq(af_key_to_public_jwk(&evil_jwk, evil, p), APR_SUCCESS);
    hdrs[0] = apr_psprintf(p, "{\"alg\":\"ES256\",\"kid\":\"k1\",\"jku\":\"%s\"}", url);
    hdrs[1] = apr_psprintf(p, "{\"alg\":\"ES256\",\"kid\":\"k1\",\"x5u\":\"%s\"}", url);
    hdrs[2] =
        apr_psprintf(p, "{\"alg\":\"ES256\",\"kid\":\"k1\",\"jwk\":%s}", af_json_dump(evil_jwk, p));
    hdrs[3] = "{\"alg\":\"ES256\",\"kid\":\"k1\",\"x5c\":[\"MIIBszCCAVmgAwIBAgIUEvil\"]}";
    hdrs[4] = apr_psprintf(p, "{\"alg\":\"ES256\",\"jwk\":%s}", af_json_dump(evil_jwk, p));
    for (i = 0; i < 5; i++) {
        /* signed by the attacker: denied */
        ck_assert_int_eq(jwt_default(p, sign_hdr(p, evil, hdrs[i], GOOD(p)), ks), AF_EJWS_SIG);
        /* signed by our key: the headers are simply ignored */
        ck_assert_int_eq(jwt_default(p, sign_hdr(p, ours, hdrs[i], GOOD(p)), ks), APR_SUCCESS);
    }
    fcntl(lsock, F_SETFL, O_NONBLOCK);
    c = accept(lsock, NULL, NULL);
    ck_assert_int_eq(c, -1);
    ck_assert(errno == EAGAIN || errno == EWOULDBLOCK);
    close(lsock);
    apr_pool_destroy(p);
}
END_TEST

START_TEST(test_A15_hmac_tag_length)
{
    apr_pool_t *p = af_test_pool();
    af_key_t *k = gen(p, AF_ALG_HS256, "h");
    af_keyset_t *ks = ks_of(p, k, NULL);
    const char *hdr = "{\"alg\":\"HS256\"}", *payload = GOOD(p);
    const char *good = sign_hdr(p, k, hdr, payload);
    unsigned char tag[64];
    apr_size_t tl;
    const char *sig_b64 = strrchr(good, '.') + 1;

    ck_assert_int_eq(af_b64url_decode_buf(tag, &tl, sig_b64, strlen(sig_b64)), APR_SUCCESS);
    ck_assert_uint_eq(tl, 32);
    ck_assert_int_eq(jwt_default(p, good, ks), APR_SUCCESS);
    ck_assert_int_eq(jwt_default(p, raw_token(p, hdr, payload, tag, 16), ks), AF_EJWS_SIG);
    ck_assert_int_eq(jwt_default(p, raw_token(p, hdr, payload, tag, 31), ks), AF_EJWS_SIG);
    tag[32] = 0;
    ck_assert_int_eq(jwt_default(p, raw_token(p, hdr, payload, tag, 33), ks), AF_EJWS_SIG);
    tag[31] ^= 1;
    ck_assert_int_eq(jwt_default(p, raw_token(p, hdr, payload, tag, 32), ks), AF_EJWS_SIG);
    tag[31] ^= 1;
    tag[0] ^= 0x80;
    ck_assert_int_eq(jwt_default(p, raw_token(p, hdr, payload, tag, 32), ks), AF_EJWS_SIG);
    apr_pool_destroy(p);
}
END_TEST

/* r, s in {0, 1, n-1, n}: every combination for ES256/384/512 (CVE-2022-21449). */
START_TEST(test_A17_psychic_signatures)
{
    static const af_alg_t algs[] = {AF_ALG_ES256, AF_ALG_ES384, AF_ALG_ES512};
    static const int nids[] = {NID_X9_62_prime256v1, NID_secp384r1, NID_secp521r1};
    static const size_t clens[] = {32, 48, 66};
    apr_pool_t *p = af_test_pool();
    int a;

    for (a = 0; a < 3; a++) {
        af_key_t *k = gen(p, algs[a], "e");
        af_keyset_t *ks = ks_of(p, k, NULL);
        EC_GROUP *grp = EC_GROUP_new_by_curve_name(nids[a]);
        BIGNUM *vals[4];
        unsigned char v[4][66], sig[132];
        const char *hdr = apr_psprintf(p, "{\"alg\":\"%s\",\"kid\":\"e\"}", af_alg_name(algs[a]));
        const char *payload = GOOD(p), *in;
        size_t c = clens[a];
        int i, j;

        ck_assert_ptr_nonnull(grp);
        vals[0] = BN_new();
        vals[1] = BN_new();
        BN_one(vals[1]);
        vals[3] = BN_dup(EC_GROUP_get0_order(grp));
        vals[2] = BN_dup(vals[3]);
        BN_sub_word(vals[2], 1);
        for (i = 0; i < 4; i++) {
            ck_assert_int_eq(BN_bn2binpad(vals[i], v[i], (int) c), (int) c);
        }
        in = apr_pstrcat(p, b64s(hdr, p), ".", b64s(payload, p), NULL);
        for (i = 0; i < 4; i++) {
            for (j = 0; j < 4; j++) {
                memcpy(sig, v[i], c);
                memcpy(sig + c, v[j], c);
                ck_assert_int_eq(
                    af_jws_verify_raw(k, (const unsigned char *) in, strlen(in), sig, 2 * c),
                    AF_EJWS_SIG);
                ck_assert_int_eq(jwt_default(p, raw_token(p, hdr, payload, sig, 2 * c), ks),
                                 AF_EJWS_SIG);
            }
        }
        /* the all-zero signature also with a wrong length */
        memset(sig, 0, sizeof(sig));
        ck_assert_int_eq(jwt_default(p, raw_token(p, hdr, payload, sig, 2 * c - 1), ks),
                         AF_EJWS_SIG);
        /* the control: a real signature verifies */
        ck_assert_int_eq(jwt_default(p, sign_hdr(p, k, hdr, payload), ks), APR_SUCCESS);
        for (i = 0; i < 4; i++) {
            BN_free(vals[i]);
        }
        EC_GROUP_free(grp);
    }
    apr_pool_destroy(p);
}
END_TEST

START_TEST(test_A19_pinned_alg)
{
    apr_pool_t *p = af_test_pool();
    af_key_t *es = gen(p, AF_ALG_ES256, "k1"), *es384 = gen(p, AF_ALG_ES384, "k1");
    af_key_t *rs = rsa_key(p, 2048, AF_ALG_RS256, "r1"), *ps, *rs384;
    const char *pem;

    /* a correctly signed token with a different alg, same kid */
    ck_assert_int_eq(jwt_default(p,
                                 sign_hdr(p, es384, "{\"alg\":\"ES384\",\"kid\":\"k1\"}", GOOD(p)),
                                 ks_of(p, es, NULL)),
                     AF_EJWS_ALG);
    /* the same RSA key material, signing PS256 or RS384 while the key is pinned to RS256 */
    ck_assert_int_eq(af_key_to_pem(&pem, rs, p), APR_SUCCESS);
    ps = load_pem(p, pem, strlen(pem), AF_ALG_PS256, "r1");
    rs384 = load_pem(p, pem, strlen(pem), AF_ALG_RS384, "r1");
    ck_assert_int_eq(jwt_default(p, sign_hdr(p, ps, "{\"alg\":\"PS256\",\"kid\":\"r1\"}", GOOD(p)),
                                 ks_of(p, rs, NULL)),
                     AF_EJWS_ALG);
    ck_assert_int_eq(jwt_default(p,
                                 sign_hdr(p, rs384, "{\"alg\":\"RS384\",\"kid\":\"r1\"}", GOOD(p)),
                                 ks_of(p, rs, NULL)),
                     AF_EJWS_ALG);
    /* the controls */
    ck_assert_int_eq(jwt_default(p, sign_hdr(p, rs, "{\"alg\":\"RS256\",\"kid\":\"r1\"}", GOOD(p)),
                                 ks_of(p, rs, NULL)),
                     APR_SUCCESS);
    ck_assert_int_eq(jwt_default(p, sign_hdr(p, ps, "{\"alg\":\"PS256\",\"kid\":\"r1\"}", GOOD(p)),
                                 ks_of(p, ps, NULL)),
                     APR_SUCCESS);
    /* without kid only keys pinned to the header alg are candidates */
    ck_assert_int_eq(
        jwt_default(p, sign_hdr(p, es384, "{\"alg\":\"ES384\"}", GOOD(p)), ks_of(p, es, rs)),
        AF_EJWS_NOKEY);
    apr_pool_destroy(p);
}
END_TEST

START_TEST(test_A21_oversize_before_decoding)
{
    apr_pool_t *p = af_test_pool();
    af_key_t *k = gen(p, AF_ALG_HS256, "h");
    af_keyset_t *ks = ks_of(p, k, NULL);
    static const size_t sizes[] = {AF_JWS_MAX_LEN + 1, 100 * 1024, 10 * 1024 * 1024};
    af_jws_t *jws;
    size_t i;

    for (i = 0; i < 3; i++) {
        /* not even base64url: the size check comes first */
        char *t = malloc(sizes[i] + 1);
        memset(t, '!', sizes[i]);
        t[10] = '.';
        t[20] = '.';
        t[sizes[i]] = '\0';
        ck_assert_int_eq(af_jws_parse(&jws, t, sizes[i], 0, p), AF_ETOOBIG);
        ck_assert_int_eq(jwt_default(p, t, ks), AF_ETOOBIG);
        free(t);
    }
    /* at the limit the size check passes (and the base64url check then fails) */
    {
        char *t = malloc(AF_JWS_MAX_LEN + 1);
        memset(t, '!', AF_JWS_MAX_LEN);
        t[10] = '.';
        t[20] = '.';
        t[AF_JWS_MAX_LEN] = '\0';
        ck_assert_int_eq(af_jws_parse(&jws, t, AF_JWS_MAX_LEN, 0, p), AF_EBASE64);
        ck_assert_int_eq(af_jws_parse(&jws, t, AF_JWS_MAX_LEN, 100, p), AF_ETOOBIG);
        free(t);
    }
    apr_pool_destroy(p);
}
END_TEST

/* ---- group B ------------------------------------------------------------------------------ */

static apr_status_t with_times(apr_pool_t *p, af_key_t *k, const char *times,
                               const af_jwt_policy_t *pol)
{
    return jwt(p, sign_hdr(p, k, "{\"alg\":\"HS256\"}", claims_t(p, times)), ks_of(p, k, NULL),
               pol);
}

START_TEST(test_B01_exp_missing)
{
    apr_pool_t *p = af_test_pool();
    af_key_t *k = gen(p, AF_ALG_HS256, "h");
    af_jwt_policy_t pol = policy();

    ck_assert_int_eq(with_times(p, k, "", &pol), AF_EJWT_EXP);
    ck_assert_int_eq(with_times(p, k, apr_psprintf(p, ",\"iat\":%ld", NOW), &pol), AF_EJWT_EXP);
    ck_assert_int_eq(with_times(p, k, apr_psprintf(p, ",\"exp\":%ld", NOW + 100), &pol),
                     APR_SUCCESS);
    apr_pool_destroy(p);
}
END_TEST

START_TEST(test_B02_time_boundaries)
{
    static const char *const bad_types[] = {
        "\"1900000000\"",   "true",  "false",        "null", "-1",
        "9007199254740994", "1e300", "[1900000000]", "{}",   "-0.5"};
    apr_pool_t *p = af_test_pool();
    af_key_t *k = gen(p, AF_ALG_HS256, "h");
    af_jwt_policy_t pol = policy();
    size_t i;

#define EXP(v)     apr_psprintf(p, ",\"exp\":%ld", (long) (v))
#define EXP_NBF(v) apr_psprintf(p, ",\"exp\":%ld,\"nbf\":%ld", NOW + 600, (long) (v))
    ck_assert_int_eq(with_times(p, k, EXP(NOW - LEEWAY - 1), &pol), AF_EJWT_EXP);
    ck_assert_int_eq(with_times(p, k, EXP(NOW - LEEWAY), &pol), AF_EJWT_EXP);
    ck_assert_int_eq(with_times(p, k, EXP(NOW - LEEWAY + 1), &pol), APR_SUCCESS);
    ck_assert_int_eq(with_times(p, k, EXP_NBF(NOW + LEEWAY + 1), &pol), AF_EJWT_NBF);
    ck_assert_int_eq(with_times(p, k, EXP_NBF(NOW + LEEWAY), &pol), APR_SUCCESS);
    ck_assert_int_eq(with_times(p, k, EXP_NBF(NOW + LEEWAY - 1), &pol), APR_SUCCESS);
    /* leeway 0 */
    pol.leeway = 0;
    ck_assert_int_eq(with_times(p, k, EXP(NOW), &pol), AF_EJWT_EXP);
    ck_assert_int_eq(with_times(p, k, EXP(NOW + 1), &pol), APR_SUCCESS);
    pol = policy();
    /* fractional NumericDate */
    pol.now = 1900000000;
    ck_assert_int_eq(with_times(p, k, ",\"exp\":1900000000.5", &pol), APR_SUCCESS);
    ck_assert_int_eq(with_times(p, k, ",\"exp\":1.9e9,\"nbf\":1899999999.25", &pol), APR_SUCCESS);
    pol.leeway = 0;
    ck_assert_int_eq(with_times(p, k, ",\"exp\":1899999999.5", &pol), AF_EJWT_EXP);
    pol = policy();
    for (i = 0; i < sizeof(bad_types) / sizeof(bad_types[0]); i++) {
        ck_assert_int_eq(with_times(p, k, apr_psprintf(p, ",\"exp\":%s", bad_types[i]), &pol),
                         AF_EJWT_EXP);
        ck_assert_int_eq(
            with_times(p, k, apr_psprintf(p, ",\"exp\":%ld,\"nbf\":%s", NOW + 60, bad_types[i]),
                       &pol),
            AF_EJWT_NBF);
    }
#undef EXP
#undef EXP_NBF
    apr_pool_destroy(p);
}
END_TEST

START_TEST(test_B03_iat_and_lifetime)
{
    apr_pool_t *p = af_test_pool();
    af_key_t *k = gen(p, AF_ALG_HS256, "h");
    af_jwt_policy_t pol = policy();

#define T(iat, exp) apr_psprintf(p, ",\"iat\":%ld,\"exp\":%ld", (long) (iat), (long) (exp))
    ck_assert_int_eq(with_times(p, k, T(NOW + LEEWAY + 1, NOW + 600), &pol), AF_EJWT_IAT);
    ck_assert_int_eq(with_times(p, k, T(NOW + LEEWAY, NOW + 600), &pol), APR_SUCCESS);
    ck_assert_int_eq(with_times(p, k, ",\"iat\":\"now\",\"exp\":1800000000", &pol), AF_EJWT_IAT);
    ck_assert_int_eq(with_times(p, k, ",\"iat\":-5,\"exp\":1800000000", &pol), AF_EJWT_IAT);
    pol.require_iat = 1;
    ck_assert_int_eq(with_times(p, k, apr_psprintf(p, ",\"exp\":%ld", NOW + 60), &pol),
                     AF_EJWT_IAT);
    pol.require_iat = 0;
    pol.max_lifetime = 600;
    ck_assert_int_eq(with_times(p, k, T(NOW - 10, NOW - 10 + 601), &pol), AF_EJWT_LIFETIME);
    ck_assert_int_eq(with_times(p, k, T(NOW - 10, NOW - 10 + 600), &pol), APR_SUCCESS);
    /* without iat the remaining lifetime is what counts */
    ck_assert_int_eq(with_times(p, k, apr_psprintf(p, ",\"exp\":%ld", NOW + 10000), &pol),
                     AF_EJWT_LIFETIME);
#undef T
    apr_pool_destroy(p);
}
END_TEST

START_TEST(test_B05_audience)
{
    apr_pool_t *p = af_test_pool();
    af_key_t *k = gen(p, AF_ALG_HS256, "h");
    af_keyset_t *ks = ks_of(p, k, NULL);
    af_jwt_policy_t pol = policy();
    const char *base = apr_psprintf(p, "{\"iss\":\"" ISS "\",\"sub\":\"a\",\"exp\":%ld", NOW + 600);
#define AUDT(x) sign_hdr(p, k, "{\"alg\":\"HS256\"}", apr_pstrcat(p, base, x, "}", NULL))
    ck_assert_int_eq(jwt(p, AUDT(""), ks, &pol), AF_EJWT_AUD);
    ck_assert_int_eq(jwt(p, AUDT(",\"aud\":\"https://other.example\""), ks, &pol), AF_EJWT_AUD);
    ck_assert_int_eq(jwt(p, AUDT(",\"aud\":\"https://app.example/\""), ks, &pol), AF_EJWT_AUD);
    ck_assert_int_eq(jwt(p, AUDT(",\"aud\":[\"a\",\"b\"]"), ks, &pol), AF_EJWT_AUD);
    ck_assert_int_eq(jwt(p, AUDT(",\"aud\":[]"), ks, &pol), AF_EJWT_AUD);
    ck_assert_int_eq(jwt(p, AUDT(",\"aud\":null"), ks, &pol), AF_EJWT_AUD);
    ck_assert_int_eq(jwt(p, AUDT(",\"aud\":[1,\"" AUD "\"]"), ks, &pol), AF_EJWT_AUD);
    ck_assert_int_eq(jwt(p, AUDT(",\"aud\":\"" AUD "\""), ks, &pol), APR_SUCCESS);
    ck_assert_int_eq(jwt(p, AUDT(",\"aud\":[\"x\",\"" AUD "\"]"), ks, &pol), APR_SUCCESS);
    /* minted for location A, replayed at B with the same signing key */
    pol.aud = "https://app.example/b";
    ck_assert_int_eq(jwt(p, AUDT(",\"aud\":\"https://app.example/a\""), ks, &pol), AF_EJWT_AUD);
    /* iss is exact too */
    pol = policy();
    ck_assert_int_eq(
        jwt(p,
            sign_hdr(p, k, "{\"alg\":\"HS256\"}",
                     apr_psprintf(p, "{\"iss\":\"" ISS "/\",\"aud\":\"" AUD "\",\"exp\":%ld}",
                                  NOW + 60)),
            ks, &pol),
        AF_EJWT_ISS);
#undef AUDT
    apr_pool_destroy(p);
}
END_TEST

START_TEST(test_B06_subject)
{
    apr_pool_t *p = af_test_pool();
    af_key_t *k = gen(p, AF_ALG_HS256, "h");
    af_keyset_t *ks = ks_of(p, k, NULL);
    af_jwt_policy_t pol = policy();
    const char *base =
        apr_psprintf(p, "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"exp\":%ld", NOW + 600);
    char s255[256], s256[257], u255[255 * 3 + 1];
    int i;
#define SUBT(x) sign_hdr(p, k, "{\"alg\":\"HS256\"}", apr_pstrcat(p, base, x, "}", NULL))

    memset(s255, 'a', 255);
    s255[255] = '\0';
    memset(s256, 'a', 256);
    s256[256] = '\0';
    for (i = 0; i < 255; i++) {
        memcpy(u255 + 3 * i, "\xe4\xb8\x80", 3); /* U+4E00: 255 characters, 765 bytes */
    }
    u255[765] = '\0';
    pol.require_sub = 1;
    ck_assert_int_eq(jwt(p, SUBT(""), ks, &pol), AF_EJWT_SUB);
    ck_assert_int_eq(jwt(p, SUBT(",\"sub\":\"\""), ks, &pol), AF_EJWT_SUB);
    ck_assert_int_eq(jwt(p, SUBT(",\"sub\":42"), ks, &pol), AF_EJWT_SUB);
    ck_assert_int_eq(jwt(p, SUBT(",\"sub\":[\"a\"]"), ks, &pol), AF_EJWT_SUB);
    ck_assert_int_eq(jwt(p, SUBT(apr_psprintf(p, ",\"sub\":\"%s\"", s256)), ks, &pol), AF_EJWT_SUB);
    ck_assert_int_eq(jwt(p, SUBT(",\"sub\":\"a\\r\\nX-Remote-User: admin\""), ks, &pol),
                     AF_EJWT_SUB);
    ck_assert_int_eq(jwt(p, SUBT(",\"sub\":\"a\\nb\""), ks, &pol), AF_EJWT_SUB);
    ck_assert_int_eq(jwt(p, SUBT(",\"sub\":\"a\\u007fb\""), ks, &pol), AF_EJWT_SUB);
    ck_assert_int_eq(jwt(p, SUBT(",\"sub\":\"a\\u0085b\""), ks, &pol), AF_EJWT_SUB);
    ck_assert_int_eq(jwt(p, SUBT(",\"sub\":\"admin\\u0000x\""), ks, &pol), AF_EJSON);
    ck_assert_int_eq(jwt(p, SUBT(apr_psprintf(p, ",\"sub\":\"%s\"", s255)), ks, &pol), APR_SUCCESS);
    ck_assert_int_eq(jwt(p, SUBT(apr_psprintf(p, ",\"sub\":\"%s\"", u255)), ks, &pol), APR_SUCCESS);
    /* a malformed sub is refused even when sub is not required */
    pol.require_sub = 0;
    ck_assert_int_eq(jwt(p, SUBT(""), ks, &pol), APR_SUCCESS);
    ck_assert_int_eq(jwt(p, SUBT(",\"sub\":\"a\\rb\""), ks, &pol), AF_EJWT_SUB);
#undef SUBT
    apr_pool_destroy(p);
}
END_TEST

START_TEST(test_B07_jti_missing)
{
    apr_pool_t *p = af_test_pool();
    af_key_t *k = gen(p, AF_ALG_HS256, "h");
    af_keyset_t *ks = ks_of(p, k, NULL);
    af_jwt_policy_t pol = policy();
    const char *base =
        apr_psprintf(p, "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"exp\":%ld", NOW + 600);
#define JTIT(x) sign_hdr(p, k, "{\"alg\":\"HS256\"}", apr_pstrcat(p, base, x, "}", NULL))
    pol.require_jti = 1;
    ck_assert_int_eq(jwt(p, JTIT(""), ks, &pol), AF_EJWT_JTI);
    ck_assert_int_eq(jwt(p, JTIT(",\"jti\":\"\""), ks, &pol), AF_EJWT_JTI);
    ck_assert_int_eq(jwt(p, JTIT(",\"jti\":7"), ks, &pol), AF_EJWT_JTI);
    ck_assert_int_eq(jwt(p, JTIT(",\"jti\":\"abc\""), ks, &pol), APR_SUCCESS);
#undef JTIT
    apr_pool_destroy(p);
}
END_TEST

/* ---- group C ------------------------------------------------------------------------------ */

START_TEST(test_C01_hmac_secret_too_short)
{
    static const af_alg_t algs[] = {AF_ALG_HS256, AF_ALG_HS384, AF_ALG_HS512};
    static const size_t mins[] = {32, 48, 64};
    apr_pool_t *p = af_test_pool();
    unsigned char secret[64];
    af_key_t *k;
    const char *why, *path;
    apr_array_header_t *skipped = apr_array_make(p, 2, sizeof(const char *));
    af_keyset_t *ks;
    apr_status_t rv;
    const char *jwks;
    FILE *f;
    int i;

    memset(secret, 0x5a, sizeof(secret));
    for (i = 0; i < 3; i++) {
        ck_assert_int_eq(af_key_from_secret(&k, secret, mins[i] - 1, algs[i], NULL, &why, p),
                         AF_EKEY_WEAK);
        ck_assert_str_eq(why, "hmac_key_too_short");
        ck_assert_int_eq(af_key_from_secret(&k, secret, 0, algs[i], NULL, &why, p), AF_EKEY_WEAK);
        ck_assert_int_eq(af_key_from_secret(&k, secret, mins[i], algs[i], NULL, &why, p),
                         APR_SUCCESS);
    }
    /* oct JWK without alg: no algorithm can be pinned */
    k = jwk_key(p, "{\"kty\":\"oct\",\"k\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\"}",
                AF_JWK_ALLOW_OCT, &rv, &why);
    ck_assert_int_eq(rv, AF_EKEY_INVALID);
    /* a short secret file (configured key) fails */
    path = apr_psprintf(p, "/tmp/af_test_c01_%d", (int) getpid());
    f = fopen(path, "w");
    fputs("0123456789012345678901234567890\n", f); /* 31 bytes + newline */
    fclose(f);
    ck_assert_int_eq(af_key_load_file(&k, path, AF_ALG_HS256, NULL, &why, p), AF_EKEY_WEAK);
    f = fopen(path, "w");
    fputs("01234567890123456789012345678901\n", f);
    fclose(f);
    ck_assert_int_eq(af_key_load_file(&k, path, AF_ALG_HS256, NULL, &why, p), APR_SUCCESS);
    ck_assert_uint_eq(k->secret_len, 32);
    unlink(path);
    /* in a fetched JWKS the short key is ignored with a reason, not fatal */
    jwks = "{\"keys\":[{\"kty\":\"oct\",\"kid\":\"s\",\"alg\":\"HS256\",\"k\":\"AAECAw\"}]}";
    af_test_log_capture(AF_LOG_DEBUG);
    ck_assert_int_eq(af_jwks_parse(&ks, jwks, strlen(jwks), AF_JWK_ALLOW_OCT, skipped, p),
                     APR_SUCCESS);
    /* a warning is logged, with the kid and the reason, never the key */
    ck_assert(af_test_log_contains("AF01001"));
    ck_assert(af_test_log_contains("hmac_key_too_short"));
    ck_assert(!af_test_log_contains("AAECAw"));
    af_log_set(NULL, NULL, 0);
    ck_assert_int_eq(ks->keys->nelts, 0);
    ck_assert_int_eq(skipped->nelts, 1);
    ck_assert_str_eq(APR_ARRAY_IDX(skipped, 0, const char *), "s: hmac_key_too_short");
    apr_pool_destroy(p);
}
END_TEST

static apr_status_t jwks_fmt(af_keyset_t **ks, int flags, apr_array_header_t *sk, apr_pool_t *p,
                             const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static apr_status_t jwks_fmt(af_keyset_t **ks, int flags, apr_array_header_t *sk, apr_pool_t *p,
                             const char *fmt, ...)
{
    va_list ap;
    const char *j;

    va_start(ap, fmt);
    j = apr_pvsprintf(p, fmt, ap);
    va_end(ap);
    return af_jwks_parse(ks, j, strlen(j), flags, sk, p);
}

static apr_status_t rsa_jwk(apr_pool_t *p, const char *n, const char *e, const char **why)
{
    apr_status_t rv;

    jwk_key(p, apr_psprintf(p, "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"%s\"}", n, e),
            AF_JWK_PUBLIC_ONLY, &rv, why);
    return rv;
}

START_TEST(test_C02_rsa_weak)
{
    /* json_web_key_test.json tc7: a ROCA-vulnerable 2048-bit modulus */
    static const char *roca_n =
        "AanFpofbj7KjD4Lf-N2hVMKR7yewSyXhhbirIMTGpfYEhZ_lnt5UoK98DnKIgArXGTu3MaW_HhFw16HGaTDUHq"
        "PrId7fe4r11CqRw09yBFuW79V8sYIwHdzCaWflUI6auImYbVfoN9_nD5n8N8SY9DwXw7mwZM9wREPXoDPgOo"
        "IWl6q_MPsp7n0zs3Z5ZaiQWOOzl1S9OhwAfSiiOwz6efnXEaxuTEtPd7BjSx7NaFka8Dx9U7YqXy2RFj1O9";
    apr_pool_t *p = af_test_pool();
    af_key_t *k;
    EVP_PKEY *pk = NULL;
    EVP_PKEY_CTX *ctx;
    BIGNUM *e3 = BN_new();
    const char *pem, *why, *n, *full_roca = NULL;
    size_t len, i;
    json_t *jwk, *doc;
    char *big;

    /* 1024-bit key from PEM: refused */
    pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 1024);
    pem = encode(p, pk, EVP_PKEY_PUBLIC_KEY, "PEM", "SubjectPublicKeyInfo", &len);
    EVP_PKEY_free(pk);
    ck_assert_int_eq(af_key_load_pem(&k, pem, len, AF_ALG_RS256, NULL, &why, p), AF_EKEY_WEAK);
    ck_assert_str_eq(why, "rsa_modulus_too_small");
    /* e = 3 (2048 bits): refused */
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    BN_set_word(e3, 3);
    ck_assert_int_eq(EVP_PKEY_keygen_init(ctx), 1);
    ck_assert_int_eq(EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, 2048), 1);
    ck_assert_int_eq(EVP_PKEY_CTX_set1_rsa_keygen_pubexp(ctx, e3), 1);
    pk = NULL;
    ck_assert_int_eq(EVP_PKEY_generate(ctx, &pk), 1);
    EVP_PKEY_CTX_free(ctx);
    BN_free(e3);
    pem = encode(p, pk, EVP_PKEY_KEYPAIR, "PEM", "type-specific", &len);
    ck_assert_ptr_nonnull(strstr(pem, "BEGIN RSA PRIVATE KEY"));
    ck_assert_int_eq(af_key_load_pem(&k, pem, len, AF_ALG_UNKNOWN, NULL, &why, p), AF_EKEY_WEAK);
    ck_assert_str_eq(why, "rsa_exponent_weak");
    EVP_PKEY_free(pk);
    /* JWK exponents: 1, 3, even, 65535; and 65537 as the control */
    k = rsa_key(p, 2048, AF_ALG_RS256, NULL);
    ck_assert_int_eq(af_key_to_public_jwk(&jwk, k, p), APR_SUCCESS);
    n = json_string_value(json_object_get(jwk, "n"));
    ck_assert_int_eq(rsa_jwk(p, n, "AQ", &why), AF_EKEY_WEAK);
    ck_assert_int_eq(rsa_jwk(p, n, "Aw", &why), AF_EKEY_WEAK);
    ck_assert_int_eq(rsa_jwk(p, n, "AQAC", &why), AF_EKEY_WEAK);
    ck_assert_int_eq(rsa_jwk(p, n, "__8", &why), AF_EKEY_WEAK);
    ck_assert_int_eq(rsa_jwk(p, n, "AQAB", &why), APR_SUCCESS);
    /* ROCA fingerprint (the modulus from Wycheproof JWK tc7, read from the vector file) */
    {
        char *text;
        apr_size_t tl;
        const char *path =
            apr_pstrcat(p, af_test_vectors_dir(), "/wycheproof/json_web_key_test.json", NULL);
        ck_assert_int_eq(af_test_read_file(&text, &tl, path, p), APR_SUCCESS);
        doc = json_loadb(text, tl, 0, NULL);
        ck_assert_ptr_nonnull(doc);
        for (i = 0; i < json_array_size(json_object_get(doc, "testGroups")); i++) {
            json_t *g = json_array_get(json_object_get(doc, "testGroups"), i);
            if (strcmp(json_string_value(json_object_get(g, "comment")), "jws_rsa_roca_key") == 0) {
                json_t *kk =
                    json_array_get(json_object_get(json_object_get(g, "public"), "keys"), 0);
                full_roca = apr_pstrdup(p, json_string_value(json_object_get(kk, "n")));
            }
        }
        json_decref(doc);
    }
    ck_assert_ptr_nonnull(full_roca);
    ck_assert(strncmp(full_roca, roca_n, 40) == 0);
    ck_assert_int_eq(rsa_jwk(p, full_roca, "AQAB", &why), AF_EKEY_WEAK);
    ck_assert_str_eq(why, "rsa_roca_vulnerable");
    /* a modulus above 8192 bits is refused (no primality needed to test the cap) */
    big = apr_palloc(p, 1400);
    memset(big, '_', 1380);
    big[1379] = 'w'; /* odd; 1380 chars = 8280 bits */
    big[1380] = '\0';
    ck_assert_int_ne(rsa_jwk(p, big, "AQAB", &why), APR_SUCCESS);
    apr_pool_destroy(p);
}
END_TEST

START_TEST(test_C03_ec_invalid)
{
    static const char *x = "04N0xi21hshyvBp7I167sbE_bXqyqkAPfefdklMO7wY";
    static const char *y = "UI8exy-C06a7DUnjIdENkxeFtHM4-l_41LqEw9nVgmw";
    apr_pool_t *p = af_test_pool();
    apr_status_t rv;
    const char *why;
    af_key_t *k;

#define ECJ(fmt, ...) jwk_key(p, apr_psprintf(p, fmt, __VA_ARGS__), AF_JWK_PUBLIC_ONLY, &rv, &why)
    k = ECJ("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}", x, y);
    ck_assert_int_eq(rv, APR_SUCCESS);
    ck_assert_int_eq(k->alg, AF_ALG_ES256);
    /* point not on the curve (Wycheproof JWK tc22) */
    ECJ("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}", x,
        "UI8exy-C06a7DUnjIdENkxeFtHM4-l_41LqEw9nVgnw");
    ck_assert_int_eq(rv, AF_EKEY_INVALID);
    /* crv / kty / alg mismatch */
    ECJ("{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"%s\",\"y\":\"%s\"}", x, y);
    ck_assert_int_ne(rv, APR_SUCCESS);
    ECJ("{\"kty\":\"RSA\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}", x, y);
    ck_assert_int_ne(rv, APR_SUCCESS);
    ECJ("{\"kty\":\"EC\",\"crv\":\"P-256\",\"alg\":\"ES512\",\"x\":\"%s\",\"y\":\"%s\"}", x, y);
    ck_assert_int_eq(rv, AF_EKEY_INVALID);
    ECJ("{\"kty\":\"EC\",\"crv\":\"P-256\",\"alg\":\"ES521\",\"x\":\"%s\",\"y\":\"%s\"}", x, y);
    ck_assert_int_ne(rv, APR_SUCCESS);
    ECJ("{\"kty\":\"EC\",\"crv\":\"secp256k1\",\"x\":\"%s\",\"y\":\"%s\"}", x, y);
    ck_assert_int_eq(rv, AF_EKEY_UNSUPPORTED);
    ECJ("{\"kty\":\"OKP\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}", x, y);
    ck_assert_int_ne(rv, APR_SUCCESS);
    /* x or y of the wrong length: a leading zero byte added or removed */
    ECJ("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AA%s\",\"y\":\"%s\"}",
        "A04N0xi21hshyvBp7I167sbE_bXqyqkAPfefdklMO7wY", y);
    ck_assert_int_eq(rv, AF_EKEY_INVALID);
    ECJ("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}", x,
        "UI8exy-C06a7DUnjIdENkxeFtHM4-l_41LqEw9nVg");
    ck_assert_int_eq(rv, AF_EKEY_INVALID);
    ECJ("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\"}", x);
    ck_assert_int_eq(rv, AF_EKEY_INVALID);
    /* Ed448 is not enabled */
    ECJ("{\"kty\":\"OKP\",\"crv\":\"%s\",\"x\":\"%s\"}", "Ed448", x);
    ck_assert_int_eq(rv, AF_EKEY_UNSUPPORTED);
#undef ECJ
    (void) k;
    apr_pool_destroy(p);
}
END_TEST

START_TEST(test_C04_keyset_hygiene)
{
    static const char *ec = "\"kty\":\"EC\",\"crv\":\"P-256\","
                            "\"x\":\"04N0xi21hshyvBp7I167sbE_bXqyqkAPfefdklMO7wY\","
                            "\"y\":\"UI8exy-C06a7DUnjIdENkxeFtHM4-l_41LqEw9nVgmw\"";
    static const char *oct = "\"kty\":\"oct\",\"alg\":\"HS256\","
                             "\"k\":\"-ebuDNsVZ2iJtoZ-akfXTSCt4UO2cruLCsbWlBinggE\"";
    apr_pool_t *p = af_test_pool();
    apr_array_header_t *sk = apr_array_make(p, 4, sizeof(const char *));
    af_keyset_t *ks;
    int i;

    /* duplicate kid */
    ck_assert_int_eq(jwks_fmt(&ks, AF_JWK_PUBLIC_ONLY, sk, p,
                              "{\"keys\":[{%s,\"kid\":\"a\"},{%s,\"kid\":\"a\"}]}", ec, ec),
                     AF_EKEY_SET);
    /* symmetric and asymmetric keys mixed */
    ck_assert_int_eq(jwks_fmt(&ks, AF_JWK_ALLOW_OCT, sk, p,
                              "{\"keys\":[{%s,\"kid\":\"a\"},{%s,\"kid\":\"b\"}]}", ec, oct),
                     AF_EKEY_SET);
    /* per-key refusals: skipped with a reason, the good key stays */
    ck_assert_int_eq(
        jwks_fmt(&ks, AF_JWK_PUBLIC_ONLY, sk, p,
                 "{\"keys\":[{%s,\"kid\":\"good\"},"
                 "{%s,\"kid\":\"priv\",\"d\":\"yy49oPcINGK2ps0LmtxpB6UTEOiITghHBif6wDqmJ3c\"},"
                 "{%s,\"kid\":\"enc\",\"use\":\"enc\"},"
                 "{%s,\"kid\":\"ops\",\"key_ops\":[\"encrypt\"]},"
                 "{%s,\"kid\":\"ops2\",\"key_ops\":\"verify\"},"
                 "{%s,\"kid\":\"alg\",\"alg\":\"ECDH-ES\"}]}",
                 ec, ec, ec, ec, ec, ec),
        APR_SUCCESS);
    ck_assert_int_eq(ks->keys->nelts, 1);
    ck_assert_str_eq(APR_ARRAY_IDX(ks->keys, 0, af_key_t *)->kid, "good");
    ck_assert_int_eq(sk->nelts, 5);
    ck_assert_str_eq(APR_ARRAY_IDX(sk, 0, const char *), "priv: private_member_in_public_jwk");
    ck_assert_str_eq(APR_ARRAY_IDX(sk, 1, const char *), "enc: use_not_sig");
    ck_assert_str_eq(APR_ARRAY_IDX(sk, 2, const char *), "ops: key_ops_without_verify");
    /* private RSA members in a public JWKS; oct in a public JWKS */
    apr_array_clear(sk);
    ck_assert_int_eq(
        jwks_fmt(&ks, AF_JWK_PUBLIC_ONLY, sk, p, "{\"keys\":[{%s,\"kid\":\"o\"}]}", oct),
        APR_SUCCESS);
    ck_assert_int_eq(ks->keys->nelts, 0);
    /* alg A256GCM / A256KW on an oct key */
    for (i = 0; i < 2; i++) {
        apr_array_clear(sk);
        ck_assert_int_eq(jwks_fmt(&ks, AF_JWK_ALLOW_OCT, sk, p,
                                  "{\"keys\":[{\"kty\":\"oct\",\"alg\":\"%s\",\"k\":"
                                  "\"-ebuDNsVZ2iJtoZ-akfXTSCt4UO2cruLCsbWlBinggE\"}]}",
                                  i == 0 ? "A256GCM" : "A256KW"),
                         APR_SUCCESS);
        ck_assert_int_eq(ks->keys->nelts, 0);
        ck_assert_int_eq(sk->nelts, 1);
    }
    /* not a key set at all */
    ck_assert_int_eq(jwks_fmt(&ks, 0, sk, p, "{\"keys\":{}}"), AF_EKEY_SET);
    ck_assert_int_eq(jwks_fmt(&ks, 0, sk, p, "{\"keys\":[1]"), AF_EJSON);
    apr_pool_destroy(p);
}
END_TEST

START_TEST(test_C05_unusable_keys_ignored)
{
    apr_pool_t *p = af_test_pool();
    af_key_t *good = gen(p, AF_ALG_ES256, "good");
    json_t *jwk;
    const char *jwks;
    af_keyset_t *ks;
    const af_key_t *used = NULL;
    apr_array_header_t *sk = apr_array_make(p, 4, sizeof(const char *));
    const char *t;
    af_jwt_policy_t pol = policy();
    json_t *c;

    ck_assert_int_eq(af_key_to_public_jwk(&jwk, good, p), APR_SUCCESS);
    jwks = apr_psprintf(p,
                        "{\"keys\":[{\"kty\":\"AKP\",\"kid\":\"pq\",\"alg\":\"ML-DSA-44\","
                        "\"pub\":\"AAAA\"},{\"kty\":\"FOO\",\"kid\":\"x\"},"
                        "{\"kid\":\"nokty\"},%s]}",
                        af_json_dump(jwk, p));
    ck_assert_int_eq(af_jwks_parse(&ks, jwks, strlen(jwks), AF_JWK_PUBLIC_ONLY, sk, p),
                     APR_SUCCESS);
    ck_assert_int_eq(ks->keys->nelts, 1);
    ck_assert_int_eq(sk->nelts, 3);
    ck_assert_str_eq(APR_ARRAY_IDX(sk, 0, const char *), "pq: kty_unsupported");
    t = sign_hdr(p, good, "{\"alg\":\"ES256\",\"kid\":\"good\"}", GOOD(p));
    ck_assert_int_eq(af_jwt_verify(&c, &used, t, strlen(t), ks, &pol, p), APR_SUCCESS);
    ck_assert_str_eq(used->kid, "good");
    apr_pool_destroy(p);
}
END_TEST

/* ---- functional checks of the layer ------------------------------------------------------- */

START_TEST(test_sign_verify_every_alg)
{
    apr_pool_t *p = af_test_pool();
    af_key_t *rsa = rsa_key(p, 2048, AF_ALG_RS256, "r");
    const char *pem;
    int a;

    ck_assert_int_eq(af_key_to_pem(&pem, rsa, p), APR_SUCCESS);
    for (a = AF_ALG_HS256; a < AF_ALG_COUNT; a++) {
        af_key_t *k = a >= AF_ALG_RS256 && a <= AF_ALG_PS512
                          ? load_pem(p, pem, strlen(pem), (af_alg_t) a, "k")
                          : gen(p, (af_alg_t) a, "k");
        af_keyset_t *ks = ks_of(p, k, NULL);
        const char *t = NULL;
        json_t *c;
        af_jws_t *jws;
        af_jwt_policy_t pol = policy();
        char *bad;

        ck_assert_int_eq(
            af_jws_sign(&t, k, "at+jwt", (const unsigned char *) GOOD(p), strlen(GOOD(p)), p),
            APR_SUCCESS);
        pol.typ = "application/at+JWT";
        ck_assert_msg(af_jwt_verify(&c, NULL, t, strlen(t), ks, &pol, p) == APR_SUCCESS, "alg %s",
                      af_alg_name((af_alg_t) a));
        ck_assert_str_eq(json_string_value(json_object_get(c, "sub")), "alice");
        ck_assert_int_eq(af_jws_parse(&jws, t, strlen(t), 0, p), APR_SUCCESS);
        ck_assert_str_eq(jws->kid, "k");
        ck_assert_str_eq(jws->typ, "at+jwt");
        ck_assert_int_eq(jws->alg, a);
        pol.typ = "JWT";
        ck_assert_int_eq(af_jwt_verify(&c, NULL, t, strlen(t), ks, &pol, p), AF_EJWT_TYP);
        /* one flipped bit in the payload */
        bad = apr_pstrdup(p, t);
        bad[strchr(bad, '.') - bad + 3] ^= 1;
        pol.typ = NULL;
        ck_assert_int_ne(af_jwt_verify(&c, NULL, bad, strlen(bad), ks, &pol, p), APR_SUCCESS);
    }
    apr_pool_destroy(p);
}
END_TEST

START_TEST(test_key_formats)
{
    apr_pool_t *p = af_test_pool();
    EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 2048);
    EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    EVP_PKEY *keys[3] = {rsa, ec, ed};
    static const af_alg_t algs[3] = {AF_ALG_RS256, AF_ALG_ES384, AF_ALG_EDDSA};
    const char *why;
    af_key_t *k, *k2;
    size_t len;
    int i;

    for (i = 0; i < 3; i++) {
        const char *forms[4][2] = {{"PEM", "PrivateKeyInfo"},
                                   {"PEM", "type-specific"},
                                   {"DER", "PrivateKeyInfo"},
                                   {"PEM", "SubjectPublicKeyInfo"}};
        int f;

        for (f = 0; f < 4; f++) {
            int sel = f == 3 ? EVP_PKEY_PUBLIC_KEY : EVP_PKEY_KEYPAIR;
            const char *data;
            json_t *jwk;

            if (i == 2 && f == 1) {
                continue; /* Ed25519 has no traditional format */
            }
            data = encode(p, keys[i], sel, forms[f][0], forms[f][1], &len);
            k = load_pem(p, data, len, AF_ALG_UNKNOWN, "kid");
            ck_assert_int_eq(k->alg, algs[i]);
            ck_assert_int_eq(k->is_private, f != 3);
            /* public JWK round trip and the same thumbprint */
            ck_assert_int_eq(af_key_to_public_jwk(&jwk, k, p), APR_SUCCESS);
            ck_assert_int_eq(af_jwk_parse(&k2, jwk, AF_JWK_PUBLIC_ONLY, &why, p), APR_SUCCESS);
            ck_assert_str_eq(af_key_thumbprint(k, p), af_key_thumbprint(k2, p));
            ck_assert_str_eq(json_string_value(json_object_get(jwk, "alg")), af_alg_name(algs[i]));
        }
    }
    /* a public key cannot sign or be written as a private PEM */
    {
        const char *data = encode(p, ec, EVP_PKEY_PUBLIC_KEY, "PEM", "SubjectPublicKeyInfo", &len);
        const char *t, *pem;
        k = load_pem(p, data, len, AF_ALG_UNKNOWN, NULL);
        ck_assert_int_eq(af_jws_sign(&t, k, NULL, (const unsigned char *) "{}", 2, p),
                         AF_EKEY_PUBLIC);
        ck_assert_int_eq(af_key_to_pem(&pem, k, p), AF_EKEY_PUBLIC);
    }
    /* garbage is refused */
    ck_assert_int_eq(af_key_load_pem(&k,
                                     "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
                                     56, AF_ALG_UNKNOWN, NULL, &why, p),
                     AF_EKEY_INVALID);
    /* private JWK (EC) with d that does not match the public point */
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(ec);
    EVP_PKEY_free(ed);
    apr_pool_destroy(p);
}
END_TEST

START_TEST(test_thumbprint_rfc7638)
{
    /* RFC 7638 §3.1 */
    static const char *jwk =
        "{\"kty\":\"RSA\",\"n\":\"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86z"
        "wu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_"
        "RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n9"
        "1CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCu"
        "r-kEgU8awapJzKnqDKgw\",\"e\":\"AQAB\",\"alg\":\"RS256\",\"kid\":\"2011-04-29\"}";
    apr_pool_t *p = af_test_pool();
    apr_status_t rv;
    const char *why;
    af_key_t *k = jwk_key(p, jwk, AF_JWK_PUBLIC_ONLY, &rv, &why);

    ck_assert_int_eq(rv, APR_SUCCESS);
    ck_assert_str_eq(af_key_thumbprint(k, p), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    /* a generated key gets its thumbprint as kid */
    k = gen(p, AF_ALG_ES256, NULL);
    ck_assert_str_eq(k->kid, af_key_thumbprint(k, p));
    apr_pool_destroy(p);
}
END_TEST

START_TEST(test_typ_matches)
{
    ck_assert(af_jwt_typ_matches("at+jwt", "at+jwt"));
    ck_assert(af_jwt_typ_matches("application/AT+JWT", "at+jwt"));
    ck_assert(af_jwt_typ_matches("AT+JWT", "application/at+jwt"));
    ck_assert(!af_jwt_typ_matches("JWT", "at+jwt"));
    ck_assert(!af_jwt_typ_matches(NULL, "at+jwt"));
    ck_assert(!af_jwt_typ_matches("application/", "at+jwt"));
    ck_assert(!af_jwt_typ_matches("text/at+jwt", "at+jwt"));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("jose");
    TCase *a = tcase_create("A"), *b = tcase_create("B"), *c = tcase_create("C");
    TCase *f = tcase_create("functional");

    tcase_set_timeout(a, 120);
    tcase_set_timeout(c, 120);
    tcase_set_timeout(f, 120);
    tcase_add_test(a, test_A01_alg_none);
    tcase_add_test(a, test_A02_alg_confusion);
    tcase_add_test(a, test_A03_empty_key_hmac);
    tcase_add_test(a, test_A04_alg_key_mismatch);
    tcase_add_test(a, test_A05_structure);
    tcase_add_test(a, test_A06_non_strict_base64url);
    tcase_add_test(a, test_A07_duplicate_members);
    tcase_add_test(a, test_A08_non_canonical_json);
    tcase_add_test(a, test_A09_crit);
    tcase_add_test(a, test_A10_b64_false);
    tcase_add_test(a, test_A11_zip);
    tcase_add_test(a, test_A12_nested_jwt);
    tcase_add_test(a, test_A13_key_selection_headers_ignored);
    tcase_add_test(a, test_A15_hmac_tag_length);
    tcase_add_test(a, test_A17_psychic_signatures);
    tcase_add_test(a, test_A19_pinned_alg);
    tcase_add_test(a, test_A21_oversize_before_decoding);
    tcase_add_test(b, test_B01_exp_missing);
    tcase_add_test(b, test_B02_time_boundaries);
    tcase_add_test(b, test_B03_iat_and_lifetime);
    tcase_add_test(b, test_B05_audience);
    tcase_add_test(b, test_B06_subject);
    tcase_add_test(b, test_B07_jti_missing);
    tcase_add_test(c, test_C01_hmac_secret_too_short);
    tcase_add_test(c, test_C02_rsa_weak);
    tcase_add_test(c, test_C03_ec_invalid);
    tcase_add_test(c, test_C04_keyset_hygiene);
    tcase_add_test(c, test_C05_unusable_keys_ignored);
    tcase_add_test(f, test_sign_verify_every_alg);
    tcase_add_test(f, test_key_formats);
    tcase_add_test(f, test_thumbprint_rfc7638);
    tcase_add_test(f, test_typ_matches);
    suite_add_tcase(s, a);
    suite_add_tcase(s, b);
    suite_add_tcase(s, c);
    suite_add_tcase(s, f);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
