/* test_oidc_idtoken.c -- src/oidc id_token validation (OIDC Core 3.1.3.7, 3.1.3.8) with
 * tokens minted in C by the src/jose signer.  The callback with canned HTTP is in
 * test_oidc_flow.c. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>

#include "af_testjws.h"
#include "af_testutil.h"
#include "common/af_b64.h"
#include "common/af_json.h"
#include "jose/af_jws.h"
#include "oidc/af_oidc.h"

#define ISS    "https://idp.example"
#define CID    "client-1"
#define SECRET "s3cret-with-at-least-32-bytes-for-hs256!"
#define NONCE  "n-0S6_WzA2Mj"
#define AT     "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"

static apr_pool_t *root; /* keys, made once before the tests fork */
static apr_pool_t *pool;
static af_key_t *rsa1, *rsa2, *ec1, *rsa_nokid, *rsa_nokid2;
static apr_int64_t now;

static void setup(void)
{
    pool = af_test_pool();
}

static void teardown(void)
{
    apr_pool_destroy(pool);
}

static af_oidc_provider_t *mkprov(void)
{
    return af_test_provider(ISS, CID, SECRET, pool);
}

static af_oidc_meta_t *mkmeta(const char *algs)
{
    af_oidc_meta_t *m = apr_pcalloc(pool, sizeof(*m));
    char *list = apr_pstrdup(pool, algs), *last = NULL, *a;

    m->issuer = ISS;
    m->authorization_endpoint = ISS "/authorize";
    m->token_endpoint = ISS "/token";
    m->userinfo_endpoint = ISS "/userinfo";
    m->jwks_uri = ISS "/jwks";
    m->id_token_algs = apr_array_make(pool, 4, sizeof(const char *));
    for (a = apr_strtok(list, ",", &last); a != NULL; a = apr_strtok(NULL, ",", &last)) {
        APR_ARRAY_PUSH(m->id_token_algs, const char *) = a;
    }
    return m;
}

static af_keyset_t *keyset(af_key_t *const *keys, int n)
{
    af_keyset_t *ks = NULL;
    const char *t = af_test_jwks_text(keys, n, pool);

    ck_assert_int_eq(af_jwks_parse(&ks, t, strlen(t), AF_JWK_PUBLIC_ONLY, NULL, pool), APR_SUCCESS);
    return ks;
}

/* Base claims (tests edit them), signed with the default or a given header. */
static json_t *claims(void)
{
    return af_test_id_claims(ISS, CID, NONCE, now, pool);
}

static const char *mint(const af_key_t *key, const json_t *c)
{
    return af_test_mint(key, NULL, c, pool);
}

static const char *mint_hdr(const af_key_t *key, const char *hdr, const json_t *c)
{
    return af_test_mint(key, hdr, c, pool);
}

static apr_status_t validate(const af_oidc_provider_t *prov, const af_oidc_meta_t *m,
                             const af_keyset_t *ks, const char *tok)
{
    af_oidc_idcheck_t chk = {now, NONCE, AT};
    json_t *out = NULL;
    apr_status_t rv = af_oidc_id_token_validate(&out, prov, m, ks, tok, &chk, pool);

    ck_assert(rv == APR_SUCCESS ? out != NULL : out == NULL);
    return rv;
}

/* ---- id_token ------------------------------------------------------------------------- */

START_TEST(test_E01_E08_valid_rs256_es256)
{
    af_oidc_provider_t *prov = mkprov();
    af_key_t *keys[] = {rsa1, ec1};
    af_keyset_t *ks = keyset(keys, 2);
    af_oidc_meta_t *m = mkmeta("RS256,ES256");

    ck_assert_int_eq(validate(prov, m, ks, mint(rsa1, claims())), APR_SUCCESS);
    ck_assert_int_eq(validate(prov, m, ks, mint(ec1, claims())), APR_SUCCESS);
}
END_TEST

