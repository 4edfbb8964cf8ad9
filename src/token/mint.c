/* mint.c -- our access JWT (RFC 9068 "at+jwt"), capped to fit one 4 KB cookie (F04). */
#include <string.h>

#include <apr_strings.h>

#include "common/af_json.h"
#include "jose/af_jws.h"
#include "token/af_token.h"

static const char *const reserved[] = {
    "iss",       "aud", "sub",     "iat", "exp",  "nbf", "jti",
    "sid",       "idp", "idp_sub", "typ", "_idt", /* _idt: the sealed id_token in the
                                                      claims snapshot */
    "auth_time", "acr", "amr",                    /* the login's step-up claims: always copied */
    NULL};

/* Claims of the login copied from the snapshot into every access token, whatever
 * AuthFlowTokenClaims says: the gate's step-up decisions read them (AuthFlowMaxAge,
 * AuthFlowACR), and rotation keeps them as they were at the login. */
static const char *const login_claims[] = {"auth_time", "acr", "amr", NULL};

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

apr_status_t af_token_subject(const char **out, const char *idp_sub, const char *provider,
                              apr_pool_t *p)
{
    apr_size_t n, m, i;

    *out = NULL;
    if (idp_sub == NULL || provider == NULL || (n = strlen(idp_sub)) == 0 ||
        (m = strlen(provider)) == 0 || strchr(provider, '@') != NULL || n + 1 + m > 255) {
        return APR_EINVAL;
    }
    for (i = 0; i < n; i++) {
        if ((unsigned char) idp_sub[i] < 0x20 || idp_sub[i] == 0x7f) {
            return APR_EINVAL;
        }
    }
    *out = apr_pstrcat(p, idp_sub, "@", provider, NULL);
    return APR_SUCCESS;
}

static int set_str(json_t *o, const char *k, const char *v)
{
    return json_object_set_new(o, k, json_string(v)) == 0;
}

apr_status_t af_token_mint_access2(const char **compact, const af_token_access_t *in, apr_pool_t *p)
{
    json_t *payload;
    const char *jti = NULL, *text, *out = NULL;
    const apr_array_header_t *names = in->claim_names;
    apr_status_t rv;
    int i;

    *compact = NULL;
    if (in->key == NULL || in->iss == NULL || in->aud == NULL || in->sub == NULL ||
        *in->sub == '\0' || in->sid == NULL || in->ttl <= 0) {
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
    if (!set_str(payload, "iss", in->iss) || !set_str(payload, "aud", in->aud) ||
        !set_str(payload, "sub", in->sub) ||
        json_object_set_new(payload, "iat", json_integer((json_int_t) in->now)) != 0 ||
        json_object_set_new(payload, "exp", json_integer((json_int_t) (in->now + in->ttl))) != 0 ||
        !set_str(payload, "jti", jti) || !set_str(payload, "sid", in->sid) ||
        (in->idp != NULL && !set_str(payload, "idp", in->idp)) ||
        (in->idp_sub != NULL && !set_str(payload, "idp_sub", in->idp_sub))) {
        return AF_ETOKEN_CLAIMS; /* a value was not valid UTF-8 */
    }
    for (i = 0; in->claims != NULL && login_claims[i] != NULL; i++) {
        json_t *v = json_object_get(in->claims, login_claims[i]);

        if (v != NULL && json_object_set_new(payload, login_claims[i], json_deep_copy(v)) != 0) {
            return APR_ENOMEM;
        }
    }
    for (i = 0; in->claims != NULL && names != NULL && i < names->nelts; i++) {
        const char *name = APR_ARRAY_IDX(names, i, const char *);
        json_t *v = json_object_get(in->claims, name);

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
    if (in->cookie_name_len + 1 + (strlen(text) * 4) / 3 > AF_COOKIE_MAX) {
        return AF_ETOKEN_TOOBIG;
    }
    rv = af_jws_sign(&out, in->key, "at+jwt", (const unsigned char *) text, strlen(text), p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (in->cookie_name_len + 1 + strlen(out) > AF_COOKIE_MAX) {
        return AF_ETOKEN_TOOBIG;
    }
    *compact = out;
    return APR_SUCCESS;
}

apr_status_t af_token_mint_access_fit(const char **compact, int *dropped,
                                      const af_token_access_t *in, apr_pool_t *p)
{
    af_token_access_t fewer = *in;
    apr_array_header_t *names = NULL;
    apr_status_t rv;

    if (dropped != NULL) {
        *dropped = 0;
    }
    for (;;) {
        rv = af_token_mint_access2(compact, &fewer, p);
        if (rv != AF_ETOKEN_TOOBIG || fewer.claim_names == NULL || fewer.claim_names->nelts == 0) {
            return rv;
        }
        /* F04: leave mapped claims out from the end of the list */
        if (names == NULL) {
            names = apr_array_copy(p, in->claim_names);
            fewer.claim_names = names;
        }
        names->nelts--;
        if (dropped != NULL) {
            (*dropped)++;
        }
    }
}

apr_status_t af_token_mint_access(const char **compact, const af_key_t *key, const char *iss,
                                  const char *aud, const char *sub, const char *sid,
                                  const char *idp, apr_int64_t ttl, apr_int64_t now,
                                  const json_t *claims, const apr_array_header_t *claim_names,
                                  apr_size_t cookie_name_len, apr_pool_t *p)
{
    af_token_access_t in;

    memset(&in, 0, sizeof(in));
    in.key = key;
    in.iss = iss;
    in.aud = aud;
    in.sub = sub;
    in.sid = sid;
    in.idp = idp;
    in.ttl = ttl;
    in.now = now;
    in.claims = claims;
    in.claim_names = claim_names;
    in.cookie_name_len = cookie_name_len;
    return af_token_mint_access2(compact, &in, p);
}
