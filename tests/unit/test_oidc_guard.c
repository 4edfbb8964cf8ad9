/* test_oidc_guard.c -- the per-provider outbound guard (src/oidc/af_oidc_guard.h), SECURITY.md
 * H09: the concurrency limit, stale leases, the circuit breaker driven by an injected clock,
 * the limit across forked processes on one shared mapping; and the JWKS cache's refetch
 * interval counted from the end of a fetch.  The provider-level use (leases on a request
 * pool, the callback, discovery) is in test_oidc_flow.c. */
#include <check.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "af_testutil.h"
#include "http/af_http.h"
#include "http/af_http_errors.h"
#include "http/af_jwks_cache.h"
#include "jose/af_jose_errors.h"
#include "oidc/af_oidc_guard.h"

#define T0      ((apr_time_t) 1700000000 * APR_USEC_PER_SEC) /* an arbitrary start */
#define SEC(n)  apr_time_from_sec(n)
#define TIMEOUT SEC(10) /* the provider Timeout of these guards */
#define STALE   (TIMEOUT + AF_OIDC_GUARD_MARGIN)

static af_oidc_guard_t *mkguard(int n)
{
    void *mem = NULL;

    ck_assert_int_eq(posix_memalign(&mem, 64, af_oidc_guard_size(n)), 0);
    memset(mem, 0xa5, af_oidc_guard_size(n)); /* init must not rely on zeroed memory */
    return af_oidc_guard_init(mem, n, TIMEOUT);
}

/* One call under l: begin, then the outcome. */
static af_oidc_guard_event_t call(af_oidc_lease_t *l, af_oidc_call_t outcome, apr_time_t now)
{
    ck_assert_int_eq(af_oidc_guard_begin(l, now), APR_SUCCESS);
    return af_oidc_guard_end(l, outcome, now, NULL);
}

/* A lease, one call with this outcome, the lease given back. */
static af_oidc_guard_event_t one_call(af_oidc_guard_t *g, af_oidc_call_t outcome, apr_time_t now)
{
    af_oidc_lease_t l;
    af_oidc_guard_event_t ev;

    ck_assert_int_eq(af_oidc_guard_acquire(&l, g, now), APR_SUCCESS);
    ev = call(&l, outcome, now);
    af_oidc_guard_release(&l, now);
    return ev;
}

START_TEST(test_H09_guard_limit)
{
    af_oidc_guard_t *g = mkguard(3);
    af_oidc_lease_t l[4];
    int i;

    ck_assert_ptr_null(af_oidc_guard_init(g, 0, TIMEOUT));
    ck_assert_ptr_null(af_oidc_guard_init(g, AF_OIDC_GUARD_LIMIT + 1, TIMEOUT));
    ck_assert_int_eq(af_oidc_guard_max(g), 3);
    for (i = 0; i < 3; i++) {
        ck_assert_int_eq(af_oidc_guard_acquire(&l[i], g, T0), APR_SUCCESS);
    }
    ck_assert_int_eq(af_oidc_guard_in_use(g, T0), 3);
    /* no free slot: refused at once, the circuit has nothing to do with it */
    ck_assert_int_eq(af_oidc_guard_acquire(&l[3], g, T0), AF_EOIDC_IDP_BUSY);
    ck_assert_int_eq(af_oidc_guard_check(g, T0), APR_SUCCESS);
    ck_assert_int_eq(af_oidc_guard_retry_after(g, T0), AF_OIDC_GUARD_BUSY_RETRY);
    af_oidc_guard_release(&l[1], T0);
    af_oidc_guard_release(&l[1], T0); /* idempotent: frees nothing more */
    ck_assert_int_eq(af_oidc_guard_in_use(g, T0), 2);
    ck_assert_int_eq(af_oidc_guard_acquire(&l[3], g, T0), APR_SUCCESS);
    ck_assert_int_eq(af_oidc_guard_acquire(&l[1], g, T0), AF_EOIDC_IDP_BUSY);
    for (i = 0; i < 4; i++) {
        af_oidc_guard_release(&l[i], T0);
    }
    ck_assert_int_eq(af_oidc_guard_in_use(g, T0), 0);
    free(g);
}
END_TEST

