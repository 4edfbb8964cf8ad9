/* test_jose.c -- SECURITY.md group A (JOSE/JWS parsing and cryptography), one test per row ID.
 *
 * Attack tokens are built from hand-written header/payload JSON, with signatures made by
 * OpenSSL directly (EVP_Q_mac, EVP_DigestSign) or by af_jws_sign_with_header, which signs any
 * header verbatim.  Groups B and C: test_jose_claims.c, test_jose_keys.c. */
#include "jose_testutil.h"
#include "af_testutil.h"

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

static Suite *suite(void)
{
    Suite *s = suite_create("test_jose");
    TCase *tc = tcase_create("test_jose");

    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_A01_alg_none);
    tcase_add_test(tc, test_A02_alg_confusion);
    tcase_add_test(tc, test_A03_empty_key_hmac);
    tcase_add_test(tc, test_A04_alg_key_mismatch);
    tcase_add_test(tc, test_A05_structure);
    tcase_add_test(tc, test_A06_non_strict_base64url);
    tcase_add_test(tc, test_A07_duplicate_members);
    tcase_add_test(tc, test_A08_non_canonical_json);
    tcase_add_test(tc, test_A09_crit);
    tcase_add_test(tc, test_A10_b64_false);
    tcase_add_test(tc, test_A11_zip);
    tcase_add_test(tc, test_A12_nested_jwt);
    tcase_add_test(tc, test_A13_key_selection_headers_ignored);
    tcase_add_test(tc, test_A15_hmac_tag_length);
    tcase_add_test(tc, test_A17_psychic_signatures);
    tcase_add_test(tc, test_A19_pinned_alg);
    tcase_add_test(tc, test_A21_oversize_before_decoding);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return af_test_run(suite());
}
