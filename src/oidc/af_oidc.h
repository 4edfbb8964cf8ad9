/* af_oidc.h -- OpenID Connect / OAuth 2.0 relying party: provider model, discovery,
 * authorization request (state, nonce, PKCE S256), callback parsing, code exchange,
 * id_token validation (OIDC Core 3.1.3.7), userinfo and claim mapping.
 *
 * No httpd header: the glue (src/httpd) fills an af_oidc_provider_t from
 * <AuthFlowProvider NAME>, calls af_oidc_provider_check at configtest,
 * af_oidc_runtime_init in child_init, and then per request af_oidc_login_start and
 * af_oidc_callback_finish.  Every outbound request to a provider goes through
 * af_oidc_idp_perform: af_http_perform behind the provider's outbound guard
 * (af_oidc_guard.h: concurrency limit, circuit breaker), when the glue gave it one.
 *
 * Every failure is an AF_EOIDC_* code; af_oidc_status() maps it to the HTTP status of the
 * callback (400 protocol parameters, 401 token/identity validation, 502/504 IdP failure,
 * 503 refused by the outbound guard).
 * Nothing secret (codes, verifiers, tokens, client secrets) is ever logged or returned
 * in an error string.
 */
#ifndef AF_OIDC_H
#define AF_OIDC_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>
#include <jansson.h>

#include "common/af_metrics.h"
#include "http/af_http.h"
#include "jose/af_jwk.h"
#include "jose/af_jws.h"
#include "oidc/af_oidc_errors.h"
#include "oidc/af_oidc_guard.h"

typedef enum {
    AF_OIDC_KIND_AUTO = 0, /* OIDC when an Issuer is set, else plain OAuth 2.0 */
    AF_OIDC_KIND_OIDC,
    AF_OIDC_KIND_OAUTH2,
    AF_OIDC_KIND_PASSWORD /* Type password: httpd's authn providers check a form's password */
} af_oidc_kind_t;

#define AF_OIDC_THROTTLE_N      10  /* Throttle default: failures per window */
#define AF_OIDC_THROTTLE_WINDOW 900 /* seconds */

typedef enum {
    AF_OIDC_PRESET_NONE = 0,
    AF_OIDC_PRESET_GOOGLE,
    AF_OIDC_PRESET_KAKAO,
    AF_OIDC_PRESET_GITHUB,
    AF_OIDC_PRESET_NAVER,
    AF_OIDC_PRESET_APPLE
} af_oidc_preset_t;

/** EmailVerified: how email_verified is decided (D16: email only when verified). */
typedef enum {
    AF_OIDC_EV_DEFAULT = 0, /* the preset's: never for naver, claim for the others */
    AF_OIDC_EV_CLAIM,       /* the IdP's email_verified, true or "true" */
    AF_OIDC_EV_NEVER,       /* never verified: email is not exported */
    AF_OIDC_EV_ALWAYS       /* the operator vouches for the IdP: any email is verified */
} af_oidc_email_verified_t;

typedef enum {
    AF_OIDC_RESPONSE_DEFAULT = 0, /* query, or the preset's (Apple: form_post) */
    AF_OIDC_RESPONSE_QUERY,       /* GET <endpoint>/callback?code=... */
    AF_OIDC_RESPONSE_FORM_POST    /* POST <endpoint>/callback, form-encoded (OAuth 2.0 Form Post) */
} af_oidc_response_mode_t;

#define AF_OIDC_APPLE_ISSUER "https://appleid.apple.com"
/* seconds a minted Apple client secret is valid (Apple allows up to 15777000, 6 months);
 * it is renewed once half of it has passed */
#define AF_OIDC_APPLE_SECRET_TTL 86400

typedef enum {
    AF_OIDC_AUTH_DEFAULT = 0, /* basic, or the preset's method */
    AF_OIDC_AUTH_BASIC,       /* client_secret_basic */
    AF_OIDC_AUTH_POST         /* client_secret_post */
} af_oidc_auth_t;

typedef struct af_oidc_kv_t {
    const char *key;
    const char *value;
} af_oidc_kv_t;

typedef struct af_oidc_runtime_t af_oidc_runtime_t;

