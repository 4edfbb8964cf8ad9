/* af_store.h -- the refresh-token store: login families, rotation with reuse detection,
 * revocation, single-use login flows.  A small vtable, so that a backend other than
 * LMDB (Redis, for several hosts behind one balancer) can plug in later.
 *
 * The LMDB backend (store_lmdb.c) keeps one environment directory with these named dbs:
 *   tokens     SHA-256(refresh token) -> family id, generation, state (active / rotated /
 *              revoked), rotated_at, expiry, successor hash, successor sealed under
 *              HKDF(old token) (AES-256-GCM)
 *   families   family id (sid) -> sub, provider, created, last_used, absolute expiry,
 *              idle timeout, revoked flag, current token hash, the hashes of the last
 *              AF_STORE_KEEP_ROTATED rotated tokens (record version 2; version 1 records,
 *              without them, are still read), claims snapshot (JSON)
 *   by_sub     (dupsort) sub -> family ids
 *   by_expiry  expiry || kind || key -> empty, for sweeping
 *   flows      SHA-256(flow id) -> expiry: single-use login state across processes
 *   meta       counter name -> 64-bit count (logins, rotations, reuse, ...);
 *              "lease:" name -> 64-bit time (af_store_lease)
 * No plaintext refresh token is ever written: lookups use the hash, and the successor
 * kept for the grace window is encrypted under a key only the old token's holder can
 * derive.  All timestamps are 64-bit seconds since the epoch; the clock is injected.
 *
 * Process rules (lmdb.h): open the store in each process AFTER fork (af_store_open in
 * child_init), never use a handle across fork; the parent runs af_store_prepare once to
 * create the environment with the child's owner.  Every function runs its transaction(s)
 * entirely inside itself and aborts on any error: nothing is ever half-written.
 * LMDB errors map to AF_ESTORE_FULL (MDB_MAP_FULL, ENOSPC), AF_ESTORE_BUSY
 * (MDB_READERS_FULL; MDB_MAP_RESIZED without AF_STORE_ADOPT_MAPSIZE), AF_ESTORE_IO
 * (anything else); callers answer 503 and fail closed.  Each is logged by the store
 * (AF03001), at most once per AF_STORE_LOG_INTERVAL per kind and handle, with the number
 * of failures not logged since: callers should not log them again per request.
 *
 * Growth: a login keeps its live token and the last AF_STORE_KEEP_ROTATED rotated ones
 * (older ones are deleted by the rotation that pushes them out, and are then simply
 * unknown); everything else goes at its expiry, by af_store_sweep (httpd runs it itself,
 * AuthFlowSweepInterval) and, a few at a time, by af_store_flow_consume.
 */
#ifndef AF_STORE_H
#define AF_STORE_H

#include <apr_pools.h>
#include <apr_tables.h>

#include "store/af_store_errors.h"

#define AF_STORE_SUB_MAX    255   /* bytes; longer subjects are refused */
#define AF_STORE_CLAIMS_MAX 16384 /* bytes of claims snapshot JSON */

/* af_store_open flags */
#define AF_STORE_RDONLY 0x01 /* operator tools that only read */
/* One sync per commit instead of two (MDB_NOMETASYNC): an OS crash or power loss may
 * undo the last commits (never corrupt the store; users may have to log in again).
 * Off by default: the default is LMDB's full durability. */
#define AF_STORE_NOMETASYNC 0x02
/* Adopt a map grown by another process (mdb_env_set_mapsize(env, 0)).  Only for
 * single-threaded tools: the remap would pull the map from under read transactions of
 * other threads.  Without it a grown map fails every operation with AF_ESTORE_BUSY
 * (logged once, AF03020) until the process is replaced (httpd: the old generation of
 * children after a graceful restart that raised AuthFlowStoreMapSize). */
#define AF_STORE_ADOPT_MAPSIZE 0x04

/* Rotated tokens kept per login for reuse detection (the immediate predecessor, with
 * its sealed successor for the grace window, and the generations before it). */
#define AF_STORE_KEEP_ROTATED 16
/* Expired records (oldest first, any kind) purged by each af_store_flow_consume. */
#define AF_STORE_FLOW_PURGE 4
/* Repeated store failures: one log line per kind per this many seconds. */
#define AF_STORE_LOG_INTERVAL 60
/* The map size of a new environment: 4G on 64-bit hosts, 256M on 32-bit ones.  LMDB's map
 * is address space, the file grows with use, so 64-bit hosts get room for large sites. */
