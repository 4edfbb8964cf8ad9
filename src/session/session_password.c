/* session_password.c -- password login through httpd's authn providers (a <AuthFlowProvider>
 * with Type password): GET <endpoint>/login?provider=NAME shows the form, POST
 * <endpoint>/login checks it and ends like an OIDC callback (af_session_login_create).
 *
 * POST, in this order (each refusal changes nothing unless said):
 *   1. Content-Type application/x-www-form-urlencoded (else 415), same origin (else 403
 *      cross_site), a body of at most AF_FORM_MAX_LEN bytes (else 413), strict form (af_form: bad
 * escapes, empty pairs, a field twice -> 400);
 *   2. the flow named by the form's `flow` field in this browser's flow cookie, of a Type
 *      password provider (else 400 login_flow_invalid: a cross-site or replayed form);
 *   3. username 1..255 bytes without control characters, password 1..1024 bytes (else 400);
 *   4. the throttle: the account's and the client address's failures in the window (counted
 *      in the store, keyed hashes) -- at the limit 429 with Retry-After, and the password is
 *      not even checked;
 *   5. the flow id consumed in the store (single use across processes and hosts);
 *   6. the check (the glue's: httpd's authn providers).  An unknown account runs one bcrypt
 *      validation against a fixed hash, so that it costs what a wrong password costs.
 *      Denied or unknown: one failure counted for the account and for the address, 403
 *      login_failed with the form again (a new flow) -- the same answer for both.  A
 *      provider error: 503 authn_unavailable, not counted.  Granted: a new login, 303 to
 *      the flow's return_to.
 * Nothing logs a password; user names only as a keyed hash (af_session_throttle_key). */
#include <string.h>

#include <apr_lib.h>
#include <apr_md5.h>
#include <apr_strings.h>

#include "common/af_b64.h"
#include "common/af_form.h"
#include "common/af_json.h"
#include "common/af_log.h"
#include "common/af_parse.h"
#include "common/af_url.h"
#include "session/af_session.h"

#define USER_MAX     255
#define PASSWORD_MAX 1024
#define FORM_PAIRS   16

/* htpasswd -B (cost 5, its default) of a random password nobody knows: what an unknown
 * account is checked against, so that it takes as long as a wrong password does */
static const char dummy_hash[] = "$2y$05$a9ECYnE5MAwESxOTCmdstuoAfjUK2HBNdGVMu6OfWO5kWbpfdH0pW";

const char *af_session_throttle_key(const af_site_t *site, char kind, const char *provider,
                                    const char *value, apr_pool_t *p)
{
    unsigned char out[32];
    char *info, *c;

    if (site->throttle_key == NULL || value == NULL || provider == NULL) {
        return NULL;
    }
    info = apr_psprintf(p, "%c:%s:%s", kind, provider, value);
    for (c = info; kind == 'u' && *c; c++) {
        *c = (char) apr_tolower(*c); /* LDAP matches names regardless of case */
    }
    if (af_token_hkdf(out, site->throttle_key->key, sizeof(site->throttle_key->key),
                      "authflow password throttle", info) != APR_SUCCESS) {
        return NULL;
    }
    return af_b64url_encode(out, sizeof(out), p);
}

/* The form with a new flow for pv (pushed to flows, the flow cookie into eff). */
static void form_page(af_effects_t *eff, const af_site_t *site, const af_oidc_provider_t *pv,
                      const af_req_in_t *in, apr_array_header_t *flows, const char *return_to,
                      int status, apr_status_t reason, const char *error, apr_pool_t *p)
{
    static const char *const names[] = {"action", "flow", "return_to", "provider", "error"};
    const char *vals[5], *set = NULL;
    af_oidc_flow_t *flow = NULL;
    apr_status_t rv;

    if ((rv = af_oidc_flow_new(&flow, pv->name, return_to, in->now, p)) != APR_SUCCESS) {
        af_session_error(eff, site, rv, NULL, p);
        return;
    }
    APR_ARRAY_PUSH(flows, af_oidc_flow_t *) = flow;
    if ((rv = af_session_flows_cookie(&set, site, flows, in->now, p)) != APR_SUCCESS) {
        af_session_error(eff, site, rv, NULL, p);
        return;
    }
    af_effects_cookie(eff, set);
    vals[0] = af_html_escape(apr_pstrcat(p, site->base_url, site->endpoint, "/login", NULL), p);
    vals[1] = af_html_escape(flow->state, p);
    vals[2] = af_html_escape(return_to, p);
    vals[3] = af_html_escape(pv->name, p);
    vals[4] = error == NULL ? ""
                            : apr_pstrcat(p, "<p class=\"error\" role=\"alert\">",
                                          af_html_escape(error, p), "</p>\n", NULL);
    eff->status = status;
    eff->reason = reason;
    eff->body_kind = AF_BODY_HTML;
    eff->body = af_session_template(
        site->tpl_password ? site->tpl_password : af_session_tpl_password, names, vals, 5, p);
}

