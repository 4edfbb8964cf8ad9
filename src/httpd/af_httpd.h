/* af_httpd.h -- the glue between httpd and the core library (the only code that sees httpd).
 *
 * The glue only translates: it reads configuration directives into plain values, resolves
 * each server once into an immutable af_site_t (src/session/af_session.h), reads each
 * request into an af_req_in_t, calls one core function, and applies the effects that come
 * back.  One file per concern:
 *   config.c        the directive table, create/merge, directive handlers
 *   config_keys.c   the key and trusted-issuer directives
 *   resolve.c       check_config: one af_site_t per server, every configuration error
 *   lifecycle.c     post_config / child_init: log sink, libcurl, stores, keys, caches
 *   guard.c         the providers' outbound guards in shared memory
 *   sweep.c         the store sweep in a mod_watchdog thread
 *   metrics.c       the counters in shared memory; SetHandler authflow-metrics; mod_status
 *   gate.c          AuthType AuthFlow: check_user_id and the hooks around it
 *   export.c        scrubbing inbound headers and cookies; claims to env and headers
 *   handler.c       SetHandler authflow
 *   respond.c       request -> af_req_in_t; effects -> response
 *   authz.c         Require authflow / authflow-claim; ap_expr authflow_claim()
 *   password.c      Type password: httpd's authn providers check a form's password
 */
#ifndef AF_HTTPD_H
#define AF_HTTPD_H

#include <pthread.h>

#include <httpd.h>
#include <http_config.h>
#include <apr_hash.h>
#include <jansson.h>

#include "common/af_log.h"
#include "session/af_session.h"
#include "store/af_store_lmdb.h"

extern module AP_MODULE_DECLARE_DATA authflow_module;

#define AF_UNSET       (-1)
#define AF_MAX_AGE_OFF (-2) /* AuthFlowMaxAge off (inherited settings undone) */

#define AF_DEFAULT_ENDPOINT         "/auth"
#define AF_DEFAULT_COOKIE_PREFIX    "__Host-authflow"
#define AF_DEFAULT_CLOCK_SKEW       60
#define AF_MAX_CLOCK_SKEW           300
#define AF_DEFAULT_ACCESS_TTL       600
#define AF_DEFAULT_REFRESH_TTL      (14 * 86400)
#define AF_DEFAULT_REFRESH_IDLE     (3 * 86400)
#define AF_DEFAULT_REUSE_GRACE      10
#define AF_DEFAULT_SWEEP            600
#define AF_DEFAULT_REVOCATION_DELAY 1
#define AF_DEFAULT_CLAIMS           "sub email email_verified name preferred_username groups"
#define AF_MAP_WARN_PERCENT         80
#define AF_REQUEST_KEY              "authflow-request" /* r->pool userdata: the request */

/* ---- configuration ---------------------------------------------------------------------- */

/** One store, shared by the servers naming it (however the directory is spelled). */
typedef struct af_store_slot_t {
    const char *where;              /* the directory */
    apr_size_t mapsize;             /* the largest AuthFlowStoreMapSize of its servers */
    unsigned int maxreaders;        /* post_config, from the MPM */
    int want_key;                   /* a server needs the default signing key */
    int configured;                 /* named by AuthFlowStore (else the default directory) */
    int ready;                      /* post_config made it (this configuration cycle) */
    af_key_t *key;                  /* the default signing key, or NULL */
    const unsigned char *secret;    /* secret.key (AF_SECRET_LEN bytes); NULL for a shared store */
    int shared;                     /* a PostgreSQL URI (where is the URI) */
    const char *shown;              /* where, for messages (a URI's password removed) */
    apr_int64_t revocation_delay;   /* the shortest AuthFlowRevocationDelay of its servers */
    apr_int64_t revocation_horizon; /* the longest access-token lifetime + skew + delay */
    af_revview_t *revview;          /* per child (shared store, delay > 0) */
    af_store_t *st;                 /* per child; NULL when it could not be opened (atomic:
                                       the sweep thread reads it too) */
    apr_status_t open_rv;
    /* the sweep (sweep.c): the shortest interval of its servers, the first one's clock */
    apr_int64_t sweep_interval;
    apr_int64_t clock_offset;
    server_rec *s;
    int sweep_registered;
    pthread_mutex_t sweep_mu;
    int sweep_closing;
    af_log_throttle_t unavailable;
} af_store_slot_t;

