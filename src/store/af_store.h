/* af_store.h -- the refresh-token store: login families, rotation with reuse detection,
 * revocation, single-use login flows -- the opaque, backend-independent interface.
 *
 * No plaintext refresh token is ever written: lookups use the hash, and the successor
 * kept for the grace window is encrypted under a key only the old token's holder can
 * derive.  All timestamps are 64-bit seconds since the epoch; the clock is injected.
 *
 * Every function runs its transaction(s) entirely inside itself and aborts on any error:
 * nothing is ever half-written.  Store failures are AF_ESTORE_FULL, AF_ESTORE_BUSY,
 * AF_ESTORE_IO, AF_ESTORE_CORRUPT: callers answer 503 and fail closed.  Each is logged by
 * the store (AF03001), at most once per AF_STORE_LOG_INTERVAL per kind and handle, with the
 * number of failures not logged since: callers should not log them again per request.
 *
 * Backends: LMDB (af_store_lmdb.h, one host, the default) -- anything that is not a URI;
 * PostgreSQL (af_store_pg.h, several hosts sharing one store) -- a libpq connection URI
 * (af_store_is_uri).  Both keep the same semantics; the backend vtable is in
 * store_backend.h (for backends only).
 */
#ifndef AF_STORE_H
#define AF_STORE_H

#include <apr_pools.h>
#include <apr_tables.h>

#include "common/af_metrics.h"
#include "store/af_store_errors.h"

#define AF_STORE_SUB_MAX     255   /* bytes; longer subjects are refused */
#define AF_STORE_CLAIMS_MAX  16384 /* bytes of claims snapshot JSON */
#define AF_STORE_IDP_SID_MAX 255   /* bytes of an IdP session id (af_store_login_in_t.idp_sid) */

/* af_store_open flags (af_store_opts_t.flags) */
#define AF_STORE_RDONLY 0x01 /* operator tools that only read */
/* LMDB: one sync per commit instead of two (MDB_NOMETASYNC); see af_store_lmdb.h */
#define AF_STORE_NOMETASYNC 0x02
/* LMDB: adopt a map grown by another process; single-threaded tools only (af_store_lmdb.h) */
#define AF_STORE_ADOPT_MAPSIZE 0x04

/* Repeated store failures: one log line per kind per this many seconds. */
#define AF_STORE_LOG_INTERVAL 60

typedef struct af_store_t af_store_t;

/** One login (token family). Strings are pool copies. */
typedef struct af_store_family_t {
    const char *sid; /* family id: 128 random bits, base64url (22 chars) */
    const char *sub;
    const char *provider;
    const char *claims_json; /* snapshot at login; may be "" */
    apr_int64_t created;     /* login time */
    apr_int64_t last_used;   /* last successful rotation (or login) */
    apr_int64_t expires;     /* absolute expiry: created + RefreshTTL, never extended */
    apr_int64_t idle;        /* idle timeout in seconds at login (0: none) */
    apr_int64_t revoked_at;  /* 0 unless revoked */
    int revoked;
    apr_uint32_t generation; /* generation of the current (active) refresh token */
    apr_uint32_t rotations;
} af_store_family_t;

/** The outcome of a successful rotation. */
typedef struct af_store_rotation_t {
    const char *refresh_token; /* the successor: put it in the cookie */
    af_store_family_t *family; /* family after the rotation */
    apr_uint32_t generation;   /* of the successor */
    int replayed;              /* 1: grace path, the same successor as before */
} af_store_rotation_t;

/** Counters kept in the meta db, plus a count of active families. */
typedef struct af_store_stats_t {
    apr_uint64_t logins;
    apr_uint64_t rotations;
    apr_uint64_t reuse_detections;
    apr_uint64_t revocations;
    apr_uint64_t swept;
    apr_uint64_t active_families; /* not revoked, not expired (absolute or idle) at now */
    apr_uint64_t families;        /* records, including revoked/expired tombstones */
    apr_uint64_t tokens;          /* token records (active + rotated tombstones) */
    apr_uint64_t flows;
    apr_uint64_t map_size; /* bytes */
    apr_uint64_t map_used; /* bytes in use (last page number * page size) */
    apr_uint64_t map_free; /* of those, bytes on LMDB's free list (reused before growing) */
    unsigned int max_readers;
    unsigned int readers_used;
} af_store_stats_t;

/** Callback of af_store_list; return non-zero to stop. */
typedef int af_store_list_fn(void *baton, const af_store_family_t *fam);

