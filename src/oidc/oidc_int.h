/* oidc_int.h -- private to src/oidc: the per-process runtime of a provider. */
#ifndef AF_OIDC_INT_H
#define AF_OIDC_INT_H

#include <apr_thread_mutex.h>

#include "http/af_jwks_cache.h"
#include "oidc/af_oidc.h"

#define AF_OIDC_SECRET_CACHE_MAX 1024 /* bytes of a cached minted client secret */

struct af_oidc_runtime_t {
    apr_pool_t *pool;             /* child pool: lives as long as the process */
    apr_thread_mutex_t *mu;       /* guards the fields below */
    apr_thread_mutex_t *fetch_mu; /* held by the one thread fetching metadata */
    apr_pool_t *meta_pool;        /* holds meta; replaced on refresh */
    af_oidc_meta_t *meta;
    apr_int64_t meta_at;     /* when meta was fetched */
    apr_int64_t meta_tried;  /* when the last attempt ended (module clock) */
    apr_status_t meta_error; /* result of the last attempt */
    int fetching;            /* a thread is fetching metadata now */
    apr_pool_t *cache_pool;  /* unmanaged: the JWKS cache and its URL, only under mu */
    af_jwks_cache_t *jwks;
    const char *jwks_url;
    char secret[AF_OIDC_SECRET_CACHE_MAX]; /* Apple: the minted client secret, under mu */
    apr_int64_t secret_iat;                /* when it was minted; 0: none */
};

#endif
