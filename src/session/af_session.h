/* af_session.h -- the login lifecycle without httpd: what the gate and the handler endpoints
 * decide, as plain functions over plain values (ARCHITECTURE.md "src/session/").
 *
 * The glue (src/httpd) reads the request into an af_req_in_t, calls one function here, and
 * applies the af_effects_t that comes back (status, Location, Set-Cookie, headers, body).
 * Nothing here includes an httpd header; unit tests and fuzzers reach every decision.
 *
 * The site (af_site_t) is one virtual host's configuration, resolved once at configtest
 * and never changed afterwards; its per-process handles (the store, the verified-token
 * cache) hang off site->rt, filled in child_init.
 */
#ifndef AF_SESSION_H
#define AF_SESSION_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <jansson.h>

#include "common/af_log.h"
#include "common/af_metrics.h"
#include "http/af_jwks_cache.h"
#include "jose/af_jwk.h"
#include "oidc/af_oidc.h"
#include "policy/af_policy.h"
#include "session/af_session_errors.h"
#include "store/af_revview.h"
#include "store/af_store.h"
#include "token/af_token.h"

/* ---- the site --------------------------------------------------------------------------- */

#define AF_SESSION_FLOW_MAX_AGE   600 /* seconds a login may take */
#define AF_SESSION_FLOW_MAX       4   /* concurrent logins kept in the flow cookie */
#define AF_SESSION_RETURN_TO_MAX  1024
#define AF_SESSION_LOGOUT_MAX_AGE 600
#define AF_SESSION_CODE_MAX       4096 /* bytes of an authorization code */
#define AF_SESSION_RETRY_AFTER    5    /* seconds: Retry-After of a 503 without its own */

/** Another issuer whose JWTs the gate accepts (AuthFlowTrustIssuer). */
/** The languages the pages are shipped in (the first is the default). */
typedef enum { AF_LANG_EN = 0, AF_LANG_KO, AF_LANG_N } af_lang_t;

/** The pages the module renders (templates). */
typedef enum {
    AF_PAGE_CHOOSER = 0,
    AF_PAGE_ERROR,
    AF_PAGE_LOGOUT,
    AF_PAGE_PASSWORD,
    AF_PAGE_DENIED,
    AF_PAGE_REPOST,   /* the form_post re-post (session_apple.c) */
    AF_PAGE_SIGNEDIN, /* after the login with AuthFlowCookieSameSite Strict */
    AF_PAGE_N
} af_page_t;

typedef struct af_site_trust_t {
    const char *issuer;
    const char *jwks;       /* file or URL as configured (for messages) */
    const char *aud;        /* NULL: the site's audience */
    unsigned alg_mask;      /* 1u << af_alg_t; 0: any asymmetric */
    af_keyset_t *keys;      /* a local file, loaded at configuration time */
    af_jwks_cache_t *cache; /* a remote JWKS */
} af_site_trust_t;

typedef struct af_tcache_t af_tcache_t;

/** Per-process handles of a site (child_init). */
typedef struct af_site_rt_t {
    af_store_t *store;             /* NULL: not open in this process (see store_rv) */
    apr_status_t store_rv;         /* why not */
    af_tcache_t *tcache;           /* NULL: no cache */
    af_revview_t *revview;         /* a shared store's view of revoked logins (NULL: LMDB,
                                      or AuthFlowRevocationDelay 0: ask the store) */
    af_log_throttle_t unavailable; /* "store not open" lines: one per minute */
} af_site_rt_t;

typedef struct af_site_t {
    const char *base_url; /* origin, scheme://host[:port]; NULL when unknown */
    const char *endpoint; /* where SetHandler authflow is mounted, "/auth" */
    const char *issuer;
    const char *audience;
    const af_key_t *signing_key;
    af_keyset_t *own_keys;     /* signing + verify keys */
    apr_array_header_t *trust; /* af_site_trust_t * */
    apr_int64_t clock_skew;
    apr_int64_t access_ttl;
    apr_int64_t clock_offset; /* the test clock (AuthFlowTestClockOffset) */
    int token_cache;
    /* cookies */
    const char *cookie_prefix; /* after dropping __Host- on plain-http loopback */
    const char *cookie_at;
    const char *cookie_rt;
    const char *cookie_flow;
    const char *cookie_logout;
    int cookie_secure;
    const char *samesite; /* of -at / -rt: "Lax", "Strict", "None" */
    /* logins (NULL / 0 on a site without providers or store) */
    int has_store;                    /* AuthFlowStore applies here */
    apr_array_header_t *providers;    /* af_oidc_provider_t * */
    apr_array_header_t *token_claims; /* const char * */
    apr_array_header_t *return_to;    /* extra origins, lower case */
    apr_int64_t refresh_ttl;
    apr_int64_t refresh_idle;
    apr_int64_t reuse_grace;
    af_seal_key_t *flow_key;   /* the flow cookie's */
    af_seal_key_t *logout_key; /* the -logout cookie's */
    af_seal_key_t *idt_key;    /* the id_token kept for id_token_hint */
    int language;              /* AuthFlowLanguage: an af_lang_t, or -1: by Accept-Language */
    const char *tpl[AF_LANG_N][AF_PAGE_N]; /* AuthFlowTemplateDir's; NULL: the built-in */
    af_seal_key_t *throttle_key; /* keys the password throttle's hashes (never a raw name) */
    af_site_rt_t *rt;            /* per process */
    af_metrics_t *metrics;       /* the counters shared by every process (post_config), or NULL */
} af_site_t;

