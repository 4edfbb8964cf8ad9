/* secret.c -- the server secret and the default signing key, created once in a directory.
 *
 * Both files are created atomically: written to a private temporary file (0600),
 * synced, then hard-linked to the final name.  link() never replaces an existing
 * file, so concurrent starters agree on one secret; the loser loads the winner's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <apr_strings.h>
#include <openssl/crypto.h>

#include "common/af_error.h"
#include "common/af_file.h"
#include "jose/af_jose_errors.h"
#include "jose/af_jwk.h"
#include "token/af_token.h"

#define SECRET_FILE  "secret.key"
#define SIGNING_FILE "signing-key.pem"

static apr_status_t write_all(int fd, const void *buf, apr_size_t len)
{
    const char *b = buf;

    while (len > 0) {
        ssize_t n = write(fd, b, len);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return APR_FROM_OS_ERROR(errno);
        }
        b += n;
        len -= (apr_size_t) n;
    }
    return APR_SUCCESS;
}

/* Create path with content unless it exists. *created tells which happened. */
static apr_status_t create_once(int *created, const char *path, const void *buf, apr_size_t len,
                                apr_pool_t *p)
{
    char *tmp = apr_pstrcat(p, path, ".tmp.XXXXXX", NULL);
    apr_status_t rv;
    int fd;

    *created = 0;
    fd = mkstemp(tmp); /* mode 0600 */
    if (fd < 0) {
        return APR_FROM_OS_ERROR(errno);
    }
    rv = fchmod(fd, 0600) == 0 ? APR_SUCCESS : APR_FROM_OS_ERROR(errno);
    if (rv == APR_SUCCESS) {
        rv = write_all(fd, buf, len);
    }
    if (rv == APR_SUCCESS && fsync(fd) != 0) {
        rv = APR_FROM_OS_ERROR(errno);
    }
    close(fd);
    if (rv == APR_SUCCESS) {
        if (link(tmp, path) == 0) {
            *created = 1;
        } else if (errno != EEXIST) {
            rv = APR_FROM_OS_ERROR(errno);
        }
    }
    unlink(tmp);
    return rv;
}

static apr_status_t read_secret(unsigned char *out, const char *path)
{
    struct stat st;
    apr_status_t rv = APR_SUCCESS;
    ssize_t n;
    int fd;

    fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        return APR_FROM_OS_ERROR(errno);
    }
    if (fstat(fd, &st) != 0) {
        rv = APR_FROM_OS_ERROR(errno);
        goto leave;
    }
    rv = af_file_private_mode(st.st_mode); /* the one rule (af_file.h) */
    if (rv != APR_SUCCESS) {
        goto leave;
    }
    if (st.st_size != AF_SECRET_LEN) {
        rv = AF_ETOKEN_SECRET;
        goto leave;
    }
    n = read(fd, out, AF_SECRET_LEN);
    if (n != AF_SECRET_LEN) {
        rv = n < 0 ? APR_FROM_OS_ERROR(errno) : AF_ETOKEN_SECRET;
    }
leave:
    close(fd);
    return rv;
}

apr_status_t af_token_secret_file(const unsigned char **secret, apr_size_t *len, const char *path,
                                  const char **why, apr_pool_t *p)
{
    char *buf = NULL;
    apr_size_t n = 0;
    apr_status_t rv;

    *secret = NULL;
    *len = 0;
    rv = af_file_check_private(path); /* the one rule for secret files (af_file.h) */
    if (rv != APR_SUCCESS) {
        *why = AF_IS_AF_ERROR(rv) ? af_strerror(rv) : "secret_unreadable";
        return rv;
    }
    rv = af_file_read(&buf, &n, path, AF_SECRET_FILE_MAX, p);
    if (rv != APR_SUCCESS) {
        *why = rv == AF_ETOOBIG ? "secret_too_long" : "secret_unreadable";
        return rv == AF_ETOOBIG ? AF_ETOKEN_SECRET : rv;
    }
    if (n < AF_SECRET_LEN || af_key_is_key_material(buf, n)) {
        *why = n < AF_SECRET_LEN ? "secret_too_short" : "secret_is_a_key";
        OPENSSL_cleanse(buf, n);
        return AF_ETOKEN_SECRET;
    }
    *secret = (const unsigned char *) buf;
    *len = n;
    return APR_SUCCESS;
}

apr_status_t af_token_secret_load_or_create(const unsigned char **secret, const char *dir,
                                            apr_pool_t *p)
{
    const char *path = apr_pstrcat(p, dir, "/" SECRET_FILE, NULL);
    unsigned char *buf = apr_palloc(p, AF_SECRET_LEN);
    unsigned char fresh[AF_SECRET_LEN];
    apr_status_t rv;
    int created;

    *secret = NULL;
    rv = read_secret(buf, path);
    if (rv == APR_ENOENT) {
        rv = af_token_random(fresh, sizeof(fresh));
        if (rv == APR_SUCCESS) {
            rv = create_once(&created, path, fresh, sizeof(fresh), p);
        }
        OPENSSL_cleanse(fresh, sizeof(fresh));
        if (rv == APR_SUCCESS) {
            rv = read_secret(buf, path);
        }
    }
    if (rv == APR_SUCCESS) {
        *secret = buf;
    } else {
        OPENSSL_cleanse(buf, AF_SECRET_LEN);
    }
    return rv;
}

apr_status_t af_token_signing_key_load_or_create(af_key_t **key, const char *dir, apr_pool_t *p)
{
    const char *path = apr_pstrcat(p, dir, "/" SIGNING_FILE, NULL);
    const char *why = NULL, *pem = NULL;
    af_key_t *k = NULL, *gen = NULL;
    struct stat st;
    apr_status_t rv;
    int created;

    *key = NULL;
    if (lstat(path, &st) != 0) {
        if (errno != ENOENT) {
            return APR_FROM_OS_ERROR(errno);
        }
        rv = af_key_generate(&gen, AF_ALG_ES256, NULL, p);
        if (rv == APR_SUCCESS) {
            rv = af_key_to_pem(&pem, gen, p);
        }
        if (rv == APR_SUCCESS) {
            rv = create_once(&created, path, pem, strlen(pem), p);
            OPENSSL_cleanse((void *) pem, strlen(pem));
        }
        if (rv != APR_SUCCESS) {
            return rv;
        }
        if (lstat(path, &st) != 0) {
            return APR_FROM_OS_ERROR(errno);
        }
    }
    rv = af_file_private_mode(st.st_mode); /* the one rule (af_file.h) */
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = af_key_load_file(&k, path, AF_ALG_UNKNOWN, NULL, &why, p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (!k->is_private) {
        return AF_EKEY_PUBLIC;
    }
    if (k->kid == NULL) {
        k->kid = af_key_thumbprint(k, p);
    }
    *key = k;
    return APR_SUCCESS;
}
