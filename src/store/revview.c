/* revview.c -- the per-process view of revoked logins (af_revview.h). */
#include <pthread.h>
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>

#include "common/af_log.h"
#include "store/af_revview.h"

struct af_revview_t {
    apr_int64_t delay, horizon;
    pthread_rwlock_t rw;   /* set, setpool, full */
    pthread_mutex_t poll;  /* one refresher at a time; cursor, last_prune */
    apr_pool_t *setpool;   /* unmanaged: owns set and its keys; rebuilt when pruning */
    apr_hash_t *set;       /* sid -> apr_int64_t: forget at */
    apr_pool_t *knownpool; /* unmanaged: owns known and its keys; dropped when full */
    apr_hash_t *known;     /* sid -> apr_int64_t: the store knew this login (forget at) */
    int healthy;           /* the last refresh succeeded: unknown logins may be asked */
    apr_size_t max;
    int full; /* the set reached max: logins not in it are asked of the store */
    int nolog;
    apr_uint64_t cursor;
    apr_int64_t next_poll; /* atomic */
    apr_int64_t last_prune;
    apr_uint64_t refreshes, failures;
    apr_int64_t refreshed_at;
    af_log_throttle_t throttle;
};

/* What one refresh brought, collected outside the lock. */
typedef struct fetched_t {
    apr_array_header_t *sids;  /* const char * */
    apr_array_header_t *times; /* apr_int64_t: forget at */
    apr_int64_t now, horizon;
    int initial;
} fetched_t;

static apr_status_t view_cleanup(void *data)
{
    af_revview_t *v = data;

    if (v->setpool != NULL) {
        apr_pool_destroy(v->setpool);
        v->setpool = NULL;
    }
    if (v->knownpool != NULL) {
        apr_pool_destroy(v->knownpool);
        v->knownpool = NULL;
    }
    pthread_rwlock_destroy(&v->rw);
    pthread_mutex_destroy(&v->poll);
    return APR_SUCCESS;
}

apr_status_t af_revview_create(af_revview_t **out, apr_int64_t delay, apr_int64_t horizon,
                               apr_pool_t *p)
{
    af_revview_t *v;

    *out = NULL;
    if (delay < 0 || horizon <= 0) {
        return APR_EINVAL;
    }
    v = apr_pcalloc(p, sizeof(*v));
    v->delay = delay;
    v->horizon = horizon;
    v->max = AF_REVVIEW_MAX;
    if (apr_pool_create_unmanaged_ex(&v->setpool, NULL, NULL) != APR_SUCCESS) {
        return APR_ENOMEM;
    }
    v->set = apr_hash_make(v->setpool);
    if (apr_pool_create_unmanaged_ex(&v->knownpool, NULL, NULL) != APR_SUCCESS) {
        apr_pool_destroy(v->setpool);
        return APR_ENOMEM;
    }
    v->known = apr_hash_make(v->knownpool);
    pthread_rwlock_init(&v->rw, NULL);
    pthread_mutex_init(&v->poll, NULL);
    v->next_poll = APR_INT64_MIN;
    apr_pool_cleanup_register(p, v, view_cleanup, apr_pool_cleanup_null);
    *out = v;
    return APR_SUCCESS;
}

void af_revview_set_max(af_revview_t *v, apr_size_t max)
{
    pthread_rwlock_wrlock(&v->rw);
    v->max = max;
    pthread_rwlock_unlock(&v->rw);
}

/* Under the write lock: add one sid, forgotten at until (the later of two wins). */
static void put(af_revview_t *v, const char *sid, apr_int64_t until)
{
    apr_int64_t *t = apr_hash_get(v->set, sid, APR_HASH_KEY_STRING);

    if (t != NULL) {
        if (*t < until) {
            *t = until;
        }
        return;
    }
    if (apr_hash_count(v->set) >= v->max) {
        v->full = 1; /* not remembered: checks of logins not in the set go to the store */
        return;
    }
    t = apr_palloc(v->setpool, sizeof(*t));
    *t = until;
    apr_hash_set(v->set, apr_pstrdup(v->setpool, sid), APR_HASH_KEY_STRING, t);
}

