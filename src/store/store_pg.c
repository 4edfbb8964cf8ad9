/* store_pg.c -- the PostgreSQL backend (af_store_pg.h): running a statement within a
 * deadline, error mapping and logging, record decoding, lifecycle.  The connection pool
 * lives in pg_pool.c, rotation in pg_rotate.c, the other operations in pg_admin.c, the SQL in
 * pg_sql.c, the schema in pg_schema.c. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <apr_strings.h>

#include "store/pg_int.h"

/* ---- redaction ------------------------------------------------------------------------ */

const char *af_store_pg_redact(const char *s, apr_pool_t *p)
{
    char *out, *o;
    const char *i, *auth, *end, *at, *colon;

    if (s == NULL) {
        return "";
    }
    out = apr_palloc(p, strlen(s) * 2 + 16);
    o = out;
    i = s;
    /* a URI authority: scheme://user:secret@host... -> scheme://user:***@host... */
    auth = strstr(s, "://");
    if (auth != NULL) {
        auth += 3;
        end = auth + strcspn(auth, "/?# ");
        at = NULL;
        for (const char *q = auth; q < end; q++) {
            if (*q == '@') {
                at = q; /* the last '@' of the authority ends the userinfo */
            }
        }
        colon = at ? memchr(auth, ':', (apr_size_t) (at - auth)) : NULL;
        if (colon != NULL) {
            memcpy(o, s, (apr_size_t) (colon + 1 - s));
            o += colon + 1 - s;
            memcpy(o, "***", 3);
            o += 3;
            i = at;
        }
    }
    /* password=... in a URI query or in keyword form (quoted or not) */
    while (*i != '\0') {
        if (strncasecmp(i, "password", 8) == 0) {
            const char *v = i + 8;
            while (*v == ' ') {
                v++;
            }
            if (*v == '=') {
                v++;
                while (*v == ' ') {
                    v++;
                }
                memcpy(o, "password=***", 12);
                o += 12;
                if (*v == '\'') {
                    for (v++; *v != '\0' && *v != '\''; v++) {
                        if (*v == '\\' && v[1] != '\0') {
                            v++;
                        }
                    }
                    if (*v == '\'') {
                        v++;
                    }
                } else {
                    v += strcspn(v, "& \t\r\n");
                }
                i = v;
                continue;
            }
        }
        *o++ = *i++;
    }
    *o = '\0';
    return out;
}

/* ---- logging ------------------------------------------------------------------------- */

static int kind_of(apr_status_t rv)
{
    switch (rv) {
    case AF_ESTORE_FULL:
        return PG_ERR_FULL;
    case AF_ESTORE_BUSY:
        return PG_ERR_BUSY;
    case AF_ESTORE_CORRUPT:
        return PG_ERR_CORRUPT;
    default:
        return PG_ERR_IO;
    }
}

void af_pg_log_failure(pg_t *pg, apr_status_t rv, const char *op, const char *detail, apr_pool_t *p)
{
    apr_uint64_t more = 0;
    char msg[512];
    apr_size_t n;

    if (!af_log_wanted(AF_LOG_ERR) ||
        !af_log_throttle(&pg->throttle[kind_of(rv)], apr_time_now(),
                         apr_time_from_sec(AF_STORE_LOG_INTERVAL), &more)) {
        return;
    }
    /* libpq's messages end in newlines and may span lines: one line, no password */
    snprintf(msg, sizeof(msg), "%s", detail ? detail : "");
    for (n = 0; msg[n] != '\0'; n++) {
        if (msg[n] == '\n' || msg[n] == '\r' || msg[n] == '\t') {
            msg[n] = ' ';
        }
    }
    while (n > 0 && msg[n - 1] == ' ') {
        msg[--n] = '\0';
    }
    if (more > 0) {
        af_log_p(p, AF_LOG_ERR, "AF03050",
                 "store (postgresql %s): %s failed: %s (%s); %" APR_UINT64_T_FMT
                 " more store failure(s) of this kind in the last %ds not logged",
                 pg->safe, op, af_store_pg_redact(msg, p), af_strerror(rv), more,
                 AF_STORE_LOG_INTERVAL);
    } else {
        af_log_p(p, AF_LOG_ERR, "AF03050", "store (postgresql %s): %s failed: %s (%s)", pg->safe,
                 op, af_store_pg_redact(msg, p), af_strerror(rv));
    }
}

