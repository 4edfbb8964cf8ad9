/* test_kat.c -- known-answer tests (SECURITY.md K01-K04): RFC 7515 App. A, RFC 7520 §4,
 * RFC 7797 §4.2.  Vectors: $AF_VECTORS_DIR/kat/ (see SOURCE.md there). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <apr_time.h>
#include <openssl/hmac.h>

#include "af_testutil.h"
#include "common/af_b64.h"
#include "jose/af_jose_errors.h"
#include "jose/af_jwt.h"

static json_t *load(const char *name)
{
    char path[1024];
    json_error_t err;
    json_t *j;

    snprintf(path, sizeof(path), "%s/kat/%s", af_test_vectors_dir(), name);
    j = json_load_file(path, 0, &err);
    ck_assert_msg(j != NULL, "cannot load %s: %s", path, err.text);
    return j;
}

static json_t *vector(json_t *doc, const char *id_prefix)
{
    size_t i;
    json_t *v;

    json_array_foreach(json_object_get(doc, "vectors"), i, v)
    {
        const char *id = json_string_value(json_object_get(v, "id"));
        if (strncmp(id, id_prefix, strlen(id_prefix)) == 0) {
            return v;
        }
    }
    ck_abort_msg("no vector %s", id_prefix);
    return NULL;
}

/* The vector's key through the JWK loader, alg pinned from the vector when absent. */
static af_key_t *vkey(const json_t *v, apr_pool_t *p)
{
    json_t *jwk = json_deep_copy(json_object_get(v, "key"));
    af_key_t *k = NULL;
    const char *why = NULL;
    apr_status_t rv;

    if (json_object_get(jwk, "alg") == NULL) {
        json_object_set(jwk, "alg", json_object_get(v, "alg"));
    }
    rv = af_jwk_parse(&k, jwk, AF_JWK_ALLOW_OCT, &why, p);
    json_decref(jwk);
    ck_assert_msg(rv == APR_SUCCESS, "key of %s: %s (%s)",
                  json_string_value(json_object_get(v, "id")), af_strerror(rv), why ? why : "");
    return k;
}

/* Verify a valid vector; reproduce it byte for byte when the vector says so. */
static void check_valid(const json_t *v, apr_pool_t *p)
{
    const char *id = json_string_value(json_object_get(v, "id"));
    const char *compact = json_string_value(json_object_get(v, "compact"));
    af_key_t *key = vkey(v, p);
    af_keyset_t *ks = af_keyset_make(p);
    const af_key_t *used = NULL;
    af_jws_t *jws;
    const char *again;
    char *tampered;

    af_keyset_add(ks, key);
    ck_assert_msg(af_jws_parse(&jws, compact, strlen(compact), 0, p) == APR_SUCCESS, "%s", id);
    ck_assert_msg(af_jws_verify(jws, key) == APR_SUCCESS, "%s does not verify", id);
    ck_assert_int_eq(af_jws_verify_keyset(&used, jws, ks), APR_SUCCESS);
    ck_assert_ptr_eq(used, key);
    /* one changed character in the payload breaks it */
    tampered = apr_pstrdup(p, compact);
    tampered[strchr(tampered, '.') - tampered + 2] ^= 0x01;
    ck_assert_int_ne(af_jws_parse(&jws, tampered, strlen(tampered), 0, p) == APR_SUCCESS &&
                         af_jws_verify(jws, key) == APR_SUCCESS,
                     1);
    /* the signer: same header and payload bytes (A.4 gives the public key only) */
    ck_assert(key->is_private || !json_is_true(json_object_get(v, "reproduce")));
    if (!key->is_private) {
        printf("kat %-60s verified (public key only)\n", id);
    } else {
        const char *d1 = strchr(compact, '.'), *d2 = strrchr(compact, '.');
        unsigned char *hdr, *pl;
        apr_size_t hl, pll;

        ck_assert_int_eq(af_b64url_decode(&hdr, &hl, compact, (apr_size_t) (d1 - compact), p),
                         APR_SUCCESS);
        ck_assert_int_eq(af_b64url_decode(&pl, &pll, d1 + 1, (apr_size_t) (d2 - d1 - 1), p),
                         APR_SUCCESS);
        ck_assert_int_eq(af_jws_sign_with_header(&again, key, (const char *) hdr, pl, pll, p),
                         APR_SUCCESS);
        if (json_is_true(json_object_get(v, "reproduce"))) {
            ck_assert_msg(strcmp(again, compact) == 0, "%s: signer output differs", id);
            printf("kat %-60s verified, signer reproduces it exactly\n", id);
        } else {
            /* randomized (ECDSA) or salted (PSS): our own signature verifies */
            ck_assert_int_eq(af_jws_parse(&jws, again, strlen(again), 0, p), APR_SUCCESS);
            ck_assert_int_eq(af_jws_verify(jws, key), APR_SUCCESS);
            printf("kat %-60s verified (randomized: re-signed and verified)\n", id);
        }
    }
}

