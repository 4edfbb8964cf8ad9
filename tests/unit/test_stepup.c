/* test_stepup.c -- step-up (AuthFlowMaxAge, AuthFlowACR), CORS preflight and WebSocket
 * decisions of the session core, and the OIDC side of a step-up (the flow remembers what
 * was asked, the authorization request carries it, the callback requires it), against real
 * LMDB.  No httpd. */
#include <check.h>
#include <string.h>

#include <apr_strings.h>

#include "common/af_json.h"
#include "jose/af_jws.h"
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

static void setup(void)
{
    af_site_t *s;

    pool = af_test_pool();
    ck_assert_int_eq(af_key_generate(&key, AF_ALG_ES256, "k1", pool), APR_SUCCESS);
    af_test_rt_open(&rt, dir, sizeof(dir), "af_stepup", pool);
    ck_assert_int_eq(af_tcache_create(&rt.tcache, pool), APR_SUCCESS);
    s = af_test_site(key, &rt, pool);
    site = s;
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
    in.orig_unparsed_uri = "/admin/page";
    in.orig_uri = "/admin/page";
    return in;
}

static af_gate_opts_t opts(void)
{
    af_gate_opts_t o;

    memset(&o, 0, sizeof(o));
    o.check_revocation = 1;
    o.refresh = 1;
    return o;
}

/* A login whose snapshot is claims_json (as the callback stores it) and its cookies, the
 * access token minted at now from that snapshot (the one mint path). */
static const char *login(const char **at, const char **rtok, const char *claims_json,
                         apr_int64_t now)
{
    af_store_family_t *fam;
    json_t *claims = NULL;
    const char *r, *a;

    ck_assert_int_eq(af_test_family_create(&fam, &r, rt.store, "alice@idp", "idp", claims_json, now,
                                           site->refresh_ttl, 0, pool),
                     APR_SUCCESS);
    ck_assert_int_eq(af_json_parse(&claims, claims_json, strlen(claims_json), 0, pool),
                     APR_SUCCESS);
    ck_assert_int_eq(af_session_mint(&a, site, "alice@idp", fam->sid, "idp", claims, now, pool),
                     APR_SUCCESS);
    if (at) {
        *at = a;
    }
    if (rtok) {
        *rtok = r;
    }
    return apr_psprintf(pool, "%s=%s; %s=%s", site->cookie_at, a, site->cookie_rt, r);
}

static json_t *payload(const char *at)
{
    af_jws_t *jws = NULL;
    json_t *j = NULL;

    ck_assert_int_eq(af_jws_parse(&jws, at, strlen(at), AF_JWS_MAX_LEN, pool), APR_SUCCESS);
    ck_assert_int_eq(af_json_parse(&j, (const char *) jws->payload, jws->payload_len, 0, pool),
                     APR_SUCCESS);
    return j;
}

/* ---- the token carries the login's auth_time / acr / amr ------------------------------------ */

START_TEST(test_mint_always_carries_login_claims)
{
    const char *at;
    json_t *c;

    /* not in AuthFlowTokenClaims ("email" only), still copied */
    login(&at, NULL,
          "{\"sub\":\"alice\",\"email\":\"a@example.com\",\"auth_time\":1699990000,"
          "\"acr\":\"mfa\",\"amr\":[\"pwd\",\"otp\"],\"name\":\"Alice\"}",
          T0);
    c = payload(at);
    ck_assert_int_eq(json_integer_value(json_object_get(c, "auth_time")), 1699990000);
    ck_assert_str_eq(json_string_value(json_object_get(c, "acr")), "mfa");
    ck_assert_int_eq(json_array_size(json_object_get(c, "amr")), 2);
    ck_assert_ptr_null(json_object_get(c, "name"));
    ck_assert_str_eq(json_string_value(json_object_get(c, "email")), "a@example.com");
}
END_TEST

/* ---- AuthFlowMaxAge at the gate ------------------------------------------------------------- */