/** One new login (af_store_family_create). */
typedef struct af_store_login_in_t {
    const char *sub;         /* our (namespaced) subject, 1..AF_STORE_SUB_MAX bytes */
    const char *provider;    /* the provider name, or NULL */
    const char *claims_json; /* the claims snapshot, or NULL */
    const char *idp_sid;     /* the IdP's session id (the id_token's sid), or NULL: indexed by
                                (provider, idp_sid) for back-channel logout; one that is empty,
                                longer than AF_STORE_IDP_SID_MAX or without a provider is not
                                recorded (the login is made all the same) */
    apr_int64_t now;
    apr_int64_t ttl;  /* absolute lifetime (RefreshTTL) */
    apr_int64_t idle; /* idle timeout (0: none) */
} af_store_login_in_t;

/** One rotation request (af_store_rotate). */
typedef struct af_store_rotate_in_t {
    const char *rt; /* the presented refresh token */
    apr_size_t rt_len;
    apr_int64_t now;
    apr_int64_t grace; /* AuthFlowReuseGrace */
    apr_int64_t idle;  /* 0: the idle timeout stored at login */
    int pending;       /* 1: the answer carrying the successor reaches the browser later (the
                          gate's inline refresh rides on the backend's response): until
                          af_store_delivered, the immediate predecessor keeps getting the same
                          successor, whatever the time (a response that has not reached the
                          browser is never held against it) */
} af_store_rotate_in_t;

/** How to open a store (af_store_open); zero-initialise, set what applies. */
typedef struct af_store_opts_t {
    int flags;               /* AF_STORE_* */
    apr_size_t mapsize;      /* LMDB: bytes (0: an existing environment's, else the default) */
    unsigned int maxreaders; /* LMDB: reader slots (0: 126) */
    unsigned int pool_size;  /* PostgreSQL: connections per process at most, opened lazily (never
                                more than threads using the store at once; 0: 8) */
    unsigned int timeout_ms; /* PostgreSQL: bound of one query (statement_timeout, and the
                                client's own wait), of one connection attempt per host
                                (connect_timeout, whole seconds, at least 2); a thread waits at
                                most half of it for a free pooled connection (then
                                AF_ESTORE_BUSY); 0: 5000 */
} af_store_opts_t;

/** Callback of af_store_revocations: one revoked login; return non-zero to stop. */
typedef int af_store_sid_fn(void *baton, const char *sid, apr_int64_t revoked_at);

/* ---- lifecycle ---------------------------------------------------------------------------- */

/** Does where name a shared store (a libpq URI: "postgresql://" or "postgres://")?
 *  Anything else is an LMDB directory. */
int af_store_is_uri(const char *where);

/** where as it may be logged or shown: a URI's password removed. */
const char *af_store_shown(const char *where, apr_pool_t *p);

/**
 * Create or upgrade the schema of a shared store (idempotent; hosts starting at once are
 * serialised by an advisory lock).  LMDB: nothing to do, APR_SUCCESS with *version 0.
 * @param version the schema version afterwards (may be NULL)
 * @return APR_SUCCESS, APR_EINVAL (a malformed URI), AF_ESTORE_*
 */
apr_status_t af_store_migrate(int *version, const char *where, const af_store_opts_t *opts,
                              apr_pool_t *p);

/**
 * Once, in the parent before fork: create the store where it does not exist yet, owned by
 * uid/gid (-1: leave as is).  LMDB: the directory (0700) and the environment (0600).
 * PostgreSQL: connect once, create a missing schema (af_store_migrate), close what it
 * opened (connections never cross fork).
 * @return APR_SUCCESS, errno codes, APR_EINVAL (a malformed URI), AF_ESTORE_*
 */
apr_status_t af_store_prepare(const char *where, long uid, long gid, const af_store_opts_t *opts,
                              apr_pool_t *p);

/**
 * Open the store named by where in this process (after fork: child_init).  Closed by a
 * cleanup on p, or by af_store_close.  @return APR_SUCCESS, errno codes, AF_ESTORE_*
 */
apr_status_t af_store_open(af_store_t **st, const char *where, const af_store_opts_t *opts,
                           apr_pool_t *p);

/** Close now (idempotent); the pool cleanup then does nothing. */
void af_store_close(af_store_t *st);

/** The backend: "lmdb" or "postgresql". */
const char *af_store_backend(const af_store_t *st);

/**
 * How full the store is, for the periodic warning: bytes available and in use (LMDB: the
 * map; see af_store_lmdb_map_use).  @return APR_SUCCESS, APR_ENOTIMPL, AF_ESTORE_*
 */
apr_status_t af_store_usage(apr_uint64_t *size, apr_uint64_t *used, af_store_t *st);

/** Count this handle's failed operations (AF_ESTORE_FULL, _BUSY, _IO, _CORRUPT) by reason
 *  in m (AF_MR_STORE_ERROR); NULL: not counted.  Set once, before the handle is shared. */
