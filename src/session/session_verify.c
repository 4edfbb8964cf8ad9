/* session_verify.c -- verification of the JWTs the gate accepts: our own access tokens (RFC
 * 9068 profile) and those of AuthFlowTrustIssuer issuers. */
#include <string.h>

#include "common/af_json.h"
#include "jose/af_jose_errors.h"
#include "jose/af_jws.h"
#include "jose/af_jwt.h"
#include "session/af_session.h"

const af_site_trust_t *af_session_trust_for(const af_site_t *site, const char *iss)
{
    int i;

    for (i = 0; iss != NULL && site->trust != NULL && i < site->trust->nelts; i++) {
        const af_site_trust_t *t = APR_ARRAY_IDX(site->trust, i, const af_site_trust_t *);

        if (strcmp(t->issuer, iss) == 0) {
            return t;
        }
    }
    return NULL;
}

apr_status_t af_session_verify(json_t **claims, const af_site_trust_t **trust,
                               const af_site_t *site, const char *tok, apr_size_t len,
                               apr_int64_t now, apr_pool_t *p)
{
    af_jws_t *jws = NULL;
    af_jwt_policy_t pol;
    const af_keyset_t *ks = site->own_keys;
    const af_key_t *used = NULL;
    const af_site_trust_t *t = NULL;
    json_t *peek = NULL;
    const char *iss = NULL;
    apr_status_t rv;

    *trust = NULL;
    if (len > AF_JWS_MAX_LEN) {
        return AF_ESESS_TOKEN_TOO_LARGE; /* before any decoding (A21) */
    }
    memset(&pol, 0, sizeof(pol));
    pol.now = now;
    pol.leeway = site->clock_skew;
    if ((rv = af_jws_parse(&jws, tok, len, AF_JWS_MAX_LEN, p)) != APR_SUCCESS) {
        return rv;
    }
    if (site->trust != NULL && site->trust->nelts > 0) {
        /* which issuer's keys? read the (unverified) iss only to choose them */
        rv = af_json_parse(&peek, (const char *) jws->payload, jws->payload_len, 0, p);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        iss = json_string_value(json_object_get(peek, "iss"));
        if (iss == NULL) {
            return AF_EJWT_ISS;
        }
        if (site->issuer == NULL || strcmp(iss, site->issuer) != 0) {
            if ((t = af_session_trust_for(site, iss)) == NULL) {
                return AF_EJWT_ISS;
            }
            ks = t->keys;
            if (t->cache != NULL &&
                (rv = af_jwks_cache_keys(&ks, t->cache, jws->kid, p)) != APR_SUCCESS) {
                return rv;
            }
        }
    }
    if (t == NULL) {
        /* our own access token (RFC 9068 profile) */
        pol.max_lifetime = site->access_ttl + site->clock_skew;
        pol.iss = site->issuer;
        pol.aud = site->audience;
        pol.typ = "at+jwt";
        pol.require_iat = 1;
        pol.require_jti = 1;
        pol.require_sub = 1;
    } else {
        pol.iss = t->issuer;
        pol.aud = t->aud ? t->aud : site->audience;
        pol.require_sub = 1;
    }
    if (ks == NULL || ks->keys->nelts == 0) {
        return AF_EJWS_NOKEY;
    }
    if ((rv = af_jws_verify_keyset(&used, jws, ks)) != APR_SUCCESS) {
        return rv;
    }
    if ((rv = af_jwt_check(claims, jws, &pol, p)) != APR_SUCCESS) {
        return rv;
    }
    *trust = t;
    return APR_SUCCESS;
}

apr_status_t af_session_verify_own(json_t **claims, const af_site_t *site, const char *tok,
                                   apr_size_t len, apr_int64_t now, apr_pool_t *p)
{
    const af_site_trust_t *t = NULL;
    apr_status_t rv = af_session_verify(claims, &t, site, tok, len, now, p);

    return rv == APR_SUCCESS && t != NULL ? AF_EJWT_ISS : rv;
}
