#!/usr/bin/env bash
# Durable refresh-token rotations per second on the LMDB store, LMDB default durability
# (every write transaction is a synced commit; no MDB_NOSYNC), scenarios run side by side:
#   1 process x 1 thread (prefork child), 2 processes x 1 thread,
#   1 process x 8 threads and 2 x 8 (event MPM: threads share commits = group commit),
# plus the gate's revocation check cost, and (comparison only, not a default)
# MDB_NOMETASYNC.  The disk is shared: each scenario runs ROUNDS times, interleaved.
# Usage: bench/store.sh [SECONDS] [ROUNDS]   (run `make` first)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-3}
ROUNDS=${2:-2}
BIN=build/bench/store_bench
mkdir -p build/bench
APR_CFLAGS="$(apr-1-config --cflags --cppflags --includes) $(apu-1-config --includes)"
APR_LIBS="$(apr-1-config --link-ld --libs) $(apu-1-config --link-ld --libs)"
# shellcheck disable=SC2086
cc -std=gnu11 -O2 -pthread -Isrc -Itests/unit $APR_CFLAGS -o "$BIN" bench/store_bench.c build/libauthflow.a \
   $APR_LIBS -lcurl -ljansson -llmdb -lssl -lcrypto
dir=""
trap '[ -n "$dir" ] && rm -rf "$dir"' EXIT
run() { # on the disk the store would live on (not tmpfs): under build/
  dir=$(mktemp -d "$PWD/build/bench/store.XXXXXX")
  "$BIN" "$dir" "$SECS" "$@"
  rm -rf "$dir"; dir=""
}
for r in $(seq "$ROUNDS"); do
  echo "-- round $r (load: $(cut -d' ' -f1-3 /proc/loadavg))"
  run 1 1
  run 2 1
  run 1 8
  run 2 8
  run 1 1 nometasync
done
echo "store: target >= 2000 durable rotations/s"
