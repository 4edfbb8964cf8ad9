/* fuzz_jws.c -- libFuzzer target: compact JWS parsing, key-set verification, JWT claim checks.
 *
 * Input: the bytes of a token as it arrives in a cookie or a Bearer header (not
 * NUL-terminated, so any read past the end is caught by ASan).
 *   1. af_jws_parse, then af_jws_verify_keyset against a fixed key set (HS256, ES256, RS256,
 *      EdDSA public keys; kids "hs", "es", "rs", "ed") and af_jwt_check with a fixed clock on
 *      every parsed token, verified or not (the claim checker is a pure function of the payload).
 *   2. af_jwt_verify (the gate's one call) on the same bytes.
 *   3. When the input starts with '{' it is also used as a JWT payload: signed with the HS256
 *      key (af_jws_sign) and verified again, so the claim checks see arbitrary JSON directly.
 * Invariants checked (a violation traps): a verified token names a key of the set whose
 * pinned alg equals the header alg; af_jwt_verify agrees with parse + verify + check.
 *
 * The private halves of these keys are in tests/fuzz/keys/fuzz-keys.json (test keys only);
 * tests/fuzz/mkcorpus.py uses them to sign the seed corpus.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sanitizer/lsan_interface.h>

#include <apr_general.h>
#include <apr_pools.h>

#include "common/af_error.h"
#include "common/af_json.h"
#include "common/af_log.h"
#include "jose/af_jose_errors.h"
#include "jose/af_jwk.h"
#include "jose/af_jws.h"
#include "jose/af_jwt.h"

#define FUZZ_NOW 1767225600 /* 2026-01-01T00:00:00Z, the seeds' iat is 60 s before */

static const char *const fuzz_jwks[] = {
    "{\"alg\":\"HS256\",\"k\":\"WMFNsK7ePxcCTo45uUCULMi2493sNYG2bHhnVdXStTY\",\"kid\":\"hs\","
    "\"kty\":\"oct\"}",
    "{\"alg\":\"ES256\",\"crv\":\"P-256\",\"kid\":\"es\",\"kty\":\"EC\","
    "\"x\":\"vms2n-uumSlg3SvEC3vccZeaAsP3uCq2K5Dq_RQ48EE\","
    "\"y\":\"SLO-5U9pGX6eLEBWrrwd3VabzcJm_SgOdOrte7ax3yE\"}",
    "{\"alg\":\"RS256\",\"e\":\"AQAB\",\"kid\":\"rs\",\"kty\":\"RSA\",\"n\":\"ugIOfMuNrHBEDBFCGkd6p"
    "blEfSjtMrH4DCy6RNv6uFGLlQS4lbjR2MaszxR6t0PlAt4AsyJPbAcrr9utkWimY-3ROjnGRBmKzYJF6OXDRbqYX9c"
    "e8HhFY8VJBemLF8pa8k49ly6MbYTKoPVjMP7uZg7dXn-EheL3kjnGPrD5cgpgeGLn02w5xDmVYRUSgQF0BSg7VlLr"
    "pkPCUJnjMbpPNb-i6mnBzseUpwMHiaCoZ7MO-WAfBsrPZ_SUOGhATR1X3lOo96isZnuq2saPvFDdgRlcWn6Kc3bCj"
    "QB-rV81NGBQ1oq3n-AsfKIocOiy9ln45MIsR4n3fv6Yj57eIL9EVQ\"}",
    "{\"alg\":\"EdDSA\",\"crv\":\"Ed25519\",\"kid\":\"ed\",\"kty\":\"OKP\","
    "\"x\":\"Th9K05TBXM-y5QE5fugVVdjICkAyieLQf4u9hnHSLuU\"}",
};

static apr_pool_t *fuzz_root;
static af_keyset_t *fuzz_ks;
static const af_key_t *fuzz_hs_key;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_die(const char *what)
{
    fprintf(stderr, "fuzz_jws: setup failed: %s\n", what);
    abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    size_t i;

    if (apr_initialize() != APR_SUCCESS || apr_pool_create(&fuzz_root, NULL) != APR_SUCCESS) {
        fuzz_die("apr");
    }
    af_log_set(NULL, NULL, 0);
    /* The key set lives for the whole run in pool memory, which LSan may not scan (APR's
     * allocator can use mmap): its allocations are not leaks. */
    __lsan_disable();
    fuzz_ks = af_keyset_make(fuzz_root);
    for (i = 0; i < sizeof(fuzz_jwks) / sizeof(fuzz_jwks[0]); i++) {
        json_error_t jerr;
        json_t *j = json_loads(fuzz_jwks[i], 0, &jerr);
        af_key_t *key = NULL;
        const char *why = NULL;

        if (!j) {
            fuzz_die("json");
        }
        af_json_pool_own(j, fuzz_root);
        if (af_jwk_parse(&key, j, AF_JWK_ALLOW_OCT, &why, fuzz_root) != APR_SUCCESS) {
            fuzz_die(why ? why : "af_jwk_parse");
        }
        if (key->kty == AF_KTY_OCT) {
            fuzz_hs_key = key;
        }
        af_keyset_add(fuzz_ks, key);
    }
    __lsan_enable();
    if (!fuzz_hs_key) {
        fuzz_die("no HS256 key");
    }
    return 0;
}

