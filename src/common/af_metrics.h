/* af_metrics.h -- the module's counters and their Prometheus text exposition.
 *
 * Memory: one af_metrics_t lives in memory the caller provides (af_metrics_size() bytes,
 * 8-byte aligned, any content: af_metrics_init lays it out).  The module puts it into one
 * anonymous shared-memory segment created in post_config, before the children fork, so
 * every child and thread counts into the same words; unit tests use malloc'ed memory.
 *
 * Counting is lock-free: one C11 atomic add (relaxed) on a 64-bit word per event, no lock,
 * nothing held; a child killed at any point leaves every counter consistent.  Every
 * counting function accepts m == NULL (no metrics: nothing counted), so the core counts
 * unconditionally.  Built with -DAF_NO_METRICS the counting functions are empty inlines
 * (the benchmark's "metrics off" module, bench/metrics.sh).
 *
 * No label ever carries per-user data: the labels are reason codes (af_strerror of an
 * AF_E* code, a fixed array indexed by the code), provider names (known at configuration
 * time, one slot each) and fixed words.
 *
 * Families counted by reason are arrays of AF_METRICS_REASONS words: index 0 is success
 * ("ok"), 1 .. AF_E_END - AF_E_BASE - 1 our codes (rv - AF_E_BASE), the last one any APR /
 * errno code ("system_error").  Two codes with the same reason string (e.g. "not_found")
 * are added together when rendered.
 */
#ifndef AF_METRICS_H
#define AF_METRICS_H

#include <apr_pools.h>
#include <apr_time.h>

#include "common/af_error.h"

#define AF_METRICS_REASONS   (AF_E_END - AF_E_BASE + 1)
#define AF_METRICS_PROVIDERS 64 /* provider names with their own slot; more share none */
#define AF_METRICS_NAME_MAX  80 /* bytes of a slot name kept (provider names: <= 64) */
#define AF_METRICS_TRUSTED   "(trusted issuers)" /* the slot of AuthFlowTrustIssuer JWKS */
#define AF_METRICS_BUCKETS   11 /* finite histogram buckets (see af_metrics_bounds) */
#define AF_METRICS_LAYOUT    1  /* changes with the struct: a new segment, not reuse */

/** Plain counters (no label, or a fixed-word label). */
typedef enum {
    AF_M_LOGINS_STARTED = 0, /* /login answered with a redirect to the IdP */
    AF_M_LOGINS_COMPLETED,   /* /callback created a login */
    AF_M_REUSE,              /* a rotated refresh token presented again after the grace */
    AF_M_FOREIGN_AT,         /* a refresh token with another login's access token (G08) */
    AF_M_REVOCATIONS,        /* logins revoked by the module (logout, new login, theft) */
    AF_M_TCACHE_HIT,         /* verified-token cache */
    AF_M_TCACHE_MISS,
    AF_M_PLAIN_N
} af_metric_t;

/** Families counted by reason code. */
typedef enum {
    AF_MR_GATE = 0,       /* gate decisions (AuthType AuthFlow), "ok" = authenticated */
    AF_MR_INLINE_REFRESH, /* inline refreshes the gate attempted */
    AF_MR_REFRESH,        /* POST <endpoint>/refresh answers */
    AF_MR_LOGIN_FAILED,   /* /login and /callback failures */
    AF_MR_STORE_ERROR,    /* store operations that failed (full, busy, I/O, corrupt) */
    AF_MR_N
} af_metric_reason_t;

/** One provider's slot: the latency histogram of its IdP calls and its JWKS fetches. */
typedef struct af_metrics_prov_t af_metrics_prov_t;

typedef struct af_metrics_t af_metrics_t;

/** Gauges read at scrape time (not kept in shared memory). */
typedef struct af_metrics_gauges_t {
    int have_store;        /* the scraped server has a store open in this process */
    int have_map;          /* its backend has a map (LMDB) */
    apr_uint64_t map_size; /* bytes */
    apr_uint64_t map_used;
} af_metrics_gauges_t;

