/* lmdb_admin.c -- revocation, lookups, listing, sweeping, statistics and single-use flows
 * of the LMDB backend.  Each function keeps its transactions inside itself. */
#include <string.h>

#include <apr_strings.h>

#include "common/af_log.h"
#include "store/lmdb_int.h"

#define SWEEP_BATCH 1000

static int sid_ok(const char *sid)
{
    return sid != NULL && strlen(sid) == LM_SID_LEN;
}

apr_status_t af_lm_family_revoke(af_store_t *st, const char *sid, apr_int64_t now, apr_pool_t *p)
{
    lm_t *lm = st->impl;
    MDB_txn *txn = NULL;
    MDB_val k = {LM_SID_LEN, (void *) sid};
    int rc, changed = 0;

    if (!sid_ok(sid)) {
        return AF_ENOTFOUND;
    }
    rc = af_lm_txn_begin(lm, 0, &txn);
    if (rc == MDB_SUCCESS) {
        rc = af_lm_revoke_in_txn(lm, txn, &k, now, &changed, p);
    }
    if (rc == MDB_SUCCESS && changed) {
        rc = af_lm_counter_add(lm, txn, "revocations", 1);
        if (rc == MDB_SUCCESS) {
            rc = mdb_txn_commit(txn);
            txn = NULL;
        }
    }
    if (txn != NULL) {
        mdb_txn_abort(txn);
    }
    if (rc == MDB_NOTFOUND) {
        return AF_ENOTFOUND;
    }
    if (rc != MDB_SUCCESS) {
        return af_lm_err(lm, rc, "family_revoke");
    }
    if (changed) {
        af_log(AF_LOG_INFO, "AF03011", "store: family %s revoked", sid);
    }
    return APR_SUCCESS;
}

/* Does the family sk belong to sub? */
static int family_of(lm_t *lm, MDB_txn *txn, const MDB_val *sk, const char *sub, int *yes)
{
    MDB_val v;
    lm_fam_t f;
    int rc;

    *yes = 0;
    if ((rc = mdb_get(txn, lm->families, (MDB_val *) sk, &v)) != MDB_SUCCESS) {
        return rc;
    }
    if (af_lm_fam_decode(&f, &v) != APR_SUCCESS) {
        return MDB_CORRUPTED;
    }
    *yes = f.sub_len == strlen(sub) && memcmp(f.sub, sub, f.sub_len) == 0;
    return MDB_SUCCESS;
}

apr_status_t af_lm_revoke_index(int *count, lm_t *lm, MDB_dbi index, const MDB_val *key,
                                const char *only_sub, apr_int64_t now, const char *op,
                                apr_pool_t *p)
{
    MDB_txn *txn = NULL;
    MDB_cursor *cur = NULL;
    MDB_val k = *key, v;
    int rc, changed, yes, n = 0;

    rc = af_lm_txn_begin(lm, 0, &txn);
    if (rc == MDB_SUCCESS) {
        rc = mdb_cursor_open(txn, index, &cur);
    }
    if (rc == MDB_SUCCESS) {
        rc = mdb_cursor_get(cur, &k, &v, MDB_SET);
    }
    while (rc == MDB_SUCCESS) {
        MDB_val sk = v;
        yes = 1;
        if (only_sub != NULL) {
            rc = family_of(lm, txn, &sk, only_sub, &yes);
        }
        if (rc == MDB_SUCCESS && yes) {
            rc = af_lm_revoke_in_txn(lm, txn, &sk, now, &changed, p);
            n += rc == MDB_SUCCESS ? changed : 0;
        }
        if (rc == MDB_NOTFOUND) {
            rc = MDB_SUCCESS; /* dangling index entry: nothing to revoke */
        }
        if (rc != MDB_SUCCESS) {
            break;
        }
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_DUP);
    }
    if (cur != NULL) {
        mdb_cursor_close(cur);
    }
    if (rc == MDB_NOTFOUND) {
        rc = MDB_SUCCESS;
    }
    if (rc == MDB_SUCCESS && n > 0) {
        rc = af_lm_counter_add(lm, txn, "revocations", (apr_uint64_t) n);
        if (rc == MDB_SUCCESS) {
            rc = mdb_txn_commit(txn);
            txn = NULL;
        }
    }
    if (txn != NULL) {
        mdb_txn_abort(txn);
    }
    if (rc != MDB_SUCCESS) {
        return af_lm_err(lm, rc, op);
    }
    if (count != NULL) {
        *count = n;
    }
    return APR_SUCCESS;
}

