/* oidc_userinfo.c -- userinfo (OIDC Core §5.3, E12), GitHub's /user and /user/emails (D16),
 * and the identity: subject, standard claims, Claim mappings, verified email only. */
#include <string.h>
#include <apr_strings.h>
#include <apr_uri.h>

#include "common/af_json.h"
#include "common/af_log.h"
#include "oidc/af_oidc.h"

#define USERINFO_MAX (256 * 1024)
#define SUB_MAX      255

/* Parse a JSON value of any top-level type strictly, by wrapping it in an object. */
static apr_status_t parse_any(json_t **out, const char *body, apr_size_t len, apr_pool_t *p)
{
    json_t *w = NULL;
    char *text;

    *out = NULL;
    if (body == NULL || len > USERINFO_MAX) {
        return AF_EOIDC_USERINFO;
    }
    text = apr_palloc(p, len + 7);
    memcpy(text, "{\"v\":", 5);
    memcpy(text + 5, body, len);
    memcpy(text + 5 + len, "}", 2);
    if (memchr(body, '\0', len) != NULL ||
        af_json_parse(&w, text, len + 6, USERINFO_MAX + 8, p) != APR_SUCCESS) {
        return AF_EOIDC_USERINFO;
    }
    *out = json_object_get(w, "v");
    return APR_SUCCESS;
}

static apr_status_t get_json(json_t **out, const af_oidc_provider_t *prov, const char *url,
                             const char *access_token, apr_pool_t *p)
{
    af_http_request_t req;
    af_http_response_t *resp = NULL;
    apr_status_t rv;

    *out = NULL;
    memset(&req, 0, sizeof(req));
    req.method = "GET";
    req.url = url;
    req.headers = apr_table_make(p, 3);
    apr_table_setn(req.headers, "Authorization", apr_pstrcat(p, "Bearer ", access_token, NULL));
    apr_table_setn(req.headers, "Accept", "application/json");
    apr_table_setn(req.headers, "User-Agent", "mod_authflow");
    req.timeout = prov->timeout;
    req.max_response = USERINFO_MAX;
    req.ca_file = prov->ca_file;
    if ((rv = af_oidc_idp_perform(&resp, prov, &req, p, p)) != APR_SUCCESS) {
        return af_oidc_http_error(rv);
    }
    if (resp->status != 200) {
        return resp->status >= 500 ? AF_EOIDC_IDP_FAILED : AF_EOIDC_USERINFO;
    }
    return parse_any(out, resp->body, resp->body_len, p);
}

apr_status_t af_oidc_userinfo_get(json_t **out, const af_oidc_provider_t *prov, const char *url,
                                  const char *access_token, apr_pool_t *p)
{
    json_t *j = NULL;
    apr_status_t rv;

    *out = NULL;
    if (access_token == NULL || url == NULL) {
        return AF_EOIDC_USERINFO;
    }
    rv = get_json(&j, prov, url, access_token, p);
    if (rv == APR_SUCCESS && !json_is_object(j) &&
        !(json_is_array(j) && url == prov->emails_endpoint)) {
        rv = AF_EOIDC_USERINFO;
    }
    if (rv != APR_SUCCESS) {
        af_log_p(p, AF_LOG_INFO, "AF05040", "provider %s: userinfo rejected: %s", prov->name,
                 af_strerror(rv));
        return rv;
    }
    *out = j;
    return APR_SUCCESS;
}

const char *af_oidc_github_pick_email(const json_t *emails)
{
    size_t i;

    for (i = 0; json_is_array(emails) && i < json_array_size(emails); i++) {
        const json_t *e = json_array_get(emails, i);
        const json_t *addr = json_object_get(e, "email");
        if (json_is_true(json_object_get(e, "verified")) &&
            json_is_true(json_object_get(e, "primary")) && json_is_string(addr) &&
            json_string_length(addr) > 0 &&
            strlen(json_string_value(addr)) == json_string_length(addr)) {
            return json_string_value(addr);
        }
    }
    return NULL;
}

static const char *subject_string(const json_t *v, apr_pool_t *p)
{
    const char *s;

    if (json_is_integer(v)) {
        if (json_integer_value(v) < 0) {
            return NULL;
        }
        return apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t) json_integer_value(v));
    }
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > SUB_MAX) {
        return NULL;
    }
    for (s = json_string_value(v); *s; s++) {
        if ((unsigned char) *s < 0x20 || *s == 0x7f) {
            return NULL;
        }
    }
    return json_string_value(v);
}

static const char *origin_of(const char *url, apr_pool_t *p)
{
    apr_uri_t u;

    if (url == NULL || apr_uri_parse(p, url, &u) != APR_SUCCESS || u.scheme == NULL ||
        u.hostinfo == NULL) {
        return NULL;
    }
    return apr_pstrcat(p, u.scheme, "://", u.hostinfo, NULL);
}

static json_t *lookup(const json_t *ui, const json_t *idc, const char *path)
{
    json_t *v = ui != NULL ? af_json_path(ui, path) : NULL;

    if (v == NULL && idc != NULL) {
        v = af_json_path(idc, path);
    }
    return v;
}

/* The id_token's sid (the IdP session, OIDC Front/Back-Channel Logout): 1..AF_OIDC_SID_MAX
 * printable characters, else NULL. */
