/* af_testjws.h -- id_token fixtures shared by the src/oidc unit tests (linked into every
 * test binary).  Tokens are signed by the src/jose signer; the negative-token tests of the
 * integration suite mint theirs with jwcrypto instead. */
#ifndef AF_TESTJWS_H
#define AF_TESTJWS_H

#include <apr_pools.h>
#include <jansson.h>

#include "jose/af_jws.h"

/** The claims of a valid id_token for (iss, aud, nonce) issued at now and valid for five
 *  minutes, for alice with a verified email; owned by p.  Tests edit the returned object. */
json_t *af_test_id_claims(const char *iss, const char *aud, const char *nonce, apr_int64_t now,
                          apr_pool_t *p);

/** Sign claims with key; hdr is the whole protected header as JSON, or NULL for the
 *  default {"alg":…,"typ":"JWT"[,"kid":…]}.  Fails the running test if signing fails. */
const char *af_test_mint(const af_key_t *key, const char *hdr, const json_t *claims, apr_pool_t *p);

#endif