/** One <AuthFlowProvider NAME>.  Zero/NULL fields take defaults in af_oidc_provider_check. */
typedef struct af_oidc_provider_t {
    const char *name;
    af_oidc_kind_t kind;
    af_oidc_preset_t preset;
    const char *issuer;                 /* Issuer: discovery base and exact iss */
    const char *authorization_endpoint; /* explicit endpoints override discovery */
    const char *token_endpoint;
    const char *userinfo_endpoint;
    const char *jwks_uri;
    const char *end_session_endpoint;
    const char *emails_endpoint; /* GitHub preset: /user/emails */
    const char *client_id;
    const char *client_secret; /* from ClientSecret or ClientSecretFile (Kakao: optional) */
    const char *admin_key;     /* AdminKeyFile (Kakao): checks unlink callbacks (events) */
    af_oidc_email_verified_t email_verified; /* EmailVerified */
    const char *redirect_uri; /* absolute; the glue fills the default from AuthFlowBaseURL */
    af_oidc_auth_t token_auth;
    const char *scope;                 /* default "openid" (OIDC) */
    apr_array_header_t *auth_params;   /* af_oidc_kv_t: AuthParam KEY VALUE */
    const char *subject_claim;         /* default "sub" ("id" for GitHub) */
    apr_array_header_t *claims;        /* af_oidc_kv_t: Claim OURNAME PATH */
    apr_array_header_t *display_names; /* af_oidc_kv_t: DisplayName [LANG] TEXT ("" = any) */
    const char *ca_file;
    apr_interval_time_t timeout;       /* default 10 s */
    apr_array_header_t *id_token_algs; /* const char *: allowed id_token algs; empty: the
                                          discovered list (minus none/HS*), else RS256 */
    apr_int64_t iat_max_age;           /* seconds; default 300 */
    apr_int64_t leeway;                /* seconds; default 60 */
    int userinfo;                      /* -1 off, 0 auto (when an endpoint exists), 1 required */
    apr_interval_time_t jwks_refetch_interval; /* at most one JWKS fetch per interval (unknown
                                                  kid, failures); default 10 s */
    af_oidc_runtime_t *rt;                     /* per-process caches (af_oidc_runtime_init) */
    int max_concurrent;         /* MaxConcurrent: outbound calls at once; default 16 */
    af_oidc_guard_t *guard;     /* shared by every process; NULL: calls are not guarded */
    af_metrics_prov_t *metrics; /* its counters (shared memory, post_config), or NULL */
    af_oidc_response_mode_t response_mode; /* ResponseMode */
    /* Apple: the client secret is an ES256 JWT minted from these (no static secret) */
    const char *team_id;          /* TeamID: the JWT's iss */
    const char *key_id;           /* KeyID: the JWT's kid */
    const char *private_key_file; /* PrivateKeyFile: the .p8 (PKCS#8 EC P-256) */
    af_key_t *secret_key;         /* loaded by af_oidc_provider_check */
    /* Type password (CONFIG.md "Password login through httpd's authn providers") */
    apr_array_header_t *authn_providers; /* const char *: AuthnProvider NAME..., in order */
    int throttle_n;                      /* Throttle N DUR: failures per account and per */
    apr_int64_t throttle_window;         /* client address per window (seconds) */
} af_oidc_provider_t;

/** Provider metadata after discovery and explicit overrides. */
typedef struct af_oidc_meta_t {
    const char *issuer;
    const char *authorization_endpoint;
    const char *token_endpoint;
    const char *userinfo_endpoint;
    const char *jwks_uri;
    const char *end_session_endpoint;
    int iss_parameter_supported;       /* authorization_response_iss_parameter_supported */
    apr_array_header_t *id_token_algs; /* const char *, as discovered (may be empty) */
} af_oidc_meta_t;

#define AF_OIDC_ACR_VALUES_MAX 512 /* bytes of a step-up's acr_values */

/** Between login and callback; sealed into a cookie by src/token. */
typedef struct af_oidc_flow_t {
    const char *state;    /* >= 128 bits, base64url */
    const char *nonce;    /* >= 128 bits, base64url */
    const char *verifier; /* PKCE code_verifier: 43 chars from 256 bits */
    const char *provider;
    const char *return_to;
    apr_int64_t created;    /* seconds since the epoch */
    apr_int64_t max_age;    /* step-up: max_age requested (seconds); -1: none */
    const char *acr_values; /* step-up: acr_values requested (space-separated), or NULL */
} af_oidc_flow_t;

/** The parsed authorization response. */
typedef struct af_oidc_cbparams_t {
    const char *code;
    const char *state;
    const char *iss;
    const char *error; /* IdP error code (RFC 6749 charset, <= 64 chars) or NULL */
    const char *user;  /* Apple's unsigned first-consent "user" JSON, or NULL */
} af_oidc_cbparams_t;

typedef struct af_oidc_tokens_t {
    const char *access_token;
    const char *token_type;
    const char *id_token;
    const char *refresh_token;
    apr_int64_t expires_in; /* 0 when absent */
    const char *scope;
} af_oidc_tokens_t;

