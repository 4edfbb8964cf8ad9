/* pg_admin.c -- revocation, lookups, listing, sweeping, statistics, single-use flows,
 * leases and the revocation log of the PostgreSQL backend.  Each function keeps its
 * transaction inside itself; operations without a caller's pool use a scratch pool of
 * their own (a child of APR's global pool: thread-safe). */
#include <string.h>

#include <apr_strings.h>

#include "store/pg_int.h"

#define SWEEP_BATCH     1000
#define REVOCATIONS_MAX 10000

static int sid_ok(const char *sid)
{
    return sid != NULL && strlen(sid) == PG_SID_LEN;
}

static apr_pool_t *scratch(void)
{
    apr_pool_t *p = NULL;

    return apr_pool_create(&p, NULL) == APR_SUCCESS ? p : NULL;
}

/* BEGIN ... fn ... COMMIT (or ROLLBACK), on one pooled connection. */
typedef apr_status_t txn_fn(pg_t *pg, pg_conn_t *c, void *baton, int *wrote, apr_pool_t *p);

static apr_status_t in_txn(pg_t *pg, const char *op, txn_fn *fn, void *baton, apr_pool_t *p)
{
    pg_conn_t *c = NULL;
    apr_status_t rv;
    int wrote = 0;

    if ((rv = af_pg_acquire(&c, pg, op, p)) != APR_SUCCESS) {
        return rv;
    }
    rv = af_pg_cmd(pg, c, "BEGIN", op, p);
    if (rv == APR_SUCCESS) {
        rv = fn(pg, c, baton, &wrote, p);
    }
    if (rv == APR_SUCCESS && wrote) {
        rv = af_pg_cmd(pg, c, "COMMIT", op, p);
    } else {
        af_pg_rollback(pg, c, p);
    }
    af_pg_release(pg, c);
    return rv;
}

/* One statement, autocommit. */
static apr_status_t one(PGresult **r, pg_t *pg, int stmt, const pg_args_t *a, const char *op,
                        apr_pool_t *p)
{
    pg_conn_t *c = NULL;
    apr_status_t rv;

    *r = NULL;
    if ((rv = af_pg_acquire(&c, pg, op, p)) != APR_SUCCESS) {
        return rv;
    }
    rv = af_pg_exec(r, pg, c, stmt, a, op, p);
    af_pg_release(pg, c);
    return rv;
}

/* ---- revocation ------------------------------------------------------------------------ */

typedef struct revoke_t {
    const char *sid, *sub;
    apr_int64_t now;
    int changed;
} revoke_t;

static apr_status_t revoke_one_txn(pg_t *pg, pg_conn_t *c, void *baton, int *wrote, apr_pool_t *p)
{
    revoke_t *r = baton;
    apr_status_t rv;

    rv = af_pg_revoke_in_txn(pg, c, r->sid, r->now, &r->changed, p);
    if (rv == APR_SUCCESS && r->changed) {
        rv = af_pg_counter_add(pg, c, "revocations", 1, p);
        *wrote = 1;
    }
    return rv;
}

apr_status_t af_pg_family_revoke(af_store_t *st, const char *sid, apr_int64_t now, apr_pool_t *p)
{
    revoke_t r = {sid, NULL, now, 0};
    apr_status_t rv;

    if (!sid_ok(sid)) {
        return AF_ENOTFOUND;
    }
    rv = in_txn(st->impl, "family_revoke", revoke_one_txn, &r, p);
    if (rv == APR_SUCCESS && r.changed) {
        af_log_p(p, AF_LOG_INFO, "AF03056", "store: family %s revoked", sid);
    }
    return rv;
}

/* Revoke the logins of a locked result (one sid per row; already revoked or gone: skipped),
 * count them, and clear the result. */
