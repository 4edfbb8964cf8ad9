/* lmdb_idpsid.c -- the IdP session index of the LMDB backend: (provider, IdP sid) -> the
 * logins made in that IdP session, for OpenID Connect Back-Channel Logout by sid.
 *
 * by_idp_sid (dupsort) maps SHA-256(provider length || provider || sid) to family ids; each
 * entry has a by_expiry entry (kind LM_KIND_IDP_SID, key || family id) at its family's
 * absolute expiry, so the sweep removes it with the family. */
#include <string.h>

#include <openssl/evp.h>

#include "store/lmdb_int.h"

int af_lm_idp_sid_key(unsigned char *key, const char *provider, const char *idp_sid)
{
    apr_size_t n = strlen(provider);
    unsigned char len[2] = {(unsigned char) (n >> 8), (unsigned char) n};
    unsigned int out = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok;

    ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
         EVP_DigestUpdate(ctx, len, sizeof(len)) == 1 && EVP_DigestUpdate(ctx, provider, n) == 1 &&
         EVP_DigestUpdate(ctx, idp_sid, strlen(idp_sid)) == 1 &&
         EVP_DigestFinal_ex(ctx, key, &out) == 1 && out == LM_IDP_SID_KEY_LEN;
    EVP_MD_CTX_free(ctx);
    return ok ? MDB_SUCCESS : ENOMEM;
}

int af_lm_idp_sid_put(lm_t *lm, MDB_txn *txn, const char *provider, const char *idp_sid,
                      const char *sid, apr_int64_t expires)
{
    unsigned char ek[LM_IDP_SID_KEY_LEN + LM_SID_LEN];
    MDB_val k = {LM_IDP_SID_KEY_LEN, ek}, v = {LM_SID_LEN, (void *) sid};
    int rc;

    if (!af_store_idp_sid_ok(provider, idp_sid)) {
        return MDB_SUCCESS;
    }
    if (!lm->has_idp_sid) {
        return EACCES; /* a read-only handle never writes */
    }
    if ((rc = af_lm_idp_sid_key(ek, provider, idp_sid)) != MDB_SUCCESS ||
        (rc = mdb_put(txn, lm->by_idp_sid, &k, &v, 0)) != MDB_SUCCESS) {
        return rc;
    }
    memcpy(ek + LM_IDP_SID_KEY_LEN, sid, LM_SID_LEN);
    return af_lm_put_expiry(lm, txn, expires, LM_KIND_IDP_SID, ek, sizeof(ek));
}

apr_status_t af_lm_revoke_idp_sid(int *count, af_store_t *st, const char *provider,
                                  const char *idp_sid, const char *sub, apr_int64_t now,
                                  apr_pool_t *p)
{
    lm_t *lm = st->impl;
    unsigned char key[LM_IDP_SID_KEY_LEN];
    MDB_val k = {LM_IDP_SID_KEY_LEN, key};
    int rc;

    if (count != NULL) {
        *count = 0;
    }
    if (!lm->has_idp_sid) {
        return APR_SUCCESS; /* read-only on an environment that never recorded one */
    }
    if ((rc = af_lm_idp_sid_key(key, provider, idp_sid)) != MDB_SUCCESS) {
        return af_lm_err(lm, rc, "revoke_idp_sid");
    }
    return af_lm_revoke_index(count, lm, lm->by_idp_sid, &k, sub, now, "revoke_idp_sid", p);
}
