/* test_oidc_providers.c -- the Kakao and Naver presets (issue 13): preset defaults and their
 * overrides, the provider keys EmailVerified / AdminKeyFile, expires_in as a digit string,
 * strict booleans, Kakao's and Naver's profile shapes, the EmailVerified rule (D16), the
 * token request (Kakao without a secret, Naver's state), and the events parser (KakaoAK). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <apr_strings.h>

#include "af_testutil.h"
#include "common/af_json.h"
#include "oidc/af_oidc.h"

static apr_pool_t *pool;

static void setup(void)
{
    pool = af_test_pool();
}

static void teardown(void)
{
    apr_pool_destroy(pool);
}

static af_oidc_provider_t *mkprov(af_oidc_preset_t preset)
{
    af_oidc_provider_t *prov = af_oidc_provider_make("idp", pool);

    prov->preset = preset;
    prov->client_id = "client-1";
    prov->client_secret = "s3cret";
    prov->redirect_uri = "https://app.example/auth/callback";
    return prov;
}

static json_t *J(const char *s)
{
    json_t *j = NULL;

    ck_assert_int_eq(af_json_parse(&j, s, strlen(s), 0, pool), APR_SUCCESS);
    return j;
}

static const char *key(const af_oidc_provider_t *pv, const char *k, const char *v)
{
    const char *argv[1] = {v};

    return af_oidc_provider_key((af_oidc_provider_t *) pv, k, 1, argv, NULL, NULL, pool);
}

static const char *str(const json_t *claims, const char *k)
{
    return json_string_value(json_object_get(claims, k));
}

/* ---- presets ------------------------------------------------------------------------------ */

START_TEST(test_D17_kakao_preset_defaults)
{
    af_oidc_provider_t *k = mkprov(AF_OIDC_PRESET_KAKAO);

    k->client_secret = NULL; /* optional for Kakao */
    ck_assert_ptr_null(af_oidc_provider_check(k, pool));
    ck_assert_str_eq(k->issuer, "https://kauth.kakao.com");
    ck_assert_str_eq(k->scope, "openid profile_nickname profile_image account_email");
    ck_assert_int_eq(k->token_auth, AF_OIDC_AUTH_POST);
    ck_assert_str_eq(k->userinfo_endpoint, "https://kapi.kakao.com/v2/user/me");
    ck_assert_str_eq(k->end_session_endpoint, "https://kauth.kakao.com/oauth/logout");
    ck_assert_int_eq(k->email_verified, AF_OIDC_EV_CLAIM);
    ck_assert_int_eq(k->kind, AF_OIDC_KIND_OIDC);

    /* without a secret, basic auth cannot work */
    k = mkprov(AF_OIDC_PRESET_KAKAO);
    k->client_secret = NULL;
    k->token_auth = AF_OIDC_AUTH_BASIC;
    ck_assert_ptr_nonnull(af_oidc_provider_check(k, pool));
    /* the others still need one */
    k = mkprov(AF_OIDC_PRESET_GOOGLE);
    k->client_secret = NULL;
    ck_assert_ptr_nonnull(af_oidc_provider_check(k, pool));
}
END_TEST

START_TEST(test_D17_naver_preset_defaults)
{
    af_oidc_provider_t *n = mkprov(AF_OIDC_PRESET_NAVER);
    af_oidc_preset_t pr;

    ck_assert_ptr_null(af_oidc_provider_check(n, pool));
    ck_assert_int_eq(n->kind, AF_OIDC_KIND_OAUTH2);
    ck_assert_str_eq(n->authorization_endpoint, "https://nid.naver.com/oauth2.0/authorize");
    ck_assert_str_eq(n->token_endpoint, "https://nid.naver.com/oauth2.0/token");
    ck_assert_str_eq(n->userinfo_endpoint, "https://openapi.naver.com/v1/nid/me");
    ck_assert_str_eq(n->subject_claim, "response.id");
    ck_assert_int_eq(n->token_auth, AF_OIDC_AUTH_POST);
    ck_assert_int_eq(n->email_verified, AF_OIDC_EV_NEVER);
    ck_assert_ptr_null(n->scope); /* Naver takes no scope: consent items are app settings */

    /* detected from the authorization endpoint */
    n = mkprov(AF_OIDC_PRESET_NONE);
    n->authorization_endpoint = "https://nid.naver.com/oauth2.0/authorize";
    ck_assert_ptr_null(af_oidc_provider_check(n, pool));
    ck_assert_int_eq(n->preset, AF_OIDC_PRESET_NAVER);

    ck_assert_int_eq(af_oidc_preset_from_name(&pr, "Naver"), 0);
    ck_assert_int_eq(pr, AF_OIDC_PRESET_NAVER);
    ck_assert_ptr_null(key(mkprov(0), "Preset", "naver"));
    ck_assert_ptr_nonnull(key(mkprov(0), "Preset", "line"));
}
END_TEST

