/* pg_int.h -- internals shared by the PostgreSQL backend files (not a public header). */
#ifndef AF_PG_INT_H
#define AF_PG_INT_H

#include <pthread.h>
#include <sys/types.h>

#include <libpq-fe.h>

#include "common/af_log.h"
#include "store/af_store_lmdb.h" /* AF_STORE_KEEP_ROTATED, AF_STORE_FLOW_PURGE */
#include "store/af_store_pg.h"
#include "store/store_backend.h"
#include "store/store_seal.h"

#define PG_SID_LEN   22   /* base64url of 16 random bytes */
#define PG_MARGIN_MS 1000 /* the client's own wait: the server's statement_timeout + this */

enum { PG_ACTIVE = 1, PG_ROTATED = 2, PG_REVOKED = 3 };
#define PG_TOK_PENDING 0x01 /* rotated; the successor has not reached the browser yet */

/* kinds of failure logged at most once per AF_STORE_LOG_INTERVAL */
enum { PG_ERR_FULL, PG_ERR_BUSY, PG_ERR_IO, PG_ERR_CORRUPT, PG_ERR_KINDS };

/* the prepared statements (pg_sql.c); prepared on a connection at its first use */
enum {
    PGS_FAMILY_CREATE,
    PGS_LOCK_FAMILY_OF_TOKEN,
    PGS_TOKEN_GET,
    PGS_ROTATE_WRITE,
    PGS_TOKEN_DELIVERED,
    PGS_TOKEN_FAMILY,
    PGS_REVOKE_FAMILY,
    PGS_REVOKE_TOKEN,
    PGS_REVLOG_ADD,
    PGS_COUNTER_ADD,
    PGS_SUB_FAMILIES_LOCK,
    PGS_IDP_SID_FAMILIES_LOCK,
    PGS_IS_REVOKED,
    PGS_FAMILY_GET,
    PGS_LIST_ALL,
    PGS_LIST_SUB,
    PGS_SWEEP_FAMILIES,
    PGS_SWEEP_TOKENS,
    PGS_SWEEP_FLOWS,
    PGS_SWEEP_REVLOG,
    PGS_STATS_COUNTERS,
    PGS_STATS_COUNTS,
    PGS_FLOW_CONSUME,
    PGS_LEASE,
    PGS_REVOCATIONS_SINCE,
    PGS_REVOCATIONS_RECENT,
    PGS_SCHEMA_VERSION,
    PGS_THROTTLE_ADD,
    PGS_THROTTLE_GET,
    PGS_SWEEP_THROTTLE,
    PGS_FLOW_RELEASE,
    PGS_COUNT
};

typedef struct pg_stmt_t {
    const char *name;
    const char *sql;
} pg_stmt_t;
extern const pg_stmt_t af_pg_stmts[PGS_COUNT];

/* the family columns every family query returns, in this order (af_pg_fam_decode) */
#define PG_FAM_COLS                                                                                \
    "f.sid, f.sub, f.provider, f.claims, f.created, f.last_used, f.expires, f.idle, f.revoked, "   \
    "f.revoked_at, f.generation, f.rotations, f.cur, f.ring"
#define PG_FAM_NCOLS 14

typedef struct pg_conn_t {
    PGconn *conn;
    apr_uint64_t prepared; /* bit i: statement i is prepared on this connection */
    int busy;              /* taken by a thread (or being connected) */
    int shard;             /* counter shard of this connection */
    int broken;            /* close at release: lost, timed out, or in an unknown state */
} pg_conn_t;

typedef struct pg_t {
    const char *uri;  /* the connection URI: may hold a password, never logged */
    const char *safe; /* the URI with passwords removed, for messages */
    unsigned int max; /* pool size */
    unsigned int open;
    unsigned int timeout_ms;
    int rdonly;
    pid_t pid; /* the process that opened the handle: connections never cross fork */
    int closed;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pg_conn_t *slots;
    af_log_throttle_t throttle[PG_ERR_KINDS];
    int forked_logged;
} pg_t;

/* A decoded family row (strings in the caller's pool). */
typedef struct pg_fam_t {
    const char *sid, *sub, *provider, *claims;
    apr_int64_t created, last_used, expires, idle, revoked_at;
    int revoked;
    apr_uint32_t generation, rotations;
    unsigned char cur[AF_RT_HASH_LEN];
    unsigned int ring_n;
    unsigned char ring[AF_STORE_KEEP_ROTATED][AF_RT_HASH_LEN];
} pg_fam_t;

/* Query parameters: integers as text, bytes as binary. */
#define PG_MAX_ARGS 16
typedef struct pg_args_t {
    int n;
    const char *v[PG_MAX_ARGS];
    int len[PG_MAX_ARGS];
    int fmt[PG_MAX_ARGS];
    char buf[PG_MAX_ARGS][24];
} pg_args_t;

void af_pg_args_init(pg_args_t *a);
void af_pg_arg_i64(pg_args_t *a, apr_int64_t v);
void af_pg_arg_bin(pg_args_t *a, const void *b, apr_size_t len); /* NULL: SQL NULL */
void af_pg_arg_str(pg_args_t *a, const char *s);                 /* NUL-terminated text */

/** Take a pooled connection (connecting one when none is free and the pool is not full).
 *  @return APR_SUCCESS, AF_ESTORE_BUSY (none free within the timeout), AF_ESTORE_IO */
apr_status_t af_pg_acquire(pg_conn_t **c, pg_t *pg, const char *op, apr_pool_t *p);
/** Give it back; a connection found broken is closed (the next use connects again). */
void af_pg_release(pg_t *pg, pg_conn_t *c);

