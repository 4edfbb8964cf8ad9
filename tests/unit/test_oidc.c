/* test_oidc.c -- src/oidc pure parts: provider checks, the authorization request (PKCE,
 * state, nonce), flow state, callback parsing, discovery, the token request and response,
 * GitHub email selection, identity building.  id_token validation and the canned-HTTP
 * callback are in test_oidc_idtoken.c. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include <openssl/evp.h>

#include "af_testutil.h"
#include "common/af_json.h"
#include "oidc/af_oidc.h"

#define SECRET "s3cret-with-at-least-32-bytes-for-hs256!"

static apr_pool_t *pool;

static void setup(void)
{
    pool = af_test_pool();
}

static void teardown(void)
{
    apr_pool_destroy(pool);
}

static af_oidc_provider_t *mkprov(const char *issuer)
{
    af_oidc_provider_t *prov = af_oidc_provider_make("idp", pool);

    prov->issuer = issuer;
    prov->client_id = "client-1";
    prov->client_secret = SECRET;
    prov->redirect_uri = "https://app.example/auth/callback";
    return prov;
}

static af_oidc_meta_t *mkmeta(void)
{
    af_oidc_meta_t *m = apr_pcalloc(pool, sizeof(*m));

    m->issuer = "https://idp.example";
    m->authorization_endpoint = "https://idp.example/authorize";
    m->token_endpoint = "https://idp.example/token";
    m->userinfo_endpoint = "https://idp.example/userinfo";
    m->jwks_uri = "https://idp.example/jwks";
    m->id_token_algs = apr_array_make(pool, 1, sizeof(const char *));
    return m;
}

/* The value of query parameter name in url (raw, still encoded), or NULL. */
static const char *qparam(const char *url, const char *name)
{
    const char *q = strchr(url, '?');
    apr_size_t n = strlen(name);

    while (q != NULL) {
        q++;
        if (strncmp(q, name, n) == 0 && q[n] == '=') {
            const char *e = strchr(q + n + 1, '&');
            return e ? apr_pstrndup(pool, q + n + 1, (apr_size_t) (e - q - n - 1))
                     : apr_pstrdup(pool, q + n + 1);
        }
        q = strchr(q, '&');
    }
    return NULL;
}

static int all_unreserved(const char *s)
{
    for (; *s; s++) {
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '.' || *s == '_' || *s == '~')) {
            return 0;
        }
    }
    return 1;
}

/* ---- provider ------------------------------------------------------------------------ */

START_TEST(test_C08_provider_check)
{
    af_oidc_provider_t *prov = mkprov("https://idp.example");

    ck_assert_ptr_null(af_oidc_provider_check(prov, pool));
    ck_assert_int_eq(prov->kind, AF_OIDC_KIND_OIDC);
    ck_assert_str_eq(prov->scope, "openid");
    ck_assert_int_eq(prov->token_auth, AF_OIDC_AUTH_BASIC);

    /* https only, except loopback */
    ck_assert_ptr_nonnull(af_oidc_provider_check(mkprov("http://idp.example"), pool));
    ck_assert_ptr_null(af_oidc_provider_check(mkprov("http://127.0.0.1:9000"), pool));
    ck_assert_ptr_null(af_oidc_provider_check(mkprov("http://127.1.2.3:9000"), pool));
    ck_assert_ptr_null(af_oidc_provider_check(mkprov("http://localhost:9000"), pool));
    ck_assert_ptr_null(af_oidc_provider_check(mkprov("http://[::1]:9000"), pool));
    ck_assert_ptr_nonnull(af_oidc_provider_check(mkprov("http://127.0.0.1.evil.example"), pool));
    ck_assert_ptr_nonnull(af_oidc_provider_check(mkprov("http://localhost.evil.example"), pool));
    ck_assert_ptr_nonnull(af_oidc_provider_check(mkprov("https://u:p@idp.example"), pool));
    ck_assert_ptr_nonnull(af_oidc_provider_check(mkprov("ftp://idp.example"), pool));

    /* scope must contain openid for OIDC */
    prov = mkprov("https://idp.example");
    prov->scope = "email profile openidx";
    ck_assert_ptr_nonnull(af_oidc_provider_check(prov, pool));
    prov = mkprov("https://idp.example");
    prov->scope = "email openid";
    ck_assert_ptr_null(af_oidc_provider_check(prov, pool));

    /* redirect_uri absolute https (or loopback) */
    prov = mkprov("https://idp.example");
    prov->redirect_uri = "/auth/callback";
    ck_assert_ptr_nonnull(af_oidc_provider_check(prov, pool));
    prov = mkprov("https://idp.example");
    prov->redirect_uri = "http://app.example/auth/callback";
    ck_assert_ptr_nonnull(af_oidc_provider_check(prov, pool));

    /* client id and secret required */
    prov = mkprov("https://idp.example");
    prov->client_id = NULL;
    ck_assert_ptr_nonnull(af_oidc_provider_check(prov, pool));
    prov = mkprov("https://idp.example");
    prov->client_secret = NULL;
    ck_assert_ptr_nonnull(af_oidc_provider_check(prov, pool));

    /* leeway above 300 s */
    prov = mkprov("https://idp.example");
    prov->leeway = 301;
    ck_assert_ptr_nonnull(af_oidc_provider_check(prov, pool));

    /* AuthParam cannot override protocol parameters (PKCE cannot be switched off) */
    prov = mkprov("https://idp.example");
    ((af_oidc_kv_t *) apr_array_push(prov->auth_params))->key = "code_challenge_method";
    ck_assert_ptr_nonnull(af_oidc_provider_check(prov, pool));

    /* OAuth 2.0 without issuer needs all three endpoints */
    prov = mkprov(NULL);
    prov->authorization_endpoint = "https://as.example/authorize";
    prov->token_endpoint = "https://as.example/token";
    ck_assert_ptr_nonnull(af_oidc_provider_check(prov, pool));
    prov->userinfo_endpoint = "https://as.example/me";
    ck_assert_ptr_null(af_oidc_provider_check(prov, pool));
    ck_assert_int_eq(prov->kind, AF_OIDC_KIND_OAUTH2);
}
END_TEST

