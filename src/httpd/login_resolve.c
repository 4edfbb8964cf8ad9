/* login_resolve.c -- defaults and checks of the login part of one server, run from
 * af_config_resolve() (check_config), so `apachectl -t` reports every problem.
 *
 * The store directory is AuthFlowStore, or "authflow" under the runtime directory.  It is
 * created (0700) here when this server needs it: it has providers, names a store, or has no
 * AuthFlowSigningKey (the default P-256 key is generated once into it, 0600, and so is the
 * server secret that keys the flow cookie).  When the directory was not configured and
 * cannot be made, a server without providers simply goes without (the gate then asks for a
 * key as before).  Servers naming the same directory share one af_login_store_t, whatever
 * the spelling (DIR, DIR/./, a symlink): the registry is keyed by the directory's device
 * and inode, so a child never opens one LMDB environment twice (lmdb.h forbids it).
 */
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <httpd.h>
#include <http_config.h>

#include <apr_file_io.h>
#include <apr_strings.h>
#include <http_log.h>

#include "common/af_error.h"
#include "httpd/af_config.h"
#include "httpd/login.h"

APLOG_USE_MODULE(authflow);

#define REGISTRY_KEY "authflow-login-stores"

/* The slot of a store directory: one per directory, however it is spelled.  The key is
 * the directory's (device, inode), made first if missing; when that fails the spelling is
 * the key (and store_setup reports why). */
static af_login_store_t *store_slot(const char *dir, apr_uint64_t mapsize, apr_pool_t *p)
{
    apr_hash_t *reg = NULL;
    af_login_store_t *slot;
    struct stat sb;
    const char *key;

    apr_pool_userdata_get((void **) &reg, REGISTRY_KEY, p);
    if (reg == NULL) {
        reg = apr_hash_make(p);
        apr_pool_userdata_set(reg, REGISTRY_KEY, apr_pool_cleanup_null, p);
    }
    apr_dir_make_recursive(dir, APR_FPROT_UREAD | APR_FPROT_UWRITE | APR_FPROT_UEXECUTE, p);
    if (stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        key = apr_psprintf(p, "dev=%lu ino=%lu", (unsigned long) sb.st_dev,
                           (unsigned long) sb.st_ino);
    } else {
        key = apr_pstrcat(p, "path=", dir, NULL);
    }
    slot = apr_hash_get(reg, key, APR_HASH_KEY_STRING);
    if (slot == NULL) {
        slot = apr_pcalloc(p, sizeof(*slot));
        slot->dir = apr_pstrdup(p, dir);
        apr_hash_set(reg, key, APR_HASH_KEY_STRING, slot);
    }
    if (mapsize > slot->mapsize) {
        slot->mapsize = (apr_size_t) mapsize;
    }
    return slot;
}

static const char *errtext(apr_status_t rv, apr_pool_t *p)
{
    char buf[128];

    return AF_IS_AF_ERROR(rv) ? af_strerror(rv)
                              : apr_pstrdup(p, apr_strerror(rv, buf, sizeof(buf)));
}

/* Make the directory, load (or create) the secret and, when wanted, the default key. */
static apr_status_t store_setup(af_login_store_t *slot, int want_key, const char **what,
                                apr_pool_t *p)
{
    apr_status_t rv;

    *what = "cannot create the directory";
    rv = apr_dir_make_recursive(slot->dir, APR_FPROT_UREAD | APR_FPROT_UWRITE | APR_FPROT_UEXECUTE,
                                p);
    if (rv != APR_SUCCESS && !APR_STATUS_IS_EEXIST(rv)) {
        return rv;
    }
    if (slot->secret == NULL) {
        *what = "cannot create or read secret.key";
        if ((rv = af_token_secret_load_or_create(&slot->secret, slot->dir, p)) != APR_SUCCESS) {
            return rv;
        }
    }
    if (want_key && slot->key == NULL) {
        *what = "cannot create or read the default signing key signing-key.pem";
        if ((rv = af_token_signing_key_load_or_create(&slot->key, slot->dir, p)) != APR_SUCCESS) {
            return rv;
        }
    }
    return APR_SUCCESS;
}

