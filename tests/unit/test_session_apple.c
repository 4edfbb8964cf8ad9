/* test_session_apple.c -- the session side of response_mode=form_post and provider events
 * without httpd: when a POST callback gets the re-post page (F03), what that page holds and
 * its CSP nonce (D12), the POST callback's strict form rules (D03, H10), and the events/NAME
 * route. */
#include <check.h>
#include <string.h>

#include <apr_strings.h>

#include "session/af_session.h"
#include "af_testutil.h"

static apr_pool_t *pool;
static af_site_t *site;

static void setup(void)
{
    pool = af_test_pool();
    site = apr_pcalloc(pool, sizeof(*site));
    site->base_url = "https://app.example.com";
    site->endpoint = "/auth";
    site->cookie_flow = "__Host-authflow-flow";
    site->cookie_at = "__Host-authflow-at";
    site->cookie_rt = "__Host-authflow-rt";
    site->cookie_secure = 1;
    site->samesite = "Lax";
}

static void teardown(void)
{
    apr_pool_destroy(pool);
}

static af_req_in_t post(const char *cookie, const char *sfs, const char *origin)
{
    af_req_in_t in;

    memset(&in, 0, sizeof(in));
    in.method = "POST";
    in.cookie = cookie;
    in.sec_fetch_site = sfs;
    in.origin = origin;
    in.content_type = "application/x-www-form-urlencoded";
    return in;
}

START_TEST(test_F03_repost_only_cross_site_without_the_flow_cookie)
{
    af_req_in_t in = post(NULL, "cross-site", "https://appleid.apple.com");

    ck_assert_int_eq(af_session_needs_repost(site, &in, pool), 1);
    /* the flow cookie was sent: checked as any callback */
    in = post("a=1; __Host-authflow-flow=blob", "cross-site", "https://appleid.apple.com");
    ck_assert_int_eq(af_session_needs_repost(site, &in, pool), 0);
    /* not cross-site: never re-posted (the re-post itself is same-origin: no loop) */
    in = post(NULL, "same-origin", "https://app.example.com");
    ck_assert_int_eq(af_session_needs_repost(site, &in, pool), 0);
    in = post(NULL, "same-site", "https://idp.app.example.com");
    ck_assert_int_eq(af_session_needs_repost(site, &in, pool), 0);
    in = post(NULL, "none", NULL);
    ck_assert_int_eq(af_session_needs_repost(site, &in, pool), 0);
    /* without Fetch Metadata: a foreign Origin only */
    in = post(NULL, NULL, "https://appleid.apple.com");
    ck_assert_int_eq(af_session_needs_repost(site, &in, pool), 1);
    in = post(NULL, NULL, "https://app.example.com");
    ck_assert_int_eq(af_session_needs_repost(site, &in, pool), 0);
    in = post(NULL, NULL, "null");
    ck_assert_int_eq(af_session_needs_repost(site, &in, pool), 0);
    in = post(NULL, NULL, NULL);
    ck_assert_int_eq(af_session_needs_repost(site, &in, pool), 0);
    /* a GET is never re-posted */
    in = post(NULL, "cross-site", NULL);
    in.method = "GET";
    ck_assert_int_eq(af_session_needs_repost(site, &in, pool), 0);
}
END_TEST

