/* store.c -- the backend-independent face of the store: open by name, dispatch through
 * the vtable. */
#include <string.h>

#include "store/af_store_lmdb.h"
#include "store/af_store_pg.h"
#include "store/store_backend.h"
#include "token/af_token.h"

/* A failed operation is counted by reason (not a verdict such as unknown or revoked). */
static apr_status_t seen(af_store_t *st, apr_status_t rv)
{
    if (rv != APR_SUCCESS && st->metrics != NULL &&
        (rv == AF_ESTORE_FULL || rv == AF_ESTORE_BUSY || rv == AF_ESTORE_IO ||
         rv == AF_ESTORE_CORRUPT)) {
        af_metrics_reason(st->metrics, AF_MR_STORE_ERROR, rv);
    }
    return rv;
}

void af_store_set_metrics(af_store_t *st, af_metrics_t *m)
{
    if (st != NULL) {
        st->metrics = m;
    }
}

int af_store_is_uri(const char *where)
{
    return where != NULL &&
           (strncmp(where, "postgresql://", 13) == 0 || strncmp(where, "postgres://", 11) == 0);
}

const char *af_store_shown(const char *where, apr_pool_t *p)
{
    return af_store_is_uri(where) ? af_store_pg_redact(where, p) : where;
}

apr_status_t af_store_prepare(const char *where, long uid, long gid, const af_store_opts_t *opts,
                              apr_pool_t *p)
{
    if (af_store_is_uri(where)) {
        return af_store_pg_prepare(where, opts, p);
    }
    return af_store_lmdb_prepare(where, uid, gid, opts ? opts->mapsize : 0, p);
}

apr_status_t af_store_migrate(int *version, const char *where, const af_store_opts_t *opts,
                              apr_pool_t *p)
{
    if (version != NULL) {
        *version = 0;
    }
    if (af_store_is_uri(where)) {
        return af_store_pg_migrate(version, where, opts, p);
    }
    return APR_SUCCESS; /* LMDB: the environment has no schema to upgrade */
}

apr_status_t af_store_open(af_store_t **st, const char *where, const af_store_opts_t *opts,
                           apr_pool_t *p)
{
    af_store_opts_t none;

    if (opts == NULL) {
        memset(&none, 0, sizeof(none));
        opts = &none;
    }
    if (af_store_is_uri(where)) {
        return af_store_pg_open(st, where, opts, p);
    }
    return af_store_lmdb_open(st, where, opts->mapsize, opts->maxreaders, opts->flags, p);
}

apr_status_t af_store_revocations(apr_uint64_t *cursor, af_store_t *st, apr_int64_t now,
                                  apr_int64_t horizon, af_store_sid_fn *fn, void *baton,
                                  apr_pool_t *p)
{
    if (st->ops->revocations == NULL) {
        return APR_ENOTIMPL;
    }
    return st->ops->revocations(cursor, st, now, horizon, fn, baton, p);
}

apr_status_t af_store_schema_version(int *version, af_store_t *st)
{
    *version = 0;
    if (st->ops->schema_version == NULL) {
        return APR_ENOTIMPL;
    }
    return st->ops->schema_version(version, st);
}

const char *af_store_backend(const af_store_t *st)
{
    return st->ops->name;
}

apr_status_t af_store_usage(apr_uint64_t *size, apr_uint64_t *used, af_store_t *st)
{
    *size = *used = 0;
    return st->ops->usage != NULL ? st->ops->usage(size, used, st) : APR_ENOTIMPL;
}

void af_store_close(af_store_t *st)
{
    if (st != NULL && st->ops != NULL) {
        st->ops->close(st);
    }
}

apr_status_t af_store_family_create(af_store_family_t **fam, const char **rt, af_store_t *st,
                                    const af_store_login_in_t *in, apr_pool_t *p)
{
    return seen(st, st->ops->family_create(fam, rt, st, in, p));
}

apr_status_t af_store_rotate(af_store_rotation_t **out, af_store_t *st,
                             const af_store_rotate_in_t *in, apr_pool_t *p)
{
    return seen(st, st->ops->rotate(out, st, in, p));
}

