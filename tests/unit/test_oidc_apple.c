/* test_oidc_apple.c -- Sign in with Apple in src/oidc: the client-secret JWT (minting,
 * caching, renewal), the provider checks of Preset apple, the unsigned "user" field, Apple's
 * string booleans and the server-to-server notifications.  The tokens here are signed by the
 * src/jose signer; the integration tests (test_login_apple.py) have an independent IdP verify
 * the client secret and jwcrypto sign the notifications. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <apr_strings.h>

#include "af_testjws.h"
#include "af_testutil.h"
#include "common/af_json.h"
#include "jose/af_jws.h"
#include "jose/af_jwt.h"
#include "oidc/af_oidc.h"

#define CID  "com.example.web"
#define TEAM "TEAM123456"
#define KID  "KEY1234567"
#define ISS  "https://appleid.apple.com"

static apr_pool_t *root;
static apr_pool_t *pool;
static af_key_t *p256, *p384, *rsa, *rsa_other;
static char dir[256];
static const char *p256_file, *p384_file, *rsa_file;
static apr_int64_t now;

static void setup(void)
{
    apr_pool_create(&pool, root);
}

static void teardown(void)
{
    apr_pool_destroy(pool);
}

static const char *write_pem(const af_key_t *k, const char *name)
{
    const char *pem = NULL, *path = apr_pstrcat(root, dir, "/", name, NULL);
    FILE *f;

    if (af_key_to_pem(&pem, k, root) != APR_SUCCESS || (f = fopen(path, "w")) == NULL) {
        return NULL;
    }
    fputs(pem, f);
    fclose(f);
    chmod(path, 0600); /* a private key: the secret-file rule (C08) */
    return path;
}

static af_oidc_provider_t *apple(const char *key_file)
{
    af_oidc_provider_t *pv = af_oidc_provider_make("apple", pool);

    pv->preset = AF_OIDC_PRESET_APPLE;
    pv->client_id = CID;
    pv->team_id = TEAM;
    pv->key_id = KID;
    pv->private_key_file = key_file;
    pv->redirect_uri = "https://app.example/auth/callback";
    return pv;
}

static af_oidc_provider_t *checked(void)
{
    af_oidc_provider_t *pv = apple(p256_file);
    const char *err = af_oidc_provider_check(pv, pool);

    ck_assert_msg(err == NULL, "%s", err);
    return pv;
}

/* ---- provider ------------------------------------------------------------------------------ */

START_TEST(test_apple_preset_defaults)
{
    af_oidc_provider_t *pv = checked();
    af_oidc_flow_t fl;
    af_oidc_meta_t meta = {0};
    const char *url;

    memset(&fl, 0, sizeof(fl));
    fl.state = "st";
    fl.nonce = "nn";
    fl.verifier = "0123456789012345678901234567890123456789012";
    fl.provider = "apple";
    fl.return_to = "/";
    fl.max_age = -1;
    ck_assert_str_eq(pv->issuer, ISS);
    ck_assert_int_eq(pv->response_mode, AF_OIDC_RESPONSE_FORM_POST);
    ck_assert_int_eq(pv->token_auth, AF_OIDC_AUTH_POST);
    ck_assert_str_eq(pv->scope, "openid name email");
    ck_assert_ptr_nonnull(pv->secret_key);
    meta.authorization_endpoint = "https://appleid.apple.com/auth/authorize";
    url = af_oidc_authorize_url(pv, &meta, &fl, pool);
    ck_assert_ptr_nonnull(strstr(url, "&response_mode=form_post"));
    /* a generic provider asks for the default (query) mode: no parameter */
    pv =
        af_test_provider("https://idp.example", "c", "s3cret-with-at-least-32-bytes-for-hs!", pool);
    ck_assert_int_eq(pv->response_mode, AF_OIDC_RESPONSE_QUERY);
    ck_assert_ptr_null(strstr(af_oidc_authorize_url(pv, &meta, &fl, pool), "response_mode"));
}
END_TEST