void af_session_password_form(af_effects_t *eff, const af_site_t *site,
                              const af_oidc_provider_t *pv, const af_req_in_t *in,
                              const char *return_to, apr_pool_t *p)
{
    apr_array_header_t *flows = af_session_flows_read(site, in->cookie, in->now, p);

    af_log_p(p, AF_LOG_DEBUG, "AF08060", "login: password form of provider %s", pv->name);
    form_page(eff, site, pv, in, flows, return_to, 200, APR_SUCCESS, NULL, p);
}

static int form_type(const char *ct)
{
    static const char want[] = "application/x-www-form-urlencoded";
    apr_size_t n = sizeof(want) - 1;

    return ct != NULL && strncasecmp(ct, want, n) == 0 &&
           (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ' || ct[n] == '\t');
}

static int user_ok(const char *u)
{
    apr_size_t n = u ? strlen(u) : 0;

    return n > 0 && n <= USER_MAX && !af_parse_has_ctl(u);
}

/* "NAME" or "AUTHENTICATE_NAME" (any case) -> "AUTHENTICATE_NAME" */
static const char *attr_var(const char *path, apr_pool_t *p)
{
    char *v, *c;

    v = strncasecmp(path, "AUTHENTICATE_", 13) == 0 ? apr_pstrdup(p, path)
                                                    : apr_pstrcat(p, "AUTHENTICATE_", path, NULL);
    for (c = v; *c; c++) {
        *c = (char) apr_toupper(*c);
    }
    return v;
}

/* The identity of a granted password check: sub and preferred_username the user name, the
 * check's time (auth_time) and method (amr "pwd", RFC 8176), and the Claim mappings from
 * the AUTHENTICATE_* variables the authn providers set. */
static af_oidc_identity_t *identity(const af_oidc_provider_t *pv, const char *user,
                                    const apr_table_t *attrs, apr_int64_t now, apr_pool_t *p)
{
    af_oidc_identity_t *id = apr_pcalloc(p, sizeof(*id));
    json_t *claims = af_json_pool_own(json_object(), p);
    int i;

    id->provider = pv->name;
    id->sub = user;
    id->claims = claims;
    id->auth_time = now; /* af_session_login_create puts it in the snapshot */
    json_object_set_new(claims, "sub", json_string(user));
    json_object_set_new(claims, "preferred_username", json_string(user));
    json_object_set_new(claims, "amr", json_pack("[s]", "pwd"));
    for (i = 0; attrs != NULL && i < pv->claims->nelts; i++) {
        const af_oidc_kv_t *kv = &APR_ARRAY_IDX(pv->claims, i, af_oidc_kv_t);
        const char *v = apr_table_get(attrs, attr_var(kv->value, p));

        if (v != NULL && !af_token_claim_is_reserved(kv->key) && !af_parse_has_ctl(v) &&
            json_object_set_new(claims, kv->key, json_string(v)) != 0) {
            json_object_del(claims, kv->key); /* not UTF-8: left out */
        }
    }
    return id;
}

/* Count one failure for the account and the address; the larger share of the limit. */
static apr_status_t count_failure(apr_int64_t *nu, apr_int64_t *na, af_store_t *st, const char *ku,
                                  const char *ka, const af_oidc_provider_t *pv, apr_int64_t now)
{
    apr_int64_t reset;
    apr_status_t rv;

    rv = af_store_throttle(nu, &reset, st, ku, strlen(ku), now, pv->throttle_window, 1);
    if (rv == APR_SUCCESS) {
        rv = af_store_throttle(na, &reset, st, ka, strlen(ka), now, pv->throttle_window, 1);
    }
    return rv;
}

static void fail(af_effects_t *eff, const af_site_t *site, apr_status_t reason, const char *why,
                 apr_pool_t *p)
{
    int status = af_session_status(reason);

    af_log_p(p, status >= 500 ? AF_LOG_WARNING : AF_LOG_INFO, "AF08061",
             "password login refused: %s (%d)%s%s", af_strerror(reason), status, why ? ", " : "",
             why ? why : "");
    af_session_error(eff, site, reason, NULL, p);
}

void af_session_password_login(af_effects_t *eff, const af_site_t *site, const af_req_in_t *in,
                               af_pw_check_fn *check, void *baton, apr_pool_t *p)
{
    static const char *const names[] = {"flow", "username", "password", "return_to"};
    const char *vals[4], *ku, *ka, *uh, *url;
    apr_array_header_t *pairs = NULL, *flows;
    apr_int64_t nu = 0, na = 0, ru = 0, ra = 0;
    apr_table_t *attrs = NULL;
    af_oidc_flow_t *flow;
    const af_oidc_provider_t *pv;
    af_store_family_t *fam = NULL;
    af_pw_result_t res;
    af_store_t *st;
    apr_status_t rv;

    /* 1. the request */
    if (!form_type(in->content_type)) {
        fail(eff, site, AF_ESESS_MEDIA_TYPE, NULL, p);
        return;
    }
    if (!af_session_same_origin(site, in->origin, in->sec_fetch_site)) {
        fail(eff, site, AF_ESESS_CROSS_SITE, NULL, p);
        return;
    }
    if (in->body_len > AF_FORM_MAX_LEN) {
        fail(eff, site, AF_ESESS_BODY_TOO_LARGE, NULL, p); /* 413: a form is small */
        return;
    }
    if (in->body == NULL || strlen(in->body) != in->body_len) {
        fail(eff, site, AF_EFORM_ESCAPE, "a NUL in the body", p);
        return;
    }
    if ((rv = af_form_parse(&pairs, in->body, FORM_PAIRS, AF_FORM_MAX_LEN, 0, p)) != APR_SUCCESS ||
        (rv = af_form_pick(vals, names, 4, pairs)) != APR_SUCCESS) {
        fail(eff, site, rv, NULL, p);
        return;
    }
    /* 2. the flow of this browser (CSRF) */
    flows = af_session_flows_read(site, in->cookie, in->now, p);
    flow = af_session_flow_take(flows, vals[0]);
    pv = flow ? af_session_provider(site, flow->provider) : NULL;
    if (pv == NULL || pv->kind != AF_OIDC_KIND_PASSWORD) {
        fail(eff, site, AF_ESESS_LOGIN_FLOW, flow ? "not a password provider" : NULL, p);
        return;
    }
    /* 3. the credentials' form */
    if (!user_ok(vals[1]) || vals[2] == NULL || *vals[2] == '\0' ||
        strlen(vals[2]) > PASSWORD_MAX) {
        fail(eff, site, AF_ESESS_CREDENTIALS, pv->name, p);
        return;
    }
    if ((st = af_site_store(site)) == NULL) {
        fail(eff, site, AF_ESESS_STORE, pv->name, p);
        return;
    }
    ku = af_session_throttle_key(site, 'u', pv->name, vals[1], p);
    ka = af_session_throttle_key(site, 'a', pv->name, in->client_ip ? in->client_ip : "-", p);
    if (ku == NULL || ka == NULL) {
        fail(eff, site, AF_EINTERNAL, "no throttle key", p);
        return;
    }
    uh = apr_pstrndup(p, ku, 12); /* the user in log lines: a keyed hash */
    /* 4. the throttle, before any password is looked at */
    rv = af_store_throttle(&nu, &ru, st, ku, strlen(ku), in->now, pv->throttle_window, 0);
    if (rv == APR_SUCCESS) {
        rv = af_store_throttle(&na, &ra, st, ka, strlen(ka), in->now, pv->throttle_window, 0);
    }
    if (rv != APR_SUCCESS) {
        af_log_p(p, af_session_store_loglevel(rv), "AF08062",
                 "password login: store error during throttle: %s", af_strerror(rv));
        fail(eff, site, AF_ESESS_STORE, pv->name, p);
        return;
    }
    if (nu >= pv->throttle_n || na >= pv->throttle_n) {
        apr_int64_t until = 0;

        until = nu >= pv->throttle_n ? ru : 0;
        until = na >= pv->throttle_n && ra > until ? ra : until;
        eff->retry_after = until > in->now ? (int) (until - in->now) : 1;
        af_log_p(p, AF_LOG_INFO, "AF08063",
                 "password login throttled: provider %s, user #%s, client %s (%s), retry in %ds",
                 pv->name, uh, in->client_ip ? in->client_ip : "-",
                 nu >= pv->throttle_n ? "account" : "address", eff->retry_after);
        af_session_error(eff, site, AF_ESESS_THROTTLED, NULL, p);
        return;
    }
    /* 5. single use */
    rv = af_store_flow_consume(st, flow->state, strlen(flow->state), in->now,
                               flow->created + AF_SESSION_FLOW_MAX_AGE + 60);
    if (rv != APR_SUCCESS) {
        if (rv != AF_ESTORE_REPLAY) {
            af_log_p(p, af_session_store_loglevel(rv), "AF08062",
                     "password login: store error during flow consume: %s", af_strerror(rv));
            rv = AF_ESESS_STORE;
        }
        fail(eff, site, rv, pv->name, p);
        return;
    }
    /* 6. the password */
    res = check != NULL ? check(baton, pv, vals[1], vals[2], &attrs, p) : AF_PW_ERROR;
    if (res == AF_PW_NOT_FOUND) {
        (void) apr_password_validate(vals[2], dummy_hash); /* as long as a wrong password */
    }
    if (res == AF_PW_ERROR) {
        af_log_p(p, AF_LOG_WARNING, "AF08064",
                 "password login: the authn providers of %s failed (see the lines above)",
                 pv->name);
        af_session_error(eff, site, AF_ESESS_AUTHN_ERROR, NULL, p);
        return;
    }
    if (res != AF_PW_GRANTED) {
        rv = count_failure(&nu, &na, st, ku, ka, pv, in->now);
        if (rv != APR_SUCCESS) {
            af_log_p(p, af_session_store_loglevel(rv), "AF08062",
                     "password login: store error while counting a failure: %s", af_strerror(rv));
            fail(eff, site, AF_ESESS_STORE, pv->name, p);
            return;
        }
        af_log_p(p, AF_LOG_INFO, "AF08065",
                 "password login failed: provider %s, user #%s (%s), client %s, failures "
                 "%" APR_INT64_T_FMT "/%d account, %" APR_INT64_T_FMT "/%d address",
                 pv->name, uh, res == AF_PW_NOT_FOUND ? "no such account" : "wrong password",
                 in->client_ip ? in->client_ip : "-", nu, pv->throttle_n, na, pv->throttle_n);
        form_page(eff, site, pv, in, flows, flow->return_to, 403, AF_ESESS_LOGIN_FAILED,
                  "The username or password is not correct.", p);
        return;
    }
    rv = af_session_login_create(&fam, eff, site, in, st, pv,
                                 identity(pv, vals[1], attrs, in->now, p), p);
    if (rv != APR_SUCCESS) {
        apr_array_clear(eff->cookies);
        if (af_session_store_failed(rv)) {
            af_log_p(p, af_session_store_loglevel(rv), "AF08062",
                     "password login: store error during login creation: %s", af_strerror(rv));
            rv = AF_ESESS_STORE;
        }
        fail(eff, site, rv, pv->name, p);
        return;
    }
    {
        const char *set = NULL;

        if (af_session_flows_cookie(&set, site, flows, in->now, p) != APR_SUCCESS) {
            set = af_session_set_cookie(site, site->cookie_flow, NULL, 0, 1, p);
        }
        af_effects_cookie(eff, set);
    }
    af_log_p(p, AF_LOG_INFO, "AF08066", "login: provider %s (password), user #%s, login %s",
             pv->name, uh, fam->sid);
    url = af_session_return_url(site, flow->return_to, p);
    eff->status = 303;
    eff->location = url;
}
