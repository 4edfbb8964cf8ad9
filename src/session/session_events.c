/* session_events.c -- POST <endpoint>/events/NAME: a provider account event (Kakao unlink
 * callbacks; Apple notifications go to af_session_apple_event, session_apple.c; the parsing and the
 * provider's credentials are src/oidc's, af_oidc_event_parse) ends every login of that account: the
 * subject is namespaced as at login (H05). */
#include <string.h>

#include <apr_strings.h>

#include "common/af_log.h"
#include "session/af_session.h"

void af_session_events(af_effects_t *eff, const af_site_t *site, const af_req_in_t *in,
                       apr_pool_t *p)
{
    af_oidc_event_in_t ein;
    af_oidc_event_t *ev = NULL;
    af_oidc_provider_t *pv;
    const char *name, *sub = NULL;
    af_store_t *st;
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
    if (ev->revoke) {
        if (af_token_subject(&sub, ev->sub, pv->name, p) != APR_SUCCESS) {
            af_session_json_error(eff, AF_EOIDC_EVENT_MALFORMED, p);
            return;
        }
        if (!site->has_store || (st = af_site_store(site)) == NULL) {
            af_session_json_error(eff, AF_ESESS_STORE, p);
            return;
        }
        if ((rv = af_store_revoke_sub(&count, st, sub, in->now, p)) != APR_SUCCESS) {
            af_log_p(p, af_session_store_loglevel(rv), "AF09041",
                     "events: provider %s: store error: %s", pv->name, af_strerror(rv));
            af_session_json_error(eff, AF_ESESS_STORE, p);
            return;
        }
    }
    /* the account id is the operator's to see (as with authflowctl revoke --user) */
    af_log_p(p, AF_LOG_NOTICE, "AF09042", "events: provider %s: %s for %s: %d login(s) revoked",
             pv->name, ev->kind, sub != NULL ? sub : ev->sub, count);
    eff->status = 200; /* Kakao wants a quick 200; no body */
}