START_TEST(test_D12_repost_page)
{
    af_effects_t *eff = af_effects_make(pool), *eff2 = af_effects_make(pool);
    af_oidc_cbparams_t cb = {"c0de", "st4te", NULL, NULL, "{\"name\":\"<script>x</script>\"}"};
    const char *n1, *n2;

    af_session_repost(eff, site, &cb, pool);
    af_session_repost(eff2, site, &cb, pool);
    ck_assert_int_eq(eff->status, 200);
    ck_assert_int_eq(eff->body_kind, AF_BODY_HTML);
    ck_assert_int_eq(eff->cookies->nelts, 0);
    ck_assert_ptr_null(eff->cache_control); /* the handler default: no-store */
    ck_assert_ptr_nonnull(strstr(eff->body, "action=\"https://app.example.com/auth/callback\""));
    ck_assert_ptr_nonnull(strstr(eff->body, "name=\"code\" value=\"c0de\""));
    ck_assert_ptr_nonnull(strstr(eff->body, "name=\"state\" value=\"st4te\""));
    ck_assert_ptr_null(strstr(eff->body, "name=\"iss\""));
    ck_assert_ptr_null(strstr(eff->body, "<script>x"));
    ck_assert_ptr_nonnull(strstr(eff->body, "&lt;script&gt;x"));
    ck_assert_ptr_nonnull(strstr(eff->body, "<noscript>"));
    /* a fresh nonce per page, in the CSP and on the one script */
    n1 = strstr(eff->csp, "script-src 'nonce-");
    n2 = strstr(eff2->csp, "script-src 'nonce-");
    ck_assert_ptr_nonnull(n1);
    ck_assert_ptr_nonnull(n2);
    ck_assert_str_ne(n1, n2);
    ck_assert_ptr_nonnull(strstr(eff->csp, "default-src 'none'"));
    ck_assert_ptr_nonnull(strstr(eff->csp, "form-action 'self'"));
    ck_assert_ptr_nonnull(strstr(eff->csp, "frame-ancestors 'none'"));
    n1 += strlen("script-src 'nonce-");
    ck_assert_ptr_nonnull(
        strstr(eff->body, apr_pstrcat(pool, "<script nonce=\"",
                                      apr_pstrndup(pool, n1, strcspn(n1, "'")), "\">", NULL)));
}
END_TEST

START_TEST(test_H10_post_callback_form_rules)
{
    af_effects_t *eff;
    af_req_in_t in = post(NULL, "same-origin", "https://app.example.com");

    /* the callback is refused before any provider or store is looked at */
    in.body = "code=a&state=b";
    in.body_len = strlen(in.body);
    in.content_type = "application/json";
    eff = af_effects_make(pool);
    af_session_callback(eff, site, &in, pool);
    ck_assert_int_eq(eff->status, 400);
    ck_assert_int_eq(eff->reason, AF_EOIDC_PARAM);
    in.content_type = "application/x-www-form-urlencoded; charset=UTF-8";
    in.query = "code=x";
    eff = af_effects_make(pool);
    af_session_callback(eff, site, &in, pool);
    ck_assert_int_eq(eff->reason, AF_EOIDC_PARAM);
    in.query = NULL;
    in.body_len = strlen(in.body) + 3; /* a NUL inside the body */
    eff = af_effects_make(pool);
    af_session_callback(eff, site, &in, pool);
    ck_assert_int_eq(eff->reason, AF_EOIDC_PARAM);
    /* a well-formed one goes on: no provider configured here */
    in.body_len = strlen(in.body);
    eff = af_effects_make(pool);
    af_session_callback(eff, site, &in, pool);
    ck_assert_int_eq(eff->reason, AF_ESESS_NO_PROVIDER);
    /* the content type is matched as a whole token */
    in.content_type = "application/x-www-form-urlencodedX";
    eff = af_effects_make(pool);
    af_session_callback(eff, site, &in, pool);
    ck_assert_int_eq(eff->reason, AF_EOIDC_PARAM);
}
END_TEST

START_TEST(test_events_route)
{
    af_endpoint_t ep;
    const char *allow = NULL;

    ck_assert_int_eq(af_session_route(&ep, &allow, site, "/auth/events/apple", "POST"),
                     APR_SUCCESS);
    ck_assert_int_eq(ep, AF_EP_EVENTS);
    ck_assert_int_eq(af_session_route(&ep, &allow, site, "/auth/events/apple", "GET"),
                     AF_ESESS_METHOD);
    ck_assert_str_eq(allow, "POST");
    ck_assert_int_eq(af_session_route(&ep, &allow, site, "/auth/events/", "POST"),
                     AF_ESESS_NOT_FOUND);
    ck_assert_int_eq(af_session_route(&ep, &allow, site, "/auth/events/a/b", "POST"),
                     AF_ESESS_NOT_FOUND);
    ck_assert_int_eq(af_session_route(&ep, &allow, site, "/auth/callback", "POST"), APR_SUCCESS);
    ck_assert_int_eq(ep, AF_EP_CALLBACK);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("session_apple");
    TCase *tc = tcase_create("form_post");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_F03_repost_only_cross_site_without_the_flow_cookie);
    tcase_add_test(tc, test_D12_repost_page);
    tcase_add_test(tc, test_H10_post_callback_form_rules);
    tcase_add_test(tc, test_events_route);
    suite_add_tcase(s, tc);
    return af_test_run(s);
}
