#!/usr/bin/env bash
# Durable refresh-token rotations per second, scenarios run side by side in one run:
#  LMDB, LMDB's default durability (every write transaction is a synced commit; no
#  MDB_NOSYNC): 1 process x 1 thread (prefork child), 2 processes x 1 thread,
#  1 process x 8 threads and 2 x 8 (event MPM: threads share commits = group commit),
#  plus (comparison only, not a default) MDB_NOMETASYNC;
#  PostgreSQL 15 on this machine (tools/pg-test.sh ... durable: fsync on, synchronous_commit
#  on, full_page_writes on -- PostgreSQL's defaults), over TCP to 127.0.0.1: 1 process x 1
#  thread, 8 processes x 1 thread, 1 process x 8 threads (a pool of 8 connections);
# plus the gate's revocation check cost on each.  The disk is shared: each scenario runs
# ROUNDS times, interleaved.
# Usage: bench/store.sh [SECONDS] [ROUNDS]   (run `make` first)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-3}
ROUNDS=${2:-2}
BIN=build/bench/store_bench
mkdir -p build/bench
APR_CFLAGS="$(apr-1-config --cflags --cppflags --includes) $(apu-1-config --includes)"
APR_LIBS="$(apr-1-config --link-ld --libs) $(apu-1-config --link-ld --libs)"
PG_CFLAGS="$(pkg-config --cflags libpq 2>/dev/null || echo -I/usr/include/postgresql)"
# shellcheck disable=SC2086
cc -std=gnu11 -O2 -pthread -Isrc -Itests/unit $APR_CFLAGS $PG_CFLAGS -o "$BIN" bench/store_bench.c \
   build/libauthflow.a $APR_LIBS -lcurl -ljansson -llmdb -lssl -lcrypto -lpq
dir=""
pgdir=""
cleanup() {
  [ -n "$dir" ] && rm -rf "$dir"
  [ -n "$pgdir" ] && tools/pg-test.sh stop "$pgdir"
  return 0
}
trap cleanup EXIT
run() { # on the disk the store would live on (not tmpfs): under build/
  dir=$(mktemp -d "$PWD/build/bench/store.XXXXXX")
  "$BIN" "$dir" "$SECS" "$@"
  rm -rf "$dir"; dir=""
}
n=0
run_pg() { # a fresh schema per scenario
  n=$((n + 1))
  psql "$uri" -Xq -c "CREATE SCHEMA b$n"
  local s="$uri&options=-csearch_path%3Db$n"
  build/authflowctl --store "$s" migrate >/dev/null
  "$BIN" "$s" "$SECS" "$@"
}
pgdir=$(mktemp -d /tmp/af_pg.XXXXXX)
uri=$(tools/pg-test.sh start "$pgdir" durable)
echo "postgresql: $(psql "$uri" -XAtc 'SELECT version()' | cut -d, -f1);" \
     "fsync=$(psql "$uri" -XAtc 'SHOW fsync')" \
     "synchronous_commit=$(psql "$uri" -XAtc 'SHOW synchronous_commit')"
for r in $(seq "$ROUNDS"); do
  echo "-- round $r (load: $(cut -d' ' -f1-3 /proc/loadavg))"
  run 1 1
  run 2 1
  run 1 8
  run 2 8
  run 1 1 nometasync
  run_pg 1 1
  run_pg 8 1
  run_pg 1 8
done
echo "store: target >= 2000 durable rotations/s (LMDB), >= 1000/s (PostgreSQL, local, synchronous commit)"
