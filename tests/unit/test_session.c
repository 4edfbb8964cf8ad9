/* test_session.c -- src/session without httpd: return_to (D08), same-origin (F07/F08),
 * strict query/form parsing (H10, D03), cookies (F01), routing (D09), every branch of the
 * gate's decision (DENY, refresh inline, pending delivery, revocation, 503), rotation
 * outcomes at the refresh endpoint (G02, G03, G07, G08, G10), against real LMDB. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <apr_strings.h>

#include "common/af_cookie.h"
#include "common/af_form.h"
#include "common/af_json.h"
#include "common/af_url.h"
#include "jose/af_jose_errors.h"
#include "session/af_session.h"
#include "session/af_tcache.h"
#include "af_testsite.h"
#include "af_testutil.h"
#include "store_testutil.h"

#define T0 1700000000LL

static apr_pool_t *pool;
static char dir[64];
static af_site_t *site;
static af_site_rt_t rt;
static af_key_t *key;

static af_site_t *make_site(apr_pool_t *p)
{
    af_site_t *s = af_test_site(key, &rt, p);

    s->return_to = apr_array_make(p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(s->return_to, const char *) = "https://allowed.example";
    return s;
}

static void setup(void)
{
    pool = af_test_pool();
    ck_assert_int_eq(af_key_generate(&key, AF_ALG_ES256, "k1", pool), APR_SUCCESS);
    af_test_rt_open(&rt, dir, sizeof(dir), "af_sess", pool);
    ck_assert_int_eq(af_tcache_create(&rt.tcache, pool), APR_SUCCESS);
    site = make_site(pool);
}

static void teardown(void)
{
    af_test_rt_close(&rt, dir);
    apr_pool_destroy(pool);
}

static af_req_in_t req(apr_int64_t now, const char *cookie)
{
    af_req_in_t in;

    memset(&in, 0, sizeof(in));
    in.now = now;
    in.method = "GET";
    in.cookie = cookie;
    in.orig_unparsed_uri = "/app/page?x=1";
    in.orig_uri = "/app/page";
    return in;
}

/* A login in the store and its cookies: "at=...; rt=..." (at minted at now). */
static const char *login_cookies(const char **sid, const char **at, const char **rtok,
                                 apr_int64_t now)
{
    af_store_family_t *fam;
    const char *r, *a;

    ck_assert_int_eq(af_test_family_create(&fam, &r, rt.store, "alice@idp", "idp",
                                           "{\"sub\":\"alice\",\"email\":\"a@example.com\"}", now,
                                           site->refresh_ttl, 0, pool),
                     APR_SUCCESS);
    ck_assert_int_eq(
        af_session_mint(&a, site, "alice@idp", fam->sid, "idp",
                        af_json_pool_own(
                            json_pack("{s:s,s:s}", "sub", "alice", "email", "a@example.com"), pool),
                        now, pool),
        APR_SUCCESS);
    *sid = fam->sid;
    if (at) {
        *at = a;
    }
    if (rtok) {
        *rtok = r;
    }
    return apr_psprintf(pool, "%s=%s; %s=%s", site->cookie_at, a, site->cookie_rt, r);
}

static af_gate_opts_t opts(void)
{
    af_gate_opts_t o;

    memset(&o, 0, sizeof(o));
    o.check_revocation = 1;
    o.refresh = 1;
    return o;
}

static int has_cookie(const af_effects_t *eff, const char *prefix)
{
    int i;

    for (i = 0; i < eff->cookies->nelts; i++) {
        if (strncmp(APR_ARRAY_IDX(eff->cookies, i, const char *), prefix, strlen(prefix)) == 0) {
            return 1;
        }
    }
    return 0;
}

/* ---- D08: return_to ------------------------------------------------------------------------ */

START_TEST(test_D08_return_to)
{
    static const char *const bad[] = {"//evil.example/x",
                                      "/\\evil.example",
                                      "https://evil.example/",
                                      "javascript:alert(1)",
                                      "http://app.example.com/", /* another scheme */
                                      "https://app.example.com.evil.example/",
                                      "https://app.example.com@evil.example/",
                                      "https://evil.example\\@app.example.com/",
                                      "/a b",
                                      "/a\tb",
                                      "/a\r\nLocation: x",
                                      "data:text/html,x",
                                      "",
                                      "relative/path",
                                      NULL};
    char big[AF_SESSION_RETURN_TO_MAX + 2];
    int i;

    for (i = 0; bad[i] != NULL; i++) {
        ck_assert_msg(strcmp(af_session_return_to(site, bad[i], pool), "/") == 0, "%s", bad[i]);
    }
    ck_assert_str_eq(af_session_return_to(site, NULL, pool), "/");
    memset(big, 'a', sizeof(big));
    big[0] = '/';
    big[sizeof(big) - 1] = '\0';
    ck_assert_str_eq(af_session_return_to(site, big, pool), "/");
    ck_assert_str_eq(af_session_return_to(site, "/app/x?y=1", pool), "/app/x?y=1");
    ck_assert_str_eq(af_session_return_to(site, "https://app.example.com/a", pool),
                     "https://app.example.com/a");
    ck_assert_str_eq(af_session_return_to(site, "HTTPS://APP.example.com/a", pool),
                     "HTTPS://APP.example.com/a");
    ck_assert_str_eq(af_session_return_to(site, "https://allowed.example?q", pool),
                     "https://allowed.example/?q");
    ck_assert_str_eq(af_session_return_url(site, "/p", pool), "https://app.example.com/p");
    ck_assert_str_eq(af_session_return_url(site, "https://allowed.example/x", pool),
                     "https://allowed.example/x");
}
END_TEST

