#!/usr/bin/env bash
# make bench-jose: JWS verification micro-benchmark (bench/jose_bench.c), single core.
# Builds against build/libauthflow.a (run `make` first), Debian's libjwt and cjose, and runs
# every scenario interleaved in rounds in one process.  Output: a markdown table on stdout,
# also saved to build/bench/jose.md.
#   BENCH_ROUNDS (7)  BENCH_SECONDS (0.3 per scenario and round)  BENCH_ALG (one alg only)
#   BENCH_CALLGRIND=1 also counts instructions per verification under valgrind's callgrind
#   (independent of the machine's load; needs valgrind), saved to build/bench/jose-ir.md
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

if [ "${BENCH_CALLGRIND:-0}" = 1 ]; then
  command -v valgrind >/dev/null || { echo "bench-jose: valgrind missing" >&2; exit 2; }
  N=${BENCH_CALLGRIND_N:-500}
  CG=$(mktemp -d /tmp/authflow-jose-cg.XXXXXX)
  trap 'rm -rf "$CG"' EXIT
  valgrind --tool=callgrind --callgrind-out-file="$CG/cg.out" "$OUT/jose_bench" -n "$N" \
    >/dev/null 2>"$CG/vg.log" || { tail "$CG/vg.log" >&2; exit 1; }
  # plain temp names; ls -v gives the dumps in numeric order
  # shellcheck disable=SC2045
  for f in $(ls -v "$CG"/cg.out.*); do
    desc=$(sed -n 's/^desc: Trigger: Client Request: //p' "$f")
    tot=$(sed -n 's/^summary: *//p; s/^totals: *//p' "$f" | head -1)
    [ -n "$desc" ] && echo "$desc $tot"
  done | /usr/bin/python3 -c '
import sys
ir = {}
for line in sys.stdin:
    label, tot = line.split()
    alg, impl, n = label.split("/")
    ir[(alg, impl)] = int(tot) / int(n)
algs = []
for a, _ in ir:
    if a not in algs:
        algs.append(a)
print("\ninstructions per verification (callgrind, user space):\n")
print("| alg | ours | raw OpenSSL | libjwt | cjose | ours - raw | ours/raw |")
print("|---|---:|---:|---:|---:|---:|---:|")
def cell(a, i):
    return "%.0f" % ir[(a, i)] if (a, i) in ir else "n/a"
for a in algs:
    o, r = ir[(a, "ours")], ir[(a, "raw")]
    print("| %s | %s | %s | %s | %s | %.0f | %.3f |" % (a, cell(a, "ours"), cell(a, "raw"),
          cell(a, "libjwt"), cell(a, "cjose"), o - r, o / r))
' | tee "$OUT/jose-ir.md"
fi