/** Bytes needed (a multiple of 64). */
apr_size_t af_metrics_size(void);

/**
 * Lay out the counters in mem (af_metrics_size() bytes, 8-byte aligned): all zero, no
 * provider slot.  Not atomic: call before anyone else uses mem.
 * @param started when the counters start (the exposition's start time)
 */
af_metrics_t *af_metrics_init(void *mem, apr_time_t started);

/** Is mem a layout of this build (the same AF_METRICS_LAYOUT and size)?  Lets a graceful
 *  restart keep the counters of a segment made by the same module. */
int af_metrics_compatible(const void *mem, apr_size_t size);

/**
 * The slot of the provider named name: the existing one of that name, else a new one.
 * Configuration time only (not atomic).  @return NULL when all slots are taken
 */
af_metrics_prov_t *af_metrics_provider(af_metrics_t *m, const char *name);

/** When the counters started. */
apr_time_t af_metrics_started(const af_metrics_t *m);

/** The histogram's finite upper bounds, in microseconds (AF_METRICS_BUCKETS). */
extern const apr_interval_time_t af_metrics_bounds[AF_METRICS_BUCKETS];

#ifndef AF_NO_METRICS
/** Count one event. */
void af_metrics_count(af_metrics_t *m, af_metric_t which);
/** Count one outcome of a family by its reason code (APR_SUCCESS: "ok"). */
void af_metrics_reason(af_metrics_t *m, af_metric_reason_t fam, apr_status_t rv);
/** One IdP call took elapsed (whatever its outcome). */
void af_metrics_idp_call(af_metrics_prov_t *pm, apr_interval_time_t elapsed);
/** One JWKS fetch was sent; failed: no usable key set came back. */
void af_metrics_jwks(af_metrics_prov_t *pm, int failed);
#else
static inline void af_metrics_count(af_metrics_t *m, af_metric_t which)
{
    (void) m, (void) which;
}
static inline void af_metrics_reason(af_metrics_t *m, af_metric_reason_t fam, apr_status_t rv)
{
    (void) m, (void) fam, (void) rv;
}
static inline void af_metrics_idp_call(af_metrics_prov_t *pm, apr_interval_time_t elapsed)
{
    (void) pm, (void) elapsed;
}
static inline void af_metrics_jwks(af_metrics_prov_t *pm, int failed)
{
    (void) pm, (void) failed;
}
#endif

/** Read one counter (tests, the status page). */
apr_uint64_t af_metrics_get(const af_metrics_t *m, af_metric_t which);
/** Read one family's count for a reason code. */
apr_uint64_t af_metrics_get_reason(const af_metrics_t *m, af_metric_reason_t fam, apr_status_t rv);

/**
 * The Prometheus text exposition format 0.0.4 of every counter: "# HELP" / "# TYPE" for
 * each family, names prefixed "authflow_", counters ending in "_total", the histogram
 * with cumulative "_bucket{le=...}", "_sum" (seconds) and "_count"; label values escaped
 * (backslash, double quote, line feed).  Families by reason show "ok" and every reason
 * counted at least once.  g: the scrape-time gauges (NULL: none).
 */
const char *af_metrics_render(const af_metrics_t *m, const af_metrics_gauges_t *g, apr_pool_t *p);

/**
 * The summary for mod_status: html 0 gives "Key: value" lines (the ?auto form, keys
 * prefixed "AuthFlow"), html 1 an HTML fragment (a heading and a table, every text escaped).
 */
const char *af_metrics_status(const af_metrics_t *m, const af_metrics_gauges_t *g, int html,
                              apr_pool_t *p);

/** A Prometheus label value with backslash, double quote and line feed escaped. */
const char *af_metrics_escape(const char *v, apr_pool_t *p);

#endif
