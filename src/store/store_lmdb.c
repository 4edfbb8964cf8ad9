/* store_lmdb.c -- the LMDB backend: environment lifecycle, error mapping, record codecs.
 * Rotation lives in lmdb_rotate.c, revocation/list/sweep/stats/flows in lmdb_admin.c. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <apr_strings.h>

#include "common/af_log.h"
#include "store/lmdb_int.h"

#define DEFAULT_READERS 126

/* ---- errors ---------------------------------------------------------------------------- */

apr_status_t af_lm_err(lm_t *lm, int rc, const char *op)
{
    apr_uint64_t more = 0;
    apr_status_t rv;
    int kind;

    switch (rc) {
    case MDB_SUCCESS:
        return APR_SUCCESS;
    case MDB_MAP_FULL:
    case MDB_TXN_FULL:
    case MDB_DBS_FULL:
    case ENOSPC:
        rv = AF_ESTORE_FULL;
        kind = LM_ERR_FULL;
        break;
    case MDB_MAP_RESIZED: /* logged once by af_lm_txn_begin */
        return AF_ESTORE_BUSY;
    case MDB_READERS_FULL:
        rv = AF_ESTORE_BUSY;
        kind = LM_ERR_BUSY;
        break;
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INCOMPATIBLE:
    case MDB_BAD_VALSIZE:
        rv = AF_ESTORE_CORRUPT;
        kind = LM_ERR_CORRUPT;
        break;
    default:
        rv = AF_ESTORE_IO;
        kind = LM_ERR_IO;
        break;
    }
    /* one line per kind and interval: under a flood every request fails alike */
    if (af_log_wanted(AF_LOG_ERR) &&
        af_log_throttle(&lm->throttle[kind], apr_time_now(),
                        apr_time_from_sec(AF_STORE_LOG_INTERVAL), &more)) {
        if (more > 0) {
            af_log(AF_LOG_ERR, "AF03001",
                   "store: %s failed: %s (%s); %" APR_UINT64_T_FMT
                   " more store failure(s) of this kind in the last %ds not logged",
                   op, mdb_strerror(rc), af_strerror(rv), more, AF_STORE_LOG_INTERVAL);
        } else {
            af_log(AF_LOG_ERR, "AF03001", "store: %s failed: %s (%s)", op, mdb_strerror(rc),
                   af_strerror(rv));
        }
    }
    return rv;
}

int af_lm_txn_begin(lm_t *lm, unsigned int flags, MDB_txn **txn)
{
    MDB_envinfo ei;
    int rc = mdb_txn_begin(lm->env, NULL, flags, txn);

    if (rc == MDB_MAP_RESIZED && lm->adopt) {
        /* another process grew the map: adopt its size (single-threaded tools only) */
        rc = mdb_env_set_mapsize(lm->env, 0);
        if (rc == MDB_SUCCESS) {
            rc = mdb_txn_begin(lm->env, NULL, flags, txn);
        }
    } else if (rc == MDB_MAP_RESIZED) {
        /* remapping here would unmap the map under other threads' read transactions:
         * keep it, fail closed, and say so once */
        if (__atomic_exchange_n(&lm->resized, 1, __ATOMIC_ACQ_REL) == 0) {
            memset(&ei, 0, sizeof(ei));
            mdb_env_info(lm->env, &ei);
            af_log(AF_LOG_ERR, "AF03020",
                   "store: another process grew the map beyond this process's %" APR_SIZE_T_FMT
                   " bytes (AuthFlowStoreMapSize raised by a restart?); this process "
                   "answers store_busy until it is replaced",
                   (apr_size_t) ei.me_mapsize);
        }
    } else if (rc == MDB_READERS_FULL) { /* slots of crashed processes? reclaim, retry once */
        int dead = 0;
        if (mdb_reader_check(lm->env, &dead) == MDB_SUCCESS && dead > 0) {
            af_log(AF_LOG_NOTICE, "AF03003", "store: reclaimed %d stale reader slot(s)", dead);
            rc = mdb_txn_begin(lm->env, NULL, flags, txn);
        }
    }
    if (rc != MDB_SUCCESS) {
        *txn = NULL;
    }
    return rc;
}

