/* store_bench.c -- durable refresh-token rotations per second on the store: LMDB (DIR) or
 * PostgreSQL (a postgresql:// URI; bench/store.sh starts a local cluster with PostgreSQL's
 * default durability: fsync, synchronous_commit on).
 *
 *   store_bench DIR|URI SECONDS PROCS [THREADS [nometasync]]
 *
 * PROCS processes (each opening the store after fork, as httpd children do), each with
 * THREADS threads (default 1: prefork; more: event/worker MPM), rotate their own
 * families' tokens in a loop for SECONDS with LMDB's default durability (a synced commit
 * per write transaction, no MDB_NOSYNC).  Threads of one process share write
 * transactions (group commit).  Prints one line:
 *   rotations procs=P threads=T rotations=R seconds=S per_second=R/S commits=C
 * and, for procs=1 threads=1, the cost of the gate's revocation check (LMDB: a read txn;
 * PostgreSQL: a round trip, and the per-process view af_revview_t that avoids it).
 * PostgreSQL: commits = rotations (each is its own transaction; the server groups the WAL
 * flushes of concurrent commits); each process has a pool of THREADS connections.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <apr_general.h>

#include "store/af_revview.h"
#include "store/af_store_lmdb.h"
#include "store_testutil.h"

#define FAMILIES_PER_THREAD 4

typedef struct worker_t {
    af_store_t *st;
    apr_pool_t *p;
    double end;
    int id;
    long n;
    int failed;
} worker_t;

static int open_flags;

static apr_status_t open_store(af_store_t **st, const char *where, int threads, apr_pool_t *p)
{
    af_store_opts_t o;

    memset(&o, 0, sizeof(o));
    o.flags = open_flags;
    o.pool_size = (unsigned int) threads;
    return af_store_open(st, where, &o, p);
}

static double now_s(void)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    return (double) tv.tv_sec + tv.tv_usec / 1e6;
}

static void *worker(void *arg)
{
    worker_t *w = arg;
    char rts[FAMILIES_PER_THREAD][64];
    af_store_family_t *fam;
    af_store_rotation_t *r;
    const char *rt;
    apr_pool_t *it;
    apr_int64_t t = 1700000000;
    int i;

    for (i = 0; i < FAMILIES_PER_THREAD; i++) {
        char sub[32];
        snprintf(sub, sizeof(sub), "user-%d-%d", w->id, i);
        if (af_test_family_create(&fam, &rt, w->st, sub, "bench", "{}", t, 14 * 86400, 3 * 86400,
                                  w->p) != APR_SUCCESS) {
            w->failed = 1;
            return NULL;
        }
        snprintf(rts[i], sizeof(rts[i]), "%s", rt);
    }
    apr_pool_create(&it, w->p);
    while (now_s() < w->end) {
        for (i = 0; i < FAMILIES_PER_THREAD; i++) {
            if (af_test_rotate(&r, w->st, rts[i], strlen(rts[i]), t + w->n, 10, 0, it) !=
                APR_SUCCESS) {
                w->failed = 1;
                return NULL;
            }
            snprintf(rts[i], sizeof(rts[i]), "%s", r->refresh_token);
            w->n++;
        }
        apr_pool_clear(it);
    }
    return NULL;
}

/* One process: open after fork, run the threads, report rotations and commits. */
static long run_child(const char *dir, double seconds, int threads, int id, long *commits)
{
    worker_t *w = calloc((size_t) threads, sizeof(worker_t));
    pthread_t *tids = calloc((size_t) threads, sizeof(pthread_t));
    apr_pool_t *p;
    af_store_t *st;
    long n = 0;
    int i;

    apr_pool_create(&p, NULL);
    if (open_store(&st, dir, threads, p) != APR_SUCCESS) { /* after fork */
        return -1;
    }
    for (i = 0; i < threads; i++) {
        w[i].st = st;
        w[i].id = id * 1000 + i;
        w[i].end = now_s() + seconds;
        apr_pool_create(&w[i].p, p);
    }
    for (i = 0; i < threads; i++) {
        pthread_create(&tids[i], NULL, worker, &w[i]);
    }
    for (i = 0; i < threads; i++) {
        pthread_join(tids[i], NULL);
        if (w[i].failed) {
            return -1;
        }
        n += w[i].n;
    }
    *commits = af_store_is_uri(dir) ? n : (long) af_store_rotation_batches(st);
    return n;
}

