/* test_metrics.c -- the counters and their Prometheus text (src/common/af_metrics.h):
 * counting by reason code (codes sharing a reason string add up, APR codes are
 * "system_error"), the histogram's cumulative buckets, _sum and _count, label escaping,
 * the provider slots, the layout check that lets a graceful restart keep a segment, and
 * counting from forked processes into one shared mapping (as the children do). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "af_testutil.h"
#include "common/af_metrics.h"
#include "session/af_session_errors.h"
#include "store/af_store_errors.h"

static af_metrics_t *mk(void)
{
    void *mem = NULL;

    ck_assert_int_eq(posix_memalign(&mem, 64, af_metrics_size()), 0);
    memset(mem, 0xa5, af_metrics_size()); /* init must not rely on zeroed memory */
    return af_metrics_init(mem, apr_time_from_sec(1700000000));
}

/* The value of the sample line that starts with `series ` (exact series), or -1. */
static long long value_of(const char *text, const char *series)
{
    apr_size_t n = strlen(series);
    const char *l = text;

    while (l != NULL && *l != '\0') {
        if (strncmp(l, series, n) == 0 && l[n] == ' ') {
            return atoll(l + n + 1);
        }
        l = strchr(l, '\n');
        l = l != NULL ? l + 1 : NULL;
    }
    return -1;
}

static int count_lines(const char *text, const char *prefix)
{
    int k = 0;
    const char *l = text;

    while (l != NULL && *l != '\0') {
        k += strncmp(l, prefix, strlen(prefix)) == 0;
        l = strchr(l, '\n');
        l = l != NULL ? l + 1 : NULL;
    }
    return k;
}

START_TEST(test_metrics_by_reason)
{
    apr_pool_t *p = af_test_pool();
    af_metrics_t *m = mk();
    const char *t;

    af_metrics_reason(m, AF_MR_GATE, APR_SUCCESS);
    af_metrics_reason(m, AF_MR_GATE, APR_SUCCESS);
    af_metrics_reason(m, AF_MR_GATE, AF_ESESS_NO_TOKEN);
    af_metrics_reason(m, AF_MR_GATE, AF_ESESS_LOGIN_REVOKED); /* "login_revoked" */
    af_metrics_reason(m, AF_MR_GATE, AF_ESTORE_REVOKED);      /* "login_revoked" too */
    af_metrics_reason(m, AF_MR_GATE, APR_ENOENT);             /* "system_error" */
    af_metrics_reason(m, AF_MR_STORE_ERROR, AF_ESTORE_FULL);
    af_metrics_count(m, AF_M_REUSE);
    af_metrics_count(NULL, AF_M_REUSE); /* no metrics: nothing, no crash */
    af_metrics_reason(NULL, AF_MR_GATE, APR_SUCCESS);
    ck_assert_uint_eq(af_metrics_get_reason(m, AF_MR_GATE, APR_SUCCESS), 2);
    ck_assert_uint_eq(af_metrics_get(m, AF_M_REUSE), 1);
    t = af_metrics_render(m, NULL, p);
    ck_assert_int_eq(value_of(t, "authflow_gate_requests_total{reason=\"ok\"}"), 2);
    ck_assert_int_eq(value_of(t, "authflow_gate_requests_total{reason=\"no_token\"}"), 1);
    ck_assert_int_eq(value_of(t, "authflow_gate_requests_total{reason=\"login_revoked\"}"), 2);
    ck_assert_int_eq(count_lines(t, "authflow_gate_requests_total{reason=\"login_revoked\"}"), 1);
    ck_assert_int_eq(value_of(t, "authflow_gate_requests_total{reason=\"system_error\"}"), 1);
    ck_assert_int_eq(value_of(t, "authflow_store_errors_total{reason=\"store_full\"}"), 1);
    ck_assert_int_eq(value_of(t, "authflow_refresh_token_reuse_total"), 1);
    /* "ok" is always there for outcome families, never for failure-only families */
    ck_assert_int_eq(value_of(t, "authflow_refresh_requests_total{reason=\"ok\"}"), 0);
    ck_assert_int_eq(count_lines(t, "authflow_logins_failed_total{reason=\"ok\"}"), 0);
    ck_assert_int_eq(count_lines(t, "authflow_store_errors_total{reason=\"ok\"}"), 0);
    /* every family has HELP and TYPE, counters end in _total */
    ck_assert_ptr_nonnull(strstr(t, "# HELP authflow_gate_requests_total "));
    ck_assert_ptr_nonnull(strstr(t, "# TYPE authflow_gate_requests_total counter\n"));
    ck_assert_ptr_nonnull(strstr(t, "# TYPE authflow_start_time_seconds gauge\n"));
    ck_assert_int_eq(value_of(t, "authflow_start_time_seconds"), 1700000000);
    ck_assert_int_eq(t[strlen(t) - 1], '\n');
}
END_TEST