/* ---- byte order helpers -------------------------------------------------------------- */

void af_lm_put_i64(unsigned char *b, apr_int64_t v)
{
    apr_uint64_t u = (apr_uint64_t) v;
    int i;

    for (i = 7; i >= 0; i--) {
        b[i] = (unsigned char) (u & 0xff);
        u >>= 8;
    }
}

apr_int64_t af_lm_get_i64(const unsigned char *b)
{
    apr_uint64_t u = 0;
    int i;

    for (i = 0; i < 8; i++) {
        u = (u << 8) | b[i];
    }
    return (apr_int64_t) u;
}

static void put_u32(unsigned char *b, apr_uint32_t v)
{
    b[0] = (unsigned char) (v >> 24);
    b[1] = (unsigned char) (v >> 16);
    b[2] = (unsigned char) (v >> 8);
    b[3] = (unsigned char) v;
}

static apr_uint32_t get_u32(const unsigned char *b)
{
    return ((apr_uint32_t) b[0] << 24) | ((apr_uint32_t) b[1] << 16) | ((apr_uint32_t) b[2] << 8) |
           b[3];
}

static void put_u16(unsigned char *b, apr_size_t v)
{
    b[0] = (unsigned char) (v >> 8);
    b[1] = (unsigned char) v;
}

static apr_size_t get_u16(const unsigned char *b)
{
    return ((apr_size_t) b[0] << 8) | b[1];
}

apr_size_t af_lm_exp_key(unsigned char *buf, apr_int64_t expires, int kind, const void *key,
                         apr_size_t key_len)
{
    /* flip the sign bit so that unsigned byte order is numeric order */
    af_lm_put_i64(buf, (apr_int64_t) ((apr_uint64_t) expires ^ ((apr_uint64_t) 1 << 63)));
    buf[8] = (unsigned char) kind;
    memcpy(buf + 9, key, key_len);
    return 9 + key_len;
}

apr_int64_t af_lm_exp_time(const unsigned char *buf)
{
    return (apr_int64_t) ((apr_uint64_t) af_lm_get_i64(buf) ^ ((apr_uint64_t) 1 << 63));
}

/* ---- records ------------------------------------------------------------------------- */

void af_lm_tok_encode(unsigned char *buf, apr_size_t *len, const lm_tok_t *t)
{
    memset(buf, 0, TOK_HDR);
    buf[0] = 1; /* record version */
    buf[1] = (unsigned char) t->state;
    put_u16(buf + 2, t->sealed_len);
    put_u32(buf + 4, t->generation);
    af_lm_put_i64(buf + 8, t->created);
    af_lm_put_i64(buf + 16, t->rotated_at);
    af_lm_put_i64(buf + 24, t->expires);
    memcpy(buf + 32, t->sid, LM_SID_LEN);
    buf[54] = (unsigned char) t->flags;
    memcpy(buf + 56, t->succ, AF_RT_HASH_LEN);
    memcpy(buf + TOK_HDR, t->sealed, t->sealed_len);
    *len = TOK_HDR + t->sealed_len;
}

apr_status_t af_lm_tok_decode(lm_tok_t *t, const MDB_val *v)
{
    const unsigned char *b = v->mv_data;

    memset(t, 0, sizeof(*t));
    if (v->mv_size < TOK_HDR || b[0] != 1) {
        return AF_ESTORE_CORRUPT;
    }
    t->state = b[1];
    t->sealed_len = get_u16(b + 2);
    if (t->sealed_len > TOK_SEALED_MAX || v->mv_size != TOK_HDR + t->sealed_len ||
        t->state < LM_ACTIVE || t->state > LM_REVOKED) {
        return AF_ESTORE_CORRUPT;
    }
    t->generation = get_u32(b + 4);
    t->created = af_lm_get_i64(b + 8);
    t->rotated_at = af_lm_get_i64(b + 16);
    t->expires = af_lm_get_i64(b + 24);
    memcpy(t->sid, b + 32, LM_SID_LEN);
    t->flags = b[54];
    memcpy(t->succ, b + 56, AF_RT_HASH_LEN);
    memcpy(t->sealed, b + TOK_HDR, t->sealed_len);
    return APR_SUCCESS;
}

