/* json_reader.c -- the strict JSON reader behind af_json_parse.
 *
 * A recursive-descent reader straight over the buffer that builds jansson values.  It is
 * stricter than, and otherwise equivalent to, json_loadb(JSON_REJECT_DUPLICATES) (a
 * differential test in tests/unit/test_json.c checks that), and several times faster:
 * jansson lexes through a character stream, and this runs on every request.
 *   - UTF-8 only, validated (no overlong forms, no surrogates, nothing above U+10FFFF)
 *   - no NUL anywhere: raw bytes < 0x20 are refused in strings, "\u0000" is refused
 *   - escaped surrogates must pair up; duplicate member names are refused
 *   - numbers per RFC 8259; integers that overflow json_int_t and reals that overflow a
 *     double are refused
 *   - nesting deeper than AF_JSON_MAX_DEPTH gives AF_EJSON_DEPTH (recursion is bounded)
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/af_parse.h"
#include "common/af_error.h"
#include "common/af_json.h"
#include "common/json_reader.h"

typedef struct {
    const unsigned char *s, *end;
    int depth;
    apr_status_t rv;
    char *buf; /* scratch for unescaped strings and numbers */
    size_t cap;
} reader_t;

static json_t *read_value(reader_t *r);

static void fail(reader_t *r, apr_status_t rv)
{
    if (r->rv == APR_SUCCESS) {
        r->rv = rv;
    }
}

static void skip_ws(reader_t *r)
{
    while (r->s < r->end && (*r->s == ' ' || *r->s == '\n' || *r->s == '\r' || *r->s == '\t')) {
        r->s++;
    }
}

static int reserve(reader_t *r, size_t n)
{
    if (n > r->cap) {
        size_t cap = r->cap < 256 ? 256 : r->cap;
        char *nb;

        while (cap < n) {
            cap *= 2;
        }
        nb = realloc(r->buf, cap);
        if (nb == NULL) {
            return 0;
        }
        r->buf = nb;
        r->cap = cap;
    }
    return 1;
}

/* Length of the valid UTF-8 sequence at p (lead byte >= 0x80), 0 if invalid. */
static int utf8_len(const unsigned char *p, const unsigned char *end)
{
    unsigned char c = p[0];
    int n, i;
    unsigned char lo = 0x80, hi = 0xbf;

    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        if (c == 0xe0) {
            lo = 0xa0; /* no overlong forms */
        } else if (c == 0xed) {
            hi = 0x9f; /* no surrogates */
        }
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        if (c == 0xf0) {
            lo = 0x90;
        } else if (c == 0xf4) {
            hi = 0x8f; /* <= U+10FFFF */
        }
    } else {
        return 0;
    }
    if (end - p < n || p[1] < lo || p[1] > hi) {
        return 0;
    }
    for (i = 2; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            return 0;
        }
    }
    return n;
}

/* Read a string (r->s at the opening quote).  *out points at the raw bytes when there was
 * no escape, else into r->buf.  Returns the length, or (size_t) -1 on error. */