/* every endpoint a preset fills in yields to the explicit key */
START_TEST(test_preset_endpoints_overridable)
{
    static const af_oidc_preset_t presets[] = {AF_OIDC_PRESET_GOOGLE, AF_OIDC_PRESET_KAKAO,
                                               AF_OIDC_PRESET_NAVER, AF_OIDC_PRESET_GITHUB};
    apr_size_t i;

    for (i = 0; i < sizeof(presets) / sizeof(presets[0]); i++) {
        af_oidc_provider_t *pv = mkprov(presets[i]);

        ck_assert_ptr_null(key(pv, "AuthorizationEndpoint", "http://127.0.0.1:9/authorize"));
        ck_assert_ptr_null(key(pv, "TokenEndpoint", "http://127.0.0.1:9/token"));
        ck_assert_ptr_null(key(pv, "UserinfoEndpoint", "http://127.0.0.1:9/user"));
        ck_assert_ptr_null(key(pv, "EndSessionEndpoint", "http://127.0.0.1:9/logout"));
        ck_assert_ptr_null(key(pv, "JwksURI", "http://127.0.0.1:9/jwks"));
        if (presets[i] != AF_OIDC_PRESET_NAVER && presets[i] != AF_OIDC_PRESET_GITHUB) {
            ck_assert_ptr_null(key(pv, "Issuer", "http://127.0.0.1:9"));
        }
        ck_assert_ptr_null(af_oidc_provider_check(pv, pool));
        ck_assert_int_eq(pv->preset, presets[i]);
        ck_assert_str_eq(pv->authorization_endpoint, "http://127.0.0.1:9/authorize");
        ck_assert_str_eq(pv->token_endpoint, "http://127.0.0.1:9/token");
        ck_assert_str_eq(pv->userinfo_endpoint, "http://127.0.0.1:9/user");
        ck_assert_str_eq(pv->end_session_endpoint, "http://127.0.0.1:9/logout");
        ck_assert_str_eq(pv->jwks_uri, "http://127.0.0.1:9/jwks");
        if (pv->issuer != NULL) {
            ck_assert_str_eq(pv->issuer, "http://127.0.0.1:9");
        }
        if (presets[i] == AF_OIDC_PRESET_GITHUB) {
            ck_assert_str_eq(pv->emails_endpoint, "http://127.0.0.1:9/user/emails");
        }
    }
}
END_TEST

START_TEST(test_email_verified_and_admin_key_keys)
{
    af_oidc_provider_t *pv = mkprov(AF_OIDC_PRESET_NAVER);
    char dir[256], path[300];
    const char *err;
    FILE *f;

    ck_assert_ptr_null(key(pv, "EmailVerified", "always"));
    ck_assert_ptr_nonnull(key(pv, "EmailVerified", "claim")); /* twice */
    ck_assert_ptr_null(af_oidc_provider_check(pv, pool));
    ck_assert_int_eq(pv->email_verified, AF_OIDC_EV_ALWAYS); /* the operator's wins */
    pv = mkprov(AF_OIDC_PRESET_NONE);
    ck_assert_ptr_nonnull(key(pv, "EmailVerified", "yes"));
    ck_assert_ptr_null(key(pv, "emailverified", "never"));
    ck_assert_int_eq(pv->email_verified, AF_OIDC_EV_NEVER);

    af_test_tmpdir(dir, sizeof(dir), "afkr");
    snprintf(path, sizeof(path), "%s/admin.key", dir);
    ck_assert_ptr_nonnull(key(mkprov(0), "AdminKeyFile", path)); /* missing file */
    f = fopen(path, "w");
    fputs("0123456789abcdef0123456789abcdef\n", f);
    fclose(f);
    /* C08: the one secret-file rule -- others may neither read nor write it */
    chmod(path, 0644);
    err = key(mkprov(AF_OIDC_PRESET_KAKAO), "AdminKeyFile", path);
    ck_assert_ptr_nonnull(err);
    ck_assert_ptr_nonnull(strstr(err, "readable by others: chmod o-rwx "));
    ck_assert_ptr_null(strstr(err, "0123456789abcdef")); /* never the key */
    chmod(path, 0602);
    ck_assert_ptr_nonnull(
        strstr(key(mkprov(AF_OIDC_PRESET_KAKAO), "AdminKeyFile", path), "writable by others"));
    chmod(path, 0640);
    pv = mkprov(AF_OIDC_PRESET_KAKAO);
    ck_assert_ptr_null(key(pv, "AdminKeyFile", path));
    ck_assert_str_eq(pv->admin_key, "0123456789abcdef0123456789abcdef");
    ck_assert_ptr_nonnull(key(pv, "AdminKeyFile", path)); /* twice */
    ck_assert_ptr_null(af_oidc_provider_check(pv, pool));
    pv = mkprov(AF_OIDC_PRESET_GOOGLE);
    ck_assert_ptr_null(key(pv, "AdminKeyFile", path));
    ck_assert_ptr_nonnull(af_oidc_provider_check(pv, pool)); /* kakao only */
    f = fopen(path, "w");
    fputs("", f);
    fclose(f);
    ck_assert_ptr_nonnull(key(mkprov(AF_OIDC_PRESET_KAKAO), "AdminKeyFile", path)); /* empty */
    af_test_rmtree(dir);
}
END_TEST