START_TEST(test_stepup_max_age_gate)
{
    af_gate_opts_t o = opts();
    af_gate_t *g;
    const char *ck;
    af_req_in_t in;

    /* authenticated at T0 - 1000; the token itself was minted at T0 (fresh) */
    ck = login(NULL, NULL, "{\"sub\":\"alice\",\"auth_time\":1699999000}", T0);
    in = req(T0, ck);
    ck_assert_int_eq(af_session_gate(&g, site, &o, &in, NULL, 0, pool), APR_SUCCESS);
    o.max_age = 2000;
    ck_assert_int_eq(af_session_gate(&g, site, &o, &in, NULL, 0, pool), APR_SUCCESS);
    ck_assert_int_eq(g->cached, 1);
    /* the boundary: auth_time + max_age + skew (60) */
    o.max_age = 940;
    ck_assert_int_eq(af_session_gate(&g, site, &o, &in, NULL, 0, pool), APR_SUCCESS);
    o.max_age = 939;
    ck_assert_int_eq(af_session_gate(&g, site, &o, &in, NULL, 0, pool), AF_ESESS_STEP_UP_MAX_AGE);
    ck_assert_ptr_null(g->claims);
    ck_assert_ptr_null(g->refreshed_sid); /* a refresh cannot make it younger: not tried */
    ck_assert_int_eq(g->eff->cookies->nelts, 0);
    /* the cache holds the verification, never the verdict: time moves, the same cached
     * token is refused */
    o.max_age = 2000;
    in.now = T0 + 500;
    ck_assert_int_eq(af_session_gate(&g, site, &o, &in, NULL, 0, pool), APR_SUCCESS);
    ck_assert_int_eq(g->cached, 1);
    o.max_age = 1400;
    ck_assert_int_eq(af_session_gate(&g, site, &o, &in, NULL, 0, pool), AF_ESESS_STEP_UP_MAX_AGE);
    /* a token without auth_time never satisfies a max_age */
    ck = login(NULL, NULL, "{\"sub\":\"alice\"}", T0);
    in = req(T0, ck);
    o.max_age = 315360000;
    ck_assert_int_eq(af_session_gate(&g, site, &o, &in, NULL, 0, pool), AF_ESESS_STEP_UP_MAX_AGE);
    o.max_age = 0; /* none */
    ck_assert_int_eq(af_session_gate(&g, site, &o, &in, NULL, 0, pool), APR_SUCCESS);
}
END_TEST

START_TEST(test_stepup_refresh_keeps_auth_time)
{
    af_gate_opts_t o = opts();
    af_gate_t *g;
    const char *at, *rtok;
    af_req_in_t in;
    json_t *c;
    int i, at_set = 0;

    login(&at, &rtok, "{\"sub\":\"alice\",\"auth_time\":1699999000,\"acr\":\"mfa\"}", T0);
    /* an hour later the access token expired: refreshed inline, the new one carries the
     * login's original auth_time and acr (not the refresh time) */
    in = req(T0 + 3600,
             apr_psprintf(pool, "%s=%s; %s=%s", site->cookie_at, at, site->cookie_rt, rtok));
    ck_assert_int_eq(af_session_gate(&g, site, &o, &in, NULL, 0, pool), APR_SUCCESS);
    ck_assert_ptr_nonnull(g->refreshed_sid);
    c = payload(g->token);
    ck_assert_int_eq(json_integer_value(json_object_get(c, "auth_time")), 1699999000);
    ck_assert_str_eq(json_string_value(json_object_get(c, "acr")), "mfa");
    ck_assert_int_gt(json_integer_value(json_object_get(c, "iat")), 1699999000 + 3000);
    /* with a max_age the refreshed token is still too old: step-up, and the rotation's
     * cookies still go out (committed; cookies_always) */
    login(&at, &rtok, "{\"sub\":\"alice\",\"auth_time\":1699999000}", T0);
    in = req(T0 + 3600,
             apr_psprintf(pool, "%s=%s; %s=%s", site->cookie_at, at, site->cookie_rt, rtok));
    o.max_age = 600;
    ck_assert_int_eq(af_session_gate(&g, site, &o, &in, NULL, 0, pool), AF_ESESS_STEP_UP_MAX_AGE);
    ck_assert_ptr_nonnull(g->refreshed_sid);
    ck_assert_int_eq(g->eff->cookies_always, 1);
    for (i = 0; i < g->eff->cookies->nelts; i++) {
        at_set |= strncmp(APR_ARRAY_IDX(g->eff->cookies, i, const char *), "__Host-authflow-at=v",
                          19) == 0;
    }
    ck_assert(at_set);
}
END_TEST

