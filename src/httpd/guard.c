/* guard.c -- the providers' outbound guards (src/oidc/af_oidc_guard.h) in shared memory.
 *
 * post_config, in the parent before any child forks: one anonymous shared-memory segment
 * (apr_shm_create without a file name, owned by pconf) holds one guard per <AuthFlowProvider>
 * block of every server.  A provider that virtual hosts inherit from the main server is one
 * block, hence one IdP and one guard for all its per-server copies; a vhost's own block of
 * the same name is another guard.  The children inherit the mapping through fork, so there
 * is nothing to attach in child_init.  A graceful restart clears pconf and makes a new
 * segment with the new MaxConcurrent values; children of the old generation keep the old
 * one until they exit.  `apachectl -t` stops before post_config: configtest never needs it.
 */
#include <httpd.h>
#include <http_config.h>

#include <apr_hash.h>
#include <apr_shm.h>
#include <apr_strings.h>
#include <ap_mpm.h>
#include <http_log.h>

#include "httpd/af_httpd.h"

APLOG_USE_MODULE(authflow);

typedef struct guard_slot_t {
    apr_size_t offset;
    af_oidc_guard_t *guard;
} guard_slot_t;

/* Visit every resolved provider copy with the configured block it came from. */
typedef void (*visit_fn)(apr_hash_t *blocks, const af_oidc_provider_t *block,
                         af_oidc_provider_t *copy, void *baton);

static void each_provider(server_rec *s, apr_hash_t *blocks, visit_fn fn, void *baton)
{
    server_rec *v;
    int i;

    for (v = s; v != NULL; v = v->next) {
        af_srv_conf_t *sc = af_srv_conf(v);
        af_site_t *site = sc->site;

        if (site == NULL || sc->providers == NULL ||
            site->providers->nelts != sc->providers->nelts) {
            continue;
        }
        for (i = 0; i < site->providers->nelts; i++) {
            fn(blocks, APR_ARRAY_IDX(sc->providers, i, const af_oidc_provider_t *),
               APR_ARRAY_IDX(site->providers, i, af_oidc_provider_t *), baton);
        }
    }
}

typedef struct plan_t {
    apr_pool_t *p;
    apr_size_t total;
    int calls; /* the sum of the limits */
} plan_t;

static void plan(apr_hash_t *blocks, const af_oidc_provider_t *block, af_oidc_provider_t *copy,
                 void *baton)
{
    plan_t *pl = baton;
    guard_slot_t *gs;

    if (apr_hash_get(blocks, &block, sizeof(block)) != NULL) {
        return;
    }
    gs = apr_pcalloc(pl->p, sizeof(*gs));
    gs->offset = pl->total;
    pl->total += af_oidc_guard_size(copy->max_concurrent);
    pl->calls += copy->max_concurrent;
    apr_hash_set(blocks, apr_pmemdup(pl->p, &block, sizeof(block)), sizeof(block), gs);
}

static void place(apr_hash_t *blocks, const af_oidc_provider_t *block, af_oidc_provider_t *copy,
                  void *baton)
{
    guard_slot_t *gs = apr_hash_get(blocks, &block, sizeof(block));

    if (gs->guard == NULL) {
        gs->guard =
            af_oidc_guard_init((char *) baton + gs->offset, copy->max_concurrent, copy->timeout);
    }
    copy->guard = gs->guard;
}

int af_guard_post_config(apr_pool_t *pconf, server_rec *s)
{
    apr_hash_t *blocks = apr_hash_make(pconf);
    plan_t pl = {pconf, 0, 0};
    apr_shm_t *shm = NULL;
    int daemons = 0, threads = 0;
    apr_status_t rv;
    char buf[128];
    void *mem;

    each_provider(s, blocks, plan, &pl);
    if (pl.total == 0) {
        return OK;
    }
    rv = apr_shm_create(&shm, pl.total, NULL, pconf);
    if (rv == APR_SUCCESS) {
        mem = apr_shm_baseaddr_get(shm);
    } else {
        /* still a limit, but per child process */
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s,
                     "AF08040: no shared memory for the IdP call limits (%s); they apply per "
                     "child process",
                     apr_strerror(rv, buf, sizeof(buf)));
        mem = apr_palloc(pconf, pl.total + 64);
        mem = (void *) (((apr_uintptr_t) mem + 63) & ~(apr_uintptr_t) 63);
    }
    each_provider(s, blocks, place, mem);
    if (ap_mpm_query(AP_MPMQ_MAX_DAEMONS, &daemons) == APR_SUCCESS &&
        ap_mpm_query(AP_MPMQ_MAX_THREADS, &threads) == APR_SUCCESS && daemons > 0 && threads > 0 &&
        pl.calls >= daemons * threads) {
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s,
                     "AF08041: the providers' MaxConcurrent add up to %d, the server has %d "
                     "workers: hanging IdPs could still hold every one",
                     pl.calls, daemons * threads);
    }
    return OK;
}
