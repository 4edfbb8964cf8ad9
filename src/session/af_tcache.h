/* af_tcache.h -- the verified-token cache, one per child process.
 *
 * Keyed by SHA-256 of the whole token plus a scope (the server config that verified it,
 * so a token accepted for vhost A is never a hit at vhost B).  Direct-mapped, bounded
 * (AF_TCACHE_SLOTS entries; a colliding insert evicts).  A hit re-checks exp/nbf against
 * the request's clock with the leeway, so an entry never outlives its token.  The claims
 * are shared read-only between threads: jansson's reference count is atomic, a hit takes
 * a reference released by a cleanup on the request pool.  Nothing may modify them.
 */
#ifndef AF_TCACHE_H
#define AF_TCACHE_H

#include <apr_pools.h>
#include <jansson.h>

#define AF_TCACHE_SLOTS  4096
#define AF_TCACHE_KEYLEN 32

typedef struct af_tcache_t af_tcache_t;

/** Create in the child pool (entries are released when it is destroyed). */
apr_status_t af_tcache_create(af_tcache_t **out, apr_pool_t *child);

/** Hash a token into key (SHA-256). */
void af_tcache_key(unsigned char key[AF_TCACHE_KEYLEN], const af_tcache_t *c, const char *token,
                   apr_size_t len);

/**
 * Look up; on a hit *claims is a shared object referenced until p is cleared.
 * @return 1 on a hit, 0 on a miss (or a stale entry, which is dropped)
 */
int af_tcache_get(json_t **claims, af_tcache_t *c, const unsigned char key[AF_TCACHE_KEYLEN],
                  const void *scope, apr_int64_t now, apr_int64_t leeway, apr_pool_t *p);

/** Insert verified claims (a reference is taken). exp/nbf from the claims (nbf 0: none). */
void af_tcache_put(af_tcache_t *c, const unsigned char key[AF_TCACHE_KEYLEN], const void *scope,
                   json_t *claims, double exp, double nbf);

#endif
