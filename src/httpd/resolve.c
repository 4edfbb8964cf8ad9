/* resolve.c -- check_config: every server resolved once into an immutable af_site_t, with
 * every configuration error reported by `apachectl -t` (the directive and the reason).
 *
 * No side effects: configtest creates no directory and no file.  The store directory,
 * its server secret and the default signing key are made in post_config (lifecycle.c),
 * which also completes the site with them.  Here a store that does not exist yet only has
 * to be creatable.  Servers naming the same store share one af_store_slot_t, however the
 * directory is spelled (a symlink, /x/./y): the registry key is the real path of its
 * longest existing prefix plus the rest, so a child never opens one LMDB environment twice.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <httpd.h>
#include <http_config.h>

#include <apr_lib.h>
#include <apr_strings.h>
#include <http_log.h>
#include <http_main.h>

#include "af_build.h" /* generated: AF_DEFAULT_STORE_DIR of packaged builds */
#include "common/af_file.h"
#include "common/af_url.h"
#include "httpd/af_httpd.h"

APLOG_USE_MODULE(authflow);

#define REGISTRY_KEY "authflow-store-slots"
#define TEMPLATE_MAX 65536

/* ---- where is AuthType AuthFlow used? ------------------------------------------------- */

static server_rec *vhost_of(server_rec *main_s, const ap_directive_t *d)
{
    server_rec *s;

    for (; d != NULL; d = d->parent) {
        if (strcasecmp(d->directive, "<VirtualHost") == 0) {
            for (s = main_s->next; s != NULL; s = s->next) {
                if (s->defn_name && d->filename && s->defn_line_number == (unsigned) d->line_num &&
                    strcmp(s->defn_name, d->filename) == 0) {
                    return s;
                }
            }
            return NULL;
        }
    }
    return main_s;
}

static void walk(apr_hash_t *used, server_rec *main_s, const ap_directive_t *d, apr_pool_t *p)
{
    server_rec *s, *v;

    for (; d != NULL; d = d->next) {
        if (strcasecmp(d->directive, "AuthType") == 0 && d->args &&
            strncasecmp(d->args, "AuthFlow", 8) == 0 &&
            (d->args[8] == '\0' || apr_isspace(d->args[8]))) {
            v = vhost_of(main_s, d);
            for (s = v == main_s ? main_s : v; s != NULL; s = v == main_s ? s->next : NULL) {
                apr_hash_set(used, apr_pmemdup(p, &s, sizeof(s)), sizeof(s), d);
            }
        }
        if (d->first_child != NULL) {
            walk(used, main_s, d->first_child, p);
        }
    }
}

/* ---- the scrub set -------------------------------------------------------------------- */

int af_config_is_ours(const af_srv_conf_t *sc, const char *name)
{
    char buf[136];
    apr_size_t i;

    /* AUTHFLOW* in any spelling, plus the remote-user headers of the textbook recipes */
    for (i = 0; name[i] != '\0' && i < sizeof(buf) - 1; i++) {
        buf[i] = name[i] == '-' ? '_' : (char) apr_toupper(name[i]);
    }
    buf[i] = '\0';
    if (i >= 8 && memcmp(buf, "AUTHFLOW", 8) == 0) {
        return 1; /* whatever its length */
    }
    if (name[i] != '\0') {
        return 0; /* longer than any other name we set */
    }
    if (strcmp(buf, "X_REMOTE_USER") == 0 || strcmp(buf, "REMOTE_USER") == 0) {
        return 1;
    }
    return sc != NULL && apr_hash_count(sc->scrub) > 0 &&
           apr_hash_get(sc->scrub, buf, APR_HASH_KEY_STRING) != NULL;
}

/* ---- stores ---------------------------------------------------------------------------- */

/* The real path of dir's longest existing prefix, plus the rest (no file is created). */
static const char *canonical(const char *dir, apr_pool_t *p)
{
    char *head = apr_pstrdup(p, dir), *slash, real[PATH_MAX];
    const char *tail = "";

    for (;;) {
        if (realpath(head, real) != NULL) {
            return apr_pstrcat(p, real, *tail ? "/" : "", tail, NULL);
        }
        if ((slash = strrchr(head, '/')) == NULL || slash == head) {
            return dir;
        }
        tail = *tail ? apr_pstrcat(p, slash + 1, "/", tail, NULL) : slash + 1;
        *slash = '\0';
    }
}

