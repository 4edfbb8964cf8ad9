/* test_store.c -- the store, against real LMDB in a temp dir per test, or (AF_TEST_STORE=URI,
 * tools/run-unit.sh's second pass) real PostgreSQL in a fresh schema per test -- the same bodies:
 * G01 (nothing plaintext), G02 (rotation), G03 (reuse), G06 (lost response),
 * G07 (expiry, tombstones, sweep), G09 (revocation), G10 (MDB_MAP_FULL, 64-bit time),
 * D04 (single-use flows across processes).  Races and crashes: test_store_race.c. */
#include <check.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <openssl/sha.h>

#include <lmdb.h>

#include "common/af_b64.h"
#include "store/af_store.h"
#include "token/af_token.h"
#include "af_teststore.h"
#include "af_testutil.h"
#include "store_testutil.h"

#define T0    1700000000LL
#define TTL   (14 * 86400LL)
#define IDLE  (3 * 86400LL)
#define GRACE 10LL

static apr_pool_t *pool;
static char dir[64];
static const char *where; /* the store under test (af_teststore.h) */

static void setup(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    af_test_tmpdir(dir, sizeof(dir), "af_store");
}

static void teardown(void)
{
    af_test_store_drop(where);
    where = NULL;
    af_test_rmtree(dir);
    apr_pool_destroy(pool);
    apr_terminate();
}

/* mapsize 0: a fresh store of the backend under test; else LMDB with that map size */
static af_store_t *open_store(apr_size_t mapsize)
{
    af_store_t *st = NULL;

    if (mapsize == 0) {
        return af_test_store_fresh(&where, dir, pool);
    }
    ck_assert_int_eq(af_store_lmdb_open(&st, dir, mapsize, 0, 0, pool), APR_SUCCESS);
    return st;
}

static const char *login(af_store_t *st, const char *sub, af_store_family_t **fam_out)
{
    af_store_family_t *fam;
    const char *rt;

    ck_assert_int_eq(af_test_family_create(&fam, &rt, st, sub, "google", "{\"email\":\"a@b.c\"}",
                                           T0, TTL, IDLE, pool),
                     APR_SUCCESS);
    if (fam_out) {
        *fam_out = fam;
    }
    return rt;
}

static const char *rotate_ok(af_store_t *st, const char *rt, apr_int64_t now, int replayed)
{
    af_store_rotation_t *r = NULL;

    ck_assert_int_eq(af_test_rotate(&r, st, rt, strlen(rt), now, GRACE, 0, pool), APR_SUCCESS);
    ck_assert_int_eq(r->replayed, replayed);
    return r->refresh_token;
}

static apr_status_t rotate_rv(af_store_t *st, const char *rt, apr_int64_t now)
{
    af_store_rotation_t *r = NULL;

    return af_test_rotate(&r, st, rt, strlen(rt), now, GRACE, 0, pool);
}

/* ---- G01 ------------------------------------------------------------------------------ */

START_TEST(test_G01_dump_has_only_hashes)
{
    af_store_t *st = open_store(0);
    const char *rts[4];
    unsigned char *db, h[32], *raw;
    apr_size_t len, rlen;
    int i;

    rts[0] = login(st, "alice", NULL);
    rts[1] = rotate_ok(st, rts[0], T0 + 60, 0);
    rts[2] = rotate_ok(st, rts[1], T0 + 120, 0);
    rts[3] = rotate_ok(st, rts[1], T0 + 121, 1); /* grace: the successor is stored sealed */
    ck_assert_str_eq(rts[3], rts[2]);
    af_store_close(st);
    /* LMDB: the environment file; PostgreSQL: every table as text, bytea as hex */
    db = af_test_store_dump(&len, where, pool);
    for (i = 0; i < 3; i++) {
        ck_assert_uint_eq(strlen(rts[i]), AF_RT_LEN);
        ck_assert_msg(!af_test_dump_has(db, len, rts[i], AF_RT_LEN), "plaintext RT %d in db", i);
        ck_assert_msg(!af_test_dump_has(db, len, rts[i], 12), "RT prefix %d in db", i);
        ck_assert_int_eq(af_b64url_decode(&raw, &rlen, rts[i], AF_RT_LEN, pool), APR_SUCCESS);
        ck_assert_msg(!af_test_dump_has(db, len, raw, rlen), "raw RT bytes %d in db", i);
        SHA256((const unsigned char *) rts[i], AF_RT_LEN, h);
        ck_assert_msg(af_test_dump_has(db, len, h, 32), "hash of RT %d missing", i);
    }
}
END_TEST

/* ---- G02 ------------------------------------------------------------------------------ */

START_TEST(test_G02_rotation_keeps_family_and_expiry)
{
    af_store_t *st = open_store(0);
    af_store_family_t *fam, *after;
    af_store_rotation_t *r;
    af_store_stats_t stats;
    const char *rt = login(st, "alice", &fam);

    ck_assert_uint_eq(strlen(fam->sid), 22);
    ck_assert_int_eq(fam->expires, T0 + TTL);
    ck_assert_int_eq(af_test_rotate(&r, st, rt, strlen(rt), T0 + 3600, GRACE, 0, pool),
                     APR_SUCCESS);
    ck_assert_str_ne(r->refresh_token, rt);
    ck_assert_int_eq(af_token_refresh_check(r->refresh_token, strlen(r->refresh_token)),
                     APR_SUCCESS);
    ck_assert_uint_eq(r->generation, 2);
    ck_assert_int_eq(r->replayed, 0);
    ck_assert_str_eq(r->family->sid, fam->sid);
    ck_assert_int_eq(r->family->expires, T0 + TTL); /* not extended */
    ck_assert_int_eq(r->family->last_used, T0 + 3600);
    ck_assert_str_eq(r->family->sub, "alice");
    ck_assert_str_eq(r->family->claims_json, "{\"email\":\"a@b.c\"}");
    ck_assert_int_eq(af_store_family_get(&after, st, fam->sid, pool), APR_SUCCESS);
    ck_assert_uint_eq(after->generation, 2);
    ck_assert_uint_eq(after->rotations, 1);
    ck_assert_int_eq(after->expires, T0 + TTL);
    ck_assert_int_eq(after->revoked, 0);
    /* a chain of rotations, each just inside the idle timeout, never passes the expiry */
    {
        const char *cur = r->refresh_token;
        apr_int64_t now = T0 + 3600;
        while (now + IDLE - 1 < T0 + TTL) {
            now += IDLE - 1;
            cur = rotate_ok(st, cur, now, 0);
        }
        ck_assert_int_eq(rotate_rv(st, cur, T0 + TTL), AF_ESTORE_EXPIRED);
    }
    ck_assert_int_eq(af_store_stats(&stats, st, T0 + 3600), APR_SUCCESS);
    ck_assert_uint_eq(stats.logins, 1);
    ck_assert_uint_ge(stats.rotations, 2);
    ck_assert_uint_eq(stats.reuse_detections, 0);
}
END_TEST

