/* store_bench.c -- durable refresh-token rotations per second on the LMDB store.
 *
 *   store_bench DIR SECONDS PROCS [FAMILIES [nometasync]]
 *
 * PROCS processes (each opening the store after fork) rotate their own families'
 * tokens in a loop for SECONDS, with LMDB's default durability (a synced commit per
 * rotation, no MDB_NOSYNC).  Prints one line:  procs=N rotations=R seconds=S rate=R/S
 * and, with procs=1, the cost of the gate's revocation check (read txn) per second.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <apr_general.h>

#include "store/af_store.h"

static double now_s(void)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    return (double) tv.tv_sec + tv.tv_usec / 1e6;
}

static int open_flags;

static long run_child(const char *dir, double seconds, int families, int id)
{
    apr_pool_t *p, *it;
    af_store_t *st;
    const char **rts = malloc(sizeof(char *) * (size_t) families);
    af_store_family_t *fam;
    af_store_rotation_t *r;
    apr_int64_t t = 1700000000;
    double end;
    long n = 0;
    int i;

    apr_pool_create(&p, NULL);
    if (af_store_open(&st, dir, 0, 0, open_flags, p) != APR_SUCCESS) {
        return -1;
    }
    for (i = 0; i < families; i++) {
        char sub[32];
        snprintf(sub, sizeof(sub), "user-%d-%d", id, i);
        if (af_store_family_create(&fam, &rts[i], st, sub, "bench", "{}", t, 14 * 86400, 3 * 86400,
                                   p) != APR_SUCCESS) {
            return -1;
        }
    }
    apr_pool_create(&it, p);
    end = now_s() + seconds;
    for (i = 0; i < families; i++) {
        rts[i] = strdup(rts[i]);
    }
    while (now_s() < end) {
        for (i = 0; i < families; i++) {
            if (af_store_rotate(&r, st, rts[i], strlen(rts[i]), t + n, 10, 0, NULL, NULL, it) !=
                APR_SUCCESS) {
                return -1;
            }
            memcpy((char *) rts[i], r->refresh_token, strlen(r->refresh_token));
            n++;
        }
        apr_pool_clear(it);
    }
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
    if (af_store_open(&st, dir, 0, 0, 0, p) != APR_SUCCESS ||
        af_store_family_create(&fam, &rt, st, "rev-check", "bench", "{}", 1700000000, 14 * 86400, 0,
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
}

int main(int argc, char **argv)
{
    const char *dir;
    double seconds, t0, dt;
    long *results, total = 0;
    int procs, families, i, status;

    if (argc < 4) {
        fprintf(stderr, "usage: store_bench DIR SECONDS PROCS [FAMILIES]\n");
        return 2;
    }
    dir = argv[1];
    seconds = atof(argv[2]);
    procs = atoi(argv[3]);
    families = argc > 4 ? atoi(argv[4]) : 16;
    open_flags = argc > 5 && strcmp(argv[5], "nometasync") == 0 ? AF_STORE_NOMETASYNC : 0;
    apr_initialize();
    results = mmap(NULL, sizeof(long) * (size_t) procs, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (results == MAP_FAILED) {
        return 1;
    }
    t0 = now_s();
    for (i = 0; i < procs; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            results[i] = run_child(dir, seconds, families, i);
            _exit(results[i] < 0 ? 1 : 0);
        }
    }
    for (i = 0; i < procs; i++) {
        wait(&status);
    }
    dt = now_s() - t0;
    for (i = 0; i < procs; i++) {
        if (results[i] < 0) {
            fprintf(stderr, "store_bench: a child failed\n");
            return 1;
        }
        total += results[i];
    }
    printf("rotations%s procs=%d rotations=%ld seconds=%.2f per_second=%.0f\n",
           open_flags ? "_nometasync" : "", procs, total, dt, total / dt);
    if (procs == 1 && !open_flags) {
        revocation_check_rate(dir);
    }
    return 0;
}