apr_status_t af_lm_revoke_sub(int *count, af_store_t *st, const char *sub, apr_int64_t now,
                              apr_pool_t *p)
{
    MDB_val k = {0, NULL};

    if (count != NULL) {
        *count = 0;
    }
    if (sub == NULL || *sub == '\0' || strlen(sub) > AF_STORE_SUB_MAX) {
        return APR_SUCCESS;
    }
    k.mv_size = strlen(sub);
    k.mv_data = (void *) sub;
    return af_lm_revoke_index(count, st->impl, ((lm_t *) st->impl)->by_sub, &k, NULL, now,
                              "revoke_sub", p);
}

apr_status_t af_lm_family_is_revoked(af_store_t *st, const char *sid)
{
    lm_t *lm = st->impl;
    MDB_txn *txn = NULL;
    MDB_val k = {LM_SID_LEN, (void *) sid}, v;
    apr_status_t rv = APR_SUCCESS;
    int rc;

    if (!sid_ok(sid)) {
        return AF_ESTORE_UNKNOWN;
    }
    rc = af_lm_txn_begin(lm, MDB_RDONLY, &txn);
    if (rc != MDB_SUCCESS) {
        return af_lm_err(lm, rc, "is_revoked");
    }
    rc = mdb_get(txn, lm->families, &k, &v);
    if (rc == MDB_NOTFOUND) {
        rv = AF_ESTORE_UNKNOWN;
    } else if (rc != MDB_SUCCESS) {
        rv = af_lm_err(lm, rc, "is_revoked");
    } else if (v.mv_size < FAM_HDR || (((const unsigned char *) v.mv_data)[0] != 1 &&
                                       ((const unsigned char *) v.mv_data)[0] != 2)) {
        rv = AF_ESTORE_CORRUPT; /* record versions 1 and 2 keep the flag at byte 1 */
    } else if (((const unsigned char *) v.mv_data)[1] != 0) {
        rv = AF_ESTORE_REVOKED;
    }
    mdb_txn_abort(txn);
    return rv;
}

apr_status_t af_lm_family_get(af_store_family_t **fam, af_store_t *st, const char *sid,
                              apr_pool_t *p)
{
    lm_t *lm = st->impl;
    MDB_txn *txn = NULL;
    MDB_val k = {LM_SID_LEN, (void *) sid}, v;
    lm_fam_t f;
    apr_status_t rv = APR_SUCCESS;
    int rc;

    *fam = NULL;
    if (!sid_ok(sid)) {
        return AF_ENOTFOUND;
    }
    rc = af_lm_txn_begin(lm, MDB_RDONLY, &txn);
    if (rc != MDB_SUCCESS) {
        return af_lm_err(lm, rc, "family_get");
    }
    rc = mdb_get(txn, lm->families, &k, &v);
    if (rc == MDB_NOTFOUND) {
        rv = AF_ENOTFOUND;
    } else if (rc != MDB_SUCCESS) {
        rv = af_lm_err(lm, rc, "family_get");
    } else if ((rv = af_lm_fam_decode(&f, &v)) == APR_SUCCESS) {
        *fam = af_lm_fam_export(&f, sid, LM_SID_LEN, p);
    }
    mdb_txn_abort(txn);
    return rv;
}

