/* oidc_guard.c -- the per-provider outbound guard: concurrency limit and circuit breaker in
 * caller-provided (shared) memory, lock-free (see af_oidc_guard.h). */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "http/af_http_errors.h"
#include "oidc/af_oidc_guard.h"

/* Only lock-free atomics are shared between processes: a lock-based fallback would be a
 * per-process lock and silently wrong. */
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2 && ATOMIC_LONG_LOCK_FREE == 2 &&
                   ATOMIC_INT_LOCK_FREE == 2,
               "the outbound guard needs lock-free 64-bit atomics");

#define GUARD_MAGIC 0x41464731u /* "AFG1" */

/* A lease word: pid in the low 22 bits (Linux PID_MAX_LIMIT is 2^22), the time in ms since
 * the epoch above (42 bits: until 2109).  0 is a free slot (no process has pid 0). */
#define PID_BITS       22
#define PID_MASK       ((UINT64_C(1) << PID_BITS) - 1)
#define LEASE(pid, ms) (((uint64_t) (ms) << PID_BITS) | ((uint64_t) (pid) &PID_MASK))
#define LEASE_PID(w)   ((pid_t) ((w) &PID_MASK))
#define LEASE_MS(w)    ((w) >> PID_BITS)

/* The breaker word: state (2 bits), consecutive failures (8), back-off level (4), and a
 * time in ms (50 bits): when the back-off ends (OPEN), when the probe began (PROBING). */
enum { CLOSED = 0, OPEN = 1, PROBING = 2 };
#define B_STATE(w) ((unsigned) ((w) &3))
#define B_FAILS(w) ((unsigned) (((w) >> 2) & 0xff))
#define B_LEVEL(w) ((unsigned) (((w) >> 10) & 0xf))
#define B_MS(w)    ((w) >> 14)
#define B_MAKE(st, f, lv, ms)                                                                      \
    ((uint64_t) (st) | ((uint64_t) (f) << 2) | ((uint64_t) (lv) << 10) | ((uint64_t) (ms) << 14))
#define LEVEL_MAX 3 /* 10 s << 3 = 80 s, capped at AF_OIDC_GUARD_BACKOFF_MAX */

struct af_oidc_guard_t {
    uint32_t magic;
    uint32_t nslots;
    uint64_t stale_ms;   /* a lease or probe older than this may be taken over */
    uint64_t timeout_ms; /* the provider Timeout */
    _Atomic uint64_t breaker;
    _Atomic int64_t throttle_until; /* us; 0: no throttle */
    _Atomic int32_t throttle_rv;
    _Atomic uint32_t hint;    /* where the next slot search starts */
    _Atomic uint64_t slots[]; /* nslots lease words */
};

static uint64_t to_ms(apr_time_t t)
{
    return t > 0 ? (uint64_t) (t / 1000) : 0;
}

static uint64_t backoff_ms(unsigned level)
{
    uint64_t b = (uint64_t) (AF_OIDC_GUARD_BACKOFF / 1000) << level;
    uint64_t max = (uint64_t) (AF_OIDC_GUARD_BACKOFF_MAX / 1000);

    return b < max ? b : max;
}

static int older_than(uint64_t then_ms, uint64_t now_ms, uint64_t limit_ms)
{
    return now_ms > then_ms && now_ms - then_ms > limit_ms;
}

apr_size_t af_oidc_guard_size(int max_concurrent)
{
    apr_size_t n = max_concurrent > 0 ? (apr_size_t) max_concurrent : 1;
    apr_size_t size = sizeof(af_oidc_guard_t) + n * sizeof(_Atomic uint64_t);

    return (size + 63) & ~(apr_size_t) 63;
}

