/* test_password.c -- the password login of src/session (session_password.c) without httpd,
 * against real LMDB: the form and its flow, the POST's order of checks (415, 403 cross_site,
 * strict form, the flow of this browser, credentials, throttle, single use), the same answer
 * for a wrong password and an unknown account, the throttle (429 before any check, even with
 * the right password; Retry-After), a provider error (503, not counted), a granted login (303,
 * cookies, sub user@provider, Claim from AUTHENTICATE_*).  The authn providers are httpd's and
 * are covered by tests/integration/test_password_login.py; here the check is a table. */
#include <check.h>
#include <string.h>

#include <apr_strings.h>

#include "common/af_cookie.h"
#include "common/af_form.h"
#include "common/af_json.h"
#include "session/af_session.h"
#include "af_testsite.h"
#include "af_testutil.h"
#include "store_testutil.h"

#define T0 1700000000LL

static apr_pool_t *pool;
static char dir[64];
static af_site_t *site;
static af_site_rt_t rt;
static af_key_t *key;
static af_oidc_provider_t *pv;
static int checks; /* calls of the check */

static void setup(void)
{
    static const unsigned char secret[32] = {9, 8, 7, 6, 5, 4, 3, 2, 1};
    af_oidc_kv_t *kv;

    pool = af_test_pool();
    ck_assert_int_eq(af_key_generate(&key, AF_ALG_ES256, "k1", pool), APR_SUCCESS);
    af_test_rt_open(&rt, dir, sizeof(dir), "af_pw", pool);
    site = apr_pcalloc(pool, sizeof(*site));
    site->base_url = "https://app.example.com";
    site->endpoint = "/auth";
    site->issuer = site->audience = site->base_url;
    site->signing_key = key;
    site->own_keys = af_keyset_make(pool);
    af_keyset_add(site->own_keys, key);
    site->clock_skew = 60;
    site->access_ttl = 600;
    site->cookie_at = "__Host-authflow-at";
    site->cookie_rt = "__Host-authflow-rt";
    site->cookie_flow = "__Host-authflow-flow";
    site->cookie_secure = 1;
    site->samesite = "Lax";
    site->has_store = 1;
    site->token_claims = apr_array_make(pool, 2, sizeof(const char *));
    APR_ARRAY_PUSH(site->token_claims, const char *) = "email";
    site->refresh_ttl = 14 * 86400;
    site->refresh_idle = 3 * 86400;
    site->reuse_grace = 10;
    ck_assert_int_eq(af_token_seal_key(&site->flow_key, secret, 32, site->cookie_flow, pool),
                     APR_SUCCESS);
    ck_assert_int_eq(af_token_seal_key(&site->throttle_key, secret, 32, "password throttle", pool),
                     APR_SUCCESS);
    site->rt = &rt;
    pv = af_oidc_provider_make("staff", pool);
    ck_assert_ptr_null(
        af_oidc_provider_key(pv, "Type", 1, (const char *[]){"password"}, NULL, NULL, pool));
    ck_assert_ptr_null(
        af_oidc_provider_key(pv, "AuthnProvider", 1, (const char *[]){"file"}, NULL, NULL, pool));
    ck_assert_ptr_null(
        af_oidc_provider_key(pv, "Throttle", 2, (const char *[]){"2", "10m"}, NULL, NULL, pool));
    kv = apr_array_push(pv->claims);
    kv->key = "email";
    kv->value = "mail"; /* AUTHENTICATE_MAIL */
    ck_assert_ptr_null(af_oidc_provider_check(pv, pool));
    site->providers = apr_array_make(pool, 1, sizeof(af_oidc_provider_t *));
    APR_ARRAY_PUSH(site->providers, af_oidc_provider_t *) = pv;
    checks = 0;
}

static void teardown(void)
{
    af_test_rt_close(&rt, dir);
    apr_pool_destroy(pool);
}

/* alice: "right"; bob: any password is an error of the provider; others unknown */
static af_pw_result_t check(void *baton, const af_oidc_provider_t *p, const char *user,
                            const char *password, apr_table_t **attrs, apr_pool_t *pl)
{
    checks++;
    if (strcmp(user, "bob") == 0) {
        return AF_PW_ERROR;
    }
    if (strcmp(user, "alice") != 0) {
        return AF_PW_NOT_FOUND;
    }
    if (strcmp(password, "right") != 0) {
        return AF_PW_DENIED;
    }
    *attrs = apr_table_make(pl, 2);
    apr_table_set(*attrs, "AUTHENTICATE_MAIL", "alice@example.org");
    return AF_PW_GRANTED;
}