/* ---- running a statement within a deadline ------------------------------------------ */

static apr_int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (apr_int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until a result can be read without blocking.  0: the deadline passed; -1: lost. */
static int wait_ready(PGconn *conn, apr_int64_t deadline)
{
    struct pollfd pfd;
    apr_int64_t left;
    int rc;

    for (;;) {
        if (!PQconsumeInput(conn)) {
            return -1;
        }
        if (!PQisBusy(conn)) {
            return 1;
        }
        left = deadline - mono_ms();
        if (left <= 0) {
            return 0;
        }
        pfd.fd = PQsocket(conn);
        pfd.events = POLLIN;
        pfd.revents = 0;
        if (pfd.fd < 0) {
            return -1;
        }
        rc = poll(&pfd, 1, (int) (left > 60000 ? 60000 : left));
        if (rc < 0 && errno != EINTR) {
            return -1;
        }
    }
}

/* Collect the results of what was sent: the first one is kept.  NULL: lost or timed out
 * (*timeout set), the connection is then unusable. */
static PGresult *collect(PGconn *conn, unsigned int timeout_ms, int *timeout)
{
    apr_int64_t deadline = mono_ms() + timeout_ms + PG_MARGIN_MS;
    PGresult *first = NULL, *r;
    int w;

    *timeout = 0;
    for (;;) {
        w = wait_ready(conn, deadline);
        if (w <= 0) {
            *timeout = w == 0;
            PQclear(first);
            return NULL;
        }
        r = PQgetResult(conn);
        if (r == NULL) {
            break;
        }
        if (first == NULL) {
            first = r;
        } else {
            PQclear(r);
        }
    }
    if (first == NULL && PQstatus(conn) == CONNECTION_BAD) {
        return NULL;
    }
    return first;
}

/* SQLSTATE -> store code.  *broken: the connection should not be used again. */
static apr_status_t map_state(const char *st, int *broken)
{
    *broken = 0;
    if (st == NULL || strlen(st) != 5) {
        *broken = 1;
        return AF_ESTORE_IO;
    }
    if (strcmp(st, "53300") == 0 || strcmp(st, "40001") == 0 || strcmp(st, "40P01") == 0 ||
        strcmp(st, "55P03") == 0 || strcmp(st, "55006") == 0) {
        return AF_ESTORE_BUSY; /* too many connections, serialisation, deadlock, lock */
    }
    if (strncmp(st, "53", 2) == 0) {
        return AF_ESTORE_FULL; /* disk full, out of memory, insufficient resources */
    }
    if (strncmp(st, "08", 2) == 0 || strncmp(st, "57P", 3) == 0 || strcmp(st, "25006") == 0 ||
        strncmp(st, "XX", 2) == 0) {
        *broken = 1; /* connection, shutdown, a read-only standby after failover, internal */
        return AF_ESTORE_IO;
    }
    if (strncmp(st, "22", 2) == 0) {
        return APR_EINVAL; /* data the database refuses (e.g. not UTF-8) */
    }
    return AF_ESTORE_IO; /* 57014 statement timeout, 42P01 no schema, ... */
}

/* Check a result; on failure map, log and return the error. */
static apr_status_t check_result(pg_t *pg, pg_conn_t *c, PGresult *r, int timeout, const char *op,
                                 apr_pool_t *p)
{
    ExecStatusType es;
    apr_status_t rv;
    int broken = 0;

    if (r == NULL) {
        c->broken = 1;
        af_pg_log_failure(pg, AF_ESTORE_IO, op,
                          timeout ? "no answer within the timeout" : PQerrorMessage(c->conn), p);
        return AF_ESTORE_IO;
    }
    es = PQresultStatus(r);
    if (es == PGRES_COMMAND_OK || es == PGRES_TUPLES_OK) {
        return APR_SUCCESS;
    }
    rv = map_state(PQresultErrorField(r, PG_DIAG_SQLSTATE), &broken);
    if (broken || PQstatus(c->conn) == CONNECTION_BAD) {
        c->broken = 1;
    }
    if (rv != APR_EINVAL) {
        af_pg_log_failure(pg, rv, op, PQresultErrorMessage(r), p);
    } else {
        af_log_p(p, AF_LOG_INFO, "AF03054", "store (postgresql): %s: data refused: %s", op,
                 PQresultErrorField(r, PG_DIAG_SQLSTATE));
    }
    return rv;
}

apr_status_t af_pg_exec(PGresult **res, pg_t *pg, pg_conn_t *c, int stmt, const pg_args_t *a,
                        const char *op, apr_pool_t *p)
{
    const pg_stmt_t *s = &af_pg_stmts[stmt];
    PGresult *r;
    apr_status_t rv;
    int timeout = 0;

    *res = NULL;
    if (!(c->prepared & ((apr_uint64_t) 1 << stmt))) {
        r = PQsendPrepare(c->conn, s->name, s->sql, 0, NULL)
                ? collect(c->conn, pg->timeout_ms, &timeout)
                : NULL;
        rv = check_result(pg, c, r, timeout, op, p);
        PQclear(r);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        c->prepared |= (apr_uint64_t) 1 << stmt;
    }
    r = PQsendQueryPrepared(c->conn, s->name, a ? a->n : 0, a ? a->v : NULL, a ? a->len : NULL,
                            a ? a->fmt : NULL, 1)
            ? collect(c->conn, pg->timeout_ms, &timeout)
            : NULL;
    rv = check_result(pg, c, r, timeout, op, p);
    if (rv != APR_SUCCESS) {
        PQclear(r);
        return rv;
    }
    *res = r;
    return APR_SUCCESS;
}

apr_status_t af_pg_cmd(pg_t *pg, pg_conn_t *c, const char *sql, const char *op, apr_pool_t *p)
{
    PGresult *r;
    apr_status_t rv;
    int timeout = 0;

    r = PQsendQuery(c->conn, sql) ? collect(c->conn, pg->timeout_ms, &timeout) : NULL;
    rv = check_result(pg, c, r, timeout, op, p);
    PQclear(r);
    return rv;
}

void af_pg_rollback(pg_t *pg, pg_conn_t *c, apr_pool_t *p)
{
    PGresult *r;
    int timeout = 0;

    if (c->broken || PQtransactionStatus(c->conn) == PQTRANS_IDLE) {
        return;
    }
    r = PQsendQuery(c->conn, "ROLLBACK") ? collect(c->conn, pg->timeout_ms, &timeout) : NULL;
    if (r == NULL || PQresultStatus(r) != PGRES_COMMAND_OK) {
        c->broken = 1;
    }
    PQclear(r);
}

/* ---- parameters and results ---------------------------------------------------------- */

void af_pg_args_init(pg_args_t *a)
{
    a->n = 0;
}

void af_pg_arg_i64(pg_args_t *a, apr_int64_t v)
{
    snprintf(a->buf[a->n], sizeof(a->buf[a->n]), "%" APR_INT64_T_FMT, v);
    a->v[a->n] = a->buf[a->n];
    a->len[a->n] = 0;
    a->fmt[a->n] = 0;
    a->n++;
}

void af_pg_arg_bin(pg_args_t *a, const void *b, apr_size_t len)
{
    a->v[a->n] = b;
    a->len[a->n] = (int) len;
    a->fmt[a->n] = 1;
    a->n++;
}

void af_pg_arg_str(pg_args_t *a, const char *s)
{
    a->v[a->n] = s;
    a->len[a->n] = 0;
    a->fmt[a->n] = 0;
    a->n++;
}

int af_pg_is_null(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col);
}

