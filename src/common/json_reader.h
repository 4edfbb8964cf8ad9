/* json_reader.h -- the strict JSON reader behind af_json_parse (internal to src/common). */
#ifndef AF_JSON_READER_H
#define AF_JSON_READER_H

#include <apr.h>
#include <apr_errno.h>
#include <jansson.h>

/**
 * Read one JSON value (any type) filling the whole of text (surrounding whitespace allowed).
 * The caller owns the result (json_decref).
 * @return APR_SUCCESS, AF_EJSON, AF_EJSON_DEPTH
 */
apr_status_t af_json_read(json_t **out, const char *text, apr_size_t len);

#endif
