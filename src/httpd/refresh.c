/* refresh.c -- one refresh-token rotation for the endpoint and the gate (see refresh.h). */
#include <string.h>

#include <httpd.h>
#include <http_config.h>

#include <apr_strings.h>
#include <http_log.h>
#include <http_connection.h>

#include "common/af_cookie.h"
#include "common/af_error.h"
#include "common/af_json.h"
#include "httpd/af_config.h"
#include "httpd/gate.h"
#include "httpd/login.h"
#include "httpd/refresh.h"
#include "jose/af_jose_errors.h"
#include "jose/af_jws.h"

APLOG_USE_MODULE(authflow);

static int copy_cookie(void *to, const char *key, const char *val)
{
    apr_table_addn(to, key, val);
    return 1;
}

/* af_login_set_cookie (one cookie format for the whole module), into headers_out or
 * err_headers_out. */
static void set_cookie(request_rec *r, const af_srv_conf_t *sc, const char *name, const char *value,
                       apr_int64_t max_age, int to_err)
{
    apr_table_t *saved = r->headers_out;

    if (!to_err) {
        af_login_set_cookie(r, sc, name, value, max_age, 0);
        return;
    }
    r->headers_out = apr_table_make(r->pool, 2);
    af_login_set_cookie(r, sc, name, value, max_age, 0);
    apr_table_do(copy_cookie, r->err_headers_out, r->headers_out, "Set-Cookie", NULL);
    r->headers_out = saved;
    /* a response that carries login cookies is never stored by a shared cache (it is
     * combined with the backend's own Cache-Control: no-store wins) */
    apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
}

void af_refresh_clear_cookies(request_rec *r, const af_srv_conf_t *sc, int to_err)
{
    set_cookie(r, sc, sc->r_cookie_at, NULL, 0, to_err);
    set_cookie(r, sc, sc->r_cookie_rt, NULL, 0, to_err);
}

int af_refresh_store_failed(apr_status_t rv)
{
    return rv == AF_ESTORE_FULL || rv == AF_ESTORE_BUSY || rv == AF_ESTORE_IO ||
           rv == AF_ESTORE_CORRUPT || rv == AF_EINTERNAL;
}

/* G08: an access cookie of ANOTHER login next to this refresh token means a stolen token.
 * The access token is verified as of its own expiry (it is usually expired here); one that
 * does not verify at all is ignored.  @return 1 on a mismatch */
static int foreign_access_token(request_rec *r, const af_srv_conf_t *sc, const char *sid,
                                apr_int64_t now)
{
    const char *v = NULL, *other;
    af_jws_t *jws = NULL;
    json_t *peek = NULL, *claims = NULL, *exp;
    apr_int64_t t = now;

    if (af_cookie_get(&v, apr_table_get(r->headers_in, "Cookie"), sc->r_cookie_at, r->pool) !=
            APR_SUCCESS ||
        *v == '\0' || af_jws_parse(&jws, v, strlen(v), AF_JWS_MAX_LEN, r->pool) != APR_SUCCESS ||
        af_json_parse(&peek, (const char *) jws->payload, jws->payload_len, 0, r->pool) !=
            APR_SUCCESS) {
        return 0;
    }
    exp = json_object_get(peek, "exp");
    if (json_is_integer(exp) && json_integer_value(exp) < now) {
        t = json_integer_value(exp);
    }
    if (af_gate_verify_own(&claims, r, sc, v, strlen(v), t) != APR_SUCCESS) {
        return 0;
    }
    other = json_string_value(json_object_get(claims, "sid"));
    return other != NULL && strcmp(other, sid) != 0;
}

typedef struct delivery_t {
    conn_rec *c;
    af_store_t *st;
    const char *rt; /* the presented (old) refresh token, in r->pool */
    apr_int64_t offset;
} delivery_t;

/* r->pool is destroyed after the response went out (after log_transaction): then the new
 * cookies reached the client, unless the connection broke on the way. */
