/* test_revview.c -- the per-process revocation view (af_revview.h), with a fake clock:
 * against a fake store (a revocation log in memory that can be made to fail) and against the
 * store under test (AF_TEST_STORE: LMDB has no log -- every check asks it; PostgreSQL: a
 * revocation made through one handle ("host A") reaches the view of another ("host B")
 * within the delay).  G09 (revoked logins denied everywhere), G10 (the database down: the
 * known set stays in force, issued tokens keep working). */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "common/af_log.h"
#include "store/af_revview.h"
#include "store/store_backend.h"
#include "af_teststore.h"
#include "af_testutil.h"
#include "store_testutil.h"

#define T0      1700000000LL
#define DELAY   5
#define HORIZON 900

static apr_pool_t *pool;

/* ---- a fake store: a revocation log in memory ----------------------------------------- */

#define FAKE_MAX 20000
typedef struct fake_t {
    pthread_mutex_t mu;
    char sid[FAKE_MAX][24];
    apr_int64_t at[FAKE_MAX];
    int n;     /* entries: seq = index + 1 */
    int fail;  /* 1: every call fails like a database that is down */
    int nolog; /* 1: no revocation log (like LMDB) */
    int polls; /* af_store_revocations calls */
    int asks;  /* af_store_family_is_revoked calls */
} fake_t;

static fake_t *fake;

static apr_status_t fake_revocations(apr_uint64_t *cursor, af_store_t *st, apr_int64_t now,
                                     apr_int64_t horizon, af_store_sid_fn *fn, void *baton,
                                     apr_pool_t *p)
{
    fake_t *f = st->impl;
    apr_uint64_t i;

    pthread_mutex_lock(&f->mu);
    f->polls++;
    if (f->nolog) {
        pthread_mutex_unlock(&f->mu);
        return APR_ENOTIMPL;
    }
    if (f->fail) {
        pthread_mutex_unlock(&f->mu);
        return AF_ESTORE_IO;
    }
    for (i = *cursor; i < (apr_uint64_t) f->n; i++) {
        if (*cursor == 0 && f->at[i] < now - horizon) {
            continue;
        }
        fn(baton, f->sid[i], f->at[i]);
    }
    *cursor = (apr_uint64_t) f->n;
    pthread_mutex_unlock(&f->mu);
    return APR_SUCCESS;
}

static apr_status_t fake_is_revoked(af_store_t *st, const char *sid)
{
    fake_t *f = st->impl;
    apr_status_t rv = APR_SUCCESS;
    int i;

    pthread_mutex_lock(&f->mu);
    f->asks++;
    for (i = 0; i < f->n; i++) {
        if (strcmp(f->sid[i], sid) == 0) {
            rv = AF_ESTORE_REVOKED;
        }
    }
    if (strncmp(sid, "ghost", 5) == 0) {
        rv = AF_ESTORE_UNKNOWN; /* a login this store never had */
    }
    if (f->fail) {
        rv = AF_ESTORE_IO;
    }
    pthread_mutex_unlock(&f->mu);
    return rv;
}

static af_store_ops_t fake_ops;

static af_store_t *fake_store(void)
{
    af_store_t *st = apr_pcalloc(pool, sizeof(*st));

    fake = apr_pcalloc(pool, sizeof(*fake));
    pthread_mutex_init(&fake->mu, NULL);
    fake_ops.name = "fake";
    fake_ops.family_is_revoked = fake_is_revoked;
    fake_ops.revocations = fake_revocations;
    st->ops = &fake_ops;
    st->impl = fake;
    st->pool = pool;
    return st;
}

static void fake_revoke(const char *sid, apr_int64_t at)
{
    pthread_mutex_lock(&fake->mu);
    snprintf(fake->sid[fake->n], sizeof(fake->sid[0]), "%s", sid);
    fake->at[fake->n] = at;
    fake->n++;
    pthread_mutex_unlock(&fake->mu);
}

static void setup(void)
{
    pool = af_test_pool();
}