START_TEST(test_apple_preset_refusals)
{
    af_oidc_provider_t *pv;
    const char *err;

    pv = apple(p256_file);
    pv->client_secret = "static";
    err = af_oidc_provider_check(pv, pool);
    ck_assert_ptr_nonnull(err);
    ck_assert_ptr_nonnull(strstr(err, "Preset apple"));

    pv = apple(p384_file); /* wrong curve */
    ck_assert_ptr_nonnull(err = af_oidc_provider_check(pv, pool));
    ck_assert_ptr_nonnull(strstr(err, "PrivateKeyFile"));

    pv = apple(rsa_file); /* not EC at all */
    ck_assert_ptr_nonnull(af_oidc_provider_check(pv, pool));

    pv = apple(apr_pstrcat(pool, dir, "/missing.p8", NULL));
    ck_assert_ptr_nonnull(err = af_oidc_provider_check(pv, pool));
    ck_assert_ptr_nonnull(strstr(err, "PrivateKeyFile"));

    pv = apple(p256_file);
    pv->team_id = NULL;
    ck_assert_ptr_nonnull(err = af_oidc_provider_check(pv, pool));
    ck_assert_ptr_nonnull(strstr(err, "TeamID"));

    pv = apple(p256_file);
    pv->token_auth = AF_OIDC_AUTH_BASIC;
    ck_assert_ptr_nonnull(af_oidc_provider_check(pv, pool));

    /* Apple's keys on another provider are a mistake, not silently ignored */
    pv = apple(p256_file);
    pv->preset = AF_OIDC_PRESET_NONE;
    pv->issuer = "https://idp.example";
    pv->client_secret = "s3cret-with-at-least-32-bytes-for-hs!";
    ck_assert_ptr_nonnull(err = af_oidc_provider_check(pv, pool));
    ck_assert_ptr_nonnull(strstr(err, "Preset apple"));
}
END_TEST

START_TEST(test_apple_config_keys)
{
    af_oidc_provider_t *pv = af_oidc_provider_make("a", pool);
    const char *fp[] = {"form_post"}, *q[] = {"query"}, *bad[] = {"fragment"}, *ap[] = {"apple"};

    ck_assert_ptr_null(af_oidc_provider_key(pv, "ResponseMode", 1, fp, NULL, NULL, pool));
    ck_assert_int_eq(pv->response_mode, AF_OIDC_RESPONSE_FORM_POST);
    ck_assert_ptr_null(af_oidc_provider_key(pv, "responsemode", 1, q, NULL, NULL, pool));
    ck_assert_int_eq(pv->response_mode, AF_OIDC_RESPONSE_QUERY);
    ck_assert_ptr_nonnull(af_oidc_provider_key(pv, "ResponseMode", 1, bad, NULL, NULL, pool));
    ck_assert_ptr_null(af_oidc_provider_key(pv, "Preset", 1, ap, NULL, NULL, pool));
    ck_assert_int_eq(pv->preset, AF_OIDC_PRESET_APPLE);
}
END_TEST

/* ---- the client secret ------------------------------------------------------------------- */

static json_t *secret_claims(const char *secret, const af_key_t *pub)
{
    af_jws_t *jws = NULL;
    json_t *c = NULL;

    ck_assert_int_eq(af_jws_parse(&jws, secret, strlen(secret), 0, pool), APR_SUCCESS);
    ck_assert_int_eq(af_jws_verify(jws, pub), APR_SUCCESS);
    ck_assert_str_eq(json_string_value(json_object_get(jws->header, "alg")), "ES256");
    ck_assert_str_eq(jws->kid, KID);
    ck_assert_int_eq(af_json_parse(&c, (const char *) jws->payload, jws->payload_len, 4096, pool),
                     APR_SUCCESS);
    return c;
}

START_TEST(test_apple_secret_mint)
{
    af_oidc_provider_t *pv = checked();
    const char *s = NULL;
    json_t *c;

    pv->issuer = "http://127.0.0.1:9999"; /* overridden: aud stays Apple's */
    ck_assert_int_eq(af_oidc_apple_secret_mint(&s, pv, now, 3600, pool), APR_SUCCESS);
    c = secret_claims(s, pv->secret_key);
    ck_assert_str_eq(json_string_value(json_object_get(c, "iss")), TEAM);
    ck_assert_str_eq(json_string_value(json_object_get(c, "sub")), CID);
    ck_assert_str_eq(json_string_value(json_object_get(c, "aud")), ISS);
    ck_assert_int_eq(json_integer_value(json_object_get(c, "iat")), now);
    ck_assert_int_eq(json_integer_value(json_object_get(c, "exp")), now + 3600);
    /* at most 6 months, and never without a key */
    ck_assert_int_eq(af_oidc_apple_secret_mint(&s, pv, now, 15777000, pool), APR_SUCCESS);
    ck_assert_int_eq(af_oidc_apple_secret_mint(&s, pv, now, 15777001, pool),
                     AF_EOIDC_CLIENT_SECRET);
    ck_assert_int_eq(af_oidc_apple_secret_mint(&s, pv, now, 0, pool), AF_EOIDC_CLIENT_SECRET);
    pv->secret_key = NULL;
    ck_assert_int_eq(af_oidc_apple_secret_mint(&s, pv, now, 3600, pool), AF_EOIDC_CLIENT_SECRET);
}
END_TEST

