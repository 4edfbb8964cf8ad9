/* lmdb_rotate.c -- new logins and refresh-token rotation with race-free grace
 * (ARCHITECTURE.md "Store (LMDB)", SECURITY.md G02-G06, Appendix 4).
 *
 * A login keeps its live token and the last AF_STORE_KEEP_ROTATED rotated ones (their
 * hashes in the family record's ring, oldest first); the rotation that pushes one out of
 * the ring deletes it and its by_expiry entry, so a login's records stay bounded however
 * often it refreshes.  A token that old is then unknown (401) rather than a detected reuse.
 *
 * The successor kept for the grace window is sealed under a key derived from the old
 * token (store_seal.h: the one scheme every backend uses), so the stored blob is useless
 * without the old token itself, and cannot be moved to another record.
 */
#include <pthread.h>
#include <string.h>

#include <apr_strings.h>
#include <openssl/crypto.h>

#include "common/af_log.h"
#include "store/lmdb_int.h"
#include "store/store_policy.h"
#include "store/store_seal.h"

int af_lm_put_expiry(lm_t *lm, MDB_txn *txn, apr_int64_t expires, int kind, const void *key,
                     apr_size_t key_len)
{
    unsigned char buf[9 + 64];
    MDB_val k, v = {0, NULL};

    k.mv_size = af_lm_exp_key(buf, expires, kind, key, key_len);
    k.mv_data = buf;
    return mdb_put(txn, lm->by_expiry, &k, &v, 0);
}

apr_status_t af_lm_family_create(af_store_family_t **fam, const char **rt, af_store_t *st,
                                 const af_store_login_in_t *in, apr_pool_t *p)
{
    const char *sub = in->sub, *provider = in->provider, *claims_json = in->claims_json;
    apr_int64_t now = in->now, ttl = in->ttl, idle = in->idle;
    lm_t *lm = st->impl;
    MDB_txn *txn = NULL;
    MDB_val k, v;
    lm_fam_t f;
    lm_tok_t t;
    unsigned char h[AF_RT_HASH_LEN], tbuf[TOK_HDR + TOK_SEALED_MAX];
    const char *sid = NULL, *tok = NULL;
    apr_size_t len;
    apr_status_t rv;
    int rc = MDB_SUCCESS;

    *fam = NULL;
    *rt = NULL;
    if (sub == NULL || *sub == '\0' || strlen(sub) > AF_STORE_SUB_MAX || ttl <= 0 || idle < 0) {
        return APR_EINVAL;
    }
    if (claims_json != NULL && strlen(claims_json) > AF_STORE_CLAIMS_MAX) {
        return AF_ETOOBIG;
    }
    if ((rv = af_token_random_id(&sid, 16, p)) != APR_SUCCESS ||
        (rv = af_token_refresh_new(&tok, p)) != APR_SUCCESS ||
        (rv = af_token_refresh_hash(h, tok, strlen(tok))) != APR_SUCCESS) {
        return rv;
    }
    memset(&f, 0, sizeof(f));
    f.generation = 1;
    f.created = now;
    f.last_used = now;
    f.expires = now + ttl;
    f.idle = idle;
    memcpy(f.cur, h, sizeof(h));
    f.sub = sub;
    f.sub_len = strlen(sub);
    f.provider = provider ? provider : "";
    f.provider_len = strlen(f.provider);
    f.claims = claims_json ? claims_json : "";
    f.claims_len = strlen(f.claims);

    memset(&t, 0, sizeof(t));
    t.state = LM_ACTIVE;
    t.generation = 1;
    t.created = now;
    t.expires = f.expires;
    memcpy(t.sid, sid, LM_SID_LEN);
    af_lm_tok_encode(tbuf, &len, &t);

    if (af_lm_low_headroom(lm)) {
        rc = MDB_MAP_FULL; /* the reserve is for the logins there are, and the sweep */
        goto leave;
    }
    rc = af_lm_txn_begin(lm, 0, &txn);
    if (rc != MDB_SUCCESS) {
        goto leave;
    }
    k.mv_size = LM_SID_LEN;
    k.mv_data = (void *) sid;
    v.mv_data = af_lm_fam_encode(&v.mv_size, &f, p);
    if ((rc = mdb_put(txn, lm->families, &k, &v, MDB_NOOVERWRITE)) != MDB_SUCCESS) {
        goto leave;
    }
    k.mv_size = AF_RT_HASH_LEN;
    k.mv_data = h;
    v.mv_size = len;
    v.mv_data = tbuf;
    if ((rc = mdb_put(txn, lm->tokens, &k, &v, MDB_NOOVERWRITE)) != MDB_SUCCESS) {
        goto leave;
    }
    k.mv_size = f.sub_len;
    k.mv_data = (void *) sub;
    v.mv_size = LM_SID_LEN;
    v.mv_data = (void *) sid;
    if ((rc = mdb_put(txn, lm->by_sub, &k, &v, 0)) != MDB_SUCCESS ||
        (rc = af_lm_put_expiry(lm, txn, f.expires, LM_KIND_FAMILY, sid, LM_SID_LEN)) ||
        (rc = af_lm_put_expiry(lm, txn, f.expires, LM_KIND_TOKEN, h, AF_RT_HASH_LEN)) ||
        (rc = af_lm_idp_sid_put(lm, txn, provider, in->idp_sid, sid, f.expires)) ||
        (rc = af_lm_counter_add(lm, txn, "logins", 1))) {
        goto leave;
    }
    rc = mdb_txn_commit(txn);
    txn = NULL;
leave:
    if (txn != NULL) {
        mdb_txn_abort(txn);
    }
    if (rc != MDB_SUCCESS) {
        return af_lm_err(lm, rc, "family_create");
    }
    *rt = tok;
    *fam = apr_pcalloc(p, sizeof(af_store_family_t));
    (*fam)->sid = sid;
    (*fam)->sub = apr_pstrdup(p, sub);
    (*fam)->provider = apr_pstrdup(p, f.provider);
    (*fam)->claims_json = apr_pstrdup(p, f.claims);
    (*fam)->created = now;
    (*fam)->last_used = now;
    (*fam)->expires = f.expires;
    (*fam)->idle = idle;
    (*fam)->generation = 1;
    return APR_SUCCESS;
}