/* ---- G03 ------------------------------------------------------------------------------ */

START_TEST(test_G03_reuse_after_grace_revokes_family)
{
    af_store_t *st = open_store(0);
    af_store_family_t *fam, *after;
    af_store_stats_t stats;
    const char *rt1 = login(st, "alice", &fam), *rt2;

    rt2 = rotate_ok(st, rt1, T0 + 100, 0);
    ck_assert_int_eq(rotate_rv(st, rt1, T0 + 100 + GRACE + 1), AF_ESTORE_REUSE);
    ck_assert_int_eq(af_store_family_get(&after, st, fam->sid, pool), APR_SUCCESS);
    ck_assert_int_eq(after->revoked, 1);
    ck_assert_int_eq(after->revoked_at, T0 + 100 + GRACE + 1);
    ck_assert_int_eq(af_store_family_is_revoked(st, fam->sid), AF_ESTORE_REVOKED);
    /* the live successor is dead too, and the old one stays dead */
    ck_assert_int_eq(rotate_rv(st, rt2, T0 + 120), AF_ESTORE_EXPIRED);
    ck_assert_int_eq(rotate_rv(st, rt1, T0 + 120), AF_ESTORE_EXPIRED);
    ck_assert_int_eq(af_store_stats(&stats, st, T0 + 120), APR_SUCCESS);
    ck_assert_uint_eq(stats.reuse_detections, 1);
    ck_assert_uint_eq(stats.active_families, 0);
}
END_TEST

START_TEST(test_G03_older_generation_inside_grace_revokes)
{
    af_store_t *st = open_store(0);
    af_store_family_t *fam;
    const char *rt1 = login(st, "alice", &fam), *rt2, *rt3;

    rt2 = rotate_ok(st, rt1, T0 + 100, 0);
    rt3 = rotate_ok(st, rt2, T0 + 101, 0);
    /* rt1 was rotated 2 s ago (inside grace) but is not the immediate predecessor */
    ck_assert_int_eq(rotate_rv(st, rt1, T0 + 102), AF_ESTORE_REUSE);
    ck_assert_int_eq(af_store_family_is_revoked(st, fam->sid), AF_ESTORE_REVOKED);
    ck_assert_int_eq(rotate_rv(st, rt3, T0 + 103), AF_ESTORE_EXPIRED);
}
END_TEST

START_TEST(test_G03_reuse_spares_other_families)
{
    af_store_t *st = open_store(0);
    af_store_family_t *fa, *fb;
    const char *a1 = login(st, "alice", &fa), *b1 = login(st, "alice", &fb);

    rotate_ok(st, a1, T0 + 1, 0);
    ck_assert_int_eq(rotate_rv(st, a1, T0 + 100), AF_ESTORE_REUSE);
    ck_assert_int_eq(af_store_family_is_revoked(st, fb->sid), APR_SUCCESS);
    rotate_ok(st, b1, T0 + 101, 0);
}
END_TEST

/* ---- G06 ------------------------------------------------------------------------------ */

START_TEST(test_G06_lost_response_converges)
{
    af_store_t *st = open_store(0);
    af_store_family_t *fam, *after;
    const char *rt1 = login(st, "alice", &fam), *rt2, *again, *rt3;

    rt2 = rotate_ok(st, rt1, T0 + 100, 0);
    /* the client never stored rt2 and retries with rt1, several times */
    again = rotate_ok(st, rt1, T0 + 101, 1);
    ck_assert_str_eq(again, rt2);
    again = rotate_ok(st, rt1, T0 + 100 + GRACE, 1);
    ck_assert_str_eq(again, rt2);
    ck_assert_int_eq(af_store_family_get(&after, st, fam->sid, pool), APR_SUCCESS);
    ck_assert_uint_eq(after->generation, 2); /* one live successor, not three */
    ck_assert_int_eq(after->revoked, 0);
    rt3 = rotate_ok(st, rt2, T0 + 200, 0);
    ck_assert_str_ne(rt3, rt2);
    ck_assert_int_eq(af_store_family_is_revoked(st, fam->sid), APR_SUCCESS);
}
END_TEST

START_TEST(test_G06_lost_response_after_grace_is_reuse)
{
    af_store_t *st = open_store(0);
    const char *rt1 = login(st, "alice", NULL);

    rotate_ok(st, rt1, T0 + 100, 0);
    ck_assert_int_eq(rotate_rv(st, rt1, T0 + 100 + GRACE + 1), AF_ESTORE_REUSE);
}
END_TEST

/* ---- G07 ------------------------------------------------------------------------------ */

