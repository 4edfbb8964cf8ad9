/* pg_rotate.c -- new logins and refresh-token rotation on PostgreSQL, with exactly the
 * semantics of the LMDB backend (lmdb_rotate.c; SECURITY.md G02-G06, Appendix 4):
 *
 *   one transaction per rotation; the login's af_families row is locked first
 *   (SELECT ... FOR UPDATE), then the presented token is read: rotations of one login -- on
 *   any host -- are serialised, and each decides on what the previous one committed;
 *   unknown -> AF_ESTORE_UNKNOWN; revoked / expired / idle -> AF_ESTORE_EXPIRED;
 *   active -> rotated, a successor (generation + 1) sealed under HKDF(old token)
 *   (store_seal.c, the same bytes as LMDB), family last_used = now, the ring of the last
 *   AF_STORE_KEEP_ROTATED rotated tokens pushed (the one pushed out is deleted);
 *   rotated, the immediate predecessor, pending or inside the grace -> the same successor;
 *   rotated otherwise -> the whole family revoked, AF_ESTORE_REUSE.
 * The absolute expiry is never extended.  Everything random or cryptographic is done
 * before the transaction starts, so a transaction holds its locks only for its statements.
 */
#include <string.h>

#include <apr_strings.h>
#include <openssl/crypto.h>

#include "store/pg_int.h"
#include "store/store_policy.h"

apr_status_t af_pg_family_create(af_store_family_t **fam, const char **rt, af_store_t *st,
                                 const af_store_login_in_t *in, apr_pool_t *p)
{
    const char *sub = in->sub, *provider = in->provider ? in->provider : "";
    const char *claims = in->claims_json ? in->claims_json : "";
    pg_t *pg = st->impl;
    pg_conn_t *c = NULL;
    PGresult *r = NULL;
    unsigned char h[AF_RT_HASH_LEN];
    const char *sid = NULL, *tok = NULL;
    pg_args_t a;
    apr_status_t rv;

    *fam = NULL;
    *rt = NULL;
    if (sub == NULL || *sub == '\0' || strlen(sub) > AF_STORE_SUB_MAX || in->ttl <= 0 ||
        in->idle < 0) {
        return APR_EINVAL;
    }
    if (strlen(claims) > AF_STORE_CLAIMS_MAX) {
        return AF_ETOOBIG;
    }
    if ((rv = af_token_random_id(&sid, 16, p)) != APR_SUCCESS ||
        (rv = af_token_refresh_new(&tok, p)) != APR_SUCCESS ||
        (rv = af_token_refresh_hash(h, tok, strlen(tok))) != APR_SUCCESS) {
        return rv;
    }
    if ((rv = af_pg_acquire(&c, pg, "family_create", p)) != APR_SUCCESS) {
        return rv;
    }
    /* one statement: family, first token and counter commit together */
    af_pg_args_init(&a);
    af_pg_arg_str(&a, sid);
    af_pg_arg_str(&a, sub);
    af_pg_arg_str(&a, provider);
    af_pg_arg_str(&a, claims);
    af_pg_arg_i64(&a, in->now);
    af_pg_arg_i64(&a, in->now + in->ttl);
    af_pg_arg_i64(&a, in->idle);
    af_pg_arg_bin(&a, h, sizeof(h));
    af_pg_arg_i64(&a, c->shard);
    af_pg_arg_str(&a, af_store_idp_sid_ok(provider, in->idp_sid) ? in->idp_sid : NULL);
    rv = af_pg_exec(&r, pg, c, PGS_FAMILY_CREATE, &a, "family_create", p);
    PQclear(r);
    af_pg_release(pg, c);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *rt = tok;
    *fam = apr_pcalloc(p, sizeof(af_store_family_t));
    (*fam)->sid = sid;
    (*fam)->sub = apr_pstrdup(p, sub);
    (*fam)->provider = apr_pstrdup(p, provider);
    (*fam)->claims_json = apr_pstrdup(p, claims);
    (*fam)->created = in->now;
    (*fam)->last_used = in->now;
    (*fam)->expires = in->now + in->ttl;
    (*fam)->idle = in->idle;
    (*fam)->generation = 1;
    return APR_SUCCESS;
}

