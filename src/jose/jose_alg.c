/* jose_alg.c -- algorithm names and the digests fetched once per process. */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "jose/jose_int.h"

static const char *const alg_names[AF_ALG_COUNT] = {NULL,    "HS256", "HS384", "HS512", "RS256",
                                                    "RS384", "RS512", "PS256", "PS384", "PS512",
                                                    "ES256", "ES384", "ES512", "EdDSA"};

static CRYPTO_ONCE fetch_once = CRYPTO_ONCE_STATIC_INIT;
static EVP_MD *md_sha[3]; /* SHA256, SHA384, SHA512: immutable after the once */

static void do_fetch(void)
{
    md_sha[0] = EVP_MD_fetch(NULL, "SHA256", NULL);
    md_sha[1] = EVP_MD_fetch(NULL, "SHA384", NULL);
    md_sha[2] = EVP_MD_fetch(NULL, "SHA512", NULL);
}

af_alg_t af_alg_from_name(const char *name)
{
    int i;

    if (name == NULL) {
        return AF_ALG_UNKNOWN;
    }
    for (i = 1; i < AF_ALG_COUNT; i++) {
        if (strcmp(name, alg_names[i]) == 0) {
            return (af_alg_t) i;
        }
    }
    return AF_ALG_UNKNOWN;
}

const char *af_alg_name(af_alg_t alg)
{
    if (alg <= AF_ALG_UNKNOWN || alg >= AF_ALG_COUNT) {
        return NULL;
    }
    return alg_names[alg];
}

static int sha_index(af_alg_t alg)
{
    switch (alg) {
    case AF_ALG_HS256:
    case AF_ALG_RS256:
    case AF_ALG_PS256:
    case AF_ALG_ES256:
        return 0;
    case AF_ALG_HS384:
    case AF_ALG_RS384:
    case AF_ALG_PS384:
    case AF_ALG_ES384:
        return 1;
    case AF_ALG_HS512:
    case AF_ALG_RS512:
    case AF_ALG_PS512:
    case AF_ALG_ES512:
        return 2;
    default:
        return -1;
    }
}

const EVP_MD *af_jose_md(af_alg_t alg)
{
    int i = sha_index(alg);

    if (i < 0) {
        return NULL;
    }
    CRYPTO_THREAD_run_once(&fetch_once, do_fetch);
    return md_sha[i];
}

apr_size_t af_jose_hash_len(af_alg_t alg)
{
    static const apr_size_t lens[3] = {32, 48, 64};
    int i = sha_index(alg);

    return i < 0 ? 0 : lens[i];
}

apr_size_t af_jose_ec_len(af_alg_t alg)
{
    switch (alg) {
    case AF_ALG_ES256:
        return 32;
    case AF_ALG_ES384:
        return 48;
    case AF_ALG_ES512:
        return 66;
    default:
        return 0;
    }
}

const char *af_jose_ec_group(af_alg_t alg)
{
    switch (alg) {
    case AF_ALG_ES256:
        return "prime256v1";
    case AF_ALG_ES384:
        return "secp384r1";
    case AF_ALG_ES512:
        return "secp521r1";
    default:
        return NULL;
    }
}

const char *af_jose_ec_crv(af_alg_t alg)
{
    switch (alg) {
    case AF_ALG_ES256:
        return "P-256";
    case AF_ALG_ES384:
        return "P-384";
    case AF_ALG_ES512:
        return "P-521";
    default:
        return NULL;
    }
}