/** The site's store in this process, or NULL. */
af_store_t *af_site_store(const af_site_t *site);

/**
 * Is the login sid revoked?  Through the site's revocation view when it has one (no store
 * round trip; AuthFlowRevocationDelay), else asked of the store.
 * @return APR_SUCCESS, AF_ESTORE_REVOKED, AF_ESTORE_UNKNOWN, AF_ESTORE_*
 */
apr_status_t af_session_is_revoked(const af_site_t *site, af_store_t *st, const char *sid,
                                   apr_int64_t now);

/** Revoke the login sid in the store and, at once, in this process's view of revocations.
 *  @return as af_store_family_revoke */
apr_status_t af_session_revoke(const af_site_t *site, af_store_t *st, const char *sid,
                               apr_int64_t now, apr_pool_t *p);

/* ---- one request, as plain values ---------------------------------------------------------- */

typedef struct af_req_in_t {
    apr_int64_t now; /* the module clock: request time + the test offset */
    const char *method;
    const char *cookie;        /* the Cookie header (NULL: none) */
    const char *authorization; /* the Authorization header */
    const char *origin;
    const char *sec_fetch_site;
    const char *sec_fetch_mode;
    const char *sec_fetch_dest;
    const char *accept;
    const char *ac_request_method; /* Access-Control-Request-Method (CORS preflight) */
    const char *upgrade;           /* the Upgrade header (WebSocket) */
    const char *query;             /* r->args */
    const char *raw_path;          /* the request-target's path as sent (handler endpoints) */
    const char *content_type;      /* the Content-Type header */
    const char *body;              /* the request body (handler endpoints: at most 16 KiB, NUL-
                                      terminated), or NULL */
    apr_size_t body_len;
    int subrequest;
    int derived; /* a subrequest or an internal redirect (counted once, with its origin) */
    /* the request the client first sent (before internal redirects), for return_to */
    const char *orig_unparsed_uri;
    const char *orig_uri;
    const char *orig_args;
    const char *client_ip; /* the client address (r->useragent_ip; the password throttle) */
    /* <endpoint>/denied as the module's error document (an internal redirect): the status the
     * denied request got (401/403; 0 when not a redirect), its claims and its path */
    int denied_status;
    const json_t *denied_claims;
    const char *denied_uri;
} af_req_in_t;

/* ---- effects ---------------------------------------------------------------------------- */

typedef enum {
    AF_BODY_NONE = 0,
    AF_BODY_JSON, /* application/json */
    AF_BODY_HTML  /* text/html; charset=utf-8 */
} af_body_kind_t;

typedef struct af_effects_t {
    int status;          /* HTTP status; 0: go on (the gate let the request through) */
    apr_status_t reason; /* why, when failing (an AF_E* code) */
    const char *location;
    const char *www_authenticate;
    const char *allow;
    int retry_after;             /* seconds; 0: none */
    apr_array_header_t *cookies; /* Set-Cookie values (const char *) */
    int cookies_always;          /* also on error responses and redirects (err_headers_out) */
    af_body_kind_t body_kind;
    const char *body;
    const char *content_type;    /* NULL: by body_kind */
    const char *cache_control;   /* NULL: "no-store" */
    const char *csp;             /* NULL: the handler default */
    const char *referrer_policy; /* NULL: "no-referrer" */
    const char *delivered_rt;    /* call af_session_delivered with it after the response */
    af_lang_t lang;              /* the language of any page (af_session_language) */
    const char *request_id;      /* for the error page: UNIQUE_ID, or NULL (a random one) */
    const char *return_to;       /* for the error page's "try again" link, or NULL */
} af_effects_t;

/** A fresh effects value (status 0, no cookies). */
af_effects_t *af_effects_make(apr_pool_t *p);

/** Add a Set-Cookie value. */
void af_effects_cookie(af_effects_t *eff, const char *set_cookie);

/* ---- cookies ---------------------------------------------------------------------------- */

/**
 * A Set-Cookie value: "name=value; Path=/; Max-Age=N; HttpOnly[; Secure]; SameSite=X".
 * value NULL clears the cookie (empty value, Max-Age=0).  lax_always: SameSite=Lax whatever
 * the site says (the flow and logout cookies, F03).
 */
