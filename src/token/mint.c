/* mint.c -- our access JWT (RFC 9068 "at+jwt"), capped to fit one 4 KB cookie (F04). */
#include <string.h>

#include "common/af_json.h"
#include "jose/af_jws.h"
#include "token/af_token.h"

static const char *const reserved[] = {
    "iss", "aud", "sub", "iat", "exp",  "nbf",
    "jti", "sid", "idp", "typ", "_idt", /* the sealed id_token in the claims snapshot */
    NULL};

int af_token_claim_is_reserved(const char *name)
{
    int i;

    for (i = 0; reserved[i] != NULL; i++) {
        if (strcmp(reserved[i], name) == 0) {
            return 1;
        }
    }
    return 0;
}

static int set_str(json_t *o, const char *k, const char *v)
{
    return json_object_set_new(o, k, json_string(v)) == 0;
}

apr_status_t af_token_mint_access(const char **compact, const af_key_t *key, const char *iss,
                                  const char *aud, const char *sub, const char *sid,
                                  const char *idp, apr_int64_t ttl, apr_int64_t now,
                                  const json_t *claims, const apr_array_header_t *claim_names,
                                  apr_size_t cookie_name_len, apr_pool_t *p)
{
    json_t *payload;
    const char *jti = NULL, *text, *out = NULL;
    apr_status_t rv;
    int i;

    *compact = NULL;
    if (key == NULL || iss == NULL || aud == NULL || sub == NULL || *sub == '\0' || sid == NULL ||
        ttl <= 0) {
        return AF_ETOKEN_CLAIMS;
    }
    payload = af_json_pool_own(json_object(), p);
    if (payload == NULL) {
        return APR_ENOMEM;
    }
    rv = af_token_random_id(&jti, 16, p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (!set_str(payload, "iss", iss) || !set_str(payload, "aud", aud) ||
        !set_str(payload, "sub", sub) ||
        json_object_set_new(payload, "iat", json_integer((json_int_t) now)) != 0 ||
        json_object_set_new(payload, "exp", json_integer((json_int_t) (now + ttl))) != 0 ||
        !set_str(payload, "jti", jti) || !set_str(payload, "sid", sid) ||
        (idp != NULL && !set_str(payload, "idp", idp))) {
        return AF_ETOKEN_CLAIMS; /* a value was not valid UTF-8 */
    }
    for (i = 0; claims != NULL && claim_names != NULL && i < claim_names->nelts; i++) {
        const char *name = APR_ARRAY_IDX(claim_names, i, const char *);
        json_t *v = json_object_get(claims, name);

        if (v == NULL || af_token_claim_is_reserved(name)) {
            continue;
        }
        if (json_object_set_new(payload, name, json_deep_copy(v)) != 0) {
            return APR_ENOMEM;
        }
    }
    text = af_json_dump(payload, p);
    if (text == NULL) {
        return APR_ENOMEM;
    }
    /* The JWS is ~4/3 of the payload: refuse hopeless sizes before signing. */
    if (cookie_name_len + 1 + (strlen(text) * 4) / 3 > AF_COOKIE_MAX) {
        return AF_ETOKEN_TOOBIG;
    }
    rv = af_jws_sign(&out, key, "at+jwt", (const unsigned char *) text, strlen(text), p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (cookie_name_len + 1 + strlen(out) > AF_COOKIE_MAX) {
        return AF_ETOKEN_TOOBIG;
    }
    *compact = out;
    return APR_SUCCESS;
}