/* ---- token endpoint ------------------------------------------------------------------------ */

START_TEST(test_expires_in_digit_string)
{
    static const struct {
        const char *json;
        apr_status_t rv;
        apr_int64_t value;
    } cases[] = {
        {"3600", APR_SUCCESS, 3600},
        {"\"3600\"", APR_SUCCESS, 3600},
        {"\"0\"", APR_SUCCESS, 0},
        {"\"9999999999\"", APR_SUCCESS, 9999999999LL},
        {"\"99999999999\"", AF_EOIDC_TOKEN_RESPONSE, 0}, /* 11 digits */
        {"\"\"", AF_EOIDC_TOKEN_RESPONSE, 0},
        {"\"-1\"", AF_EOIDC_TOKEN_RESPONSE, 0},
        {"\"+1\"", AF_EOIDC_TOKEN_RESPONSE, 0},
        {"\" 1\"", AF_EOIDC_TOKEN_RESPONSE, 0},
        {"\"1 \"", AF_EOIDC_TOKEN_RESPONSE, 0},
        {"\"1.5\"", AF_EOIDC_TOKEN_RESPONSE, 0},
        {"\"1e3\"", AF_EOIDC_TOKEN_RESPONSE, 0},
        {"\"0x10\"", AF_EOIDC_TOKEN_RESPONSE, 0},
        {"\"\\u0661\"", AF_EOIDC_TOKEN_RESPONSE, 0}, /* ARABIC-INDIC DIGIT ONE */
        {"-5", AF_EOIDC_TOKEN_RESPONSE, 0},
        {"1.5", AF_EOIDC_TOKEN_RESPONSE, 0},
        {"true", AF_EOIDC_TOKEN_RESPONSE, 0},
        {"[1]", AF_EOIDC_TOKEN_RESPONSE, 0},
    };
    apr_size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *doc = apr_pstrcat(pool, "{\"v\":", cases[i].json, "}", NULL);
        apr_int64_t v = -7;
        ck_assert_msg(af_oidc_expires_in(&v, json_object_get(J(doc), "v")) == cases[i].rv,
                      "case %s", cases[i].json);
        if (cases[i].rv == APR_SUCCESS) {
            ck_assert_int_eq(v, cases[i].value);
        }
    }
}
END_TEST

START_TEST(test_token_response_string_expires_in)
{
    af_oidc_tokens_t *t = NULL;
    const char *naver = "{\"access_token\":\"AAA\",\"refresh_token\":\"RRR\",\"token_type\":"
                        "\"bearer\",\"expires_in\":\"3600\"}";
    const char *bad = "{\"access_token\":\"AAA\",\"token_type\":\"bearer\",\"expires_in\":\"1h\"}";

    ck_assert_int_eq(af_oidc_token_response_parse(&t, 200, naver, strlen(naver), 0, pool),
                     APR_SUCCESS);
    ck_assert_int_eq(t->expires_in, 3600);
    ck_assert_int_eq(af_oidc_token_response_parse(&t, 200, bad, strlen(bad), 0, pool),
                     AF_EOIDC_TOKEN_RESPONSE);
}
END_TEST

