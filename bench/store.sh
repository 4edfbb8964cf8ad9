#!/usr/bin/env bash
# Durable refresh-token rotations per second on the LMDB store (LMDB default durability:
# every rotation is a synced commit), 1 and 2 processes, plus the cost of the gate's
# revocation check.  Usage: bench/store.sh [SECONDS]   (run `make` first)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-5}
BIN=build/bench/store_bench
mkdir -p build/bench
APR_CFLAGS="$(apr-1-config --cflags --cppflags --includes) $(apu-1-config --includes)"
APR_LIBS="$(apr-1-config --link-ld --libs) $(apu-1-config --link-ld --libs)"
# shellcheck disable=SC2086
cc -std=gnu11 -O2 -Isrc $APR_CFLAGS -o "$BIN" bench/store_bench.c build/libauthflow.a \
   $APR_LIBS -lcurl -ljansson -llmdb -lssl -lcrypto
# on the disk the store would live on (not tmpfs): under build/
for procs in 1 2; do
  dir=$(mktemp -d "$PWD/build/bench/store.XXXXXX")
  trap 'rm -rf "$dir"' EXIT
  "$BIN" "$dir" "$SECS" "$procs"
  rm -rf "$dir"
done
# for comparison only (not the default): one sync per commit (MDB_NOMETASYNC)
dir=$(mktemp -d "$PWD/build/bench/store.XXXXXX")
"$BIN" "$dir" "$SECS" 1 16 nometasync
rm -rf "$dir"
echo "store: target >= 2000 durable rotations/s (default durability)"
