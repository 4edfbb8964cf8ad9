/* http_curl.c -- the libcurl implementation of af_http_impl_t; the only file that knows curl.
 *
 * One easy handle per request (so one per thread), CURLOPT_NOSIGNAL, protocols restricted
 * to https (http only for loopback URLs, already checked by af_http_perform), no redirects,
 * no proxy from the environment, no content decoding, TLS peer and host verified,
 * connect/total timeouts, a body cap enforced while receiving.
 */
#include <ctype.h>
#include <string.h>

#include <apr_strings.h>
#include <curl/curl.h>

#include "common/af_error.h"
#include "common/af_log.h"
#include "common/af_url.h"
#include "http/af_http.h"
#include "http/af_http_errors.h"

#define AF_HTTP_DEFAULT_TIMEOUT apr_time_from_sec(10)
#define AF_HTTP_DEFAULT_CONNECT apr_time_from_sec(5)
#define AF_HTTP_DEFAULT_MAX     (256 * 1024)
#define AF_HTTP_MAX_HEADERS     (64 * 1024)

typedef struct recv_t {
    apr_pool_t *p;
    char *buf;
    apr_size_t len, cap, max;
    int too_big;
    apr_table_t *headers;
    apr_size_t header_bytes;
} recv_t;

static size_t on_body(char *data, size_t size, size_t nmemb, void *baton)
{
    recv_t *rc = baton;
    apr_size_t n = size * nmemb;
    char *nb;

    if (n > rc->max || rc->len + n > rc->max) {
        rc->too_big = 1;
        return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
    }
    if (rc->len + n + 1 > rc->cap) {
        apr_size_t cap = rc->cap ? rc->cap : 4096;

        while (cap < rc->len + n + 1) {
            cap *= 2;
        }
        nb = apr_palloc(rc->p, cap);
        if (rc->len) {
            memcpy(nb, rc->buf, rc->len);
        }
        rc->buf = nb;
        rc->cap = cap;
    }
    memcpy(rc->buf + rc->len, data, n);
    rc->len += n;
    rc->buf[rc->len] = '\0';
    return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *baton)
{
    recv_t *rc = baton;
    apr_size_t n = size * nmemb, i;
    char *line, *colon, *v, *e;

    rc->header_bytes += n;
    if (rc->header_bytes > AF_HTTP_MAX_HEADERS) {
        return 0;
    }
    if (n >= 5 && memcmp(data, "HTTP/", 5) == 0) {
        apr_table_clear(rc->headers); /* a new response (after 1xx) */
        return n;
    }
    line = apr_pstrmemdup(rc->p, data, n);
    colon = strchr(line, ':');
    if (colon == NULL) {
        return n;
    }
    *colon = '\0';
    for (i = 0; line[i]; i++) {
        line[i] = (char) tolower((unsigned char) line[i]);
    }
    v = colon + 1;
    while (*v == ' ' || *v == '\t') {
        v++;
    }
    e = v + strlen(v);
    while (e > v && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' ' || e[-1] == '\t')) {
        *--e = '\0';
    }
    apr_table_add(rc->headers, line, v);
    return n;
}

typedef struct hdr_ctx_t {
    struct curl_slist *list;
    apr_pool_t *p;
} hdr_ctx_t;

static int add_header(void *baton, const char *k, const char *v)
{
    hdr_ctx_t *hc = baton;

    hc->list = curl_slist_append(hc->list, apr_pstrcat(hc->p, k, ": ", v, NULL));
    return 1;
}

static apr_status_t map_error(CURLcode cc, const recv_t *rc)
{
    switch (cc) {
    case CURLE_OPERATION_TIMEDOUT:
        return AF_EHTTP_TIMEOUT;
    case CURLE_FILESIZE_EXCEEDED:
        return AF_EHTTP_TOOBIG;
    case CURLE_WRITE_ERROR:
        return rc->too_big ? AF_EHTTP_TOOBIG : AF_EHTTP_CONNECT;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
        return AF_EHTTP_TLS;
    case CURLE_UNSUPPORTED_PROTOCOL:
        return AF_EHTTP_URL;
    default:
        return AF_EHTTP_CONNECT;
    }
}

static apr_status_t curl_perform(af_http_response_t **resp, const af_http_request_t *req,
                                 apr_pool_t *p)
{
    CURL *h = NULL;
    CURLcode cc;
    recv_t rc;
    hdr_ctx_t hc = {NULL, p};
    apr_interval_time_t timeout, connect;
    af_http_response_t *out;
    long status = 0;
    apr_status_t rv = APR_SUCCESS;
    int post = req->method != NULL && strcmp(req->method, "POST") == 0;

    memset(&rc, 0, sizeof(rc));
    rc.p = p;
    rc.max = req->max_response ? req->max_response : AF_HTTP_DEFAULT_MAX;
    rc.headers = apr_table_make(p, 16);
    timeout = req->timeout > 0 ? req->timeout : AF_HTTP_DEFAULT_TIMEOUT;
    connect = req->connect_timeout > 0 ? req->connect_timeout : AF_HTTP_DEFAULT_CONNECT;
    if (connect > timeout) {
        connect = timeout;
    }

    h = curl_easy_init();
    if (h == NULL) {
        rv = AF_EINTERNAL;
        goto leave;
    }
    curl_easy_setopt(h, CURLOPT_URL, req->url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR,
                     af_url_is_loopback(req->url) ? "http,https" : "https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "https");
#else
    curl_easy_setopt(h, CURLOPT_PROTOCOLS,
                     af_url_is_loopback(req->url) ? (long) (CURLPROTO_HTTP | CURLPROTO_HTTPS)
                                                  : (long) CURLPROTO_HTTPS);
#endif
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_PROXY, ""); /* never a proxy from the environment */
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (req->ca_file != NULL) {
        curl_easy_setopt(h, CURLOPT_CAINFO, req->ca_file);
    }
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long) apr_time_as_msec(timeout));
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long) apr_time_as_msec(connect));
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) rc.max);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "mod_authflow");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &rc);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &rc);
    if (post) {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body ? req->body : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t) (req->body ? req->body_len : 0));
    } else {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    }
    if (req->headers != NULL) {
        apr_table_do(add_header, &hc, req->headers, NULL);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hc.list);
    }

    cc = curl_easy_perform(h);
    if (cc != CURLE_OK) {
        rv = map_error(cc, &rc);
        af_log_p(req->log_pool != NULL ? req->log_pool : p, AF_LOG_DEBUG, "AF06001",
                 "http: request failed: %s (%s)", af_strerror(rv), curl_easy_strerror(cc));
        goto leave;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    out = apr_pcalloc(p, sizeof(*out));
    out->status = (int) status;
    out->headers = rc.headers;
    out->body = rc.buf ? rc.buf : "";
    out->body_len = rc.len;
    *resp = out;

leave:
    if (hc.list != NULL) {
        curl_slist_free_all(hc.list);
    }
    if (h != NULL) {
        curl_easy_cleanup(h);
    }
    return rv;
}

static const af_http_impl_t curl_impl = {curl_perform};

const af_http_impl_t *af_http_curl(void)
{
    return &curl_impl;
}

apr_status_t af_http_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? APR_SUCCESS : AF_EINTERNAL;
}
