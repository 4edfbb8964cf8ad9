/* test_store_pg.c -- what only the PostgreSQL backend has, against a real PostgreSQL 15 this
 * binary starts for itself (tools/pg-test.sh; it stops and restarts it): schema migrations
 * (twice, and from several processes at once), a database that goes down and comes back (G10:
 * fail fast with store_io_error, nothing half-written, reconnect), a dead first host of a
 * multi-host URI (failover from libpq), a row lock held elsewhere (no worker hangs), the pool
 * (bounded, store_busy), connections never used across fork (H07), passwords never logged. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <libpq-fe.h>

#include "common/af_log.h"
#include "store/af_store.h"
#include "store/af_store_pg.h"
#include "af_teststore.h"
#include "af_testutil.h"
#include "store_testutil.h"

#define T0   1700000000LL
#define TTL  (14 * 86400LL)
#define IDLE (3 * 86400LL)

static char pgdir[64]; /* this binary's own cluster */
static char base[256]; /* its URI */
static apr_pool_t *pool;
static const char *where; /* a fresh schema per test */

static int sh(const char *cmd)
{
    int rc = system(cmd);

    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void cluster_start(void)
{
    char cmd[256];
    FILE *f;

    snprintf(pgdir, sizeof(pgdir), "/tmp/af_pgt_XXXXXX");
    if (mkdtemp(pgdir) == NULL) {
        abort();
    }
    snprintf(cmd, sizeof(cmd), "tools/pg-test.sh start %s", pgdir);
    f = popen(cmd, "r");
    if (f == NULL || fgets(base, sizeof(base), f) == NULL) {
        fprintf(stderr, "test_store_pg: could not start PostgreSQL\n");
        abort();
    }
    pclose(f);
    base[strcspn(base, "\n")] = '\0';
}

static void cluster_stop(void)
{
    sh(apr_psprintf(af_test_pool(), "tools/pg-test.sh stop %s", pgdir));
}

static int cluster_running(void)
{
    struct stat s;

    return stat(apr_psprintf(pool, "%s/data/postmaster.pid", pgdir), &s) == 0;
}

static void setup(void)
{
    pool = af_test_pool();
    setenv("AF_TEST_STORE", base, 1); /* af_teststore.h: fresh schemas in this cluster */
    if (!cluster_running()) {         /* a test that stopped it failed before restarting it (check
                                         skips the teardown of a failed test) */
        sh(apr_psprintf(pool, "tools/pg-test.sh resume %s", pgdir));
    }
}

static void teardown(void)
{
    af_log_set(NULL, NULL, 0);
    if (!cluster_running()) { /* a test that stopped it and failed before restarting it */
        sh(apr_psprintf(pool, "tools/pg-test.sh resume %s", pgdir));
    }
    af_test_store_drop(where);
    where = NULL;
    apr_pool_destroy(pool);
}

static af_store_t *fresh(unsigned int timeout_ms, unsigned int pool_size)
{
    af_store_opts_t o;
    af_store_t *st;

    af_store_close(af_test_store_fresh(&where, "/nonexistent", pool));
    memset(&o, 0, sizeof(o));
    o.timeout_ms = timeout_ms;
    o.pool_size = pool_size;
    ck_assert_int_eq(af_store_open(&st, where, &o, pool), APR_SUCCESS);
    return st;
}

static double now_s(void)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    return (double) tv.tv_sec + tv.tv_usec / 1e6;
}

static const char *counts(void)
{
    return af_test_pg_query(where,
                            "SELECT (SELECT count(*) FROM af_families) || '/' || (SELECT count(*) "
                            "FROM af_tokens) || '/' || (SELECT count(*) FROM af_flows) || '/' || "
                            "(SELECT string_agg(state::text || ':' || generation::text, ',' "
                            "ORDER BY hash) FROM af_tokens)",
                            pool);
}

/* ---- schema ------------------------------------------------------------------------------ */