int af_lm_revoke_in_txn(lm_t *lm, MDB_txn *txn, const MDB_val *sidkey, apr_int64_t now,
                        int *changed, apr_pool_t *p)
{
    MDB_val v, k;
    lm_fam_t f;
    lm_tok_t t;
    unsigned char tbuf[TOK_HDR + TOK_SEALED_MAX];
    apr_size_t len;
    int rc;

    *changed = 0;
    rc = mdb_get(txn, lm->families, (MDB_val *) sidkey, &v);
    if (rc != MDB_SUCCESS) {
        return rc;
    }
    if (af_lm_fam_decode(&f, &v) != APR_SUCCESS) {
        return MDB_CORRUPTED;
    }
    if (f.revoked) {
        return MDB_SUCCESS;
    }
    f.revoked = 1;
    f.revoked_at = now;
    v.mv_data = af_lm_fam_encode(&v.mv_size, &f, p);
    rc = mdb_put(txn, lm->families, (MDB_val *) sidkey, &v, 0);
    if (rc != MDB_SUCCESS) {
        return rc;
    }
    /* the live token of the family becomes revoked too */
    k.mv_size = AF_RT_HASH_LEN;
    k.mv_data = f.cur;
    rc = mdb_get(txn, lm->tokens, &k, &v);
    if (rc == MDB_SUCCESS) {
        if (af_lm_tok_decode(&t, &v) != APR_SUCCESS) {
            return MDB_CORRUPTED;
        }
        t.state = LM_REVOKED;
        af_lm_tok_encode(tbuf, &len, &t);
        v.mv_size = len;
        v.mv_data = tbuf;
        rc = mdb_put(txn, lm->tokens, &k, &v, 0);
    } else if (rc == MDB_NOTFOUND) {
        rc = MDB_SUCCESS;
    }
    if (rc == MDB_SUCCESS) {
        *changed = 1;
    }
    return rc;
}

/* Keep the presented (now rotated) token h in the family's ring.  When the ring is full,
 * its oldest token goes, with its by_expiry entry (if it is still the family's rotated
 * token: anything else is left to the sweep). */
