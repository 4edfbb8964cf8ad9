/* af_oidc_guard.h -- the outbound guard of one identity provider: a concurrency limit and a
 * circuit breaker, shared by every process and thread that calls that IdP.
 *
 * Memory: the guard lives in memory the caller provides (af_oidc_guard_size() bytes, 8-byte
 * aligned, any content: af_oidc_guard_init lays it out).  The module puts one guard per
 * provider into an anonymous shared-memory segment created in post_config, before the
 * children fork, so every child uses the same counters; a graceful restart makes a new
 * segment (the old generation keeps its own until it exits).  Tests use malloc'ed or
 * mmap'ed memory.
 *
 * Correctness across processes and threads rests on lock-free C11 atomics on 64-bit words
 * only: no lock exists, so none is held during I/O, and a process killed in the middle of
 * a call leaves nothing that blocks the others.
 *
 * Concurrency limit: max_concurrent slots.  A slot holds a lease, one word: the owner's pid
 * and the time the lease was taken or last renewed (every call renews it).  No free slot:
 * the caller is refused at once (AF_EOIDC_IDP_BUSY), nothing waits.  A lease whose owner
 * process no longer exists, or that is older than the provider Timeout +
 * AF_OIDC_GUARD_MARGIN, is stale and may be taken over: a child killed mid-call leaks its
 * slot only until then.
 *
 * Circuit breaker: AF_OIDC_GUARD_FAILURES consecutive failed calls (timeout, connection or
 * TLS failure) open the circuit for a back-off of AF_OIDC_GUARD_BACKOFF; while it is open
 * every lease and call is refused at once (AF_EOIDC_IDP_UNAVAILABLE).  After the back-off
 * one lease becomes the probe (half-open); the others are still refused until the probe's
 * first call tells: an answer closes the circuit, a failure opens it again with the
 * back-off doubled (at most AF_OIDC_GUARD_BACKOFF_MAX).  Any HTTP answer, 4xx and 5xx
 * included, means "reachable".  A probe that ends without a verdict (no call made, a
 * refused URL) hands the probe to the next caller; a probe older than the stale limit is
 * taken over.
 *
 * Shared retry throttle: one failure code with a "not before" time (the discovery retry
 * throttle uses it, so that a child without cached metadata does not repeat a fetch that
 * another child has just seen fail).
 *
 * Time is always passed in (apr_time_t, microseconds) so tests drive it; the module passes
 * apr_time_now() (real time: AuthFlowTestClockOffset does not apply to the guard).
 */
#ifndef AF_OIDC_GUARD_H
#define AF_OIDC_GUARD_H

#include <apr_pools.h>
#include <apr_time.h>

#include "oidc/af_oidc_errors.h"

#define AF_OIDC_GUARD_DEFAULT_MAX 16   /* MaxConcurrent default */
#define AF_OIDC_GUARD_LIMIT       1024 /* MaxConcurrent maximum */
#define AF_OIDC_GUARD_FAILURES    3    /* consecutive failed calls that open the circuit */
#define AF_OIDC_GUARD_BACKOFF     apr_time_from_sec(10)
#define AF_OIDC_GUARD_BACKOFF_MAX apr_time_from_sec(60)
#define AF_OIDC_GUARD_MARGIN      apr_time_from_sec(10) /* stale: Timeout + this */
#define AF_OIDC_GUARD_BUSY_RETRY  1                     /* Retry-After (s) when busy */

typedef struct af_oidc_guard_t af_oidc_guard_t;

/** One holder's lease (process-local; the slot itself is in the guard). */
typedef struct af_oidc_lease_t {
    af_oidc_guard_t *guard;
    int slot;              /* slot index, -1 when none is held */
    apr_uint64_t word;     /* what the slot holds while it is ours */
    apr_uint64_t probe_ms; /* != 0: this lease is the half-open probe started then (ms) */
} af_oidc_lease_t;

/** What a call told about the IdP. */
typedef enum {
    AF_OIDC_CALL_OK = 0, /* the IdP answered (any HTTP status, an oversized body too) */
    AF_OIDC_CALL_FAILED, /* timeout, connection or TLS failure */
    AF_OIDC_CALL_NEUTRAL /* nothing learnt (a refused URL, a local error) */
} af_oidc_call_t;