unsigned char *af_lm_fam_encode(apr_size_t *len, const lm_fam_t *f, apr_pool_t *p)
{
    apr_size_t ring = (apr_size_t) f->ring_n * AF_RT_HASH_LEN, head = FAM_HDR_V2 + ring;
    apr_size_t n = head + f->sub_len + f->provider_len + f->claims_len;
    unsigned char *b = apr_pcalloc(p, n);

    b[0] = 2; /* record version: 2 has the ring of rotated tokens */
    b[1] = (unsigned char) (f->revoked ? 1 : 0);
    put_u16(b + 2, f->sub_len);
    put_u32(b + 4, f->generation);
    af_lm_put_i64(b + 8, f->created);
    af_lm_put_i64(b + 16, f->last_used);
    af_lm_put_i64(b + 24, f->expires);
    af_lm_put_i64(b + 32, f->idle);
    af_lm_put_i64(b + 40, f->revoked_at);
    put_u32(b + 48, f->rotations);
    put_u16(b + 52, f->provider_len);
    memcpy(b + 56, f->cur, AF_RT_HASH_LEN);
    put_u32(b + 88, (apr_uint32_t) f->claims_len);
    b[FAM_HDR] = (unsigned char) f->ring_n;
    memcpy(b + FAM_HDR_V2, f->ring, ring);
    memcpy(b + head, f->sub, f->sub_len);
    memcpy(b + head + f->sub_len, f->provider, f->provider_len);
    memcpy(b + head + f->sub_len + f->provider_len, f->claims, f->claims_len);
    *len = n;
    return b;
}

apr_status_t af_lm_fam_decode(lm_fam_t *f, const MDB_val *v)
{
    const unsigned char *b = v->mv_data;
    apr_size_t head = FAM_HDR;

    memset(f, 0, sizeof(*f));
    if (v->mv_size < FAM_HDR || (b[0] != 1 && b[0] != 2)) {
        return AF_ESTORE_CORRUPT;
    }
    if (b[0] == 2) {
        if (v->mv_size < FAM_HDR_V2 || b[FAM_HDR] > FAM_RING) {
            return AF_ESTORE_CORRUPT;
        }
        f->ring_n = b[FAM_HDR];
        head = FAM_HDR_V2 + (apr_size_t) f->ring_n * AF_RT_HASH_LEN;
        if (v->mv_size < head) {
            return AF_ESTORE_CORRUPT;
        }
        memcpy(f->ring, b + FAM_HDR_V2, (apr_size_t) f->ring_n * AF_RT_HASH_LEN);
    }
    f->revoked = b[1];
    f->sub_len = get_u16(b + 2);
    f->generation = get_u32(b + 4);
    f->created = af_lm_get_i64(b + 8);
    f->last_used = af_lm_get_i64(b + 16);
    f->expires = af_lm_get_i64(b + 24);
    f->idle = af_lm_get_i64(b + 32);
    f->revoked_at = af_lm_get_i64(b + 40);
    f->rotations = get_u32(b + 48);
    f->provider_len = get_u16(b + 52);
    memcpy(f->cur, b + 56, AF_RT_HASH_LEN);
    f->claims_len = get_u32(b + 88);
    if (v->mv_size != head + f->sub_len + f->provider_len + f->claims_len) {
        return AF_ESTORE_CORRUPT;
    }
    f->sub = (const char *) b + head;
    f->provider = f->sub + f->sub_len;
    f->claims = f->provider + f->provider_len;
    return APR_SUCCESS;
}

af_store_family_t *af_lm_fam_export(const lm_fam_t *f, const char *sid, apr_size_t sid_len,
                                    apr_pool_t *p)
{
    af_store_family_t *o = apr_pcalloc(p, sizeof(*o));

    o->sid = apr_pstrmemdup(p, sid, sid_len);
    o->sub = apr_pstrmemdup(p, f->sub, f->sub_len);
    o->provider = apr_pstrmemdup(p, f->provider, f->provider_len);
    o->claims_json = apr_pstrmemdup(p, f->claims, f->claims_len);
    o->created = f->created;
    o->last_used = f->last_used;
    o->expires = f->expires;
    o->idle = f->idle;
    o->revoked = f->revoked;
    o->revoked_at = f->revoked_at;
    o->generation = f->generation;
    o->rotations = f->rotations;
    return o;
}