START_TEST(test_G07_idle_timeout)
{
    af_store_t *st = open_store(0);
    const char *rt = login(st, "alice", NULL);

    ck_assert_int_eq(rotate_rv(st, rt, T0 + IDLE + 1), AF_ESTORE_EXPIRED);
    rt = login(st, "bob", NULL);
    rt = rotate_ok(st, rt, T0 + IDLE, 0); /* exactly at the limit: still fine */
    /* a per-call idle overrides the stored one */
    {
        af_store_rotation_t *r;
        ck_assert_int_eq(af_test_rotate(&r, st, rt, strlen(rt), T0 + IDLE + 61, GRACE, 60, pool),
                         AF_ESTORE_EXPIRED);
    }
}
END_TEST

START_TEST(test_G07_absolute_lifetime)
{
    af_store_t *st = open_store(0);
    af_store_family_t *fam;
    const char *rt;

    ck_assert_int_eq(af_test_family_create(&fam, &rt, st, "alice", "p", NULL, T0, 1000, 0, pool),
                     APR_SUCCESS);
    rt = rotate_ok(st, rt, T0 + 999, 0);
    ck_assert_int_eq(rotate_rv(st, rt, T0 + 1000), AF_ESTORE_EXPIRED);
}
END_TEST

START_TEST(test_G07_unknown_and_revoked)
{
    af_store_t *st = open_store(0);
    af_store_family_t *fam;
    const char *rt = login(st, "alice", &fam), *other;

    ck_assert_int_eq(af_token_refresh_new(&other, pool), APR_SUCCESS);
    ck_assert_int_eq(rotate_rv(st, other, T0 + 1), AF_ESTORE_UNKNOWN);
    ck_assert_int_eq(rotate_rv(st, "short", T0 + 1), AF_ESTORE_UNKNOWN);
    ck_assert_int_eq(rotate_rv(st, "", T0 + 1), AF_ESTORE_UNKNOWN);
    ck_assert_int_eq(af_store_family_revoke(st, fam->sid, T0 + 2, pool), APR_SUCCESS);
    ck_assert_int_eq(rotate_rv(st, rt, T0 + 3), AF_ESTORE_EXPIRED);
}
END_TEST

static int count_cb(void *baton, const af_store_family_t *fam)
{
    (*(int *) baton)++;
    return 0;
}

START_TEST(test_G07_tombstones_until_family_expiry)
{
    af_store_t *st = open_store(0);
    af_store_stats_t stats;
    apr_uint64_t purged = 99;
    const char *rt1 = login(st, "alice", NULL), *rt2;
    const char *flow = "flow-state-id";
    int n = 0;

    rt2 = rotate_ok(st, rt1, T0 + 100, 0);
    ck_assert_int_eq(af_store_flow_consume(st, flow, strlen(flow), T0 + 100, T0 + 600),
                     APR_SUCCESS);
    /* sweeping before the family's expiry keeps the rotated token for reuse detection */
    ck_assert_int_eq(af_store_sweep(&purged, st, T0 + 1000), APR_SUCCESS);
    ck_assert_uint_eq(purged, 1); /* only the flow */
    ck_assert_int_eq(af_store_stats(&stats, st, T0 + 1000), APR_SUCCESS);
    ck_assert_uint_eq(stats.tokens, 2);
    ck_assert_uint_eq(stats.flows, 0);
    ck_assert_int_eq(rotate_rv(st, rt1, T0 + 2000), AF_ESTORE_REUSE);
    /* at the family's absolute expiry everything goes */
    ck_assert_int_eq(af_store_sweep(&purged, st, T0 + TTL), APR_SUCCESS);
    ck_assert_uint_eq(purged, 3); /* family + 2 tokens */
    ck_assert_int_eq(af_store_stats(&stats, st, T0 + TTL), APR_SUCCESS);
    ck_assert_uint_eq(stats.tokens, 0);
    ck_assert_uint_eq(stats.families, 0);
    ck_assert_int_eq(rotate_rv(st, rt2, T0 + TTL), AF_ESTORE_UNKNOWN);
    ck_assert_int_eq(af_store_list(st, "alice", count_cb, &n, pool), APR_SUCCESS);
    ck_assert_int_eq(n, 0); /* the by_sub index was cleaned too */
}
END_TEST

START_TEST(test_G07_sweep_many_in_batches)
{
    af_store_t *st = open_store(0);
    af_store_stats_t stats;
    apr_uint64_t purged = 0;
    int i;

    for (i = 0; i < 600; i++) { /* 1200 records: more than one sweep batch */
        login(st, apr_psprintf(pool, "user%d", i % 10), NULL);
    }
    ck_assert_int_eq(af_store_sweep(&purged, st, T0 + TTL - 1), APR_SUCCESS);
    ck_assert_uint_eq(purged, 0);
    ck_assert_int_eq(af_store_sweep(&purged, st, T0 + TTL), APR_SUCCESS);
    ck_assert_uint_eq(purged, 1200);
    ck_assert_int_eq(af_store_stats(&stats, st, T0), APR_SUCCESS);
    ck_assert_uint_eq(stats.families, 0);
    ck_assert_uint_eq(stats.swept, 1200);
}
END_TEST

/* ---- G09 (store part) ---------------------------------------------------------------- */

