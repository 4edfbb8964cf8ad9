/* fuzz_oidc.c -- libFuzzer target: the untrusted inputs of src/oidc.
 *
 * The first byte picks the parser, the rest is its input:
 *   0 callback query (af_oidc_callback_parse)      -- from the browser
 *   1 discovery document (af_oidc_discovery_parse) -- from the IdP
 *   2 token response (af_oidc_token_response_parse) -- from the IdP
 *   3 flow state JSON (af_oidc_flow_from_json)      -- after unsealing
 *   4 id_token (af_oidc_id_token_validate, no keys; alg none configured for half the runs)
 *   5 back-channel logout token (af_oidc_logout_token_validate): as given, and -- when the
 *     input is a JSON object -- as the payload of a token signed HS256 with the client secret
 *     (HS256 configured), so that the logout claim checks see arbitrary JSON
 *     (from the IdP, or anyone who can reach <endpoint>/backchannel/NAME)
 *   6 a profile API answer (af_oidc_identity_build through af_oidc_profile_normalize): Kakao's
 *     /v2/user/me, or Naver's /v1/nid/me with the high bit set   -- from the IdP
 *   7 a Kakao unlink callback body (af_oidc_event_parse)         -- from anyone
 *   8 Apple's "user" form field (af_oidc_apple_user_claims)  -- from the browser, unsigned
 *   9 Apple notification body (af_oidc_apple_event_parse, no keys) -- from anyone
 * Invariants (a violation traps): a parsed callback has non-empty state and code; an IdP error
 * is a short [A-Za-z0-9_.-] token; accepted discovery endpoints pass af_url_ok and the
 * issuer equals the configured one; a parsed flow round-trips through af_oidc_flow_to_json;
 * an accepted logout token has a jti and a sub or sid, and an unsigned one is never accepted;
 * a built identity has a subject and an email only with email_verified true (never for
 * Naver's default EmailVerified never); an accepted unlink names a subject of 1..20 digits;
 * the Apple user field only ever adds given_name / family_name / name (never sub or email); an
 * Apple notification never verifies without keys.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "common/af_json.h"
#include "common/af_log.h"
#include "common/af_url.h"
#include "jose/af_jws.h"
#include "oidc/af_oidc.h"

static apr_pool_t *fuzz_root;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    if (apr_initialize() != APR_SUCCESS || apr_pool_create(&fuzz_root, NULL) != APR_SUCCESS) {
        abort();
    }
    af_log_set(NULL, NULL, 0);
    return 0;
}

static af_oidc_provider_t *fuzz_provider(int none, apr_pool_t *p)
{
    af_oidc_provider_t *prov = af_oidc_provider_make("fuzz", p);

    prov->issuer = "https://idp.example";
    prov->client_id = "client-1";
    prov->client_secret = "s3cret-with-at-least-32-bytes-for-hs256!";
    prov->redirect_uri = "https://app.example/auth/callback";
    prov->token_endpoint = "https://idp.example/token";
    if (none) {
        APR_ARRAY_PUSH(prov->id_token_algs, const char *) = "none";
    }
    if (af_oidc_provider_check(prov, p) != NULL) {
        abort();
    }
    return prov;
}

static void check_callback(const char *in, apr_pool_t *p)
{
    af_oidc_cbparams_t *cb = NULL;
    apr_status_t rv = af_oidc_callback_parse(&cb, in, p);
    const char *s;

    if (rv == APR_SUCCESS) {
        if (cb->state == NULL || *cb->state == '\0' || cb->code == NULL || *cb->code == '\0') {
            __builtin_trap();
        }
    } else if (rv == AF_EOIDC_IDP_ERROR) {
        if (cb->error == NULL || strlen(cb->error) > 64) {
            __builtin_trap();
        }
        for (s = cb->error; *s; s++) {
            if (!(strchr("_.-", *s) != NULL || (*s >= 'a' && *s <= 'z') ||
                  (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9'))) {
                __builtin_trap();
            }
        }
    }
}

static void check_discovery(const char *in, size_t len, apr_pool_t *p)
{
    af_oidc_meta_t *m = NULL;
    af_oidc_provider_t *prov = fuzz_provider(0, p);

    prov->token_endpoint = NULL;
    if (af_oidc_discovery_parse(&m, prov, in, len, p) == APR_SUCCESS) {
        if (strcmp(m->issuer, prov->issuer) != 0 || !af_url_ok(m->authorization_endpoint) ||
            !af_url_ok(m->token_endpoint) || !af_url_ok(m->jwks_uri) ||
            (m->userinfo_endpoint != NULL && !af_url_ok(m->userinfo_endpoint))) {
            __builtin_trap();
        }
    }
}

static void check_flow(const char *in, size_t len, apr_pool_t *p)
{
    af_oidc_flow_t *f = NULL, *g = NULL;
    const char *j;

    if (af_oidc_flow_from_json(&f, in, len, p) == APR_SUCCESS) {
        j = af_oidc_flow_to_json(f, p);
        if (j == NULL || af_oidc_flow_from_json(&g, j, strlen(j), p) != APR_SUCCESS ||
            strcmp(f->state, g->state) != 0 || strcmp(f->verifier, g->verifier) != 0 ||
            f->max_age != g->max_age || (f->acr_values == NULL) != (g->acr_values == NULL) ||
            (f->acr_values != NULL && strcmp(f->acr_values, g->acr_values) != 0)) {
            __builtin_trap();
        }
    }
}

static void check_profile(const char *in, size_t len, int naver, apr_pool_t *p)
{
    af_oidc_provider_t *prov = af_oidc_provider_make("fuzz", p);
    af_oidc_identity_t *id = NULL;
    json_t *ui = NULL, *idc = NULL;
    const json_t *email;

    prov->preset = naver ? AF_OIDC_PRESET_NAVER : AF_OIDC_PRESET_KAKAO;
    prov->client_id = "client-1";
    prov->client_secret = "s";
    prov->redirect_uri = "https://app.example/auth/callback";
    if (af_oidc_provider_check(prov, p) != NULL ||
        af_json_parse(&ui, in, len, 0, p) != APR_SUCCESS) {
        return;
    }
    if (!naver) {
        idc = af_json_pool_own(
            json_pack("{s:s, s:s}", "iss", "https://kauth.kakao.com", "sub", "4242"), p);
    }
    if (af_oidc_identity_build(&id, prov, af_oidc_meta_from_config(prov, p), idc, ui, NULL, p) ==
        APR_SUCCESS) {
        email = json_object_get(id->claims, "email");
        if (id->sub == NULL || *id->sub == '\0' || (!naver && strcmp(id->sub, "4242") != 0) ||
            (email != NULL &&
             (naver || !json_is_true(json_object_get(id->claims, "email_verified"))))) {
            __builtin_trap();
        }
    }
}

static void check_event(const char *in, size_t len, apr_pool_t *p)
{
    af_oidc_provider_t *prov = af_oidc_provider_make("fuzz", p);
    af_oidc_event_in_t ein = {"KakaoAK admin-key", "application/x-www-form-urlencoded", in, len, 0};
    af_oidc_event_t *ev = NULL;
    const char *s;

    prov->preset = AF_OIDC_PRESET_KAKAO;
    prov->client_id = "client-1";
    prov->redirect_uri = "https://app.example/auth/callback";
    prov->admin_key = "admin-key";
    if (af_oidc_provider_check(prov, p) != NULL) {
        abort();
    }
    if (af_oidc_event_parse(&ev, prov, &ein, p) == APR_SUCCESS) {
        if (ev->sub == NULL || *ev->sub == '\0' || strlen(ev->sub) > 20 || !ev->revoke) {
            __builtin_trap();
        }
        for (s = ev->sub; *s; s++) {
            if (*s < '0' || *s > '9') {
                __builtin_trap();
            }
        }
    }
}

static void logout_accepted(const af_oidc_logout_t *lo)
{
    if (lo->jti == NULL || *lo->jti == '\0' || (lo->sub == NULL && lo->sid == NULL)) {
        __builtin_trap();
    }
}

static void check_logout(const char *in, size_t len, apr_pool_t *p)
{
    af_oidc_provider_t *prov = fuzz_provider(0, p);
    af_oidc_meta_t *m = af_oidc_meta_from_config(prov, p);
    af_oidc_logout_t *lo = NULL;
    af_key_t *k = NULL;
    const char *why = NULL, *tok = NULL;

    if (af_oidc_logout_token_validate(&lo, prov, m, NULL, in, 1700000000, p) == APR_SUCCESS) {
        __builtin_trap(); /* without keys and without HS256, nothing validates */
    }
    if (len == 0 || in[0] != '{') {
        return;
    }
    APR_ARRAY_PUSH(prov->id_token_algs, const char *) = "HS256";
    if (af_key_from_secret(&k, (const unsigned char *) prov->client_secret,
                           strlen(prov->client_secret), AF_ALG_HS256, NULL, &why,
                           p) != APR_SUCCESS ||
        af_jws_sign(&tok, k, "logout+jwt", (const unsigned char *) in, len, p) != APR_SUCCESS) {
        abort();
    }
    if (af_oidc_logout_token_validate(&lo, prov, m, NULL, tok, 1700000000, p) == APR_SUCCESS) {
        logout_accepted(lo);
    }
}

