/* sweep.c -- httpd sweeps its own stores (AuthFlowSweepInterval, CONFIG.md
 * "Operations"): logins past their absolute expiry with their tokens, consumed login flows,
 * judged by the module's clock (AuthFlowTestClockOffset included), so no cron job is needed.
 *
 * mod_watchdog (compiled into Debian's apache2; mod_md and mod_proxy_hcheck use it the same
 * way) runs the watchdog "authflow-sweep" as a singleton: one thread per child, and only the
 * child holding the watchdog's mutex calls back.  Each store with an interval has its own
 * callback.  The callback first takes the store's "sweep" lease (af_store_lease: a time in
 * the meta db, written in a write transaction), so that two generations of children during a
 * graceful restart, or two httpd instances on one store, still sweep once per interval
 * between them.  The sweep itself runs in bounded transactions (af_store_sweep), so requests
 * interleave with it.  Then the map's use is checked: above AF_MAP_WARN_PERCENT it is
 * logged as a warning, once per interval (AF08052).  The watchdog thread outlives pchild,
 * which closes the store: a mutex in the slot (pconf memory) lets a sweep in progress
 * finish before the close, and none start after it.
 *
 * Without mod_watchdog, httpd does not sweep: startup says so once (AF08053), and
 * `authflowctl sweep` from cron does the job as before.
 */
#include <httpd.h>
#include <http_config.h>

#include <apr_optional.h>
#include <http_core.h>
#include <http_log.h>
#include <mod_watchdog.h>

#include "httpd/af_httpd.h"

APLOG_USE_MODULE(authflow);

#define SWEEP_WATCHDOG "authflow-sweep"

int af_store_loglevel(apr_status_t rv)
{
    return af_session_store_loglevel(rv) == AF_LOG_DEBUG ? APLOG_DEBUG : APLOG_ERR;
}

static void check_map(af_store_slot_t *slot, af_store_t *st)
{
    apr_uint64_t size = 0, used = 0;

    if (af_store_usage(&size, &used, st) != APR_SUCCESS || size == 0) {
        return;
    }
    if (used * 100 > size * AF_MAP_WARN_PERCENT) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, slot->s,
                     "AF08052: AuthFlowStore %s: map %u%% used (%" APR_UINT64_T_FMT
                     " of %" APR_UINT64_T_FMT " bytes); when it is full, logins and "
                     "refreshes answer 503: raise AuthFlowStoreMapSize",
                     slot->shown, (unsigned) (used * 100 / size), used, size);
    }
}

/* Take the lease; sweep; check the map. */
static void sweep(af_store_slot_t *slot, af_store_t *st)
{
    apr_int64_t now = apr_time_sec(apr_time_now()) + slot->clock_offset;
    apr_uint64_t purged = 0;
    apr_status_t rv;
    int got = 0;

    /* the lease allows for a watchdog tick that comes a little early */
    rv = af_store_lease(&got, st, "sweep", now, slot->sweep_interval - slot->sweep_interval / 10);
    if (rv == APR_SUCCESS && !got) {
        return; /* another process swept less than an interval ago */
    }
    /* a lease that cannot be written (a full map) must not stop the sweep that frees it */
    rv = af_store_sweep(&purged, st, now);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, af_store_loglevel(rv), 0, slot->s,
                     "AF08051: AuthFlowStore %s: sweep failed: %s", slot->shown, af_strerror(rv));
    } else {
        ap_log_error(APLOG_MARK, purged > 0 ? APLOG_INFO : APLOG_DEBUG, 0, slot->s,
                     "AF08050: AuthFlowStore %s: %" APR_UINT64_T_FMT " expired record(s) swept",
                     slot->shown, purged);
    }
    check_map(slot, st);
}

/* The watchdog callback of one store (data: its af_store_slot_t), in the watchdog thread
 * of the child that holds the singleton mutex.  Always APR_SUCCESS: keep being called. */
static apr_status_t sweep_cb(int state, void *data, apr_pool_t *p)
{
    af_store_slot_t *slot = data;
    af_store_t *st;

    if (state != AP_WATCHDOG_STATE_RUNNING) {
        return APR_SUCCESS; /* starting (the store opens in child_init), or stopping */
    }
    pthread_mutex_lock(&slot->sweep_mu);
    st = __atomic_load_n(&slot->st, __ATOMIC_ACQUIRE);
    if (st != NULL && !slot->sweep_closing) {
        sweep(slot, st);
    }
    pthread_mutex_unlock(&slot->sweep_mu);
    return APR_SUCCESS;
}

static apr_status_t sweep_stop(void *data)
{
    af_store_slot_t *slot = data;

    pthread_mutex_lock(&slot->sweep_mu); /* waits for a sweep in progress */
    slot->sweep_closing = 1;
    pthread_mutex_unlock(&slot->sweep_mu);
    return APR_SUCCESS;
}

void af_sweep_child_init(af_store_slot_t *slot, apr_pool_t *pchild)
{
    if (slot->sweep_registered) {
        /* a pre-cleanup runs before pchild's cleanups, among them the store's close */
        apr_pool_pre_cleanup_register(pchild, slot, sweep_stop);
    }
}

int af_sweep_post_config(apr_pool_t *pconf, server_rec *s)
{
    APR_OPTIONAL_FN_TYPE(ap_watchdog_get_instance) * wd_get_instance;
    APR_OPTIONAL_FN_TYPE(ap_watchdog_register_callback) * wd_register_callback;
    ap_watchdog_t *wd = NULL;
    server_rec *v;
    apr_status_t rv;
    int wanted = 0;

    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return OK; /* the first pass of the configuration: nothing runs after it */
    }
    for (v = s; v != NULL; v = v->next) {
        af_store_slot_t *slot = af_srv_conf(v)->slot;

        wanted |= slot != NULL && slot->sweep_interval > 0;
    }
    if (!wanted) {
        return OK;
    }
    wd_get_instance = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_get_instance);
    wd_register_callback = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_register_callback);
    if (wd_get_instance == NULL || wd_register_callback == NULL) {
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s,
                     "AF08053: mod_watchdog is not loaded: httpd does not sweep "
                     "AuthFlowStore; run `authflowctl sweep` from cron instead");
        return OK;
    }
    rv = wd_get_instance(&wd, SWEEP_WATCHDOG, 0, 1, pconf);
    for (v = s; rv == APR_SUCCESS && v != NULL; v = v->next) {
        af_store_slot_t *slot = af_srv_conf(v)->slot;

        if (slot == NULL || slot->sweep_interval <= 0 || slot->sweep_registered) {
            continue;
        }
        pthread_mutex_init(&slot->sweep_mu, NULL); /* in the parent, before any fork */
        rv = wd_register_callback(wd, apr_time_from_sec(slot->sweep_interval), slot, sweep_cb);
        slot->sweep_registered = rv == APR_SUCCESS;
    }
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s,
                     "AF08054: cannot register the store sweep with mod_watchdog: httpd does "
                     "not sweep AuthFlowStore; run `authflowctl sweep` from cron instead");
    }
    return OK;
}