typedef struct af_srv_conf_t {
    int used; /* any AuthFlow directive in this server's scope */
    const char *base_url;
    const char *endpoint;
    const char *issuer;
    const char *audience;
    af_key_t *signing_key;
    apr_array_header_t *verify; /* af_key_t * */
    apr_array_header_t *trust;  /* af_site_trust_t * */
    apr_int64_t clock_skew;
    apr_int64_t access_ttl;
    const char *cookie_prefix;
    int token_cache;
    int test_clock_set;
    apr_int64_t test_clock_offset;
    apr_hash_t *scrub; /* normalized AuthFlowExport header names; after resolve the union
                          over all servers (one process-wide set) */
    /* logins */
    apr_array_header_t *providers;  /* af_oidc_provider_t *, in order */
    apr_array_header_t *prov_where; /* "file:line", parallel to providers */
    const char *store;              /* AuthFlowStore: a directory or a postgresql:// URI */
    const char *secret_file;        /* AuthFlowSecretFile */
    const unsigned char *secret;    /* its bytes (read when the directive is parsed) */
    apr_size_t secret_len;
    apr_int64_t revocation_delay; /* AuthFlowRevocationDelay */
    apr_uint64_t mapsize;
    apr_array_header_t *token_claims;
    apr_array_header_t *return_to;
    apr_int64_t refresh_ttl;
    apr_int64_t refresh_idle;
    apr_int64_t reuse_grace;
    apr_int64_t sweep_interval;
    const char *samesite;
    const char *template_dir;
    int language; /* AuthFlowLanguage: af_lang_t, -1 auto; AF_UNSET: not given */
    /* resolved (resolve.c; completed in post_config) */
    af_site_t *site;
    af_store_slot_t *slot; /* NULL: no store for this server */
    af_metrics_t *metrics; /* post_config: the counters (every server), or NULL */
} af_srv_conf_t;

typedef struct af_dir_conf_t {
    int unauth;  /* af_unauth_t or AF_UNSET */
    int n_from;  /* 0: unset */
    int from[2]; /* AF_FROM_* */
    const af_policy_path_t *user_path;
    apr_array_header_t *exports; /* af_export_spec_t (appended on merge) */
    int export_all;
    int forward_token;
    const char *login;
    int check_revocation;
    int refresh;
    apr_int64_t max_age;    /* AuthFlowMaxAge seconds, AF_MAX_AGE_OFF, or AF_UNSET */
    const char *acr_values; /* AuthFlowACR, space-separated ("" off), or NULL: unset */
    int preflight;          /* af_preflight_t or AF_UNSET */
} af_dir_conf_t;

static inline af_srv_conf_t *af_srv_conf(const server_rec *s)
{
    return ap_get_module_config(s->module_config, &authflow_module);
}

static inline af_dir_conf_t *af_dir_conf(const request_rec *r)
{
    return ap_get_module_config(r->per_dir_config, &authflow_module);
}

/** The gate options of a directory: the one place for per-directory defaults. */
void af_dir_opts(af_gate_opts_t *o, const af_dir_conf_t *dc);

static inline int af_dir_export_all(const af_dir_conf_t *dc)
{
    return dc->export_all == AF_UNSET ? 1 : dc->export_all;
}

static inline int af_dir_forward_token(const af_dir_conf_t *dc)
{
    return dc->forward_token == AF_UNSET ? 0 : dc->forward_token;
}

/* config.c (the per-directory configuration: config_dir.c) */
extern const command_rec af_config_cmds[];
void *af_config_dir_create(apr_pool_t *p, char *dir);
void *af_config_dir_merge(apr_pool_t *p, void *base, void *add);
void *af_config_srv_create(apr_pool_t *p, server_rec *s);
void *af_config_srv_merge(apr_pool_t *p, void *base, void *add);
/** A configuration handler's server config (marks it used when not from .htaccess). */
af_srv_conf_t *af_config_srv(cmd_parms *cmd);
/** The name of the directive being parsed. */
const char *af_config_dname(cmd_parms *cmd);
/** Normalize a header name for the scrub set: upper case, '-' -> '_'. */
char *af_config_norm_name(apr_pool_t *p, const char *name);
/** RFC 7230 token characters only (header and cookie names). */
int af_config_is_token(const char *s);
/** a + b (either may be NULL). */
apr_array_header_t *af_config_append(apr_pool_t *p, apr_array_header_t *a, apr_array_header_t *b);
/* merge: the added (inner) scope wins when set */
#define MERGE_PTR(f) c->f = add->f != NULL ? add->f : base->f
#define MERGE_INT(f) c->f = add->f != AF_UNSET ? add->f : base->f