START_TEST(test_D13_request_target_and_login_url)
{
    af_req_in_t in = req(T0, NULL);

    in.orig_unparsed_uri = "/app/p?access_token=x&a=1&code=c&ID_TOKEN=i#frag";
    ck_assert_str_eq(af_session_request_target(&in, pool), "/app/p?a=1");
    in.orig_unparsed_uri = "//evil/x";
    in.orig_uri = "/safe";
    in.orig_args = "q=1";
    ck_assert_str_eq(af_session_request_target(&in, pool), "/safe?q=1");
    in.orig_uri = "/\\evil";
    ck_assert_str_eq(af_session_request_target(&in, pool), "/");
    ck_assert_str_eq(af_session_login_url(site, NULL, "/a?b=1", pool),
                     "https://app.example.com/auth/login?return_to=%2Fa%3Fb%3D1");
    ck_assert_str_eq(af_session_login_url(site, "kakao", "/", pool),
                     "https://app.example.com/auth/login?provider=kakao&return_to=%2F");
    ck_assert_str_eq(af_session_login_url(site, "https://sso.example/in?x=1", "/", pool),
                     "https://sso.example/in?x=1&return_to=%2F");
}
END_TEST

/* ---- F07/F08: same origin -------------------------------------------------------------------- */

START_TEST(test_F07_same_origin)
{
    ck_assert(af_session_same_origin(site, "https://app.example.com", NULL));
    ck_assert(af_session_same_origin(site, "https://APP.example.com", "same-origin"));
    ck_assert(!af_session_same_origin(site, "https://app.example.com", "cross-site"));
    ck_assert(!af_session_same_origin(site, "https://app.example.com", "same-site"));
    ck_assert(!af_session_same_origin(site, "https://app.example.com", "none"));
    ck_assert(!af_session_same_origin(site, "https://evil.example", NULL));
    ck_assert(!af_session_same_origin(site, "https://app.example.com:444", NULL));
    ck_assert(!af_session_same_origin(site, "http://app.example.com", NULL));
    ck_assert(!af_session_same_origin(site, "https://app.example.com.evil", NULL));
    /* no Origin, or "null" (after a no-referrer page): Sec-Fetch-Site decides */
    ck_assert(!af_session_same_origin(site, NULL, NULL));
    ck_assert(!af_session_same_origin(site, "null", NULL));
    ck_assert(af_session_same_origin(site, NULL, "same-origin"));
    ck_assert(af_session_same_origin(site, "null", "same-origin"));
    ck_assert(!af_session_same_origin(site, "null", "cross-site"));
}
END_TEST

/* ---- H10/D03: strict query and form parsing ----------------------------------------------------
 */

START_TEST(test_H10_form_parsing)
{
    static const char *const keys[] = {"a", "b"};
    const char *v[2];
    apr_array_header_t *pairs;
    char *many;
    int i;

    ck_assert_int_eq(af_form_get(v, keys, 2, "a=1&b=x+y%21&c", pool), APR_SUCCESS);
    ck_assert_str_eq(v[0], "1");
    ck_assert_str_eq(v[1], "x y!");
    ck_assert_int_eq(af_form_get(v, keys, 2, "", pool), APR_SUCCESS);
    ck_assert_ptr_null(v[0]);
    ck_assert_int_eq(af_form_get(v, keys, 2, NULL, pool), APR_SUCCESS);
    ck_assert_int_eq(af_form_get(v, keys, 2, "a", pool), APR_SUCCESS);
    ck_assert_str_eq(v[0], "");
    /* duplicates of a wanted key: never pick one of two */
    ck_assert_int_eq(af_form_get(v, keys, 2, "a=1&a=2", pool), AF_EFORM_DUP);
    ck_assert_ptr_null(v[0]);
    ck_assert_int_eq(af_form_get(v, keys, 2, "a=1&%61=2", pool), AF_EFORM_DUP);
    ck_assert_int_eq(af_form_get(v, keys, 2, "c=1&c=2", pool), APR_SUCCESS); /* not wanted */
    /* empty pairs, bad escapes, NUL */
    ck_assert_int_eq(af_form_get(v, keys, 2, "&&&", pool), AF_EFORM_EMPTY);
    ck_assert_int_eq(af_form_get(v, keys, 2, "a=1&", pool), AF_EFORM_EMPTY);
    ck_assert_int_eq(af_form_get(v, keys, 2, "a=%4", pool), AF_EFORM_ESCAPE);
    ck_assert_int_eq(af_form_get(v, keys, 2, "a=%zz", pool), AF_EFORM_ESCAPE);
    ck_assert_int_eq(af_form_get(v, keys, 2, "a=%00", pool), AF_EFORM_ESCAPE);
    ck_assert_int_eq(af_form_get(v, keys, 2, "a%=1", pool), AF_EFORM_ESCAPE);
    /* limits */
    many = apr_pstrdup(pool, "x=1");
    for (i = 1; i < AF_FORM_MAX_PARAMS; i++) {
        many = apr_pstrcat(pool, many, "&x=1", NULL);
    }
    ck_assert_int_eq(af_form_get(v, keys, 2, many, pool), APR_SUCCESS);
    ck_assert_int_eq(af_form_get(v, keys, 2, apr_pstrcat(pool, many, "&y", NULL), pool),
                     AF_EFORM_LIMIT);
    ck_assert_int_eq(af_form_parse(&pairs, "a=12345", 8, 4, 0, pool), AF_ETOOBIG);
    ck_assert_int_eq(af_form_parse(&pairs, "a=1&b=2", 8, 64, 0, pool), APR_SUCCESS);
    ck_assert_int_eq(af_form_parse(&pairs, "a=1&&b=2&", 8, 64, 0, pool), AF_EFORM_EMPTY);
    ck_assert_int_eq(af_form_parse(&pairs, "a=1&&b=2&", 8, 64, AF_FORM_SKIP_EMPTY, pool),
                     APR_SUCCESS);
    ck_assert_int_eq(pairs->nelts, 2);
    ck_assert_int_eq(af_form_parse(&pairs, "&&a&b&c", 2, 64, AF_FORM_SKIP_EMPTY, pool),
                     AF_EFORM_LIMIT);
    ck_assert_int_eq(pairs->nelts, 2);
    ck_assert_int_eq(af_session_status(AF_EFORM_DUP), 400);
    ck_assert_str_eq(af_strerror(AF_EFORM_DUP), "duplicate_parameter");
}
END_TEST