static const char *idp_session(const json_t *id_claims)
{
    const json_t *v = json_object_get(id_claims, "sid");
    apr_size_t i, n;

    if (!json_is_string(v) || (n = json_string_length(v)) == 0 || n > AF_OIDC_SID_MAX ||
        strlen(json_string_value(v)) != n) {
        return NULL;
    }
    for (i = 0; i < n; i++) {
        unsigned char ch = (unsigned char) json_string_value(v)[i];
        if (ch < 0x20 || ch == 0x7f) {
            return NULL;
        }
    }
    return json_string_value(v);
}

apr_status_t af_oidc_identity_build(af_oidc_identity_t **out, const af_oidc_provider_t *prov,
                                    const af_oidc_meta_t *meta, const json_t *id_claims,
                                    const json_t *userinfo, const char *github_email, apr_pool_t *p)
{
    static const char *const standard[] = {
        "email",   "email_verified", "name",   "given_name", "family_name", "preferred_username",
        "picture", "locale",         "groups", "hd"};
    af_oidc_identity_t *id = apr_pcalloc(p, sizeof(*id));
    json_t *claims = af_json_pool_own(json_object(), p);
    const json_t *subv;
    apr_size_t i;
    apr_status_t rv;
    int k;

    *out = NULL;
    if (userinfo != NULL) {
        /* Kakao's /v2/user/me, Naver's /v1/nid/me: the standard claims added */
        json_t *norm = NULL;
        if ((rv = af_oidc_profile_normalize(&norm, prov, userinfo, p)) != APR_SUCCESS) {
            return rv;
        }
        userinfo = norm;
    }
    if (prov->kind == AF_OIDC_KIND_OIDC) {
        const json_t *isub = json_object_get(id_claims, "sub");
        if (id_claims == NULL || !json_is_string(isub)) {
            return AF_EOIDC_SUB;
        }
        if (userinfo != NULL) {
            /* E12: the userinfo response must be about the id_token's subject */
            const json_t *usub = json_object_get(userinfo, "sub");
            if (!json_is_string(usub) ||
                strcmp(json_string_value(usub), json_string_value(isub)) != 0) {
                return AF_EOIDC_USERINFO_SUB;
            }
        }
        id->issuer = json_string_value(json_object_get(id_claims, "iss"));
        subv = strcmp(prov->subject_claim, "sub") == 0
                   ? isub
                   : lookup(userinfo, id_claims, prov->subject_claim);
    } else {
        if (userinfo == NULL) {
            return AF_EOIDC_USERINFO;
        }
        id->issuer =
            prov->issuer != NULL ? prov->issuer : origin_of(meta->authorization_endpoint, p);
        subv = af_json_path(userinfo, prov->subject_claim);
    }
    id->sub = subject_string(subv, p);
    if (id->sub == NULL || id->issuer == NULL) {
        return AF_EOIDC_SUB;
    }
    id->provider = prov->name;

    for (i = 0; i < sizeof(standard) / sizeof(standard[0]); i++) {
        json_t *v = lookup(userinfo, id_claims, standard[i]);
        if (v != NULL) {
            json_object_set_new(claims, standard[i], json_deep_copy(v));
        }
    }
    for (k = 0; k < prov->claims->nelts; k++) {
        const af_oidc_kv_t *kv = &APR_ARRAY_IDX(prov->claims, k, af_oidc_kv_t);
        json_t *v = lookup(userinfo, id_claims, kv->value);
        if (v != NULL) {
            json_object_set_new(claims, kv->key, json_deep_copy(v));
        }
    }
    /* D16: email only when verified: GitHub by /user/emails, everyone else by EmailVerified
     * (claim: the IdP's email_verified, true or "true"; never; always) */
    if (prov->preset == AF_OIDC_PRESET_GITHUB) {
        json_object_del(claims, "email");
        json_object_del(claims, "email_verified");
        if (github_email != NULL && prov->email_verified != AF_OIDC_EV_NEVER) {
            /* /user/emails says verified; EmailVerified never still wins */
            json_object_set_new(claims, "email", json_string(github_email));
            json_object_set_new(claims, "email_verified", json_true());
        }
    } else {
        af_oidc_email_decide(claims, prov->email_verified); /* EmailVerified */
        {
            /* Apple sends is_private_email as the string "true" / "false": a boolean */
            json_t *v = lookup(userinfo, id_claims, "is_private_email");
            int b = af_oidc_claim_bool(v);

            if (v != NULL && b >= 0) {
                json_object_set_new(claims, "is_private_email", json_boolean(b));
            }
        }
    }
    /* step-up claims come from the verified id_token only, never from userinfo or a Claim
     * mapping (the callback checked them against what the login asked for) */
    json_object_del(claims, "auth_time");
    json_object_del(claims, "acr");
    json_object_del(claims, "amr");
    if (id_claims != NULL) {
        const json_t *at = json_object_get(id_claims, "auth_time");
        const json_t *acr = json_object_get(id_claims, "acr");
        const json_t *amr = json_object_get(id_claims, "amr");

        if (json_is_number(at) && json_number_value(at) > 0 &&
            json_number_value(at) < 253402300800.0) {
            id->auth_time = (apr_int64_t) json_number_value(at);
        }
        if (json_is_string(acr) && json_string_length(acr) <= 256) {
            json_object_set_new(claims, "acr", json_deep_copy(acr));
        }
        if (json_is_array(amr) && json_array_size(amr) <= 16) {
            json_object_set_new(claims, "amr", json_deep_copy(amr));
        }
    }
    json_object_set_new(claims, "sub", json_string(id->sub));
    id->claims = claims;
    id->idp_sid = idp_session(id_claims);
    *out = id;
    return APR_SUCCESS;
}
