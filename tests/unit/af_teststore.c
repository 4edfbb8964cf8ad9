/* af_teststore.c -- the store under test (af_teststore.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <apr_strings.h>
#include <libpq-fe.h>

#include "af_teststore.h"
#include "af_testutil.h"

static const char *base_uri(void)
{
    const char *e = getenv("AF_TEST_STORE");

    return e != NULL && af_store_is_uri(e) ? e : NULL;
}

int af_test_store_is_pg(void)
{
    return base_uri() != NULL;
}

const char *af_test_store_kind(void)
{
    return af_test_store_is_pg() ? "postgresql" : "lmdb";
}

/* the schema named in a URI made by af_test_store_fresh */
static const char *schema_of(const char *where, apr_pool_t *p)
{
    const char *s = strstr(where, "search_path%3D");

    if (s == NULL) {
        return NULL;
    }
    s += strlen("search_path%3D");
    return apr_pstrndup(p, s, strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_"));
}

static void quiet(void *arg, const char *msg)
{
    (void) arg;
    (void) msg;
}

static void pg_exec_ok(const char *uri, const char *sql)
{
    PGconn *c = PQconnectdb(uri);
    PGresult *r;

    PQsetNoticeProcessor(c, quiet, NULL);
    ck_assert_msg(PQstatus(c) == CONNECTION_OK, "connect: %s", PQerrorMessage(c));
    r = PQexec(c, sql);
    ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK,
                  "%s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
    PQfinish(c);
}

af_store_t *af_test_store_fresh(const char **where, const char *dir, apr_pool_t *p)
{
    static unsigned int n;
    const char *base = base_uri(), *schema;
    af_store_t *st = NULL;
    apr_status_t rv;

    if (base == NULL) {
        *where = apr_pstrdup(p, dir);
        ck_assert_int_eq(af_store_open(&st, dir, NULL, p), APR_SUCCESS);
        return st;
    }
    schema = apr_psprintf(p, "t_%ld_%u_%lx", (long) getpid(), n++, (unsigned long) random());
    pg_exec_ok(base, apr_psprintf(p, "CREATE SCHEMA %s", schema));
    *where = apr_psprintf(p, "%s%coptions=-csearch_path%%3D%s", base, strchr(base, '?') ? '&' : '?',
                          schema);
    rv = af_store_prepare(*where, -1, -1, NULL, p);
    ck_assert_msg(rv == APR_SUCCESS, "prepare: %s", af_strerror(rv));
    ck_assert_int_eq(af_store_open(&st, *where, NULL, p), APR_SUCCESS);
    return st;
}

apr_status_t af_test_store_open(af_store_t **st, const char *where, apr_pool_t *p)
{
    return af_store_open(st, where, NULL, p);
}

void af_test_store_drop(const char *where)
{
    apr_pool_t *p;
    const char *schema;
    const char *base = base_uri();

    if (base == NULL || where == NULL || !af_store_is_uri(where)) {
        return;
    }
    apr_pool_create(&p, NULL);
    schema = schema_of(where, p);
    if (schema != NULL && strncmp(schema, "t_", 2) == 0) {
        PGconn *c = PQconnectdb(base);
        PQsetNoticeProcessor(c, quiet, NULL);
        if (PQstatus(c) == CONNECTION_OK) {
            PQclear(PQexec(c, apr_psprintf(p, "DROP SCHEMA %s CASCADE", schema)));
        }
        PQfinish(c);
    }
    apr_pool_destroy(p);
}

unsigned char *af_test_store_dump(apr_size_t *len, const char *where, apr_pool_t *p)
{
    static const char *const tables[] = {"af_families", "af_tokens", "af_flows", "af_counters",
                                         "af_leases",   "af_revlog", NULL};
    char *data;
    const char *out = "";
    int i;

    if (!af_store_is_uri(where)) {
        ck_assert_int_eq(af_test_read_file(&data, len, apr_pstrcat(p, where, "/data.mdb", NULL), p),
                         APR_SUCCESS);
        return (unsigned char *) data;
    }
    for (i = 0; tables[i] != NULL; i++) {
        out = apr_pstrcat(p, out, "\n", tables[i], ":\n",
                          af_test_pg_query(where,
                                           apr_psprintf(p,
                                                        "SELECT coalesce(string_agg("
                                                        "row_to_json(t)::text, E'\\n'), '') "
                                                        "FROM %s t",
                                                        tables[i]),
                                           p),
                          NULL);
    }
    *len = strlen(out);
    return (unsigned char *) out;
}

int af_test_dump_has(const unsigned char *dump, apr_size_t len, const void *b, apr_size_t n)
{
    char *hex = malloc(2 * n + 1);
    apr_size_t i;
    int found;

    for (i = 0; i < n; i++) {
        snprintf(hex + 2 * i, 3, "%02x", ((const unsigned char *) b)[i]);
    }
    found = memmem(dump, len, b, n) != NULL || memmem(dump, len, hex, 2 * n) != NULL;
    free(hex);
    return found;
}

const char *af_test_pg_query(const char *where, const char *sql, apr_pool_t *p)
{
    PGconn *c = PQconnectdb(where);
    PGresult *r;
    const char *v = "";

    ck_assert_msg(PQstatus(c) == CONNECTION_OK, "connect: %s", PQerrorMessage(c));
    r = PQexec(c, sql);
    ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK,
                  "%s: %s", sql, PQresultErrorMessage(r));
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 && PQnfields(r) > 0) {
        v = apr_pstrdup(p, PQgetvalue(r, 0, 0));
    }
    PQclear(r);
    PQfinish(c);
    return v;
}
