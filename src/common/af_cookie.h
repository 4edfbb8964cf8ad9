/* af_cookie.h -- strict, bounded parsing of a Cookie request header (RFC 6265 §4.2).
 *
 * The header is split on ';' (HTTP/2 and proxies may join several Cookie headers that
 * way); optional whitespace around each pair is ignored.  Names are compared exactly
 * (case-sensitive).  Pairs without '=' and other junk from unrelated applications are
 * skipped, but the cookie asked for must be well-formed: its value is cookie-octets
 * (optionally in double quotes, which are removed) and it appears exactly once.
 * Headers above AF_COOKIE_MAX_HEADER bytes or with more than AF_COOKIE_MAX_PAIRS
 * pairs are refused.
 */
#ifndef AF_COOKIE_H
#define AF_COOKIE_H

#include <apr_pools.h>

#define AF_COOKIE_MAX_HEADER 65536
#define AF_COOKIE_MAX_PAIRS  256

/**
 * Find one cookie.
 * @param value pool copy of the value (unquoted); untouched unless APR_SUCCESS
 * @return APR_SUCCESS, AF_ENOTFOUND (absent, or header NULL), AF_ECOOKIE (the named
 *         cookie is malformed or appears more than once), AF_ETOOBIG (header limits)
 */
apr_status_t af_cookie_get(const char **value, const char *header, const char *name, apr_pool_t *p);

/**
 * Remove every cookie whose name is in names (n of them) from a Cookie header.  Pairs are
 * split on ';' and, inside a pair, also on ',' (httpd joins repeated Cookie header lines
 * with ", "), so "a=1, <name>=x" loses <name> too; a pair holding none of the names is kept
 * byte for byte.  (af_cookie_get splits on ';' only: a value with ',' is refused there.)
 * @param out the remaining header ("a=1; b=2"), or NULL when nothing remains; when no
 *        cookie was removed, out is header itself (no copy)
 * @param removed number of pairs removed (may be NULL)
 * @return APR_SUCCESS or AF_ETOOBIG (header limits; out is then NULL: drop it all)
 */
apr_status_t af_cookie_remove(const char **out, int *removed, const char *header,
                              const char *const *names, int n, apr_pool_t *p);

#endif
