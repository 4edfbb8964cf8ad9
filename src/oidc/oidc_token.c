/* oidc_token.c -- the code exchange at the token endpoint (RFC 6749 §4.1.3, §5.1; D18). */
#include <string.h>
#include <apr_strings.h>
#include <openssl/evp.h>

#include "common/af_json.h"
#include "common/af_log.h"
#include "common/af_url.h"
#include "oidc/af_oidc.h"

#define TOKEN_RESPONSE_MAX (256 * 1024)

static const char *basic_auth(const af_oidc_provider_t *prov, apr_pool_t *p)
{
    /* RFC 6749 §2.3.1: id and secret are form-urlencoded before base64 */
    const char *cred = apr_pstrcat(p, af_url_form_encode(prov->client_id, p), ":",
                                   af_url_form_encode(prov->client_secret, p), NULL);
    apr_size_t n = strlen(cred);
    unsigned char *b64 = apr_palloc(p, ((n + 2) / 3) * 4 + 1);

    EVP_EncodeBlock(b64, (const unsigned char *) cred, (int) n);
    return apr_pstrcat(p, "Basic ", (const char *) b64, NULL);
}

apr_status_t af_oidc_token_request(af_http_request_t *req, const af_oidc_provider_t *prov,
                                   const af_oidc_meta_t *meta, const char *code,
                                   const char *verifier, const char *state, apr_pool_t *p)
{
    const char *body;

    memset(req, 0, sizeof(*req));
    if (meta->token_endpoint == NULL || code == NULL || verifier == NULL) {
        return AF_EOIDC_CONFIG;
    }
    body = apr_pstrcat(p, "grant_type=authorization_code&code=", af_url_form_encode(code, p),
                       "&redirect_uri=", af_url_form_encode(prov->redirect_uri, p),
                       "&code_verifier=", af_url_form_encode(verifier, p), NULL);
    req->headers = apr_table_make(p, 4);
    apr_table_setn(req->headers, "Content-Type", "application/x-www-form-urlencoded");
    apr_table_setn(req->headers, "Accept", "application/json");
    if (prov->preset == AF_OIDC_PRESET_NAVER && state != NULL) {
        /* Naver's token request names the authorization request's state */
        body = apr_pstrcat(p, body, "&state=", af_url_form_encode(state, p), NULL);
    }
    if (prov->token_auth == AF_OIDC_AUTH_POST) {
        body = apr_pstrcat(p, body, "&client_id=", af_url_form_encode(prov->client_id, p), NULL);
        if (prov->client_secret != NULL) { /* optional for Kakao */
            body = apr_pstrcat(p, body,
                               "&client_secret=", af_url_form_encode(prov->client_secret, p), NULL);
        }
    } else {
        apr_table_setn(req->headers, "Authorization", basic_auth(prov, p));
    }
    req->method = "POST";
    req->url = meta->token_endpoint;
    req->body = body;
    req->body_len = strlen(body);
    req->timeout = prov->timeout;
    req->max_response = TOKEN_RESPONSE_MAX;
    req->ca_file = prov->ca_file;
    return APR_SUCCESS;
}

apr_status_t af_oidc_expires_in(apr_int64_t *out, const json_t *v)
{
    const char *s;
    apr_int64_t n = 0;
    apr_size_t i;

    *out = 0;
    if (json_is_integer(v)) {
        if (json_integer_value(v) < 0) {
            return AF_EOIDC_TOKEN_RESPONSE;
        }
        *out = json_integer_value(v);
        return APR_SUCCESS;
    }
    /* Naver sends "3600": 1..10 ASCII digits, nothing else (no sign, space, fraction) */
    if (!json_is_string(v) || json_string_length(v) < 1 || json_string_length(v) > 10) {
        return AF_EOIDC_TOKEN_RESPONSE;
    }
    s = json_string_value(v);
    for (i = 0; i < json_string_length(v); i++) {
        if (s[i] < '0' || s[i] > '9') {
            return AF_EOIDC_TOKEN_RESPONSE;
        }
        n = n * 10 + (s[i] - '0');
    }
    *out = n;
    return APR_SUCCESS;
}