typedef struct form_t {
    const char *cookie; /* the flow cookie, "name=value" */
    const char *flow;   /* the hidden field */
} form_t;

static form_t get_form(apr_int64_t now)
{
    af_req_in_t in;
    af_effects_t *eff = af_effects_make(pool);
    const char *set, *f;
    form_t out;

    memset(&in, 0, sizeof(in));
    in.now = now;
    in.method = "GET";
    in.query = "provider=staff&return_to=%2Fapp%2Fx";
    af_session_login(eff, site, &in, pool);
    ck_assert_int_eq(eff->status, 200);
    ck_assert_ptr_nonnull(strstr(eff->body, "autocomplete=\"current-password\""));
    ck_assert_ptr_nonnull(strstr(eff->body, "value=\"/app/x\""));
    ck_assert_int_eq(eff->cookies->nelts, 1);
    set = APR_ARRAY_IDX(eff->cookies, 0, const char *);
    out.cookie = apr_pstrndup(pool, set, strcspn(set, ";"));
    f = strstr(eff->body, "name=\"flow\" value=\"");
    ck_assert_ptr_nonnull(f);
    f += strlen("name=\"flow\" value=\"");
    out.flow = apr_pstrndup(pool, f, strcspn(f, "\""));
    return out;
}

static af_effects_t *post(apr_int64_t now, const char *cookie, const char *body, const char *origin,
                          const char *ctype)
{
    af_req_in_t in;
    af_effects_t *eff = af_effects_make(pool);

    memset(&in, 0, sizeof(in));
    in.now = now;
    in.method = "POST";
    in.cookie = cookie;
    in.origin = origin;
    in.content_type = ctype;
    in.body = body;
    in.body_len = body ? strlen(body) : 0;
    in.client_ip = "192.0.2.7";
    af_session_password_login(eff, site, &in, check, NULL, pool);
    return eff;
}

static af_effects_t *try_login(apr_int64_t now, const char *user, const char *password)
{
    form_t f = get_form(now);

    return post(now, f.cookie,
                apr_psprintf(pool, "flow=%s&username=%s&password=%s", f.flow, user, password),
                site->base_url, "application/x-www-form-urlencoded");
}

static int login_cookies(const af_effects_t *eff)
{
    int i, n = 0;

    for (i = 0; i < eff->cookies->nelts; i++) {
        const char *c = APR_ARRAY_IDX(eff->cookies, i, const char *);

        n += (strncmp(c, "__Host-authflow-at=", 19) == 0 ||
              strncmp(c, "__Host-authflow-rt=", 19) == 0) &&
             strstr(c, "Max-Age=0") == NULL;
    }
    return n;
}

static const char *masked(const char *body)
{
    char *b = apr_pstrdup(pool, body), *f = strstr(b, "name=\"flow\" value=\"");

    ck_assert_ptr_nonnull(f);
    for (f += strlen("name=\"flow\" value=\""); *f != '"'; f++) {
        *f = '-';
    }
    return b;
}

