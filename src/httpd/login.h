/* login.h -- the login part of the glue: providers, store, flow cookies, templates, and the
 * SetHandler authflow endpoints.
 *
 * Files: config_login.c (directives, <AuthFlowProvider>, merge, resolve), login_store.c
 * (store lifecycle, sealed flow-cookie list, cookies), login_guard.c (the providers' outbound
 * guards in shared memory), login_page.c (templates, escaping,
 * response headers), handler.c (dispatch), handler_login.c (login, chooser, return_to),
 * handler_callback.c (callback), handler_info.c (jwks.json, session).
 *
 * The per-server part hangs off af_srv_conf_t.login; it is resolved by af_login_resolve()
 * from GATE's af_config_resolve() (check_config), so configtest sees every error.
 */
#ifndef AF_LOGIN_H
#define AF_LOGIN_H

#include <pthread.h>

#include <httpd.h>
#include <http_config.h>
#include <apr_hash.h>
#include <apr_tables.h>
#include <jansson.h>

#include "common/af_log.h"
#include "httpd/af_config.h"
#include "oidc/af_oidc.h"
#include "store/af_store_lmdb.h"
#include "token/af_token.h"

#define AF_LOGIN_DEFAULT_REFRESH_TTL  (14 * 86400)
#define AF_LOGIN_DEFAULT_REFRESH_IDLE (3 * 86400)
#define AF_LOGIN_DEFAULT_REUSE_GRACE  10
#define AF_LOGIN_DEFAULT_MAPSIZE      AF_STORE_DEFAULT_MAPSIZE /* 4G (64-bit), 256M */
#define AF_LOGIN_DEFAULT_SWEEP        600                      /* AuthFlowSweepInterval */
#define AF_LOGIN_MAP_WARN_PERCENT     80
#define AF_LOGIN_DEFAULT_CLAIMS       "sub email email_verified name preferred_username groups"
#define AF_LOGIN_FLOW_MAX_AGE         600 /* seconds a login may take */
#define AF_LOGIN_FLOW_MAX             4   /* concurrent logins kept in the flow cookie */
#define AF_LOGIN_RETURN_TO_MAX        1024
#define AF_LOGIN_QUERY_MAX_PARAMS     32
#define AF_LOGIN_CODE_MAX             4096 /* bytes of an authorization code */

/* One LMDB environment, shared by the servers that name the same directory (however
 * spelled: the registry is keyed by the directory's device and inode). */
typedef struct af_login_store_t {
    const char *dir;
    apr_size_t mapsize;
    unsigned int maxreaders; /* set in post_config from the MPM */
    int prepared;
    af_key_t *key;               /* the default signing key (dir/signing-key.pem), or NULL */
    const unsigned char *secret; /* dir/secret.key (AF_SECRET_LEN bytes) */
    af_store_t *st;              /* per child (child_init); NULL when it could not be opened;
                                  * read by the sweep thread too (atomic load) */
    apr_status_t open_rv;        /* why not */
    /* the sweep (login_sweep.c): the shortest AuthFlowSweepInterval of the servers using
     * it (0: none wants one), and the clock of the first of them */
    apr_int64_t sweep_interval;
    apr_int64_t clock_offset;
    server_rec *s;                 /* for the sweep's log lines */
    int sweep_registered;          /* with mod_watchdog, this configuration cycle */
    pthread_mutex_t sweep_mu;      /* a sweep vs. the child's exit (initialised pre-fork) */
    int sweep_closing;             /* under sweep_mu: the child is closing the store */
    af_log_throttle_t unavailable; /* AF08006, per child */
} af_login_store_t;

