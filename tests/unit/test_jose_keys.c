/* test_jose_keys.c -- SECURITY.md group C (keys, JWKS) at the JOSE layer, plus
 * functional checks: every algorithm signs and verifies, key formats, RFC 7638 thumbprints. */
#include <sys/stat.h>

#include "jose_testutil.h"
#include "af_testutil.h"

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
    /* C08: a secret file others can read is refused (the one rule, af_file.h) */
    ck_assert_int_eq(chmod(path, 0644), 0);
    ck_assert_int_eq(af_key_load_file(&k, path, AF_ALG_HS256, NULL, &why, p), AF_EFILE_OTHERS_READ);
    ck_assert_ptr_null(k);
    ck_assert_str_eq(why, "file_readable_by_others");
    ck_assert_int_eq(chmod(path, 0640), 0);
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
    /* PKCS#1 "BEGIN RSA PUBLIC KEY" */
    {
        const char *data = encode(p, rsa, EVP_PKEY_PUBLIC_KEY, "PEM", "type-specific", &len);
        ck_assert_ptr_nonnull(strstr(data, "BEGIN RSA PUBLIC KEY"));
        k = load_pem(p, data, len, AF_ALG_PS256, "r");
        ck_assert_int_eq(k->alg, AF_ALG_PS256);
        ck_assert(!k->is_private);
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

START_TEST(test_A02_key_material_refused_as_hmac_secret)
{
    /* hardening item 6: alg=HS256 on a key file would make public key bytes the HMAC
     * secret (the A02 confusion); a PEM, DER or JWK key is refused as a secret */
    apr_pool_t *p = af_test_pool();
    EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 2048);
    EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    const char *forms[4][2] = {{"PEM", "SubjectPublicKeyInfo"},
                               {"DER", "SubjectPublicKeyInfo"},
                               {"PEM", "PrivateKeyInfo"},
                               {"PEM", "type-specific"}};
    static const char jwk[] =
        "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gH"
        "MzV76e8Tus9uE_rfs5E\",\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}";
    const char *why, *data;
    unsigned char raw[32];
    af_key_t *k;
    size_t len;
    int i, f;

    for (i = 0; i < 2; i++) {
        EVP_PKEY *key = i == 0 ? rsa : ec;

        for (f = 0; f < 4; f++) {
            int sel = f < 2 ? EVP_PKEY_PUBLIC_KEY : EVP_PKEY_KEYPAIR;

            data = encode(p, key, sel, forms[f][0], forms[f][1], &len);
            ck_assert_int_eq(af_key_load_pem(&k, data, len, AF_ALG_HS256, "h", &why, p),
                             AF_EKEY_INVALID);
            ck_assert_str_eq(why, "hmac_secret_is_a_key");
        }
    }
    ck_assert_int_eq(af_key_load_pem(&k, jwk, strlen(jwk), AF_ALG_HS256, "h", &why, p),
                     AF_EKEY_INVALID);
    ck_assert_str_eq(why, "hmac_secret_is_a_key");
    /* control: random bytes and a text secret stay fine */
    memset(raw, 0xa5, sizeof(raw));
    ck_assert_int_eq(
        af_key_load_pem(&k, (const char *) raw, sizeof(raw), AF_ALG_HS256, "h", &why, p),
        APR_SUCCESS);
    data = "correct horse battery staple, forty chars!";
    ck_assert_int_eq(af_key_load_pem(&k, data, strlen(data), AF_ALG_HS256, "h", &why, p),
                     APR_SUCCESS);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(ec);
    apr_pool_destroy(p);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("test_jose_keys");
    TCase *tc = tcase_create("test_jose_keys");

    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_C01_hmac_secret_too_short);
    tcase_add_test(tc, test_C02_rsa_weak);
    tcase_add_test(tc, test_C03_ec_invalid);
    tcase_add_test(tc, test_C04_keyset_hygiene);
    tcase_add_test(tc, test_C05_unusable_keys_ignored);
    tcase_add_test(tc, test_sign_verify_every_alg);
    tcase_add_test(tc, test_key_formats);
    tcase_add_test(tc, test_A02_key_material_refused_as_hmac_secret);
    tcase_add_test(tc, test_thumbprint_rfc7638);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return af_test_run(suite());
}
