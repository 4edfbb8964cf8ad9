/* login_store.c -- the store's lifecycle, the sealed flow cookie, and Set-Cookie.
 *
 * Store: post_config (parent, before fork) creates the LMDB environment owned by the child
 * user (af_store_prepare) and sizes maxreaders to the MPM; child_init opens it in each
 * child (af_store_open: MDB_NOTLS, mdb_reader_check).  A child that cannot open it answers
 * 503 on every request that needs it (fail closed) and logs why (at most once a minute).
 * Store failures are logged by the store itself, once per minute and kind (AF03001); the
 * request lines about them are DEBUG (af_login_store_loglevel).  The sweep: login_sweep.c.
 *
 * Flow cookie: one cookie (<prefix>-flow) holds the pending logins of this browser, at most
 * AF_LOGIN_FLOW_MAX of them (a new login drops the oldest), as one AES-256-GCM blob sealed
 * with a key bound to the cookie name (HKDF of the server secret), valid for
 * AF_LOGIN_FLOW_MAX_AGE seconds; each flow also carries its own creation time.  Several tabs
 * may therefore log in at once; single use across children is enforced at the callback by
 * af_store_flow_consume.
 */
#include <string.h>

#include <httpd.h>
#include <http_config.h>

#include <apr_strings.h>
#include <ap_mpm.h>
#include <http_log.h>
#include <unixd.h>

#include <linux/magic.h>
#include <sys/vfs.h>

#include "common/af_cookie.h"
#include "common/af_error.h"
#include "common/af_json.h"
#include "httpd/af_config.h"
#include "httpd/login.h"

APLOG_USE_MODULE(authflow);

apr_int64_t af_login_now(const request_rec *r, const af_srv_conf_t *sc)
{
    return apr_time_sec(r->request_time) + sc->r_clock_offset;
}

/* ---- lifecycle ----------------------------------------------------------------------- */

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
    if (n < 126) {
        n = 126;
    }
    return n > 65536 ? 65536 : (unsigned int) n;
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

int af_login_post_config(apr_pool_t *pconf, server_rec *s)
{
    af_store_opts_t opts;
    server_rec *v;
    long uid = -1, gid = -1;
    unsigned int readers = max_readers();
    apr_status_t rv;
    char buf[128];
    int st;

    if ((st = af_login_guard_post_config(pconf, s)) != OK) {
        return st;
    }
    if (geteuid() == 0) {
        uid = (long) ap_unixd_config.user_id;
        gid = (long) ap_unixd_config.group_id;
    }
    for (v = s; v != NULL; v = v->next) {
        af_srv_conf_t *sc = af_srv_conf(v);
        af_login_store_t *slot = sc->login ? sc->login->r_store : NULL;

        if (slot == NULL || slot->prepared) {
            continue;
        }
        slot->maxreaders = readers;
        memset(&opts, 0, sizeof(opts));
        opts.mapsize = slot->mapsize;
        rv = af_store_prepare(slot->dir, uid, gid, &opts, pconf);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, 0, v,
                         "AF08002: AuthFlowStore %s cannot be prepared: %s", slot->dir,
                         AF_IS_AF_ERROR(rv) ? af_strerror(rv) : apr_strerror(rv, buf, sizeof(buf)));
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        slot->prepared = 1;
        warn_if_volatile(v, slot->dir);
    }
    return OK;
}