START_TEST(test_G09_revoke_idempotent)
{
    af_store_t *st = open_store(0);
    af_store_family_t *fa, *fb, *fc, *got;
    af_store_stats_t stats;
    const char *a = login(st, "alice", &fa), *b;
    int count = -1, n = 0;

    b = login(st, "alice", &fb);
    login(st, "bob", &fc);
    ck_assert_int_eq(af_store_family_is_revoked(st, fa->sid), APR_SUCCESS);
    ck_assert_int_eq(af_store_family_revoke(st, fa->sid, T0 + 5, pool), APR_SUCCESS);
    ck_assert_int_eq(af_store_family_revoke(st, fa->sid, T0 + 6, pool), APR_SUCCESS);
    ck_assert_int_eq(af_store_family_get(&got, st, fa->sid, pool), APR_SUCCESS);
    ck_assert_int_eq(got->revoked_at, T0 + 5); /* the first revocation counts */
    ck_assert_int_eq(af_store_family_is_revoked(st, fa->sid), AF_ESTORE_REVOKED);
    ck_assert_int_eq(rotate_rv(st, a, T0 + 7), AF_ESTORE_EXPIRED);
    ck_assert_int_eq(af_store_family_revoke(st, "AAAAAAAAAAAAAAAAAAAAAA", T0, pool), AF_ENOTFOUND);
    ck_assert_int_eq(af_store_family_revoke(st, "nope", T0, pool), AF_ENOTFOUND);
    ck_assert_int_eq(af_store_family_is_revoked(st, "AAAAAAAAAAAAAAAAAAAAAA"), AF_ESTORE_UNKNOWN);
    /* sign alice out everywhere: one more family; again: none */
    ck_assert_int_eq(af_store_revoke_sub(&count, st, "alice", T0 + 8, pool), APR_SUCCESS);
    ck_assert_int_eq(count, 1);
    ck_assert_int_eq(af_store_revoke_sub(&count, st, "alice", T0 + 9, pool), APR_SUCCESS);
    ck_assert_int_eq(count, 0);
    ck_assert_int_eq(rotate_rv(st, b, T0 + 10), AF_ESTORE_EXPIRED);
    ck_assert_int_eq(af_store_family_is_revoked(st, fc->sid), APR_SUCCESS); /* bob untouched */
    ck_assert_int_eq(af_store_list(st, NULL, count_cb, &n, pool), APR_SUCCESS);
    ck_assert_int_eq(n, 3);
    ck_assert_int_eq(af_store_stats(&stats, st, T0 + 10), APR_SUCCESS);
    ck_assert_uint_eq(stats.revocations, 2);
    ck_assert_uint_eq(stats.active_families, 1);
}
END_TEST

/* ---- E20: the IdP session index (back-channel logout by sid) -------------------------- */

static af_store_family_t *login_sid(af_store_t *st, const char *sub, const char *provider,
                                    const char *idp_sid, apr_int64_t now)
{
    af_store_login_in_t in;
    af_store_family_t *fam = NULL;
    const char *rt = NULL;

    memset(&in, 0, sizeof(in));
    in.sub = sub;
    in.provider = provider;
    in.idp_sid = idp_sid;
    in.now = now;
    in.ttl = TTL;
    in.idle = IDLE;
    ck_assert_int_eq(af_store_family_create(&fam, &rt, st, &in, pool), APR_SUCCESS);
    return fam;
}

START_TEST(test_E20_revoke_by_idp_sid)
{
    af_store_t *st = open_store(0);
    af_store_family_t *a1 = login_sid(st, "u1@op", "op", "S1", T0);
    af_store_family_t *a2 = login_sid(st, "u1@op", "op", "S1", T0 + 1); /* second tab's login */
    af_store_family_t *b = login_sid(st, "u2@op", "op", "S1", T0 + 2);  /* same sid, other sub */
    af_store_family_t *c = login_sid(st, "u1@op", "op", "S2", T0 + 3);  /* other IdP session */
    af_store_family_t *d = login_sid(st, "u1@other", "other", "S1", T0 + 4); /* other provider */
    af_store_family_t *e = login_sid(st, "u1@op", "op", NULL, T0 + 5);       /* no sid */
    int count = -1;

    /* unknown sid: nothing; malformed input: refused */
    ck_assert_int_eq(af_store_revoke_idp_sid(&count, st, "op", "S9", NULL, T0 + 10, pool),
                     APR_SUCCESS);
    ck_assert_int_eq(count, 0);
    ck_assert_int_eq(af_store_revoke_idp_sid(&count, st, "op", "", NULL, T0 + 10, pool),
                     APR_EINVAL);
    ck_assert_int_eq(af_store_revoke_idp_sid(&count, st, "", "S1", NULL, T0 + 10, pool),
                     APR_EINVAL);
    /* sid with sub: only that subject's logins of that session */
    ck_assert_int_eq(af_store_revoke_idp_sid(&count, st, "op", "S1", "u2@op", T0 + 11, pool),
                     APR_SUCCESS);
    ck_assert_int_eq(count, 1);
    ck_assert_int_eq(af_store_family_is_revoked(st, b->sid), AF_ESTORE_REVOKED);
    ck_assert_int_eq(af_store_family_is_revoked(st, a1->sid), APR_SUCCESS);
    /* sid alone: every login of that session at that provider, none elsewhere */
    ck_assert_int_eq(af_store_revoke_idp_sid(&count, st, "op", "S1", NULL, T0 + 12, pool),
                     APR_SUCCESS);
    ck_assert_int_eq(count, 2);
    ck_assert_int_eq(af_store_family_is_revoked(st, a1->sid), AF_ESTORE_REVOKED);
    ck_assert_int_eq(af_store_family_is_revoked(st, a2->sid), AF_ESTORE_REVOKED);
    ck_assert_int_eq(af_store_family_is_revoked(st, c->sid), APR_SUCCESS);
    ck_assert_int_eq(af_store_family_is_revoked(st, d->sid), APR_SUCCESS);
    ck_assert_int_eq(af_store_family_is_revoked(st, e->sid), APR_SUCCESS);
    /* again: idempotent */
    ck_assert_int_eq(af_store_revoke_idp_sid(&count, st, "op", "S1", NULL, T0 + 13, pool),
                     APR_SUCCESS);
    ck_assert_int_eq(count, 0);
}
END_TEST