START_TEST(test_H09_guard_stale_lease_reclaimed)
{
    af_oidc_guard_t *g = mkguard(2);
    af_oidc_lease_t a, b, c;

    ck_assert_int_eq(af_oidc_guard_acquire(&a, g, T0), APR_SUCCESS);
    ck_assert_int_eq(af_oidc_guard_acquire(&b, g, T0), APR_SUCCESS);
    /* a lease renewed by a call lives another Timeout + margin */
    ck_assert_int_eq(af_oidc_guard_begin(&b, T0 + SEC(15)), APR_SUCCESS);
    af_oidc_guard_end(&b, AF_OIDC_CALL_OK, T0 + SEC(15), NULL);
    ck_assert_int_eq(af_oidc_guard_acquire(&c, g, T0 + STALE), AF_EOIDC_IDP_BUSY);
    /* a's holder vanished (its owner is this live process: only the age tells) */
    ck_assert_int_eq(af_oidc_guard_acquire(&c, g, T0 + STALE + SEC(1)), APR_SUCCESS);
    ck_assert_int_eq(af_oidc_guard_in_use(g, T0 + STALE + SEC(1)), 2);
    /* the late release of the stale lease must not free the slot now held by c */
    af_oidc_guard_release(&a, T0 + STALE + SEC(2));
    ck_assert_int_eq(af_oidc_guard_in_use(g, T0 + STALE + SEC(2)), 2);
    /* b is stale too now, 15 s + Timeout + margin after its renewal */
    ck_assert_int_eq(af_oidc_guard_acquire(&a, g, T0 + SEC(15) + STALE + SEC(1)), APR_SUCCESS);
    /* b's next call finds its slot taken over: it needs a free one again, and there is none */
    ck_assert_int_eq(af_oidc_guard_begin(&b, T0 + SEC(15) + STALE + SEC(1)), AF_EOIDC_IDP_BUSY);
    af_oidc_guard_release(&a, T0 + SEC(40));
    af_oidc_guard_release(&b, T0 + SEC(40));
    af_oidc_guard_release(&c, T0 + SEC(40));
    ck_assert_int_eq(af_oidc_guard_in_use(g, T0 + SEC(40)), 0);
    free(g);
}
END_TEST

