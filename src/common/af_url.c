/* af_url.c -- URL policy and encoders (see af_url.h). */
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include "common/af_url.h"

/* Split "scheme://authority..." into its host; 0 when malformed or refused. */
static int url_host(const char *url, int *https, const char **host, apr_size_t *host_len,
                    const char **auth_end)
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
        if (he != e && *he != ':') {
            return 0;
        }
    } else {
        he = memchr(a, ':', (size_t) (e - a));
        if (he == NULL) {
            he = e;
        }
    }
    *host = a;
    *host_len = (apr_size_t) (he - a);
    *auth_end = e;
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
    /* strict dotted quad, each part 0..255, no leading '+' or extra parts */
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

int af_url_is_loopback(const char *url)
{
    const char *host, *e;
    apr_size_t len;
    int https;

    return url_host(url, &https, &host, &len, &e) && host_is_loopback(host, len);
}

int af_url_is_https(const char *url)
{
    return url != NULL && strncasecmp(url, "https://", 8) == 0;
}

int af_url_ok(const char *url)
{
    const char *host, *e, *c;
    apr_size_t len;
    int https;

    if (!url_host(url, &https, &host, &len, &e)) {
        return 0;
    }
    for (c = url; *c; c++) {
        if ((unsigned char) *c <= 0x20 || *c == 0x7f || *c == '\\' || *c == '#') {
            return 0;
        }
    }
    return https || host_is_loopback(host, len);
}

const char *af_url_origin(const char *url, apr_pool_t *p)
{
    const char *host, *e;
    apr_size_t len;
    int https;
    char *o, *c;

    if (!url_host(url, &https, &host, &len, &e)) {
        return NULL;
    }
    o = apr_pstrmemdup(p, url, (apr_size_t) (e - url));
    for (c = o; *c; c++) {
        *c = (char) apr_tolower(*c);
    }
    return o;
}

static int unreserved(unsigned char c)
{
    return c < 0x80 && (apr_isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~');
}

static const char *encode(const char *s, int form, apr_pool_t *p)
{
    static const char hex[] = "0123456789ABCDEF";
    apr_size_t n = strlen(s), i;
    char *out = apr_palloc(p, 3 * n + 1), *w = out;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char) s[i];

        if (unreserved(c)) {
            *w++ = (char) c;
        } else if (form && c == ' ') {
            *w++ = '+';
        } else {
            *w++ = '%', *w++ = hex[c >> 4], *w++ = hex[c & 15];
        }
    }
    *w = '\0';
    return out;
}

const char *af_url_encode(const char *s, apr_pool_t *p)
{
    return encode(s, 0, p);
}

const char *af_url_form_encode(const char *s, apr_pool_t *p)
{
    return encode(s, 1, p);
}

const char *af_html_escape(const char *s, apr_pool_t *p)
{
    apr_size_t i;
    char *out, *w;

    if (s == NULL) {
        return "";
    }
    out = w = apr_palloc(p, 6 * strlen(s) + 1);
    for (i = 0; s[i]; i++) {
        unsigned char ch = (unsigned char) s[i];

        switch (ch) {
        case '&':
            memcpy(w, "&amp;", 5), w += 5;
            break;
        case '<':
            memcpy(w, "&lt;", 4), w += 4;
            break;
        case '>':
            memcpy(w, "&gt;", 4), w += 4;
            break;
        case '"':
            memcpy(w, "&quot;", 6), w += 6;
            break;
        case '\'':
            memcpy(w, "&#39;", 5), w += 5;
            break;
        default:
            *w++ = (ch < 0x20 || ch == 0x7f) ? '?' : (char) ch;
        }
    }
    *w = '\0';
    return out;
}
