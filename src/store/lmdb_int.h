/* lmdb_int.h -- internals shared by the LMDB backend files (not a public header). */
#ifndef AF_LMDB_INT_H
#define AF_LMDB_INT_H

#include <lmdb.h>
#include <pthread.h>

#include "common/af_log.h"
#include "store/af_store_lmdb.h"
#include "store/store_backend.h"
#include "store/store_seal.h"
#include "token/af_token.h"

#define LM_SID_LEN 22 /* base64url of 16 random bytes */

enum { LM_ACTIVE = 1, LM_ROTATED = 2, LM_REVOKED = 3 };
enum { LM_KIND_FAMILY = 'f', LM_KIND_TOKEN = 't', LM_KIND_FLOW = 'l', LM_KIND_IDP_SID = 'i' };

/* by_idp_sid key: SHA-256(provider length (2) || provider || IdP session id) */
#define LM_IDP_SID_KEY_LEN 32

/* kinds of failure logged at most once per AF_STORE_LOG_INTERVAL (af_lm_err) */
enum { LM_ERR_FULL, LM_ERR_BUSY, LM_ERR_IO, LM_ERR_CORRUPT, LM_ERR_KINDS };

typedef struct lm_t {
    MDB_env *env;
    MDB_dbi tokens, families, by_sub, by_expiry, flows, meta;
    MDB_dbi by_idp_sid; /* dupsort: LM_IDP_SID_KEY_LEN key -> family ids (back-channel logout) */
    int has_idp_sid;    /* by_idp_sid exists (a read-only tool on an older environment: no) */
    int stale;          /* reader slots reclaimed at open */
    int rdonly;
    int adopt;   /* AF_STORE_ADOPT_MAPSIZE */
    int resized; /* the map was grown elsewhere and not adopted (logged once) */
    af_log_throttle_t throttle[LM_ERR_KINDS];
    /* group commit of rotations from the threads of this process */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct lm_req_t *head, *tail;
    int leader;
    unsigned long batches; /* write transactions run for rotations (tests, bench) */
} lm_t;

/* token record */
#define TOK_HDR        88
#define TOK_SEALED_MAX AF_STORE_SEALED_LEN
/* token record flags (byte 54, a padding byte of record version 1) */
#define LM_TOK_PENDING 0x01 /* rotated; the successor has not reached the browser yet */

typedef struct lm_tok_t {
    int state;
    int flags; /* LM_TOK_* */
    apr_uint32_t generation;
    apr_int64_t created, rotated_at, expires;
    char sid[LM_SID_LEN];
    unsigned char succ[AF_RT_HASH_LEN];
    unsigned char sealed[TOK_SEALED_MAX];
    apr_size_t sealed_len;
} lm_tok_t;

/* family record: fixed header (FAM_HDR), then in version 2 the ring (a count byte, three
 * zero bytes, count hashes of rotated tokens, oldest first), then sub, provider, claims */
#define FAM_HDR    92
#define FAM_HDR_V2 (FAM_HDR + 4)
#define FAM_RING   AF_STORE_KEEP_ROTATED
typedef struct lm_fam_t {
    int revoked;
    apr_uint32_t generation, rotations;
    apr_int64_t created, last_used, expires, idle, revoked_at;
    unsigned char cur[AF_RT_HASH_LEN];
    unsigned int ring_n; /* 0 for a version-1 record */
    unsigned char ring[FAM_RING][AF_RT_HASH_LEN];
    const char *sub, *provider, *claims; /* point into the record: not NUL-terminated */
    apr_size_t sub_len, provider_len, claims_len;
} lm_fam_t;

/* Map an MDB error to AF_ESTORE_* and log it (throttled per kind, AF03001). */
apr_status_t af_lm_err(lm_t *lm, int rc, const char *op);
/* mdb_txn_begin; MDB_READERS_FULL retried after reclaiming stale slots; MDB_MAP_RESIZED
 * adopted only with lm->adopt, else returned (logged once, AF03020). */
int af_lm_txn_begin(lm_t *lm, unsigned int flags, MDB_txn **txn);
/* Is the map so full that only writes which keep or free space (rotations, revocations,
 * sweeps) may go on?  (Call it before the write transaction.)  New logins and flows are refused
 * below a reserve of 1/64 of the map (at least 32 pages, or an eighth of tiny maps; at most 8192):
 * LMDB copies pages on write, so even a delete needs free pages, and a map filled to the last page
 * could not be swept any more. */
int af_lm_low_headroom(lm_t *lm);
/* Pages on LMDB's free list (walks dbi 0; in a read transaction only). */
int af_lm_free_pages(MDB_txn *txn, apr_uint64_t *pages);
/* Delete what one by_expiry key points to (not the by_expiry entry itself). */
int af_lm_purge_one(lm_t *lm, MDB_txn *txn, const MDB_val *ek);

