/* fuzz_jwks.c -- libFuzzer target: JWK / JWKS loading (af_jwks_parse, af_jwk_parse).
 *
 * Input: a JWKS document or a single JWK as fetched from a jwks_uri or read from a file.
 * Each input is loaded twice, with the two flag sets the module uses:
 *   AF_JWK_PUBLIC_ONLY  a fetched IdP key set (no private members, no symmetric keys)
 *   AF_JWK_ALLOW_OCT    a locally configured key set (symmetric keys allowed)
 * Every loaded key is then used: alg name, RFC 7638 thumbprint, public JWK export, key
 * selection by kid, and one raw verification of a fixed message with a dummy signature.
 * Invariants checked (a violation traps): a loaded key has a pinned alg that agrees with its
 * kty; oct keys have a non-empty secret and no EVP_PKEY, other keys an EVP_PKEY; PUBLIC_ONLY
 * never yields a private or symmetric key; an all-zero ECDSA signature never verifies.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_tables.h>

#include "common/af_error.h"
#include "common/af_json.h"
#include "common/af_log.h"
#include "jose/af_jose_errors.h"
#include "jose/af_jwk.h"
#include "jose/af_jws.h"

static apr_pool_t *fuzz_root;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    if (apr_initialize() != APR_SUCCESS || apr_pool_create(&fuzz_root, NULL) != APR_SUCCESS) {
        abort();
    }
    af_log_set(NULL, NULL, 0);
    return 0;
}

static af_kty_t fuzz_kty_of(af_alg_t alg)
{
    switch (alg) {
    case AF_ALG_HS256:
    case AF_ALG_HS384:
    case AF_ALG_HS512:
        return AF_KTY_OCT;
    case AF_ALG_RS256:
    case AF_ALG_RS384:
    case AF_ALG_RS512:
    case AF_ALG_PS256:
    case AF_ALG_PS384:
    case AF_ALG_PS512:
        return AF_KTY_RSA;
    case AF_ALG_ES256:
    case AF_ALG_ES384:
    case AF_ALG_ES512:
        return AF_KTY_EC;
    case AF_ALG_EDDSA:
        return AF_KTY_OKP;
    default:
        return AF_KTY_NONE;
    }
}

static apr_size_t fuzz_sig_len(af_alg_t alg)
{
    switch (alg) {
    case AF_ALG_ES256:
        return 64;
    case AF_ALG_ES384:
        return 96;
    case AF_ALG_ES512:
        return 132;
    case AF_ALG_EDDSA:
        return 64;
    case AF_ALG_HS256:
        return 32;
    case AF_ALG_HS384:
        return 48;
    case AF_ALG_HS512:
        return 64;
    default:
        return 256;
    }
}

static void fuzz_use_key(const af_key_t *key, const af_keyset_t *ks, int flags, apr_pool_t *p)
{
    static const unsigned char msg[] = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJmdXp6In0";
    static const unsigned char zeros[1024];
    const af_key_t *cands[8];
    json_t *pub = NULL;
    apr_size_t slen;
    apr_status_t rv;

    if (key->alg <= AF_ALG_UNKNOWN || key->alg >= AF_ALG_COUNT || !af_alg_name(key->alg)) {
        __builtin_trap(); /* a loaded key without a pinned algorithm */
    }
    if (fuzz_kty_of(key->alg) != key->kty) {
        __builtin_trap(); /* pinned alg disagrees with the key type */
    }
    if (key->kty == AF_KTY_OCT) {
        if (key->pkey || !key->secret || key->secret_len == 0) {
            __builtin_trap();
        }
    } else if (!key->pkey) {
        __builtin_trap();
    }
    if ((flags & AF_JWK_PUBLIC_ONLY) && (key->is_private || key->kty == AF_KTY_OCT)) {
        __builtin_trap(); /* a fetched public JWKS yielded a private or symmetric key */
    }
    if (af_alg_from_name(af_alg_name(key->alg)) != key->alg) {
        __builtin_trap();
    }
    if (key->kty != AF_KTY_OCT) {
        (void) af_key_thumbprint(key, p);
        (void) af_key_to_public_jwk(&pub, key, p);
    }
    if (af_keyset_select(cands, 8, ks, key->kid, key->alg) > 8) {
        __builtin_trap();
    }
    slen = fuzz_sig_len(key->alg);
    if (key->pkey && key->kty == AF_KTY_RSA) {
        int bits = EVP_PKEY_get_bits(key->pkey);
        slen = bits > 0 && bits <= 8192 ? ((apr_size_t) bits + 7) / 8 : 256;
    }
    rv = af_jws_verify_raw(key, msg, sizeof(msg) - 1, zeros, slen);
    if (rv == APR_SUCCESS && key->kty == AF_KTY_EC) {
        __builtin_trap(); /* r = s = 0 accepted (CVE-2022-21449) */
    }
}

static void fuzz_load(const char *text, size_t size, int flags, apr_pool_t *p)
{
    apr_array_header_t *skipped = apr_array_make(p, 4, sizeof(const char *));
    af_keyset_t *ks = NULL;
    apr_status_t rv;
    int i;

    rv = af_jwks_parse(&ks, text, size, flags, skipped, p);
    for (i = 0; i < skipped->nelts; i++) {
        if (!APR_ARRAY_IDX(skipped, i, const char *)) {
            __builtin_trap();
        }
    }
    if (rv != APR_SUCCESS) {
        return;
    }
    if (!ks || !ks->keys) {
        __builtin_trap();
    }
    for (i = 0; i < ks->keys->nelts; i++) {
        fuzz_use_key(APR_ARRAY_IDX(ks->keys, i, const af_key_t *), ks, flags, p);
    }
}

static void fuzz_single(const char *text, size_t size, int flags, apr_pool_t *p)
{
    json_t *j = NULL;
    af_key_t *key = NULL;
    af_keyset_t *ks;
    const char *why = NULL;

    if (af_json_parse(&j, text, size, 0, p) != APR_SUCCESS) {
        return;
    }
    if (af_jwk_parse(&key, j, flags, &why, p) != APR_SUCCESS) {
        return;
    }
    ks = af_keyset_make(p);
    af_keyset_add(ks, key);
    fuzz_use_key(key, ks, flags, p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int flag_sets[] = {AF_JWK_PUBLIC_ONLY, AF_JWK_ALLOW_OCT};
    apr_pool_t *p;
    char *text;
    size_t i;

    if (size > 256 * 1024) {
        return 0;
    }
    apr_pool_create(&p, fuzz_root);
    text = malloc(size ? size : 1); /* exact size, not NUL-terminated */
    memcpy(text, data, size);
    for (i = 0; i < sizeof(flag_sets) / sizeof(flag_sets[0]); i++) {
        fuzz_load(text, size, flag_sets[i], p);
        fuzz_single(text, size, flag_sets[i], p);
    }
    free(text);
    apr_pool_destroy(p);
    return 0;
}
