/* metrics.c -- the counters in shared memory (src/common/af_metrics.h), SetHandler
 * authflow-metrics (Prometheus text) and the AuthFlow section of mod_status.
 *
 * post_config, in the parent before any child forks: one anonymous shared-memory segment
 * (apr_shm_create without a file name) holds the counters of every server; the children
 * inherit the mapping through fork.  The segment belongs to the process pool, not pconf, so
 * a graceful restart keeps the counters (like mod_status's scoreboard); the children of the
 * old generation count into the same words until they exit.  A module built with another
 * layout (an upgrade) gets a fresh segment; a full stop and start resets them.  Providers
 * get a slot by name (a provider that disappears from the configuration keeps its slot
 * until the next full restart).  `apachectl -t` stops before post_config.
 */
#include <string.h>

#include <httpd.h>
#include <http_config.h>

#include <apr_optional_hooks.h>
#include <apr_shm.h>
#include <apr_strings.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <mod_status.h>

#include "httpd/af_httpd.h"

APLOG_USE_MODULE(authflow);

#define SHM_KEY "authflow-metrics-shm" /* process-pool user data: the segment */

/* The segment of this server process: kept from an earlier configuration cycle when it has
 * this build's layout, else made.  NULL when shared memory cannot be had. */
static af_metrics_t *segment(server_rec *s)
{
    apr_pool_t *pp = s->process->pool;
    apr_shm_t *shm = NULL;
    apr_status_t rv;
    char buf[128];
    void *old = NULL;

    apr_pool_userdata_get(&old, SHM_KEY, pp);
    if (old != NULL && af_metrics_compatible(apr_shm_baseaddr_get(old), apr_shm_size_get(old))) {
        return apr_shm_baseaddr_get(old);
    }
    if (old != NULL) {
        apr_pool_userdata_set(NULL, SHM_KEY, NULL, pp);
        apr_shm_destroy(old);
    }
    rv = apr_shm_create(&shm, af_metrics_size(), NULL, pp);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s,
                     "AF08070: no shared memory for the metrics (%s); nothing is counted",
                     apr_strerror(rv, buf, sizeof(buf)));
        return NULL;
    }
    apr_pool_userdata_set(shm, SHM_KEY, NULL, pp);
    return af_metrics_init(apr_shm_baseaddr_get(shm), apr_time_now());
}

int af_metrics_post_config(apr_pool_t *pconf, server_rec *s)
{
    af_metrics_t *m = segment(s);
    server_rec *v;
    int i, lost = 0;

    for (v = s; v != NULL; v = v->next) {
        af_srv_conf_t *sc = af_srv_conf(v);

        sc->metrics = m;
        if (sc->site == NULL) {
            continue;
        }
        sc->site->metrics = m;
        for (i = 0; sc->site->trust != NULL && i < sc->site->trust->nelts; i++) {
            af_site_trust_t *t = APR_ARRAY_IDX(sc->site->trust, i, af_site_trust_t *);

            if (t->cache != NULL) {
                af_jwks_cache_set_metrics(t->cache, af_metrics_provider(m, AF_METRICS_TRUSTED));
            }
        }
        for (i = 0; sc->site->providers != NULL && i < sc->site->providers->nelts; i++) {
            af_oidc_provider_t *pv = APR_ARRAY_IDX(sc->site->providers, i, af_oidc_provider_t *);

            pv->metrics = af_metrics_provider(m, pv->name);
            lost += m != NULL && pv->metrics == NULL;
        }
    }
    if (lost > 0) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                     "AF08071: more than %d provider names since the last full restart: %d "
                     "provider(s) without IdP latency and JWKS metrics",
                     AF_METRICS_PROVIDERS, lost);
    }
    return OK;
}

/* The gauges of the request's server, read now from this process's store handle. */
static void read_gauges(af_metrics_gauges_t *g, request_rec *r)
{
    const af_site_t *site = af_srv_conf(r->server)->site;
    af_store_t *st = site != NULL ? af_site_store(site) : NULL;

    memset(g, 0, sizeof(*g));
    if (st != NULL) {
        g->have_store = 1;
        g->have_map = af_store_usage(&g->map_size, &g->map_used, st) == APR_SUCCESS;
    }
}

static int metrics_handler(request_rec *r)
{
    af_metrics_gauges_t g;
    const char *body;

    if (r->handler == NULL || strcmp(r->handler, "authflow-metrics") != 0) {
        return DECLINED;
    }
    if (r->method_number != M_GET) {
        ap_allow_methods(r, REPLACE_ALLOW, "GET", NULL); /* Allow: GET, HEAD, ... */
        return HTTP_METHOD_NOT_ALLOWED;
    }
    read_gauges(&g, r);
    body = af_metrics_render(af_srv_conf(r->server)->metrics, &g, r->pool);
    ap_set_content_type(r, "text/plain; version=0.0.4; charset=utf-8");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    ap_set_content_length(r, (apr_off_t) strlen(body));
    if (!r->header_only) {
        ap_rputs(body, r);
    }
    return OK;
}

static int status_hook(request_rec *r, int flags)
{
    af_metrics_t *m = af_srv_conf(r->server)->metrics;
    af_metrics_gauges_t g;

    if (m == NULL) {
        return OK;
    }
    read_gauges(&g, r);
    ap_rputs(af_metrics_status(m, &g, !(flags & AP_STATUS_SHORT), r->pool), r);
    return OK;
}

void af_metrics_register_hooks(apr_pool_t *p)
{
    ap_hook_handler(metrics_handler, NULL, NULL, APR_HOOK_MIDDLE);
    APR_OPTIONAL_HOOK(ap, status_hook, status_hook, NULL, NULL, APR_HOOK_MIDDLE);
}