void af_store_set_metrics(af_store_t *st, af_metrics_t *m);

/* ---- operations ------------------------------------------------------------------------------ */

/**
 * A new login: a fresh family id and first refresh token, absolute expiry now + ttl.
 * @param rt the first refresh token (plaintext, for the cookie; only its hash is stored)
 * @return APR_SUCCESS, APR_EINVAL (sub empty or > AF_STORE_SUB_MAX, ttl <= 0),
 *         AF_ETOOBIG (claims), AF_ESTORE_FULL/BUSY/IO
 */
apr_status_t af_store_family_create(af_store_family_t **fam, const char **rt, af_store_t *st,
                                    const af_store_login_in_t *in, apr_pool_t *p);

/**
 * Rotate a presented refresh token, in ONE write transaction:
 *   unknown (or malformed)                         -> AF_ESTORE_UNKNOWN
 *   family revoked / absolute- / idle-expired      -> AF_ESTORE_EXPIRED
 *   active      -> marked rotated (rotated_at = now) with a successor (generation + 1),
 *                  the successor sealed under HKDF(old token); family last_used = now
 *   rotated, the immediate predecessor of the family's active token, and either pending
 *   (in->pending of the rotation that made it: its answer has not reached the browser) or
 *   now - rotated_at <= grace -> the SAME successor again (out->replayed = 1); when this
 *   request is not pending itself, a pending one counts as delivered now (the grace starts)
 *   rotated otherwise -> the whole family is revoked, AF_ESTORE_REUSE
 * Rotation never extends the family's absolute expiry.
 * Thread-safe: concurrent calls from threads of one process may be committed together
 * (LMDB: group commit, each request decided in arrival order inside one transaction).
 * @return the above, or AF_ESTORE_FULL/BUSY/IO/CORRUPT (the old token is then untouched)
 */
apr_status_t af_store_rotate(af_store_rotation_t **out, af_store_t *st,
                             const af_store_rotate_in_t *in, apr_pool_t *p);

/**
 * The answer that carried the successor of rt (rotated with pending 1) reached the
 * browser: from now on the grace window (then reuse detection) applies to rt.  A no-op
 * when rt is unknown or not pending.  @return APR_SUCCESS, AF_ESTORE_*
 */
apr_status_t af_store_delivered(af_store_t *st, const char *rt, apr_size_t rt_len, apr_int64_t now);

/**
 * The login (family id) a refresh token belongs to, whatever its state -- a read-only
 * lookup (logout and a new login revoke the login behind the browser's cookie; nothing
 * rotates).  @return APR_SUCCESS, AF_ESTORE_UNKNOWN, AF_ESTORE_*
 */
apr_status_t af_store_token_family(const char **sid, af_store_t *st, const char *rt,
                                   apr_size_t rt_len, apr_pool_t *p);

/** Revoke one family (idempotent); p: the caller's scratch pool (a request's).
 *  @return APR_SUCCESS, AF_ENOTFOUND, AF_ESTORE_* */
apr_status_t af_store_family_revoke(af_store_t *st, const char *sid, apr_int64_t now,
                                    apr_pool_t *p);

/** Revoke every family of a subject. count: families newly revoked (may be NULL).
 *  @return APR_SUCCESS (also when none), AF_ESTORE_* */
apr_status_t af_store_revoke_sub(int *count, af_store_t *st, const char *sub, apr_int64_t now,
                                 apr_pool_t *p);

/**
 * Revoke the logins of one IdP session (OpenID Connect Back-Channel Logout by sid): every
 * family created with this (provider, idp_sid) -- and, when sub is not NULL, only those of
 * that (namespaced) subject.  The index entries live as long as their families.
 * @param count families newly revoked (may be NULL)
 * @return APR_SUCCESS (also when none), APR_EINVAL (provider or idp_sid empty or too long),
 *         AF_ESTORE_*
 */
apr_status_t af_store_revoke_idp_sid(int *count, af_store_t *st, const char *provider,
                                     const char *idp_sid, const char *sub, apr_int64_t now,
                                     apr_pool_t *p);

/**
 * The gate's per-request check (one read transaction, no allocation).
 * @return APR_SUCCESS (family known and not revoked), AF_ESTORE_REVOKED, AF_ESTORE_UNKNOWN
 *         (no such family: purged or never existed; treat as revoked), AF_ESTORE_*
 */
apr_status_t af_store_family_is_revoked(af_store_t *st, const char *sid);

/** @return APR_SUCCESS, AF_ENOTFOUND, AF_ESTORE_* */
apr_status_t af_store_family_get(af_store_family_t **fam, af_store_t *st, const char *sid,
                                 apr_pool_t *p);