START_TEST(test_E10_C08_none_alg_config)
{
    af_oidc_provider_t *prov = mkprov("https://idp.example");

    APR_ARRAY_PUSH(prov->id_token_algs, const char *) = "RS256";
    APR_ARRAY_PUSH(prov->id_token_algs, const char *) = "none";
    ck_assert_ptr_nonnull(af_oidc_provider_check(prov, pool));

    prov = mkprov("https://idp.example");
    APR_ARRAY_PUSH(prov->id_token_algs, const char *) = "none";
    ck_assert_ptr_null(af_oidc_provider_check(prov, pool));

    prov = mkprov("https://idp.example");
    APR_ARRAY_PUSH(prov->id_token_algs, const char *) = "None";
    ck_assert_ptr_nonnull(af_oidc_provider_check(prov, pool));

    prov = mkprov("https://idp.example");
    APR_ARRAY_PUSH(prov->id_token_algs, const char *) = "HS256";
    prov->client_secret = "short";
    ck_assert_ptr_nonnull(af_oidc_provider_check(prov, pool));
}
END_TEST

START_TEST(test_D17_presets)
{
    af_oidc_provider_t *g = mkprov("https://accounts.google.com");
    af_oidc_provider_t *k = mkprov(NULL);
    af_oidc_provider_t *gh = mkprov(NULL);
    af_oidc_preset_t pr;

    ck_assert_ptr_null(af_oidc_provider_check(g, pool));
    ck_assert_int_eq(g->preset, AF_OIDC_PRESET_GOOGLE);
    ck_assert_str_eq(g->scope, "openid email profile");

    k->preset = AF_OIDC_PRESET_KAKAO;
    ck_assert_ptr_null(af_oidc_provider_check(k, pool));
    ck_assert_str_eq(k->issuer, "https://kauth.kakao.com");
    ck_assert_int_eq(k->token_auth, AF_OIDC_AUTH_POST);

    gh->authorization_endpoint = "https://github.com/login/oauth/authorize";
    ck_assert_ptr_null(af_oidc_provider_check(gh, pool));
    ck_assert_int_eq(gh->preset, AF_OIDC_PRESET_GITHUB);
    ck_assert_int_eq(gh->kind, AF_OIDC_KIND_OAUTH2);
    ck_assert_str_eq(gh->subject_claim, "id");
    ck_assert_str_eq(gh->emails_endpoint, "https://api.github.com/user/emails");

    ck_assert_int_eq(af_oidc_preset_from_name(&pr, "GitHub"), 0);
    ck_assert_int_eq(pr, AF_OIDC_PRESET_GITHUB);
    ck_assert_int_eq(af_oidc_preset_from_name(&pr, "gitlab"), -1);
}
END_TEST

/* ---- login --------------------------------------------------------------------------- */

