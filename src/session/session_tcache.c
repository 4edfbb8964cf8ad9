/* session_tcache.c -- the verified-token cache (see af_tcache.h). */
#include <string.h>

#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <openssl/evp.h>

#include "session/af_tcache.h"

typedef struct entry_t {
    unsigned char key[AF_TCACHE_KEYLEN];
    const void *scope;
    json_t *claims; /* NULL: empty slot */
    double exp, nbf;
} entry_t;

struct af_tcache_t {
    apr_thread_mutex_t *lock;
    entry_t *slots;
    EVP_MD *sha256; /* fetched once: no per-request algorithm lookup */
};

static apr_status_t tcache_cleanup(void *baton)
{
    af_tcache_t *c = baton;
    int i;

    for (i = 0; i < AF_TCACHE_SLOTS; i++) {
        if (c->slots[i].claims != NULL) {
            json_decref(c->slots[i].claims);
            c->slots[i].claims = NULL;
        }
    }
    EVP_MD_free(c->sha256);
    c->sha256 = NULL;
    return APR_SUCCESS;
}

apr_status_t af_tcache_create(af_tcache_t **out, apr_pool_t *child)
{
    af_tcache_t *c = apr_pcalloc(child, sizeof(*c));
    apr_status_t rv;

    rv = apr_thread_mutex_create(&c->lock, APR_THREAD_MUTEX_DEFAULT, child);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    c->slots = apr_pcalloc(child, sizeof(entry_t) * AF_TCACHE_SLOTS);
    c->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    apr_pool_cleanup_register(child, c, tcache_cleanup, apr_pool_cleanup_null);
    *out = c;
    return APR_SUCCESS;
}

void af_tcache_key(unsigned char key[AF_TCACHE_KEYLEN], const af_tcache_t *c, const char *token,
                   apr_size_t len)
{
    unsigned int n = AF_TCACHE_KEYLEN;

    if (EVP_Digest(token, len, key, &n, c->sha256 ? c->sha256 : EVP_sha256(), NULL) != 1) {
        memset(key, 0, AF_TCACHE_KEYLEN); /* never matches: get() refuses an all-zero key */
    }
}

static entry_t *slot_of(af_tcache_t *c, const unsigned char *key)
{
    apr_uint32_t h = ((apr_uint32_t) key[0] << 24) | ((apr_uint32_t) key[1] << 16) |
                     ((apr_uint32_t) key[2] << 8) | key[3];

    return &c->slots[h % AF_TCACHE_SLOTS];
}

static int key_zero(const unsigned char *key)
{
    int i;

    for (i = 0; i < AF_TCACHE_KEYLEN; i++) {
        if (key[i]) {
            return 0;
        }
    }
    return 1;
}

static apr_status_t release(void *baton)
{
    json_decref((json_t *) baton);
    return APR_SUCCESS;
}

int af_tcache_get(json_t **claims, af_tcache_t *c, const unsigned char key[AF_TCACHE_KEYLEN],
                  const void *scope, apr_int64_t now, apr_int64_t leeway, apr_pool_t *p)
{
    entry_t *e;
    json_t *j = NULL;

    if (key_zero(key)) {
        return 0;
    }
    apr_thread_mutex_lock(c->lock);
    e = slot_of(c, key);
    if (e->claims != NULL && e->scope == scope && memcmp(e->key, key, AF_TCACHE_KEYLEN) == 0) {
        if ((double) now < e->exp + (double) leeway &&
            (e->nbf == 0 || (double) now + (double) leeway >= e->nbf)) {
            j = json_incref(e->claims);
        } else {
            json_decref(e->claims); /* stale: drop it; the full check gives the reason */
            e->claims = NULL;
        }
    }
    apr_thread_mutex_unlock(c->lock);
    if (j == NULL) {
        return 0;
    }
    apr_pool_cleanup_register(p, j, release, apr_pool_cleanup_null);
    *claims = j;
    return 1;
}

void af_tcache_put(af_tcache_t *c, const unsigned char key[AF_TCACHE_KEYLEN], const void *scope,
                   json_t *claims, double exp, double nbf)
{
    entry_t *e;
    json_t *old;

    if (key_zero(key)) {
        return;
    }
    json_incref(claims);
    apr_thread_mutex_lock(c->lock);
    e = slot_of(c, key);
    old = e->claims;
    memcpy(e->key, key, AF_TCACHE_KEYLEN);
    e->scope = scope;
    e->claims = claims;
    e->exp = exp;
    e->nbf = nbf;
    apr_thread_mutex_unlock(c->lock);
    if (old != NULL) {
        json_decref(old);
    }
}
