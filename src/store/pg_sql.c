/* pg_sql.c -- the SQL of the PostgreSQL backend: the prepared statements and the schema
 * migrations (af_store_pg.h lists the tables).  Parameters: integers as text, hashes as
 * binary bytea; every parameter whose type the context does not fix carries a cast. */
#include "store/pg_int.h"

const pg_stmt_t af_pg_stmts[PGS_COUNT] = {
    [PGS_FAMILY_CREATE] = {"af_family_create",
                           "WITH f AS (INSERT INTO af_families (sid, sub, provider, claims, "
                           "created, last_used, expires, idle, revoked, revoked_at, generation, "
                           "rotations, cur, ring, idp_sid) VALUES ($1::text, $2::text, $3::text, "
                           "$4::text, $5::bigint, $5::bigint, $6::bigint, $7::bigint, false, 0, "
                           "1, 0, $8::bytea, ''::bytea, $10::text)), "
                           "t AS (INSERT INTO af_tokens (hash, sid, generation, state, flags, "
                           "created, rotated_at, expires) VALUES ($8::bytea, $1::text, 1, 1, 0, "
                           "$5::bigint, 0, $6::bigint)) "
                           "INSERT INTO af_counters (name, shard, n) VALUES ('logins', $9::int, 1) "
                           "ON CONFLICT (name, shard) DO UPDATE SET n = af_counters.n + 1"},
    [PGS_LOCK_FAMILY_OF_TOKEN] = {"af_lock_family_of_token",
                                  "SELECT " PG_FAM_COLS " FROM af_families f WHERE f.sid = "
                                  "(SELECT sid FROM af_tokens WHERE hash = $1::bytea) FOR UPDATE"},
    [PGS_TOKEN_GET] = {"af_token_get",
                       "SELECT sid, generation, state, flags, rotated_at, "
                       "expires, succ, sealed FROM af_tokens WHERE hash = $1::bytea"},
    [PGS_ROTATE_WRITE] = {"af_rotate_write",
                          "WITH n AS (INSERT INTO af_tokens (hash, sid, generation, state, flags, "
                          "created, rotated_at, expires) VALUES ($1::bytea, $2::text, $3::int, 1, "
                          "0, $4::bigint, 0, $5::bigint)), "
                          "o AS (UPDATE af_tokens SET state = 2, rotated_at = $4::bigint, "
                          "flags = $6::smallint, succ = $1::bytea, sealed = $7::bytea "
                          "WHERE hash = $8::bytea), "
                          "f AS (UPDATE af_families SET generation = $3::int, "
                          "last_used = $4::bigint, rotations = rotations + 1, cur = $1::bytea, "
                          "ring = $9::bytea WHERE sid = $2::text), "
                          "d AS (DELETE FROM af_tokens WHERE hash = $10::bytea AND state = 2 "
                          "AND sid = $2::text) "
                          "INSERT INTO af_counters (name, shard, n) VALUES ('rotations', "
                          "$11::int, 1) ON CONFLICT (name, shard) DO UPDATE SET "
                          "n = af_counters.n + 1"},
    [PGS_TOKEN_DELIVERED] = {"af_token_delivered",
                             "UPDATE af_tokens SET flags = flags & ~1::smallint, "
                             "rotated_at = $2::bigint WHERE hash = $1::bytea AND state = 2 AND "
                             "(flags & 1::smallint) <> 0"},
    [PGS_TOKEN_FAMILY] = {"af_token_family", "SELECT sid FROM af_tokens WHERE hash = $1::bytea"},
    [PGS_REVOKE_FAMILY] = {"af_revoke_family",
                           "UPDATE af_families SET revoked = true, revoked_at = $2::bigint "
                           "WHERE sid = $1::text AND NOT revoked RETURNING cur, expires"},
    [PGS_REVOKE_TOKEN] = {"af_revoke_token",
                          "UPDATE af_tokens SET state = 3 WHERE hash = $1::bytea"},
    [PGS_REVLOG_ADD] = {"af_revlog_add",
                        "WITH h AS (UPDATE af_revlog_head SET seq = seq + 1 WHERE one = 1 "
                        "RETURNING seq) INSERT INTO af_revlog (seq, sid, at, expires) "
                        "SELECT seq, $1::text, $2::bigint, $3::bigint FROM h"},
    [PGS_COUNTER_ADD] = {"af_counter_add",
                         "INSERT INTO af_counters (name, shard, n) VALUES ($1::text, $2::int, "
                         "$3::bigint) ON CONFLICT (name, shard) DO UPDATE SET "
                         "n = af_counters.n + EXCLUDED.n"},
    [PGS_SUB_FAMILIES_LOCK] = {"af_sub_families_lock",
                               "SELECT sid FROM af_families WHERE sub = $1::text AND NOT revoked "
                               "ORDER BY sid FOR UPDATE"},
    [PGS_IDP_SID_FAMILIES_LOCK] = {"af_idp_sid_families_lock",
                                   "SELECT sid FROM af_families WHERE provider = $1::text AND "
                                   "idp_sid = $2::text AND NOT revoked AND ($3::text IS NULL OR "
                                   "sub = $3::text) ORDER BY sid FOR UPDATE"},
    [PGS_IS_REVOKED] = {"af_is_revoked", "SELECT revoked FROM af_families WHERE sid = $1::text"},
    [PGS_FAMILY_GET] = {"af_family_get",
                        "SELECT " PG_FAM_COLS " FROM af_families f WHERE f.sid = $1::text"},
    [PGS_LIST_ALL] = {"af_list_all",
                      "SELECT " PG_FAM_COLS " FROM af_families f ORDER BY f.sid COLLATE \"C\""},
    [PGS_LIST_SUB] = {"af_list_sub", "SELECT " PG_FAM_COLS " FROM af_families f "
                                     "WHERE f.sub = $1::text ORDER BY f.sid COLLATE \"C\""},
    [PGS_SWEEP_FAMILIES] = {"af_sweep_families",
                            "WITH d AS (DELETE FROM af_families WHERE sid IN (SELECT sid FROM "
                            "af_families WHERE expires <= $1::bigint ORDER BY expires LIMIT "
                            "$2::int FOR UPDATE SKIP LOCKED) RETURNING 1) SELECT count(*) FROM d"},
    [PGS_SWEEP_TOKENS] = {"af_sweep_tokens",
                          "WITH d AS (DELETE FROM af_tokens WHERE hash IN (SELECT hash FROM "
                          "af_tokens WHERE expires <= $1::bigint ORDER BY expires LIMIT $2::int "
                          "FOR UPDATE SKIP LOCKED) RETURNING 1) SELECT count(*) FROM d"},
    [PGS_SWEEP_FLOWS] = {"af_sweep_flows",
                         "WITH d AS (DELETE FROM af_flows WHERE hash IN (SELECT hash FROM "
                         "af_flows WHERE expires <= $1::bigint ORDER BY expires LIMIT $2::int "
                         "FOR UPDATE SKIP LOCKED) RETURNING 1) SELECT count(*) FROM d"},
    [PGS_SWEEP_REVLOG] = {"af_sweep_revlog",
                          "WITH d AS (DELETE FROM af_revlog WHERE seq IN (SELECT seq FROM "
                          "af_revlog WHERE expires <= $1::bigint - 86400 ORDER BY seq LIMIT "
                          "$2::int FOR UPDATE SKIP LOCKED) RETURNING 1) SELECT count(*) FROM d"},
    [PGS_STATS_COUNTERS] = {"af_stats_counters",
                            "SELECT name, sum(n)::bigint FROM af_counters GROUP BY name"},
    [PGS_STATS_COUNTS] = {"af_stats_counts",
                          "SELECT (SELECT count(*) FROM af_families), "
                          "(SELECT count(*) FROM af_tokens), (SELECT count(*) FROM af_flows), "
                          "(SELECT count(*) FROM af_families WHERE NOT revoked AND "
                          "$1::bigint < expires AND NOT (idle > 0 AND $1::bigint - last_used > "
                          "idle)), (pg_total_relation_size('af_families') + "
                          "pg_total_relation_size('af_tokens') + "
                          "pg_total_relation_size('af_flows') + "
                          "pg_total_relation_size('af_revlog'))::bigint"},
    [PGS_FLOW_CONSUME] = {"af_flow_consume",
                          "WITH i AS (INSERT INTO af_flows (hash, expires) VALUES ($1::bytea, "
                          "$2::bigint) ON CONFLICT (hash) DO NOTHING RETURNING 1), "
                          "d AS (DELETE FROM af_flows WHERE hash IN (SELECT hash FROM af_flows "
                          "WHERE expires <= $3::bigint ORDER BY expires LIMIT $4::int FOR UPDATE "
                          "SKIP LOCKED) RETURNING 1), "
                          "c AS (INSERT INTO af_counters (name, shard, n) SELECT 'swept', "
                          "$5::int, count(*) FROM d HAVING count(*) > 0 ON CONFLICT (name, shard) "
                          "DO UPDATE SET n = af_counters.n + EXCLUDED.n) "
                          "SELECT (SELECT count(*) FROM i)"},
    [PGS_FLOW_RELEASE] = {"af_flow_release", "DELETE FROM af_flows WHERE hash = $1::bytea"},
    [PGS_LEASE] = {"af_lease", "INSERT INTO af_leases (name, taken) VALUES ($1::text, $2::bigint) "
                               "ON CONFLICT (name) DO UPDATE SET taken = EXCLUDED.taken WHERE "
                               "af_leases.taken > EXCLUDED.taken OR "
                               "EXCLUDED.taken - af_leases.taken >= $3::bigint RETURNING 1"},
    [PGS_REVOCATIONS_SINCE] = {"af_revocations_since",
                               "SELECT h.seq, r.seq, r.sid, r.at FROM af_revlog_head h LEFT JOIN "
                               "LATERAL (SELECT seq, sid, at FROM af_revlog WHERE seq > "
                               "$1::bigint ORDER BY seq LIMIT $2::int) r ON true ORDER BY r.seq"},
    [PGS_REVOCATIONS_RECENT] = {"af_revocations_recent",
                                "SELECT h.seq, r.seq, r.sid, r.at FROM af_revlog_head h LEFT JOIN "
                                "LATERAL (SELECT seq, sid, at FROM af_revlog WHERE at >= "
                                "$1::bigint ORDER BY seq LIMIT $2::int) r ON true ORDER BY r.seq"},
    [PGS_SCHEMA_VERSION] = {"af_schema_version",
                            "SELECT coalesce(max(version), 0) FROM af_schema_version"},
    /* a window that ended or lies in the future (a clock set back) starts again at now; a
     * few expired rows go with every count */
    [PGS_THROTTLE_ADD] = {"af_throttle_add",
                          "WITH d AS (DELETE FROM af_throttle WHERE hash IN (SELECT hash FROM "
                          "af_throttle WHERE expires <= $2::bigint AND hash <> $1::bytea ORDER "
                          "BY expires LIMIT $5::int FOR UPDATE SKIP LOCKED) RETURNING 1) "
                          "INSERT INTO af_throttle AS t (hash, n, expires) VALUES ($1::bytea, "
                          "$4::bigint, $2::bigint + $3::bigint) ON CONFLICT (hash) DO UPDATE SET "
                          "n = CASE WHEN t.expires <= $2::bigint OR t.expires - $2::bigint > "
                          "$3::bigint THEN EXCLUDED.n ELSE t.n + EXCLUDED.n END, expires = CASE "
                          "WHEN t.expires <= $2::bigint OR t.expires - $2::bigint > $3::bigint "
                          "THEN EXCLUDED.expires ELSE t.expires END RETURNING n, expires"},
    [PGS_THROTTLE_GET] = {"af_throttle_get",
                          "SELECT n, expires FROM af_throttle WHERE hash = $1::bytea AND expires "
                          "> $2::bigint AND expires - $2::bigint <= $3::bigint"},
    [PGS_SWEEP_THROTTLE] = {"af_sweep_throttle",
                            "WITH d AS (DELETE FROM af_throttle WHERE hash IN (SELECT hash FROM "
                            "af_throttle WHERE expires <= $1::bigint ORDER BY expires LIMIT "
                            "$2::int FOR UPDATE SKIP LOCKED) RETURNING 1) SELECT count(*) FROM d"},
};