/* ---- AuthFlowACR at the gate ---------------------------------------------------------------- */

START_TEST(test_stepup_acr_gate)
{
    af_gate_opts_t o = opts();
    af_gate_t *g;
    af_req_in_t in = req(T0, login(NULL, NULL, "{\"sub\":\"alice\",\"acr\":\"mfa\"}", T0));

    o.acr_values = "hwk mfa";
    ck_assert_int_eq(af_session_gate(&g, site, &o, &in, NULL, 0, pool), APR_SUCCESS);
    o.acr_values = "hwk";
    ck_assert_int_eq(af_session_gate(&g, site, &o, &in, NULL, 0, pool), AF_ESESS_STEP_UP_ACR);
    o.acr_values = "mf"; /* exact values, not prefixes */
    ck_assert_int_eq(af_session_gate(&g, site, &o, &in, NULL, 0, pool), AF_ESESS_STEP_UP_ACR);
    o.acr_values = "MFA"; /* case-sensitive */
    ck_assert_int_eq(af_session_gate(&g, site, &o, &in, NULL, 0, pool), AF_ESESS_STEP_UP_ACR);
    in = req(T0, login(NULL, NULL, "{\"sub\":\"alice\"}", T0));
    o.acr_values = "mfa";
    ck_assert_int_eq(af_session_gate(&g, site, &o, &in, NULL, 0, pool), AF_ESESS_STEP_UP_ACR);
}
END_TEST

/* ---- the answers ---------------------------------------------------------------------------- */

START_TEST(test_stepup_answers_rfc9470)
{
    af_gate_opts_t o = opts();
    af_req_in_t in = req(T0, NULL);
    af_effects_t *eff = af_effects_make(pool);

    o.max_age = 300;
    o.login = "idp";
    in.sec_fetch_mode = "navigate";
    af_session_gate_fail(eff, site, &o, &in, AF_ESESS_STEP_UP_MAX_AGE, pool);
    ck_assert_int_eq(eff->status, 302);
    ck_assert_str_eq(eff->location, "https://app.example.com/auth/login?provider=idp"
                                    "&return_to=%2Fadmin%2Fpage&max_age=300");
    /* API: 401, RFC 9470 challenge, JSON with the login URL */
    in.sec_fetch_mode = "cors";
    eff = af_effects_make(pool);
    af_session_gate_fail(eff, site, &o, &in, AF_ESESS_STEP_UP_MAX_AGE, pool);
    ck_assert_int_eq(eff->status, 401);
    ck_assert_str_eq(eff->www_authenticate,
                     "Bearer error=\"insufficient_user_authentication\", "
                     "error_description=\"A more recent authentication is required\", "
                     "max_age=\"300\"");
    ck_assert_ptr_nonnull(strstr(eff->body, "\"error\":\"step_up_max_age\""));
    ck_assert_ptr_nonnull(strstr(eff->body, "max_age=300"));
    /* ACR: acr_values in both */
    o.max_age = 0;
    o.acr_values = "mfa hwk";
    eff = af_effects_make(pool);
    af_session_gate_fail(eff, site, &o, &in, AF_ESESS_STEP_UP_ACR, pool);
    ck_assert_str_eq(eff->www_authenticate,
                     "Bearer error=\"insufficient_user_authentication\", "
                     "error_description=\"A different authentication level is required\", "
                     "acr_values=\"mfa hwk\"");
    ck_assert_ptr_nonnull(strstr(eff->body, "acr_values=mfa%20hwk"));
    /* no token at a step-up location: the first login asks for it already, the challenge
     * is RFC 6750's */
    o.max_age = 300;
    eff = af_effects_make(pool);
    af_session_gate_fail(eff, site, &o, &in, AF_ESESS_NO_TOKEN, pool);
    ck_assert_str_eq(eff->www_authenticate, "Bearer");
    ck_assert_ptr_nonnull(strstr(eff->body, "max_age=300&acr_values=mfa%20hwk"));
    o.max_age = 0;
    o.acr_values = NULL;
    eff = af_effects_make(pool);
    af_session_gate_fail(eff, site, &o, &in, AF_ESESS_NO_TOKEN, pool);
    ck_assert_ptr_null(strstr(eff->body, "max_age"));
    ck_assert_ptr_null(strstr(eff->body, "acr_values"));
}
END_TEST

