/* af_config.h -- per-server and per-directory configuration of mod_authflow (gate part).
 *
 * Every field starts "unset" (AF_UNSET, NULL, or a count of 0); merge is one line per
 * field (add wins when set); defaults are resolved in one place, af_config_resolve(),
 * run from check_config (after the virtual hosts are merged), which fills the r_*
 * fields that the request path reads.
 */
#ifndef AF_CONFIG_H
#define AF_CONFIG_H

#include <httpd.h>
#include <http_config.h>
#include <apr_hash.h>

#include "httpd/af_httpd.h"

#include "http/af_jwks_cache.h"
#include "jose/af_jwk.h"

#define AF_UNSET (-1)

#define AF_DEFAULT_ENDPOINT      "/auth"
#define AF_DEFAULT_COOKIE_PREFIX "__Host-authflow"
#define AF_DEFAULT_CLOCK_SKEW    60
#define AF_MAX_CLOCK_SKEW        300
#define AF_DEFAULT_ACCESS_TTL    600
#define AF_DEFAULT_USER_CLAIM    "sub"
#define AF_EXPORT_MAX_VALUE      4096

typedef enum {
    AF_UNAUTH_AUTO = 0, /* navigations redirect, everything else 401 */
    AF_UNAUTH_REDIRECT,
    AF_UNAUTH_401,
    AF_UNAUTH_PASS
} af_unauth_t;

/* token sources, in the order configured */
#define AF_FROM_COOKIE 1
#define AF_FROM_BEARER 2

typedef struct af_export_t {
    int to_header;    /* 1: request header, 0: environment variable */
    const char *name; /* header or env name */
    const char *path; /* dotted claim path */
    const char *sep;  /* array join separator */
} af_export_t;

typedef struct af_trust_t {
    const char *issuer;
    const char *jwks;       /* file or URL as configured (for messages) */
    const char *aud;        /* NULL: our audience */
    unsigned alg_mask;      /* 1u << af_alg_t; 0: any asymmetric */
    af_keyset_t *keys;      /* a local file, loaded at configuration time */
    af_jwks_cache_t *cache; /* a remote JWKS */
} af_trust_t;

typedef struct af_srv_conf_t {
    /* as configured (unset: AF_UNSET / NULL) */
    int used;                   /* any AuthFlow directive in this server's scope */
    const char *base_url;       /* AuthFlowBaseURL, no trailing '/' */
    const char *endpoint;       /* AuthFlowEndpoint */
    const char *issuer;         /* AuthFlowIssuer */
    const char *audience;       /* AuthFlowAudience */
    af_key_t *signing_key;      /* AuthFlowSigningKey */
    apr_array_header_t *verify; /* AuthFlowVerifyKey: af_key_t * */
    apr_array_header_t *trust;  /* AuthFlowTrustIssuer: af_trust_t * */
    apr_int64_t clock_skew;     /* AuthFlowClockSkew, seconds */
    apr_int64_t access_ttl;     /* AuthFlowAccessTTL, seconds */
    const char *cookie_prefix;  /* AuthFlowCookiePrefix */
    int token_cache;            /* AuthFlowTokenCache */
    int test_clock_set;         /* AuthFlowTestClockOffset given (needs -DAUTHFLOW_TESTING) */
    apr_int64_t test_clock_offset;
    apr_hash_t *scrub; /* normalized AuthFlowExport header names; after af_config_resolve the
                          union over all servers (one process-wide set) */

    /* resolved by af_config_resolve() */
    const char *r_base_url;
    const char *r_endpoint;
    const char *r_issuer;
    const char *r_audience;
    af_keyset_t *r_own_keys; /* signing + verify keys */
    apr_int64_t r_clock_skew;
    apr_int64_t r_access_ttl;
    apr_int64_t r_clock_offset;
    const char *r_cookie_prefix; /* after dropping __Host- on plain-http loopback */
    const char *r_cookie_at;
    const char *r_cookie_rt;
    const char *r_cookie_flow;
    const char *r_cookie_logout; /* RP-initiated logout state */
    int r_cookie_secure;
    int r_token_cache;
    struct af_tcache_t *tcache; /* per child, set in child_init */
    /* the login part (src/httpd/login.h) */
    struct af_login_conf_t *login;
} af_srv_conf_t;

typedef struct af_dir_conf_t {
    int unauth;                  /* af_unauth_t or AF_UNSET */
    int n_from;                  /* 0: unset */
    int from[2];                 /* AF_FROM_* in order */
    const char *user_claim;      /* AuthFlowUserClaim */
    apr_array_header_t *exports; /* af_export_t, AuthFlowExport (appended on merge) */
    int export_all;              /* AuthFlowExportAll */
    int forward_token;           /* AuthFlowForwardToken */
    const char *login;           /* AuthFlowLogin: provider name or URL */
    int check_revocation;        /* AuthFlowCheckRevocation (LOGIN helper) */
    int refresh;                 /* AuthFlowRefresh auto|off (REFRESH helper) */
} af_dir_conf_t;

static inline af_srv_conf_t *af_srv_conf(const server_rec *s)
{
    return ap_get_module_config(s->module_config, &authflow_module);
}

static inline af_dir_conf_t *af_dir_conf(const request_rec *r)
{
    return ap_get_module_config(r->per_dir_config, &authflow_module);
}

/* Per-directory getters: the one place for per-directory defaults. */
static inline int af_dir_unauth(const af_dir_conf_t *dc)
{
    return dc->unauth == AF_UNSET ? AF_UNAUTH_AUTO : dc->unauth;
}
static inline const char *af_dir_user_claim(const af_dir_conf_t *dc)
{
    return dc->user_claim ? dc->user_claim : AF_DEFAULT_USER_CLAIM;
}
static inline int af_dir_export_all(const af_dir_conf_t *dc)
{
    return dc->export_all == AF_UNSET ? 1 : dc->export_all;
}
static inline int af_dir_check_revocation(const af_dir_conf_t *dc)
{
    return dc->check_revocation == AF_UNSET ? 1 : dc->check_revocation;
}
static inline int af_dir_forward_token(const af_dir_conf_t *dc)
{
    return dc->forward_token == AF_UNSET ? 0 : dc->forward_token;
}

/**
 * Resolve the defaults of every server and check what needs several directives.
 * @param gate_used servers (hash of server_rec *) where AuthType AuthFlow applies
 * @return an error message naming the directive, or NULL
 */
const char *af_config_resolve(server_rec *s, apr_hash_t *gate_used, apr_pool_t *p,
                              apr_pool_t *ptemp);

/** Servers (keys: server_rec *) where AuthType AuthFlow applies, each to its directive. */
apr_hash_t *af_config_gate_users(server_rec *main_s, apr_pool_t *p);

/** Is name (a request header) one the module may set on this server? ('-' == '_', any case) */
int af_config_is_ours(const af_srv_conf_t *sc, const char *name);

/** Normalize a header name for the scrub set: upper case, '-' -> '_'. */
char *af_config_norm_name(apr_pool_t *p, const char *name);

#endif
