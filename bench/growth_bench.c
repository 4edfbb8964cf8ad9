/* growth_bench.c -- how the LMDB store grows with refreshes (not a speed benchmark).
 *
 *   growth_bench DIR USERS ROTATIONS
 *
 * USERS logins, each refreshed ROTATIONS times (rotation after rotation, round robin), with
 * AF_STORE_NOMETASYNC to keep it quick.  Then the store is closed and the environment read
 * directly: pages written, pages on LMDB's free list, and so the bytes in use.  Prints:
 *   growth users=U rotations=R token_records=T bytes_in_use=B per_login=B/U
 *          per_rotation=(B - B0)/R  (B0: the same logins before any refresh)
 *
 * Build and run (after `make`):
 *   cc -std=gnu11 -O2 -Isrc -Itests/unit $(apr-1-config --cflags --cppflags --includes) \
 *      -o build/growth_bench bench/growth_bench.c build/libauthflow.a \
 *      $(apr-1-config --link-ld --libs) -lcurl -ljansson -llmdb -lssl -lcrypto -lpcre2-8
 *   d=$(mktemp -d build/g.XXXX); build/growth_bench $d 1000 48; rm -rf $d
 * 1,000 logins x 48 rotations: ~385 bytes per rotation before the ring of rotated tokens
 * (19 MB), ~10 KB per login after it (9.7 MB), and the same 10 KB at 150 rotations.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <lmdb.h>

#include "store/af_store_lmdb.h"
#include "store_testutil.h"

/* bytes in use: (last page + 1 - free pages) * page size, read without the store */
static unsigned long long in_use(const char *dir)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_envinfo ei;
    MDB_stat ms;
    MDB_val k, v;
    unsigned long long free_pages = 0;
    size_t n;
    int rc;

    if (mdb_env_create(&env) || mdb_env_set_maxdbs(env, 8) ||
        mdb_env_open(env, dir, MDB_RDONLY | MDB_NOTLS, 0600) ||
        mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) || mdb_cursor_open(txn, 0, &cur)) {
        fprintf(stderr, "cannot read %s\n", dir);
        exit(1);
    }
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        memcpy(&n, v.mv_data, sizeof(n));
        free_pages += n;
    }
    mdb_env_info(env, &ei);
    mdb_env_stat(env, &ms);
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    mdb_env_close(env);
    return (ei.me_last_pgno + 1 - free_pages) * (unsigned long long) ms.ms_psize;
}

int main(int argc, char **argv)
{
    apr_pool_t *p, *it;
    af_store_t *st;
    af_store_family_t *fam;
    af_store_rotation_t *r;
    af_store_stats_t stats;
    const char *dir, *rt;
    char **rts;
    unsigned long long b0, b1;
    long users, rotations, i, j;
    apr_int64_t t = 1700000000;

    if (argc != 4) {
        fprintf(stderr, "usage: growth_bench DIR USERS ROTATIONS\n");
        return 2;
    }
    dir = argv[1];
    users = atol(argv[2]);
    rotations = atol(argv[3]);
    apr_initialize();
    apr_pool_create(&p, NULL);
    rts = apr_pcalloc(p, sizeof(char *) * (apr_size_t) users);
    if (af_store_lmdb_open(&st, dir, (apr_size_t) 4096 * 1024 * 1024, 0, AF_STORE_NOMETASYNC, p)) {
        return 1;
    }
    for (i = 0; i < users; i++) {
        if (af_test_family_create(&fam, &rt, st, apr_psprintf(p, "user%ld@example.com", i),
                                  "google",
                                  "{\"email\":\"someone@example.com\",\"email_verified\":true,"
                                  "\"name\":\"Some One\",\"groups\":[\"staff\",\"dev\"]}",
                                  t, 14 * 86400, 3 * 86400, p) != APR_SUCCESS) {
            return 1;
        }
        rts[i] = apr_pstrdup(p, rt);
    }
    af_store_close(st);
    b0 = in_use(dir);
    if (af_store_lmdb_open(&st, dir, 0, 0, AF_STORE_NOMETASYNC, p)) {
        return 1;
    }
    apr_pool_create(&it, p);
    for (j = 0; j < rotations; j++) {
        for (i = 0; i < users; i++) {
            if (af_test_rotate(&r, st, rts[i], strlen(rts[i]), t + 600 * (j + 1), 10, 0, it) !=
                APR_SUCCESS) {
                fprintf(stderr, "rotation failed\n");
                return 1;
            }
            strcpy(rts[i], r->refresh_token);
        }
        apr_pool_clear(it);
    }
    af_store_stats(&stats, st, t);
    af_store_close(st);
    b1 = in_use(dir);
    printf("growth users=%ld rotations=%ld token_records=%llu bytes_in_use=%llu per_login=%llu "
           "per_rotation=%.0f\n",
           users, users * rotations, (unsigned long long) stats.tokens, b1, b1 / users,
           (double) (b1 - b0) / (double) (users * rotations));
    return 0;
}