/* ---- F01 cookies, D09 routing, the error table ------------------------------------------------
 */

START_TEST(test_F01_set_cookie_and_routing)
{
    af_endpoint_t ep;
    const char *allow;

    ck_assert_str_eq(af_session_set_cookie(site, "__Host-authflow-at", "v", 600, 0, pool),
                     "__Host-authflow-at=v; Path=/; Max-Age=600; HttpOnly; Secure; SameSite=Lax");
    site->samesite = "Strict";
    ck_assert_str_eq(af_session_set_cookie(site, "n", NULL, 600, 0, pool),
                     "n=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict");
    ck_assert_str_eq(af_session_set_cookie(site, "n", "v", -5, 1, pool),
                     "n=v; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax");
    ck_assert_int_eq(af_session_route(&ep, &allow, site, "/auth/callback", "GET"), APR_SUCCESS);
    ck_assert_int_eq(ep, AF_EP_CALLBACK);
    ck_assert_int_eq(af_session_route(&ep, &allow, site, "/auth/refresh", "POST"), APR_SUCCESS);
    ck_assert_int_eq(af_session_route(&ep, &allow, site, "/auth/refresh", "GET"), AF_ESESS_METHOD);
    ck_assert_str_eq(allow, "POST");
    ck_assert_int_eq(af_session_route(&ep, &allow, site, "/auth/logout", "PUT"), AF_ESESS_METHOD);
    ck_assert_int_eq(af_session_route(&ep, &allow, site, "/auth/login", "HEAD"), APR_SUCCESS);
    ck_assert_int_eq(af_session_route(&ep, &allow, site, "/auth/callback/x", "GET"),
                     AF_ESESS_NOT_FOUND);
    ck_assert_int_eq(af_session_route(&ep, &allow, site, "/auth/callback;x", "GET"),
                     AF_ESESS_NOT_FOUND);
    ck_assert_int_eq(af_session_route(&ep, &allow, site, "/auth//callback", "GET"),
                     AF_ESESS_NOT_FOUND);
    ck_assert_int_eq(af_session_route(&ep, &allow, site, "/authx/login", "GET"),
                     AF_ESESS_NOT_FOUND);
    /* E20: backchannel/NAME, POST only, NAME one segment (checked by the endpoint) */
    ck_assert_int_eq(af_session_route(&ep, &allow, site, "/auth/backchannel/op", "POST"),
                     APR_SUCCESS);
    ck_assert_int_eq(ep, AF_EP_BACKCHANNEL);
    ck_assert_int_eq(af_session_route(&ep, &allow, site, "/auth/backchannel/op", "GET"),
                     AF_ESESS_METHOD);
    ck_assert_str_eq(allow, "POST");
    ck_assert_int_eq(af_session_route(&ep, &allow, site, "/auth/backchannel/", "POST"),
                     AF_ESESS_NOT_FOUND);
    ck_assert_int_eq(af_session_route(&ep, &allow, site, "/auth/backchannel/op/x", "POST"),
                     AF_ESESS_NOT_FOUND);
    ck_assert_int_eq(af_session_route(&ep, &allow, site, "/auth/backchannel", "POST"),
                     AF_ESESS_NOT_FOUND);
    ck_assert_int_eq(af_session_status(AF_EOIDC_LOGOUT_SIG), 400);
    ck_assert_int_eq(af_session_status(AF_ESESS_BCL_REPLAY), 400);
    ck_assert_int_eq(af_session_status(AF_ESESS_STORE), 503);
    ck_assert_int_eq(af_session_status(AF_ESTORE_FULL), 503);
    ck_assert_int_eq(af_session_status(AF_ESESS_CROSS_SITE), 403);
    ck_assert_int_eq(af_session_status(AF_EJWT_EXP), 401);
    ck_assert_int_eq(af_session_status(AF_EOIDC_IDP_TIMEOUT), 504);
    ck_assert_int_eq(af_session_status(AF_ESTORE_REPLAY), 400);
    ck_assert_str_eq(af_strerror(AF_ESESS_NO_TOKEN), "no_token");
}
END_TEST

/* ---- the gate ----------------------------------------------------------------------------------
 */

