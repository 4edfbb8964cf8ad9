/* af_jwks_cache.c -- remote and local JWKS for trusted issuers (see af_jwks_cache.h). */
#include <string.h>

#include <apr_atomic.h>
#include <apr_file_io.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>

#include "common/af_error.h"
#include "common/af_file.h"
#include "common/af_log.h"
#include "http/af_http.h"
#include "http/af_http_errors.h"
#include "http/af_jwks_cache.h"
#include "jose/af_jose_errors.h"

/* One fetched key set with its own pool; freed when the last user lets go. */
typedef struct gen_t {
    apr_pool_t *pool;
    af_keyset_t *ks;
    apr_time_t fetched;
    unsigned refs; /* under cache->lock */
} gen_t;

struct af_jwks_cache_t {
    const char *url;
    af_jwks_opts_t opts;
    apr_thread_mutex_t *lock;       /* guards cur, refs, last_attempt */
    apr_thread_mutex_t *fetch_lock; /* one fetcher at a time */
    gen_t *cur;
    apr_time_t last_attempt;
    unsigned fetches;
};

typedef struct pin_t {
    af_jwks_cache_t *c;
    gen_t *g;
} pin_t;

#define ASYMMETRIC_ALGS                                                                            \
    ((1u << AF_ALG_RS256) | (1u << AF_ALG_RS384) | (1u << AF_ALG_RS512) | (1u << AF_ALG_PS256) |   \
     (1u << AF_ALG_PS384) | (1u << AF_ALG_PS512) | (1u << AF_ALG_ES256) | (1u << AF_ALG_ES384) |   \
     (1u << AF_ALG_ES512) | (1u << AF_ALG_EDDSA))

apr_status_t af_jwks_load_text(af_keyset_t **out, const char *text, apr_size_t len, int flags,
                               unsigned alg_mask, int max_keys, const char **why, apr_pool_t *p)
{
    af_keyset_t *all = NULL, *ks;
    apr_array_header_t *skipped = apr_array_make(p, 4, sizeof(const char *));
    apr_status_t rv;
    unsigned mask = alg_mask;
    int i;

    if (mask == 0) {
        mask = ASYMMETRIC_ALGS;
        if (flags & AF_JWK_ALLOW_OCT) {
            mask |= (1u << AF_ALG_HS256) | (1u << AF_ALG_HS384) | (1u << AF_ALG_HS512);
        }
    }
    if (max_keys <= 0) {
        max_keys = AF_JWKS_DEFAULT_MAX_KEYS;
    }
    rv = af_jwks_parse(&all, text, len, flags, skipped, p);
    if (rv != APR_SUCCESS) {
        *why = af_strerror(rv);
        return rv;
    }
    for (i = 0; i < skipped->nelts; i++) {
        af_log_p(p, AF_LOG_WARNING, "AF06010", "jwks: key ignored: %s",
                 APR_ARRAY_IDX(skipped, i, const char *));
    }
    if (all->keys->nelts + skipped->nelts > max_keys) {
        *why = "too_many_keys";
        return AF_EKEY_SET;
    }
    ks = af_keyset_make(p);
    for (i = 0; i < all->keys->nelts; i++) {
        af_key_t *k = APR_ARRAY_IDX(all->keys, i, af_key_t *);

        if (k->alg > AF_ALG_UNKNOWN && k->alg < AF_ALG_COUNT && (mask & (1u << k->alg))) {
            af_keyset_add(ks, k);
        } else {
            af_log_p(p, AF_LOG_WARNING, "AF06011", "jwks: key %s ignored: alg %s not allowed",
                     k->kid ? k->kid : "(no kid)", af_alg_name(k->alg) ? af_alg_name(k->alg) : "?");
        }
    }
    *out = ks;
    return APR_SUCCESS;
}

apr_status_t af_jwks_load_file(af_keyset_t **out, const char *path, int flags, unsigned alg_mask,
                               int max_keys, const char **why, apr_pool_t *p)
{
    char *buf = NULL;
    apr_size_t n = 0;
    apr_status_t rv;

    rv = af_file_read(&buf, &n, path, AF_JWKS_DEFAULT_MAX_SIZE, p);
    if (rv != APR_SUCCESS) {
        *why = rv == AF_ETOOBIG ? "file_too_large" : "cannot_read";
        return rv;
    }
    return af_jwks_load_text(out, buf, n, flags, alg_mask, max_keys, why, p);
}