START_TEST(test_A19_alg_not_allowed)
{
    af_oidc_provider_t *prov = mkprov();
    af_key_t *keys[] = {rsa1, ec1};
    af_keyset_t *ks = keyset(keys, 2);

    /* discovered RS256 only: a correctly signed ES256 token is refused */
    ck_assert_int_eq(validate(prov, mkmeta("RS256"), ks, mint(ec1, claims())),
                     AF_EOIDC_ID_TOKEN_ALG);
    /* nothing discovered: RS256 is the default */
    ck_assert_int_eq(validate(prov, mkmeta(""), ks, mint(ec1, claims())), AF_EOIDC_ID_TOKEN_ALG);
    ck_assert_int_eq(validate(prov, mkmeta(""), ks, mint(rsa1, claims())), APR_SUCCESS);
    /* configured algs win over discovery */
    APR_ARRAY_PUSH(prov->id_token_algs, const char *) = "ES256";
    ck_assert_int_eq(validate(prov, mkmeta("RS256"), ks, mint(rsa1, claims())),
                     AF_EOIDC_ID_TOKEN_ALG);
    ck_assert_int_eq(validate(prov, mkmeta("RS256"), ks, mint(ec1, claims())), APR_SUCCESS);
    ck_assert_int_eq(af_oidc_status(AF_EOIDC_ID_TOKEN_ALG), 401);
}
END_TEST

START_TEST(test_E02_D17_issuer)
{
    af_oidc_provider_t *prov = mkprov(), *g;
    af_key_t *keys[] = {rsa1};
    af_keyset_t *ks = keyset(keys, 1);
    json_t *c = claims();

    json_object_set_new(c, "iss", json_string("https://evil.example"));
    ck_assert_int_eq(validate(prov, mkmeta("RS256"), ks, mint(rsa1, c)), AF_EOIDC_ID_TOKEN_ISS);
    json_object_set_new(c, "iss", json_string(ISS "/"));
    ck_assert_int_eq(validate(prov, mkmeta("RS256"), ks, mint(rsa1, c)), AF_EOIDC_ID_TOKEN_ISS);
    json_object_del(c, "iss");
    ck_assert_int_ne(validate(prov, mkmeta("RS256"), ks, mint(rsa1, c)), APR_SUCCESS);

    /* D17: Google's legacy spelling only for the Google provider */
    c = claims();
    json_object_set_new(c, "iss", json_string("accounts.google.com"));
    ck_assert_int_eq(validate(prov, mkmeta("RS256"), ks, mint(rsa1, c)), AF_EOIDC_ID_TOKEN_ISS);
    g = af_oidc_provider_make("google", pool);
    g->issuer = "https://accounts.google.com";
    g->client_id = CID;
    g->client_secret = SECRET;
    g->redirect_uri = "https://app.example/auth/callback";
    ck_assert_ptr_null(af_oidc_provider_check(g, pool));
    ck_assert_int_eq(validate(g, mkmeta("RS256"), ks, mint(rsa1, c)), APR_SUCCESS);
    json_object_set_new(c, "iss", json_string("https://accounts.google.com"));
    ck_assert_int_eq(validate(g, mkmeta("RS256"), ks, mint(rsa1, c)), APR_SUCCESS);
    json_object_set_new(c, "iss", json_string("http://accounts.google.com"));
    ck_assert_int_eq(validate(g, mkmeta("RS256"), ks, mint(rsa1, c)), AF_EOIDC_ID_TOKEN_ISS);
    json_object_set_new(c, "iss", json_string(ISS));
    ck_assert_int_eq(validate(g, mkmeta("RS256"), ks, mint(rsa1, c)), AF_EOIDC_ID_TOKEN_ISS);
}
END_TEST

START_TEST(test_E03_sub)
{
    af_oidc_provider_t *prov = mkprov();
    af_key_t *keys[] = {rsa1};
    af_keyset_t *ks = keyset(keys, 1);
    json_t *c = claims();

    json_object_del(c, "sub");
    ck_assert_int_eq(validate(prov, mkmeta("RS256"), ks, mint(rsa1, c)), AF_EOIDC_SUB);
    json_object_set_new(c, "sub", json_string(""));
    ck_assert_int_eq(validate(prov, mkmeta("RS256"), ks, mint(rsa1, c)), AF_EOIDC_SUB);
    json_object_set_new(c, "sub", json_integer(5));
    ck_assert_int_eq(validate(prov, mkmeta("RS256"), ks, mint(rsa1, c)), AF_EOIDC_SUB);
}
END_TEST

