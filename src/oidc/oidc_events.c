/* oidc_events.c -- provider account events (POST <endpoint>/events/NAME): one function per
 * provider kind turns the request (headers, body) into "revoke every login of subject S"
 * or a rejection code; src/session does the revoking.  Kakao: unlink callbacks. */
#include <string.h>
#include <apr_strings.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "common/af_form.h"
#include "oidc/af_oidc.h"

#define EVENT_FORM_MAX    4096 /* bytes of a Kakao callback body */
#define EVENT_FORM_PARAMS 16
#define KAKAO_ID_MAX      20 /* digits of app_id / user_id (64-bit numbers) */
#define REFERRER_MAX      64

apr_status_t af_oidc_kakao_ak_check(const char *authorization, const char *admin_key)
{
    static const char scheme[] = "KakaoAK ";
    unsigned char got[SHA256_DIGEST_LENGTH], want[SHA256_DIGEST_LENGTH];
    const char *key;

    if (authorization == NULL || admin_key == NULL || *admin_key == '\0' ||
        strncmp(authorization, scheme, sizeof(scheme) - 1) != 0) {
        return AF_EOIDC_EVENT_AUTH;
    }
    key = authorization + sizeof(scheme) - 1;
    /* equal digests of equal-length inputs: the comparison takes the same time whatever
     * the presented key's length or content */
    SHA256((const unsigned char *) key, strlen(key), got);
    SHA256((const unsigned char *) admin_key, strlen(admin_key), want);
    if (CRYPTO_memcmp(got, want, sizeof(got)) != 0 || strlen(key) != strlen(admin_key)) {
        return AF_EOIDC_EVENT_AUTH;
    }
    return APR_SUCCESS;
}

static int all_of(const char *s, apr_size_t max, int upper_ok)
{
    apr_size_t n = s != NULL ? strlen(s) : 0, i;

    if (n == 0 || n > max) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (upper_ok && ((c >= 'A' && c <= 'Z') || c == '_')))) {
            return 0;
        }
    }
    return 1;
}

static int form_encoded(const char *ct)
{
    static const char want[] = "application/x-www-form-urlencoded";
    apr_size_t n = sizeof(want) - 1;

    return ct != NULL && strncasecmp(ct, want, n) == 0 &&
           (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* Kakao unlink callback: Authorization: KakaoAK <admin key>; form app_id, user_id,
 * referrer_type (ACCOUNT_DELETE, FORCED_ACCOUNT_DELETE, UNLINK_FROM_APPS, ...). */
static apr_status_t kakao_unlink(af_oidc_event_t *ev, const af_oidc_provider_t *prov,
                                 const af_oidc_event_in_t *in, apr_pool_t *p)
{
    static const char *const names[] = {"app_id", "user_id", "referrer_type"};
    apr_array_header_t *pairs = NULL;
    const char *vals[3];

    if (prov->admin_key == NULL) {
        return AF_EOIDC_EVENT_UNSUPPORTED; /* nothing to check a callback against */
    }
    if (af_oidc_kakao_ak_check(in->authorization, prov->admin_key) != APR_SUCCESS) {
        return AF_EOIDC_EVENT_AUTH;
    }
    if (!form_encoded(in->content_type) || in->body == NULL ||
        memchr(in->body, '\0', in->body_len) != NULL ||
        af_form_parse(&pairs, in->body, EVENT_FORM_PARAMS, EVENT_FORM_MAX, 0, p) != APR_SUCCESS ||
        af_form_pick(vals, names, 3, pairs) != APR_SUCCESS) {
        return AF_EOIDC_EVENT_MALFORMED;
    }
    if (!all_of(vals[0], KAKAO_ID_MAX, 0) || !all_of(vals[1], KAKAO_ID_MAX, 0) ||
        (vals[2] != NULL && !all_of(vals[2], REFERRER_MAX, 1))) {
        return AF_EOIDC_EVENT_MALFORMED;
    }
    ev->sub = vals[1];
    ev->kind = apr_pstrcat(p, "unlink:", vals[2] != NULL ? vals[2] : "-", NULL);
    ev->revoke = 1;
    return APR_SUCCESS;
}

apr_status_t af_oidc_event_parse(af_oidc_event_t **out, const af_oidc_provider_t *prov,
                                 const af_oidc_event_in_t *in, apr_pool_t *p)
{
    af_oidc_event_t *ev = apr_pcalloc(p, sizeof(*ev));
    apr_status_t rv;

    *out = NULL;
    switch (prov->preset) {
    case AF_OIDC_PRESET_KAKAO:
        rv = kakao_unlink(ev, prov, in, p);
        break;
    default:
        rv = AF_EOIDC_EVENT_UNSUPPORTED;
        break;
    }
    if (rv == APR_SUCCESS) {
        *out = ev;
    }
    return rv;
}