apr_int64_t af_pg_get_int(const PGresult *r, int row, int col)
{
    const unsigned char *b = (const unsigned char *) PQgetvalue(r, row, col);
    int len = PQgetlength(r, row, col), i;
    apr_uint64_t u = 0;

    if (PQgetisnull(r, row, col) || len <= 0 || len > 8) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        u = (u << 8) | b[i];
    }
    if (len < 8 && (b[0] & 0x80)) { /* sign-extend int2 / int4 */
        u |= ~(apr_uint64_t) 0 << (8 * len);
    }
    return (apr_int64_t) u;
}

int af_pg_get_bytes(const PGresult *r, int row, int col, unsigned char *out, apr_size_t cap,
                    apr_size_t *len)
{
    int n = PQgetisnull(r, row, col) ? 0 : PQgetlength(r, row, col);

    *len = 0;
    if (n < 0 || (apr_size_t) n > cap) {
        return -1;
    }
    memcpy(out, PQgetvalue(r, row, col), (apr_size_t) n);
    *len = (apr_size_t) n;
    return 0;
}

const char *af_pg_get_str(const PGresult *r, int row, int col, apr_pool_t *p)
{
    if (PQgetisnull(r, row, col)) {
        return "";
    }
    return apr_pstrmemdup(p, PQgetvalue(r, row, col), (apr_size_t) PQgetlength(r, row, col));
}