void af_lm_tok_encode(unsigned char *buf, apr_size_t *len, const lm_tok_t *t);
apr_status_t af_lm_tok_decode(lm_tok_t *t, const MDB_val *v);
unsigned char *af_lm_fam_encode(apr_size_t *len, const lm_fam_t *f, apr_pool_t *p);
apr_status_t af_lm_fam_decode(lm_fam_t *f, const MDB_val *v);
af_store_family_t *af_lm_fam_export(const lm_fam_t *f, const char *sid, apr_size_t sid_len,
                                    apr_pool_t *p);

/* by_expiry key: expiry (8, order-preserving) || kind || key */
apr_size_t af_lm_exp_key(unsigned char *buf, apr_int64_t expires, int kind, const void *key,
                         apr_size_t key_len);
apr_int64_t af_lm_exp_time(const unsigned char *buf);

int af_lm_counter_add(lm_t *lm, MDB_txn *txn, const char *name, apr_uint64_t n);
apr_uint64_t af_lm_counter_get(lm_t *lm, MDB_txn *txn, const char *name);

void af_lm_put_i64(unsigned char *b, apr_int64_t v);
apr_int64_t af_lm_get_i64(const unsigned char *b);

/* the vtable entries defined in lmdb_admin.c */
apr_status_t af_lm_family_revoke(af_store_t *st, const char *sid, apr_int64_t now, apr_pool_t *p);
/* Revoke every family listed under key in the dupsort index (by_sub, by_idp_sid) -- only
 * those of only_sub when not NULL -- in one transaction; *count the families revoked now. */
apr_status_t af_lm_revoke_index(int *count, lm_t *lm, MDB_dbi index, const MDB_val *key,
                                const char *only_sub, apr_int64_t now, const char *op,
                                apr_pool_t *p);
apr_status_t af_lm_revoke_sub(int *count, af_store_t *st, const char *sub, apr_int64_t now,
                              apr_pool_t *p);
apr_status_t af_lm_family_is_revoked(af_store_t *st, const char *sid);
apr_status_t af_lm_family_get(af_store_family_t **fam, af_store_t *st, const char *sid,
                              apr_pool_t *p);
apr_status_t af_lm_list(af_store_t *st, const char *sub, af_store_list_fn *fn, void *baton,
                        apr_pool_t *p);
apr_status_t af_lm_sweep(apr_uint64_t *purged, af_store_t *st, apr_int64_t now);
apr_status_t af_lm_stats(af_store_stats_t *out, af_store_t *st, apr_int64_t now);
apr_status_t af_lm_flow_consume(af_store_t *st, const char *id, apr_size_t id_len, apr_int64_t now,
                                apr_int64_t expires);
apr_status_t af_lm_flow_release(af_store_t *st, const char *id, apr_size_t id_len);
apr_status_t af_lm_lease(int *got, af_store_t *st, const char *name, apr_int64_t now,
                         apr_int64_t interval);
apr_status_t af_lm_throttle(apr_int64_t *count, apr_int64_t *reset, af_store_t *st,
                            const unsigned char *hash, apr_int64_t now, apr_int64_t window,
                            int add);
/* by_expiry entry for key (kind) at expires, in txn */
int af_lm_put_expiry(lm_t *lm, MDB_txn *txn, apr_int64_t expires, int kind, const void *key,
                     apr_size_t key_len);
/* in lmdb_idpsid.c: the by_idp_sid key of (provider, idp_sid); 0 or an MDB/errno code */
int af_lm_idp_sid_key(unsigned char *key, const char *provider, const char *idp_sid);
/* index family sid under (provider, idp_sid) until expires, in txn (a no-op when the pair is
 * not one the store records: af_store_idp_sid_ok) */
int af_lm_idp_sid_put(lm_t *lm, MDB_txn *txn, const char *provider, const char *idp_sid,
                      const char *sid, apr_int64_t expires);
apr_status_t af_lm_revoke_idp_sid(int *count, af_store_t *st, const char *provider,
                                  const char *idp_sid, const char *sub, apr_int64_t now,
                                  apr_pool_t *p);
/* in lmdb_rotate.c */
apr_status_t af_lm_family_create(af_store_family_t **fam, const char **rt, af_store_t *st,
                                 const af_store_login_in_t *in, apr_pool_t *p);
apr_status_t af_lm_rotate(af_store_rotation_t **out, af_store_t *st, const af_store_rotate_in_t *in,
                          apr_pool_t *p);
apr_status_t af_lm_delivered(af_store_t *st, const char *rt, apr_size_t rt_len, apr_int64_t now);
apr_status_t af_lm_token_family(const char **sid, af_store_t *st, const char *rt, apr_size_t rt_len,
                                apr_pool_t *p);
/* revoke a family inside a caller's write txn; *changed = 1 if it was not revoked */
int af_lm_revoke_in_txn(lm_t *lm, MDB_txn *txn, const MDB_val *sidkey, apr_int64_t now,
                        int *changed, apr_pool_t *p);

#endif