/* Collect first (inside the read txn), call back after: callbacks may use the store. */
apr_status_t af_lm_list(af_store_t *st, const char *sub, af_store_list_fn *fn, void *baton,
                        apr_pool_t *p)
{
    lm_t *lm = st->impl;
    apr_array_header_t *all = apr_array_make(p, 16, sizeof(af_store_family_t *));
    MDB_txn *txn = NULL;
    MDB_cursor *cur = NULL;
    MDB_val k = {0, NULL}, v, fv;
    lm_fam_t f;
    int rc, i;
    MDB_cursor_op first = MDB_FIRST, next = MDB_NEXT;

    rc = af_lm_txn_begin(lm, MDB_RDONLY, &txn);
    if (rc == MDB_SUCCESS) {
        rc = mdb_cursor_open(txn, sub ? lm->by_sub : lm->families, &cur);
    }
    if (sub != NULL) {
        k.mv_size = strlen(sub);
        k.mv_data = (void *) sub;
        first = MDB_SET;
        next = MDB_NEXT_DUP;
    }
    if (rc == MDB_SUCCESS) {
        rc = mdb_cursor_get(cur, &k, &v, first);
    }
    while (rc == MDB_SUCCESS) {
        MDB_val sk = sub ? v : k;
        if (sub == NULL) {
            fv = v;
        } else if ((rc = mdb_get(txn, lm->families, &sk, &fv)) != MDB_SUCCESS) {
            if (rc != MDB_NOTFOUND) {
                break;
            }
            rc = mdb_cursor_get(cur, &k, &v, next);
            continue;
        }
        if (af_lm_fam_decode(&f, &fv) == APR_SUCCESS) {
            APR_ARRAY_PUSH(all, af_store_family_t *) =
                af_lm_fam_export(&f, sk.mv_data, sk.mv_size, p);
        }
        rc = mdb_cursor_get(cur, &k, &v, next);
    }
    if (cur != NULL) {
        mdb_cursor_close(cur);
    }
    if (txn != NULL) {
        mdb_txn_abort(txn);
    }
    if (rc != MDB_NOTFOUND && rc != MDB_SUCCESS) {
        return af_lm_err(lm, rc, "list");
    }
    for (i = 0; i < all->nelts; i++) {
        if (fn(baton, APR_ARRAY_IDX(all, i, af_store_family_t *)) != 0) {
            break;
        }
    }
    return APR_SUCCESS;
}

/* Delete what one by_expiry entry points to. */
int af_lm_purge_one(lm_t *lm, MDB_txn *txn, const MDB_val *ek)
{
    const unsigned char *b = ek->mv_data;
    MDB_val k = {ek->mv_size - 9, (void *) (b + 9)}, v, sk;
    lm_fam_t f;
    char subbuf[AF_STORE_SUB_MAX];
    int rc = MDB_SUCCESS;

    switch (b[8]) {
    case LM_KIND_FAMILY:
        rc = mdb_get(txn, lm->families, &k, &v);
        if (rc == MDB_SUCCESS && af_lm_fam_decode(&f, &v) == APR_SUCCESS) {
            /* copy the sub: the family page may change with the delete */
            sk.mv_size = f.sub_len > AF_STORE_SUB_MAX ? AF_STORE_SUB_MAX : f.sub_len;
            sk.mv_data = memcpy(subbuf, f.sub, sk.mv_size);
            rc = mdb_del(txn, lm->by_sub, &sk, &k);
            if (rc == MDB_SUCCESS || rc == MDB_NOTFOUND) {
                rc = mdb_del(txn, lm->families, &k, NULL);
            }
        } else if (rc == MDB_SUCCESS) {
            rc = mdb_del(txn, lm->families, &k, NULL);
        }
        break;
    case LM_KIND_TOKEN:
        rc = mdb_del(txn, lm->tokens, &k, NULL);
        break;
    case LM_KIND_FLOW:
        rc = mdb_del(txn, lm->flows, &k, NULL);
        break;
    case LM_KIND_IDP_SID: /* the key || the family id: one duplicate of by_idp_sid */
        if (k.mv_size == LM_IDP_SID_KEY_LEN + LM_SID_LEN && lm->has_idp_sid) {
            MDB_val ik = {LM_IDP_SID_KEY_LEN, k.mv_data};
            MDB_val iv = {LM_SID_LEN, (unsigned char *) k.mv_data + LM_IDP_SID_KEY_LEN};
            rc = mdb_del(txn, lm->by_idp_sid, &ik, &iv);
        }
        break;
    default:
        break;
    }
    return rc == MDB_NOTFOUND ? MDB_SUCCESS : rc;
}

