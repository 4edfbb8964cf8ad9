/* oidc_discovery.c -- OpenID Provider metadata (Discovery 1.0 §4, E15) and the provider's
 * JWKS (through the per-process cache of src/http/af_jwks_cache, E16/C06).  Both fetch
 * through af_oidc_idp_perform, behind the provider's outbound guard. */
#include <string.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>

#include "common/af_json.h"
#include "common/af_log.h"
#include "http/af_http_errors.h"
#include "http/af_jwks_cache.h"
#include "jose/af_jose_errors.h"
#include "common/af_url.h"
#include "oidc/af_oidc.h"
#include "oidc/oidc_int.h"

#define DISCOVERY_MAX (256 * 1024)
#define META_REFRESH  3600  /* seconds: refetch metadata this old */
#define META_MAX_AGE  86400 /* seconds: use old metadata at most this long on failures */
#define META_RETRY    5     /* seconds after the end of a failed attempt before the next */
#define WELL_KNOWN    "/.well-known/openid-configuration"

static apr_status_t runtime_cleanup(void *baton);

apr_status_t af_oidc_runtime_init(af_oidc_provider_t *prov, apr_pool_t *child_pool)
{
    af_oidc_runtime_t *rt = apr_pcalloc(child_pool, sizeof(*rt));
    apr_status_t rv;

    rv = apr_thread_mutex_create(&rt->mu, APR_THREAD_MUTEX_DEFAULT, child_pool);
    if (rv == APR_SUCCESS) {
        rv = apr_thread_mutex_create(&rt->fetch_mu, APR_THREAD_MUTEX_DEFAULT, child_pool);
    }
    if (rv == APR_SUCCESS) {
        rv = apr_pool_create_unmanaged_ex(&rt->cache_pool, NULL, NULL);
    }
    if (rv == APR_SUCCESS) {
        apr_pool_cleanup_register(child_pool, rt, runtime_cleanup, apr_pool_cleanup_null);
        prov->rt = rt;
    }
    return rv;
}

static const char *meta_str(const json_t *j, const char *k, int required, int *bad)
{
    const json_t *v = json_object_get(j, k);

    if (v == NULL || json_is_null(v)) {
        if (required) {
            *bad = 1;
        }
        return NULL;
    }
    if (!json_is_string(v) || !af_url_ok(json_string_value(v))) {
        *bad = 1;
        return NULL;
    }
    return json_string_value(v);
}

static void apply_overrides(af_oidc_meta_t *m, const af_oidc_provider_t *prov)
{
    if (prov->authorization_endpoint != NULL) {
        m->authorization_endpoint = prov->authorization_endpoint;
    }
    if (prov->token_endpoint != NULL) {
        m->token_endpoint = prov->token_endpoint;
    }
    if (prov->userinfo_endpoint != NULL) {
        m->userinfo_endpoint = prov->userinfo_endpoint;
    }
    if (prov->jwks_uri != NULL) {
        m->jwks_uri = prov->jwks_uri;
    }
    if (prov->end_session_endpoint != NULL) {
        m->end_session_endpoint = prov->end_session_endpoint;
    }
}

af_oidc_meta_t *af_oidc_meta_from_config(const af_oidc_provider_t *prov, apr_pool_t *p)
{
    af_oidc_meta_t *m = apr_pcalloc(p, sizeof(*m));

    m->issuer = prov->issuer;
    m->id_token_algs = apr_array_make(p, 1, sizeof(const char *));
    apply_overrides(m, prov);
    return m;
}