/* A guard in a shared anonymous mapping, as the module has it after fork. */
static af_oidc_guard_t *shared_guard(int n, apr_size_t extra, void **tail)
{
    apr_size_t size = af_oidc_guard_size(n);
    char *mem = mmap(NULL, size + extra, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

    ck_assert_ptr_ne(mem, MAP_FAILED);
    if (tail != NULL) {
        *tail = mem + size;
    }
    return af_oidc_guard_init(mem, n, TIMEOUT);
}

START_TEST(test_H09_guard_dead_owner_reclaimed)
{
    af_oidc_guard_t *g = shared_guard(1, 0, NULL);
    af_oidc_lease_t l;
    int status = 0;
    pid_t pid = fork();

    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        /* a child killed in the middle of a call: it never gives the slot back */
        _exit(af_oidc_guard_acquire(&l, g, apr_time_now()) == APR_SUCCESS ? 0 : 1);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* long before the lease is stale by age: its owner is gone */
    ck_assert_int_eq(af_oidc_guard_acquire(&l, g, apr_time_now()), APR_SUCCESS);
    af_oidc_guard_release(&l, apr_time_now());
    munmap(g, af_oidc_guard_size(1));
}
END_TEST

START_TEST(test_H09_guard_breaker_cycle)
{
    af_oidc_guard_t *g = mkguard(4);
    af_oidc_lease_t old, a, b;
    apr_interval_time_t backoff = 0;
    apr_time_t t = T0;
    const int expect[] = {20, 40, 60, 60}; /* the back-off doubles, at most 60 s */
    int i;

    /* consecutive failures only: an answer in between starts the count again */
    ck_assert_int_eq(one_call(g, AF_OIDC_CALL_FAILED, t), AF_OIDC_GUARD_SAME);
    ck_assert_int_eq(one_call(g, AF_OIDC_CALL_FAILED, t), AF_OIDC_GUARD_SAME);
    ck_assert_int_eq(one_call(g, AF_OIDC_CALL_OK, t), AF_OIDC_GUARD_SAME);
    ck_assert_int_eq(one_call(g, AF_OIDC_CALL_FAILED, t), AF_OIDC_GUARD_SAME);
    ck_assert_int_eq(one_call(g, AF_OIDC_CALL_FAILED, t), AF_OIDC_GUARD_SAME);
    ck_assert_int_eq(af_oidc_guard_acquire(&old, g, t), APR_SUCCESS); /* under way */

    /* the third failure in a row opens the circuit for 10 s */
    ck_assert_int_eq(af_oidc_guard_acquire(&a, g, t), APR_SUCCESS);
    ck_assert_int_eq(af_oidc_guard_begin(&a, t), APR_SUCCESS);
    ck_assert_int_eq(af_oidc_guard_end(&a, AF_OIDC_CALL_FAILED, t, &backoff), AF_OIDC_GUARD_OPENED);
    ck_assert_int_eq(backoff, AF_OIDC_GUARD_BACKOFF);
    af_oidc_guard_release(&a, t);

    /* open: every lease and every call refused at once */
    t += SEC(1);
    ck_assert_int_eq(af_oidc_guard_check(g, t), AF_EOIDC_IDP_UNAVAILABLE);
    ck_assert_int_eq(af_oidc_guard_acquire(&a, g, t), AF_EOIDC_IDP_UNAVAILABLE);
    ck_assert_int_eq(af_oidc_guard_in_use(g, t), 1); /* a refused lease holds no slot */
    ck_assert_int_eq(af_oidc_guard_begin(&old, t), AF_EOIDC_IDP_UNAVAILABLE);
    ck_assert_int_eq(af_oidc_guard_retry_after(g, t), 9);
    /* a late failure of a call begun before does not extend the back-off */
    ck_assert_int_eq(af_oidc_guard_end(&old, AF_OIDC_CALL_FAILED, t, NULL), AF_OIDC_GUARD_SAME);
    af_oidc_guard_release(&old, t);
    ck_assert_int_eq(af_oidc_guard_acquire(&a, g, T0 + AF_OIDC_GUARD_BACKOFF - 1000),
                     AF_EOIDC_IDP_UNAVAILABLE);

    /* the back-off is over: one probe (half-open), the others still wait for its verdict */
    t = T0 + AF_OIDC_GUARD_BACKOFF;
    for (i = 0; i < 4; i++) {
        ck_assert_int_eq(af_oidc_guard_acquire(&a, g, t), APR_SUCCESS);
        ck_assert_int_eq(af_oidc_guard_check(g, t), APR_SUCCESS); /* a login may start */
        ck_assert_int_eq(af_oidc_guard_acquire(&b, g, t), AF_EOIDC_IDP_UNAVAILABLE);
        ck_assert_int_eq(af_oidc_guard_retry_after(g, t), apr_time_sec(TIMEOUT));
        ck_assert_int_eq(af_oidc_guard_begin(&a, t), APR_SUCCESS);
        ck_assert_int_eq(af_oidc_guard_end(&a, AF_OIDC_CALL_FAILED, t, &backoff),
                         AF_OIDC_GUARD_REOPENED);
        ck_assert_int_eq(apr_time_sec(backoff), expect[i]);
        /* the probe's lease makes no second call while the circuit is open again */
        ck_assert_int_eq(af_oidc_guard_begin(&a, t), AF_EOIDC_IDP_UNAVAILABLE);
        af_oidc_guard_release(&a, t);
        ck_assert_int_eq(af_oidc_guard_acquire(&b, g, t + SEC(expect[i]) - 1000),
                         AF_EOIDC_IDP_UNAVAILABLE);
        t += SEC(expect[i]);
    }

    /* an answer -- any HTTP status -- closes it; the back-off starts at 10 s again */
    ck_assert_int_eq(af_oidc_guard_acquire(&a, g, t), APR_SUCCESS);
    ck_assert_int_eq(af_oidc_guard_classify(APR_SUCCESS), AF_OIDC_CALL_OK);
    ck_assert_int_eq(call(&a, AF_OIDC_CALL_OK, t), AF_OIDC_GUARD_CLOSED);
    ck_assert_int_eq(af_oidc_guard_acquire(&b, g, t), APR_SUCCESS);
    ck_assert_int_eq(call(&a, AF_OIDC_CALL_OK, t), AF_OIDC_GUARD_SAME); /* the same lease again */
    af_oidc_guard_release(&a, t);
    af_oidc_guard_release(&b, t);
    for (i = 0; i < AF_OIDC_GUARD_FAILURES; i++) {
        one_call(g, AF_OIDC_CALL_FAILED, t);
    }
    ck_assert_int_eq(af_oidc_guard_retry_after(g, t), apr_time_sec(AF_OIDC_GUARD_BACKOFF));
    free(g);
}
END_TEST

START_TEST(test_H09_guard_probe_handed_on)
{
    af_oidc_guard_t *g = mkguard(4);
    af_oidc_lease_t a, b;
    apr_time_t t = T0;
    int i;

    for (i = 0; i < AF_OIDC_GUARD_FAILURES; i++) {
        one_call(g, AF_OIDC_CALL_FAILED, t);
    }
    t += AF_OIDC_GUARD_BACKOFF;
    /* the probe's request ends without calling (e.g. cached metadata, a bad state) */
    ck_assert_int_eq(af_oidc_guard_acquire(&a, g, t), APR_SUCCESS);
    af_oidc_guard_release(&a, t);
    ck_assert_int_eq(af_oidc_guard_acquire(&b, g, t), APR_SUCCESS); /* the next one probes */
    /* a call that tells nothing about the IdP (a refused URL) hands the probe on too */
    ck_assert_int_eq(af_oidc_guard_classify(AF_EHTTP_URL), AF_OIDC_CALL_NEUTRAL);
    ck_assert_int_eq(call(&b, AF_OIDC_CALL_NEUTRAL, t), AF_OIDC_GUARD_SAME);
    ck_assert_int_eq(af_oidc_guard_acquire(&a, g, t), APR_SUCCESS);
    af_oidc_guard_release(&b, t);
    /* a probe whose holder vanished is taken over once stale */
    ck_assert_int_eq(af_oidc_guard_begin(&a, t), APR_SUCCESS);
    ck_assert_int_eq(af_oidc_guard_acquire(&b, g, t + STALE), AF_EOIDC_IDP_UNAVAILABLE);
    ck_assert_int_eq(af_oidc_guard_acquire(&b, g, t + STALE + SEC(1)), APR_SUCCESS);
    /* ... and the vanished one's verdict no longer counts */
    ck_assert_int_eq(af_oidc_guard_end(&a, AF_OIDC_CALL_FAILED, t + STALE + SEC(2), NULL),
                     AF_OIDC_GUARD_SAME);
    ck_assert_int_eq(call(&b, AF_OIDC_CALL_OK, t + STALE + SEC(2)), AF_OIDC_GUARD_CLOSED);
    af_oidc_guard_release(&b, t + STALE + SEC(2));
    free(g);
}
END_TEST

START_TEST(test_H09_guard_answers_are_reachable)
{
    af_oidc_guard_t *g = mkguard(2);
    int i;

    ck_assert_int_eq(af_oidc_guard_classify(AF_EHTTP_TIMEOUT), AF_OIDC_CALL_FAILED);
    ck_assert_int_eq(af_oidc_guard_classify(AF_EHTTP_CONNECT), AF_OIDC_CALL_FAILED);
    ck_assert_int_eq(af_oidc_guard_classify(AF_EHTTP_TLS), AF_OIDC_CALL_FAILED);
    ck_assert_int_eq(af_oidc_guard_classify(AF_EHTTP_TOOBIG), AF_OIDC_CALL_OK);
    /* 500s and 400s are answers: a failing IdP is reachable and keeps being asked */
    for (i = 0; i < 10; i++) {
        one_call(g, i % 2 ? AF_OIDC_CALL_FAILED : AF_OIDC_CALL_OK, T0);
    }
    ck_assert_int_eq(af_oidc_guard_check(g, T0), APR_SUCCESS);
    /* the shared retry throttle */
    ck_assert_int_eq(af_oidc_guard_throttled(g, T0), APR_SUCCESS);
    af_oidc_guard_throttle_set(g, AF_EOIDC_IDP_TIMEOUT, T0 + SEC(5));
    ck_assert_int_eq(af_oidc_guard_throttled(g, T0 + SEC(4)), AF_EOIDC_IDP_TIMEOUT);
    ck_assert_int_eq(af_oidc_guard_throttled(g, T0 + SEC(5)), APR_SUCCESS);
    af_oidc_guard_throttle_set(g, AF_EOIDC_DISCOVERY, T0 + SEC(5));
    af_oidc_guard_throttle_clear(g);
    ck_assert_int_eq(af_oidc_guard_throttled(g, T0), APR_SUCCESS);
    free(g);
}
END_TEST

/* ---- across processes --------------------------------------------------------------- */

#define NPROC  6
#define ROUNDS 300
#define LIMIT  3

typedef struct shared_counts_t {
    _Atomic int inside;
    _Atomic int max_inside;
    _Atomic int granted;
    _Atomic int refused;
} shared_counts_t;

static int child_rounds(af_oidc_guard_t *g, shared_counts_t *sc)
{
    af_oidc_lease_t l;
    int i, in, m;

    for (i = 0; i < ROUNDS; i++) {
        apr_status_t rv = af_oidc_guard_acquire(&l, g, apr_time_now());

        if (rv == AF_EOIDC_IDP_BUSY) {
            atomic_fetch_add(&sc->refused, 1);
            continue;
        }
        if (rv != APR_SUCCESS) {
            return 1;
        }
        atomic_fetch_add(&sc->granted, 1);
        in = atomic_fetch_add(&sc->inside, 1) + 1;
        m = atomic_load(&sc->max_inside);
        while (in > m && !atomic_compare_exchange_weak(&sc->max_inside, &m, in)) {
        }
        usleep(200 + (unsigned) (i % 7) * 50); /* the "call" */
        atomic_fetch_sub(&sc->inside, 1);
        if (af_oidc_guard_begin(&l, apr_time_now()) != APR_SUCCESS) {
            return 1;
        }
        af_oidc_guard_end(&l, AF_OIDC_CALL_OK, apr_time_now(), NULL);
        af_oidc_guard_release(&l, apr_time_now());
    }
    return 0;
}

START_TEST(test_H09_guard_limit_across_processes)
{
    shared_counts_t *sc = NULL;
    af_oidc_guard_t *g = shared_guard(LIMIT, sizeof(*sc), (void **) &sc);
    pid_t pids[NPROC];
    int i, status;

    memset(sc, 0, sizeof(*sc));
    for (i = 0; i < NPROC; i++) {
        pids[i] = fork();
        ck_assert_int_ge(pids[i], 0);
        if (pids[i] == 0) {
            _exit(child_rounds(g, sc));
        }
    }
    for (i = 0; i < NPROC; i++) {
        ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    ck_assert_int_le(atomic_load(&sc->max_inside), LIMIT);
    ck_assert_int_gt(atomic_load(&sc->granted), 0);
    ck_assert_int_gt(atomic_load(&sc->refused), 0); /* the limit was actually reached */
    ck_assert_int_eq(atomic_load(&sc->granted) + atomic_load(&sc->refused), NPROC * ROUNDS);
    ck_assert_int_eq(af_oidc_guard_in_use(g, apr_time_now()), 0);

    /* the circuit is shared as well: failures seen by three processes open it for all */
    for (i = 0; i < AF_OIDC_GUARD_FAILURES; i++) {
        pids[i] = fork();
        if (pids[i] == 0) {
            af_oidc_lease_t l;
            if (af_oidc_guard_acquire(&l, g, T0) != APR_SUCCESS ||
                af_oidc_guard_begin(&l, T0) != APR_SUCCESS) {
                _exit(1);
            }
            af_oidc_guard_end(&l, AF_OIDC_CALL_FAILED, T0, NULL);
            af_oidc_guard_release(&l, T0);
            _exit(0);
        }
        ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    ck_assert_int_eq(af_oidc_guard_check(g, T0 + SEC(1)), AF_EOIDC_IDP_UNAVAILABLE);
    munmap(g, af_oidc_guard_size(LIMIT) + sizeof(*sc));
}
END_TEST

/* ---- the JWKS cache: interval from the end of a fetch; refused fetches ---------------- */

static apr_interval_time_t slow_delay;
static int slow_calls;

static apr_status_t slow_timeout(af_http_response_t **resp, const af_http_request_t *req,
                                 apr_pool_t *p)
{
    slow_calls++;
    apr_sleep(slow_delay);
    return AF_EHTTP_TIMEOUT;
}

static const af_http_impl_t slow_impl = {slow_timeout};

static int refuse_calls;

static apr_status_t refuse(af_http_response_t **resp, const af_http_request_t *req, void *baton,
                           apr_pool_t *p)
{
    refuse_calls++;
    return AF_EHTTP_REFUSED;
}

START_TEST(test_H09_jwks_interval_from_end_of_fetch)
{
    apr_pool_t *p = af_test_pool();
    af_jwks_cache_t *c = NULL;
    const af_keyset_t *ks = NULL;
    af_jwks_opts_t opts;
    af_http_via_t via = {refuse, NULL};

    memset(&opts, 0, sizeof(opts));
    opts.min_interval = apr_time_from_msec(1000);
    ck_assert_int_eq(af_jwks_cache_create(&c, "https://idp.example/jwks", &opts, p), APR_SUCCESS);
    /* a fetch refused before it was sent is no attempt: the next one is not throttled */
    ck_assert_int_eq(af_jwks_cache_keys_via(&ks, c, "k1", &via, p), AF_EJWS_NOKEY);
    ck_assert_int_eq(refuse_calls, 1);

    af_http_set_impl(&slow_impl);
    slow_delay = apr_time_from_msec(1300); /* longer than the interval */
    ck_assert_int_eq(af_jwks_cache_keys(&ks, c, "k1", p), AF_EJWS_NOKEY);
    ck_assert_int_eq(slow_calls, 1);
    slow_delay = 0;
    /* right after the failed fetch ended: more than the interval after it started, less
     * than the interval after it ended -- not asked again */
    ck_assert_int_eq(af_jwks_cache_keys(&ks, c, "k1", p), AF_EJWS_NOKEY);
    ck_assert_int_eq(slow_calls, 1);
    apr_sleep(apr_time_from_msec(1100));
    ck_assert_int_eq(af_jwks_cache_keys(&ks, c, "k1", p), AF_EJWS_NOKEY);
    ck_assert_int_eq(slow_calls, 2);
    af_http_set_impl(af_http_curl());
    apr_pool_destroy(p);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("oidc_guard");
    TCase *tg = tcase_create("guard");
    TCase *tj = tcase_create("jwks");

    tcase_add_test(tg, test_H09_guard_limit);
    tcase_add_test(tg, test_H09_guard_stale_lease_reclaimed);
    tcase_add_test(tg, test_H09_guard_dead_owner_reclaimed);
    tcase_add_test(tg, test_H09_guard_breaker_cycle);
    tcase_add_test(tg, test_H09_guard_probe_handed_on);
    tcase_add_test(tg, test_H09_guard_answers_are_reachable);
    tcase_add_test(tg, test_H09_guard_limit_across_processes);
    tcase_set_timeout(tg, 60);
    suite_add_tcase(s, tg);
    tcase_add_test(tj, test_H09_jwks_interval_from_end_of_fetch);
    tcase_set_timeout(tj, 30);
    suite_add_tcase(s, tj);
    return s;
}

int main(void)
{
    af_test_pool();
    return af_test_run(suite());
}