const char *af_session_set_cookie(const af_site_t *site, const char *name, const char *value,
                                  apr_int64_t max_age, int lax_always, apr_pool_t *p);

/** Add the two cookies that clear -at and -rt. */
void af_session_clear_login_cookies(af_effects_t *eff, const af_site_t *site, apr_pool_t *p);

/* ---- URLs, return_to, same origin (session_url.c) ---------------------------------------- */

/**
 * A validated return_to (D08): a path starting with one '/' (not "//" or "/\"), or an
 * absolute URL of the base origin or an AuthFlowReturnTo origin (no userinfo), at most
 * AF_SESSION_RETURN_TO_MAX bytes, no whitespace, control characters or backslashes.
 * Anything else gives "/".
 */
const char *af_session_return_to(const af_site_t *site, const char *rt, apr_pool_t *p);

/** The absolute URL of a validated return_to. */
const char *af_session_return_url(const af_site_t *site, const char *rt, apr_pool_t *p);

/**
 * Same-origin check of a state-changing request (F07, F08): an Origin equal to the origin
 * of the base URL, or, without Origin (or "Origin: null", sent after a no-referrer page),
 * Sec-Fetch-Site: same-origin.  Any Sec-Fetch-Site other than same-origin fails.
 */
int af_session_same_origin(const af_site_t *site, const char *origin, const char *sec_fetch_site);

/**
 * Is this a browser navigation?  Sec-Fetch-Mode: navigate; or, from a client that sends
 * no Sec-Fetch-* at all, Accept containing text/html.
 */
int af_session_is_navigation(const af_req_in_t *in);

/** Is this a CORS preflight: OPTIONS with Origin and Access-Control-Request-Method? */
int af_session_is_preflight(const af_req_in_t *in);

/** Is this a WebSocket handshake: Upgrade: websocket, or Sec-Fetch-Mode: websocket? */
int af_session_is_websocket(const af_req_in_t *in);

/**
 * The path and query the client first asked for, as a same-origin return_to: "/" when not
 * a safe path; the fragment and any access_token / id_token / refresh_token / code
 * parameter are left out (D13).
 */
const char *af_session_request_target(const af_req_in_t *in, apr_pool_t *p);

/**
 * The login URL for a gate location: AuthFlowLogin (a provider name, an absolute URL or a
 * local path; NULL: the chooser at <endpoint>/login) with return_to appended.
 */
const char *af_session_login_url(const af_site_t *site, const char *login, const char *return_to,
                                 apr_pool_t *p);

/**
 * The same for a step-up: max_age (>= 0; -1 none) and acr_values (space-separated, or NULL)
 * appended as query parameters, which <endpoint>/login puts into the authorization request.
 */
const char *af_session_login_url_stepup(const af_site_t *site, const char *login,
                                        const char *return_to, apr_int64_t max_age,
                                        const char *acr_values, apr_pool_t *p);

/* ---- the flow cookie (session_flow.c) ------------------------------------------------------ */

/**
 * The pending logins of this browser: the <prefix>-flow cookie, one AES-256-GCM blob
 * sealed with the site's flow key (bound to the cookie name), holding up to
 * AF_SESSION_FLOW_MAX flows, each at most AF_SESSION_FLOW_MAX_AGE old.  Several tabs may
 * log in at once; single use across processes is the store's (af_store_flow_consume).
 * @return array of af_oidc_flow_t *, oldest first; never NULL (empty when unreadable)
 */
apr_array_header_t *af_session_flows_read(const af_site_t *site, const char *cookie,
                                          apr_int64_t now, apr_pool_t *p);

/**
 * The Set-Cookie of the flow cookie holding these flows: the newest that fit (at most
 * AF_SESSION_FLOW_MAX, name=value <= 4096 bytes); cleared when none is left.
 * @return APR_SUCCESS, AF_EINTERNAL (no flow key), sealing errors
 */
apr_status_t af_session_flows_cookie(const char **set_cookie, const af_site_t *site,
                                     const apr_array_header_t *flows, apr_int64_t now,
                                     apr_pool_t *p);

/** The flow whose state equals state (constant time), removed from flows; NULL if none. */
af_oidc_flow_t *af_session_flow_take(apr_array_header_t *flows, const char *state);

/* ---- verification of our tokens (session_verify.c) --------------------------------------- */

/**
 * Verify a JWT the gate accepts: one of our own access tokens (RFC 9068 profile: typ
 * at+jwt, iss/aud ours, exp/nbf/iat with the leeway, lifetime <= AccessTTL + skew, jti,
 * sub), or one of an AuthFlowTrustIssuer issuer (its keys, aud, sub).
 * @param trust the trusted issuer that verified it, or NULL for our own
 * @return APR_SUCCESS or the reason (AF_EJWS_*, AF_EJWT_*, AF_ETOOBIG, ...)
 */
