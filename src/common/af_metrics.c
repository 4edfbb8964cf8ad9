/* af_metrics.c -- counters in caller-provided (shared) memory, lock-free, and their
 * Prometheus text exposition (see af_metrics.h). */
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include "common/af_metrics.h"
#include "common/af_url.h"

_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "the counters need lock-free 64-bit atomics");

#define METRICS_MAGIC 0x41464d31u /* "AFM1" */
#define OTHER         (AF_METRICS_REASONS - 1)

struct af_metrics_prov_t {
    char name[AF_METRICS_NAME_MAX];
    _Atomic uint64_t bucket[AF_METRICS_BUCKETS + 1]; /* per bucket (not cumulative); +Inf */
    _Atomic uint64_t sum_us;
    _Atomic uint64_t jwks_fetches;
    _Atomic uint64_t jwks_failures;
};

struct af_metrics_t {
    uint32_t magic;
    uint32_t layout;
    uint64_t size;
    int64_t started;
    uint32_t nprov;
    _Atomic uint64_t plain[AF_M_PLAIN_N];
    _Atomic uint64_t reason[AF_MR_N][AF_METRICS_REASONS];
    af_metrics_prov_t prov[AF_METRICS_PROVIDERS];
};

const apr_interval_time_t af_metrics_bounds[AF_METRICS_BUCKETS] = {
    5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000};

apr_size_t af_metrics_size(void)
{
    return (sizeof(af_metrics_t) + 63) & ~(apr_size_t) 63;
}

af_metrics_t *af_metrics_init(void *mem, apr_time_t started)
{
    af_metrics_t *m = mem;
    int i, f;

    memset(mem, 0, af_metrics_size());
    m->magic = METRICS_MAGIC;
    m->layout = AF_METRICS_LAYOUT;
    m->size = af_metrics_size();
    m->started = started;
    for (i = 0; i < AF_M_PLAIN_N; i++) {
        atomic_init(&m->plain[i], 0);
    }
    for (f = 0; f < AF_MR_N; f++) {
        for (i = 0; i < AF_METRICS_REASONS; i++) {
            atomic_init(&m->reason[f][i], 0);
        }
    }
    return m;
}

int af_metrics_compatible(const void *mem, apr_size_t size)
{
    const af_metrics_t *m = mem;

    return mem != NULL && size >= af_metrics_size() && m->magic == METRICS_MAGIC &&
           m->layout == AF_METRICS_LAYOUT && m->size == af_metrics_size();
}

af_metrics_prov_t *af_metrics_provider(af_metrics_t *m, const char *name)
{
    af_metrics_prov_t *pm;
    uint32_t i;

    if (m == NULL || name == NULL) {
        return NULL;
    }
    for (i = 0; i < m->nprov; i++) {
        if (strncmp(m->prov[i].name, name, AF_METRICS_NAME_MAX - 1) == 0) {
            return &m->prov[i];
        }
    }
    if (m->nprov >= AF_METRICS_PROVIDERS) {
        return NULL;
    }
    pm = &m->prov[m->nprov];
    apr_cpystrn(pm->name, name, sizeof(pm->name));
    m->nprov++;
    return pm;
}

apr_time_t af_metrics_started(const af_metrics_t *m)
{
    return m != NULL ? m->started : 0;
}

static int reason_index(apr_status_t rv)
{
    if (rv == APR_SUCCESS) {
        return 0;
    }
    return AF_IS_AF_ERROR(rv) ? (int) (rv - AF_E_BASE) : OTHER;
}

static apr_status_t index_code(int i)
{
    return i == 0 ? APR_SUCCESS : i == OTHER ? APR_EGENERAL : AF_E_BASE + i;
}

#ifndef AF_NO_METRICS
void af_metrics_count(af_metrics_t *m, af_metric_t which)
{
    if (m != NULL && (unsigned) which < AF_M_PLAIN_N) {
        atomic_fetch_add_explicit(&m->plain[which], 1, memory_order_relaxed);
    }
}