START_TEST(test_apple_secret_cached_and_renewed)
{
    af_oidc_provider_t *pv = checked();
    const char *a = NULL, *b = NULL, *c = NULL, *d = NULL;
    json_t *cl;

    ck_assert_int_eq(af_oidc_runtime_init(pv, pool), APR_SUCCESS);
    ck_assert_int_eq(af_oidc_client_secret(&a, pv, now, pool), APR_SUCCESS);
    cl = secret_claims(a, pv->secret_key);
    ck_assert_int_eq(json_integer_value(json_object_get(cl, "exp")) -
                         json_integer_value(json_object_get(cl, "iat")),
                     AF_OIDC_APPLE_SECRET_TTL);
    /* the same secret while less than half its life has passed */
    ck_assert_int_eq(af_oidc_client_secret(&b, pv, now + AF_OIDC_APPLE_SECRET_TTL / 2 - 1, pool),
                     APR_SUCCESS);
    ck_assert_str_eq(a, b);
    /* renewed at half-life, long before it expires */
    ck_assert_int_eq(af_oidc_client_secret(&c, pv, now + AF_OIDC_APPLE_SECRET_TTL / 2, pool),
                     APR_SUCCESS);
    ck_assert_str_ne(a, c);
    cl = secret_claims(c, pv->secret_key);
    ck_assert_int_eq(json_integer_value(json_object_get(cl, "iat")),
                     now + AF_OIDC_APPLE_SECRET_TTL / 2);
    /* and when the clock went back */
    ck_assert_int_eq(af_oidc_client_secret(&d, pv, now - 10, pool), APR_SUCCESS);
    ck_assert_str_ne(c, d);
}
END_TEST

START_TEST(test_apple_static_secret_untouched)
{
    af_oidc_provider_t *pv =
        af_test_provider("https://idp.example", "c", "s3cret-with-at-least-32-bytes-for-hs!", pool);
    const char *s = NULL;

    ck_assert_int_eq(af_oidc_client_secret(&s, pv, now, pool), APR_SUCCESS);
    ck_assert_str_eq(s, "s3cret-with-at-least-32-bytes-for-hs!");
}
END_TEST

/* ---- user and booleans ------------------------------------------------------------------- */

START_TEST(test_apple_user_claims)
{
    json_t *c = af_json_pool_own(json_object(), pool);
    char big[3000];

    ck_assert_int_eq(af_oidc_apple_user_claims(c,
                                               "{\"name\":{\"firstName\":\"Ann\",\"lastName\":"
                                               "\"Lee\"},\"email\":\"x@evil.example\","
                                               "\"sub\":\"admin\"}",
                                               pool),
                     APR_SUCCESS);
    ck_assert_str_eq(json_string_value(json_object_get(c, "given_name")), "Ann");
    ck_assert_str_eq(json_string_value(json_object_get(c, "family_name")), "Lee");
    ck_assert_str_eq(json_string_value(json_object_get(c, "name")), "Ann Lee");
    ck_assert_ptr_null(json_object_get(c, "email"));
    ck_assert_ptr_null(json_object_get(c, "sub"));
    /* what the id_token said wins */
    c = af_json_pool_own(json_pack("{s:s}", "name", "Signed Name"), pool);
    ck_assert_int_eq(af_oidc_apple_user_claims(c, "{\"name\":{\"firstName\":\"Ann\"}}", pool),
                     APR_SUCCESS);
    ck_assert_str_eq(json_string_value(json_object_get(c, "name")), "Signed Name");
    ck_assert_str_eq(json_string_value(json_object_get(c, "given_name")), "Ann");
    /* no name: nothing */
    c = af_json_pool_own(json_object(), pool);
    ck_assert_int_eq(af_oidc_apple_user_claims(c, "{\"email\":\"a@b\"}", pool), APR_SUCCESS);
    ck_assert_int_eq(json_object_size(c), 0);
    /* refused shapes */
    ck_assert_int_eq(af_oidc_apple_user_claims(c, "{\"name\":", pool), AF_EOIDC_APPLE_USER);
    ck_assert_int_eq(af_oidc_apple_user_claims(c, "[1]", pool), AF_EOIDC_APPLE_USER);
    ck_assert_int_eq(af_oidc_apple_user_claims(c, "{\"name\":\"Ann\"}", pool), AF_EOIDC_APPLE_USER);
    ck_assert_int_eq(af_oidc_apple_user_claims(c, "{\"name\":{\"firstName\":1}}", pool),
                     AF_EOIDC_APPLE_USER);
    ck_assert_int_eq(af_oidc_apple_user_claims(c, "{\"name\":{\"firstName\":\"A\\nB\"}}", pool),
                     AF_EOIDC_APPLE_USER);
    ck_assert_int_eq(af_oidc_apple_user_claims(c, "{\"name\":{\"firstName\":\"A\\u0000B\"}}", pool),
                     AF_EOIDC_APPLE_USER);
    ck_assert_int_eq(af_oidc_apple_user_claims(c, "{\"name\":{},\"name\":{}}", pool),
                     AF_EOIDC_APPLE_USER);
    memset(big, 'a', sizeof(big));
    memcpy(big, "{\"name\":{\"firstName\":\"", 22);
    memcpy(big + sizeof(big) - 5, "\"}}", 4);
    ck_assert_int_eq(af_oidc_apple_user_claims(c, big, pool), AF_EOIDC_APPLE_USER);
    ck_assert_int_eq(json_object_size(c), 0);
}
END_TEST

