/* af_file.h -- one capped file reader for configuration files (secrets, templates, keys,
 * JWKS files): read whole, refuse files above a cap, NUL-terminate. */
#ifndef AF_FILE_H
#define AF_FILE_H

#include <apr_pools.h>

/**
 * Read the whole file at path into pool memory (NUL-terminated; *len without the NUL).
 * @param max the largest accepted size in bytes
 * @return APR_SUCCESS, AF_ETOOBIG (larger than max), APR/errno codes (cannot open/read)
 */
apr_status_t af_file_read(char **data, apr_size_t *len, const char *path, apr_size_t max,
                          apr_pool_t *p);

#endif