apr_status_t af_pg_revoke_in_txn(pg_t *pg, pg_conn_t *c, const char *sid, apr_int64_t now,
                                 int *changed, apr_pool_t *p)
{
    PGresult *r = NULL;
    unsigned char cur[AF_RT_HASH_LEN];
    apr_int64_t expires;
    apr_size_t n = 0;
    pg_args_t a;
    apr_status_t rv;

    *changed = 0;
    af_pg_args_init(&a);
    af_pg_arg_str(&a, sid);
    af_pg_arg_i64(&a, now);
    rv = af_pg_exec(&r, pg, c, PGS_REVOKE_FAMILY, &a, "revoke", p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (PQntuples(r) == 0) { /* already revoked, or no such family */
        PQclear(r);
        af_pg_args_init(&a);
        af_pg_arg_str(&a, sid);
        rv = af_pg_exec(&r, pg, c, PGS_IS_REVOKED, &a, "revoke", p);
        if (rv == APR_SUCCESS && PQntuples(r) == 0) {
            rv = AF_ENOTFOUND;
        }
        PQclear(r);
        return rv;
    }
    expires = af_pg_get_int(r, 0, 1);
    if (af_pg_get_bytes(r, 0, 0, cur, sizeof(cur), &n) != 0 || n != AF_RT_HASH_LEN) {
        PQclear(r);
        return AF_ESTORE_CORRUPT;
    }
    PQclear(r);
    /* the live token of the family becomes revoked too, and the revocation is logged for
     * the other hosts' views (af_store_revocations) */
    af_pg_args_init(&a);
    af_pg_arg_bin(&a, cur, sizeof(cur));
    rv = af_pg_exec(&r, pg, c, PGS_REVOKE_TOKEN, &a, "revoke", p);
    PQclear(r);
    if (rv == APR_SUCCESS) {
        af_pg_args_init(&a);
        af_pg_arg_str(&a, sid);
        af_pg_arg_i64(&a, now);
        af_pg_arg_i64(&a, expires);
        rv = af_pg_exec(&r, pg, c, PGS_REVLOG_ADD, &a, "revoke", p);
        PQclear(r);
    }
    if (rv == APR_SUCCESS) {
        *changed = 1;
    }
    return rv;
}

/* One rotation request and what the transaction found. */
typedef struct pg_req_t {
    const af_store_rotate_in_t *in;
    unsigned char h[AF_RT_HASH_LEN], k_old[32];
    /* precomputed: the successor if the token turns out to be active */
    const char *nrt;
    unsigned char nh[AF_RT_HASH_LEN], sealed[AF_STORE_SEALED_LEN];
    apr_uint32_t gen_presented, gen_current;
    int reuse;
} pg_req_t;

typedef struct pg_tok_t {
    char sid[PG_SID_LEN + 1];
    apr_uint32_t generation;
    int state, flags;
    apr_int64_t rotated_at, expires;
    unsigned char succ[AF_RT_HASH_LEN], sealed[AF_STORE_SEALED_LEN];
    apr_size_t succ_len, sealed_len;
} pg_tok_t;

static apr_status_t tok_decode(pg_tok_t *t, const PGresult *r)
{
    apr_size_t n;

    memset(t, 0, sizeof(*t));
    if (PQnfields(r) < 8 || PQgetlength(r, 0, 0) != PG_SID_LEN) {
        return AF_ESTORE_CORRUPT;
    }
    memcpy(t->sid, PQgetvalue(r, 0, 0), PG_SID_LEN);
    t->generation = (apr_uint32_t) af_pg_get_int(r, 0, 1);
    t->state = (int) af_pg_get_int(r, 0, 2);
    t->flags = (int) af_pg_get_int(r, 0, 3);
    t->rotated_at = af_pg_get_int(r, 0, 4);
    t->expires = af_pg_get_int(r, 0, 5);
    if (af_pg_get_bytes(r, 0, 6, t->succ, sizeof(t->succ), &t->succ_len) != 0 ||
        af_pg_get_bytes(r, 0, 7, t->sealed, sizeof(t->sealed), &n) != 0 || t->state < PG_ACTIVE ||
        t->state > PG_REVOKED) {
        return AF_ESTORE_CORRUPT;
    }
    t->sealed_len = n;
    return APR_SUCCESS;
}

/* Rotate an active token: one statement writes the successor, the rotated record, the
 * family (generation, last_used, current token, ring) and deletes what fell out of the ring. */
static apr_status_t rotate_active(af_store_rotation_t *res, pg_t *pg, pg_conn_t *c, pg_req_t *q,
                                  const pg_tok_t *t, pg_fam_t *f, apr_pool_t *p)
{
    unsigned char ring[AF_STORE_KEEP_ROTATED * AF_RT_HASH_LEN], evicted[AF_RT_HASH_LEN];
    unsigned int n = f->ring_n;
    int have_evicted = 0;
    PGresult *r = NULL;
    pg_args_t a;
    apr_status_t rv;

    if (memcmp(f->cur, q->h, AF_RT_HASH_LEN) != 0 || t->generation != f->generation) {
        return AF_ESTORE_CORRUPT; /* an active token that is not the family's current one */
    }
    memcpy(ring, f->ring, (apr_size_t) n * AF_RT_HASH_LEN);
    if (n >= AF_STORE_KEEP_ROTATED) { /* the oldest goes (if still this family's, rotated) */
        memcpy(evicted, ring, AF_RT_HASH_LEN);
        have_evicted = 1;
        n = AF_STORE_KEEP_ROTATED - 1;
        memmove(ring, ring + AF_RT_HASH_LEN, (apr_size_t) n * AF_RT_HASH_LEN);
    }
    memcpy(ring + (apr_size_t) n * AF_RT_HASH_LEN, q->h, AF_RT_HASH_LEN);
    n++;
    af_pg_args_init(&a);
    af_pg_arg_bin(&a, q->nh, AF_RT_HASH_LEN);                 /* $1 */
    af_pg_arg_str(&a, f->sid);                                /* $2 */
    af_pg_arg_i64(&a, (apr_int64_t) t->generation + 1);       /* $3 */
    af_pg_arg_i64(&a, q->in->now);                            /* $4 */
    af_pg_arg_i64(&a, f->expires);                            /* $5: never beyond the family's */
    af_pg_arg_i64(&a, q->in->pending ? PG_TOK_PENDING : 0);   /* $6 */
    af_pg_arg_bin(&a, q->sealed, AF_STORE_SEALED_LEN);        /* $7 */
    af_pg_arg_bin(&a, q->h, AF_RT_HASH_LEN);                  /* $8 */
    af_pg_arg_bin(&a, ring, (apr_size_t) n * AF_RT_HASH_LEN); /* $9 */
    af_pg_arg_bin(&a, have_evicted ? evicted : NULL, AF_RT_HASH_LEN); /* $10 */
    af_pg_arg_i64(&a, c->shard);                                      /* $11 */
    rv = af_pg_exec(&r, pg, c, PGS_ROTATE_WRITE, &a, "rotate", p);
    PQclear(r);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    f->generation = t->generation + 1;
    f->last_used = q->in->now;
    f->rotations++;
    res->refresh_token = q->nrt;
    res->generation = f->generation;
    res->replayed = 0;
    return APR_SUCCESS;
}

/* Decide inside the transaction.  *wrote: something must be committed. */
static apr_status_t rotate_txn(af_store_rotation_t *res, pg_t *pg, pg_conn_t *c, pg_req_t *q,
                               int *wrote, apr_pool_t *p)
{
    const af_store_rotate_in_t *in = q->in;
    PGresult *r = NULL;
    apr_int64_t idle = in->idle;
    af_rot_facts_t facts;
    af_rot_action_t action;
    pg_args_t a;
    pg_fam_t f;
    pg_tok_t t;
    apr_status_t rv;
    int changed = 0;

    *wrote = 0;
    af_pg_args_init(&a);
    af_pg_arg_bin(&a, q->h, AF_RT_HASH_LEN);
    /* the login first (the lock every writer of a login takes first), then the token */
    if ((rv = af_pg_exec(&r, pg, c, PGS_LOCK_FAMILY_OF_TOKEN, &a, "rotate", p)) != APR_SUCCESS) {
        return rv;
    }
    if (PQntuples(r) == 0) {
        PQclear(r);
        return AF_ESTORE_UNKNOWN;
    }
    rv = af_pg_fam_decode(&f, r, 0, 0, p);
    PQclear(r);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if ((rv = af_pg_exec(&r, pg, c, PGS_TOKEN_GET, &a, "rotate", p)) != APR_SUCCESS) {
        return rv;
    }
    if (PQntuples(r) == 0) { /* pushed out of the ring or swept meanwhile */
        PQclear(r);
        return AF_ESTORE_UNKNOWN;
    }
    rv = tok_decode(&t, r);
    PQclear(r);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (idle <= 0) {
        idle = f.idle;
    }
    q->gen_presented = t.generation;
    q->gen_current = f.generation;
    facts.now = in->now;
    facts.grace = in->grace;
    facts.idle = idle;
    facts.family_revoked = f.revoked;
    facts.expires = f.expires;
    facts.last_used = f.last_used;
    facts.token_revoked = t.state == PG_REVOKED;
    facts.token_active = t.state == PG_ACTIVE;
    facts.has_successor = t.sealed_len > 0 && t.succ_len == AF_RT_HASH_LEN;
    facts.successor_is_current =
        t.succ_len == AF_RT_HASH_LEN && memcmp(t.succ, f.cur, AF_RT_HASH_LEN) == 0;
    facts.pending = (t.flags & PG_TOK_PENDING) != 0;
    facts.rotated_at = t.rotated_at;
    action = af_store_rotation_decide(&facts);
    if (action == AF_ROT_EXPIRED) {
        return AF_ESTORE_EXPIRED;
    }
    if (action == AF_ROT_ROTATE) {
        rv = rotate_active(res, pg, c, q, &t, &f, p);
        *wrote = rv == APR_SUCCESS;
    } else if (action == AF_ROT_REPLAY) {
        /* the immediate predecessor, inside the window or while the answer that carried its
         * successor has not reached the browser: the same successor again */
        rv = af_store_succ_open(&res->refresh_token, q->k_old, q->h, t.sealed, t.sealed_len, t.succ,
                                p);
        if (rv == APR_SUCCESS) {
            res->generation = t.generation + 1;
            res->replayed = 1;
        }
        if (rv == APR_SUCCESS && (t.flags & PG_TOK_PENDING) && !in->pending) {
            /* this answer goes out now: the successor is delivered, the grace starts */
            af_pg_args_init(&a);
            af_pg_arg_bin(&a, q->h, AF_RT_HASH_LEN);
            af_pg_arg_i64(&a, in->now);
            rv = af_pg_exec(&r, pg, c, PGS_TOKEN_DELIVERED, &a, "rotate", p);
            PQclear(r);
            *wrote = rv == APR_SUCCESS;
        }
    } else {
        /* reuse of a rotated token: revoke the whole family */
        rv = af_pg_revoke_in_txn(pg, c, f.sid, in->now, &changed, p);
        if (rv == APR_SUCCESS) {
            rv = af_pg_counter_add(pg, c, "reuse", 1, p);
        }
        if (rv != APR_SUCCESS) {
            return rv;
        }
        *wrote = 1;
        q->reuse = 1;
        res->family = af_pg_fam_export(&f, p);
        return AF_ESTORE_REUSE;
    }
    if (rv == APR_SUCCESS) {
        res->family = af_pg_fam_export(&f, p);
    }
    return rv;
}

apr_status_t af_pg_rotate(af_store_rotation_t **out, af_store_t *st, const af_store_rotate_in_t *in,
                          apr_pool_t *p)
{
    pg_t *pg = st->impl;
    pg_conn_t *c = NULL;
    af_store_rotation_t *res;
    pg_req_t q;
    apr_status_t rv, crv;
    int wrote = 0;

    *out = NULL;
    if (af_token_refresh_check(in->rt, in->rt_len) != APR_SUCCESS) {
        return AF_ESTORE_UNKNOWN;
    }
    memset(&q, 0, sizeof(q));
    q.in = in;
    res = apr_pcalloc(p, sizeof(*res));
    /* everything that needs no database first: hashes, keys, the would-be successor */
    if ((rv = af_token_refresh_hash(q.h, in->rt, in->rt_len)) != APR_SUCCESS ||
        (rv = af_store_succ_key(q.k_old, in->rt, in->rt_len)) != APR_SUCCESS ||
        (rv = af_token_refresh_new(&q.nrt, p)) != APR_SUCCESS ||
        (rv = af_token_refresh_hash(q.nh, q.nrt, strlen(q.nrt))) != APR_SUCCESS ||
        (rv = af_store_succ_seal(q.sealed, q.k_old, q.h, q.nrt)) != APR_SUCCESS) {
        OPENSSL_cleanse(q.k_old, sizeof(q.k_old));
        return rv;
    }
    if ((rv = af_pg_acquire(&c, pg, "rotate", p)) != APR_SUCCESS) {
        OPENSSL_cleanse(q.k_old, sizeof(q.k_old));
        return rv;
    }
    rv = af_pg_cmd(pg, c, "BEGIN", "rotate", p);
    if (rv == APR_SUCCESS) {
        rv = rotate_txn(res, pg, c, &q, &wrote, p);
    }
    if ((rv == APR_SUCCESS || rv == AF_ESTORE_REUSE) && wrote) {
        crv = af_pg_cmd(pg, c, "COMMIT", "rotate", p);
        if (crv != APR_SUCCESS) {
            rv = crv; /* nothing of it happened (or, if the connection died in COMMIT, maybe
                         all of it: the grace path then answers the retry) */
            q.reuse = 0;
        }
    } else {
        af_pg_rollback(pg, c, p); /* read-only outcomes and failures alike */
    }
    af_pg_release(pg, c);
    OPENSSL_cleanse(q.k_old, sizeof(q.k_old));
    if (q.reuse) {
        af_log_p(p, AF_LOG_WARNING, "AF03055",
                 "store: refresh token reuse detected: family %s revoked "
                 "(generation %u presented, current %u)",
                 res->family ? res->family->sid : "?", (unsigned) q.gen_presented,
                 (unsigned) q.gen_current);
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *out = res;
    return APR_SUCCESS;
}

apr_status_t af_pg_delivered(af_store_t *st, const char *rt, apr_size_t rt_len, apr_int64_t now)
{
    pg_t *pg = st->impl;
    pg_conn_t *c = NULL;
    PGresult *r = NULL;
    unsigned char h[AF_RT_HASH_LEN];
    apr_pool_t *p = NULL;
    pg_args_t a;
    apr_status_t rv;

    if (af_token_refresh_check(rt, rt_len) != APR_SUCCESS ||
        af_token_refresh_hash(h, rt, rt_len) != APR_SUCCESS) {
        return APR_SUCCESS;
    }
    if (apr_pool_create(&p, NULL) != APR_SUCCESS) { /* for messages; thread-safe parent */
        return APR_ENOMEM;
    }
    rv = af_pg_acquire(&c, pg, "delivered", p);
    if (rv == APR_SUCCESS) {
        af_pg_args_init(&a);
        af_pg_arg_bin(&a, h, sizeof(h));
        af_pg_arg_i64(&a, now);
        /* only a rotated, still pending record changes: a second delivery moves nothing */
        rv = af_pg_exec(&r, pg, c, PGS_TOKEN_DELIVERED, &a, "delivered", p);
        PQclear(r);
        af_pg_release(pg, c);
    }
    apr_pool_destroy(p);
    return rv;
}

apr_status_t af_pg_token_family(const char **sid, af_store_t *st, const char *rt, apr_size_t rt_len,
                                apr_pool_t *p)
{
    pg_t *pg = st->impl;
    pg_conn_t *c = NULL;
    PGresult *r = NULL;
    unsigned char h[AF_RT_HASH_LEN];
    pg_args_t a;
    apr_status_t rv;

    *sid = NULL;
    if (af_token_refresh_check(rt, rt_len) != APR_SUCCESS ||
        af_token_refresh_hash(h, rt, rt_len) != APR_SUCCESS) {
        return AF_ESTORE_UNKNOWN;
    }
    if ((rv = af_pg_acquire(&c, pg, "token_family", p)) != APR_SUCCESS) {
        return rv;
    }
    af_pg_args_init(&a);
    af_pg_arg_bin(&a, h, sizeof(h));
    rv = af_pg_exec(&r, pg, c, PGS_TOKEN_FAMILY, &a, "token_family", p);
    af_pg_release(pg, c);
    if (rv == APR_SUCCESS) {
        if (PQntuples(r) == 0) {
            rv = AF_ESTORE_UNKNOWN;
        } else {
            *sid = af_pg_get_str(r, 0, 0, p);
        }
    }
    PQclear(r);
    return rv;
}
