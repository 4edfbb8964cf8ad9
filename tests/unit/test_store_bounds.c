/* test_store_bounds.c -- the store's growth and its failure modes, real LMDB (issue 10); the
 * tests that are not about LMDB's map also run on PostgreSQL (AF_TEST_STORE=URI):
 * G07 rotated tokens are kept per login only as long as they can matter (a ring of the
 * last AF_STORE_KEEP_ROTATED), a long-lived login fits a small map, consumed login flows
 * purge expired records as they go; G10 a full map is logged once per interval, not once
 * per failed request; H07 a map grown by another process (a graceful restart that raised
 * AuthFlowStoreMapSize) is not remapped under other threads' readers. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "common/af_log.h"
#include "store/af_store.h"
#include "store/lmdb_int.h"
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
    af_test_tmpdir(dir, sizeof(dir), "af_bounds");
}

static void teardown(void)
{
    af_log_set(NULL, NULL, 0);
    af_test_log_clear();
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

/* Rotate in a scratch pool; the successor is copied into p. */
static apr_status_t rotate(const char **next, af_store_t *st, const char *rt, apr_int64_t now,
                           apr_pool_t *p)
{
    af_store_rotation_t *r = NULL;
    apr_pool_t *it;
    apr_status_t rv;

    apr_pool_create(&it, p);
    rv = af_test_rotate(&r, st, rt, strlen(rt), now, GRACE, 0, it);
    if (rv == APR_SUCCESS && next != NULL) {
        *next = apr_pstrdup(p, r->refresh_token);
    }
    apr_pool_destroy(it);
    return rv;
}

static int count_lines(const char *needle)
{
    int i, n = 0;

    for (i = 0; i < af_test_log_count(); i++) {
        n += strstr(af_test_log_line(i), needle) != NULL;
    }
    return n;
}

/* ---- G07: rotated tokens bounded per login -------------------------------------------- */

START_TEST(test_G07_rotated_tokens_bounded_per_login)
{
    af_store_t *st = open_store(0);
    af_store_family_t *fa, *fb, *got;
    af_store_stats_t stats;
    const char *a = login(st, "alice", &fa), *b = login(st, "bob", &fb);
    int i;

    for (i = 0; i < 3 * AF_STORE_KEEP_ROTATED; i++) {
        ck_assert_int_eq(rotate(&a, st, a, T0 + 100 + i, pool), APR_SUCCESS);
    }
    ck_assert_int_eq(rotate(&b, st, b, T0 + 100, pool), APR_SUCCESS);
    ck_assert_int_eq(af_store_stats(&stats, st, T0 + 1000), APR_SUCCESS);
    /* alice: her live token plus the last K rotated ones; bob: 2 */
    ck_assert_uint_eq(stats.tokens, AF_STORE_KEEP_ROTATED + 1 + 2);
    ck_assert_int_eq(af_store_family_get(&got, st, fa->sid, pool), APR_SUCCESS);
    ck_assert_uint_eq(got->generation, 3 * AF_STORE_KEEP_ROTATED + 1);
    ck_assert_uint_eq(got->rotations, 3 * AF_STORE_KEEP_ROTATED);
    ck_assert_int_eq(got->revoked, 0);
}
END_TEST

START_TEST(test_G07_token_older_than_ring_is_unknown)
{
    af_store_t *st = open_store(0);
    af_store_family_t *fam, *got;
    const char *gen[AF_STORE_KEEP_ROTATED + 4];
    int i, n = AF_STORE_KEEP_ROTATED + 3;

    gen[1] = login(st, "alice", &fam);
    for (i = 2; i <= n; i++) {
        ck_assert_int_eq(rotate(&gen[i], st, gen[i - 1], T0 + 100 + i, pool), APR_SUCCESS);
    }
    /* generations 1 and 2 fell out of the ring: simply unknown, the login lives on */
    ck_assert_int_eq(rotate(NULL, st, gen[1], T0 + 1000, pool), AF_ESTORE_UNKNOWN);
    ck_assert_int_eq(rotate(NULL, st, gen[2], T0 + 1000, pool), AF_ESTORE_UNKNOWN);
    ck_assert_int_eq(af_store_family_get(&got, st, fam->sid, pool), APR_SUCCESS);
    ck_assert_int_eq(got->revoked, 0);
    /* the immediate predecessor still gets grace, and the current token still rotates */
    ck_assert_int_eq(rotate(NULL, st, gen[n - 1], T0 + 100 + n, pool), APR_SUCCESS);
    /* the oldest generation still in the ring: reuse, the whole login is revoked */
    ck_assert_int_eq(rotate(NULL, st, gen[3], T0 + 1000, pool), AF_ESTORE_REUSE);
    ck_assert_int_eq(af_store_family_is_revoked(st, fam->sid), AF_ESTORE_REVOKED);
    ck_assert_int_eq(rotate(NULL, st, gen[n], T0 + 1001, pool), AF_ESTORE_EXPIRED);
}
END_TEST