/** Checks of one id_token (the clock is injected). */
typedef struct af_oidc_idcheck_t {
    apr_int64_t now;
    const char *nonce;        /* the flow's nonce; required */
    const char *access_token; /* for at_hash; may be NULL */
} af_oidc_idcheck_t;

/** The outcome of a login. */
typedef struct af_oidc_identity_t {
    const char *provider;
    const char *issuer;    /* the id_token iss; for OAuth 2.0 the authorization endpoint origin */
    const char *sub;       /* the subject (SubjectClaim), as a string */
    json_t *claims;        /* mapped claims (pool-owned), always with "sub" */
    const char *idp_sid;   /* the id_token's sid (the IdP session, for back-channel logout), or
                              NULL when absent or not a string of 1..AF_OIDC_SID_MAX printable
                              characters */
    const char *id_token;  /* raw id_token for a later logout id_token_hint: server-side only */
    apr_int64_t auth_time; /* the id_token's auth_time; 0: the IdP did not say */
} af_oidc_identity_t;

/* ---- provider (oidc_provider.c) ------------------------------------------------------- */

/** A new provider with every field unset. */
af_oidc_provider_t *af_oidc_provider_make(const char *name, apr_pool_t *p);

/** "google", "kakao", "naver", "github", "apple" -> preset; AF_OIDC_PRESET_NONE when unknown (-1
 *  returned).
 */
int af_oidc_preset_from_name(af_oidc_preset_t *out, const char *name);

/**
 * Apply defaults (preset by Issuer / endpoint when not set, scope, auth method, subject
 * claim, timeouts) and validate: https endpoints (http only on loopback), client id,
 * redirect_uri absolute, scope containing "openid" for OIDC, no "none" alg unless it is
 * the only configured one (OIDC Core, E10), HS* only with a client secret of >= 32 bytes,
 * OAuth 2.0 providers with authorization, token and userinfo endpoints.
 * @return NULL when valid, else a message for configtest naming the key.
 */
const char *af_oidc_provider_check(af_oidc_provider_t *prov, apr_pool_t *p);

/** Resolves a configured file path (relative to ServerRoot); NULL when it cannot. */
typedef const char *af_oidc_path_fn(void *baton, const char *path, apr_pool_t *p);

/**
 * One body line "Key value..." of <AuthFlowProvider NAME> (keys case-insensitive, argv the
 * words with Apache's quoting removed): the one parser of the module's configuration and of
 * `authflowctl check`.  ClientSecretFile is read here (capped, trailing whitespace dropped,
 * no control characters, the secret-file rule).  resolve may be NULL (paths taken as given).
 * @return NULL, or an error naming the key ("unknown key 'X'" for an unknown one)
 */
const char *af_oidc_provider_key(af_oidc_provider_t *pv, const char *key, int argc,
                                 const char *const *argv, af_oidc_path_fn *resolve, void *baton,
                                 apr_pool_t *p);

/** Read a client secret or admin key file (at most 4 KiB) that keeps to the secret-file rule
 *  (af_file_check_private: others can neither read nor write it).  @return NULL, or why not
 *  ("readable by others: chmod o-rwx PATH", ...) */
const char *af_oidc_secret_file(const char **out, const char *path, apr_pool_t *p);

/* ---- outbound calls (oidc_outbound.c) -------------------------------------------------- */

/**
 * Take a lease of prov's outbound guard for the work done with pool p (one request): every
 * call to prov made with that pool runs under it, and a request that waits for another
 * thread's fetch holds it too, so at most MaxConcurrent requests per provider wait on the
 * IdP.  Nests (each enter needs one leave); released at the last leave or when p is
 * cleaned up.  Fails fast, never waits.
 * @return APR_SUCCESS (also without a guard), AF_EOIDC_IDP_BUSY, AF_EOIDC_IDP_UNAVAILABLE
 */
apr_status_t af_oidc_idp_enter(const af_oidc_provider_t *prov, apr_pool_t *p);

/** The matching leave of af_oidc_idp_enter. */
void af_oidc_idp_leave(const af_oidc_provider_t *prov, apr_pool_t *p);

/**
 * One request to prov: af_http_perform under the lease of lease_pool (taken for this call
 * when there is none), the outcome recorded by the circuit breaker (transitions logged).
 * Log lines name lease_pool (the request's pool: its virtual host and client).
 * @param p the pool of the response
 * @return as af_http_perform, or AF_EOIDC_IDP_BUSY / AF_EOIDC_IDP_UNAVAILABLE when the call
 *         was refused without being sent
 */
apr_status_t af_oidc_idp_perform(af_http_response_t **resp, const af_oidc_provider_t *prov,
                                 const af_http_request_t *req, apr_pool_t *lease_pool,
                                 apr_pool_t *p);