START_TEST(test_metrics_histogram_cumulative)
{
    apr_pool_t *p = af_test_pool();
    af_metrics_t *m = mk();
    af_metrics_prov_t *a = af_metrics_provider(m, "alpha"), *b = af_metrics_provider(m, "beta");
    const char *t;

    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_eq(af_metrics_provider(m, "alpha"), a); /* one slot per name */
    ck_assert_ptr_ne(a, b);
    af_metrics_idp_call(a, 3000);                  /* <= 5 ms */
    af_metrics_idp_call(a, 5000);                  /* le is inclusive: 0.005 */
    af_metrics_idp_call(a, 80000);                 /* 0.1 */
    af_metrics_idp_call(a, apr_time_from_sec(30)); /* +Inf only */
    af_metrics_jwks(a, 0);
    af_metrics_jwks(a, 1);
    t = af_metrics_render(m, NULL, p);
    ck_assert_ptr_nonnull(strstr(t, "# TYPE authflow_idp_request_duration_seconds histogram\n"));
    ck_assert_int_eq(
        value_of(t,
                 "authflow_idp_request_duration_seconds_bucket{provider=\"alpha\",le=\"0.005\"}"),
        2);
    ck_assert_int_eq(
        value_of(t, "authflow_idp_request_duration_seconds_bucket{provider=\"alpha\",le=\"0.05\"}"),
        2);
    ck_assert_int_eq(
        value_of(t, "authflow_idp_request_duration_seconds_bucket{provider=\"alpha\",le=\"0.1\"}"),
        3);
    ck_assert_int_eq(
        value_of(t, "authflow_idp_request_duration_seconds_bucket{provider=\"alpha\",le=\"10\"}"),
        3);
    ck_assert_int_eq(
        value_of(t, "authflow_idp_request_duration_seconds_bucket{provider=\"alpha\",le=\"+Inf\"}"),
        4);
    ck_assert_int_eq(value_of(t, "authflow_idp_request_duration_seconds_count{provider=\"alpha\"}"),
                     4);
    ck_assert_ptr_nonnull(
        strstr(t, "authflow_idp_request_duration_seconds_sum{provider=\"alpha\"} 30.088000\n"));
    ck_assert_int_eq(
        value_of(t, "authflow_idp_request_duration_seconds_bucket{provider=\"beta\",le=\"+Inf\"}"),
        0);
    ck_assert_int_eq(count_lines(t, "authflow_idp_request_duration_seconds_bucket{provider=\"a"),
                     AF_METRICS_BUCKETS + 1);
    ck_assert_int_eq(value_of(t, "authflow_jwks_fetches_total{provider=\"alpha\"}"), 2);
    ck_assert_int_eq(value_of(t, "authflow_jwks_fetch_failures_total{provider=\"alpha\"}"), 1);
}
END_TEST

