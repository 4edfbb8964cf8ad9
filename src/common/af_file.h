/* af_file.h -- one capped file reader for configuration files (secrets, templates, keys,
 * JWKS files): read whole, refuse files above a cap, NUL-terminate; and the one permission
 * rule for the files among them that hold a secret. */
#ifndef AF_FILE_H
#define AF_FILE_H

#include <sys/types.h>

#include <apr_pools.h>

/**
 * Read the whole file at path into pool memory (NUL-terminated; *len without the NUL).
 * @param max the largest accepted size in bytes
 * @return APR_SUCCESS, AF_ETOOBIG (larger than max), APR/errno codes (cannot open/read)
 */
apr_status_t af_file_read(char **data, apr_size_t *len, const char *path, apr_size_t max,
                          apr_pool_t *p);

/**
 * The one rule for a file that holds a secret (the server secret, a client secret, an admin
 * key, a private key, an HMAC key), on a mode already known (st_mode): a regular file that
 * "others" can neither read nor write.  Group access is allowed (Debian's root:www-data
 * 0640); the configuration is read as root.
 * @return APR_SUCCESS, AF_EFILE_NOT_REGULAR, AF_EFILE_OTHERS_READ (also when others may
 *         write too), AF_EFILE_OTHERS_WRITE
 */
apr_status_t af_file_private_mode(mode_t mode);

/**
 * The same rule on a path.  A symlink is followed: the rule applies to its target (stat, not
 * lstat), so /etc/authflow/current.key -> 2027.key is judged by 2027.key's mode.
 * @return as af_file_private_mode, or an APR/errno code (no such file, cannot stat)
 */
apr_status_t af_file_check_private(const char *path);

/**
 * The operator's words for a refusal of the rule, naming the fix: "readable by others:
 * chmod o-rwx PATH", "writable by others: chmod o-rwx PATH", "not a regular file".
 * @return those words, or NULL when rv is none of the rule's codes
 */
const char *af_file_private_hint(apr_status_t rv, const char *path, apr_pool_t *p);

#endif