/* ---- counters ---------------------------------------------------------------------- */

int af_lm_counter_add(lm_t *lm, MDB_txn *txn, const char *name, apr_uint64_t n)
{
    MDB_val k = {strlen(name), (void *) name}, v;
    unsigned char buf[8];
    apr_uint64_t cur = 0;
    int rc;

    rc = mdb_get(txn, lm->meta, &k, &v);
    if (rc == MDB_SUCCESS && v.mv_size == 8) {
        cur = (apr_uint64_t) af_lm_get_i64(v.mv_data);
    } else if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) {
        return rc;
    }
    af_lm_put_i64(buf, (apr_int64_t) (cur + n));
    v.mv_size = 8;
    v.mv_data = buf;
    return mdb_put(txn, lm->meta, &k, &v, 0);
}

apr_uint64_t af_lm_counter_get(lm_t *lm, MDB_txn *txn, const char *name)
{
    MDB_val k = {strlen(name), (void *) name}, v;

    if (mdb_get(txn, lm->meta, &k, &v) == MDB_SUCCESS && v.mv_size == 8) {
        return (apr_uint64_t) af_lm_get_i64(v.mv_data);
    }
    return 0;
}

/* ---- lifecycle ----------------------------------------------------------------------- */

static int open_dbs(lm_t *lm, unsigned int txn_flags, unsigned int create)
{
    MDB_txn *txn = NULL;
    int rc;

    rc = af_lm_txn_begin(lm, txn_flags, &txn);
    if (rc != MDB_SUCCESS) {
        return rc;
    }
    if ((rc = mdb_dbi_open(txn, "tokens", create, &lm->tokens)) ||
        (rc = mdb_dbi_open(txn, "families", create, &lm->families)) ||
        (rc = mdb_dbi_open(txn, "by_sub", create | MDB_DUPSORT, &lm->by_sub)) ||
        (rc = mdb_dbi_open(txn, "by_expiry", create, &lm->by_expiry)) ||
        (rc = mdb_dbi_open(txn, "flows", create, &lm->flows)) ||
        (rc = mdb_dbi_open(txn, "meta", create, &lm->meta))) {
        mdb_txn_abort(txn);
        return rc;
    }
    /* added later (back-channel logout): a read-only tool on an older environment goes on
     * without it; a writer creates it */
    rc = mdb_dbi_open(txn, "by_idp_sid", create | MDB_DUPSORT, &lm->by_idp_sid);
    if (rc == MDB_NOTFOUND && lm->rdonly) {
        rc = MDB_SUCCESS;
    } else if (rc == MDB_SUCCESS) {
        lm->has_idp_sid = 1;
    }
    if (rc != MDB_SUCCESS) {
        mdb_txn_abort(txn);
        return rc;
    }
    return mdb_txn_commit(txn);
}

static void lm_close(af_store_t *st)
{
    lm_t *lm = st->impl;

    if (lm != NULL && lm->env != NULL) {
        mdb_env_close(lm->env);
        lm->env = NULL;
        pthread_cond_destroy(&lm->cv);
        pthread_mutex_destroy(&lm->mu);
    }
}

static apr_status_t cleanup_store(void *data)
{
    lm_close(data);
    return APR_SUCCESS;
}

static const af_store_ops_t lmdb_ops = {"lmdb",
                                        lm_close,
                                        af_lm_family_create,
                                        af_lm_rotate,
                                        af_lm_family_revoke,
                                        af_lm_revoke_sub,
                                        af_lm_revoke_idp_sid,
                                        af_lm_family_is_revoked,
                                        af_lm_family_get,
                                        af_lm_list,
                                        af_lm_sweep,
                                        af_lm_stats,
                                        af_lm_flow_consume,
                                        af_lm_delivered,
                                        af_lm_token_family,
                                        af_lm_lease,
                                        af_store_map_use,
                                        NULL,
                                        NULL,
                                        af_lm_throttle,
                                        af_lm_flow_release};

