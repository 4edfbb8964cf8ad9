/* fuzz_return_to.c -- libFuzzer target: return_to (D08) and the gate's login URL
 * (src/session/session_url.c), from attacker-chosen query parameters and request targets.
 *
 * Invariants (a violation traps): a validated return_to is "/", a path starting with one
 * '/' (not "//" or "/\") without whitespace, control characters or backslashes, or an
 * absolute URL whose origin is the base URL's or an allowed one; its absolute URL always
 * starts with one of those origins followed by '/', or is the base URL + '/...'; the
 * request target never carries an access_token/id_token/refresh_token/code parameter.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "common/af_form.h"
#include "common/af_url.h"
#include "session/af_session.h"

static apr_pool_t *fuzz_root;
static af_site_t site;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    if (apr_initialize() != APR_SUCCESS || apr_pool_create(&fuzz_root, NULL) != APR_SUCCESS) {
        abort();
    }
    site.base_url = "https://app.example.com";
    site.endpoint = "/auth";
    site.return_to = apr_array_make(fuzz_root, 1, sizeof(const char *));
    APR_ARRAY_PUSH(site.return_to, const char *) = "https://allowed.example:8443";
    return 0;
}

/* Does the query of u still name a token parameter (decoded, any case)? */
static int has_token_param(const char *u, apr_pool_t *p)
{
    static const char *const names[] = {"access_token", "id_token", "refresh_token", "code"};
    const char *q = strchr(u, '?'), *b, *e, *eq;
    char *name;
    int i;

    for (b = q ? q + 1 : ""; *b; b = *e ? e + 1 : e) {
        e = b + strcspn(b, "&");
        eq = memchr(b, '=', (size_t) (e - b));
        name = af_form_decode(b, (apr_size_t) ((eq ? eq : e) - b), p);
        for (i = 0; name != NULL && i < 4; i++) {
            if (strcasecmp(name, names[i]) == 0) {
                return 1;
            }
        }
    }
    return 0;
}

static int starts_with_origin(const char *u, const char *origin)
{
    apr_size_t n = strlen(origin);

    return strncasecmp(u, origin, n) == 0 && u[n] == '/';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    const char *s, *rt, *url, *c;
    af_req_in_t in;

    if (apr_pool_create(&p, fuzz_root) != APR_SUCCESS) {
        abort();
    }
    s = apr_pstrmemdup(p, (const char *) data, size);
    rt = af_session_return_to(&site, s, p);
    for (c = rt; *c; c++) {
        if ((unsigned char) *c <= 0x20 || *c == 0x7f || *c == '\\') {
            __builtin_trap();
        }
    }
    if (rt[0] == '/') {
        if (rt[1] == '/' || rt[1] == '\\') {
            __builtin_trap();
        }
    } else if (!starts_with_origin(rt, "https://app.example.com") &&
               !starts_with_origin(rt, "https://allowed.example:8443")) {
        __builtin_trap();
    }
    url = af_session_return_url(&site, rt, p);
    if (!starts_with_origin(url, "https://app.example.com") &&
        !starts_with_origin(url, "https://allowed.example:8443")) {
        __builtin_trap();
    }
    memset(&in, 0, sizeof(in));
    in.orig_unparsed_uri = s;
    in.orig_uri = s;
    url = af_session_request_target(&in, p);
    if (url[0] != '/' || url[1] == '/' || url[1] == '\\' || has_token_param(url, p)) {
        __builtin_trap();
    }
    (void) af_session_login_url(&site, NULL, url, p);
    (void) af_url_origin(s, p);
    apr_pool_destroy(p);
    return 0;
}
