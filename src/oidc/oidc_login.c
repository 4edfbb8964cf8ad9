/* oidc_login.c -- state, nonce, PKCE S256, the authorization URL, the flow state (D01, D02). */
#include <string.h>
#include <apr_strings.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/af_b64.h"
#include "common/af_json.h"
#include "common/af_url.h"
#include "oidc/af_oidc.h"

#define STATE_BYTES    16 /* 128 bits */
#define NONCE_BYTES    16
#define VERIFIER_BYTES 32 /* 256 bits -> 43 base64url characters */
#define FLOW_MAX_JSON  4096

apr_status_t af_oidc_random(const char **out, apr_size_t nbytes, apr_pool_t *p)
{
    unsigned char buf[64];

    *out = NULL;
    if (nbytes == 0 || nbytes > sizeof(buf) || RAND_bytes(buf, (int) nbytes) != 1) {
        return AF_ECRYPTO;
    }
    *out = af_b64url_encode(buf, nbytes, p);
    OPENSSL_cleanse(buf, sizeof(buf));
    return APR_SUCCESS;
}

const char *af_oidc_pkce_challenge(const char *verifier, apr_pool_t *p)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;

    if (EVP_Digest(verifier, strlen(verifier), md, &md_len, EVP_sha256(), NULL) != 1) {
        return NULL;
    }
    return af_b64url_encode(md, md_len, p);
}

apr_status_t af_oidc_flow_new(af_oidc_flow_t **out, const char *provider, const char *return_to,
                              apr_int64_t now, apr_pool_t *p)
{
    af_oidc_flow_t *f = apr_pcalloc(p, sizeof(*f));
    apr_status_t rv;

    *out = NULL;
    if ((rv = af_oidc_random(&f->state, STATE_BYTES, p)) != APR_SUCCESS ||
        (rv = af_oidc_random(&f->nonce, NONCE_BYTES, p)) != APR_SUCCESS ||
        (rv = af_oidc_random(&f->verifier, VERIFIER_BYTES, p)) != APR_SUCCESS) {
        goto leave;
    }
    f->provider = apr_pstrdup(p, provider);
    f->return_to = return_to != NULL ? apr_pstrdup(p, return_to) : NULL;
    f->created = now;
    f->max_age = -1;
    *out = f;
leave:
    return rv;
}

static void add_param(apr_array_header_t *parts, const char *k, const char *v, apr_pool_t *p)
{
    APR_ARRAY_PUSH(parts, const char *) =
        apr_pstrcat(p, af_url_encode(k, p), "=", af_url_encode(v, p), NULL);
}

const char *af_oidc_authorize_url(const af_oidc_provider_t *prov, const af_oidc_meta_t *meta,
                                  const af_oidc_flow_t *flow, apr_pool_t *p)
{
    apr_array_header_t *parts = apr_array_make(p, 12, sizeof(const char *));
    const char *base = meta->authorization_endpoint;
    const char *q;
    int i;

    add_param(parts, "response_type", "code", p);
    add_param(parts, "client_id", prov->client_id, p);
    add_param(parts, "redirect_uri", prov->redirect_uri, p);
    if (prov->scope != NULL && *prov->scope) {
        add_param(parts, "scope", prov->scope, p);
    }
    add_param(parts, "state", flow->state, p);
    if (prov->kind == AF_OIDC_KIND_OIDC) {
        add_param(parts, "nonce", flow->nonce, p);
    }
    add_param(parts, "code_challenge", af_oidc_pkce_challenge(flow->verifier, p), p);
    add_param(parts, "code_challenge_method", "S256", p);
    if (prov->response_mode == AF_OIDC_RESPONSE_FORM_POST) {
        add_param(parts, "response_mode", "form_post", p);
    }
    if (flow->max_age >= 0) {
        add_param(parts, "max_age", apr_psprintf(p, "%" APR_INT64_T_FMT, flow->max_age), p);
        add_param(parts, "prompt", "login", p);
    }
    if (flow->acr_values != NULL) {
        add_param(parts, "acr_values", flow->acr_values, p);
    }
    for (i = 0; i < prov->auth_params->nelts; i++) {
        const af_oidc_kv_t *kv = &APR_ARRAY_IDX(prov->auth_params, i, af_oidc_kv_t);

        /* the step-up's own parameters win over a configured AuthParam of the same name */
        if ((flow->max_age >= 0 &&
             (strcmp(kv->key, "max_age") == 0 || strcmp(kv->key, "prompt") == 0)) ||
            (flow->acr_values != NULL && strcmp(kv->key, "acr_values") == 0)) {
            continue;
        }
        add_param(parts, kv->key, kv->value, p);
    }
    q = apr_array_pstrcat(p, parts, '&');
    return apr_pstrcat(p, base, strchr(base, '?') != NULL ? "&" : "?", q, NULL);
}

