/* lifecycle.c -- check_config, post_config and child_init: everything that happens once.
 *
 * check_config (also `apachectl -t`): resolve every server (resolve.c), no side effects.
 * post_config (the parent, before fork): the core's log sink, libcurl, then each store made
 * with the child user as owner -- the directory (0700), the server secret and, where a
 * server has no AuthFlowSigningKey, the default signing key (P-256, 0600, generated once) --
 * and the sites completed with them (the keys derived from the secret); the providers'
 * outbound guards in shared memory (guard.c); the sweep watchdog (sweep.c).  A store on
 * tmpfs is warned about.  child_init: the verified-token cache, the stores opened in this
 * process (after fork, as LMDB requires), the providers' caches.
 */
#include <string.h>
#include <unistd.h>

#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include <httpd.h>
#include <http_config.h>

#include <ap_mpm.h>
#include <apr_strings.h>
#include <http_log.h>
#include <unixd.h>

#include "af_build.h" /* generated: AF_VERSION */
#include "common/af_error.h"
#include "http/af_http.h"
#include "httpd/af_httpd.h"
#include "session/af_tcache.h"

APLOG_USE_MODULE(authflow);

/* ---- the core's log lines ----------------------------------------------------------------- */

/* The request whose pool (or an ancestor of it) p is (post_read_request marks each). */
static request_rec *request_of(apr_pool_t *p)
{
    void *r;

    for (; p != NULL; p = apr_pool_parent_get(p)) {
        r = NULL;
        if (apr_pool_userdata_get(&r, AF_REQUEST_KEY, p) == APR_SUCCESS && r != NULL) {
            return r;
        }
    }
    return NULL;
}

/* About a request: in its virtual host's ErrorLog with the client address (like httpd's
 * own request lines); else the main server's log. */
static void log_sink(void *baton, apr_pool_t *p, int level, const char *tag, const char *msg)
{
    request_rec *r = p != NULL ? request_of(p) : NULL;

    if (r != NULL) {
        ap_log_rerror(APLOG_MARK, level, 0, r, "%s%s%s", tag ? tag : "", tag ? ": " : "", msg);
    } else {
        ap_log_error(APLOG_MARK, level, 0, (server_rec *) baton, "%s%s%s", tag ? tag : "",
                     tag ? ": " : "", msg);
    }
}

static const char *errtext(apr_status_t rv, apr_pool_t *p)
{
    char buf[128];

    return AF_IS_AF_ERROR(rv) ? af_strerror(rv)
                              : apr_pstrdup(p, apr_strerror(rv, buf, sizeof(buf)));
}

/* ---- check_config ---------------------------------------------------------------------- */

static int check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    const char *err = af_resolve(s, pconf, ptemp);

    if (err != NULL) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, NULL, "AF07002: %s", err);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

/* ---- post_config: stores and keys ---------------------------------------------------------- */

static unsigned int max_readers(void)
{
    int daemons = 0, threads = 0;
    apr_uint64_t n;

    if (ap_mpm_query(AP_MPMQ_MAX_DAEMONS, &daemons) != APR_SUCCESS || daemons < 1) {
        daemons = 16;
    }
    if (ap_mpm_query(AP_MPMQ_MAX_THREADS, &threads) != APR_SUCCESS || threads < 1) {
        threads = 1;
    }
    /* every worker may hold one read transaction; doubled for the old generation of
     * children that finishes its requests during a graceful restart, plus tools */
    n = (apr_uint64_t) daemons * (apr_uint64_t) threads * 2 + 64;
    return n < 126 ? 126 : n > 65536 ? 65536 : (unsigned int) n;
}

/* A store on tmpfs (Debian's runtime dir is one) loses every login at a reboot, and with
 * it the generated signing key and server secret. */
static void warn_if_volatile(server_rec *s, const char *dir)
{
    struct statfs fs;

    if (statfs(dir, &fs) == 0 && (fs.f_type == TMPFS_MAGIC || fs.f_type == RAMFS_MAGIC)) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                     "AF07011: AuthFlowStore %s is on tmpfs: a reboot ends every login and "
                     "replaces the generated signing key and server secret; set AuthFlowStore "
                     "to a directory on disk (e.g. /var/lib/authflow)",
                     dir);
    }
}

/* Connections a child's pool of a shared store may open: never more than its threads that
 * use the store at once (the workers, plus the sweep), at most 8. */
static unsigned int pool_size(void)
{
    int threads = 0;

    if (ap_mpm_query(AP_MPMQ_MAX_THREADS, &threads) != APR_SUCCESS || threads < 1) {
        threads = 1;
    }
    return threads + 1 < 8 ? (unsigned int) threads + 1 : 8;
}