typedef struct af_login_conf_t {
    /* as configured */
    apr_array_header_t *providers;    /* af_oidc_provider_t *, in order */
    apr_array_header_t *prov_where;   /* const char * "file:line", parallel to providers */
    const char *store_dir;            /* AuthFlowStore */
    apr_uint64_t mapsize;             /* AuthFlowStoreMapSize; 0 unset */
    apr_array_header_t *token_claims; /* AuthFlowTokenClaims: const char * */
    apr_array_header_t *return_to;    /* AuthFlowReturnTo origins (appended on merge) */
    apr_int64_t refresh_ttl;          /* AF_UNSET */
    apr_int64_t refresh_idle;
    apr_int64_t reuse_grace;
    apr_int64_t sweep_interval; /* AuthFlowSweepInterval, seconds; AF_UNSET */
    const char *samesite;       /* AuthFlowCookieSameSite: "Lax", "Strict", "None" */
    const char *template_dir;   /* AuthFlowTemplateDir */

    /* resolved */
    apr_array_header_t *r_providers; /* af_oidc_provider_t * (per-server copies) */
    apr_array_header_t *r_token_claims;
    apr_int64_t r_refresh_ttl;
    apr_int64_t r_refresh_idle;
    apr_int64_t r_reuse_grace;
    apr_int64_t r_sweep_interval;
    const char *r_samesite;
    af_login_store_t *r_store; /* NULL: no store for this server */
    af_seal_key_t *r_seal;     /* the flow cookie's key */
    const char *r_tpl_chooser;
    const char *r_tpl_error;
    const char *r_tpl_logout;
} af_login_conf_t;

/* ---- config_login.c ------------------------------------------------------------------ */

const char *af_login_cmd_provider(cmd_parms *cmd, void *d, const char *arg);
const char *af_login_cmd_store(cmd_parms *cmd, void *d, const char *arg);
const char *af_login_cmd_mapsize(cmd_parms *cmd, void *d, const char *arg);
const char *af_login_cmd_token_claims(cmd_parms *cmd, void *d, int argc, char *const argv[]);
const char *af_login_cmd_return_to(cmd_parms *cmd, void *d, int argc, char *const argv[]);
const char *af_login_cmd_duration(cmd_parms *cmd, void *d, const char *arg);
const char *af_login_cmd_samesite(cmd_parms *cmd, void *d, const char *arg);
const char *af_login_cmd_template_dir(cmd_parms *cmd, void *d, const char *arg);
const char *af_login_cmd_check_revocation(cmd_parms *cmd, void *d, int on);

/* The login directives, spliced into af_config_cmds (config.c). */
#define AF_LOGIN_CMDS                                                                              \
    AP_INIT_RAW_ARGS("<AuthFlowProvider", af_login_cmd_provider, NULL, RSRC_CONF,                  \
                     "<AuthFlowProvider NAME> ... </AuthFlowProvider>: one identity provider"),    \
        AP_INIT_TAKE1("AuthFlowStore", af_login_cmd_store, NULL, RSRC_CONF,                        \
                      "LMDB directory (default: authflow under the runtime dir)"),                 \
        AP_INIT_TAKE1("AuthFlowStoreMapSize", af_login_cmd_mapsize, NULL, RSRC_CONF,               \
                      "LMDB map size (default 4G on 64-bit hosts)"),                               \
        AP_INIT_TAKE_ARGV("AuthFlowTokenClaims", af_login_cmd_token_claims, NULL, RSRC_CONF,       \
                          "mapped claims copied into our access tokens"),                          \
        AP_INIT_TAKE_ARGV("AuthFlowReturnTo", af_login_cmd_return_to, NULL, RSRC_CONF,             \
                          "extra origins a return_to may point at"),                               \
        AP_INIT_TAKE1("AuthFlowRefreshTTL", af_login_cmd_duration, NULL, RSRC_CONF,                \
                      "absolute lifetime of a login (default 14d)"),                               \
        AP_INIT_TAKE1("AuthFlowRefreshIdle", af_login_cmd_duration, NULL, RSRC_CONF,               \
                      "idle timeout of a login (default 3d)"),                                     \
        AP_INIT_TAKE1("AuthFlowReuseGrace", af_login_cmd_duration, NULL, RSRC_CONF,                \
                      "grace window for a just-rotated refresh token (default 10s)"),              \
        AP_INIT_TAKE1("AuthFlowSweepInterval", af_login_cmd_duration, NULL, RSRC_CONF,             \
                      "how often httpd purges expired store records (default 10m, 0: never)"),     \
        AP_INIT_TAKE1("AuthFlowCookieSameSite", af_login_cmd_samesite, NULL, RSRC_CONF,            \
                      "Lax|Strict|None for the access and refresh cookies (default Lax)"),         \
        AP_INIT_FLAG("AuthFlowCheckRevocation", af_login_cmd_check_revocation, NULL, OR_AUTHCFG,   \
                     "reject our access tokens whose login was revoked (default on)"),             \
        AP_INIT_TAKE1("AuthFlowTemplateDir", af_login_cmd_template_dir, NULL, RSRC_CONF,           \
                      "directory with chooser.html and error.html (default: built in)")