/** Seconds a caller refused with AF_EOIDC_IDP_BUSY / _UNAVAILABLE should wait (>= 1). */
apr_int64_t af_oidc_idp_retry_after(const af_oidc_provider_t *prov);

/** Is prov's circuit open (back-off running)?  @return APR_SUCCESS or
 *  AF_EOIDC_IDP_UNAVAILABLE */
apr_status_t af_oidc_idp_check(const af_oidc_provider_t *prov);

/* ---- discovery and keys (oidc_discovery.c) ------------------------------------------- */

/** Per-process caches (metadata, JWKS) with a mutex: call once per provider in child_init. */
apr_status_t af_oidc_runtime_init(af_oidc_provider_t *prov, apr_pool_t *child_pool);

/**
 * Parse and check a discovery document against the configured provider: strict JSON,
 * issuer byte-for-byte equal (E15), endpoints pass af_url_ok; then explicit endpoints
 * override.  @return APR_SUCCESS, AF_EOIDC_DISCOVERY, AF_EOIDC_DISCOVERY_ISS
 */
apr_status_t af_oidc_discovery_parse(af_oidc_meta_t **out, const af_oidc_provider_t *prov,
                                     const char *body, apr_size_t len, apr_pool_t *p);

/** Metadata from configuration alone (OAuth 2.0 providers, or every endpoint explicit). */
af_oidc_meta_t *af_oidc_meta_from_config(const af_oidc_provider_t *prov, apr_pool_t *p);

/**
 * The provider's metadata: cached per process (refetched hourly, kept up to a day on
 * failure), fetched from Issuer/.well-known/openid-configuration when needed.  After a
 * failed fetch no new one is tried for 5 s counted from the end of that fetch, in any
 * process (the guard's shared throttle): callers get the old metadata while usable, else
 * that failure.  A request that fetches, or waits for another thread's fetch, holds a
 * lease of the outbound guard (af_oidc_idp_enter on p).
 * @return APR_SUCCESS, AF_EOIDC_DISCOVERY*, AF_EOIDC_IDP_*
 */
apr_status_t af_oidc_meta_get(const af_oidc_meta_t **out, af_oidc_provider_t *prov, apr_int64_t now,
                              apr_pool_t *p);

/**
 * The provider's JWKS (public keys only).  With refetch_for_kid set and no key of that kid
 * known, the set is refetched at most once per minute per provider (E16, C06).
 * The returned set is valid for the lifetime of p.
 */
apr_status_t af_oidc_keys_get(const af_keyset_t **out, af_oidc_provider_t *prov,
                              const af_oidc_meta_t *meta, const char *refetch_for_kid,
                              apr_int64_t now, apr_pool_t *p);

/* ---- login (oidc_login.c) ------------------------------------------------------------- */

/** n random bytes from RAND_bytes, base64url.  @return APR_SUCCESS or AF_ECRYPTO */
apr_status_t af_oidc_random(const char **out, apr_size_t nbytes, apr_pool_t *p);

/** The S256 code_challenge of a verifier (RFC 7636 §4.2). */
const char *af_oidc_pkce_challenge(const char *verifier, apr_pool_t *p);

/** A fresh flow: state, nonce (16 bytes each), verifier (32 bytes -> 43 chars); no step-up
 *  (max_age -1, acr_values NULL). */
apr_status_t af_oidc_flow_new(af_oidc_flow_t **out, const char *provider, const char *return_to,
                              apr_int64_t now, apr_pool_t *p);

/** The authorization URL for a flow (D01, D02): every value URL-encoded.  A flow with
 *  max_age adds max_age and prompt=login, one with acr_values adds acr_values (OIDC Core
 *  3.1.2.1); an AuthParam of the same name is then left out. */
const char *af_oidc_authorize_url(const af_oidc_provider_t *prov, const af_oidc_meta_t *meta,
                                  const af_oidc_flow_t *flow, apr_pool_t *p);

/** Fetch metadata if needed, make a flow and its authorization URL.  Refused with
 *  AF_EOIDC_IDP_UNAVAILABLE while the provider's circuit is open (the callback would be). */
apr_status_t af_oidc_login_start(const char **auth_url, af_oidc_flow_t **flow,
                                 af_oidc_provider_t *prov, const char *return_to, apr_int64_t now,
                                 apr_pool_t *p);

/**
 * af_oidc_login_start for a step-up: the flow remembers max_age (>= 0; -1 none) and
 * acr_values (space-separated, or NULL), which go into the authorization request and are
 * required of the id_token at the callback (af_oidc_stepup_check).
 */