static void teardown(void)
{
    af_log_set(NULL, NULL, 0);
    apr_pool_destroy(pool);
}

/* ---- with a fake store ------------------------------------------------------------------ */

START_TEST(test_G09_view_delay_0_asks_every_time)
{
    af_store_t *st = fake_store();
    af_revview_t *v;
    int i;

    ck_assert_int_eq(af_revview_create(&v, 0, HORIZON, pool), APR_SUCCESS);
    fake_revoke("gone", T0);
    for (i = 0; i < 10; i++) {
        ck_assert_int_eq(af_revview_check(v, st, "live", T0 + i), APR_SUCCESS);
        ck_assert_int_eq(af_revview_check(v, st, "gone", T0 + i), AF_ESTORE_REVOKED);
    }
    ck_assert_int_eq(fake->asks, 20);
    ck_assert_int_eq(fake->polls, 0);
    ck_assert_int_eq(af_revview_create(&v, -1, HORIZON, pool), APR_EINVAL);
    ck_assert_int_eq(af_revview_create(&v, 1, 0, pool), APR_EINVAL);
}
END_TEST

START_TEST(test_G09_view_polls_once_per_delay)
{
    af_store_t *st = fake_store();
    af_revview_t *v;
    int i;

    fake_revoke("old", T0 - HORIZON - 1); /* before the horizon: not loaded */
    fake_revoke("a", T0 - 60);
    ck_assert_int_eq(af_revview_create(&v, DELAY, HORIZON, pool), APR_SUCCESS);
    for (i = 0; i < 100; i++) {
        ck_assert_int_eq(af_revview_check(v, st, "a", T0), AF_ESTORE_REVOKED);
        ck_assert_int_eq(af_revview_check(v, st, "b", T0 + DELAY - 1), APR_SUCCESS);
    }
    ck_assert_int_eq(fake->polls, 1);
    ck_assert_int_eq(fake->asks, 1); /* "b": one question per login, not per check */
    /* revoked before the horizon: not in the view, but the store says so (one question) */
    ck_assert_int_eq(af_revview_check(v, st, "old", T0), AF_ESTORE_REVOKED);
    ck_assert_int_eq(af_revview_check(v, st, "old", T0), AF_ESTORE_REVOKED);
    ck_assert_int_eq(fake->asks, 2);
    /* revoked elsewhere at T0 + 1: honoured here within the delay, not before the next poll */
    fake_revoke("b", T0 + 1);
    ck_assert_int_eq(af_revview_check(v, st, "b", T0 + DELAY - 1), APR_SUCCESS);
    ck_assert_int_eq(af_revview_check(v, st, "b", T0 + DELAY), AF_ESTORE_REVOKED);
    ck_assert_int_eq(fake->polls, 2);
    /* a clock set back far does not stall the refreshes */
    fake_revoke("c", T0 + 2);
    ck_assert_int_eq(af_revview_check(v, st, "c", T0 - 100), AF_ESTORE_REVOKED);
}
END_TEST

START_TEST(test_G10_view_keeps_known_set_when_store_fails)
{
    af_store_t *st = fake_store();
    af_revview_stats_t stats;
    af_revview_t *v;
    int i;

    af_test_log_capture(AF_LOG_DEBUG);
    fake_revoke("a", T0);
    ck_assert_int_eq(af_revview_create(&v, DELAY, HORIZON, pool), APR_SUCCESS);
    ck_assert_int_eq(af_revview_check(v, st, "a", T0), AF_ESTORE_REVOKED);
    fake->fail = 1; /* the database goes down */
    fake_revoke("b", T0 + 1);
    for (i = 1; i <= 100; i++) {
        apr_int64_t now = T0 + (apr_int64_t) i * DELAY;
        /* revocations already seen stay in force; everything else still passes */
        ck_assert_int_eq(af_revview_check(v, st, "a", now), AF_ESTORE_REVOKED);
        ck_assert_int_eq(af_revview_check(v, st, "live", now), APR_SUCCESS);
    }
    af_revview_stats(&stats, v);
    ck_assert_uint_eq(stats.failures, 100);
    ck_assert_uint_eq(stats.refreshes, 1);
    /* one warning for 100 failed refreshes (a real clock minute has not passed) */
    ck_assert_int_eq(af_test_log_contains("AF03057"), 1);
    ck_assert_int_le(af_test_log_count(), 1);
    fake->fail = 0; /* back: what was missed arrives with the next refresh */
    ck_assert_int_eq(af_revview_check(v, st, "b", T0 + 101 * DELAY), AF_ESTORE_REVOKED);
}
END_TEST