static void check_invalid(const json_t *v, apr_pool_t *p)
{
    const char *id = json_string_value(json_object_get(v, "id"));
    const char *compact = json_string_value(json_object_get(v, "compact"));
    const char *ser = json_string_value(json_object_get(v, "serialized"));
    af_key_t *key = vkey(v, p);
    af_jws_t *jws;
    apr_status_t rv;
    const char *t = compact != NULL ? compact : ser;

    ck_assert_ptr_nonnull(t);
    rv = af_jws_parse(&jws, t, strlen(t), 0, p);
    if (rv == APR_SUCCESS) {
        rv = af_jws_verify(jws, key);
    }
    ck_assert_msg(rv != APR_SUCCESS, "%s accepted", id);
    printf("kat %-60s rejected: %s\n", id, af_strerror(rv));
}

static int run_file(const char *name, const char *prefix)
{
    apr_pool_t *p = af_test_pool();
    json_t *doc = load(name), *v;
    size_t i;
    int n = 0;

    json_array_foreach(json_object_get(doc, "vectors"), i, v)
    {
        const char *id = json_string_value(json_object_get(v, "id"));
        const char *expect = json_string_value(json_object_get(v, "expect"));

        if (prefix != NULL && strncmp(id, prefix, strlen(prefix)) != 0) {
            continue;
        }
        if (strcmp(expect, "valid") == 0) {
            check_valid(v, p);
        } else {
            check_invalid(v, p);
        }
        n++;
    }
    json_decref(doc);
    apr_pool_destroy(p);
    return n;
}

START_TEST(test_K01_rfc7515_a1_hs256)
{
    apr_pool_t *p = af_test_pool();
    json_t *doc = load("rfc7515_appendix_a.json"), *v = vector(doc, "K01");
    const char *t = json_string_value(json_object_get(v, "compact"));
    af_keyset_t *ks = af_keyset_make(p);
    af_jwt_policy_t pol;
    json_t *claims;

    check_valid(v, p);
    af_keyset_add(ks, vkey(v, p));
    memset(&pol, 0, sizeof(pol));
    pol.leeway = 60;
    /* the real clock: exp 1300819380 is in 2011 */
    pol.now = (apr_int64_t) apr_time_sec(apr_time_now());
    ck_assert_int_eq(af_jwt_verify(&claims, NULL, t, strlen(t), ks, &pol, p), AF_EJWT_EXP);
    /* with the clock before exp it reaches the iss and aud checks */
    pol.now = 1300819380 - 3600;
    pol.iss = "joe";
    pol.aud = "https://app.example";
    ck_assert_int_eq(af_jwt_verify(&claims, NULL, t, strlen(t), ks, &pol, p), AF_EJWT_AUD);
    pol.iss = "https://joe.example";
    ck_assert_int_eq(af_jwt_verify(&claims, NULL, t, strlen(t), ks, &pol, p), AF_EJWT_ISS);
    pol.iss = "joe";
    pol.aud = NULL;
    ck_assert_int_eq(af_jwt_verify(&claims, NULL, t, strlen(t), ks, &pol, p), APR_SUCCESS);
    ck_assert(json_is_true(json_object_get(claims, "http://example.com/is_root")));
    /* one second after exp + leeway */
    pol.now = 1300819380 + 60;
    ck_assert_int_eq(af_jwt_verify(&claims, NULL, t, strlen(t), ks, &pol, p), AF_EJWT_EXP);
    json_decref(doc);
    apr_pool_destroy(p);
}
END_TEST

/* The prepared inner/outer HMAC states give OpenSSL's one-shot HMAC for every key length
 * around the hash's block size (64 for SHA-256, 128 for SHA-384/512: longer keys are hashed
 * first, RFC 2104) and message lengths around a block; signing reproduces it, a flipped
 * bit is refused. */
