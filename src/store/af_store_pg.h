/* af_store_pg.h -- the PostgreSQL backend of the store (af_store.h): one store shared by
 * several Apache hosts behind a load balancer (ARCHITECTURE.md "Several hosts").
 *
 * Where: a libpq connection URI, postgresql://... or postgres://...; every libpq parameter
 * works (several hosts "h1,h2", target_session_attrs, sslmode, passfile...): failover comes
 * from libpq.  The URI may hold a password: it is never logged (af_store_pg_redact).
 *
 * Tables (schema version AF_STORE_PG_SCHEMA, table af_schema_version; created when missing by
 * af_store_prepare and af_store_migrate, serialised by an advisory lock):
 *   af_families   sid -> sub, provider, claims, times, revoked flag, generation, the current
 *                 token hash and the ring of the last AF_STORE_KEEP_ROTATED rotated ones
 *                 (indexes: sub -- "sign this user out everywhere" -- and expires), the
 *                 IdP session id of the login (schema 2; index (provider, idp_sid):
 *                 back-channel logout by sid)
 *   af_tokens     SHA-256(refresh token) -> family, generation, state, rotated_at, expires,
 *                 successor hash and the successor sealed under HKDF(old token) (store_seal.h)
 *   af_flows      SHA-256(flow id) -> expires (single-use login state)
 *   af_counters   (name, shard) -> count: sharded so that rotations do not queue on one row
 *   af_leases     name -> last taken (af_store_lease)
 *   af_revlog     seq -> revoked sid, when, family expiry: the monotonic revocation log of
 *                 af_store_revocations (seq handed out under the af_revlog_head row lock, so
 *                 seq order is commit order)
 *
 * Concurrency: every write to a login locks its af_families row first (SELECT ... FOR
 * UPDATE), then its tokens: rotations of one login serialise, rotations of different logins
 * run in parallel, on any host.  No plaintext token is stored.
 *
 * Connections: a pool per process (opts->pool_size, lazily opened), never used across
 * fork (af_store_open after fork; af_store_prepare closes what it opened).  Errors map to
 * AF_ESTORE_IO (connection lost or refused, timeout, read-only standby), AF_ESTORE_BUSY (no
 * free pooled connection within the timeout, too many connections, lock or serialisation
 * conflicts), AF_ESTORE_FULL (disk full, out of resources), AF_ESTORE_CORRUPT (a record
 * that does not decode); logged as AF03050 at most once per AF_STORE_LOG_INTERVAL per kind.
 */
#ifndef AF_STORE_PG_H
#define AF_STORE_PG_H

#include "store/af_store.h"

#define AF_STORE_PG_SCHEMA       3    /* the schema version this code reads and writes */
#define AF_STORE_PG_POOL_DEFAULT 8    /* connections per process */
#define AF_STORE_PG_TIMEOUT_MS   5000 /* per query, per connection attempt, per pool wait */

/** af_store_open for a URI. @return APR_SUCCESS, APR_EINVAL (malformed URI), APR_ENOMEM */
apr_status_t af_store_pg_open(af_store_t **st, const char *uri, const af_store_opts_t *opts,
                              apr_pool_t *p);

/** af_store_prepare for a URI: connect, create a missing schema, disconnect. */
apr_status_t af_store_pg_prepare(const char *uri, const af_store_opts_t *opts, apr_pool_t *p);

/** af_store_migrate for a URI. */
apr_status_t af_store_pg_migrate(int *version, const char *uri, const af_store_opts_t *opts,
                                 apr_pool_t *p);

/** s with every password removed: "user:secret@" in a URI authority and "password=..." (URI
 *  query or keyword form) become "user:***@" and "password=***". */
const char *af_store_pg_redact(const char *s, apr_pool_t *p);

/** Connections open in this handle's pool now (tests and benchmarks). */
unsigned int af_store_pg_connections(const af_store_t *st);

#endif
