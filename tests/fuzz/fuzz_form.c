/* fuzz_form.c -- libFuzzer target: query strings and form bodies (src/common/af_form.c, and
 * the OIDC callback parser on the same input).
 *
 * Invariants (a violation traps): every decoded name and value is NUL-free and no longer
 * than its encoded form; the pair count respects the limit; af_form_pick never returns a
 * value for a name that appears twice; a parsed callback has a non-empty state and code.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "common/af_form.h"
#include "common/af_log.h"
#include "oidc/af_oidc.h"

static apr_pool_t *fuzz_root;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    if (apr_initialize() != APR_SUCCESS || apr_pool_create(&fuzz_root, NULL) != APR_SUCCESS) {
        abort();
    }
    af_log_set(NULL, NULL, 0);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"provider", "return_to", "state", "code"};
    const char *vals[4];
    apr_array_header_t *pairs = NULL;
    af_oidc_cbparams_t *cb = NULL;
    apr_pool_t *p;
    const char *s;
    int i, j, n;
    unsigned flags;

    if (apr_pool_create(&p, fuzz_root) != APR_SUCCESS) {
        abort();
    }
    s = apr_pstrmemdup(p, (const char *) data, size);
    flags = size > 0 && (data[0] & 1) ? AF_FORM_SKIP_EMPTY : 0;
    if (af_form_parse(&pairs, s, AF_FORM_MAX_PARAMS, AF_FORM_MAX_LEN, flags, p) == APR_SUCCESS) {
        if (pairs->nelts > AF_FORM_MAX_PARAMS) {
            __builtin_trap();
        }
        for (i = 0; i < pairs->nelts; i++) {
            const af_form_pair_t *pr = &APR_ARRAY_IDX(pairs, i, af_form_pair_t);
            if (strlen(pr->name) + strlen(pr->value) > strlen(s)) {
                __builtin_trap();
            }
        }
        if (af_form_pick(vals, names, 4, pairs) == APR_SUCCESS) {
            for (i = 0; i < 4; i++) {
                for (n = 0, j = 0; j < pairs->nelts; j++) {
                    n += strcmp(APR_ARRAY_IDX(pairs, j, af_form_pair_t).name, names[i]) == 0;
                }
                if ((n == 0) != (vals[i] == NULL) || n > 1) {
                    __builtin_trap();
                }
            }
        }
    }
    if (af_oidc_callback_parse(&cb, s, p) == APR_SUCCESS &&
        (cb->state == NULL || *cb->state == '\0' || cb->code == NULL || *cb->code == '\0')) {
        __builtin_trap();
    }
    apr_pool_destroy(p);
    return 0;
}
