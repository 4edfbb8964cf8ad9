#!/usr/bin/env bash
# bench/metrics.sh -- the gate with metrics on vs off, in one run (issue 15: "within 1 %").
#
# Counting is always on in the module (there is no directive to turn it off, and a location
# without the authflow-metrics handler still counts), so "off" is the same source built with
# -DAF_NO_METRICS: every counting call an empty inline, nothing in shared memory is touched.
# bench/compare.sh then alternates the two modules, BENCH_PAIRS (3) times each, every
# invocation measuring proxy-noauth in the same round, and prints the median ratio of each
# gate scenario to proxy-noauth for both and their quotient (on / off).  The scenarios
# (BENCH_ONLY): the cache-warm cookie gate (the cheapest request, where a counter's cost
# weighs most) and the HS256 Bearer gate without cache.  Timings are never asserted.
# wrk through httpd cannot resolve 1 % on a shared machine, so first bench/metrics_bench.c
# measures what metrics add to one gate request directly: its two counter adds, in ns, in 1
# process and in N processes adding to the same shared words at once; then bench/metrics_ir.sh
# counts the instructions one gate request executes with each module (callgrind).
#   BENCH_PAIRS BENCH_SECONDS BENCH_ONLY as for bench/compare.sh
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f build/mod_authflow.so ] || { echo "metrics bench: make first" >&2; exit 2; }
OFF=build/nometrics
mkdir -p "$OFF"
make BUILD=$OFF CFLAGS="-O2 -g -DAF_NO_METRICS" $OFF/mod_authflow.so >"$OFF/build.log" 2>&1 ||
  { echo "metrics bench: building the module without counting failed ($OFF/build.log)" >&2; exit 1; }
if objdump -d "$OFF/mod_authflow.so" | grep -q '<af_metrics_reason>:'; then
  echo "metrics bench: $OFF/mod_authflow.so still has af_metrics_reason" >&2; exit 1
fi
mkdir -p build/bench
# shellcheck disable=SC2046
cc -std=gnu11 -O2 -Isrc $(apr-1-config --cflags --cppflags --includes) \
   -o build/bench/metrics_bench bench/metrics_bench.c build/libauthflow.a \
   $(apr-1-config --link-ld --libs) $(apu-1-config --link-ld) -ljansson -lcurl -llmdb -lpq \
   -lssl -lcrypto -lpcre2-8
build/bench/metrics_bench 2 "$(nproc)" | tee build/bench/metrics_micro.md
# What the module executes per gate request, on and off, counted by callgrind: exact where
# wall-clock time through httpd is not (bench/metrics_ir.sh).
bench/metrics_ir.sh
COMPARE_OLD_SO=$PWD/$OFF/mod_authflow.so COMPARE_OLD_LABEL="metrics off" \
  COMPARE_NEW_LABEL="metrics on" COMPARE_OUT=$PWD/build/bench/metrics \
  BENCH_ONLY=${BENCH_ONLY:-cache warm|HS256} bench/compare.sh