/** Every family (sub NULL) or the families of one subject, in key order. */
apr_status_t af_store_list(af_store_t *st, const char *sub, af_store_list_fn *fn, void *baton,
                           apr_pool_t *p);

/**
 * Purge records whose expiry is <= now: families and their tokens at the family's
 * absolute expiry (the rotated tokens a login keeps stay as tombstones until then, for
 * reuse detection), flows at their expiry.  Runs in bounded transactions (1000 records).
 */
apr_status_t af_store_sweep(apr_uint64_t *purged, af_store_t *st, apr_int64_t now);

apr_status_t af_store_stats(af_store_stats_t *out, af_store_t *st, apr_int64_t now);

/**
 * Consume a single-use login flow id (the callback's replay guard, shared by all
 * processes).  Only SHA-256(id) is stored, until expires.  The same transaction purges
 * up to AF_STORE_FLOW_PURGE records expired at now (oldest first), so that flows cannot
 * pile up between sweeps.
 * @return APR_SUCCESS the first time, AF_ESTORE_REPLAY afterwards, AF_ESTORE_*
 */
apr_status_t af_store_flow_consume(af_store_t *st, const char *id, apr_size_t id_len,
                                   apr_int64_t now, apr_int64_t expires);

/**
 * Give a consumed id back: delete its record (one write transaction), so that the next
 * af_store_flow_consume of the same id succeeds.  Only for a caller whose work after the
 * consume failed without any effect -- a back-channel logout whose revocation failed, so that
 * the IdP's retry of the same logout token is not refused as a replay.  A no-op when the id
 * is not recorded (never consumed, released already, or purged).
 * @return APR_SUCCESS, APR_EINVAL (id empty or > 1024 bytes), AF_ESTORE_*
 */
apr_status_t af_store_flow_release(af_store_t *st, const char *id, apr_size_t id_len);

/**
 * A lease shared by every process of the store: got = 1 (and the lease is now) when it
 * was last taken more than interval seconds before now, or never, or in the future (a
 * clock set back); got = 0 otherwise.  Taken in a write transaction, so of processes
 * asking at once exactly one gets it.  For "one sweep per interval, whoever runs it".
 * @return APR_SUCCESS, APR_EINVAL (name empty or > 64 bytes), AF_ESTORE_*
 */
apr_status_t af_store_lease(int *got, af_store_t *st, const char *name, apr_int64_t now,
                            apr_int64_t interval);

/**
 * A failure counter shared by every process of the store (and every host of a shared one):
 * the password throttle.  key is the caller's (already keyed-hashed: never a raw username);
 * only SHA-256(key) is stored.  A fixed window of `window` seconds opens at a key's first
 * failure; add > 0 counts add failures in it (a window that ended, or lies in the future --
 * a clock set back -- starts again at now), add 0 only reads.  Records are purged when their
 * window ends (af_store_sweep; PostgreSQL also a few with every count).
 * @param count failures in the current window (0: none)
 * @param reset when the current window ends (0: no window open)
 * @return APR_SUCCESS, APR_EINVAL (empty key or > 1024 bytes, window < 1), AF_ESTORE_*
 */
apr_status_t af_store_throttle(apr_int64_t *count, apr_int64_t *reset, af_store_t *st,
                               const char *key, apr_size_t key_len, apr_int64_t now,
                               apr_int64_t window, int add);

/**
 * Revocations recorded after *cursor, oldest first, for a per-process view (af_revview.h):
 * with *cursor 0, those of the last horizon seconds before now; fn is called once per revoked
 * login, and *cursor is set past what was returned (it only grows; a store reset to an older
 * state starts it again from 0 on the next call).  Each call returns at most 10000.
 * @return APR_SUCCESS, APR_ENOTIMPL (LMDB: af_store_family_is_revoked is a local read),
 *         AF_ESTORE_* (*cursor unchanged)
 */
apr_status_t af_store_revocations(apr_uint64_t *cursor, af_store_t *st, apr_int64_t now,
                                  apr_int64_t horizon, af_store_sid_fn *fn, void *baton,
                                  apr_pool_t *p);

/** The schema version of a shared store (authflowctl check).
 *  @return APR_SUCCESS, APR_ENOTIMPL (LMDB), AF_ESTORE_* */
apr_status_t af_store_schema_version(int *version, af_store_t *st);

/** Is the family active at now (not revoked, not expired absolutely or by idle)? */
int af_store_family_active(const af_store_family_t *fam, apr_int64_t now);

/** Is (provider, idp_sid) one the store records (af_store_login_in_t.idp_sid)? */
int af_store_idp_sid_ok(const char *provider, const char *idp_sid);

#endif