apr_status_t af_oidc_login_start(const char **auth_url, af_oidc_flow_t **flow,
                                 af_oidc_provider_t *prov, const char *return_to, apr_int64_t now,
                                 apr_pool_t *p)
{
    return af_oidc_login_start_stepup(auth_url, flow, prov, return_to, -1, NULL, now, p);
}

apr_status_t af_oidc_login_start_stepup(const char **auth_url, af_oidc_flow_t **flow,
                                        af_oidc_provider_t *prov, const char *return_to,
                                        apr_int64_t max_age, const char *acr_values,
                                        apr_int64_t now, apr_pool_t *p)
{
    const af_oidc_meta_t *meta;
    apr_status_t rv;

    *auth_url = NULL;
    *flow = NULL;
    /* while the IdP's circuit is open the callback would be refused: say so now, before
     * the browser goes to the IdP (cached metadata needs no call) */
    if ((rv = af_oidc_idp_check(prov)) != APR_SUCCESS) {
        goto leave;
    }
    if ((rv = af_oidc_meta_get(&meta, prov, now, p)) != APR_SUCCESS) {
        goto leave;
    }
    if ((rv = af_oidc_flow_new(flow, prov->name, return_to, now, p)) != APR_SUCCESS) {
        goto leave;
    }
    (*flow)->max_age = max_age >= 0 ? max_age : -1;
    (*flow)->acr_values = acr_values != NULL ? apr_pstrdup(p, acr_values) : NULL;
    *auth_url = af_oidc_authorize_url(prov, meta, *flow, p);
leave:
    return rv;
}

const char *af_oidc_flow_to_json(const af_oidc_flow_t *flow, apr_pool_t *p)
{
    json_t *j = af_json_pool_own(json_object(), p);

    json_object_set_new(j, "v", json_integer(1));
    json_object_set_new(j, "s", json_string(flow->state));
    json_object_set_new(j, "n", json_string(flow->nonce));
    json_object_set_new(j, "cv", json_string(flow->verifier));
    json_object_set_new(j, "p", json_string(flow->provider));
    if (flow->return_to != NULL) {
        json_object_set_new(j, "r", json_string(flow->return_to));
    }
    json_object_set_new(j, "t", json_integer(flow->created));
    if (flow->max_age >= 0) {
        json_object_set_new(j, "ma", json_integer(flow->max_age));
    }
    if (flow->acr_values != NULL) {
        json_object_set_new(j, "acr", json_string(flow->acr_values));
    }
    return af_json_dump(j, p);
}

static const char *get_str(const json_t *j, const char *k, apr_size_t min, apr_size_t max)
{
    const json_t *v = json_object_get(j, k);
    const char *s;

    if (!json_is_string(v)) {
        return NULL;
    }
    s = json_string_value(v);
    if (json_string_length(v) < min || json_string_length(v) > max) {
        return NULL;
    }
    return s;
}

apr_status_t af_oidc_flow_from_json(af_oidc_flow_t **out, const char *json, apr_size_t len,
                                    apr_pool_t *p)
{
    af_oidc_flow_t *f = apr_pcalloc(p, sizeof(*f));
    json_t *j = NULL, *v, *t, *ma;
    apr_status_t rv = AF_EOIDC_FLOW;

    *out = NULL;
    if (af_json_parse(&j, json, len, FLOW_MAX_JSON, p) != APR_SUCCESS) {
        goto leave;
    }
    v = json_object_get(j, "v");
    t = json_object_get(j, "t");
    if (!json_is_integer(v) || json_integer_value(v) != 1 || !json_is_integer(t) ||
        json_integer_value(t) < 0) {
        goto leave;
    }
    f->state = get_str(j, "s", 22, 128);
    f->nonce = get_str(j, "n", 22, 128);
    f->verifier = get_str(j, "cv", 43, 128);
    f->provider = get_str(j, "p", 1, 256);
    f->return_to = json_object_get(j, "r") != NULL ? get_str(j, "r", 1, 2048) : "";
    f->created = json_integer_value(t);
    if (f->state == NULL || f->nonce == NULL || f->verifier == NULL || f->provider == NULL ||
        f->return_to == NULL) {
        goto leave;
    }
    if (*f->return_to == '\0') {
        f->return_to = NULL;
    }
    /* step-up: what the login asked for (absent: nothing) */
    ma = json_object_get(j, "ma");
    f->max_age = -1;
    if (ma != NULL) {
        if (!json_is_integer(ma) || json_integer_value(ma) < 0) {
            goto leave;
        }
        f->max_age = json_integer_value(ma);
    }
    if (json_object_get(j, "acr") != NULL &&
        (f->acr_values = get_str(j, "acr", 1, AF_OIDC_ACR_VALUES_MAX)) == NULL) {
        goto leave;
    }
    *out = f;
    rv = APR_SUCCESS;
leave:
    return rv;
}