START_TEST(test_gate_accepts_and_caches)
{
    af_gate_opts_t o = opts();
    af_policy_path_t *path;
    const char *err;
    af_gate_t *g;
    const char *sid, *at;
    af_req_in_t in = req(T0, login_cookies(&sid, &at, NULL, T0));

    ck_assert_int_eq(af_session_gate(&g, site, &o, &in, NULL, 0, pool), APR_SUCCESS);
    ck_assert_str_eq(g->user, "alice@idp");
    ck_assert_str_eq(g->issuer, site->issuer);
    ck_assert_int_eq(g->src, AF_FROM_COOKIE);
    ck_assert_int_eq(g->cached, 0);
    ck_assert_int_eq(g->eff->cookies->nelts, 0);
    ck_assert_int_eq(af_session_gate(&g, site, &o, &in, NULL, 0, pool), APR_SUCCESS);
    ck_assert_int_eq(g->cached, 1);
    /* Bearer, and the user claim */
    in.cookie = NULL;
    in.authorization = apr_pstrcat(pool, "Bearer ", at, NULL);
    ck_assert_int_eq(af_policy_path_compile(&path, &err, "email", pool), APR_SUCCESS);
    o.user_path = path;
    ck_assert_int_eq(af_session_gate(&g, site, &o, &in, NULL, 0, pool), APR_SUCCESS);
    ck_assert_str_eq(g->user, "a@example.com");
    ck_assert_int_eq(g->src, AF_FROM_BEARER);
    ck_assert_int_eq(af_policy_path_compile(&path, &err, "missing", pool), APR_SUCCESS);
    o.user_path = path;
    ck_assert_int_eq(af_session_gate(&g, site, &o, &in, NULL, 0, pool), AF_ESESS_USER_CLAIM);
    ck_assert_ptr_null(g->claims);
    /* an inherited token (internal redirect) is used as is */
    o.user_path = NULL;
    in.authorization = NULL;
    ck_assert_int_eq(af_session_gate(&g, site, &o, &in, at, AF_FROM_BEARER, pool), APR_SUCCESS);
    ck_assert_int_eq(g->src, AF_FROM_BEARER);
}
END_TEST

START_TEST(test_gate_deny_reasons)
{
    af_gate_opts_t o = opts();
    af_gate_t *g;
    af_req_in_t in = req(T0, NULL);
    char big[9000];

    ck_assert_int_eq(af_session_gate(&g, site, &o, &in, NULL, 0, pool), AF_ESESS_NO_TOKEN);
    ck_assert_int_eq(g->src, 0);
    in.authorization = "Bearer a b";
    ck_assert_int_eq(af_session_gate(&g, site, &o, &in, NULL, 0, pool), AF_ESESS_BEARER);
    in.authorization = "Basic YTpi";
    ck_assert_int_eq(af_session_gate(&g, site, &o, &in, NULL, 0, pool), AF_ESESS_NO_TOKEN);
    in.authorization = NULL;
    in.cookie = "__Host-authflow-at=1; __Host-authflow-at=2";
    ck_assert_int_eq(af_session_gate(&g, site, &o, &in, NULL, 0, pool), AF_ECOOKIE);
    memset(big, 'a', sizeof(big));
    memcpy(big, "Bearer ", 7);
    big[sizeof(big) - 1] = '\0';
    in.cookie = NULL;
    in.authorization = big;
    ck_assert_int_eq(af_session_gate(&g, site, &o, &in, NULL, 0, pool), AF_ESESS_TOKEN_TOO_LARGE);
    in.authorization = "Bearer x.y.z";
    ck_assert_int_ne(af_session_gate(&g, site, &o, &in, NULL, 0, pool), APR_SUCCESS);
    /* only cookie configured: a Bearer header is not a token */
    o.n_from = 1;
    o.from[0] = AF_FROM_COOKIE;
    ck_assert_int_eq(af_session_gate(&g, site, &o, &in, NULL, 0, pool), AF_ESESS_NO_TOKEN);
}
END_TEST

START_TEST(test_gate_revocation_and_store_failure)
{
    af_gate_opts_t o = opts();
    af_gate_t *g;
    const char *sid;
    af_req_in_t in = req(T0, login_cookies(&sid, NULL, NULL, T0));
    af_effects_t *eff;

    ck_assert_int_eq(af_store_family_revoke(rt.store, sid, T0, pool), APR_SUCCESS);
    ck_assert_int_eq(af_session_gate(&g, site, &o, &in, NULL, 0, pool), AF_ESESS_LOGIN_REVOKED);
    o.check_revocation = 0;
    ck_assert_int_eq(af_session_gate(&g, site, &o, &in, NULL, 0, pool), APR_SUCCESS);
    /* G10: the store cannot be read in this process: 503, never a login loop */
    o.check_revocation = 1;
    rt.tcache = NULL;
    {
        af_store_t *keep = rt.store;

        rt.store = NULL;
        ck_assert_int_eq(af_session_gate(&g, site, &o, &in, NULL, 0, pool), AF_ESESS_STORE);
        eff = af_effects_make(pool);
        in.sec_fetch_mode = "navigate";
        af_session_gate_fail(eff, site, &o, &in, g->reason, pool);
        ck_assert_int_eq(eff->status, 503);
        ck_assert_ptr_null(eff->location);
        ck_assert_int_eq(eff->retry_after, 5);
        ck_assert_ptr_nonnull(strstr(eff->body, "store_unavailable"));
        rt.store = keep;
    }
}
END_TEST

/* Issue 12: a revocation this process makes (logout, D14, G08) is in its revocation view at
 * once; the gate's check goes through the view when the site has one. */
START_TEST(test_revocation_view_notes_own_revocations)
{
    af_revview_t *v = NULL;
    af_revview_stats_t st;
    af_gate_opts_t o = opts();
    af_gate_t *g;
    const char *sid, *other;
    af_req_in_t in = req(T0, login_cookies(&sid, NULL, NULL, T0));

    login_cookies(&other, NULL, NULL, T0);
    ck_assert_int_eq(af_revview_create(&v, 60, 3600, pool), APR_SUCCESS);
    rt.revview = v;
    rt.tcache = NULL;
    ck_assert_int_eq(af_session_gate(&g, site, &o, &in, NULL, 0, pool), APR_SUCCESS);
    ck_assert_int_eq(af_session_revoke(site, rt.store, sid, T0, pool), APR_SUCCESS);
    af_revview_stats(&st, v);
    ck_assert_uint_eq(st.entries, 1);
    ck_assert_int_eq(af_session_is_revoked(site, rt.store, sid, T0), AF_ESTORE_REVOKED);
    ck_assert_int_eq(af_session_is_revoked(site, rt.store, other, T0), APR_SUCCESS);
    ck_assert_int_eq(af_session_gate(&g, site, &o, &in, NULL, 0, pool), AF_ESESS_LOGIN_REVOKED);
    rt.revview = NULL;
}
END_TEST