/* Can dir be made (its longest existing prefix a writable directory)? */
static int creatable(const char *dir, apr_pool_t *p)
{
    char *head = apr_pstrdup(p, dir), *slash;
    struct stat sb;

    while (stat(head, &sb) != 0) {
        if ((slash = strrchr(head, '/')) == NULL || slash == head) {
            return 0;
        }
        *slash = '\0';
    }
    return S_ISDIR(sb.st_mode) && access(head, W_OK | X_OK) == 0;
}

static af_store_slot_t *store_slot(const char *dir, apr_pool_t *p)
{
    apr_hash_t *reg = NULL;
    af_store_slot_t *slot;
    const char *key = af_store_is_uri(dir) ? dir : canonical(dir, p);

    apr_pool_userdata_get((void **) &reg, REGISTRY_KEY, p);
    if (reg == NULL) {
        reg = apr_hash_make(p);
        apr_pool_userdata_set(reg, REGISTRY_KEY, apr_pool_cleanup_null, p);
    }
    slot = apr_hash_get(reg, key, APR_HASH_KEY_STRING);
    if (slot == NULL) {
        slot = apr_pcalloc(p, sizeof(*slot));
        slot->where = apr_pstrdup(p, dir);
        slot->shared = af_store_is_uri(dir);
        slot->shown = slot->shared ? af_store_shown(dir, p) : slot->where;
        slot->revocation_delay = -1;
        apr_hash_set(reg, apr_pstrdup(p, key), APR_HASH_KEY_STRING, slot);
    }
    return slot;
}

/* The default key, when one exists already: loaded (read only); else NULL. */
static const char *existing_default_key(af_key_t **key, const char *dir, apr_pool_t *p)
{
    const char *path = apr_pstrcat(p, dir, "/signing-key.pem", NULL);
    const char *why = NULL, *hint;
    apr_status_t rv;

    *key = NULL;
    if (access(path, F_OK) != 0) {
        return NULL;
    }
    rv = af_key_load_file(key, path, AF_ALG_UNKNOWN, NULL, &why, p);
    if (rv != APR_SUCCESS) {
        hint = af_file_private_hint(rv, path, p);
        return apr_psprintf(p, "AuthFlowStore: %s: cannot use the default signing key: %s", path,
                            hint  ? hint
                            : why ? why
                                  : af_strerror(rv));
    }
    if ((*key)->kid == NULL) {
        (*key)->kid = af_key_thumbprint(*key, p);
    }
    return NULL;
}

/* ---- one server ------------------------------------------------------------------------ */

static const char *strip_prefix(const char *prefix, const char *what)
{
    apr_size_t n = strlen(what);

    return strncmp(prefix, what, n) == 0 ? prefix + n : prefix;
}

