/* oidc_idtoken.c -- id_token validation, OIDC Core 3.1.3.7 and 3.1.3.8 (at_hash). */
#include <string.h>
#include <apr_strings.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/af_b64.h"
#include "common/af_json.h"
#include "common/af_log.h"
#include "jose/af_jose_errors.h"
#include "jose/af_jws.h"
#include "jose/af_jwt.h"
#include "oidc/af_oidc.h"

#define ID_TOKEN_MAX (16 * 1024)

#define GOOGLE_ISS_URL "https://accounts.google.com"
#define GOOGLE_ISS_OLD "accounts.google.com"

static int alg_listed(const apr_array_header_t *algs, const char *name)
{
    int i;

    for (i = 0; name != NULL && i < algs->nelts; i++) {
        if (strcmp(APR_ARRAY_IDX(algs, i, const char *), name) == 0) {
            return 1;
        }
    }
    return 0;
}

apr_array_header_t *af_oidc_allowed_algs(const af_oidc_provider_t *prov, const af_oidc_meta_t *meta,
                                         apr_pool_t *p)
{
    apr_array_header_t *out = apr_array_make(p, 4, sizeof(const char *));
    int i;

    if (prov->id_token_algs != NULL && prov->id_token_algs->nelts > 0) {
        return apr_array_copy(p, prov->id_token_algs);
    }
    for (i = 0; meta != NULL && meta->id_token_algs != NULL && i < meta->id_token_algs->nelts;
         i++) {
        const char *a = APR_ARRAY_IDX(meta->id_token_algs, i, const char *);
        /* never "none", and HS* (keyed by the client secret) only when configured */
        if (af_alg_from_name(a) != AF_ALG_UNKNOWN && a[0] != 'H') {
            APR_ARRAY_PUSH(out, const char *) = a;
        }
    }
    if (out->nelts == 0) {
        APR_ARRAY_PUSH(out, const char *) = "RS256"; /* OIDC Core §3.1.3.7 step 7 default */
    }
    return out;
}

const char *af_oidc_at_hash(const char *access_token, const char *alg, apr_pool_t *p)
{
    const EVP_MD *md;
    unsigned char h[EVP_MAX_MD_SIZE];
    unsigned int hlen = 0;

    if (alg == NULL || access_token == NULL || af_alg_from_name(alg) == AF_ALG_UNKNOWN) {
        return NULL;
    }
    if (strcmp(alg, "EdDSA") == 0 || strcmp(alg + 2, "512") == 0) {
        md = EVP_sha512();
    } else if (strlen(alg) == 5 && strcmp(alg + 2, "384") == 0) {
        md = EVP_sha384();
    } else if (strlen(alg) == 5 && strcmp(alg + 2, "256") == 0) {
        md = EVP_sha256();
    } else {
        return NULL;
    }
    if (EVP_Digest(access_token, strlen(access_token), h, &hlen, md, NULL) != 1) {
        return NULL;
    }
    return af_b64url_encode(h, hlen / 2, p);
}

static apr_status_t map_jose(apr_status_t rv)
{
    switch (rv) {
    case APR_SUCCESS:
        return APR_SUCCESS;
    case AF_EJWS_ALG:
        return AF_EOIDC_ID_TOKEN_ALG;
    case AF_EJWS_NOKEY:
        return AF_EOIDC_ID_TOKEN_NOKEY;
    case AF_EJWS_SIG:
        return AF_EOIDC_ID_TOKEN_SIG;
    case AF_EJWT_EXP:
    case AF_EJWT_NBF:
        return AF_EOIDC_ID_TOKEN_EXP;
    case AF_EJWT_IAT:
    case AF_EJWT_LIFETIME:
        return AF_EOIDC_ID_TOKEN_IAT;
    case AF_EJWT_ISS:
        return AF_EOIDC_ID_TOKEN_ISS;
    case AF_EJWT_AUD:
        return AF_EOIDC_ID_TOKEN_AUD;
    case AF_EJWT_SUB:
        return AF_EOIDC_SUB;
    default:
        return AF_EOIDC_ID_TOKEN;
    }
}

