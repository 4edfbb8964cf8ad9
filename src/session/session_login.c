/* session_login.c -- GET <endpoint>/login (start a login, or the chooser) and GET
 * <endpoint>/callback (finish it: a new login from the verified identity).
 *
 * Login: the provider is the one named, or the only one; with several and none named the
 * chooser page.  return_to is validated (D08).  The flow (state, nonce, PKCE verifier,
 * provider, return_to, created) goes sealed into the flow cookie; 302 to the IdP.
 *
 * Callback: strict query (duplicates -> 400); the pending flow whose state matches
 * (constant time) in the flow cookie; consumed in the store once for all processes (a
 * replay -> 400); an IdP error -> 400 showing only the escaped error code; the OIDC core
 * exchanges the code and validates id_token / userinfo.  Then a new login: the logins
 * behind the browser's -at / -rt cookies are revoked (D14), the subject is namespaced by the
 * provider (H05), the family is created with the claims snapshot (and the id_token sealed
 * for a later id_token_hint), our access token minted (the one mint path), -at / -rt set,
 * the flow removed, and 302 to return_to (with SameSite=Strict a 200 page that continues
 * by meta refresh, since a redirect chain started at the IdP would not carry Strict
 * cookies).  On any failure nothing but the consumed flow id is written, the flow cookie is
 * cleared, and an error page names the reason. */
#include <string.h>

#include <apr_strings.h>

#include "common/af_cookie.h"
#include "common/af_form.h"
#include "common/af_json.h"
#include "common/af_log.h"
#include "common/af_url.h"
#include "session/af_session.h"

#define IDT_MEMBER "_idt" /* the sealed id_token in the claims snapshot (never in a token) */

af_oidc_provider_t *af_session_provider(const af_site_t *site, const char *name)
{
    int i;

    for (i = 0; name != NULL && site->providers != NULL && i < site->providers->nelts; i++) {
        af_oidc_provider_t *pv = APR_ARRAY_IDX(site->providers, i, af_oidc_provider_t *);

        if (strcmp(pv->name, name) == 0) {
            return pv;
        }
    }
    return NULL;
}

/* A step-up request on the login URL (the gate's AuthFlowMaxAge / AuthFlowACR): max_age as
 * 0..10 years in decimal seconds, acr_values as af_oidc_acr_values_ok.  Anyone may ask for
 * more than a location needs; the gate, not this request, decides what is enough. */
static apr_status_t stepup_params(apr_int64_t *max_age, const char *ma, const char *acr)
{
    apr_int64_t v = 0;
    const char *c;

    *max_age = -1;
    if (ma != NULL) {
        if (*ma == '\0' || strlen(ma) > 9) {
            return AF_ESESS_STEP_UP_PARAM;
        }
        for (c = ma; *c != '\0'; c++) {
            if (*c < '0' || *c > '9') {
                return AF_ESESS_STEP_UP_PARAM;
            }
            v = v * 10 + (*c - '0');
        }
        if (v > 315360000) {
            return AF_ESESS_STEP_UP_PARAM;
        }
        *max_age = v;
    }
    if (acr != NULL && !af_oidc_acr_values_ok(acr)) {
        return AF_ESESS_STEP_UP_PARAM;
    }
    return APR_SUCCESS;
}

/* The provider marks, drawn for the project (Kakao's speech bubble, Naver's N); Apple and
 * Google get their wording only (their marks cannot be redrawn faithfully). */
#define MARK_KAKAO                                                                                 \
    "<svg viewBox=\"0 0 24 24\" aria-hidden=\"true\"><path fill=\"#000\" d=\"M12 3C6.5 3 2 6.5 "   \
    "2 10.8c0 2.8 1.9 5.2 4.7 6.6l-1 3.7c-.1.3.3.6.6.4l4.4-2.9c.4 0 .9.1 1.3.1 5.5 0 10-3.5 "      \
    "10-7.9S17.5 3 12 3z\"/></svg>"
