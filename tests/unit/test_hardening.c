/* test_hardening.c -- issue 10 (hardening) at the core layer:
 *   item 2  a rotation whose successor has not reached the browser (pending) is never held
 *           against the old token; delivery starts the grace; real reuse still revokes (G06,
 *           G03, against real LMDB, or PostgreSQL with AF_TEST_STORE=URI)
 *   item 8  one mint path: claims left out until the token fits a cookie (F04)
 *   item 9  our subject is the IdP's namespaced by the provider (H05) */
#include <check.h>
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "common/af_json.h"
#include "jose/af_jwk.h"
#include "store/af_store.h"
#include "token/af_token.h"
#include "af_teststore.h"
#include "af_testutil.h"
#include "store_testutil.h"

#define T0    1700000000LL
#define TTL   (14 * 86400LL)
#define GRACE 10LL

static apr_pool_t *pool;
static char dir[64];
static af_store_t *st;
static const char *where;

static void setup(void)
{
    pool = af_test_pool();
    af_test_tmpdir(dir, sizeof(dir), "af_hard");
    st = af_test_store_fresh(&where, dir, pool);
}

static void teardown(void)
{
    af_store_close(st);
    af_test_store_drop(where);
    af_test_rmtree(dir);
    apr_pool_destroy(pool);
}

static apr_status_t rot(af_store_rotation_t **r, const char *rt, apr_int64_t now, int pending)
{
    af_store_rotate_in_t in;

    memset(&in, 0, sizeof(in));
    in.rt = rt;
    in.rt_len = strlen(rt);
    in.now = now;
    in.grace = GRACE;
    in.pending = pending;
    return af_store_rotate(r, st, &in, pool);
}

static const char *login(const char **sid)
{
    af_store_family_t *fam;
    const char *rt;

    ck_assert_int_eq(
        af_test_family_create(&fam, &rt, st, "alice@idp", "idp", "{}", T0, TTL, 0, pool),
        APR_SUCCESS);
    *sid = fam->sid;
    return rt;
}

static int revoked(const char *sid)
{
    return af_store_family_is_revoked(st, sid) == AF_ESTORE_REVOKED;
}

START_TEST(test_G06_pending_rotation_not_held_against_old_token)
{
    af_store_rotation_t *a, *b, *c;
    const char *sid, *rt1 = login(&sid);

    /* the gate rotates inline; its answer is slow to reach the browser */
    ck_assert_int_eq(rot(&a, rt1, T0 + 100, 1), APR_SUCCESS);
    ck_assert_int_eq(a->replayed, 0);
    /* another tab, long after the grace: the same successor, no revocation */
    ck_assert_int_eq(rot(&b, rt1, T0 + 100 + 5 * GRACE, 1), APR_SUCCESS);
    ck_assert_int_eq(b->replayed, 1);
    ck_assert_str_eq(b->refresh_token, a->refresh_token);
    ck_assert(!revoked(sid));
    /* the slow answer went out: the grace starts now */
    ck_assert_int_eq(af_store_delivered(st, rt1, strlen(rt1), T0 + 1000), APR_SUCCESS);
    ck_assert_int_eq(rot(&c, rt1, T0 + 1000 + GRACE, 0), APR_SUCCESS);
    ck_assert_int_eq(c->replayed, 1);
    ck_assert_str_eq(c->refresh_token, a->refresh_token);
    /* after the grace that followed the delivery: a reuse, the login is revoked */
    ck_assert_int_eq(rot(&c, rt1, T0 + 1000 + GRACE + 1, 0), AF_ESTORE_REUSE);
    ck_assert(revoked(sid));
}
END_TEST

START_TEST(test_G06_pending_replay_answered_at_once_delivers)
{
    af_store_rotation_t *a, *b, *c;
    const char *sid, *rt1 = login(&sid);

    ck_assert_int_eq(rot(&a, rt1, T0 + 100, 1), APR_SUCCESS);
    /* the refresh endpoint (answers at once) gets the successor: delivered at T0 + 500 */
    ck_assert_int_eq(rot(&b, rt1, T0 + 500, 0), APR_SUCCESS);
    ck_assert_int_eq(b->replayed, 1);
    ck_assert_int_eq(rot(&c, rt1, T0 + 500 + GRACE, 0), APR_SUCCESS);
    ck_assert_int_eq(rot(&c, rt1, T0 + 500 + GRACE + 1, 0), AF_ESTORE_REUSE);
    ck_assert(revoked(sid));
}
END_TEST

START_TEST(test_G03_pending_predecessor_after_successor_used_is_reuse)
{
    af_store_rotation_t *a, *b, *c;
    const char *sid, *rt1 = login(&sid);

    ck_assert_int_eq(rot(&a, rt1, T0 + 100, 1), APR_SUCCESS);
    /* the successor is used (rotated) by its holder: rt1 is now two generations old */
    ck_assert_int_eq(rot(&b, a->refresh_token, T0 + 200, 0), APR_SUCCESS);
    ck_assert_int_eq(rot(&c, rt1, T0 + 201, 1), AF_ESTORE_REUSE);
    ck_assert(revoked(sid));
}
END_TEST

