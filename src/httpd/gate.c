/* gate.c -- AuthType AuthFlow: find the token, verify it (cache first), set r->user,
 * export the claims; and the hooks around it (scrub, cookie strip, startup checks).
 *
 * Hot path: everything per request lives in r->pool or in the request config; the only
 * shared state is the per-child verified-token cache (tcache.c) and remote JWKS caches.
 */
#include <string.h>

#include <httpd.h>
#include <http_config.h>

#include <apr_strings.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>

#include "common/af_cookie.h"
#include "common/af_error.h"
#include "common/af_json.h"
#include "common/af_log.h"
#include "http/af_http.h"
#include "http/af_jwks_cache.h"
#include "httpd/af_config.h"
#include "httpd/af_httpd.h"
#include "httpd/export.h"
#include "httpd/gate.h"
#include "httpd/login.h"
#include "httpd/refresh.h"
#include "session/af_tcache.h"
#include "jose/af_jose_errors.h"
#include "jose/af_jwt.h"

APLOG_USE_MODULE(authflow);

#define AF_REQUEST_KEY "authflow-request"

/* Per-request state, in r->request_config. */
typedef struct af_req_t {
    json_t *claims;     /* verified claims, or NULL */
    const char *issuer; /* their iss */
    const char *user;   /* r->user to be */
    const char *reason; /* why not authenticated, or NULL */
    const char *token;  /* the token found (for reruns on internal redirects) */
    apr_size_t token_len;
    int src;
    int done;      /* authenticate() ran */
    int cached;    /* a token-cache hit */
    int forwarded; /* our token was put in Authorization (AuthFlowForwardToken) */
} af_req_t;

static af_req_t *req_ctx(const request_rec *r)
{
    return ap_get_module_config(r->request_config, &authflow_module);
}

/* A context of the request this one derives from (internal redirect or subrequest). */
static af_req_t *inherited_ctx(const request_rec *r)
{
    const request_rec *o;
    af_req_t *c;

    for (o = r->prev ? r->prev : r->main; o != NULL; o = o->prev ? o->prev : o->main) {
        if ((c = req_ctx(o)) != NULL) {
            return c;
        }
    }
    return NULL;
}

json_t *af_request_claims(request_rec *r)
{
    af_req_t *c = req_ctx(r);

    if (c == NULL && r->user != NULL) {
        c = inherited_ctx(r);
    }
    return c != NULL ? c->claims : NULL;
}

static int is_authflow(request_rec *r)
{
    const char *t = ap_auth_type(r);

    return t != NULL && strcasecmp(t, "AuthFlow") == 0;
}

/* ---- finding the token --------------------------------------------------------------- */

static const char *find_token(af_req_t *ctx, request_rec *r, const af_srv_conf_t *sc,
                              const af_dir_conf_t *dc)
{
    static const int dflt[2] = {AF_FROM_COOKIE, AF_FROM_BEARER};
    const int *order = dc->n_from ? dc->from : dflt;
    int n = dc->n_from ? dc->n_from : 2, i;
    const char *hdr, *v = NULL;
    apr_status_t rv;

    for (i = 0; i < n; i++) {
        if (order[i] == AF_FROM_COOKIE) {
            hdr = apr_table_get(r->headers_in, "Cookie");
            rv = af_cookie_get(&v, hdr, sc->r_cookie_at, r->pool);
            if (rv == AF_ENOTFOUND || (rv == APR_SUCCESS && *v == '\0')) {
                continue;
            }
            if (rv != APR_SUCCESS) {
                return "cookie_invalid";
            }
        } else {
            hdr = apr_table_get(r->headers_in, "Authorization");
            if (hdr == NULL || strncasecmp(hdr, "Bearer", 6) != 0 ||
                (hdr[6] != ' ' && hdr[6] != '\t')) {
                continue;
            }
            for (v = hdr + 6; *v == ' ' || *v == '\t'; v++) {
            }
            if (*v == '\0' || strpbrk(v, " \t,") != NULL) {
                ctx->src = AF_FROM_BEARER;
                return "bearer_malformed";
            }
        }
        ctx->src = order[i];
        ctx->token = v;
        ctx->token_len = strlen(v);
        return NULL;
    }
    return "no_token";
}

/* ---- verification -------------------------------------------------------------------- */

static const af_trust_t *trust_for(const af_srv_conf_t *sc, const char *iss)
{
    int i;

    for (i = 0; sc->trust != NULL && i < sc->trust->nelts; i++) {
        const af_trust_t *t = APR_ARRAY_IDX(sc->trust, i, const af_trust_t *);

        if (strcmp(t->issuer, iss) == 0) {
            return t;
        }
    }
    return NULL;
}