apr_status_t af_oidc_discovery_parse(af_oidc_meta_t **out, const af_oidc_provider_t *prov,
                                     const char *body, apr_size_t len, apr_pool_t *p)
{
    af_oidc_meta_t *m = apr_pcalloc(p, sizeof(*m));
    json_t *j = NULL, *v;
    int bad = 0;
    apr_size_t i;

    *out = NULL;
    if (body == NULL || af_json_parse(&j, body, len, DISCOVERY_MAX, p) != APR_SUCCESS) {
        return AF_EOIDC_DISCOVERY;
    }
    v = json_object_get(j, "issuer");
    if (!json_is_string(v)) {
        return AF_EOIDC_DISCOVERY;
    }
    /* E15: byte for byte, no normalisation (trailing slash, case) */
    if (prov->issuer == NULL || json_string_length(v) != strlen(prov->issuer) ||
        memcmp(json_string_value(v), prov->issuer, strlen(prov->issuer)) != 0) {
        return AF_EOIDC_DISCOVERY_ISS;
    }
    m->issuer = json_string_value(v);
    m->authorization_endpoint = meta_str(j, "authorization_endpoint", 1, &bad);
    m->token_endpoint = meta_str(j, "token_endpoint", 1, &bad);
    m->jwks_uri = meta_str(j, "jwks_uri", prov->jwks_uri == NULL, &bad);
    m->userinfo_endpoint = meta_str(j, "userinfo_endpoint", 0, &bad);
    m->end_session_endpoint = meta_str(j, "end_session_endpoint", 0, &bad);
    v = json_object_get(j, "authorization_response_iss_parameter_supported");
    if (v != NULL && !json_is_boolean(v)) {
        bad = 1;
    }
    m->iss_parameter_supported = json_is_true(v);
    m->id_token_algs = apr_array_make(p, 4, sizeof(const char *));
    v = json_object_get(j, "id_token_signing_alg_values_supported");
    if (v != NULL && !json_is_array(v)) {
        bad = 1;
    }
    for (i = 0; json_is_array(v) && i < json_array_size(v); i++) {
        const json_t *a = json_array_get(v, i);
        if (!json_is_string(a)) {
            bad = 1;
            break;
        }
        APR_ARRAY_PUSH(m->id_token_algs, const char *) = json_string_value(a);
    }
    if (bad) {
        return AF_EOIDC_DISCOVERY;
    }
    apply_overrides(m, prov);
    *out = m;
    return APR_SUCCESS;
}

static int needs_discovery(const af_oidc_provider_t *prov)
{
    return prov->kind == AF_OIDC_KIND_OIDC &&
           !(prov->authorization_endpoint != NULL && prov->token_endpoint != NULL &&
             prov->jwks_uri != NULL);
}

static int refused(apr_status_t rv)
{
    return rv == AF_EOIDC_IDP_BUSY || rv == AF_EOIDC_IDP_UNAVAILABLE;
}

/* One fetch of the discovery document; the guard's lease is on lease_pool. */
static apr_status_t discover(af_oidc_meta_t **out, const af_oidc_provider_t *prov,
                             apr_pool_t *lease_pool, apr_pool_t *p)
{
    af_http_request_t req;
    af_http_response_t *resp = NULL;
    apr_size_t n = strlen(prov->issuer);
    apr_status_t rv;

    memset(&req, 0, sizeof(req));
    req.method = "GET";
    req.url = apr_pstrcat(
        p, apr_pstrndup(p, prov->issuer, n > 0 && prov->issuer[n - 1] == '/' ? n - 1 : n),
        WELL_KNOWN, NULL);
    req.headers = apr_table_make(p, 1);
    apr_table_setn(req.headers, "Accept", "application/json");
    req.timeout = prov->timeout;
    req.max_response = DISCOVERY_MAX;
    req.ca_file = prov->ca_file;
    if ((rv = af_oidc_idp_perform(&resp, prov, &req, lease_pool, p)) != APR_SUCCESS) {
        rv = af_oidc_http_error(rv);
    } else if (resp->status >= 500) {
        rv = AF_EOIDC_IDP_FAILED;
    } else if (resp->status != 200) {
        rv = AF_EOIDC_DISCOVERY;
    } else {
        rv = af_oidc_discovery_parse(out, prov, resp->body, resp->body_len, p);
    }
    if (rv != APR_SUCCESS && !refused(rv)) {
        af_log_p(lease_pool, AF_LOG_WARNING, "AF05030", "provider %s: discovery at %s failed: %s",
                 prov->name, req.url, af_strerror(rv));
    }
    return rv;
}

static const char *dup_or_null(apr_pool_t *p, const char *s)
{
    return s != NULL ? apr_pstrdup(p, s) : NULL;
}