START_TEST(test_apple_string_booleans)
{
    af_oidc_provider_t *pv = checked();
    af_oidc_meta_t meta = {0};
    af_oidc_identity_t *id = NULL;
    json_t *idc;

    ck_assert_int_eq(af_oidc_claim_bool(json_true()), 1);
    ck_assert_int_eq(af_oidc_claim_bool(json_false()), 0);
    ck_assert_int_eq(af_oidc_claim_bool(af_json_pool_own(json_string("true"), pool)), 1);
    ck_assert_int_eq(af_oidc_claim_bool(af_json_pool_own(json_string("false"), pool)), 0);
    ck_assert_int_eq(af_oidc_claim_bool(af_json_pool_own(json_string("TRUE"), pool)), -1);
    ck_assert_int_eq(af_oidc_claim_bool(af_json_pool_own(json_integer(1), pool)), -1);
    ck_assert_int_eq(af_oidc_claim_bool(NULL), -1);

    idc = af_json_pool_own(json_pack("{s:s, s:s, s:s, s:s, s:s}", "iss", ISS, "sub", "001.a.2",
                                     "email", "a@privaterelay.appleid.com", "email_verified",
                                     "true", "is_private_email", "true"),
                           pool);
    ck_assert_int_eq(af_oidc_identity_build(&id, pv, &meta, idc, NULL, NULL, pool), APR_SUCCESS);
    ck_assert(json_is_true(json_object_get(id->claims, "email_verified")));
    ck_assert(json_is_true(json_object_get(id->claims, "is_private_email")));
    ck_assert_str_eq(json_string_value(json_object_get(id->claims, "email")),
                     "a@privaterelay.appleid.com");
    json_object_set_new(idc, "email_verified", json_string("false"));
    ck_assert_int_eq(af_oidc_identity_build(&id, pv, &meta, idc, NULL, NULL, pool), APR_SUCCESS);
    ck_assert(json_is_false(json_object_get(id->claims, "email_verified")));
    ck_assert_ptr_null(json_object_get(id->claims, "email"));
    /* anything but true / "true" is not verified (EmailVerified claim): false, no email */
    json_object_set_new(idc, "email_verified", json_string("yes"));
    ck_assert_int_eq(af_oidc_identity_build(&id, pv, &meta, idc, NULL, NULL, pool), APR_SUCCESS);
    ck_assert(json_is_false(json_object_get(id->claims, "email_verified")));
    ck_assert_ptr_null(json_object_get(id->claims, "email"));
    json_object_set_new(idc, "is_private_email", json_string("false"));
    ck_assert_int_eq(af_oidc_identity_build(&id, pv, &meta, idc, NULL, NULL, pool), APR_SUCCESS);
    ck_assert(json_is_false(json_object_get(id->claims, "is_private_email")));
}
END_TEST

/* ---- notifications ----------------------------------------------------------------------- */

static af_keyset_t *apple_keys(void)
{
    af_keyset_t *ks = af_keyset_make(pool);

    af_keyset_add(ks, rsa);
    return ks;
}

