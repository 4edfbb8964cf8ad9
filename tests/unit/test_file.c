/* test_file.c -- the capped file reader and the one rule for secret files (SECURITY.md C08:
 * a secret file others may read or write stops configtest). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <apr_strings.h>

#include "af_testutil.h"
#include "common/af_error.h"
#include "common/af_file.h"

static const char *tmp_file(apr_pool_t *p, const char *name, mode_t mode)
{
    const char *path = apr_psprintf(p, "/tmp/af_test_file_%d_%s", (int) getpid(), name);
    FILE *f;

    unlink(path);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("0123456789abcdef0123456789abcdef\n", f);
    fclose(f);
    ck_assert_int_eq(chmod(path, mode), 0);
    return path;
}

START_TEST(test_C08_private_mode_rule)
{
    /* allowed: owner and group in any combination, nothing for others */
    /* 0601: execute for others reveals nothing of the contents; only read and write count */
    static const mode_t ok[] = {0600, 0400, 0640, 0660, 0440, 0700, 0750, 0000, 04600, 0601};
    static const struct {
        mode_t mode;
        apr_status_t rv;
    } bad[] = {
        {0644, AF_EFILE_OTHERS_READ},  {0604, AF_EFILE_OTHERS_READ}, {0666, AF_EFILE_OTHERS_READ},
        {0602, AF_EFILE_OTHERS_WRITE}, {0606, AF_EFILE_OTHERS_READ}, {0642, AF_EFILE_OTHERS_WRITE},
        {0777, AF_EFILE_OTHERS_READ},
    };
    apr_size_t i;

    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        ck_assert_int_eq(af_file_private_mode(S_IFREG | ok[i]), APR_SUCCESS);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(af_file_private_mode(S_IFREG | bad[i].mode) == bad[i].rv, "mode %o",
                      (unsigned) bad[i].mode);
    }
    ck_assert_int_eq(af_file_private_mode(S_IFDIR | 0700), AF_EFILE_NOT_REGULAR);
    ck_assert_int_eq(af_file_private_mode(S_IFIFO | 0600), AF_EFILE_NOT_REGULAR);
    ck_assert_int_eq(af_file_private_mode(S_IFCHR | 0600), AF_EFILE_NOT_REGULAR);
    ck_assert_int_eq(af_file_private_mode(S_IFLNK | 0777), AF_EFILE_NOT_REGULAR);
    ck_assert_str_eq(af_strerror(AF_EFILE_OTHERS_READ), "file_readable_by_others");
    ck_assert_str_eq(af_strerror(AF_EFILE_OTHERS_WRITE), "file_writable_by_others");
    ck_assert_str_eq(af_strerror(AF_EFILE_NOT_REGULAR), "file_not_regular");
}
END_TEST

START_TEST(test_C08_check_private_on_files)
{
    apr_pool_t *p = af_test_pool();
    const char *open_ = tmp_file(p, "open", 0644), *priv = tmp_file(p, "priv", 0600);
    const char *group = tmp_file(p, "group", 0640), *ww = tmp_file(p, "ww", 0602);
    const char *link = apr_psprintf(p, "/tmp/af_test_file_%d_link", (int) getpid());

    ck_assert_int_eq(af_file_check_private(open_), AF_EFILE_OTHERS_READ);
    ck_assert_int_eq(af_file_check_private(priv), APR_SUCCESS);
    ck_assert_int_eq(af_file_check_private(group), APR_SUCCESS);
    ck_assert_int_eq(af_file_check_private(ww), AF_EFILE_OTHERS_WRITE);
    ck_assert_int_eq(af_file_check_private("/tmp"), AF_EFILE_NOT_REGULAR);
    ck_assert_int_eq(af_file_check_private("/nonexistent/af/secret"), APR_ENOENT);
    /* a symlink (0777 itself) is judged by its target */
    unlink(link);
    ck_assert_int_eq(symlink(priv, link), 0);
    ck_assert_int_eq(af_file_check_private(link), APR_SUCCESS);
    ck_assert_int_eq(chmod(priv, 0644), 0);
    ck_assert_int_eq(af_file_check_private(link), AF_EFILE_OTHERS_READ);
    /* the operator's words name the fix and the file */
    ck_assert_str_eq(af_file_private_hint(AF_EFILE_OTHERS_READ, link, p),
                     apr_pstrcat(p, "readable by others: chmod o-rwx ", link, NULL));
    ck_assert_str_eq(af_file_private_hint(AF_EFILE_OTHERS_WRITE, ww, p),
                     apr_pstrcat(p, "writable by others: chmod o-rwx ", ww, NULL));
    ck_assert_str_eq(af_file_private_hint(AF_EFILE_NOT_REGULAR, "/tmp", p), "not a regular file");
    ck_assert_ptr_null(af_file_private_hint(APR_ENOENT, "/x", p));
    ck_assert_ptr_null(af_file_private_hint(APR_SUCCESS, "/x", p));
    unlink(link);
    unlink(open_);
    unlink(priv);
    unlink(group);
    unlink(ww);
}
END_TEST

START_TEST(test_read_capped)
{
    apr_pool_t *p = af_test_pool();
    const char *path = tmp_file(p, "read", 0600);
    apr_size_t n = 0;
    char *d = NULL;

    ck_assert_int_eq(af_file_read(&d, &n, path, 64, p), APR_SUCCESS);
    ck_assert_uint_eq(n, 33);
    ck_assert_int_eq(d[n], '\0');
    ck_assert_int_eq(af_file_read(&d, &n, path, 32, p), AF_ETOOBIG);
    ck_assert_ptr_null(d);
    ck_assert_int_eq(af_file_read(&d, &n, "/nonexistent/af/x", 64, p), APR_ENOENT);
    unlink(path);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("file");
    TCase *tc = tcase_create("file");

    tcase_add_test(tc, test_C08_private_mode_rule);
    tcase_add_test(tc, test_C08_check_private_on_files);
    tcase_add_test(tc, test_read_capped);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return af_test_run(suite());
}
