/* af_testjws.h -- id_token fixtures shared by the src/oidc unit tests (linked into every
 * test binary).  Tokens are signed by the src/jose signer; the negative-token tests of the
 * integration suite mint theirs with jwcrypto instead. */
#ifndef AF_TESTJWS_H
#define AF_TESTJWS_H

#include <apr_pools.h>
#include <jansson.h>

#include "jose/af_jws.h"
#include "oidc/af_oidc.h"

/** The claims of a valid id_token for (iss, aud, nonce) issued at now and valid for five
 *  minutes, for alice with a verified email; owned by p.  Tests edit the returned object. */
json_t *af_test_id_claims(const char *iss, const char *aud, const char *nonce, apr_int64_t now,
                          apr_pool_t *p);

/** Sign claims with key; hdr is the whole protected header as JSON, or NULL for the
 *  default {"alg":…,"typ":"JWT"[,"kid":…]}.  Fails the running test if signing fails. */
const char *af_test_mint(const af_key_t *key, const char *hdr, const json_t *claims, apr_pool_t *p);

/** A JWKS document with the public JWKs of keys[0..n-1], as text in p. */
const char *af_test_jwks_text(af_key_t *const *keys, int n, apr_pool_t *p);

/** A checked confidential-client provider "idp" for (iss, client_id, secret) with the
 *  redirect URI https://app.example/auth/callback. */
af_oidc_provider_t *af_test_provider(const char *iss, const char *client_id, const char *secret,
                                     apr_pool_t *p);

#endif