apr_status_t af_oidc_login_start_stepup(const char **auth_url, af_oidc_flow_t **flow,
                                        af_oidc_provider_t *prov, const char *return_to,
                                        apr_int64_t max_age, const char *acr_values,
                                        apr_int64_t now, apr_pool_t *p);

/**
 * What a flow asked for, checked against the id_token's verified claims (NULL: no id_token,
 * a plain OAuth 2.0 provider): with max_age, auth_time must be present (OIDC Core 3.1.2.1)
 * and auth_time + max_age + the provider's leeway >= now (3.1.3.7 item 13); with
 * acr_values, acr must be one of them.  Nothing asked: APR_SUCCESS.
 * @return APR_SUCCESS, AF_EOIDC_AUTH_TIME_MISSING, AF_EOIDC_AUTH_TIME_OLD, AF_EOIDC_ACR
 */
apr_status_t af_oidc_stepup_check(const json_t *id_claims, const af_oidc_flow_t *flow,
                                  const af_oidc_provider_t *prov, apr_int64_t now);

/** Is acr (non-empty) one of the space-separated values (exact, case-sensitive)? */
int af_oidc_acr_listed(const char *values, const char *acr);

/**
 * A step-up request's acr_values: 1..AF_OIDC_ACR_VALUES_MAX bytes of printable ASCII
 * without '"' or '\\' (it goes into a WWW-Authenticate quoted string), values separated by
 * single spaces, no leading or trailing space.
 */
int af_oidc_acr_values_ok(const char *values);

/** Compact JSON of a flow, for sealing. */
const char *af_oidc_flow_to_json(const af_oidc_flow_t *flow, apr_pool_t *p);

/** Parse a flow back (strict).  @return APR_SUCCESS or AF_EOIDC_FLOW */
apr_status_t af_oidc_flow_from_json(af_oidc_flow_t **out, const char *json, apr_size_t len,
                                    apr_pool_t *p);

/* ---- callback (oidc_callback.c) ------------------------------------------------------- */

/**
 * Parse the callback query (or form_post body) strictly: percent-decoding, no NUL, each of
 * code/state/iss/error/user at most once (D03).  Unknown parameters are ignored.  An error response
 * returns AF_EOIDC_IDP_ERROR with (*out)->error set (D11); error_description/error_uri are dropped.
 * @return APR_SUCCESS, AF_EOIDC_PARAM, AF_EOIDC_PARAM_DUP, AF_EOIDC_STATE_MISSING,
 *         AF_EOIDC_CODE_MISSING, AF_EOIDC_IDP_ERROR
 */
apr_status_t af_oidc_callback_parse(af_oidc_cbparams_t **out, const char *query, apr_pool_t *p);

/**
 * Bind the response to the flow: state equal (constant time), provider equal, RFC 9207 iss
 * (exact; required when the metadata says supported) (D03, D06).
 * @return APR_SUCCESS, AF_EOIDC_STATE, AF_EOIDC_ISS_PARAM, AF_EOIDC_FLOW
 */
apr_status_t af_oidc_callback_check(const af_oidc_cbparams_t *cb, const af_oidc_flow_t *flow,
                                    const af_oidc_provider_t *prov, const af_oidc_meta_t *meta);

/**
 * The whole callback after the flow cookie was unsealed: parse, check, exchange the code,
 * validate the id_token, userinfo, map claims.
 * @param cb_out the parsed query (for the IdP error code on the error page); may be NULL
 */
apr_status_t af_oidc_callback_finish(af_oidc_identity_t **out, af_oidc_cbparams_t **cb_out,
                                     af_oidc_provider_t *prov, const af_oidc_flow_t *flow,
                                     const char *query, apr_int64_t now, apr_pool_t *p);

/* ---- Apple (oidc_apple.c) ------------------------------------------------------------- */

/** An Apple server-to-server notification, verified. */
typedef enum {
    AF_OIDC_APPLE_EVENT_OTHER = 0, /* a type we do not act on (logged) */
    AF_OIDC_APPLE_EVENT_EMAIL_DISABLED,
    AF_OIDC_APPLE_EVENT_EMAIL_ENABLED,
    AF_OIDC_APPLE_EVENT_CONSENT_REVOKED,
    AF_OIDC_APPLE_EVENT_ACCOUNT_DELETE
} af_oidc_apple_event_type_t;

typedef struct af_oidc_apple_event_t {
    af_oidc_apple_event_type_t type;
    const char *type_name; /* as sent (checked: [a-z-], <= 32 chars) */
    const char *sub;       /* the IdP subject */
    int revoke;            /* 1: every login of (provider, sub) must be revoked */
} af_oidc_apple_event_t;

