/* login_idt.c -- the IdP's id_token, kept sealed with the login for a later logout.
 *
 * OIDC RP-Initiated Logout wants the id_token as id_token_hint.  It is never stored in
 * plaintext (G01): at the callback it is sealed (AES-256-GCM, key HKDF(server secret,
 * "id_token_hint"), valid for the login's absolute lifetime) and the blob is kept in the
 * family's claims snapshot under the reserved member AF_LOGIN_IDT_MEMBER, which is never
 * copied into access tokens (af_token_claim_is_reserved) and hidden by authflowctl show.
 * At logout the blob is unsealed and sent to the end_session_endpoint.
 */
#include <string.h>

#include <httpd.h>
#include <http_config.h>

#include <apr_strings.h>

#include "common/af_json.h"
#include "httpd/af_config.h"
#include "httpd/login.h"

static af_seal_key_t *idt_key(const af_srv_conf_t *sc, apr_pool_t *p)
{
    af_seal_key_t *k = NULL;
    const af_login_store_t *slot = sc->login ? sc->login->r_store : NULL;

    if (slot == NULL || slot->secret == NULL ||
        af_token_seal_key(&k, slot->secret, AF_SECRET_LEN, AF_LOGIN_IDT_PURPOSE, p) !=
            APR_SUCCESS) {
        return NULL;
    }
    return k;
}

const char *af_login_idt_claims(request_rec *r, const af_srv_conf_t *sc, const json_t *claims,
                                const char *id_token, apr_int64_t now)
{
    af_seal_key_t *k;
    const char *blob = NULL;
    json_t *copy;

    if (id_token == NULL || *id_token == '\0' || claims == NULL ||
        (k = idt_key(sc, r->pool)) == NULL ||
        af_token_seal(&blob, k, id_token, strlen(id_token), now,
                      sc->login->r_refresh_ttl + AF_LOGIN_FLOW_MAX_AGE, r->pool) != APR_SUCCESS) {
        return NULL;
    }
    copy = af_json_pool_own(json_deep_copy(claims), r->pool);
    if (copy == NULL || json_object_set_new(copy, AF_LOGIN_IDT_MEMBER, json_string(blob)) != 0) {
        return NULL;
    }
    return af_json_dump(copy, r->pool);
}

const char *af_login_idt_hint(request_rec *r, const af_srv_conf_t *sc, af_store_t *st,
                              const char *sid, apr_int64_t now)
{
    af_store_family_t *fam = NULL;
    af_seal_key_t *k;
    json_t *doc = NULL;
    const char *blob;
    unsigned char *data = NULL;
    apr_size_t len = 0;

    if (st == NULL || sid == NULL || (k = idt_key(sc, r->pool)) == NULL ||
        af_store_family_get(&fam, st, sid, r->pool) != APR_SUCCESS || fam->claims_json == NULL ||
        *fam->claims_json == '\0' ||
        af_json_parse(&doc, fam->claims_json, strlen(fam->claims_json), AF_STORE_CLAIMS_MAX,
                      r->pool) != APR_SUCCESS ||
        (blob = json_string_value(json_object_get(doc, AF_LOGIN_IDT_MEMBER))) == NULL ||
        af_token_unseal(&data, &len, k, blob, strlen(blob), now, r->pool) != APR_SUCCESS ||
        len == 0 || memchr(data, '\0', len) != NULL) {
        return NULL;
    }
    return (const char *) data;
}