START_TEST(test_G09_view_forgets_after_horizon_bounded)
{
    af_store_t *st = fake_store();
    af_revview_stats_t stats;
    af_revview_t *v;
    apr_int64_t now = T0;
    char sid[24];
    int i, max_entries = 0;

    ck_assert_int_eq(af_revview_create(&v, DELAY, HORIZON, pool), APR_SUCCESS);
    /* 10000 revocations, 10 per 5-second refresh over 5000 s: never more than the last
     * horizon's worth (plus up to a quarter horizon before a prune) remembered */
    for (i = 0; i < 10000; i++) {
        snprintf(sid, sizeof(sid), "s%d", i);
        fake_revoke(sid, now);
        if (i % 10 == 9) {
            ck_assert_int_eq(af_revview_check(v, st, sid, now), AF_ESTORE_REVOKED);
            af_revview_stats(&stats, v);
            if ((int) stats.entries > max_entries) {
                max_entries = (int) stats.entries;
            }
            now += DELAY;
        }
    }
    ck_assert_int_le(max_entries, (HORIZON + HORIZON / 4 + 2 * DELAY) / DELAY * 10);
    ck_assert_int_ge(max_entries, HORIZON / DELAY * 10);
    /* an entry older than the horizon is forgotten by the view (the store still refuses it);
     * a recent one is not */
    fake->asks = 0;
    ck_assert_int_eq(af_revview_check(v, st, "s0", now), AF_ESTORE_REVOKED);
    ck_assert_int_eq(fake->asks, 1);
    ck_assert_int_eq(af_revview_check(v, st, "s9999", now), AF_ESTORE_REVOKED);
}
END_TEST

/* A login this store never had (a host configured with another store; a swept login) is
 * refused as with LMDB or delay 0: each login is asked of the store once per process, then
 * remembered.  While the store is down, logins never seen pass without a question. */
START_TEST(test_G09_view_refuses_logins_the_store_does_not_know)
{
    af_store_t *st = fake_store();
    af_revview_t *v;
    int i;

    ck_assert_int_eq(af_revview_create(&v, DELAY, HORIZON, pool), APR_SUCCESS);
    ck_assert_int_eq(af_revview_check(v, st, "ghost1", T0), AF_ESTORE_UNKNOWN);
    for (i = 0; i < 50; i++) {
        ck_assert_int_eq(af_revview_check(v, st, "live", T0 + i), APR_SUCCESS);
    }
    ck_assert_int_eq(fake->asks, 2); /* ghost1 once, live once */
    /* remembered for a horizon, then asked again */
    ck_assert_int_eq(af_revview_check(v, st, "live", T0 + HORIZON + 1), APR_SUCCESS);
    ck_assert_int_eq(fake->asks, 3);
    /* the database goes down: the next refresh fails, then nothing is asked */
    af_test_log_capture(AF_LOG_ERR);
    fake->fail = 1;
    ck_assert_int_eq(af_revview_check(v, st, "other", T0 + HORIZON + 2 * DELAY), APR_SUCCESS);
    fake->asks = 0;
    ck_assert_int_eq(af_revview_check(v, st, "ghost2", T0 + HORIZON + 2 * DELAY), APR_SUCCESS);
    ck_assert_int_eq(af_revview_check(v, st, "new", T0 + HORIZON + 2 * DELAY), APR_SUCCESS);
    ck_assert_int_eq(fake->asks, 0);
    /* back: unknown logins are refused again after the next good refresh */
    fake->fail = 0;
    ck_assert_int_eq(af_revview_check(v, st, "ghost2", T0 + HORIZON + 4 * DELAY),
                     AF_ESTORE_UNKNOWN);
    af_log_set(NULL, NULL, 0);
}
END_TEST