/* Under the write lock: a new set without what is past its time (the old pool goes). */
static void prune(af_revview_t *v, apr_int64_t now)
{
    apr_pool_t *np = NULL;
    apr_hash_t *nh;
    apr_hash_index_t *hi;
    const void *k;
    void *val;

    if (apr_pool_create_unmanaged_ex(&np, NULL, NULL) != APR_SUCCESS) {
        return; /* keep the old one; try again next time */
    }
    nh = apr_hash_make(np);
    for (hi = apr_hash_first(NULL, v->set); hi != NULL; hi = apr_hash_next(hi)) {
        apr_hash_this(hi, &k, NULL, &val);
        if (*(apr_int64_t *) val >= now) {
            apr_int64_t *t = apr_palloc(np, sizeof(*t));
            *t = *(apr_int64_t *) val;
            apr_hash_set(nh, apr_pstrdup(np, k), APR_HASH_KEY_STRING, t);
        }
    }
    apr_pool_destroy(v->setpool);
    v->setpool = np;
    v->set = nh;
    v->full = apr_hash_count(nh) >= v->max;
    /* the logins known to the store: only those still remembered */
    if (apr_pool_create_unmanaged_ex(&np, NULL, NULL) != APR_SUCCESS) {
        return;
    }
    nh = apr_hash_make(np);
    for (hi = apr_hash_first(NULL, v->known); hi != NULL; hi = apr_hash_next(hi)) {
        apr_hash_this(hi, &k, NULL, &val);
        if (*(apr_int64_t *) val > now) {
            apr_int64_t *t = apr_palloc(np, sizeof(*t));
            *t = *(apr_int64_t *) val;
            apr_hash_set(nh, apr_pstrdup(np, k), APR_HASH_KEY_STRING, t);
        }
    }
    apr_pool_destroy(v->knownpool);
    v->knownpool = np;
    v->known = nh;
}

static int collect(void *baton, const char *sid, apr_int64_t revoked_at)
{
    fetched_t *f = baton;
    apr_int64_t at = f->initial ? revoked_at : f->now; /* learned now: kept a horizon from now */

    if (at < revoked_at) {
        at = revoked_at; /* a revoking host whose clock is ahead */
    }
    APR_ARRAY_PUSH(f->sids, const char *) = apr_pstrdup(f->sids->pool, sid);
    APR_ARRAY_PUSH(f->times, apr_int64_t) = at + f->horizon;
    return 0;
}

/* One refresh (the caller holds v->poll). */
static void refresh(af_revview_t *v, af_store_t *st, apr_int64_t now)
{
    apr_pool_t *tp = NULL;
    apr_uint64_t cursor = v->cursor, more = 0;
    fetched_t f;
    apr_status_t rv;
    int i;

    if (apr_pool_create_unmanaged_ex(&tp, NULL, NULL) != APR_SUCCESS) {
        return;
    }
    f.sids = apr_array_make(tp, 16, sizeof(const char *));
    f.times = apr_array_make(tp, 16, sizeof(apr_int64_t));
    f.now = now;
    f.horizon = v->horizon;
    f.initial = cursor == 0;
    rv = af_store_revocations(&cursor, st, now, v->horizon, collect, &f, tp);
    if (rv == APR_ENOTIMPL) {
        __atomic_store_n(&v->nolog, 1, __ATOMIC_RELEASE); /* LMDB: ask it every time */
    } else if (rv != APR_SUCCESS) {
        unsigned int known;
        v->failures++;
        __atomic_store_n(&v->healthy, 0, __ATOMIC_RELEASE);
        pthread_rwlock_rdlock(&v->rw);
        known = apr_hash_count(v->set);
        pthread_rwlock_unlock(&v->rw);
        if (af_log_wanted(AF_LOG_WARNING) &&
            af_log_throttle(&v->throttle, apr_time_now(), apr_time_from_sec(AF_STORE_LOG_INTERVAL),
                            &more)) {
            af_log(AF_LOG_WARNING, "AF03057",
                   "revocation view: refresh failed (%s): the %u revocation(s) already known "
                   "stay in force, other logins pass; %" APR_UINT64_T_FMT " more failure(s)",
                   af_strerror(rv), known, more);
        }
    } else {
        pthread_rwlock_wrlock(&v->rw);
        if (now - v->last_prune >= v->horizon / 4 + 1 || v->full) {
            prune(v, now);
            v->last_prune = now;
        }
        for (i = 0; i < f.sids->nelts; i++) {
            put(v, APR_ARRAY_IDX(f.sids, i, const char *), APR_ARRAY_IDX(f.times, i, apr_int64_t));
        }
        pthread_rwlock_unlock(&v->rw);
        v->cursor = cursor;
        v->refreshes++;
        v->refreshed_at = now;
        __atomic_store_n(&v->healthy, 1, __ATOMIC_RELEASE);
    }
    apr_pool_destroy(tp);
}

