/* oidc_callback.c -- the authorization response: strict query parsing (D03, D11), binding to
 * the flow and RFC 9207 iss (D06), then the whole callback in order. */
#include <string.h>
#include <apr_strings.h>
#include <openssl/crypto.h>

#include "common/af_form.h"
#include "common/af_log.h"
#include "oidc/af_oidc.h"

#define QUERY_MAX     8192
#define PARAMS_MAX    64
#define ERROR_MAX_LEN 64

/* RFC 6749 §4.1.2.1 allows %x20-21 / %x23-5B / %x5D-7E; every registered code is a
 * lower_snake_case token, so we keep [A-Za-z0-9_.-] up to 64 characters and nothing else. */
static const char *clean_error(const char *e, apr_pool_t *p)
{
    const char *s;

    if (strlen(e) == 0 || strlen(e) > ERROR_MAX_LEN) {
        return "malformed_error";
    }
    for (s = e; *s; s++) {
        unsigned char c = (unsigned char) *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-')) {
            return "malformed_error";
        }
    }
    return apr_pstrdup(p, e);
}

apr_status_t af_oidc_callback_parse(af_oidc_cbparams_t **out, const char *query, apr_pool_t *p)
{
    static const char *const names[] = {"code", "state", "iss", "error", "user"};
    af_oidc_cbparams_t *cb = apr_pcalloc(p, sizeof(*cb));
    apr_array_header_t *pairs = NULL;
    const char *vals[5];
    apr_status_t rv;

    *out = cb;
    /* empty pairs ("a=1&&b", a trailing '&') are skipped: some IdPs send them */
    rv = af_form_parse(&pairs, query, PARAMS_MAX, QUERY_MAX, AF_FORM_SKIP_EMPTY, p);
    if (rv != APR_SUCCESS) {
        return AF_EOIDC_PARAM;
    }
    if (af_form_pick(vals, names, 5, pairs) != APR_SUCCESS) {
        return AF_EOIDC_PARAM_DUP; /* D03: never pick one of two */
    }
    cb->state = vals[1]; /* also with an error: it names the flow the error ends */
    if (vals[3] != NULL) {
        cb->error = clean_error(vals[3], p);
        return AF_EOIDC_IDP_ERROR;
    }
    cb->code = vals[0];
    cb->iss = vals[2];
    cb->user = vals[4];
    if (cb->state == NULL || *cb->state == '\0') {
        return AF_EOIDC_STATE_MISSING;
    }
    if (cb->code == NULL || *cb->code == '\0') {
        return AF_EOIDC_CODE_MISSING;
    }
    return APR_SUCCESS;
}

static int str_eq_ct(const char *a, const char *b)
{
    apr_size_t n = strlen(a);

    return n == strlen(b) && CRYPTO_memcmp(a, b, n) == 0;
}

apr_status_t af_oidc_callback_check(const af_oidc_cbparams_t *cb, const af_oidc_flow_t *flow,
                                    const af_oidc_provider_t *prov, const af_oidc_meta_t *meta)
{
    if (flow == NULL || flow->provider == NULL || strcmp(flow->provider, prov->name) != 0) {
        return AF_EOIDC_FLOW;
    }
    if (cb->state == NULL || flow->state == NULL || !str_eq_ct(cb->state, flow->state)) {
        return AF_EOIDC_STATE;
    }
    if (cb->iss != NULL) {
        /* RFC 9207 §2.4: simple string comparison with this provider's issuer */
        if (meta->issuer == NULL || strcmp(cb->iss, meta->issuer) != 0) {
            return AF_EOIDC_ISS_PARAM;
        }
    } else if (meta->iss_parameter_supported) {
        return AF_EOIDC_ISS_PARAM;
    }
    return APR_SUCCESS;
}

static apr_status_t github_email(const char **email, const af_oidc_provider_t *prov,
                                 const char *access_token, apr_pool_t *p)
{
    json_t *emails = NULL;
    apr_status_t rv;

    *email = NULL;
    if (prov->emails_endpoint == NULL) {
        return APR_SUCCESS;
    }
    rv = af_oidc_userinfo_get(&emails, prov, prov->emails_endpoint, access_token, p);
    if (rv != APR_SUCCESS) {
        /* no email is not a failed login: the identity is the numeric id */
        af_log_p(p, AF_LOG_INFO, "AF05003", "provider %s: /user/emails unusable (%s)", prov->name,
                 af_strerror(rv));
        if (rv == AF_EOIDC_IDP_TIMEOUT || rv == AF_EOIDC_IDP_UNREACHABLE ||
            rv == AF_EOIDC_IDP_BUSY || rv == AF_EOIDC_IDP_UNAVAILABLE) {
            return rv;
        }
        return APR_SUCCESS;
    }
    *email = af_oidc_github_pick_email(emails);
    return APR_SUCCESS;
}

int af_oidc_acr_values_ok(const char *values)
{
    apr_size_t n = values != NULL ? strlen(values) : 0, i;

    if (n == 0 || n > AF_OIDC_ACR_VALUES_MAX || values[0] == ' ' || values[n - 1] == ' ') {
        return 0;
    }
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char) values[i];

        if (c < 0x20 || c > 0x7e || c == '"' || c == '\\' || (c == ' ' && values[i + 1] == ' ')) {
            return 0;
        }
    }
    return 1;
}