void af_login_child_init(apr_pool_t *pchild, server_rec *s)
{
    af_store_opts_t opts;
    server_rec *v;
    af_store_t *st = NULL;
    char buf[128];
    int i;

    for (v = s; v != NULL; v = v->next) {
        af_srv_conf_t *sc = af_srv_conf(v);
        af_login_conf_t *lc = sc->login;
        af_login_store_t *slot = lc ? lc->r_store : NULL;

        if (lc == NULL) {
            continue;
        }
        for (i = 0; lc->r_providers != NULL && i < lc->r_providers->nelts; i++) {
            af_oidc_provider_t *pv = APR_ARRAY_IDX(lc->r_providers, i, af_oidc_provider_t *);

            if (pv->rt == NULL && af_oidc_runtime_init(pv, pchild) != APR_SUCCESS) {
                ap_log_error(APLOG_MARK, APLOG_ERR, 0, v,
                             "AF08003: provider %s: cannot initialise its caches", pv->name);
            }
        }
        if (slot == NULL || slot->st != NULL || slot->open_rv != APR_SUCCESS) {
            continue;
        }
        memset(&opts, 0, sizeof(opts));
        opts.mapsize = slot->mapsize;
        opts.maxreaders = slot->maxreaders;
        slot->open_rv = af_store_open(&st, slot->dir, &opts, pchild);
        if (slot->open_rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_ERR, 0, v,
                         "AF08004: AuthFlowStore %s cannot be opened in this process: %s; "
                         "logins answer 503",
                         slot->dir,
                         AF_IS_AF_ERROR(slot->open_rv)
                             ? af_strerror(slot->open_rv)
                             : apr_strerror(slot->open_rv, buf, sizeof(buf)));
            continue;
        }
        af_login_sweep_child_init(slot, pchild); /* before the store's close cleanup runs */
        __atomic_store_n(&slot->st, st, __ATOMIC_RELEASE); /* the sweep thread reads it */
        if (af_store_stale_readers(slot->st) > 0) {
            ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, v,
                         "AF08005: AuthFlowStore %s: %d stale reader slot(s) reclaimed", slot->dir,
                         af_store_stale_readers(slot->st));
        }
    }
}

af_store_t *af_login_store(request_rec *r, const af_srv_conf_t *sc)
{
    af_login_store_t *slot = sc->login ? sc->login->r_store : NULL;
    apr_uint64_t more = 0;

    if (slot == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "AF08006: store unavailable (no AuthFlowStore for this server)");
        return NULL;
    }
    if (slot->st == NULL) { /* AF08004 said why at child start: once a minute from here on */
        if (af_log_throttle(&slot->unavailable, apr_time_now(),
                            apr_time_from_sec(AF_STORE_LOG_INTERVAL), &more)) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                          "AF08006: store unavailable (not open in this process)%s",
                          more == 0 ? ""
                                    : apr_psprintf(r->pool,
                                                   "; %" APR_UINT64_T_FMT " more such "
                                                   "request(s) in the last %ds not logged",
                                                   more, AF_STORE_LOG_INTERVAL));
        }
        return NULL;
    }
    return slot->st;
}

int af_login_store_loglevel(apr_status_t rv)
{
    return rv == AF_ESTORE_FULL || rv == AF_ESTORE_BUSY || rv == AF_ESTORE_IO ? APLOG_DEBUG
                                                                              : APLOG_ERR;
}

/* ---- cookies ------------------------------------------------------------------------- */

void af_login_set_cookie(request_rec *r, const af_srv_conf_t *sc, const char *name,
                         const char *value, apr_int64_t max_age, int lax_always)
{
    const char *ss = lax_always || sc->login == NULL ? "Lax" : sc->login->r_samesite;

    if (value == NULL) {
        value = "";
        max_age = 0;
    }
    apr_table_addn(
        r->headers_out, "Set-Cookie",
        apr_psprintf(r->pool,
                     "%s=%s; Path=/; Max-Age=%" APR_INT64_T_FMT "; HttpOnly%s; SameSite=%s", name,
                     value, max_age < 0 ? 0 : max_age, sc->r_cookie_secure ? "; Secure" : "", ss));
}

apr_array_header_t *af_login_flows_read(request_rec *r, const af_srv_conf_t *sc, apr_int64_t now)
{
    apr_array_header_t *out =
        apr_array_make(r->pool, AF_LOGIN_FLOW_MAX + 1, sizeof(af_oidc_flow_t *));
    const af_login_conf_t *lc = sc->login;
    const char *blob = NULL;
    unsigned char *data = NULL;
    apr_size_t len = 0, i;
    json_t *doc = NULL, *arr;
    af_oidc_flow_t *flow;

    if (lc == NULL || lc->r_seal == NULL ||
        af_cookie_get(&blob, apr_table_get(r->headers_in, "Cookie"), sc->r_cookie_flow, r->pool) !=
            APR_SUCCESS ||
        *blob == '\0' || strlen(blob) > AF_COOKIE_MAX) {
        return out;
    }
    if (af_token_unseal(&data, &len, lc->r_seal, blob, strlen(blob), now, r->pool) != APR_SUCCESS ||
        af_json_parse(&doc, (const char *) data, len, AF_COOKIE_MAX, r->pool) != APR_SUCCESS) {
        return out;
    }
    arr = json_object_get(doc, "flows");
    for (i = 0; json_is_array(arr) && i < json_array_size(arr) && i < AF_LOGIN_FLOW_MAX; i++) {
        const char *txt = af_json_dump(json_array_get(arr, i), r->pool);

        if (txt != NULL &&
            af_oidc_flow_from_json(&flow, txt, strlen(txt), r->pool) == APR_SUCCESS &&
            flow->created <= now + 60 && now - flow->created <= AF_LOGIN_FLOW_MAX_AGE) {
            APR_ARRAY_PUSH(out, af_oidc_flow_t *) = flow;
        }
    }
    return out;
}