/* Under the write lock: remember that the store knew sid (forgotten a horizon from now). */
static void put_known(af_revview_t *v, const char *sid, apr_int64_t now)
{
    apr_int64_t *t;

    if (apr_hash_count(v->known) >= v->max) {
        /* full: start again (each login costs one more question, nothing is lost) */
        apr_pool_clear(v->knownpool);
        v->known = apr_hash_make(v->knownpool);
    }
    t = apr_palloc(v->knownpool, sizeof(*t));
    *t = now + v->horizon;
    apr_hash_set(v->known, apr_pstrdup(v->knownpool, sid), APR_HASH_KEY_STRING, t);
}

/* A login not revoked as far as the view knows: is it one the store knows at all?  Asked once
 * per login and process (then remembered), so that a token whose login never reached this
 * store -- a host configured with another store, a login swept -- is refused as with LMDB or
 * delay 0.  Not asked while the last refresh failed (the database is down or unreachable):
 * issued tokens keep working, and no request waits for a connection timeout. */
/* A login the view has not seen (or has forgotten): ask the store once and remember it. */
static apr_status_t ask_unknown(af_revview_t *v, af_store_t *st, const char *sid, apr_int64_t now)
{
    apr_status_t rv;

    if (!__atomic_load_n(&v->healthy, __ATOMIC_ACQUIRE)) {
        return APR_SUCCESS;
    }
    rv = af_store_family_is_revoked(st, sid);
    if (rv == APR_SUCCESS) {
        pthread_rwlock_wrlock(&v->rw);
        put_known(v, sid, now);
        pthread_rwlock_unlock(&v->rw);
        return APR_SUCCESS;
    }
    if (rv == AF_ESTORE_REVOKED) {
        af_revview_note(v, sid, now);
        return rv;
    }
    if (rv == AF_ESTORE_UNKNOWN) {
        return rv;
    }
    return APR_SUCCESS; /* the store failed just now: as while it is down */
}

apr_status_t af_revview_check(af_revview_t *v, af_store_t *st, const char *sid, apr_int64_t now)
{
    apr_int64_t due, *t;
    int hit, full, known;

    if (v->delay == 0 || __atomic_load_n(&v->nolog, __ATOMIC_ACQUIRE)) {
        return af_store_family_is_revoked(st, sid);
    }
    due = __atomic_load_n(&v->next_poll, __ATOMIC_ACQUIRE);
    /* due, or the clock was set back: one thread refreshes, the others go on */
    if ((now >= due || due - now > v->delay) && pthread_mutex_trylock(&v->poll) == 0) {
        due = __atomic_load_n(&v->next_poll, __ATOMIC_ACQUIRE);
        if (now >= due || due - now > v->delay) {
            refresh(v, st, now);
            __atomic_store_n(&v->next_poll, now + v->delay, __ATOMIC_RELEASE);
        }
        pthread_mutex_unlock(&v->poll);
        if (__atomic_load_n(&v->nolog, __ATOMIC_ACQUIRE)) {
            return af_store_family_is_revoked(st, sid);
        }
    }
    if (sid == NULL) {
        return AF_ESTORE_UNKNOWN;
    }
    /* one read lock per request: revoked, the set's completeness, and known */
    pthread_rwlock_rdlock(&v->rw);
    hit = apr_hash_get(v->set, sid, APR_HASH_KEY_STRING) != NULL;
    full = v->full;
    t = hit || full ? NULL : apr_hash_get(v->known, sid, APR_HASH_KEY_STRING);
    known = t != NULL && *t > now;
    pthread_rwlock_unlock(&v->rw);
    if (hit) {
        return AF_ESTORE_REVOKED;
    }
    if (full) { /* the set could not hold every revocation: ask the store (fail closed) */
        return af_store_family_is_revoked(st, sid);
    }
    return known ? APR_SUCCESS : ask_unknown(v, st, sid, now);
}

void af_revview_note(af_revview_t *v, const char *sid, apr_int64_t now)
{
    if (sid == NULL || *sid == '\0') {
        return;
    }
    pthread_rwlock_wrlock(&v->rw);
    put(v, sid, now + v->horizon);
    pthread_rwlock_unlock(&v->rw);
}

void af_revview_stats(af_revview_stats_t *out, af_revview_t *v)
{
    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&v->poll);
    out->refreshes = v->refreshes;
    out->failures = v->failures;
    out->refreshed_at = v->refreshed_at;
    pthread_mutex_unlock(&v->poll);
    pthread_rwlock_rdlock(&v->rw);
    out->entries = apr_hash_count(v->set);
    out->direct = v->delay == 0 || v->full || __atomic_load_n(&v->nolog, __ATOMIC_ACQUIRE);
    pthread_rwlock_unlock(&v->rw);
}
