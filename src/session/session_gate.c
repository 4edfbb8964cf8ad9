/* session_gate.c -- the gate's decision (AuthType AuthFlow), see af_session.h. */
#include <string.h>

#include <apr_strings.h>

#include "common/af_cookie.h"
#include "common/af_json.h"
#include "common/af_log.h"
#include "jose/af_jose_errors.h"
#include "jose/af_jws.h"
#include "session/af_session.h"
#include "session/af_tcache.h"

/* Find the token: the first configured source present.  *src is set when one is found (also
 * for a malformed Bearer header). */
static apr_status_t find_token(const char **tok, int *src, const af_site_t *site,
                               const af_gate_opts_t *opts, const af_req_in_t *in, apr_pool_t *p)
{
    static const int dflt[2] = {AF_FROM_COOKIE, AF_FROM_BEARER};
    const int *order = opts->n_from ? opts->from : dflt;
    int n = opts->n_from ? opts->n_from : 2, i;
    const char *v = NULL, *hdr;
    apr_status_t rv;

    for (i = 0; i < n; i++) {
        if (order[i] == AF_FROM_COOKIE) {
            rv = af_cookie_get(&v, in->cookie, site->cookie_at, p);
            if (rv == AF_ENOTFOUND || (rv == APR_SUCCESS && *v == '\0')) {
                continue;
            }
            if (rv != APR_SUCCESS) {
                return AF_ECOOKIE;
            }
        } else {
            hdr = in->authorization;
            if (hdr == NULL || strncasecmp(hdr, "Bearer", 6) != 0 ||
                (hdr[6] != ' ' && hdr[6] != '\t')) {
                continue;
            }
            for (v = hdr + 6; *v == ' ' || *v == '\t'; v++) {
            }
            if (*v == '\0' || strpbrk(v, " \t,") != NULL) {
                *src = AF_FROM_BEARER;
                return AF_ESESS_BEARER;
            }
        }
        *src = order[i];
        *tok = v;
        return APR_SUCCESS;
    }
    return AF_ESESS_NO_TOKEN;
}

/* REMOTE_USER from the configured claim: a string, 1..255 bytes, no control characters;
 * a trusted issuer's users are qualified by the issuer (never collide with ours). */
static const char *user_of(const json_t *claims, const af_policy_path_t *path,
                           const af_site_trust_t *t, apr_pool_t *p)
{
    const json_t *j =
        path != NULL ? af_policy_path_get(path, claims) : json_object_get(claims, "sub");
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
    return t != NULL ? apr_pstrcat(p, v, "@", t->issuer, NULL) : v;
}

/* Our logins: known and not revoked in the store.  Tokens without sid, and sites without
 * a store, are not checked.  A store failure denies (fail closed, 503). */
static apr_status_t check_revoked(const af_site_t *site, const json_t *claims, apr_int64_t now,
                                  apr_pool_t *p)
{
    const char *sid = json_string_value(json_object_get(claims, "sid"));
    af_store_t *st;
    apr_status_t rv;

    if (sid == NULL || !site->has_store) {
        return APR_SUCCESS;
    }
    if ((st = af_site_store(site)) == NULL) {
        apr_uint64_t n = 0;

        if (site->rt != NULL && af_log_throttle(&site->rt->unavailable, apr_time_now(),
                                                apr_time_from_sec(AF_STORE_LOG_INTERVAL), &n)) {
            af_log_p(p, AF_LOG_ERR, "AF08006",
                     "store unavailable (not open in this process) (%" APR_UINT64_T_FMT
                     " more since the last line)",
                     n);
        }
        return AF_ESESS_STORE;
    }
    rv = af_session_is_revoked(site, st, sid, now);
    if (rv == APR_SUCCESS) {
        return APR_SUCCESS;
    }
    if (rv == AF_ESTORE_REVOKED || rv == AF_ESTORE_UNKNOWN) {
        return AF_ESESS_LOGIN_REVOKED;
    }
    af_log_p(p, af_session_store_loglevel(rv), "AF08007", "revocation check failed: %s",
             af_strerror(rv));
    return AF_ESESS_STORE;
}

/* Step-up (AuthFlowMaxAge, AuthFlowACR): the login behind the verified claims must be recent
 * and strong enough for this location.  A token without auth_time (or acr) does not
 * satisfy a location that asks for it. */