START_TEST(test_D01_pkce_rfc7636_appendix_b)
{
    /* RFC 7636 Appendix B */
    ck_assert_str_eq(af_oidc_pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", pool),
                     "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}
END_TEST

START_TEST(test_D01_authorize_request)
{
    af_oidc_provider_t *prov = mkprov("https://idp.example");
    af_oidc_flow_t *f1 = NULL, *f2 = NULL;
    af_oidc_kv_t *kv;
    const char *url;

    kv = apr_array_push(prov->auth_params);
    kv->key = "prompt";
    kv->value = "select_account consent";
    prov->scope = "openid email";
    ck_assert_ptr_null(af_oidc_provider_check(prov, pool));
    ck_assert_int_eq(af_oidc_flow_new(&f1, "idp", "/app/x?y=1", 1000, pool), APR_SUCCESS);
    ck_assert_int_eq(af_oidc_flow_new(&f2, "idp", NULL, 1000, pool), APR_SUCCESS);

    /* >= 128 bits of state and nonce, 43..128 unreserved verifier chars from 256 bits */
    ck_assert_uint_ge(strlen(f1->state), 22);
    ck_assert_uint_ge(strlen(f1->nonce), 22);
    ck_assert_uint_eq(strlen(f1->verifier), 43);
    ck_assert(all_unreserved(f1->verifier));
    ck_assert_str_ne(f1->state, f2->state);
    ck_assert_str_ne(f1->nonce, f2->nonce);
    ck_assert_str_ne(f1->verifier, f2->verifier);
    ck_assert_str_ne(f1->state, f1->nonce);

    url = af_oidc_authorize_url(prov, mkmeta(), f1, pool);
    ck_assert(strncmp(url, "https://idp.example/authorize?", 30) == 0);
    ck_assert_str_eq(qparam(url, "response_type"), "code");
    ck_assert_str_eq(qparam(url, "client_id"), "client-1");
    ck_assert_str_eq(qparam(url, "redirect_uri"), "https%3A%2F%2Fapp.example%2Fauth%2Fcallback");
    ck_assert_str_eq(qparam(url, "scope"), "openid%20email");
    ck_assert_str_eq(qparam(url, "state"), f1->state);
    ck_assert_str_eq(qparam(url, "nonce"), f1->nonce);
    ck_assert_str_eq(qparam(url, "code_challenge_method"), "S256");
    ck_assert_str_eq(qparam(url, "code_challenge"), af_oidc_pkce_challenge(f1->verifier, pool));
    ck_assert_str_eq(qparam(url, "prompt"), "select_account%20consent");
    ck_assert_ptr_null(strstr(url, f1->verifier)); /* the verifier never leaves the server */
    ck_assert_ptr_null(strstr(url, "plain"));
}
END_TEST

START_TEST(test_D02_pkce_always_github)
{
    af_oidc_provider_t *gh = mkprov(NULL);
    af_oidc_flow_t *f = NULL;
    af_oidc_meta_t *m;
    const char *url;

    gh->preset = AF_OIDC_PRESET_GITHUB;
    ck_assert_ptr_null(af_oidc_provider_check(gh, pool));
    m = af_oidc_meta_from_config(gh, pool);
    ck_assert_int_eq(af_oidc_flow_new(&f, "idp", NULL, 1, pool), APR_SUCCESS);
    url = af_oidc_authorize_url(gh, m, f, pool);
    ck_assert(strncmp(url, "https://github.com/login/oauth/authorize?", 41) == 0);
    ck_assert_str_eq(qparam(url, "code_challenge_method"), "S256");
    ck_assert_str_eq(qparam(url, "code_challenge"), af_oidc_pkce_challenge(f->verifier, pool));
    ck_assert_str_eq(qparam(url, "scope"), "read%3Auser%20user%3Aemail");
    ck_assert_ptr_null(qparam(url, "nonce")); /* plain OAuth 2.0: no nonce */
}
END_TEST

START_TEST(test_flow_json_roundtrip)
{
    af_oidc_flow_t *f = NULL, *g = NULL;
    const char *j;

    ck_assert_int_eq(af_oidc_flow_new(&f, "google", "/app?a=b", 1700000000, pool), APR_SUCCESS);
    j = af_oidc_flow_to_json(f, pool);
    ck_assert_ptr_nonnull(j);
    ck_assert_int_eq(af_oidc_flow_from_json(&g, j, strlen(j), pool), APR_SUCCESS);
    ck_assert_str_eq(g->state, f->state);
    ck_assert_str_eq(g->nonce, f->nonce);
    ck_assert_str_eq(g->verifier, f->verifier);
    ck_assert_str_eq(g->provider, "google");
    ck_assert_str_eq(g->return_to, "/app?a=b");
    ck_assert(g->created == 1700000000);

    j = "{\"v\":2,\"s\":\"aaaaaaaaaaaaaaaaaaaaaa\",\"n\":\"aaaaaaaaaaaaaaaaaaaaaa\","
        "\"cv\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"p\":\"x\",\"t\":1}";
    ck_assert_int_eq(af_oidc_flow_from_json(&g, j, strlen(j), pool), AF_EOIDC_FLOW);
    j = "{\"v\":1,\"s\":\"short\",\"n\":\"aaaaaaaaaaaaaaaaaaaaaa\","
        "\"cv\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"p\":\"x\",\"t\":1}";
    ck_assert_int_eq(af_oidc_flow_from_json(&g, j, strlen(j), pool), AF_EOIDC_FLOW);
    j = "{\"v\":1,\"v\":1}";
    ck_assert_int_eq(af_oidc_flow_from_json(&g, j, strlen(j), pool), AF_EOIDC_FLOW);
    ck_assert_int_eq(af_oidc_flow_from_json(&g, "", 0, pool), AF_EOIDC_FLOW);
}
END_TEST

/* ---- callback ------------------------------------------------------------------------ */

START_TEST(test_D03_callback_parse)
{
    af_oidc_cbparams_t *cb = NULL;

    ck_assert_int_eq(af_oidc_callback_parse(&cb, "code=a%2Fb+c&state=xyz&session_state=1", pool),
                     APR_SUCCESS);
    ck_assert_str_eq(cb->code, "a/b c");
    ck_assert_str_eq(cb->state, "xyz");
    ck_assert_ptr_null(cb->iss);

    /* duplicates: never pick one of two */
    ck_assert_int_eq(af_oidc_callback_parse(&cb, "code=a&state=s1&state=s2", pool),
                     AF_EOIDC_PARAM_DUP);
    ck_assert_ptr_null(cb->state);
    ck_assert_int_eq(af_oidc_callback_parse(&cb, "code=a&code=a&state=s", pool),
                     AF_EOIDC_PARAM_DUP);
    ck_assert_int_eq(af_oidc_callback_parse(&cb, "code=a&state=s&iss=x&iss=x", pool),
                     AF_EOIDC_PARAM_DUP);
    ck_assert_int_eq(af_oidc_callback_parse(&cb, "code=a&state=s&st%61te=t", pool),
                     AF_EOIDC_PARAM_DUP);
    ck_assert_int_eq(af_oidc_callback_parse(&cb, "code=a&state=s&error=x&error=y", pool),
                     AF_EOIDC_PARAM_DUP);
    /* an IdP error keeps the state: it names the login it ends (the error page's return_to) */
    ck_assert_int_eq(af_oidc_callback_parse(&cb, "error=access_denied&state=s9", pool),
                     AF_EOIDC_IDP_ERROR);
    ck_assert_str_eq(cb->state, "s9");
    ck_assert_str_eq(cb->error, "access_denied");
    ck_assert_ptr_null(cb->code);
    /* missing */
    ck_assert_int_eq(af_oidc_callback_parse(&cb, "code=a", pool), AF_EOIDC_STATE_MISSING);
    ck_assert_int_eq(af_oidc_callback_parse(&cb, "code=a&state=", pool), AF_EOIDC_STATE_MISSING);
    ck_assert_int_eq(af_oidc_callback_parse(&cb, "state=s", pool), AF_EOIDC_CODE_MISSING);
    ck_assert_int_eq(af_oidc_callback_parse(&cb, "", pool), AF_EOIDC_STATE_MISSING);
    ck_assert_int_eq(af_oidc_callback_parse(&cb, NULL, pool), AF_EOIDC_STATE_MISSING);
    ck_assert_int_eq(af_oidc_callback_parse(&cb, "&&&", pool), AF_EOIDC_STATE_MISSING);
    /* malformed escapes and NUL */
    ck_assert_int_eq(af_oidc_callback_parse(&cb, "code=a%2&state=s", pool), AF_EOIDC_PARAM);
    ck_assert_int_eq(af_oidc_callback_parse(&cb, "code=a%zz&state=s", pool), AF_EOIDC_PARAM);
    ck_assert_int_eq(af_oidc_callback_parse(&cb, "code=a%00b&state=s", pool), AF_EOIDC_PARAM);
    ck_assert_int_eq(af_oidc_callback_parse(&cb, "code=a&state=s%", pool), AF_EOIDC_PARAM);
    /* statuses: protocol parameters are 400 */
    ck_assert_int_eq(af_oidc_status(AF_EOIDC_PARAM_DUP), 400);
    ck_assert_int_eq(af_oidc_status(AF_EOIDC_STATE_MISSING), 400);
}
END_TEST

START_TEST(test_H10_callback_query_limits)
{
    af_oidc_cbparams_t *cb = NULL;
    char *big = apr_palloc(pool, 10001);
    char *many = apr_pcalloc(pool, 100 * 4 + 1);
    int i;

    memset(big, 'a', 10000);
    big[10000] = '\0';
    memcpy(big, "code=", 5);
    ck_assert_int_eq(af_oidc_callback_parse(&cb, big, pool), AF_EOIDC_PARAM);
    for (i = 0; i < 100; i++) {
        memcpy(many + i * 4, "x=1&", 4);
    }
    ck_assert_int_eq(af_oidc_callback_parse(&cb, many, pool), AF_EOIDC_PARAM);
}
END_TEST

START_TEST(test_D11_idp_error_response)
{
    af_oidc_cbparams_t *cb = NULL;

    ck_assert_int_eq(af_oidc_callback_parse(&cb,
                                            "error=access_denied&error_description=%3Cscript%3E"
                                            "alert(1)%3C%2Fscript%3E&error_uri=https%3A%2F%2Fevil"
                                            "&state=s",
                                            pool),
                     AF_EOIDC_IDP_ERROR);
    ck_assert_str_eq(cb->error, "access_denied");
    ck_assert_int_eq(af_oidc_status(AF_EOIDC_IDP_ERROR), 400);
    /* anything but a plain token is not echoed */
    ck_assert_int_eq(af_oidc_callback_parse(&cb, "error=%3Cscript%3E&state=s", pool),
                     AF_EOIDC_IDP_ERROR);
    ck_assert_str_eq(cb->error, "malformed_error");
    /* an error wins over a code */
    ck_assert_int_eq(af_oidc_callback_parse(&cb, "code=c&state=s&error=server_error", pool),
                     AF_EOIDC_IDP_ERROR);
    ck_assert_str_eq(cb->error, "server_error");
}
END_TEST

START_TEST(test_D03_D06_callback_binding)
{
    af_oidc_provider_t *prov = mkprov("https://idp.example");
    af_oidc_meta_t *m = mkmeta();
    af_oidc_flow_t *f = NULL;
    af_oidc_cbparams_t cb;

    ck_assert_ptr_null(af_oidc_provider_check(prov, pool));
    ck_assert_int_eq(af_oidc_flow_new(&f, "idp", NULL, 1, pool), APR_SUCCESS);
    memset(&cb, 0, sizeof(cb));
    cb.code = "c";
    cb.state = f->state;
    ck_assert_int_eq(af_oidc_callback_check(&cb, f, prov, m), APR_SUCCESS);

    /* D03: another browser's / an unknown state */
    cb.state = apr_pstrcat(pool, f->state, "x", NULL);
    ck_assert_int_eq(af_oidc_callback_check(&cb, f, prov, m), AF_EOIDC_STATE);
    cb.state = apr_pstrndup(pool, f->state, strlen(f->state) - 1);
    ck_assert_int_eq(af_oidc_callback_check(&cb, f, prov, m), AF_EOIDC_STATE);
    cb.state = f->state;
    /* D06: the flow belongs to another provider */
    f->provider = "other";
    ck_assert_int_eq(af_oidc_callback_check(&cb, f, prov, m), AF_EOIDC_FLOW);
    f->provider = "idp";
    /* D06: RFC 9207 iss: exact string comparison */
    cb.iss = "https://evil.example";
    ck_assert_int_eq(af_oidc_callback_check(&cb, f, prov, m), AF_EOIDC_ISS_PARAM);
    cb.iss = "https://idp.example/";
    ck_assert_int_eq(af_oidc_callback_check(&cb, f, prov, m), AF_EOIDC_ISS_PARAM);
    cb.iss = "https://IDP.example";
    ck_assert_int_eq(af_oidc_callback_check(&cb, f, prov, m), AF_EOIDC_ISS_PARAM);
    cb.iss = "https://idp.example";
    ck_assert_int_eq(af_oidc_callback_check(&cb, f, prov, m), APR_SUCCESS);
    /* D06: metadata says iss is sent, but it is missing */
    m->iss_parameter_supported = 1;
    cb.iss = NULL;
    ck_assert_int_eq(af_oidc_callback_check(&cb, f, prov, m), AF_EOIDC_ISS_PARAM);
    ck_assert_int_eq(af_oidc_status(AF_EOIDC_ISS_PARAM), 400);
}
END_TEST

/* ---- discovery ------------------------------------------------------------------------ */

#define DISCO(iss, extra)                                                                          \
    "{\"issuer\":\"" iss "\",\"authorization_endpoint\":\"https://idp.example/auth\","             \
    "\"token_endpoint\":\"https://idp.example/token\",\"jwks_uri\":\"https://idp.example/"         \
    "jwks\"" extra "}"

START_TEST(test_E15_discovery)
{
    af_oidc_provider_t *prov = mkprov("https://idp.example");
    af_oidc_meta_t *m = NULL;
    const char *d;

    ck_assert_ptr_null(af_oidc_provider_check(prov, pool));
    d = DISCO("https://idp.example", ",\"userinfo_endpoint\":\"https://idp.example/me\","
                                     "\"end_session_endpoint\":\"https://idp.example/logout\","
                                     "\"authorization_response_iss_parameter_supported\":true,"
                                     "\"id_token_signing_alg_values_supported\":[\"RS256\","
                                     "\"ES256\",\"none\"]");
    ck_assert_int_eq(af_oidc_discovery_parse(&m, prov, d, strlen(d), pool), APR_SUCCESS);
    ck_assert_str_eq(m->authorization_endpoint, "https://idp.example/auth");
    ck_assert_str_eq(m->userinfo_endpoint, "https://idp.example/me");
    ck_assert_str_eq(m->end_session_endpoint, "https://idp.example/logout");
    ck_assert_int_eq(m->iss_parameter_supported, 1);
    ck_assert_int_eq(m->id_token_algs->nelts, 3);

    /* issuer byte for byte */
    d = DISCO("https://idp.example/", "");
    ck_assert_int_eq(af_oidc_discovery_parse(&m, prov, d, strlen(d), pool), AF_EOIDC_DISCOVERY_ISS);
    d = DISCO("https://IDP.example", "");
    ck_assert_int_eq(af_oidc_discovery_parse(&m, prov, d, strlen(d), pool), AF_EOIDC_DISCOVERY_ISS);
    d = DISCO("https://evil.example", "");
    ck_assert_int_eq(af_oidc_discovery_parse(&m, prov, d, strlen(d), pool), AF_EOIDC_DISCOVERY_ISS);
    /* endpoints must pass the URL policy */
    d = DISCO("https://idp.example", ",\"userinfo_endpoint\":\"http://idp.example/me\"");
    ck_assert_int_eq(af_oidc_discovery_parse(&m, prov, d, strlen(d), pool), AF_EOIDC_DISCOVERY);
    /* strict JSON: duplicate members, trailing bytes, wrong types */
    d = DISCO("https://idp.example", ",\"issuer\":\"https://idp.example\"");
    ck_assert_int_eq(af_oidc_discovery_parse(&m, prov, d, strlen(d), pool), AF_EOIDC_DISCOVERY);
    d = DISCO("https://idp.example", "") "x";
    ck_assert_int_eq(af_oidc_discovery_parse(&m, prov, d, strlen(d), pool), AF_EOIDC_DISCOVERY);
    d = DISCO("https://idp.example", ",\"authorization_response_iss_parameter_supported\":1");
    ck_assert_int_eq(af_oidc_discovery_parse(&m, prov, d, strlen(d), pool), AF_EOIDC_DISCOVERY);
    d = "{\"issuer\":\"https://idp.example\",\"token_endpoint\":\"https://idp.example/t\","
        "\"jwks_uri\":\"https://idp.example/j\"}";
    ck_assert_int_eq(af_oidc_discovery_parse(&m, prov, d, strlen(d), pool), AF_EOIDC_DISCOVERY);
    ck_assert_int_eq(af_oidc_status(AF_EOIDC_DISCOVERY_ISS), 502);

    /* explicit endpoints override discovery */
    prov->token_endpoint = "https://idp.example/other-token";
    d = DISCO("https://idp.example", "");
    ck_assert_int_eq(af_oidc_discovery_parse(&m, prov, d, strlen(d), pool), APR_SUCCESS);
    ck_assert_str_eq(m->token_endpoint, "https://idp.example/other-token");
}
END_TEST

/* ---- token request / response --------------------------------------------------------- */

static const char *b64std(const char *s)
{
    unsigned char *out = apr_palloc(pool, strlen(s) * 2 + 4);

    EVP_EncodeBlock(out, (const unsigned char *) s, (int) strlen(s));
    return (const char *) out;
}

START_TEST(test_E14_token_request_basic)
{
    af_oidc_provider_t *prov = mkprov("https://idp.example");
    af_http_request_t req;
    const char *auth;

    prov->client_id = "id:with space";
    prov->client_secret = "s%cr+t:/x";
    ck_assert_ptr_null(af_oidc_provider_check(prov, pool));
    ck_assert_int_eq(af_oidc_token_request(&req, prov, mkmeta(), "the code", "verif", NULL, pool),
                     APR_SUCCESS);
    ck_assert_str_eq(req.method, "POST");
    ck_assert_str_eq(req.url, "https://idp.example/token");
    ck_assert_str_eq(req.body, "grant_type=authorization_code&code=the+code&redirect_uri="
                               "https%3A%2F%2Fapp.example%2Fauth%2Fcallback&code_verifier=verif");
    ck_assert_uint_eq(req.body_len, strlen(req.body));
    auth = apr_table_get(req.headers, "Authorization");
    ck_assert_ptr_nonnull(auth);
    /* RFC 6749 §2.3.1: form-urlencode id and secret, then base64 */
    ck_assert_str_eq(
        auth, apr_pstrcat(pool, "Basic ", b64std("id%3Awith+space:s%25cr%2Bt%3A%2Fx"), NULL));
    ck_assert_str_eq(apr_table_get(req.headers, "Content-Type"),
                     "application/x-www-form-urlencoded");
    ck_assert_ptr_null(strstr(req.body, "client_secret"));
}
END_TEST

START_TEST(test_token_request_post)
{
    af_oidc_provider_t *prov = mkprov("https://idp.example");
    af_http_request_t req;

    prov->token_auth = AF_OIDC_AUTH_POST;
    ck_assert_ptr_null(af_oidc_provider_check(prov, pool));
    ck_assert_int_eq(af_oidc_token_request(&req, prov, mkmeta(), "c", "v", NULL, pool),
                     APR_SUCCESS);
    ck_assert_ptr_null(apr_table_get(req.headers, "Authorization"));
    ck_assert_ptr_nonnull(strstr(req.body, "&client_id=client-1&client_secret="));
}
END_TEST

START_TEST(test_D18_token_response)
{
    af_oidc_tokens_t *t = NULL;
    const char *ok = "{\"access_token\":\"at\",\"token_type\":\"bearer\",\"id_token\":\"a.b.c\","
                     "\"expires_in\":3600,\"refresh_token\":\"rt\"}";
    const char *s;

    ck_assert_int_eq(af_oidc_token_response_parse(&t, 200, ok, strlen(ok), 1, pool), APR_SUCCESS);
    ck_assert_str_eq(t->access_token, "at");
    ck_assert_str_eq(t->id_token, "a.b.c");
    ck_assert(t->expires_in == 3600);

    ck_assert_int_eq(af_oidc_token_response_parse(&t, 500, ok, strlen(ok), 1, pool),
                     AF_EOIDC_IDP_FAILED);
    ck_assert_int_eq(af_oidc_status(AF_EOIDC_IDP_FAILED), 502);
    ck_assert_int_eq(af_oidc_token_response_parse(&t, 400, ok, strlen(ok), 1, pool),
                     AF_EOIDC_TOKEN_REJECTED);
    ck_assert_int_eq(af_oidc_token_response_parse(&t, 302, ok, strlen(ok), 1, pool),
                     AF_EOIDC_TOKEN_RESPONSE);
    s = "access_token=at&token_type=bearer";
    ck_assert_int_eq(af_oidc_token_response_parse(&t, 200, s, strlen(s), 1, pool),
                     AF_EOIDC_TOKEN_RESPONSE);
    s = "{\"access_token\":\"at\",\"token_type\":\"Bearer\"}";
    ck_assert_int_eq(af_oidc_token_response_parse(&t, 200, s, strlen(s), 1, pool),
                     AF_EOIDC_NO_ID_TOKEN);
    ck_assert_int_eq(af_oidc_token_response_parse(&t, 200, s, strlen(s), 0, pool), APR_SUCCESS);
    s = "{\"access_token\":\"at\",\"token_type\":\"mac\",\"id_token\":\"a.b.c\"}";
    ck_assert_int_eq(af_oidc_token_response_parse(&t, 200, s, strlen(s), 1, pool),
                     AF_EOIDC_TOKEN_TYPE);
    s = "{\"access_token\":\"at\",\"id_token\":\"a.b.c\"}";
    ck_assert_int_eq(af_oidc_token_response_parse(&t, 200, s, strlen(s), 1, pool),
                     AF_EOIDC_TOKEN_TYPE);
    s = "{\"error\":\"bad_verification_code\"}";
    ck_assert_int_eq(af_oidc_token_response_parse(&t, 200, s, strlen(s), 0, pool),
                     AF_EOIDC_TOKEN_REJECTED);
    s = "{\"access_token\":\"at\",\"access_token\":\"x\",\"token_type\":\"Bearer\"}";
    ck_assert_int_eq(af_oidc_token_response_parse(&t, 200, s, strlen(s), 0, pool),
                     AF_EOIDC_TOKEN_RESPONSE);
    s = "{\"access_token\":1,\"token_type\":\"Bearer\"}";
    ck_assert_int_eq(af_oidc_token_response_parse(&t, 200, s, strlen(s), 0, pool),
                     AF_EOIDC_TOKEN_RESPONSE);
    ck_assert_int_eq(af_oidc_status(AF_EOIDC_TOKEN_TYPE), 401);
    ck_assert_int_eq(af_oidc_status(AF_EOIDC_IDP_TIMEOUT), 504);
}
END_TEST

/* ---- GitHub, identity ----------------------------------------------------------------- */

START_TEST(test_D16_github_email_selection)
{
    json_t *e = NULL;
    const char *s;

    s = "{\"v\":[{\"email\":\"a@x\",\"verified\":false,\"primary\":true},"
        "{\"email\":\"b@x\",\"verified\":true,\"primary\":false},"
        "{\"email\":\"c@x\",\"verified\":true,\"primary\":true}]}";
    ck_assert_int_eq(af_json_parse(&e, s, strlen(s), 0, pool), APR_SUCCESS);
    ck_assert_str_eq(af_oidc_github_pick_email(json_object_get(e, "v")), "c@x");
    s = "{\"v\":[{\"email\":\"a@x\",\"verified\":false,\"primary\":true},"
        "{\"email\":\"b@x\",\"verified\":true,\"primary\":false},"
        "{\"email\":\"d@x\",\"verified\":\"true\",\"primary\":true}]}";
    ck_assert_int_eq(af_json_parse(&e, s, strlen(s), 0, pool), APR_SUCCESS);
    ck_assert_ptr_null(af_oidc_github_pick_email(json_object_get(e, "v")));
    ck_assert_ptr_null(af_oidc_github_pick_email(NULL));
}
END_TEST

static json_t *J(const char *s)
{
    json_t *j = NULL;

    ck_assert_int_eq(af_json_parse(&j, s, strlen(s), 0, pool), APR_SUCCESS);
    return j;
}

START_TEST(test_D16_github_identity)
{
    af_oidc_provider_t *gh = mkprov(NULL);
    af_oidc_identity_t *id = NULL;
    json_t *ui = J("{\"id\":12345678,\"login\":\"octocat\",\"name\":\"Mona\","
                   "\"email\":\"public@x\"}");

    gh->preset = AF_OIDC_PRESET_GITHUB;
    ck_assert_ptr_null(af_oidc_provider_check(gh, pool));
    ck_assert_int_eq(
        af_oidc_identity_build(&id, gh, af_oidc_meta_from_config(gh, pool), NULL, ui, NULL, pool),
        APR_SUCCESS);
    ck_assert_str_eq(id->sub, "12345678");
    ck_assert_str_eq(id->issuer, "https://github.com");
    ck_assert_str_eq(json_string_value(json_object_get(id->claims, "preferred_username")),
                     "octocat");
    ck_assert_ptr_null(json_object_get(id->claims, "email")); /* /user email is not verified */
    ck_assert_int_eq(
        af_oidc_identity_build(&id, gh, af_oidc_meta_from_config(gh, pool), NULL, ui, "c@x", pool),
        APR_SUCCESS);
    ck_assert_str_eq(json_string_value(json_object_get(id->claims, "email")), "c@x");
    ck_assert(json_is_true(json_object_get(id->claims, "email_verified")));
    /* the login name is never the subject */
    ui = J("{\"login\":\"octocat\"}");
    ck_assert_int_eq(
        af_oidc_identity_build(&id, gh, af_oidc_meta_from_config(gh, pool), NULL, ui, NULL, pool),
        AF_EOIDC_SUB);
}
END_TEST

START_TEST(test_D16_E12_oidc_identity)
{
    af_oidc_provider_t *g = mkprov("https://accounts.google.com");
    af_oidc_identity_t *id = NULL;
    af_oidc_kv_t *kv;
    json_t *idc = J("{\"iss\":\"https://accounts.google.com\",\"sub\":\"1077\",\"email\":"
                    "\"a@corp.example\",\"email_verified\":false,\"hd\":\"corp.example\","
                    "\"realm\":{\"roles\":[\"ops\"]}}");
    json_t *ui;

    kv = apr_array_push(g->claims);
    kv->key = "roles";
    kv->value = "realm.roles";
    ck_assert_ptr_null(af_oidc_provider_check(g, pool));
    ck_assert_int_eq(af_oidc_identity_build(&id, g, mkmeta(), idc, NULL, NULL, pool), APR_SUCCESS);
    ck_assert_str_eq(id->sub, "1077");
    ck_assert_str_eq(id->issuer, "https://accounts.google.com");
    ck_assert_ptr_null(json_object_get(id->claims, "email")); /* email_verified false */
    ck_assert_str_eq(json_string_value(json_object_get(id->claims, "hd")), "corp.example");
    ck_assert(json_is_array(json_object_get(id->claims, "roles")));

    ui = J("{\"sub\":\"1077\",\"email\":\"a@corp.example\",\"email_verified\":true}");
    ck_assert_int_eq(af_oidc_identity_build(&id, g, mkmeta(), idc, ui, NULL, pool), APR_SUCCESS);
    ck_assert_str_eq(json_string_value(json_object_get(id->claims, "email")), "a@corp.example");

    /* E12: userinfo about someone else */
    ui = J("{\"sub\":\"666\",\"email\":\"evil@x\",\"email_verified\":true}");
    ck_assert_int_eq(af_oidc_identity_build(&id, g, mkmeta(), idc, ui, NULL, pool),
                     AF_EOIDC_USERINFO_SUB);
    ui = J("{\"email\":\"evil@x\"}");
    ck_assert_int_eq(af_oidc_identity_build(&id, g, mkmeta(), idc, ui, NULL, pool),
                     AF_EOIDC_USERINFO_SUB);
    ck_assert_int_eq(af_oidc_status(AF_EOIDC_USERINFO_SUB), 401);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("oidc");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_C08_provider_check);
    tcase_add_test(tc, test_E10_C08_none_alg_config);
    tcase_add_test(tc, test_D17_presets);
    tcase_add_test(tc, test_D01_pkce_rfc7636_appendix_b);
    tcase_add_test(tc, test_D01_authorize_request);
    tcase_add_test(tc, test_D02_pkce_always_github);
    tcase_add_test(tc, test_flow_json_roundtrip);
    tcase_add_test(tc, test_D03_callback_parse);
    tcase_add_test(tc, test_H10_callback_query_limits);
    tcase_add_test(tc, test_D11_idp_error_response);
    tcase_add_test(tc, test_D03_D06_callback_binding);
    tcase_add_test(tc, test_E15_discovery);
    tcase_add_test(tc, test_E14_token_request_basic);
    tcase_add_test(tc, test_token_request_post);
    tcase_add_test(tc, test_D18_token_response);
    tcase_add_test(tc, test_D16_github_email_selection);
    tcase_add_test(tc, test_D16_github_identity);
    tcase_add_test(tc, test_D16_E12_oidc_identity);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return af_test_run(suite());
}
