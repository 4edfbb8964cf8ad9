/* test_store_race.c -- the store under concurrent processes and crashes, real LMDB or (second
 * pass, AF_TEST_STORE=URI) real PostgreSQL -- H07/H08 for the shared store:
 * G04 (N processes rotate the same refresh token at once: one successor, all get it,
 * no revocation; repeated 200 times for N = 8 and N = 32) and G11 (kill -9 in the
 * middle of a rotation storm: every family rotated or not, never consumed without a
 * successor, stale readers reclaimed, every db walkable). */
#include <check.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "store/af_store.h"
#include "store/lmdb_int.h"
#include "token/af_token.h"
#include "af_teststore.h"
#include "af_testutil.h"
#include "store_testutil.h"
#include "store/af_store_pg.h"

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
    af_test_tmpdir(dir, sizeof(dir), "af_race");
    af_store_close(af_test_store_fresh(&where, dir, pool)); /* created (PostgreSQL: migrated) */
}

static void teardown(void)
{
    af_test_store_drop(where);
    af_test_rmtree(dir);
    apr_pool_destroy(pool);
    apr_terminate();
}

static void *shared(apr_size_t len)
{
    void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

    ck_assert_ptr_ne(m, MAP_FAILED);
    memset(m, 0, len);
    return m;
}

/* ---- G04 ------------------------------------------------------------------------------ */

/* N long-lived worker processes (like httpd children), each opening the store after fork.
 * Per repetition the parent logs in a new family, publishes its refresh token, and
 * releases all workers at once (one byte down each worker's own pipe); every worker
 * rotates that same token and reports what it got. */

typedef struct race_slot_t {
    int rv;       /* apr_status_t of the rotation, -1 before */
    int replayed; /* 0: this caller rotated; 1: grace path */
    unsigned gen;
    char rt[AF_RT_LEN + 1];
} race_slot_t;

typedef struct race_t {
    char rt[AF_RT_LEN + 1]; /* the token every worker presents in this repetition */
    apr_int64_t now;
    race_slot_t slot[64];
} race_t;

static void check_invariants_pg(const af_store_family_t **fams);

static void race_worker(race_t *race, int i, int go, int done)
{
    apr_pool_t *cp, *it;
    af_store_t *cs;
    af_store_rotation_t *r;
    apr_status_t rv;
    char c = 0;

    apr_pool_create(&cp, NULL);
    if (af_test_store_open(&cs, where, cp) != APR_SUCCESS) { /* after fork */
        _exit(3);
    }
    while (read(go, &c, 1) == 1 && c == 'g') {
        apr_pool_create(&it, cp);
        rv = af_test_rotate(&r, cs, race->rt, AF_RT_LEN, race->now, GRACE, 0, it);
        race->slot[i].rv = rv;
        if (rv == APR_SUCCESS) {
            race->slot[i].replayed = r->replayed;
            race->slot[i].gen = r->generation;
            memcpy(race->slot[i].rt, r->refresh_token, AF_RT_LEN);
        }
        apr_pool_destroy(it);
        if (write(done, "d", 1) != 1) {
            _exit(4);
        }
    }
    _exit(0);
}