START_TEST(test_metrics_escaping_and_slots)
{
    apr_pool_t *p = af_test_pool();
    af_metrics_t *m = mk();
    const char *t;
    char name[16], name64[65];
    af_metrics_prov_t *first;
    int i;

    ck_assert_str_eq(af_metrics_escape("a\\b\"c\nd", p), "a\\\\b\\\"c\\nd");
    ck_assert_ptr_nonnull(af_metrics_provider(m, "we\"ird\\name\n"));
    /* provider names are up to 64 bytes: two that differ only in the 64th are two slots */
    memset(name64, 'a', 64);
    name64[64] = '\0';
    ck_assert_ptr_nonnull(first = af_metrics_provider(m, name64));
    name64[63] = 'b';
    ck_assert_ptr_nonnull(af_metrics_provider(m, name64));
    ck_assert_ptr_ne(af_metrics_provider(m, name64), first);
    t = af_metrics_render(m, NULL, p);
    ck_assert_int_eq(value_of(t, "authflow_jwks_fetches_total{provider=\"we\\\"ird\\\\name\\n\"}"),
                     0);
    for (i = 3; i < AF_METRICS_PROVIDERS; i++) { /* 3 slots taken above */
        snprintf(name, sizeof(name), "p%d", i);
        ck_assert_ptr_nonnull(af_metrics_provider(m, name));
    }
    ck_assert_ptr_null(af_metrics_provider(m, "one-too-many"));
    ck_assert_ptr_nonnull(af_metrics_provider(m, "p7")); /* existing names still resolve */
}
END_TEST

START_TEST(test_metrics_layout_and_status)
{
    apr_pool_t *p = af_test_pool();
    af_metrics_t *m = mk();
    af_metrics_gauges_t g = {1, 1, 1048576, 65536};
    const char *t;
    char junk[64];

    ck_assert(af_metrics_compatible(m, af_metrics_size()));
    ck_assert(!af_metrics_compatible(m, af_metrics_size() - 64));
    memset(junk, 0, sizeof(junk));
    ck_assert(!af_metrics_compatible(junk, af_metrics_size()));
    af_metrics_reason(m, AF_MR_GATE, APR_SUCCESS);
    af_metrics_reason(m, AF_MR_GATE, AF_ESESS_NO_TOKEN);
    af_metrics_reason(m, AF_MR_GATE, AF_ESESS_BEARER);
    t = af_metrics_status(m, &g, 0, p);
    ck_assert_ptr_nonnull(strstr(t, "AuthFlowGateOK: 1\n"));
    ck_assert_ptr_nonnull(strstr(t, "AuthFlowGateDenied: 2\n"));
    ck_assert_ptr_nonnull(strstr(t, "AuthFlowStoreMapUsed: 65536\n"));
    t = af_metrics_status(m, &g, 1, p);
    ck_assert_ptr_nonnull(strstr(t, "<h2>AuthFlow</h2>"));
    ck_assert_ptr_nonnull(strstr(t, "<td>gate: authenticated</td><td>1</td>"));
    t = af_metrics_render(m, &g, p);
    ck_assert_int_eq(value_of(t, "authflow_store_map_size_bytes"), 1048576);
    ck_assert_int_eq(value_of(t, "authflow_store_map_used_bytes"), 65536);
}
END_TEST

/* Several processes count into one shared mapping (the children after fork): no increment
 * is lost. */
START_TEST(test_metrics_across_processes)
{
    enum { PROCS = 4, EACH = 20000 };
    void *mem =
        mmap(NULL, af_metrics_size(), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    af_metrics_t *m;
    af_metrics_prov_t *pm;
    int i, j, st;

    ck_assert_ptr_ne(mem, MAP_FAILED);
    m = af_metrics_init(mem, 0);
    pm = af_metrics_provider(m, "idp");
    for (i = 0; i < PROCS; i++) {
        if (fork() == 0) {
            for (j = 0; j < EACH; j++) {
                af_metrics_reason(m, AF_MR_GATE, APR_SUCCESS);
                af_metrics_count(m, AF_M_TCACHE_HIT);
                af_metrics_idp_call(pm, 1000);
            }
            _exit(0);
        }
    }
    for (i = 0; i < PROCS; i++) {
        ck_assert_int_gt(wait(&st), 0);
        ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    ck_assert_uint_eq(af_metrics_get_reason(m, AF_MR_GATE, APR_SUCCESS), PROCS * EACH);
    ck_assert_uint_eq(af_metrics_get(m, AF_M_TCACHE_HIT), PROCS * EACH);
    munmap(mem, af_metrics_size());
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("metrics");

    tcase_add_test(tc, test_metrics_by_reason);
    tcase_add_test(tc, test_metrics_histogram_cumulative);
    tcase_add_test(tc, test_metrics_escaping_and_slots);
    tcase_add_test(tc, test_metrics_layout_and_status);
    tcase_add_test(tc, test_metrics_across_processes);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    af_test_pool();
    return af_test_run(suite());
}