/** Merge (either side may be NULL); always returns a fresh struct. */
af_login_conf_t *af_login_conf_merge(apr_pool_t *p, const af_login_conf_t *base,
                                     const af_login_conf_t *add);

/**
 * Resolve the login part of one server (from af_config_resolve, before the keys are
 * assembled): defaults, store directory, server secret and flow-cookie key, the default
 * signing key when none is configured, provider copies checked by af_oidc_provider_check,
 * templates.  @return an error naming the directive, or NULL
 */
const char *af_login_resolve(server_rec *s, af_srv_conf_t *sc, int gate_used, apr_pool_t *p);

/* ---- login_store.c ------------------------------------------------------------------- */

/** post_config: prepare every store (owner = the child user), size maxreaders to the MPM. */
int af_login_post_config(apr_pool_t *pconf, server_rec *s);

/* ---- login_guard.c ------------------------------------------------------------------- */

/** post_config: one outbound guard per <AuthFlowProvider> block, in an anonymous shared-memory
 *  segment on pconf (before the children fork), set on every resolved provider copy. */
int af_login_guard_post_config(apr_pool_t *pconf, server_rec *s);

/** child_init: open the stores and the providers' runtime caches. */
void af_login_child_init(apr_pool_t *pchild, server_rec *s);

/** The store of this server in this child, or NULL (logged, at most once a minute;
 *  callers answer 503). */
af_store_t *af_login_store(request_rec *r, const af_srv_conf_t *sc);

/** The level for a glue line about a failed store operation: APLOG_DEBUG for the failures
 *  the store itself logs (throttled, AF03001: full, busy, I/O), APLOG_ERR otherwise. */
int af_login_store_loglevel(apr_status_t rv);

/* ---- login_sweep.c ------------------------------------------------------------------- */

/** post_config: have mod_watchdog sweep every store with a sweep interval (one process
 *  per interval, by the store's lease); without mod_watchdog, say so once. */
int af_login_sweep_post_config(apr_pool_t *pconf, server_rec *s);

/** child_init, once the store is open in this child: a sweep in progress finishes before
 *  pchild closes the store, and none starts after (the watchdog thread outlives pchild). */
void af_login_sweep_child_init(af_login_store_t *slot, apr_pool_t *pchild);

/** The flows in the flow cookie (array of af_oidc_flow_t *, oldest first; never NULL). */
apr_array_header_t *af_login_flows_read(request_rec *r, const af_srv_conf_t *sc, apr_int64_t now);

/** Set-Cookie for the flow cookie with these flows (cleared when empty). */
apr_status_t af_login_flows_write(request_rec *r, const af_srv_conf_t *sc,
                                  apr_array_header_t *flows, apr_int64_t now);

/** Add a Set-Cookie (value NULL: clear the cookie). */
void af_login_set_cookie(request_rec *r, const af_srv_conf_t *sc, const char *name,
                         const char *value, apr_int64_t max_age, int lax_always);

/**
 * The gate's revocation check of one of our access tokens (AuthFlowCheckRevocation): its
 * login (sid) must exist and not be revoked in this server's store.  Tokens without sid,
 * and servers without a store, are not checked.  A store failure denies (fail closed).
 * @return NULL, or a reason ("login_revoked", "store_unavailable")
 */
const char *af_login_check_revoked(request_rec *r, const af_srv_conf_t *sc, const json_t *claims);

/**
 * Mint our access token for a login -- the one mint path of the callback, the refresh
 * endpoint and the gate's inline refresh (af_token_mint_access_fit: when it would not fit a
 * 4 KB cookie, mapped claims are left out from the end of AuthFlowTokenClaims, logged at
 * INFO), F04.  sub: our (namespaced) subject; claims: the login's snapshot, whose "sub" is
 * the IdP's own subject (the token's idp_sub).
 */