apr_status_t af_session_verify(json_t **claims, const af_site_trust_t **trust,
                               const af_site_t *site, const char *tok, apr_size_t len,
                               apr_int64_t now, apr_pool_t *p);

/** The same for our own tokens only (a trusted issuer's token gives AF_EJWT_ISS). */
apr_status_t af_session_verify_own(json_t **claims, const af_site_t *site, const char *tok,
                                   apr_size_t len, apr_int64_t now, apr_pool_t *p);

/** The trusted issuer named iss, or NULL. */
const af_site_trust_t *af_session_trust_for(const af_site_t *site, const char *iss);

/* ---- minting and rotation (session_rotate.c) ----------------------------------------------- */

/**
 * Mint our access token for a login -- the one mint path of the callback, the refresh
 * endpoint and the gate's inline refresh (af_token_mint_access_fit: mapped claims are left
 * out from the end of AuthFlowTokenClaims until it fits a 4 KB cookie, logged at INFO).
 * sub: our (namespaced) subject; claims: the login's snapshot, whose "sub" is the IdP's
 * own subject (the token's idp_sub).
 */
apr_status_t af_session_mint(const char **at, const af_site_t *site, const char *sub,
                             const char *sid, const char *idp, const json_t *claims,
                             apr_int64_t now, apr_pool_t *p);

typedef struct af_rotated_t {
    const char *access_token; /* the new access JWT (in the -at cookie; never in a body) */
    const char *sid;          /* the login */
    apr_int64_t at_expires;
    apr_int64_t rt_expires; /* the login's absolute expiry (never extended) */
    int replayed;           /* 1: the same successor again (grace, or pending delivery) */
} af_rotated_t;

/**
 * One refresh-token rotation and its access token: the refresh cookie of in->cookie is
 * rotated in the store (pending: the gate's inline refresh, whose answer reaches the
 * browser later -- then eff->delivered_rt is set, see af_session_delivered), a new access
 * token is minted from the login's claims snapshot, and both Set-Cookies go into eff.  An
 * access cookie of ANOTHER login next to the refresh token revokes the login (G08).  A
 * refused token clears both cookies; a store failure changes nothing and sets no cookie.
 * @return APR_SUCCESS; AF_ESESS_NO_REFRESH (no refresh cookie or no store here: nothing
 *         done); AF_ESTORE_UNKNOWN / _EXPIRED / _REUSE / _REVOKED (cookies cleared); store
 *         failures (AF_ESTORE_FULL/BUSY/IO/CORRUPT, AF_ESESS_STORE); mint errors (the
 *         successor's refresh cookie is still set: it is committed)
 */
apr_status_t af_session_rotate(af_rotated_t **out, af_effects_t *eff, const af_site_t *site,
                               const af_req_in_t *in, int pending, apr_pool_t *p);

/** The answer carrying a pending rotation of rt went out at now (the module clock). */
apr_status_t af_session_delivered(const af_site_t *site, const char *rt, apr_int64_t now);

/* ---- the gate (session_gate.c) ------------------------------------------------------------- */

typedef enum {
    AF_UNAUTH_AUTO = 0, /* navigations redirect, everything else 401 */
    AF_UNAUTH_REDIRECT,
    AF_UNAUTH_401,
    AF_UNAUTH_PASS
} af_unauth_t;

typedef enum {
    AF_PREFLIGHT_PASS = 0, /* CORS preflights reach the backend unauthenticated */
    AF_PREFLIGHT_DENY      /* they go through the gate like any request */
} af_preflight_t;

/* token sources, in the order configured */
#define AF_FROM_COOKIE 1
#define AF_FROM_BEARER 2

/** A gate location's options (per directory), resolved by the glue. */
typedef struct af_gate_opts_t {
    int unauth;                        /* af_unauth_t */
    int n_from;                        /* 0: cookie then bearer */
    int from[2];                       /* AF_FROM_* */
    const af_policy_path_t *user_path; /* the claim of REMOTE_USER; NULL: sub */
    int check_revocation;              /* AuthFlowCheckRevocation */
    int refresh;                       /* AuthFlowRefresh auto (1) | off (0) */
    const char *login;                 /* AuthFlowLogin, or NULL */
    apr_int64_t max_age;               /* AuthFlowMaxAge seconds; 0: none */
    const char *acr_values;            /* AuthFlowACR values, space-separated; NULL: none */
    int preflight;                     /* af_preflight_t (AuthFlowPreflight) */
} af_gate_opts_t;

typedef struct af_gate_t {
    apr_status_t reason; /* APR_SUCCESS: authenticated */
    json_t *claims;      /* verified claims (borrowed: pool or token cache) */
    const char *issuer;  /* their issuer */
    const char *user;    /* REMOTE_USER */
    const char *token;   /* the token used (the new one after an inline refresh) */
    apr_size_t token_len;
    int src;                   /* AF_FROM_*, 0: none found */
    int cached;                /* a token-cache hit */
    const char *refreshed_sid; /* the login refreshed inline, or NULL */
    af_effects_t *eff;         /* cookies of an inline refresh (always sent); a failure's
                                  answer (af_session_gate_fail) */
} af_gate_t;