static const char *read_template(const char **out, const char *dir, const char *name, apr_pool_t *p)
{
    const char *path = apr_pstrcat(p, dir, "/", name, NULL);
    apr_file_t *f = NULL;
    apr_finfo_t fi;
    apr_size_t n;
    char *buf;
    apr_status_t rv;

    rv = apr_file_open(&f, path, APR_FOPEN_READ, 0, p);
    if (rv == APR_SUCCESS) {
        rv = apr_file_info_get(&fi, APR_FINFO_SIZE, f);
    }
    if (rv == APR_SUCCESS && (fi.size <= 0 || fi.size > 65536)) {
        apr_file_close(f);
        return apr_psprintf(p, "AuthFlowTemplateDir: %s must be 1 byte .. 64 KiB", path);
    }
    if (rv == APR_SUCCESS) {
        n = (apr_size_t) fi.size;
        buf = apr_palloc(p, n + 1);
        rv = apr_file_read_full(f, buf, n, &n);
        buf[n] = '\0';
        *out = buf;
    }
    if (f != NULL) {
        apr_file_close(f);
    }
    if (rv != APR_SUCCESS) {
        return apr_psprintf(p, "AuthFlowTemplateDir: cannot read %s: %s", path, errtext(rv, p));
    }
    return NULL;
}

static apr_array_header_t *split_claims(const char *list, apr_pool_t *p)
{
    apr_array_header_t *a = apr_array_make(p, 8, sizeof(const char *));
    char *copy = apr_pstrdup(p, list), *last = NULL, *tok;

    for (tok = apr_strtok(copy, " ", &last); tok; tok = apr_strtok(NULL, " ", &last)) {
        APR_ARRAY_PUSH(a, const char *) = tok;
    }
    return a;
}

static const char *resolve_providers(af_login_conf_t *lc, af_srv_conf_t *sc, const char *where,
                                     apr_pool_t *p)
{
    int i, n = lc->providers ? lc->providers->nelts : 0;
    const char *err;

    lc->r_providers = apr_array_make(p, n > 0 ? n : 1, sizeof(af_oidc_provider_t *));
    for (i = 0; i < n; i++) {
        const af_oidc_provider_t *pv = APR_ARRAY_IDX(lc->providers, i, af_oidc_provider_t *);
        af_oidc_provider_t *cp = apr_pmemdup(p, pv, sizeof(*pv));
        const char *at = APR_ARRAY_IDX(lc->prov_where, i, const char *);

        if (cp->redirect_uri == NULL) {
            if (sc->r_base_url == NULL) {
                return apr_psprintf(p,
                                    "AuthFlowBaseURL: needed by <AuthFlowProvider %s> (%s) "
                                    "for its redirect_uri%s",
                                    cp->name, at, where);
            }
            cp->redirect_uri = apr_pstrcat(p, sc->r_base_url, sc->r_endpoint, "/callback", NULL);
        }
        if ((err = af_oidc_provider_check(cp, p)) != NULL) {
            return apr_psprintf(p, "<AuthFlowProvider %s> (%s): %s%s", cp->name, at, err, where);
        }
        APR_ARRAY_PUSH(lc->r_providers, af_oidc_provider_t *) = cp;
    }
    return NULL;
}