apr_status_t af_login_mint(const char **at, request_rec *r, const af_srv_conf_t *sc,
                           const char *sub, const char *sid, const char *idp, const json_t *claims,
                           apr_int64_t now);

/** The request's clock (with the test offset). */
apr_int64_t af_login_now(const request_rec *r, const af_srv_conf_t *sc);

/* ---- login_idt.c --------------------------------------------------------------------- */

#define AF_LOGIN_IDT_MEMBER  "_idt"          /* reserved member of the claims snapshot */
#define AF_LOGIN_IDT_PURPOSE "id_token_hint" /* its sealing key's purpose */

/**
 * The claims snapshot JSON for the store: claims plus AF_LOGIN_IDT_MEMBER = the id_token
 * sealed for the login's absolute lifetime (never plaintext, G01).  NULL when there is no
 * id_token or sealing fails (the caller stores the claims without it).
 */
const char *af_login_idt_claims(request_rec *r, const af_srv_conf_t *sc, const json_t *claims,
                                const char *id_token, apr_int64_t now);

/** The unsealed id_token of login sid (for id_token_hint), or NULL. */
const char *af_login_idt_hint(request_rec *r, const af_srv_conf_t *sc, af_store_t *st,
                              const char *sid, apr_int64_t now);

/* ---- login_page.c -------------------------------------------------------------------- */

/** HTML-escape (& < > " ' and control characters). */
const char *af_login_html_escape(const char *s, apr_pool_t *p);

/** RFC 3986 percent-encoding of everything but unreserved characters. */
const char *af_login_url_encode(const char *s, apr_pool_t *p);

/** Fill a template: {{name}} -> vals[i] for names[i] (values inserted as given). */
const char *af_login_template(const char *tpl, const char *const *names, const char *const *vals,
                              int n, apr_pool_t *p);

/** The headers every response of the handler carries (no-store, frames, referrer, CSP). */
void af_login_std_headers(request_rec *r);

/** Render the error page; returns OK (the status is in r->status). */
int af_login_error_page(request_rec *r, const af_srv_conf_t *sc, int status, const char *reason,
                        const char *idp_error);

/** Send a body with a status; returns OK. */
int af_login_send(request_rec *r, int status, const char *ctype, const char *body);

/** 302 to an absolute URL with an empty body; returns OK. */
int af_login_redirect(request_rec *r, const char *url);

/** Built-in templates (same as htdocs/). */
extern const char af_login_tpl_chooser[];
extern const char af_login_tpl_error[];
extern const char af_login_tpl_logout[];

/* ---- handler_*.c --------------------------------------------------------------------- */

/** Parse a query strictly: at most AF_LOGIN_QUERY_MAX_PARAMS pairs, no empty pairs, valid
 *  percent-escapes, no NUL; each of the wanted keys at most once (n keys; vals[i] NULL when
 *  absent).  Other keys are ignored.  @return NULL or a reason code */
const char *af_login_query(const char **vals, const char *const *keys, int n, const char *query,
                           apr_pool_t *p);

/** A validated return_to (same origin path or allowed origin), else "/". */
const char *af_login_return_to(const af_srv_conf_t *sc, const char *rt, apr_pool_t *p);

/** The absolute URL of a validated return_to. */
const char *af_login_return_url(const af_srv_conf_t *sc, const char *rt, apr_pool_t *p);

af_oidc_provider_t *af_login_provider(const af_srv_conf_t *sc, const char *name);

/**
 * Revoke the login(s) behind this request's -at / -rt cookies (D14 at the callback, and
 * logout): the access token's sid when it verifies, the refresh token's family (found by
 * rotating it).  @return APR_SUCCESS, or an AF_ESTORE_* failure
 */
apr_status_t af_login_revoke_current(request_rec *r, af_srv_conf_t *sc, af_store_t *st,
                                     apr_int64_t now);

int af_handler_login(request_rec *r, af_srv_conf_t *sc);
int af_handler_callback(request_rec *r, af_srv_conf_t *sc);
int af_handler_jwks(request_rec *r, af_srv_conf_t *sc);
int af_handler_session(request_rec *r, af_srv_conf_t *sc);

#endif
