/* policy_regex.c -- regexes of the claim language, on PCRE2 directly.
 *
 * Why not ap_regex: the core never includes httpd headers, and httpd 2.4 on
 * Debian 12 builds ap_regex on this same PCRE2 (10.42).  We use the options
 * ap_regcomp() adds by default (AP_REG_DEFAULT = DOTALL | DOLLAR_ENDONLY) so a
 * pattern means here what it means in an httpd <If> or RewriteCond, and /re/i maps
 * to CASELESS like AP_REG_ICASE.  No UTF mode (like ap_regex): matching is by
 * bytes and /i folds ASCII letters only.
 *
 * Compiled once, JIT-compiled when the platform allows it, and freed by a cleanup
 * on the configuration pool.  Matching needs a match block: one per evaluation
 * context, created on first use from the context's pool (a PCRE2 general context
 * whose allocator is that pool), then reused.  A shared match context caps the
 * work of one match, so a pathological pattern cannot pin a worker: hitting the
 * cap denies the request (AF_EPOLICY_MATCH_LIMIT).
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <apr_strings.h>

#include "policy/policy_int.h"

#define AF_RX_MATCH_LIMIT 100000
#define AF_RX_HEAP_LIMIT  4096 /* KiB */

struct af_policy_rx_t {
    pcre2_code *code;
    pcre2_match_context *mctx;
};

static apr_status_t rx_cleanup(void *data)
{
    af_policy_rx_t *rx = data;

    pcre2_match_context_free(rx->mctx);
    pcre2_code_free(rx->code);
    return APR_SUCCESS;
}

apr_status_t af_policy_rx_compile(af_policy_rx_t **out, const char **err, apr_size_t *err_off,
                                  const char *pattern, apr_size_t len, int icase, apr_pool_t *p)
{
    af_policy_rx_t *rx = apr_pcalloc(p, sizeof(*rx));
    uint32_t opts = PCRE2_DOTALL | PCRE2_DOLLAR_ENDONLY | (icase ? PCRE2_CASELESS : 0);
    int errcode;
    PCRE2_SIZE erroff = 0;
    PCRE2_UCHAR msg[256];

    rx->code = pcre2_compile((PCRE2_SPTR) pattern, len, opts, &errcode, &erroff, NULL);
    if (rx->code == NULL) {
        if (pcre2_get_error_message(errcode, msg, sizeof(msg)) < 0) {
            apr_cpystrn((char *) msg, "unknown error", sizeof(msg));
        }
        *err = apr_psprintf(p, "invalid regex: %s", (const char *) msg);
        *err_off = erroff > len ? len : erroff;
        return AF_EPOLICY_REGEX;
    }
    (void) pcre2_jit_compile(rx->code, PCRE2_JIT_COMPLETE); /* optional speed-up */
    rx->mctx = pcre2_match_context_create(NULL);
    if (rx->mctx == NULL) {
        pcre2_code_free(rx->code);
        *err = "invalid regex: out of memory";
        *err_off = 0;
        return AF_EPOLICY_REGEX;
    }
    pcre2_set_match_limit(rx->mctx, AF_RX_MATCH_LIMIT);
    pcre2_set_heap_limit(rx->mctx, AF_RX_HEAP_LIMIT);
    apr_pool_cleanup_register(p, rx, rx_cleanup, apr_pool_cleanup_null);
    *out = rx;
    return APR_SUCCESS;
}

static void *pool_malloc(PCRE2_SIZE size, void *data)
{
    return apr_palloc(data, size);
}

static void pool_free(void *block, void *data)
{
    /* pool memory: released with the pool */
}

int af_policy_rx_match(const af_policy_rx_t *rx, const char *s, apr_size_t len,
                       af_policy_ctx_t *ctx)
{
    int rc;

    if (ctx->match == NULL) {
        pcre2_general_context *g = pcre2_general_context_create(pool_malloc, pool_free, ctx->pool);
        ctx->match = g ? pcre2_match_data_create(1, g) : NULL;
        if (ctx->match == NULL) {
            ctx->failure = APR_ENOMEM;
            return -1;
        }
    }
    rc = pcre2_match(rx->code, (PCRE2_SPTR) s, len, 0, 0, ctx->match, rx->mctx);
    if (rc >= 0) {
        return 1;
    }
    if (rc == PCRE2_ERROR_NOMATCH) {
        return 0;
    }
    ctx->failure = AF_EPOLICY_MATCH_LIMIT;
    return -1;
}
