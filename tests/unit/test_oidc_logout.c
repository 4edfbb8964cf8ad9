/* test_oidc_logout.c -- src/oidc logout token validation (OpenID Connect Back-Channel Logout
 * 1.0 §2.4, §2.6; SECURITY.md E20) with tokens minted in C by the src/jose signer.  The
 * endpoint through real httpd, with tokens minted by jwcrypto, is in
 * tests/integration/test_backchannel.py. */
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
#define EVENT  "http://schemas.openid.net/event/backchannel-logout"

static apr_pool_t *root;
static apr_pool_t *pool;
static af_key_t *rsa1, *rsa2, *ec1;
static apr_int64_t now;

static void setup(void)
{
    pool = af_test_pool();
}

static void teardown(void)
{
    apr_pool_destroy(pool);
}

static af_oidc_meta_t *mkmeta(void)
{
    af_oidc_meta_t *m = apr_pcalloc(pool, sizeof(*m));

    m->issuer = ISS;
    m->token_endpoint = ISS "/token";
    m->jwks_uri = ISS "/jwks";
    m->id_token_algs = apr_array_make(pool, 2, sizeof(const char *));
    APR_ARRAY_PUSH(m->id_token_algs, const char *) = "RS256";
    APR_ARRAY_PUSH(m->id_token_algs, const char *) = "ES256";
    return m;
}

static af_keyset_t *keyset(void)
{
    af_key_t *keys[] = {rsa1, ec1};
    af_keyset_t *ks = NULL;
    const char *t = af_test_jwks_text(keys, 2, pool);

    ck_assert_int_eq(af_jwks_parse(&ks, t, strlen(t), AF_JWK_PUBLIC_ONLY, NULL, pool), APR_SUCCESS);
    return ks;
}

/* The claims of a valid logout token (tests edit them). */
static json_t *claims(void)
{
    json_t *c = json_pack("{s:s, s:s, s:I, s:I, s:s, s:s, s:s, s:{s:{}}}", "iss", ISS, "aud", CID,
                          "iat", (json_int_t) now, "exp", (json_int_t) (now + 120), "jti", "jti-1",
                          "sub", "alice", "sid", "S1", "events", EVENT);

    return af_json_pool_own(c, pool);
}

#define HDR_RS "{\"alg\":\"RS256\",\"kid\":\"k1\",\"typ\":\"logout+jwt\"}"

static apr_status_t check(const char *tok, af_oidc_logout_t **out)
{
    af_oidc_logout_t *lo = NULL;
    apr_status_t rv = af_oidc_logout_token_validate(&lo, af_test_provider(ISS, CID, SECRET, pool),
                                                    mkmeta(), keyset(), tok, now, pool);

    ck_assert(rv == APR_SUCCESS ? lo != NULL : lo == NULL);
    if (out != NULL) {
        *out = lo;
    }
    return rv;
}

static apr_status_t check_claims(json_t *c)
{
    return check(af_test_mint(rsa1, HDR_RS, c, pool), NULL);
}

START_TEST(test_E20_valid_logout_token)
{
    af_oidc_logout_t *lo = NULL;
    json_t *c = claims();

    ck_assert_int_eq(check(af_test_mint(rsa1, HDR_RS, c, pool), &lo), APR_SUCCESS);
    ck_assert_str_eq(lo->sub, "alice");
    ck_assert_str_eq(lo->sid, "S1");
    ck_assert_str_eq(lo->jti, "jti-1");
    ck_assert_int_ge(lo->expires, now + 120); /* the jti is kept as long as the token lives */
    /* ES256, typ application/logout+jwt, absent, or the generic JWT; aud as an array */
    ck_assert_int_eq(check(af_test_mint(ec1,
                                        "{\"alg\":\"ES256\",\"kid\":\"e1\",\"typ\":\"application/"
                                        "logout+jwt\"}",
                                        c, pool),
                           NULL),
                     APR_SUCCESS);
    ck_assert_int_eq(check(af_test_mint(rsa1, "{\"alg\":\"RS256\",\"kid\":\"k1\"}", c, pool), NULL),
                     APR_SUCCESS);
    ck_assert_int_eq(check(af_test_mint(rsa1, NULL, c, pool), NULL), APR_SUCCESS); /* typ JWT */
    json_object_set_new(c, "aud", json_pack("[s,s]", "other", CID));
    ck_assert_int_eq(check_claims(c), APR_SUCCESS);
    /* sid alone, sub alone; exp absent (the final 1.0 text has none) */
    c = claims();
    json_object_del(c, "sub");
    json_object_del(c, "exp");
    ck_assert_int_eq(check(af_test_mint(rsa1, HDR_RS, c, pool), &lo), APR_SUCCESS);
    ck_assert_ptr_null(lo->sub);
    ck_assert_int_ge(lo->expires, now + 300); /* IatMaxAge (300 s) after iat, plus leeway */
    c = claims();
    json_object_del(c, "sid");
    ck_assert_int_eq(check(af_test_mint(rsa1, HDR_RS, c, pool), &lo), APR_SUCCESS);
    ck_assert_ptr_null(lo->sid);
}
END_TEST