static int str_eq_ct(const char *a, const char *b)
{
    apr_size_t n = strlen(a);

    return n == strlen(b) && CRYPTO_memcmp(a, b, n) == 0;
}

/* Does the token's header name alg "none" in any spelling?  (for the reason code only) */
static int header_says_none(const char *token, apr_pool_t *p)
{
    const char *d = strchr(token, '.');
    unsigned char *hdr = NULL;
    apr_size_t hlen;
    json_t *h = NULL, *a;

    if (d == NULL || af_b64url_decode(&hdr, &hlen, token, (apr_size_t) (d - token), p) != 0 ||
        af_json_parse(&h, (const char *) hdr, hlen, 4096, p) != APR_SUCCESS) {
        return 0;
    }
    a = json_object_get(h, "alg");
    return json_is_string(a) && strncasecmp(json_string_value(a), "none", 4) == 0;
}

/* alg "none" (E10): only when configured alone, only from an https token endpoint. */
static apr_status_t parse_unsigned(af_jws_t **out, const af_oidc_meta_t *meta, const char *token,
                                   apr_pool_t *p)
{
    const char *d1 = strchr(token, '.'), *d2;
    unsigned char *hdr = NULL, *pl = NULL;
    apr_size_t hlen, plen;
    json_t *h = NULL;
    af_jws_t *jws;

    *out = NULL;
    if (meta->token_endpoint == NULL || strncmp(meta->token_endpoint, "https://", 8) != 0) {
        return AF_EOIDC_ID_TOKEN_ALG;
    }
    if (d1 == NULL || (d2 = strchr(d1 + 1, '.')) == NULL || d1 == token || d2 == d1 + 1) {
        return AF_EOIDC_ID_TOKEN;
    }
    if (d2[1] != '\0') {
        return AF_EOIDC_ID_TOKEN_ALG; /* signed: not what this client is registered for */
    }
    if (af_b64url_decode(&hdr, &hlen, token, (apr_size_t) (d1 - token), p) != APR_SUCCESS ||
        af_json_parse(&h, (const char *) hdr, hlen, 4096, p) != APR_SUCCESS ||
        !json_is_string(json_object_get(h, "alg")) ||
        strcmp(json_string_value(json_object_get(h, "alg")), "none") != 0 ||
        json_object_get(h, "crit") != NULL || json_object_get(h, "enc") != NULL) {
        return AF_EOIDC_ID_TOKEN_ALG;
    }
    if (af_b64url_decode(&pl, &plen, d1 + 1, (apr_size_t) (d2 - d1 - 1), p) != APR_SUCCESS) {
        return AF_EOIDC_ID_TOKEN;
    }
    jws = apr_pcalloc(p, sizeof(*jws));
    jws->header = h;
    jws->alg = AF_ALG_UNKNOWN;
    jws->payload = pl;
    jws->payload_len = plen;
    *out = jws;
    return APR_SUCCESS;
}

