#!/usr/bin/env bash
# make bench-policy: nanoseconds per evaluation of typical claim expressions
# (bench/policy_bench.c), beside a plain strcmp-based claim check as the floor.
# Builds against build/libauthflow.a (run `make` first), single core, every scenario
# interleaved in rounds in one process; the median of the rounds is reported.
# Output: a markdown table on stdout, also saved to build/bench/policy.md.
#   BENCH_ROUNDS (9)  BENCH_SECONDS (0.2 per scenario and round)
set -euo pipefail
cd "$(dirname "$0")/.."

CC=${CC:-gcc}
OUT=build/bench
mkdir -p "$OUT"
[ -f build/libauthflow.a ] || { echo "bench-policy: build/libauthflow.a missing (make)" >&2; exit 2; }

APR_CFLAGS="$(apr-1-config --cflags --cppflags --includes) $(apu-1-config --includes)"
APR_LIBS="$(apr-1-config --link-ld --libs) $(apu-1-config --link-ld --libs)"
# shellcheck disable=SC2086
$CC -std=gnu11 -O2 -g -Wall -Wextra -Wno-unused-parameter -Isrc $APR_CFLAGS \
  -o "$OUT/policy_bench" bench/policy_bench.c build/libauthflow.a \
  $APR_LIBS -lcurl -ljansson -llmdb -lssl -lcrypto -lpcre2-8

PIN=()
if command -v taskset >/dev/null && taskset -c 0 true 2>/dev/null; then
  PIN=(taskset -c 0)
fi
{
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), nproc $(nproc)," \
       "PCRE2 $(pcre2-config --version 2>/dev/null || echo '?'), pinned: ${PIN[*]:-no}"
  "${PIN[@]}" "$OUT/policy_bench" -r "${BENCH_ROUNDS:-9}" -t "${BENCH_SECONDS:-0.2}"
} | tee "$OUT/policy.md"
