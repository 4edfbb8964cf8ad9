/* af_http.h -- outbound HTTP for the core library, behind a small vtable.
 *
 * http_curl.c is the only file that knows libcurl.  Rules for every request:
 * https only (plain http only to loopback hosts: 127.0.0.0/8, [::1], localhost),
 * TLS verified (optionally against a per-provider CA file), no redirects
 * followed, connect and total timeouts, a response size cap, CURLOPT_NOSIGNAL,
 * protocols restricted.  Never logs request bodies, Authorization headers or
 * response bodies (they carry codes, secrets and tokens).
 */
#ifndef AF_HTTP_H
#define AF_HTTP_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

typedef struct af_http_request_t {
    const char *method; /* "GET" or "POST" */
    const char *url;
    apr_table_t *headers; /* may be NULL */
    const char *body;     /* POST body (e.g. form-urlencoded) or NULL */
    apr_size_t body_len;
    apr_interval_time_t timeout;         /* total; 0: 10 s */
    apr_interval_time_t connect_timeout; /* 0: min(timeout, 5 s) */
    apr_size_t max_response;             /* 0: 256 KiB; larger bodies fail with AF_EHTTP_TOOBIG */
    const char *ca_file;                 /* NULL: system trust store */
    apr_pool_t *log_pool;                /* pool naming the request logged about; NULL: p */
} af_http_request_t;

typedef struct af_http_response_t {
    int status;
    apr_table_t *headers; /* lower-cased names */
    const char *body;     /* NUL-terminated */
    apr_size_t body_len;
} af_http_response_t;

typedef struct af_http_impl_t {
    apr_status_t (*perform)(af_http_response_t **resp, const af_http_request_t *req, apr_pool_t *p);
} af_http_impl_t;

/**
 * Another way to send one request than af_http_perform (e.g. behind a provider's outbound
 * guard), for code that builds requests on a caller's behalf (the JWKS cache).  A perform
 * that does not send the request at all returns AF_EHTTP_REFUSED.
 */
typedef struct af_http_via_t {
    apr_status_t (*perform)(af_http_response_t **resp, const af_http_request_t *req, void *baton,
                            apr_pool_t *p);
    void *baton;
} af_http_via_t;

/** The libcurl implementation (http_curl.c). */
const af_http_impl_t *af_http_curl(void);

/** Install the implementation used by af_http_perform (startup only; tests may swap it). */
void af_http_set_impl(const af_http_impl_t *impl);

/**
 * Perform a request with the installed implementation after af_http_url_check.
 * @return APR_SUCCESS (any HTTP status), AF_EHTTP_URL, AF_EHTTP_TIMEOUT, AF_EHTTP_TOOBIG,
 *         AF_EHTTP_CONNECT, AF_EHTTP_TLS
 */
apr_status_t af_http_perform(af_http_response_t **resp, const af_http_request_t *req,
                             apr_pool_t *p);

/** af_url_ok (https://…, or http:// to a loopback host) as a status.
 *  @return APR_SUCCESS or AF_EHTTP_URL */
apr_status_t af_http_url_check(const char *url);

/** Global libcurl initialisation: call once at startup, before any thread (not thread-safe). */
apr_status_t af_http_global_init(void);

#endif