/* ---- CORS preflight and WebSocket ----------------------------------------------------------- */

START_TEST(test_preflight_and_websocket_decisions)
{
    af_gate_opts_t o = opts();
    af_req_in_t in = req(T0, NULL);
    af_effects_t *eff;

    in.method = "OPTIONS";
    in.origin = "https://spa.example";
    in.ac_request_method = "POST";
    ck_assert(af_session_is_preflight(&in));
    ck_assert(af_session_preflight_passes(&o, &in)); /* default pass */
    o.preflight = AF_PREFLIGHT_DENY;
    ck_assert(!af_session_preflight_passes(&o, &in));
    o.preflight = AF_PREFLIGHT_PASS;
    in.subrequest = 1;
    ck_assert(!af_session_preflight_passes(&o, &in));
    in.subrequest = 0;
    /* not a preflight: no Origin, no Access-Control-Request-Method, another method */
    in.origin = NULL;
    ck_assert(!af_session_preflight_passes(&o, &in));
    in.origin = "https://spa.example";
    in.ac_request_method = NULL;
    ck_assert(!af_session_preflight_passes(&o, &in));
    in.ac_request_method = "POST";
    in.method = "GET";
    ck_assert(!af_session_preflight_passes(&o, &in));
    /* deny: a preflight is never redirected, even in redirect mode */
    in.method = "OPTIONS";
    o.unauth = AF_UNAUTH_REDIRECT;
    in.accept = "text/html";
    eff = af_effects_make(pool);
    af_session_gate_fail(eff, site, &o, &in, AF_ESESS_NO_TOKEN, pool);
    ck_assert_int_eq(eff->status, 401);
    /* a WebSocket handshake: 401, never a 302 */
    in = req(T0, NULL);
    in.sec_fetch_mode = "websocket";
    ck_assert(af_session_is_websocket(&in));
    o.unauth = AF_UNAUTH_AUTO;
    eff = af_effects_make(pool);
    af_session_gate_fail(eff, site, &o, &in, AF_ESESS_NO_TOKEN, pool);
    ck_assert_int_eq(eff->status, 401);
    in.sec_fetch_mode = NULL;
    in.upgrade = "WebSocket";
    in.accept = "text/html"; /* would be a navigation without the Upgrade */
    o.unauth = AF_UNAUTH_REDIRECT;
    eff = af_effects_make(pool);
    af_session_gate_fail(eff, site, &o, &in, AF_ESESS_NO_TOKEN, pool);
    ck_assert_int_eq(eff->status, 401);
    in.upgrade = NULL;
    eff = af_effects_make(pool);
    af_session_gate_fail(eff, site, &o, &in, AF_ESESS_NO_TOKEN, pool);
    ck_assert_int_eq(eff->status, 302);
}
END_TEST

/* ---- the OIDC side: flow, authorization request, callback check ---------------------------- */