static void revocation_check_rate(const char *dir)
{
    apr_pool_t *p;
    af_store_t *st;
    af_store_family_t *fam;
    const char *rt;
    double t0, dt;
    long n = 0, i;

    apr_pool_create(&p, NULL);
    if (open_store(&st, dir, 1, p) != APR_SUCCESS ||
        af_test_family_create(&fam, &rt, st, "rev-check", "bench", "{}", 1700000000, 14 * 86400, 0,
                              p) != APR_SUCCESS) {
        fprintf(stderr, "store_bench: open failed\n");
        return;
    }
    t0 = now_s();
    do {
        for (i = 0; i < 10000; i++) {
            if (af_store_family_is_revoked(st, fam->sid) != APR_SUCCESS) {
                fprintf(stderr, "store_bench: is_revoked failed\n");
                return;
            }
        }
        n += 10000;
        dt = now_s() - t0;
    } while (dt < 1.0);
    printf("revocation_check per_second=%.0f ns_per_check=%.0f\n", n / dt, dt * 1e9 / n);
    if (af_store_is_uri(dir)) { /* the gate's way with a shared store: the per-process view */
        af_revview_t *v;
        apr_int64_t now = 1700000000;
        if (af_revview_create(&v, 1, 900, p) != APR_SUCCESS) {
            return;
        }
        n = 0;
        t0 = now_s();
        do {
            for (i = 0; i < 10000; i++) {
                if (af_revview_check(v, st, fam->sid, now + (apr_int64_t) (now_s() - t0)) !=
                    APR_SUCCESS) {
                    fprintf(stderr, "store_bench: revview check failed\n");
                    return;
                }
            }
            n += 10000;
            dt = now_s() - t0;
        } while (dt < 1.0);
        printf("revview_check (AuthFlowRevocationDelay 1s) per_second=%.0f ns_per_check=%.0f\n",
               n / dt, dt * 1e9 / n);
    }
}

int main(int argc, char **argv)
{
    const char *dir;
    double seconds, t0, dt;
    long(*results)[2], total = 0, commits = 0;
    int procs, threads, i, status;

    if (argc < 4) {
        fprintf(stderr, "usage: store_bench DIR|URI SECONDS PROCS [THREADS [nometasync]]\n");
        return 2;
    }
    dir = argv[1];
    seconds = atof(argv[2]);
    procs = atoi(argv[3]);
    threads = argc > 4 ? atoi(argv[4]) : 1;
    open_flags = argc > 5 && strcmp(argv[5], "nometasync") == 0 ? AF_STORE_NOMETASYNC : 0;
    if (procs < 1 || threads < 1) {
        return 2;
    }
    apr_initialize();
    results = mmap(NULL, sizeof(long[2]) * (size_t) procs, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (results == MAP_FAILED) {
        return 1;
    }
    t0 = now_s();
    for (i = 0; i < procs; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            results[i][0] = run_child(dir, seconds, threads, i, &results[i][1]);
            _exit(results[i][0] < 0 ? 1 : 0);
        }
    }
    for (i = 0; i < procs; i++) {
        wait(&status);
    }
    dt = now_s() - t0;
    for (i = 0; i < procs; i++) {
        if (results[i][0] < 0) {
            fprintf(stderr, "store_bench: a child failed\n");
            return 1;
        }
        total += results[i][0];
        commits += results[i][1];
    }
    printf("rotations%s procs=%d threads=%d rotations=%ld seconds=%.2f per_second=%.0f "
           "commits=%ld\n",
           af_store_is_uri(dir) ? "_postgresql"
           : open_flags         ? "_nometasync"
                                : "",
           procs, threads, total, dt, total / dt, commits);
    if (procs == 1 && threads == 1 && !open_flags) {
        revocation_check_rate(dir);
    }
    return 0;
}