START_TEST(test_E20_idp_sid_index_swept_with_family)
{
    af_store_t *st = open_store(0);
    af_store_family_t *a = login_sid(st, "u1@op", "op", "S1", T0), *b;
    apr_uint64_t purged = 0;
    int count = -1;

    /* a sid longer than the store records: the login is made, not indexed */
    char *big = apr_pcalloc(pool, AF_STORE_IDP_SID_MAX + 2);
    memset(big, 'x', AF_STORE_IDP_SID_MAX + 1);
    b = login_sid(st, "u1@op", "op", big, T0);
    ck_assert_int_eq(af_store_family_is_revoked(st, b->sid), APR_SUCCESS);
    ck_assert_int_eq(af_store_revoke_idp_sid(&count, st, "op", big, NULL, T0 + 1, pool),
                     APR_EINVAL);
    ck_assert_int_eq(af_store_family_is_revoked(st, b->sid), APR_SUCCESS);
    ck_assert_int_eq(af_store_sweep(&purged, st, T0 + TTL), APR_SUCCESS);
    /* 2 families, 2 tokens; LMDB also counts the one by_idp_sid entry it purged */
    ck_assert_uint_eq(purged, af_test_store_is_pg() ? 4 : 5);
    ck_assert_int_eq(af_store_family_is_revoked(st, a->sid), AF_ESTORE_UNKNOWN);
    /* a new login of the same IdP session after the sweep is found, and only it */
    a = login_sid(st, "u1@op", "op", "S1", T0 + TTL + 1);
    ck_assert_int_eq(af_store_revoke_idp_sid(&count, st, "op", "S1", NULL, T0 + TTL + 2, pool),
                     APR_SUCCESS);
    ck_assert_int_eq(count, 1);
    ck_assert_int_eq(af_store_family_is_revoked(st, a->sid), AF_ESTORE_REVOKED);
    ck_assert_int_eq(af_store_sweep(&purged, st, T0 + 3 * TTL), APR_SUCCESS);
    ck_assert_int_eq(af_store_revoke_idp_sid(&count, st, "op", "S1", NULL, T0 + 3 * TTL, pool),
                     APR_SUCCESS);
    ck_assert_int_eq(count, 0);
    if (!af_test_store_is_pg()) {
        af_store_stats_t stats;
        ck_assert_int_eq(af_store_stats(&stats, st, T0 + 3 * TTL), APR_SUCCESS);
        ck_assert_uint_eq(stats.families, 0);
    }
}
END_TEST

/* ---- G10 ------------------------------------------------------------------------------ */

START_TEST(test_G10_map_full_fails_closed)
{
    enum { MAXF = 4096 };
    af_store_t *st = open_store(64 * 1024);
    af_store_family_t *fam = NULL, *before, *after, *fams[MAXF];
    af_store_rotation_t *r;
    const char *rt = NULL, *next, *rts[MAXF];
    apr_status_t rv = APR_SUCCESS;
    int i = 0, j, k, n;

    /* fill the map with logins until LMDB says MDB_MAP_FULL, then rotate them (a login
     * grows up to AF_STORE_KEEP_ROTATED rotated tokens) until a rotation hits it too */
    for (n = 0; n < MAXF && rv == APR_SUCCESS; n += rv == APR_SUCCESS) {
        rv = af_test_family_create(&fams[n], &rts[n], st, apr_psprintf(pool, "user%d", n), "p",
                                   NULL, T0, TTL, IDLE, pool);
    }
    ck_assert_int_eq(rv, AF_ESTORE_FULL);
    for (j = n - 1; j >= 0 && rt == NULL; j--) {
        for (k = 0; k <= AF_STORE_KEEP_ROTATED; k++, i++) {
            rv = af_test_rotate(&r, st, rts[j], strlen(rts[j]), T0 + i, 0, 0, pool);
            if (rv != APR_SUCCESS) {
                rt = rts[j];
                fam = fams[j];
                break;
            }
            rts[j] = r->refresh_token;
        }
    }
    ck_assert_ptr_nonnull(rt);
    ck_assert_int_eq(rv, AF_ESTORE_FULL);
    ck_assert_int_eq(af_store_family_get(&before, st, fam->sid, pool), APR_SUCCESS);
    /* reads still work; the presented token was not consumed */
    ck_assert_int_eq(af_store_family_is_revoked(st, fam->sid), APR_SUCCESS);
    ck_assert_int_eq(af_test_rotate(&r, st, rt, strlen(rt), T0 + i, 0, 0, pool), AF_ESTORE_FULL);
    ck_assert_int_eq(af_test_family_create(&fam, &next, st, "bob", "p", NULL, T0, TTL, IDLE, pool),
                     AF_ESTORE_FULL);
    af_store_close(st);
    /* with room again, the very same token rotates normally (it was still active) */
    st = open_store(1024 * 1024);
    ck_assert_int_eq(af_test_rotate(&r, st, rt, strlen(rt), T0 + i, 0, 0, pool), APR_SUCCESS);
    ck_assert_int_eq(r->replayed, 0);
    ck_assert_uint_eq(r->generation, before->generation + 1);
    ck_assert_int_eq(af_store_family_get(&after, st, before->sid, pool), APR_SUCCESS);
    ck_assert_int_eq(after->revoked, 0);
}
END_TEST

START_TEST(test_G10_timestamps_after_2038)
{
    af_store_t *st = open_store(0);
    af_store_family_t *fam, *got;
    const apr_int64_t t = 5000000000LL; /* year 2128 */
    const char *rt, *rt2;
    apr_uint64_t purged;

    ck_assert_int_eq(af_test_family_create(&fam, &rt, st, "alice", "p", NULL, t, TTL, IDLE, pool),
                     APR_SUCCESS);
    rt2 = rotate_ok(st, rt, t + 100, 0);
    ck_assert_int_eq(af_store_family_get(&got, st, fam->sid, pool), APR_SUCCESS);
    ck_assert_int_eq(got->created, t);
    ck_assert_int_eq(got->expires, t + TTL);
    ck_assert_int_eq(got->last_used, t + 100);
    ck_assert_str_eq(rotate_ok(st, rt, t + 100 + GRACE, 1), rt2);
    ck_assert_int_eq(rotate_rv(st, rt, t + 100 + GRACE + 1), AF_ESTORE_REUSE);
    /* sweeping at a 2038-era time must not purge a 2128 family */
    ck_assert_int_eq(af_store_sweep(&purged, st, 2147483648LL), APR_SUCCESS);
    ck_assert_uint_eq(purged, 0);
    ck_assert_int_eq(af_store_sweep(&purged, st, t + TTL), APR_SUCCESS);
    ck_assert_uint_eq(purged, 3);
}
END_TEST