af_oidc_guard_t *af_oidc_guard_init(void *mem, int max_concurrent, apr_interval_time_t timeout)
{
    af_oidc_guard_t *g = mem;
    int i;

    if (mem == NULL || max_concurrent < 1 || max_concurrent > AF_OIDC_GUARD_LIMIT) {
        return NULL;
    }
    memset(mem, 0, af_oidc_guard_size(max_concurrent));
    g->magic = GUARD_MAGIC;
    g->nslots = (uint32_t) max_concurrent;
    g->timeout_ms = to_ms(timeout > 0 ? timeout : apr_time_from_sec(10));
    g->stale_ms = g->timeout_ms + to_ms(AF_OIDC_GUARD_MARGIN);
    atomic_init(&g->breaker, B_MAKE(CLOSED, 0, 0, 0));
    atomic_init(&g->throttle_until, 0);
    atomic_init(&g->throttle_rv, 0);
    atomic_init(&g->hint, 0);
    for (i = 0; i < max_concurrent; i++) {
        atomic_init(&g->slots[i], 0);
    }
    return g;
}

int af_oidc_guard_max(const af_oidc_guard_t *g)
{
    return (int) g->nslots;
}

/* May this slot's lease be taken over?  Its owner is gone, or it was not renewed for longer
 * than a call can take. */
static int lease_stale(const af_oidc_guard_t *g, uint64_t w, uint64_t now_ms, pid_t self)
{
    pid_t owner = LEASE_PID(w);

    if (older_than(LEASE_MS(w), now_ms, g->stale_ms)) {
        return 1;
    }
    return owner > 0 && owner != self && kill(owner, 0) != 0 && errno == ESRCH;
}

/* Put word into a free slot, else into a stale one.  @return the slot or -1 */
static int slot_take(af_oidc_guard_t *g, uint64_t word, uint64_t now_ms)
{
    uint32_t n = g->nslots, start = atomic_fetch_add(&g->hint, 1) % n, i, k;
    pid_t self = getpid();
    uint64_t cur;

    /* free slots first: no system call while there is room */
    for (i = 0; i < n; i++) {
        k = (start + i) % n;
        cur = 0;
        if (atomic_load(&g->slots[k]) == 0 &&
            atomic_compare_exchange_strong(&g->slots[k], &cur, word)) {
            return (int) k;
        }
    }
    for (i = 0; i < n; i++) {
        k = (start + i) % n;
        cur = atomic_load(&g->slots[k]);
        if (cur != 0 && lease_stale(g, cur, now_ms, self) &&
            atomic_compare_exchange_strong(&g->slots[k], &cur, word)) {
            return (int) k;
        }
    }
    return -1;
}

static int is_probe(const af_oidc_lease_t *l, uint64_t w)
{
    return l->probe_ms != 0 && B_STATE(w) == PROBING && B_MS(w) == l->probe_ms;
}

/* May the holder of l call now?  After the back-off (or when a probe vanished) l becomes
 * the probe. */
static apr_status_t admit(af_oidc_lease_t *l, uint64_t now_ms)
{
    af_oidc_guard_t *g = l->guard;
    uint64_t w = atomic_load(&g->breaker), nw;
    uint64_t pms = now_ms > 0 ? now_ms : 1;

    for (;;) {
        if (B_STATE(w) == CLOSED || is_probe(l, w)) {
            return APR_SUCCESS;
        }
        if (B_STATE(w) == OPEN && now_ms < B_MS(w)) {
            return AF_EOIDC_IDP_UNAVAILABLE;
        }
        if (B_STATE(w) == PROBING && !older_than(B_MS(w), now_ms, g->stale_ms)) {
            return AF_EOIDC_IDP_UNAVAILABLE; /* someone else's probe is under way */
        }
        nw = B_MAKE(PROBING, B_FAILS(w), B_LEVEL(w), pms);
        if (atomic_compare_exchange_weak(&g->breaker, &w, nw)) {
            l->probe_ms = pms;
            return APR_SUCCESS;
        }
    }
}