static size_t read_string(reader_t *r, const char **out)
{
    const unsigned char *start = ++r->s, *p = start;
    size_t len = 0;
    int escaped = 0;

    for (;;) {
        unsigned char c;

        if (p >= r->end) {
            goto bad;
        }
        c = *p;
        if (c == '"') {
            break;
        }
        if (c < 0x20) {
            goto bad; /* control characters and NUL must be escaped; NUL is refused */
        }
        if (c == '\\') {
            unsigned cp;

            if (!escaped) {
                /* switch to the scratch buffer: copy what came before */
                if (!reserve(r, (size_t) (p - start) + (size_t) (r->end - p) + 4)) {
                    goto bad;
                }
                memcpy(r->buf, start, (size_t) (p - start));
                len = (size_t) (p - start);
                escaped = 1;
            }
            if (r->end - p < 2) {
                goto bad;
            }
            switch (p[1]) {
            case '"':
            case '\\':
            case '/':
                r->buf[len++] = (char) p[1];
                p += 2;
                continue;
            case 'b':
                r->buf[len++] = '\b';
                p += 2;
                continue;
            case 'f':
                r->buf[len++] = '\f';
                p += 2;
                continue;
            case 'n':
                r->buf[len++] = '\n';
                p += 2;
                continue;
            case 'r':
                r->buf[len++] = '\r';
                p += 2;
                continue;
            case 't':
                r->buf[len++] = '\t';
                p += 2;
                continue;
            case 'u':
                break;
            default:
                goto bad;
            }
            if (r->end - p < 6 || !af_parse_hex4((const char *) p + 2, &cp)) {
                goto bad;
            }
            p += 6;
            if (cp == 0) {
                goto bad; /* no NUL ever reaches a C string */
            }
            if (cp >= 0xdc00 && cp <= 0xdfff) {
                goto bad; /* lone low surrogate */
            }
            if (cp >= 0xd800 && cp <= 0xdbff) {
                unsigned lo;

                if (r->end - p < 6 || p[0] != '\\' || p[1] != 'u' ||
                    !af_parse_hex4((const char *) p + 2, &lo) || lo < 0xdc00 || lo > 0xdfff) {
                    goto bad;
                }
                p += 6;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            }
            /* UTF-8 of cp: never longer than the 6 or 12 escape bytes it replaces */
            if (cp < 0x80) {
                r->buf[len++] = (char) cp;
            } else if (cp < 0x800) {
                r->buf[len++] = (char) (0xc0 | (cp >> 6));
                r->buf[len++] = (char) (0x80 | (cp & 0x3f));
            } else if (cp < 0x10000) {
                r->buf[len++] = (char) (0xe0 | (cp >> 12));
                r->buf[len++] = (char) (0x80 | ((cp >> 6) & 0x3f));
                r->buf[len++] = (char) (0x80 | (cp & 0x3f));
            } else {
                r->buf[len++] = (char) (0xf0 | (cp >> 18));
                r->buf[len++] = (char) (0x80 | ((cp >> 12) & 0x3f));
                r->buf[len++] = (char) (0x80 | ((cp >> 6) & 0x3f));
                r->buf[len++] = (char) (0x80 | (cp & 0x3f));
            }
            continue;
        }
        if (c < 0x80) {
            if (escaped) {
                r->buf[len++] = (char) c;
            }
            p++;
            continue;
        }
        {
            int n = utf8_len(p, r->end);
            if (n == 0) {
                goto bad;
            }
            if (escaped) {
                memcpy(r->buf + len, p, (size_t) n);
                len += (size_t) n;
            }
            p += n;
        }
    }
    r->s = p + 1;
    if (escaped) {
        *out = r->buf;
        return len;
    }
    *out = (const char *) start;
    return (size_t) (p - start);
bad:
    fail(r, AF_EJSON);
    return (size_t) -1;
}

static json_t *read_number(reader_t *r)
{
    const unsigned char *p = r->s, *start = r->s;
    int is_real = 0;
    size_t n;

    if (p < r->end && *p == '-') {
        p++;
    }
    if (p >= r->end) {
        goto bad;
    }
    if (*p == '0') {
        p++;
    } else if (*p >= '1' && *p <= '9') {
        while (p < r->end && *p >= '0' && *p <= '9') {
            p++;
        }
    } else {
        goto bad;
    }
    if (p < r->end && *p == '.') {
        is_real = 1;
        p++;
        if (p >= r->end || *p < '0' || *p > '9') {
            goto bad;
        }
        while (p < r->end && *p >= '0' && *p <= '9') {
            p++;
        }
    }
    if (p < r->end && (*p == 'e' || *p == 'E')) {
        is_real = 1;
        p++;
        if (p < r->end && (*p == '+' || *p == '-')) {
            p++;
        }
        if (p >= r->end || *p < '0' || *p > '9') {
            goto bad;
        }
        while (p < r->end && *p >= '0' && *p <= '9') {
            p++;
        }
    }
    n = (size_t) (p - start);
    if (!reserve(r, n + 1)) {
        goto bad;
    }
    memcpy(r->buf, start, n);
    r->buf[n] = '\0';
    r->s = p;
    errno = 0;
    if (!is_real) {
        char *e;
        long long v = strtoll(r->buf, &e, 10);

        if (errno == ERANGE || e != r->buf + n) {
            goto bad; /* too big an integer */
        }
        return json_integer((json_int_t) v);
    } else {
        char *e;
        double d = strtod(r->buf, &e);

        if (e != r->buf + n || ((d == HUGE_VAL || d == -HUGE_VAL) && errno == ERANGE)) {
            goto bad;
        }
        return json_real(d);
    }
bad:
    fail(r, AF_EJSON);
    return NULL;
}

static int literal(reader_t *r, const char *word, size_t n)
{
    if ((size_t) (r->end - r->s) < n || memcmp(r->s, word, n) != 0) {
        fail(r, AF_EJSON);
        return 0;
    }
    r->s += n;
    return 1;
}