START_TEST(test_G10_readers_full_fails_closed)
{
    af_store_t *st = NULL;
    af_store_family_t *fam, *got;
    af_store_rotation_t *r;
    const char *rt;
    int ready[2], hold[2], status;
    pid_t pid;
    char c;

    /* the first opener sizes the reader table: one slot */
    ck_assert_int_eq(af_store_lmdb_open(&st, dir, 0, 1, 0, pool), APR_SUCCESS);
    rt = login(st, "alice", &fam);
    ck_assert_int_eq(af_store_family_is_revoked(st, fam->sid), APR_SUCCESS); /* slot freed */
    ck_assert_int_eq(pipe(ready), 0);
    ck_assert_int_eq(pipe(hold), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        MDB_env *env;
        MDB_txn *txn;
        close(ready[0]);
        close(hold[1]);
        if (mdb_env_create(&env) || mdb_env_set_maxdbs(env, 8) ||
            mdb_env_open(env, dir, MDB_NOTLS, 0600) || mdb_txn_begin(env, NULL, MDB_RDONLY, &txn)) {
            _exit(1);
        }
        if (write(ready[1], "r", 1) != 1 || read(hold[0], &c, 1) < 0) {
            _exit(2);
        }
        _exit(0); /* holds the only reader slot, then dies without releasing it */
    }
    close(ready[1]);
    close(hold[0]);
    ck_assert_int_eq(read(ready[0], &c, 1), 1);
    /* reads fail closed (the gate answers 503 / DENY), nothing is assumed */
    ck_assert_int_eq(af_store_family_is_revoked(st, fam->sid), AF_ESTORE_BUSY);
    ck_assert_int_eq(af_store_family_get(&got, st, fam->sid, pool), AF_ESTORE_BUSY);
    /* writers need no reader slot: rotation still works */
    rt = rotate_ok(st, rt, T0 + 1, 0);
    ck_assert_int_eq(write(hold[1], "g", 1), 1);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* the dead process's slot is reclaimed on the next READERS_FULL (mdb_reader_check) */
    ck_assert_int_eq(af_store_family_is_revoked(st, fam->sid), APR_SUCCESS);
    ck_assert_int_eq(af_test_rotate(&r, st, rt, strlen(rt), T0 + 2, GRACE, 0, pool), APR_SUCCESS);
}
END_TEST

/* ---- prepare / open ------------------------------------------------------------------ */

START_TEST(test_G10_prepare_creates_private_env)
{
    char *sub = apr_pstrcat(pool, dir, "/env", NULL);
    struct stat s;
    af_store_t *st;

    ck_assert_int_eq(af_store_lmdb_prepare(sub, -1, -1, 0, pool), APR_SUCCESS);
    ck_assert_int_eq(stat(sub, &s), 0);
    ck_assert_int_eq(s.st_mode & 0777, 0700);
    ck_assert_int_eq(stat(apr_pstrcat(pool, sub, "/data.mdb", NULL), &s), 0);
    ck_assert_int_eq(s.st_mode & 0777, 0600);
    ck_assert_int_eq(af_store_lmdb_open(&st, sub, 0, 0, 0, pool), APR_SUCCESS);
    ck_assert_int_eq(af_store_stale_readers(st), 0);
    ck_assert_int_ne(
        af_store_lmdb_open(&st, apr_pstrcat(pool, dir, "/missing", NULL), 0, 0, 0, pool),
        APR_SUCCESS);
}
END_TEST

/* An environment made before by_idp_sid existed: read-only tools open it as it is; the
 * module (a writer) adds the db and records IdP sessions from then on. */
START_TEST(test_E20_lmdb_environment_without_idp_sid_index)
{
    char *env = apr_pstrcat(pool, dir, "/old", NULL);
    af_store_family_t *fam = NULL;
    af_store_t *st = NULL;
    MDB_env *e = NULL;
    MDB_txn *txn = NULL;
    MDB_dbi dbi;
    int count = -1;

    ck_assert_int_eq(af_store_lmdb_prepare(env, -1, -1, 0, pool), APR_SUCCESS);
    /* drop the db as an older module never made it */
    ck_assert_int_eq(mdb_env_create(&e), 0);
    ck_assert_int_eq(mdb_env_set_maxdbs(e, 8), 0);
    ck_assert_int_eq(mdb_env_open(e, env, 0, 0600), 0);
    ck_assert_int_eq(mdb_txn_begin(e, NULL, 0, &txn), 0);
    ck_assert_int_eq(mdb_dbi_open(txn, "by_idp_sid", MDB_DUPSORT, &dbi), 0);
    ck_assert_int_eq(mdb_drop(txn, dbi, 1), 0);
    ck_assert_int_eq(mdb_txn_commit(txn), 0);
    mdb_env_close(e);
    ck_assert_int_eq(af_store_lmdb_open(&st, env, 0, 0, AF_STORE_RDONLY, pool), APR_SUCCESS);
    ck_assert_int_eq(af_store_revoke_idp_sid(&count, st, "op", "S1", NULL, T0, pool), APR_SUCCESS);
    ck_assert_int_eq(count, 0);
    af_store_close(st);
    ck_assert_int_eq(af_store_lmdb_open(&st, env, 0, 0, 0, pool), APR_SUCCESS);
    fam = login_sid(st, "u@op", "op", "S1", T0);
    ck_assert_int_eq(af_store_revoke_idp_sid(&count, st, "op", "S1", NULL, T0 + 1, pool),
                     APR_SUCCESS);
    ck_assert_int_eq(count, 1);
    ck_assert_int_eq(af_store_family_is_revoked(st, fam->sid), AF_ESTORE_REVOKED);
}
END_TEST