static apr_status_t delivered(void *baton)
{
    delivery_t *d = baton;
    apr_status_t rv;

    if (d->c->aborted) {
        return APR_SUCCESS; /* never delivered: the old token keeps its successor */
    }
    rv = af_store_delivered(d->st, d->rt, strlen(d->rt), apr_time_sec(apr_time_now()) + d->offset);
    if (rv != APR_SUCCESS) {
        ap_log_cerror(APLOG_MARK, APLOG_DEBUG, 0, d->c,
                      "AF09008: refresh: cannot record the delivery of a rotation: %s",
                      af_strerror(rv));
    }
    return APR_SUCCESS;
}

static void when_delivered(request_rec *r, const af_srv_conf_t *sc, af_store_t *st, const char *rt)
{
    delivery_t *d = apr_palloc(r->pool, sizeof(*d));

    d->c = r->connection;
    d->st = st;
    d->rt = rt;
    d->offset = sc->r_clock_offset;
    apr_pool_cleanup_register(r->pool, d, delivered, apr_pool_cleanup_null);
}

apr_status_t af_refresh_rotate(af_refresh_t **out, request_rec *r, const af_srv_conf_t *sc,
                               int to_err)
{
    const af_login_conf_t *lc = sc->login;
    apr_int64_t now = af_login_now(r, sc);
    af_store_rotation_t *rot = NULL;
    af_store_rotate_in_t in;
    const af_store_family_t *fam;
    const char *rt = NULL, *at = NULL;
    json_t *claims = NULL;
    af_refresh_t *res;
    af_store_t *st;
    apr_status_t rv;

    *out = NULL;
    rv = af_cookie_get(&rt, apr_table_get(r->headers_in, "Cookie"), sc->r_cookie_rt, r->pool);
    if (rv != APR_SUCCESS || *rt == '\0') {
        return AF_ENOTFOUND;
    }
    if (lc == NULL || lc->r_store == NULL) {
        return AF_ENOTFOUND; /* no store on this server: not our refresh token */
    }
    if ((st = af_login_store(r, sc)) == NULL) {
        return AF_ESTORE_IO;
    }
    memset(&in, 0, sizeof(in));
    in.rt = rt;
    in.rt_len = strlen(rt);
    in.now = now;
    in.grace = lc->r_reuse_grace;
    in.idle = lc->r_refresh_idle;
    /* G06: the gate's new cookies ride on the backend's answer, which may take long (long
     * poll, report): until it has reached the browser, the old token keeps getting the same
     * successor (another tab's request is not a reuse) */
    in.pending = to_err;
    rv = af_store_rotate(&rot, st, &in, r->pool);
    if (rv == AF_ESTORE_UNKNOWN || rv == AF_ESTORE_EXPIRED || rv == AF_ESTORE_REUSE) {
        /* the store logged the reuse (AF03010) with the family id; no token material here */
        ap_log_rerror(APLOG_MARK, rv == AF_ESTORE_REUSE ? APLOG_NOTICE : APLOG_INFO, 0, r,
                      "AF09001: refresh refused: %s%s", af_strerror(rv),
                      rv == AF_ESTORE_REUSE ? " (reuse after the grace window: login revoked)"
                                            : "");
        af_refresh_clear_cookies(r, sc, to_err);
        return rv;
    }
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, af_login_store_loglevel(rv), 0, r,
                      "AF09002: refresh: store error, nothing changed: %s", af_strerror(rv));
        return rv;
    }
    fam = rot->family;
    if (foreign_access_token(r, sc, fam->sid, now)) {
        rv = af_store_family_revoke(st, fam->sid, now, r->pool);
        ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r,
                      "AF09007: refresh token of login %s presented with another login's access "
                      "token: login revoked%s",
                      fam->sid, rv == APR_SUCCESS ? "" : " (store error)");
        af_refresh_clear_cookies(r, sc, to_err);
        return af_refresh_store_failed(rv) ? rv : AF_ESTORE_REVOKED;
    }
    res = apr_pcalloc(r->pool, sizeof(*res));
    res->sid = fam->sid;
    res->rt_expires = fam->expires;
    res->replayed = rot->replayed;
    if (fam->claims_json != NULL && *fam->claims_json != '\0' &&
        af_json_parse(&claims, fam->claims_json, strlen(fam->claims_json), AF_STORE_CLAIMS_MAX,
                      r->pool) != APR_SUCCESS) {
        claims = NULL;
    }
    /* the same mint path as the login (claim trimming included, F04) */
    rv = af_login_mint(&at, r, sc, fam->sub, fam->sid, fam->provider, claims, now);
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "AF09003: refresh: cannot mint the access token of login %s: %s", fam->sid,
                      af_strerror(rv));
    } else {
        set_cookie(r, sc, sc->r_cookie_at, at, sc->r_access_ttl, to_err);
    }
    /* the successor is committed: the browser gets it whatever happened to the mint */
    set_cookie(r, sc, sc->r_cookie_rt, rot->refresh_token, fam->expires - now, to_err);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    res->access_token = at;
    res->at_expires = now + sc->r_access_ttl;
    if (to_err) {
        when_delivered(r, sc, st, rt);
    }
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "AF09004: refresh: login %s generation %u%s",
                  fam->sid, (unsigned) rot->generation, rot->replayed ? " (grace)" : "");
    *out = res;
    return APR_SUCCESS;
}