START_TEST(test_G07_long_login_fits_a_small_map)
{
    af_store_t *st = open_store(1024 * 1024);
    const char *rt;
    apr_pool_t *p;
    apr_status_t rv = APR_SUCCESS;
    int i;

    apr_pool_create(&p, pool);
    rt = login(st, "alice", NULL);
    /* ~390 bytes per kept rotation would fill 1 MiB after ~2700 rotations */
    for (i = 0; i < 6000 && rv == APR_SUCCESS; i++) {
        rv = rotate(&rt, st, rt, T0 + i, p);
        if (i % 500 == 499) { /* keep the test's own memory flat */
            rt = apr_pstrdup(pool, rt);
            apr_pool_clear(p);
            rt = apr_pstrdup(p, rt);
        }
    }
    ck_assert_msg(rv == APR_SUCCESS, "rotation %d failed: %s", i, af_strerror(rv));
}
END_TEST

START_TEST(test_G07_version1_login_records_still_work)
{
    af_store_t *st = open_store(0);
    lm_t *lm = st->impl;
    af_store_family_t *fam, *got;
    MDB_txn *txn;
    MDB_val k, v;
    lm_fam_t f;
    unsigned char *enc, *v1;
    apr_size_t len;
    const char *g1 = login(st, "alice", &fam), *g2, *g3, *g4;

    ck_assert_int_eq(rotate(&g2, st, g1, T0 + 10, pool), APR_SUCCESS);
    ck_assert_int_eq(rotate(&g3, st, g2, T0 + 20, pool), APR_SUCCESS);
    /* rewrite the login as a version-1 record (no ring), as an older module wrote it */
    ck_assert_int_eq(mdb_txn_begin(lm->env, NULL, 0, &txn), 0);
    k.mv_size = 22;
    k.mv_data = (void *) fam->sid;
    ck_assert_int_eq(mdb_get(txn, lm->families, &k, &v), 0);
    ck_assert_int_eq(((unsigned char *) v.mv_data)[0], 2);
    ck_assert_int_eq(af_lm_fam_decode(&f, &v), APR_SUCCESS);
    ck_assert_uint_eq(f.ring_n, 2);
    f.ring_n = 0;
    enc = af_lm_fam_encode(&len, &f, pool);
    v1 = apr_palloc(pool, len - 4);
    memcpy(v1, enc, 92);
    memcpy(v1 + 92, enc + 96, len - 96);
    v1[0] = 1;
    v.mv_size = len - 4;
    v.mv_data = v1;
    ck_assert_int_eq(mdb_put(txn, lm->families, &k, &v, 0), 0);
    ck_assert_int_eq(mdb_txn_commit(txn), 0);
    /* read, checked and rotated as before */
    ck_assert_int_eq(af_store_family_get(&got, st, fam->sid, pool), APR_SUCCESS);
    ck_assert_uint_eq(got->generation, 3);
    ck_assert_str_eq(got->sub, "alice");
    ck_assert_str_eq(got->claims_json, "{\"email\":\"a@b.c\"}");
    ck_assert_int_eq(af_store_family_is_revoked(st, fam->sid), APR_SUCCESS);
    ck_assert_int_eq(rotate(&g4, st, g3, T0 + 30, pool), APR_SUCCESS);
    ck_assert_int_eq(rotate(NULL, st, g3, T0 + 31, pool), APR_SUCCESS); /* grace */
    /* the tombstones of the version-1 days still detect reuse */
    ck_assert_int_eq(rotate(NULL, st, g1, T0 + 100, pool), AF_ESTORE_REUSE);
    ck_assert_int_eq(af_store_family_is_revoked(st, fam->sid), AF_ESTORE_REVOKED);
}
END_TEST