#define MARK_NAVER                                                                                 \
    "<svg viewBox=\"0 0 24 24\" aria-hidden=\"true\"><path fill=\"#fff\" d=\"M15.6 12.8 8.1 "      \
    "2H2v20"                                                                                       \
    "h6.4V11.2L15.9 22H22V2h-6.4z\"/></svg>"

/* The DisplayName for lang: the one for that language, else the one without, else NULL. */
static const char *display_name(const af_oidc_provider_t *pv, af_lang_t lang)
{
    const char *any = NULL;
    int i;

    for (i = 0; pv->display_names != NULL && i < pv->display_names->nelts; i++) {
        const af_oidc_kv_t *kv = &APR_ARRAY_IDX(pv->display_names, i, af_oidc_kv_t);

        if (*kv->key == '\0') {
            any = kv->value;
        } else if (strcasecmp(kv->key, af_session_lang_tag[lang]) == 0) {
            return kv->value;
        }
    }
    return any;
}

const char *af_session_chooser_button(const af_oidc_provider_t *pv, af_lang_t lang,
                                      const char *href, apr_pool_t *p)
{
    static const char *const kakao[] = {"Login with Kakao", "카카오 로그인"};
    static const char *const naver[] = {"Log in with NAVER", "네이버 로그인"};
    static const char *const google[] = {"Sign in with Google", "Google 계정으로 로그인"};
    static const char *const apple[] = {"Sign in with Apple", "Apple로 로그인"};
    const char *cls = "", *mark = "", *label = display_name(pv, lang);

    lang = (unsigned) lang < AF_LANG_N ? lang : AF_LANG_EN;
    if (pv->kind != AF_OIDC_KIND_PASSWORD) {
        switch (pv->preset) {
        case AF_OIDC_PRESET_KAKAO: /* the brand's wording over a DisplayName */
            cls = " kakao", mark = MARK_KAKAO, label = kakao[lang];
            break;
        case AF_OIDC_PRESET_NAVER:
            cls = " naver", mark = MARK_NAVER, label = naver[lang];
            break;
        case AF_OIDC_PRESET_GOOGLE:
            cls = " google", label = google[lang];
            break;
        case AF_OIDC_PRESET_APPLE: /* black (white in dark mode), wording only: no logo */
            cls = " apple", label = apple[lang];
            break;
        default:
            break;
        }
    }
    if (label == NULL) {
        label = pv->name;
    }
    return apr_pstrcat(p, "<li><a class=\"b", cls, "\" href=\"", af_html_escape(href, p), "\">",
                       mark, "<span>", af_html_escape(label, p), "</span></a></li>\n", NULL);
}

static void chooser(af_effects_t *eff, const af_site_t *site, const char *return_to,
                    apr_int64_t max_age, const char *acr_values, apr_pool_t *p)
{
    static const char *const names[] = {"providers", "return_to"};
    const char *vals[2], *items = "", *href;
    int i;

    for (i = 0; i < site->providers->nelts; i++) {
        const af_oidc_provider_t *pv = APR_ARRAY_IDX(site->providers, i, af_oidc_provider_t *);

        href = apr_pstrcat(p, site->base_url, site->endpoint,
                           "/login?provider=", af_url_encode(pv->name, p),
                           "&return_to=", af_url_encode(return_to, p), NULL);
        if (max_age >= 0) {
            href = apr_psprintf(p, "%s&max_age=%" APR_INT64_T_FMT, href, max_age);
        }
        if (acr_values != NULL) {
            href = apr_pstrcat(p, href, "&acr_values=", af_url_encode(acr_values, p), NULL);
        }
        items = apr_pstrcat(p, items, af_session_chooser_button(pv, eff->lang, href, p), NULL);
    }
    vals[0] = items;
    vals[1] = af_html_escape(return_to, p);
    eff->status = 200;
    eff->body_kind = AF_BODY_HTML;
    eff->body =
        af_session_template(af_session_tpl(site, eff->lang, AF_PAGE_CHOOSER), names, vals, 2, p);
}

