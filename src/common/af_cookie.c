/* af_cookie.c -- strict Cookie header parsing (see af_cookie.h). */
#include <string.h>

#include <apr_strings.h>

#include "common/af_cookie.h"
#include "common/af_error.h"

/* RFC 6265 cookie-octet: %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E */
static int is_cookie_octet(unsigned char c)
{
    return c == 0x21 || (c >= 0x23 && c <= 0x2B) || (c >= 0x2D && c <= 0x3A) ||
           (c >= 0x3C && c <= 0x5B) || (c >= 0x5D && c <= 0x7E);
}

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* One pair [b, e) trimmed; name [b, eq), value (eq, e). */
typedef struct pair_t {
    const char *b, *eq, *e;
} pair_t;

/* Next pair starting at *pos, ended by sep; returns 0 at the end. */
static int next_pair_sep(pair_t *pr, const char **pos, char sep)
{
    const char *s = *pos, *end;

    if (*s == '\0') {
        return 0;
    }
    end = strchr(s, sep);
    if (end == NULL) {
        end = s + strlen(s);
        *pos = end;
    } else {
        *pos = end + 1;
    }
    while (s < end && is_ows(*s)) {
        s++;
    }
    while (end > s && is_ows(end[-1])) {
        end--;
    }
    pr->b = s;
    pr->e = end;
    pr->eq = memchr(s, '=', (size_t) (end - s));
    return 1;
}

static int next_pair(pair_t *pr, const char **pos)
{
    return next_pair_sep(pr, pos, ';');
}

static int name_is(const pair_t *pr, const char *name, apr_size_t nlen)
{
    const char *ne = pr->eq;

    if (ne == NULL) {
        return 0;
    }
    while (ne > pr->b && is_ows(ne[-1])) {
        ne--;
    }
    return (apr_size_t) (ne - pr->b) == nlen && memcmp(pr->b, name, nlen) == 0;
}

static apr_status_t check_limits(const char *header)
{
    apr_size_t len = strlen(header), i;
    int pairs = 1;

    if (len > AF_COOKIE_MAX_HEADER) {
        return AF_ETOOBIG;
    }
    for (i = 0; i < len; i++) {
        if (header[i] == ';' && ++pairs > AF_COOKIE_MAX_PAIRS) {
            return AF_ETOOBIG;
        }
    }
    return APR_SUCCESS;
}

apr_status_t af_cookie_get(const char **value, const char *header, const char *name, apr_pool_t *p)
{
    apr_size_t nlen = strlen(name);
    const char *pos = header, *found_b = NULL, *found_e = NULL, *v, *ve, *c;
    pair_t pr;
    apr_status_t rv;

    if (header == NULL) {
        return AF_ENOTFOUND;
    }
    if ((rv = check_limits(header)) != APR_SUCCESS) {
        return rv;
    }
    while (next_pair(&pr, &pos)) {
        if (!name_is(&pr, name, nlen)) {
            continue;
        }
        if (found_b != NULL) {
            return AF_ECOOKIE; /* duplicate: ambiguous (cookie tossing) */
        }
        v = pr.eq + 1;
        while (v < pr.e && is_ows(*v)) {
            v++;
        }
        found_b = v;
        found_e = pr.e;
    }
    if (found_b == NULL) {
        return AF_ENOTFOUND;
    }
    v = found_b;
    ve = found_e;
    if (ve - v >= 2 && *v == '"' && ve[-1] == '"') {
        v++;
        ve--;
    }
    for (c = v; c < ve; c++) {
        if (!is_cookie_octet((unsigned char) *c)) {
            return AF_ECOOKIE;
        }
    }
    *value = apr_pstrmemdup(p, v, (apr_size_t) (ve - v));
    return APR_SUCCESS;
}

/* Append the trimmed pair [b, e) to w, after sep when w is not at the start. */
static char *put_pair(char *w, const char *start, const char *sep, const char *b, const char *e)
{
    if (w != start) {
        apr_size_t n = strlen(sep);
        memcpy(w, sep, n);
        w += n;
    }
    memcpy(w, b, (size_t) (e - b));
    return w + (e - b);
}

static int name_in(const pair_t *pr, const char *const *names, int n)
{
    int i;

    for (i = 0; i < n; i++) {
        if (name_is(pr, names[i], strlen(names[i]))) {
            return 1;
        }
    }
    return 0;
}

apr_status_t af_cookie_remove(const char **out, int *removed, const char *header,
                              const char *const *names, int n, apr_pool_t *p)
{
    const char *pos = header;
    char *buf, *w, *seg, *sw;
    pair_t pr, sub;
    int count = 0;
    apr_status_t rv;

    if (removed != NULL) {
        *removed = 0;
    }
    *out = header;
    if (header == NULL) {
        return APR_SUCCESS;
    }
    if ((rv = check_limits(header)) != APR_SUCCESS) {
        *out = NULL;
        return rv;
    }
    buf = w = apr_palloc(p, 2 * strlen(header) + 1); /* "a;b" may become "a; b" */
    seg = apr_palloc(p, 2 * strlen(header) + 1);
    while (next_pair(&pr, &pos)) {
        if (pr.e == pr.b) {
            continue;
        }
        if (memchr(pr.b, ',', (size_t) (pr.e - pr.b)) != NULL) {
            /* httpd joins repeated Cookie lines with ", ": look inside the pair too, and
             * keep the other applications' text as it was when nothing of ours is there */
            const char *sp = apr_pstrmemdup(p, pr.b, (size_t) (pr.e - pr.b));
            int dropped = 0;

            sw = seg;
            while (next_pair_sep(&sub, &sp, ',')) {
                if (name_in(&sub, names, n)) {
                    dropped++;
                } else if (sub.e != sub.b) {
                    sw = put_pair(sw, seg, ", ", sub.b, sub.e);
                }
            }
            if (dropped > 0) {
                count += dropped;
                if (sw != seg) {
                    w = put_pair(w, buf, "; ", seg, sw);
                }
                continue;
            }
        }
        if (name_in(&pr, names, n)) {
            count++;
            continue;
        }
        w = put_pair(w, buf, "; ", pr.b, pr.e);
    }
    *w = '\0';
    if (removed != NULL) {
        *removed = count;
    }
    if (count > 0) {
        *out = w == buf ? NULL : buf;
    }
    return APR_SUCCESS;
}