/* An unresolved probe is handed on: open with the back-off over, so the next caller probes. */
static void probe_hand_on(af_oidc_lease_t *l, uint64_t now_ms)
{
    af_oidc_guard_t *g = l->guard;
    uint64_t w = atomic_load(&g->breaker);

    while (is_probe(l, w) && !atomic_compare_exchange_weak(
                                 &g->breaker, &w, B_MAKE(OPEN, B_FAILS(w), B_LEVEL(w), now_ms))) {
    }
    l->probe_ms = 0;
}

apr_status_t af_oidc_guard_check(const af_oidc_guard_t *g, apr_time_t now)
{
    uint64_t w = atomic_load(&((af_oidc_guard_t *) g)->breaker);

    return B_STATE(w) == OPEN && to_ms(now) < B_MS(w) ? AF_EOIDC_IDP_UNAVAILABLE : APR_SUCCESS;
}

apr_status_t af_oidc_guard_acquire(af_oidc_lease_t *l, af_oidc_guard_t *g, apr_time_t now)
{
    uint64_t now_ms = to_ms(now);
    apr_status_t rv;

    memset(l, 0, sizeof(*l));
    l->guard = g;
    l->slot = -1;
    if (af_oidc_guard_check(g, now) != APR_SUCCESS) {
        return AF_EOIDC_IDP_UNAVAILABLE; /* before taking a slot: the better reason */
    }
    l->word = LEASE(getpid(), now_ms);
    if ((l->slot = slot_take(g, l->word, now_ms)) < 0) {
        return AF_EOIDC_IDP_BUSY;
    }
    if ((rv = admit(l, now_ms)) != APR_SUCCESS) {
        af_oidc_guard_release(l, now);
    }
    return rv;
}

apr_status_t af_oidc_guard_begin(af_oidc_lease_t *l, apr_time_t now)
{
    af_oidc_guard_t *g = l->guard;
    uint64_t now_ms = to_ms(now), nw = LEASE(getpid(), now_ms), cur = l->word;

    if (l->slot >= 0 && atomic_compare_exchange_strong(&g->slots[l->slot], &cur, nw)) {
        l->word = nw; /* renewed: not stale for another Timeout + margin */
    } else {
        /* the lease went stale and was taken over: it needs a slot again */
        l->word = nw;
        if ((l->slot = slot_take(g, nw, now_ms)) < 0) {
            probe_hand_on(l, now_ms);
            return AF_EOIDC_IDP_BUSY;
        }
    }
    return admit(l, now_ms);
}

af_oidc_guard_event_t af_oidc_guard_end(af_oidc_lease_t *l, af_oidc_call_t outcome, apr_time_t now,
                                        apr_interval_time_t *backoff)
{
    af_oidc_guard_t *g = l->guard;
    uint64_t now_ms = to_ms(now), w = atomic_load(&g->breaker), nw;
    af_oidc_guard_event_t ev;
    unsigned f, lv;
    int mine;

    for (;;) {
        mine = is_probe(l, w);
        ev = AF_OIDC_GUARD_SAME;
        f = B_FAILS(w);
        lv = B_LEVEL(w);
        if (outcome == AF_OIDC_CALL_OK) {
            /* any answer: the IdP is reachable */
            nw = B_MAKE(CLOSED, 0, 0, 0);
            ev = B_STATE(w) != CLOSED ? AF_OIDC_GUARD_CLOSED : AF_OIDC_GUARD_SAME;
        } else if (outcome == AF_OIDC_CALL_FAILED && B_STATE(w) == CLOSED) {
            f = f < 255 ? f + 1 : f;
            nw = f >= AF_OIDC_GUARD_FAILURES ? B_MAKE(OPEN, f, 0, now_ms + backoff_ms(0))
                                             : B_MAKE(CLOSED, f, 0, 0);
            ev = f >= AF_OIDC_GUARD_FAILURES ? AF_OIDC_GUARD_OPENED : AF_OIDC_GUARD_SAME;
            lv = 0;
        } else if (outcome == AF_OIDC_CALL_FAILED && mine) {
            lv = lv < LEVEL_MAX ? lv + 1 : LEVEL_MAX;
            f = f < 255 ? f + 1 : f;
            nw = B_MAKE(OPEN, f, lv, now_ms + backoff_ms(lv));
            ev = AF_OIDC_GUARD_REOPENED;
        } else if (mine) {
            nw = B_MAKE(OPEN, f, lv, now_ms); /* no verdict: the next caller probes */
        } else {
            break; /* a late call while open, or nothing learnt: no change */
        }
        if (nw == w || atomic_compare_exchange_weak(&g->breaker, &w, nw)) {
            break;
        }
    }
    l->probe_ms = 0; /* resolved, handed on, or no longer ours */
    if (backoff != NULL) {
        *backoff = ev == AF_OIDC_GUARD_OPENED || ev == AF_OIDC_GUARD_REOPENED
                       ? (apr_interval_time_t) backoff_ms(lv) * 1000
                       : 0;
    }
    return ev;
}