static int ring_push(lm_t *lm, MDB_txn *txn, lm_fam_t *f, const unsigned char *h, const char *sid)
{
    unsigned char kb[9 + AF_RT_HASH_LEN];
    MDB_val k = {AF_RT_HASH_LEN, f->ring[0]}, v, ek;
    lm_tok_t t;
    int rc = MDB_SUCCESS;

    if (f->ring_n >= FAM_RING) {
        rc = mdb_get(txn, lm->tokens, &k, &v);
        if (rc == MDB_SUCCESS && af_lm_tok_decode(&t, &v) == APR_SUCCESS && t.state == LM_ROTATED &&
            memcmp(t.sid, sid, LM_SID_LEN) == 0) {
            ek.mv_size = af_lm_exp_key(kb, t.expires, LM_KIND_TOKEN, f->ring[0], AF_RT_HASH_LEN);
            ek.mv_data = kb;
            rc = mdb_del(txn, lm->by_expiry, &ek, NULL);
            if (rc == MDB_SUCCESS || rc == MDB_NOTFOUND) {
                rc = mdb_del(txn, lm->tokens, &k, NULL);
            }
        }
        if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) {
            return rc;
        }
        rc = MDB_SUCCESS;
        f->ring_n = FAM_RING - 1;
        memmove(f->ring[0], f->ring[1], (apr_size_t) f->ring_n * AF_RT_HASH_LEN);
    }
    memcpy(f->ring[f->ring_n++], h, AF_RT_HASH_LEN);
    return rc;
}

/* One rotation request.  Requests of concurrent threads of a process are committed
 * together (group commit): one write transaction and one durable commit for the batch.
 * Each request's outcome is decided inside that transaction, in arrival order, so two
 * requests presenting the same token in one batch see each other exactly as if they had
 * been committed one after the other. */
typedef struct lm_req_t {
    const char *rt;
    apr_size_t rt_len;
    apr_int64_t now, grace, idle;
    int pending;   /* the successor reaches the browser later (af_store_delivered) */
    apr_pool_t *p; /* the caller's pool: the caller is blocked while the leader uses it */
    unsigned char h[AF_RT_HASH_LEN], k_old[32];
    af_store_rotation_t *res;
    apr_status_t rv;
    int wrote, reuse, done;
    char sid[LM_SID_LEN];
    apr_uint32_t gen_presented, gen_current;
    struct lm_req_t *next;
} lm_req_t;

/* Rotate an active token.  Everything that can fail for other reasons than LMDB happens
 * before the first write: an MDB error after it aborts the whole batch.
 * Returns an MDB rc, or MDB_SUCCESS with r->rv set. */
static int rotate_active(lm_req_t *r, lm_t *lm, MDB_txn *txn, lm_tok_t *old, lm_fam_t *f,
                         const MDB_val *famkey)
{
    unsigned char nh[AF_RT_HASH_LEN], tbuf[TOK_HDR + TOK_SEALED_MAX];
    const char *nrt = NULL;
    lm_tok_t nt;
    MDB_val k, v;
    apr_size_t len;
    int rc;

    if (memcmp(f->cur, r->h, AF_RT_HASH_LEN) != 0 || old->generation != f->generation) {
        r->rv = AF_ESTORE_CORRUPT; /* an active token that is not the family's current one */
        return MDB_SUCCESS;
    }
    r->rv = af_token_refresh_new(&nrt, r->p);
    if (r->rv == APR_SUCCESS && (nrt == NULL || strlen(nrt) != AF_RT_LEN)) {
        r->rv = AF_EINTERNAL;
    }
    if (r->rv == APR_SUCCESS) {
        r->rv = af_token_refresh_hash(nh, nrt, AF_RT_LEN);
    }
    if (r->rv == APR_SUCCESS) { /* the presented token: rotated, with its sealed successor */
        old->state = LM_ROTATED;
        old->rotated_at = r->now;
        old->flags = r->pending ? LM_TOK_PENDING : 0;
        memcpy(old->succ, nh, AF_RT_HASH_LEN);
        old->sealed_len = TOK_SEALED_MAX;
        r->rv = af_store_succ_seal(old->sealed, r->k_old, r->h, nrt);
    }
    if (r->rv != APR_SUCCESS) {
        return MDB_SUCCESS; /* nothing written */
    }
    r->wrote = 1;
    memset(&nt, 0, sizeof(nt));
    nt.state = LM_ACTIVE;
    nt.generation = old->generation + 1;
    nt.created = r->now;
    nt.expires = f->expires; /* never beyond the family's absolute expiry */
    memcpy(nt.sid, old->sid, LM_SID_LEN);
    af_lm_tok_encode(tbuf, &len, &nt);
    k.mv_size = AF_RT_HASH_LEN;
    k.mv_data = nh;
    v.mv_size = len;
    v.mv_data = tbuf;
    if ((rc = mdb_put(txn, lm->tokens, &k, &v, MDB_NOOVERWRITE)) != MDB_SUCCESS) {
        return rc;
    }
    af_lm_tok_encode(tbuf, &len, old);
    k.mv_data = r->h;
    v.mv_size = len;
    v.mv_data = tbuf;
    if ((rc = mdb_put(txn, lm->tokens, &k, &v, 0)) ||
        (rc = af_lm_put_expiry(lm, txn, f->expires, LM_KIND_TOKEN, nh, AF_RT_HASH_LEN))) {
        return rc;
    }
    f->generation = nt.generation;
    f->last_used = r->now;
    f->rotations++;
    memcpy(f->cur, nh, AF_RT_HASH_LEN);
    if ((rc = ring_push(lm, txn, f, r->h, old->sid)) != MDB_SUCCESS) {
        return rc;
    }
    v.mv_data = af_lm_fam_encode(&v.mv_size, f, r->p);
    if ((rc = mdb_put(txn, lm->families, (MDB_val *) famkey, &v, 0)) ||
        (rc = af_lm_counter_add(lm, txn, "rotations", 1))) {
        return rc;
    }
    r->res->refresh_token = nrt;
    r->res->generation = nt.generation;
    r->res->replayed = 0;
    r->rv = APR_SUCCESS;
    return MDB_SUCCESS;
}