static apr_status_t check_step_up(const json_t *claims, const af_gate_opts_t *opts,
                                  const af_site_t *site, apr_int64_t now)
{
    if (opts->max_age > 0) {
        const json_t *at = json_object_get(claims, "auth_time");

        if (!json_is_number(at) ||
            json_number_value(at) + (double) opts->max_age + (double) site->clock_skew <
                (double) now) {
            return AF_ESESS_STEP_UP_MAX_AGE;
        }
    }
    if (opts->acr_values != NULL) {
        const json_t *acr = json_object_get(claims, "acr");

        if (!json_is_string(acr) || !af_oidc_acr_listed(opts->acr_values, json_string_value(acr))) {
            return AF_ESESS_STEP_UP_ACR;
        }
    }
    return APR_SUCCESS;
}

/* Verify the token, from the per-process cache when it is there. */
static apr_status_t verify_cached(json_t **claims, const af_site_trust_t **trust, int *cached,
                                  const af_site_t *site, const char *tok, apr_size_t len,
                                  apr_int64_t now, apr_pool_t *p)
{
    af_tcache_t *c = site->token_cache && site->rt != NULL ? site->rt->tcache : NULL;
    unsigned char key[AF_TCACHE_KEYLEN];
    apr_status_t rv;

    *trust = NULL;
    *cached = 0;
    if (c != NULL) {
        af_tcache_key(key, c, tok, len);
        if (af_tcache_get(claims, c, key, site, now, site->clock_skew, p)) {
            const char *iss = json_string_value(json_object_get(*claims, "iss"));

            /* which issuer verified it (its iss was checked before it was cached) */
            if (iss != NULL && (site->issuer == NULL || strcmp(iss, site->issuer) != 0)) {
                *trust = af_session_trust_for(site, iss);
            }
            *cached = 1;
            af_metrics_count(site->metrics, AF_M_TCACHE_HIT);
            return APR_SUCCESS;
        }
        af_metrics_count(site->metrics, AF_M_TCACHE_MISS);
    }
    rv = af_session_verify(claims, trust, site, tok, len, now, p);
    if (rv == APR_SUCCESS && c != NULL) {
        json_t *nbf = json_object_get(*claims, "nbf");

        af_tcache_put(c, key, site, *claims, json_number_value(json_object_get(*claims, "exp")),
                      json_is_number(nbf) ? json_number_value(nbf) : 0);
    }
    return rv;
}

/* Expired or missing access token + a refresh cookie: rotate inline (the refresh
 * endpoint's code, pending until the answer went out).  AF_ESESS_NO_REFRESH when not
 * applicable. */
