/* jws.c -- JWS compact serialization (RFC 7515 §7.1): strict parse, verify, sign. */
#include <string.h>

#include <apr_strings.h>

#include "common/af_b64.h"
#include "common/af_json.h"
#include "jose/af_jws.h"
#include "jose/jose_int.h"

/* At most this many candidate keys are tried for one token (SECURITY.md E07). */
#define AF_JWS_MAX_CANDIDATES 4

static apr_status_t check_header(af_jws_t *jws)
{
    const json_t *h = jws->header, *v;

    /* JWE, unencoded payloads, compression, critical extensions: never (A05, A09-A11) */
    if (json_object_get(h, "enc") != NULL || json_object_get(h, "b64") != NULL ||
        json_object_get(h, "zip") != NULL || json_object_get(h, "crit") != NULL) {
        return AF_EJWS_UNSUPPORTED;
    }
    /* alg: a string naming one of our algorithms; "none" in any spelling is unknown */
    v = json_object_get(h, "alg");
    if (!json_is_string(v)) {
        return AF_EJWS_ALG;
    }
    jws->alg = af_alg_from_name(json_string_value(v));
    if (jws->alg == AF_ALG_UNKNOWN) {
        return AF_EJWS_ALG;
    }
    v = json_object_get(h, "cty");
    if (v != NULL) {
        const char *cty;

        if (!json_is_string(v)) {
            return AF_EJWS_FORMAT;
        }
        cty = json_string_value(v);
        if (strncasecmp(cty, "application/", 12) == 0) {
            cty += 12;
        }
        if (strcasecmp(cty, "JWT") == 0) {
            return AF_EJWS_UNSUPPORTED; /* nested JWT (A12) */
        }
    }
    v = json_object_get(h, "kid");
    if (v != NULL) {
        if (!json_is_string(v)) {
            return AF_EJWS_FORMAT;
        }
        jws->kid = json_string_value(v);
    }
    v = json_object_get(h, "typ");
    if (v != NULL) {
        if (!json_is_string(v)) {
            return AF_EJWS_FORMAT;
        }
        jws->typ = json_string_value(v);
    }
    /* jku, x5u, jwk, x5c, x5t: never used to find a key (A13) */
    return APR_SUCCESS;
}

apr_status_t af_jws_parse(af_jws_t **out, const char *compact, apr_size_t len, apr_size_t max_len,
                          apr_pool_t *p)
{
    return af_jws_parse_ex(out, compact, len, max_len, 0, p);
}

