/* af_b64.c -- strict, canonical base64url (RFC 4648 §5, RFC 7515 §2), table-driven. */
#include <string.h>

#include <apr_strings.h>

#include "common/af_b64.h"
#include "common/af_error.h"

#define X 0xff /* not in the alphabet */

/* clang-format off */
static const unsigned char dec_tab[256] = {
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, 62, X, X,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, X, X, X, X, X, X,
    X, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, X, X, X, X, 63,
    X, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
};
/* clang-format on */

static const char enc_tab[64] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

apr_status_t af_b64url_decode_buf(unsigned char *out, apr_size_t *out_len, const char *in,
                                  apr_size_t len)
{
    const unsigned char *s = (const unsigned char *) in;
    apr_size_t full = len / 4, rest = len % 4, i;
    unsigned char *o = out;
    unsigned a, b, c, d;

    *out_len = 0;
    if (rest == 1) {
        return AF_EBASE64;
    }
    for (i = 0; i < full; i++, s += 4) {
        a = dec_tab[s[0]];
        b = dec_tab[s[1]];
        c = dec_tab[s[2]];
        d = dec_tab[s[3]];
        if ((a | b | c | d) & 0x80) {
            return AF_EBASE64;
        }
        o[0] = (unsigned char) ((a << 2) | (b >> 4));
        o[1] = (unsigned char) ((b << 4) | (c >> 2));
        o[2] = (unsigned char) ((c << 6) | d);
        o += 3;
    }
    if (rest == 2) {
        a = dec_tab[s[0]];
        b = dec_tab[s[1]];
        if (((a | b) & 0x80) || (b & 0x0f) != 0) {
            return AF_EBASE64;
        }
        *o++ = (unsigned char) ((a << 2) | (b >> 4));
    } else if (rest == 3) {
        a = dec_tab[s[0]];
        b = dec_tab[s[1]];
        c = dec_tab[s[2]];
        if (((a | b | c) & 0x80) || (c & 0x03) != 0) {
            return AF_EBASE64;
        }
        o[0] = (unsigned char) ((a << 2) | (b >> 4));
        o[1] = (unsigned char) ((b << 4) | (c >> 2));
        o += 2;
    }
    *out_len = (apr_size_t) (o - out);
    return APR_SUCCESS;
}

apr_status_t af_b64url_decode(unsigned char **out, apr_size_t *out_len, const char *in,
                              apr_size_t len, apr_pool_t *p)
{
    unsigned char *buf;
    apr_status_t rv;

    *out = NULL;
    *out_len = 0;
    buf = apr_palloc(p, AF_B64URL_DECODED_MAX(len) + 1);
    rv = af_b64url_decode_buf(buf, out_len, in, len);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    buf[*out_len] = '\0';
    *out = buf;
    return APR_SUCCESS;
}

apr_size_t af_b64url_encode_buf(char *out, const unsigned char *in, apr_size_t len)
{
    char *o = out;
    apr_size_t i = 0;

    for (; i + 3 <= len; i += 3) {
        unsigned v = ((unsigned) in[i] << 16) | ((unsigned) in[i + 1] << 8) | in[i + 2];
        o[0] = enc_tab[(v >> 18) & 63];
        o[1] = enc_tab[(v >> 12) & 63];
        o[2] = enc_tab[(v >> 6) & 63];
        o[3] = enc_tab[v & 63];
        o += 4;
    }
    if (len - i == 1) {
        unsigned v = (unsigned) in[i] << 16;
        o[0] = enc_tab[(v >> 18) & 63];
        o[1] = enc_tab[(v >> 12) & 63];
        o += 2;
    } else if (len - i == 2) {
        unsigned v = ((unsigned) in[i] << 16) | ((unsigned) in[i + 1] << 8);
        o[0] = enc_tab[(v >> 18) & 63];
        o[1] = enc_tab[(v >> 12) & 63];
        o[2] = enc_tab[(v >> 6) & 63];
        o += 3;
    }
    *o = '\0';
    return (apr_size_t) (o - out);
}

const char *af_b64url_encode(const unsigned char *in, apr_size_t len, apr_pool_t *p)
{
    char *out = apr_palloc(p, ((len + 2) / 3) * 4 + 1);

    af_b64url_encode_buf(out, in, len);
    return out;
}