/**
 * Load and check the Apple signing key at configtest: PrivateKeyFile must be a private EC
 * P-256 key (PKCS#8 .p8), pinned to ES256 with kid KeyID.
 * @return NULL, or why not (for configtest, naming the key)
 */
const char *af_oidc_apple_load_key(af_oidc_provider_t *prov, apr_pool_t *p);

/**
 * Mint an Apple client secret (pure): ES256 JWS, header kid=KeyID, claims iss=TeamID,
 * sub=ClientID, aud=https://appleid.apple.com (always, whatever Issuer says), iat=now,
 * exp=now+ttl (ttl 1 .. 15777000).
 * @return APR_SUCCESS, AF_EOIDC_CLIENT_SECRET
 */
apr_status_t af_oidc_apple_secret_mint(const char **out, const af_oidc_provider_t *prov,
                                       apr_int64_t now, apr_int64_t ttl, apr_pool_t *p);

/**
 * The client secret to send: the static one (NULL: none), or for Apple the minted JWT, cached per
 * process (prov->rt) and renewed once half of AF_OIDC_APPLE_SECRET_TTL has passed (or the
 * clock went back).  The string lives in p.
 * @return APR_SUCCESS, AF_EOIDC_CLIENT_SECRET
 */
apr_status_t af_oidc_client_secret(const char **out, af_oidc_provider_t *prov, apr_int64_t now,
                                   apr_pool_t *p);

/**
 * Apple's first-consent "user" form field (unsigned, so display names only): a strict JSON
 * object of at most 2 KiB, "name" an object whose "firstName"/"lastName" are strings of at
 * most 128 bytes without control characters; "email" and other members are ignored.
 * @param claims receives given_name, family_name, name (only those not set already)
 * @return APR_SUCCESS, AF_EOIDC_APPLE_USER
 */
apr_status_t af_oidc_apple_user_claims(json_t *claims, const char *user, apr_pool_t *p);

/**
 * Verify an Apple server-to-server notification (pure; keys given): body a strict JSON
 * object {"payload": "<JWS>"} (<= 16 KiB), the JWS signed by a key of ks with an allowed
 * alg, iss = issuer, aud = ClientID (string or array), iat within iat_max_age (+ leeway),
 * exp (when present) not passed, "events" a JSON string (or object) with type and sub.
 * @return APR_SUCCESS, AF_EOIDC_APPLE_EVENT (400), AF_EOIDC_APPLE_EVENT_SIG (401),
 *         AF_EOIDC_APPLE_EVENT_CLAIMS (401)
 */
apr_status_t af_oidc_apple_event_parse(af_oidc_apple_event_t **out, const af_oidc_provider_t *prov,
                                       const af_oidc_meta_t *meta, const af_keyset_t *ks,
                                       const char *body, apr_size_t len, apr_int64_t now,
                                       apr_pool_t *p);

/** The same with the provider's metadata and cached JWKS (refetched once for an unknown
 *  kid); IdP failures as AF_EOIDC_IDP_* / AF_EOIDC_JWKS. */
apr_status_t af_oidc_apple_event(af_oidc_apple_event_t **out, af_oidc_provider_t *prov,
                                 const char *body, apr_size_t len, apr_int64_t now, apr_pool_t *p);

/** A boolean claim as JSON true/false or Apple's "true"/"false" strings: 1, 0, or -1 when
 *  absent or anything else. */
int af_oidc_claim_bool(const json_t *v);

/* ---- code exchange (oidc_token.c) ----------------------------------------------------- */

/** Build the token request (pure; for tests): body and Authorization per the auth method
 *  (client_secret_post without a secret sends client_id alone: Kakao); state goes into the
 *  body for Naver only (its token request names it; may be NULL). */
apr_status_t af_oidc_token_request(af_http_request_t *req, const af_oidc_provider_t *prov,
                                   const af_oidc_meta_t *meta, const char *code,
                                   const char *verifier, const char *state, apr_pool_t *p);

/** expires_in of a token response: a non-negative integer, or a string of 1..10 ASCII
 *  digits (Naver).  @return APR_SUCCESS or AF_EOIDC_TOKEN_RESPONSE */
apr_status_t af_oidc_expires_in(apr_int64_t *out, const json_t *v);

/** Check a token response: 200, JSON object, no "error", Bearer, id_token for OIDC (D18). */
apr_status_t af_oidc_token_response_parse(af_oidc_tokens_t **out, int status, const char *body,
                                          apr_size_t len, int want_id_token, apr_pool_t *p);

/** POST the code to the token endpoint and check the response. */
apr_status_t af_oidc_code_exchange(af_oidc_tokens_t **out, const af_oidc_provider_t *prov,
                                   const af_oidc_meta_t *meta, const char *code,
                                   const char *verifier, const char *state, apr_pool_t *p);