START_TEST(test_gate_fail_answers)
{
    af_gate_opts_t o = opts();
    af_req_in_t in = req(T0, NULL);
    af_effects_t *eff = af_effects_make(pool);

    in.sec_fetch_mode = "navigate";
    af_session_gate_fail(eff, site, &o, &in, AF_ESESS_NO_TOKEN, pool);
    ck_assert_int_eq(eff->status, 302);
    ck_assert_str_eq(eff->location,
                     "https://app.example.com/auth/login?return_to=%2Fapp%2Fpage%3Fx%3D1");
    /* API call: 401, no error code without a token (RFC 6750 3.1) */
    eff = af_effects_make(pool);
    in.sec_fetch_mode = "cors";
    af_session_gate_fail(eff, site, &o, &in, AF_ESESS_NO_TOKEN, pool);
    ck_assert_int_eq(eff->status, 401);
    ck_assert_str_eq(eff->www_authenticate, "Bearer");
    ck_assert_ptr_nonnull(strstr(eff->body, "\"error\":\"no_token\""));
    eff = af_effects_make(pool);
    af_session_gate_fail(eff, site, &o, &in, AF_EJWT_EXP, pool);
    ck_assert_str_eq(eff->www_authenticate, "Bearer error=\"invalid_token\"");
    /* Accept: text/html without any Sec-Fetch-*: a navigation */
    eff = af_effects_make(pool);
    in.sec_fetch_mode = NULL;
    in.accept = "text/html,*/*";
    af_session_gate_fail(eff, site, &o, &in, AF_EJWT_EXP, pool);
    ck_assert_int_eq(eff->status, 302);
    in.sec_fetch_dest = "empty";
    eff = af_effects_make(pool);
    af_session_gate_fail(eff, site, &o, &in, AF_EJWT_EXP, pool);
    ck_assert_int_eq(eff->status, 401);
    /* modes */
    o.unauth = AF_UNAUTH_REDIRECT;
    eff = af_effects_make(pool);
    af_session_gate_fail(eff, site, &o, &in, AF_EJWT_EXP, pool);
    ck_assert_int_eq(eff->status, 302);
    o.unauth = AF_UNAUTH_401;
    in.sec_fetch_mode = "navigate";
    eff = af_effects_make(pool);
    af_session_gate_fail(eff, site, &o, &in, AF_EJWT_EXP, pool);
    ck_assert_int_eq(eff->status, 401);
}
END_TEST

START_TEST(test_gate_inline_refresh_pending)
{
    af_gate_opts_t o = opts();
    af_gate_t *g;
    const char *sid, *rtok;
    af_req_in_t in;
    af_store_family_t *fam;

    login_cookies(&sid, NULL, &rtok, T0);
    in = req(T0 + 100, apr_psprintf(pool, "%s=%s", site->cookie_rt, rtok));
    /* a subrequest never rotates */
    in.subrequest = 1;
    ck_assert_int_eq(af_session_gate(&g, site, &o, &in, NULL, 0, pool), AF_ESESS_NO_TOKEN);
    ck_assert_int_eq(g->eff->cookies->nelts, 0);
    in.subrequest = 0;
    /* AuthFlowRefresh off */
    o.refresh = 0;
    ck_assert_int_eq(af_session_gate(&g, site, &o, &in, NULL, 0, pool), AF_ESESS_NO_TOKEN);
    o.refresh = 1;
    ck_assert_int_eq(af_session_gate(&g, site, &o, &in, NULL, 0, pool), APR_SUCCESS);
    ck_assert_str_eq(g->refreshed_sid, sid);
    ck_assert(has_cookie(g->eff, "__Host-authflow-at="));
    ck_assert(has_cookie(g->eff, "__Host-authflow-rt="));
    ck_assert_int_eq(g->eff->cookies_always, 1);
    ck_assert_str_eq(g->eff->delivered_rt, rtok);
    /* another tab, long after the grace, before the answer went out: served, not revoked */
    in.now = T0 + 1000;
    ck_assert_int_eq(af_session_gate(&g, site, &o, &in, NULL, 0, pool), APR_SUCCESS);
    ck_assert_int_eq(af_store_family_get(&fam, rt.store, sid, pool), APR_SUCCESS);
    ck_assert_int_eq(fam->revoked, 0);
    /* delivered; after the grace a reuse revokes the login */
    ck_assert_int_eq(af_session_delivered(site, rtok, T0 + 1000), APR_SUCCESS);
    in.now = T0 + 1000 + site->reuse_grace + 1;
    ck_assert_int_ne(af_session_gate(&g, site, &o, &in, NULL, 0, pool), APR_SUCCESS);
    ck_assert(has_cookie(g->eff, "__Host-authflow-at=;"));
    ck_assert_int_eq(af_store_family_get(&fam, rt.store, sid, pool), APR_SUCCESS);
    ck_assert_int_eq(fam->revoked, 1);
}
END_TEST

