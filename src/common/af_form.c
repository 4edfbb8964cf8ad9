/* af_form.c -- strict query / form parsing (see af_form.h). */
#include <string.h>

#include <apr_strings.h>

#include "common/af_form.h"

static int hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

char *af_form_decode(const char *s, apr_size_t len, apr_pool_t *p)
{
    char *out = apr_palloc(p, len + 1), *w = out;
    apr_size_t i;
    int hi, lo;

    for (i = 0; i < len; i++) {
        if (s[i] == '+') {
            *w++ = ' ';
        } else if (s[i] == '%') {
            if (i + 2 >= len) {
                return NULL; /* truncated */
            }
            hi = hexval(s[i + 1]);
            lo = hi < 0 ? -1 : hexval(s[i + 2]);
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                return NULL;
            }
            *w++ = (char) (hi * 16 + lo);
            i += 2;
        } else if (s[i] == '\0') {
            return NULL;
        } else {
            *w++ = s[i];
        }
    }
    *w = '\0';
    return out;
}

apr_status_t af_form_parse(apr_array_header_t **pairs, const char *s, int max_params,
                           apr_size_t max_len, unsigned flags, apr_pool_t *p)
{
    apr_array_header_t *a = apr_array_make(p, 8, sizeof(af_form_pair_t));
    const char *c = s, *amp, *eq;
    apr_size_t len, nlen;
    af_form_pair_t *pr;

    *pairs = a;
    if (s == NULL || *s == '\0') {
        return APR_SUCCESS;
    }
    if (strlen(s) > max_len) {
        return AF_ETOOBIG;
    }
    for (; c != NULL; c = amp != NULL ? amp + 1 : NULL) {
        amp = strchr(c, '&');
        len = amp != NULL ? (apr_size_t) (amp - c) : strlen(c);
        if (len == 0 && (flags & AF_FORM_SKIP_EMPTY)) {
            continue;
        }
        if (len == 0) {
            return AF_EFORM_EMPTY;
        }
        if (a->nelts >= max_params) {
            return AF_EFORM_LIMIT;
        }
        eq = memchr(c, '=', len);
        nlen = eq != NULL ? (apr_size_t) (eq - c) : len;
        pr = apr_array_push(a);
        pr->name = af_form_decode(c, nlen, p);
        pr->value = eq != NULL ? af_form_decode(eq + 1, len - nlen - 1, p) : "";
        if (pr->name == NULL || pr->value == NULL) {
            return AF_EFORM_ESCAPE;
        }
    }
    return APR_SUCCESS;
}

apr_status_t af_form_pick(const char **vals, const char *const *names, int n,
                          const apr_array_header_t *pairs)
{
    int i, j;

    for (i = 0; i < n; i++) {
        vals[i] = NULL;
    }
    for (j = 0; pairs != NULL && j < pairs->nelts; j++) {
        const af_form_pair_t *pr = &APR_ARRAY_IDX(pairs, j, af_form_pair_t);

        for (i = 0; i < n; i++) {
            if (strcmp(pr->name, names[i]) != 0) {
                continue;
            }
            if (vals[i] != NULL) {
                for (i = 0; i < n; i++) {
                    vals[i] = NULL;
                }
                return AF_EFORM_DUP;
            }
            vals[i] = pr->value;
        }
    }
    return APR_SUCCESS;
}

apr_status_t af_form_get(const char **vals, const char *const *names, int n, const char *s,
                         apr_pool_t *p)
{
    apr_array_header_t *pairs = NULL;
    apr_status_t rv;
    int i;

    rv = af_form_parse(&pairs, s, AF_FORM_MAX_PARAMS, AF_FORM_MAX_LEN, 0, p);
    if (rv != APR_SUCCESS) {
        for (i = 0; i < n; i++) {
            vals[i] = NULL;
        }
        return rv;
    }
    return af_form_pick(vals, names, n, pairs);
}
