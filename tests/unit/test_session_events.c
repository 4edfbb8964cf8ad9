/* test_session_events.c -- POST <endpoint>/events/NAME in the session core against real LMDB:
 * routing, a Kakao unlink revoking every login of <user_id>@kakao and nothing else (H05), and
 * every refusal revoking nothing. */
#include <check.h>
#include <string.h>

#include <apr_strings.h>

#include "session/af_session.h"
#include "af_testsite.h"
#include "af_testutil.h"
#include "store_testutil.h"

#define T0    1700000000LL
#define ADMIN "kakao-admin-key-0123456789abcdef"

static apr_pool_t *pool;
static char dir[64];
static af_site_t *site;
static af_site_rt_t rt;

static af_oidc_provider_t *prov(const char *name, af_oidc_preset_t preset, const char *admin)
{
    af_oidc_provider_t *pv = af_oidc_provider_make(name, pool);

    pv->preset = preset;
    pv->issuer = "https://idp.example";
    pv->client_id = "c";
    pv->client_secret = "s";
    pv->redirect_uri = "https://app.example.com/auth/callback";
    pv->admin_key = admin;
    ck_assert_ptr_null(af_oidc_provider_check(pv, pool));
    return pv;
}

static void setup(void)
{
    pool = af_test_pool();
    af_test_rt_open(&rt, dir, sizeof(dir), "af_events", pool);
    site = apr_pcalloc(pool, sizeof(*site));
    site->base_url = "https://app.example.com";
    site->endpoint = "/auth";
    site->has_store = 1;
    site->rt = &rt;
    site->providers = apr_array_make(pool, 3, sizeof(af_oidc_provider_t *));
    APR_ARRAY_PUSH(site->providers, af_oidc_provider_t *) =
        prov("kakao", AF_OIDC_PRESET_KAKAO, ADMIN);
    APR_ARRAY_PUSH(site->providers, af_oidc_provider_t *) =
        prov("kakao2", AF_OIDC_PRESET_KAKAO, NULL);
    APR_ARRAY_PUSH(site->providers, af_oidc_provider_t *) = prov("gen", AF_OIDC_PRESET_NONE, NULL);
}

static void teardown(void)
{
    af_test_rt_close(&rt, dir);
    apr_pool_destroy(pool);
}

static const char *login(const char *sub, const char *provider)
{
    af_store_family_t *fam = NULL;
    const char *r = NULL;

    ck_assert_int_eq(
        af_test_family_create(&fam, &r, rt.store, sub, provider, "{}", T0, 86400, 0, pool),
        APR_SUCCESS);
    return fam->sid;
}

static af_effects_t *post(const char *path, const char *auth, const char *body)
{
    af_effects_t *eff = af_effects_make(pool);
    af_endpoint_t ep;
    const char *allow = NULL;
    af_req_in_t in;

    memset(&in, 0, sizeof(in));
    in.now = T0 + 10;
    in.method = "POST";
    in.raw_path = path;
    in.authorization = auth;
    in.content_type = "application/x-www-form-urlencoded";
    in.body = body;
    in.body_len = body != NULL ? strlen(body) : 0;
    ck_assert_int_eq(af_session_route(&ep, &allow, site, path, "POST"), APR_SUCCESS);
    ck_assert_int_eq(ep, AF_EP_EVENTS);
    af_session_handle(eff, site, ep, &in, pool);
    return eff;
}

START_TEST(test_events_routing)
{
    af_endpoint_t ep;
    const char *allow = NULL;

    ck_assert_int_eq(af_session_route(&ep, &allow, site, "/auth/events/kakao", "POST"),
                     APR_SUCCESS);
    ck_assert_int_eq(ep, AF_EP_EVENTS);
    ck_assert_int_eq(af_session_route(&ep, &allow, site, "/auth/events/kakao", "GET"),
                     AF_ESESS_METHOD);
    ck_assert_str_eq(allow, "POST");
    ck_assert_int_eq(af_session_route(&ep, &allow, site, "/auth/events/", "POST"),
                     AF_ESESS_NOT_FOUND);
    ck_assert_int_eq(af_session_route(&ep, &allow, site, "/auth/events/a/b", "POST"),
                     AF_ESESS_NOT_FOUND);
    ck_assert_int_eq(af_session_route(&ep, &allow, site, "/auth/events", "POST"),
                     AF_ESESS_NOT_FOUND);
}
END_TEST

START_TEST(test_kakao_unlink_revokes_that_account_only)
{
    const char *k1 = login("4242@kakao", "kakao"), *k2 = login("4242@kakao", "kakao");
    const char *g = login("4242@gen", "gen"), *other = login("4243@kakao", "kakao");
    const char *k3 = login("4242@kakao2", "kakao2");
    af_effects_t *eff;

    eff = post("/auth/events/kakao", "KakaoAK " ADMIN,
               "app_id=1&user_id=4242&referrer_type=ACCOUNT_DELETE");
    ck_assert_int_eq(eff->status, 200);
    ck_assert_int_eq(eff->body_kind, AF_BODY_NONE);
    ck_assert_int_eq(af_store_family_is_revoked(rt.store, k1), AF_ESTORE_REVOKED);
    ck_assert_int_eq(af_store_family_is_revoked(rt.store, k2), AF_ESTORE_REVOKED);
    ck_assert_int_eq(af_store_family_is_revoked(rt.store, g), APR_SUCCESS);
    ck_assert_int_eq(af_store_family_is_revoked(rt.store, other), APR_SUCCESS);
    ck_assert_int_eq(af_store_family_is_revoked(rt.store, k3), APR_SUCCESS);
}
END_TEST

START_TEST(test_refusals_revoke_nothing)
{
    static const struct {
        const char *path, *auth, *body;
        int status;
        const char *reason;
    } cases[] = {
        {"/auth/events/kakao", "KakaoAK wrong", "app_id=1&user_id=4242", 401, "event_unauthorized"},
        {"/auth/events/kakao", NULL, "app_id=1&user_id=4242", 401, "event_unauthorized"},
        {"/auth/events/kakao", "KakaoAK " ADMIN, "app_id=1&user_id=4242&user_id=1", 400,
         "event_malformed"},
        {"/auth/events/kakao", "KakaoAK " ADMIN, NULL, 400, "event_malformed"},
        {"/auth/events/kakao2", "KakaoAK " ADMIN, "app_id=1&user_id=4242", 404,
         "event_not_supported"},
        {"/auth/events/gen", "KakaoAK " ADMIN, "app_id=1&user_id=4242", 404, "event_not_supported"},
        {"/auth/events/nosuch", "KakaoAK " ADMIN, "app_id=1&user_id=4242", 404, "not_found"},
    };
    const char *k = login("4242@kakao", "kakao");
    apr_size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        af_effects_t *eff = post(cases[i].path, cases[i].auth, cases[i].body);
        ck_assert_msg(eff->status == cases[i].status, "case %zu: %d", i, eff->status);
        ck_assert_ptr_nonnull(strstr(eff->body, cases[i].reason));
        ck_assert_ptr_null(strstr(eff->body, ADMIN));
        ck_assert_int_eq(af_store_family_is_revoked(rt.store, k), APR_SUCCESS);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("session_events");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_events_routing);
    tcase_add_test(tc, test_kakao_unlink_revokes_that_account_only);
    tcase_add_test(tc, test_refusals_revoke_nothing);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return af_test_run(suite());
}