/**
 * Run prepared statement stmt with a's parameters (NULL: none); binary results.  On success
 * *res holds the result (PQclear it).  On failure the error is mapped, logged (throttled)
 * and returned; a connection in doubt is closed at af_pg_release.
 * @return APR_SUCCESS, AF_ESTORE_*, APR_EINVAL (data the database refused, class 22)
 */
apr_status_t af_pg_exec(PGresult **res, pg_t *pg, pg_conn_t *c, int stmt, const pg_args_t *a,
                        const char *op, apr_pool_t *p);
/** A plain command (BEGIN, COMMIT, ROLLBACK, SET ...), no parameters, results discarded. */
apr_status_t af_pg_cmd(pg_t *pg, pg_conn_t *c, const char *sql, const char *op, apr_pool_t *p);
/** Roll back the open transaction if the connection is still usable (errors ignored). */
void af_pg_rollback(pg_t *pg, pg_conn_t *c, apr_pool_t *p);

/* binary result getters (NULL reads as 0 / empty) */
apr_int64_t af_pg_get_int(const PGresult *r, int row, int col);
int af_pg_get_bytes(const PGresult *r, int row, int col, unsigned char *out, apr_size_t cap,
                    apr_size_t *len); /* -1: longer than cap */
const char *af_pg_get_str(const PGresult *r, int row, int col, apr_pool_t *p);
int af_pg_is_null(const PGresult *r, int row, int col);

/** Decode PG_FAM_COLS starting at column col. @return APR_SUCCESS, AF_ESTORE_CORRUPT */
apr_status_t af_pg_fam_decode(pg_fam_t *f, const PGresult *r, int row, int col, apr_pool_t *p);
af_store_family_t *af_pg_fam_export(const pg_fam_t *f, apr_pool_t *p);

/** Log a store failure rv of op (AF03050), throttled per kind. */
void af_pg_log_failure(pg_t *pg, apr_status_t rv, const char *op, const char *detail,
                       apr_pool_t *p);

/** Add n to counter name in the caller's transaction (shard of the connection). */
apr_status_t af_pg_counter_add(pg_t *pg, pg_conn_t *c, const char *name, apr_int64_t n,
                               apr_pool_t *p);
/** Revoke one family in the caller's transaction: the row, its live token, the log entry.
 *  *changed = 1 when it was not revoked yet. @return APR_SUCCESS, AF_ENOTFOUND, AF_ESTORE_* */
apr_status_t af_pg_revoke_in_txn(pg_t *pg, pg_conn_t *c, const char *sid, apr_int64_t now,
                                 int *changed, apr_pool_t *p);

/** Connect one connection with pg's URI, timeout and flags (failures logged through pg's
 *  throttle); for the pool and for prepare/migrate. */
apr_status_t af_pg_connect(PGconn **conn, pg_t *pg, apr_pool_t *p);
/** Run the migrations on conn. */
apr_status_t af_pg_migrate_conn(int *version, PGconn *conn, const char *safe,
                                unsigned int timeout_ms, apr_pool_t *p);

/* the vtable entries */
apr_status_t af_pg_family_create(af_store_family_t **fam, const char **rt, af_store_t *st,
                                 const af_store_login_in_t *in, apr_pool_t *p);
apr_status_t af_pg_rotate(af_store_rotation_t **out, af_store_t *st, const af_store_rotate_in_t *in,
                          apr_pool_t *p);
apr_status_t af_pg_delivered(af_store_t *st, const char *rt, apr_size_t rt_len, apr_int64_t now);
apr_status_t af_pg_token_family(const char **sid, af_store_t *st, const char *rt, apr_size_t rt_len,
                                apr_pool_t *p);
apr_status_t af_pg_family_revoke(af_store_t *st, const char *sid, apr_int64_t now, apr_pool_t *p);
apr_status_t af_pg_revoke_idp_sid(int *count, af_store_t *st, const char *provider,
                                  const char *idp_sid, const char *sub, apr_int64_t now,
                                  apr_pool_t *p);
apr_status_t af_pg_revoke_sub(int *count, af_store_t *st, const char *sub, apr_int64_t now,
                              apr_pool_t *p);
apr_status_t af_pg_family_is_revoked(af_store_t *st, const char *sid);
apr_status_t af_pg_family_get(af_store_family_t **fam, af_store_t *st, const char *sid,
                              apr_pool_t *p);
apr_status_t af_pg_list(af_store_t *st, const char *sub, af_store_list_fn *fn, void *baton,
                        apr_pool_t *p);
apr_status_t af_pg_sweep(apr_uint64_t *purged, af_store_t *st, apr_int64_t now);
apr_status_t af_pg_stats(af_store_stats_t *out, af_store_t *st, apr_int64_t now);
apr_status_t af_pg_throttle(apr_int64_t *count, apr_int64_t *reset, af_store_t *st,
                            const unsigned char *hash, apr_int64_t now, apr_int64_t window,
                            int add);
apr_status_t af_pg_flow_consume(af_store_t *st, const char *id, apr_size_t id_len, apr_int64_t now,
                                apr_int64_t expires);
apr_status_t af_pg_flow_release(af_store_t *st, const char *id, apr_size_t id_len);
apr_status_t af_pg_lease(int *got, af_store_t *st, const char *name, apr_int64_t now,
                         apr_int64_t interval);
apr_status_t af_pg_revocations(apr_uint64_t *cursor, af_store_t *st, apr_int64_t now,
                               apr_int64_t horizon, af_store_sid_fn *fn, void *baton,
                               apr_pool_t *p);
apr_status_t af_pg_schema_version(int *version, af_store_t *st);

#endif