START_TEST(test_E04_aud_azp)
{
    af_oidc_provider_t *prov = mkprov();
    af_key_t *keys[] = {rsa1};
    af_keyset_t *ks = keyset(keys, 1);
    af_oidc_meta_t *m = mkmeta("RS256");
    json_t *c = claims();

    json_object_set_new(c, "aud", json_string("other-client"));
    ck_assert_int_eq(validate(prov, m, ks, mint(rsa1, c)), AF_EOIDC_ID_TOKEN_AUD);
    json_object_del(c, "aud");
    ck_assert_int_eq(validate(prov, m, ks, mint(rsa1, c)), AF_EOIDC_ID_TOKEN_AUD);
    json_object_set_new(c, "aud", json_pack("[ss]", "other", "third"));
    ck_assert_int_eq(validate(prov, m, ks, mint(rsa1, c)), AF_EOIDC_ID_TOKEN_AUD);
    /* several audiences without azp */
    json_object_set_new(c, "aud", json_pack("[ss]", CID, "other"));
    ck_assert_int_eq(validate(prov, m, ks, mint(rsa1, c)), AF_EOIDC_ID_TOKEN_AZP);
    json_object_set_new(c, "azp", json_string("other"));
    ck_assert_int_eq(validate(prov, m, ks, mint(rsa1, c)), AF_EOIDC_ID_TOKEN_AZP);
    json_object_set_new(c, "azp", json_string(CID));
    ck_assert_int_eq(validate(prov, m, ks, mint(rsa1, c)), APR_SUCCESS);
    /* a single audience with a foreign azp */
    json_object_set_new(c, "aud", json_string(CID));
    json_object_set_new(c, "azp", json_string("other"));
    ck_assert_int_eq(validate(prov, m, ks, mint(rsa1, c)), AF_EOIDC_ID_TOKEN_AZP);
}
END_TEST

START_TEST(test_E05_iat_exp)
{
    af_oidc_provider_t *prov = mkprov();
    af_key_t *keys[] = {rsa1};
    af_keyset_t *ks = keyset(keys, 1);
    af_oidc_meta_t *m = mkmeta("RS256");
    json_t *c = claims();

    json_object_del(c, "iat");
    ck_assert_int_eq(validate(prov, m, ks, mint(rsa1, c)), AF_EOIDC_ID_TOKEN_IAT);
    json_object_set_new(c, "iat", json_integer(now - 300 - 60 - 5)); /* max age + leeway */
    ck_assert_int_eq(validate(prov, m, ks, mint(rsa1, c)), AF_EOIDC_ID_TOKEN_IAT);
    json_object_set_new(c, "iat", json_integer(now - 300));
    ck_assert_int_eq(validate(prov, m, ks, mint(rsa1, c)), APR_SUCCESS);
    json_object_set_new(c, "iat", json_integer(now + 3600));
    ck_assert_int_eq(validate(prov, m, ks, mint(rsa1, c)), AF_EOIDC_ID_TOKEN_IAT);
    json_object_set_new(c, "iat", json_string("now"));
    ck_assert_int_eq(validate(prov, m, ks, mint(rsa1, c)), AF_EOIDC_ID_TOKEN_IAT);
    c = claims();
    json_object_set_new(c, "exp", json_integer(now - 61));
    ck_assert_int_eq(validate(prov, m, ks, mint(rsa1, c)), AF_EOIDC_ID_TOKEN_EXP);
    json_object_del(c, "exp");
    ck_assert_int_eq(validate(prov, m, ks, mint(rsa1, c)), AF_EOIDC_ID_TOKEN_EXP);
}
END_TEST

START_TEST(test_D07_E11_nonce)
{
    af_oidc_provider_t *prov = mkprov();
    af_key_t *keys[] = {rsa1};
    af_keyset_t *ks = keyset(keys, 1);
    af_oidc_meta_t *m = mkmeta("RS256");
    json_t *c = claims();

    json_object_set_new(c, "nonce", json_string(NONCE "x"));
    ck_assert_int_eq(validate(prov, m, ks, mint(rsa1, c)), AF_EOIDC_NONCE);
    json_object_set_new(c, "nonce", json_string("n-0S6_WzA2M"));
    ck_assert_int_eq(validate(prov, m, ks, mint(rsa1, c)), AF_EOIDC_NONCE);
    json_object_del(c, "nonce");
    ck_assert_int_eq(validate(prov, m, ks, mint(rsa1, c)), AF_EOIDC_NONCE);
    json_object_set_new(c, "nonce", json_integer(1));
    ck_assert_int_eq(validate(prov, m, ks, mint(rsa1, c)), AF_EOIDC_NONCE);
    ck_assert_int_eq(af_oidc_status(AF_EOIDC_NONCE), 401);
}
END_TEST

