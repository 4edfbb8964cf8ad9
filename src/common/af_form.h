/* af_form.h -- strict parsing of query strings and application/x-www-form-urlencoded
 * bodies: one parser for every place that reads one (login, logout, callback, forms).
 *
 * Pairs are separated by '&'; a pair is "name" or "name=value"; '+' is a space and
 * "%XX" an escaped byte.  Strict: no empty pair ("a=1&&b" or a trailing '&'), no bad or
 * truncated escape, no NUL ("%00"), at most max_params pairs and max_len bytes.  Names
 * are compared exactly (case-sensitive) after decoding.
 */
#ifndef AF_FORM_H
#define AF_FORM_H

#include <apr_pools.h>
#include <apr_tables.h>

#include "common/af_error.h"

#define AF_FORM_MAX_PARAMS 32   /* the default pair limit of the handler endpoints */
#define AF_FORM_MAX_LEN    8192 /* the default byte limit */

#define AF_FORM_SKIP_EMPTY 1 /* flag: skip empty pairs instead of refusing them */

/** One decoded pair. */
typedef struct af_form_pair_t {
    const char *name;
    const char *value; /* "" for a pair without '=' */
} af_form_pair_t;

/**
 * Parse s (NULL or "" gives no pairs).
 * @param pairs array of af_form_pair_t, in order
 * @param flags 0 or AF_FORM_SKIP_EMPTY
 * @return APR_SUCCESS, AF_EFORM_LIMIT (too many pairs), AF_EFORM_EMPTY (an empty pair),
 *         AF_EFORM_ESCAPE (bad escape or NUL), AF_ETOOBIG (longer than max_len)
 */
apr_status_t af_form_parse(apr_array_header_t **pairs, const char *s, int max_params,
                           apr_size_t max_len, unsigned flags, apr_pool_t *p);

/**
 * The values of the wanted names (n of them): vals[i] NULL when absent.  Other names are
 * ignored.  @return APR_SUCCESS or AF_EFORM_DUP (a wanted name appears twice: never pick
 * one of two, D03)
 */
apr_status_t af_form_pick(const char **vals, const char *const *names, int n,
                          const apr_array_header_t *pairs);

/** af_form_parse with the default limits, then af_form_pick. */
apr_status_t af_form_get(const char **vals, const char *const *names, int n, const char *s,
                         apr_pool_t *p);

/** Decode one form-encoded component ('+' is a space).  NULL on a bad escape or NUL. */
char *af_form_decode(const char *s, apr_size_t len, apr_pool_t *p);

#endif