#define AF_STORE_DEFAULT_MAPSIZE ((apr_size_t) 1 << (sizeof(void *) >= 8 ? 32 : 28))

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

/** Generator of new refresh tokens (tests inject; NULL means af_token_refresh_new). */
typedef apr_status_t af_store_rt_gen_fn(const char **rt, void *baton, apr_pool_t *p);

/** Callback of af_store_list; return non-zero to stop. */
typedef int af_store_list_fn(void *baton, const af_store_family_t *fam);

/** One rotation request (af_store_rotate2). */
typedef struct af_store_rotate_in_t {
    const char *rt; /* the presented refresh token */
    apr_size_t rt_len;
    apr_int64_t now;
    apr_int64_t grace;       /* AuthFlowReuseGrace */
    apr_int64_t idle;        /* 0: the idle timeout stored at login */
    int pending;             /* 1: the answer carrying the successor reaches the browser later (the
                                gate's inline refresh rides on the backend's response): until
                                af_store_delivered, the immediate predecessor keeps getting the same
                                successor, whatever the time (a response that has not reached the
                                browser is never held against it) */
    af_store_rt_gen_fn *gen; /* tests inject; NULL: af_token_refresh_new */
    void *baton;
} af_store_rotate_in_t;

/** Backend operations. Every op returns apr_status_t as documented below. */
typedef struct af_store_ops_t {
    const char *name;
    void (*close)(af_store_t *st);
    apr_status_t (*family_create)(af_store_family_t **fam, const char **rt, af_store_t *st,
                                  const char *sub, const char *provider, const char *claims_json,
                                  apr_int64_t now, apr_int64_t ttl, apr_int64_t idle,
                                  apr_pool_t *p);
    apr_status_t (*rotate)(af_store_rotation_t **out, af_store_t *st,
                           const af_store_rotate_in_t *in, apr_pool_t *p);
    apr_status_t (*family_revoke)(af_store_t *st, const char *sid, apr_int64_t now, apr_pool_t *p);
    apr_status_t (*revoke_sub)(int *count, af_store_t *st, const char *sub, apr_int64_t now,
                               apr_pool_t *p);
    apr_status_t (*family_is_revoked)(af_store_t *st, const char *sid);
    apr_status_t (*family_get)(af_store_family_t **fam, af_store_t *st, const char *sid,
                               apr_pool_t *p);
    apr_status_t (*list)(af_store_t *st, const char *sub, af_store_list_fn *fn, void *baton,
                         apr_pool_t *p);
    apr_status_t (*sweep)(apr_uint64_t *purged, af_store_t *st, apr_int64_t now);
    apr_status_t (*stats)(af_store_stats_t *out, af_store_t *st, apr_int64_t now);
    apr_status_t (*flow_consume)(af_store_t *st, const char *id, apr_size_t id_len, apr_int64_t now,
                                 apr_int64_t expires);
    apr_status_t (*delivered)(af_store_t *st, const char *rt, apr_size_t rt_len, apr_int64_t now);
    apr_status_t (*token_family)(const char **sid, af_store_t *st, const char *rt,
                                 apr_size_t rt_len, apr_pool_t *p);
    apr_status_t (*lease)(int *got, af_store_t *st, const char *name, apr_int64_t now,
                          apr_int64_t interval);
} af_store_ops_t;

struct af_store_t {
    const af_store_ops_t *ops;
    void *impl;
    apr_pool_t *pool; /* the handle's lifetime; never allocated from per operation */
};

/* ---- LMDB backend: lifecycle --------------------------------------------------------- */

/**
 * Parent, before fork: create dir (0700) and the environment (files 0600) with the given
 * owner (uid/gid (apr_uid_t) -1: leave as is), create the named dbs, close again.
 * @return APR_SUCCESS, errno codes, AF_ESTORE_*
 */
apr_status_t af_store_prepare(const char *dir, long uid, long gid, apr_size_t mapsize,
                              apr_pool_t *p);

/**
 * Open the store in this process (child_init): MDB_NOTLS, mdb_reader_check (stale reader
 * slots of killed processes are reclaimed), named dbs created if missing (unless
 * AF_STORE_RDONLY).  Closed by a cleanup on p, or by af_store_close.
 * @param mapsize bytes (0: an existing environment's size, AF_STORE_DEFAULT_MAPSIZE for a
 *        new one); maxreaders 0: 126
 * @param flags AF_STORE_RDONLY, AF_STORE_NOMETASYNC, AF_STORE_ADOPT_MAPSIZE
 * @return APR_SUCCESS, errno codes, AF_ESTORE_*
 */
