/* jwt.c -- JWT claim checks (RFC 7519, RFC 9068, RFC 8725) with an injected clock. */
#include <string.h>

#include <apr_strings.h>

#include "common/af_json.h"
#include "jose/af_jwt.h"
#include "jose/jose_int.h"

#define AF_NUMERIC_DATE_MAX 9007199254740992.0 /* 2^53 */
#define AF_CLAIM_STR_MAX    255

int af_jwt_typ_matches(const char *typ, const char *want)
{
    if (typ == NULL || want == NULL) {
        return 0;
    }
    /* RFC 7515 §4.1.9: "application/" may be omitted when no other '/' appears */
    if (strncasecmp(typ, "application/", 12) == 0 && strchr(typ + 12, '/') == NULL) {
        typ += 12;
    }
    if (strncasecmp(want, "application/", 12) == 0 && strchr(want + 12, '/') == NULL) {
        want += 12;
    }
    return *typ != '\0' && strcasecmp(typ, want) == 0;
}

/* A NumericDate: a JSON number (fractions allowed), 0 <= v <= 2^53. */
static int numeric_date(double *out, const json_t *v)
{
    double d;

    if (!json_is_number(v)) {
        return 0;
    }
    d = json_number_value(v);
    if (!(d >= 0.0) || d > AF_NUMERIC_DATE_MAX) { /* also NaN */
        return 0;
    }
    *out = d;
    return 1;
}

/* A claim string of 1..255 characters without control characters (C0, DEL, C1). */
static int well_formed_str(const json_t *v)
{
    const unsigned char *s;
    apr_size_t len, i, chars = 0;

    if (!json_is_string(v)) {
        return 0;
    }
    s = (const unsigned char *) json_string_value(v);
    len = json_string_length(v);
    if (len == 0) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        if (s[i] < 0x20 || s[i] == 0x7f) {
            return 0;
        }
        if (s[i] == 0xc2 && i + 1 < len && s[i + 1] >= 0x80 && s[i + 1] <= 0x9f) {
            return 0;
        }
        if ((s[i] & 0xc0) != 0x80) {
            chars++;
        }
    }
    return chars <= AF_CLAIM_STR_MAX;
}

int af_jwt_aud_contains(const json_t *aud, const char *want)
{
    size_t i;
    int found = 0;

    if (json_is_string(aud)) {
        return strcmp(json_string_value(aud), want) == 0;
    }
    if (!json_is_array(aud) || json_array_size(aud) == 0) {
        return 0;
    }
    for (i = 0; i < json_array_size(aud); i++) {
        const json_t *a = json_array_get(aud, i);
        if (!json_is_string(a)) {
            return 0; /* an array of strings, nothing else */
        }
        if (strcmp(json_string_value(a), want) == 0) {
            found = 1;
        }
    }
    return found;
}

static apr_status_t check_times(const json_t *c, const af_jwt_policy_t *pol)
{
    const json_t *v;
    double now = (double) pol->now, leeway = (double) pol->leeway, exp, nbf, iat = 0;
    int has_iat = 0;

    v = json_object_get(c, "exp");
    if (v == NULL || !numeric_date(&exp, v)) {
        return AF_EJWT_EXP;
    }
    /* valid while now < exp + leeway (RFC 7519 §4.1.4) */
    if (!(now < exp + leeway)) {
        return AF_EJWT_EXP;
    }
    v = json_object_get(c, "nbf");
    if (v != NULL) {
        if (!numeric_date(&nbf, v) || now + leeway < nbf) {
            return AF_EJWT_NBF;
        }
    }
    v = json_object_get(c, "iat");
    if (v != NULL) {
        if (!numeric_date(&iat, v) || iat > now + leeway) {
            return AF_EJWT_IAT;
        }
        has_iat = 1;
    } else if (pol->require_iat) {
        return AF_EJWT_IAT;
    }
    if (pol->max_lifetime > 0) {
        /* without iat, the remaining lifetime counts */
        double start = has_iat ? iat : now;
        if (exp - start > (double) pol->max_lifetime) {
            return AF_EJWT_LIFETIME;
        }
    }
    return APR_SUCCESS;
}

apr_status_t af_jwt_check(json_t **claims_out, const af_jws_t *jws, const af_jwt_policy_t *pol,
                          apr_pool_t *p)
{
    json_t *c = NULL;
    const json_t *v;
    apr_status_t rv;

    if (claims_out != NULL) {
        *claims_out = NULL;
    }
    if (jws == NULL || pol == NULL) {
        return AF_EINTERNAL;
    }
    rv = af_json_parse(&c, (const char *) jws->payload, jws->payload_len, 0, p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (pol->typ != NULL && !af_jwt_typ_matches(jws->typ, pol->typ)) {
        return AF_EJWT_TYP;
    }
    rv = check_times(c, pol);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (pol->iss != NULL) {
        v = json_object_get(c, "iss");
        if (!json_is_string(v) || strcmp(json_string_value(v), pol->iss) != 0) {
            return AF_EJWT_ISS;
        }
    }
    if (pol->aud != NULL && !af_jwt_aud_contains(json_object_get(c, "aud"), pol->aud)) {
        return AF_EJWT_AUD;
    }
    v = json_object_get(c, "sub");
    if (v != NULL ? !well_formed_str(v) : pol->require_sub) {
        return AF_EJWT_SUB;
    }
    v = json_object_get(c, "jti");
    if (v != NULL ? !well_formed_str(v) : pol->require_jti) {
        return AF_EJWT_JTI;
    }
    if (claims_out != NULL) {
        *claims_out = c;
    }
    return APR_SUCCESS;
}

apr_status_t af_jwt_verify(json_t **claims_out, const af_key_t **used, const char *token,
                           apr_size_t len, const af_keyset_t *ks, const af_jwt_policy_t *pol,
                           apr_pool_t *p)
{
    af_jws_t *jws;
    apr_status_t rv;

    if (claims_out != NULL) {
        *claims_out = NULL;
    }
    if (used != NULL) {
        *used = NULL;
    }
    rv = af_jws_parse(&jws, token, len, 0, p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = af_jws_verify_keyset(used, jws, ks);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    return af_jwt_check(claims_out, jws, pol, p);
}