/* Purge up to max records expired at now from the front of by_expiry, in txn. */
static int purge_expired(lm_t *lm, MDB_txn *txn, apr_int64_t now, int max, int *n)
{
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    int rc;

    *n = 0;
    rc = mdb_cursor_open(txn, lm->by_expiry, &cur);
    while (rc == MDB_SUCCESS && *n < max) {
        rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
        if (rc != MDB_SUCCESS || k.mv_size < 9 || af_lm_exp_time(k.mv_data) > now) {
            break;
        }
        rc = af_lm_purge_one(lm, txn, &k);
        if (rc == MDB_SUCCESS) {
            rc = mdb_cursor_del(cur, 0);
        }
        (*n)++;
    }
    if (cur != NULL) {
        mdb_cursor_close(cur);
    }
    if (rc == MDB_NOTFOUND) {
        rc = MDB_SUCCESS; /* the end of by_expiry */
    }
    if (rc == MDB_SUCCESS && *n > 0) {
        rc = af_lm_counter_add(lm, txn, "swept", (apr_uint64_t) *n);
    }
    return rc;
}

/* Everything expired at now, in transactions of at most SWEEP_BATCH records.  Deleting
 * needs free pages too (LMDB copies on write): on a full map the batch is halved, down to
 * one record, and grows again as commits free pages, so a sweep can empty a full map. */
apr_status_t af_lm_sweep(apr_uint64_t *purged, af_store_t *st, apr_int64_t now)
{
    lm_t *lm = st->impl;
    apr_uint64_t total = 0;
    int rc, n, batch = SWEEP_BATCH;

    if (purged != NULL) {
        *purged = 0;
    }
    for (;;) {
        MDB_txn *txn = NULL;

        n = 0;
        rc = af_lm_txn_begin(lm, 0, &txn);
        if (rc == MDB_SUCCESS) {
            rc = purge_expired(lm, txn, now, batch, &n);
        }
        if (rc == MDB_SUCCESS && n > 0) {
            rc = mdb_txn_commit(txn);
            txn = NULL;
        }
        if (txn != NULL) {
            mdb_txn_abort(txn);
        }
        if (rc == MDB_MAP_FULL && batch > 1) {
            batch /= 2;
            continue;
        }
        if (rc != MDB_SUCCESS) {
            break;
        }
        total += (apr_uint64_t) n;
        if (n < batch) {
            break; /* nothing more is expired */
        }
        if (batch < SWEEP_BATCH) {
            batch *= 2;
        }
    }
    if (rc != MDB_SUCCESS) {
        return af_lm_err(lm, rc, "sweep");
    }
    if (purged != NULL) {
        *purged = total;
    }
    return APR_SUCCESS;
}