START_TEST(test_E20_signature_and_alg)
{
    af_key_t *hs = NULL;
    const char *why = NULL, *tok;
    json_t *c = claims();

    /* a key the provider does not publish; a flipped signature */
    ck_assert_int_eq(check(af_test_mint(rsa2, "{\"alg\":\"RS256\",\"kid\":\"k1\"}", c, pool), NULL),
                     AF_EOIDC_LOGOUT_SIG);
    ck_assert_int_eq(check(af_test_mint(rsa2, "{\"alg\":\"RS256\",\"kid\":\"k2\"}", c, pool), NULL),
                     AF_EOIDC_LOGOUT_NOKEY);
    tok = apr_pstrdup(pool, af_test_mint(rsa1, HDR_RS, c, pool));
    /* another base64url character (XOR could make '-' or '_' an invalid one) */
    ((char *) tok)[strlen(tok) - 3] = tok[strlen(tok) - 3] == 'A' ? 'B' : 'A';
    ck_assert_int_eq(check(tok, NULL), AF_EOIDC_LOGOUT_SIG);
    /* alg none, in any spelling */
    tok = apr_pstrcat(pool, "eyJhbGciOiJub25lIn0.",
                      af_b64url_encode((const unsigned char *) af_json_dump(c, pool),
                                       strlen(af_json_dump(c, pool)), pool),
                      ".", NULL);
    ck_assert_int_eq(check(tok, NULL), AF_EOIDC_LOGOUT_ALG);
    /* HS256 keyed by the client secret: not allowed unless configured (as for id_tokens) */
    ck_assert_int_eq(af_key_from_secret(&hs, (const unsigned char *) SECRET, strlen(SECRET),
                                        AF_ALG_HS256, NULL, &why, pool),
                     APR_SUCCESS);
    ck_assert_int_eq(check(af_test_mint(hs, NULL, c, pool), NULL), AF_EOIDC_LOGOUT_ALG);
    /* not a JWS at all */
    ck_assert_int_eq(check("", NULL), AF_EOIDC_LOGOUT_TOKEN);
    ck_assert_int_eq(check("a.b", NULL), AF_EOIDC_LOGOUT_TOKEN);
}
END_TEST

START_TEST(test_E20_typ_confusion)
{
    json_t *c = claims();

    /* another explicitly typed JWT (an access token, an id_token, a SET) is not a logout token */
    ck_assert_int_eq(
        check(af_test_mint(rsa1, "{\"alg\":\"RS256\",\"kid\":\"k1\",\"typ\":\"at+jwt\"}", c, pool),
              NULL),
        AF_EOIDC_LOGOUT_TYP);
    ck_assert_int_eq(
        check(af_test_mint(rsa1, "{\"alg\":\"RS256\",\"kid\":\"k1\",\"typ\":\"secevent+jwt\"}", c,
                           pool),
              NULL),
        AF_EOIDC_LOGOUT_TYP);
}
END_TEST

START_TEST(test_E20_iss_aud_times)
{
    json_t *c;

    c = claims();
    json_object_set_new(c, "iss", json_string("https://evil.example"));
    ck_assert_int_eq(check_claims(c), AF_EOIDC_LOGOUT_ISS);
    c = claims();
    json_object_del(c, "iss");
    ck_assert_int_eq(check_claims(c), AF_EOIDC_LOGOUT_ISS);
    c = claims();
    json_object_set_new(c, "aud", json_string("client-2"));
    ck_assert_int_eq(check_claims(c), AF_EOIDC_LOGOUT_AUD);
    c = claims();
    json_object_del(c, "aud");
    ck_assert_int_eq(check_claims(c), AF_EOIDC_LOGOUT_AUD);
    /* iat: required, not in the future beyond the leeway (60 s), not older than 300 s */
    c = claims();
    json_object_del(c, "iat");
    ck_assert_int_eq(check_claims(c), AF_EOIDC_LOGOUT_IAT);
    c = claims();
    json_object_set_new(c, "iat", json_integer(now + 61));
    ck_assert_int_eq(check_claims(c), AF_EOIDC_LOGOUT_IAT);
    c = claims();
    json_object_set_new(c, "iat", json_integer(now + 59));
    ck_assert_int_eq(check_claims(c), APR_SUCCESS);
    c = claims();
    json_object_set_new(c, "iat", json_integer(now - 361));
    json_object_set_new(c, "exp", json_integer(now + 60));
    ck_assert_int_eq(check_claims(c), AF_EOIDC_LOGOUT_IAT);
    c = claims();
    json_object_set_new(c, "iat", json_string("now"));
    ck_assert_int_eq(check_claims(c), AF_EOIDC_LOGOUT_IAT);
    /* exp honoured when present */
    c = claims();
    json_object_set_new(c, "exp", json_integer(now - 61));
    ck_assert_int_eq(check_claims(c), AF_EOIDC_LOGOUT_EXP);
    c = claims();
    json_object_set_new(c, "exp", json_string("later"));
    ck_assert_int_eq(check_claims(c), AF_EOIDC_LOGOUT_EXP);
}
END_TEST