START_TEST(test_E17_at_hash)
{
    af_oidc_provider_t *prov = mkprov();
    af_key_t *keys[] = {rsa1, ec1};
    af_keyset_t *ks = keyset(keys, 2);
    af_oidc_meta_t *m = mkmeta("RS256,ES256");
    json_t *c = claims();

    /* OIDC Core Appendix A.3 */
    ck_assert_str_eq(af_oidc_at_hash(AT, "RS256", pool), "77QmUPtjPfzWtF2AnpK9RQ");
    ck_assert_ptr_null(af_oidc_at_hash(AT, "XX256", pool));

    json_object_set_new(c, "at_hash", json_string("77QmUPtjPfzWtF2AnpK9RQ"));
    ck_assert_int_eq(validate(prov, m, ks, mint(rsa1, c)), APR_SUCCESS);
    ck_assert_int_eq(validate(prov, m, ks, mint(ec1, c)), APR_SUCCESS); /* ES256: SHA-256 too */
    json_object_set_new(c, "at_hash", json_string("77QmUPtjPfzWtF2AnpK9RA"));
    ck_assert_int_eq(validate(prov, m, ks, mint(rsa1, c)), AF_EOIDC_AT_HASH);
    json_object_set_new(c, "at_hash", json_integer(7));
    ck_assert_int_eq(validate(prov, m, ks, mint(rsa1, c)), AF_EOIDC_AT_HASH);
}
END_TEST

static const char *flip_sig(const char *tok)
{
    char *t = apr_pstrdup(pool, tok);
    char *last = t + strlen(t) - 3;

    *last = *last == 'A' ? 'B' : 'A';
    return t;
}

START_TEST(test_E09_bad_signature)
{
    af_oidc_provider_t *prov = mkprov();
    af_key_t *keys[] = {rsa1, ec1};
    af_keyset_t *ks = keyset(keys, 2);
    af_oidc_meta_t *m = mkmeta("RS256,ES256,HS256");
    af_key_t *hs = NULL, *hs_wrong = NULL;
    const char *why = NULL;
    char *t;

    ck_assert_int_eq(validate(prov, m, ks, flip_sig(mint(rsa1, claims()))), AF_EOIDC_ID_TOKEN_SIG);
    ck_assert_int_eq(validate(prov, m, ks, flip_sig(mint(ec1, claims()))), AF_EOIDC_ID_TOKEN_SIG);
    /* payload swapped under a valid signature */
    t = apr_pstrdup(pool, mint(rsa1, claims()));
    t[strchr(t, '.') - t + 5] ^= 1;
    ck_assert_int_ne(validate(prov, m, ks, t), APR_SUCCESS);

    /* HS256 keyed with the client secret: discovered HS256 is not enough */
    ck_assert_int_eq(af_key_from_secret(&hs, (const unsigned char *) SECRET, strlen(SECRET),
                                        AF_ALG_HS256, NULL, &why, root),
                     APR_SUCCESS);
    ck_assert_int_eq(af_key_from_secret(&hs_wrong,
                                        (const unsigned char *) "another-secret-of-32-bytes-xxxxxx",
                                        33, AF_ALG_HS256, NULL, &why, root),
                     APR_SUCCESS);
    ck_assert_int_eq(validate(prov, m, ks, mint(hs, claims())), AF_EOIDC_ID_TOKEN_ALG);
    APR_ARRAY_PUSH(prov->id_token_algs, const char *) = "HS256";
    ck_assert_int_eq(validate(prov, m, ks, mint(hs, claims())), APR_SUCCESS);
    ck_assert_int_eq(validate(prov, m, ks, mint(hs_wrong, claims())), AF_EOIDC_ID_TOKEN_SIG);
    ck_assert_int_eq(validate(prov, m, ks, flip_sig(mint(hs, claims()))), AF_EOIDC_ID_TOKEN_SIG);
}
END_TEST

static const char *unsigned_token(const json_t *c)
{
    const char *h = "{\"alg\":\"none\"}", *pl = af_json_dump(c, pool);

    return apr_pstrcat(pool, af_b64url_encode((const unsigned char *) h, strlen(h), pool), ".",
                       af_b64url_encode((const unsigned char *) pl, strlen(pl), pool), ".", NULL);
}