/**
 * The gate's decision for one request.  The token: the one of the request this one
 * derives from (inh_token: internal redirect, subrequest), else the first source of
 * opts present (cookie, Bearer).  Over 8 KiB: refused before decoding (A21).  Verified
 * (token cache first).  Missing or expired, with a refresh cookie, not a Bearer token,
 * not a subrequest (its Set-Cookie would never reach the browser) and AuthFlowRefresh
 * not off: rotated inline, pending until the answer goes out (eff->delivered_rt).  Our
 * logins: not revoked (a store that cannot be read is AF_ESESS_STORE, 503).  The user:
 * the configured claim, 1..255 bytes without control characters; a trusted issuer's
 * users are "<value>@<issuer>".  Step-up, checked on every request after the token cache
 * (which holds only the verification, never this time-dependent verdict): with max_age the
 * token's auth_time + max_age + AuthFlowClockSkew must not be in the past; with acr_values
 * its acr must be one of them; else AF_ESESS_STEP_UP_MAX_AGE / _ACR.  An inline refresh
 * cannot satisfy a step-up (rotation keeps the login's auth_time and acr), so a valid but
 * too old token is not refreshed; an expired one is refreshed first and then checked.
 * @return the reason as in (*out)->reason; the failure answer is not filled in (the
 *         caller decides: pass mode stays anonymous) -- see af_session_gate_fail
 */
apr_status_t af_session_gate(af_gate_t **out, const af_site_t *site, const af_gate_opts_t *opts,
                             const af_req_in_t *in, const char *inh_token, int inh_src,
                             apr_pool_t *p);

/**
 * The answer to an unauthenticated request: store failures 503 with Retry-After and the
 * reason (an error page for navigations, JSON otherwise: never a redirect to the IdP,
 * which would only come back here); navigations (auto) or redirect mode: 302 to the login
 * URL with return_to; else 401 with WWW-Authenticate: Bearer (error="invalid_token" when a
 * token was presented, RFC 6750 3.1) and JSON {"error": reason, "login_url": url}.
 * A CORS preflight or a WebSocket handshake is never redirected (401).  At a step-up
 * location the login URL asks for its max_age / acr_values (for any reason: the first login
 * there is already strong enough); a step-up reason's 401 says
 * error="insufficient_user_authentication" with max_age / acr_values (RFC 9470).
 */
void af_session_gate_fail(af_effects_t *eff, const af_site_t *site, const af_gate_opts_t *opts,
                          const af_req_in_t *in, apr_status_t reason, apr_pool_t *p);

/**
 * Does this request bypass the gate as a CORS preflight (AuthFlowPreflight pass)?  Then the
 * glue reads no cookie, sets no user, exports no claim, and the authflow authz providers
 * grant it, so that it reaches the backend unauthenticated (scrubbed as every request).
 */
int af_session_preflight_passes(const af_gate_opts_t *opts, const af_req_in_t *in);

/* ---- login and callback (session_login.c) -------------------------------------------------- */

/** The provider of this site named name, or NULL. */
af_oidc_provider_t *af_session_provider(const af_site_t *site, const char *name);

/** GET <endpoint>/login?provider=NAME&return_to=URL: 302 to the IdP, or the chooser page. */
void af_session_login(af_effects_t *eff, const af_site_t *site, const af_req_in_t *in,
                      apr_pool_t *p);

/** GET or POST (response_mode=form_post) <endpoint>/callback: finish a login (see
 *  session_login.c). */
void af_session_callback(af_effects_t *eff, const af_site_t *site, const af_req_in_t *in,
                         apr_pool_t *p);

/**
 * Revoke the login(s) behind the request's -at / -rt cookies (D14 at the callback, and
 * logout): the access token's sid when it verifies, the refresh token's login (a
 * read-only lookup), each login once.  why ("logout", "new login") goes into the log line.
 * @return APR_SUCCESS, or a store failure
 */
apr_status_t af_session_revoke_current(const af_site_t *site, const af_req_in_t *in, af_store_t *st,
                                       const char *why, apr_pool_t *p);

/**
 * A new login from a verified identity -- the one login path of the OIDC callback and the
 * password form: the logins behind the browser's cookies revoked (D14), the subject
 * namespaced by the provider (H05), the family created with the claims snapshot, our access
 * token minted, -at / -rt into eff.
 * @return APR_SUCCESS, AF_ESESS_SUBJECT, store failures, mint errors
 */
apr_status_t af_session_login_create(af_store_family_t **famp, af_effects_t *eff,
                                     const af_site_t *site, const af_req_in_t *in, af_store_t *st,
                                     const af_oidc_provider_t *pv, const af_oidc_identity_t *id,
                                     apr_pool_t *p);

