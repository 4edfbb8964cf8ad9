/* oidc_outbound.c -- every request to an IdP, behind the provider's outbound guard.
 *
 * A lease belongs to a pool (the request's): af_oidc_idp_enter keeps it in the pool's
 * user data under a key naming the guard, so the calls deeper down (discovery, token
 * endpoint, JWKS, userinfo) find it without another parameter, and a pool cleanup gives
 * the slot back on every path.  A request pool is used by one thread at a time, so the
 * process-local part needs no lock; the shared part is af_oidc_guard's atomics.
 */
#include <stdio.h>

#include <apr_strings.h>

#include "common/af_log.h"
#include "http/af_http_errors.h"
#include "oidc/af_oidc.h"

typedef struct pool_lease_t {
    af_oidc_lease_t lease;
    int depth; /* nested enters; the slot is held while > 0 */
} pool_lease_t;

static const char *lease_key(const af_oidc_guard_t *g, char *buf, apr_size_t len)
{
    snprintf(buf, len, "authflow-idp-lease-%p", (const void *) g);
    return buf;
}

static pool_lease_t *lease_of(const af_oidc_provider_t *prov, apr_pool_t *p)
{
    char key[64];
    void *pl = NULL;

    apr_pool_userdata_get(&pl, lease_key(prov->guard, key, sizeof(key)), p);
    return pl;
}

static apr_status_t lease_cleanup(void *baton)
{
    pool_lease_t *pl = baton;

    if (pl->depth > 0) {
        pl->depth = 0;
        af_oidc_guard_release(&pl->lease, apr_time_now());
    }
    return APR_SUCCESS;
}

apr_status_t af_oidc_idp_enter(const af_oidc_provider_t *prov, apr_pool_t *p)
{
    pool_lease_t *pl;
    char key[64];
    apr_status_t rv;

    if (prov->guard == NULL) {
        return APR_SUCCESS;
    }
    if ((pl = lease_of(prov, p)) != NULL && pl->depth > 0) {
        pl->depth++;
        return APR_SUCCESS;
    }
    if (pl == NULL) {
        pl = apr_pcalloc(p, sizeof(*pl));
        apr_pool_userdata_set(pl, lease_key(prov->guard, key, sizeof(key)), lease_cleanup, p);
    }
    rv = af_oidc_guard_acquire(&pl->lease, prov->guard, apr_time_now());
    if (rv != APR_SUCCESS) {
        af_log_p(p, AF_LOG_DEBUG, "AF05053", "provider %s: IdP call refused: %s (%d in use)",
                 prov->name, af_strerror(rv), af_oidc_guard_in_use(prov->guard, apr_time_now()));
        return rv;
    }
    pl->depth = 1;
    return APR_SUCCESS;
}

void af_oidc_idp_leave(const af_oidc_provider_t *prov, apr_pool_t *p)
{
    pool_lease_t *pl;

    if (prov->guard == NULL || (pl = lease_of(prov, p)) == NULL || pl->depth == 0) {
        return;
    }
    if (--pl->depth == 0) {
        af_oidc_guard_release(&pl->lease, apr_time_now());
    }
}

static void log_event(apr_pool_t *p, const af_oidc_provider_t *prov, af_oidc_guard_event_t ev,
                      apr_interval_time_t backoff)
{
    switch (ev) {
    case AF_OIDC_GUARD_OPENED:
        af_log_p(p, AF_LOG_WARNING, "AF05050",
                 "provider %s: %d calls in a row failed; no calls to the IdP for %d s", prov->name,
                 AF_OIDC_GUARD_FAILURES, (int) apr_time_sec(backoff));
        break;
    case AF_OIDC_GUARD_REOPENED:
        af_log_p(p, AF_LOG_WARNING, "AF05051",
                 "provider %s: the IdP still fails; no calls to it for %d s", prov->name,
                 (int) apr_time_sec(backoff));
        break;
    case AF_OIDC_GUARD_CLOSED:
        af_log_p(p, AF_LOG_NOTICE, "AF05052", "provider %s: the IdP answers again", prov->name);
        break;
    default:
        break;
    }
}

/* One request to the IdP, its duration counted in the provider's histogram (a refused URL,
 * never sent, is not a call). */
static apr_status_t timed(af_http_response_t **resp, const af_oidc_provider_t *prov,
                          const af_http_request_t *req, apr_pool_t *p)
{
    apr_time_t t0 = apr_time_now();
    apr_status_t rv = af_http_perform(resp, req, p);

    if (rv != AF_EHTTP_REFUSED && rv != AF_EHTTP_URL) {
        af_metrics_idp_call(prov->metrics, apr_time_now() - t0);
    }
    return rv;
}

apr_status_t af_oidc_idp_perform(af_http_response_t **resp, const af_oidc_provider_t *prov,
                                 const af_http_request_t *req, apr_pool_t *lease_pool,
                                 apr_pool_t *p)
{
    apr_interval_time_t backoff = 0;
    af_oidc_guard_event_t ev;
    pool_lease_t *pl;
    apr_status_t rv;
    af_http_request_t lr = *req;

    if (lr.log_pool == NULL) {
        lr.log_pool = lease_pool;
    }
    req = &lr;
    if (prov->guard == NULL) {
        return timed(resp, prov, req, p);
    }
    if ((rv = af_oidc_idp_enter(prov, lease_pool)) != APR_SUCCESS) {
        return rv;
    }
    pl = lease_of(prov, lease_pool);
    if ((rv = af_oidc_guard_begin(&pl->lease, apr_time_now())) != APR_SUCCESS) {
        af_log_p(lease_pool, AF_LOG_DEBUG, "AF05054", "provider %s: IdP call refused: %s",
                 prov->name, af_strerror(rv));
    } else {
        rv = timed(resp, prov, req, p);
        ev = af_oidc_guard_end(&pl->lease, af_oidc_guard_classify(rv), apr_time_now(), &backoff);
        log_event(lease_pool, prov, ev, backoff);
    }
    af_oidc_idp_leave(prov, lease_pool);
    return rv;
}

apr_int64_t af_oidc_idp_retry_after(const af_oidc_provider_t *prov)
{
    return prov->guard != NULL ? af_oidc_guard_retry_after(prov->guard, apr_time_now())
                               : AF_OIDC_GUARD_BUSY_RETRY;
}

apr_status_t af_oidc_idp_check(const af_oidc_provider_t *prov)
{
    return prov->guard != NULL ? af_oidc_guard_check(prov->guard, apr_time_now()) : APR_SUCCESS;
}