apr_status_t af_pg_fam_decode(pg_fam_t *f, const PGresult *r, int row, int col, apr_pool_t *p)
{
    apr_size_t n = 0, ring = 0;

    memset(f, 0, sizeof(*f));
    if (PQnfields(r) < col + PG_FAM_NCOLS) {
        return AF_ESTORE_CORRUPT;
    }
    f->sid = af_pg_get_str(r, row, col, p);
    f->sub = af_pg_get_str(r, row, col + 1, p);
    f->provider = af_pg_get_str(r, row, col + 2, p);
    f->claims = af_pg_get_str(r, row, col + 3, p);
    f->created = af_pg_get_int(r, row, col + 4);
    f->last_used = af_pg_get_int(r, row, col + 5);
    f->expires = af_pg_get_int(r, row, col + 6);
    f->idle = af_pg_get_int(r, row, col + 7);
    f->revoked = af_pg_get_int(r, row, col + 8) != 0;
    f->revoked_at = af_pg_get_int(r, row, col + 9);
    f->generation = (apr_uint32_t) af_pg_get_int(r, row, col + 10);
    f->rotations = (apr_uint32_t) af_pg_get_int(r, row, col + 11);
    if (af_pg_get_bytes(r, row, col + 12, f->cur, sizeof(f->cur), &n) != 0 || n != AF_RT_HASH_LEN ||
        af_pg_get_bytes(r, row, col + 13, &f->ring[0][0], sizeof(f->ring), &ring) != 0 ||
        ring % AF_RT_HASH_LEN != 0 || strlen(f->sid) != PG_SID_LEN) {
        return AF_ESTORE_CORRUPT;
    }
    f->ring_n = (unsigned int) (ring / AF_RT_HASH_LEN);
    return APR_SUCCESS;
}

af_store_family_t *af_pg_fam_export(const pg_fam_t *f, apr_pool_t *p)
{
    af_store_family_t *o = apr_pcalloc(p, sizeof(*o));

    o->sid = apr_pstrdup(p, f->sid);
    o->sub = apr_pstrdup(p, f->sub);
    o->provider = apr_pstrdup(p, f->provider);
    o->claims_json = apr_pstrdup(p, f->claims);
    o->created = f->created;
    o->last_used = f->last_used;
    o->expires = f->expires;
    o->idle = f->idle;
    o->revoked = f->revoked;
    o->revoked_at = f->revoked_at;
    o->generation = f->generation;
    o->rotations = f->rotations;
    return o;
}

apr_status_t af_pg_counter_add(pg_t *pg, pg_conn_t *c, const char *name, apr_int64_t n,
                               apr_pool_t *p)
{
    PGresult *r = NULL;
    pg_args_t a;
    apr_status_t rv;

    af_pg_args_init(&a);
    af_pg_arg_str(&a, name);
    af_pg_arg_i64(&a, c->shard);
    af_pg_arg_i64(&a, n);
    rv = af_pg_exec(&r, pg, c, PGS_COUNTER_ADD, &a, name, p);
    PQclear(r);
    return rv;
}

/* ---- lifecycle ----------------------------------------------------------------------- */

static void pg_close(af_store_t *st)
{
    pg_t *pg = st->impl;
    unsigned int i;

    if (pg == NULL || pg->closed) {
        return;
    }
    pthread_mutex_lock(&pg->mu);
    pg->closed = 1;
    pthread_cond_broadcast(&pg->cv);
    pthread_mutex_unlock(&pg->mu);
    /* in a process that inherited the handle, the sockets are the parent's: leave them */
    if (getpid() == pg->pid) {
        for (i = 0; i < pg->max; i++) {
            if (pg->slots[i].conn != NULL) {
                PQfinish(pg->slots[i].conn);
                pg->slots[i].conn = NULL;
            }
        }
    }
    pg->open = 0;
}