static int env_exists(const char *dir)
{
    char path[4096];
    struct stat st;

    snprintf(path, sizeof(path), "%s/data.mdb", dir);
    return stat(path, &st) == 0 && st.st_size > 0;
}

static apr_status_t env_open(lm_t *lm, const char *dir, apr_size_t mapsize, unsigned int maxreaders,
                             int flags)
{
    unsigned int eflags = MDB_NOTLS | ((flags & AF_STORE_RDONLY) ? MDB_RDONLY : 0) |
                          ((flags & AF_STORE_NOMETASYNC) ? MDB_NOMETASYNC : 0);
    int rc;

    rc = mdb_env_create(&lm->env);
    if (rc == MDB_SUCCESS) {
        rc = mdb_env_set_maxdbs(lm->env, 8);
    }
    if (rc == MDB_SUCCESS && (mapsize > 0 || !env_exists(dir))) {
        /* 0: keep an existing environment's size (operator tools), default for a new one */
        rc = mdb_env_set_mapsize(lm->env, mapsize ? mapsize : AF_STORE_DEFAULT_MAPSIZE);
    }
    if (rc == MDB_SUCCESS) {
        rc = mdb_env_set_maxreaders(lm->env, maxreaders ? maxreaders : DEFAULT_READERS);
    }
    if (rc == MDB_SUCCESS) {
        rc = mdb_env_open(lm->env, dir, eflags, 0600);
    }
    if (rc == MDB_SUCCESS) {
        rc = mdb_reader_check(lm->env, &lm->stale);
    }
    if (rc == MDB_SUCCESS) {
        /* named dbs usually exist: open them with a read txn (no writer lock) */
        rc = open_dbs(lm, MDB_RDONLY, 0);
        if (rc == MDB_NOTFOUND && !(flags & AF_STORE_RDONLY)) {
            rc = open_dbs(lm, 0, MDB_CREATE);
        }
    }
    if (rc != MDB_SUCCESS) {
        if (lm->env != NULL) {
            mdb_env_close(lm->env);
            lm->env = NULL;
        }
        if (rc == ENOENT || rc == EACCES || rc == EROFS) {
            return APR_FROM_OS_ERROR(rc);
        }
        return af_lm_err(lm, rc, "open");
    }
    if (lm->stale > 0) {
        af_log(AF_LOG_NOTICE, "AF03002", "store: reclaimed %d stale reader slot(s) in %s",
               lm->stale, dir);
    }
    return APR_SUCCESS;
}

apr_status_t af_store_lmdb_open(af_store_t **out, const char *dir, apr_size_t mapsize,
                                unsigned int maxreaders, int flags, apr_pool_t *p)
{
    af_store_t *st = apr_pcalloc(p, sizeof(*st));
    lm_t *lm = apr_pcalloc(p, sizeof(*lm));
    apr_status_t rv;

    *out = NULL;
    lm->rdonly = (flags & AF_STORE_RDONLY) != 0;
    lm->adopt = (flags & AF_STORE_ADOPT_MAPSIZE) != 0;
    rv = env_open(lm, dir, mapsize, maxreaders, flags);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    pthread_mutex_init(&lm->mu, NULL);
    pthread_cond_init(&lm->cv, NULL);
    st->ops = &lmdb_ops;
    st->impl = lm;
    st->pool = p;
    apr_pool_cleanup_register(p, st, cleanup_store, apr_pool_cleanup_null);
    *out = st;
    return APR_SUCCESS;
}

unsigned long af_store_rotation_batches(const af_store_t *st)
{
    lm_t *lm = st->impl;
    unsigned long n;

    pthread_mutex_lock(&lm->mu);
    n = lm->batches;
    pthread_mutex_unlock(&lm->mu);
    return n;
}

int af_store_stale_readers(const af_store_t *st)
{
    const lm_t *lm = st->impl;

    return lm->stale;
}

/* Pages on the free list: each record of LMDB's free db (dbi 0) is a page list whose
 * first word is its length. */
