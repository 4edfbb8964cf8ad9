/* af_teststore.h -- the store under test, for test bodies shared by both backends.
 *
 * $AF_TEST_STORE selects it: unset or "lmdb" -> LMDB in a temp dir per test; a PostgreSQL URI
 * (tools/run-unit.sh passes the one of a cluster started for the run) -> a fresh schema per
 * test in that database, selected with search_path in the URI.
 */
#ifndef AF_TESTSTORE_H
#define AF_TESTSTORE_H

#include <apr_pools.h>
#include <check.h>

#include "store/af_store.h"

/** 1 when the tests run against PostgreSQL. */
int af_test_store_is_pg(void);

/** "lmdb" or "postgresql" (for suite names). */
const char *af_test_store_kind(void);

/**
 * A fresh empty store for one test; *where names it (a directory, or a URI with the test's
 * own schema) for af_test_store_open in other processes.  dir: made by af_test_tmpdir (LMDB
 * uses it; PostgreSQL ignores it).  Fails the test on error.
 */
af_store_t *af_test_store_fresh(const char **where, const char *dir, apr_pool_t *p);

/** Open the store named by where again (a child process after fork). */
apr_status_t af_test_store_open(af_store_t **st, const char *where, apr_pool_t *p);

/** Remove what af_test_store_fresh made in the database (the schema); LMDB: nothing. */
void af_test_store_drop(const char *where);

/**
 * Everything the store holds, as bytes to search: LMDB the environment file; PostgreSQL
 * every af_* table as text (bytea as \x hex).  Close LMDB stores first.
 */
unsigned char *af_test_store_dump(apr_size_t *len, const char *where, apr_pool_t *p);

/** Does the dump hold these bytes, raw or as lowercase hex? */
int af_test_dump_has(const unsigned char *dump, apr_size_t len, const void *b, apr_size_t n);

/** PostgreSQL only: run sql on where's schema; the first cell of the result as text (or "").
 *  Fails the test on error. */
const char *af_test_pg_query(const char *where, const char *sql, apr_pool_t *p);

#endif