START_TEST(test_stepup_flow_and_authorize_url)
{
    af_oidc_provider_t *prov = af_oidc_provider_make("idp", pool);
    af_oidc_meta_t meta;
    af_oidc_flow_t *f = NULL, *back = NULL;
    af_oidc_kv_t *kv;
    const char *url, *js;

    prov->kind = AF_OIDC_KIND_OIDC;
    prov->client_id = "c";
    prov->redirect_uri = "https://app.example.com/auth/callback";
    prov->scope = "openid";
    kv = apr_array_push(prov->auth_params);
    kv->key = "prompt", kv->value = "consent";
    memset(&meta, 0, sizeof(meta));
    meta.authorization_endpoint = "https://idp.example/authorize";
    ck_assert_int_eq(af_oidc_flow_new(&f, "idp", "/admin", T0, pool), APR_SUCCESS);
    ck_assert_int_eq(f->max_age, -1);
    url = af_oidc_authorize_url(prov, &meta, f, pool);
    ck_assert_ptr_nonnull(strstr(url, "&prompt=consent"));
    ck_assert_ptr_null(strstr(url, "max_age"));
    js = af_oidc_flow_to_json(f, pool);
    ck_assert_ptr_null(strstr(js, "\"ma\""));
    /* a step-up flow */
    f->max_age = 300;
    f->acr_values = "mfa hwk";
    url = af_oidc_authorize_url(prov, &meta, f, pool);
    ck_assert_ptr_nonnull(strstr(url, "&max_age=300&prompt=login&acr_values=mfa%20hwk"));
    ck_assert_ptr_null(strstr(url, "prompt=consent")); /* the step-up's prompt wins */
    js = af_oidc_flow_to_json(f, pool);
    ck_assert_int_eq(af_oidc_flow_from_json(&back, js, strlen(js), pool), APR_SUCCESS);
    ck_assert_int_eq(back->max_age, 300);
    ck_assert_str_eq(back->acr_values, "mfa hwk");
    /* strict parsing of what was remembered */
    js = "{\"v\":1,\"s\":\"aaaaaaaaaaaaaaaaaaaaaa\",\"n\":\"aaaaaaaaaaaaaaaaaaaaaa\","
         "\"cv\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"p\":\"idp\",\"t\":1,\"ma\":-1}";
    ck_assert_int_eq(af_oidc_flow_from_json(&back, js, strlen(js), pool), AF_EOIDC_FLOW);
    js = "{\"v\":1,\"s\":\"aaaaaaaaaaaaaaaaaaaaaa\",\"n\":\"aaaaaaaaaaaaaaaaaaaaaa\","
         "\"cv\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"p\":\"idp\",\"t\":1,\"acr\":3}";
    ck_assert_int_eq(af_oidc_flow_from_json(&back, js, strlen(js), pool), AF_EOIDC_FLOW);
}
END_TEST

START_TEST(test_stepup_callback_check)
{
    af_oidc_provider_t *prov = af_oidc_provider_make("idp", pool);
    af_oidc_flow_t f;
    json_t *c = af_json_pool_own(
        json_pack("{s:i, s:s}", "auth_time", (json_int_t) T0 - 100, "acr", "mfa"), pool);

    prov->leeway = 60;
    memset(&f, 0, sizeof(f));
    f.max_age = -1;
    /* nothing asked: anything goes, also without an id_token */
    ck_assert_int_eq(af_oidc_stepup_check(NULL, &f, prov, T0), APR_SUCCESS);
    /* max_age: auth_time required (OIDC Core 3.1.2.1) and recent enough (3.1.3.7 item 13) */
    f.max_age = 40; /* T0 - 100 + 40 + 60 == T0: just in */
    ck_assert_int_eq(af_oidc_stepup_check(c, &f, prov, T0), APR_SUCCESS);
    ck_assert_int_eq(af_oidc_stepup_check(c, &f, prov, T0 + 1), AF_EOIDC_AUTH_TIME_OLD);
    f.max_age = 0; /* max_age=0: the IdP had to authenticate just now */
    ck_assert_int_eq(af_oidc_stepup_check(c, &f, prov, T0), AF_EOIDC_AUTH_TIME_OLD);
    json_object_del(c, "auth_time");
    f.max_age = 3600;
    ck_assert_int_eq(af_oidc_stepup_check(c, &f, prov, T0), AF_EOIDC_AUTH_TIME_MISSING);
    json_object_set_new(c, "auth_time", json_string("1700000000"));
    ck_assert_int_eq(af_oidc_stepup_check(c, &f, prov, T0), AF_EOIDC_AUTH_TIME_MISSING);
    ck_assert_int_eq(af_oidc_stepup_check(NULL, &f, prov, T0), AF_EOIDC_AUTH_TIME_MISSING);
    /* acr_values: the returned acr must be one of them */
    f.max_age = -1;
    f.acr_values = "hwk mfa";
    ck_assert_int_eq(af_oidc_stepup_check(c, &f, prov, T0), APR_SUCCESS);
    f.acr_values = "hwk";
    ck_assert_int_eq(af_oidc_stepup_check(c, &f, prov, T0), AF_EOIDC_ACR);
    json_object_del(c, "acr");
    f.acr_values = "mfa";
    ck_assert_int_eq(af_oidc_stepup_check(c, &f, prov, T0), AF_EOIDC_ACR);
    ck_assert_int_eq(af_oidc_stepup_check(NULL, &f, prov, T0), AF_EOIDC_ACR);
    /* acr_values syntax (they go into a quoted WWW-Authenticate value) */
    ck_assert(af_oidc_acr_values_ok("urn:mace:incommon:iap:silver mfa"));
    ck_assert(!af_oidc_acr_values_ok(""));
    ck_assert(!af_oidc_acr_values_ok(" mfa"));
    ck_assert(!af_oidc_acr_values_ok("mfa  hwk"));
    ck_assert(!af_oidc_acr_values_ok("m\"fa"));
    ck_assert(!af_oidc_acr_values_ok("m\\fa"));
    ck_assert(!af_oidc_acr_values_ok("m\nfa"));
    ck_assert_int_eq(af_session_status(AF_EOIDC_AUTH_TIME_OLD), 401);
    ck_assert_int_eq(af_session_status(AF_ESESS_STEP_UP_PARAM), 400);
}
END_TEST