void af_oidc_guard_release(af_oidc_lease_t *l, apr_time_t now)
{
    uint64_t cur = l->word;

    if (l->guard == NULL) {
        return;
    }
    if (l->probe_ms != 0) {
        probe_hand_on(l, to_ms(now));
    }
    if (l->slot >= 0) {
        /* only our own word: a slot taken over meanwhile belongs to someone else now */
        atomic_compare_exchange_strong(&l->guard->slots[l->slot], &cur, 0);
        l->slot = -1;
    }
}

apr_int64_t af_oidc_guard_retry_after(const af_oidc_guard_t *g, apr_time_t now)
{
    uint64_t w = atomic_load(&((af_oidc_guard_t *) g)->breaker), now_ms = to_ms(now), end;

    if (B_STATE(w) == OPEN && now_ms < B_MS(w)) {
        end = B_MS(w);
    } else if (B_STATE(w) == PROBING) {
        end = B_MS(w) + g->timeout_ms;
    } else {
        return AF_OIDC_GUARD_BUSY_RETRY;
    }
    return end > now_ms ? (apr_int64_t) ((end - now_ms + 999) / 1000) : 1;
}

int af_oidc_guard_in_use(const af_oidc_guard_t *g, apr_time_t now)
{
    af_oidc_guard_t *mg = (af_oidc_guard_t *) g;
    uint64_t now_ms = to_ms(now), w;
    uint32_t i;
    int n = 0;

    for (i = 0; i < g->nslots; i++) {
        w = atomic_load(&mg->slots[i]);
        n += w != 0 && !older_than(LEASE_MS(w), now_ms, g->stale_ms);
    }
    return n;
}

af_oidc_call_t af_oidc_guard_classify(apr_status_t http_rv)
{
    if (http_rv == APR_SUCCESS || http_rv == AF_EHTTP_TOOBIG) {
        return AF_OIDC_CALL_OK; /* the IdP answered */
    }
    if (http_rv == AF_EHTTP_TIMEOUT || http_rv == AF_EHTTP_CONNECT || http_rv == AF_EHTTP_TLS) {
        return AF_OIDC_CALL_FAILED;
    }
    return AF_OIDC_CALL_NEUTRAL;
}

void af_oidc_guard_throttle_set(af_oidc_guard_t *g, apr_status_t rv, apr_time_t until)
{
    atomic_store(&g->throttle_rv, (int32_t) rv);
    atomic_store(&g->throttle_until, (int64_t) until);
}

apr_status_t af_oidc_guard_throttled(const af_oidc_guard_t *g, apr_time_t now)
{
    af_oidc_guard_t *mg = (af_oidc_guard_t *) g;
    int64_t until = atomic_load(&mg->throttle_until);
    apr_status_t rv;

    if (until == 0 || (int64_t) now >= until) {
        return APR_SUCCESS;
    }
    rv = (apr_status_t) atomic_load(&mg->throttle_rv);
    return rv != APR_SUCCESS ? rv : AF_EOIDC_IDP_UNREACHABLE;
}

void af_oidc_guard_throttle_clear(af_oidc_guard_t *g)
{
    atomic_store(&g->throttle_until, 0);
}