apr_status_t af_store_delivered(af_store_t *st, const char *rt, apr_size_t rt_len, apr_int64_t now)
{
    return seen(st, st->ops->delivered(st, rt, rt_len, now));
}

apr_status_t af_store_family_revoke(af_store_t *st, const char *sid, apr_int64_t now, apr_pool_t *p)
{
    return seen(st, st->ops->family_revoke(st, sid, now, p));
}

apr_status_t af_store_revoke_sub(int *count, af_store_t *st, const char *sub, apr_int64_t now,
                                 apr_pool_t *p)
{
    return seen(st, st->ops->revoke_sub(count, st, sub, now, p));
}

apr_status_t af_store_revoke_idp_sid(int *count, af_store_t *st, const char *provider,
                                     const char *idp_sid, const char *sub, apr_int64_t now,
                                     apr_pool_t *p)
{
    if (count != NULL) {
        *count = 0;
    }
    if (!af_store_idp_sid_ok(provider, idp_sid)) {
        return APR_EINVAL;
    }
    return st->ops->revoke_idp_sid(count, st, provider, idp_sid, sub, now, p);
}

int af_store_idp_sid_ok(const char *provider, const char *idp_sid)
{
    return provider != NULL && *provider != '\0' && strlen(provider) <= AF_STORE_SUB_MAX &&
           idp_sid != NULL && *idp_sid != '\0' && strlen(idp_sid) <= AF_STORE_IDP_SID_MAX;
}

apr_status_t af_store_family_is_revoked(af_store_t *st, const char *sid)
{
    return seen(st, st->ops->family_is_revoked(st, sid));
}

apr_status_t af_store_family_get(af_store_family_t **fam, af_store_t *st, const char *sid,
                                 apr_pool_t *p)
{
    return seen(st, st->ops->family_get(fam, st, sid, p));
}

apr_status_t af_store_list(af_store_t *st, const char *sub, af_store_list_fn *fn, void *baton,
                           apr_pool_t *p)
{
    return seen(st, st->ops->list(st, sub, fn, baton, p));
}

apr_status_t af_store_sweep(apr_uint64_t *purged, af_store_t *st, apr_int64_t now)
{
    return seen(st, st->ops->sweep(purged, st, now));
}

apr_status_t af_store_stats(af_store_stats_t *out, af_store_t *st, apr_int64_t now)
{
    return seen(st, st->ops->stats(out, st, now));
}

apr_status_t af_store_flow_consume(af_store_t *st, const char *id, apr_size_t id_len,
                                   apr_int64_t now, apr_int64_t expires)
{
    return seen(st, st->ops->flow_consume(st, id, id_len, now, expires));
}

apr_status_t af_store_flow_release(af_store_t *st, const char *id, apr_size_t id_len)
{
    return seen(st, st->ops->flow_release(st, id, id_len));
}

apr_status_t af_store_lease(int *got, af_store_t *st, const char *name, apr_int64_t now,
                            apr_int64_t interval)
{
    return seen(st, st->ops->lease(got, st, name, now, interval));
}

apr_status_t af_store_throttle(apr_int64_t *count, apr_int64_t *reset, af_store_t *st,
                               const char *key, apr_size_t key_len, apr_int64_t now,
                               apr_int64_t window, int add)
{
    unsigned char h[AF_RT_HASH_LEN];

    *count = 0;
    *reset = 0;
    if (key == NULL || key_len == 0 || key_len > 1024 || window < 1 || add < 0 ||
        af_token_refresh_hash(h, key, key_len) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    return st->ops->throttle(count, reset, st, h, now, window, add);
}

int af_store_family_active(const af_store_family_t *fam, apr_int64_t now)
{
    if (fam->revoked || now >= fam->expires) {
        return 0;
    }
    if (fam->idle > 0 && now - fam->last_used > fam->idle) {
        return 0;
    }
    return 1;
}

apr_status_t af_store_token_family(const char **sid, af_store_t *st, const char *rt,
                                   apr_size_t rt_len, apr_pool_t *p)
{
    return seen(st, st->ops->token_family(sid, st, rt, rt_len, p));
}
