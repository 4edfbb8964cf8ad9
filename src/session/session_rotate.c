/* session_rotate.c -- the one mint path, and refresh-token rotation for the refresh endpoint
 * and the gate's inline refresh (G02-G08, F04). */
#include <string.h>

#include <apr_strings.h>

#include "common/af_cookie.h"
#include "common/af_json.h"
#include "common/af_log.h"
#include "jose/af_jws.h"
#include "session/af_session.h"

apr_status_t af_session_mint(const char **at, const af_site_t *site, const char *sub,
                             const char *sid, const char *idp, const json_t *claims,
                             apr_int64_t now, apr_pool_t *p)
{
    af_token_access_t in;
    apr_status_t rv;
    int dropped = 0;

    memset(&in, 0, sizeof(in));
    in.key = site->signing_key;
    in.iss = site->issuer;
    in.aud = site->audience;
    in.sub = sub;
    in.sid = sid;
    in.idp = idp;
    in.idp_sub = json_string_value(json_object_get(claims, "sub"));
    in.ttl = site->access_ttl;
    in.now = now;
    in.claims = claims;
    in.claim_names = site->token_claims;
    in.cookie_name_len = strlen(site->cookie_at);
    rv = af_token_mint_access_fit(at, &dropped, &in, p);
    if (rv == APR_SUCCESS && dropped > 0) {
        af_log_p(p, AF_LOG_INFO, "AF08025",
                 "access token of login %s too large for a cookie: the last %d of "
                 "AuthFlowTokenClaims left out",
                 sid, dropped);
    }
    return rv;
}

/* G08: an access cookie of ANOTHER login next to this refresh token means a stolen token.
 * The access token is verified as of its own expiry (it is usually expired here); one that
 * does not verify at all is ignored.  @return 1 on a mismatch */
static int foreign_access_token(const af_site_t *site, const char *cookie, const char *sid,
                                apr_int64_t now, apr_pool_t *p)
{
    const char *v = NULL, *other;
    af_jws_t *jws = NULL;
    json_t *peek = NULL, *claims = NULL, *exp;
    apr_int64_t t = now;

    if (af_cookie_get(&v, cookie, site->cookie_at, p) != APR_SUCCESS || *v == '\0' ||
        af_jws_parse(&jws, v, strlen(v), AF_JWS_MAX_LEN, p) != APR_SUCCESS ||
        af_json_parse(&peek, (const char *) jws->payload, jws->payload_len, 0, p) != APR_SUCCESS) {
        return 0;
    }
    exp = json_object_get(peek, "exp");
    if (json_is_integer(exp) && json_integer_value(exp) < now) {
        t = json_integer_value(exp);
    }
    if (af_session_verify_own(&claims, site, v, strlen(v), t, p) != APR_SUCCESS) {
        return 0;
    }
    other = json_string_value(json_object_get(claims, "sid"));
    return other != NULL && strcmp(other, sid) != 0;
}

apr_status_t af_session_rotate(af_rotated_t **out, af_effects_t *eff, const af_site_t *site,
                               const af_req_in_t *in, int pending, apr_pool_t *p)
{
    af_store_rotation_t *rot = NULL;
    af_store_rotate_in_t rin;
    const af_store_family_t *fam;
    const char *rt = NULL, *at = NULL;
    json_t *claims = NULL;
    af_rotated_t *res;
    af_store_t *st;
    apr_status_t rv;

    *out = NULL;
    if (!site->has_store || af_cookie_get(&rt, in->cookie, site->cookie_rt, p) != APR_SUCCESS ||
        *rt == '\0') {
        return AF_ESESS_NO_REFRESH; /* no refresh cookie, or no store here: not ours */
    }
    if ((st = af_site_store(site)) == NULL) {
        return AF_ESESS_STORE;
    }
    memset(&rin, 0, sizeof(rin));
    rin.rt = rt;
    rin.rt_len = strlen(rt);
    rin.now = in->now;
    rin.grace = site->reuse_grace;
    rin.idle = site->refresh_idle;
    rin.pending = pending;
    rv = af_store_rotate(&rot, st, &rin, p);
    if (rv == AF_ESTORE_UNKNOWN || rv == AF_ESTORE_EXPIRED || rv == AF_ESTORE_REUSE) {
        /* the store logged the reuse (AF03010) with the family id; no token material here */
        af_log_p(p, rv == AF_ESTORE_REUSE ? AF_LOG_NOTICE : AF_LOG_INFO, "AF09001",
                 "refresh refused: %s%s", af_strerror(rv),
                 rv == AF_ESTORE_REUSE ? " (reuse after the grace window: login revoked)" : "");
        if (rv == AF_ESTORE_REUSE) {
            af_metrics_count(site->metrics, AF_M_REUSE);
        }
        af_session_clear_login_cookies(eff, site, p);
        return rv;
    }
    if (rv != APR_SUCCESS) {
        af_log_p(p, af_session_store_loglevel(rv), "AF09002",
                 "refresh: store error, nothing changed: %s", af_strerror(rv));
        return rv;
    }
    fam = rot->family;
    if (foreign_access_token(site, in->cookie, fam->sid, in->now, p)) {
        af_metrics_count(site->metrics, AF_M_FOREIGN_AT);
        rv = af_session_revoke(site, st, fam->sid, in->now, p);
        af_log_p(p, AF_LOG_NOTICE, "AF09007",
                 "refresh token of login %s presented with another login's access token: "
                 "login revoked%s",
                 fam->sid, rv == APR_SUCCESS ? "" : " (store error)");
        af_session_clear_login_cookies(eff, site, p);
        return af_session_store_failed(rv) ? rv : AF_ESTORE_REVOKED;
    }
    res = apr_pcalloc(p, sizeof(*res));
    res->sid = fam->sid;
    res->rt_expires = fam->expires;
    res->replayed = rot->replayed;
    if (fam->claims_json != NULL && *fam->claims_json != '\0' &&
        af_json_parse(&claims, fam->claims_json, strlen(fam->claims_json), AF_STORE_CLAIMS_MAX,
                      p) != APR_SUCCESS) {
        claims = NULL;
    }
    /* the same mint path as the login (claim trimming included, F04) */
    rv = af_session_mint(&at, site, fam->sub, fam->sid, fam->provider, claims, in->now, p);
    if (rv != APR_SUCCESS) {
        af_log_p(p, AF_LOG_ERR, "AF09003", "refresh: cannot mint the access token of login %s: %s",
                 fam->sid, af_strerror(rv));
    } else {
        af_effects_cookie(eff,
                          af_session_set_cookie(site, site->cookie_at, at, site->access_ttl, 0, p));
    }
    /* the successor is committed: the browser gets it whatever happened to the mint */
    af_effects_cookie(eff, af_session_set_cookie(site, site->cookie_rt, rot->refresh_token,
                                                 fam->expires - in->now, 0, p));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (pending) {
        eff->delivered_rt = rt;
    }
    res->access_token = at;
    res->at_expires = in->now + site->access_ttl;
    af_log_p(p, AF_LOG_DEBUG, "AF09004", "refresh: login %s generation %u%s", fam->sid,
             (unsigned) rot->generation, rot->replayed ? " (grace)" : "");
    *out = res;
    return APR_SUCCESS;
}

apr_status_t af_session_delivered(const af_site_t *site, const char *rt, apr_int64_t now)
{
    af_store_t *st = af_site_store(site);

    return st != NULL ? af_store_delivered(st, rt, strlen(rt), now) : APR_SUCCESS;
}