/* A pending rotated record t (key h) counts as delivered at now. */
static int mark_delivered(lm_t *lm, MDB_txn *txn, lm_tok_t *t, const unsigned char *h,
                          apr_int64_t now)
{
    unsigned char tbuf[TOK_HDR + TOK_SEALED_MAX];
    MDB_val k = {AF_RT_HASH_LEN, (void *) h}, v;
    apr_size_t len;

    t->flags &= ~LM_TOK_PENDING;
    t->rotated_at = now;
    af_lm_tok_encode(tbuf, &len, t);
    v.mv_size = len;
    v.mv_data = tbuf;
    return mdb_put(txn, lm->tokens, &k, &v, 0);
}

/* The grace path: unseal the successor kept in the rotated record. */
static apr_status_t replay_successor(lm_req_t *r, const lm_tok_t *old)
{
    apr_status_t rv;

    rv = af_store_succ_open(&r->res->refresh_token, r->k_old, r->h, old->sealed, old->sealed_len,
                            old->succ, r->p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    r->res->generation = old->generation + 1;
    r->res->replayed = 1;
    return APR_SUCCESS;
}

/* Decide and apply one request inside the batch's write transaction.
 * Returns an MDB error (the batch must be aborted) or MDB_SUCCESS with r->rv set. */
static int rotate_one(lm_t *lm, MDB_txn *txn, lm_req_t *r)
{
    MDB_val k = {AF_RT_HASH_LEN, r->h}, v, fk;
    apr_int64_t idle = r->idle;
    af_rot_facts_t facts;
    af_rot_action_t action;
    lm_tok_t t;
    lm_fam_t f;
    int rc, changed = 0;

    rc = mdb_get(txn, lm->tokens, &k, &v);
    if (rc == MDB_NOTFOUND) {
        r->rv = AF_ESTORE_UNKNOWN;
        return MDB_SUCCESS;
    }
    if (rc != MDB_SUCCESS) {
        return rc;
    }
    if ((r->rv = af_lm_tok_decode(&t, &v)) != APR_SUCCESS) {
        return MDB_SUCCESS;
    }
    fk.mv_size = LM_SID_LEN;
    fk.mv_data = r->sid;
    memcpy(r->sid, t.sid, LM_SID_LEN);
    rc = mdb_get(txn, lm->families, &fk, &v);
    if (rc == MDB_NOTFOUND) {
        r->rv = AF_ESTORE_UNKNOWN;
        return MDB_SUCCESS;
    }
    if (rc != MDB_SUCCESS) {
        return rc;
    }
    if ((r->rv = af_lm_fam_decode(&f, &v)) != APR_SUCCESS) {
        return MDB_SUCCESS;
    }
    /* own the strings: the record memory changes under us once we write */
    f.sub = apr_pstrmemdup(r->p, f.sub, f.sub_len);
    f.provider = apr_pstrmemdup(r->p, f.provider, f.provider_len);
    f.claims = apr_pstrmemdup(r->p, f.claims, f.claims_len);
    if (idle <= 0) {
        idle = f.idle;
    }
    r->gen_presented = t.generation;
    r->gen_current = f.generation;
    facts.now = r->now;
    facts.grace = r->grace;
    facts.idle = idle;
    facts.family_revoked = f.revoked;
    facts.expires = f.expires;
    facts.last_used = f.last_used;
    facts.token_revoked = t.state == LM_REVOKED;
    facts.token_active = t.state == LM_ACTIVE;
    facts.has_successor = t.sealed_len > 0;
    facts.successor_is_current = memcmp(t.succ, f.cur, AF_RT_HASH_LEN) == 0;
    facts.pending = (t.flags & LM_TOK_PENDING) != 0;
    facts.rotated_at = t.rotated_at;
    action = af_store_rotation_decide(&facts);
    if (action == AF_ROT_EXPIRED) {
        r->rv = AF_ESTORE_EXPIRED;
        return MDB_SUCCESS;
    }
    if (action == AF_ROT_ROTATE) {
        rc = rotate_active(r, lm, txn, &t, &f, &fk);
    } else if (action == AF_ROT_REPLAY) {
        /* the immediate predecessor, inside the window or while the answer that carried its
         * successor has not reached the browser: the same successor again */
        r->rv = replay_successor(r, &t);
        if (r->rv == APR_SUCCESS && (t.flags & LM_TOK_PENDING) && !r->pending) {
            /* this answer goes out now: the successor is delivered, the grace starts */
            rc = mark_delivered(lm, txn, &t, r->h, r->now);
            r->wrote = 1;
        }
    } else {
        /* reuse of a rotated token: revoke the whole family */
        r->wrote = 1;
        rc = af_lm_revoke_in_txn(lm, txn, &fk, r->now, &changed, r->p);
        if (rc == MDB_SUCCESS) {
            rc = af_lm_counter_add(lm, txn, "reuse", 1);
        }
        r->reuse = 1;
        r->rv = AF_ESTORE_REUSE;
    }
    if (rc == MDB_SUCCESS && r->rv == APR_SUCCESS) {
        r->res->family = af_lm_fam_export(&f, t.sid, LM_SID_LEN, r->p);
    }
    return rc;
}

/* The leader: one write transaction and one commit for every request of the batch. */
static void run_batch(lm_t *lm, lm_req_t *batch)
{
    MDB_txn *txn = NULL;
    lm_req_t *r;
    int rc, wrote = 0;
    apr_status_t err;

    rc = af_lm_txn_begin(lm, 0, &txn);
    for (r = batch; rc == MDB_SUCCESS && r != NULL; r = r->next) {
        rc = rotate_one(lm, txn, r);
        wrote |= r->wrote;
    }
    if (rc == MDB_SUCCESS && wrote) {
        rc = mdb_txn_commit(txn);
        txn = NULL;
    }
    if (txn != NULL) {
        mdb_txn_abort(txn);
    }
    if (rc != MDB_SUCCESS) { /* nothing of the batch happened: every caller fails closed */
        err = af_lm_err(lm, rc, "rotate");
        for (r = batch; r != NULL; r = r->next) {
            r->rv = err;
            r->reuse = 0;
        }
        return;
    }
    for (r = batch; r != NULL; r = r->next) {
        if (r->reuse) {
            af_log(AF_LOG_WARNING, "AF03010",
                   "store: refresh token reuse detected: family %.*s revoked "
                   "(generation %u presented, current %u)",
                   LM_SID_LEN, r->sid, (unsigned) r->gen_presented, (unsigned) r->gen_current);
        }
    }
}

apr_status_t af_lm_rotate(af_store_rotation_t **out, af_store_t *st, const af_store_rotate_in_t *in,
                          apr_pool_t *p)
{
    lm_t *lm = st->impl;
    lm_req_t req, *batch, *b;
    const char *rt = in->rt;
    apr_size_t rt_len = in->rt_len;
    apr_status_t rv;

    *out = NULL;
    if (af_token_refresh_check(rt, rt_len) != APR_SUCCESS) {
        return AF_ESTORE_UNKNOWN;
    }
    memset(&req, 0, sizeof(req));
    req.rt = rt;
    req.rt_len = rt_len;
    req.now = in->now;
    req.grace = in->grace;
    req.idle = in->idle;
    req.pending = in->pending;
    req.p = p;
    req.res = apr_pcalloc(p, sizeof(*req.res));
    req.rv = AF_EINTERNAL;
    /* the key derivations need no lock: do them in the caller's thread */
    if ((rv = af_token_refresh_hash(req.h, rt, rt_len)) != APR_SUCCESS ||
        (rv = af_store_succ_key(req.k_old, rt, rt_len)) != APR_SUCCESS) {
        return rv;
    }
    pthread_mutex_lock(&lm->mu);
    if (lm->tail != NULL) {
        lm->tail->next = &req;
    } else {
        lm->head = &req;
    }
    lm->tail = &req;
    while (!req.done) {
        if (lm->leader) {
            pthread_cond_wait(&lm->cv, &lm->mu);
            continue;
        }
        lm->leader = 1;
        batch = lm->head;
        lm->head = lm->tail = NULL;
        pthread_mutex_unlock(&lm->mu);
        run_batch(lm, batch);
        pthread_mutex_lock(&lm->mu);
        for (b = batch; b != NULL; b = b->next) {
            b->done = 1;
        }
        lm->batches++;
        lm->leader = 0;
        pthread_cond_broadcast(&lm->cv);
    }
    pthread_mutex_unlock(&lm->mu);
    OPENSSL_cleanse(req.k_old, sizeof(req.k_old));
    if (req.rv != APR_SUCCESS) {
        return req.rv;
    }
    *out = req.res;
    return APR_SUCCESS;
}

apr_status_t af_lm_delivered(af_store_t *st, const char *rt, apr_size_t rt_len, apr_int64_t now)
{
    lm_t *lm = st->impl;
    unsigned char h[AF_RT_HASH_LEN];
    MDB_val k = {AF_RT_HASH_LEN, h}, v;
    MDB_txn *txn = NULL;
    lm_tok_t t;
    int rc;

    if (af_token_refresh_check(rt, rt_len) != APR_SUCCESS ||
        af_token_refresh_hash(h, rt, rt_len) != APR_SUCCESS) {
        return APR_SUCCESS;
    }
    rc = af_lm_txn_begin(lm, 0, &txn);
    if (rc == MDB_SUCCESS) {
        rc = mdb_get(txn, lm->tokens, &k, &v);
    }
    if (rc == MDB_SUCCESS) {
        if (af_lm_tok_decode(&t, &v) != APR_SUCCESS || t.state != LM_ROTATED ||
            !(t.flags & LM_TOK_PENDING)) {
            rc = MDB_NOTFOUND; /* nothing to do */
        } else if ((rc = mark_delivered(lm, txn, &t, h, now)) == MDB_SUCCESS) {
            rc = mdb_txn_commit(txn);
            txn = NULL;
        }
    }
    if (txn != NULL) {
        mdb_txn_abort(txn);
    }
    if (rc == MDB_NOTFOUND) {
        return APR_SUCCESS;
    }
    return rc == MDB_SUCCESS ? APR_SUCCESS : af_lm_err(lm, rc, "delivered");
}

apr_status_t af_lm_token_family(const char **sid, af_store_t *st, const char *rt, apr_size_t rt_len,
                                apr_pool_t *p)
{
    lm_t *lm = st->impl;
    unsigned char h[AF_RT_HASH_LEN];
    MDB_val k = {AF_RT_HASH_LEN, h}, v;
    MDB_txn *txn = NULL;
    lm_tok_t t;
    apr_status_t rv = AF_ESTORE_UNKNOWN;
    int rc;

    *sid = NULL;
    if (af_token_refresh_check(rt, rt_len) != APR_SUCCESS ||
        af_token_refresh_hash(h, rt, rt_len) != APR_SUCCESS) {
        return AF_ESTORE_UNKNOWN;
    }
    rc = af_lm_txn_begin(lm, MDB_RDONLY, &txn);
    if (rc != MDB_SUCCESS) {
        return af_lm_err(lm, rc, "token_family");
    }
    rc = mdb_get(txn, lm->tokens, &k, &v);
    if (rc == MDB_SUCCESS && af_lm_tok_decode(&t, &v) == APR_SUCCESS) {
        *sid = apr_pstrmemdup(p, t.sid, LM_SID_LEN);
        rv = APR_SUCCESS;
    } else if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) {
        rv = af_lm_err(lm, rc, "token_family");
    }
    mdb_txn_abort(txn);
    return rv;
}