START_TEST(test_E20_logout_claims)
{
    json_t *c;

    /* jti required */
    c = claims();
    json_object_del(c, "jti");
    ck_assert_int_eq(check_claims(c), AF_EOIDC_LOGOUT_JTI);
    c = claims();
    json_object_set_new(c, "jti", json_string(""));
    ck_assert_int_eq(check_claims(c), AF_EOIDC_LOGOUT_JTI);
    /* events: missing, wrong event, the event not an object */
    c = claims();
    json_object_del(c, "events");
    ck_assert_int_eq(check_claims(c), AF_EOIDC_LOGOUT_EVENTS);
    c = claims();
    json_object_set_new(c, "events", json_pack("{s:{}}", "http://schemas.openid.net/event/other"));
    ck_assert_int_eq(check_claims(c), AF_EOIDC_LOGOUT_EVENTS);
    c = claims();
    json_object_set_new(c, "events", json_pack("{s:b}", EVENT, 1));
    ck_assert_int_eq(check_claims(c), AF_EOIDC_LOGOUT_EVENTS);
    c = claims();
    json_object_set_new(c, "events", json_pack("[s]", EVENT));
    ck_assert_int_eq(check_claims(c), AF_EOIDC_LOGOUT_EVENTS);
    /* nonce prohibited */
    c = claims();
    json_object_set_new(c, "nonce", json_string("n"));
    ck_assert_int_eq(check_claims(c), AF_EOIDC_LOGOUT_NONCE);
    /* neither sid nor sub; malformed ones */
    c = claims();
    json_object_del(c, "sub");
    json_object_del(c, "sid");
    ck_assert_int_eq(check_claims(c), AF_EOIDC_LOGOUT_SUBJECT);
    c = claims();
    json_object_set_new(c, "sid", json_integer(5));
    ck_assert_int_eq(check_claims(c), AF_EOIDC_LOGOUT_SUBJECT);
    c = claims();
    json_object_set_new(c, "sub", json_string("a\nb"));
    ck_assert_int_eq(check_claims(c), AF_EOIDC_LOGOUT_SUBJECT);
}
END_TEST

START_TEST(test_E20_none_registered_client_gets_no_unsigned_logout)
{
    af_oidc_provider_t *prov = af_test_provider(ISS, CID, SECRET, pool);
    af_oidc_logout_t *lo = NULL;
    json_t *c = claims();
    const char *body = af_json_dump(c, pool);
    const char *tok =
        apr_pstrcat(pool, "eyJhbGciOiJub25lIn0.",
                    af_b64url_encode((const unsigned char *) body, strlen(body), pool), ".", NULL);

    APR_ARRAY_PUSH(prov->id_token_algs, const char *) = "none";
    ck_assert_ptr_null(af_oidc_provider_check(prov, pool));
    ck_assert_int_eq(af_oidc_logout_token_validate(&lo, prov, mkmeta(), keyset(), tok, now, pool),
                     AF_EOIDC_LOGOUT_ALG);
}
END_TEST

START_TEST(test_E20_identity_records_the_idp_session)
{
    af_oidc_provider_t *prov = af_test_provider(ISS, CID, SECRET, pool);
    af_oidc_identity_t *id = NULL;
    json_t *c = af_test_id_claims(ISS, CID, "n", now, pool);

    json_object_set_new(c, "sid", json_string("08a5019c-17e1-4977-8f42-65a12843ea02"));
    ck_assert_int_eq(af_oidc_identity_build(&id, prov, mkmeta(), c, NULL, NULL, pool), APR_SUCCESS);
    ck_assert_str_eq(id->idp_sid, "08a5019c-17e1-4977-8f42-65a12843ea02");
    /* not a printable string of 1..255 bytes: the login is made, without a session id */
    json_object_set_new(c, "sid", json_string("a\tb"));
    ck_assert_int_eq(af_oidc_identity_build(&id, prov, mkmeta(), c, NULL, NULL, pool), APR_SUCCESS);
    ck_assert_ptr_null(id->idp_sid);
    json_object_set_new(c, "sid", json_integer(7));
    ck_assert_int_eq(af_oidc_identity_build(&id, prov, mkmeta(), c, NULL, NULL, pool), APR_SUCCESS);
    ck_assert_ptr_null(id->idp_sid);
    json_object_del(c, "sid");
    ck_assert_int_eq(af_oidc_identity_build(&id, prov, mkmeta(), c, NULL, NULL, pool), APR_SUCCESS);
    ck_assert_ptr_null(id->idp_sid);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("oidc_logout");
    TCase *tc = tcase_create("logout_token");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_E20_valid_logout_token);
    tcase_add_test(tc, test_E20_signature_and_alg);
    tcase_add_test(tc, test_E20_typ_confusion);
    tcase_add_test(tc, test_E20_iss_aud_times);
    tcase_add_test(tc, test_E20_logout_claims);
    tcase_add_test(tc, test_E20_none_registered_client_gets_no_unsigned_logout);
    tcase_add_test(tc, test_E20_identity_records_the_idp_session);
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
        af_key_generate(&ec1, AF_ALG_ES256, "e1", root) != APR_SUCCESS) {
        return EXIT_FAILURE;
    }
    sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
