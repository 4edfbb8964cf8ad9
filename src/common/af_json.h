/* af_json.h -- jansson documents bound to APR pools, parsed strictly.
 *
 * Every untrusted document goes through af_json_parse: JSON_REJECT_DUPLICATES,
 * no NUL inside strings (jansson's default), nothing after the value, UTF-8
 * only, the top level must be an object, a size cap and a nesting cap.
 * The returned json_t is released by a cleanup on the pool: callers never
 * json_decref it (they may json_incref it to keep it longer).
 */
#ifndef AF_JSON_H
#define AF_JSON_H

#include <apr_pools.h>
#include <jansson.h>

#define AF_JSON_MAX_DEPTH 32

/**
 * Parse an untrusted JSON object.
 * @param max_len reject (AF_ETOOBIG) larger inputs before parsing; 0 = no cap
 * @return APR_SUCCESS, AF_ETOOBIG, AF_EJSON (malformed, duplicate member, not an object,
 *         BOM, invalid UTF-8, trailing bytes), AF_EJSON_DEPTH (nesting > AF_JSON_MAX_DEPTH)
 */
apr_status_t af_json_parse(json_t **out, const char *text, apr_size_t len, apr_size_t max_len,
                           apr_pool_t *p);

/** Tie an owned reference to the pool: json_decref runs at pool cleanup. Returns j. */
json_t *af_json_pool_own(json_t *j, apr_pool_t *p);

/** Serialize compactly (JSON_COMPACT) into a pool string; NULL on failure. */
const char *af_json_dump(const json_t *j, apr_pool_t *p);

/** Dotted path lookup: "realm_access.roles", "groups[0]"; NULL when absent. Borrowed. */
json_t *af_json_path(const json_t *root, const char *path);

#endif
