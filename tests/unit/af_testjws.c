/* af_testjws.c -- id_token fixtures shared by the src/oidc unit tests. */
#include <check.h>
#include <string.h>

#include "af_testjws.h"
#include "common/af_json.h"

json_t *af_test_id_claims(const char *iss, const char *aud, const char *nonce, apr_int64_t now,
                          apr_pool_t *p)
{
    json_t *c = af_json_pool_own(json_object(), p);

    json_object_set_new(c, "iss", json_string(iss));
    json_object_set_new(c, "sub", json_string("alice"));
    json_object_set_new(c, "aud", json_string(aud));
    json_object_set_new(c, "exp", json_integer(now + 300));
    json_object_set_new(c, "iat", json_integer(now));
    json_object_set_new(c, "nonce", json_string(nonce));
    json_object_set_new(c, "email", json_string("alice@example.com"));
    json_object_set_new(c, "email_verified", json_true());
    return c;
}

const char *af_test_mint(const af_key_t *key, const char *hdr, const json_t *claims, apr_pool_t *p)
{
    const char *out = NULL, *payload = af_json_dump(claims, p);
    apr_size_t len = strlen(payload);

    if (hdr)
        ck_assert_int_eq(
            af_jws_sign_with_header(&out, key, hdr, (const unsigned char *) payload, len, p),
            APR_SUCCESS);
    else
        ck_assert_int_eq(af_jws_sign(&out, key, "JWT", (const unsigned char *) payload, len, p),
                         APR_SUCCESS);
    return out;
}

const char *af_test_jwks_text(af_key_t *const *keys, int n, apr_pool_t *p)
{
    json_t *set = af_json_pool_own(json_object(), p), *arr = json_array();
    int i;

    for (i = 0; i < n; i++) {
        json_t *jwk = NULL;
        ck_assert_int_eq(af_key_to_public_jwk(&jwk, keys[i], p), APR_SUCCESS);
        json_array_append(arr, jwk);
    }
    json_object_set_new(set, "keys", arr);
    return af_json_dump(set, p);
}

af_oidc_provider_t *af_test_provider(const char *iss, const char *client_id, const char *secret,
                                     apr_pool_t *p)
{
    af_oidc_provider_t *prov = af_oidc_provider_make("idp", p);

    prov->issuer = iss;
    prov->client_id = client_id;
    prov->client_secret = secret;
    prov->redirect_uri = "https://app.example/auth/callback";
    ck_assert_ptr_null(af_oidc_provider_check(prov, p));
    return prov;
}
