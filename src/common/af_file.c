/* af_file.c -- capped file reader and the secret-file rule (see af_file.h). */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <apr_file_io.h>
#include <apr_strings.h>

#include "common/af_error.h"
#include "common/af_file.h"

apr_status_t af_file_read(char **data, apr_size_t *len, const char *path, apr_size_t max,
                          apr_pool_t *p)
{
    apr_file_t *f = NULL;
    apr_finfo_t fi;
    apr_size_t n = 0;
    char *buf = NULL;
    apr_status_t rv;

    *data = NULL;
    *len = 0;
    rv = apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY, APR_OS_DEFAULT, p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = apr_file_info_get(&fi, APR_FINFO_SIZE, f);
    if (rv == APR_SUCCESS && (fi.size < 0 || (apr_size_t) fi.size > max)) {
        rv = AF_ETOOBIG;
    }
    if (rv == APR_SUCCESS) {
        n = (apr_size_t) fi.size;
        buf = apr_palloc(p, n + 1);
        if (n > 0) {
            rv = apr_file_read_full(f, buf, n, &n);
        }
    }
    apr_file_close(f);
    if (rv != APR_SUCCESS) {
        if (buf != NULL) {
            memset(buf, 0, n); /* a partly read secret does not stay in the pool */
        }
        return rv;
    }
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return APR_SUCCESS;
}

apr_status_t af_file_private_mode(mode_t mode)
{
    if (!S_ISREG(mode)) {
        return AF_EFILE_NOT_REGULAR;
    }
    if ((mode & S_IROTH) != 0) {
        return AF_EFILE_OTHERS_READ;
    }
    if ((mode & S_IWOTH) != 0) {
        return AF_EFILE_OTHERS_WRITE;
    }
    return APR_SUCCESS;
}

apr_status_t af_file_check_private(const char *path)
{
    struct stat st;

    if (stat(path, &st) != 0) {
        return APR_FROM_OS_ERROR(errno);
    }
    return af_file_private_mode(st.st_mode);
}

const char *af_file_private_hint(apr_status_t rv, const char *path, apr_pool_t *p)
{
    switch (rv) {
    case AF_EFILE_NOT_REGULAR:
        return "not a regular file";
    case AF_EFILE_OTHERS_READ:
        return apr_pstrcat(p, "readable by others: chmod o-rwx ", path, NULL);
    case AF_EFILE_OTHERS_WRITE:
        return apr_pstrcat(p, "writable by others: chmod o-rwx ", path, NULL);
    default:
        return NULL;
    }
}
