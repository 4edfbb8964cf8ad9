/* store_testutil.h -- positional wrappers of the store's parameter-struct calls, for the
 * tests that make hundreds of them (the production API takes structs only). */
#ifndef AF_STORE_TESTUTIL_H
#define AF_STORE_TESTUTIL_H

#include <string.h>

#include "store/af_store_lmdb.h"

static inline apr_status_t af_test_rotate(af_store_rotation_t **out, af_store_t *st, const char *rt,
                                          apr_size_t rt_len, apr_int64_t now, apr_int64_t grace,
                                          apr_int64_t idle, apr_pool_t *p)
{
    af_store_rotate_in_t in;

    memset(&in, 0, sizeof(in));
    in.rt = rt;
    in.rt_len = rt_len;
    in.now = now;
    in.grace = grace;
    in.idle = idle;
    return af_store_rotate(out, st, &in, p);
}

static inline apr_status_t af_test_family_create(af_store_family_t **fam, const char **rt,
                                                 af_store_t *st, const char *sub,
                                                 const char *provider, const char *claims,
                                                 apr_int64_t now, apr_int64_t ttl, apr_int64_t idle,
                                                 apr_pool_t *p)
{
    af_store_login_in_t in;

    memset(&in, 0, sizeof(in));
    in.sub = sub;
    in.provider = provider;
    in.claims_json = claims;
    in.now = now;
    in.ttl = ttl;
    in.idle = idle;
    return af_store_family_create(fam, rt, st, &in, p);
}

#endif
