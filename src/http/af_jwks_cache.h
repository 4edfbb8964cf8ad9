/* af_jwks_cache.h -- key sets of trusted issuers: from a local file, or fetched from an
 * https URL (plain http only on loopback) and cached per process.
 *
 * Remote sets: size cap (default 256 KiB) and key-count cap (default 50, more refuses the
 * whole set), fetch timeouts, TLS verified.  A fetch happens when there are no keys yet,
 * when the keys are older than the refresh interval, or when a token names a kid that
 * the current set lacks -- but never more than once per min_interval (default 60 s),
 * counted from the end of the previous fetch, which is also the negative cache for
 * unknown kids and for failures (a slow failing server is not asked again at once).  A
 * fetch refused without being sent (AF_EHTTP_REFUSED from a via) counts as no attempt.
 * When a fetch
 * fails the previous keys stay in use until max_age after they were fetched; then the
 * cache fails closed.  Thread-safe: a new set replaces the old one while other threads
 * still verify with the old one (each caller pins the generation it got to its pool).
 */
#ifndef AF_JWKS_CACHE_H
#define AF_JWKS_CACHE_H

#include <apr_pools.h>
#include <apr_time.h>

#include "common/af_metrics.h"
#include "http/af_http.h"
#include "jose/af_jwk.h"

typedef struct af_jwks_cache_t af_jwks_cache_t;

typedef struct af_jwks_opts_t {
    apr_interval_time_t refresh;      /* refetch keys older than this; 0: 1 h */
    apr_interval_time_t max_age;      /* never use keys older than this; 0: 24 h */
    apr_interval_time_t min_interval; /* at most one fetch per interval; 0: 60 s */
    apr_interval_time_t timeout;      /* total fetch timeout; 0: 5 s */
    apr_size_t max_size;              /* 0: 256 KiB */
    int max_keys;                     /* 0: 50 */
    const char *ca_file;              /* NULL: system trust store */
    unsigned alg_mask;                /* bit (1u << af_alg_t) allowed; 0: any asymmetric */
    af_metrics_prov_t *metrics;       /* counts the fetches sent, and their failures; NULL */
} af_jwks_opts_t;

#define AF_JWKS_DEFAULT_MAX_SIZE (256 * 1024)
#define AF_JWKS_DEFAULT_MAX_KEYS 50

/**
 * A cache for one URL; nothing is fetched yet.  p must outlive every user (config pool).
 * @return APR_SUCCESS, AF_EHTTP_URL, or an APR error creating the mutexes
 */
apr_status_t af_jwks_cache_create(af_jwks_cache_t **out, const char *url,
                                  const af_jwks_opts_t *opts, apr_pool_t *p);

/**
 * The current keys, for a token with this kid (may be NULL).  May fetch (see above).
 * The returned set stays valid until p is cleared (a reference is released by a
 * cleanup on p).
 * @return APR_SUCCESS, AF_EJWS_NOKEY (no usable keys: never fetched, failed, or too old)
 */
apr_status_t af_jwks_cache_keys(const af_keyset_t **ks, af_jwks_cache_t *c, const char *kid,
                                apr_pool_t *p);

/** Count this cache's fetches (and, when not sent through a via, their durations) in pm.
 *  Configuration time only, before any fetch. */
void af_jwks_cache_set_metrics(af_jwks_cache_t *c, af_metrics_prov_t *pm);

/** The same, with a fetch (when one is due) sent through via (NULL: af_http_perform). */
apr_status_t af_jwks_cache_keys_via(const af_keyset_t **ks, af_jwks_cache_t *c, const char *kid,
                                    const af_http_via_t *via, apr_pool_t *p);

/**
 * Parse a JWKS text into a filtered key set: keys whose pinned alg is not in alg_mask are
 * dropped (alg_mask 0: any asymmetric alg; oct keys only with AF_JWK_ALLOW_OCT in flags),
 * more than max_keys (0: 50) refuses the set.
 * @param why short reason on failure
 */
apr_status_t af_jwks_load_text(af_keyset_t **out, const char *text, apr_size_t len, int flags,
                               unsigned alg_mask, int max_keys, const char **why, apr_pool_t *p);

/** Same from a local file (size cap 256 KiB). */
apr_status_t af_jwks_load_file(af_keyset_t **out, const char *path, int flags, unsigned alg_mask,
                               int max_keys, const char **why, apr_pool_t *p);

#endif
