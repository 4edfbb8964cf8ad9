/* af_testsite.h -- the session core's test site (linked into every test binary): one
 * af_site_t as the session unit tests use it, https://app.example.com with the endpoint /auth,
 * __Host- cookies, a store-backed login (14 d / 3 d idle, grace 10 s), email in the tokens. */
#ifndef AF_TESTSITE_H
#define AF_TESTSITE_H

#include <apr_pools.h>

#include "jose/af_jwk.h"
#include "session/af_session.h"

/** A site signing with key (ES256 "k1" in the tests) over the runtime rt (store, cache);
 *  the caller adds what its tests need (return_to allow-list, throttle key …). */
af_site_t *af_test_site(af_key_t *key, af_site_rt_t *rt, apr_pool_t *p);

/** A fresh LMDB store for rt in a new temporary directory (dir, of dir_len bytes, named after
 *  prefix); rt is zeroed first. */
void af_test_rt_open(af_site_rt_t *rt, char *dir, apr_size_t dir_len, const char *prefix,
                     apr_pool_t *p);

/** Close rt's store and remove its directory. */
void af_test_rt_close(af_site_rt_t *rt, const char *dir);

#endif