static af_oidc_meta_t *meta_copy(const af_oidc_meta_t *m, apr_pool_t *p)
{
    af_oidc_meta_t *c = apr_pmemdup(p, m, sizeof(*m));
    int i;

    c->issuer = dup_or_null(p, m->issuer);
    c->authorization_endpoint = dup_or_null(p, m->authorization_endpoint);
    c->token_endpoint = dup_or_null(p, m->token_endpoint);
    c->userinfo_endpoint = dup_or_null(p, m->userinfo_endpoint);
    c->jwks_uri = dup_or_null(p, m->jwks_uri);
    c->end_session_endpoint = dup_or_null(p, m->end_session_endpoint);
    c->id_token_algs = apr_array_make(p, m->id_token_algs->nelts + 1, sizeof(const char *));
    for (i = 0; i < m->id_token_algs->nelts; i++) {
        APR_ARRAY_PUSH(c->id_token_algs, const char *) =
            apr_pstrdup(p, APR_ARRAY_IDX(m->id_token_algs, i, const char *));
    }
    return c;
}

/* Under rt->mu: the cached metadata when fresh enough, else NULL. */
static int meta_cached(const af_oidc_meta_t **out, af_oidc_runtime_t *rt, apr_int64_t now,
                       apr_int64_t max_age, apr_pool_t *p)
{
    if (rt->meta != NULL && now - rt->meta_at < max_age) {
        *out = meta_copy(rt->meta, p);
        return 1;
    }
    return 0;
}

static apr_status_t meta_pool_cleanup(void *baton)
{
    af_oidc_runtime_t *rt = baton;

    if (rt->meta_pool != NULL) {
        apr_pool_destroy(rt->meta_pool);
        rt->meta_pool = NULL;
    }
    return APR_SUCCESS;
}

static apr_status_t runtime_cleanup(void *baton)
{
    af_oidc_runtime_t *rt = baton;

    meta_pool_cleanup(rt);
    if (rt->cache_pool != NULL) {
        apr_pool_destroy(rt->cache_pool);
        rt->cache_pool = NULL;
        rt->jwks = NULL;
    }
    return APR_SUCCESS;
}

/* One fetch, by the thread holding rt->fetch_mu; installs the result.  A failure throttles
 * the next attempt for META_RETRY seconds from the end of this one, in this process
 * (rt->meta_tried, module clock) and in every other (the guard's shared throttle). */
static apr_status_t meta_refresh(const af_oidc_meta_t **out, af_oidc_provider_t *prov,
                                 apr_int64_t now, apr_pool_t *p)
{
    af_oidc_runtime_t *rt = prov->rt;
    af_oidc_meta_t *fresh = NULL;
    apr_pool_t *np = NULL;
    apr_time_t t0 = apr_time_now();
    apr_status_t rv;

    /* an unmanaged pool: no parent shared with other threads; replaced under rt->mu */
    rv = apr_pool_create_unmanaged_ex(&np, NULL, NULL);
    if (rv == APR_SUCCESS) {
        rv = discover(&fresh, prov, p, np);
    } else {
        np = NULL;
    }
    if (prov->guard != NULL && rv == APR_SUCCESS) {
        af_oidc_guard_throttle_clear(prov->guard);
    } else if (prov->guard != NULL && !refused(rv)) {
        af_oidc_guard_throttle_set(prov->guard, rv, apr_time_now() + apr_time_from_sec(META_RETRY));
    }
    apr_thread_mutex_lock(rt->mu);
    rt->fetching = 0;
    if (refused(rv)) {
        /* nothing was sent: no attempt to remember */
        if (np != NULL) {
            apr_pool_destroy(np);
        }
        if (meta_cached(out, rt, now, META_MAX_AGE, p)) {
            rv = APR_SUCCESS;
        }
    } else if (rv == APR_SUCCESS) {
        meta_pool_cleanup(rt); /* callers hold copies, never rt->meta itself */
        rt->meta_pool = np;
        rt->meta = fresh;
        rt->meta_at = now;
        rt->meta_error = APR_SUCCESS;
        *out = meta_copy(fresh, p);
    } else {
        if (np != NULL) {
            apr_pool_destroy(np);
        }
        rt->meta_error = rv;
        /* the module clock at the end of the fetch, rounded up */
        rt->meta_tried =
            now + (apr_int64_t) ((apr_time_now() - t0 + APR_USEC_PER_SEC - 1) / APR_USEC_PER_SEC);
        if (meta_cached(out, rt, now, META_MAX_AGE, p)) {
            rv = APR_SUCCESS; /* keep using the old metadata for a while */
        }
    }
    apr_thread_mutex_unlock(rt->mu);
    return rv;
}

