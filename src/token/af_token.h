/* af_token.h -- our own tokens: refresh tokens, sealed blobs, server secret, access JWTs.
 *
 * Refresh token: 32 bytes (256 bits) from RAND_bytes, base64url without padding
 * (43 characters).  Only SHA-256(token) is ever stored.
 *
 * Sealed blob (flow cookie, successor tokens): AES-256-GCM, a fresh random 96-bit
 * nonce per message, a key per purpose derived by HKDF-SHA256 from a server secret,
 * AAD = purpose || 0x00 || version byte.  Layout before base64url:
 *   version (1) || nonce (12) || ciphertext || tag (16)
 * and the plaintext is  expires (int64, big-endian) || data.
 * Any change (a flipped bit, another purpose, a truncated blob, a different
 * version) fails with AF_ETOKEN_SEAL; an authentic but too old blob with
 * AF_ETOKEN_EXPIRED.  Replays within the max age are stopped by the caller
 * (single-use flow ids in the store).
 *
 * Nothing here logs token or key material.
 */
#ifndef AF_TOKEN_H
#define AF_TOKEN_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <jansson.h>

#include "jose/af_jwk.h"
#include "token/af_token_errors.h"

#define AF_RT_BYTES      32 /* entropy of a refresh token */
#define AF_RT_LEN        43 /* its base64url length */
#define AF_RT_HASH_LEN   32 /* SHA-256 */
#define AF_SEAL_VERSION  1
#define AF_SEAL_NONCE    12
#define AF_SEAL_TAG      16
#define AF_SEAL_OVERHEAD (1 + AF_SEAL_NONCE + AF_SEAL_TAG)
#define AF_SECRET_LEN    32
#define AF_COOKIE_MAX    4096 /* name + '=' + value of one cookie */

/* ---- refresh tokens ---------------------------------------------------------------- */

/** A fresh refresh token (AF_RT_LEN chars, pool string). @return APR_SUCCESS, AF_ECRYPTO */
apr_status_t af_token_refresh_new(const char **rt, apr_pool_t *p);

/**
 * Is rt shaped like one of ours (exactly AF_RT_LEN chars of canonical base64url)?
 * Cheap; run it before any lookup. @return APR_SUCCESS or AF_ETOKEN_FORMAT
 */
apr_status_t af_token_refresh_check(const char *rt, apr_size_t len);

/** SHA-256 of the token text, the only form stored. */
apr_status_t af_token_refresh_hash(unsigned char out[AF_RT_HASH_LEN], const char *rt,
                                   apr_size_t len);

/** Random bytes from the OpenSSL CSPRNG. @return APR_SUCCESS or AF_ECRYPTO */
apr_status_t af_token_random(unsigned char *out, apr_size_t len);

/** A random base64url identifier of nbytes bytes (family ids: 16, jti: 16). */
apr_status_t af_token_random_id(const char **id, apr_size_t nbytes, apr_pool_t *p);

/* ---- key derivation and sealing ---------------------------------------------------- */

/** HKDF-SHA256 (RFC 5869) into a 32-byte key. @return APR_SUCCESS or AF_ECRYPTO */
apr_status_t af_token_hkdf(unsigned char out[32], const unsigned char *ikm, apr_size_t ikm_len,
                           const char *salt, const char *info);

/**
 * Raw AES-256-GCM: out (len + AF_SEAL_NONCE + AF_SEAL_TAG bytes) = nonce || ct || tag,
 * with a random nonce. @return APR_SUCCESS or AF_ECRYPTO
 */
apr_status_t af_token_gcm_seal(unsigned char *out, const unsigned char key[32],
                               const unsigned char *aad, apr_size_t aad_len,
                               const unsigned char *pt, apr_size_t len);

/**
 * Inverse of af_token_gcm_seal; out must hold in_len - AF_SEAL_NONCE - AF_SEAL_TAG bytes.
 * @return APR_SUCCESS, AF_ETOKEN_SEAL (short input, tag mismatch), AF_ECRYPTO
 */
apr_status_t af_token_gcm_open(unsigned char *out, apr_size_t *out_len, const unsigned char key[32],
                               const unsigned char *aad, apr_size_t aad_len,
                               const unsigned char *in, apr_size_t in_len);

/** A sealing key bound to one purpose (e.g. the cookie name "__Host-authflow-flow"). */
typedef struct af_seal_key_t {
    unsigned char key[32];
    const char *purpose;
} af_seal_key_t;

/** Derive the key of a purpose from the server secret (HKDF-SHA256, info = purpose). */
apr_status_t af_token_seal_key(af_seal_key_t **out, const unsigned char *secret,
                               apr_size_t secret_len, const char *purpose, apr_pool_t *p);

/**
 * Seal data for at most max_age seconds from now; blob is a base64url pool string.
 * @return APR_SUCCESS, AF_ECRYPTO
 */
apr_status_t af_token_seal(const char **blob, const af_seal_key_t *key, const void *data,
                           apr_size_t len, apr_int64_t now, apr_int64_t max_age, apr_pool_t *p);

/**
 * Open a sealed blob. data is NUL-terminated pool memory (len excludes the NUL).
 * @return APR_SUCCESS, AF_ETOKEN_SEAL (malformed, tampered, other purpose or version),
 *         AF_ETOKEN_EXPIRED (authentic but now > expiry)
 */