START_TEST(test_token_request_kakao_naver)
{
    af_oidc_provider_t *k = mkprov(AF_OIDC_PRESET_KAKAO), *n = mkprov(AF_OIDC_PRESET_NAVER);
    af_oidc_meta_t *m;
    af_http_request_t req;

    k->client_secret = NULL;
    ck_assert_ptr_null(af_oidc_provider_check(k, pool));
    k->token_endpoint = "https://kauth.kakao.com/oauth/token";
    m = af_oidc_meta_from_config(k, pool);
    ck_assert_int_eq(af_oidc_token_request(&req, k, m, "c", "v", "st", pool), APR_SUCCESS);
    ck_assert_ptr_nonnull(strstr(req.body, "&client_id=client-1"));
    ck_assert_ptr_null(strstr(req.body, "client_secret"));
    ck_assert_ptr_null(strstr(req.body, "state="));
    ck_assert_ptr_null(apr_table_get(req.headers, "Authorization"));

    ck_assert_ptr_null(af_oidc_provider_check(n, pool));
    m = af_oidc_meta_from_config(n, pool);
    ck_assert_int_eq(af_oidc_token_request(&req, n, m, "c", "v", "st+1", pool), APR_SUCCESS);
    ck_assert_ptr_nonnull(strstr(req.body, "&state=st%2B1"));
    ck_assert_ptr_nonnull(strstr(req.body, "&client_secret=s3cret"));
    ck_assert_str_eq(req.url, "https://nid.naver.com/oauth2.0/token");
}
END_TEST

/* ---- profiles and email -----------------------------------------------------------------------
 */

START_TEST(test_bool_strings)
{
    ck_assert(af_oidc_bool_true(json_true()));
    ck_assert(af_oidc_bool_true(json_object_get(J("{\"v\":\"true\"}"), "v")));
    ck_assert(!af_oidc_bool_true(json_false()));
    ck_assert(!af_oidc_bool_true(NULL));
    ck_assert(!af_oidc_bool_true(json_null()));
    ck_assert(!af_oidc_bool_true(json_object_get(J("{\"v\":\"yes\"}"), "v")));
    ck_assert(!af_oidc_bool_true(json_object_get(J("{\"v\":\"True\"}"), "v")));
    ck_assert(!af_oidc_bool_true(json_object_get(J("{\"v\":\"true \"}"), "v")));
    ck_assert(!af_oidc_bool_true(json_object_get(J("{\"v\":\"1\"}"), "v")));
    ck_assert(!af_oidc_bool_true(json_object_get(J("{\"v\":1}"), "v")));
    ck_assert(!af_oidc_bool_true(json_object_get(J("{\"v\":\"false\"}"), "v")));
}
END_TEST

static const char NAVER_ME[] =
    "{\"resultcode\":\"00\",\"message\":\"success\",\"response\":{\"id\":\"nv-32742776\","
    "\"nickname\":\"openapi\",\"name\":\"OpenAPI\",\"email\":\"openapi@naver.com\","
    "\"profile_image\":\"https://phinf.example/p.png\",\"mobile\":\"010-0000-0000\"}}";