/* A shared store: create a missing schema.  A database that cannot be reached now does not
 * stop httpd (a graceful restart during an outage would take the site down): the gate goes
 * on serving issued tokens, logins answer 503 until the database is back. */
static void make_shared_store(af_store_slot_t *slot, server_rec *s, apr_pool_t *p)
{
    af_store_opts_t opts;
    apr_status_t rv;

    memset(&opts, 0, sizeof(opts));
    opts.pool_size = 1;
    rv = af_store_prepare(slot->where, -1, -1, &opts, p);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                     "AF08008: AuthFlowStore %s: cannot check the schema now (%s); starting "
                     "anyway: logins answer 503 until the database answers (create the schema "
                     "with authflowctl --store URI migrate)",
                     slot->shown, errtext(rv, p));
    }
    slot->ready = 1;
}

/* Make one store: directory, secret, default key, environment (owner: the child user). */
static const char *make_store(af_store_slot_t *slot, server_rec *s, apr_pool_t *p)
{
    long uid = geteuid() == 0 ? (long) ap_unixd_config.user_id : -1;
    long gid = geteuid() == 0 ? (long) ap_unixd_config.group_id : -1;
    af_store_opts_t opts;
    apr_status_t rv;

    if (slot->shared) {
        make_shared_store(slot, s, p);
        return NULL;
    }
    rv = apr_dir_make_recursive(slot->where,
                                APR_FPROT_UREAD | APR_FPROT_UWRITE | APR_FPROT_UEXECUTE, p);
    if (rv != APR_SUCCESS && !APR_STATUS_IS_EEXIST(rv)) {
        return apr_psprintf(p, "cannot create the directory (%s)", errtext(rv, p));
    }
    if ((rv = af_token_secret_load_or_create(&slot->secret, slot->where, p)) != APR_SUCCESS) {
        return apr_psprintf(p, "cannot create or read secret.key (%s)", errtext(rv, p));
    }
    if (slot->want_key && slot->key == NULL &&
        (rv = af_token_signing_key_load_or_create(&slot->key, slot->where, p)) != APR_SUCCESS) {
        return apr_psprintf(p, "cannot create or read the default signing key (%s)",
                            errtext(rv, p));
    }
    memset(&opts, 0, sizeof(opts));
    opts.mapsize = slot->mapsize;
    if ((rv = af_store_prepare(slot->where, uid, gid, &opts, p)) != APR_SUCCESS) {
        return apr_psprintf(p, "cannot be prepared (%s)", errtext(rv, p));
    }
    slot->maxreaders = max_readers();
    slot->ready = 1;
    warn_if_volatile(s, slot->where);
    return NULL;
}

/* Complete a site with what its store holds: the default key, the keys of sealed cookies. */
static const char *complete_site(af_site_t *site, af_srv_conf_t *sc, apr_pool_t *p)
{
    af_store_slot_t *slot = sc->slot;
    const unsigned char *secret;
    apr_size_t len = AF_SECRET_LEN;

    if (slot == NULL) {
        return NULL;
    }
    secret = slot->secret;
    if (sc->signing_key == NULL && slot->key != NULL) {
        site->signing_key = slot->key;
        af_keyset_add(site->own_keys, slot->key);
    }
    if (sc->secret != NULL) { /* AuthFlowSecretFile */
        secret = sc->secret, len = sc->secret_len;
    }
    if (secret == NULL ||
        af_token_seal_key(&site->flow_key, secret, len, site->cookie_flow, p) != APR_SUCCESS ||
        af_token_seal_key(&site->logout_key, secret, len, site->cookie_logout, p) != APR_SUCCESS ||
        af_token_seal_key(&site->idt_key, secret, len, "id_token_hint", p) != APR_SUCCESS ||
        af_token_seal_key(&site->throttle_key, secret, len, "password throttle", p) !=
            APR_SUCCESS) {
        return "cannot derive the keys of sealed cookies";
    }
    return NULL;
}