apr_status_t af_jws_parse_ex(af_jws_t **out, const char *compact, apr_size_t len,
                             apr_size_t max_len, int flags, apr_pool_t *p)
{
    const char *d1, *d2, *end;
    apr_size_t hl, pl, sl, hmax, pmax;
    unsigned char *buf, *hdr;
    apr_size_t hdr_len;
    af_jws_t *jws;
    apr_status_t rv;

    *out = NULL;
    if (max_len == 0) {
        max_len = AF_JWS_MAX_LEN;
    }
    if (compact == NULL) {
        return AF_EJWS_FORMAT;
    }
    if (len > max_len) {
        return AF_ETOOBIG; /* before any decoding (A21) */
    }
    end = compact + len;
    d1 = memchr(compact, '.', len);
    if (d1 == NULL || compact[0] == '{') {
        return AF_EJWS_FORMAT;
    }
    d2 = memchr(d1 + 1, '.', (apr_size_t) (end - d1 - 1));
    if (d2 == NULL || memchr(d2 + 1, '.', (apr_size_t) (end - d2 - 1)) != NULL) {
        return AF_EJWS_FORMAT; /* not exactly three segments (JWE has five) */
    }
    hl = (apr_size_t) (d1 - compact);
    pl = (apr_size_t) (d2 - d1 - 1);
    sl = (apr_size_t) (end - d2 - 1);
    if (hl == 0 || sl == 0 || (pl == 0 && !(flags & AF_JWS_ALLOW_EMPTY_PAYLOAD))) {
        return AF_EJWS_FORMAT; /* empty segment, detached payload, unsecured JWS */
    }
    /* one allocation for the three decoded segments */
    hmax = AF_B64URL_DECODED_MAX(hl) + 1;
    pmax = AF_B64URL_DECODED_MAX(pl) + 1;
    buf = apr_palloc(p, hmax + pmax + AF_B64URL_DECODED_MAX(sl) + 1);
    jws = apr_pcalloc(p, sizeof(*jws));
    hdr = buf;
    if ((rv = af_b64url_decode_buf(hdr, &hdr_len, compact, hl)) != APR_SUCCESS) {
        return rv;
    }
    rv = af_json_parse(&jws->header, (const char *) hdr, hdr_len, 0, p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = check_header(jws);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    jws->payload = buf + hmax;
    if ((rv = af_b64url_decode_buf(buf + hmax, &jws->payload_len, d1 + 1, pl)) != APR_SUCCESS) {
        return rv;
    }
    buf[hmax + jws->payload_len] = '\0';
    jws->sig = buf + hmax + pmax;
    if ((rv = af_b64url_decode_buf(buf + hmax + pmax, &jws->sig_len, d2 + 1, sl)) != APR_SUCCESS) {
        return rv;
    }
    jws->signing_input = compact;
    jws->signing_input_len = (apr_size_t) (d2 - compact);
    *out = jws;
    return APR_SUCCESS;
}

apr_status_t af_jws_verify(const af_jws_t *jws, const af_key_t *key)
{
    if (jws == NULL || key == NULL) {
        return AF_EJWS_NOKEY;
    }
    if (jws->alg == AF_ALG_UNKNOWN || jws->alg != key->alg) {
        return AF_EJWS_ALG; /* the algorithm comes from the key, never from the header */
    }
    return af_jws_verify_raw(key, (const unsigned char *) jws->signing_input,
                             jws->signing_input_len, jws->sig, jws->sig_len);
}

apr_status_t af_jws_verify_keyset(const af_key_t **used, const af_jws_t *jws, const af_keyset_t *ks)
{
    const af_key_t *cands[AF_JWS_MAX_CANDIDATES];
    apr_status_t rv = AF_EJWS_ALG;
    int i, n;

    if (used != NULL) {
        *used = NULL;
    }
    n = af_keyset_select(cands, AF_JWS_MAX_CANDIDATES, ks, jws->kid, jws->alg);
    if (n == 0) {
        return AF_EJWS_NOKEY;
    }
    for (i = 0; i < n; i++) {
        apr_status_t r;

        if (cands[i]->alg != jws->alg) {
            continue;
        }
        r = af_jws_verify(jws, cands[i]);
        if (r == APR_SUCCESS) {
            if (used != NULL) {
                *used = cands[i];
            }
            return APR_SUCCESS;
        }
        rv = r;
    }
    return rv;
}

apr_status_t af_jws_sign_with_header(const char **compact, const af_key_t *key,
                                     const char *header_json, const unsigned char *payload,
                                     apr_size_t payload_len, apr_pool_t *p)
{
    apr_size_t hl = strlen(header_json);
    apr_size_t hb = ((hl + 2) / 3) * 4, pb = ((payload_len + 2) / 3) * 4;
    unsigned char sig[AF_JOSE_SIG_MAX];
    apr_size_t sig_len = 0, n;
    char *out;
    apr_status_t rv;

    *compact = NULL;
    out = apr_palloc(p, hb + pb + 2 + ((AF_JOSE_SIG_MAX + 2) / 3) * 4 + 1);
    n = af_b64url_encode_buf(out, (const unsigned char *) header_json, hl);
    out[n++] = '.';
    n += af_b64url_encode_buf(out + n, payload, payload_len);
    rv = af_jose_sign_raw(sig, &sig_len, key, (const unsigned char *) out, n);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    out[n++] = '.';
    af_b64url_encode_buf(out + n, sig, sig_len);
    *compact = out;
    return APR_SUCCESS;
}

apr_status_t af_jws_sign(const char **compact, const af_key_t *key, const char *typ,
                         const unsigned char *payload, apr_size_t payload_len, apr_pool_t *p)
{
    json_t *h;
    const char *hj;

    *compact = NULL;
    if (key == NULL || !key->is_private) {
        return AF_EKEY_PUBLIC;
    }
    h = af_json_pool_own(json_object(), p);
    if (h == NULL) {
        return AF_EINTERNAL;
    }
    json_object_set_new(h, "alg", json_string(af_alg_name(key->alg)));
    if (typ != NULL) {
        json_object_set_new(h, "typ", json_string(typ));
    }
    if (key->kid != NULL) {
        json_object_set_new(h, "kid", json_string(key->kid));
    }
    hj = af_json_dump(h, p);
    if (hj == NULL) {
        return AF_EINTERNAL;
    }
    return af_jws_sign_with_header(compact, key, hj, payload, payload_len, p);
}