/* ---- password login (session_password.c) ------------------------------------------------- */

/** What httpd's authn providers said (AUTH_GRANTED, AUTH_DENIED, AUTH_USER_NOT_FOUND,
 *  AUTH_GENERAL_ERROR and anything else). */
typedef enum { AF_PW_GRANTED = 0, AF_PW_DENIED, AF_PW_NOT_FOUND, AF_PW_ERROR } af_pw_result_t;

/**
 * The password check the glue injects: the provider's AuthnProvider list, in order, as
 * mod_auth_basic runs it.  On AF_PW_GRANTED *attrs holds the AUTHENTICATE_* variables the
 * providers set (name -> value; may be NULL).
 */
typedef af_pw_result_t af_pw_check_fn(void *baton, const af_oidc_provider_t *pv, const char *user,
                                      const char *password, apr_table_t **attrs, apr_pool_t *p);

/** GET <endpoint>/login?provider=NAME for a Type password provider: a new flow in the flow
 *  cookie and the form (template password.html) carrying its id. */
void af_session_password_form(af_effects_t *eff, const af_site_t *site,
                              const af_oidc_provider_t *pv, const af_req_in_t *in,
                              const char *return_to, apr_pool_t *p);

/**
 * POST <endpoint>/login: the password form (see session_password.c for the order of checks).
 * A wrong password and an unknown account give the same answer (403 login_failed, the form
 * again with a new flow) and take the same work; past the provider's Throttle 429 with
 * Retry-After, whatever the password; an authn provider's error 503 authn_unavailable.
 * Granted: af_session_login_create, 303 to the flow's return_to.
 */
void af_session_password_login(af_effects_t *eff, const af_site_t *site, const af_req_in_t *in,
                               af_pw_check_fn *check, void *baton, apr_pool_t *p);

/** af_session_password_login, counted in the site's metrics like a callback (completed, or
 *  failed by reason) -- what the glue calls for AF_EP_PASSWORD. */
void af_session_handle_password(af_effects_t *eff, const af_site_t *site, const af_req_in_t *in,
                                af_pw_check_fn *check, void *baton, apr_pool_t *p);

/**
 * The throttle key of a password login (HKDF keyed by site->throttle_key): kind 'u' an
 * account (the user name lower-cased), 'a' a client address; base64url, or NULL.
 */
const char *af_session_throttle_key(const af_site_t *site, char kind, const char *provider,
                                    const char *value, apr_pool_t *p);

/** The unsealed IdP id_token of login sid (for id_token_hint), or NULL. */
const char *af_session_idt_hint(const af_site_t *site, af_store_t *st, const char *sid,
                                apr_int64_t now, apr_pool_t *p);

/* ---- form_post and provider events (session_apple.c) ------------------------------------ */

/**
 * Should this POST callback be answered with the re-post page?  Yes when the flow cookie
 * was not sent and the request came from another site (Sec-Fetch-Site: cross-site, or
 * without Sec-Fetch-Site an Origin other than ours): a SameSite=Lax cookie is not sent on
 * a cross-site POST (Apple's form_post).  1 or 0.
 */
int af_session_needs_repost(const af_site_t *site, const af_req_in_t *in, apr_pool_t *p);

/**
 * The re-post page (template repost.html, in eff->lang): the authorization response's
 * fields (already parsed strictly) in a form that an inline script under a CSP nonce
 * submits at once (a button without script) to <endpoint>/callback, from our own origin,
 * where the Lax flow cookie is sent.
 */
void af_session_repost(af_effects_t *eff, const af_site_t *site, const af_oidc_cbparams_t *cb,
                       apr_pool_t *p);

/**
 * An Apple server-to-server notification at POST <endpoint>/events/NAME of an Apple provider:
 * verified (af_oidc_apple_event); consent-revoked and account-delete revoke every login of
 * (provider, subject); 200 {} when done, 400/401 JSON errors, nothing revoked on any failure.
 */
/** An account event's revocation (Kakao unlink, Apple consent-revoked / account-delete):
 *  every login of account at provider pv, the subject namespaced as at login (*sub).
 *  @return APR_SUCCESS (*count revoked), af_token_subject's error for an unusable account id,
 *  or AF_ESESS_STORE (no store, or a store error logged under tag). */
apr_status_t af_session_revoke_account(int *count, const char **sub, const af_site_t *site,
                                       const af_oidc_provider_t *pv, const char *account,
                                       apr_int64_t now, const char *tag, apr_pool_t *p);

void af_session_apple_event(af_effects_t *eff, const af_site_t *site, const af_req_in_t *in,
                            af_oidc_provider_t *pv, apr_pool_t *p);
/* ---- back-channel logout (session_backchannel.c) ------------------------------------------ */