static void g04(int n, int reps)
{
    race_t *race = shared(sizeof(race_t));
    int go[64][2], done[2], i, rep, status, rotated;
    pid_t pids[64];
    af_store_t *st;
    af_store_family_t *fam, *after;
    af_store_stats_t stats;
    af_store_rotation_t *r;
    const char *rt;
    apr_pool_t *rp;
    char c;

    ck_assert_int_le(n, 64);
    ck_assert_int_eq(pipe(done), 0);
    for (i = 0; i < n; i++) {
        ck_assert_int_eq(pipe(go[i]), 0);
        pids[i] = fork();
        ck_assert_int_ge(pids[i], 0);
        if (pids[i] == 0) {
            race_worker(race, i, go[i][0], done[1]);
        }
        close(go[i][0]);
    }
    /* the parent opens its own handle only after every fork */
    ck_assert_int_eq(af_test_store_open(&st, where, pool), APR_SUCCESS);
    for (rep = 0; rep < reps; rep++) {
        apr_pool_create(&rp, pool);
        ck_assert_int_eq(
            af_test_family_create(&fam, &rt, st, "alice", "p", NULL, T0 + rep, TTL, IDLE, rp),
            APR_SUCCESS);
        memcpy(race->rt, rt, AF_RT_LEN);
        race->now = T0 + rep;
        for (i = 0; i < n; i++) {
            race->slot[i].rv = -1;
            memset(race->slot[i].rt, 0, sizeof(race->slot[i].rt));
        }
        for (i = 0; i < n; i++) { /* release everyone */
            ck_assert_int_eq(write(go[i][1], "g", 1), 1);
        }
        for (i = 0; i < n; i++) {
            ck_assert_int_eq(read(done[0], &c, 1), 1);
        }
        rotated = 0;
        for (i = 0; i < n; i++) {
            ck_assert_msg(race->slot[i].rv == APR_SUCCESS, "rep %d caller %d: %s", rep, i,
                          af_strerror(race->slot[i].rv));
            ck_assert_str_eq(race->slot[i].rt, race->slot[0].rt); /* the same successor */
            ck_assert_uint_eq(race->slot[i].gen, 2);
            rotated += race->slot[i].replayed == 0;
        }
        ck_assert_msg(rotated == 1, "rep %d: %d callers rotated", rep, rotated);
        ck_assert_int_eq(af_store_family_get(&after, st, fam->sid, rp), APR_SUCCESS);
        ck_assert_int_eq(after->revoked, 0);
        ck_assert_uint_eq(after->generation, 2); /* exactly one successor */
        ck_assert_uint_eq(after->rotations, 1);
        ck_assert_int_eq(af_store_stats(&stats, st, T0 + rep), APR_SUCCESS);
        ck_assert_uint_eq(stats.tokens, 2 * (apr_uint64_t) (rep + 1) + (apr_uint64_t) rep / 20);
        ck_assert_uint_eq(stats.reuse_detections, 0);
        if (rep % 20 == 19) { /* now and then: the successor is the live token */
            ck_assert_int_eq(
                af_test_rotate(&r, st, race->slot[0].rt, AF_RT_LEN, T0 + rep + 1, GRACE, 0, rp),
                APR_SUCCESS);
            ck_assert_int_eq(r->replayed, 0);
        }
        apr_pool_destroy(rp);
    }
    af_store_close(st);
    if (af_test_store_is_pg()) { /* the store's invariants after all the races, in SQL */
        check_invariants_pg(NULL);
    }
    for (i = 0; i < n; i++) {
        ck_assert_int_eq(write(go[i][1], "q", 1), 1);
        close(go[i][1]);
    }
    for (i = 0; i < n; i++) {
        ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    munmap(race, sizeof(race_t));
}

/* AF_G04_REPS overrides the repetitions (for quick local runs); the default is 200. */
static int reps(void)
{
    const char *e = getenv("AF_G04_REPS");

    return e != NULL && atoi(e) > 0 ? atoi(e) : 200;
}

START_TEST(test_G04_race_8_processes_200_times)
{
    g04(8, reps());
}
END_TEST

START_TEST(test_G04_race_32_processes_200_times)
{
    g04(32, reps());
}
END_TEST

/* ---- G04 with threads (event/worker MPM): group commit must keep the same guarantees -- */

#define G04_THREADS 32

typedef struct thr_t {
    af_store_t *st;
    apr_pool_t *p;
    const char *rt;
    pthread_barrier_t *bar;
    apr_int64_t now;
    apr_status_t rv;
    af_store_rotation_t *r;
} thr_t;

static void *thr_rotate(void *arg)
{
    thr_t *t = arg;

    pthread_barrier_wait(t->bar);
    t->rv = af_test_rotate(&t->r, t->st, t->rt, AF_RT_LEN, t->now, GRACE, 0, t->p);
    return NULL;
}

static void run_threads(thr_t *t, int n)
{
    pthread_t tids[G04_THREADS];
    int i;

    for (i = 0; i < n; i++) {
        ck_assert_int_eq(pthread_create(&tids[i], NULL, thr_rotate, &t[i]), 0);
    }
    for (i = 0; i < n; i++) {
        pthread_join(tids[i], NULL);
    }
}

START_TEST(test_G04_race_32_threads_same_token)
{
    thr_t t[G04_THREADS];
    pthread_barrier_t bar;
    af_store_t *st;
    af_store_family_t *fam, *after;
    const char *rt;
    int i, rep, rotated;

    ck_assert_int_eq(af_test_store_open(&st, where, pool), APR_SUCCESS);
    for (rep = 0; rep < 50; rep++) {
        ck_assert_int_eq(
            af_test_family_create(&fam, &rt, st, "alice", "p", NULL, T0, TTL, IDLE, pool),
            APR_SUCCESS);
        pthread_barrier_init(&bar, NULL, G04_THREADS);
        for (i = 0; i < G04_THREADS; i++) {
            memset(&t[i], 0, sizeof(t[i]));
            t[i].st = st;
            t[i].rt = rt;
            t[i].bar = &bar;
            t[i].now = T0 + 1;
            apr_pool_create(&t[i].p, pool);
        }
        run_threads(t, G04_THREADS);
        pthread_barrier_destroy(&bar);
        rotated = 0;
        for (i = 0; i < G04_THREADS; i++) {
            ck_assert_int_eq(t[i].rv, APR_SUCCESS);
            ck_assert_str_eq(t[i].r->refresh_token, t[0].r->refresh_token);
            rotated += t[i].r->replayed == 0;
        }
        ck_assert_int_eq(rotated, 1);
        ck_assert_int_eq(af_store_family_get(&after, st, fam->sid, pool), APR_SUCCESS);
        ck_assert_uint_eq(after->generation, 2);
        ck_assert_int_eq(after->revoked, 0);
    }
}
END_TEST

START_TEST(test_G04_threads_group_commit_many_families)
{
    thr_t t[G04_THREADS];
    af_store_family_t *fams[G04_THREADS], *after;
    pthread_barrier_t bar;
    af_store_t *st;
    unsigned long b0;
    int i;

    ck_assert_int_eq(af_test_store_open(&st, where, pool), APR_SUCCESS);
    pthread_barrier_init(&bar, NULL, G04_THREADS);
    for (i = 0; i < G04_THREADS; i++) {
        memset(&t[i], 0, sizeof(t[i]));
        ck_assert_int_eq(
            af_test_family_create(&fams[i], &t[i].rt, st, "u", "p", NULL, T0, TTL, IDLE, pool),
            APR_SUCCESS);
        t[i].st = st;
        t[i].bar = &bar;
        t[i].now = T0 + 1;
        apr_pool_create(&t[i].p, pool);
    }
    b0 = af_test_store_is_pg() ? 0 : af_store_rotation_batches(st);
    run_threads(t, G04_THREADS);
    pthread_barrier_destroy(&bar);
    for (i = 0; i < G04_THREADS; i++) {
        ck_assert_int_eq(t[i].rv, APR_SUCCESS);
        ck_assert_int_eq(t[i].r->replayed, 0);
        ck_assert_str_eq(t[i].r->family->sid, fams[i]->sid);
        ck_assert_int_eq(af_store_family_get(&after, st, fams[i]->sid, pool), APR_SUCCESS);
        ck_assert_uint_eq(after->generation, 2);
    }
    if (af_test_store_is_pg()) { /* the pool: lazily opened, never more than its size */
        ck_assert_uint_ge(af_store_pg_connections(st), 1);
        ck_assert_uint_le(af_store_pg_connections(st), AF_STORE_PG_POOL_DEFAULT);
        fprintf(stderr, "pool: %d threads used %u connection(s)\n", G04_THREADS,
                af_store_pg_connections(st));
        return;
    }
    /* at most one transaction per rotation; usually far fewer (printed for the record) */
    ck_assert_uint_le(af_store_rotation_batches(st) - b0, G04_THREADS);
    fprintf(stderr, "group commit: %d rotations in %lu write transactions\n", G04_THREADS,
            af_store_rotation_batches(st) - b0);
}
END_TEST

/* ---- G11 ------------------------------------------------------------------------------ */

#define G11_FAMILIES 16
#define G11_CHILDREN 4
#define G11_ROUNDS   25

typedef struct storm_slot_t {
    volatile int which; /* index of the buffer holding the latest token the client saw */
    char rt[2][AF_RT_LEN + 1];
    volatile long rotations;
} storm_slot_t;

static void storm_child(storm_slot_t *slots, int k, const char *d)
{
    apr_pool_t *cp, *it;
    af_store_t *cs;
    af_store_rotation_t *r;
    apr_int64_t now = T0 + 100;
    int i;

    apr_pool_create(&cp, NULL);
    if (af_test_store_open(&cs, d, cp) != APR_SUCCESS) {
        _exit(3);
    }
    for (;;) {
        for (i = k; i < G11_FAMILIES; i += G11_CHILDREN) {
            storm_slot_t *s = &slots[i];
            int w = __atomic_load_n(&s->which, __ATOMIC_ACQUIRE);
            apr_pool_create(&it, cp);
            if (af_test_rotate(&r, cs, s->rt[w], AF_RT_LEN, now, 3600, 0, it) != APR_SUCCESS) {
                _exit(5);
            }
            /* the "response" reaches the client: write the other buffer, then flip */
            memcpy(s->rt[1 - w], r->refresh_token, AF_RT_LEN);
            __atomic_store_n(&s->which, 1 - w, __ATOMIC_RELEASE);
            s->rotations++;
            apr_pool_destroy(it);
        }
    }
}

/* Walk every token record: per family exactly one active token (its current one), every
 * rotated token's successor exists, and the family keeps exactly its last
 * AF_STORE_KEEP_ROTATED + 1 generations (all of them while it has fewer), each once: the
 * rotations that pushed older ones out of the ring deleted them in the same transaction. */
static void check_invariants_lmdb(const af_store_family_t **fams)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi tokens, families;
    MDB_cursor *cur;
    MDB_val k, v, sk;
    lm_tok_t t, succ;
    lm_fam_t f;
    int active[G11_FAMILIES], count[G11_FAMILIES], i, rc, dead = -1;
    apr_uint32_t maxgen[G11_FAMILIES], mingen[G11_FAMILIES];

    memset(active, 0, sizeof(active));
    memset(count, 0, sizeof(count));
    memset(maxgen, 0, sizeof(maxgen));
    memset(mingen, 0xff, sizeof(mingen));
    ck_assert_int_eq(mdb_env_create(&env), 0);
    ck_assert_int_eq(mdb_env_set_maxdbs(env, 8), 0);
    ck_assert_int_eq(mdb_env_open(env, dir, MDB_NOTLS | MDB_RDONLY, 0600), 0);
    ck_assert_int_eq(mdb_reader_check(env, &dead), 0);
    ck_assert_int_eq(dead, 0); /* af_store_open already reclaimed them */
    ck_assert_int_eq(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
    ck_assert_int_eq(mdb_dbi_open(txn, "tokens", 0, &tokens), 0);
    ck_assert_int_eq(mdb_dbi_open(txn, "families", 0, &families), 0);
    ck_assert_int_eq(mdb_cursor_open(txn, tokens, &cur), 0);
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        ck_assert_int_eq(af_lm_tok_decode(&t, &v), APR_SUCCESS);
        for (i = 0; i < G11_FAMILIES; i++) {
            if (memcmp(fams[i]->sid, t.sid, LM_SID_LEN) == 0) {
                break;
            }
        }
        ck_assert_int_lt(i, G11_FAMILIES);
        count[i]++;
        if (t.generation > maxgen[i]) {
            maxgen[i] = t.generation;
        }
        if (t.generation < mingen[i]) {
            mingen[i] = t.generation;
        }
        if (t.state == LM_ACTIVE) {
            active[i]++;
            sk.mv_size = LM_SID_LEN;
            sk.mv_data = t.sid;
            ck_assert_int_eq(mdb_get(txn, families, &sk, &v), 0);
            ck_assert_int_eq(af_lm_fam_decode(&f, &v), APR_SUCCESS);
            ck_assert_mem_eq(f.cur, k.mv_data, AF_RT_HASH_LEN);
            ck_assert_uint_eq(f.generation, t.generation);
        } else {
            ck_assert_int_eq(t.state, LM_ROTATED); /* nothing revoked in a storm */
            ck_assert_uint_eq(t.sealed_len, TOK_SEALED_MAX);
            sk.mv_size = AF_RT_HASH_LEN;
            sk.mv_data = t.succ;
            ck_assert_msg(mdb_get(txn, tokens, &sk, &v) == 0, "rotated without successor");
            ck_assert_int_eq(af_lm_tok_decode(&succ, &v), APR_SUCCESS);
            ck_assert_uint_eq(succ.generation, t.generation + 1);
        }
    }
    ck_assert_int_eq(rc, MDB_NOTFOUND);
    mdb_cursor_close(cur);
    fprintf(stderr, "storm: generations up to %u kept as %d records (family 0)\n",
            (unsigned) maxgen[0], count[0]);
    for (i = 0; i < G11_FAMILIES; i++) {
        ck_assert_int_eq(active[i], 1);
        ck_assert_uint_eq((apr_uint32_t) count[i], maxgen[i] < AF_STORE_KEEP_ROTATED + 1
                                                       ? maxgen[i]
                                                       : AF_STORE_KEEP_ROTATED + 1);
        ck_assert_uint_ge(mingen[i] + (apr_uint32_t) count[i] - 1, maxgen[i]);
    }
    mdb_txn_abort(txn);
    mdb_env_close(env);
}

