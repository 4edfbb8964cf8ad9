/* af_url.h -- one URL policy and one set of encoders for the whole module.
 *
 * The policy for every URL the module calls or redirects to by configuration (IdP
 * endpoints, JWKS, AuthFlowBaseURL, AuthFlowLogin, AuthFlowReturnTo origins): an absolute
 * "https://" URL, or "http://" to a loopback host (127.0.0.0/8 as a strict dotted quad,
 * [::1], localhost); no userinfo ('@' in the authority), no backslash, no whitespace or
 * control characters anywhere, no fragment, a non-empty host.
 */
#ifndef AF_URL_H
#define AF_URL_H

#include <apr_pools.h>

/** Does url pass the policy above?  1 or 0. */
int af_url_ok(const char *url);

/** Is url http(s) to a loopback host (127.0.0.0/8, [::1], localhost)?  1 or 0. */
int af_url_is_loopback(const char *url);

/** Is url https?  (Only meaningful after af_url_ok.) */
int af_url_is_https(const char *url);

/**
 * The origin of an http(s) URL: "scheme://host[:port]", scheme and host lower-cased, the
 * port as written.  NULL when url is not http(s) with a plain authority (userinfo,
 * backslash, control characters or an empty host refuse it).
 */
const char *af_url_origin(const char *url, apr_pool_t *p);

/** RFC 3986 percent-encoding of every byte but the unreserved ALPHA DIGIT - . _ ~ */
const char *af_url_encode(const char *s, apr_pool_t *p);

/** application/x-www-form-urlencoded encoding: unreserved kept, ' ' -> '+', else %XX. */
const char *af_url_form_encode(const char *s, apr_pool_t *p);

/** HTML escaping of text and attribute values: & < > " ' escaped, control characters
 *  become '?'.  NULL gives "". */
const char *af_html_escape(const char *s, apr_pool_t *p);

#endif