START_TEST(test_G07_sweep_frees_a_full_map)
{
    af_store_t *st = open_store(1024 * 1024);
    af_store_family_t *fam;
    af_store_stats_t stats;
    apr_uint64_t purged = 0;
    const char *rt;
    apr_status_t rv = APR_SUCCESS;
    int i, n = 0;

    for (i = 0; i < 10000 && rv == APR_SUCCESS; i++) {
        rv = af_test_family_create(&fam, &rt, st, apr_psprintf(pool, "user%d", i), "p", NULL,
                                   T0 + i, 600, 0, pool);
        n += rv == APR_SUCCESS;
    }
    ck_assert_int_eq(rv, AF_ESTORE_FULL);
    /* once the logins have expired, the sweep makes room again, full map or not */
    ck_assert_int_eq(af_store_sweep(&purged, st, T0 + 10000 + 600), APR_SUCCESS);
    ck_assert_uint_eq(purged, 2 * (apr_uint64_t) n);
    ck_assert_int_eq(af_store_stats(&stats, st, T0), APR_SUCCESS);
    ck_assert_uint_eq(stats.families, 0);
    ck_assert_int_eq(af_test_family_create(&fam, &rt, st, "bob", "p", NULL, T0, TTL, IDLE, pool),
                     APR_SUCCESS);
}
END_TEST

/* ---- G07: consumed flows purge expired records --------------------------------------- */

START_TEST(test_G07_flow_consume_purges_expired)
{
    af_store_t *st = open_store(0);
    af_store_stats_t stats;
    char id[32];
    int i;

    for (i = 0; i < 100; i++) {
        snprintf(id, sizeof(id), "old-flow-%d", i);
        ck_assert_int_eq(af_store_flow_consume(st, id, strlen(id), T0, T0 + 600), APR_SUCCESS);
    }
    /* later (past their expiry), each consume also removes up to 4 expired ones */
    for (i = 0; i < 10; i++) {
        snprintf(id, sizeof(id), "new-flow-%d", i);
        ck_assert_int_eq(af_store_flow_consume(st, id, strlen(id), T0 + 1000, T0 + 1600),
                         APR_SUCCESS);
    }
    ck_assert_int_eq(af_store_stats(&stats, st, T0 + 1000), APR_SUCCESS);
    ck_assert_uint_eq(stats.flows, 100 - 40 + 10);
    /* a live flow is still single-use */
    ck_assert_int_eq(af_store_flow_consume(st, "new-flow-3", 10, T0 + 1000, T0 + 1600),
                     AF_ESTORE_REPLAY);
    ck_assert_uint_eq(stats.swept, 40);
}
END_TEST

/* ---- G07: one sweep per interval, whoever runs it --------------------------------------- */

START_TEST(test_G07_lease_one_holder_per_interval)
{
    enum { N = 6 };
    af_store_t *st = open_store(0);
    int got = -1, i, status, wins = 0, gate[2];
    pid_t pids[N];
    char c;

    ck_assert_int_eq(af_store_lease(&got, st, "sweep", T0, 600), APR_SUCCESS);
    ck_assert_int_eq(got, 1);
    ck_assert_int_eq(af_store_lease(&got, st, "sweep", T0 + 599, 600), APR_SUCCESS);
    ck_assert_int_eq(got, 0);
    ck_assert_int_eq(af_store_lease(&got, st, "other", T0 + 599, 600), APR_SUCCESS);
    ck_assert_int_eq(got, 1);
    ck_assert_int_eq(af_store_lease(&got, st, "sweep", T0 + 600, 600), APR_SUCCESS);
    ck_assert_int_eq(got, 1);
    /* a clock set back (the lease lies in the future) does not lock the sweep out */
    ck_assert_int_eq(af_store_lease(&got, st, "sweep", T0, 600), APR_SUCCESS);
    ck_assert_int_eq(got, 1);
    ck_assert_int_eq(af_store_lease(&got, st, "", T0, 600), APR_EINVAL);
    af_store_close(st);
    /* processes asking at once: exactly one gets it */
    ck_assert_int_eq(pipe(gate), 0);
    for (i = 0; i < N; i++) {
        pids[i] = fork();
        ck_assert_int_ge(pids[i], 0);
        if (pids[i] == 0) {
            apr_pool_t *cp;
            af_store_t *cs;

            close(gate[1]);
            apr_pool_create(&cp, NULL);
            if (af_test_store_open(&cs, where, cp) != APR_SUCCESS || read(gate[0], &c, 1) < 0 ||
                af_store_lease(&got, cs, "sweep", T0 + 5000, 600) != APR_SUCCESS) {
                _exit(3);
            }
            _exit(got);
        }
    }
    close(gate[0]);
    close(gate[1]);
    for (i = 0; i < N; i++) {
        ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) <= 1);
        wins += WEXITSTATUS(status);
    }
    ck_assert_int_eq(wins, 1);
}
END_TEST