START_TEST(test_E10_alg_none)
{
    af_oidc_provider_t *prov = mkprov();
    af_key_t *keys[] = {rsa1};
    af_keyset_t *ks = keyset(keys, 1);
    af_oidc_meta_t *m = mkmeta("RS256,none");
    const char *tok = unsigned_token(claims());

    /* default: refused, even when discovery lists none */
    ck_assert_int_eq(validate(prov, m, ks, tok), AF_EOIDC_ID_TOKEN_ALG);
    ck_assert_int_eq(validate(prov, m, ks, apr_pstrcat(pool, tok, "c2ln", NULL)),
                     AF_EOIDC_ID_TOKEN_ALG);
    /* explicitly registered for none: accepted from the https token endpoint only */
    APR_ARRAY_PUSH(prov->id_token_algs, const char *) = "none";
    ck_assert_ptr_null(af_oidc_provider_check(prov, pool));
    ck_assert_int_eq(validate(prov, m, ks, tok), APR_SUCCESS);
    ck_assert_int_eq(validate(prov, m, ks, mint(rsa1, claims())), AF_EOIDC_ID_TOKEN_ALG);
    m->token_endpoint = "http://127.0.0.1:9/token";
    ck_assert_int_eq(validate(prov, m, ks, tok), AF_EOIDC_ID_TOKEN_ALG);
}
END_TEST

START_TEST(test_E06_E07_kid_absent)
{
    af_oidc_provider_t *prov = mkprov();
    af_key_t *one[] = {rsa_nokid};
    af_key_t *two[] = {rsa_nokid2, rsa_nokid};
    af_key_t *ec_only[] = {ec1};
    af_oidc_meta_t *m = mkmeta("RS256,ES256");
    const char *tok = mint(rsa_nokid, claims());

    /* E06: a single key */
    ck_assert_int_eq(validate(prov, m, keyset(one, 1), tok), APR_SUCCESS);
    /* E07: several keys of the same type: a bounded number is tried */
    ck_assert_int_eq(validate(prov, m, keyset(two, 2), tok), APR_SUCCESS);
    /* keys of another type are never tried */
    ck_assert_int_eq(validate(prov, m, keyset(ec_only, 1), tok), AF_EOIDC_ID_TOKEN_NOKEY);
    /* an unknown kid */
    ck_assert_int_eq(
        validate(prov, m, keyset(one, 1),
                 mint_hdr(rsa_nokid, "{\"alg\":\"RS256\",\"kid\":\"nope\"}", claims())),
        AF_EOIDC_ID_TOKEN_NOKEY);
}
END_TEST

START_TEST(test_A13_header_keys_ignored)
{
    af_oidc_provider_t *prov = mkprov();
    af_key_t *keys[] = {rsa1};
    af_oidc_meta_t *m = mkmeta("RS256");
    json_t *jwk = NULL;
    const char *hdr;

    /* an embedded jwk of the attacker's key does not make its signature valid */
    ck_assert_int_eq(af_key_to_public_jwk(&jwk, rsa2, pool), APR_SUCCESS);
    hdr = apr_psprintf(pool, "{\"alg\":\"RS256\",\"kid\":\"k1\",\"jwk\":%s}",
                       af_json_dump(jwk, pool));
    ck_assert_int_ne(validate(prov, m, keyset(keys, 1), mint_hdr(rsa2, hdr, claims())),
                     APR_SUCCESS);
}
END_TEST
static Suite *suite(void)
{
    Suite *s = suite_create("oidc_idtoken");
    TCase *tc = tcase_create("id_token");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_E01_E08_valid_rs256_es256);
    tcase_add_test(tc, test_A19_alg_not_allowed);
    tcase_add_test(tc, test_E02_D17_issuer);
    tcase_add_test(tc, test_E03_sub);
    tcase_add_test(tc, test_E04_aud_azp);
    tcase_add_test(tc, test_E05_iat_exp);
    tcase_add_test(tc, test_D07_E11_nonce);
    tcase_add_test(tc, test_E17_at_hash);
    tcase_add_test(tc, test_E09_bad_signature);
    tcase_add_test(tc, test_E10_alg_none);
    tcase_add_test(tc, test_E06_E07_kid_absent);
    tcase_add_test(tc, test_A13_header_keys_ignored);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr;
    int failed;

    root = af_test_pool();
    now = (apr_int64_t) apr_time_sec(apr_time_now());
    if (af_key_generate(&rsa1, AF_ALG_RS256, "k1", root) != APR_SUCCESS ||
        af_key_generate(&rsa2, AF_ALG_RS256, "k2", root) != APR_SUCCESS ||
        af_key_generate(&ec1, AF_ALG_ES256, "e1", root) != APR_SUCCESS ||
        af_key_generate(&rsa_nokid, AF_ALG_RS256, NULL, root) != APR_SUCCESS ||
        af_key_generate(&rsa_nokid2, AF_ALG_RS256, NULL, root) != APR_SUCCESS) {
        return EXIT_FAILURE;
    }
    sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
