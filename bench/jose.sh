#!/usr/bin/env bash
# make bench-jose: JWS verification micro-benchmark (bench/jose_bench.c), single core.
# Builds against build/libauthflow.a (run `make` first), Debian's libjwt and cjose, and runs
# every scenario interleaved in rounds in one process.  Output: a markdown table on stdout,
# also saved to build/bench/jose.md.
#   BENCH_ROUNDS (7)  BENCH_SECONDS (0.3 per scenario and round)  BENCH_ALG (one alg only)
set -euo pipefail
cd "$(dirname "$0")/.."

CC=${CC:-gcc}
OUT=build/bench
mkdir -p "$OUT"
[ -f build/libauthflow.a ] || { echo "bench-jose: build/libauthflow.a missing (make)" >&2; exit 2; }

APR_CFLAGS="$(apr-1-config --cflags --cppflags --includes) $(apu-1-config --includes)"
APR_LIBS="$(apr-1-config --link-ld --libs) $(apu-1-config --link-ld --libs)"
# shellcheck disable=SC2086
$CC -std=gnu11 -O2 -g -Wall -Wextra -Wno-unused-parameter -Wno-deprecated-declarations -Isrc \
  $APR_CFLAGS -o "$OUT/jose_bench" bench/jose_bench.c build/libauthflow.a \
  -ljwt -lcjose $APR_LIBS -lcurl -ljansson -llmdb -lssl -lcrypto

PIN=()
if command -v taskset >/dev/null && taskset -c 0 true 2>/dev/null; then
  PIN=(taskset -c 0)
fi
args=(-r "${BENCH_ROUNDS:-7}" -t "${BENCH_SECONDS:-0.3}")
[ -n "${BENCH_ALG:-}" ] && args+=(-a "$BENCH_ALG")

{
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), nproc $(nproc)," \
       "$(openssl version | cut -d' ' -f1-2), pinned: ${PIN[*]:-no}"
  "${PIN[@]}" "$OUT/jose_bench" "${args[@]}"
} | tee "$OUT/jose.md"