/** Map a transport error of af_http_perform to AF_EOIDC_IDP_* (guard refusals pass). */
apr_status_t af_oidc_http_error(apr_status_t rv);

/* ---- id_token (oidc_idtoken.c) -------------------------------------------------------- */

/** The algorithms an id_token may use with this provider (const char *). */
apr_array_header_t *af_oidc_allowed_algs(const af_oidc_provider_t *prov, const af_oidc_meta_t *meta,
                                         apr_pool_t *p);

/** at_hash of an access token for a JWS alg (OIDC Core 3.1.3.8); NULL for unknown algs. */
const char *af_oidc_at_hash(const char *access_token, const char *alg, apr_pool_t *p);

/**
 * Validate an id_token with a given key set (pure; OIDC Core 3.1.3.7): alg allowed,
 * signature by a provider key (HS* with the client secret only when configured), iss exact
 * (Google preset: the two Google spellings), aud contains client_id, azp, exp, iat present
 * and not older than iat_max_age, nonce, at_hash when present, sub valid.
 */
apr_status_t af_oidc_id_token_validate(json_t **claims, const af_oidc_provider_t *prov,
                                       const af_oidc_meta_t *meta, const af_keyset_t *ks,
                                       const char *id_token, const af_oidc_idcheck_t *chk,
                                       apr_pool_t *p);

/** The same with the provider's cached JWKS, refetched once for an unknown kid (E16). */
apr_status_t af_oidc_id_token_verify(json_t **claims, af_oidc_provider_t *prov,
                                     const af_oidc_meta_t *meta, const char *id_token,
                                     const af_oidc_idcheck_t *chk, apr_pool_t *p);

/**
 * Parse a JWS and verify its signature as an id_token's (OIDC Core 3.1.3.7 steps 6-7): the
 * alg one this provider may use (af_oidc_allowed_algs; never "none"), HS* keyed by the
 * client secret, anything else by a key of ks.
 * @return APR_SUCCESS, AF_EOIDC_ID_TOKEN (malformed), AF_EOIDC_ID_TOKEN_ALG,
 *         AF_EOIDC_ID_TOKEN_NOKEY, AF_EOIDC_ID_TOKEN_SIG
 */
apr_status_t af_oidc_jws_signed_by(af_jws_t **out, const af_oidc_provider_t *prov,
                                   const af_oidc_meta_t *meta, const af_keyset_t *ks,
                                   const char *token, apr_pool_t *p);

/** Is iss this provider's issuer (exact; the Google preset: its two spellings)? */
int af_oidc_issuer_ok(const af_oidc_provider_t *prov, const af_oidc_meta_t *meta,
                      const json_t *iss);

/* ---- back-channel logout (oidc_logout.c) ---------------------------------------------- */

#define AF_OIDC_LOGOUT_EVENT "http://schemas.openid.net/event/backchannel-logout"
#define AF_OIDC_SID_MAX      255 /* bytes of an IdP session id we accept */

/** A validated logout token (OpenID Connect Back-Channel Logout 1.0 §2.4). */
typedef struct af_oidc_logout_t {
    const char *sub;     /* the IdP's subject, or NULL */
    const char *sid;     /* the IdP session id, or NULL; at least one of sub and sid is set */
    const char *jti;     /* 1..255 printable characters */
    apr_int64_t expires; /* until when the jti must be remembered (single use) */
} af_oidc_logout_t;

/**
 * Validate a logout token with a given key set (pure; §2.6): a JWS signed as this provider's
 * id_tokens are (af_oidc_jws_signed_by; "none" never, whatever is configured), typ absent,
 * "logout+jwt" or "JWT" (any other explicit type is another kind of token: refused), iss
 * exact, aud containing client_id, iat present, not in the future beyond the leeway and not
 * older than IatMaxAge, exp and nbf honoured when present, jti present, events holding the
 * back-channel logout event as a JSON object, no nonce, sub and/or sid (strings of 1..255
 * printable characters).
 * @return APR_SUCCESS or AF_EOIDC_LOGOUT_* (all: 400)
 */
apr_status_t af_oidc_logout_token_validate(af_oidc_logout_t **out, const af_oidc_provider_t *prov,
                                           const af_oidc_meta_t *meta, const af_keyset_t *ks,
                                           const char *token, apr_int64_t now, apr_pool_t *p);

/**
 * The same with the provider's metadata and cached JWKS (refetched once, throttled, for an
 * unknown kid: E16).  Only for OIDC providers (AF_EOIDC_LOGOUT_UNSUPPORTED otherwise).
 * @return APR_SUCCESS, AF_EOIDC_LOGOUT_*, AF_EOIDC_DISCOVERY*, AF_EOIDC_JWKS, AF_EOIDC_IDP_*
 */