static const char *read_template(const char **out, const char *dir, const char *name, int must,
                                 apr_pool_t *p)
{
    const char *path = apr_pstrcat(p, dir, "/", name, NULL);
    apr_size_t n = 0;
    char *buf = NULL;
    apr_status_t rv;

    if (!must && access(path, F_OK) != 0) {
        return NULL;
    }
    rv = af_file_read(&buf, &n, path, TEMPLATE_MAX, p);
    if (rv == APR_SUCCESS && n == 0) {
        rv = AF_ETOOBIG;
    }
    if (rv == AF_ETOOBIG) {
        return apr_psprintf(p, "AuthFlowTemplateDir: %s must be 1 byte .. 64 KiB", path);
    }
    if (rv != APR_SUCCESS) {
        char msg[128];

        return apr_psprintf(p, "AuthFlowTemplateDir: cannot read %s: %s", path,
                            apr_strerror(rv, msg, sizeof(msg)));
    }
    *out = buf;
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

static const char *cookies(af_site_t *site, server_rec *s, const af_srv_conf_t *sc, int gate,
                           const char *where, apr_pool_t *p)
{
    const char *prefix = sc->cookie_prefix ? sc->cookie_prefix : AF_DEFAULT_COOKIE_PREFIX, *plain;

    /* __Host- needs Secure, which browsers refuse on plain http */
    site->cookie_secure = 1;
    if (site->base_url != NULL && strncasecmp(site->base_url, "http://", 7) == 0) {
        plain = strip_prefix(strip_prefix(prefix, "__Host-"), "__Secure-");
        site->cookie_secure = 0;
        if (plain != prefix && (sc->used || gate)) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                         "AF07001: AuthFlowBaseURL %s is plain http on loopback: cookies are "
                         "named %s-* without the __Host-/__Secure- prefix and without Secure "
                         "(development only)%s",
                         site->base_url, plain, where);
        }
        prefix = plain;
    }
    if (*prefix == '\0') {
        return "AuthFlowCookiePrefix: the prefix is empty after dropping __Host-";
    }
    site->cookie_prefix = prefix;
    site->cookie_at = apr_pstrcat(p, prefix, "-at", NULL);
    site->cookie_rt = apr_pstrcat(p, prefix, "-rt", NULL);
    site->cookie_flow = apr_pstrcat(p, prefix, "-flow", NULL);
    site->cookie_logout = apr_pstrcat(p, prefix, "-logout", NULL);
    site->samesite = sc->samesite ? sc->samesite : "Lax";
    if (strcmp(site->samesite, "None") == 0 && !site->cookie_secure) {
        return apr_psprintf(p,
                            "AuthFlowCookieSameSite: None needs Secure cookies, which a plain "
                            "http AuthFlowBaseURL cannot have%s",
                            where);
    }
    return NULL;
}

static const char *providers(af_site_t *site, const af_srv_conf_t *sc, const char *where,
                             apr_pool_t *p)
{
    int i, n = sc->providers ? sc->providers->nelts : 0;
    const char *err;

    site->providers = apr_array_make(p, n > 0 ? n : 1, sizeof(af_oidc_provider_t *));
    for (i = 0; i < n; i++) {
        const af_oidc_provider_t *pv = APR_ARRAY_IDX(sc->providers, i, af_oidc_provider_t *);
        af_oidc_provider_t *cp = apr_pmemdup(p, pv, sizeof(*pv));
        const char *at = APR_ARRAY_IDX(sc->prov_where, i, const char *);

        if (cp->redirect_uri == NULL) {
            if (site->base_url == NULL) {
                return apr_psprintf(p,
                                    "AuthFlowBaseURL: needed by <AuthFlowProvider %s> (%s) "
                                    "for its redirect_uri%s",
                                    cp->name, at, where);
            }
            cp->redirect_uri = apr_pstrcat(p, site->base_url, site->endpoint, "/callback", NULL);
        }
        cp->leeway = site->clock_skew; /* one leeway: ours and the IdP's tokens alike */
        if ((err = af_oidc_provider_check(cp, p)) != NULL ||
            (cp->kind == AF_OIDC_KIND_PASSWORD &&
             (err = af_password_providers_check(cp, p)) != NULL)) {
            return apr_psprintf(p, "<AuthFlowProvider %s> (%s): %s%s", cp->name, at, err, where);
        }
        APR_ARRAY_PUSH(site->providers, af_oidc_provider_t *) = cp;
    }
    return NULL;
}

/* The settings of a store several servers name: the first server's clock, the shortest
 * sweep interval and revocation delay, the longest token lifetime. */
