/* policy_bench.c -- ns per evaluation of compiled claim expressions (src/policy).
 *
 * Every scenario runs against the same claims object (a typical access token's
 * claims), compiled once; each round runs each scenario for -t seconds, scenarios
 * interleaved, -r rounds; the median ns/eval is printed beside the floor: a plain
 * json_object_get + strcmp check of one claim, what a hand-written C check costs.
 * One evaluation context is reused, as the httpd glue does per request; the only
 * allocation (the regex match block) happens once per context.
 *
 *   policy_bench [-r ROUNDS] [-t SECONDS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <jansson.h>

#include "policy/af_policy.h"

#define MAX_ROUNDS 64

static const char *const claims_json =
    "{\"iss\":\"https://app.example.com\",\"aud\":\"https://app.example.com\","
    "\"sub\":\"248289761001\",\"iat\":1767225540,\"exp\":1767226140,\"jti\":\"a1b2c3\","
    "\"sid\":\"fam-7f3a\",\"idp\":\"google\",\"email\":\"alice@corp.example\","
    "\"email_verified\":true,\"name\":\"Alice Example\",\"preferred_username\":\"alice\","
    "\"groups\":[\"staff\",\"dev\",\"ops\",\"oncall\"],\"amr\":[\"pwd\",\"mfa\"],"
    "\"auth_time\":1767225000,\"realm_access\":{\"roles\":[\"admin\",\"user\"]},"
    "\"tenant\":\"ACME\"}";

typedef struct {
    const char *label;
    const char *expr;  /* NULL: the strcmp floor */
    const char *claim; /* authflow-claim PATH (expr is then its VALUE) */
    af_policy_t *pol;
    double ns[MAX_ROUNDS];
} scenario_t;

static scenario_t scen[] = {
    {"floor: json_object_get + strcmp", NULL, NULL, NULL, {0}},
    {"bare claim", "email_verified", NULL, NULL, {0}},
    {"string ==", "email == 'alice@corp.example'", NULL, NULL, {0}},
    {"in array", "'ops' in groups", NULL, NULL, {0}},
    {"authflow-claim groups ops", "ops", "groups", NULL, {0}},
    {"verified and regex", "email_verified && email =~ /@corp\\.example$/", NULL, NULL, {0}},
    {"verified and regex /i", "email_verified and email =~ /@CORP\\.example$/i", NULL, NULL, {0}},
    {"mfa recent (README)",
     "exists(amr) and 'mfa' in amr and auth_time > now() - 3600",
     NULL,
     NULL,
     {0}},
    {"nested path or list",
     "realm_access.roles[0] == 'admin' or tenant in ['Initech', 'ACME']",
     NULL,
     NULL,
     {0}},
    {"len, not, in",
     "len(groups) >= 2 and not ('banned' in groups) and idp == 'google'",
     NULL,
     NULL,
     {0}},
    {"missing claim, 3 ors", "missing == 'x' or other > 3 or 'x' in nothing", NULL, NULL, {0}},
};

#define NSCEN ((int) (sizeof(scen) / sizeof(scen[0])))

static apr_int64_t bench_clock(void *baton)
{
    return 1767225600;
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec * 1e9 + (double) ts.tv_nsec;
}

static volatile int sink;

static int floor_check(const json_t *claims)
{
    const json_t *v = json_object_get(claims, "email");
    const char *s = json_string_value(v);
    return s != NULL && strcmp(s, "alice@corp.example") == 0;
}

/* run one scenario for about `seconds`; returns ns per evaluation */
static double run(scenario_t *sc, const json_t *claims, af_policy_ctx_t *ctx, double seconds)
{
    long iters = 0, batch = 2000, i;
    double start = now_ns(), end, elapsed;
    int acc = 0, allowed;

    do {
        if (sc->pol == NULL) {
            for (i = 0; i < batch; i++) {
                acc += floor_check(claims);
            }
        } else {
            for (i = 0; i < batch; i++) {
                af_policy_eval(&allowed, sc->pol, claims, ctx);
                acc += allowed;
            }
        }
        iters += batch;
        end = now_ns();
        elapsed = end - start;
    } while (elapsed < seconds * 1e9);
    sink += acc;
    return elapsed / (double) iters;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    double tmp[MAX_ROUNDS];
    memcpy(tmp, v, (size_t) n * sizeof(double));
    qsort(tmp, (size_t) n, sizeof(double), cmp_double);
    return n % 2 ? tmp[n / 2] : (tmp[n / 2 - 1] + tmp[n / 2]) / 2;
}

