/* session_events.c -- POST <endpoint>/events/NAME: a provider account event (Kakao unlink
 * callbacks; Apple notifications go to af_session_apple_event, session_apple.c; the parsing and the
 * provider's credentials are src/oidc's, af_oidc_event_parse) ends every login of that account: the
 * subject is namespaced as at login (H05). */
#include <string.h>

#include <apr_strings.h>

#include "common/af_log.h"
#include "session/af_session.h"

apr_status_t af_session_revoke_account(int *count, const char **sub, const af_site_t *site,
                                       const af_oidc_provider_t *pv, const char *account,
                                       apr_int64_t now, const char *tag, apr_pool_t *p)
{
    af_store_t *st;
    apr_status_t rv;

    *count = 0;
    if ((rv = af_token_subject(sub, account, pv->name, p)) != APR_SUCCESS) {
        return rv;
    }
    if (!site->has_store || (st = af_site_store(site)) == NULL) {
        return AF_ESESS_STORE;
    }
    if ((rv = af_store_revoke_sub(count, st, *sub, now, p)) != APR_SUCCESS) {
        af_log_p(p, af_session_store_loglevel(rv), tag, "events: provider %s: store error: %s",
                 pv->name, af_strerror(rv));
        return AF_ESESS_STORE;
    }
    return APR_SUCCESS;
}

void af_session_events(af_effects_t *eff, const af_site_t *site, const af_req_in_t *in,
                       apr_pool_t *p)
{
    af_oidc_event_in_t ein;
    af_oidc_event_t *ev = NULL;
    af_oidc_provider_t *pv;
    const char *name, *sub = NULL;
    apr_status_t rv;
    int count = 0;
    apr_size_t n = strlen(site->endpoint) + sizeof("/events/") - 1;

    name = in->raw_path != NULL && strlen(in->raw_path) > n ? in->raw_path + n : NULL;
    if (name == NULL || (pv = af_session_provider(site, name)) == NULL) {
        af_session_json_error(eff, AF_ESESS_NOT_FOUND, p);
        return;
    }
    if (pv->preset == AF_OIDC_PRESET_APPLE) {
        /* Apple server-to-server notifications: a JWS verified against Apple's JWKS */
        af_session_apple_event(eff, site, in, pv, p);
        return;
    }
    memset(&ein, 0, sizeof(ein));
    ein.authorization = in->authorization;
    ein.content_type = in->content_type;
    ein.body = in->body;
    ein.body_len = in->body_len;
    ein.now = in->now;
    if ((rv = af_oidc_event_parse(&ev, pv, &ein, p)) != APR_SUCCESS) {
        af_log_p(p, AF_LOG_INFO, "AF09040", "events: provider %s: refused: %s", pv->name,
                 af_strerror(rv));
        af_session_json_error(eff, rv, p);
        return;
    }
    if (ev->revoke && (rv = af_session_revoke_account(&count, &sub, site, pv, ev->sub, in->now,
                                                      "AF09041", p)) != APR_SUCCESS) {
        af_session_json_error(eff, rv == AF_ESESS_STORE ? rv : AF_EOIDC_EVENT_MALFORMED, p);
        return;
    }
    /* the account id is the operator's to see (as with authflowctl revoke --user) */
    af_log_p(p, AF_LOG_NOTICE, "AF09042", "events: provider %s: %s for %s: %d login(s) revoked",
             pv->name, ev->kind, sub != NULL ? sub : ev->sub, count);
    eff->status = 200; /* Kakao wants a quick 200; no body */
}