apr_status_t af_jwks_cache_create(af_jwks_cache_t **out, const char *url,
                                  const af_jwks_opts_t *opts, apr_pool_t *p)
{
    af_jwks_cache_t *c;
    apr_status_t rv;

    if ((rv = af_http_url_check(url)) != APR_SUCCESS) {
        return rv;
    }
    c = apr_pcalloc(p, sizeof(*c));
    c->url = apr_pstrdup(p, url);
    if (opts != NULL) {
        c->opts = *opts;
    }
    if (c->opts.refresh <= 0) {
        c->opts.refresh = apr_time_from_sec(3600);
    }
    if (c->opts.max_age <= 0) {
        c->opts.max_age = apr_time_from_sec(86400);
    }
    if (c->opts.min_interval <= 0) {
        c->opts.min_interval = apr_time_from_sec(60);
    }
    if (c->opts.timeout <= 0) {
        c->opts.timeout = apr_time_from_sec(5);
    }
    if (c->opts.max_size == 0) {
        c->opts.max_size = AF_JWKS_DEFAULT_MAX_SIZE;
    }
    if ((rv = apr_thread_mutex_create(&c->lock, APR_THREAD_MUTEX_DEFAULT, p)) != APR_SUCCESS) {
        return rv;
    }
    rv = apr_thread_mutex_create(&c->fetch_lock, APR_THREAD_MUTEX_DEFAULT, p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *out = c;
    return APR_SUCCESS;
}

/* Under c->lock. */
static void gen_release(gen_t *g)
{
    if (g != NULL && --g->refs == 0) {
        apr_pool_destroy(g->pool);
    }
}

static apr_status_t unpin(void *baton)
{
    pin_t *pin = baton;

    apr_thread_mutex_lock(pin->c->lock);
    gen_release(pin->g);
    apr_thread_mutex_unlock(pin->c->lock);
    return APR_SUCCESS;
}

/* Fetch and parse into a fresh generation (no lock held). */
static apr_status_t fetch(gen_t **out, af_jwks_cache_t *c, const af_http_via_t *via, apr_pool_t *rp)
{
    apr_pool_t *gp = NULL;
    af_http_request_t req;
    af_http_response_t *resp = NULL;
    af_keyset_t *ks = NULL;
    const char *why = NULL;
    gen_t *g;
    apr_status_t rv;
    int sent = 0;

    if ((rv = apr_pool_create_unmanaged_ex(&gp, NULL, NULL)) != APR_SUCCESS) {
        return rv;
    }
    memset(&req, 0, sizeof(req));
    req.method = "GET";
    req.url = c->url;
    req.timeout = c->opts.timeout;
    req.max_response = c->opts.max_size;
    req.ca_file = c->opts.ca_file;
    req.headers = apr_table_make(gp, 1);
    apr_table_setn(req.headers, "Accept", "application/jwk-set+json, application/json");
    if (via != NULL) {
        rv = via->perform(&resp, &req, via->baton, gp); /* the via times its calls */
    } else {
        apr_time_t t0 = apr_time_now();

        rv = af_http_perform(&resp, &req, gp);
        if (rv != AF_EHTTP_URL) {
            af_metrics_idp_call(c->opts.metrics, apr_time_now() - t0);
        }
    }
    if (rv == APR_SUCCESS && resp->status != 200) {
        rv = AF_EHTTP_STATUS;
    }
    if (rv == AF_EHTTP_REFUSED) {
        goto leave; /* not sent: the caller knows why */
    }
    sent = 1;
    if (rv != APR_SUCCESS) {
        af_log_p(rp, AF_LOG_WARNING, "AF06012", "jwks: fetch of %s failed: %s", c->url,
                 af_strerror(rv));
        goto leave;
    }
    rv = af_jwks_load_text(&ks, resp->body, resp->body_len, AF_JWK_PUBLIC_ONLY, c->opts.alg_mask,
                           c->opts.max_keys, &why, gp);
    if (rv != APR_SUCCESS) {
        af_log_p(rp, AF_LOG_WARNING, "AF06013", "jwks: key set from %s refused: %s", c->url, why);
        goto leave;
    }
    g = apr_pcalloc(gp, sizeof(*g));
    g->pool = gp;
    g->ks = ks;
    g->fetched = apr_time_now();
    g->refs = 1; /* the cache's own reference */
    *out = g;
    af_metrics_jwks(c->opts.metrics, 0);
    af_log_p(rp, AF_LOG_INFO, "AF06014", "jwks: %d key(s) loaded from %s", ks->keys->nelts, c->url);
    return APR_SUCCESS;
leave:
    if (sent) {
        af_metrics_jwks(c->opts.metrics, 1);
    }
    apr_pool_destroy(gp);
    return rv;
}

void af_jwks_cache_set_metrics(af_jwks_cache_t *c, af_metrics_prov_t *pm)
{
    if (c != NULL) {
        c->opts.metrics = pm;
    }
}

static int has_kid(const af_keyset_t *ks, const char *kid)
{
    int i;

    for (i = 0; i < ks->keys->nelts; i++) {
        const af_key_t *k = APR_ARRAY_IDX(ks->keys, i, const af_key_t *);

        if (k->kid != NULL && strcmp(k->kid, kid) == 0) {
            return 1;
        }
    }
    return 0;
}

apr_status_t af_jwks_cache_keys(const af_keyset_t **ks, af_jwks_cache_t *c, const char *kid,
                                apr_pool_t *p)
{
    return af_jwks_cache_keys_via(ks, c, kid, NULL, p);
}

apr_status_t af_jwks_cache_keys_via(const af_keyset_t **ks, af_jwks_cache_t *c, const char *kid,
                                    const af_http_via_t *via, apr_pool_t *p)
{
    apr_time_t now = apr_time_now(), prev = 0;
    gen_t *g, *fresh = NULL;
    int want_fetch, usable, i;
    apr_status_t frv;
    pin_t *pin;

    for (i = 0; i < 2; i++) {
        apr_thread_mutex_lock(c->lock);
        g = c->cur;
        usable = g != NULL && now - g->fetched <= c->opts.max_age;
        want_fetch = g == NULL || now - g->fetched > c->opts.refresh ||
                     (kid != NULL && !has_kid(g->ks, kid));
        want_fetch =
            want_fetch && (c->fetches == 0 || now - c->last_attempt >= c->opts.min_interval);
        apr_thread_mutex_unlock(c->lock);
        if (!want_fetch) {
            if (!usable) {
                /* The throttle may have been set by a first fetch still under way in
                 * another thread: wait for it to finish, then use what it got. */
                apr_thread_mutex_lock(c->fetch_lock);
                apr_thread_mutex_unlock(c->fetch_lock);
            }
            break;
        }
        if (apr_thread_mutex_trylock(c->fetch_lock) != APR_SUCCESS) {
            if (usable) {
                break; /* someone else is fetching: use what we have */
            }
            apr_thread_mutex_lock(c->fetch_lock); /* wait for that fetch, then look again */
            apr_thread_mutex_unlock(c->fetch_lock);
            continue;
        }
        /* re-check under the fetch lock: another thread may have just fetched */
        apr_thread_mutex_lock(c->lock);
        want_fetch = c->fetches == 0 || now - c->last_attempt >= c->opts.min_interval;
        if (want_fetch) {
            prev = c->last_attempt;
            c->last_attempt = now;
            c->fetches++;
        }
        apr_thread_mutex_unlock(c->lock);
        if (want_fetch) {
            frv = fetch(&fresh, c, via, p);
            apr_thread_mutex_lock(c->lock);
            if (frv == AF_EHTTP_REFUSED) {
                c->last_attempt = prev; /* not sent: no attempt */
                c->fetches--;
            } else {
                c->last_attempt = apr_time_now(); /* the interval runs from the end */
            }
            if (frv == APR_SUCCESS) {
                gen_release(c->cur);
                c->cur = fresh;
            }
            apr_thread_mutex_unlock(c->lock);
        }
        apr_thread_mutex_unlock(c->fetch_lock);
        break;
    }

    apr_thread_mutex_lock(c->lock);
    g = c->cur;
    if (g == NULL || now - g->fetched > c->opts.max_age) {
        apr_thread_mutex_unlock(c->lock);
        return AF_EJWS_NOKEY; /* fail closed */
    }
    g->refs++;
    apr_thread_mutex_unlock(c->lock);
    pin = apr_palloc(p, sizeof(*pin));
    pin->c = c;
    pin->g = g;
    apr_pool_cleanup_register(p, pin, unpin, apr_pool_cleanup_null);
    *ks = g->ks;
    return APR_SUCCESS;
}
