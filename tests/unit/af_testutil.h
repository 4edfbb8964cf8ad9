/* af_testutil.h -- generic helpers for the unit tests (linked into every test binary).
 *
 * No main() here, nothing specific to one layer.
 */
#ifndef AF_TESTUTIL_H
#define AF_TESTUTIL_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <check.h>

/** Initialize APR once per process (idempotent) and return a fresh pool (a child of a
 *  process-wide root).  Destroy it with apr_pool_destroy, or let the process exit. */
apr_pool_t *af_test_pool(void);

/** Read a whole file into pool memory, NUL-terminated. @return APR_SUCCESS or errno */
apr_status_t af_test_read_file(char **data, apr_size_t *len, const char *path, apr_pool_t *p);

/** Decode hex (upper or lower case, even length) into pool memory. @return APR_SUCCESS or
 *  APR_EINVAL */
apr_status_t af_test_hex_decode(unsigned char **out, apr_size_t *len, const char *hex,
                                apr_pool_t *p);

/** The test-vector directory: $AF_VECTORS_DIR, else "tests/vectors". */
const char *af_test_vectors_dir(void);

/** Install a log sink (src/common/af_log.h) that records every line up to max_level as
 *  "LEVEL TAG message"; clears previously recorded lines. */
void af_test_log_capture(int max_level);
/** Number of lines recorded since the last capture/clear. */
int af_test_log_count(void);
/** Line i (0-based) or NULL. */
const char *af_test_log_line(int i);
/** Does any recorded line contain needle? */
int af_test_log_contains(const char *needle);
/** Forget the recorded lines (the sink stays installed). */
void af_test_log_clear(void);

/** Run a suite with CK_NORMAL output, free the runner; the process exit status. */
int af_test_run(Suite *s);

/** Create a fresh directory /tmp/<prefix>_XXXXXX into buf (>= 64 bytes); fails the test if not. */
void af_test_tmpdir(char *buf, apr_size_t len, const char *prefix);

/** Remove a directory tree made by af_test_tmpdir (best effort). */
void af_test_rmtree(const char *dir);

#endif