START_TEST(test_PW_post_refusals_change_nothing)
{
    form_t f = get_form(T0);
    const char *ok = apr_psprintf(pool, "flow=%s&username=alice&password=right", f.flow);
    const char *ct = "application/x-www-form-urlencoded";
    af_effects_t *e;

    e = post(T0, f.cookie, ok, site->base_url, "multipart/form-data; boundary=x");
    ck_assert_int_eq(e->status, 415);
    e = post(T0, f.cookie, ok, "https://evil.example", ct);
    ck_assert_int_eq(e->status, 403);
    ck_assert_int_eq(e->reason, AF_ESESS_CROSS_SITE);
    e = post(T0, NULL, ok, site->base_url, ct); /* no flow cookie */
    ck_assert_int_eq(e->reason, AF_ESESS_LOGIN_FLOW);
    e = post(T0, f.cookie, "flow=nope&username=alice&password=right", site->base_url, ct);
    ck_assert_int_eq(e->reason, AF_ESESS_LOGIN_FLOW);
    e = post(T0, f.cookie, apr_pstrcat(pool, ok, "&password=x", NULL), site->base_url, ct);
    ck_assert_int_eq(e->reason, AF_EFORM_DUP);
    e = post(T0, f.cookie, apr_pstrcat(pool, ok, "&", NULL), site->base_url, ct);
    ck_assert_int_eq(e->reason, AF_EFORM_EMPTY);
    e = post(T0, f.cookie, apr_psprintf(pool, "flow=%s&username=&password=x", f.flow),
             site->base_url, ct);
    ck_assert_int_eq(e->reason, AF_ESESS_CREDENTIALS);
    ck_assert_int_eq(e->status, 400);
    e = post(T0, f.cookie, apr_psprintf(pool, "flow=%s&username=alice", f.flow), site->base_url,
             ct);
    ck_assert_int_eq(e->reason, AF_ESESS_CREDENTIALS);
    /* nothing reached the check, and the flow is still unused */
    ck_assert_int_eq(checks, 0);
    e = post(T0, f.cookie, ok, site->base_url, ct);
    ck_assert_int_eq(e->status, 303);
    ck_assert_str_eq(e->location, "https://app.example.com/app/x");
    ck_assert_int_eq(login_cookies(e), 2);
    ck_assert_int_eq(checks, 1);
    /* the same form again: single use */
    e = post(T0, f.cookie, ok, site->base_url, ct);
    ck_assert_int_eq(e->reason, AF_ESTORE_REPLAY);
    ck_assert_int_eq(login_cookies(e), 0);
}
END_TEST

START_TEST(test_PW_wrong_and_unknown_same_answer)
{
    af_effects_t *w = try_login(T0, "alice", "wrong"), *u = try_login(T0, "mallory", "wrong");

    ck_assert_int_eq(w->status, 403);
    ck_assert_int_eq(u->status, 403);
    ck_assert_int_eq(w->reason, AF_ESESS_LOGIN_FAILED);
    ck_assert_int_eq(u->reason, AF_ESESS_LOGIN_FAILED);
    ck_assert_str_eq(masked(w->body), masked(u->body));
    ck_assert_int_eq(w->retry_after, u->retry_after);
    ck_assert_int_eq(login_cookies(w) + login_cookies(u), 0);
    ck_assert_int_eq(w->cookies->nelts, 1); /* the flow cookie with a new flow */
    ck_assert_int_eq(u->cookies->nelts, 1);
}
END_TEST

START_TEST(test_PW_throttle_refuses_the_right_password)
{
    af_effects_t *e;
    int before;

    ck_assert_int_eq(try_login(T0, "alice", "wrong1")->status, 403);
    ck_assert_int_eq(try_login(T0 + 60, "ALICE", "wrong2")->status, 403); /* case folded */
    before = checks;
    e = try_login(T0 + 120, "alice", "right");
    ck_assert_int_eq(e->status, 429);
    ck_assert_int_eq(e->reason, AF_ESESS_THROTTLED);
    ck_assert_int_eq(e->retry_after, 600 - 120); /* the window opened at the first failure */
    ck_assert_int_eq(checks, before);            /* no password was checked */
    ck_assert_int_eq(login_cookies(e), 0);
    /* the address is at its limit too: another account from it is refused */
    ck_assert_int_eq(try_login(T0 + 120, "mallory", "x")->status, 429);
    /* the window is over */
    e = try_login(T0 + 601, "alice", "right");
    ck_assert_int_eq(e->status, 303);
}
END_TEST

START_TEST(test_PW_provider_error_is_503_and_not_counted)
{
    af_effects_t *e;
    int i;

    for (i = 0; i < 3; i++) {
        e = try_login(T0, "bob", "whatever");
        ck_assert_int_eq(e->status, 503);
        ck_assert_int_eq(e->reason, AF_ESESS_AUTHN_ERROR);
    }
    e = try_login(T0, "alice", "right"); /* three errors, no failure counted */
    ck_assert_int_eq(e->status, 303);
}
END_TEST

START_TEST(test_PW_granted_login_claims)
{
    af_effects_t *e = try_login(T0, "alice", "right");
    json_t *claims = NULL;
    const char *at = NULL;
    int i;

    ck_assert_int_eq(e->status, 303);
    for (i = 0; i < e->cookies->nelts; i++) {
        const char *c = APR_ARRAY_IDX(e->cookies, i, const char *);
        if (strncmp(c, "__Host-authflow-at=", 19) == 0) {
            at = apr_pstrndup(pool, c + 19, strcspn(c + 19, ";"));
        }
    }
    ck_assert_ptr_nonnull(at);
    ck_assert_int_eq(af_session_verify_own(&claims, site, at, strlen(at), T0, pool), APR_SUCCESS);
    ck_assert_str_eq(json_string_value(json_object_get(claims, "sub")), "alice@staff");
    ck_assert_str_eq(json_string_value(json_object_get(claims, "idp")), "staff");
    ck_assert_str_eq(json_string_value(json_object_get(claims, "email")), "alice@example.org");
}
END_TEST