START_TEST(test_D16_naver_profile)
{
    af_oidc_provider_t *n = mkprov(AF_OIDC_PRESET_NAVER);
    af_oidc_identity_t *id = NULL;
    af_oidc_kv_t *kv;
    af_oidc_meta_t *m;

    kv = apr_array_push(n->claims);
    kv->key = "contact_email";
    kv->value = "response.email";
    ck_assert_ptr_null(af_oidc_provider_check(n, pool));
    m = af_oidc_meta_from_config(n, pool);
    ck_assert_int_eq(af_oidc_identity_build(&id, n, m, NULL, J(NAVER_ME), NULL, pool), APR_SUCCESS);
    ck_assert_str_eq(id->sub, "nv-32742776");
    ck_assert_str_eq(str(id->claims, "name"), "OpenAPI");
    ck_assert_str_eq(str(id->claims, "preferred_username"), "openapi");
    ck_assert_str_eq(str(id->claims, "picture"), "https://phinf.example/p.png");
    /* EmailVerified never (the preset's): no email; the operator's own claim keeps it */
    ck_assert_ptr_null(json_object_get(id->claims, "email"));
    ck_assert_str_eq(str(id->claims, "contact_email"), "openapi@naver.com");
    ck_assert_ptr_null(json_object_get(id->claims, "resultcode"));

    /* resultcode must be "00" */
    ck_assert_int_eq(
        af_oidc_identity_build(&id, n, m, NULL,
                               J("{\"resultcode\":\"024\",\"message\":\"Authentication failed\"}"),
                               NULL, pool),
        AF_EOIDC_PROFILE_RESULT);
    ck_assert_int_eq(af_oidc_identity_build(&id, n, m, NULL,
                                            J("{\"resultcode\":0,\"response\":{\"id\":\"x\"}}"),
                                            NULL, pool),
                     AF_EOIDC_PROFILE_RESULT);
    ck_assert_int_eq(
        af_oidc_identity_build(&id, n, m, NULL, J("{\"response\":{\"id\":\"x\"}}"), NULL, pool),
        AF_EOIDC_PROFILE_RESULT);
    ck_assert_int_eq(af_oidc_status(AF_EOIDC_PROFILE_RESULT), 502);
    /* no response object, no id */
    ck_assert_int_eq(af_oidc_identity_build(&id, n, m, NULL,
                                            J("{\"resultcode\":\"00\",\"response\":[1]}"), NULL,
                                            pool),
                     AF_EOIDC_USERINFO);
    ck_assert_int_eq(af_oidc_identity_build(
                         &id, n, m, NULL, J("{\"resultcode\":\"00\",\"response\":{}}"), NULL, pool),
                     AF_EOIDC_SUB);
    /* a top-level "id" next to the wrapper is not the subject */
    ck_assert_int_eq(af_oidc_identity_build(&id, n, m, NULL,
                                            J("{\"resultcode\":\"00\",\"id\":\"evil\","
                                              "\"response\":{}}"),
                                            NULL, pool),
                     AF_EOIDC_SUB);

    /* EmailVerified always: the operator vouches for the address */
    n = mkprov(AF_OIDC_PRESET_NAVER);
    n->email_verified = AF_OIDC_EV_ALWAYS;
    ck_assert_ptr_null(af_oidc_provider_check(n, pool));
    ck_assert_int_eq(af_oidc_identity_build(&id, n, m, NULL, J(NAVER_ME), NULL, pool), APR_SUCCESS);
    ck_assert_str_eq(str(id->claims, "email"), "openapi@naver.com");
    ck_assert(json_is_true(json_object_get(id->claims, "email_verified")));
}
END_TEST

static json_t *kakao_me(const char *valid, const char *verified)
{
    return J(apr_psprintf(pool,
                          "{\"id\":4242,\"connected_at\":\"2026-01-01T00:00:00Z\","
                          "\"properties\":{\"nickname\":\"old\"},\"kakao_account\":{"
                          "\"profile\":{\"nickname\":\"Kay\",\"profile_image_url\":"
                          "\"https://k.kakaocdn.net/p.jpg\"},\"has_email\":true,"
                          "\"email_needs_agreement\":false,\"is_email_valid\":%s,"
                          "\"is_email_verified\":%s,\"email\":\"kay@kakao.com\"}}",
                          valid, verified));
}

START_TEST(test_D16_kakao_profile)
{
    af_oidc_provider_t *k = mkprov(AF_OIDC_PRESET_KAKAO);
    af_oidc_identity_t *id = NULL;
    json_t *idc = J("{\"iss\":\"https://kauth.kakao.com\",\"sub\":\"4242\",\"nickname\":\"Kay\"}");
    af_oidc_meta_t *m;

    ck_assert_ptr_null(af_oidc_provider_check(k, pool));
    m = af_oidc_meta_from_config(k, pool);
    ck_assert_int_eq(af_oidc_identity_build(&id, k, m, idc, kakao_me("true", "true"), NULL, pool),
                     APR_SUCCESS);
    ck_assert_str_eq(id->sub, "4242");
    ck_assert_str_eq(str(id->claims, "email"), "kay@kakao.com");
    ck_assert(json_is_true(json_object_get(id->claims, "email_verified")));
    ck_assert_str_eq(str(id->claims, "name"), "Kay");
    ck_assert_str_eq(str(id->claims, "picture"), "https://k.kakaocdn.net/p.jpg");
    /* both flags are needed */
    ck_assert_int_eq(af_oidc_identity_build(&id, k, m, idc, kakao_me("false", "true"), NULL, pool),
                     APR_SUCCESS);
    ck_assert_ptr_null(json_object_get(id->claims, "email"));
    ck_assert(json_is_false(json_object_get(id->claims, "email_verified")));
    ck_assert_int_eq(af_oidc_identity_build(&id, k, m, idc, kakao_me("true", "false"), NULL, pool),
                     APR_SUCCESS);
    ck_assert_ptr_null(json_object_get(id->claims, "email"));
    ck_assert_int_eq(
        af_oidc_identity_build(&id, k, m, idc, kakao_me("true", "\"yes\""), NULL, pool),
        APR_SUCCESS);
    ck_assert_ptr_null(json_object_get(id->claims, "email"));
    ck_assert_int_eq(
        af_oidc_identity_build(&id, k, m, idc, kakao_me("\"true\"", "\"true\""), NULL, pool),
        APR_SUCCESS);
    ck_assert_str_eq(str(id->claims, "email"), "kay@kakao.com");
    /* E12: the profile of another account */
    idc = J("{\"iss\":\"https://kauth.kakao.com\",\"sub\":\"4243\"}");
    ck_assert_int_eq(af_oidc_identity_build(&id, k, m, idc, kakao_me("true", "true"), NULL, pool),
                     AF_EOIDC_USERINFO_SUB);
    ck_assert_int_eq(af_oidc_identity_build(
                         &id, k, m, idc, J("{\"id\":\"4243\",\"kakao_account\":{}}"), NULL, pool),
                     AF_EOIDC_USERINFO);
    /* the OIDC userinfo shape (an overridden UserinfoEndpoint): used as is */
    idc = J("{\"iss\":\"https://kauth.kakao.com\",\"sub\":\"4242\"}");
    ck_assert_int_eq(af_oidc_identity_build(&id, k, m, idc,
                                            J("{\"sub\":\"4242\",\"email\":\"kay@kakao.com\","
                                              "\"email_verified\":\"true\"}"),
                                            NULL, pool),
                     APR_SUCCESS);
    ck_assert_str_eq(str(id->claims, "email"), "kay@kakao.com");
}
END_TEST

