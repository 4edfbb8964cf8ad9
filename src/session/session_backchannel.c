/* session_backchannel.c -- POST <endpoint>/backchannel/NAME: OpenID Connect Back-Channel
 * Logout 1.0 (E20).  The IdP posts a logout token server to server; we validate it (src/oidc),
 * take its jti once (the store's single-use flows, shared by every process and host) and
 * revoke the logins it names.  Every failure is a 400 with a reason and revokes nothing; a
 * revocation that fails gives the jti back, so that the IdP may retry the same token. */
#include <string.h>

#include <apr_strings.h>

#include "common/af_form.h"
#include "common/af_log.h"
#include "session/af_session.h"
#include "token/af_token.h"

#define BCL_PREFIX "backchannel/"

/* NAME of <endpoint>/backchannel/NAME, as routed (af_session_route). */
static const char *provider_name(const af_site_t *site, const char *raw_path)
{
    apr_size_t n = strlen(site->endpoint);

    if (raw_path == NULL || strncmp(raw_path, site->endpoint, n) != 0 || raw_path[n] != '/' ||
        strncmp(raw_path + n + 1, BCL_PREFIX, sizeof(BCL_PREFIX) - 1) != 0) {
        return NULL;
    }
    return raw_path + n + sizeof(BCL_PREFIX);
}

/* Is the Content-Type application/x-www-form-urlencoded (parameters allowed)? */
static int form_encoded(const char *ct)
{
    static const char want[] = "application/x-www-form-urlencoded";
    apr_size_t n = sizeof(want) - 1;

    return ct != NULL && strncasecmp(ct, want, n) == 0 &&
           (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ' || ct[n] == '\t');
}

static void fail(af_effects_t *eff, const char *name, apr_status_t why, apr_pool_t *p)
{
    af_log_p(p, AF_LOG_INFO, "AF08090", "back-channel logout refused: provider %s: %s",
             name ? name : "-", af_strerror(why));
    af_session_json_error(eff, why, p);
    eff->status = 400; /* §2.8: whatever went wrong, nothing was logged out */
    eff->retry_after = 0;
}

/* Our subject for the token's sub: <IdP sub>@NAME -- only when the provider's SubjectClaim is
 * the sub (*sub NULL otherwise, or without a sub). */
static apr_status_t our_subject(const char **sub, const af_oidc_provider_t *pv,
                                const af_oidc_logout_t *lo, apr_pool_t *p)
{
    *sub = NULL;
    if (lo->sub != NULL && strcmp(pv->subject_claim, "sub") == 0 &&
        af_token_subject(sub, lo->sub, pv->name, p) != APR_SUCCESS) {
        return AF_EOIDC_LOGOUT_SUBJECT;
    }
    if (lo->sid == NULL && *sub == NULL) {
        return AF_ESESS_BCL_UNMAPPED; /* sub alone, with another SubjectClaim */
    }
    return APR_SUCCESS;
}

/* The revocation failed, so nothing was revoked (a store operation is one transaction): give
 * the jti back, so that the IdP's retry of this logout token is not refused as a replay.  If
 * that fails too, the retries will be refused and the logout is lost: said once, without
 * token material (neither the token nor its jti). */
static void give_back(af_store_t *st, const char *id, const char *provider, const char *sub,
                      apr_pool_t *p)
{
    apr_status_t rv = af_store_flow_release(st, id, strlen(id));

    if (rv != APR_SUCCESS) {
        af_log_p(p, AF_LOG_ERR, "AF08092",
                 "back-channel logout lost: provider %s%s%s: the revocation failed and the "
                 "logout token could not be released (%s): the IdP's retries of it will be "
                 "refused as replays",
                 provider, sub ? ", subject " : "", sub ? sub : "", af_strerror(rv));
    }
}

void af_session_backchannel(af_effects_t *eff, const af_site_t *site, const af_req_in_t *in,
                            apr_pool_t *p)
{
    static const char *const names[] = {"logout_token"};
    const char *name = provider_name(site, in->raw_path), *token = NULL, *id, *sub = NULL;
    af_oidc_provider_t *pv = af_session_provider(site, name);
    af_oidc_logout_t *lo = NULL;
    af_store_t *st;
    apr_status_t rv;
    int count = 0;

    if (pv == NULL) {
        af_session_json_error(eff, AF_ESESS_NOT_FOUND, p); /* 404: no such provider */
        return;
    }
    if (!form_encoded(in->content_type)) {
        fail(eff, name, AF_ESESS_BCL_CONTENT_TYPE, p);
        return;
    }
    if (in->body == NULL || strlen(in->body) != in->body_len ||
        af_form_get(&token, names, 1, in->body, p) != APR_SUCCESS || token == NULL ||
        *token == '\0') {
        fail(eff, name, AF_ESESS_BCL_REQUEST, p);
        return;
    }
    rv = af_oidc_logout_token_verify(&lo, pv, token, in->now, p);
    if (rv != APR_SUCCESS) {
        /* an IdP we cannot reach for its keys: a failed logout too (§2.8) */
        fail(eff, name, af_session_status(rv) == 400 ? rv : AF_ESESS_BCL_FAILED, p);
        return;
    }
    if ((st = af_site_store(site)) == NULL) {
        fail(eff, name, AF_ESESS_BCL_FAILED, p);
        return;
    }
    if ((rv = our_subject(&sub, pv, lo, p)) != APR_SUCCESS) {
        fail(eff, name, rv, p); /* before the jti is taken */
        return;
    }
    /* the jti once per provider, remembered as long as the token could be accepted */
    id = apr_psprintf(p, "backchannel\n%s\n%s", pv->name, lo->jti);
    rv = af_store_flow_consume(st, id, strlen(id), in->now, lo->expires);
    if (rv != APR_SUCCESS) {
        fail(eff, name, rv == AF_ESTORE_REPLAY ? AF_ESESS_BCL_REPLAY : AF_ESESS_BCL_FAILED, p);
        return;
    }
    /* by sid: the logins of that IdP session (of that subject, when sub came too); by sub
     * alone: every login of the subject at this provider */
    rv = lo->sid != NULL ? af_store_revoke_idp_sid(&count, st, pv->name, lo->sid, sub, in->now, p)
                         : af_store_revoke_sub(&count, st, sub, in->now, p);
    if (rv != APR_SUCCESS) {
        give_back(st, id, pv->name, sub, p);
        fail(eff, name, af_session_store_failed(rv) ? AF_ESESS_BCL_FAILED : rv, p);
        return;
    }
    af_log_p(p, AF_LOG_INFO, "AF08091",
             "back-channel logout: provider %s, %d login(s) revoked (%s)", pv->name, count,
             lo->sid != NULL ? "by sid" : "by sub");
    eff->status = 200;
    eff->body_kind = AF_BODY_NONE;
}