static void slot_settings(af_store_slot_t *slot, const af_site_t *site, af_srv_conf_t *sc,
                          server_rec *s)
{
    apr_int64_t delay =
        sc->revocation_delay != AF_UNSET ? sc->revocation_delay : AF_DEFAULT_REVOCATION_DELAY;
    apr_int64_t horizon = site->access_ttl + site->clock_skew + delay + 60;

    if (sc->mapsize > slot->mapsize) {
        slot->mapsize = (apr_size_t) sc->mapsize;
    }
    if (slot->s == NULL) { /* the sweep runs on the clock of the first server */
        slot->s = s;
        slot->clock_offset = site->clock_offset;
    }
    if (sc->sweep_interval != 0) {
        apr_int64_t iv = sc->sweep_interval == AF_UNSET ? AF_DEFAULT_SWEEP : sc->sweep_interval;

        if (slot->sweep_interval == 0 || iv < slot->sweep_interval) {
            slot->sweep_interval = iv;
        }
    }
    if (slot->revocation_delay < 0 || delay < slot->revocation_delay) {
        slot->revocation_delay = delay;
    }
    if (horizon > slot->revocation_horizon) {
        slot->revocation_horizon = horizon;
    }
}

/* A store shared by several hosts (PostgreSQL): every host must seal and sign alike, so the
 * server secret and the signing key are files the operator copies to each -- never made
 * per host. */
static const char *shared_store(af_site_t *site, af_srv_conf_t *sc, server_rec *s,
                                const char *where, apr_pool_t *p)
{
    const char *shown = af_store_shown(sc->store, p);
    af_store_opts_t opts;
    af_store_t *st = NULL;
    apr_status_t rv;

    memset(&opts, 0, sizeof(opts));
    if ((rv = af_store_open(&st, sc->store, &opts, p)) != APR_SUCCESS) { /* parses, no I/O */
        return apr_psprintf(p, "AuthFlowStore: %s is not a usable connection URI (%s)%s", shown,
                            af_strerror(rv), where);
    }
    af_store_close(st);
    if (sc->secret == NULL) {
        return apr_psprintf(p,
                            "AuthFlowSecretFile: required with a shared store (%s): the same "
                            "secret file on every host%s",
                            shown, where);
    }
    if (sc->signing_key == NULL) {
        return apr_psprintf(p,
                            "AuthFlowSigningKey: required with a shared store (%s): the same key "
                            "on every host (a key generated per host would refuse every other "
                            "host's tokens)%s",
                            shown, where);
    }
    sc->slot = store_slot(sc->store, p);
    site->has_store = 1;
    sc->slot->configured = 1;
    slot_settings(sc->slot, site, sc, s);
    return NULL;
}

/* The store, the server secret and the default signing key: planned here, made in
 * post_config. */
static const char *store(af_site_t *site, af_srv_conf_t *sc, server_rec *s, int gate,
                         const char *where, apr_pool_t *p)
{
    int nprov = site->providers->nelts;
    int want_key = sc->signing_key == NULL && (gate || sc->used);
    const char *dir, *err;
    af_store_slot_t *slot;
    struct stat sb;

    sc->slot = NULL;
    if (!(nprov > 0 || sc->store != NULL || want_key)) {
        return NULL;
    }
    if (sc->store != NULL && af_store_is_uri(sc->store)) {
        return shared_store(site, sc, s, where, p);
    }
    dir = sc->store ? sc->store : af_default_store_dir(p);
    if (stat(dir, &sb) == 0 ? !S_ISDIR(sb.st_mode) : !creatable(dir, p)) {
        if (sc->store != NULL || nprov > 0) {
            return apr_psprintf(p, "AuthFlowStore: %s is not a directory and cannot be created%s",
                                dir, where);
        }
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s,
                     "AF08001: default store %s unusable: cannot be created%s", dir, where);
        return NULL;
    }
    slot = store_slot(dir, p);
    sc->slot = slot;
    site->has_store = 1;
    slot->configured |= sc->store != NULL;
    slot_settings(slot, site, sc, s);
    if (want_key) {
        slot->want_key = 1;
        if (slot->key == NULL && (err = existing_default_key(&slot->key, dir, p)) != NULL) {
            return apr_pstrcat(p, err, where, NULL);
        }
    }
    return NULL;
}