/* ---- G10: a full map is logged once per interval --------------------------------------- */

START_TEST(test_G10_map_full_logged_once)
{
    af_store_t *st = open_store(64 * 1024);
    af_store_family_t *fam;
    const char *rt = NULL, *first;
    apr_status_t rv = APR_SUCCESS;
    int i;

    first = login(st, "alice", NULL);
    for (i = 0; i < 10000 && rv == APR_SUCCESS; i++) {
        rv = af_test_family_create(&fam, &rt, st, apr_psprintf(pool, "user%d", i), "p", NULL, T0,
                                   TTL, IDLE, pool);
    }
    ck_assert_int_eq(rv, AF_ESTORE_FULL);
    af_test_log_capture(AF_LOG_DEBUG);
    for (i = 0; i < 200; i++) {
        ck_assert_int_eq(rotate(NULL, st, first, T0 + 1, pool), AF_ESTORE_FULL);
        ck_assert_int_eq(
            af_test_family_create(&fam, &rt, st, "bob", "p", NULL, T0, TTL, IDLE, pool),
            AF_ESTORE_FULL);
    }
    /* 400 failures: at most one error line per operation kind */
    ck_assert_int_le(count_lines("store_full"), 2);
    ck_assert_int_ge(count_lines("store_full"), 1);
}
END_TEST

START_TEST(test_G10_new_logins_leave_a_reserve)
{
    af_store_t *st = open_store(1024 * 1024);
    af_store_family_t *fam;
    apr_uint64_t size = 0, used = 0;
    const char *rt, *first, *next;
    apr_status_t rv = APR_SUCCESS;
    int i;

    first = login(st, "alice", NULL);
    for (i = 0; i < 10000 && rv == APR_SUCCESS; i++) {
        rv = af_test_family_create(&fam, &rt, st, apr_psprintf(pool, "user%d", i), "p", NULL, T0,
                                   TTL, IDLE, pool);
    }
    ck_assert_int_eq(rv, AF_ESTORE_FULL);
    ck_assert_int_eq(af_store_flow_consume(st, "flow", 4, T0, T0 + 600), AF_ESTORE_FULL);
    /* new logins and flows stop short of the end: 1/8 of a 1 MiB map (32 pages, less what
     * the last login took) is left for the logins there are (their refreshes), the sweep */
    ck_assert_int_eq(af_store_map_use(&size, &used, st), APR_SUCCESS);
    ck_assert_uint_le(used, size - 24 * 4096);
    for (i = 0; i < AF_STORE_KEEP_ROTATED + 4; i++) {
        ck_assert_int_eq(rotate(&next, st, first, T0 + 10 + i, pool), APR_SUCCESS);
        first = next;
    }
}
END_TEST

START_TEST(test_G10_log_throttle_counts_what_it_drops)
{
    af_log_throttle_t t;
    apr_uint64_t more = 99;
    const apr_int64_t s = 1000000;

    memset(&t, 0, sizeof(t));
    ck_assert_int_eq(af_log_throttle(&t, 100 * s, 60 * s, &more), 1);
    ck_assert_uint_eq(more, 0);
    ck_assert_int_eq(af_log_throttle(&t, 101 * s, 60 * s, &more), 0);
    ck_assert_int_eq(af_log_throttle(&t, 159 * s, 60 * s, &more), 0);
    ck_assert_int_eq(af_log_throttle(&t, 160 * s, 60 * s, &more), 1);
    ck_assert_uint_eq(more, 2);
    ck_assert_int_eq(af_log_throttle(&t, 500 * s, 60 * s, &more), 1);
    ck_assert_uint_eq(more, 0);
}
END_TEST

/* ---- H07: a map grown by another process is not remapped ------------------------------ */

/* Another process (a child of the next generation, after a graceful restart that raised
 * AuthFlowStoreMapSize) grows the map to 16 MiB and writes past 1 MiB. */