/**
 * POST <endpoint>/backchannel/NAME (OpenID Connect Back-Channel Logout 1.0 §2.5-§2.8):
 * form-encoded logout_token from provider NAME, validated (af_oidc_logout_token_verify), its
 * jti consumed once in the store, then the logins it names revoked -- by sid those recorded
 * with that IdP session (and that subject when sub is given too), by sub alone every login of
 * <sub>@NAME.  200 with Cache-Control: no-store; 400 with a JSON reason on any failure
 * (nothing revoked); 404 for a NAME that is no provider.
 */
void af_session_backchannel(af_effects_t *eff, const af_site_t *site, const af_req_in_t *in,
                            apr_pool_t *p);

/* ---- the other endpoints (session_endpoints.c) ------------------------------------------- */

typedef enum {
    AF_EP_LOGIN = 1,
    AF_EP_CALLBACK,
    AF_EP_JWKS,
    AF_EP_SESSION,
    AF_EP_REFRESH,
    AF_EP_LOGOUT,
    AF_EP_BACKCHANNEL, /* backchannel/NAME */
    AF_EP_EVENTS,      /* events/NAME */
    AF_EP_PASSWORD,    /* POST <endpoint>/login: the password form (af_session_password_login) */
    AF_EP_DENIED       /* GET <endpoint>/denied: the page for a signed-in user a rule denies */
} af_endpoint_t;

/**
 * Route a request of SetHandler authflow by its raw path (as sent: before decoding and
 * slash merging) below the site's endpoint.  Only exact names count (D09).  POST login is
 * AF_EP_PASSWORD on a site with a Type password provider, else 405.
 * @param allow for AF_ESESS_METHOD: the Allow header value
 * @return APR_SUCCESS, AF_ESESS_NOT_FOUND, AF_ESESS_METHOD
 */
apr_status_t af_session_route(af_endpoint_t *ep, const char **allow, const af_site_t *site,
                              const char *raw_path, const char *method);

/** Run an endpoint (the glue read the request body, within its limit, into in). */
void af_session_handle(af_effects_t *eff, const af_site_t *site, af_endpoint_t ep,
                       const af_req_in_t *in, apr_pool_t *p);

/**
 * POST <endpoint>/refresh: same-origin only (else 403 cross_site, nothing changed); one
 * rotation: 204 with new -at / -rt cookies (never a token in a body); no refresh cookie 401
 * no_refresh_token, refused tokens 401 (cookies cleared; reuse revoked the login); store
 * failures 503 store_unavailable (nothing written, no cookie).
 */
void af_session_refresh(af_effects_t *eff, const af_site_t *site, const af_req_in_t *in,
                        apr_pool_t *p);

/** GET <endpoint>/session: the verified access token's claims as JSON (never a token). */
void af_session_info(af_effects_t *eff, const af_site_t *site, const af_req_in_t *in,
                     apr_pool_t *p);

/** GET <endpoint>/jwks.json: the public keys of the signing and verify keys. */
void af_session_jwks(af_effects_t *eff, const af_site_t *site, apr_pool_t *p);

/**
 * <endpoint>/logout.  GET: a confirmation page (a POST form), or with state the IdP's
 * return (E19: the state must equal the sealed one; else an error page and no redirect).
 * POST, same-origin only: the login behind the cookies is revoked, every cookie of the
 * module cleared, then 303 to the IdP's end_session_endpoint (RP-Initiated Logout, with
 * id_token_hint) or to return_to / the signed-out page.  Idempotent.
 */
void af_session_logout(af_effects_t *eff, const af_site_t *site, const af_req_in_t *in,
                       apr_pool_t *p);

/**
 * POST <endpoint>/events/NAME: a provider account event (af_oidc_event_parse: Kakao unlink
 * callbacks).  Unknown NAME 404 not_found; a provider without an event kind 404
 * event_not_supported; bad credentials 401 event_unauthorized; a bad form 400
 * event_malformed -- nothing revoked.  Else every login of <subject>@<NAME> is revoked
 * (af_store_revoke_sub) and the answer is 200 with no body; a store failure 503.
 */
void af_session_events(af_effects_t *eff, const af_site_t *site, const af_req_in_t *in,
                       apr_pool_t *p);

/* ---- claims to the backend (session_export.c) ------------------------------------------- */

/** One AuthFlowExport line, compiled at configuration time. */
typedef struct af_export_spec_t {
    int to_header; /* 1: a request header, 0: an environment variable */
    const char *name;
    const af_policy_path_t *path;
    const char *sep; /* array join separator */
} af_export_spec_t;

/** One thing to hand to the backend. */
typedef struct af_export_kv_t {
    int to_header;
    const char *name;
    const char *value; /* NULL: remove it (an absent claim leaves nothing spoofable) */
} af_export_kv_t;

#define AF_EXPORT_MAX_CLAIMS 128

