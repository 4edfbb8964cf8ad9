/* metrics_bench.c -- the cost of what a gate request adds with metrics on: its two counter
 * adds (the decision by reason, the token cache), in nanoseconds per request, on one shared
 * anonymous mapping as the children have it: 1 process, then N processes adding to the very
 * same words at once (the worst case: every child's cache line bounces).  Printed as a
 * Markdown row per case.  Usage: metrics_bench [SECONDS] [PROCESSES] */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <apr_general.h>

#include "common/af_metrics.h"

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One process: the pair of adds in a loop for secs; writes ns per pair to *out. */
static void run(af_metrics_t *m, double secs, double *out)
{
    double t0 = now_s(), t;
    unsigned long n = 0;
    int i;

    do {
        for (i = 0; i < 10000; i++) {
            af_metrics_reason(m, AF_MR_GATE, APR_SUCCESS);
            af_metrics_count(m, AF_M_TCACHE_HIT);
        }
        n += 10000;
    } while ((t = now_s()) - t0 < secs);
    *out = (t - t0) * 1e9 / (double) n;
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 2.0;
    int procs = argc > 2 ? atoi(argv[2]) : 2, i, k;
    void *mem =
        mmap(NULL, af_metrics_size(), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    double *res =
        mmap(NULL, sizeof(double) * 64, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    af_metrics_t *m;

    if (mem == MAP_FAILED || res == MAP_FAILED || procs < 1 || procs > 64) {
        return 2;
    }
    apr_initialize();
    m = af_metrics_init(mem, 0);
    printf("| case | ns per gate request (2 adds) |\n|---|---:|\n");
    run(m, secs, &res[0]);
    printf("| 1 process | %.1f |\n", res[0]);
    for (i = 0; i < procs; i++) {
        if (fork() == 0) {
            run(m, secs, &res[i]);
            _exit(0);
        }
    }
    for (i = 0; i < procs; i++) {
        wait(&k);
    }
    for (i = 0; i < procs; i++) {
        printf("| %d processes at once, process %d | %.1f |\n", procs, i + 1, res[i]);
    }
    return 0;
}
