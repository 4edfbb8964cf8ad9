/* test_oidc_flow.c -- the whole src/oidc callback (discovery, code exchange, id_token,
 * userinfo, identity) against a canned HTTP implementation installed with af_http_set_impl.
 * Unit tests only: the real flows run against the real provider (tests/idp, integration). */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>

#include "af_testjws.h"
#include "af_testutil.h"
#include "common/af_b64.h"
#include "common/af_json.h"
#include "common/af_log.h"
#include "http/af_http_errors.h"
#include "jose/af_jws.h"
#include "common/af_url.h"
#include "oidc/af_oidc.h"

#define ISS    "https://idp.example"
#define CID    "client-1"
#define SECRET "s3cret-with-at-least-32-bytes-for-hs256!"
#define NONCE  "n-0S6_WzA2Mj"

static apr_pool_t *root; /* keys, made once before the tests fork */
static apr_pool_t *pool;
static af_key_t *rsa1, *rsa2, *ec1;
static apr_int64_t now;

static void teardown(void)
{
    apr_pool_destroy(pool);
}

static af_oidc_provider_t *mkprov(void)
{
    return af_test_provider(ISS, CID, SECRET, pool);
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

/* ---- canned HTTP ---------------------------------------------------------------------- */

#define MAX_CANNED 8
static struct {
    const char *url;
    int status;
    const char *body;
    int calls;
    const char *last_body;
    const char *last_auth;
} canned[MAX_CANNED];

static void can(const char *url, int status, const char *body)
{
    int i;

    for (i = 0; i < MAX_CANNED; i++) {
        if (canned[i].url == NULL || strcmp(canned[i].url, url) == 0) {
            canned[i].url = url;
            canned[i].status = status;
            canned[i].body = body;
            return;
        }
    }
    ck_abort_msg("too many canned responses");
}

static int calls(const char *url)
{
    int i;

    for (i = 0; i < MAX_CANNED && canned[i].url != NULL; i++) {
        if (strcmp(canned[i].url, url) == 0) {
            return canned[i].calls;
        }
    }
    return 0;
}

static apr_interval_time_t canned_delay; /* every response waits this long */

static apr_status_t canned_perform(af_http_response_t **resp, const af_http_request_t *req,
                                   apr_pool_t *p)
{
    int i;

    if (canned_delay > 0) {
        apr_sleep(canned_delay);
    }

    for (i = 0; i < MAX_CANNED && canned[i].url != NULL; i++) {
        if (strcmp(canned[i].url, req->url) == 0) {
            af_http_response_t *r = apr_pcalloc(p, sizeof(*r));
            canned[i].calls++;
            canned[i].last_body = req->body != NULL ? apr_pstrdup(root, req->body) : NULL;
            canned[i].last_auth =
                req->headers != NULL && apr_table_get(req->headers, "Authorization") != NULL
                    ? apr_pstrdup(root, apr_table_get(req->headers, "Authorization"))
                    : NULL;
            if (canned[i].status == 0) {
                return AF_EHTTP_TIMEOUT;
            }
            r->status = canned[i].status;
            r->headers = apr_table_make(p, 1);
            r->body = apr_pstrdup(p, canned[i].body);
            r->body_len = strlen(r->body);
            *resp = r;
            return APR_SUCCESS;
        }
    }
    return AF_EHTTP_CONNECT;
}

static const af_http_impl_t canned_impl = {canned_perform};

#define DISCOVERY_DOC                                                                              \
    "{\"issuer\":\"" ISS "\",\"authorization_endpoint\":\"" ISS "/authorize\","                    \
    "\"token_endpoint\":\"" ISS "/token\",\"userinfo_endpoint\":\"" ISS "/userinfo\","             \
    "\"jwks_uri\":\"" ISS "/jwks\",\"authorization_response_iss_parameter_supported\":true,"       \
    "\"id_token_signing_alg_values_supported\":[\"RS256\",\"ES256\"]}"

static void canned_setup(void)
{
    pool = af_test_pool();
    memset(canned, 0, sizeof(canned));
    canned_delay = 0;
    af_http_set_impl(&canned_impl);
}

static af_oidc_provider_t *canned_provider(void)
{
    af_oidc_provider_t *prov = mkprov();
    af_key_t *keys[] = {rsa1, ec1};

    ck_assert_int_eq(af_oidc_runtime_init(prov, pool), APR_SUCCESS);
    can(ISS "/.well-known/openid-configuration", 200, DISCOVERY_DOC);
    can(ISS "/jwks", 200, af_test_jwks_text(keys, 2, pool));
    can(ISS "/userinfo", 200,
        "{\"sub\":\"alice\",\"groups\":[\"ops\",\"dev\"],\"name\":\"Alice\"}");
    return prov;
}

/* A token response whose id_token is bound to this flow; edit claims with c. */
static const char *token_response(const af_oidc_flow_t *f, json_t *c, const af_key_t *key)
{
    json_object_set_new(c, "nonce", json_string(f->nonce));
    json_object_set_new(c, "at_hash", json_string(af_oidc_at_hash("AT-123", "RS256", pool)));
    return apr_psprintf(pool,
                        "{\"access_token\":\"AT-123\",\"token_type\":\"Bearer\","
                        "\"expires_in\":60,\"id_token\":\"%s\"}",
                        mint(key, c));
}

static const char *callback_query(const af_oidc_flow_t *f)
{
    return apr_pstrcat(pool, "code=SECRETCODE123&state=", f->state,
                       "&iss=", af_url_encode(ISS, pool), NULL);
}

START_TEST(test_E01_callback_full_flow)
{
    af_oidc_provider_t *prov = canned_provider();
    af_oidc_flow_t *f = NULL;
    af_oidc_identity_t *id = NULL;
    af_oidc_cbparams_t *cb = NULL;
    const char *url = NULL, *tr;
    int i;

    af_test_log_capture(AF_LOG_DEBUG);
    ck_assert_int_eq(af_oidc_login_start(&url, &f, prov, "/app", now, pool), APR_SUCCESS);
    ck_assert(strncmp(url, ISS "/authorize?response_type=code&", 40) == 0);
    tr = token_response(f, claims(), rsa1);
    can(ISS "/token", 200, tr);
    ck_assert_int_eq(af_oidc_callback_finish(&id, &cb, prov, f, callback_query(f), now, pool),
                     APR_SUCCESS);
    ck_assert_str_eq(id->sub, "alice");
    ck_assert_str_eq(id->issuer, ISS);
    ck_assert_str_eq(id->provider, "idp");
    ck_assert_str_eq(json_string_value(json_object_get(id->claims, "email")), "alice@example.com");
    ck_assert_int_eq(json_array_size(json_object_get(id->claims, "groups")), 2);
    ck_assert_ptr_nonnull(id->id_token);
    /* the code exchange: PKCE verifier, same redirect_uri bytes, client_secret_basic */
    ck_assert_int_eq(calls(ISS "/token"), 1);
    for (i = 0; canned[i].url != NULL; i++) {
        if (strcmp(canned[i].url, ISS "/token") == 0) {
            ck_assert_ptr_nonnull(strstr(canned[i].last_body,
                                         apr_pstrcat(pool, "code_verifier=", f->verifier, NULL)));
            ck_assert_ptr_nonnull(strstr(canned[i].last_body,
                                         "redirect_uri=https%3A%2F%2Fapp.example%2Fauth%2F"
                                         "callback"));
            ck_assert(strncmp(canned[i].last_auth, "Basic ", 6) == 0);
        }
        if (strcmp(canned[i].url, ISS "/userinfo") == 0) {
            ck_assert_str_eq(canned[i].last_auth, "Bearer AT-123");
        }
    }
    ck_assert_int_eq(calls(ISS "/.well-known/openid-configuration"), 1); /* cached */
    /* nothing secret in any log line */
    for (i = 0; i < af_test_log_count(); i++) {
        const char *l = af_test_log_line(i);
        ck_assert_ptr_null(strstr(l, "SECRETCODE123"));
        ck_assert_ptr_null(strstr(l, f->verifier));
        ck_assert_ptr_null(strstr(l, SECRET));
        ck_assert_ptr_null(strstr(l, "AT-123"));
    }
}
END_TEST

START_TEST(test_E02_E09_no_userinfo_after_bad_id_token)
{
    af_oidc_provider_t *prov = canned_provider();
    af_oidc_flow_t *f = NULL;
    af_oidc_identity_t *id = NULL;
    json_t *c = claims();

    ck_assert_int_eq(af_oidc_flow_new(&f, "idp", NULL, now, pool), APR_SUCCESS);
    json_object_set_new(c, "iss", json_string("https://evil.example"));
    can(ISS "/token", 200, token_response(f, c, rsa1));
    ck_assert_int_eq(af_oidc_callback_finish(&id, NULL, prov, f, callback_query(f), now, pool),
                     AF_EOIDC_ID_TOKEN_ISS);
    ck_assert_ptr_null(id);
    ck_assert_int_eq(calls(ISS "/userinfo"), 0);

    /* signed by a key the provider does not publish */
    can(ISS "/token", 200, token_response(f, claims(), rsa2));
    ck_assert_int_eq(af_oidc_callback_finish(&id, NULL, prov, f, callback_query(f), now, pool),
                     AF_EOIDC_ID_TOKEN_NOKEY);
    ck_assert_int_eq(calls(ISS "/userinfo"), 0);
}
END_TEST

START_TEST(test_D06_code_never_sent_on_mixup)
{
    af_oidc_provider_t *prov = canned_provider();
    af_oidc_flow_t *f = NULL;
    af_oidc_identity_t *id = NULL;

    ck_assert_int_eq(af_oidc_flow_new(&f, "idp", NULL, now, pool), APR_SUCCESS);
    can(ISS "/token", 200, token_response(f, claims(), rsa1));
    ck_assert_int_eq(af_oidc_callback_finish(&id, NULL, prov, f,
                                             apr_pstrcat(pool, "code=c&state=", f->state,
                                                         "&iss=https%3A%2F%2Fevil.example", NULL),
                                             now, pool),
                     AF_EOIDC_ISS_PARAM);
    /* discovery says iss is supported: a missing iss is refused too */
    ck_assert_int_eq(af_oidc_callback_finish(&id, NULL, prov, f,
                                             apr_pstrcat(pool, "code=c&state=", f->state, NULL),
                                             now, pool),
                     AF_EOIDC_ISS_PARAM);
    ck_assert_int_eq(af_oidc_callback_finish(&id, NULL, prov, f,
                                             apr_pstrcat(pool, "code=c&state=x", f->state, NULL),
                                             now, pool),
                     AF_EOIDC_STATE);
    ck_assert_int_eq(calls(ISS "/token"), 0);
}
END_TEST

START_TEST(test_D18_token_endpoint_failures)
{
    af_oidc_provider_t *prov = canned_provider();
    af_oidc_flow_t *f = NULL;
    af_oidc_identity_t *id = NULL;
    apr_status_t rv;

    ck_assert_int_eq(af_oidc_flow_new(&f, "idp", NULL, now, pool), APR_SUCCESS);
    can(ISS "/token", 500, "{\"error\":\"server_error\"}");
    rv = af_oidc_callback_finish(&id, NULL, prov, f, callback_query(f), now, pool);
    ck_assert_int_eq(rv, AF_EOIDC_IDP_FAILED);
    ck_assert_int_eq(af_oidc_status(rv), 502);
    can(ISS "/token", 0, "");
    rv = af_oidc_callback_finish(&id, NULL, prov, f, callback_query(f), now, pool);
    ck_assert_int_eq(rv, AF_EOIDC_IDP_TIMEOUT);
    ck_assert_int_eq(af_oidc_status(rv), 504);
    can(ISS "/token", 400, "{\"error\":\"invalid_grant\"}"); /* D05: PKCE mismatch */
    rv = af_oidc_callback_finish(&id, NULL, prov, f, callback_query(f), now, pool);
    ck_assert_int_eq(rv, AF_EOIDC_TOKEN_REJECTED);
    ck_assert_int_eq(af_oidc_status(rv), 401);
    can(ISS "/token", 200, "<html>oops</html>");
    ck_assert_int_eq(af_oidc_callback_finish(&id, NULL, prov, f, callback_query(f), now, pool),
                     AF_EOIDC_TOKEN_RESPONSE);
    ck_assert_int_eq(calls(ISS "/userinfo"), 0);
}
END_TEST

START_TEST(test_E12_userinfo_sub_mismatch)
{
    af_oidc_provider_t *prov = canned_provider();
    af_oidc_flow_t *f = NULL;
    af_oidc_identity_t *id = NULL;

    ck_assert_int_eq(af_oidc_flow_new(&f, "idp", NULL, now, pool), APR_SUCCESS);
    can(ISS "/token", 200, token_response(f, claims(), rsa1));
    can(ISS "/userinfo", 200, "{\"sub\":\"mallory\",\"groups\":[\"admin\"]}");
    ck_assert_int_eq(af_oidc_callback_finish(&id, NULL, prov, f, callback_query(f), now, pool),
                     AF_EOIDC_USERINFO_SUB);
    ck_assert_ptr_null(id);
    can(ISS "/userinfo", 200, "[1,2]");
    ck_assert_int_eq(af_oidc_callback_finish(&id, NULL, prov, f, callback_query(f), now, pool),
                     AF_EOIDC_USERINFO);
}
END_TEST

START_TEST(test_E15_discovery_mismatch_no_authorize)
{
    af_oidc_provider_t *prov = mkprov();
    af_oidc_flow_t *f = NULL;
    const char *url = NULL;

    ck_assert_int_eq(af_oidc_runtime_init(prov, pool), APR_SUCCESS);
    can(ISS "/.well-known/openid-configuration", 200,
        "{\"issuer\":\"https://evil.example\",\"authorization_endpoint\":\"" ISS "/a\","
        "\"token_endpoint\":\"" ISS "/t\",\"jwks_uri\":\"" ISS "/j\"}");
    ck_assert_int_eq(af_oidc_login_start(&url, &f, prov, NULL, now, pool), AF_EOIDC_DISCOVERY_ISS);
    ck_assert_ptr_null(url);
    ck_assert_ptr_null(f);
}
END_TEST

START_TEST(test_E16_key_rotation_refetch)
{
    af_oidc_provider_t *prov = canned_provider();
    af_key_t *rotated[] = {rsa1, rsa2};
    const af_oidc_meta_t *m = NULL;
    const af_keyset_t *ks = NULL;
    af_oidc_idcheck_t chk = {now, NONCE, NULL};
    json_t *out = NULL;

    prov->jwks_refetch_interval = 1000; /* 1 ms, so the test need not wait */
    ck_assert_int_eq(af_oidc_meta_get(&m, prov, now, pool), APR_SUCCESS);
    ck_assert_int_eq(af_oidc_keys_get(&ks, prov, m, NULL, now, pool), APR_SUCCESS);
    ck_assert_int_eq(calls(ISS "/jwks"), 1);
    can(ISS "/jwks", 200, af_test_jwks_text(rotated, 2, pool));
    apr_sleep(5000);
    ck_assert_int_eq(af_oidc_id_token_verify(&out, prov, m, mint(rsa2, claims()), &chk, pool),
                     APR_SUCCESS);
    ck_assert_int_eq(calls(ISS "/jwks"), 2);
}
END_TEST

START_TEST(test_C06_unknown_kid_refetch_throttled)
{
    af_oidc_provider_t *prov = canned_provider();
    const af_oidc_meta_t *m = NULL;
    af_oidc_idcheck_t chk = {now, NONCE, NULL};
    json_t *out = NULL;
    int i;

    ck_assert_int_eq(af_oidc_meta_get(&m, prov, now, pool), APR_SUCCESS);
    for (i = 0; i < 20; i++) {
        const char *hdr = apr_psprintf(pool, "{\"alg\":\"RS256\",\"kid\":\"random-%d\"}", i);
        ck_assert_int_eq(
            af_oidc_id_token_verify(&out, prov, m, mint_hdr(rsa2, hdr, claims()), &chk, pool),
            AF_EOIDC_ID_TOKEN_NOKEY);
    }
    ck_assert_int_eq(calls(ISS "/jwks"), 1);
}
END_TEST

START_TEST(test_D16_github_flow)
{
    af_oidc_provider_t *gh = af_oidc_provider_make("github", pool);
    af_oidc_flow_t *f = NULL;
    af_oidc_identity_t *id = NULL;
    const char *url = NULL;

    gh->preset = AF_OIDC_PRESET_GITHUB;
    gh->authorization_endpoint = "https://gh.example/login/oauth/authorize";
    gh->token_endpoint = "https://gh.example/login/oauth/access_token";
    gh->userinfo_endpoint = "https://gh.example/user";
    gh->client_id = "Iv1.abc";
    gh->client_secret = "gh-secret";
    gh->redirect_uri = "https://app.example/auth/callback";
    ck_assert_ptr_null(af_oidc_provider_check(gh, pool));
    ck_assert_int_eq(af_oidc_login_start(&url, &f, gh, NULL, now, pool), APR_SUCCESS);
    can("https://gh.example/login/oauth/access_token", 200,
        "{\"access_token\":\"gho_x\",\"token_type\":\"bearer\",\"scope\":\"read:user\"}");
    can("https://gh.example/user", 200,
        "{\"id\":583231,\"login\":\"octocat\",\"email\":\"unverified@x\"}");
    can("https://gh.example/user/emails", 200,
        "[{\"email\":\"old@x\",\"verified\":true,\"primary\":false},"
        "{\"email\":\"octo@x\",\"verified\":true,\"primary\":true}]");
    ck_assert_int_eq(af_oidc_callback_finish(&id, NULL, gh, f,
                                             apr_pstrcat(pool, "code=c&state=", f->state, NULL),
                                             now, pool),
                     APR_SUCCESS);
    ck_assert_str_eq(id->sub, "583231");
    ck_assert_str_eq(json_string_value(json_object_get(id->claims, "email")), "octo@x");
    ck_assert_str_eq(json_string_value(json_object_get(id->claims, "preferred_username")),
                     "octocat");
    ck_assert_ptr_null(id->id_token);
    /* client_secret_post for GitHub */
    ck_assert_ptr_nonnull(strstr(canned[0].last_body, "client_secret=gh-secret"));
}
END_TEST

typedef struct {
    af_oidc_provider_t *prov;
    apr_status_t rv;
    const char *token_endpoint;
} meta_job_t;

static void *APR_THREAD_FUNC meta_thread(apr_thread_t *t, void *baton)
{
    meta_job_t *job = baton;
    const af_oidc_meta_t *m = NULL;
    apr_pool_t *tp;

    apr_pool_create_unmanaged_ex(&tp, NULL, NULL);
    job->rv = af_oidc_meta_get(&m, job->prov, now, tp);
    job->token_endpoint = m != NULL ? strdup(m->token_endpoint) : NULL;
    apr_pool_destroy(tp);
    apr_thread_exit(t, APR_SUCCESS);
    return NULL;
}

START_TEST(test_H09_concurrent_discovery_fetched_once)
{
    af_oidc_provider_t *prov = canned_provider();
    apr_thread_t *th[8];
    meta_job_t jobs[8];
    apr_status_t trv;
    int i;

    canned_delay = apr_time_from_msec(100); /* a slow IdP */
    for (i = 0; i < 8; i++) {
        jobs[i].prov = prov;
        jobs[i].rv = -1;
        ck_assert_int_eq(apr_thread_create(&th[i], NULL, meta_thread, &jobs[i], pool), APR_SUCCESS);
    }
    for (i = 0; i < 8; i++) {
        apr_thread_join(&trv, th[i]);
        ck_assert_int_eq(jobs[i].rv, APR_SUCCESS);
        ck_assert_str_eq(jobs[i].token_endpoint, ISS "/token");
        free((void *) jobs[i].token_endpoint);
    }
    ck_assert_int_eq(calls(ISS "/.well-known/openid-configuration"), 1);
}
END_TEST

START_TEST(test_H09_discovery_failure_throttled)
{
    af_oidc_provider_t *prov = canned_provider();
    const af_oidc_meta_t *m = NULL;
    int i;

    can(ISS "/.well-known/openid-configuration", 0, ""); /* times out */
    for (i = 0; i < 5; i++) {
        ck_assert_int_eq(af_oidc_meta_get(&m, prov, now, pool), AF_EOIDC_IDP_TIMEOUT);
    }
    ck_assert_int_eq(calls(ISS "/.well-known/openid-configuration"), 1);
    can(ISS "/.well-known/openid-configuration", 200, DISCOVERY_DOC);
    ck_assert_int_eq(af_oidc_meta_get(&m, prov, now + 6, pool), APR_SUCCESS);
    ck_assert_int_eq(calls(ISS "/.well-known/openid-configuration"), 2);
    /* later failures keep the old metadata in use */
    can(ISS "/.well-known/openid-configuration", 500, "{}");
    ck_assert_int_eq(af_oidc_meta_get(&m, prov, now + 4000, pool), APR_SUCCESS);
    ck_assert_int_eq(calls(ISS "/.well-known/openid-configuration"), 3);
}
END_TEST

START_TEST(test_H09_discovery_throttle_from_end_of_fetch)
{
    af_oidc_provider_t *prov = canned_provider();
    const af_oidc_meta_t *m = NULL;

    /* a discovery that takes a little over 2 s and then times out: the retry throttle
     * (5 s) runs from the end of that fetch, not from its start */
    can(ISS "/.well-known/openid-configuration", 0, "");
    canned_delay = apr_time_from_msec(2100);
    ck_assert_int_eq(af_oidc_meta_get(&m, prov, now, pool), AF_EOIDC_IDP_TIMEOUT);
    canned_delay = 0;
    /* 5 s after the start, 2 s after the end: no new fetch, the same failure */
    ck_assert_int_eq(af_oidc_meta_get(&m, prov, now + 5, pool), AF_EOIDC_IDP_TIMEOUT);
    ck_assert_int_eq(calls(ISS "/.well-known/openid-configuration"), 1);
    /* 5 s after the end: fetched again */
    can(ISS "/.well-known/openid-configuration", 200, DISCOVERY_DOC);
    ck_assert_int_eq(af_oidc_meta_get(&m, prov, now + 8, pool), APR_SUCCESS);
    ck_assert_int_eq(calls(ISS "/.well-known/openid-configuration"), 2);
}
END_TEST

/* ---- the outbound guard (af_oidc_guard.h) at the provider level ---------------------- */

static af_oidc_guard_t *guard_for(af_oidc_provider_t *prov, int n)
{
    void *mem = apr_palloc(pool, af_oidc_guard_size(n) + 64);

    mem = (void *) (((apr_uintptr_t) mem + 63) & ~(apr_uintptr_t) 63);
    prov->max_concurrent = n;
    prov->guard = af_oidc_guard_init(mem, n, prov->timeout > 0 ? prov->timeout : 10000000);
    return prov->guard;
}

START_TEST(test_H09_callback_one_lease_for_every_call)
{
    af_oidc_provider_t *prov = canned_provider();
    af_oidc_guard_t *g = guard_for(prov, 1);
    af_oidc_flow_t *f = NULL;
    af_oidc_identity_t *id = NULL;
    const char *url = NULL;
    apr_pool_t *other = NULL, *req = NULL;

    /* discovery under a lease of its own, given back at once */
    ck_assert_int_eq(af_oidc_login_start(&url, &f, prov, "/app", now, pool), APR_SUCCESS);
    ck_assert_int_eq(af_oidc_guard_in_use(g, apr_time_now()), 0);
    can(ISS "/token", 200, token_response(f, claims(), rsa1));
    /* a limit of one: token, JWKS and userinfo all run under the callback's single lease */
    apr_pool_create(&req, pool);
    ck_assert_int_eq(af_oidc_idp_enter(prov, req), APR_SUCCESS); /* as the glue does */
    ck_assert_int_eq(af_oidc_callback_finish(&id, NULL, prov, f, callback_query(f), now, req),
                     APR_SUCCESS);
    ck_assert_int_eq(calls(ISS "/token"), 1);
    ck_assert_int_eq(calls(ISS "/jwks"), 1);
    ck_assert_int_eq(calls(ISS "/userinfo"), 1);
    ck_assert_int_eq(af_oidc_guard_in_use(g, apr_time_now()), 1); /* still the glue's */
    /* another request while it is held: refused at once, nothing sent */
    apr_pool_create(&other, pool);
    ck_assert_int_eq(af_oidc_idp_enter(prov, other), AF_EOIDC_IDP_BUSY);
    ck_assert_int_eq(af_oidc_callback_finish(&id, NULL, prov, f, callback_query(f), now, other),
                     AF_EOIDC_IDP_BUSY);
    ck_assert_int_eq(af_oidc_status(AF_EOIDC_IDP_BUSY), 503);
    ck_assert_int_eq(calls(ISS "/token"), 1);
    af_oidc_idp_leave(prov, req);
    ck_assert_int_eq(af_oidc_guard_in_use(g, apr_time_now()), 0);
    /* a lease left behind is given back with its pool */
    ck_assert_int_eq(af_oidc_idp_enter(prov, other), APR_SUCCESS);
    ck_assert_int_eq(af_oidc_idp_enter(prov, other), APR_SUCCESS); /* nests: one slot */
    ck_assert_int_eq(af_oidc_guard_in_use(g, apr_time_now()), 1);
    apr_pool_destroy(other);
    ck_assert_int_eq(af_oidc_guard_in_use(g, apr_time_now()), 0);
    apr_pool_destroy(req);
}
END_TEST

START_TEST(test_H09_circuit_stops_calls)
{
    af_oidc_provider_t *prov = canned_provider();
    const af_oidc_meta_t *m = NULL;
    af_oidc_tokens_t *tok = NULL;
    af_oidc_flow_t *f = NULL;
    const char *url = NULL;
    int i;

    guard_for(prov, 4);
    af_test_log_capture(AF_LOG_INFO);
    ck_assert_int_eq(af_oidc_meta_get(&m, prov, now, pool), APR_SUCCESS);
    can(ISS "/token", 0, ""); /* times out */
    for (i = 0; i < 3; i++) {
        ck_assert_int_eq(af_oidc_code_exchange(&tok, prov, m, "c0de", "v", NULL, pool),
                         AF_EOIDC_IDP_TIMEOUT);
    }
    ck_assert(af_test_log_contains("AF05050"));
    /* open: refused without a call, 503 with a Retry-After of the back-off */
    ck_assert_int_eq(af_oidc_code_exchange(&tok, prov, m, "c0de", "v", NULL, pool),
                     AF_EOIDC_IDP_UNAVAILABLE);
    ck_assert_int_eq(calls(ISS "/token"), 3);
    ck_assert_int_eq(af_oidc_status(AF_EOIDC_IDP_UNAVAILABLE), 503);
    ck_assert_int_ge(af_oidc_idp_retry_after(prov), 9);
    ck_assert_int_le(af_oidc_idp_retry_after(prov), 10);
    /* a login start is refused too, although the metadata is cached */
    ck_assert_int_eq(af_oidc_login_start(&url, &f, prov, "/app", now, pool),
                     AF_EOIDC_IDP_UNAVAILABLE);
    ck_assert_int_eq(calls(ISS "/.well-known/openid-configuration"), 1);
}
END_TEST

START_TEST(test_H09_discovery_throttle_shared_between_processes)
{
    af_oidc_provider_t *a = canned_provider(), *b = mkprov();
    const af_oidc_meta_t *m = NULL;

    /* two children: each its own caches, one guard in shared memory */
    ck_assert_int_eq(af_oidc_runtime_init(b, pool), APR_SUCCESS);
    b->guard = guard_for(a, 4);
    can(ISS "/.well-known/openid-configuration", 0, ""); /* times out */
    ck_assert_int_eq(af_oidc_meta_get(&m, a, now, pool), AF_EOIDC_IDP_TIMEOUT);
    ck_assert_int_eq(af_oidc_meta_get(&m, b, now, pool), AF_EOIDC_IDP_TIMEOUT);
    ck_assert_int_eq(calls(ISS "/.well-known/openid-configuration"), 1);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("oidc_flow");
    TCase *tf = tcase_create("callback");

    tcase_add_checked_fixture(tf, canned_setup, teardown);
    tcase_add_test(tf, test_E01_callback_full_flow);
    tcase_add_test(tf, test_E02_E09_no_userinfo_after_bad_id_token);
    tcase_add_test(tf, test_D06_code_never_sent_on_mixup);
    tcase_add_test(tf, test_D18_token_endpoint_failures);
    tcase_add_test(tf, test_E12_userinfo_sub_mismatch);
    tcase_add_test(tf, test_E15_discovery_mismatch_no_authorize);
    tcase_add_test(tf, test_E16_key_rotation_refetch);
    tcase_add_test(tf, test_C06_unknown_kid_refetch_throttled);
    tcase_add_test(tf, test_D16_github_flow);
    tcase_add_test(tf, test_H09_concurrent_discovery_fetched_once);
    tcase_add_test(tf, test_H09_discovery_failure_throttled);
    tcase_add_test(tf, test_H09_discovery_throttle_from_end_of_fetch);
    tcase_add_test(tf, test_H09_callback_one_lease_for_every_call);
    tcase_add_test(tf, test_H09_circuit_stops_calls);
    tcase_add_test(tf, test_H09_discovery_throttle_shared_between_processes);
    suite_add_tcase(s, tf);
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
