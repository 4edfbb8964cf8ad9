/* af_testutil.c -- generic helpers for the unit tests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_file_io.h>
#include <apr_general.h>
#include <apr_strings.h>

#include "af_testutil.h"
#include "common/af_log.h"

static apr_pool_t *root_pool;

static void terminate(void)
{
    if (root_pool != NULL) {
        apr_pool_destroy(root_pool);
        root_pool = NULL;
    }
    apr_terminate();
}

apr_pool_t *af_test_pool(void)
{
    apr_pool_t *p = NULL;

    if (root_pool == NULL) {
        if (apr_initialize() != APR_SUCCESS || apr_pool_create(&root_pool, NULL) != 0) {
            fprintf(stderr, "af_test_pool: APR init failed\n");
            abort();
        }
        atexit(terminate);
    }
    if (apr_pool_create(&p, root_pool) != APR_SUCCESS) {
        abort();
    }
    return p;
}

apr_status_t af_test_read_file(char **data, apr_size_t *len, const char *path, apr_pool_t *p)
{
    apr_file_t *f;
    apr_finfo_t fi;
    apr_status_t rv;
    char *buf;
    apr_size_t n = 0;

    *data = NULL;
    *len = 0;
    rv = apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY, APR_OS_DEFAULT, p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = apr_file_info_get(&fi, APR_FINFO_SIZE, f);
    if (rv == APR_SUCCESS) {
        n = (apr_size_t) fi.size;
        buf = apr_palloc(p, n + 1);
        if (n > 0) {
            rv = apr_file_read_full(f, buf, n, &n);
        }
        if (rv == APR_SUCCESS) {
            buf[n] = '\0';
            *data = buf;
            *len = n;
        }
    }
    apr_file_close(f);
    return rv;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

apr_status_t af_test_hex_decode(unsigned char **out, apr_size_t *len, const char *hex,
                                apr_pool_t *p)
{
    apr_size_t n = strlen(hex), i;
    unsigned char *b;

    *out = NULL;
    *len = 0;
    if (n % 2 != 0) {
        return APR_EINVAL;
    }
    b = apr_palloc(p, n / 2 + 1);
    for (i = 0; i < n / 2; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            return APR_EINVAL;
        }
        b[i] = (unsigned char) (hi * 16 + lo);
    }
    b[n / 2] = 0;
    *out = b;
    *len = n / 2;
    return APR_SUCCESS;
}

const char *af_test_vectors_dir(void)
{
    const char *d = getenv("AF_VECTORS_DIR");

    return (d != NULL && *d != '\0') ? d : "tests/vectors";
}

#define LOG_MAX_LINES 256

static char *log_lines[LOG_MAX_LINES];
static int log_n;

static void sink(void *baton, apr_pool_t *p, int level, const char *tag, const char *msg)
{
    char buf[1200];

    (void) baton;
    if (log_n >= LOG_MAX_LINES) {
        return;
    }
    snprintf(buf, sizeof(buf), "%d %s %s", level, tag != NULL ? tag : "-", msg);
    log_lines[log_n++] = strdup(buf);
}

void af_test_log_clear(void)
{
    int i;

    for (i = 0; i < log_n; i++) {
        free(log_lines[i]);
        log_lines[i] = NULL;
    }
    log_n = 0;
}

void af_test_log_capture(int max_level)
{
    af_test_log_clear();
    af_log_set(sink, NULL, max_level);
}

int af_test_log_count(void)
{
    return log_n;
}

const char *af_test_log_line(int i)
{
    return (i >= 0 && i < log_n) ? log_lines[i] : NULL;
}

int af_test_log_contains(const char *needle)
{
    int i;

    for (i = 0; i < log_n; i++) {
        if (strstr(log_lines[i], needle) != NULL) {
            return 1;
        }
    }
    return 0;
}

int af_test_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

void af_test_tmpdir(char *buf, apr_size_t len, const char *prefix)
{
    snprintf(buf, len, "/tmp/%s_XXXXXX", prefix);
    ck_assert_ptr_nonnull(mkdtemp(buf));
}

void af_test_rmtree(const char *dir)
{
    char cmd[256];

    if (dir == NULL || strncmp(dir, "/tmp/", 5) != 0 || strchr(dir, '\'') != NULL) {
        return;
    }
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0) {
        /* best effort */
    }
}
