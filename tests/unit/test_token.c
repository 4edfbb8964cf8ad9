/* test_token.c -- refresh tokens, sealed blobs (F10), server secret, signing key,
 * access-token minting (F04), and what reaches storage (G01, token side). */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <openssl/sha.h>

#include "common/af_b64.h"
#include "common/af_error.h"
#include "common/af_json.h"
#include "jose/af_jwt.h"
#include "token/af_token.h"
#include "af_testutil.h"

static apr_pool_t *pool;
static char tmpdir[64];

static void setup(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    af_test_tmpdir(tmpdir, sizeof(tmpdir), "af_token");
}

static void teardown(void)
{
    af_test_rmtree(tmpdir);
    apr_pool_destroy(pool);
    apr_terminate();
}

/* ---- refresh tokens ---------------------------------------------------------------- */

START_TEST(test_G01_refresh_token_entropy_and_format)
{
    enum { N = 2000 };
    const char **all = apr_pcalloc(pool, N * sizeof(char *));
    unsigned long ones = 0;
    int i, j, b, dups = 0;

    for (i = 0; i < N; i++) {
        unsigned char *raw;
        apr_size_t n;

        ck_assert_int_eq(af_token_refresh_new(&all[i], pool), APR_SUCCESS);
        ck_assert_uint_eq(strlen(all[i]), AF_RT_LEN);
        ck_assert_int_eq(af_token_refresh_check(all[i], AF_RT_LEN), APR_SUCCESS);
        ck_assert_uint_eq(strspn(all[i], "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                         "0123456789-_"),
                          AF_RT_LEN);
        ck_assert_int_eq(af_b64url_decode(&raw, &n, all[i], AF_RT_LEN, pool), APR_SUCCESS);
        ck_assert_uint_eq(n * 8, 256);
        for (j = 0; j < (int) n; j++) {
            for (b = 0; b < 8; b++) {
                ones += (raw[j] >> b) & 1;
            }
        }
    }
    /* 512000 bits: a fair source lands within a fraction of a percent of one half */
    ck_assert_msg(ones > 253000UL && ones < 259000UL, "bit balance %lu / 512000", ones);
    for (i = 0; i < N; i++) { /* no ck_assert inside: check logs every call */
        for (j = i + 1; j < N; j++) {
            dups += strcmp(all[i], all[j]) == 0;
        }
    }
    ck_assert_int_eq(dups, 0);
}
END_TEST

START_TEST(test_G01_refresh_token_check_rejects)
{
    const char *rt;
    char buf[64];

    ck_assert_int_eq(af_token_refresh_new(&rt, pool), APR_SUCCESS);
    ck_assert_int_eq(af_token_refresh_check(rt, AF_RT_LEN - 1), AF_ETOKEN_FORMAT);
    snprintf(buf, sizeof(buf), "%sA", rt);
    ck_assert_int_eq(af_token_refresh_check(buf, AF_RT_LEN + 1), AF_ETOKEN_FORMAT);
    memcpy(buf, rt, AF_RT_LEN + 1);
    buf[5] = '+';
    ck_assert_int_eq(af_token_refresh_check(buf, AF_RT_LEN), AF_ETOKEN_FORMAT);
    memcpy(buf, rt, AF_RT_LEN + 1);
    buf[AF_RT_LEN - 1] = '=';
    ck_assert_int_eq(af_token_refresh_check(buf, AF_RT_LEN), AF_ETOKEN_FORMAT);
    /* 43 chars carry 258 bits: the last char's 2 unused bits must be zero */
    memcpy(buf, rt, AF_RT_LEN + 1);
    buf[AF_RT_LEN - 1] = 'B'; /* value 1: non-zero unused bit */
    ck_assert_int_eq(af_token_refresh_check(buf, AF_RT_LEN), AF_ETOKEN_FORMAT);
    ck_assert_int_eq(af_token_refresh_check(NULL, 0), AF_ETOKEN_FORMAT);
}
END_TEST

START_TEST(test_G01_refresh_hash_is_sha256)
{
    static const unsigned char abc[32] = {0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea,
                                          0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
                                          0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c,
                                          0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
    unsigned char h[32];

    ck_assert_int_eq(af_token_refresh_hash(h, "abc", 3), APR_SUCCESS);
    ck_assert_mem_eq(h, abc, 32);
}
END_TEST

/* ---- sealed blobs (F10) -------------------------------------------------------------- */

static af_seal_key_t *key_for(const char *purpose, unsigned char fill)
{
    unsigned char secret[AF_SECRET_LEN];
    af_seal_key_t *k = NULL;

    memset(secret, fill, sizeof(secret));
    ck_assert_int_eq(af_token_seal_key(&k, secret, sizeof(secret), purpose, pool), APR_SUCCESS);
    return k;
}

START_TEST(test_F10_seal_roundtrip_and_fresh_nonce)
{
    af_seal_key_t *k = key_for("__Host-authflow-flow", 7);
    const char *b1, *b2;
    unsigned char *out;
    apr_size_t n;

    ck_assert_int_eq(af_token_seal(&b1, k, "state-data", 10, 1000, 600, pool), APR_SUCCESS);
    ck_assert_int_eq(af_token_seal(&b2, k, "state-data", 10, 1000, 600, pool), APR_SUCCESS);
    ck_assert_str_ne(b1, b2); /* random 96-bit nonce per message */
    ck_assert_int_eq(af_token_unseal(&out, &n, k, b1, strlen(b1), 1500, pool), APR_SUCCESS);
    ck_assert_uint_eq(n, 10);
    ck_assert_str_eq((char *) out, "state-data");
    /* max age inside the plaintext: exactly at expiry ok, one second later expired */
    ck_assert_int_eq(af_token_unseal(&out, &n, k, b1, strlen(b1), 1600, pool), APR_SUCCESS);
    ck_assert_int_eq(af_token_unseal(&out, &n, k, b1, strlen(b1), 1601, pool), AF_ETOKEN_EXPIRED);
    /* an empty payload works too */
    ck_assert_int_eq(af_token_seal(&b2, k, "", 0, 1000, 1, pool), APR_SUCCESS);
    ck_assert_int_eq(af_token_unseal(&out, &n, k, b2, strlen(b2), 1000, pool), APR_SUCCESS);
    ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(test_F10_flip_every_bit)
{
    af_seal_key_t *k = key_for("__Host-authflow-flow", 7);
    const char *blob, *bad;
    unsigned char *raw, *out;
    apr_size_t n, len;
    int i, b, tried = 0;

    ck_assert_int_eq(af_token_seal(&blob, k, "payload!", 8, 1000, 600, pool), APR_SUCCESS);
    ck_assert_int_eq(af_b64url_decode(&raw, &len, blob, strlen(blob), pool), APR_SUCCESS);
    ck_assert_uint_eq(len, AF_SEAL_OVERHEAD + 8 + 8);
    for (i = 0; i < (int) len; i++) {
        for (b = 0; b < 8; b++) {
            raw[i] ^= (unsigned char) (1 << b);
            bad = af_b64url_encode(raw, len, pool);
            ck_assert_int_eq(af_token_unseal(&out, &n, k, bad, strlen(bad), 1000, pool),
                             AF_ETOKEN_SEAL);
            raw[i] ^= (unsigned char) (1 << b);
            tried++;
        }
    }
    ck_assert_int_eq(tried, (int) len * 8);
    /* unchanged blob still opens: the loop restored every bit */
    bad = af_b64url_encode(raw, len, pool);
    ck_assert_int_eq(af_token_unseal(&out, &n, k, bad, strlen(bad), 1000, pool), APR_SUCCESS);
}
END_TEST

START_TEST(test_F10_swap_purpose_and_secret)
{
    af_seal_key_t *flow = key_for("__Host-authflow-flow", 7);
    af_seal_key_t *other = key_for("__Host-authflow-other", 7);
    af_seal_key_t *flow2 = key_for("__Host-authflow-flow", 8);
    const char *blob;
    unsigned char *out;
    apr_size_t n;

    ck_assert_mem_ne(flow->key, other->key, 32); /* a key per purpose */
    ck_assert_int_eq(af_token_seal(&blob, flow, "x", 1, 1000, 600, pool), APR_SUCCESS);
    ck_assert_int_eq(af_token_unseal(&out, &n, other, blob, strlen(blob), 1000, pool),
                     AF_ETOKEN_SEAL);
    ck_assert_int_eq(af_token_unseal(&out, &n, flow2, blob, strlen(blob), 1000, pool),
                     AF_ETOKEN_SEAL);
    /* same key bytes, different purpose label (AAD differs) */
    memcpy(other->key, flow->key, 32);
    ck_assert_int_eq(af_token_unseal(&out, &n, other, blob, strlen(blob), 1000, pool),
                     AF_ETOKEN_SEAL);
    ck_assert_int_eq(af_token_unseal(&out, &n, flow, blob, strlen(blob), 1000, pool), APR_SUCCESS);
}
END_TEST

START_TEST(test_F10_truncated_and_malformed)
{
    af_seal_key_t *k = key_for("p", 7);
    const char *blob, *bad;
    unsigned char *raw, *out;
    apr_size_t n, len, cut;

    ck_assert_int_eq(af_token_seal(&blob, k, "abcdef", 6, 1000, 600, pool), APR_SUCCESS);
    ck_assert_int_eq(af_b64url_decode(&raw, &len, blob, strlen(blob), pool), APR_SUCCESS);
    for (cut = 0; cut < len; cut++) {
        bad = af_b64url_encode(raw, cut, pool);
        ck_assert_int_eq(af_token_unseal(&out, &n, k, bad, strlen(bad), 1000, pool),
                         AF_ETOKEN_SEAL);
    }
    /* extra byte appended */
    raw = (unsigned char *) apr_pstrcat(pool, apr_pstrmemdup(pool, (char *) raw, len), "A", NULL);
    bad = af_b64url_encode(raw, len + 1, pool);
    ck_assert_int_eq(af_token_unseal(&out, &n, k, bad, strlen(bad), 1000, pool), AF_ETOKEN_SEAL);
    /* not base64url, padding, empty */
    ck_assert_int_eq(af_token_unseal(&out, &n, k, "%%%", 3, 1000, pool), AF_ETOKEN_SEAL);
    bad = apr_pstrcat(pool, blob, "=", NULL);
    ck_assert_int_eq(af_token_unseal(&out, &n, k, bad, strlen(bad), 1000, pool), AF_ETOKEN_SEAL);
    ck_assert_int_eq(af_token_unseal(&out, &n, k, "", 0, 1000, pool), AF_ETOKEN_SEAL);
}
END_TEST

START_TEST(test_F10_version_byte_in_aad)
{
    af_seal_key_t *k = key_for("p", 7);
    const char *blob, *bad;
    unsigned char *raw, *out;
    apr_size_t n, len;

    ck_assert_int_eq(af_token_seal(&blob, k, "abcdef", 6, 1000, 600, pool), APR_SUCCESS);
    ck_assert_int_eq(af_b64url_decode(&raw, &len, blob, strlen(blob), pool), APR_SUCCESS);
    ck_assert_int_eq(raw[0], AF_SEAL_VERSION);
    raw[0] = 2;
    bad = af_b64url_encode(raw, len, pool);
    ck_assert_int_eq(af_token_unseal(&out, &n, k, bad, strlen(bad), 1000, pool), AF_ETOKEN_SEAL);
}
END_TEST

START_TEST(test_G01_sealed_blob_hides_plaintext)
{
    af_seal_key_t *k = key_for("p", 7);
    const char *rt, *blob;
    unsigned char *raw;
    apr_size_t len;

    ck_assert_int_eq(af_token_refresh_new(&rt, pool), APR_SUCCESS);
    ck_assert_int_eq(af_token_seal(&blob, k, rt, AF_RT_LEN, 1000, 600, pool), APR_SUCCESS);
    ck_assert_ptr_null(strstr(blob, rt));
    ck_assert_int_eq(af_b64url_decode(&raw, &len, blob, strlen(blob), pool), APR_SUCCESS);
    ck_assert_ptr_null(memmem(raw, len, rt, AF_RT_LEN));
    ck_assert_ptr_null(memmem(raw, len, rt, 8)); /* not even a prefix */
}
END_TEST

START_TEST(test_F10_hkdf_rfc5869_case3)
{
    /* RFC 5869 A.3 (SHA-256, empty salt and info), first 32 bytes of the OKM */
    static const unsigned char okm[32] = {0x8d, 0xa4, 0xe7, 0x75, 0xa5, 0x63, 0xc1, 0x8f,
                                          0x71, 0x5f, 0x80, 0x2a, 0x06, 0x3c, 0x5a, 0x31,
                                          0xb8, 0xa1, 0x1f, 0x5c, 0x5e, 0xe1, 0x87, 0x9e,
                                          0xc3, 0x45, 0x4e, 0x5f, 0x3c, 0x73, 0x8d, 0x2d};
    unsigned char ikm[22], out[32], out2[32];

    memset(ikm, 0x0b, sizeof(ikm));
    ck_assert_int_eq(af_token_hkdf(out, ikm, sizeof(ikm), NULL, NULL), APR_SUCCESS);
    ck_assert_mem_eq(out, okm, 32);
    ck_assert_int_eq(af_token_hkdf(out, ikm, sizeof(ikm), "salt", "info"), APR_SUCCESS);
    ck_assert_int_eq(af_token_hkdf(out2, ikm, sizeof(ikm), "salt", "info2"), APR_SUCCESS);
    ck_assert_mem_ne(out, out2, 32);
}
END_TEST

/* ---- server secret and signing key ------------------------------------------------- */

START_TEST(test_F10_secret_created_once_0600)
{
    const unsigned char *s1, *s2;
    char path[128];
    struct stat st;
    FILE *f;

    ck_assert_int_eq(af_token_secret_load_or_create(&s1, tmpdir, pool), APR_SUCCESS);
    snprintf(path, sizeof(path), "%s/secret.key", tmpdir);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    ck_assert_int_eq(st.st_size, AF_SECRET_LEN);
    ck_assert_int_eq(af_token_secret_load_or_create(&s2, tmpdir, pool), APR_SUCCESS);
    ck_assert_mem_eq(s1, s2, AF_SECRET_LEN);
    /* the one secret-file rule (af_file_private_mode): others may neither read nor write */
    chmod(path, 0644);
    ck_assert_int_eq(af_token_secret_load_or_create(&s2, tmpdir, pool), AF_EFILE_OTHERS_READ);
    chmod(path, 0602);
    ck_assert_int_eq(af_token_secret_load_or_create(&s2, tmpdir, pool), AF_EFILE_OTHERS_WRITE);
    chmod(path, 0640); /* group access is allowed, as for every secret file */
    ck_assert_int_eq(af_token_secret_load_or_create(&s2, tmpdir, pool), APR_SUCCESS);
    /* wrong size: refused */
    chmod(path, 0600);
    f = fopen(path, "a");
    fputc('x', f);
    fclose(f);
    ck_assert_int_eq(af_token_secret_load_or_create(&s2, tmpdir, pool), AF_ETOKEN_SECRET);
}
END_TEST

START_TEST(test_F04_signing_key_created_once)
{
    af_key_t *k1, *k2;
    char path[128];
    struct stat st;

    ck_assert_int_eq(af_token_signing_key_load_or_create(&k1, tmpdir, pool), APR_SUCCESS);
    ck_assert_int_eq(k1->alg, AF_ALG_ES256);
    ck_assert(k1->is_private);
    ck_assert_ptr_nonnull(k1->kid);
    snprintf(path, sizeof(path), "%s/signing-key.pem", tmpdir);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    ck_assert_int_eq(af_token_signing_key_load_or_create(&k2, tmpdir, pool), APR_SUCCESS);
    ck_assert_str_eq(k1->kid, k2->kid); /* the same key, not a new one */
    /* the one secret-file rule: group access allowed (the store directory is 0700 anyway),
     * others refused */
    chmod(path, 0640);
    ck_assert_int_eq(af_token_signing_key_load_or_create(&k2, tmpdir, pool), APR_SUCCESS);
    chmod(path, 0604);
    ck_assert_int_eq(af_token_signing_key_load_or_create(&k2, tmpdir, pool), AF_EFILE_OTHERS_READ);
}
END_TEST

/* ---- minting (F04) ------------------------------------------------------------------- */

static apr_array_header_t *names(const char *list)
{
    apr_array_header_t *a = apr_array_make(pool, 8, sizeof(const char *));
    char *l = apr_pstrdup(pool, list), *last, *t;

    for (t = apr_strtok(l, " ", &last); t; t = apr_strtok(NULL, " ", &last)) {
        APR_ARRAY_PUSH(a, const char *) = t;
    }
    return a;
}

static json_t *verify(const char *tok, const af_key_t *key, apr_int64_t now)
{
    af_keyset_t *ks = af_keyset_make(pool);
    af_jwt_policy_t pol;
    const af_key_t *used;
    json_t *claims = NULL;

    memset(&pol, 0, sizeof(pol));
    pol.now = now;
    pol.leeway = 0;
    pol.iss = "https://app.example";
    pol.aud = "app";
    pol.typ = "at+jwt";
    pol.require_iat = pol.require_jti = pol.require_sub = 1;
    af_keyset_add(ks, (af_key_t *) key);
    ck_assert_int_eq(af_jwt_verify(&claims, &used, tok, strlen(tok), ks, &pol, pool), APR_SUCCESS);
    return claims;
}

START_TEST(test_F04_mint_claims)
{
    af_key_t *key;
    json_t *in, *c;
    const char *tok, *tok2;
    af_jws_t *jws;

    ck_assert_int_eq(af_key_generate(&key, AF_ALG_ES256, "k1", pool), APR_SUCCESS);
    static const char doc[] = "{\"sub\":\"evil\",\"email\":\"a@b.c\",\"email_verified\":true,"
                              "\"groups\":[\"ops\",\"dev\"],\"secret\":\"no\",\"exp\":1}";

    ck_assert_int_eq(af_json_parse(&in, doc, strlen(doc), 0, pool), APR_SUCCESS);
    ck_assert_int_eq(af_token_mint_access(&tok, key, "https://app.example", "app", "alice",
                                          "SIDSIDSIDSIDSIDSIDSIDS", "google", 300, 1700000000, in,
                                          names("sub email email_verified groups exp"),
                                          strlen("__Host-authflow-at"), pool),
                     APR_SUCCESS);
    ck_assert_int_eq(af_jws_parse(&jws, tok, strlen(tok), 0, pool), APR_SUCCESS);
    ck_assert_str_eq(jws->typ, "at+jwt");
    ck_assert_str_eq(jws->kid, "k1");
    c = verify(tok, key, 1700000100);
    ck_assert_str_eq(json_string_value(json_object_get(c, "sub")), "alice");
    ck_assert_str_eq(json_string_value(json_object_get(c, "sid")), "SIDSIDSIDSIDSIDSIDSIDS");
    ck_assert_str_eq(json_string_value(json_object_get(c, "idp")), "google");
    ck_assert_int_eq(json_integer_value(json_object_get(c, "iat")), 1700000000);
    ck_assert_int_eq(json_integer_value(json_object_get(c, "exp")), 1700000300);
    ck_assert_uint_eq(strlen(json_string_value(json_object_get(c, "jti"))), 22);
    ck_assert_str_eq(json_string_value(json_object_get(c, "email")), "a@b.c");
    ck_assert(json_is_true(json_object_get(c, "email_verified")));
    ck_assert_int_eq(json_array_size(json_object_get(c, "groups")), 2);
    ck_assert_ptr_null(json_object_get(c, "secret")); /* not in the list */
    /* a fresh jti per token */
    ck_assert_int_eq(af_token_mint_access(&tok2, key, "https://app.example", "app", "alice",
                                          "SIDSIDSIDSIDSIDSIDSIDS", "google", 300, 1700000000, NULL,
                                          NULL, 18, pool),
                     APR_SUCCESS);
    ck_assert_str_ne(json_string_value(json_object_get(c, "jti")),
                     json_string_value(json_object_get(verify(tok2, key, 1700000001), "jti")));
    /* required claims */
    ck_assert_int_eq(
        af_token_mint_access(&tok2, key, "i", "a", NULL, "s", NULL, 300, 1, NULL, NULL, 0, pool),
        AF_ETOKEN_CLAIMS);
    ck_assert_int_eq(
        af_token_mint_access(&tok2, key, "i", "a", "u", "s", NULL, 0, 1, NULL, NULL, 0, pool),
        AF_ETOKEN_CLAIMS);
}
END_TEST

START_TEST(test_F04_mint_size_cap)
{
    af_key_t *key;
    json_t *in = af_json_pool_own(json_object(), pool), *groups = json_array();
    const char *tok = NULL;
    apr_size_t len;
    int i;

    ck_assert_int_eq(af_key_generate(&key, AF_ALG_ES256, NULL, pool), APR_SUCCESS);
    for (i = 0; i < 200; i++) {
        json_array_append_new(groups, json_string(apr_psprintf(
                                          pool, "group-with-a-rather-long-name-number-%03d", i)));
    }
    json_object_set_new(in, "groups", groups);
    json_object_set_new(in, "name", json_string("A. N. Other"));
    ck_assert_int_eq(af_token_mint_access(&tok, key, "https://app.example", "app", "alice",
                                          "SIDSIDSIDSIDSIDSIDSIDS", "google", 300, 1700000000, in,
                                          names("name groups"), 18, pool),
                     AF_ETOKEN_TOOBIG);
    ck_assert_ptr_null(tok);
    /* the boundary: ES256 tokens of equal claims have equal length */
    ck_assert_int_eq(af_token_mint_access(&tok, key, "https://app.example", "app", "alice",
                                          "SIDSIDSIDSIDSIDSIDSIDS", "google", 300, 1700000000, in,
                                          names("name"), 0, pool),
                     APR_SUCCESS);
    len = strlen(tok);
    ck_assert_int_eq(af_token_mint_access(&tok, key, "https://app.example", "app", "alice",
                                          "SIDSIDSIDSIDSIDSIDSIDS", "google", 300, 1700000000, in,
                                          names("name"), AF_COOKIE_MAX - 1 - len, pool),
                     APR_SUCCESS);
    ck_assert_uint_eq(strlen(tok), len);
    ck_assert_int_eq(af_token_mint_access(&tok, key, "https://app.example", "app", "alice",
                                          "SIDSIDSIDSIDSIDSIDSIDS", "google", 300, 1700000000, in,
                                          names("name"), AF_COOKIE_MAX - len, pool),
                     AF_ETOKEN_TOOBIG);
}
END_TEST

START_TEST(test_F04_mint_public_key_refused)
{
    af_key_t *key, *pub;
    const char *pem, *why, *tok;
    json_t *jwk;

    ck_assert_int_eq(af_key_generate(&key, AF_ALG_ES256, NULL, pool), APR_SUCCESS);
    ck_assert_int_eq(af_key_to_public_jwk(&jwk, key, pool), APR_SUCCESS);
    ck_assert_int_eq(af_jwk_parse(&pub, jwk, 0, &why, pool), APR_SUCCESS);
    (void) pem;
    ck_assert_int_ne(
        af_token_mint_access(&tok, pub, "i", "a", "u", "s", NULL, 300, 1, NULL, NULL, 0, pool),
        APR_SUCCESS);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("token");
    TCase *tc = tcase_create("token");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_G01_refresh_token_entropy_and_format);
    tcase_add_test(tc, test_G01_refresh_token_check_rejects);
    tcase_add_test(tc, test_G01_refresh_hash_is_sha256);
    tcase_add_test(tc, test_F10_seal_roundtrip_and_fresh_nonce);
    tcase_add_test(tc, test_F10_flip_every_bit);
    tcase_add_test(tc, test_F10_swap_purpose_and_secret);
    tcase_add_test(tc, test_F10_truncated_and_malformed);
    tcase_add_test(tc, test_F10_version_byte_in_aad);
    tcase_add_test(tc, test_G01_sealed_blob_hides_plaintext);
    tcase_add_test(tc, test_F10_hkdf_rfc5869_case3);
    tcase_add_test(tc, test_F10_secret_created_once_0600);
    tcase_add_test(tc, test_F04_signing_key_created_once);
    tcase_add_test(tc, test_F04_mint_claims);
    tcase_add_test(tc, test_F04_mint_size_cap);
    tcase_add_test(tc, test_F04_mint_public_key_refused);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