static apr_status_t revoke_rows(pg_t *pg, pg_conn_t *c, PGresult *r, apr_int64_t now, int *total,
                                int *wrote, apr_pool_t *p)
{
    apr_status_t rv = APR_SUCCESS;
    int i, changed;

    for (i = 0; i < PQntuples(r) && rv == APR_SUCCESS; i++) {
        rv = af_pg_revoke_in_txn(pg, c, af_pg_get_str(r, i, 0, p), now, &changed, p);
        if (rv == AF_ENOTFOUND) {
            rv = APR_SUCCESS;
        }
        *total += changed;
    }
    PQclear(r);
    if (rv == APR_SUCCESS && *total > 0) {
        rv = af_pg_counter_add(pg, c, "revocations", *total, p);
        *wrote = 1;
    }
    return rv;
}

static apr_status_t revoke_sub_txn(pg_t *pg, pg_conn_t *c, void *baton, int *wrote, apr_pool_t *p)
{
    revoke_t *rs = baton;
    PGresult *r = NULL;
    pg_args_t a;
    apr_status_t rv;

    rs->changed = 0;
    af_pg_args_init(&a);
    af_pg_arg_str(&a, rs->sub);
    /* lock the subject's live logins (in sid order: concurrent calls queue, not deadlock) */
    if ((rv = af_pg_exec(&r, pg, c, PGS_SUB_FAMILIES_LOCK, &a, "revoke_sub", p)) != APR_SUCCESS) {
        return rv;
    }
    return revoke_rows(pg, c, r, rs->now, &rs->changed, wrote, p);
}

apr_status_t af_pg_revoke_sub(int *count, af_store_t *st, const char *sub, apr_int64_t now,
                              apr_pool_t *p)
{
    revoke_t r = {NULL, sub, now, 0};
    apr_status_t rv;

    if (count != NULL) {
        *count = 0;
    }
    if (sub == NULL || *sub == '\0' || strlen(sub) > AF_STORE_SUB_MAX) {
        return APR_SUCCESS;
    }
    rv = in_txn(st->impl, "revoke_sub", revoke_sub_txn, &r, p);
    if (rv == APR_SUCCESS && count != NULL) {
        *count = r.changed;
    }
    return rv;
}

typedef struct revoke_idp_t {
    const char *provider, *idp_sid, *sub;
    apr_int64_t now;
    int changed;
} revoke_idp_t;

static apr_status_t revoke_idp_sid_txn(pg_t *pg, pg_conn_t *c, void *baton, int *wrote,
                                       apr_pool_t *p)
{
    revoke_idp_t *ri = baton;
    PGresult *r = NULL;
    pg_args_t a;
    apr_status_t rv;

    ri->changed = 0;
    af_pg_args_init(&a);
    af_pg_arg_str(&a, ri->provider);
    af_pg_arg_str(&a, ri->idp_sid);
    af_pg_arg_str(&a, ri->sub);
    /* lock the session's live logins in sid order, as revoke_sub does */
    if ((rv = af_pg_exec(&r, pg, c, PGS_IDP_SID_FAMILIES_LOCK, &a, "revoke_idp_sid", p)) !=
        APR_SUCCESS) {
        return rv;
    }
    return revoke_rows(pg, c, r, ri->now, &ri->changed, wrote, p);
}

apr_status_t af_pg_revoke_idp_sid(int *count, af_store_t *st, const char *provider,
                                  const char *idp_sid, const char *sub, apr_int64_t now,
                                  apr_pool_t *p)
{
    revoke_idp_t r = {provider, idp_sid, sub, now, 0};
    apr_status_t rv;

    if (count != NULL) {
        *count = 0;
    }
    rv = in_txn(st->impl, "revoke_idp_sid", revoke_idp_sid_txn, &r, p);
    if (rv == APR_SUCCESS && count != NULL) {
        *count = r.changed;
    }
    return rv;
}

/* ---- lookups -------------------------------------------------------------------------- */