int af_refresh_same_origin(request_rec *r, const af_srv_conf_t *sc)
{
    const char *origin = apr_table_get(r->headers_in, "Origin");
    const char *site = apr_table_get(r->headers_in, "Sec-Fetch-Site");
    const char *base = sc->r_base_url, *host;
    apr_size_t n;

    if (site != NULL && strcmp(site, "same-origin") != 0) {
        return 0;
    }
    if (origin == NULL || strcmp(origin, "null") == 0) {
        /* a page with Referrer-Policy no-referrer makes browsers send "Origin: null" */
        return site != NULL;
    }
    if (base == NULL || (host = strstr(base, "://")) == NULL) {
        return 0;
    }
    host += 3;
    n = (apr_size_t) (host - base) + strcspn(host, "/?#"); /* the origin of the base URL */
    return strlen(origin) == n && strncasecmp(origin, base, n) == 0;
}

apr_status_t af_refresh_gate(json_t **claims, const char **token, request_rec *r,
                             const af_srv_conf_t *sc, const af_dir_conf_t *dc, const char *reason,
                             int src)
{
    af_refresh_t *res = NULL;
    apr_status_t rv;

    /* never in a subrequest: its Set-Cookie would never reach the browser */
    if (r->main != NULL || dc->refresh == 0 || src == AF_FROM_BEARER || reason == NULL ||
        (strcmp(reason, "no_token") != 0 && strcmp(reason, af_strerror(AF_EJWT_EXP)) != 0)) {
        return AF_ENOTFOUND;
    }
    if ((rv = af_refresh_rotate(&res, r, sc, 1)) != APR_SUCCESS) {
        return rv;
    }
    rv = af_gate_verify_own(claims, r, sc, res->access_token, strlen(res->access_token),
                            af_login_now(r, sc));
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "AF09005: refresh: the new access token does not verify: %s",
                      af_strerror(rv));
        return rv;
    }
    *token = res->access_token;
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "AF09006: gate: login %s refreshed inline",
                  res->sid);
    return APR_SUCCESS;
}

const char *af_refresh_cmd(cmd_parms *cmd, void *d, const char *arg)
{
    af_dir_conf_t *dc = d;

    if (strcasecmp(arg, "auto") == 0 || strcasecmp(arg, "on") == 0) {
        dc->refresh = 1;
    } else if (strcasecmp(arg, "off") == 0) {
        dc->refresh = 0;
    } else {
        return apr_psprintf(cmd->pool, "%s: '%s' is not auto or off", cmd->cmd->name, arg);
    }
    return NULL;
}
