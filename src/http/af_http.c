/* af_http.c -- URL policy and dispatch to the installed HTTP implementation. */
#include <string.h>

#include <apr_strings.h>

#include "common/af_error.h"
#include "http/af_http.h"
#include "http/af_http_errors.h"

static const af_http_impl_t *http_impl;

void af_http_set_impl(const af_http_impl_t *impl)
{
    http_impl = impl;
}

/* Split "scheme://authority/..." into the host part; NULL when malformed. */
static int url_host(const char *url, int *https, const char **host, apr_size_t *host_len)
{
    const char *a, *e, *h, *he;

    if (url == NULL) {
        return 0;
    }
    if (strncasecmp(url, "https://", 8) == 0) {
        *https = 1;
        a = url + 8;
    } else if (strncasecmp(url, "http://", 7) == 0) {
        *https = 0;
        a = url + 7;
    } else {
        return 0;
    }
    e = a + strcspn(a, "/?#");
    if (e == a || memchr(a, '@', (size_t) (e - a)) != NULL ||
        memchr(a, '\\', (size_t) (e - a)) != NULL) {
        return 0; /* no host, or userinfo: refused */
    }
    for (h = a; h < e; h++) {
        if ((unsigned char) *h <= 0x20 || (unsigned char) *h >= 0x7f) {
            return 0;
        }
    }
    if (*a == '[') {
        he = memchr(a, ']', (size_t) (e - a));
        if (he == NULL) {
            return 0;
        }
        he++;
    } else {
        he = memchr(a, ':', (size_t) (e - a));
        if (he == NULL) {
            he = e;
        }
    }
    *host = a;
    *host_len = (apr_size_t) (he - a);
    return *host_len > 0;
}

static int host_is_loopback(const char *h, apr_size_t len)
{
    int parts = 0, digits = 0;
    unsigned val = 0;
    apr_size_t i;

    if (len == 9 && strncasecmp(h, "localhost", 9) == 0) {
        return 1;
    }
    if (len == 5 && memcmp(h, "[::1]", 5) == 0) {
        return 1;
    }
    if (len < 9 || memcmp(h, "127.", 4) != 0) {
        return 0;
    }
    /* strict dotted quad, each part 0..255 */
    for (i = 0; i <= len; i++) {
        if (i == len || h[i] == '.') {
            if (digits == 0 || val > 255) {
                return 0;
            }
            parts++;
            digits = 0;
            val = 0;
        } else if (h[i] >= '0' && h[i] <= '9' && digits < 3) {
            val = val * 10 + (unsigned) (h[i] - '0');
            digits++;
        } else {
            return 0;
        }
    }
    return parts == 4;
}

int af_http_url_is_loopback(const char *url)
{
    const char *host;
    apr_size_t len;
    int https;

    return url_host(url, &https, &host, &len) && host_is_loopback(host, len);
}

apr_status_t af_http_url_check(const char *url)
{
    const char *host;
    apr_size_t len;
    int https;

    if (!url_host(url, &https, &host, &len)) {
        return AF_EHTTP_URL;
    }
    if (!https && !host_is_loopback(host, len)) {
        return AF_EHTTP_URL;
    }
    return APR_SUCCESS;
}

apr_status_t af_http_perform(af_http_response_t **resp, const af_http_request_t *req, apr_pool_t *p)
{
    apr_status_t rv;

    if ((rv = af_http_url_check(req->url)) != APR_SUCCESS) {
        return rv;
    }
    if (http_impl == NULL) {
        http_impl = af_http_curl();
    }
    return http_impl->perform(resp, req, p);
}