/** A change of the circuit made by af_oidc_guard_end (for one log line, by one caller). */
typedef enum {
    AF_OIDC_GUARD_SAME = 0,
    AF_OIDC_GUARD_OPENED,   /* closed -> open after AF_OIDC_GUARD_FAILURES failures */
    AF_OIDC_GUARD_REOPENED, /* the probe failed: open again, longer */
    AF_OIDC_GUARD_CLOSED    /* an answer after the circuit was open */
} af_oidc_guard_event_t;

/** Bytes needed for a guard with max_concurrent slots (a multiple of 64). */
apr_size_t af_oidc_guard_size(int max_concurrent);

/**
 * Lay out a guard in mem (af_oidc_guard_size(max_concurrent) bytes, 8-byte aligned): every
 * slot free, the circuit closed.  Not atomic: call before anyone else uses mem.
 * @param timeout the provider's Timeout (calls take at most this long)
 * @return the guard (== mem), or NULL when max_concurrent is outside 1..AF_OIDC_GUARD_LIMIT
 */
af_oidc_guard_t *af_oidc_guard_init(void *mem, int max_concurrent, apr_interval_time_t timeout);

/** The number of slots. */
int af_oidc_guard_max(const af_oidc_guard_t *g);

/**
 * Take a lease: fails fast, never waits.  While the circuit is open the lease is refused;
 * after the back-off the first lease becomes the probe.
 * @return APR_SUCCESS, AF_EOIDC_IDP_UNAVAILABLE (circuit open or a probe under way),
 *         AF_EOIDC_IDP_BUSY (every slot in use)
 */
apr_status_t af_oidc_guard_acquire(af_oidc_lease_t *l, af_oidc_guard_t *g, apr_time_t now);

/**
 * Before each call made under a lease: renews the lease and asks the circuit.
 * @return APR_SUCCESS, AF_EOIDC_IDP_UNAVAILABLE, AF_EOIDC_IDP_BUSY (the lease had gone
 *         stale, was taken over, and no slot is free)
 */
apr_status_t af_oidc_guard_begin(af_oidc_lease_t *l, apr_time_t now);

/**
 * After each call begun with af_oidc_guard_begin: record what it told.
 * @param backoff set to the new back-off when the circuit (re)opened; may be NULL
 */
af_oidc_guard_event_t af_oidc_guard_end(af_oidc_lease_t *l, af_oidc_call_t outcome, apr_time_t now,
                                        apr_interval_time_t *backoff);

/** Give the lease back (idempotent); an unresolved probe goes to the next caller. */
void af_oidc_guard_release(af_oidc_lease_t *l, apr_time_t now);

/** Is the circuit open with its back-off still running?  (Read only; a running probe does
 *  not count.)  @return APR_SUCCESS or AF_EOIDC_IDP_UNAVAILABLE */
apr_status_t af_oidc_guard_check(const af_oidc_guard_t *g, apr_time_t now);

/** Seconds (>= 1) a refused caller should wait: the rest of the back-off when the circuit
 *  is open, the provider Timeout while a probe runs, else AF_OIDC_GUARD_BUSY_RETRY. */
apr_int64_t af_oidc_guard_retry_after(const af_oidc_guard_t *g, apr_time_t now);

/** Leases held now (stale ones not counted). */
int af_oidc_guard_in_use(const af_oidc_guard_t *g, apr_time_t now);

/** The outcome of an af_http_perform result for the circuit. */
af_oidc_call_t af_oidc_guard_classify(apr_status_t http_rv);

/** Shared retry throttle: no new attempt before until; callers get rv meanwhile. */
void af_oidc_guard_throttle_set(af_oidc_guard_t *g, apr_status_t rv, apr_time_t until);

/** The throttle's failure code while it runs, else APR_SUCCESS. */
apr_status_t af_oidc_guard_throttled(const af_oidc_guard_t *g, apr_time_t now);

/** End the throttle (an attempt succeeded). */
void af_oidc_guard_throttle_clear(af_oidc_guard_t *g);

#endif
