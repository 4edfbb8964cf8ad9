/* session_apple.c -- what response_mode=form_post and provider account events need beyond
 * the GET callback: the re-post page, and POST <endpoint>/events/NAME for Apple's
 * server-to-server notifications.
 *
 * The re-post page.  Apple answers the authorization request with an auto-submitting form
 * that POSTs code, state and (at the first consent) user to our callback, from
 * https://appleid.apple.com: a cross-site POST, on which the browser does not send our
 * SameSite=Lax flow cookie.  Rather than weaken that cookie (SameSite=None) for every
 * login, the callback answers such a POST -- only when the flow cookie is absent and the
 * request is cross-site, after the strict parse of the form -- with a page of our own that
 * POSTs the same fields again to the same callback: now a same-origin POST, with the flow
 * cookie.  The page is bound: only the five fields of an authorization response go into
 * it, HTML-escaped; the script runs only under a fresh CSP nonce; form-action 'self'; no
 * framing, no caching, no referrer beyond our origin.  A POST that is not cross-site is
 * never re-posted (no loop), and the re-posted one must still match a flow in the
 * browser's own flow cookie by its state, exactly as a GET callback: a form an attacker
 * makes a victim's browser post gets the page, then fails the state check. */
#include <string.h>

#include <apr_strings.h>

#include "common/af_cookie.h"
#include "common/af_log.h"
#include "common/af_url.h"
#include "session/af_session.h"

int af_session_needs_repost(const af_site_t *site, const af_req_in_t *in, apr_pool_t *p)
{
    const char *v = NULL;

    if (in->method == NULL || strcmp(in->method, "POST") != 0) {
        return 0;
    }
    if (af_cookie_get(&v, in->cookie, site->cookie_flow, p) == APR_SUCCESS && *v != '\0') {
        return 0;
    }
    if (in->sec_fetch_site != NULL) {
        return strcmp(in->sec_fetch_site, "cross-site") == 0;
    }
    /* a browser without Fetch Metadata: an Origin that is not ours */
    return in->origin != NULL && site->base_url != NULL && strcmp(in->origin, "null") != 0 &&
           strcasecmp(in->origin, site->base_url) != 0;
}

static const char *hidden(const char *name, const char *value, apr_pool_t *p)
{
    if (value == NULL) {
        return "";
    }
    return apr_pstrcat(p, "<input type=\"hidden\" name=\"", name, "\" value=\"",
                       af_html_escape(value, p), "\">\n", NULL);
}

void af_session_repost(af_effects_t *eff, const af_site_t *site, const af_oidc_cbparams_t *cb,
                       apr_pool_t *p)
{
    static const char *const names[] = {"action", "fields", "nonce"};
    const char *vals[3], *nonce = NULL;

    if (af_oidc_random(&nonce, 16, p) != APR_SUCCESS) {
        af_session_error(eff, site, AF_EINTERNAL, NULL, p);
        return;
    }
    vals[0] = af_html_escape(
        apr_pstrcat(p, site->base_url ? site->base_url : "", site->endpoint, "/callback", NULL), p);
    vals[1] = apr_pstrcat(p, hidden("code", cb->code, p), hidden("state", cb->state, p),
                          hidden("iss", cb->iss, p), hidden("error", cb->error, p),
                          hidden("user", cb->user, p), NULL);
    vals[2] = nonce; /* base64url: nothing to escape */
    eff->status = 200;
    eff->body_kind = AF_BODY_HTML;
    eff->body =
        af_session_template(af_session_tpl(site, eff->lang, AF_PAGE_REPOST), names, vals, 3, p);
    /* the pages' CSP (the style by its hash) plus this page's one script by its nonce */
    eff->csp = apr_pstrcat(p, "script-src 'nonce-", nonce, "'; ",
                           af_session_page_csp(eff->body, NULL, p), NULL);
    eff->referrer_policy = "same-origin"; /* the re-post carries Origin: ours */
    af_log_p(p, AF_LOG_INFO, "AF08080",
             "callback: cross-site form_post without the flow cookie, re-posted from our origin");
}

/* ---- POST <endpoint>/events/NAME ----------------------------------------------------------- */

void af_session_apple_event(af_effects_t *eff, const af_site_t *site, const af_req_in_t *in,
                            af_oidc_provider_t *pv, apr_pool_t *p)
{
    af_oidc_apple_event_t *ev = NULL;
    const char *sub = NULL;
    apr_status_t rv;
    int n = 0;

    rv = af_oidc_apple_event(&ev, pv, in->body, in->body_len, in->now, p);
    if (rv != APR_SUCCESS) {
        af_session_json_error(eff, rv, p);
        return;
    }
    if (ev->revoke && (rv = af_session_revoke_account(&n, &sub, site, pv, ev->sub, in->now,
                                                      "AF09044", p)) != APR_SUCCESS) {
        af_session_json_error(eff, rv == AF_ESESS_STORE ? rv : AF_EOIDC_APPLE_EVENT, p);
        return;
    }
    /* the subject is an opaque identifier; no email, no token is logged */
    af_log_p(p, AF_LOG_INFO, "AF09043", "events: provider %s: %s for %s@%s%s", pv->name,
             ev->type_name, ev->sub, pv->name,
             ev->revoke                              ? apr_psprintf(p, ": %d login(s) revoked", n)
             : ev->type == AF_OIDC_APPLE_EVENT_OTHER ? ": ignored"
                                                     : ": logged");
    eff->status = 200;
    eff->body_kind = AF_BODY_JSON;
    eff->body = "{}";
}
