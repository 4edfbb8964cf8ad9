/* af_testsite.c -- the session core's test site (af_testsite.h). */
#include <check.h>

#include <string.h>

#include "af_testsite.h"
#include "af_testutil.h"
#include "store/af_store_lmdb.h"
#include "token/af_token.h"

af_site_t *af_test_site(af_key_t *key, af_site_rt_t *rt, apr_pool_t *p)
{
    static const unsigned char secret[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    af_site_t *s = apr_pcalloc(p, sizeof(*s));

    s->base_url = "https://app.example.com";
    s->endpoint = "/auth";
    s->issuer = s->audience = s->base_url;
    s->signing_key = key;
    s->own_keys = af_keyset_make(p);
    af_keyset_add(s->own_keys, key);
    s->clock_skew = 60;
    s->access_ttl = 600;
    s->token_cache = 1;
    s->cookie_prefix = "__Host-authflow";
    s->cookie_at = "__Host-authflow-at";
    s->cookie_rt = "__Host-authflow-rt";
    s->cookie_flow = "__Host-authflow-flow";
    s->cookie_logout = "__Host-authflow-logout";
    s->cookie_secure = 1;
    s->samesite = "Lax";
    s->has_store = 1;
    s->token_claims = apr_array_make(p, 2, sizeof(const char *));
    APR_ARRAY_PUSH(s->token_claims, const char *) = "email";
    s->refresh_ttl = 14 * 86400;
    s->refresh_idle = 3 * 86400;
    s->reuse_grace = 10;
    ck_assert_int_eq(af_token_seal_key(&s->flow_key, secret, 32, s->cookie_flow, p), APR_SUCCESS);
    s->rt = rt;
    return s;
}

void af_test_rt_open(af_site_rt_t *rt, char *dir, apr_size_t dir_len, const char *prefix,
                     apr_pool_t *p)
{
    af_test_tmpdir(dir, dir_len, prefix);
    memset(rt, 0, sizeof(*rt));
    ck_assert_int_eq(af_store_lmdb_open(&rt->store, dir, 0, 0, 0, p), APR_SUCCESS);
}

void af_test_rt_close(af_site_rt_t *rt, const char *dir)
{
    af_store_close(rt->store);
    af_test_rmtree(dir);
}