/* The same invariants on PostgreSQL, in SQL: counts that must all be zero. */
static void check_invariants_pg(const af_store_family_t **fams)
{
    static const char *const rules[][2] = {
        {"families without exactly one active token",
         "SELECT count(*) FROM af_families f WHERE (SELECT count(*) FROM af_tokens t "
         "WHERE t.sid = f.sid AND t.state = 1) <> 1"},
        {"active tokens that are not their family's current one",
         "SELECT count(*) FROM af_tokens t JOIN af_families f ON f.sid = t.sid "
         "WHERE t.state = 1 AND (t.hash <> f.cur OR t.generation <> f.generation)"},
        {"rotated tokens without a successor",
         "SELECT count(*) FROM af_tokens t WHERE t.state = 2 AND NOT EXISTS "
         "(SELECT 1 FROM af_tokens s WHERE s.hash = t.succ AND s.generation = t.generation + 1)"},
        {"rotated tokens without a full sealed successor",
         "SELECT count(*) FROM af_tokens WHERE state = 2 AND length(sealed) <> 71"},
        {"two records of one generation (two successors)",
         "SELECT count(*) FROM (SELECT sid, generation FROM af_tokens GROUP BY sid, generation "
         "HAVING count(*) > 1) x"},
        {"revoked tokens or families (nothing is revoked in a storm)",
         "SELECT (SELECT count(*) FROM af_tokens WHERE state = 3) + "
         "(SELECT count(*) FROM af_families WHERE revoked)"},
        {"families keeping other than their last min(generation, K + 1) generations",
         "SELECT count(*) FROM af_families f WHERE (SELECT count(*) FROM af_tokens t "
         "WHERE t.sid = f.sid AND t.generation > f.generation - 17) <> least(f.generation, 17) "
         "OR EXISTS (SELECT 1 FROM af_tokens t WHERE t.sid = f.sid AND "
         "t.generation <= f.generation - 17)"},
        {"tokens of unknown families", "SELECT count(*) FROM af_tokens t WHERE NOT EXISTS "
                                       "(SELECT 1 FROM af_families f WHERE f.sid = t.sid)"},
    };
    unsigned int i;

    for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
        const char *n = af_test_pg_query(where, rules[i][1], pool);
        ck_assert_msg(strcmp(n, "0") == 0, "invariant: %s: %s", rules[i][0], n);
    }
    if (fams == NULL) {
        return;
    }
    fprintf(stderr, "storm: generations up to %s (family 0)\n",
            af_test_pg_query(where,
                             apr_psprintf(pool,
                                          "SELECT generation FROM af_families WHERE sid = "
                                          "'%s'",
                                          fams[0]->sid),
                             pool));
}