static void fuzz_policy(af_jwt_policy_t *pol, int strict)
{
    memset(pol, 0, sizeof(*pol));
    pol->now = FUZZ_NOW;
    pol->leeway = 60;
    if (strict) {
        pol->max_lifetime = 86400;
        pol->iss = "https://issuer.example";
        pol->aud = "api://fuzz";
        pol->typ = "at+jwt";
        pol->require_iat = 1;
        pol->require_jti = 1;
        pol->require_sub = 1;
    }
}

static int fuzz_key_in_set(const af_key_t *key)
{
    int i;

    for (i = 0; i < fuzz_ks->keys->nelts; i++) {
        if (APR_ARRAY_IDX(fuzz_ks->keys, i, const af_key_t *) == key) {
            return 1;
        }
    }
    return 0;
}

/* Parse + verify + check, step by step; returns the combined status like af_jwt_verify. */
static apr_status_t fuzz_steps(const char *tok, size_t len, const af_jwt_policy_t *pol,
                               apr_pool_t *p)
{
    af_jws_t *jws = NULL;
    const af_key_t *used = NULL;
    json_t *claims = NULL;
    apr_status_t rv, vrv, crv;

    rv = af_jws_parse(&jws, tok, len, 0, p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (!jws || !jws->header || !jws->payload || !jws->sig || jws->alg == AF_ALG_UNKNOWN) {
        __builtin_trap(); /* parse succeeded but the result is incomplete */
    }
    vrv = af_jws_verify_keyset(&used, jws, fuzz_ks);
    if (vrv == APR_SUCCESS) {
        if (!used || !fuzz_key_in_set(used) || used->alg != jws->alg) {
            __builtin_trap(); /* verified with a key outside the set or a different alg */
        }
    }
    if (jws->typ) {
        (void) af_jwt_typ_matches(jws->typ, "at+jwt");
    }
    /* Claim checks on every parsed token: exercises the payload path without signatures. */
    crv = af_jwt_check(&claims, jws, pol, p);
    if (crv == APR_SUCCESS && claims) {
        (void) af_json_path(claims, "realm_access.roles");
        (void) af_json_path(claims, "groups[0]");
        (void) af_json_dump(claims, p);
    }
    return vrv != APR_SUCCESS ? vrv : crv;
}

static void fuzz_one(const char *tok, size_t len, const af_jwt_policy_t *pol, apr_pool_t *p)
{
    const af_key_t *used = NULL;
    json_t *claims = NULL;
    apr_status_t steps, full;

    steps = fuzz_steps(tok, len, pol, p);
    full = af_jwt_verify(&claims, &used, tok, len, fuzz_ks, pol, p);
    if ((steps == APR_SUCCESS) != (full == APR_SUCCESS)) {
        __builtin_trap(); /* the one-call path disagrees with its steps */
    }
    if (full == APR_SUCCESS && (!claims || !json_is_object(claims))) {
        __builtin_trap();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    af_jwt_policy_t pol;
    char *tok;

    if (size > 64 * 1024) {
        return 0;
    }
    apr_pool_create(&p, fuzz_root);
    fuzz_policy(&pol, !(size & 1));

    /* An exact-size heap copy: ASan sees any read past the end. */
    tok = malloc(size ? size : 1);
    memcpy(tok, data, size);
    fuzz_one(tok, size, &pol, p);
    free(tok);

    if (size > 0 && data[0] == '{') {
        const char *compact = NULL;

        if (af_jws_sign(&compact, fuzz_hs_key, "at+jwt", data, size, p) == APR_SUCCESS) {
            af_jws_t *jws = NULL;
            const af_key_t *used = NULL;

            /* round trip: what we signed must parse and verify with the same key */
            if (af_jws_parse(&jws, compact, strlen(compact), 0, p) == APR_SUCCESS &&
                (af_jws_verify_keyset(&used, jws, fuzz_ks) != APR_SUCCESS || used != fuzz_hs_key)) {
                __builtin_trap();
            }
            fuzz_one(compact, strlen(compact), &pol, p);
        }
    }
    apr_pool_destroy(p);
    return 0;
}