apr_status_t af_oidc_meta_get(const af_oidc_meta_t **out, af_oidc_provider_t *prov, apr_int64_t now,
                              apr_pool_t *p)
{
    af_oidc_runtime_t *rt = prov->rt;
    af_oidc_meta_t *fresh = NULL;
    apr_status_t rv = AF_EOIDC_IDP_UNREACHABLE, trv;
    int i, throttled, entered = 0;

    *out = NULL;
    if (!needs_discovery(prov)) {
        *out = af_oidc_meta_from_config(prov, p);
        return APR_SUCCESS;
    }
    if (rt == NULL) {
        rv = discover(&fresh, prov, p, p);
        *out = fresh;
        return rv;
    }
    for (i = 0; i < 2; i++) {
        apr_thread_mutex_lock(rt->mu);
        if (meta_cached(out, rt, now, META_REFRESH, p)) {
            apr_thread_mutex_unlock(rt->mu);
            rv = APR_SUCCESS;
            goto leave;
        }
        throttled =
            !rt->fetching && rt->meta_error != APR_SUCCESS && now - rt->meta_tried < META_RETRY;
        if (throttled) {
            /* a fetch just failed: old metadata while usable, else that failure */
            rv = meta_cached(out, rt, now, META_MAX_AGE, p) ? APR_SUCCESS
                 : rt->meta_error != APR_SUCCESS            ? rt->meta_error
                                                            : AF_EOIDC_IDP_UNREACHABLE;
            apr_thread_mutex_unlock(rt->mu);
            goto leave;
        }
        apr_thread_mutex_unlock(rt->mu);

        /* a fetch of another process just failed, or this request may not wait on the IdP
         * (no lease): old metadata while usable, else the reason */
        trv = prov->guard != NULL ? af_oidc_guard_throttled(prov->guard, apr_time_now())
                                  : APR_SUCCESS;
        if (trv == APR_SUCCESS && !entered) {
            trv = af_oidc_idp_enter(prov, p);
            entered = trv == APR_SUCCESS;
        }
        if (trv != APR_SUCCESS) {
            apr_thread_mutex_lock(rt->mu);
            rv = meta_cached(out, rt, now, META_MAX_AGE, p) ? APR_SUCCESS : trv;
            apr_thread_mutex_unlock(rt->mu);
            goto leave;
        }

        if (apr_thread_mutex_trylock(rt->fetch_mu) != APR_SUCCESS) {
            /* another thread fetches: use what we have, or wait for it and look again */
            apr_thread_mutex_lock(rt->mu);
            if (meta_cached(out, rt, now, META_MAX_AGE, p)) {
                apr_thread_mutex_unlock(rt->mu);
                rv = APR_SUCCESS;
                goto leave;
            }
            apr_thread_mutex_unlock(rt->mu);
            apr_thread_mutex_lock(rt->fetch_mu);
            apr_thread_mutex_unlock(rt->fetch_mu);
            continue;
        }
        /* we fetch, without holding rt->mu: a slow IdP must not block readers */
        apr_thread_mutex_lock(rt->mu);
        rt->fetching = 1;
        apr_thread_mutex_unlock(rt->mu);
        rv = meta_refresh(out, prov, now, p);
        apr_thread_mutex_unlock(rt->fetch_mu);
        goto leave;
    }
leave:
    if (entered) {
        af_oidc_idp_leave(prov, p);
    }
    return rv;
}

