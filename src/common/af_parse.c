/* af_parse.c -- durations and sizes (see af_parse.h). */
#include <string.h>

#include "common/af_parse.h"
#include "common/af_error.h"

/* Leading decimal digits of s into *v; returns the first non-digit or NULL on overflow/none. */
static const char *parse_digits(apr_uint64_t *v, const char *s)
{
    apr_uint64_t n = 0;
    const char *p = s;

    while (*p >= '0' && *p <= '9') {
        unsigned d = (unsigned) (*p - '0');

        if (n > (APR_UINT64_MAX - d) / 10) {
            return NULL;
        }
        n = n * 10 + d;
        p++;
    }
    if (p == s || p - s > 19) {
        return NULL;
    }
    *v = n;
    return p;
}

apr_status_t af_parse_duration(apr_int64_t *secs, const char *s)
{
    apr_uint64_t n, mult = 1;
    const char *p;

    if (s == NULL || (p = parse_digits(&n, s)) == NULL) {
        return AF_EDURATION;
    }
    if (*p != '\0') {
        switch (*p) {
        case 's':
        case 'S':
            mult = 1;
            break;
        case 'm':
        case 'M':
            mult = 60;
            break;
        case 'h':
        case 'H':
            mult = 3600;
            break;
        case 'd':
        case 'D':
            mult = 86400;
            break;
        default:
            return AF_EDURATION;
        }
        if (p[1] != '\0') {
            return AF_EDURATION;
        }
    }
    /* cap at 100 years: anything beyond is a typo, and keeps arithmetic far from overflow */
    if (n > (apr_uint64_t) 3153600000ULL / mult) {
        return AF_EDURATION;
    }
    *secs = (apr_int64_t) (n * mult);
    return APR_SUCCESS;
}

apr_status_t af_parse_size(apr_uint64_t *bytes, const char *s)
{
    apr_uint64_t n, mult = 1;
    const char *p;

    if (s == NULL || (p = parse_digits(&n, s)) == NULL) {
        return AF_ESIZE;
    }
    if (*p != '\0') {
        switch (*p) {
        case 'k':
        case 'K':
            mult = 1024ULL;
            break;
        case 'm':
        case 'M':
            mult = 1024ULL * 1024;
            break;
        case 'g':
        case 'G':
            mult = 1024ULL * 1024 * 1024;
            break;
        case 't':
        case 'T':
            mult = 1024ULL * 1024 * 1024 * 1024;
            break;
        case 'b':
        case 'B':
            mult = 1;
            p--; /* the 'B' check below consumes it */
            break;
        default:
            return AF_ESIZE;
        }
        p++;
        if (*p == 'b' || *p == 'B') {
            p++;
        }
        if (*p != '\0') {
            return AF_ESIZE;
        }
    }
    if (n > APR_UINT64_MAX / mult) {
        return AF_ESIZE;
    }
    *bytes = n * mult;
    return APR_SUCCESS;
}

int af_parse_hex4(const char *s, unsigned *out)
{
    unsigned v = 0;
    int i;

    for (i = 0; i < 4; i++) {
        unsigned char c = (unsigned char) s[i];
        v <<= 4;
        if (c >= '0' && c <= '9') {
            v |= (unsigned) (c - '0');
        } else if (c >= 'a' && c <= 'f') {
            v |= (unsigned) (c - 'a' + 10);
        } else if (c >= 'A' && c <= 'F') {
            v |= (unsigned) (c - 'A' + 10);
        } else {
            return 0;
        }
    }
    *out = v;
    return 1;
}

int af_parse_has_ctl(const char *s)
{
    for (; *s; s++) {
        if ((unsigned char) *s < 0x20 || (unsigned char) *s == 0x7f) {
            return 1;
        }
    }
    return 0;
}

int af_parse_is_name(const char *s, apr_size_t max)
{
    apr_size_t n = strlen(s);

    return n > 0 && n <= max &&
           strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == n;
}