apr_status_t af_token_unseal(unsigned char **data, apr_size_t *len, const af_seal_key_t *key,
                             const char *blob, apr_size_t blob_len, apr_int64_t now, apr_pool_t *p);

/* ---- server secret and default signing key ----------------------------------------- */

/**
 * Load dir/secret.key (exactly AF_SECRET_LEN bytes, no group/other permission bits),
 * or create it once (random, mode 0600, created atomically: concurrent callers all end
 * up with the same secret).
 * The file must keep to the secret-file rule (af_file_private_mode; a symlink is refused here:
 * the module made the file itself).
 * @return APR_SUCCESS, errno codes, AF_ETOKEN_SECRET (wrong size), AF_EFILE_* (the rule)
 */
apr_status_t af_token_secret_load_or_create(const unsigned char **secret, const char *dir,
                                            apr_pool_t *p);

#define AF_SECRET_FILE_MAX 4096 /* bytes of an AuthFlowSecretFile */

/**
 * Read a configured server secret (AuthFlowSecretFile, the same on every host of a site):
 * the file's bytes as they are, at least AF_SECRET_LEN and at most AF_SECRET_FILE_MAX; a
 * regular file others cannot read or write (af_file_check_private: the one rule for secret
 * files, symlinks judged by their target); not a key (PEM, DER, JWK).  Keys of sealed
 * cookies are derived from all of it (HKDF).
 * @param why on failure, a stable reason (secret_unreadable, secret_too_short,
 *        secret_too_long, secret_is_a_key, or the rule's af_strerror)
 * @return APR_SUCCESS, AF_ETOKEN_SECRET, AF_EFILE_* (the rule: af_file_private_hint words
 *         it), errno codes
 */
apr_status_t af_token_secret_file(const unsigned char **secret, apr_size_t *len, const char *path,
                                  const char **why, apr_pool_t *p);

/**
 * The default signing key: dir/signing-key.pem, a P-256 key (ES256) generated once
 * (PKCS#8 PEM, 0600). kid defaults to the RFC 7638 thumbprint.
 * @return APR_SUCCESS, errno codes, AF_EFILE_* (the secret-file rule), AF_EKEY_*
 */
apr_status_t af_token_signing_key_load_or_create(af_key_t **key, const char *dir, apr_pool_t *p);

/* ---- access tokens ----------------------------------------------------------------- */

/**
 * Our subject for an IdP subject (H05): "<idp subject>@<provider name>", so that two
 * providers' accounts never share REMOTE_USER, AUTHFLOW_SUB, a `sub` a Require line
 * matches, or the store's per-user key.  Provider names never contain '@', so the last
 * '@' separates the two parts.  Stable across logins.
 * @return APR_SUCCESS, APR_EINVAL (empty, control characters, or longer than 255 bytes)
 */
apr_status_t af_token_subject(const char **out, const char *idp_sub, const char *provider,
                              apr_pool_t *p);

/** The claims an access token always carries; mapped claims never override them. */
int af_token_claim_is_reserved(const char *name);

/** What an access token is minted from (one login; see af_token_mint_access_fit). */
typedef struct af_token_access_t {
    const af_key_t *key; /* the signing key */
    const char *iss;
    const char *aud;
    const char *sub;     /* our subject: the IdP subject namespaced by provider */
    const char *sid;     /* the login (token family) */
    const char *idp;     /* the provider name, or NULL */
    const char *idp_sub; /* the IdP's own subject, or NULL */
    apr_int64_t ttl;
    apr_int64_t now;
    const json_t *claims;                  /* the login's mapped claims, or NULL */
    const apr_array_header_t *claim_names; /* AuthFlowTokenClaims (const char *), or NULL */
    apr_size_t cookie_name_len;            /* the token must fit name + '=' + token <= 4096 */
} af_token_access_t;

/**
 * Mint our access JWT: header typ "at+jwt", claims iss, aud, sub, iat = now,
 * exp = now + ttl, jti (random 128 bits), sid, idp, idp_sub, the login's auth_time, acr and
 * amr when claims has them (always: step-up), plus each claim named in claim_names that is
 * present in claims (copied; reserved names skipped).
 * @return APR_SUCCESS, AF_ETOKEN_CLAIMS (iss/aud/sub/sid missing, ttl <= 0),
 *         AF_ETOKEN_TOOBIG, AF_EKEY_PUBLIC, AF_ECRYPTO
 */
apr_status_t af_token_mint_access2(const char **compact, const af_token_access_t *in,
                                   apr_pool_t *p);

/**
 * The one mint path of login, refresh and the gate's inline refresh (F04): mint, and when
 * the token would not fit a 4 KB cookie leave mapped claims out from the end of
 * claim_names until it does (the login's full claims stay in the store).
 * @param dropped how many names of claim_names were left out (may be NULL)
 * @return as af_token_mint_access2; AF_ETOKEN_TOOBIG only when even no mapped claim fits
 */
apr_status_t af_token_mint_access_fit(const char **compact, int *dropped,
                                      const af_token_access_t *in, apr_pool_t *p);

/** af_token_mint_access2 with positional arguments (no idp_sub). */
apr_status_t af_token_mint_access(const char **compact, const af_key_t *key, const char *iss,
                                  const char *aud, const char *sub, const char *sid,
                                  const char *idp, apr_int64_t ttl, apr_int64_t now,
                                  const json_t *claims, const apr_array_header_t *claim_names,
                                  apr_size_t cookie_name_len, apr_pool_t *p);

#endif