static apr_status_t verify(json_t **claims, const af_trust_t **trust, request_rec *r,
                           const af_srv_conf_t *sc, const char *tok, apr_size_t len,
                           apr_int64_t now)
{
    af_jws_t *jws = NULL;
    af_jwt_policy_t pol;
    const af_keyset_t *ks = sc->r_own_keys;
    const af_key_t *used = NULL;
    const af_trust_t *t = NULL;
    json_t *peek = NULL;
    const char *iss = NULL;
    apr_status_t rv;

    memset(&pol, 0, sizeof(pol));
    pol.now = now;
    pol.leeway = sc->r_clock_skew;
    if ((rv = af_jws_parse(&jws, tok, len, AF_JWS_MAX_LEN, r->pool)) != APR_SUCCESS) {
        return rv;
    }
    if (sc->trust != NULL && sc->trust->nelts > 0) {
        /* which issuer's keys? read the (unverified) iss only to choose them */
        rv = af_json_parse(&peek, (const char *) jws->payload, jws->payload_len, 0, r->pool);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        iss = json_string_value(json_object_get(peek, "iss"));
        if (iss == NULL) {
            return AF_EJWT_ISS;
        }
        if (sc->r_issuer == NULL || strcmp(iss, sc->r_issuer) != 0) {
            if ((t = trust_for(sc, iss)) == NULL) {
                return AF_EJWT_ISS;
            }
            ks = t->keys;
            if (t->cache != NULL &&
                (rv = af_jwks_cache_keys(&ks, t->cache, jws->kid, r->pool)) != APR_SUCCESS) {
                return rv;
            }
        }
    }
    if (t == NULL) {
        /* our own access token (RFC 9068 profile) */
        pol.max_lifetime = sc->r_access_ttl + sc->r_clock_skew;
        pol.iss = sc->r_issuer;
        pol.aud = sc->r_audience;
        pol.typ = "at+jwt";
        pol.require_iat = 1;
        pol.require_jti = 1;
        pol.require_sub = 1;
    } else {
        pol.iss = t->issuer;
        pol.aud = t->aud ? t->aud : sc->r_audience;
        pol.require_sub = 1;
    }
    if (ks == NULL || ks->keys->nelts == 0) {
        return AF_EJWS_NOKEY;
    }
    if ((rv = af_jws_verify_keyset(&used, jws, ks)) != APR_SUCCESS) {
        return rv;
    }
    if ((rv = af_jwt_check(claims, jws, &pol, r->pool)) != APR_SUCCESS) {
        return rv;
    }
    *trust = t;
    return APR_SUCCESS;
}

apr_status_t af_gate_verify_own(json_t **claims, request_rec *r, const af_srv_conf_t *sc,
                                const char *tok, apr_size_t len, apr_int64_t now)
{
    const af_trust_t *t = NULL;
    apr_status_t rv;

    if (len > AF_JWS_MAX_LEN) {
        return AF_ETOOBIG;
    }
    rv = verify(claims, &t, r, sc, tok, len, now);
    return rv == APR_SUCCESS && t != NULL ? AF_EJWT_ISS : rv;
}

/* r->user from the configured claim: a string, 1..255 bytes, no control characters. */
static const char *user_of(const json_t *claims, const char *path, const af_trust_t *t,
                           apr_pool_t *p)
{
    const json_t *j = af_json_path(claims, path);
    const char *v;
    apr_size_t n, i;

    if (!json_is_string(j)) {
        return NULL;
    }
    v = json_string_value(j);
    n = json_string_length(j);
    if (n == 0 || n > 255 || strlen(v) != n) {
        return NULL;
    }
    for (i = 0; i < n; i++) {
        if ((unsigned char) v[i] < 0x20 || v[i] == 0x7f) {
            return NULL;
        }
    }
    /* another issuer's users never collide with ours: qualify them */
    return t != NULL ? apr_pstrcat(p, v, "@", t->issuer, NULL) : v;
}