/* ---- D04 (store part) ---------------------------------------------------------------- */

START_TEST(test_D04_flow_single_use_across_processes)
{
    enum { N = 8 };
    af_store_t *st = open_store(0);
    const char *id = "state-0123456789abcdef";
    int i, wins = 0, replays = 0, status, gate[2];
    pid_t pids[N];
    char c;

    ck_assert_int_eq(af_store_flow_consume(st, "x", 1, T0, T0 + 600), APR_SUCCESS);
    ck_assert_int_eq(af_store_flow_consume(st, "x", 1, T0, T0 + 600), AF_ESTORE_REPLAY);
    af_store_close(st);
    ck_assert_int_eq(pipe(gate), 0);
    for (i = 0; i < N; i++) {
        pids[i] = fork();
        ck_assert_int_ge(pids[i], 0);
        if (pids[i] == 0) {
            apr_pool_t *cp;
            af_store_t *cs;
            apr_status_t rv;

            close(gate[1]);
            apr_pool_create(&cp, NULL);
            if (af_test_store_open(&cs, where, cp) != APR_SUCCESS) { /* after fork */
                _exit(3);
            }
            if (read(gate[0], &c, 1) < 0) {
                _exit(4);
            }
            rv = af_store_flow_consume(cs, id, strlen(id), T0, T0 + 600);
            _exit(rv == APR_SUCCESS ? 0 : rv == AF_ESTORE_REPLAY ? 1 : 2);
        }
    }
    close(gate[0]);
    close(gate[1]); /* everyone starts now */
    for (i = 0; i < N; i++) {
        ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
        ck_assert(WIFEXITED(status));
        if (WEXITSTATUS(status) == 0) {
            wins++;
        } else if (WEXITSTATUS(status) == 1) {
            replays++;
        }
    }
    ck_assert_int_eq(wins, 1);
    ck_assert_int_eq(replays, N - 1);
}
END_TEST

/* ---- E20 (store part): a consumed id given back ----------------------------------------- */

START_TEST(test_E20_flow_release_gives_one_id_back)
{
    af_store_t *st = open_store(0);
    af_store_stats_t stats;
    apr_uint64_t purged = 99;
    char longid[1025];

    /* nothing recorded: a no-op */
    ck_assert_int_eq(af_store_flow_release(st, "never", 5), APR_SUCCESS);
    ck_assert_int_eq(af_store_flow_consume(st, "a", 1, T0, T0 + 600), APR_SUCCESS);
    ck_assert_int_eq(af_store_flow_consume(st, "b", 1, T0, T0 + 900), APR_SUCCESS);
    ck_assert_int_eq(af_store_flow_release(st, "a", 1), APR_SUCCESS);
    ck_assert_int_eq(af_store_stats(&stats, st, T0), APR_SUCCESS);
    ck_assert_uint_eq(stats.flows, 1);
    /* released: it may be taken once more, and only once */
    ck_assert_int_eq(af_store_flow_consume(st, "a", 1, T0 + 1, T0 + 601), APR_SUCCESS);
    ck_assert_int_eq(af_store_flow_consume(st, "a", 1, T0 + 1, T0 + 601), AF_ESTORE_REPLAY);
    /* the other id is untouched; releasing twice is a no-op */
    ck_assert_int_eq(af_store_flow_consume(st, "b", 1, T0 + 1, T0 + 900), AF_ESTORE_REPLAY);
    ck_assert_int_eq(af_store_flow_release(st, "a", 1), APR_SUCCESS);
    ck_assert_int_eq(af_store_flow_release(st, "a", 1), APR_SUCCESS);
    /* its expiry went with it (LMDB: by_expiry): the sweep finds only b */
    ck_assert_int_eq(af_store_sweep(&purged, st, T0 + 10000), APR_SUCCESS);
    ck_assert_uint_eq(purged, 1);
    ck_assert_int_eq(af_store_stats(&stats, st, T0 + 10000), APR_SUCCESS);
    ck_assert_uint_eq(stats.flows, 0);
    /* the bounds of flow_consume */
    memset(longid, 'x', sizeof(longid));
    ck_assert_int_eq(af_store_flow_release(st, NULL, 0), APR_EINVAL);
    ck_assert_int_eq(af_store_flow_release(st, "a", 0), APR_EINVAL);
    ck_assert_int_eq(af_store_flow_release(st, longid, sizeof(longid)), APR_EINVAL);
}
END_TEST

/* ---- the password throttle (af_store_throttle) ------------------------------------------- */