static apr_status_t check_claims(const json_t *c, const af_oidc_provider_t *prov,
                                 const af_oidc_meta_t *meta, const char *alg,
                                 const af_oidc_idcheck_t *chk, apr_pool_t *p)
{
    const json_t *iss = json_object_get(c, "iss"), *aud = json_object_get(c, "aud");
    const json_t *azp = json_object_get(c, "azp"), *iat = json_object_get(c, "iat");
    const json_t *nonce = json_object_get(c, "nonce"), *ath = json_object_get(c, "at_hash");
    /* step 2: iss exact (Google: its two spellings, for the Google provider only) */
    if (!af_oidc_issuer_ok(prov, meta, iss)) {
        return AF_EOIDC_ID_TOKEN_ISS;
    }
    /* steps 3-5: several audiences need azp; azp, when present, is us */
    if (json_is_array(aud) && json_array_size(aud) > 1 && azp == NULL) {
        return AF_EOIDC_ID_TOKEN_AZP;
    }
    if (azp != NULL &&
        (!json_is_string(azp) || strcmp(json_string_value(azp), prov->client_id) != 0)) {
        return AF_EOIDC_ID_TOKEN_AZP;
    }
    /* step 10: iat present and not too old */
    if (!json_is_number(iat) ||
        json_number_value(iat) < (double) (chk->now - prov->iat_max_age - prov->leeway)) {
        return AF_EOIDC_ID_TOKEN_IAT;
    }
    /* step 11: nonce */
    if (chk->nonce == NULL || !json_is_string(nonce) ||
        !str_eq_ct(json_string_value(nonce), chk->nonce)) {
        return AF_EOIDC_NONCE;
    }
    /* 3.1.3.8: at_hash when present (E17) */
    if (ath != NULL) {
        const char *want = af_oidc_at_hash(chk->access_token, alg, p);
        if (want == NULL || !json_is_string(ath) || !str_eq_ct(json_string_value(ath), want)) {
            return AF_EOIDC_AT_HASH;
        }
    }
    return APR_SUCCESS;
}

apr_status_t af_oidc_jws_signed_by(af_jws_t **out, const af_oidc_provider_t *prov,
                                   const af_oidc_meta_t *meta, const af_keyset_t *ks,
                                   const char *token, apr_pool_t *p)
{
    apr_array_header_t *algs = af_oidc_allowed_algs(prov, meta, p);
    af_jws_t *jws = NULL;
    const char *alg;
    apr_status_t rv;

    *out = NULL;
    rv = af_jws_parse(&jws, token, strlen(token), ID_TOKEN_MAX, p);
    if (rv != APR_SUCCESS) {
        return rv == AF_EJWS_ALG || header_says_none(token, p) ? AF_EOIDC_ID_TOKEN_ALG
                                                               : AF_EOIDC_ID_TOKEN;
    }
    alg = af_alg_name(jws->alg);
    /* step 6/7: the alg must be one this provider may use (A19) */
    if (alg == NULL || !alg_listed(algs, alg)) {
        return AF_EOIDC_ID_TOKEN_ALG;
    }
    if (alg[0] == 'H') {
        /* E09: HS* is keyed by the UTF-8 octets of the client secret */
        af_key_t *k = NULL;
        af_keyset_t *hks = af_keyset_make(p);
        const char *why = NULL;
        if (prov->client_secret == NULL ||
            af_key_from_secret(&k, (const unsigned char *) prov->client_secret,
                               strlen(prov->client_secret), jws->alg, NULL, &why,
                               p) != APR_SUCCESS) {
            return AF_EOIDC_ID_TOKEN_NOKEY;
        }
        af_keyset_add(hks, k);
        rv = map_jose(af_jws_verify_keyset(NULL, jws, hks));
    } else if (ks == NULL) {
        rv = AF_EOIDC_ID_TOKEN_NOKEY;
    } else {
        rv = map_jose(af_jws_verify_keyset(NULL, jws, ks));
    }
    if (rv == APR_SUCCESS) {
        *out = jws;
    }
    return rv;
}

int af_oidc_issuer_ok(const af_oidc_provider_t *prov, const af_oidc_meta_t *meta, const json_t *iss)
{
    const char *want = prov->issuer != NULL ? prov->issuer : meta->issuer;

    if (!json_is_string(iss)) {
        return 0;
    }
    if (prov->preset == AF_OIDC_PRESET_GOOGLE) {
        return strcmp(json_string_value(iss), GOOGLE_ISS_URL) == 0 ||
               strcmp(json_string_value(iss), GOOGLE_ISS_OLD) == 0;
    }
    return want != NULL && strcmp(json_string_value(iss), want) == 0;
}