START_TEST(test_D16_email_verified_modes)
{
    static const struct {
        af_oidc_email_verified_t mode;
        const char *in;
        int kept;
    } cases[] = {
        {AF_OIDC_EV_CLAIM, "{\"email\":\"a@x\",\"email_verified\":true}", 1},
        {AF_OIDC_EV_CLAIM, "{\"email\":\"a@x\",\"email_verified\":\"true\"}", 1},
        {AF_OIDC_EV_CLAIM, "{\"email\":\"a@x\",\"email_verified\":\"yes\"}", 0},
        {AF_OIDC_EV_CLAIM, "{\"email\":\"a@x\",\"email_verified\":1}", 0},
        {AF_OIDC_EV_CLAIM, "{\"email\":\"a@x\",\"email_verified\":\"false\"}", 0},
        {AF_OIDC_EV_CLAIM, "{\"email\":\"a@x\"}", 0},
        {AF_OIDC_EV_NEVER, "{\"email\":\"a@x\",\"email_verified\":true}", 0},
        {AF_OIDC_EV_ALWAYS, "{\"email\":\"a@x\",\"email_verified\":false}", 1},
        {AF_OIDC_EV_ALWAYS, "{\"email\":\"a@x\"}", 1},
        {AF_OIDC_EV_ALWAYS, "{\"email\":\"\"}", 0},
        {AF_OIDC_EV_ALWAYS, "{\"email\":[\"a@x\"]}", 0},
    };
    apr_size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *c = J(cases[i].in);
        const json_t *ev;

        af_oidc_email_decide(c, cases[i].mode);
        ev = json_object_get(c, "email_verified");
        if (cases[i].kept) {
            ck_assert_msg(str(c, "email") != NULL && json_is_true(ev), "case %zu", i);
        } else {
            ck_assert_msg(json_object_get(c, "email") == NULL, "case %zu", i);
            ck_assert_msg(ev == NULL || json_is_false(ev), "case %zu", i);
        }
    }
}
END_TEST

/* GitHub keeps its own rule (verified && primary in /user/emails); EmailVerified never wins */
START_TEST(test_D16_github_email_verified_never)
{
    af_oidc_provider_t *gh = mkprov(AF_OIDC_PRESET_GITHUB);
    af_oidc_identity_t *id = NULL;
    json_t *ui = J("{\"id\":1,\"login\":\"octocat\"}");

    ck_assert_ptr_null(af_oidc_provider_check(gh, pool));
    ck_assert_int_eq(
        af_oidc_identity_build(&id, gh, af_oidc_meta_from_config(gh, pool), NULL, ui, "c@x", pool),
        APR_SUCCESS);
    ck_assert_str_eq(str(id->claims, "email"), "c@x");
    gh->email_verified = AF_OIDC_EV_NEVER;
    ck_assert_int_eq(
        af_oidc_identity_build(&id, gh, af_oidc_meta_from_config(gh, pool), NULL, ui, "c@x", pool),
        APR_SUCCESS);
    ck_assert_ptr_null(json_object_get(id->claims, "email"));
}
END_TEST