int main(int argc, char **argv)
{
    apr_pool_t *pool;
    json_error_t jerr;
    json_t *claims;
    af_policy_ctx_t ctx;
    int rounds = 9, r, i, c, over = 0;
    double seconds = 0.2, floor_ns;

    while ((c = getopt(argc, argv, "r:t:")) != -1) {
        if (c == 'r') {
            rounds = atoi(optarg);
        } else if (c == 't') {
            seconds = atof(optarg);
        } else {
            fprintf(stderr, "usage: %s [-r ROUNDS] [-t SECONDS]\n", argv[0]);
            return 2;
        }
    }
    if (rounds < 1 || rounds > MAX_ROUNDS) {
        rounds = 9;
    }
    apr_initialize();
    apr_pool_create(&pool, NULL);
    claims = json_loads(claims_json, JSON_REJECT_DUPLICATES, &jerr);
    if (claims == NULL) {
        fprintf(stderr, "bad claims: %s\n", jerr.text);
        return 1;
    }
    for (i = 0; i < NSCEN; i++) {
        const char *err = NULL;
        apr_status_t rv = APR_SUCCESS;
        int allowed = 0;

        if (scen[i].expr == NULL) {
            continue;
        }
        if (scen[i].claim != NULL) {
            const char *values[] = {scen[i].expr};
            rv = af_policy_compile_claim(&scen[i].pol, &err, scen[i].claim, values, 1, pool);
        } else {
            rv = af_policy_compile(&scen[i].pol, &err, scen[i].expr, pool);
        }
        if (rv != APR_SUCCESS) {
            fprintf(stderr, "%s: %s\n", scen[i].expr, err);
            return 1;
        }
        af_policy_ctx_init(&ctx, pool);
        ctx.now = bench_clock;
        af_policy_eval(&allowed, scen[i].pol, claims, &ctx);
        if (allowed != (i != NSCEN - 1)) {
            fprintf(stderr, "%s: unexpected result %d\n", scen[i].expr, allowed);
            return 1;
        }
    }
    af_policy_ctx_init(&ctx, pool);
    ctx.now = bench_clock;
    for (r = 0; r < rounds; r++) {
        for (i = 0; i < NSCEN; i++) {
            scen[i].ns[r] = run(&scen[i], claims, &ctx, seconds);
        }
    }
    floor_ns = median(scen[0].ns, rounds);
    printf("rounds: %d x %.2f s per scenario, median ns per evaluation\n\n", rounds, seconds);
    printf("| scenario | expression | nodes | ns/eval | x floor |\n");
    printf("|---|---|---:|---:|---:|\n");
    for (i = 0; i < NSCEN; i++) {
        double m = median(scen[i].ns, rounds);
        char expr[160];
        if (scen[i].expr == NULL) {
            snprintf(expr, sizeof(expr), "`strcmp(email, \"alice@corp.example\")`");
        } else if (scen[i].claim != NULL) {
            snprintf(expr, sizeof(expr), "`Require authflow-claim %s %s`", scen[i].claim,
                     scen[i].expr);
        } else {
            snprintf(expr, sizeof(expr), "`%s`", scen[i].expr);
        }
        printf("| %s | %s | %d | %.1f | %.1f |\n", scen[i].label, expr,
               scen[i].pol ? af_policy_nodes(scen[i].pol) : 0, m, m / floor_ns);
        if (scen[i].pol != NULL && m >= 1000.0) {
            over++;
        }
    }
    printf("\ntarget < 1000 ns per evaluation: %s\n", over ? "MISSED" : "met by every expression");
    json_decref(claims);
    apr_pool_destroy(pool);
    apr_terminate();
    return 0;
}