START_TEST(test_G09_view_full_asks_the_store)
{
    af_store_t *st = fake_store();
    af_revview_stats_t stats;
    af_revview_t *v;

    ck_assert_int_eq(af_revview_create(&v, DELAY, HORIZON, pool), APR_SUCCESS);
    af_revview_set_max(v, 2);
    fake_revoke("a", T0);
    fake_revoke("b", T0);
    fake_revoke("c", T0);
    ck_assert_int_eq(af_revview_check(v, st, "a", T0), AF_ESTORE_REVOKED);
    /* "c" did not fit: logins not in the set are asked of the store, which knows it */
    ck_assert_int_eq(af_revview_check(v, st, "c", T0), AF_ESTORE_REVOKED);
    ck_assert_int_eq(af_revview_check(v, st, "live", T0), APR_SUCCESS);
    ck_assert_int_ge(fake->asks, 2);
    af_revview_stats(&stats, v);
    ck_assert_int_eq(stats.direct, 1);
    ck_assert_uint_eq(stats.entries, 2);
}
END_TEST

START_TEST(test_G09_view_note_and_no_log)
{
    af_store_t *st = fake_store();
    af_revview_t *v;

    ck_assert_int_eq(af_revview_create(&v, DELAY, HORIZON, pool), APR_SUCCESS);
    ck_assert_int_eq(af_revview_check(v, st, "mine", T0), APR_SUCCESS);
    af_revview_note(v, "mine", T0 + 1); /* this process's own logout: at once */
    ck_assert_int_eq(af_revview_check(v, st, "mine", T0 + 1), AF_ESTORE_REVOKED);
    /* a store without a log (LMDB): every check asks it */
    st = fake_store();
    fake->nolog = 1;
    fake_revoke("x", T0);
    ck_assert_int_eq(af_revview_create(&v, DELAY, HORIZON, pool), APR_SUCCESS);
    ck_assert_int_eq(af_revview_check(v, st, "x", T0), AF_ESTORE_REVOKED);
    ck_assert_int_eq(af_revview_check(v, st, "y", T0), APR_SUCCESS);
    ck_assert_int_eq(fake->asks, 2);
    ck_assert_int_eq(fake->polls, 1);
}
END_TEST

typedef struct thr_arg_t {
    af_revview_t *v;
    af_store_t *st;
    int revoked_seen, errors;
} thr_arg_t;

#define STEPS 200               /* fake seconds */
static apr_int64_t clock_now;   /* the shared fake clock, moved by the main thread */
static pthread_barrier_t steps; /* 8 checkers + the main thread, twice per second */

static void *checker(void *arg)
{
    thr_arg_t *a = arg;
    int step, i;

    for (step = 0; step < STEPS; step++) {
        pthread_barrier_wait(&steps); /* the clock moved */
        for (i = 0; i < 50; i++) {
            apr_status_t rv = af_revview_check(a->v, a->st, (i & 1) ? "a" : "live", clock_now);
            if ((i & 1) && rv == AF_ESTORE_REVOKED) {
                a->revoked_seen++;
            } else if (!(i & 1) && rv != APR_SUCCESS) {
                a->errors++;
            }
        }
        pthread_barrier_wait(&steps); /* everyone is done with this second */
    }
    return NULL;
}