apr_status_t af_login_flows_write(request_rec *r, const af_srv_conf_t *sc,
                                  apr_array_header_t *flows, apr_int64_t now)
{
    const af_login_conf_t *lc = sc->login;
    apr_size_t room = AF_COOKIE_MAX - strlen(sc->r_cookie_flow) - 1;
    int first = flows->nelts > AF_LOGIN_FLOW_MAX ? flows->nelts - AF_LOGIN_FLOW_MAX : 0, i;
    const char *blob = NULL, *txt;
    json_t *doc, *arr;
    apr_status_t rv;

    if (lc == NULL || lc->r_seal == NULL) {
        return AF_EINTERNAL;
    }
    for (; first < flows->nelts; first++) {
        doc = af_json_pool_own(json_object(), r->pool);
        arr = json_array();
        json_object_set_new(doc, "flows", arr);
        for (i = first; i < flows->nelts; i++) {
            json_t *f = NULL;

            txt = af_oidc_flow_to_json(APR_ARRAY_IDX(flows, i, af_oidc_flow_t *), r->pool);
            if (txt == NULL || af_json_parse(&f, txt, strlen(txt), 0, r->pool) != APR_SUCCESS) {
                return AF_EINTERNAL;
            }
            json_array_append(arr, f);
        }
        txt = af_json_dump(doc, r->pool);
        if (txt == NULL) {
            return AF_EINTERNAL;
        }
        rv =
            af_token_seal(&blob, lc->r_seal, txt, strlen(txt), now, AF_LOGIN_FLOW_MAX_AGE, r->pool);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        if (strlen(blob) <= room) {
            af_login_set_cookie(r, sc, sc->r_cookie_flow, blob, AF_LOGIN_FLOW_MAX_AGE, 1);
            return APR_SUCCESS;
        }
    }
    af_login_set_cookie(r, sc, sc->r_cookie_flow, NULL, 0, 1);
    return APR_SUCCESS;
}

const char *af_login_check_revoked(request_rec *r, const af_srv_conf_t *sc, const json_t *claims)
{
    const char *sid = json_string_value(json_object_get(claims, "sid"));
    af_store_t *st;
    apr_status_t rv;

    if (sid == NULL || sc->login == NULL || sc->login->r_store == NULL) {
        return NULL;
    }
    if ((st = af_login_store(r, sc)) == NULL) {
        return "store_unavailable";
    }
    rv = af_store_family_is_revoked(st, sid);
    if (rv == APR_SUCCESS) {
        return NULL;
    }
    if (rv == AF_ESTORE_REVOKED || rv == AF_ESTORE_UNKNOWN) {
        return "login_revoked";
    }
    ap_log_rerror(APLOG_MARK, af_login_store_loglevel(rv), 0, r,
                  "AF08007: revocation check failed: %s", af_strerror(rv));
    return "store_unavailable";
}

apr_status_t af_login_mint(const char **at, request_rec *r, const af_srv_conf_t *sc,
                           const char *sub, const char *sid, const char *idp, const json_t *claims,
                           apr_int64_t now)
{
    af_token_access_t in;
    apr_status_t rv;
    int dropped = 0;

    memset(&in, 0, sizeof(in));
    in.key = sc->signing_key;
    in.iss = sc->r_issuer;
    in.aud = sc->r_audience;
    in.sub = sub;
    in.sid = sid;
    in.idp = idp;
    in.idp_sub = json_string_value(json_object_get(claims, "sub"));
    in.ttl = sc->r_access_ttl;
    in.now = now;
    in.claims = claims;
    in.claim_names = sc->login ? sc->login->r_token_claims : NULL;
    in.cookie_name_len = strlen(sc->r_cookie_at);
    rv = af_token_mint_access_fit(at, &dropped, &in, r->pool);
    if (rv == APR_SUCCESS && dropped > 0) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      "AF08025: access token of login %s too large for a cookie: the last %d "
                      "of AuthFlowTokenClaims left out",
                      sid, dropped);
    }
    return rv;
}