START_TEST(test_PW_provider_config)
{
    af_oidc_provider_t *p = af_oidc_provider_make("x", pool);

    ck_assert_ptr_null(
        af_oidc_provider_key(p, "Type", 1, (const char *[]){"password"}, NULL, NULL, pool));
    ck_assert_str_eq(af_oidc_provider_check(p, pool),
                     "Type password needs AuthnProvider (httpd authn providers: file, dbd, ldap, "
                     "an <AuthnProviderAlias> name ...)");
    ck_assert_ptr_nonnull(
        af_oidc_provider_key(p, "Throttle", 2, (const char *[]){"0", "1m"}, NULL, NULL, pool));
    ck_assert_ptr_nonnull(
        af_oidc_provider_key(p, "Throttle", 2, (const char *[]){"5", "2d"}, NULL, NULL, pool));
    ck_assert_ptr_nonnull(
        af_oidc_provider_key(p, "Throttle", 1, (const char *[]){"5"}, NULL, NULL, pool));
    ck_assert_ptr_nonnull(
        af_oidc_provider_key(p, "AuthnProvider", 1, (const char *[]){"a b"}, NULL, NULL, pool));
    ck_assert_ptr_null(af_oidc_provider_key(p, "AuthnProvider", 2, (const char *[]){"file", "dbd"},
                                            NULL, NULL, pool));
    ck_assert_ptr_null(af_oidc_provider_check(p, pool));
    ck_assert_int_eq(p->throttle_n, AF_OIDC_THROTTLE_N); /* the default */
    ck_assert_int_eq(p->throttle_window, AF_OIDC_THROTTLE_WINDOW);
    ck_assert_ptr_null(
        af_oidc_provider_key(p, "ClientID", 1, (const char *[]){"c"}, NULL, NULL, pool));
    ck_assert_str_eq(af_oidc_provider_check(p, pool), "ClientID has no meaning for Type password");
    /* throttle keys: keyed, per kind and provider, user names case-folded */
    ck_assert_str_eq(af_session_throttle_key(site, 'u', "staff", "Alice", pool),
                     af_session_throttle_key(site, 'u', "staff", "alice", pool));
    ck_assert_str_ne(af_session_throttle_key(site, 'u', "staff", "alice", pool),
                     af_session_throttle_key(site, 'a', "staff", "alice", pool));
    ck_assert_str_ne(af_session_throttle_key(site, 'u', "staff", "alice", pool),
                     af_session_throttle_key(site, 'u', "other", "alice", pool));
    ck_assert_ptr_null(strstr(af_session_throttle_key(site, 'u', "staff", "alice", pool), "alice"));
}
END_TEST

START_TEST(test_PW_route_post_login)
{
    af_endpoint_t ep = 0;
    const char *allow = NULL;

    ck_assert_int_eq(af_session_route(&ep, &allow, site, "/auth/login", "POST"), APR_SUCCESS);
    ck_assert_int_eq(ep, AF_EP_PASSWORD);
    ck_assert_int_eq(af_session_route(&ep, &allow, site, "/auth/login", "GET"), APR_SUCCESS);
    ck_assert_int_eq(ep, AF_EP_LOGIN);
    pv->kind = AF_OIDC_KIND_OIDC; /* a site without a password provider: no form to post */
    ck_assert_int_eq(af_session_route(&ep, &allow, site, "/auth/login", "POST"), AF_ESESS_METHOD);
    ck_assert_str_eq(allow, "GET, HEAD");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("test_password");
    TCase *tc = tcase_create("password");

    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_PW_post_refusals_change_nothing);
    tcase_add_test(tc, test_PW_wrong_and_unknown_same_answer);
    tcase_add_test(tc, test_PW_throttle_refuses_the_right_password);
    tcase_add_test(tc, test_PW_provider_error_is_503_and_not_counted);
    tcase_add_test(tc, test_PW_granted_login_claims);
    tcase_add_test(tc, test_PW_provider_config);
    tcase_add_test(tc, test_PW_route_post_login);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return af_test_run(suite());
}