apr_status_t af_pg_family_is_revoked(af_store_t *st, const char *sid)
{
    PGresult *r = NULL;
    apr_pool_t *p;
    pg_args_t a;
    apr_status_t rv;

    if (!sid_ok(sid)) {
        return AF_ESTORE_UNKNOWN;
    }
    if ((p = scratch()) == NULL) {
        return APR_ENOMEM;
    }
    af_pg_args_init(&a);
    af_pg_arg_str(&a, sid);
    rv = one(&r, st->impl, PGS_IS_REVOKED, &a, "is_revoked", p);
    if (rv == APR_SUCCESS) {
        rv = PQntuples(r) == 0             ? AF_ESTORE_UNKNOWN
             : af_pg_get_int(r, 0, 0) != 0 ? AF_ESTORE_REVOKED
                                           : APR_SUCCESS;
    }
    PQclear(r);
    apr_pool_destroy(p);
    return rv;
}

apr_status_t af_pg_family_get(af_store_family_t **fam, af_store_t *st, const char *sid,
                              apr_pool_t *p)
{
    PGresult *r = NULL;
    pg_args_t a;
    pg_fam_t f;
    apr_status_t rv;

    *fam = NULL;
    if (!sid_ok(sid)) {
        return AF_ENOTFOUND;
    }
    af_pg_args_init(&a);
    af_pg_arg_str(&a, sid);
    rv = one(&r, st->impl, PGS_FAMILY_GET, &a, "family_get", p);
    if (rv == APR_SUCCESS) {
        if (PQntuples(r) == 0) {
            rv = AF_ENOTFOUND;
        } else if ((rv = af_pg_fam_decode(&f, r, 0, 0, p)) == APR_SUCCESS) {
            *fam = af_pg_fam_export(&f, p);
        }
    }
    PQclear(r);
    return rv;
}