apr_status_t af_store_open(af_store_t **st, const char *dir, apr_size_t mapsize,
                           unsigned int maxreaders, int flags, apr_pool_t *p);

/** Close now (idempotent); the pool cleanup then does nothing. */
void af_store_close(af_store_t *st);

/** Write transactions run for rotations so far by this handle (group commit: concurrent
 *  threads' rotations share one; for tests and benchmarks). */
unsigned long af_store_rotation_batches(const af_store_t *st);

/** Stale reader slots reclaimed when the store was opened (for tests and logs). */
int af_store_stale_readers(const af_store_t *st);

/**
 * How full the map is: its size, and the bytes in use (pages up to the last one written,
 * less those on LMDB's free list, which are reused before the file grows).  One read
 * transaction walking the free list: for a periodic check, not per request.
 * @return APR_SUCCESS, AF_ESTORE_* (size is set even then)
 */
apr_status_t af_store_map_use(apr_uint64_t *size, apr_uint64_t *used, af_store_t *st);

/* ---- operations (dispatch through st->ops) ------------------------------------------- */

/**
 * A new login: a fresh family id and first refresh token, absolute expiry now + ttl.
 * @param rt the first refresh token (plaintext, for the cookie; only its hash is stored)
 * @return APR_SUCCESS, APR_EINVAL (sub empty or > AF_STORE_SUB_MAX, ttl <= 0),
 *         AF_ETOOBIG (claims), AF_ESTORE_FULL/BUSY/IO
 */
apr_status_t af_store_family_create(af_store_family_t **fam, const char **rt, af_store_t *st,
                                    const char *sub, const char *provider, const char *claims_json,
                                    apr_int64_t now, apr_int64_t ttl, apr_int64_t idle,
                                    apr_pool_t *p);

/**
 * Rotate a presented refresh token, in ONE write transaction:
 *   unknown (or malformed)                         -> AF_ESTORE_UNKNOWN
 *   family revoked / absolute- / idle-expired      -> AF_ESTORE_EXPIRED
 *   active      -> marked rotated (rotated_at = now) with a successor (generation + 1),
 *                  the successor sealed under HKDF(old token); family last_used = now
 *   rotated, now - rotated_at <= grace, and the immediate predecessor of the family's
 *   active token -> the SAME successor again (out->replayed = 1); nothing is written
 *   rotated otherwise -> the whole family is revoked, AF_ESTORE_REUSE
 * Rotation never extends the family's absolute expiry.
 * Thread-safe: concurrent calls from threads of one process are committed together in
 * one write transaction (group commit: one durable commit for the batch, each request
 * decided in arrival order inside it); gen then runs in the committing thread, with the
 * waiting caller's baton and pool.  An LMDB error fails every request of the batch.
 * @param idle idle timeout in seconds (0: the one stored at login)
 * @return the above, or AF_ESTORE_FULL/BUSY/IO/CORRUPT (the old token is then untouched)
 */
apr_status_t af_store_rotate(af_store_rotation_t **out, af_store_t *st, const char *rt,
                             apr_size_t rt_len, apr_int64_t now, apr_int64_t grace,
                             apr_int64_t idle, af_store_rt_gen_fn *gen, void *baton, apr_pool_t *p);

/**
 * The same with every option (af_store_rotate is af_store_rotate2 with pending 0):
 *   rotated and pending (see af_store_rotate_in_t), the immediate predecessor of the
 *   family's active token -> the same successor again, at any time; when this request is
 *   not pending itself (its answer goes out at once), the successor counts as delivered
 *   now (the grace window starts)
 */
apr_status_t af_store_rotate2(af_store_rotation_t **out, af_store_t *st,
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
 * A lease shared by every process of the store: got = 1 (and the lease is now) when it
 * was last taken more than interval seconds before now, or never, or in the future (a
 * clock set back); got = 0 otherwise.  Taken in a write transaction, so of processes
 * asking at once exactly one gets it.  For "one sweep per interval, whoever runs it".
 * @return APR_SUCCESS, APR_EINVAL (name empty or > 64 bytes), AF_ESTORE_*
 */
apr_status_t af_store_lease(int *got, af_store_t *st, const char *name, apr_int64_t now,
                            apr_int64_t interval);

/** Is the family active at now (not revoked, not expired absolutely or by idle)? */
int af_store_family_active(const af_store_family_t *fam, apr_int64_t now);

#endif