/* Find and verify the token; fills ctx (claims, issuer, user).  Returns NULL or a reason. */
static const char *authenticate(af_req_t *ctx, request_rec *r, const af_srv_conf_t *sc,
                                const af_dir_conf_t *dc)
{
    const af_trust_t *trust = NULL;
    json_t *claims = NULL;
    const char *reason = NULL, *user = NULL;
    unsigned char key[AF_TCACHE_KEYLEN];
    apr_int64_t now;
    apr_status_t rv;
    int use_cache = sc->r_token_cache && sc->tcache != NULL;
    af_req_t *inh = inherited_ctx(r);

    ctx->done = 1;
    if (inh != NULL && inh->token != NULL) {
        ctx->token = inh->token, ctx->token_len = inh->token_len, ctx->src = inh->src;
    } else {
        reason = find_token(ctx, r, sc, dc);
    }
    if (reason == NULL && ctx->token_len > AF_JWS_MAX_LEN) {
        reason = "token_too_large"; /* before any decoding (A21) */
    }
    if (reason == NULL) {
        now = apr_time_sec(r->request_time) + sc->r_clock_offset;
        if (use_cache) {
            af_tcache_key(key, sc->tcache, ctx->token, ctx->token_len);
            ctx->cached =
                af_tcache_get(&claims, sc->tcache, key, sc, now, sc->r_clock_skew, r->pool);
            if (ctx->cached && sc->trust != NULL) {
                /* which issuer verified it (its iss was checked before it was cached) */
                const char *iss = json_string_value(json_object_get(claims, "iss"));

                if (iss != NULL && (sc->r_issuer == NULL || strcmp(iss, sc->r_issuer) != 0)) {
                    trust = trust_for(sc, iss);
                }
            }
        }
        if (!ctx->cached) {
            rv = verify(&claims, &trust, r, sc, ctx->token, ctx->token_len, now);
            if (rv != APR_SUCCESS) {
                reason = af_strerror(rv);
            } else if (use_cache) {
                json_t *nbf = json_object_get(claims, "nbf");

                af_tcache_put(sc->tcache, key, sc, claims,
                              json_number_value(json_object_get(claims, "exp")),
                              json_is_number(nbf) ? json_number_value(nbf) : 0);
            }
        }
    }
    if (reason != NULL) {
        /* expired or missing access token + a refresh cookie: rotate inline (refresh.c) */
        rv = af_refresh_gate(&claims, &ctx->token, r, sc, dc, reason, ctx->src);
        if (rv == APR_SUCCESS) {
            reason = NULL, trust = NULL;
            ctx->token_len = strlen(ctx->token), ctx->src = AF_FROM_COOKIE;
        } else if (af_refresh_store_failed(rv)) {
            reason = "refresh_unavailable"; /* 503: fail closed, nothing changed */
        }
    }
    if (reason == NULL && trust == NULL && af_dir_check_revocation(dc)) {
        reason = af_login_check_revoked(r, sc, claims); /* our logins: revoked in the store? */
    }
    if (reason == NULL && (user = user_of(claims, af_dir_user_claim(dc), trust, r->pool)) == NULL) {
        reason = "user_claim_invalid";
    }
    /* F09: the client's Authorization header (a Bearer we read or not, Basic, ...) never
     * reaches the backend from an AuthFlow location; check_user_id puts our own token
     * back when AuthFlowForwardToken is on */
    apr_table_unset(r->headers_in, "Authorization");
    if (reason != NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "AF02001: gate: not authenticated: %s (%s)",
                      reason,
                      ctx->src == AF_FROM_BEARER   ? "bearer"
                      : ctx->src == AF_FROM_COOKIE ? "cookie"
                                                   : "no token");
        return reason;
    }
    ctx->claims = claims;
    ctx->issuer = trust != NULL ? trust->issuer : sc->r_issuer;
    ctx->user = user;
    return NULL;
}

static int check_user_id(request_rec *r)
{
    af_srv_conf_t *sc;
    af_dir_conf_t *dc;
    af_req_t *ctx;

    if (!is_authflow(r)) {
        return DECLINED;
    }
    sc = af_srv_conf(r->server);
    dc = af_dir_conf(r);
    ctx = req_ctx(r);
    if (ctx == NULL) {
        ctx = apr_pcalloc(r->pool, sizeof(*ctx));
        ap_set_module_config(r->request_config, &authflow_module, ctx);
    }
    if (!ctx->done) {
        ctx->reason = authenticate(ctx, r, sc, dc);
    }
    if (ctx->reason != NULL && (strcmp(ctx->reason, "refresh_unavailable") == 0 ||
                                strcmp(ctx->reason, "store_unavailable") == 0)) {
        /* G10: the store failed (transparent refresh, revocation check): 503, never a
         * redirect to the IdP that would only come back here */
        return af_gate_unavailable(r, sc, ctx->reason);
    }
    if (ctx->reason != NULL) {
        /* `pass` gets here only when a Require line wants a user: that is a 401 too */
        return af_gate_fail(r, sc, dc, ctx->reason);
    }
    r->user = (char *) ctx->user;
    r->ap_auth_type = (char *) ap_auth_type(r);
    af_export_claims(r, dc, ctx->claims, ctx->issuer);
    if (af_dir_forward_token(dc)) {
        apr_table_setn(r->headers_in, "Authorization",
                       apr_pstrcat(r->pool, "Bearer ", ctx->token, NULL));
        ctx->forwarded = 1;
    }
    if (af_log_wanted(AF_LOG_DEBUG)) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "AF02002: gate: authenticated %s%s", ctx->user,
                      ctx->cached ? " (cached)" : "");
    }
    return OK;
}

