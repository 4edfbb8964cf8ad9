/* pg_schema.c -- the versioned schema of the PostgreSQL backend (af_store_pg.h).
 *
 * af_schema_version holds one row per applied migration.  Migrations run in one transaction
 * under a transaction-scoped advisory lock, so hosts starting at once apply each exactly once
 * (the others wait, then find nothing to do); re-running them is a no-op.  A database whose
 * schema is newer than this code is refused (an older module must not write a newer layout).
 */
#include <stdio.h>
#include <string.h>

#include <apr_strings.h>

#include "store/pg_int.h"

#define PG_MIGRATE_LOCK 0x6166737765ll /* pg_advisory_xact_lock key: "afswe" */

/* migrations[v] takes the schema from v - 1 to v */
static const char *const migrations[AF_STORE_PG_SCHEMA + 1] = {
    NULL,
    /* 1: families, tokens, flows, counters, leases, the revocation log */
    "CREATE TABLE af_families ("
    " sid text PRIMARY KEY, sub text NOT NULL, provider text NOT NULL DEFAULT '',"
    " claims text NOT NULL DEFAULT '', created bigint NOT NULL, last_used bigint NOT NULL,"
    " expires bigint NOT NULL, idle bigint NOT NULL DEFAULT 0,"
    " revoked boolean NOT NULL DEFAULT false, revoked_at bigint NOT NULL DEFAULT 0,"
    " generation integer NOT NULL, rotations integer NOT NULL DEFAULT 0,"
    " cur bytea NOT NULL, ring bytea NOT NULL DEFAULT ''::bytea);"
    "CREATE INDEX af_families_sub ON af_families (sub);"
    "CREATE INDEX af_families_expires ON af_families (expires);"
    "CREATE TABLE af_tokens ("
    " hash bytea PRIMARY KEY, sid text NOT NULL, generation integer NOT NULL,"
    " state smallint NOT NULL, flags smallint NOT NULL DEFAULT 0, created bigint NOT NULL,"
    " rotated_at bigint NOT NULL DEFAULT 0, expires bigint NOT NULL, succ bytea, sealed bytea);"
    "CREATE INDEX af_tokens_expires ON af_tokens (expires);"
    "CREATE TABLE af_flows (hash bytea PRIMARY KEY, expires bigint NOT NULL);"
    "CREATE INDEX af_flows_expires ON af_flows (expires);"
    "CREATE TABLE af_counters (name text NOT NULL, shard integer NOT NULL,"
    " n bigint NOT NULL, PRIMARY KEY (name, shard));"
    "CREATE TABLE af_leases (name text PRIMARY KEY, taken bigint NOT NULL);"
    "CREATE TABLE af_revlog (seq bigint PRIMARY KEY, sid text NOT NULL, at bigint NOT NULL,"
    " expires bigint NOT NULL);"
    "CREATE INDEX af_revlog_at ON af_revlog (at);"
    "CREATE INDEX af_revlog_expires ON af_revlog (expires);"
    "CREATE TABLE af_revlog_head (one integer PRIMARY KEY CHECK (one = 1), seq bigint NOT NULL);"
    "INSERT INTO af_revlog_head VALUES (1, 0);",
    /* 2: the IdP session id of a login, for back-channel logout by sid */
    "ALTER TABLE af_families ADD COLUMN idp_sid text;"
    "CREATE INDEX af_families_idp_sid ON af_families (provider, idp_sid)"
    " WHERE idp_sid IS NOT NULL;",
    /* 3: the password throttle (af_store_throttle): failures per keyed hash and window */
    "CREATE TABLE af_throttle (hash bytea PRIMARY KEY, n bigint NOT NULL,"
    " expires bigint NOT NULL);"
    "CREATE INDEX af_throttle_expires ON af_throttle (expires);",
};