/* ---- events (KakaoAK) ---------------------------------------------------------------------------
 */

#define ADMIN "kakao-admin-key-0123456789abcdef"

START_TEST(test_kakao_ak_check)
{
    ck_assert_int_eq(af_oidc_kakao_ak_check("KakaoAK " ADMIN, ADMIN), APR_SUCCESS);
    ck_assert_int_eq(af_oidc_kakao_ak_check("KakaoAK " ADMIN "x", ADMIN), AF_EOIDC_EVENT_AUTH);
    ck_assert_int_eq(af_oidc_kakao_ak_check("KakaoAK kakao-admin-key", ADMIN), AF_EOIDC_EVENT_AUTH);
    ck_assert_int_eq(af_oidc_kakao_ak_check("KakaoAK  " ADMIN, ADMIN), AF_EOIDC_EVENT_AUTH);
    ck_assert_int_eq(af_oidc_kakao_ak_check("kakaoak " ADMIN, ADMIN), AF_EOIDC_EVENT_AUTH);
    ck_assert_int_eq(af_oidc_kakao_ak_check("Bearer " ADMIN, ADMIN), AF_EOIDC_EVENT_AUTH);
    ck_assert_int_eq(af_oidc_kakao_ak_check(ADMIN, ADMIN), AF_EOIDC_EVENT_AUTH);
    ck_assert_int_eq(af_oidc_kakao_ak_check("KakaoAK ", ADMIN), AF_EOIDC_EVENT_AUTH);
    ck_assert_int_eq(af_oidc_kakao_ak_check(NULL, ADMIN), AF_EOIDC_EVENT_AUTH);
    ck_assert_int_eq(af_oidc_kakao_ak_check("KakaoAK ", ""), AF_EOIDC_EVENT_AUTH);
    ck_assert_int_eq(af_oidc_kakao_ak_check("KakaoAK x", NULL), AF_EOIDC_EVENT_AUTH);
}
END_TEST

static apr_status_t event(af_oidc_event_t **ev, const af_oidc_provider_t *pv, const char *auth,
                          const char *ctype, const char *body)
{
    af_oidc_event_in_t in;

    memset(&in, 0, sizeof(in));
    in.authorization = auth;
    in.content_type = ctype;
    in.body = body;
    in.body_len = body != NULL ? strlen(body) : 0;
    return af_oidc_event_parse(ev, pv, &in, pool);
}

