#!/usr/bin/env bash
# bench/compare.sh [REV] -- the gate before and after a change, in one run (issue 11: "make
# bench before and after in one run: gate ratios unchanged within noise").
#
# Builds the module of REV (default: b5e2a81~1, the code before the session core) in a
# temporary git worktree, then runs bench/run.sh with the old and the current module
# alternately (in pairs whose order alternates too), BENCH_PAIRS (3) times each, one round of every scenario per invocation
# (each invocation starts its own httpd and measures proxy-noauth in the same round, so the
# ratios of one invocation share the machine's state).  Prints the median ratio to
# proxy-noauth of each scenario for both modules.  Timings are never asserted.
#   BENCH_PAIRS  BENCH_SECONDS (5)  BENCH_ONLY (default: the ES256 and HS256 gate scenarios)
#   COMPARE_OLD_SO=FILE  the "before" module already built (REV is not built; bench/metrics.sh
#   passes the module with counting compiled out), COMPARE_OLD_LABEL / COMPARE_NEW_LABEL
#   name the columns, COMPARE_OUT the output directory (default build/bench/compare)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
REV=${1:-b5e2a81~1}
PAIRS=${BENCH_PAIRS:-3}
OUT=${COMPARE_OUT:-$ROOT/build/bench/compare}
WT=$(mktemp -d /tmp/authflow-compare.XXXXXX)
rm -rf "$OUT"; mkdir -p "$OUT"
cleanup() {
  git worktree remove --force "$WT" >/dev/null 2>&1 || rm -rf "$WT"
}
trap cleanup EXIT INT TERM

[ -f build/mod_authflow.so ] || { echo "compare: make first" >&2; exit 2; }
rmdir "$WT"
if [ -n "${COMPARE_OLD_SO:-}" ]; then
  cp "$COMPARE_OLD_SO" "$OUT/old.so"
  OLD=${COMPARE_OLD_LABEL:-$COMPARE_OLD_SO}
else
  git worktree add --detach "$WT" "$REV" >/dev/null 2>&1
  (cd "$WT" && make -j2 build/mod_authflow.so >"$OUT/build-old.log" 2>&1) ||
    { echo "compare: building $REV failed (see $OUT/build-old.log)" >&2; exit 1; }
  cp "$WT/build/mod_authflow.so" "$OUT/old.so"
  OLD=$(git rev-parse --short "$REV")
fi
cp build/mod_authflow.so "$OUT/new.so"
NEW=${COMPARE_NEW_LABEL:-$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src mod_authflow.c || echo +)}

# The order alternates (old new, new old, ...): on this machine the second invocation of a
# pair was slower whichever module it ran, which a fixed order would charge to one module.
for i in $(seq 1 "$PAIRS"); do
  order="old new"; [ $((i % 2)) = 0 ] && order="new old"
  for which in $order; do
    echo "compare: pair $i/$PAIRS, $which module" >&2
    BENCH_MODULE=$OUT/$which.so BENCH_OUT=$OUT/$which-$i BENCH_ROUNDS=1 \
      BENCH_ONLY=${BENCH_ONLY:-ES256|HS256} bench/run.sh >/dev/null 2>"$OUT/$which-$i.err" ||
      { cat "$OUT/$which-$i.err" >&2; exit 1; }
  done
done

/usr/bin/python3 - "$OUT" "$PAIRS" "$OLD" "$NEW" <<'PY' | tee "$OUT/compare.md"
import re, statistics, sys
out, pairs, old, new = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
ratios = {}
for which in ('old', 'new'):
    for i in range(1, pairs + 1):
        for line in open('%s/%s-%d/httpd.md' % (out, which, i)):
            m = re.match(r'\| (.+?)(?: \(non-2xx: \d+\))? \| ([\d.]+) \| [\d.]+ \| ([\d.]+) \|$', line)
            if m and m.group(1) != 'proxy-noauth':
                ratios.setdefault(m.group(1), {}).setdefault(which, []).append(float(m.group(3)))
print('\n| scenario (ratio to proxy-noauth, median of %d) | before (%s) | after (%s) | after / before |' % (pairs, old, new))
print('|---|---:|---:|---:|')
for name, d in ratios.items():
    b, a = statistics.median(d.get('old', [0])), statistics.median(d.get('new', [0]))
    print('| %s | %.3f | %.3f | %.3f |' % (name, b, a, a / b if b else 0))
PY