static apr_status_t refresh_inline(af_gate_t *g, const af_site_t *site, const af_gate_opts_t *opts,
                                   const af_req_in_t *in, apr_status_t why, apr_pool_t *p)
{
    af_rotated_t *res = NULL;
    const af_site_trust_t *t = NULL;
    json_t *claims = NULL;
    apr_status_t rv;

    if (in->subrequest || !opts->refresh || g->src == AF_FROM_BEARER ||
        (why != AF_ESESS_NO_TOKEN && why != AF_EJWT_EXP)) {
        return AF_ESESS_NO_REFRESH;
    }
    rv = af_session_rotate(&res, g->eff, site, in, 1, p);
    if (rv != AF_ESESS_NO_REFRESH) {
        af_metrics_reason(site->metrics, AF_MR_INLINE_REFRESH, rv);
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = af_session_verify(&claims, &t, site, res->access_token, strlen(res->access_token), in->now,
                           p);
    if (rv != APR_SUCCESS || t != NULL) {
        af_log_p(p, AF_LOG_ERR, "AF09005", "refresh: the new access token does not verify: %s",
                 af_strerror(rv));
        return rv != APR_SUCCESS ? rv : AF_EJWT_ISS;
    }
    g->claims = claims;
    g->token = res->access_token;
    g->token_len = strlen(res->access_token);
    g->src = AF_FROM_COOKIE;
    g->refreshed_sid = res->sid;
    af_log_p(p, AF_LOG_DEBUG, "AF09006", "gate: login %s refreshed inline", res->sid);
    return APR_SUCCESS;
}

apr_status_t af_session_gate(af_gate_t **out, const af_site_t *site, const af_gate_opts_t *opts,
                             const af_req_in_t *in, const char *inh_token, int inh_src,
                             apr_pool_t *p)
{
    af_gate_t *g = apr_pcalloc(p, sizeof(*g));
    const af_site_trust_t *trust = NULL;
    apr_status_t rv;

    *out = g;
    g->eff = af_effects_make(p);
    g->eff->cookies_always = 1; /* the gate's cookies also ride on redirects and errors */
    if (inh_token != NULL) {
        g->token = inh_token, g->src = inh_src;
        rv = APR_SUCCESS;
    } else {
        rv = find_token(&g->token, &g->src, site, opts, in, p);
    }
    if (rv == APR_SUCCESS && (g->token_len = strlen(g->token)) > AF_JWS_MAX_LEN) {
        rv = AF_ESESS_TOKEN_TOO_LARGE; /* before any decoding or hashing (A21) */
    } else if (rv == APR_SUCCESS) {
        rv =
            verify_cached(&g->claims, &trust, &g->cached, site, g->token, g->token_len, in->now, p);
    }
    if (rv != APR_SUCCESS) {
        apr_status_t r2 = refresh_inline(g, site, opts, in, rv, p);

        if (r2 == APR_SUCCESS) {
            rv = APR_SUCCESS, trust = NULL;
        } else if (af_session_store_failed(r2)) {
            rv = AF_ESESS_REFRESH_STORE; /* 503: fail closed, nothing changed */
        }
    }
    if (rv == APR_SUCCESS && trust == NULL && opts->check_revocation) {
        rv = check_revoked(site, g->claims, in->now, p);
    }
    if (rv == APR_SUCCESS && (g->user = user_of(g->claims, opts->user_path, trust, p)) == NULL) {
        rv = AF_ESESS_USER_CLAIM;
    }
    if (rv == APR_SUCCESS) {
        rv = check_step_up(g->claims, opts, site, in->now);
    }
    if (rv == APR_SUCCESS) {
        g->issuer = trust != NULL ? trust->issuer : site->issuer;
    } else {
        g->claims = NULL;
        af_log_p(p, AF_LOG_INFO, "AF02001", "gate: not authenticated: %s (%s)", af_strerror(rv),
                 g->src == AF_FROM_BEARER   ? "bearer"
                 : g->src == AF_FROM_COOKIE ? "cookie"
                                            : "no token");
    }
    g->reason = rv;
    if (!in->derived) {
        af_metrics_reason(site->metrics, AF_MR_GATE, rv); /* one decision per client request */
    }
    return rv;
}

void af_session_gate_fail(af_effects_t *eff, const af_site_t *site, const af_gate_opts_t *opts,
                          const af_req_in_t *in, apr_status_t reason, apr_pool_t *p)
{
    const char *login;
    json_t *j;
    int step_up;

    eff->reason = reason;
    if (af_session_status(reason) == 503) {
        /* G10: the store failed: neither let through nor sent to the IdP (a loop) */
        eff->retry_after = AF_SESSION_RETRY_AFTER;
        if (af_session_is_navigation(in)) {
            af_session_error(eff, site, reason, NULL, p);
        } else {
            af_session_json_error(eff, reason, p);
        }
        return;
    }
    step_up = reason == AF_ESESS_STEP_UP_MAX_AGE || reason == AF_ESESS_STEP_UP_ACR;
    /* a location with a step-up asks for it at the first login too (one login, not two) */
    login =
        af_session_login_url_stepup(site, opts->login, af_session_request_target(in, p),
                                    opts->max_age > 0 ? opts->max_age : -1, opts->acr_values, p);
    /* a preflight or a WebSocket handshake cannot follow a redirect to a login page */
    if (!af_session_is_preflight(in) && !af_session_is_websocket(in) &&
        (opts->unauth == AF_UNAUTH_REDIRECT ||
         (opts->unauth == AF_UNAUTH_AUTO && af_session_is_navigation(in)))) {
        eff->status = 302;
        eff->location = login;
        return;
    }
    eff->status = 401;
    if (step_up) {
        /* RFC 9470 3: what a new authentication has to satisfy */
        eff->www_authenticate = apr_pstrcat(
            p, "Bearer error=\"insufficient_user_authentication\", error_description=\"",
            reason == AF_ESESS_STEP_UP_MAX_AGE ? "A more recent authentication is required"
                                               : "A different authentication level is required",
            "\"",
            opts->max_age > 0 ? apr_psprintf(p, ", max_age=\"%" APR_INT64_T_FMT "\"", opts->max_age)
                              : "",
            opts->acr_values != NULL
                ? apr_pstrcat(p, ", acr_values=\"", opts->acr_values, "\"", NULL)
                : "",
            NULL);
    } else {
        /* RFC 6750 3.1: no error code when no credentials were presented at all */
        eff->www_authenticate =
            reason == AF_ESESS_NO_TOKEN ? "Bearer" : "Bearer error=\"invalid_token\"";
    }
    j = af_json_pool_own(json_pack("{s:s, s:s}", "error", af_strerror(reason), "login_url", login),
                         p);
    eff->body_kind = AF_BODY_JSON;
    eff->body = j ? af_json_dump(j, p) : NULL;
}

int af_session_preflight_passes(const af_gate_opts_t *opts, const af_req_in_t *in)
{
    return opts->preflight == AF_PREFLIGHT_PASS && !in->subrequest && af_session_is_preflight(in);
}