START_TEST(test_G06_delivered_is_idempotent_and_ignores_unknown)
{
    af_store_rotation_t *a;
    const char *sid, *rt1 = login(&sid), *junk = "not-a-token";

    ck_assert_int_eq(af_store_delivered(st, junk, strlen(junk), T0), APR_SUCCESS);
    ck_assert_int_eq(af_store_delivered(st, rt1, strlen(rt1), T0), APR_SUCCESS); /* active */
    ck_assert_int_eq(rot(&a, rt1, T0 + 100, 1), APR_SUCCESS);
    ck_assert_int_eq(af_store_delivered(st, rt1, strlen(rt1), T0 + 100), APR_SUCCESS);
    /* a second delivery (the other tab's answer) does not move the grace window */
    ck_assert_int_eq(af_store_delivered(st, rt1, strlen(rt1), T0 + 100 + GRACE), APR_SUCCESS);
    ck_assert_int_eq(rot(&a, rt1, T0 + 100 + GRACE + 1, 0), AF_ESTORE_REUSE);
    ck_assert(revoked(sid));
}
END_TEST

/* ---- item 8: one mint path --------------------------------------------------------------- */

START_TEST(test_F04_mint_fit_leaves_claims_out_from_the_end)
{
    af_key_t *key = NULL;
    apr_array_header_t *names = apr_array_make(pool, 4, sizeof(const char *));
    json_t *claims = af_json_pool_own(json_object(), pool), *groups = json_array();
    af_token_access_t in;
    const char *at = NULL;
    int i, dropped = -1;

    ck_assert_int_eq(af_key_generate(&key, AF_ALG_ES256, "k", pool), APR_SUCCESS);
    for (i = 0; i < 300; i++) {
        json_array_append_new(groups, json_string(apr_psprintf(pool, "group-%03d-platform", i)));
    }
    json_object_set_new(claims, "sub", json_string("raw-subject"));
    json_object_set_new(claims, "email", json_string("a@example.com"));
    json_object_set_new(claims, "groups", groups);
    APR_ARRAY_PUSH(names, const char *) = "email";
    APR_ARRAY_PUSH(names, const char *) = "groups";
    memset(&in, 0, sizeof(in));
    in.key = key;
    in.iss = in.aud = "https://app.example.com";
    in.sub = "raw-subject@idp";
    in.sid = "sid-0123456789abcdefgh";
    in.idp = "idp";
    in.idp_sub = "raw-subject";
    in.ttl = 600;
    in.now = T0;
    in.claims = claims;
    in.claim_names = names;
    in.cookie_name_len = strlen("__Host-authflow-at");
    /* the plain mint refuses it ... */
    ck_assert_int_eq(af_token_mint_access2(&at, &in, pool), AF_ETOKEN_TOOBIG);
    /* ... the one mint path drops "groups" (the last name) and keeps "email" */
    ck_assert_int_eq(af_token_mint_access_fit(&at, &dropped, &in, pool), APR_SUCCESS);
    ck_assert_int_eq(dropped, 1);
    ck_assert_ptr_nonnull(strstr(at, "."));
    ck_assert_int_eq(names->nelts, 2); /* the configured list is not changed */
    /* a small login drops nothing */
    json_object_del(claims, "groups");
    ck_assert_int_eq(af_token_mint_access_fit(&at, &dropped, &in, pool), APR_SUCCESS);
    ck_assert_int_eq(dropped, 0);
    ck_assert(af_token_claim_is_reserved("idp_sub"));
}
END_TEST

/* ---- item 9: subjects --------------------------------------------------------------------- */

START_TEST(test_H05_subject_namespaced_by_provider)
{
    const char *s = NULL;
    char big[300];

    ck_assert_int_eq(af_token_subject(&s, "alice", "one", pool), APR_SUCCESS);
    ck_assert_str_eq(s, "alice@one");
    ck_assert_int_eq(af_token_subject(&s, "alice", "two", pool), APR_SUCCESS);
    ck_assert_str_eq(s, "alice@two");
    /* an IdP subject with '@' stays unambiguous: the provider never has one */
    ck_assert_int_eq(af_token_subject(&s, "a@b", "kakao", pool), APR_SUCCESS);
    ck_assert_str_eq(s, "a@b@kakao");
    ck_assert_int_eq(af_token_subject(&s, "a", "bad@name", pool), APR_EINVAL);
    ck_assert_int_eq(af_token_subject(&s, "", "one", pool), APR_EINVAL);
    ck_assert_int_eq(af_token_subject(&s, "a\nb", "one", pool), APR_EINVAL);
    memset(big, 'x', sizeof(big));
    big[251] = '\0'; /* 251 + '@' + "one" = 255 */
    ck_assert_int_eq(af_token_subject(&s, big, "one", pool), APR_SUCCESS);
    big[251] = 'x';
    big[252] = '\0';
    ck_assert_int_eq(af_token_subject(&s, big, "one", pool), APR_EINVAL);
}
END_TEST

static Suite *suite(void)
{
    Suite *s =
        suite_create(apr_psprintf(af_test_pool(), "test_hardening (%s)", af_test_store_kind()));
    TCase *tc = tcase_create("store");
    TCase *tt = tcase_create("token");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_G06_pending_rotation_not_held_against_old_token);
    tcase_add_test(tc, test_G06_pending_replay_answered_at_once_delivers);
    tcase_add_test(tc, test_G03_pending_predecessor_after_successor_used_is_reuse);
    tcase_add_test(tc, test_G06_delivered_is_idempotent_and_ignores_unknown);
    suite_add_tcase(s, tc);
    tcase_add_checked_fixture(tt, setup, teardown);
    tcase_add_test(tt, test_F04_mint_fit_leaves_claims_out_from_the_end);
    tcase_add_test(tt, test_H05_subject_namespaced_by_provider);
    suite_add_tcase(s, tt);
    return s;
}

int main(void)
{
    return af_test_run(suite());
}