START_TEST(test_K01_hmac_matches_openssl)
{
    static const struct {
        af_alg_t alg;
        const char *md;
        apr_size_t hlen;
    } algs[] = {
        {AF_ALG_HS256, "SHA256", 32}, {AF_ALG_HS384, "SHA384", 48}, {AF_ALG_HS512, "SHA512", 64}};
    static const apr_size_t msg_lens[] = {1, 55, 56, 63, 64, 65, 111, 112, 128, 300, 585};
    apr_pool_t *p = af_test_pool();
    unsigned char key[300], msg[600];
    size_t a, m, i;
    apr_size_t kl;

    for (i = 0; i < sizeof(key); i++) {
        key[i] = (unsigned char) (i * 7 + 3);
    }
    for (i = 0; i < sizeof(msg); i++) {
        msg[i] = (unsigned char) (i * 13 + 1);
    }
    for (a = 0; a < sizeof(algs) / sizeof(algs[0]); a++) {
        for (kl = algs[a].hlen; kl <= 2 * 128 + 1; kl++) {
            const char *why = NULL;
            af_key_t *k = NULL;

            ck_assert_int_eq(af_key_from_secret(&k, key, kl, algs[a].alg, NULL, &why, p),
                             APR_SUCCESS);
            for (m = 0; m < sizeof(msg_lens) / sizeof(msg_lens[0]); m++) {
                unsigned char want[EVP_MAX_MD_SIZE];
                unsigned int wl = 0;
                const char *tok = NULL, *sig;
                unsigned char got[EVP_MAX_MD_SIZE];
                apr_size_t gl = 0;

                ck_assert_ptr_nonnull(HMAC(EVP_get_digestbyname(algs[a].md), key, (int) kl, msg,
                                           msg_lens[m], want, &wl));
                ck_assert_uint_eq(wl, algs[a].hlen);
                ck_assert_msg(af_jws_verify_raw(k, msg, msg_lens[m], want, wl) == APR_SUCCESS,
                              "%s key %u msg %u", algs[a].md, (unsigned) kl,
                              (unsigned) msg_lens[m]);
                want[m % wl] ^= 0x01;
                ck_assert_int_eq(af_jws_verify_raw(k, msg, msg_lens[m], want, wl), AF_EJWS_SIG);
                want[m % wl] ^= 0x01;
                /* the signer: the third segment of a token is the same MAC over its input */
                ck_assert_int_eq(af_jws_sign_with_header(&tok, k, "{}", msg, msg_lens[m], p),
                                 APR_SUCCESS);
                sig = strrchr(tok, '.');
                {
                    unsigned char si[EVP_MAX_MD_SIZE];
                    unsigned int sl = 0;

                    HMAC(EVP_get_digestbyname(algs[a].md), key, (int) kl,
                         (const unsigned char *) tok, (size_t) (sig - tok), si, &sl);
                    ck_assert_int_eq(af_b64url_decode_buf(got, &gl, sig + 1, strlen(sig + 1)),
                                     APR_SUCCESS);
                    ck_assert_uint_eq(gl, sl);
                    ck_assert_int_eq(memcmp(got, si, sl), 0);
                }
            }
        }
    }
    apr_pool_destroy(p);
}
END_TEST

START_TEST(test_K02_rfc7515_a2_to_a4)
{
    ck_assert_int_eq(run_file("rfc7515_appendix_a.json", "K02"), 3);
}
END_TEST

START_TEST(test_K03_rfc7520_4_1_to_4_4)
{
    ck_assert_int_eq(run_file("rfc7520_section4.json", "K03"), 4);
    ck_assert_int_eq(run_file("rfc7520_section4.json", "RFC7520-4.6 signature re-encoded"), 1);
}
END_TEST

START_TEST(test_K03_matches_wycheproof)
{
    json_t *doc = load("rfc7520_section4.json");
    char path[1024];
    json_t *w, *g, *t;
    size_t gi, ti;
    int found = 0;
    static const int tcs[] = {345, 346, 347, 348};
    static const char *const ids[] = {"K03 RFC7520-4.1", "K03 RFC7520-4.2", "K03 RFC7520-4.3",
                                      "K03 RFC7520-4.4"};

    snprintf(path, sizeof(path), "%s/wycheproof/json_web_signature_test.json",
             af_test_vectors_dir());
    w = json_load_file(path, 0, NULL);
    ck_assert_ptr_nonnull(w);
    json_array_foreach(json_object_get(w, "testGroups"), gi, g)
    {
        json_array_foreach(json_object_get(g, "tests"), ti, t)
        {
            int i, tc = (int) json_integer_value(json_object_get(t, "tcId"));
            for (i = 0; i < 4; i++) {
                if (tc == tcs[i]) {
                    ck_assert_str_eq(
                        json_string_value(json_object_get(t, "jws")),
                        json_string_value(json_object_get(vector(doc, ids[i]), "compact")));
                    found++;
                }
            }
        }
    }
    ck_assert_int_eq(found, 4);
    json_decref(w);
    json_decref(doc);
}
END_TEST

START_TEST(test_K04_negative)
{
    int n = run_file("rfc7515_appendix_a.json", "K04") + run_file("rfc7520_section4.json", "K04") +
            run_file("rfc7797_4_2.json", "K04");

    ck_assert_int_eq(n, 1 + 6 + 6);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("kat");
    TCase *tc = tcase_create("kat");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_K01_rfc7515_a1_hs256);
    tcase_add_test(tc, test_K01_hmac_matches_openssl);
    tcase_add_test(tc, test_K02_rfc7515_a2_to_a4);
    tcase_add_test(tc, test_K03_rfc7520_4_1_to_4_4);
    tcase_add_test(tc, test_K03_matches_wycheproof);
    tcase_add_test(tc, test_K04_negative);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return af_test_run(suite());
}