apr_status_t af_oidc_logout_token_verify(af_oidc_logout_t **out, af_oidc_provider_t *prov,
                                         const char *token, apr_int64_t now, apr_pool_t *p);

/* ---- userinfo and claims (oidc_userinfo.c) -------------------------------------------- */

/** GET a JSON resource with the access token (Bearer); 200 + JSON object only. */
apr_status_t af_oidc_userinfo_get(json_t **out, const af_oidc_provider_t *prov, const char *url,
                                  const char *access_token, apr_pool_t *p);

/** GitHub: the email of the entry with verified && primary, or NULL (D16). */
const char *af_oidc_github_pick_email(const json_t *emails);

/**
 * Build the identity from id_token claims and/or userinfo: subject by SubjectClaim (numbers
 * as decimal strings), the standard claims, Claim mappings; email only when verified (D16).
 * @return APR_SUCCESS, AF_EOIDC_SUB, AF_EOIDC_USERINFO_SUB (E12)
 */
apr_status_t af_oidc_identity_build(af_oidc_identity_t **out, const af_oidc_provider_t *prov,
                                    const af_oidc_meta_t *meta, const json_t *id_claims,
                                    const json_t *userinfo, const char *github_email,
                                    apr_pool_t *p);

/* ---- provider-shaped profiles (oidc_profile.c) --------------------------------------- */

/** A JSON boolean true, or the string "true" (Apple, Kakao flags); nothing else ("yes", 1,
 *  "True" are not true). */
int af_oidc_bool_true(const json_t *v);

/**
 * The profile API's answer with the standard claims added (raw members kept, for Claim
 * paths): Kakao's /v2/user/me ("id" as sub, kakao_account.email, email_verified only when
 * is_email_valid and is_email_verified are both true, profile nickname / image); Naver's
 * /v1/nid/me (resultcode must be "00"; email, name, nickname -> preferred_username,
 * profile_image -> picture from "response"; no email_verified).  Other providers: as is.
 * @return APR_SUCCESS, AF_EOIDC_PROFILE_RESULT (Naver resultcode), AF_EOIDC_USERINFO
 */
apr_status_t af_oidc_profile_normalize(json_t **out, const af_oidc_provider_t *prov,
                                       const json_t *userinfo, apr_pool_t *p);

/** EmailVerified over mapped claims: email kept (email_verified true) only when verified by
 *  the mode; else email removed and a present email_verified made false. */
void af_oidc_email_decide(json_t *claims, af_oidc_email_verified_t mode);

/* ---- provider account events (oidc_events.c) ------------------------------------------ */

/** An event request as plain values. */
typedef struct af_oidc_event_in_t {
    const char *authorization; /* the Authorization header, or NULL */
    const char *content_type;  /* the Content-Type header, or NULL */
    const char *body;          /* the request body (NUL-terminated), or NULL */
    apr_size_t body_len;
    apr_int64_t now;
} af_oidc_event_in_t;

/** What an event asks for. */
typedef struct af_oidc_event_t {
    const char *sub;  /* the IdP's subject whose logins end (not namespaced) */
    const char *kind; /* for the log: "unlink:UNLINK_FROM_APPS", ... ([A-Za-z0-9_:-]) */
    int revoke;       /* 1: revoke every login of sub; 0: only logged */
} af_oidc_event_t;

/**
 * Turn one POST <endpoint>/events/NAME into an event of provider prov, by its kind: Kakao
 * unlink callbacks (Authorization: KakaoAK <AdminKeyFile> compared in constant time;
 * form-encoded app_id, user_id (the subject), referrer_type).  One case per provider kind.
 * @return APR_SUCCESS, AF_EOIDC_EVENT_AUTH (401), AF_EOIDC_EVENT_MALFORMED (400),
 *         AF_EOIDC_EVENT_UNSUPPORTED (404: the provider has no event kind)
 */
apr_status_t af_oidc_event_parse(af_oidc_event_t **out, const af_oidc_provider_t *prov,
                                 const af_oidc_event_in_t *in, apr_pool_t *p);

/** Kakao: Authorization is "KakaoAK <key>" with key equal to admin_key (constant time in
 *  the key's length).  @return APR_SUCCESS or AF_EOIDC_EVENT_AUTH */
apr_status_t af_oidc_kakao_ak_check(const char *authorization, const char *admin_key);

/** The HTTP status for a callback failure: 400, 401, 502, 503 (guard refusals), 504 (500 for
 *  internal errors). */
int af_oidc_status(apr_status_t rv);

#endif