START_TEST(test_kakao_unlink_event)
{
    static const char *const FORM = "application/x-www-form-urlencoded";
    af_oidc_provider_t *k = mkprov(AF_OIDC_PRESET_KAKAO), *g = mkprov(AF_OIDC_PRESET_GOOGLE);
    af_oidc_event_t *ev = NULL;
    char big[5000];

    k->admin_key = ADMIN;
    ck_assert_ptr_null(af_oidc_provider_check(k, pool));
    ck_assert_int_eq(event(&ev, k, "KakaoAK " ADMIN, FORM,
                           "app_id=123456&user_id=4242&referrer_type=UNLINK_FROM_APPS"),
                     APR_SUCCESS);
    ck_assert_str_eq(ev->sub, "4242");
    ck_assert_str_eq(ev->kind, "unlink:UNLINK_FROM_APPS");
    ck_assert_int_eq(ev->revoke, 1);
    ck_assert_int_eq(event(&ev, k, "KakaoAK " ADMIN,
                           "application/x-www-form-urlencoded;charset=utf-8",
                           "user_id=4242&app_id=1&group_user_token=abc"),
                     APR_SUCCESS);
    ck_assert_str_eq(ev->kind, "unlink:-");

    /* credentials first: a bad key with a bad form is 401 */
    ck_assert_int_eq(event(&ev, k, "KakaoAK wrong", FORM, "user_id=4242&app_id=1"),
                     AF_EOIDC_EVENT_AUTH);
    ck_assert_ptr_null(ev);
    ck_assert_int_eq(event(&ev, k, NULL, FORM, "user_id=4242&app_id=1"), AF_EOIDC_EVENT_AUTH);
    ck_assert_int_eq(event(&ev, k, "KakaoAK wrong", FORM, "%%%"), AF_EOIDC_EVENT_AUTH);
    /* the form, strictly */
    ck_assert_int_eq(event(&ev, k, "KakaoAK " ADMIN, FORM, "user_id=4242&user_id=4243&app_id=1"),
                     AF_EOIDC_EVENT_MALFORMED);
    ck_assert_int_eq(event(&ev, k, "KakaoAK " ADMIN, FORM, "app_id=1"), AF_EOIDC_EVENT_MALFORMED);
    ck_assert_int_eq(event(&ev, k, "KakaoAK " ADMIN, FORM, "user_id=4242"),
                     AF_EOIDC_EVENT_MALFORMED);
    ck_assert_int_eq(event(&ev, k, "KakaoAK " ADMIN, FORM, "user_id=42a&app_id=1"),
                     AF_EOIDC_EVENT_MALFORMED);
    ck_assert_int_eq(event(&ev, k, "KakaoAK " ADMIN, FORM, "user_id=&app_id=1"),
                     AF_EOIDC_EVENT_MALFORMED);
    ck_assert_int_eq(event(&ev, k, "KakaoAK " ADMIN, FORM, "user_id=4242%40x&app_id=1"),
                     AF_EOIDC_EVENT_MALFORMED);
    ck_assert_int_eq(
        event(&ev, k, "KakaoAK " ADMIN, FORM, "user_id=123456789012345678901&app_id=1"),
        AF_EOIDC_EVENT_MALFORMED);
    ck_assert_int_eq(
        event(&ev, k, "KakaoAK " ADMIN, FORM, "user_id=1&app_id=1&referrer_type=<script>"),
        AF_EOIDC_EVENT_MALFORMED);
    ck_assert_int_eq(event(&ev, k, "KakaoAK " ADMIN, FORM, "user_id=1&&app_id=1"),
                     AF_EOIDC_EVENT_MALFORMED);
    ck_assert_int_eq(event(&ev, k, "KakaoAK " ADMIN, FORM, "user_id=1&app_id=1&x=%zz"),
                     AF_EOIDC_EVENT_MALFORMED);
    ck_assert_int_eq(event(&ev, k, "KakaoAK " ADMIN, "application/json", "{\"user_id\":1}"),
                     AF_EOIDC_EVENT_MALFORMED);
    ck_assert_int_eq(event(&ev, k, "KakaoAK " ADMIN, NULL, "user_id=1&app_id=1"),
                     AF_EOIDC_EVENT_MALFORMED);
    ck_assert_int_eq(event(&ev, k, "KakaoAK " ADMIN, FORM, NULL), AF_EOIDC_EVENT_MALFORMED);
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    memcpy(big, "user_id=1&app_id=1&x=", 21);
    ck_assert_int_eq(event(&ev, k, "KakaoAK " ADMIN, FORM, big), AF_EOIDC_EVENT_MALFORMED);
    ck_assert_int_eq(af_oidc_status(AF_EOIDC_EVENT_AUTH), 401);
    ck_assert_int_eq(af_oidc_status(AF_EOIDC_EVENT_MALFORMED), 400);
    ck_assert_int_eq(af_oidc_status(AF_EOIDC_EVENT_UNSUPPORTED), 404);

    /* no event kind: another provider, or Kakao without AdminKeyFile */
    ck_assert_ptr_null(af_oidc_provider_check(g, pool));
    ck_assert_int_eq(event(&ev, g, "KakaoAK " ADMIN, FORM, "user_id=1&app_id=1"),
                     AF_EOIDC_EVENT_UNSUPPORTED);
    k->admin_key = NULL;
    ck_assert_int_eq(event(&ev, k, "KakaoAK " ADMIN, FORM, "user_id=1&app_id=1"),
                     AF_EOIDC_EVENT_UNSUPPORTED);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("oidc_providers");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_D17_kakao_preset_defaults);
    tcase_add_test(tc, test_D17_naver_preset_defaults);
    tcase_add_test(tc, test_preset_endpoints_overridable);
    tcase_add_test(tc, test_email_verified_and_admin_key_keys);
    tcase_add_test(tc, test_expires_in_digit_string);
    tcase_add_test(tc, test_token_response_string_expires_in);
    tcase_add_test(tc, test_token_request_kakao_naver);
    tcase_add_test(tc, test_bool_strings);
    tcase_add_test(tc, test_D16_naver_profile);
    tcase_add_test(tc, test_D16_kakao_profile);
    tcase_add_test(tc, test_D16_email_verified_modes);
    tcase_add_test(tc, test_D16_github_email_verified_never);
    tcase_add_test(tc, test_kakao_ak_check);
    tcase_add_test(tc, test_kakao_unlink_event);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return af_test_run(suite());
}
