/* oidc_profile.c -- provider-shaped profile APIs turned into the standard claims (Kakao's
 * /v2/user/me, Naver's /v1/nid/me), strict booleans, and the EmailVerified rule (D16). */
#include <string.h>
#include <apr_strings.h>

#include "common/af_json.h"
#include "oidc/af_oidc.h"

int af_oidc_bool_true(const json_t *v)
{
    return af_oidc_claim_bool(v) == 1; /* one rule for "true" strings (oidc_util.c) */
}

/* a non-empty string member without NUL, else NULL */
static json_t *str_at(const json_t *j, const char *path)
{
    json_t *v = af_json_path(j, path);

    if (!json_is_string(v) || json_string_length(v) == 0 ||
        strlen(json_string_value(v)) != json_string_length(v)) {
        return NULL;
    }
    return v;
}

static void set_from(json_t *out, const char *name, const json_t *src, const char *path)
{
    json_t *v = str_at(src, path);

    if (v != NULL) {
        json_object_set_new(out, name, json_deep_copy(v));
    } else {
        json_object_del(out, name); /* never a raw member of that name of another meaning */
    }
}

/* Kakao's REST profile: {"id": 123, "kakao_account": {"email", "is_email_valid",
 * "is_email_verified", "profile": {"nickname", "profile_image_url"}}}.  Kakao's docs ask a
 * service that uses the address to check both flags. */
static apr_status_t kakao(json_t *out, const json_t *ui, apr_pool_t *p)
{
    const json_t *id = json_object_get(ui, "id"), *acct = json_object_get(ui, "kakao_account");

    if (json_object_get(ui, "sub") != NULL) {
        return APR_SUCCESS; /* the OIDC userinfo (/v1/oidc/userinfo): standard already */
    }
    if (!json_is_integer(id) || json_integer_value(id) <= 0) {
        return AF_EOIDC_USERINFO;
    }
    json_object_set_new(
        out, "sub",
        json_string(apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t) json_integer_value(id))));
    set_from(out, "email", acct, "email");
    set_from(out, "name", acct, "profile.nickname");
    set_from(out, "picture", acct, "profile.profile_image_url");
    json_object_set_new(
        out, "email_verified",
        json_boolean(af_oidc_bool_true(json_object_get(acct, "is_email_valid")) &&
                     af_oidc_bool_true(json_object_get(acct, "is_email_verified"))));
    return APR_SUCCESS;
}

/* Naver's profile: {"resultcode": "00", "message": "success", "response": {"id", "email",
 * "name", "nickname", "profile_image", ...}}; anything but "00" is a failure. */
static apr_status_t naver(json_t *out, const json_t *ui)
{
    const json_t *rc = json_object_get(ui, "resultcode"), *resp = json_object_get(ui, "response");

    if (!json_is_string(rc) || strcmp(json_string_value(rc), "00") != 0 ||
        json_string_length(rc) != 2) {
        return AF_EOIDC_PROFILE_RESULT;
    }
    if (!json_is_object(resp)) {
        return AF_EOIDC_USERINFO;
    }
    set_from(out, "email", resp, "email");
    set_from(out, "name", resp, "name");
    set_from(out, "preferred_username", resp, "nickname");
    set_from(out, "picture", resp, "profile_image");
    json_object_del(out, "email_verified"); /* Naver has no such flag */
    return APR_SUCCESS;
}

apr_status_t af_oidc_profile_normalize(json_t **out, const af_oidc_provider_t *prov,
                                       const json_t *userinfo, apr_pool_t *p)
{
    json_t *o;
    apr_status_t rv = APR_SUCCESS;

    *out = NULL;
    if (!json_is_object(userinfo)) {
        return AF_EOIDC_USERINFO;
    }
    if (prov->preset != AF_OIDC_PRESET_KAKAO && prov->preset != AF_OIDC_PRESET_NAVER) {
        *out = (json_t *) userinfo;
        return APR_SUCCESS;
    }
    /* the raw members stay (Claim paths such as response.mobile keep working) */
    o = af_json_pool_own(json_deep_copy(userinfo), p);
    if (o == NULL) {
        return AF_EINTERNAL;
    }
    rv = prov->preset == AF_OIDC_PRESET_KAKAO ? kakao(o, userinfo, p) : naver(o, userinfo);
    if (rv == APR_SUCCESS) {
        *out = o;
    }
    return rv;
}

void af_oidc_email_decide(json_t *claims, af_oidc_email_verified_t mode)
{
    const json_t *email = str_at(claims, "email");
    const json_t *ev = json_object_get(claims, "email_verified");
    int verified =
        mode == AF_OIDC_EV_ALWAYS ||
        ((mode == AF_OIDC_EV_CLAIM || mode == AF_OIDC_EV_DEFAULT) && af_oidc_bool_true(ev));

    if (email != NULL && verified) {
        json_object_set_new(claims, "email_verified", json_true());
        return;
    }
    json_object_del(claims, "email");
    if (ev != NULL) {
        json_object_set_new(claims, "email_verified",
                            json_boolean(verified && mode != AF_OIDC_EV_ALWAYS));
    }
}