static apr_status_t cleanup_store(void *data)
{
    pg_close(data);
    return APR_SUCCESS;
}

static const af_store_ops_t pg_ops = {"postgresql",
                                      pg_close,
                                      af_pg_family_create,
                                      af_pg_rotate,
                                      af_pg_family_revoke,
                                      af_pg_revoke_sub,
                                      af_pg_revoke_idp_sid,
                                      af_pg_family_is_revoked,
                                      af_pg_family_get,
                                      af_pg_list,
                                      af_pg_sweep,
                                      af_pg_stats,
                                      af_pg_flow_consume,
                                      af_pg_delivered,
                                      af_pg_token_family,
                                      af_pg_lease,
                                      NULL, /* usage: no map to fill */
                                      af_pg_revocations,
                                      af_pg_schema_version,
                                      af_pg_throttle,
                                      af_pg_flow_release};

static apr_status_t check_uri(const char *uri, apr_pool_t *p)
{
    PQconninfoOption *opts;
    char *err = NULL;

    opts = PQconninfoParse(uri, &err);
    if (opts == NULL) {
        af_log_p(p, AF_LOG_ERR, "AF03052", "store: malformed PostgreSQL URI %s: %s",
                 af_store_pg_redact(uri, p), err ? af_store_pg_redact(err, p) : "out of memory");
        PQfreemem(err);
        return APR_EINVAL;
    }
    PQconninfoFree(opts);
    return APR_SUCCESS;
}

apr_status_t af_store_pg_open(af_store_t **out, const char *uri, const af_store_opts_t *opts,
                              apr_pool_t *p)
{
    af_store_t *st;
    pg_t *pg;
    pthread_condattr_t ca;
    apr_status_t rv;
    unsigned int i;

    *out = NULL;
    if ((rv = check_uri(uri, p)) != APR_SUCCESS) {
        return rv;
    }
    st = apr_pcalloc(p, sizeof(*st));
    pg = apr_pcalloc(p, sizeof(*pg));
    pg->uri = apr_pstrdup(p, uri);
    pg->safe = af_store_pg_redact(uri, p);
    pg->max = opts && opts->pool_size ? opts->pool_size : AF_STORE_PG_POOL_DEFAULT;
    pg->timeout_ms = opts && opts->timeout_ms ? opts->timeout_ms : AF_STORE_PG_TIMEOUT_MS;
    pg->rdonly = opts && (opts->flags & AF_STORE_RDONLY);
    pg->pid = getpid();
    pg->slots = apr_pcalloc(p, sizeof(pg_conn_t) * pg->max);
    for (i = 0; i < pg->max; i++) {
        pg->slots[i].shard = (int) (((unsigned long) pg->pid * 8 + i) % 64);
    }
    pthread_mutex_init(&pg->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&pg->cv, &ca);
    pthread_condattr_destroy(&ca);
    st->ops = &pg_ops;
    st->impl = pg;
    st->pool = p;
    apr_pool_cleanup_register(p, st, cleanup_store, apr_pool_cleanup_null);
    *out = st;
    return APR_SUCCESS;
}

apr_status_t af_store_pg_migrate(int *version, const char *uri, const af_store_opts_t *opts,
                                 apr_pool_t *p)
{
    pg_t pg;
    PGconn *conn = NULL;
    apr_status_t rv;

    if ((rv = check_uri(uri, p)) != APR_SUCCESS) {
        return rv;
    }
    memset(&pg, 0, sizeof(pg));
    pg.uri = uri;
    pg.safe = af_store_pg_redact(uri, p);
    pg.timeout_ms = opts && opts->timeout_ms ? opts->timeout_ms : AF_STORE_PG_TIMEOUT_MS;
    rv = af_pg_connect(&conn, &pg, p);
    if (rv == APR_SUCCESS) {
        rv = af_pg_migrate_conn(version, conn, pg.safe, pg.timeout_ms, p);
        PQfinish(conn); /* nothing opened here crosses a fork */
    }
    return rv;
}

apr_status_t af_store_pg_prepare(const char *uri, const af_store_opts_t *opts, apr_pool_t *p)
{
    return af_store_pg_migrate(NULL, uri, opts, p);
}