void af_session_login(af_effects_t *eff, const af_site_t *site, const af_req_in_t *in,
                      apr_pool_t *p)
{
    static const char *const keys[] = {"provider", "return_to", "max_age", "acr_values"};
    const char *vals[4], *return_to, *auth_url = NULL, *set = NULL;
    af_oidc_provider_t *pv = NULL;
    af_oidc_flow_t *flow = NULL;
    apr_array_header_t *flows;
    apr_int64_t max_age = -1;
    apr_status_t rv;
    int n = site->providers ? site->providers->nelts : 0;

    if ((rv = af_form_get(vals, keys, 4, in->query, p)) != APR_SUCCESS ||
        (rv = stepup_params(&max_age, vals[2], vals[3])) != APR_SUCCESS) {
        af_log_p(p, AF_LOG_INFO, "AF08010", "login: bad query (%s)", af_strerror(rv));
        af_session_error(eff, site, rv, NULL, p);
        return;
    }
    if (n == 0 || site->base_url == NULL) {
        af_session_error(eff, site, AF_ESESS_NO_PROVIDER, NULL, p);
        return;
    }
    return_to = af_session_return_to(site, vals[1], p);
    eff->return_to = return_to;
    if (vals[0] != NULL) {
        if ((pv = af_session_provider(site, vals[0])) == NULL) {
            af_session_error(eff, site, AF_ESESS_UNKNOWN_PROVIDER, NULL, p);
            return;
        }
    } else if (n == 1) {
        pv = APR_ARRAY_IDX(site->providers, 0, af_oidc_provider_t *);
    } else {
        chooser(eff, site, return_to, max_age, vals[3], p);
        return;
    }
    if (site->flow_key == NULL) {
        af_log_p(p, AF_LOG_ERR, "AF08011", "login: no store secret");
        af_session_error(eff, site, AF_ESESS_STORE, NULL, p);
        return;
    }
    if (pv->kind == AF_OIDC_KIND_PASSWORD) {
        af_session_password_form(eff, site, pv, in, return_to, p);
        return;
    }
    rv = af_oidc_login_start_stepup(&auth_url, &flow, pv, return_to, max_age, vals[3], in->now, p);
    if (rv == AF_EOIDC_IDP_BUSY || rv == AF_EOIDC_IDP_UNAVAILABLE) {
        /* the outbound guard said no at once (limit reached, or the IdP's circuit open) */
        eff->retry_after = (int) af_oidc_idp_retry_after(pv);
        af_log_p(p, AF_LOG_INFO, "AF08043", "login refused: %s, provider %s", af_strerror(rv),
                 pv->name);
        af_session_error(eff, site, rv, NULL, p);
        return;
    }
    if (rv != APR_SUCCESS) {
        af_log_p(p, AF_LOG_WARNING, "AF08012", "login: provider %s: %s", pv->name, af_strerror(rv));
        af_session_error(eff, site, rv, NULL, p);
        return;
    }
    flows = af_session_flows_read(site, in->cookie, in->now, p);
    APR_ARRAY_PUSH(flows, af_oidc_flow_t *) = flow;
    if ((rv = af_session_flows_cookie(&set, site, flows, in->now, p)) != APR_SUCCESS) {
        af_session_error(eff, site, rv, NULL, p);
        return;
    }
    af_effects_cookie(eff, set);
    af_log_p(p, AF_LOG_DEBUG, "AF08013", "login: to provider %s%s", pv->name,
             max_age >= 0 || vals[3] != NULL ? " (step-up)" : "");
    eff->status = 302;
    eff->location = auth_url;
}

/* ---- the callback ----------------------------------------------------------------------- */