START_TEST(test_gate_expired_token_refreshes_bearer_does_not)
{
    af_gate_opts_t o = opts();
    af_gate_t *g;
    const char *sid, *at, *rtok;
    af_req_in_t in;

    login_cookies(&sid, &at, &rtok, T0);
    in = req(T0 + 3600,
             apr_psprintf(pool, "%s=%s; %s=%s", site->cookie_at, at, site->cookie_rt, rtok));
    ck_assert_int_eq(af_session_gate(&g, site, &o, &in, NULL, 0, pool), APR_SUCCESS);
    ck_assert_ptr_nonnull(g->refreshed_sid);
    in = req(T0 + 3600, apr_psprintf(pool, "%s=%s", site->cookie_rt, rtok));
    in.authorization = apr_pstrcat(pool, "Bearer ", at, NULL);
    o.n_from = 1;
    o.from[0] = AF_FROM_BEARER;
    ck_assert_int_eq(af_session_gate(&g, site, &o, &in, NULL, 0, pool), AF_EJWT_EXP);
}
END_TEST

/* ---- the refresh endpoint -------------------------------------------------------------------- */

START_TEST(test_refresh_endpoint_outcomes)
{
    af_effects_t *eff = af_effects_make(pool);
    const char *sid, *at, *rtok;
    af_req_in_t in;

    login_cookies(&sid, &at, &rtok, T0);
    in = req(T0 + 10, apr_psprintf(pool, "%s=%s", site->cookie_rt, rtok));
    in.method = "POST";
    /* F07 */
    in.origin = "https://evil.example";
    af_session_refresh(eff, site, &in, pool);
    ck_assert_int_eq(eff->status, 403);
    ck_assert_int_eq(eff->cookies->nelts, 0);
    /* G02 */
    in.origin = site->base_url;
    eff = af_effects_make(pool);
    af_session_refresh(eff, site, &in, pool);
    ck_assert_int_eq(eff->status, 204);
    ck_assert_int_eq(eff->cookies->nelts, 2);
    ck_assert_ptr_null(eff->body);
    ck_assert_ptr_null(eff->delivered_rt); /* the endpoint's answer goes out at once */
    /* G03: after the grace, a reuse: 401, cookies cleared */
    in.now = T0 + 10 + site->reuse_grace + 1;
    eff = af_effects_make(pool);
    af_session_refresh(eff, site, &in, pool);
    ck_assert_int_eq(eff->status, 401);
    ck_assert_int_eq(eff->reason, AF_ESTORE_REUSE);
    ck_assert(has_cookie(eff, "__Host-authflow-rt=;"));
    /* no refresh cookie */
    in.cookie = NULL;
    eff = af_effects_make(pool);
    af_session_refresh(eff, site, &in, pool);
    ck_assert_int_eq(eff->status, 401);
    ck_assert_int_eq(eff->reason, AF_ESESS_NO_REFRESH);
    /* G10: no store in this process: 503, no cookie */
    login_cookies(&sid, &at, &rtok, T0);
    in.cookie = apr_psprintf(pool, "%s=%s", site->cookie_rt, rtok);
    {
        af_store_t *keep = rt.store;

        rt.store = NULL;
        eff = af_effects_make(pool);
        af_session_refresh(eff, site, &in, pool);
        ck_assert_int_eq(eff->status, 503);
        ck_assert_int_eq(eff->cookies->nelts, 0);
        rt.store = keep;
    }
}
END_TEST

START_TEST(test_G08_refresh_with_another_logins_access_token)
{
    af_effects_t *eff = af_effects_make(pool);
    const char *sid1, *sid2, *at1, *rt2;
    af_store_family_t *fam;
    af_req_in_t in;

    login_cookies(&sid1, &at1, NULL, T0);
    login_cookies(&sid2, NULL, &rt2, T0);
    in = req(T0 + 10,
             apr_psprintf(pool, "%s=%s; %s=%s", site->cookie_at, at1, site->cookie_rt, rt2));
    in.method = "POST";
    in.origin = site->base_url;
    af_session_refresh(eff, site, &in, pool);
    ck_assert_int_eq(eff->status, 401);
    ck_assert_int_eq(eff->reason, AF_ESTORE_REVOKED);
    ck_assert_int_eq(af_store_family_get(&fam, rt.store, sid2, pool), APR_SUCCESS);
    ck_assert_int_eq(fam->revoked, 1);
}
END_TEST

/* ---- metrics: what the core counts (src/common/af_metrics.h) ------------------------------ */