/* ---- the hooks around it ------------------------------------------------------------- */

static int post_read_request(request_rec *r)
{
    apr_pool_userdata_setn(r, AF_REQUEST_KEY, NULL, r->pool); /* for log_sink */
    af_export_scrub(r, af_srv_conf(r->server));
    return DECLINED;
}

static int force_authn(request_rec *r)
{
    af_req_t *ctx;

    /* `pass` with Require all granted: httpd would skip authentication.  Verify here;
     * a valid token runs check_user_id (user + export), anything else stays anonymous
     * (httpd refuses a check_user_id that returns OK without a user). */
    if (!is_authflow(r) || af_dir_unauth(af_dir_conf(r)) != AF_UNAUTH_PASS) {
        return DECLINED;
    }
    ctx = apr_pcalloc(r->pool, sizeof(*ctx));
    ap_set_module_config(r->request_config, &authflow_module, ctx);
    ctx->reason = authenticate(ctx, r, af_srv_conf(r->server), af_dir_conf(r));
    return ctx->reason == NULL ? OK : DECLINED;
}

static int note_auth_failure(request_rec *r, const char *type)
{
    if (strcasecmp(type, "AuthFlow") != 0) {
        return DECLINED;
    }
    apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
    apr_table_setn(r->err_headers_out, "WWW-Authenticate", "Bearer");
    return OK;
}

/* Did check_user_id put our own verified token in Authorization (AuthFlowForwardToken)? */
static int forwarding_ours(request_rec *r)
{
    af_req_t *ctx = req_ctx(r);

    if (ctx == NULL) {
        ctx = inherited_ctx(r);
    }
    return r->user != NULL && ctx != NULL && ctx->claims != NULL && ctx->forwarded;
}

static int fixups(request_rec *r)
{
    af_srv_conf_t *sc = af_srv_conf(r->server);
    af_req_t *inh;

    if (r->handler != NULL && strcmp(r->handler, "authflow") == 0) {
        return DECLINED; /* the login/refresh/logout handler reads our cookies */
    }
    af_export_strip_cookies(r, sc);
    if (is_authflow(r) && !forwarding_ours(r)) {
        /* F09: also where authentication did not run (Require all granted, pass) */
        apr_table_unset(r->headers_in, "Authorization");
    }
    /* auth skipped because the config did not change (internal redirect, subrequest):
     * the env was renamed REDIRECT_*, so export again for this request */
    if (r->user != NULL && req_ctx(r) == NULL && is_authflow(r) && (inh = inherited_ctx(r)) &&
        inh->claims != NULL) {
        af_export_claims(r, af_dir_conf(r), inh->claims, inh->issuer);
    }
    return DECLINED;
}

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

/* The core's log lines: about a request, in its virtual host's ErrorLog with the client
 * address (like httpd's own request lines); else the main server's log. */
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

static int check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    apr_hash_t *users = af_config_gate_users(s, ptemp);
    const char *err = af_config_resolve(s, users, pconf, ptemp);

    if (err != NULL) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, NULL, "AF07002: %s", err);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

static int post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    int level = ap_get_server_module_loglevel(s, APLOG_MODULE_INDEX);
    server_rec *v;

    for (v = s->next; v != NULL; v = v->next) {
        int l = ap_get_server_module_loglevel(v, APLOG_MODULE_INDEX);

        level = l > level ? l : level;
    }
    af_log_set(log_sink, s, level > AF_LOG_DEBUG ? AF_LOG_DEBUG : level);
    if (af_http_global_init() != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, "AF07003: libcurl initialisation failed");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

static void child_init(apr_pool_t *pchild, server_rec *s)
{
    af_tcache_t *cache = NULL;
    server_rec *v;

    for (v = s; v != NULL; v = v->next) {
        af_srv_conf_t *sc = af_srv_conf(v);

        if (!sc->r_token_cache) {
            continue;
        }
        if (cache == NULL && af_tcache_create(&cache, pchild) != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_ERR, 0, s,
                         "AF07004: token cache unavailable, verifying every token");
            return;
        }
        sc->tcache = cache;
    }
}

void af_gate_register_hooks(apr_pool_t *p)
{
    ap_hook_check_config(check_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_read_request(post_read_request, NULL, NULL, APR_HOOK_REALLY_FIRST);
    ap_hook_check_authn(check_user_id, NULL, NULL, APR_HOOK_MIDDLE, AP_AUTH_INTERNAL_PER_CONF);
    ap_hook_force_authn(force_authn, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_note_auth_failure(note_auth_failure, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_fixups(fixups, NULL, NULL, APR_HOOK_FIRST);
}