/* One command on a connection of our own; *out (may be NULL) gets an integer result. */
static apr_status_t run_q(pg_t *pg, pg_conn_t *c, const char *sql, apr_int64_t *out, int quiet,
                          apr_pool_t *p)
{
    PGresult *r;
    apr_status_t rv;

    /* a short-lived connection in the parent: blocking libpq calls bounded by the
     * statement_timeout af_pg_connect set */
    r = PQexec(c->conn, sql);
    if (r == NULL ||
        (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)) {
        const char *st = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
        rv = st != NULL && strncmp(st, "53", 2) == 0 ? AF_ESTORE_FULL : AF_ESTORE_IO;
        if (!quiet) {
            af_pg_log_failure(pg, rv, "migrate",
                              r ? PQresultErrorMessage(r) : PQerrorMessage(c->conn), p);
        }
        PQclear(r);
        return rv;
    }
    if (out != NULL) {
        *out = PQntuples(r) > 0 && !PQgetisnull(r, 0, 0) ? apr_atoi64(PQgetvalue(r, 0, 0)) : 0;
    }
    PQclear(r);
    return APR_SUCCESS;
}

static apr_status_t run(pg_t *pg, pg_conn_t *c, const char *sql, apr_int64_t *out, apr_pool_t *p)
{
    return run_q(pg, c, sql, out, 0, p);
}

apr_status_t af_pg_migrate_conn(int *version, PGconn *conn, const char *safe,
                                unsigned int timeout_ms, apr_pool_t *p)
{
    pg_t pg;
    pg_conn_t c;
    apr_int64_t cur = 0, v;
    apr_status_t rv;

    memset(&pg, 0, sizeof(pg));
    pg.safe = safe;
    pg.timeout_ms = timeout_ms;
    memset(&c, 0, sizeof(c));
    c.conn = conn;
    if (version != NULL) {
        *version = 0;
    }
    /* the usual case, needing no DDL privilege: the schema is there and current */
    if (run_q(&pg, &c, "SELECT coalesce(max(version), 0) FROM af_schema_version", &cur, 1, p) ==
            APR_SUCCESS &&
        cur == AF_STORE_PG_SCHEMA) {
        if (version != NULL) {
            *version = (int) cur;
        }
        return APR_SUCCESS;
    }
    if ((rv = run(&pg, &c, "BEGIN", NULL, p)) != APR_SUCCESS) {
        return rv;
    }
    if ((rv = run(&pg, &c,
                  apr_psprintf(p, "SELECT pg_advisory_xact_lock(%" APR_INT64_T_FMT ")",
                               (apr_int64_t) PG_MIGRATE_LOCK),
                  NULL, p)) != APR_SUCCESS ||
        (rv = run(&pg, &c,
                  "CREATE TABLE IF NOT EXISTS af_schema_version (version integer PRIMARY KEY,"
                  " applied bigint NOT NULL)",
                  NULL, p)) != APR_SUCCESS ||
        (rv = run(&pg, &c, "SELECT coalesce(max(version), 0) FROM af_schema_version", &cur, p)) !=
            APR_SUCCESS) {
        goto leave;
    }
    if (cur > AF_STORE_PG_SCHEMA) {
        af_log_p(p, AF_LOG_ERR, "AF03053",
                 "store (postgresql %s): schema version %d is newer than this module's %d", safe,
                 (int) cur, AF_STORE_PG_SCHEMA);
        rv = AF_ESTORE_CORRUPT;
        goto leave;
    }
    for (v = cur + 1; v <= AF_STORE_PG_SCHEMA; v++) {
        if ((rv = run(&pg, &c, migrations[v], NULL, p)) != APR_SUCCESS ||
            (rv = run(&pg, &c,
                      apr_psprintf(p,
                                   "INSERT INTO af_schema_version VALUES (%" APR_INT64_T_FMT
                                   ", extract(epoch FROM now())::bigint)",
                                   v),
                      NULL, p)) != APR_SUCCESS) {
            goto leave;
        }
    }
    rv = run(&pg, &c, "COMMIT", NULL, p);
    if (rv == APR_SUCCESS && cur < AF_STORE_PG_SCHEMA) {
        af_log_p(p, AF_LOG_NOTICE, "AF03053",
                 "store (postgresql %s): schema migrated from version %d to %d", safe, (int) cur,
                 AF_STORE_PG_SCHEMA);
    }
    if (rv == APR_SUCCESS && version != NULL) {
        *version = AF_STORE_PG_SCHEMA;
    }
    return rv;
leave:
    PQclear(PQexec(conn, "ROLLBACK"));
    return rv;
}
