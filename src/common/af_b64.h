/* af_b64.h -- strict base64url (RFC 4648 §5, RFC 7515 §2).
 *
 * Decoding accepts only the URL-safe alphabet, no padding, no whitespace,
 * and canonical encodings: a length of 1 mod 4 and non-zero unused trailing
 * bits are rejected with AF_EBASE64.
 */
#ifndef AF_B64_H
#define AF_B64_H

#include <apr_pools.h>

/** Maximum decoded size of n base64url characters. */
#define AF_B64URL_DECODED_MAX(n) (((n) / 4) * 3 + 2)

/**
 * Decode into a caller buffer of at least AF_B64URL_DECODED_MAX(len) bytes.
 * @return APR_SUCCESS, or AF_EBASE64 (nothing written beyond out_len).
 */
apr_status_t af_b64url_decode_buf(unsigned char *out, apr_size_t *out_len, const char *in,
                                  apr_size_t len);

/** Decode into pool memory, NUL-terminated for convenience (out_len excludes it). */
apr_status_t af_b64url_decode(unsigned char **out, apr_size_t *out_len, const char *in,
                              apr_size_t len, apr_pool_t *p);

/** Encode without padding; returns a NUL-terminated pool string. */
const char *af_b64url_encode(const unsigned char *in, apr_size_t len, apr_pool_t *p);

/** Encode into a caller buffer of at least ((len + 2) / 3) * 4 + 1 bytes; returns length. */
apr_size_t af_b64url_encode_buf(char *out, const unsigned char *in, apr_size_t len);

#endif