void af_metrics_reason(af_metrics_t *m, af_metric_reason_t fam, apr_status_t rv)
{
    if (m != NULL && (unsigned) fam < AF_MR_N) {
        atomic_fetch_add_explicit(&m->reason[fam][reason_index(rv)], 1, memory_order_relaxed);
    }
}

void af_metrics_idp_call(af_metrics_prov_t *pm, apr_interval_time_t elapsed)
{
    int b = 0;

    if (pm == NULL) {
        return;
    }
    if (elapsed < 0) {
        elapsed = 0;
    }
    while (b < AF_METRICS_BUCKETS && elapsed > af_metrics_bounds[b]) {
        b++;
    }
    atomic_fetch_add_explicit(&pm->bucket[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&pm->sum_us, (uint64_t) elapsed, memory_order_relaxed);
}

void af_metrics_jwks(af_metrics_prov_t *pm, int failed)
{
    if (pm != NULL) {
        atomic_fetch_add_explicit(&pm->jwks_fetches, 1, memory_order_relaxed);
        if (failed) {
            atomic_fetch_add_explicit(&pm->jwks_failures, 1, memory_order_relaxed);
        }
    }
}
#endif

apr_uint64_t af_metrics_get(const af_metrics_t *m, af_metric_t which)
{
    return m != NULL && (unsigned) which < AF_M_PLAIN_N
               ? atomic_load_explicit(&m->plain[which], memory_order_relaxed)
               : 0;
}

apr_uint64_t af_metrics_get_reason(const af_metrics_t *m, af_metric_reason_t fam, apr_status_t rv)
{
    return m != NULL && (unsigned) fam < AF_MR_N
               ? atomic_load_explicit(&m->reason[fam][reason_index(rv)], memory_order_relaxed)
               : 0;
}

/* ---- rendering ------------------------------------------------------------------------------ */

const char *af_metrics_escape(const char *v, apr_pool_t *p)
{
    apr_size_t n = 0;
    const char *s;
    char *out, *o;

    for (s = v; *s; s++) {
        n += (*s == '\\' || *s == '"' || *s == '\n') ? 2 : 1;
    }
    o = out = apr_palloc(p, n + 1);
    for (s = v; *s; s++) {
        if (*s == '\\' || *s == '"' || *s == '\n') {
            *o++ = '\\';
            *o++ = *s == '\n' ? 'n' : *s;
        } else {
            *o++ = *s;
        }
    }
    *o = '\0';
    return out;
}

typedef struct reason_row_t {
    const char *reason;
    apr_uint64_t n;
} reason_row_t;

/* One family's rows: "ok" first, then each reason counted at least once, in code order;
 * codes sharing a reason string added together. */
static apr_array_header_t *reason_rows(const af_metrics_t *m, af_metric_reason_t fam, int with_ok,
                                       apr_pool_t *p)
{
    apr_array_header_t *rows = apr_array_make(p, 8, sizeof(reason_row_t));
    apr_hash_t *seen = apr_hash_make(p);
    reason_row_t *row;
    apr_uint64_t n;
    void *pos;
    int i;

    for (i = with_ok ? 0 : 1; i < AF_METRICS_REASONS; i++) {
        const char *why;

        n = atomic_load_explicit(&m->reason[fam][i], memory_order_relaxed);
        if (n == 0 && i != 0) {
            continue;
        }
        why = af_strerror(index_code(i));
        /* the hash holds a row's position + 1 (the array may move as it grows) */
        if ((pos = apr_hash_get(seen, why, APR_HASH_KEY_STRING)) != NULL) {
            row = &APR_ARRAY_IDX(rows, (int) ((apr_uintptr_t) pos - 1), reason_row_t);
        } else {
            row = apr_array_push(rows);
            row->reason = why;
            row->n = 0;
            apr_hash_set(seen, why, APR_HASH_KEY_STRING, (void *) (apr_uintptr_t) rows->nelts);
        }
        row->n += n;
    }
    return rows;
}

static apr_uint64_t family_total(const af_metrics_t *m, af_metric_reason_t fam, int from)
{
    apr_uint64_t t = 0;
    int i;

    for (i = from; i < AF_METRICS_REASONS; i++) {
        t += atomic_load_explicit(&m->reason[fam][i], memory_order_relaxed);
    }
    return t;
}

static void head(apr_array_header_t *out, const char *name, const char *type, const char *help)
{
    APR_ARRAY_PUSH(out, const char *) = "# HELP authflow_";
    APR_ARRAY_PUSH(out, const char *) = name;
    APR_ARRAY_PUSH(out, const char *) = " ";
    APR_ARRAY_PUSH(out, const char *) = help;
    APR_ARRAY_PUSH(out, const char *) = "\n# TYPE authflow_";
    APR_ARRAY_PUSH(out, const char *) = name;
    APR_ARRAY_PUSH(out, const char *) = " ";
    APR_ARRAY_PUSH(out, const char *) = type;
    APR_ARRAY_PUSH(out, const char *) = "\n";
}

static void sample(apr_array_header_t *out, const char *name, const char *label, const char *value,
                   apr_uint64_t n, apr_pool_t *p)
{
    APR_ARRAY_PUSH(out, const char *) =
        label != NULL ? apr_psprintf(p, "authflow_%s{%s=\"%s\"} %" APR_UINT64_T_FMT "\n", name,
                                     label, af_metrics_escape(value, p), n)
                      : apr_psprintf(p, "authflow_%s %" APR_UINT64_T_FMT "\n", name, n);
}

static void counter(apr_array_header_t *out, const af_metrics_t *m, af_metric_t which,
                    const char *name, const char *help, apr_pool_t *p)
{
    head(out, name, "counter", help);
    sample(out, name, NULL, NULL, af_metrics_get(m, which), p);
}

static void by_reason(apr_array_header_t *out, const af_metrics_t *m, af_metric_reason_t fam,
                      int with_ok, const char *name, const char *help, apr_pool_t *p)
{
    apr_array_header_t *rows = reason_rows(m, fam, with_ok, p);
    int i;

    head(out, name, "counter", help);
    for (i = 0; i < rows->nelts; i++) {
        reason_row_t *r = &APR_ARRAY_IDX(rows, i, reason_row_t);

        sample(out, name, "reason", r->reason, r->n, p);
    }
}

static const char *seconds(apr_interval_time_t us, apr_pool_t *p)
{
    return apr_psprintf(p, "%" APR_INT64_T_FMT ".%06" APR_INT64_T_FMT, (apr_int64_t) (us / 1000000),
                        (apr_int64_t) (us % 1000000));
}

static void histogram(apr_array_header_t *out, const af_metrics_t *m, apr_pool_t *p)
{
    static const char *const le[AF_METRICS_BUCKETS] = {
        "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10"};
    uint32_t i;
    int b;

    head(out, "idp_request_duration_seconds", "histogram",
         "Duration of requests to an identity provider (discovery, token, userinfo, JWKS), "
         "by provider.");
    for (i = 0; i < m->nprov; i++) {
        const af_metrics_prov_t *pm = &m->prov[i];
        const char *name = af_metrics_escape(pm->name, p);
        apr_uint64_t cum = 0;

        for (b = 0; b <= AF_METRICS_BUCKETS; b++) {
            cum += atomic_load_explicit(&pm->bucket[b], memory_order_relaxed);
            APR_ARRAY_PUSH(out, const char *) = apr_psprintf(
                p,
                "authflow_idp_request_duration_seconds_bucket{provider=\"%s\",le=\"%s\"} "
                "%" APR_UINT64_T_FMT "\n",
                name, b < AF_METRICS_BUCKETS ? le[b] : "+Inf", cum);
        }
        APR_ARRAY_PUSH(out, const char *) = apr_psprintf(
            p,
            "authflow_idp_request_duration_seconds_sum{provider=\"%s\"} %s\n"
            "authflow_idp_request_duration_seconds_count{provider=\"%s\"} %" APR_UINT64_T_FMT "\n",
            name,
            seconds((apr_interval_time_t) atomic_load_explicit(&pm->sum_us, memory_order_relaxed),
                    p),
            name, cum);
    }
    head(out, "jwks_fetches_total", "counter", "JWKS fetches sent to a provider.");
    for (i = 0; i < m->nprov; i++) {
        sample(out, "jwks_fetches_total", "provider", m->prov[i].name,
               atomic_load_explicit(&m->prov[i].jwks_fetches, memory_order_relaxed), p);
    }
    head(out, "jwks_fetch_failures_total", "counter",
         "JWKS fetches that gave no usable key set (network, status, content).");
    for (i = 0; i < m->nprov; i++) {
        sample(out, "jwks_fetch_failures_total", "provider", m->prov[i].name,
               atomic_load_explicit(&m->prov[i].jwks_failures, memory_order_relaxed), p);
    }
}

static void gauges(apr_array_header_t *out, const af_metrics_t *m, const af_metrics_gauges_t *g,
                   apr_pool_t *p)
{
    head(out, "start_time_seconds", "gauge",
         "When these counters started (a full restart resets them; a graceful one keeps them).");
    sample(out, "start_time_seconds", NULL, NULL, (apr_uint64_t) apr_time_sec(m->started), p);
    if (g == NULL || !g->have_store || !g->have_map) {
        return;
    }
    head(out, "store_map_size_bytes", "gauge",
         "Size of the store's LMDB map (AuthFlowStoreMapSize).");
    sample(out, "store_map_size_bytes", NULL, NULL, g->map_size, p);
    head(out, "store_map_used_bytes", "gauge",
         "Bytes of the store's LMDB map in use (read at scrape time).");
    sample(out, "store_map_used_bytes", NULL, NULL, g->map_used, p);
}

static const char *join(const apr_array_header_t *parts, apr_pool_t *p)
{
    return apr_array_pstrcat(p, parts, '\0');
}

const char *af_metrics_render(const af_metrics_t *m, const af_metrics_gauges_t *g, apr_pool_t *p)
{
    apr_array_header_t *out = apr_array_make(p, 256, sizeof(const char *));

    if (m == NULL) {
        return "";
    }
    by_reason(out, m, AF_MR_GATE, 1, "gate_requests_total",
              "Gate decisions (AuthType AuthFlow) by reason; ok = authenticated.", p);
    by_reason(out, m, AF_MR_INLINE_REFRESH, 1, "inline_refreshes_total",
              "Refresh-token rotations the gate attempted inline, by outcome.", p);
    by_reason(out, m, AF_MR_REFRESH, 1, "refresh_requests_total",
              "Answers of POST <endpoint>/refresh, by outcome.", p);
    counter(out, m, AF_M_REUSE, "refresh_token_reuse_total",
            "Rotated refresh tokens presented again after the grace window (login revoked).", p);
    counter(out, m, AF_M_FOREIGN_AT, "foreign_access_token_total",
            "Refresh tokens presented with another login's access token (login revoked).", p);
    counter(out, m, AF_M_REVOCATIONS, "revocations_total",
            "Logins revoked by the module (logout, new login, theft).", p);
    counter(out, m, AF_M_LOGINS_STARTED, "logins_started_total",
            "Logins sent to an identity provider.", p);
    counter(out, m, AF_M_LOGINS_COMPLETED, "logins_completed_total",
            "Logins completed at the callback.", p);
    by_reason(out, m, AF_MR_LOGIN_FAILED, 0, "logins_failed_total",
              "Logins that failed at /login or /callback, by reason.", p);
    by_reason(out, m, AF_MR_STORE_ERROR, 0, "store_errors_total",
              "Store operations that failed (full, busy, I/O, corrupt), by reason.", p);
    counter(out, m, AF_M_TCACHE_HIT, "token_cache_hits_total",
            "Gate tokens found in the per-process verified-token cache.", p);
    counter(out, m, AF_M_TCACHE_MISS, "token_cache_misses_total",
            "Gate tokens verified because they were not in the cache.", p);
    histogram(out, m, p);
    gauges(out, m, g, p);
    return join(out, p);
}

/* ---- mod_status ------------------------------------------------------------------------------ */

typedef struct kv_t {
    const char *key;
    const char *label;
    apr_uint64_t n;
} kv_t;

const char *af_metrics_status(const af_metrics_t *m, const af_metrics_gauges_t *g, int html,
                              apr_pool_t *p)
{
    apr_array_header_t *out = apr_array_make(p, 32, sizeof(const char *));
    kv_t rows[] = {
        {"GateOK", "gate: authenticated", af_metrics_get_reason(m, AF_MR_GATE, APR_SUCCESS)},
        {"GateDenied", "gate: not authenticated", m ? family_total(m, AF_MR_GATE, 1) : 0},
        {"InlineRefreshOK", "inline refreshes",
         af_metrics_get_reason(m, AF_MR_INLINE_REFRESH, APR_SUCCESS)},
        {"InlineRefreshFailed", "inline refreshes failed",
         m ? family_total(m, AF_MR_INLINE_REFRESH, 1) : 0},
        {"RefreshOK", "/refresh rotated", af_metrics_get_reason(m, AF_MR_REFRESH, APR_SUCCESS)},
        {"RefreshFailed", "/refresh refused or failed", m ? family_total(m, AF_MR_REFRESH, 1) : 0},
        {"RefreshTokenReuse", "refresh-token reuse detected", af_metrics_get(m, AF_M_REUSE)},
        {"ForeignAccessToken", "foreign access token detected", af_metrics_get(m, AF_M_FOREIGN_AT)},
        {"Revocations", "logins revoked", af_metrics_get(m, AF_M_REVOCATIONS)},
        {"LoginsStarted", "logins started", af_metrics_get(m, AF_M_LOGINS_STARTED)},
        {"LoginsCompleted", "logins completed", af_metrics_get(m, AF_M_LOGINS_COMPLETED)},
        {"LoginsFailed", "logins failed", m ? family_total(m, AF_MR_LOGIN_FAILED, 1) : 0},
        {"StoreErrors", "store errors", m ? family_total(m, AF_MR_STORE_ERROR, 1) : 0},
        {"TokenCacheHits", "token cache hits", af_metrics_get(m, AF_M_TCACHE_HIT)},
        {"TokenCacheMisses", "token cache misses", af_metrics_get(m, AF_M_TCACHE_MISS)},
    };
    apr_size_t i;

    if (html) {
        APR_ARRAY_PUSH(out, const char *) = "<hr />\n<h2>AuthFlow</h2>\n<table>\n";
    }
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        APR_ARRAY_PUSH(out, const char *) =
            html ? apr_psprintf(p, "<tr><td>%s</td><td>%" APR_UINT64_T_FMT "</td></tr>\n",
                                af_html_escape(rows[i].label, p), rows[i].n)
                 : apr_psprintf(p, "AuthFlow%s: %" APR_UINT64_T_FMT "\n", rows[i].key, rows[i].n);
    }
    if (g != NULL && g->have_store && g->have_map) {
        APR_ARRAY_PUSH(out, const char *) =
            html ? apr_psprintf(p,
                                "<tr><td>store map used / size (bytes)</td><td>%" APR_UINT64_T_FMT
                                " / %" APR_UINT64_T_FMT "</td></tr>\n",
                                g->map_used, g->map_size)
                 : apr_psprintf(p,
                                "AuthFlowStoreMapUsed: %" APR_UINT64_T_FMT
                                "\nAuthFlowStoreMapSize: %" APR_UINT64_T_FMT "\n",
                                g->map_used, g->map_size);
    }
    if (html) {
        APR_ARRAY_PUSH(out, const char *) =
            "</table>\n<p>Every counter, by reason and provider: the authflow-metrics "
            "handler (Prometheus).</p>\n";
    }
    return join(out, p);
}