/* Our own keys: signing + verify, kids unique; the default key is added in post_config. */
static const char *keys(af_site_t *site, af_srv_conf_t *sc, const ap_directive_t *gate,
                        const char *where, apr_pool_t *p)
{
    int i, j;

    site->signing_key = sc->signing_key;
    site->own_keys = af_keyset_make(p);
    if (sc->signing_key != NULL) {
        af_keyset_add(site->own_keys, sc->signing_key);
    }
    for (i = 0; sc->verify != NULL && i < sc->verify->nelts; i++) {
        af_keyset_add(site->own_keys, APR_ARRAY_IDX(sc->verify, i, af_key_t *));
    }
    for (i = 0; i < site->own_keys->keys->nelts; i++) {
        const af_key_t *a = APR_ARRAY_IDX(site->own_keys->keys, i, af_key_t *);

        for (j = i + 1; j < site->own_keys->keys->nelts; j++) {
            const af_key_t *b = APR_ARRAY_IDX(site->own_keys->keys, j, af_key_t *);

            if (a->kid && b->kid && strcmp(a->kid, b->kid) == 0) {
                return apr_psprintf(p, "AuthFlowVerifyKey: kid %s is used by two keys%s", a->kid,
                                    where);
            }
        }
    }
    for (i = 0; sc->trust != NULL && i < sc->trust->nelts; i++) {
        const af_site_trust_t *t = APR_ARRAY_IDX(sc->trust, i, af_site_trust_t *);

        if (site->issuer != NULL && strcmp(t->issuer, site->issuer) == 0) {
            return apr_psprintf(p, "AuthFlowTrustIssuer: %s is our own issuer%s", t->issuer, where);
        }
    }
    /* a key to sign with: configured, or the default one (made in post_config) */
    if (site->providers->nelts > 0 && sc->signing_key == NULL && sc->slot == NULL) {
        return apr_psprintf(p,
                            "AuthFlowSigningKey: <AuthFlowProvider> needs a key to sign access "
                            "tokens%s",
                            where);
    }
    if (site->providers->nelts > 0 && sc->signing_key != NULL && !sc->signing_key->is_private) {
        return apr_psprintf(p, "AuthFlowSigningKey: not a private key%s", where);
    }
    if (gate != NULL) {
        if (site->base_url == NULL) {
            return apr_psprintf(p,
                                "AuthFlowBaseURL: not set and no ServerName to derive it "
                                "from (AuthType AuthFlow at %s:%d)%s",
                                gate->filename, gate->line_num, where);
        }
        if (site->own_keys->keys->nelts == 0 && (sc->trust == NULL || sc->trust->nelts == 0) &&
            (sc->slot == NULL || !sc->slot->want_key)) {
            return apr_psprintf(p,
                                "AuthFlowSigningKey: AuthType AuthFlow (%s:%d) needs a key: "
                                "set AuthFlowSigningKey, AuthFlowVerifyKey or "
                                "AuthFlowTrustIssuer%s",
                                gate->filename, gate->line_num, where);
        }
    }

    return NULL;
}

/* The LMDB directory without AuthFlowStore: the packaged build's compiled-in directory
 * (/var/lib/authflow, made by the package), else `authflow` under the runtime dir. */
const char *af_default_store_dir(apr_pool_t *p)
{
#ifdef AF_DEFAULT_STORE_DIR
    return AF_DEFAULT_STORE_DIR;
#else
    return ap_runtime_dir_relative(p, "authflow");
#endif
}

/* Templates, read now (configtest sees a missing one). */
static const char *templates(af_site_t *site, af_srv_conf_t *sc, const char *where, apr_pool_t *p)
{
    const char *err, *dir;
    int l, pg;

    site->language = sc->language == AF_UNSET ? -1 : sc->language;
    if (sc->template_dir == NULL) {
        return NULL;
    }
    /* DIR/name.html (chooser and error required) serves every language; DIR/<lang>/name.html,
     * when present, that language */
    for (pg = 0; pg < AF_PAGE_N; pg++) {
        if ((err = read_template(&site->tpl[AF_LANG_EN][pg], sc->template_dir,
                                 af_session_page_file[pg], pg <= AF_PAGE_ERROR, p)) != NULL) {
            return apr_pstrcat(p, err, where, NULL);
        }
        for (l = 1; l < AF_LANG_N; l++) {
            site->tpl[l][pg] = site->tpl[AF_LANG_EN][pg];
        }
    }
    for (l = 0; l < AF_LANG_N; l++) {
        dir = apr_pstrcat(p, sc->template_dir, "/", af_session_lang_tag[l], NULL);
        for (pg = 0; pg < AF_PAGE_N; pg++) {
            if ((err = read_template(&site->tpl[l][pg], dir, af_session_page_file[pg], 0, p)) !=
                NULL) {
                return apr_pstrcat(p, err, where, NULL);
            }
        }
    }
    return NULL;
}