static void check_invariants(const af_store_family_t **fams)
{
    if (af_test_store_is_pg()) {
        check_invariants_pg(fams);
    } else {
        check_invariants_lmdb(fams);
    }
}

static long storm_total(const storm_slot_t *slots)
{
    long n = 0;
    int i;

    for (i = 0; i < G11_FAMILIES; i++) {
        n += slots[i].rotations;
    }
    return n;
}

START_TEST(test_G11_kill9_rotation_storm)
{
    storm_slot_t *slots = shared(sizeof(storm_slot_t) * G11_FAMILIES);
    const af_store_family_t *fams[G11_FAMILIES];
    af_store_family_t *fam;
    af_store_stats_t stats;
    af_store_rotation_t *r;
    af_store_t *st;
    pid_t pids[G11_CHILDREN];
    const char *rt;
    long total = 0;
    int i, round, status, stale_seen = 0;

    ck_assert_int_eq(af_test_store_open(&st, where, pool), APR_SUCCESS);
    for (i = 0; i < G11_FAMILIES; i++) {
        ck_assert_int_eq(
            af_test_family_create(&fam, &rt, st, "storm", "p", NULL, T0, TTL, IDLE, pool),
            APR_SUCCESS);
        fams[i] = fam;
        memcpy(slots[i].rt[0], rt, AF_RT_LEN);
    }
    af_store_close(st);
    srand((unsigned) time(NULL));
    for (round = 0; round < G11_ROUNDS; round++) {
        struct timespec ts = {0, (long) (rand() % 20) * 1000000L};
        long before = storm_total(slots);
        for (i = 0; i < G11_CHILDREN; i++) {
            pids[i] = fork();
            ck_assert_int_ge(pids[i], 0);
            if (pids[i] == 0) {
                storm_child(slots, i, where);
            }
        }
        /* wait until the storm is really running (forks are slow on a loaded machine),
         * then let it go on a random few milliseconds and kill -9 everyone */
        for (i = 0; i < 3000 && storm_total(slots) < before + 4 * G11_CHILDREN; i++) {
            usleep(1000);
        }
        nanosleep(&ts, NULL);
        for (i = 0; i < G11_CHILDREN; i++) {
            kill(pids[i], SIGKILL);
        }
        for (i = 0; i < G11_CHILDREN; i++) {
            ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
            ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
                          "a storm child failed (exit %d)", WEXITSTATUS(status));
        }
        /* a restart: the next child_init reclaims stale reader slots (LMDB); PostgreSQL rolled
         * the killed clients' open transactions back when their connections dropped */
        ck_assert_int_eq(af_test_store_open(&st, where, pool), APR_SUCCESS);
        stale_seen += af_test_store_is_pg() ? 0 : af_store_stale_readers(st);
        af_store_close(st);
    }
    total = storm_total(slots);
    ck_assert_msg(total > 50, "storm too small: %ld rotations", total);
    check_invariants(fams);
    /* the token each client holds still works: active, or within grace its successor */
    ck_assert_int_eq(af_test_store_open(&st, where, pool), APR_SUCCESS);
    for (i = 0; i < G11_FAMILIES; i++) {
        ck_assert_int_eq(
            af_test_rotate(&r, st, slots[i].rt[slots[i].which], AF_RT_LEN, T0 + 200, 3600, 0, pool),
            APR_SUCCESS);
        ck_assert_int_eq(af_store_family_is_revoked(st, fams[i]->sid), APR_SUCCESS);
    }
    ck_assert_int_eq(af_store_stats(&stats, st, T0 + 200), APR_SUCCESS);
    ck_assert_uint_eq(stats.reuse_detections, 0);
    af_store_close(st);
    if (!af_test_store_is_pg()) {
        ck_assert_int_eq(system(apr_psprintf(pool, "mdb_stat -e '%s' >/dev/null", dir)), 0);
        ck_assert_int_eq(system(apr_psprintf(pool, "mdb_stat -a '%s' >/dev/null", dir)), 0);
    }
    (void) stale_seen; /* killed writers/readers may or may not leave slots: both are fine */
}
END_TEST

int main(void)
{
    Suite *s = suite_create(apr_psprintf(af_test_pool(), "store_race (%s)", af_test_store_kind()));
    TCase *tc = tcase_create("race");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, af_test_store_is_pg() ? 600 : 120);
    tcase_add_test(tc, test_G04_race_8_processes_200_times);
    tcase_add_test(tc, test_G04_race_32_processes_200_times);
    tcase_add_test(tc, test_G04_race_32_threads_same_token);
    tcase_add_test(tc, test_G04_threads_group_commit_many_families);
    tcase_add_test(tc, test_G11_kill9_rotation_storm);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