static int post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    int level = ap_get_server_module_loglevel(s, APLOG_MODULE_INDEX), rc;
    const char *err;
    server_rec *v;

    for (v = s->next; v != NULL; v = v->next) {
        int l = ap_get_server_module_loglevel(v, APLOG_MODULE_INDEX);

        level = l > level ? l : level;
    }
    af_log_set(log_sink, s, level > AF_LOG_DEBUG ? AF_LOG_DEBUG : level);
    /* the version, as other modules report theirs: in the Server header (as ServerTokens
     * allows) and mod_status, and once per start at info */
    ap_add_version_component(pconf, "mod_authflow/" AF_VERSION);
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, "AF07020: mod_authflow %s, default store %s",
                 AF_VERSION, af_default_store_dir(ptemp));
    if (af_http_global_init() != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, "AF07003: libcurl initialisation failed");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    for (v = s; v != NULL; v = v->next) {
        af_srv_conf_t *sc = af_srv_conf(v);

        if (sc->slot != NULL && !sc->slot->ready &&
            (err = make_store(sc->slot, v, pconf)) != NULL) {
            if (!sc->slot->configured && sc->site->providers->nelts == 0) {
                /* the default directory, for a default key nobody configured: go without */
                ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, v,
                             "AF08001: default store %s unusable: %s", sc->slot->where, err);
                sc->slot = NULL;
                sc->site->has_store = 0;
                continue;
            }
            ap_log_error(APLOG_MARK, APLOG_EMERG, 0, v, "AF08002: AuthFlowStore %s: %s",
                         sc->slot->shown, err);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        if ((err = complete_site(sc->site, sc, pconf)) != NULL) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, 0, v, "AF08002: AuthFlowStore %s: %s",
                         sc->slot->shown, err);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    if ((rc = af_guard_post_config(pconf, s)) != OK ||
        (rc = af_metrics_post_config(pconf, s)) != OK) {
        return rc;
    }
    return af_sweep_post_config(pconf, s);
}

/* ---- child_init -------------------------------------------------------------------------- */

static void open_store(af_store_slot_t *slot, server_rec *v, af_metrics_t *m, apr_pool_t *pchild)
{
    af_store_opts_t opts;
    af_store_t *st = NULL;
    char buf[128];

    memset(&opts, 0, sizeof(opts));
    opts.mapsize = slot->mapsize;
    opts.maxreaders = slot->maxreaders;
    opts.pool_size = pool_size();
    slot->open_rv = af_store_open(&st, slot->where, &opts, pchild);
    if (slot->open_rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, v,
                     "AF08004: AuthFlowStore %s cannot be opened in this process: %s; logins "
                     "answer 503",
                     slot->shown,
                     AF_IS_AF_ERROR(slot->open_rv) ? af_strerror(slot->open_rv)
                                                   : apr_strerror(slot->open_rv, buf, sizeof(buf)));
        return;
    }
    af_store_set_metrics(st, m);
    af_sweep_child_init(slot, pchild);                 /* before the store's close cleanup */
    __atomic_store_n(&slot->st, st, __ATOMIC_RELEASE); /* the sweep thread reads it */
    if (slot->shared && slot->revocation_delay > 0 &&
        af_revview_create(&slot->revview, slot->revocation_delay, slot->revocation_horizon,
                          pchild) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, v,
                     "AF08009: AuthFlowStore %s: no revocation view in this process; every "
                     "request asks the store",
                     slot->shown);
    }
    if (!slot->shared && af_store_stale_readers(st) > 0) {
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, v,
                     "AF08005: AuthFlowStore %s: %d stale reader slot(s) reclaimed", slot->where,
                     af_store_stale_readers(st));
    }
}

static void child_init(apr_pool_t *pchild, server_rec *s)
{
    af_tcache_t *cache = NULL;
    server_rec *v;
    int i;

    for (v = s; v != NULL; v = v->next) {
        af_srv_conf_t *sc = af_srv_conf(v);
        af_site_t *site = sc->site;

        if (site == NULL) {
            continue;
        }
        if (site->token_cache && cache == NULL && af_tcache_create(&cache, pchild) != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_ERR, 0, s,
                         "AF07004: token cache unavailable, verifying every token");
        }
        site->rt->tcache = site->token_cache ? cache : NULL;
        for (i = 0; i < site->providers->nelts; i++) {
            af_oidc_provider_t *pv = APR_ARRAY_IDX(site->providers, i, af_oidc_provider_t *);

            if (pv->rt == NULL && af_oidc_runtime_init(pv, pchild) != APR_SUCCESS) {
                ap_log_error(APLOG_MARK, APLOG_ERR, 0, v,
                             "AF08003: provider %s: cannot initialise its caches", pv->name);
            }
        }
        if (sc->slot != NULL && sc->slot->ready) {
            if (sc->slot->st == NULL && sc->slot->open_rv == APR_SUCCESS) {
                open_store(sc->slot, v, site->metrics, pchild);
            }
            site->rt->store = sc->slot->st;
            site->rt->store_rv = sc->slot->open_rv;
            site->rt->revview = sc->slot->revview;
        }
    }
}

void af_lifecycle_register_hooks(apr_pool_t *p)
{
    ap_hook_check_config(check_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(child_init, NULL, NULL, APR_HOOK_MIDDLE);
}