static void check_apple_user(const char *in, apr_pool_t *p)
{
    json_t *c = json_object();
    const char *k;
    json_t *v;

    if (af_oidc_apple_user_claims(c, in, p) == APR_SUCCESS) {
        json_object_foreach(c, k, v)
        {
            if ((strcmp(k, "given_name") != 0 && strcmp(k, "family_name") != 0 &&
                 strcmp(k, "name") != 0) ||
                !json_is_string(v) || json_string_length(v) > 2 * 128 + 1) {
                __builtin_trap();
            }
        }
    }
    json_decref(c);
}

static void check_apple_event(const char *in, size_t len, apr_pool_t *p)
{
    af_oidc_provider_t *prov = fuzz_provider(0, p);
    af_oidc_meta_t *m = af_oidc_meta_from_config(prov, p);
    af_oidc_apple_event_t *ev = NULL;

    if (af_oidc_apple_event_parse(&ev, prov, m, NULL, in, len, 1700000000, p) == APR_SUCCESS) {
        __builtin_trap(); /* nothing verifies without keys */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    af_oidc_tokens_t *t = NULL;
    json_t *claims = NULL;
    char *in;
    size_t len;

    if (size < 1 || size > 64 * 1024) {
        return 0;
    }
    apr_pool_create(&p, fuzz_root);
    len = size - 1;
    in = apr_pstrmemdup(p, (const char *) data + 1, len); /* NUL-terminated copy */
    switch ((data[0] & 0x7f) % 10) {
    case 0:
        check_callback(in, p);
        break;
    case 1:
        check_discovery(in, len, p);
        break;
    case 2:
        if (af_oidc_token_response_parse(&t, 200, in, len, 1, p) == APR_SUCCESS &&
            (t->access_token == NULL || t->id_token == NULL)) {
            __builtin_trap();
        }
        break;
    case 3:
        check_flow(in, len, p);
        break;
    case 5:
        check_logout(in, len, p);
        break;
    case 6:
        check_profile(in, len, data[0] & 0x80, p);
        break;
    case 7:
        check_event(in, len, p);
        break;
    case 8:
        check_apple_user(in, p);
        break;
    case 9:
        check_apple_event(in, len, p);
        break;
    default: {
        af_oidc_provider_t *prov = fuzz_provider(data[0] & 0x80, p);
        af_oidc_meta_t *m = af_oidc_meta_from_config(prov, p);
        af_oidc_idcheck_t chk = {1700000000, "nonce-0123456789abcdefgh", "at"};
        if (af_oidc_id_token_validate(&claims, prov, m, NULL, in, &chk, p) == APR_SUCCESS &&
            !(data[0] & 0x80)) {
            __builtin_trap(); /* without keys and without "none", nothing validates */
        }
        break;
    }
    }
    apr_pool_destroy(p);
    return 0;
}