START_TEST(test_metrics_counted_by_the_core)
{
    void *mem = NULL;
    af_metrics_t *m;
    af_gate_opts_t o = opts();
    af_effects_t *eff;
    af_gate_t *g;
    const char *sid, *sid2, *at, *rtok, *rt2, *at1;
    af_req_in_t in;

    ck_assert_int_eq(posix_memalign(&mem, 64, af_metrics_size()), 0);
    m = af_metrics_init(mem, 0);
    site->metrics = m;
    /* the gate: a decision per client request, cache hits and misses */
    in = req(T0, NULL);
    af_session_gate(&g, site, &o, &in, NULL, 0, pool);
    in = req(T0, login_cookies(&sid, &at, &rtok, T0));
    ck_assert_int_eq(af_session_gate(&g, site, &o, &in, NULL, 0, pool), APR_SUCCESS);
    ck_assert_int_eq(af_session_gate(&g, site, &o, &in, NULL, 0, pool), APR_SUCCESS);
    in.derived = 1; /* the same request again after an internal redirect */
    ck_assert_int_eq(af_session_gate(&g, site, &o, &in, NULL, 0, pool), APR_SUCCESS);
    ck_assert_uint_eq(af_metrics_get_reason(m, AF_MR_GATE, AF_ESESS_NO_TOKEN), 1);
    ck_assert_uint_eq(af_metrics_get_reason(m, AF_MR_GATE, APR_SUCCESS), 2);
    ck_assert_uint_eq(af_metrics_get(m, AF_M_TCACHE_MISS), 1);
    ck_assert_uint_eq(af_metrics_get(m, AF_M_TCACHE_HIT), 2);
    /* an inline refresh (only the refresh cookie) */
    in = req(T0 + 5, apr_psprintf(pool, "%s=%s", site->cookie_rt, rtok));
    ck_assert_int_eq(af_session_gate(&g, site, &o, &in, NULL, 0, pool), APR_SUCCESS);
    ck_assert_uint_eq(af_metrics_get_reason(m, AF_MR_INLINE_REFRESH, APR_SUCCESS), 1);
    ck_assert_uint_eq(af_metrics_get_reason(m, AF_MR_GATE, APR_SUCCESS), 3);
    /* /refresh: the same (pending-delivery) token again, then a reuse after the grace */
    in.method = "POST";
    in.origin = site->base_url;
    eff = af_effects_make(pool);
    af_session_handle(eff, site, AF_EP_REFRESH, &in, pool);
    ck_assert_int_eq(eff->status, 204);
    ck_assert_uint_eq(af_metrics_get_reason(m, AF_MR_REFRESH, APR_SUCCESS), 1);
    in.now = T0 + 5 + site->reuse_grace + 1;
    af_session_delivered(site, rtok, T0 + 6);
    eff = af_effects_make(pool);
    af_session_handle(eff, site, AF_EP_REFRESH, &in, pool);
    ck_assert_int_eq(eff->reason, AF_ESTORE_REUSE);
    ck_assert_uint_eq(af_metrics_get_reason(m, AF_MR_REFRESH, AF_ESTORE_REUSE), 1);
    ck_assert_uint_eq(af_metrics_get(m, AF_M_REUSE), 1);
    /* G08: another login's access token with this refresh token: theft, one revocation */
    login_cookies(&sid, &at1, NULL, T0);
    login_cookies(&sid2, NULL, &rt2, T0);
    in.cookie = apr_psprintf(pool, "%s=%s; %s=%s", site->cookie_at, at1, site->cookie_rt, rt2);
    eff = af_effects_make(pool);
    af_session_handle(eff, site, AF_EP_REFRESH, &in, pool);
    ck_assert_int_eq(eff->reason, AF_ESTORE_REVOKED);
    ck_assert_uint_eq(af_metrics_get(m, AF_M_FOREIGN_AT), 1);
    ck_assert_uint_eq(af_metrics_get(m, AF_M_REVOCATIONS), 1);
    /* /login without a provider: a failure by reason, not a start */
    in = req(T0, NULL);
    eff = af_effects_make(pool);
    af_session_handle(eff, site, AF_EP_LOGIN, &in, pool);
    ck_assert_uint_eq(af_metrics_get_reason(m, AF_MR_LOGIN_FAILED, AF_ESESS_NO_PROVIDER), 1);
    ck_assert_uint_eq(af_metrics_get(m, AF_M_LOGINS_STARTED), 0);
    site->metrics = NULL;
    free(mem);
}
END_TEST

/* ---- D14 at a new login: a read-only lookup revokes the previous login -------------------- */

START_TEST(test_D14_revoke_current_reads_only)
{
    const char *sid, *rtok;
    af_store_family_t *fam;
    af_req_in_t in;

    af_store_stats_t before, after;
    const char *both;
    int i, n;

    login_cookies(&sid, NULL, &rtok, T0);
    in = req(T0 + 5, apr_psprintf(pool, "%s=%s", site->cookie_rt, rtok));
    ck_assert_int_eq(af_session_revoke_current(site, &in, rt.store, "logout", pool), APR_SUCCESS);
    ck_assert_int_eq(af_store_family_get(&fam, rt.store, sid, pool), APR_SUCCESS);
    ck_assert_int_eq(fam->revoked, 1);
    ck_assert_uint_eq(fam->generation, 1); /* nothing rotated to find the login */
    /* both cookies of one login: it is revoked once, not twice */
    both = login_cookies(&sid, NULL, NULL, T0);
    in = req(T0 + 5, both);
    ck_assert_int_eq(af_store_stats(&before, rt.store, T0 + 5), APR_SUCCESS);
    af_test_log_capture(AF_LOG_DEBUG);
    ck_assert_int_eq(af_session_revoke_current(site, &in, rt.store, "logout", pool), APR_SUCCESS);
    for (i = 0, n = 0; i < af_test_log_count(); i++) {
        n += strstr(af_test_log_line(i), "AF08022 login") != NULL &&
             strstr(af_test_log_line(i), "revoked (logout)") != NULL;
    }
    ck_assert_int_eq(n, 1); /* one line: the login was revoked once */
    af_log_set(NULL, NULL, 0);
    ck_assert_int_eq(af_store_stats(&after, rt.store, T0 + 5), APR_SUCCESS);
    ck_assert_uint_eq(after.revocations, before.revocations + 1);
}
END_TEST

/* ---- the flow cookie ---------------------------------------------------------------------------
 */

START_TEST(test_F10_flow_cookie_round_trip)
{
    apr_array_header_t *flows = apr_array_make(pool, 6, sizeof(af_oidc_flow_t *)), *back;
    const char *set, *value;
    af_oidc_flow_t *f;
    int i;

    for (i = 0; i < 6; i++) {
        ck_assert_int_eq(af_oidc_flow_new(&f, "idp", "/x", T0, pool), APR_SUCCESS);
        APR_ARRAY_PUSH(flows, af_oidc_flow_t *) = f;
    }
    ck_assert_int_eq(af_session_flows_cookie(&set, site, flows, T0, pool), APR_SUCCESS);
    value = strchr(set, '=') + 1;
    value = apr_pstrmemdup(pool, value, strcspn(value, ";"));
    back = af_session_flows_read(site, apr_pstrcat(pool, site->cookie_flow, "=", value, NULL),
                                 T0 + 1, pool);
    ck_assert_int_eq(back->nelts, AF_SESSION_FLOW_MAX); /* the newest four */
    ck_assert_ptr_nonnull(af_session_flow_take(back, f->state));
    ck_assert_int_eq(back->nelts, AF_SESSION_FLOW_MAX - 1);
    ck_assert_ptr_null(af_session_flow_take(back, f->state));
    /* too old, or another cookie name's blob */
    ck_assert_int_eq(af_session_flows_read(site,
                                           apr_pstrcat(pool, site->cookie_flow, "=", value, NULL),
                                           T0 + AF_SESSION_FLOW_MAX_AGE + 61, pool)
                         ->nelts,
                     0);
    ck_assert_int_eq(
        af_session_flows_read(site, apr_pstrcat(pool, "x=", value, NULL), T0, pool)->nelts, 0);
}
END_TEST

