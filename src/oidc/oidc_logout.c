/* oidc_logout.c -- logout token validation, OpenID Connect Back-Channel Logout 1.0 §2.4, §2.6.
 *
 * The token is checked as strictly as an id_token (same key path and alg rules), then by the
 * logout rules: events member, no nonce, sub and/or sid, jti.  exp is not required (the final
 * 1.0 text does not list it; its errata set does): the iat bound (IatMaxAge) limits a token's
 * life instead, and an exp that is present is honoured. */
#include <string.h>

#include "common/af_json.h"
#include "common/af_log.h"
#include "jose/af_jwt.h"
#include "oidc/af_oidc.h"

#define LOGOUT_TOKEN_MAX (16 * 1024)
#define JTI_MAX          255

static apr_status_t map_sig(apr_status_t rv)
{
    switch (rv) {
    case APR_SUCCESS:
        return APR_SUCCESS;
    case AF_EOIDC_ID_TOKEN_ALG:
        return AF_EOIDC_LOGOUT_ALG;
    case AF_EOIDC_ID_TOKEN_NOKEY:
        return AF_EOIDC_LOGOUT_NOKEY;
    case AF_EOIDC_ID_TOKEN_SIG:
        return AF_EOIDC_LOGOUT_SIG;
    default:
        return AF_EOIDC_LOGOUT_TOKEN;
    }
}

/* A string of 1..max bytes without control characters, or NULL. */
static const char *printable(const json_t *v, apr_size_t max)
{
    const char *s;
    apr_size_t i, n;

    if (!json_is_string(v)) {
        return NULL;
    }
    s = json_string_value(v);
    n = json_string_length(v);
    if (n == 0 || n > max || strlen(s) != n) {
        return NULL;
    }
    for (i = 0; i < n; i++) {
        if ((unsigned char) s[i] < 0x20 || s[i] == 0x7f) {
            return NULL;
        }
    }
    return s;
}

static apr_status_t check_claims(af_oidc_logout_t *lo, const json_t *c,
                                 const af_oidc_provider_t *prov, const af_oidc_meta_t *meta,
                                 apr_int64_t now)
{
    const json_t *iat = json_object_get(c, "iat"), *exp = json_object_get(c, "exp");
    const json_t *nbf = json_object_get(c, "nbf"), *ev = json_object_get(c, "events");
    const json_t *sub = json_object_get(c, "sub"), *sid = json_object_get(c, "sid");
    double t, leeway = (double) prov->leeway;

    if (!af_oidc_issuer_ok(prov, meta, json_object_get(c, "iss"))) {
        return AF_EOIDC_LOGOUT_ISS;
    }
    if (!af_jwt_aud_contains(json_object_get(c, "aud"), prov->client_id)) {
        return AF_EOIDC_LOGOUT_AUD;
    }
    /* iat: present, not in the future beyond the leeway, not older than IatMaxAge */
    if (!json_is_number(iat) || (t = json_number_value(iat)) > (double) now + leeway ||
        t < (double) (now - prov->iat_max_age) - leeway) {
        return AF_EOIDC_LOGOUT_IAT;
    }
    lo->expires = (apr_int64_t) t + prov->iat_max_age + prov->leeway;
    if (exp != NULL) {
        if (!json_is_number(exp) || !((double) now < json_number_value(exp) + leeway)) {
            return AF_EOIDC_LOGOUT_EXP;
        }
        if (json_number_value(exp) + leeway > (double) lo->expires) {
            lo->expires = (apr_int64_t) (json_number_value(exp) + leeway) + 1;
        }
    }
    if (nbf != NULL && (!json_is_number(nbf) || json_number_value(nbf) > (double) now + leeway)) {
        return AF_EOIDC_LOGOUT_IAT;
    }
    if ((lo->jti = printable(json_object_get(c, "jti"), JTI_MAX)) == NULL) {
        return AF_EOIDC_LOGOUT_JTI;
    }
    /* §2.4: events names the back-channel logout event, its value a JSON object */
    if (!json_is_object(ev) || !json_is_object(json_object_get(ev, AF_OIDC_LOGOUT_EVENT))) {
        return AF_EOIDC_LOGOUT_EVENTS;
    }
    /* §2.4: a nonce is prohibited (a logout token must never pass for an id_token) */
    if (json_object_get(c, "nonce") != NULL) {
        return AF_EOIDC_LOGOUT_NONCE;
    }
    /* sub and/or sid; each, when present, a well-formed string */
    lo->sub = printable(sub, 255);
    lo->sid = printable(sid, AF_OIDC_SID_MAX);
    if ((sub != NULL && lo->sub == NULL) || (sid != NULL && lo->sid == NULL) ||
        (lo->sub == NULL && lo->sid == NULL)) {
        return AF_EOIDC_LOGOUT_SUBJECT;
    }
    return APR_SUCCESS;
}