apr_status_t af_oidc_id_token_validate(json_t **claims, const af_oidc_provider_t *prov,
                                       const af_oidc_meta_t *meta, const af_keyset_t *ks,
                                       const char *id_token, const af_oidc_idcheck_t *chk,
                                       apr_pool_t *p)
{
    apr_array_header_t *algs = af_oidc_allowed_algs(prov, meta, p);
    af_jws_t *jws = NULL;
    af_jwt_policy_t pol;
    const char *alg;
    json_t *c = NULL;
    apr_status_t rv;

    *claims = NULL;
    if (id_token == NULL) {
        rv = AF_EOIDC_NO_ID_TOKEN;
        goto leave;
    }
    if (algs->nelts == 1 && strcmp(APR_ARRAY_IDX(algs, 0, const char *), "none") == 0) {
        /* E10: the client is registered for unsigned id_tokens, over TLS only */
        if (strlen(id_token) > ID_TOKEN_MAX) {
            rv = AF_EOIDC_ID_TOKEN;
            goto leave;
        }
        if ((rv = parse_unsigned(&jws, meta, id_token, p)) != APR_SUCCESS) {
            goto leave;
        }
        alg = "none";
    } else {
        if ((rv = af_oidc_jws_signed_by(&jws, prov, meta, ks, id_token, p)) != APR_SUCCESS) {
            goto leave;
        }
        alg = af_alg_name(jws->alg);
    }
    memset(&pol, 0, sizeof(pol));
    pol.now = chk->now;
    pol.leeway = prov->leeway;
    pol.aud = prov->client_id; /* step 3: aud contains our client_id */
    pol.require_iat = 1;
    pol.require_sub = 1; /* E03 */
    if ((rv = map_jose(af_jwt_check(&c, jws, &pol, p))) != APR_SUCCESS) {
        goto leave;
    }
    if ((rv = check_claims(c, prov, meta, alg, chk, p)) != APR_SUCCESS) {
        goto leave;
    }
    *claims = c;
leave:
    return rv;
}

apr_status_t af_oidc_id_token_verify(json_t **claims, af_oidc_provider_t *prov,
                                     const af_oidc_meta_t *meta, const char *id_token,
                                     const af_oidc_idcheck_t *chk, apr_pool_t *p)
{
    const af_keyset_t *ks = NULL;
    af_jws_t *jws = NULL;
    apr_status_t rv;

    *claims = NULL;
    if (id_token == NULL) {
        return AF_EOIDC_NO_ID_TOKEN;
    }
    /* peek at the header: HS* and "none" need no JWKS; an unknown kid refetches it once */
    if (af_jws_parse(&jws, id_token, strlen(id_token), ID_TOKEN_MAX, p) == APR_SUCCESS &&
        jws->alg != AF_ALG_UNKNOWN && af_alg_name(jws->alg)[0] != 'H') {
        if ((rv = af_oidc_keys_get(&ks, prov, meta, NULL, chk->now, p)) != APR_SUCCESS) {
            goto leave;
        }
    }
    rv = af_oidc_id_token_validate(claims, prov, meta, ks, id_token, chk, p);
    if (rv == AF_EOIDC_ID_TOKEN_NOKEY && jws != NULL && jws->kid != NULL && ks != NULL) {
        /* E16: the provider may have rotated its key; one throttled refetch */
        if (af_oidc_keys_get(&ks, prov, meta, jws->kid, chk->now, p) == APR_SUCCESS) {
            rv = af_oidc_id_token_validate(claims, prov, meta, ks, id_token, chk, p);
        }
    }
leave:
    if (rv != APR_SUCCESS) {
        af_log_p(p, AF_LOG_INFO, "AF05020", "provider %s: id_token rejected: %s", prov->name,
                 af_strerror(rv));
    }
    return rv;
}