/**
 * What a request the gate let through hands to the backend -- one table in the manner of
 * mod_http2's H2_VARS: the fixed variables REMOTE_USER, AUTHFLOW_SUB, AUTHFLOW_ISSUER,
 * AUTHFLOW_PROVIDER, AUTHFLOW_EXPIRES; with export_all every top-level claim as
 * AUTHFLOW_CLAIM_<NAME> (upper-cased, other characters '_', names of 1..64 bytes, at most
 * AF_EXPORT_MAX_CLAIMS); then each AuthFlowExport entry.  Values by af_policy_claim_text
 * (control characters or more than 4 KiB: not exported at all).
 * @return array of af_export_kv_t, in that order
 */
apr_array_header_t *af_session_exports(const json_t *claims, const char *user, const char *issuer,
                                       int export_all, const apr_array_header_t *specs,
                                       apr_pool_t *p);

/* ---- pages (session_page.c) ---------------------------------------------------------------- */

/** Built-in templates per language (htdocs/ holds the English ones, htdocs/ko/ the Korean). */
extern const char *const af_session_builtin[AF_LANG_N][AF_PAGE_N];

/** Template file names ("chooser.html" ...) and language tags ("en", "ko"). */
extern const char *const af_session_page_file[AF_PAGE_N];
extern const char *const af_session_lang_tag[AF_LANG_N];

/** The template of page in lang: the site's (AuthFlowTemplateDir) or the built-in. */
const char *af_session_tpl(const af_site_t *site, af_lang_t lang, af_page_t page);

/**
 * The language of the pages: forced (site->language >= 0), else the best of the shipped
 * languages by an Accept-Language header (RFC 9110 §12.5.4: q-values, q=0 = not acceptable,
 * a range matches its primary subtag: ko, ko-KR -> ko; "*" any), else AF_LANG_EN.  Malformed
 * elements are skipped.  On a tie the first listed wins.
 */
af_lang_t af_session_language(const af_site_t *site, const char *accept_language);

/** An AuthFlowLanguage / directory name: "en", "ko" (any case) -> lang; -1 when unknown. */
int af_session_lang_from_tag(const char *tag);

/**
 * The Content-Security-Policy of an answer: default-src 'none', frame-ancestors 'none',
 * base-uri 'none', form-action (form_action or 'self'), and for an HTML body the SHA-256 hash
 * of each of its <style> elements as style-src (never 'unsafe-inline'; no script-src).
 */
const char *af_session_page_csp(const char *body, const char *form_action, apr_pool_t *p);

/**
 * One chooser item: <li><a class="b PRESET" href=href>MARK<span>LABEL</span></a></li>, the
 * label by the preset's button guidelines (Kakao, Naver, Google wording in lang), else the
 * DisplayName for lang, else the provider's name; every value HTML-escaped.
 */
const char *af_session_chooser_button(const af_oidc_provider_t *pv, af_lang_t lang,
                                      const char *href, apr_pool_t *p);

/**
 * The page for a signed-in user whom a Require rule denies (in->denied_status 401 or 403, the
 * module's error document): "Signed in as NAME" (the claim name, else email, else
 * preferred_username, else sub), never the rule; sign-out and switch-account links back to
 * in->denied_uri.  Not an internal redirect of a denial: 404.
 */
void af_session_denied(af_effects_t *eff, const af_site_t *site, const af_req_in_t *in,
                       apr_pool_t *p);

/** Fill a template: {{name}} -> vals[i] for names[i] (values inserted as given). */
const char *af_session_template(const char *tpl, const char *const *names, const char *const *vals,
                                int n, apr_pool_t *p);

/**
 * The error page for a status and reason in lang: a sentence per reason family
 * (af_session_page_family), a "try again" link to the login with return_to (validated again;
 * NULL: none), the reason code and request_id.  idp_error (the IdP's error code) only picks
 * the family ("access_denied": cancelled) and is shown in small print, escaped; the IdP's
 * error_description and error_uri never are.
 */
const char *af_session_error_page(const af_site_t *site, af_lang_t lang, int status,
                                  apr_status_t reason, const char *idp_error, const char *return_to,
                                  const char *request_id, apr_pool_t *p);

/** The sentence family of an error page: 0 generic, 1 IdP unavailable, 2 IdP timed out,
 *  3 cancelled at the IdP, 4 link expired/replayed, 5 not allowed, 6 store unavailable,
 *  7 too many attempts, 8 bad request, 9 not found. */
int af_session_page_family(int status, apr_status_t reason, const char *idp_error);

/** Fill eff with an error page answer (HTML) for reason. */
void af_session_error(af_effects_t *eff, const af_site_t *site, apr_status_t reason,
                      const char *idp_error, apr_pool_t *p);

/** Fill eff with a JSON answer {"error": reason} and the reason's status. */
void af_session_json_error(af_effects_t *eff, apr_status_t reason, apr_pool_t *p);

#endif
