/* af_log.h -- logging injected into the core library.
 *
 * The core never includes httpd headers; the glue (src/httpd) installs a sink
 * that forwards to ap_log_error, the CLI one that writes to stderr, unit tests
 * one that records lines.  Levels use syslog numbering, like APLOG_*.
 *
 * Rule: no log line ever carries a token, code, verifier, secret or key
 * material.  Log the reason code (af_strerror) and non-secret identifiers
 * (kid, iss, provider name, a family id) only.
 */
#ifndef AF_LOG_H
#define AF_LOG_H

#include <apr.h>
#include <apr_pools.h>

#define AF_LOG_ERR     3
#define AF_LOG_WARNING 4
#define AF_LOG_NOTICE  5
#define AF_LOG_INFO    6
#define AF_LOG_DEBUG   7

/**
 * A sink: tag is our stable "AFnnnnn" log tag (may be NULL), msg is formatted.  p is the
 * pool of the work the line is about (a request's pool, from af_log_p), or NULL: the
 * glue's sink finds the request from it, so that a core line lands in the virtual host's
 * ErrorLog with the client address, like httpd's own request lines.
 */
typedef void af_log_fn(void *baton, apr_pool_t *p, int level, const char *tag, const char *msg);

/** Install the sink (NULL: discard). Not thread-safe: call at startup only. */
void af_log_set(af_log_fn *fn, void *baton, int max_level);

/** Is a message of this level wanted? Cheap: use it to skip formatting on hot paths. */
int af_log_wanted(int level);

/** printf-style logging through the sink, without a request. */
void af_log(int level, const char *tag, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/** The same about the work of pool p (a request's pool or a subpool of it). */
void af_log_p(apr_pool_t *p, int level, const char *tag, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/**
 * A log throttle: at most one line per interval for a failure that may repeat on every
 * request (a full store under a flood must not write a line per request).  Zero-initialise
 * it; it is thread-safe (atomics) and lives as long as the thing it throttles (a store
 * handle, a per-child slot).
 */
typedef struct af_log_throttle_t {
    apr_int64_t next;        /* apr_time_t before which lines are only counted */
    apr_uint64_t suppressed; /* lines not written since the last one */
} af_log_throttle_t;

/**
 * May a line be written now?  1 when interval (microseconds) has passed since the last
 * line written through t (or none was): *suppressed is then the number of lines refused
 * since, and the count starts again.  0 otherwise (the line is counted).
 * @param now apr_time_now(), passed in for tests
 */
int af_log_throttle(af_log_throttle_t *t, apr_int64_t now, apr_int64_t interval,
                    apr_uint64_t *suppressed);

#endif
