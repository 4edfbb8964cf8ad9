/* keyset.c -- JWKS documents and key selection. */
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>

#include "common/af_json.h"
#include "common/af_log.h"
#include "jose/jose_int.h"

/* A JWKS document is small; 256 KiB and 50 keys are generous caps (SECURITY.md C06). */
#define AF_JWKS_MAX_LEN  (256 * 1024)
#define AF_JWKS_MAX_KEYS 50

af_keyset_t *af_keyset_make(apr_pool_t *p)
{
    af_keyset_t *ks = apr_pcalloc(p, sizeof(*ks));

    ks->keys = apr_array_make(p, 4, sizeof(af_key_t *));
    return ks;
}

void af_keyset_add(af_keyset_t *ks, af_key_t *key)
{
    APR_ARRAY_PUSH(ks->keys, af_key_t *) = key;
}

int af_keyset_select(const af_key_t **cands, int max, const af_keyset_t *ks, const char *kid,
                     af_alg_t alg)
{
    int i, n = 0;

    if (ks == NULL) {
        return 0;
    }
    for (i = 0; i < ks->keys->nelts && n < max; i++) {
        const af_key_t *k = APR_ARRAY_IDX(ks->keys, i, const af_key_t *);

        if (kid != NULL) {
            if (k->kid != NULL && strcmp(k->kid, kid) == 0) {
                cands[n++] = k;
            }
        } else if (k->alg == alg) {
            cands[n++] = k;
        }
    }
    return n;
}

/* A key that cannot be used is skipped, never fatal to the set (C01, C04, C05).  The kid
 * and the reason are not secret; nothing of the key itself is logged. */
static void skip(apr_array_header_t *skipped, const json_t *jwk, const char *why, apr_pool_t *p)
{
    const json_t *kid = json_object_get(jwk, "kid");
    const char *k = json_is_string(kid) ? json_string_value(kid) : "(no kid)";

    why = why != NULL ? why : "unusable";
    if (af_log_wanted(AF_LOG_WARNING)) {
        char safe[65];
        apr_size_t i;

        /* kid is attacker-controlled text: printable ASCII only, bounded */
        for (i = 0; k[i] != '\0' && i < sizeof(safe) - 1; i++) {
            safe[i] = (k[i] >= 0x20 && k[i] < 0x7f) ? k[i] : '?';
        }
        safe[i] = '\0';
        af_log_p(p, AF_LOG_WARNING, "AF01001", "JWKS key skipped: kid \"%s\": %s", safe, why);
    }
    if (skipped != NULL) {
        APR_ARRAY_PUSH(skipped, const char *) = apr_psprintf(p, "%s: %s", k, why);
    }
}

apr_status_t af_jwks_parse(af_keyset_t **out, const char *json, apr_size_t len, int flags,
                           apr_array_header_t *skipped, apr_pool_t *p)
{
    json_t *doc, *keys;
    af_keyset_t *ks;
    apr_hash_t *kids;
    apr_status_t rv;
    size_t i, n;
    int sym = 0, asym = 0;

    *out = NULL;
    rv = af_json_parse(&doc, json, len, AF_JWKS_MAX_LEN, p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    keys = json_object_get(doc, "keys");
    if (keys == NULL && json_object_get(doc, "kty") != NULL) {
        keys = json_pack("[O]", doc);
        af_json_pool_own(keys, p);
    }
    if (!json_is_array(keys)) {
        return AF_EKEY_SET;
    }
    n = json_array_size(keys);
    if (n > AF_JWKS_MAX_KEYS) {
        return AF_EKEY_SET;
    }
    /* set-level refusals first, over every entry, usable or not */
    kids = apr_hash_make(p);
    for (i = 0; i < n; i++) {
        const json_t *jwk = json_array_get(keys, i);
        const json_t *kid = json_object_get(jwk, "kid");
        const json_t *kty = json_object_get(jwk, "kty");

        if (json_is_string(kid)) {
            if (apr_hash_get(kids, json_string_value(kid), APR_HASH_KEY_STRING) != NULL) {
                af_log_p(p, AF_LOG_WARNING, "AF01003", "JWKS refused: duplicate kid");
                return AF_EKEY_SET;
            }
            apr_hash_set(kids, json_string_value(kid), APR_HASH_KEY_STRING, "");
        }
        if (json_is_string(kty)) {
            const char *t = json_string_value(kty);
            if (strcmp(t, "oct") == 0) {
                sym = 1;
            } else if (strcmp(t, "RSA") == 0 || strcmp(t, "EC") == 0 || strcmp(t, "OKP") == 0) {
                asym = 1;
            }
        }
    }
    if (sym && asym) {
        af_log_p(p, AF_LOG_WARNING, "AF01002", "JWKS refused: symmetric and asymmetric keys mixed");
        return AF_EKEY_SET;
    }
    ks = af_keyset_make(p);
    for (i = 0; i < n; i++) {
        const json_t *jwk = json_array_get(keys, i);
        af_key_t *key;
        const char *why = NULL;

        if (af_jwk_parse(&key, jwk, flags, &why, p) != APR_SUCCESS) {
            skip(skipped, jwk, why, p);
            continue;
        }
        af_keyset_add(ks, key);
    }
    *out = ks;
    return APR_SUCCESS;
}
