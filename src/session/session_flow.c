/* session_flow.c -- the sealed flow cookie: this browser's pending logins (see af_session.h). */
#include <string.h>

#include <apr_strings.h>
#include <openssl/crypto.h>

#include "common/af_cookie.h"
#include "common/af_json.h"
#include "session/af_session.h"

apr_array_header_t *af_session_flows_read(const af_site_t *site, const char *cookie,
                                          apr_int64_t now, apr_pool_t *p)
{
    apr_array_header_t *out = apr_array_make(p, AF_SESSION_FLOW_MAX + 1, sizeof(af_oidc_flow_t *));
    const char *blob = NULL;
    unsigned char *data = NULL;
    apr_size_t len = 0, i;
    json_t *doc = NULL, *arr;
    af_oidc_flow_t *flow;

    if (site->flow_key == NULL ||
        af_cookie_get(&blob, cookie, site->cookie_flow, p) != APR_SUCCESS || *blob == '\0' ||
        strlen(blob) > AF_COOKIE_MAX) {
        return out;
    }
    if (af_token_unseal(&data, &len, site->flow_key, blob, strlen(blob), now, p) != APR_SUCCESS ||
        af_json_parse(&doc, (const char *) data, len, AF_COOKIE_MAX, p) != APR_SUCCESS) {
        return out;
    }
    arr = json_object_get(doc, "flows");
    for (i = 0; json_is_array(arr) && i < json_array_size(arr) && i < AF_SESSION_FLOW_MAX; i++) {
        const char *txt = af_json_dump(json_array_get(arr, i), p);

        if (txt != NULL && af_oidc_flow_from_json(&flow, txt, strlen(txt), p) == APR_SUCCESS &&
            flow->created <= now + 60 && now - flow->created <= AF_SESSION_FLOW_MAX_AGE) {
            APR_ARRAY_PUSH(out, af_oidc_flow_t *) = flow;
        }
    }
    return out;
}

apr_status_t af_session_flows_cookie(const char **set_cookie, const af_site_t *site,
                                     const apr_array_header_t *flows, apr_int64_t now,
                                     apr_pool_t *p)
{
    apr_size_t room = AF_COOKIE_MAX - strlen(site->cookie_flow) - 1;
    int first = flows->nelts > AF_SESSION_FLOW_MAX ? flows->nelts - AF_SESSION_FLOW_MAX : 0, i;
    const char *blob = NULL, *txt;
    json_t *doc, *arr;
    apr_status_t rv;

    *set_cookie = NULL;
    if (site->flow_key == NULL) {
        return AF_EINTERNAL;
    }
    for (; first < flows->nelts; first++) {
        doc = af_json_pool_own(json_object(), p);
        arr = json_array();
        json_object_set_new(doc, "flows", arr);
        for (i = first; i < flows->nelts; i++) {
            json_t *f = NULL;

            txt = af_oidc_flow_to_json(APR_ARRAY_IDX(flows, i, af_oidc_flow_t *), p);
            if (txt == NULL || af_json_parse(&f, txt, strlen(txt), 0, p) != APR_SUCCESS) {
                return AF_EINTERNAL;
            }
            json_array_append(arr, f);
        }
        if ((txt = af_json_dump(doc, p)) == NULL) {
            return AF_EINTERNAL;
        }
        rv =
            af_token_seal(&blob, site->flow_key, txt, strlen(txt), now, AF_SESSION_FLOW_MAX_AGE, p);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        if (strlen(blob) <= room) {
            *set_cookie =
                af_session_set_cookie(site, site->cookie_flow, blob, AF_SESSION_FLOW_MAX_AGE, 1, p);
            return APR_SUCCESS;
        }
    }
    *set_cookie = af_session_set_cookie(site, site->cookie_flow, NULL, 0, 1, p);
    return APR_SUCCESS;
}

af_oidc_flow_t *af_session_flow_take(apr_array_header_t *flows, const char *state)
{
    apr_size_t n = state ? strlen(state) : 0;
    af_oidc_flow_t *f;
    int i, j;

    for (i = 0; n > 0 && i < flows->nelts; i++) {
        f = APR_ARRAY_IDX(flows, i, af_oidc_flow_t *);
        if (strlen(f->state) == n && CRYPTO_memcmp(f->state, state, n) == 0) {
            for (j = i + 1; j < flows->nelts; j++) {
                APR_ARRAY_IDX(flows, j - 1, af_oidc_flow_t *) =
                    APR_ARRAY_IDX(flows, j, af_oidc_flow_t *);
            }
            flows->nelts--;
            return f;
        }
    }
    return NULL;
}
