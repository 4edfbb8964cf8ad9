/* fuzz_policy.c -- libFuzzer target: the claim language (lexer, parser, type checks,
 * regex compilation, evaluator) and the claim-path / claim-text helpers.
 *
 * Input: the first line is the expression, the rest is a claims JSON document.
 * Bounds: inputs over 16 KiB are skipped; the expression itself is bounded by
 * AF_POLICY_MAX_LEN and AF_POLICY_MAX_DEPTH (the compiler refuses more), the JSON
 * by jansson's own depth limit.
 * Invariants checked (a violation traps):
 *   - a compile error has a message starting with "column N: ";
 *   - evaluation is deterministic (twice the same answer);
 *   - when EXPR compiles, so does "not (EXPR)" (unless a length/depth limit), and it
 *     gives the opposite answer unless a regex hit its match limit (then both deny).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <jansson.h>

#include "common/af_log.h"
#include "policy/af_policy.h"

#define FUZZ_MAX_INPUT 16384

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static apr_int64_t fuzz_clock(void *baton)
{
    return 1767225600;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    if (apr_initialize() != APR_SUCCESS) {
        abort();
    }
    af_log_set(NULL, NULL, 0);
    return 0;
}

static void check_message(const char *err)
{
    int col = 0, n = 0;

    if (err == NULL || sscanf(err, "column %d: %n", &col, &n) != 1 || n == 0 || col < 1) {
        fprintf(stderr, "fuzz_policy: bad error message: %s\n", err ? err : "(null)");
        abort();
    }
}

static int eval(const af_policy_t *pol, const json_t *claims, apr_status_t *rv, apr_pool_t *p)
{
    af_policy_ctx_t ctx;
    int allowed = -1;

    af_policy_ctx_init(&ctx, p);
    ctx.now = fuzz_clock;
    *rv = af_policy_eval(&allowed, pol, claims, &ctx);
    if (allowed != 0 && allowed != 1) {
        abort();
    }
    if (*rv != APR_SUCCESS && allowed != 0) {
        abort(); /* never fail open */
    }
    return allowed;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    const uint8_t *nl;
    char *expr, *neg;
    json_t *claims = NULL;
    json_error_t jerr;
    af_policy_t *pol, *npol;
    af_policy_path_t *path;
    const char *err;
    apr_status_t rv, rv2;
    size_t elen;

    if (size > FUZZ_MAX_INPUT || apr_pool_create(&p, NULL) != APR_SUCCESS) {
        return 0;
    }
    nl = memchr(data, '\n', size);
    elen = nl ? (size_t) (nl - data) : size;
    expr = apr_pstrmemdup(p, (const char *) data, elen); /* stops at an embedded NUL */
    if (nl != NULL) {
        claims = json_loadb((const char *) nl + 1, size - elen - 1, JSON_REJECT_DUPLICATES, &jerr);
    }

    rv = af_policy_compile(&pol, &err, expr, p);
    if (rv != APR_SUCCESS) {
        check_message(err);
    } else {
        int a = eval(pol, claims, &rv, p);
        int b = eval(pol, claims, &rv2, p);
        if (a != b || rv != rv2) {
            abort();
        }
        neg = apr_pstrcat(p, "not (", expr, ")", NULL);
        rv2 = af_policy_compile(&npol, &err, neg, p);
        if (rv2 == APR_SUCCESS) {
            int c = eval(npol, claims, &rv2, p);
            if (rv == APR_SUCCESS && rv2 == APR_SUCCESS && c == a) {
                fprintf(stderr, "fuzz_policy: not (%s) == %d\n", expr, a);
                abort();
            }
        } else if (rv2 != AF_EPOLICY_LIMIT) {
            fprintf(stderr, "fuzz_policy: '%s' compiles but 'not (...)' does not: %s\n", expr, err);
            abort();
        }
    }

    /* the same text as a claim path (ap_expr authflow_claim) and as authflow-claim */
    if (af_policy_path_compile(&path, &err, expr, p) == APR_SUCCESS) {
        (void) af_policy_claim_text(af_policy_path_get(path, claims), ",", p);
        {
            const char *const values[] = {"true", "1", "x"};
            if (af_policy_compile_claim(&pol, &err, expr, values, 3, p) != APR_SUCCESS) {
                abort();
            }
            (void) eval(pol, claims, &rv, p);
        }
    } else {
        check_message(err);
    }

    if (claims != NULL) {
        json_decref(claims);
    }
    apr_pool_destroy(p);
    return 0;
}