/* GET <endpoint>/login?max_age=&acr_values= : checked, and carried through the chooser */
START_TEST(test_stepup_login_parameters)
{
    af_effects_t *eff = af_effects_make(pool);
    af_req_in_t in = req(T0, NULL);

    site->providers = apr_array_make(pool, 2, sizeof(af_oidc_provider_t *));
    APR_ARRAY_PUSH(site->providers, af_oidc_provider_t *) = af_oidc_provider_make("a", pool);
    APR_ARRAY_PUSH(site->providers, af_oidc_provider_t *) = af_oidc_provider_make("b", pool);
    in.query = "return_to=%2Fadmin&max_age=300&acr_values=mfa";
    af_session_login(eff, site, &in, pool);
    ck_assert_int_eq(eff->status, 200);
    ck_assert_ptr_nonnull(strstr(eff->body, "provider=b&amp;return_to=%2Fadmin&amp;max_age=300"
                                            "&amp;acr_values=mfa"));
    in.query = "max_age=3x";
    eff = af_effects_make(pool);
    af_session_login(eff, site, &in, pool);
    ck_assert_int_eq(eff->status, 400);
    ck_assert_int_eq(eff->reason, AF_ESESS_STEP_UP_PARAM);
    in.query = "max_age=-1";
    eff = af_effects_make(pool);
    af_session_login(eff, site, &in, pool);
    ck_assert_int_eq(eff->status, 400);
    in.query = "acr_values=a%22b";
    eff = af_effects_make(pool);
    af_session_login(eff, site, &in, pool);
    ck_assert_int_eq(eff->status, 400);
    in.query = "max_age=300&max_age=600";
    eff = af_effects_make(pool);
    af_session_login(eff, site, &in, pool);
    ck_assert_int_eq(eff->status, 400);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("test_stepup");
    TCase *tc = tcase_create("stepup");

    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_mint_always_carries_login_claims);
    tcase_add_test(tc, test_stepup_max_age_gate);
    tcase_add_test(tc, test_stepup_refresh_keeps_auth_time);
    tcase_add_test(tc, test_stepup_acr_gate);
    tcase_add_test(tc, test_stepup_answers_rfc9470);
    tcase_add_test(tc, test_preflight_and_websocket_decisions);
    tcase_add_test(tc, test_stepup_flow_and_authorize_url);
    tcase_add_test(tc, test_stepup_callback_check);
    tcase_add_test(tc, test_stepup_login_parameters);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return af_test_run(suite());
}