static const char *opt_str(const json_t *j, const char *k, int *bad)
{
    const json_t *v = json_object_get(j, k);

    if (v == NULL || json_is_null(v)) {
        return NULL;
    }
    if (!json_is_string(v) || json_string_length(v) == 0) {
        *bad = 1;
        return NULL;
    }
    return json_string_value(v);
}

apr_status_t af_oidc_token_response_parse(af_oidc_tokens_t **out, int status, const char *body,
                                          apr_size_t len, int want_id_token, apr_pool_t *p)
{
    af_oidc_tokens_t *t = apr_pcalloc(p, sizeof(*t));
    json_t *j = NULL, *ei;
    int bad = 0;

    *out = NULL;
    if (status >= 500) {
        return AF_EOIDC_IDP_FAILED;
    }
    if (status >= 400) {
        return AF_EOIDC_TOKEN_REJECTED; /* e.g. invalid_grant: code injection fails PKCE (D05) */
    }
    if (status != 200) {
        return AF_EOIDC_TOKEN_RESPONSE;
    }
    if (body == NULL || af_json_parse(&j, body, len, TOKEN_RESPONSE_MAX, p) != APR_SUCCESS) {
        return AF_EOIDC_TOKEN_RESPONSE;
    }
    if (json_object_get(j, "error") != NULL) {
        return AF_EOIDC_TOKEN_REJECTED; /* GitHub answers errors with 200 */
    }
    t->access_token = opt_str(j, "access_token", &bad);
    t->token_type = opt_str(j, "token_type", &bad);
    t->id_token = opt_str(j, "id_token", &bad);
    t->refresh_token = opt_str(j, "refresh_token", &bad);
    t->scope = opt_str(j, "scope", &bad);
    ei = json_object_get(j, "expires_in");
    if (ei != NULL && !json_is_null(ei) && af_oidc_expires_in(&t->expires_in, ei) != APR_SUCCESS) {
        bad = 1;
    }
    if (bad || t->access_token == NULL) {
        return AF_EOIDC_TOKEN_RESPONSE;
    }
    if (t->token_type == NULL || strcasecmp(t->token_type, "Bearer") != 0) {
        return AF_EOIDC_TOKEN_TYPE;
    }
    if (want_id_token && t->id_token == NULL) {
        return AF_EOIDC_NO_ID_TOKEN;
    }
    *out = t;
    return APR_SUCCESS;
}

apr_status_t af_oidc_code_exchange(af_oidc_tokens_t **out, const af_oidc_provider_t *prov,
                                   const af_oidc_meta_t *meta, const char *code,
                                   const char *verifier, const char *state, apr_pool_t *p)
{
    af_http_request_t req;
    af_http_response_t *resp = NULL;
    apr_status_t rv;

    *out = NULL;
    if ((rv = af_oidc_token_request(&req, prov, meta, code, verifier, state, p)) != APR_SUCCESS) {
        goto leave;
    }
    if ((rv = af_oidc_idp_perform(&resp, prov, &req, p, p)) != APR_SUCCESS) {
        if (rv != AF_EOIDC_IDP_BUSY && rv != AF_EOIDC_IDP_UNAVAILABLE) {
            af_log_p(p, AF_LOG_WARNING, "AF05010", "provider %s: token endpoint: %s", prov->name,
                     af_strerror(rv));
        }
        rv = af_oidc_http_error(rv);
        goto leave;
    }
    rv = af_oidc_token_response_parse(out, resp->status, resp->body, resp->body_len,
                                      prov->kind == AF_OIDC_KIND_OIDC, p);
    if (rv != APR_SUCCESS) {
        af_log_p(p, AF_LOG_INFO, "AF05011", "provider %s: token endpoint answered %d: %s",
                 prov->name, resp->status, af_strerror(rv));
    }
leave:
    return rv;
}
