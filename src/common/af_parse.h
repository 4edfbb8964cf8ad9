/* af_parse.h -- durations and sizes as operators write them in httpd.conf.
 *
 * Durations: "90s", "10m", "12h", "14d", or plain seconds ("600").  Sizes: "256M",
 * "1G", "64K", or plain bytes.  Units are case-insensitive; no sign, no spaces, no
 * fractions; overflow is refused.  Pure functions: no pool, no globals.
 */
#ifndef AF_PARSE_H
#define AF_PARSE_H

#include <apr.h>
#include <apr_errno.h>

/**
 * Parse a duration into seconds.
 * @return APR_SUCCESS or AF_EDURATION (empty, junk, negative, overflow)
 */
apr_status_t af_parse_duration(apr_int64_t *secs, const char *s);

/**
 * Parse a size into bytes (K/M/G/T are powers of 1024; an optional trailing "B" is allowed).
 * @return APR_SUCCESS or AF_ESIZE
 */
apr_status_t af_parse_size(apr_uint64_t *bytes, const char *s);

/** Does s contain a control character (below 0x20, or 0x7f)?  1 or 0. */
int af_parse_has_ctl(const char *s);

/** Is s a name of 1..max characters of [A-Za-z0-9._-]?  1 or 0. */
int af_parse_is_name(const char *s, apr_size_t max);

/** Four hex digits (a JSON or claim-language \\uXXXX escape) at s. @return 1 and *out, or 0. */
int af_parse_hex4(const char *s, unsigned *out);

#endif
