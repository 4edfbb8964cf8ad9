/* af_revview.h -- a per-process view of revoked logins, so that the gate's revocation check
 * makes no database round trip with a shared store (ARCHITECTURE.md "Several hosts").
 *
 * The view holds the set of logins (sids) revoked in the last `horizon` seconds.  At most once
 * per `delay` seconds (AuthFlowRevocationDelay) one thread refreshes it from the store's
 * revocation log (af_store_revocations: only what was recorded since the last refresh); the
 * other threads answer from the current set meanwhile, without waiting.  A revocation made on
 * any host is so honoured everywhere within `delay` (plus the time of one refresh).
 *
 * A login not in the set is asked of the store once per process (then remembered for a
 * horizon): one the store does not know -- a host configured with another store, a login
 * swept -- is refused (AF_ESTORE_UNKNOWN), as with LMDB or delay 0.
 *
 * When the store cannot be read, the set is kept as it is: revocations already seen stay in
 * force, every other login passes (nothing is asked while the last refresh failed) -- access
 * tokens already issued keep working while the database is down (they expire by themselves;
 * refresh, login and logout fail with 503).
 *
 * Memory is bounded: an entry is forgotten `horizon` seconds after the revocation (choose it at
 * least as long as the longest access-token lifetime plus clock skew: a token of a revoked
 * login cannot outlive it), and the set never holds more than AF_REVVIEW_MAX entries: beyond
 * that, logins not in the set are checked against the store directly (fail closed) until the
 * set shrinks.
 *
 * delay 0, and stores without a revocation log (LMDB, whose check is a local read anyway):
 * every check asks the store (af_store_family_is_revoked), and its answer is returned as is.
 * Thread-safe.  Create it per process after fork (child_init); it holds no connection.
 */
#ifndef AF_REVVIEW_H
#define AF_REVVIEW_H

#include "store/af_store.h"

#define AF_REVVIEW_MAX 1000000 /* entries (about 100 bytes each) */

typedef struct af_revview_t af_revview_t;

/**
 * @param delay seconds between refreshes (0: no view, ask the store every time)
 * @param horizon seconds a revocation is remembered (> 0)
 * @return APR_SUCCESS, APR_EINVAL (delay < 0, horizon <= 0), APR_ENOMEM
 */
apr_status_t af_revview_create(af_revview_t **view, apr_int64_t delay, apr_int64_t horizon,
                               apr_pool_t *p);

/**
 * Is the login sid revoked, as far as this process knows at now?  Refreshes the view first
 * when delay has passed since the last refresh (one thread; the others do not wait).
 * @return APR_SUCCESS, AF_ESTORE_REVOKED; with delay 0 or a store without a log, whatever
 *         af_store_family_is_revoked answers (AF_ESTORE_UNKNOWN, AF_ESTORE_* included)
 */
apr_status_t af_revview_check(af_revview_t *view, af_store_t *st, const char *sid, apr_int64_t now);

/** A revocation this process made itself (logout, reuse): in force here at once. */
void af_revview_note(af_revview_t *view, const char *sid, apr_int64_t now);

typedef struct af_revview_stats_t {
    apr_size_t entries;
    apr_uint64_t refreshes; /* successful refreshes from the store */
    apr_uint64_t failures;  /* refreshes that failed (the set was kept) */
    apr_int64_t refreshed_at;
    int direct; /* 1: every check asks the store (delay 0, no log, or over AF_REVVIEW_MAX) */
} af_revview_stats_t;

void af_revview_stats(af_revview_stats_t *out, af_revview_t *view);

/** Lower the entry limit (tests; default AF_REVVIEW_MAX). */
void af_revview_set_max(af_revview_t *view, apr_size_t max);

#endif