static apr_status_t keys_fetch_once(const af_keyset_t **out, const af_oidc_provider_t *prov,
                                    const char *url, apr_pool_t *p)
{
    af_http_request_t req;
    af_http_response_t *resp = NULL;
    af_keyset_t *ks = NULL;
    const char *why = NULL;
    apr_status_t rv;

    memset(&req, 0, sizeof(req));
    req.method = "GET";
    req.url = url;
    req.timeout = prov->timeout;
    req.max_response = AF_JWKS_DEFAULT_MAX_SIZE;
    req.ca_file = prov->ca_file;
    if ((rv = af_oidc_idp_perform(&resp, prov, &req, p, p)) != APR_SUCCESS) {
        if (!refused(rv)) {
            af_metrics_jwks(prov->metrics, 1);
        }
        return af_oidc_http_error(rv);
    }
    if (resp->status != 200) {
        af_metrics_jwks(prov->metrics, 1);
        return resp->status >= 500 ? AF_EOIDC_IDP_FAILED : AF_EOIDC_JWKS;
    }
    rv = af_jwks_load_text(&ks, resp->body, resp->body_len, AF_JWK_PUBLIC_ONLY, 0,
                           AF_JWKS_DEFAULT_MAX_KEYS, &why, p);
    af_metrics_jwks(prov->metrics, rv != APR_SUCCESS);
    if (rv != APR_SUCCESS) {
        return AF_EOIDC_JWKS;
    }
    *out = ks;
    return APR_SUCCESS;
}

/* The JWKS cache's fetches go through the provider's guard, under the caller's lease. */
typedef struct keys_via_t {
    const af_oidc_provider_t *prov;
    apr_pool_t *lease_pool;
    apr_status_t refused; /* why the guard refused the fetch, or APR_SUCCESS */
} keys_via_t;

static apr_status_t keys_perform(af_http_response_t **resp, const af_http_request_t *req,
                                 void *baton, apr_pool_t *p)
{
    keys_via_t *kv = baton;
    apr_status_t rv = af_oidc_idp_perform(resp, kv->prov, req, kv->lease_pool, p);

    if (refused(rv)) {
        kv->refused = rv;
        return AF_EHTTP_REFUSED;
    }
    return rv;
}

apr_status_t af_oidc_keys_get(const af_keyset_t **out, af_oidc_provider_t *prov,
                              const af_oidc_meta_t *meta, const char *refetch_for_kid,
                              apr_int64_t now, apr_pool_t *p)
{
    af_oidc_runtime_t *rt = prov->rt;
    af_jwks_cache_t *cache = NULL;
    af_http_via_t via;
    keys_via_t kv;
    apr_status_t rv = APR_SUCCESS;

    (void) now;
    *out = NULL;
    if (meta->jwks_uri == NULL) {
        return AF_EOIDC_JWKS;
    }
    if (rt == NULL) {
        return keys_fetch_once(out, prov, meta->jwks_uri, p);
    }
    apr_thread_mutex_lock(rt->mu);
    if (rt->jwks == NULL || strcmp(rt->jwks_url, meta->jwks_uri) != 0) {
        af_jwks_opts_t opts;
        memset(&opts, 0, sizeof(opts));
        opts.timeout = prov->timeout;
        opts.ca_file = prov->ca_file;
        opts.metrics = prov->metrics;
        opts.min_interval =
            prov->jwks_refetch_interval > 0 ? prov->jwks_refetch_interval : apr_time_from_sec(10);
        /* a changed jwks_uri (rare) leaves the old cache in cache_pool until exit */
        rv = af_jwks_cache_create(&rt->jwks, meta->jwks_uri, &opts, rt->cache_pool);
        rt->jwks_url = rv == APR_SUCCESS ? apr_pstrdup(rt->cache_pool, meta->jwks_uri) : NULL;
        if (rv != APR_SUCCESS) {
            rt->jwks = NULL;
        }
    }
    cache = rt->jwks;
    apr_thread_mutex_unlock(rt->mu);
    if (cache == NULL) {
        return AF_EOIDC_JWKS;
    }
    kv.prov = prov;
    kv.lease_pool = p;
    kv.refused = APR_SUCCESS;
    via.perform = keys_perform;
    via.baton = &kv;
    rv = af_jwks_cache_keys_via(out, cache, refetch_for_kid, &via, p);
    if (rv != APR_SUCCESS && kv.refused != APR_SUCCESS) {
        return kv.refused; /* the guard said no: 503, not a bad key set */
    }
    if (rv != APR_SUCCESS) {
        af_log_p(p, AF_LOG_WARNING, "AF05031", "provider %s: no usable keys from %s: %s",
                 prov->name, meta->jwks_uri, af_strerror(rv));
        return AF_EOIDC_JWKS;
    }
    return APR_SUCCESS;
}