/* config_dir.c: the per-directory directives' handlers */
const char *af_config_dir_unauth(cmd_parms *cmd, void *dv, const char *arg);
const char *af_config_dir_token_from(cmd_parms *cmd, void *dv, int argc, char *const argv[]);
const char *af_config_dir_user_claim(cmd_parms *cmd, void *dv, const char *arg);
const char *af_config_dir_export(cmd_parms *cmd, void *dv, int argc, char *const argv[]);
const char *af_config_dir_flag(cmd_parms *cmd, void *dv, int on);
const char *af_config_dir_refresh(cmd_parms *cmd, void *dv, const char *arg);
const char *af_config_dir_max_age(cmd_parms *cmd, void *dv, const char *arg);
const char *af_config_dir_acr(cmd_parms *cmd, void *dv, int argc, char *const argv[]);
const char *af_config_dir_preflight(cmd_parms *cmd, void *dv, const char *arg);
const char *af_config_dir_login(cmd_parms *cmd, void *dv, const char *arg);

/* config_keys.c */
const char *af_config_signing_key(cmd_parms *cmd, void *d, int argc, char *const argv[]);
const char *af_config_verify_key(cmd_parms *cmd, void *d, int argc, char *const argv[]);
const char *af_config_trust_issuer(cmd_parms *cmd, void *d, int argc, char *const argv[]);

/* resolve.c */
/** check_config: resolve every server (no side effects).  @return an error or NULL */
const char *af_resolve(server_rec *s, apr_pool_t *p, apr_pool_t *ptemp);
/** Is name (a request header) one the module may set? ('-' == '_', any case) */
int af_config_is_ours(const af_srv_conf_t *sc, const char *name);
/** The LMDB directory used without AuthFlowStore (/var/lib/authflow in the Debian package). */
const char *af_default_store_dir(apr_pool_t *p);

/* lifecycle.c */
void af_lifecycle_register_hooks(apr_pool_t *p);

/* guard.c, sweep.c, metrics.c */
int af_guard_post_config(apr_pool_t *pconf, server_rec *s);
int af_metrics_post_config(apr_pool_t *pconf, server_rec *s);
int af_sweep_post_config(apr_pool_t *pconf, server_rec *s);
void af_sweep_child_init(af_store_slot_t *slot, apr_pool_t *pchild);
/** The log level of a per-request line about a store failure (the store logs those). */
int af_store_loglevel(apr_status_t rv);

/* export.c */
void af_export_scrub(request_rec *r, const af_srv_conf_t *sc);
void af_export_strip_cookies(request_rec *r, const af_site_t *site);
void af_export_apply(request_rec *r, const apr_array_header_t *kvs);

/* hooks, one registration per concern (mod_authflow.c) */
void af_gate_register_hooks(apr_pool_t *p);
void af_authz_register_hooks(apr_pool_t *p);
void af_handler_register_hooks(apr_pool_t *p);
void af_metrics_register_hooks(apr_pool_t *p);

/** The verified claims of this request (the gate's), or NULL.  Borrowed (r->pool). */
json_t *af_request_claims(request_rec *r);

/** Is r a CORS preflight that AuthFlowPreflight pass lets through unauthenticated? */
int af_request_preflight_passes(request_rec *r);

/** The module clock of a request: its time plus the site's test offset (one clock). */
apr_int64_t af_request_now(const request_rec *r);

/* ---- password.c -------------------------------------------------------------------------- */

/** af_pw_check_fn over httpd's authn providers (baton: the request_rec). */
af_pw_result_t af_password_check(void *baton, const af_oidc_provider_t *pv, const char *user,
                                 const char *password, apr_table_t **attrs, apr_pool_t *p);

/** Configtest: every AuthnProvider name of pv is a registered authn provider that checks
 *  passwords.  @return NULL, or the error */
const char *af_password_providers_check(const af_oidc_provider_t *pv, apr_pool_t *p);

#endif