static json_t *read_object(reader_t *r)
{
    json_t *obj = json_object();

    r->s++; /* '{' */
    if (obj == NULL) {
        goto bad;
    }
    skip_ws(r);
    if (r->s < r->end && *r->s == '}') {
        r->s++;
        return obj;
    }
    for (;;) {
        const char *key;
        size_t kl, size;
        char *kcopy;
        json_t *v;

        if (r->s >= r->end || *r->s != '"') {
            goto bad;
        }
        kl = read_string(r, &key);
        if (kl == (size_t) -1) {
            goto bad;
        }
        /* an unescaped key points into the input, an escaped one into the scratch
         * buffer, which reading the value may reuse: copy only that one */
        kcopy = NULL;
        if (key == r->buf) {
            kcopy = malloc(kl + 1);
            if (kcopy == NULL) {
                goto bad;
            }
            memcpy(kcopy, key, kl);
            key = kcopy;
        }
        skip_ws(r);
        if (r->s >= r->end || *r->s != ':') {
            free(kcopy);
            goto bad;
        }
        r->s++;
        skip_ws(r);
        v = read_value(r);
        size = json_object_size(obj);
        if (v == NULL || json_object_setn_new_nocheck(obj, key, kl, v) != 0 ||
            json_object_size(obj) != size + 1) {
            free(kcopy);
            goto bad; /* ... or a duplicate member name, which replaced a value (A07) */
        }
        free(kcopy);
        skip_ws(r);
        if (r->s < r->end && *r->s == ',') {
            r->s++;
            skip_ws(r);
            continue;
        }
        if (r->s < r->end && *r->s == '}') {
            r->s++;
            return obj;
        }
        goto bad;
    }
bad:
    fail(r, AF_EJSON);
    json_decref(obj);
    return NULL;
}

static json_t *read_array(reader_t *r)
{
    json_t *arr = json_array();

    r->s++; /* '[' */
    if (arr == NULL) {
        goto bad;
    }
    skip_ws(r);
    if (r->s < r->end && *r->s == ']') {
        r->s++;
        return arr;
    }
    for (;;) {
        json_t *v = read_value(r);

        if (v == NULL || json_array_append_new(arr, v) != 0) {
            goto bad;
        }
        skip_ws(r);
        if (r->s < r->end && *r->s == ',') {
            r->s++;
            skip_ws(r);
            continue;
        }
        if (r->s < r->end && *r->s == ']') {
            r->s++;
            return arr;
        }
        goto bad;
    }
bad:
    fail(r, AF_EJSON);
    json_decref(arr);
    return NULL;
}

static json_t *read_value(reader_t *r)
{
    json_t *v;

    if (r->s >= r->end) {
        fail(r, AF_EJSON);
        return NULL;
    }
    switch (*r->s) {
    case '{':
    case '[':
        if (++r->depth > AF_JSON_MAX_DEPTH) {
            fail(r, AF_EJSON_DEPTH);
            return NULL;
        }
        v = *r->s == '{' ? read_object(r) : read_array(r);
        r->depth--;
        return v;
    case '"': {
        const char *s;
        size_t n = read_string(r, &s);

        if (n == (size_t) -1) {
            return NULL;
        }
        v = json_stringn_nocheck(s, n);
        if (v == NULL) {
            fail(r, AF_EJSON);
        }
        return v;
    }
    case 't':
        return literal(r, "true", 4) ? json_true() : NULL;
    case 'f':
        return literal(r, "false", 5) ? json_false() : NULL;
    case 'n':
        return literal(r, "null", 4) ? json_null() : NULL;
    default:
        return read_number(r);
    }
}

apr_status_t af_json_read(json_t **out, const char *text, apr_size_t len)
{
    reader_t r;
    json_t *v;

    *out = NULL;
    memset(&r, 0, sizeof(r));
    r.s = (const unsigned char *) text;
    r.end = r.s + len;
    skip_ws(&r);
    v = read_value(&r);
    if (v != NULL) {
        skip_ws(&r);
        if (r.s != r.end) {
            fail(&r, AF_EJSON); /* bytes after the value */
        }
    }
    free(r.buf);
    if (r.rv != APR_SUCCESS || v == NULL) {
        json_decref(v);
        return r.rv != APR_SUCCESS ? r.rv : AF_EJSON;
    }
    *out = v;
    return APR_SUCCESS;
}