int af_oidc_acr_listed(const char *values, const char *acr)
{
    apr_size_t n = strlen(acr);
    const char *v = values, *e;

    while (n > 0 && *v != '\0') {
        for (; *v == ' '; v++) {
        }
        for (e = v; *e != '\0' && *e != ' '; e++) {
        }
        if ((apr_size_t) (e - v) == n && memcmp(v, acr, n) == 0) {
            return 1;
        }
        v = e;
    }
    return 0;
}

apr_status_t af_oidc_stepup_check(const json_t *id_claims, const af_oidc_flow_t *flow,
                                  const af_oidc_provider_t *prov, apr_int64_t now)
{
    const json_t *at = id_claims != NULL ? json_object_get(id_claims, "auth_time") : NULL;
    const json_t *acr = id_claims != NULL ? json_object_get(id_claims, "acr") : NULL;

    if (flow->max_age >= 0) {
        /* OIDC Core 3.1.2.1: with max_age the auth_time Claim is REQUIRED */
        if (!json_is_number(at) || json_number_value(at) <= 0) {
            return AF_EOIDC_AUTH_TIME_MISSING;
        }
        /* 3.1.3.7 item 13: too long since the last authentication -> re-authenticate */
        if (json_number_value(at) + (double) flow->max_age + (double) prov->leeway < (double) now) {
            return AF_EOIDC_AUTH_TIME_OLD;
        }
    }
    if (flow->acr_values != NULL &&
        (!json_is_string(acr) || !af_oidc_acr_listed(flow->acr_values, json_string_value(acr)))) {
        return AF_EOIDC_ACR;
    }
    return APR_SUCCESS;
}

apr_status_t af_oidc_callback_finish(af_oidc_identity_t **out, af_oidc_cbparams_t **cb_out,
                                     af_oidc_provider_t *prov, const af_oidc_flow_t *flow,
                                     const char *query, apr_int64_t now, apr_pool_t *p)
{
    af_oidc_cbparams_t *cb = NULL;
    const af_oidc_meta_t *meta = NULL;
    af_oidc_tokens_t *tok = NULL;
    json_t *id_claims = NULL, *userinfo = NULL;
    const char *email = NULL, *secret = NULL;
    af_oidc_provider_t xprov;
    int is_oidc = prov->kind == AF_OIDC_KIND_OIDC, entered = 0;
    apr_status_t rv;

    *out = NULL;
    rv = af_oidc_callback_parse(&cb, query, p);
    if (cb_out != NULL) {
        *cb_out = cb;
    }
    if (rv != APR_SUCCESS) {
        goto leave;
    }
    /* one lease of the outbound guard for every call of this callback (the glue usually
     * took it already, before the state was consumed: then this only nests) */
    if ((rv = af_oidc_idp_enter(prov, p)) != APR_SUCCESS) {
        goto leave;
    }
    entered = 1;
    if ((rv = af_oidc_meta_get(&meta, prov, now, p)) != APR_SUCCESS) {
        goto leave;
    }
    if ((rv = af_oidc_callback_check(cb, flow, prov, meta)) != APR_SUCCESS) {
        goto leave;
    }
    /* the client secret of this exchange: the static one (if any), or Apple's minted JWT */
    if ((rv = af_oidc_client_secret(&secret, prov, now, p)) != APR_SUCCESS) {
        goto leave;
    }
    xprov = *prov;
    xprov.client_secret = secret;
    rv = af_oidc_code_exchange(&tok, &xprov, meta, cb->code, flow->verifier, cb->state, p);
    if (rv != APR_SUCCESS) {
        goto leave;
    }
    if (is_oidc) {
        af_oidc_idcheck_t chk = {now, flow->nonce, tok->access_token};
        rv = af_oidc_id_token_verify(&id_claims, prov, meta, tok->id_token, &chk, p);
        if (rv != APR_SUCCESS) {
            goto leave;
        }
    }
    /* step-up: what the login asked for, before any further call (a plain OAuth 2.0
     * provider has no id_token to prove it: refused) */
    if ((rv = af_oidc_stepup_check(id_claims, flow, prov, now)) != APR_SUCCESS) {
        goto leave;
    }
    if (meta->userinfo_endpoint != NULL && (prov->userinfo >= 0 || !is_oidc)) {
        rv = af_oidc_userinfo_get(&userinfo, prov, meta->userinfo_endpoint, tok->access_token, p);
        if (rv != APR_SUCCESS) {
            goto leave;
        }
    } else if (prov->userinfo > 0 || !is_oidc) {
        rv = AF_EOIDC_USERINFO;
        goto leave;
    }
    if (prov->preset == AF_OIDC_PRESET_GITHUB) {
        if ((rv = github_email(&email, prov, tok->access_token, p)) != APR_SUCCESS) {
            goto leave;
        }
    }
    rv = af_oidc_identity_build(out, prov, meta, id_claims, userinfo, email, p);
    if (rv == APR_SUCCESS && prov->preset == AF_OIDC_PRESET_APPLE && cb->user != NULL) {
        /* Apple's first-consent user JSON is unsigned: display names only, and only where
         * the id_token / userinfo said nothing (never sub, never email) */
        rv = af_oidc_apple_user_claims((*out)->claims, cb->user, p);
        if (rv != APR_SUCCESS) {
            *out = NULL;
        }
    }
    if (rv == APR_SUCCESS && is_oidc) {
        (*out)->id_token = tok->id_token;
    }
leave:
    if (entered) {
        af_oidc_idp_leave(prov, p);
    }
    if (rv != APR_SUCCESS) {
        af_log_p(p, AF_LOG_INFO, "AF05001", "provider %s: login failed: %s", prov->name,
                 af_strerror(rv));
    }
    return rv;
}