apr_status_t af_lm_stats(af_store_stats_t *out, af_store_t *st, apr_int64_t now)
{
    lm_t *lm = st->impl;
    MDB_txn *txn = NULL;
    MDB_cursor *cur = NULL;
    MDB_stat ms;
    MDB_envinfo ei;
    MDB_val k, v;
    lm_fam_t f;
    apr_uint64_t free_pages = 0;
    int rc;

    memset(out, 0, sizeof(*out));
    if (mdb_env_info(lm->env, &ei) == MDB_SUCCESS) {
        out->map_size = ei.me_mapsize; /* also when the transaction fails */
    }
    rc = af_lm_txn_begin(lm, MDB_RDONLY, &txn);
    if (rc != MDB_SUCCESS) {
        return af_lm_err(lm, rc, "stats");
    }
    out->logins = af_lm_counter_get(lm, txn, "logins");
    out->rotations = af_lm_counter_get(lm, txn, "rotations");
    out->reuse_detections = af_lm_counter_get(lm, txn, "reuse");
    out->revocations = af_lm_counter_get(lm, txn, "revocations");
    out->swept = af_lm_counter_get(lm, txn, "swept");
    if (mdb_stat(txn, lm->families, &ms) == MDB_SUCCESS) {
        out->families = ms.ms_entries;
    }
    if (mdb_stat(txn, lm->tokens, &ms) == MDB_SUCCESS) {
        out->tokens = ms.ms_entries;
    }
    if (mdb_stat(txn, lm->flows, &ms) == MDB_SUCCESS) {
        out->flows = ms.ms_entries;
    }
    rc = mdb_cursor_open(txn, lm->families, &cur);
    if (rc == MDB_SUCCESS) {
        rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    }
    while (rc == MDB_SUCCESS) {
        if (af_lm_fam_decode(&f, &v) == APR_SUCCESS && !f.revoked && now < f.expires &&
            !(f.idle > 0 && now - f.last_used > f.idle)) {
            out->active_families++;
        }
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    if (cur != NULL) {
        mdb_cursor_close(cur);
    }
    if (rc == MDB_NOTFOUND) {
        rc = af_lm_free_pages(txn, &free_pages);
    }
    mdb_txn_abort(txn);
    if (mdb_env_info(lm->env, &ei) == MDB_SUCCESS && mdb_env_stat(lm->env, &ms) == MDB_SUCCESS) {
        out->map_used = (apr_uint64_t) (ei.me_last_pgno + 1) * ms.ms_psize;
        out->map_free = free_pages * ms.ms_psize;
        out->max_readers = ei.me_maxreaders;
        out->readers_used = ei.me_numreaders;
    }
    return rc == MDB_SUCCESS ? APR_SUCCESS : af_lm_err(lm, rc, "stats");
}

apr_status_t af_lm_flow_consume(af_store_t *st, const char *id, apr_size_t id_len, apr_int64_t now,
                                apr_int64_t expires)
{
    lm_t *lm = st->impl;
    unsigned char h[AF_RT_HASH_LEN], eb[8], kb[9 + AF_RT_HASH_LEN];
    MDB_txn *txn = NULL;
    MDB_val k = {AF_RT_HASH_LEN, h}, v = {8, eb}, ek, ev = {0, NULL};
    int rc, purged = 0;

    if (id == NULL || id_len == 0 || id_len > 1024 ||
        af_token_refresh_hash(h, id, id_len) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    af_lm_put_i64(eb, expires);
    ek.mv_size = af_lm_exp_key(kb, expires, LM_KIND_FLOW, h, sizeof(h));
    ek.mv_data = kb;
    /* the reserve is for the logins there are, and the sweep */
    rc = af_lm_low_headroom(lm) ? MDB_MAP_FULL : af_lm_txn_begin(lm, 0, &txn);
    if (rc == MDB_SUCCESS) {
        rc = mdb_put(txn, lm->flows, &k, &v, MDB_NOOVERWRITE);
    }
    if (rc == MDB_SUCCESS) {
        rc = mdb_put(txn, lm->by_expiry, &ek, &ev, 0);
    }
    if (rc == MDB_SUCCESS) { /* a few expired records go with every consume */
        rc = purge_expired(lm, txn, now, AF_STORE_FLOW_PURGE, &purged);
    }
    if (rc == MDB_SUCCESS) {
        rc = mdb_txn_commit(txn);
        txn = NULL;
    }
    if (txn != NULL) {
        mdb_txn_abort(txn);
    }
    if (rc == MDB_KEYEXIST) {
        return AF_ESTORE_REPLAY;
    }
    return rc == MDB_SUCCESS ? APR_SUCCESS : af_lm_err(lm, rc, "flow_consume");
}

apr_status_t af_lm_flow_release(af_store_t *st, const char *id, apr_size_t id_len)
{
    lm_t *lm = st->impl;
    unsigned char h[AF_RT_HASH_LEN], kb[9 + AF_RT_HASH_LEN];
    MDB_txn *txn = NULL;
    MDB_val k = {AF_RT_HASH_LEN, h}, v, ek;
    int rc;

    if (id == NULL || id_len == 0 || id_len > 1024 ||
        af_token_refresh_hash(h, id, id_len) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    /* a delete: no headroom check (it frees space, as revocations and sweeps may) */
    rc = af_lm_txn_begin(lm, 0, &txn);
    if (rc == MDB_SUCCESS) {
        rc = mdb_get(txn, lm->flows, &k, &v);
    }
    if (rc == MDB_SUCCESS && v.mv_size == 8) { /* its by_expiry entry goes with it */
        ek.mv_size = af_lm_exp_key(kb, af_lm_get_i64(v.mv_data), LM_KIND_FLOW, h, sizeof(h));
        ek.mv_data = kb;
        rc = mdb_del(txn, lm->by_expiry, &ek, NULL);
        if (rc == MDB_NOTFOUND) {
            rc = MDB_SUCCESS;
        }
    }
    if (rc == MDB_SUCCESS) {
        rc = mdb_del(txn, lm->flows, &k, NULL);
    }
    if (rc == MDB_SUCCESS) {
        rc = mdb_txn_commit(txn);
        txn = NULL;
    }
    if (txn != NULL) {
        mdb_txn_abort(txn);
    }
    if (rc == MDB_NOTFOUND) {
        return APR_SUCCESS; /* not recorded: nothing to give back */
    }
    return rc == MDB_SUCCESS ? APR_SUCCESS : af_lm_err(lm, rc, "flow_release");
}

apr_status_t af_lm_lease(int *got, af_store_t *st, const char *name, apr_int64_t now,
                         apr_int64_t interval)
{
    lm_t *lm = st->impl;
    unsigned char kb[6 + 64], tb[8];
    MDB_txn *txn = NULL;
    MDB_val k, v;
    apr_int64_t last;
    apr_size_t n = name ? strlen(name) : 0;
    int rc;

    *got = 0;
    if (n == 0 || n > 64) {
        return APR_EINVAL;
    }
    memcpy(kb, "lease:", 6);
    memcpy(kb + 6, name, n);
    k.mv_size = 6 + n;
    k.mv_data = kb;
    rc = af_lm_txn_begin(lm, 0, &txn);
    if (rc == MDB_SUCCESS) {
        rc = mdb_get(txn, lm->meta, &k, &v);
        if (rc == MDB_SUCCESS && v.mv_size == 8) {
            last = af_lm_get_i64(v.mv_data);
            if (last <= now && now - last < interval) {
                mdb_txn_abort(txn); /* another process has it */
                return APR_SUCCESS;
            }
        } else if (rc != MDB_NOTFOUND && rc != MDB_SUCCESS) {
            goto leave;
        }
        af_lm_put_i64(tb, now);
        v.mv_size = 8;
        v.mv_data = tb;
        rc = mdb_put(txn, lm->meta, &k, &v, 0);
    }
    if (rc == MDB_SUCCESS) {
        rc = mdb_txn_commit(txn);
        txn = NULL;
    }
leave:
    if (txn != NULL) {
        mdb_txn_abort(txn);
    }
    if (rc != MDB_SUCCESS) {
        return af_lm_err(lm, rc, "lease");
    }
    *got = 1;
    return APR_SUCCESS;
}

/* ---- the password throttle ------------------------------------------------------------- */

/* A record in the flows db under 'T' || SHA-256(key) (33 bytes: never a flow's 32): the end
 * of its window (8) and the failures in it (8); a by_expiry entry of kind flow at the end of
 * the window removes it in the sweep. */
apr_status_t af_lm_throttle(apr_int64_t *count, apr_int64_t *reset, af_store_t *st,
                            const unsigned char *hash, apr_int64_t now, apr_int64_t window, int add)
{
    lm_t *lm = st->impl;
    unsigned char kb[1 + AF_RT_HASH_LEN], vb[16], eb[9 + 1 + AF_RT_HASH_LEN];
    MDB_txn *txn = NULL;
    MDB_val k = {sizeof(kb), kb}, v, ek, ev = {0, NULL};
    apr_int64_t end = 0, n = 0;
    int rc;

    kb[0] = 'T';
    memcpy(kb + 1, hash, AF_RT_HASH_LEN);
    if (add == 0) {
        rc = af_lm_txn_begin(lm, MDB_RDONLY, &txn);
        if (rc == MDB_SUCCESS) {
            rc = mdb_get(txn, lm->flows, &k, &v);
            if (rc == MDB_SUCCESS && v.mv_size == 16) {
                end = af_lm_get_i64(v.mv_data);
                n = af_lm_get_i64((const unsigned char *) v.mv_data + 8);
            }
            mdb_txn_abort(txn);
            rc = rc == MDB_NOTFOUND ? MDB_SUCCESS : rc;
        }
        if (rc != MDB_SUCCESS) {
            return af_lm_err(lm, rc, "throttle");
        }
        if (end > now && end - now <= window) {
            *count = n, *reset = end;
        }
        return APR_SUCCESS;
    }
    rc = af_lm_txn_begin(lm, 0, &txn);
    if (rc == MDB_SUCCESS) {
        rc = mdb_get(txn, lm->flows, &k, &v);
        if (rc == MDB_SUCCESS && v.mv_size == 16) {
            end = af_lm_get_i64(v.mv_data);
            n = af_lm_get_i64((const unsigned char *) v.mv_data + 8);
        } else if (rc == MDB_NOTFOUND || rc == MDB_SUCCESS) {
            rc = MDB_SUCCESS;
        }
    }
    if (rc == MDB_SUCCESS && (end <= now || end - now > window)) {
        if (end != 0) { /* the window is over (or in the future): its sweep entry goes */
            ek.mv_size = af_lm_exp_key(eb, end, LM_KIND_FLOW, kb, sizeof(kb));
            ek.mv_data = eb;
            rc = mdb_del(txn, lm->by_expiry, &ek, NULL);
            rc = rc == MDB_NOTFOUND ? MDB_SUCCESS : rc;
        }
        end = now + window, n = 0;
        if (rc == MDB_SUCCESS) {
            ek.mv_size = af_lm_exp_key(eb, end, LM_KIND_FLOW, kb, sizeof(kb));
            ek.mv_data = eb;
            rc = mdb_put(txn, lm->by_expiry, &ek, &ev, 0);
        }
    }
    if (rc == MDB_SUCCESS) {
        n += add;
        af_lm_put_i64(vb, end);
        af_lm_put_i64(vb + 8, n);
        v.mv_size = sizeof(vb);
        v.mv_data = vb;
        rc = mdb_put(txn, lm->flows, &k, &v, 0);
    }
    if (rc == MDB_SUCCESS) {
        rc = mdb_txn_commit(txn);
        txn = NULL;
    }
    if (txn != NULL) {
        mdb_txn_abort(txn);
    }
    if (rc != MDB_SUCCESS) {
        return af_lm_err(lm, rc, "throttle");
    }
    *count = n, *reset = end;
    return APR_SUCCESS;
}