apr_status_t af_oidc_logout_token_validate(af_oidc_logout_t **out, const af_oidc_provider_t *prov,
                                           const af_oidc_meta_t *meta, const af_keyset_t *ks,
                                           const char *token, apr_int64_t now, apr_pool_t *p)
{
    apr_array_header_t *algs;
    af_oidc_logout_t *lo;
    af_jws_t *jws = NULL;
    json_t *c = NULL;
    apr_status_t rv;

    *out = NULL;
    if (token == NULL || *token == '\0' || strlen(token) > LOGOUT_TOKEN_MAX) {
        return AF_EOIDC_LOGOUT_TOKEN;
    }
    /* a client registered for unsigned id_tokens (E10) still gets no unsigned logout token:
     * this one did not come from the TLS token endpoint */
    algs = af_oidc_allowed_algs(prov, meta, p);
    if (algs->nelts == 1 && strcmp(APR_ARRAY_IDX(algs, 0, const char *), "none") == 0) {
        return AF_EOIDC_LOGOUT_ALG;
    }
    if ((rv = map_sig(af_oidc_jws_signed_by(&jws, prov, meta, ks, token, p))) != APR_SUCCESS) {
        return rv;
    }
    /* explicit typing (§2.4): "logout+jwt"; absent or the generic "JWT" tolerated */
    if (jws->typ != NULL && !af_jwt_typ_matches(jws->typ, "logout+jwt") &&
        strcmp(jws->typ, "JWT") != 0) {
        return AF_EOIDC_LOGOUT_TYP;
    }
    if (af_json_parse(&c, (const char *) jws->payload, jws->payload_len, LOGOUT_TOKEN_MAX, p) !=
            APR_SUCCESS ||
        !json_is_object(c)) {
        return AF_EOIDC_LOGOUT_TOKEN;
    }
    lo = apr_pcalloc(p, sizeof(*lo));
    if ((rv = check_claims(lo, c, prov, meta, now)) != APR_SUCCESS) {
        return rv;
    }
    *out = lo;
    return APR_SUCCESS;
}

apr_status_t af_oidc_logout_token_verify(af_oidc_logout_t **out, af_oidc_provider_t *prov,
                                         const char *token, apr_int64_t now, apr_pool_t *p)
{
    const af_oidc_meta_t *meta = NULL;
    const af_keyset_t *ks = NULL;
    af_jws_t *jws = NULL;
    apr_status_t rv;

    *out = NULL;
    if (prov->kind != AF_OIDC_KIND_OIDC) {
        rv = AF_EOIDC_LOGOUT_UNSUPPORTED; /* plain OAuth 2.0: no id_token, no sessions */
        goto leave;
    }
    if (token == NULL || *token == '\0' || strlen(token) > LOGOUT_TOKEN_MAX) {
        rv = AF_EOIDC_LOGOUT_TOKEN;
        goto leave;
    }
    if ((rv = af_oidc_meta_get(&meta, prov, now, p)) != APR_SUCCESS) {
        goto leave;
    }
    /* peek at the header: HS* needs no JWKS; an unknown kid refetches it once */
    if (af_jws_parse(&jws, token, strlen(token), LOGOUT_TOKEN_MAX, p) == APR_SUCCESS &&
        jws->alg != AF_ALG_UNKNOWN && af_alg_name(jws->alg)[0] != 'H') {
        if ((rv = af_oidc_keys_get(&ks, prov, meta, NULL, now, p)) != APR_SUCCESS) {
            goto leave;
        }
    }
    rv = af_oidc_logout_token_validate(out, prov, meta, ks, token, now, p);
    if (rv == AF_EOIDC_LOGOUT_NOKEY && jws != NULL && jws->kid != NULL && ks != NULL) {
        if (af_oidc_keys_get(&ks, prov, meta, jws->kid, now, p) == APR_SUCCESS) {
            rv = af_oidc_logout_token_validate(out, prov, meta, ks, token, now, p);
        }
    }
leave:
    return rv; /* the caller logs a refusal once (AF08090), with the provider and the reason */
}