int af_lm_free_pages(MDB_txn *txn, apr_uint64_t *pages)
{
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    size_t n;
    int rc;

    *pages = 0;
    rc = mdb_cursor_open(txn, 0, &cur);
    for (rc = rc ? rc : mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == MDB_SUCCESS;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (v.mv_size >= sizeof(size_t)) {
            memcpy(&n, v.mv_data, sizeof(n));
            *pages += n;
        }
    }
    if (cur != NULL) {
        mdb_cursor_close(cur);
    }
    return rc == MDB_NOTFOUND ? MDB_SUCCESS : rc;
}

int af_lm_low_headroom(lm_t *lm)
{
    MDB_envinfo ei;
    MDB_stat ms;
    MDB_txn *txn = NULL;
    apr_uint64_t pages, tail, reserve, lo, free_pages = 0;
    int rc;

    if (mdb_env_info(lm->env, &ei) != MDB_SUCCESS || mdb_env_stat(lm->env, &ms) != MDB_SUCCESS ||
        ms.ms_psize == 0) {
        return 0;
    }
    pages = ei.me_mapsize / ms.ms_psize;
    lo = pages / 8 < 32 ? pages / 8 : 32; /* tiny maps (tests): an eighth */
    reserve = pages / 64 < lo ? lo : pages / 64 > 8192 ? 8192 : pages / 64;
    tail = pages > (apr_uint64_t) ei.me_last_pgno + 1 ? pages - ei.me_last_pgno - 1 : 0;
    if (tail >= reserve) {
        return 0; /* the usual case: the file has not reached the end of the map */
    }
    /* near the end: what the free list holds counts too (LMDB reuses it first).  A write
     * transaction cannot read the free list: a read transaction, before it, can. */
    if (af_lm_txn_begin(lm, MDB_RDONLY, &txn) != MDB_SUCCESS) {
        return 0;
    }
    rc = af_lm_free_pages(txn, &free_pages);
    mdb_txn_abort(txn);
    return rc == MDB_SUCCESS && tail + free_pages < reserve;
}

apr_status_t af_store_map_use(apr_uint64_t *size, apr_uint64_t *used, af_store_t *st)
{
    lm_t *lm = st->impl;
    MDB_txn *txn = NULL;
    MDB_envinfo ei;
    MDB_stat ms;
    apr_uint64_t free_pages = 0, pages;
    int rc;

    *size = *used = 0;
    if (mdb_env_info(lm->env, &ei) != MDB_SUCCESS || mdb_env_stat(lm->env, &ms) != MDB_SUCCESS) {
        return AF_ESTORE_IO;
    }
    *size = ei.me_mapsize;
    rc = af_lm_txn_begin(lm, MDB_RDONLY, &txn);
    if (rc == MDB_SUCCESS) {
        /* this transaction's snapshot: the last page may have moved since mdb_env_info */
        mdb_env_info(lm->env, &ei);
        rc = af_lm_free_pages(txn, &free_pages);
        mdb_txn_abort(txn);
    }
    if (rc != MDB_SUCCESS) {
        return af_lm_err(lm, rc, "map_use");
    }
    pages = (apr_uint64_t) ei.me_last_pgno + 1;
    *used = (pages > free_pages ? pages - free_pages : 0) * ms.ms_psize;
    return APR_SUCCESS;
}

apr_status_t af_store_lmdb_prepare(const char *dir, long uid, long gid, apr_size_t mapsize,
                                   apr_pool_t *p)
{
    static const char *const files[] = {"data.mdb", "lock.mdb", NULL};
    lm_t lm;
    apr_status_t rv;
    int i;

    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        return APR_FROM_OS_ERROR(errno);
    }
    memset(&lm, 0, sizeof(lm));
    rv = env_open(&lm, dir, mapsize, 0, 0);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    mdb_env_close(lm.env);
    if (uid != -1 || gid != -1) {
        if (chown(dir, (uid_t) uid, (gid_t) gid) != 0) {
            return APR_FROM_OS_ERROR(errno);
        }
        for (i = 0; files[i] != NULL; i++) {
            const char *f = apr_pstrcat(p, dir, "/", files[i], NULL);
            if (chown(f, (uid_t) uid, (gid_t) gid) != 0) {
                return APR_FROM_OS_ERROR(errno);
            }
        }
    }
    return APR_SUCCESS;
}