/* Collect first, call back after: callbacks may use the store. */
apr_status_t af_pg_list(af_store_t *st, const char *sub, af_store_list_fn *fn, void *baton,
                        apr_pool_t *p)
{
    apr_array_header_t *all = apr_array_make(p, 16, sizeof(af_store_family_t *));
    PGresult *r = NULL;
    pg_args_t a;
    pg_fam_t f;
    apr_status_t rv;
    int i;

    af_pg_args_init(&a);
    if (sub != NULL) {
        af_pg_arg_str(&a, sub);
    }
    rv = one(&r, st->impl, sub ? PGS_LIST_SUB : PGS_LIST_ALL, &a, "list", p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    for (i = 0; i < PQntuples(r); i++) {
        if (af_pg_fam_decode(&f, r, i, 0, p) == APR_SUCCESS) {
            APR_ARRAY_PUSH(all, af_store_family_t *) = af_pg_fam_export(&f, p);
        }
    }
    PQclear(r);
    for (i = 0; i < all->nelts; i++) {
        if (fn(baton, APR_ARRAY_IDX(all, i, af_store_family_t *)) != 0) {
            break;
        }
    }
    return APR_SUCCESS;
}

/* ---- sweep, stats ----------------------------------------------------------------------- */

/* Delete expired rows of one kind in batches (each its own transaction). */
static apr_status_t sweep_kind(apr_uint64_t *n, pg_t *pg, pg_conn_t *c, int stmt, apr_int64_t now,
                               apr_pool_t *p)
{
    PGresult *r = NULL;
    pg_args_t a;
    apr_status_t rv;
    apr_int64_t got;

    *n = 0;
    do {
        af_pg_args_init(&a);
        af_pg_arg_i64(&a, now);
        af_pg_arg_i64(&a, SWEEP_BATCH);
        if ((rv = af_pg_exec(&r, pg, c, stmt, &a, "sweep", p)) != APR_SUCCESS) {
            return rv;
        }
        got = af_pg_get_int(r, 0, 0);
        PQclear(r);
        *n += (apr_uint64_t) got;
    } while (got >= SWEEP_BATCH);
    return APR_SUCCESS;
}

apr_status_t af_pg_sweep(apr_uint64_t *purged, af_store_t *st, apr_int64_t now)
{
    pg_t *pg = st->impl;
    pg_conn_t *c = NULL;
    apr_uint64_t fams = 0, toks = 0, flows = 0, thr = 0, log = 0;
    apr_pool_t *p;
    apr_status_t rv;

    if (purged != NULL) {
        *purged = 0;
    }
    if ((p = scratch()) == NULL) {
        return APR_ENOMEM;
    }
    if ((rv = af_pg_acquire(&c, pg, "sweep", p)) == APR_SUCCESS) {
        /* families before their tokens: the order in which every writer locks them */
        if ((rv = sweep_kind(&fams, pg, c, PGS_SWEEP_FAMILIES, now, p)) == APR_SUCCESS &&
            (rv = sweep_kind(&toks, pg, c, PGS_SWEEP_TOKENS, now, p)) == APR_SUCCESS &&
            (rv = sweep_kind(&flows, pg, c, PGS_SWEEP_FLOWS, now, p)) == APR_SUCCESS &&
            (rv = sweep_kind(&thr, pg, c, PGS_SWEEP_THROTTLE, now, p)) == APR_SUCCESS &&
            (rv = sweep_kind(&log, pg, c, PGS_SWEEP_REVLOG, now, p)) == APR_SUCCESS &&
            fams + toks + flows + thr > 0) {
            rv = af_pg_counter_add(pg, c, "swept", (apr_int64_t) (fams + toks + flows + thr), p);
        }
        af_pg_release(pg, c);
    }
    apr_pool_destroy(p);
    if (rv == APR_SUCCESS && purged != NULL) {
        *purged = fams + toks + flows + thr; /* throttle records count as flows (LMDB) */
    }
    return rv;
}

apr_status_t af_pg_stats(af_store_stats_t *out, af_store_t *st, apr_int64_t now)
{
    pg_t *pg = st->impl;
    pg_conn_t *c = NULL;
    PGresult *r = NULL;
    apr_pool_t *p;
    pg_args_t a;
    apr_status_t rv;
    int i;

    memset(out, 0, sizeof(*out));
    out->max_readers = pg->max;
    if ((p = scratch()) == NULL) {
        return APR_ENOMEM;
    }
    if ((rv = af_pg_acquire(&c, pg, "stats", p)) != APR_SUCCESS) {
        apr_pool_destroy(p);
        return rv;
    }
    rv = af_pg_exec(&r, pg, c, PGS_STATS_COUNTERS, NULL, "stats", p);
    for (i = 0; rv == APR_SUCCESS && i < PQntuples(r); i++) {
        const char *name = af_pg_get_str(r, i, 0, p);
        apr_uint64_t n = (apr_uint64_t) af_pg_get_int(r, i, 1);
        if (strcmp(name, "logins") == 0) {
            out->logins = n;
        } else if (strcmp(name, "rotations") == 0) {
            out->rotations = n;
        } else if (strcmp(name, "reuse") == 0) {
            out->reuse_detections = n;
        } else if (strcmp(name, "revocations") == 0) {
            out->revocations = n;
        } else if (strcmp(name, "swept") == 0) {
            out->swept = n;
        }
    }
    PQclear(r);
    r = NULL;
    if (rv == APR_SUCCESS) {
        af_pg_args_init(&a);
        af_pg_arg_i64(&a, now);
        rv = af_pg_exec(&r, pg, c, PGS_STATS_COUNTS, &a, "stats", p);
    }
    if (rv == APR_SUCCESS && PQntuples(r) == 1) {
        out->families = (apr_uint64_t) af_pg_get_int(r, 0, 0);
        out->tokens = (apr_uint64_t) af_pg_get_int(r, 0, 1);
        out->flows = (apr_uint64_t) af_pg_get_int(r, 0, 2);
        out->active_families = (apr_uint64_t) af_pg_get_int(r, 0, 3);
        out->map_used = (apr_uint64_t) af_pg_get_int(r, 0, 4); /* bytes on disk, indexes too */
    }
    PQclear(r);
    out->readers_used = af_store_pg_connections(st);
    af_pg_release(pg, c);
    apr_pool_destroy(p);
    return rv;
}

/* ---- flows, leases --------------------------------------------------------------------- */

/* A flow id's key (its hash, as for refresh tokens) and a scratch pool for one operation. */
static apr_status_t flow_key(unsigned char *h, const char *id, apr_size_t id_len, apr_pool_t **p)
{
    if (id == NULL || id_len == 0 || id_len > 1024 ||
        af_token_refresh_hash(h, id, id_len) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    return (*p = scratch()) != NULL ? APR_SUCCESS : APR_ENOMEM;
}

apr_status_t af_pg_flow_consume(af_store_t *st, const char *id, apr_size_t id_len, apr_int64_t now,
                                apr_int64_t expires)
{
    pg_t *pg = st->impl;
    pg_conn_t *c = NULL;
    PGresult *r = NULL;
    unsigned char h[AF_RT_HASH_LEN];
    apr_pool_t *p;
    pg_args_t a;
    apr_status_t rv;

    if ((rv = flow_key(h, id, id_len, &p)) != APR_SUCCESS) {
        return rv;
    }
    if ((rv = af_pg_acquire(&c, pg, "flow_consume", p)) == APR_SUCCESS) {
        /* one statement: insert unless present, and purge a few expired flows */
        af_pg_args_init(&a);
        af_pg_arg_bin(&a, h, sizeof(h));
        af_pg_arg_i64(&a, expires);
        af_pg_arg_i64(&a, now);
        af_pg_arg_i64(&a, AF_STORE_FLOW_PURGE);
        af_pg_arg_i64(&a, c->shard);
        rv = af_pg_exec(&r, pg, c, PGS_FLOW_CONSUME, &a, "flow_consume", p);
        if (rv == APR_SUCCESS && af_pg_get_int(r, 0, 0) == 0) {
            rv = AF_ESTORE_REPLAY;
        }
        PQclear(r);
        af_pg_release(pg, c);
    }
    apr_pool_destroy(p);
    return rv;
}

apr_status_t af_pg_flow_release(af_store_t *st, const char *id, apr_size_t id_len)
{
    PGresult *r = NULL;
    unsigned char h[AF_RT_HASH_LEN];
    apr_pool_t *p;
    pg_args_t a;
    apr_status_t rv;

    if ((rv = flow_key(h, id, id_len, &p)) != APR_SUCCESS) {
        return rv;
    }
    af_pg_args_init(&a);
    af_pg_arg_bin(&a, h, sizeof(h));
    rv = one(&r, st->impl, PGS_FLOW_RELEASE, &a, "flow_release", p); /* none deleted: a no-op */
    PQclear(r);
    apr_pool_destroy(p);
    return rv;
}

apr_status_t af_pg_lease(int *got, af_store_t *st, const char *name, apr_int64_t now,
                         apr_int64_t interval)
{
    PGresult *r = NULL;
    apr_size_t n = name ? strlen(name) : 0;
    apr_pool_t *p;
    pg_args_t a;
    apr_status_t rv;

    *got = 0;
    if (n == 0 || n > 64) {
        return APR_EINVAL;
    }
    if ((p = scratch()) == NULL) {
        return APR_ENOMEM;
    }
    af_pg_args_init(&a);
    af_pg_arg_str(&a, name);
    af_pg_arg_i64(&a, now);
    af_pg_arg_i64(&a, interval);
    /* taken when never taken, taken interval ago or more, or "taken" in the future (a clock
     * set back); the row lock makes hosts asking at once queue: one gets it */
    rv = one(&r, st->impl, PGS_LEASE, &a, "lease", p);
    if (rv == APR_SUCCESS) {
        *got = PQntuples(r) == 1;
    }
    PQclear(r);
    apr_pool_destroy(p);
    return rv;
}

apr_status_t af_pg_throttle(apr_int64_t *count, apr_int64_t *reset, af_store_t *st,
                            const unsigned char *hash, apr_int64_t now, apr_int64_t window, int add)
{
    PGresult *r = NULL;
    apr_pool_t *p;
    pg_args_t a;
    apr_status_t rv;

    if ((p = scratch()) == NULL) {
        return APR_ENOMEM;
    }
    af_pg_args_init(&a);
    af_pg_arg_bin(&a, hash, AF_RT_HASH_LEN);
    af_pg_arg_i64(&a, now);
    af_pg_arg_i64(&a, window);
    if (add > 0) {
        af_pg_arg_i64(&a, add);
        af_pg_arg_i64(&a, AF_STORE_FLOW_PURGE);
    }
    /* one statement: the row lock of the upsert serialises the hosts counting at once */
    rv = one(&r, st->impl, add > 0 ? PGS_THROTTLE_ADD : PGS_THROTTLE_GET, &a, "throttle", p);
    if (rv == APR_SUCCESS && PQntuples(r) == 1) {
        *count = af_pg_get_int(r, 0, 0);
        *reset = af_pg_get_int(r, 0, 1);
    }
    PQclear(r);
    apr_pool_destroy(p);
    return rv;
}

/* ---- the revocation log ---------------------------------------------------------------- */

apr_status_t af_pg_revocations(apr_uint64_t *cursor, af_store_t *st, apr_int64_t now,
                               apr_int64_t horizon, af_store_sid_fn *fn, void *baton, apr_pool_t *p)
{
    PGresult *r = NULL;
    apr_uint64_t head, last = 0, from = *cursor;
    pg_args_t a;
    apr_status_t rv;
    int i, n;

    af_pg_args_init(&a);
    af_pg_arg_i64(&a, from == 0 ? now - horizon : (apr_int64_t) from);
    af_pg_arg_i64(&a, REVOCATIONS_MAX);
    rv = one(&r, st->impl, from == 0 ? PGS_REVOCATIONS_RECENT : PGS_REVOCATIONS_SINCE, &a,
             "revocations", p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    n = PQntuples(r);
    head = n > 0 ? (apr_uint64_t) af_pg_get_int(r, 0, 0) : 0;
    if (n == 0 || head < from) {
        /* no head row (a schema not set up) or a store older than what we have seen (a
         * restore): start again from the horizon next time */
        PQclear(r);
        *cursor = 0;
        return n == 0 ? AF_ESTORE_CORRUPT : APR_SUCCESS;
    }
    for (i = 0; i < n; i++) {
        if (af_pg_is_null(r, i, 1)) {
            continue; /* the LEFT JOIN's row when nothing is new */
        }
        last = (apr_uint64_t) af_pg_get_int(r, i, 1);
        if (fn(baton, af_pg_get_str(r, i, 2, p), af_pg_get_int(r, i, 3)) != 0) {
            break;
        }
    }
    /* past what was returned; with everything returned, up to the head (seq values handed
     * out under the head's row lock: nothing below it can still commit) */
    if (i < n || n >= REVOCATIONS_MAX) {
        *cursor = last > from ? last : from;
    } else {
        *cursor = head > from ? head : from;
    }
    PQclear(r);
    return APR_SUCCESS;
}

apr_status_t af_pg_schema_version(int *version, af_store_t *st)
{
    PGresult *r = NULL;
    apr_pool_t *p;
    apr_status_t rv;

    *version = 0;
    if ((p = scratch()) == NULL) {
        return APR_ENOMEM;
    }
    rv = one(&r, st->impl, PGS_SCHEMA_VERSION, NULL, "schema_version", p);
    if (rv == APR_SUCCESS && PQntuples(r) == 1) {
        *version = (int) af_pg_get_int(r, 0, 0);
    }
    PQclear(r);
    apr_pool_destroy(p);
    return rv;
}