static void grow_elsewhere(void)
{
    int status;
    pid_t pid;

    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        apr_pool_t *cp;
        af_store_t *cs;
        af_store_family_t *f;
        const char *t;
        int i;

        apr_pool_create(&cp, NULL);
        if (af_store_lmdb_open(&cs, dir, 16 * 1024 * 1024, 0, 0, cp) != APR_SUCCESS) {
            _exit(3);
        }
        for (i = 0; i < 6000; i++) {
            if (af_test_family_create(&f, &t, cs, "bob", "p", NULL, T0, TTL, IDLE, cp) !=
                APR_SUCCESS) {
                _exit(4);
            }
        }
        _exit(0);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

START_TEST(test_H07_map_grown_elsewhere_is_not_remapped)
{
    af_store_t *st = open_store(1024 * 1024);
    af_store_family_t *fam, *got;
    af_store_stats_t stats;
    apr_uint64_t size = 0, used = 0;
    const char *rt = login(st, "alice", &fam);

    af_test_log_capture(AF_LOG_DEBUG);
    grow_elsewhere();
    /* this process keeps its mapping: store_busy (503), reads and writes alike */
    ck_assert_int_eq(af_store_family_is_revoked(st, fam->sid), AF_ESTORE_BUSY);
    ck_assert_int_eq(af_store_family_get(&got, st, fam->sid, pool), AF_ESTORE_BUSY);
    ck_assert_int_eq(rotate(NULL, st, rt, T0 + 1, pool), AF_ESTORE_BUSY);
    ck_assert_int_eq(af_store_stats(&stats, st, T0 + 1), AF_ESTORE_BUSY);
    ck_assert_uint_eq(stats.map_size, 1024 * 1024);
    ck_assert_int_eq(af_store_map_use(&size, &used, st), AF_ESTORE_BUSY);
    ck_assert_uint_eq(size, 1024 * 1024);
    /* said once, not once per failure */
    ck_assert_int_eq(count_lines("AF03020"), 1);
    ck_assert_int_eq(count_lines("AF03001"), 0);
}
END_TEST

START_TEST(test_H07_tools_adopt_a_grown_map)
{
    af_store_t *st = NULL;
    af_store_family_t *fam, *got;
    af_store_stats_t stats;
    const char *rt;

    /* a single-threaded tool (authflowctl) may remap */
    ck_assert_int_eq(af_store_lmdb_open(&st, dir, 1024 * 1024, 0, AF_STORE_ADOPT_MAPSIZE, pool),
                     APR_SUCCESS);
    rt = login(st, "alice", &fam);
    grow_elsewhere();
    ck_assert_int_eq(af_store_family_get(&got, st, fam->sid, pool), APR_SUCCESS);
    ck_assert_int_eq(rotate(NULL, st, rt, T0 + 1, pool), APR_SUCCESS);
    ck_assert_int_eq(af_store_stats(&stats, st, T0 + 1), APR_SUCCESS);
    ck_assert_uint_eq(stats.map_size, 16 * 1024 * 1024);
    ck_assert_uint_eq(stats.families, 6001);
}
END_TEST

int main(void)
{
    Suite *s =
        suite_create(apr_psprintf(af_test_pool(), "store_bounds (%s)", af_test_store_kind()));
    TCase *tc = tcase_create("bounds");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_G07_rotated_tokens_bounded_per_login);
    tcase_add_test(tc, test_G07_token_older_than_ring_is_unknown);
    tcase_add_test(tc, test_G07_flow_consume_purges_expired);
    tcase_add_test(tc, test_G07_lease_one_holder_per_interval);
    tcase_add_test(tc, test_G10_log_throttle_counts_what_it_drops);
    if (!af_test_store_is_pg()) { /* LMDB's map and record layout */
        tcase_add_test(tc, test_G07_long_login_fits_a_small_map);
        tcase_add_test(tc, test_G07_version1_login_records_still_work);
        tcase_add_test(tc, test_G07_sweep_frees_a_full_map);
        tcase_add_test(tc, test_G10_map_full_logged_once);
        tcase_add_test(tc, test_G10_new_logins_leave_a_reserve);
        tcase_add_test(tc, test_H07_map_grown_elsewhere_is_not_remapped);
        tcase_add_test(tc, test_H07_tools_adopt_a_grown_map);
    }
    suite_add_tcase(s, tc);
    return af_test_run(s);
}