START_TEST(test_PW_throttle_window_counts_and_resets)
{
    af_store_t *st = open_store(0);
    const char *k = "u-key-0123456789", *k2 = "a-key-0123456789";
    apr_int64_t n = -1, reset = -1;
    apr_uint64_t purged = 0;
    unsigned char *db;
    apr_size_t len = 0;
    int i;

    /* nothing yet: a read says 0 and writes nothing */
    ck_assert_int_eq(af_store_throttle(&n, &reset, st, k, strlen(k), T0, 900, 0), APR_SUCCESS);
    ck_assert_int_eq(n, 0);
    ck_assert_int_eq(reset, 0);
    for (i = 1; i <= 3; i++) {
        ck_assert_int_eq(af_store_throttle(&n, &reset, st, k, strlen(k), T0 + i, 900, 1),
                         APR_SUCCESS);
        ck_assert_int_eq(n, i);
        ck_assert_int_eq(reset, T0 + 1 + 900); /* the window opened at the first failure */
    }
    ck_assert_int_eq(af_store_throttle(&n, &reset, st, k, strlen(k), T0 + 899, 900, 0),
                     APR_SUCCESS);
    ck_assert_int_eq(n, 3);
    /* another key counts apart */
    ck_assert_int_eq(af_store_throttle(&n, &reset, st, k2, strlen(k2), T0 + 5, 900, 1),
                     APR_SUCCESS);
    ck_assert_int_eq(n, 1);
    /* the window is over: a read says 0, the next failure opens a new one */
    ck_assert_int_eq(af_store_throttle(&n, &reset, st, k, strlen(k), T0 + 901, 900, 0),
                     APR_SUCCESS);
    ck_assert_int_eq(n, 0);
    ck_assert_int_eq(af_store_throttle(&n, &reset, st, k, strlen(k), T0 + 901, 900, 1),
                     APR_SUCCESS);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(reset, T0 + 901 + 900);
    /* a clock set back (the window's end further away than one window): starts again */
    ck_assert_int_eq(af_store_throttle(&n, &reset, st, k, strlen(k), T0 - 5000, 900, 1),
                     APR_SUCCESS);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(reset, T0 - 5000 + 900);
    /* the key itself is never stored, only its hash */
    db = af_test_store_dump(&len, where, pool);
    ck_assert_ptr_nonnull(db);
    ck_assert(!af_test_dump_has(db, len, k, strlen(k)));
    ck_assert(!af_test_dump_has(db, len, k2, strlen(k2)));
    /* swept when the windows are over */
    ck_assert_int_eq(af_store_sweep(&purged, st, T0 + 10000), APR_SUCCESS);
    ck_assert_int_eq(purged, 2); /* the two records (a reset window left no stale entry) */
    ck_assert_int_eq(af_store_throttle(&n, &reset, st, k2, strlen(k2), T0 + 10000, 900, 0),
                     APR_SUCCESS);
    ck_assert_int_eq(n, 0);
    /* bad arguments */
    ck_assert_int_eq(af_store_throttle(&n, &reset, st, "", 0, T0, 900, 1), APR_EINVAL);
    ck_assert_int_eq(af_store_throttle(&n, &reset, st, k, strlen(k), T0, 0, 1), APR_EINVAL);
    af_store_close(st);
}
END_TEST

START_TEST(test_PW_throttle_counts_across_processes)
{
    enum { N = 8, EACH = 5 };
    af_store_t *st = open_store(0);
    const char *k = "u-shared-key";
    apr_int64_t n = 0, reset = 0;
    int i, j, status, gate[2];
    pid_t pids[N];
    char c;

    af_store_close(st);
    ck_assert_int_eq(pipe(gate), 0);
    for (i = 0; i < N; i++) {
        pids[i] = fork();
        ck_assert_int_ge(pids[i], 0);
        if (pids[i] == 0) {
            apr_pool_t *cp;
            af_store_t *cs;
            apr_int64_t cn, cr;

            close(gate[1]);
            apr_pool_create(&cp, NULL);
            if (af_test_store_open(&cs, where, cp) != APR_SUCCESS) {
                _exit(3);
            }
            if (read(gate[0], &c, 1) < 0) {
                _exit(4);
            }
            for (j = 0; j < EACH; j++) {
                if (af_store_throttle(&cn, &cr, cs, k, strlen(k), T0, 900, 1) != APR_SUCCESS) {
                    _exit(2);
                }
            }
            _exit(0);
        }
    }
    close(gate[0]);
    close(gate[1]);
    for (i = 0; i < N; i++) {
        ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    ck_assert_int_eq(af_test_store_open(&st, where, pool), APR_SUCCESS);
    ck_assert_int_eq(af_store_throttle(&n, &reset, st, k, strlen(k), T0 + 1, 900, 0), APR_SUCCESS);
    ck_assert_int_eq(n, N * EACH); /* no failure lost */
    af_store_close(st);
}
END_TEST

int main(void)
{
    Suite *s = suite_create(apr_psprintf(af_test_pool(), "store (%s)", af_test_store_kind()));
    TCase *tc = tcase_create("store");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_G01_dump_has_only_hashes);
    tcase_add_test(tc, test_G02_rotation_keeps_family_and_expiry);
    tcase_add_test(tc, test_G03_reuse_after_grace_revokes_family);
    tcase_add_test(tc, test_G03_older_generation_inside_grace_revokes);
    tcase_add_test(tc, test_G03_reuse_spares_other_families);
    tcase_add_test(tc, test_G06_lost_response_converges);
    tcase_add_test(tc, test_G06_lost_response_after_grace_is_reuse);
    tcase_add_test(tc, test_G07_idle_timeout);
    tcase_add_test(tc, test_G07_absolute_lifetime);
    tcase_add_test(tc, test_G07_unknown_and_revoked);
    tcase_add_test(tc, test_G07_tombstones_until_family_expiry);
    tcase_add_test(tc, test_G07_sweep_many_in_batches);
    tcase_add_test(tc, test_G09_revoke_idempotent);
    tcase_add_test(tc, test_G10_timestamps_after_2038);
    tcase_add_test(tc, test_E20_revoke_by_idp_sid);
    tcase_add_test(tc, test_E20_idp_sid_index_swept_with_family);
    if (!af_test_store_is_pg()) { /* LMDB's own failure modes (PostgreSQL's: test_store_pg.c) */
        tcase_add_test(tc, test_G10_map_full_fails_closed);
        tcase_add_test(tc, test_G10_readers_full_fails_closed);
        tcase_add_test(tc, test_G10_prepare_creates_private_env);
        tcase_add_test(tc, test_E20_lmdb_environment_without_idp_sid_index);
    }
    tcase_add_test(tc, test_D04_flow_single_use_across_processes);
    tcase_add_test(tc, test_E20_flow_release_gives_one_id_back);
    tcase_add_test(tc, test_PW_throttle_window_counts_and_resets);
    tcase_add_test(tc, test_PW_throttle_counts_across_processes);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