/* RFC 6749 A.11: code = 1*VSCHAR (%x20-7E); and not absurdly long. */
static int code_ok(const char *code)
{
    apr_size_t n = 0;

    for (; code != NULL && *code != '\0'; code++, n++) {
        if ((unsigned char) *code < 0x20 || (unsigned char) *code > 0x7e) {
            return 0;
        }
    }
    return n > 0 && n <= AF_SESSION_CODE_MAX;
}

static void cb_fail(af_effects_t *eff, const af_site_t *site, apr_status_t reason,
                    const char *idp_error, const char *provider, apr_pool_t *p)
{
    int status = af_session_status(reason);

    apr_array_clear(eff->cookies);
    af_effects_cookie(eff, af_session_set_cookie(site, site->cookie_flow, NULL, 0, 1, p));
    af_log_p(p, status >= 500 ? AF_LOG_WARNING : AF_LOG_INFO, "AF08020",
             "callback failed: %s (%d)%s%s", af_strerror(reason), status,
             provider ? ", provider " : "", provider ? provider : "");
    af_session_error(eff, site, reason, idp_error, p);
}

static void cb_store_failed(af_effects_t *eff, const af_site_t *site, apr_status_t rv,
                            const char *what, apr_pool_t *p)
{
    af_log_p(p, af_session_store_loglevel(rv), "AF08021", "callback: store error during %s: %s",
             what, af_strerror(rv));
    cb_fail(eff, site, AF_ESESS_STORE, NULL, NULL, p);
}

apr_status_t af_session_revoke_current(const af_site_t *site, const af_req_in_t *in, af_store_t *st,
                                       const char *why, apr_pool_t *p)
{
    const char *v = NULL, *sid = NULL, *first = NULL;
    json_t *claims = NULL;
    apr_status_t rv;

    if (in->cookie == NULL) {
        return APR_SUCCESS;
    }
    if (af_cookie_get(&v, in->cookie, site->cookie_at, p) == APR_SUCCESS && *v != '\0' &&
        af_session_verify_own(&claims, site, v, strlen(v), in->now, p) == APR_SUCCESS &&
        (sid = json_string_value(json_object_get(claims, "sid"))) != NULL) {
        rv = af_session_revoke(site, st, sid, in->now, p);
        if (rv != APR_SUCCESS && rv != AF_ENOTFOUND) {
            return rv;
        }
        af_log_p(p, AF_LOG_INFO, "AF08022", "login %s revoked (%s)", sid, why);
        first = sid;
    }
    if (af_cookie_get(&v, in->cookie, site->cookie_rt, p) == APR_SUCCESS &&
        af_token_refresh_check(v, strlen(v)) == APR_SUCCESS) {
        /* a read-only lookup of the refresh token's login: nothing rotates */
        rv = af_store_token_family(&sid, st, v, strlen(v), p);
        if (rv == APR_SUCCESS && (first == NULL || strcmp(sid, first) != 0)) {
            rv = af_session_revoke(site, st, sid, in->now, p);
            if (rv != APR_SUCCESS && rv != AF_ENOTFOUND) {
                return rv;
            }
            af_log_p(p, AF_LOG_INFO, "AF08022", "login %s revoked (%s)", sid, why);
        } else if (rv == APR_SUCCESS) {
            /* the same login as the access cookie's: revoked once */
        } else if (af_session_store_failed(rv)) {
            return rv;
        }
    }
    return APR_SUCCESS;
}

/* The claims snapshot for the store: claims plus the id_token sealed for the login's
 * absolute lifetime (G01: never plaintext), for a later id_token_hint.  NULL when there
 * is no id_token or sealing fails. */
static const char *snapshot_with_idt(const af_site_t *site, const json_t *claims,
                                     const char *id_token, apr_int64_t now, apr_pool_t *p)
{
    const char *blob = NULL;
    json_t *copy;

    if (id_token == NULL || *id_token == '\0' || claims == NULL || site->idt_key == NULL ||
        af_token_seal(&blob, site->idt_key, id_token, strlen(id_token), now,
                      site->refresh_ttl + AF_SESSION_FLOW_MAX_AGE, p) != APR_SUCCESS) {
        return NULL;
    }
    copy = af_json_pool_own(json_deep_copy(claims), p);
    if (copy == NULL || json_object_set_new(copy, IDT_MEMBER, json_string(blob)) != 0) {
        return NULL;
    }
    return af_json_dump(copy, p);
}

