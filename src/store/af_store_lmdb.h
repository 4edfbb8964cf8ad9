/* af_store_lmdb.h -- the LMDB backend of the store (af_store.h): one host, embedded,
 * multi-process, crash-safe.  What only this backend has: its record layout, lifecycle
 * details and the knobs tests and tools use.
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
#ifndef AF_STORE_LMDB_H
#define AF_STORE_LMDB_H

#include "store/af_store.h"

/* Rotated tokens kept per login for reuse detection (the immediate predecessor, with
 * its sealed successor for the grace window, and the generations before it). */
#define AF_STORE_KEEP_ROTATED 16
/* Expired records (oldest first, any kind) purged by each af_store_flow_consume. */
#define AF_STORE_FLOW_PURGE 4
/* The map size of a new environment: 4G on 64-bit hosts, 256M on 32-bit ones.  LMDB's map
 * is address space, the file grows with use, so 64-bit hosts get room for large sites. */
#define AF_STORE_DEFAULT_MAPSIZE ((apr_size_t) 1 << (sizeof(void *) >= 8 ? 32 : 28))

/** af_store_prepare for an LMDB directory. */
apr_status_t af_store_lmdb_prepare(const char *dir, long uid, long gid, apr_size_t mapsize,
                                   apr_pool_t *p);

/**
 * Open an LMDB store in this process (child_init): MDB_NOTLS, mdb_reader_check (stale reader
 * slots of killed processes are reclaimed), named dbs created if missing (unless
 * AF_STORE_RDONLY).  Closed by a cleanup on p, or by af_store_close.
 * @param mapsize bytes (0: an existing environment's size, AF_STORE_DEFAULT_MAPSIZE for a
 *        new one); maxreaders 0: 126
 * @param flags AF_STORE_RDONLY, AF_STORE_NOMETASYNC, AF_STORE_ADOPT_MAPSIZE
 * @return APR_SUCCESS, errno codes, AF_ESTORE_*
 */
apr_status_t af_store_lmdb_open(af_store_t **st, const char *dir, apr_size_t mapsize,
                                unsigned int maxreaders, int flags, apr_pool_t *p);

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

#endif
