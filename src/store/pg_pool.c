/* pg_pool.c -- the PostgreSQL backend's connection pool (pg_int.h): connecting with the
 * store's URI and timeouts, a bounded pool per process (never more connections than the
 * threads that can use them), health of idle connections, acquire with a deadline, release. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <apr_strings.h>

#include "store/pg_int.h"

/* ---- connections --------------------------------------------------------------------- */

static void no_notices(void *arg, const char *msg)
{
    (void) arg; /* NOTICEs (e.g. "already exists, skipping") are not for the error log */
    (void) msg;
}

apr_status_t af_pg_connect(PGconn **out, pg_t *pg, apr_pool_t *p)
{
    /* before dbname: the URI's own values win (it is expanded in place) */
    const char *keys[] = {"connect_timeout",
                          "application_name",
                          "keepalives",
                          "keepalives_idle",
                          "keepalives_interval",
                          "keepalives_count",
                          "tcp_user_timeout",
                          "dbname",
                          NULL};
    const char *vals[9];
    unsigned int timeout_ms = pg->timeout_ms;
    char ct[16], tut[16], set[160];
    pg_conn_t tmp;
    PGconn *conn;
    apr_status_t rv;

    *out = NULL;
    snprintf(ct, sizeof(ct), "%u", timeout_ms < 2000 ? 2 : (timeout_ms + 999) / 1000);
    snprintf(tut, sizeof(tut), "%u", timeout_ms + PG_MARGIN_MS);
    vals[0] = ct;
    vals[1] = "mod_authflow";
    vals[2] = "1";
    vals[3] = "30";
    vals[4] = "10";
    vals[5] = "3";
    vals[6] = tut;
    vals[7] = pg->uri;
    vals[8] = NULL;
    conn = PQconnectdbParams(keys, vals, 1);
    if (conn == NULL) {
        return APR_ENOMEM;
    }
    if (PQstatus(conn) != CONNECTION_OK) {
        af_pg_log_failure(pg, AF_ESTORE_IO, "connect", PQerrorMessage(conn), p);
        PQfinish(conn);
        return AF_ESTORE_IO;
    }
    PQsetNoticeProcessor(conn, no_notices, NULL);
    /* no worker waits on the database longer than the timeout; a transaction left open by a
     * client that vanished does not hold its row locks for long */
    snprintf(set, sizeof(set),
             "SET statement_timeout = %u; SET idle_in_transaction_session_timeout = %u%s",
             timeout_ms, timeout_ms * 4,
             pg->rdonly ? "; SET default_transaction_read_only = on" : "");
    memset(&tmp, 0, sizeof(tmp));
    tmp.conn = conn;
    rv = af_pg_cmd(pg, &tmp, set, "connect", p);
    if (rv != APR_SUCCESS) {
        PQfinish(conn);
        return rv;
    }
    *out = conn;
    return APR_SUCCESS;
}

/* Is an idle connection still alive?  An idle session is sent nothing (we LISTEN to nothing):
 * anything readable is a server that shut down or terminated it (a FATAL message, then EOF),
 * or a peer that went away.  Checked without waiting. */
static int idle_alive(PGconn *conn)
{
    struct pollfd pfd = {PQsocket(conn), POLLIN, 0};

    if (pfd.fd < 0 || PQstatus(conn) != CONNECTION_OK ||
        PQtransactionStatus(conn) != PQTRANS_IDLE) {
        return 0;
    }
    return poll(&pfd, 1, 0) == 0;
}

static void abs_deadline(struct timespec *ts, unsigned int ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long) (ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

apr_status_t af_pg_acquire(pg_conn_t **out, pg_t *pg, const char *op, apr_pool_t *p)
{
    struct timespec deadline;
    pg_conn_t *c = NULL;
    PGconn *conn = NULL, *dead = NULL;
    apr_status_t rv;
    unsigned int i;

    *out = NULL;
    if (getpid() != pg->pid) { /* a handle inherited across fork: never touch its sockets */
        if (__atomic_exchange_n(&pg->forked_logged, 1, __ATOMIC_ACQ_REL) == 0) {
            af_log_p(p, AF_LOG_ERR, "AF03051",
                     "store (postgresql %s): a handle opened in process %ld used in process "
                     "%ld: open the store after fork",
                     pg->safe, (long) pg->pid, (long) getpid());
        }
        return AF_ESTORE_IO;
    }
    abs_deadline(&deadline, pg->timeout_ms / 2); /* half: the rest is for the query itself */
    pthread_mutex_lock(&pg->mu);
    for (;;) {
        if (pg->closed) {
            pthread_mutex_unlock(&pg->mu);
            return AF_ESTORE_IO;
        }
        for (i = 0; i < pg->max && c == NULL; i++) { /* the lowest idle one: warm, few open */
            if (pg->slots[i].conn != NULL && !pg->slots[i].busy) {
                c = &pg->slots[i];
            }
        }
        for (i = 0; i < pg->max && c == NULL; i++) { /* else connect one more, lazily */
            if (pg->slots[i].conn == NULL && !pg->slots[i].busy) {
                c = &pg->slots[i];
            }
        }
        if (c != NULL) {
            break;
        }
        if (pthread_cond_timedwait(&pg->cv, &pg->mu, &deadline) == ETIMEDOUT) {
            pthread_mutex_unlock(&pg->mu);
            af_pg_log_failure(pg, AF_ESTORE_BUSY, op, "no free pooled connection", p);
            return AF_ESTORE_BUSY;
        }
    }
    c->busy = 1;
    pthread_mutex_unlock(&pg->mu);
    if (c->conn != NULL && !idle_alive(c->conn)) {
        dead = c->conn; /* closed while idle (a server restart): connect again, transparently */
        c->conn = NULL;
        __atomic_sub_fetch(&pg->open, 1, __ATOMIC_ACQ_REL);
        PQfinish(dead);
    }
    if (c->conn == NULL) {
        c->prepared = 0;
        c->broken = 0;
        rv = af_pg_connect(&conn, pg, p);
        if (rv != APR_SUCCESS) {
            pthread_mutex_lock(&pg->mu);
            c->busy = 0;
            pthread_cond_signal(&pg->cv);
            pthread_mutex_unlock(&pg->mu);
            return rv;
        }
        c->conn = conn;
        __atomic_add_fetch(&pg->open, 1, __ATOMIC_ACQ_REL);
    }
    *out = c;
    return APR_SUCCESS;
}

void af_pg_release(pg_t *pg, pg_conn_t *c)
{
    PGconn *dead = NULL;

    if (c == NULL) {
        return;
    }
    if (!c->broken && PQtransactionStatus(c->conn) != PQTRANS_IDLE) {
        c->broken = 1; /* never hand on a connection in the middle of a transaction */
    }
    pthread_mutex_lock(&pg->mu);
    if (c->broken) {
        dead = c->conn;
        c->conn = NULL;
        c->broken = 0;
        c->prepared = 0;
        __atomic_sub_fetch(&pg->open, 1, __ATOMIC_ACQ_REL);
        /* the same event (a restart, a failover) most likely took the idle ones too: they
         * are checked at their next use (idle_alive) */
    }
    c->busy = 0;
    pthread_cond_signal(&pg->cv);
    pthread_mutex_unlock(&pg->mu);
    if (dead != NULL) {
        PQfinish(dead);
    }
}

unsigned int af_store_pg_connections(const af_store_t *st)
{
    pg_t *pg = st->impl;

    return __atomic_load_n(&pg->open, __ATOMIC_ACQUIRE);
}