START_TEST(test_H08_view_threads_one_poller)
{
    af_store_t *st = fake_store();
    af_revview_t *v;
    pthread_t t[8];
    thr_arg_t a[8];
    int i, step;

    fake_revoke("a", T0);
    ck_assert_int_eq(af_revview_create(&v, DELAY, HORIZON, pool), APR_SUCCESS);
    pthread_barrier_init(&steps, NULL, 9);
    for (i = 0; i < 8; i++) {
        memset(&a[i], 0, sizeof(a[i]));
        a[i].v = v;
        a[i].st = st;
        ck_assert_int_eq(pthread_create(&t[i], NULL, checker, &a[i]), 0);
    }
    for (step = 0; step < STEPS; step++) {
        clock_now = T0 + step;
        pthread_barrier_wait(&steps);
        pthread_barrier_wait(&steps);
    }
    for (i = 0; i < 8; i++) {
        pthread_join(t[i], NULL);
        ck_assert_int_eq(a[i].errors, 0);
        /* revoked at T0 and loaded by the first refresh: every check saw it, except those
         * answered from the (empty) set while the very first refresh ran */
        ck_assert_int_ge(a[i].revoked_seen, STEPS * 25 - 25);
    }
    pthread_barrier_destroy(&steps);
    /* 8 threads checking at once: exactly one refresh per 5 fake seconds */
    ck_assert_int_eq(fake->polls, STEPS / DELAY);
}
END_TEST

/* ---- with the store under test ----------------------------------------------------------- */

START_TEST(test_G09_view_across_hosts)
{
    char dir[64];
    const char *where, *rt;
    af_store_t *a, *b;
    af_store_family_t *fam;
    af_revview_t *v;
    af_revview_stats_t stats;

    af_test_tmpdir(dir, sizeof(dir), "af_revview");
    a = af_test_store_fresh(&where, dir, pool);                         /* host A */
    ck_assert_int_eq(af_test_store_open(&b, where, pool), APR_SUCCESS); /* host B */
    ck_assert_int_eq(af_test_family_create(&fam, &rt, a, "alice", "p", NULL, T0, 86400, 0, pool),
                     APR_SUCCESS);
    ck_assert_int_eq(af_revview_create(&v, DELAY, HORIZON, pool), APR_SUCCESS);
    ck_assert_int_eq(af_revview_check(v, b, fam->sid, T0), APR_SUCCESS);
    ck_assert_int_eq(af_store_family_revoke(a, fam->sid, T0 + 1, pool), APR_SUCCESS);
    if (af_test_store_is_pg()) {
        /* B learns it at its next refresh, within the delay */
        ck_assert_int_eq(af_revview_check(v, b, fam->sid, T0 + 1), APR_SUCCESS);
        ck_assert_int_eq(af_revview_check(v, b, fam->sid, T0 + DELAY), AF_ESTORE_REVOKED);
        /* a view started later loads the revocations of the last horizon */
        ck_assert_int_eq(af_revview_create(&v, DELAY, HORIZON, pool), APR_SUCCESS);
        ck_assert_int_eq(af_revview_check(v, b, fam->sid, T0 + 10), AF_ESTORE_REVOKED);
        af_revview_stats(&stats, v);
        ck_assert_int_eq(stats.direct, 0);
    } else {
        /* LMDB: no log, every check is the store's local read: at once */
        ck_assert_int_eq(af_revview_check(v, b, fam->sid, T0 + 1), AF_ESTORE_REVOKED);
        af_revview_stats(&stats, v);
        ck_assert_int_eq(stats.direct, 1);
    }
    af_store_close(a);
    af_store_close(b);
    af_test_store_drop(where);
    af_test_rmtree(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create(apr_psprintf(af_test_pool(), "revview (%s)", af_test_store_kind()));
    TCase *tc = tcase_create("revview");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_G09_view_delay_0_asks_every_time);
    tcase_add_test(tc, test_G09_view_polls_once_per_delay);
    tcase_add_test(tc, test_G10_view_keeps_known_set_when_store_fails);
    tcase_add_test(tc, test_G09_view_forgets_after_horizon_bounded);
    tcase_add_test(tc, test_G09_view_refuses_logins_the_store_does_not_know);
    tcase_add_test(tc, test_G09_view_full_asks_the_store);
    tcase_add_test(tc, test_G09_view_note_and_no_log);
    tcase_add_test(tc, test_H08_view_threads_one_poller);
    tcase_add_test(tc, test_G09_view_across_hosts);
    suite_add_tcase(s, tc);
    return af_test_run(s);
}
