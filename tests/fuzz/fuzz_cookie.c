/* fuzz_cookie.c -- libFuzzer target: the Cookie request header (src/common/af_cookie.c).
 *
 * The input is a Cookie header as a client sends it (also several lines joined with ", ").
 * Invariants (a violation traps): a value af_cookie_get returns is made of RFC 6265
 * cookie-octets only; after af_cookie_remove none of the removed names can be found again,
 * the result never grows by more than the separators it adds, and names not removed keep
 * their value.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "common/af_cookie.h"
#include "common/af_error.h"

static apr_pool_t *fuzz_root;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    if (apr_initialize() != APR_SUCCESS || apr_pool_create(&fuzz_root, NULL) != APR_SUCCESS) {
        abort();
    }
    return 0;
}

static int octets_ok(const char *v)
{
    for (; *v; v++) {
        unsigned char c = (unsigned char) *v;
        if (!(c == 0x21 || (c >= 0x23 && c <= 0x2B) || (c >= 0x2D && c <= 0x3A) ||
              (c >= 0x3C && c <= 0x5B) || (c >= 0x5D && c <= 0x7E))) {
            return 0;
        }
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"authflow-at", "authflow-rt", "authflow-flow",
                                        "authflow-logout"};
    apr_pool_t *p;
    const char *hdr, *v = NULL, *out = NULL, *v2 = NULL, *before = NULL;
    int removed = 0, i;
    apr_status_t rv;

    if (apr_pool_create(&p, fuzz_root) != APR_SUCCESS) {
        abort();
    }
    hdr = apr_pstrmemdup(p, (const char *) data, size); /* stops at a NUL, as httpd would */
    for (i = 0; i < 4; i++) {
        if (af_cookie_get(&v, hdr, names[i], p) == APR_SUCCESS && !octets_ok(v)) {
            __builtin_trap();
        }
    }
    rv = af_cookie_get(&before, hdr, "theme", p);
    if (af_cookie_remove(&out, &removed, hdr, names, 4, p) == APR_SUCCESS && out != NULL) {
        if (strlen(out) > 2 * strlen(hdr)) {
            __builtin_trap();
        }
        for (i = 0; i < 4; i++) {
            if (af_cookie_get(&v2, out, names[i], p) == APR_SUCCESS) {
                __builtin_trap(); /* a removed cookie is still there */
            }
        }
        if (rv == APR_SUCCESS && strchr(hdr, ',') == NULL &&
            (af_cookie_get(&v2, out, "theme", p) != APR_SUCCESS || strcmp(v2, before) != 0)) {
            __builtin_trap(); /* another application's cookie changed */
        }
    }
    apr_pool_destroy(p);
    return 0;
}