static const char *resolve_one(server_rec *s, af_srv_conf_t *sc, const ap_directive_t *gate,
                               apr_pool_t *p)
{
    af_site_t *site = apr_pcalloc(p, sizeof(*site));
    const char *where = s->defn_name ? apr_psprintf(p, " (virtual host at %s:%u)", s->defn_name,
                                                    s->defn_line_number)
                                     : "";
    const char *err;

    sc->site = site;
    site->rt = apr_pcalloc(p, sizeof(*site->rt));
    site->base_url = sc->base_url;
    if (site->base_url == NULL && s->server_hostname != NULL) {
        site->base_url = apr_pstrcat(p, "https://", s->server_hostname, NULL);
    }
    site->endpoint = sc->endpoint ? sc->endpoint : AF_DEFAULT_ENDPOINT;
    site->issuer = sc->issuer ? sc->issuer : site->base_url;
    site->audience = sc->audience ? sc->audience : site->issuer;
    site->clock_skew = sc->clock_skew != AF_UNSET ? sc->clock_skew : AF_DEFAULT_CLOCK_SKEW;
    site->access_ttl = sc->access_ttl != AF_UNSET ? sc->access_ttl : AF_DEFAULT_ACCESS_TTL;
    site->clock_offset = sc->test_clock_set ? sc->test_clock_offset : 0;
    site->token_cache = sc->token_cache != AF_UNSET ? sc->token_cache : 1;
    site->trust = sc->trust;
    site->return_to = sc->return_to;
    site->refresh_ttl = sc->refresh_ttl != AF_UNSET ? sc->refresh_ttl : AF_DEFAULT_REFRESH_TTL;
    site->refresh_idle = sc->refresh_idle != AF_UNSET ? sc->refresh_idle : AF_DEFAULT_REFRESH_IDLE;
    if (site->refresh_idle > site->refresh_ttl) {
        site->refresh_idle = site->refresh_ttl;
    }
    site->reuse_grace = sc->reuse_grace != AF_UNSET ? sc->reuse_grace : AF_DEFAULT_REUSE_GRACE;
    site->token_claims = sc->token_claims ? sc->token_claims : split_claims(AF_DEFAULT_CLAIMS, p);
    if ((err = cookies(site, s, sc, gate != NULL, where, p)) != NULL ||
        (err = providers(site, sc, where, p)) != NULL ||
        (err = store(site, sc, s, gate != NULL, where, p)) != NULL) {
        return err;
    }

    if ((err = keys(site, sc, gate, where, p)) != NULL) {
        return err;
    }
    return templates(site, sc, where, p);
}

const char *af_resolve(server_rec *s, apr_pool_t *p, apr_pool_t *ptemp)
{
    apr_hash_t *gates = apr_hash_make(ptemp), *scrub = apr_hash_make(p);
    server_rec *v;
    const char *err;

    walk(gates, s, ap_conftree, ptemp);
    for (v = s; v != NULL; v = v->next) {
        const ap_directive_t *gate = apr_hash_get(gates, &v, sizeof(v));

        if ((err = resolve_one(v, af_srv_conf(v), gate, p)) != NULL) {
            return err;
        }
        scrub = apr_hash_overlay(p, af_srv_conf(v)->scrub, scrub);
    }
    /* H01/H03: one process-wide scrub set.  A name one virtual host exports is removed from
     * the inbound requests of every virtual host: another vhost may proxy to the same
     * backend, which cannot tell who set the header. */
    for (v = s; v != NULL; v = v->next) {
        af_srv_conf(v)->scrub = scrub;
    }
    return NULL;
}