const char *af_session_idt_hint(const af_site_t *site, af_store_t *st, const char *sid,
                                apr_int64_t now, apr_pool_t *p)
{
    af_store_family_t *fam = NULL;
    json_t *doc = NULL;
    const char *blob;
    unsigned char *data = NULL;
    apr_size_t len = 0;

    if (st == NULL || sid == NULL || site->idt_key == NULL ||
        af_store_family_get(&fam, st, sid, p) != APR_SUCCESS || fam->claims_json == NULL ||
        *fam->claims_json == '\0' ||
        af_json_parse(&doc, fam->claims_json, strlen(fam->claims_json), AF_STORE_CLAIMS_MAX, p) !=
            APR_SUCCESS ||
        (blob = json_string_value(json_object_get(doc, IDT_MEMBER))) == NULL ||
        af_token_unseal(&data, &len, site->idt_key, blob, strlen(blob), now, p) != APR_SUCCESS ||
        len == 0 || memchr(data, '\0', len) != NULL) {
        return NULL;
    }
    return (const char *) data;
}

/* A new login from a verified identity (D14, H05, F04); cookies into eff. */
apr_status_t af_session_login_create(af_store_family_t **famp, af_effects_t *eff,
                                     const af_site_t *site, const af_req_in_t *in, af_store_t *st,
                                     const af_oidc_provider_t *pv, const af_oidc_identity_t *id,
                                     apr_pool_t *p)
{
    const char *sub = NULL, *rt = NULL, *at = NULL;
    af_store_login_in_t lin;
    af_store_family_t *fam = NULL;
    apr_status_t rv;

    /* H05: our subject is the IdP's namespaced by the provider */
    if (af_token_subject(&sub, id->sub, pv->name, p) != APR_SUCCESS) {
        return AF_ESESS_SUBJECT;
    }
    if ((rv = af_session_revoke_current(site, in, st, "new login", p)) != APR_SUCCESS) {
        return rv;
    }
    /* auth_time: the IdP's, else now (this login); kept in the snapshot, so every access
     * token of the login, rotated or not, carries the time of the authentication itself */
    if (id->claims == NULL ||
        json_object_set_new(id->claims, "auth_time",
                            json_integer(id->auth_time > 0 ? id->auth_time : in->now)) != 0) {
        return AF_ESESS_SUBJECT;
    }
    /* the snapshot with the sealed id_token; without it when too large, then empty */
    memset(&lin, 0, sizeof(lin));
    lin.sub = sub;
    lin.provider = pv->name;
    lin.now = in->now;
    lin.ttl = site->refresh_ttl;
    lin.idle = site->refresh_idle;
    lin.idp_sid = id->idp_sid; /* E20: back-channel logout by sid finds this login */
    lin.claims_json = snapshot_with_idt(site, id->claims, id->id_token, in->now, p);
    rv = AF_ETOOBIG;
    if (lin.claims_json != NULL) {
        rv = af_store_family_create(&fam, &rt, st, &lin, p);
    }
    if (rv == AF_ETOOBIG && (lin.claims_json = af_json_dump(id->claims, p)) != NULL) {
        rv = af_store_family_create(&fam, &rt, st, &lin, p);
    }
    if (rv == AF_ETOOBIG) {
        lin.claims_json = "";
        rv = af_store_family_create(&fam, &rt, st, &lin, p);
    }
    if (rv == APR_EINVAL) {
        return AF_ESESS_SUBJECT;
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = af_session_mint(&at, site, sub, fam->sid, pv->name, id->claims, in->now, p);
    if (rv != APR_SUCCESS) {
        af_log_p(p, AF_LOG_ERR, "AF08023",
                 "callback: cannot mint the access token: %s (see AuthFlowTokenClaims)",
                 af_strerror(rv));
        af_session_revoke(site, st, fam->sid, in->now, p);
        return rv;
    }
    af_effects_cookie(eff,
                      af_session_set_cookie(site, site->cookie_at, at, site->access_ttl, 0, p));
    af_effects_cookie(
        eff, af_session_set_cookie(site, site->cookie_rt, rt, fam->expires - in->now, 0, p));
    *famp = fam;
    return APR_SUCCESS;
}

/* The parameters of the authorization response: the query of a GET, or the form body of a
 * POST (response_mode=form_post: application/x-www-form-urlencoded, no query, no NUL); the
 * same strict parser reads both.  NULL when the POST is not such a form. */
static const char *cb_params(const af_req_in_t *in, int *is_post)
{
    const char *ct = in->content_type;
    apr_size_t n = strlen("application/x-www-form-urlencoded");

    *is_post = in->method != NULL && strcmp(in->method, "POST") == 0;
    if (!*is_post) {
        return in->query ? in->query : "";
    }
    if ((in->query != NULL && *in->query != '\0') || ct == NULL ||
        strncasecmp(ct, "application/x-www-form-urlencoded", n) != 0 ||
        (ct[n] != '\0' && ct[n] != ';' && ct[n] != ' ')) {
        return NULL;
    }
    if (in->body == NULL) {
        return "";
    }
    return strlen(in->body) == in->body_len ? in->body : NULL;
}

void af_session_callback(af_effects_t *eff, const af_site_t *site, const af_req_in_t *in,
                         apr_pool_t *p)
{
    const char *query, *url, *set = NULL, *c;
    af_oidc_cbparams_t *cb = NULL;
    int amps = 0, is_post = 0;
    af_oidc_flow_t *flow;
    af_oidc_provider_t *pv;
    af_oidc_identity_t *id = NULL;
    af_store_family_t *fam = NULL;
    apr_array_header_t *flows;
    af_store_t *st;
    apr_status_t rv, prv;

    if ((query = cb_params(in, &is_post)) == NULL) {
        cb_fail(eff, site, AF_EOIDC_PARAM, NULL, NULL, p);
        return;
    }
    for (c = query; *c; c++) {
        amps += *c == '&';
    }
    if (amps >= AF_FORM_MAX_PARAMS) {
        cb_fail(eff, site, AF_EFORM_LIMIT, NULL, NULL, p);
        return;
    }
    if (site->providers == NULL || site->providers->nelts == 0) {
        cb_fail(eff, site, AF_ESESS_NO_PROVIDER, NULL, NULL, p);
        return;
    }
    prv = af_oidc_callback_parse(&cb, query, p);
    if (prv != APR_SUCCESS && prv != AF_EOIDC_IDP_ERROR) {
        cb_fail(eff, site, prv, NULL, NULL, p);
        return;
    }
    if (af_session_needs_repost(site, in, p)) {
        /* a cross-site form_post: our Lax flow cookie was not sent; post the same fields
         * again from our own origin (session_apple.c) */
        af_session_repost(eff, site, cb, p);
        return;
    }
    flows = af_session_flows_read(site, in->cookie, in->now, p);
    flow = af_session_flow_take(flows, cb ? cb->state : NULL);
    if (flow == NULL) {
        cb_fail(eff, site, prv != APR_SUCCESS ? prv : AF_EOIDC_STATE,
                prv != APR_SUCCESS && cb ? cb->error : NULL, NULL, p);
        return;
    }
    eff->return_to = flow->return_to; /* the error page's "try again" goes back there */
    /* nothing is written for a callback that will not exchange a code: an IdP error, or a
     * code that is not 1*VSCHAR (replaying either is harmless: the flow goes with the
     * cookie) -- the unauthenticated path costs no durable write */
    if (prv == AF_EOIDC_IDP_ERROR) {
        cb_fail(eff, site, prv, cb->error, flow->provider, p);
        return;
    }
    if (!code_ok(cb->code)) {
        cb_fail(eff, site, AF_EOIDC_PARAM, NULL, flow->provider, p);
        return;
    }
    if ((pv = af_session_provider(site, flow->provider)) == NULL) {
        cb_fail(eff, site, AF_EOIDC_FLOW, NULL, flow->provider, p);
        return;
    }
    if (is_post != (pv->response_mode == AF_OIDC_RESPONSE_FORM_POST)) {
        /* the response comes the way this provider was asked to send it, nothing else */
        cb_fail(eff, site, AF_EOIDC_RESPONSE_MODE, NULL, flow->provider, p);
        return;
    }
    if ((st = af_site_store(site)) == NULL) {
        cb_fail(eff, site, AF_ESESS_STORE, NULL, flow->provider, p);
        return;
    }
    /* the IdP will be called: take a lease of the provider's outbound guard now, before the
     * state is consumed -- refused, nothing is consumed and the flow cookie stays, so the
     * very same callback can be retried (H09) */
    if ((rv = af_oidc_idp_enter(pv, p)) != APR_SUCCESS) {
        eff->retry_after = (int) af_oidc_idp_retry_after(pv);
        af_log_p(p, AF_LOG_INFO, "AF08042", "callback refused: %s, provider %s", af_strerror(rv),
                 pv->name);
        af_session_error(eff, site, rv, NULL, p);
        return;
    }
    rv = af_store_flow_consume(st, flow->state, strlen(flow->state), in->now,
                               flow->created + AF_SESSION_FLOW_MAX_AGE + 60);
    if (rv == AF_ESTORE_REPLAY) {
        cb_fail(eff, site, AF_ESTORE_REPLAY, NULL, flow->provider, p);
        return;
    }
    if (rv != APR_SUCCESS) {
        cb_store_failed(eff, site, rv, "flow consume", p);
        return;
    }
    rv = af_oidc_callback_finish(&id, NULL, pv, flow, query, in->now, p);
    af_oidc_idp_leave(pv, p); /* the IdP is done with: the slot goes back now */
    if (rv == AF_EOIDC_IDP_BUSY || rv == AF_EOIDC_IDP_UNAVAILABLE) {
        eff->retry_after = (int) af_oidc_idp_retry_after(pv);
    }
    if (rv != APR_SUCCESS) {
        cb_fail(eff, site, rv, NULL, pv->name, p);
        return;
    }
    rv = af_session_login_create(&fam, eff, site, in, st, pv, id, p);
    if (rv != APR_SUCCESS) {
        if (af_session_store_failed(rv)) {
            cb_store_failed(eff, site, rv, "login creation", p);
        } else {
            cb_fail(eff, site, rv, NULL, pv->name, p);
        }
        return;
    }
    if (af_session_flows_cookie(&set, site, flows, in->now, p) != APR_SUCCESS) {
        set = af_session_set_cookie(site, site->cookie_flow, NULL, 0, 1, p);
    }
    af_effects_cookie(eff, set);
    af_log_p(p, AF_LOG_INFO, "AF08024", "login: provider %s, login %s", pv->name, fam->sid);
    url = af_session_return_url(site, flow->return_to, p);
    if (site->samesite != NULL && strcmp(site->samesite, "Strict") == 0) {
        /* Strict cookies are not sent on a redirect chain that began at the IdP (another
         * site): continue from a page of our own, so the next navigation is same-site */
        static const char *const names[] = {"url"};
        const char *vals[1];

        vals[0] = af_html_escape(url, p);
        eff->status = 200;
        eff->body_kind = AF_BODY_HTML;
        eff->body = af_session_template(af_session_tpl(site, eff->lang, AF_PAGE_SIGNEDIN), names,
                                        vals, 1, p);
        return;
    }
    eff->status = 302;
    eff->location = url;
}