START_TEST(test_G10_pg_migrate_twice_is_noop)
{
    int v = -1, i, status, ok = 0;
    const char *tables;
    pid_t pids[4];

    af_store_close(af_test_store_fresh(&where, "/nonexistent", pool)); /* migrated once */
    tables = af_test_pg_query(where,
                              "SELECT count(*) FROM pg_tables WHERE schemaname = "
                              "current_schema() AND tablename LIKE 'af\\_%'",
                              pool);
    ck_assert_str_eq(tables, "9"); /* schema 3: af_throttle */
    ck_assert_int_eq(af_store_migrate(&v, where, NULL, pool), APR_SUCCESS);
    ck_assert_int_eq(v, AF_STORE_PG_SCHEMA);
    ck_assert_int_eq(af_store_migrate(&v, where, NULL, pool), APR_SUCCESS);
    ck_assert_str_eq(af_test_pg_query(where, "SELECT count(*) FROM af_schema_version", pool), "3");
    ck_assert_str_eq(af_test_pg_query(where, "SELECT seq FROM af_revlog_head", pool), "0");
    /* LMDB: migrate is a no-op success */
    ck_assert_int_eq(af_store_migrate(&v, "/nonexistent/dir", NULL, pool), APR_SUCCESS);
    ck_assert_int_eq(v, 0);
    /* four hosts starting at once on an empty schema: each migration applied exactly once */
    af_test_store_drop(where);
    where = apr_psprintf(pool, "%s&options=-csearch_path%%3Dt_race_%ld", base, (long) getpid());
    af_test_pg_query(base, apr_psprintf(pool, "CREATE SCHEMA t_race_%ld", (long) getpid()), pool);
    for (i = 0; i < 4; i++) {
        pids[i] = fork();
        ck_assert_int_ge(pids[i], 0);
        if (pids[i] == 0) {
            apr_pool_t *cp;
            apr_pool_create(&cp, NULL);
            _exit(af_store_prepare(where, -1, -1, NULL, cp) == APR_SUCCESS ? 0 : 1);
        }
    }
    for (i = 0; i < 4; i++) {
        ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
        ok += WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    ck_assert_int_eq(ok, 4);
    ck_assert_str_eq(af_test_pg_query(where, "SELECT count(*) FROM af_schema_version", pool), "3");
    ck_assert_str_eq(af_test_pg_query(where, "SELECT count(*) FROM af_revlog_head", pool), "1");
}
END_TEST

/* A store made by schema 1 (no IdP session ids) is upgraded in place: its logins stay, new
 * logins record the IdP sid and back-channel logout by sid finds them. */
START_TEST(test_E20_pg_migrate_from_schema_1)
{
    af_store_t *st = NULL;
    af_store_family_t *old = NULL, *fresh = NULL;
    af_store_login_in_t in;
    const char *rt = NULL;
    int v = -1, count = -1;

    st = af_test_store_fresh(&where, "/nonexistent", pool);
    memset(&in, 0, sizeof(in));
    in.sub = "u@op";
    in.provider = "op";
    in.now = 1700000000;
    in.ttl = 3600;
    ck_assert_int_eq(af_store_family_create(&old, &rt, st, &in, pool), APR_SUCCESS);
    af_store_close(st);
    /* back to schema 1 as version 1 of the module left it */
    af_test_pg_query(where,
                     "DROP INDEX af_families_idp_sid; ALTER TABLE af_families DROP COLUMN idp_sid;"
                     " DROP TABLE af_throttle; DELETE FROM af_schema_version WHERE version >= 2",
                     pool);
    ck_assert_int_eq(af_store_migrate(&v, where, NULL, pool), APR_SUCCESS);
    ck_assert_int_eq(v, 3);
    ck_assert_str_eq(af_test_pg_query(where, "SELECT count(*) FROM af_schema_version", pool), "3");
    ck_assert_int_eq(af_test_store_open(&st, where, pool), APR_SUCCESS);
    ck_assert_int_eq(af_store_family_is_revoked(st, old->sid), APR_SUCCESS);
    in.idp_sid = "S1";
    ck_assert_int_eq(af_store_family_create(&fresh, &rt, st, &in, pool), APR_SUCCESS);
    ck_assert_int_eq(af_store_revoke_idp_sid(&count, st, "op", "S1", NULL, in.now, pool),
                     APR_SUCCESS);
    ck_assert_int_eq(count, 1);
    ck_assert_int_eq(af_store_family_is_revoked(st, fresh->sid), AF_ESTORE_REVOKED);
    ck_assert_int_eq(af_store_family_is_revoked(st, old->sid), APR_SUCCESS);
    af_store_close(st);
}
END_TEST

START_TEST(test_G10_pg_newer_schema_refused)
{
    af_store_close(af_test_store_fresh(&where, "/nonexistent", pool));
    af_test_pg_query(where, "INSERT INTO af_schema_version VALUES (99, 0)", pool);
    af_test_log_capture(AF_LOG_DEBUG);
    ck_assert_int_eq(af_store_prepare(where, -1, -1, NULL, pool), AF_ESTORE_CORRUPT);
    ck_assert(af_test_log_contains("AF03053"));
}
END_TEST

START_TEST(test_G10_pg_malformed_uri)
{
    af_store_t *st;

    ck_assert_int_eq(af_store_is_uri("postgresql://x"), 1);
    ck_assert_int_eq(af_store_is_uri("postgres://x"), 1);
    ck_assert_int_eq(af_store_is_uri("/var/lib/authflow"), 0);
    ck_assert_int_eq(af_store_is_uri("postgresql:/x"), 0);
    ck_assert_int_eq(af_store_open(&st, "postgresql://h/db?nosuchparam=1", NULL, pool), APR_EINVAL);
    ck_assert_int_eq(af_store_prepare("postgresql://[::1/db", -1, -1, NULL, pool), APR_EINVAL);
}
END_TEST

/* ---- the database down and back ----------------------------------------------------------- */

START_TEST(test_G10_pg_database_down_fails_fast_and_recovers)
{
    af_store_t *st = fresh(2000, 4);
    af_store_family_t *fam, *got;
    af_store_rotation_t *r;
    const char *rt, *rt2, *before, *sid = NULL;
    double t;
    int i, n_io = 0, lines = 0;

    ck_assert_int_eq(af_test_family_create(&fam, &rt, st, "alice", "p", NULL, T0, TTL, IDLE, pool),
                     APR_SUCCESS);
    ck_assert_int_eq(af_test_rotate(&r, st, rt, strlen(rt), T0 + 1, 10, 0, pool), APR_SUCCESS);
    rt = r->refresh_token;
    before = counts();
    af_test_log_capture(AF_LOG_DEBUG);
    ck_assert_int_eq(sh(apr_psprintf(pool, "tools/pg-test.sh halt %s", pgdir)), 0);
    /* every kind of operation: store_io_error, within the timeout, never a hang */
    for (i = 0; i < 20; i++) {
        t = now_s();
        n_io += af_test_rotate(&r, st, rt, strlen(rt), T0 + 2, 10, 0, pool) == AF_ESTORE_IO;
        n_io += af_test_family_create(&got, &rt2, st, "bob", "p", NULL, T0, TTL, IDLE, pool) ==
                AF_ESTORE_IO;
        n_io += af_store_family_is_revoked(st, fam->sid) == AF_ESTORE_IO;
        n_io += af_store_family_revoke(st, fam->sid, T0 + 3, pool) == AF_ESTORE_IO;
        n_io += af_store_flow_consume(st, "flow", 4, T0, T0 + 600) == AF_ESTORE_IO;
        n_io += af_store_flow_release(st, "flow", 4) == AF_ESTORE_IO;
        n_io += af_store_token_family(&sid, st, rt, strlen(rt), pool) == AF_ESTORE_IO;
        ck_assert_msg(now_s() - t < 7 * 2.0 + 1, "operations took %.1fs", now_s() - t);
    }
    ck_assert_int_eq(n_io, 140);
    /* logged once per kind and minute, not once per failure */
    for (i = 0; i < af_test_log_count(); i++) {
        lines += strstr(af_test_log_line(i), "AF03050") != NULL;
        ck_assert_msg(strstr(af_test_log_line(i), "store_io_error") != NULL ||
                          strstr(af_test_log_line(i), "AF03050") == NULL,
                      "%s", af_test_log_line(i));
    }
    ck_assert_int_eq(lines, 1);
    /* back: the same handle reconnects; the token presented meanwhile was not consumed */
    ck_assert_int_eq(sh(apr_psprintf(pool, "tools/pg-test.sh resume %s", pgdir)), 0);
    ck_assert_str_eq(counts(), before); /* nothing half-written */
    ck_assert_int_eq(af_store_family_is_revoked(st, fam->sid), APR_SUCCESS);
    ck_assert_int_eq(af_test_rotate(&r, st, rt, strlen(rt), T0 + 4, 10, 0, pool), APR_SUCCESS);
    ck_assert_int_eq(r->replayed, 0);
    ck_assert_uint_eq(r->generation, 3);
}
END_TEST

START_TEST(test_G10_pg_restart_reconnects_idle_pool)
{
    af_store_t *st = fresh(2000, 4);
    af_store_family_t *fam;
    const char *rt;

    ck_assert_int_eq(af_test_family_create(&fam, &rt, st, "alice", "p", NULL, T0, TTL, IDLE, pool),
                     APR_SUCCESS);
    ck_assert_uint_eq(af_store_pg_connections(st), 1);
    /* a restart while the pool is idle: the next use notices and connects again */
    ck_assert_int_eq(sh(apr_psprintf(pool, "tools/pg-test.sh halt %s", pgdir)), 0);
    ck_assert_int_eq(sh(apr_psprintf(pool, "tools/pg-test.sh resume %s", pgdir)), 0);
    ck_assert_int_eq(af_store_family_is_revoked(st, fam->sid), APR_SUCCESS);
    ck_assert_uint_eq(af_store_pg_connections(st), 1);
}
END_TEST

START_TEST(test_G10_pg_dead_first_host_falls_through)
{
    const char *port = strrchr(strchr(base, '@'), ':') + 1, *multi;
    af_store_t *st;
    af_store_family_t *fam;
    const char *rt, *schema;
    int dead;

    af_store_close(af_test_store_fresh(&where, "/nonexistent", pool));
    schema = strstr(where, "options=");
    /* a port nobody listens on (this cluster's port + 1 is free or not ours: check) */
    dead = atoi(port) == 65535 ? 1 : atoi(port) + 1;
    multi = apr_psprintf(pool,
                         "postgresql://authflow@127.0.0.1:%d,127.0.0.1:%d/postgres?"
                         "connect_timeout=2&%s",
                         dead, atoi(port), schema);
    ck_assert_int_eq(af_store_open(&st, multi, NULL, pool), APR_SUCCESS);
    ck_assert_int_eq(af_test_family_create(&fam, &rt, st, "alice", "p", NULL, T0, TTL, IDLE, pool),
                     APR_SUCCESS);
    ck_assert_int_eq(af_store_family_is_revoked(st, fam->sid), APR_SUCCESS);
    /* and only the dead host: store_io_error */
    af_store_close(st);
    ck_assert_int_eq(
        af_store_open(
            &st, apr_psprintf(pool, "postgresql://authflow@127.0.0.1:%d/postgres?%s", dead, schema),
            NULL, pool),
        APR_SUCCESS);
    ck_assert_int_eq(af_store_family_is_revoked(st, fam->sid), AF_ESTORE_IO);
}
END_TEST

/* ---- no worker hangs; the pool -------------------------------------------------------------- */

typedef struct holder_t {
    af_store_t *st;
    const char *rt;
    apr_status_t rv;
    apr_pool_t *p;
} holder_t;

static void *rotate_thread(void *arg)
{
    holder_t *h = arg;
    af_store_rotation_t *r;

    h->rv = af_test_rotate(&r, h->st, h->rt, strlen(h->rt), T0 + 5, 10, 0, h->p);
    return NULL;
}

START_TEST(test_H08_pg_row_lock_elsewhere_times_out_and_pool_busy)
{
    af_store_t *st = fresh(4000, 1);
    af_store_family_t *fam;
    const char *rt;
    PGconn *other;
    PGresult *res;
    pthread_t t;
    holder_t h;
    double t0;

    ck_assert_int_eq(af_test_family_create(&fam, &rt, st, "alice", "p", NULL, T0, TTL, IDLE, pool),
                     APR_SUCCESS);
    /* another host holds the login's row lock and does not let go */
    other = PQconnectdb(where);
    ck_assert_int_eq(PQstatus(other), CONNECTION_OK);
    PQclear(PQexec(other, "BEGIN"));
    res = PQexec(other, apr_psprintf(pool, "SELECT 1 FROM af_families WHERE sid = '%s' FOR UPDATE",
                                     fam->sid));
    ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
    PQclear(res);
    memset(&h, 0, sizeof(h));
    h.st = st;
    h.rt = rt;
    apr_pool_create(&h.p, NULL);
    t0 = now_s();
    ck_assert_int_eq(pthread_create(&t, NULL, rotate_thread, &h), 0);
    usleep(300000);
    /* the pool's only connection waits on the lock: a second caller gets store_busy after
     * half the timeout, it does not queue forever */
    ck_assert_int_eq(af_store_family_is_revoked(st, fam->sid), AF_ESTORE_BUSY);
    ck_assert_msg(now_s() - t0 < 3.5, "busy after %.1fs", now_s() - t0);
    pthread_join(t, NULL);
    /* the rotation gave up at the statement timeout: store_io_error, nothing written */
    ck_assert_int_eq(h.rv, AF_ESTORE_IO);
    ck_assert_msg(now_s() - t0 < 4.0 + 1.5, "rotation waited %.1fs", now_s() - t0);
    PQclear(PQexec(other, "ROLLBACK"));
    PQfinish(other);
    ck_assert_int_eq(af_store_family_is_revoked(st, fam->sid), APR_SUCCESS);
    h.rv = -1;
    rotate_thread(&h);
    ck_assert_int_eq(h.rv, APR_SUCCESS); /* the token was untouched */
    apr_pool_destroy(h.p);
}
END_TEST

typedef struct many_t {
    af_store_t *st;
    int fails;
} many_t;

static void *many_thread(void *arg)
{
    many_t *m = arg;
    af_store_family_t *fam;
    const char *rt;
    apr_pool_t *p;
    int i;

    apr_pool_create(&p, NULL);
    for (i = 0; i < 25; i++) {
        if (af_test_family_create(&fam, &rt, m->st, "u", "p", NULL, T0, TTL, IDLE, p) !=
            APR_SUCCESS) {
            __atomic_add_fetch(&m->fails, 1, __ATOMIC_ACQ_REL);
        }
    }
    apr_pool_destroy(p);
    return NULL;
}

START_TEST(test_H08_pg_pool_bounded_lazy)
{
    af_store_t *st = fresh(5000, 3);
    af_store_stats_t stats;
    pthread_t t[16];
    many_t m = {st, 0};
    int i;

    ck_assert_uint_eq(af_store_pg_connections(st), 0); /* lazily: nothing opened yet */
    for (i = 0; i < 16; i++) {
        ck_assert_int_eq(pthread_create(&t[i], NULL, many_thread, &m), 0);
    }
    for (i = 0; i < 16; i++) {
        pthread_join(t[i], NULL);
    }
    ck_assert_int_eq(m.fails, 0); /* they waited for a free connection */
    ck_assert_uint_le(af_store_pg_connections(st), 3);
    ck_assert_uint_ge(af_store_pg_connections(st), 1);
    ck_assert_int_eq(af_store_stats(&stats, st, T0), APR_SUCCESS);
    ck_assert_uint_eq(stats.logins, 16 * 25);
    ck_assert_uint_eq(stats.families, 16 * 25);
    ck_assert_str_eq(af_test_pg_query(where,
                                      "SELECT count(*) <= 3 FROM pg_stat_activity WHERE "
                                      "application_name = 'mod_authflow'",
                                      pool),
                     "t");
}
END_TEST

/* ---- fork ------------------------------------------------------------------------------------ */

START_TEST(test_H07_pg_handle_never_used_across_fork)
{
    af_store_t *st = fresh(3000, 2);
    af_store_family_t *fam;
    const char *rt;
    int status;
    pid_t pid;

    ck_assert_int_eq(af_test_family_create(&fam, &rt, st, "alice", "p", NULL, T0, TTL, IDLE, pool),
                     APR_SUCCESS);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        /* the inherited handle refuses (its socket is the parent's session); closing it
         * leaves the parent's connection alone */
        int bad = af_store_family_is_revoked(st, fam->sid) != AF_ESTORE_IO;
        af_store_close(st);
        _exit(bad);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* the parent's pooled connection still works: no Terminate was sent on it */
    ck_assert_int_eq(af_store_family_is_revoked(st, fam->sid), APR_SUCCESS);
    ck_assert_uint_eq(af_store_pg_connections(st), 1);
}
END_TEST

/* ---- passwords ------------------------------------------------------------------------------- */

START_TEST(test_G01_pg_password_never_logged)
{
    const char *port = strrchr(strchr(base, '@'), ':') + 1;
    af_store_t *st;
    int i, dead = atoi(port) == 65535 ? 1 : atoi(port) + 1;

    ck_assert_str_eq(af_store_pg_redact("postgresql://u:s3cr3t@h:5/db?sslmode=require", pool),
                     "postgresql://u:***@h:5/db?sslmode=require");
    ck_assert_str_eq(af_store_pg_redact("postgres://u@h/db?password=s3cr3t&x=1", pool),
                     "postgres://u@h/db?password=***&x=1");
    ck_assert_str_eq(af_store_pg_redact("host=h password='s3 cr\\'3t' user=u", pool),
                     "host=h password=*** user=u");
    ck_assert_str_eq(af_store_pg_redact("postgresql://h1,h2/db", pool), "postgresql://h1,h2/db");
    ck_assert_str_eq(af_store_pg_redact("postgresql://u:p%40ss@h/db", pool),
                     "postgresql://u:***@h/db");
    af_test_log_capture(AF_LOG_DEBUG);
    ck_assert_int_eq(
        af_store_open(
            &st, apr_psprintf(pool, "postgresql://authflow:s3cr3t@127.0.0.1:%d/postgres", dead),
            NULL, pool),
        APR_SUCCESS);
    ck_assert_int_eq(af_store_family_is_revoked(st, "AAAAAAAAAAAAAAAAAAAAAA"), AF_ESTORE_IO);
    ck_assert_int_ne(af_store_prepare(apr_psprintf(pool,
                                                   "postgresql://127.0.0.1:%d/postgres?"
                                                   "password=s3cr3t",
                                                   dead),
                                      -1, -1, NULL, pool),
                     APR_SUCCESS);
    ck_assert_int_ge(af_test_log_count(), 1);
    for (i = 0; i < af_test_log_count(); i++) {
        ck_assert_msg(strstr(af_test_log_line(i), "s3cr3t") == NULL, "%s", af_test_log_line(i));
    }
    ck_assert(af_test_log_contains("authflow:***@"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("store_pg");
    TCase *tc = tcase_create("pg");
    int rc;

    if (access("/usr/lib/postgresql/15/bin/initdb", X_OK) != 0) {
        fprintf(stderr, "test_store_pg: PostgreSQL 15 is not installed (make deps)\n");
        return 1;
    }
    cluster_start();
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_G10_pg_migrate_twice_is_noop);
    tcase_add_test(tc, test_G10_pg_newer_schema_refused);
    tcase_add_test(tc, test_E20_pg_migrate_from_schema_1);
    tcase_add_test(tc, test_G10_pg_malformed_uri);
    tcase_add_test(tc, test_G10_pg_database_down_fails_fast_and_recovers);
    tcase_add_test(tc, test_G10_pg_restart_reconnects_idle_pool);
    tcase_add_test(tc, test_G10_pg_dead_first_host_falls_through);
    tcase_add_test(tc, test_H08_pg_row_lock_elsewhere_times_out_and_pool_busy);
    tcase_add_test(tc, test_H08_pg_pool_bounded_lazy);
    tcase_add_test(tc, test_H07_pg_handle_never_used_across_fork);
    tcase_add_test(tc, test_G01_pg_password_never_logged);
    suite_add_tcase(s, tc);
    rc = af_test_run(s);
    cluster_stop();
    return rc;
}