static json_t *event(const char *type, const char *sub)
{
    json_t *ev =
        af_json_pool_own(json_pack("{s:s, s:s, s:I, s:s}", "type", type, "sub", sub, "event_time",
                                   (json_int_t) now * 1000, "is_private_email", "true"),
                         pool);
    return af_json_pool_own(json_pack("{s:s, s:s, s:I, s:s, s:s}", "iss", ISS, "aud", CID, "iat",
                                      (json_int_t) now, "jti", "j1", "events",
                                      af_json_dump(ev, pool)),
                            pool);
}

static const char *body_of(const af_key_t *k, const json_t *c)
{
    return apr_psprintf(pool, "{\"payload\":\"%s\"}", af_test_mint(k, NULL, c, pool));
}

static apr_status_t parse(af_oidc_apple_event_t **ev, const char *body)
{
    af_oidc_provider_t *pv = checked();
    af_oidc_meta_t meta = {0};

    meta.issuer = ISS;
    return af_oidc_apple_event_parse(ev, pv, &meta, apple_keys(), body, strlen(body), now, pool);
}

START_TEST(test_apple_event_types)
{
    af_oidc_apple_event_t *ev = NULL;

    ck_assert_int_eq(parse(&ev, body_of(rsa, event("consent-revoked", "001.a.2"))), APR_SUCCESS);
    ck_assert_int_eq(ev->type, AF_OIDC_APPLE_EVENT_CONSENT_REVOKED);
    ck_assert_int_eq(ev->revoke, 1);
    ck_assert_str_eq(ev->sub, "001.a.2");
    ck_assert_int_eq(parse(&ev, body_of(rsa, event("account-delete", "001.a.2"))), APR_SUCCESS);
    ck_assert_int_eq(ev->type, AF_OIDC_APPLE_EVENT_ACCOUNT_DELETE);
    ck_assert_int_eq(ev->revoke, 1);
    ck_assert_int_eq(parse(&ev, body_of(rsa, event("email-disabled", "001.a.2"))), APR_SUCCESS);
    ck_assert_int_eq(ev->type, AF_OIDC_APPLE_EVENT_EMAIL_DISABLED);
    ck_assert_int_eq(ev->revoke, 0);
    ck_assert_int_eq(parse(&ev, body_of(rsa, event("email-enabled", "001.a.2"))), APR_SUCCESS);
    ck_assert_int_eq(ev->revoke, 0);
    ck_assert_int_eq(parse(&ev, body_of(rsa, event("something-new", "001.a.2"))), APR_SUCCESS);
    ck_assert_int_eq(ev->type, AF_OIDC_APPLE_EVENT_OTHER);
    ck_assert_int_eq(ev->revoke, 0);
}
END_TEST