/* ---- one claim model: env, headers ----------------------------------------------------------- */

static const char *kv(const apr_array_header_t *a, const char *name, int to_header, int *found)
{
    int i;

    *found = 0;
    for (i = 0; i < a->nelts; i++) {
        const af_export_kv_t *e = &APR_ARRAY_IDX(a, i, af_export_kv_t);

        if (strcmp(e->name, name) == 0 && e->to_header == to_header) {
            *found = 1;
            return e->value;
        }
    }
    return NULL;
}

START_TEST(test_H05_exports_one_table)
{
    json_t *c = af_json_pool_own(json_pack("{s:s, s:s, s:i, s:s, s:[s,s], s:s, s:s, s:{s:s}}",
                                           "sub", "alice@idp", "idp", "idp", "exp", 1800000000,
                                           "email", "a@example.com", "groups", "ops", "dev", "a-b",
                                           "x", "bad", "x\r\ny", "org", "name", "ACME"),
                                 pool);
    apr_array_header_t *specs = apr_array_make(pool, 3, sizeof(af_export_spec_t)), *out;
    af_export_spec_t *e;
    af_policy_path_t *path;
    const char *err;
    int found;

    e = apr_array_push(specs);
    e->to_header = 1, e->name = "X-Org", e->sep = ",";
    ck_assert_int_eq(af_policy_path_compile(&path, &err, "org.name", pool), APR_SUCCESS);
    e->path = path;
    e = apr_array_push(specs);
    e->to_header = 1, e->name = "X-Groups", e->sep = ";";
    ck_assert_int_eq(af_policy_path_compile(&path, &err, "groups", pool), APR_SUCCESS);
    e->path = path;
    e = apr_array_push(specs);
    e->to_header = 0, e->name = "USER_PHONE", e->sep = ",";
    ck_assert_int_eq(af_policy_path_compile(&path, &err, "phone", pool), APR_SUCCESS);
    e->path = path;
    out = af_session_exports(c, "alice@idp", "https://app.example.com", 1, specs, pool);
    ck_assert_str_eq(kv(out, "REMOTE_USER", 0, &found), "alice@idp");
    ck_assert_str_eq(kv(out, "AUTHFLOW_SUB", 0, &found), "alice@idp");
    ck_assert_str_eq(kv(out, "AUTHFLOW_ISSUER", 0, &found), "https://app.example.com");
    ck_assert_str_eq(kv(out, "AUTHFLOW_PROVIDER", 0, &found), "idp");
    ck_assert_str_eq(kv(out, "AUTHFLOW_EXPIRES", 0, &found), "1800000000");
    ck_assert_str_eq(kv(out, "AUTHFLOW_CLAIM_A_B", 0, &found), "x");
    ck_assert_str_eq(kv(out, "AUTHFLOW_CLAIM_GROUPS", 0, &found), "ops,dev");
    kv(out, "AUTHFLOW_CLAIM_BAD", 0, &found);
    ck_assert_int_eq(found, 0); /* a control character: never exported, not even cut */
    ck_assert_str_eq(kv(out, "X-Org", 1, &found), "ACME");
    ck_assert_str_eq(kv(out, "X-Groups", 1, &found), "ops;dev");
    ck_assert_ptr_null(kv(out, "USER_PHONE", 0, &found));
    ck_assert_int_eq(found, 1); /* absent: removed, so a spoofed one cannot stay */
    out = af_session_exports(c, "alice@idp", "i", 0, NULL, pool);
    kv(out, "AUTHFLOW_CLAIM_EMAIL", 0, &found);
    ck_assert_int_eq(found, 0);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("test_session");
    TCase *tc = tcase_create("session");

    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_D08_return_to);
    tcase_add_test(tc, test_D13_request_target_and_login_url);
    tcase_add_test(tc, test_F07_same_origin);
    tcase_add_test(tc, test_H10_form_parsing);
    tcase_add_test(tc, test_F01_set_cookie_and_routing);
    tcase_add_test(tc, test_gate_accepts_and_caches);
    tcase_add_test(tc, test_gate_deny_reasons);
    tcase_add_test(tc, test_gate_revocation_and_store_failure);
    tcase_add_test(tc, test_revocation_view_notes_own_revocations);
    tcase_add_test(tc, test_gate_fail_answers);
    tcase_add_test(tc, test_gate_inline_refresh_pending);
    tcase_add_test(tc, test_gate_expired_token_refreshes_bearer_does_not);
    tcase_add_test(tc, test_refresh_endpoint_outcomes);
    tcase_add_test(tc, test_G08_refresh_with_another_logins_access_token);
    tcase_add_test(tc, test_metrics_counted_by_the_core);
    tcase_add_test(tc, test_D14_revoke_current_reads_only);
    tcase_add_test(tc, test_F10_flow_cookie_round_trip);
    tcase_add_test(tc, test_H05_exports_one_table);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return af_test_run(suite());
}
