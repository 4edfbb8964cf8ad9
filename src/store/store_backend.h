/* store_backend.h -- for the store's backends only: the handle and the vtable behind the
 * opaque af_store_t of af_store.h.  Callers never see it. */
#ifndef AF_STORE_BACKEND_H
#define AF_STORE_BACKEND_H

#include "store/af_store.h"

/** Backend operations. Every op returns apr_status_t as documented below. */
typedef struct af_store_ops_t {
    const char *name;
    void (*close)(af_store_t *st);
    apr_status_t (*family_create)(af_store_family_t **fam, const char **rt, af_store_t *st,
                                  const af_store_login_in_t *in, apr_pool_t *p);
    apr_status_t (*rotate)(af_store_rotation_t **out, af_store_t *st,
                           const af_store_rotate_in_t *in, apr_pool_t *p);
    apr_status_t (*family_revoke)(af_store_t *st, const char *sid, apr_int64_t now, apr_pool_t *p);
    apr_status_t (*revoke_sub)(int *count, af_store_t *st, const char *sub, apr_int64_t now,
                               apr_pool_t *p);
    apr_status_t (*revoke_idp_sid)(int *count, af_store_t *st, const char *provider,
                                   const char *idp_sid, const char *sub, apr_int64_t now,
                                   apr_pool_t *p);
    apr_status_t (*family_is_revoked)(af_store_t *st, const char *sid);
    apr_status_t (*family_get)(af_store_family_t **fam, af_store_t *st, const char *sid,
                               apr_pool_t *p);
    apr_status_t (*list)(af_store_t *st, const char *sub, af_store_list_fn *fn, void *baton,
                         apr_pool_t *p);
    apr_status_t (*sweep)(apr_uint64_t *purged, af_store_t *st, apr_int64_t now);
    apr_status_t (*stats)(af_store_stats_t *out, af_store_t *st, apr_int64_t now);
    apr_status_t (*flow_consume)(af_store_t *st, const char *id, apr_size_t id_len, apr_int64_t now,
                                 apr_int64_t expires);
    apr_status_t (*delivered)(af_store_t *st, const char *rt, apr_size_t rt_len, apr_int64_t now);
    apr_status_t (*token_family)(const char **sid, af_store_t *st, const char *rt,
                                 apr_size_t rt_len, apr_pool_t *p);
    apr_status_t (*lease)(int *got, af_store_t *st, const char *name, apr_int64_t now,
                          apr_int64_t interval);
    apr_status_t (*usage)(apr_uint64_t *size, apr_uint64_t *used, af_store_t *st);
    /* NULL: APR_ENOTIMPL */
    apr_status_t (*revocations)(apr_uint64_t *cursor, af_store_t *st, apr_int64_t now,
                                apr_int64_t horizon, af_store_sid_fn *fn, void *baton,
                                apr_pool_t *p);
    apr_status_t (*schema_version)(int *version, af_store_t *st);
    apr_status_t (*throttle)(apr_int64_t *count, apr_int64_t *reset, af_store_t *st,
                             const unsigned char *hash, apr_int64_t now, apr_int64_t window,
                             int add);
    apr_status_t (*flow_release)(af_store_t *st, const char *id, apr_size_t id_len);
} af_store_ops_t;

struct af_store_t {
    const af_store_ops_t *ops;
    void *impl;
    apr_pool_t *pool;      /* the handle's lifetime; never allocated from per operation */
    af_metrics_t *metrics; /* counts failed operations (af_store_set_metrics), or NULL */
};

#endif