const char *af_login_resolve(server_rec *s, af_srv_conf_t *sc, int gate_used, apr_pool_t *p)
{
    af_login_conf_t *lc = sc->login;
    const char *where = s->defn_name ? apr_psprintf(p, " (virtual host at %s:%u)", s->defn_name,
                                                    s->defn_line_number)
                                     : "";
    const char *dir, *err, *what = NULL;
    int nprov, want_key, need;
    af_login_store_t *slot;
    apr_status_t rv;

    if (lc == NULL) {
        lc = sc->login = apr_pcalloc(p, sizeof(*lc));
        lc->refresh_ttl = lc->refresh_idle = lc->reuse_grace = lc->sweep_interval = AF_UNSET;
    }
    lc->r_refresh_ttl =
        lc->refresh_ttl != AF_UNSET ? lc->refresh_ttl : AF_LOGIN_DEFAULT_REFRESH_TTL;
    lc->r_refresh_idle =
        lc->refresh_idle != AF_UNSET ? lc->refresh_idle : AF_LOGIN_DEFAULT_REFRESH_IDLE;
    lc->r_reuse_grace =
        lc->reuse_grace != AF_UNSET ? lc->reuse_grace : AF_LOGIN_DEFAULT_REUSE_GRACE;
    lc->r_sweep_interval =
        lc->sweep_interval != AF_UNSET ? lc->sweep_interval : AF_LOGIN_DEFAULT_SWEEP;
    lc->r_samesite = lc->samesite ? lc->samesite : "Lax";
    lc->r_token_claims =
        lc->token_claims ? lc->token_claims : split_claims(AF_LOGIN_DEFAULT_CLAIMS, p);
    if (strcmp(lc->r_samesite, "None") == 0 && !sc->r_cookie_secure) {
        return apr_psprintf(p,
                            "AuthFlowCookieSameSite: None needs Secure cookies, which a plain "
                            "http AuthFlowBaseURL cannot have%s",
                            where);
    }
    if (lc->r_refresh_idle > lc->r_refresh_ttl) {
        lc->r_refresh_idle = lc->r_refresh_ttl;
    }

    if ((err = resolve_providers(lc, sc, where, p)) != NULL) {
        return err;
    }
    nprov = lc->r_providers->nelts;

    /* the store, the server secret and the default signing key */
    want_key = sc->signing_key == NULL && (gate_used || sc->used);
    need = nprov > 0 || lc->store_dir != NULL || want_key;
    lc->r_store = NULL;
    if (need) {
        dir = lc->store_dir ? lc->store_dir : ap_runtime_dir_relative(p, "authflow");
        slot = store_slot(dir, lc->mapsize ? lc->mapsize : AF_LOGIN_DEFAULT_MAPSIZE, p);
        rv = store_setup(slot, want_key, &what, p);
        if (rv != APR_SUCCESS) {
            if (lc->store_dir != NULL || nprov > 0) {
                return apr_psprintf(p, "AuthFlowStore: %s: %s (%s)%s", dir, what, errtext(rv, p),
                                    where);
            }
            ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s,
                         "AF08001: default store %s unusable: %s (%s)%s", dir, what, errtext(rv, p),
                         where);
        } else {
            lc->r_store = slot;
            if (slot->s == NULL) { /* the sweep runs on the clock of the first server */
                slot->s = s;
                slot->clock_offset = sc->r_clock_offset;
            }
            if (lc->r_sweep_interval > 0 &&
                (slot->sweep_interval == 0 || lc->r_sweep_interval < slot->sweep_interval)) {
                slot->sweep_interval = lc->r_sweep_interval;
            }
            if (want_key) {
                sc->signing_key = slot->key;
            }
            rv = af_token_seal_key(&lc->r_seal, slot->secret, AF_SECRET_LEN, sc->r_cookie_flow, p);
            if (rv != APR_SUCCESS) {
                return apr_psprintf(p, "AuthFlowStore: cannot derive the flow-cookie key%s", where);
            }
        }
    }
    if (nprov > 0 && sc->signing_key == NULL) {
        return apr_psprintf(p,
                            "AuthFlowSigningKey: <AuthFlowProvider> needs a key to sign "
                            "access tokens%s",
                            where);
    }
    if (nprov > 0 && !sc->signing_key->is_private) {
        return apr_psprintf(p, "AuthFlowSigningKey: not a private key%s", where);
    }

    /* templates */
    lc->r_tpl_chooser = af_login_tpl_chooser;
    lc->r_tpl_error = af_login_tpl_error;
    lc->r_tpl_logout = af_login_tpl_logout;
    if (lc->template_dir != NULL) {
        if ((err = read_template(&lc->r_tpl_chooser, lc->template_dir, "chooser.html", p)) ||
            (err = read_template(&lc->r_tpl_error, lc->template_dir, "error.html", p))) {
            return apr_pstrcat(p, err, where, NULL);
        }
        if (access(apr_pstrcat(p, lc->template_dir, "/logout.html", NULL), F_OK) == 0 &&
            (err = read_template(&lc->r_tpl_logout, lc->template_dir, "logout.html", p))) {
            return apr_pstrcat(p, err, where, NULL);
        }
    }
    return NULL;
}