START_TEST(test_apple_event_rejections)
{
    af_oidc_apple_event_t *ev = NULL;
    json_t *c;

    /* signature: a key not in the set, or HS256 */
    ck_assert_int_eq(parse(&ev, body_of(rsa_other, event("account-delete", "s"))),
                     AF_EOIDC_APPLE_EVENT_SIG);
    ck_assert_ptr_null(ev);
    c = event("account-delete", "s");
    json_object_set_new(c, "iss", json_string("https://evil.example"));
    ck_assert_int_eq(parse(&ev, body_of(rsa, c)), AF_EOIDC_APPLE_EVENT_CLAIMS);
    c = event("account-delete", "s");
    json_object_set_new(c, "aud", json_string("other"));
    ck_assert_int_eq(parse(&ev, body_of(rsa, c)), AF_EOIDC_APPLE_EVENT_CLAIMS);
    c = event("account-delete", "s");
    json_object_set_new(c, "aud", json_pack("[s, s]", "other", CID));
    ck_assert_int_eq(parse(&ev, body_of(rsa, c)), APR_SUCCESS);
    c = event("account-delete", "s");
    json_object_set_new(c, "iat", json_integer(now - 3600));
    ck_assert_int_eq(parse(&ev, body_of(rsa, c)), AF_EOIDC_APPLE_EVENT_CLAIMS);
    json_object_set_new(c, "iat", json_integer(now + 3600));
    ck_assert_int_eq(parse(&ev, body_of(rsa, c)), AF_EOIDC_APPLE_EVENT_CLAIMS);
    json_object_del(c, "iat");
    ck_assert_int_eq(parse(&ev, body_of(rsa, c)), AF_EOIDC_APPLE_EVENT_CLAIMS);
    c = event("account-delete", "s");
    json_object_set_new(c, "exp", json_integer(now - 600));
    ck_assert_int_eq(parse(&ev, body_of(rsa, c)), AF_EOIDC_APPLE_EVENT_CLAIMS);
    /* events: an object is taken too; a broken string, no sub, a bad type are malformed */
    c = event("account-delete", "s");
    json_object_set_new(c, "events", json_pack("{s:s, s:s}", "type", "account-delete", "sub", "s"));
    ck_assert_int_eq(parse(&ev, body_of(rsa, c)), APR_SUCCESS);
    json_object_set_new(c, "events", json_string("{\"type\":"));
    ck_assert_int_eq(parse(&ev, body_of(rsa, c)), AF_EOIDC_APPLE_EVENT);
    json_object_set_new(c, "events", json_string("{\"type\":\"account-delete\"}"));
    ck_assert_int_eq(parse(&ev, body_of(rsa, c)), AF_EOIDC_APPLE_EVENT);
    json_object_set_new(c, "events", json_string("{\"type\":\"Account Delete\",\"sub\":\"s\"}"));
    ck_assert_int_eq(parse(&ev, body_of(rsa, c)), AF_EOIDC_APPLE_EVENT);
    json_object_del(c, "events");
    ck_assert_int_eq(parse(&ev, body_of(rsa, c)), AF_EOIDC_APPLE_EVENT);
    /* the body */
    ck_assert_int_eq(parse(&ev, "payload=x"), AF_EOIDC_APPLE_EVENT);
    ck_assert_int_eq(parse(&ev, "{\"payload\":1}"), AF_EOIDC_APPLE_EVENT);
    ck_assert_int_eq(parse(&ev, "{\"payload\":\"a.b.c\"}"), AF_EOIDC_APPLE_EVENT);
    ck_assert_int_eq(parse(&ev, "{\"payload\":\"x\",\"payload\":\"y\"}"), AF_EOIDC_APPLE_EVENT);
    ck_assert_int_eq(parse(&ev, ""), AF_EOIDC_APPLE_EVENT);
    ck_assert_ptr_null(ev);
}
END_TEST

START_TEST(test_apple_event_hs256_refused)
{
    af_oidc_apple_event_t *ev = NULL;
    af_key_t *hk = NULL;
    const char *why = NULL;
    static const char sec[] = "s3cret-with-at-least-32-bytes-for-hs!";

    ck_assert_int_eq(af_key_from_secret(&hk, (const unsigned char *) sec, strlen(sec), AF_ALG_HS256,
                                        NULL, &why, pool),
                     APR_SUCCESS);
    ck_assert_int_eq(parse(&ev, body_of(hk, event("account-delete", "s"))),
                     AF_EOIDC_APPLE_EVENT_SIG);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("oidc_apple");
    TCase *tc = tcase_create("apple");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_apple_preset_defaults);
    tcase_add_test(tc, test_apple_preset_refusals);
    tcase_add_test(tc, test_apple_config_keys);
    tcase_add_test(tc, test_apple_secret_mint);
    tcase_add_test(tc, test_apple_secret_cached_and_renewed);
    tcase_add_test(tc, test_apple_static_secret_untouched);
    tcase_add_test(tc, test_apple_user_claims);
    tcase_add_test(tc, test_apple_string_booleans);
    tcase_add_test(tc, test_apple_event_types);
    tcase_add_test(tc, test_apple_event_rejections);
    tcase_add_test(tc, test_apple_event_hs256_refused);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    int rc;

    root = af_test_pool();
    now = (apr_int64_t) apr_time_sec(apr_time_now());
    snprintf(dir, sizeof(dir), "/tmp/af_apple_XXXXXX");
    if (mkdtemp(dir) == NULL || af_key_generate(&p256, AF_ALG_ES256, KID, root) != APR_SUCCESS ||
        af_key_generate(&p384, AF_ALG_ES384, KID, root) != APR_SUCCESS ||
        af_key_generate(&rsa, AF_ALG_RS256, "apple-1", root) != APR_SUCCESS ||
        af_key_generate(&rsa_other, AF_ALG_RS256, "apple-1", root) != APR_SUCCESS ||
        (p256_file = write_pem(p256, "AuthKey.p8")) == NULL ||
        (p384_file = write_pem(p384, "p384.p8")) == NULL ||
        (rsa_file = write_pem(rsa, "rsa.pem")) == NULL) {
        return EXIT_FAILURE;
    }
    rc = af_test_run(suite());
    af_test_rmtree(dir);
    return rc;
}
