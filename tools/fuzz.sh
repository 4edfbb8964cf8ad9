#!/usr/bin/env bash
# Build and run every libFuzzer target in tests/fuzz/fuzz_*.c for SECONDS seconds each.
#
#   tools/fuzz.sh SECONDS [TARGET...]      e.g. tools/fuzz.sh 20, tools/fuzz.sh 300 jws
#
# The core library (the Makefile's CORE_SRC: src/{common,jose,token,store,policy,oidc,http})
# is compiled again with clang + ASan/UBSan + fuzzer coverage into build/fuzz/ (the gcc-built
# build/libauthflow.a is never reused).  Each target runs from a fresh COPY of its seed corpus
# tests/fuzz/corpus/<name>/ in build/fuzz/corpus-<name>/ (new inputs never land in the repo);
# crashes, leaks, UB and timeouts are written to build/fuzz/findings/.  Exit status is non-zero
# when any target found anything (or failed to build).
#
# Environment: CLANG (default clang), FUZZ_JOBS (parallel compiles, default nproc),
#              FUZZ_KEEP_CORPUS=1 keeps build/fuzz/corpus-<name>/ from the previous run.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2

SECONDS_PER_TARGET=${1:-20}
shift || true
ONLY=("$@")
CLANG=${CLANG:-clang}
JOBS=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}
OUT=build/fuzz
OBJ=$OUT/obj
FINDINGS=$OUT/findings
LIB=$OUT/libauthflow-fuzz.a

case "$SECONDS_PER_TARGET" in
  '' | *[!0-9]*) echo "usage: $0 SECONDS [TARGET...]" >&2; exit 2 ;;
esac
command -v "$CLANG" >/dev/null || { echo "fuzz: $CLANG not found (make deps)" >&2; exit 2; }

SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
APR_CFLAGS="$(apr-1-config --cflags --cppflags --includes) $(apu-1-config --includes)"
APR_LIBS="$(apr-1-config --link-ld --libs) $(apu-1-config --link-ld --libs)"
DEP_LIBS="-lcurl -ljansson -llmdb -lssl -lcrypto"
DEP_LIBS="$DEP_LIBS -lpcre2-8"  # src/policy (PCRE2)
DEP_LIBS="$DEP_LIBS -lpq"       # src/store PostgreSQL backend (libpq)
PG_CFLAGS="$(pkg-config --cflags libpq 2>/dev/null || echo -I/usr/include/postgresql)"
CFLAGS_F="-std=gnu11 -g -O1 -fPIC $SAN -fsanitize=fuzzer-no-link -Isrc $APR_CFLAGS $PG_CFLAGS \
  -Wall -Wextra -Wno-unused-parameter"

mkdir -p "$OBJ" "$FINDINGS"

# ---- 1. the core library, clang + sanitizers -------------------------------------------
CORE_SRC=()
for d in common jose token store policy oidc http session; do
  for f in src/$d/*.c; do [ -f "$f" ] && CORE_SRC+=("$f"); done
done
newest_hdr=$(ls -t src/*/*.h 2>/dev/null | head -1)
stale=()
for f in "${CORE_SRC[@]}"; do
  o=$OBJ/$(echo "${f#src/}" | tr / _).o
  o=${o%.c.o}.o
  if [ ! -f "$o" ] || [ "$f" -nt "$o" ] || { [ -n "$newest_hdr" ] && [ "$newest_hdr" -nt "$o" ]; }; then
    stale+=("$f")
  fi
done
if [ ${#stale[@]} -gt 0 ]; then
  echo "fuzz: compiling ${#stale[@]} core file(s) with $CLANG + ASan/UBSan"
  export CLANG CFLAGS_F OBJ
  if ! printf '%s\n' "${stale[@]}" | xargs -P "$JOBS" -I{} sh -c '
      f={}; o=$OBJ/$(echo "${f#src/}" | tr / _); o=${o%.c}.o
      $CLANG $CFLAGS_F -c -o "$o" "$f" || { rm -f "$o"; exit 1; }'; then
    echo "fuzz: FAILED to compile the core library" >&2
    exit 1
  fi
fi
# the archive holds exactly the objects of the current CORE_SRC (files may have been removed)
objs=()
for f in "${CORE_SRC[@]}"; do
  o=$OBJ/$(echo "${f#src/}" | tr / _); objs+=("${o%.c}.o")
done
rm -f "$LIB"
ar rcs "$LIB" "${objs[@]}"

# ---- 2. the targets ---------------------------------------------------------------------
targets=()
for src in tests/fuzz/fuzz_*.c; do
  [ -f "$src" ] || continue
  name=$(basename "$src" .c); name=${name#fuzz_}
  if [ ${#ONLY[@]} -gt 0 ]; then
    keep=0
    for t in "${ONLY[@]}"; do [ "$t" = "$name" ] && keep=1; done
    [ $keep = 1 ] || continue
  fi
  bin=$OUT/fuzz_$name
  if [ ! -f "$bin" ] || [ "$src" -nt "$bin" ] || [ "$LIB" -nt "$bin" ]; then
    echo "fuzz: building $bin"
    # shellcheck disable=SC2086
    if ! $CLANG $CFLAGS_F -fsanitize=fuzzer -Itests/fuzz -o "$bin" "$src" "$LIB" \
        $APR_LIBS $DEP_LIBS; then
      echo "fuzz: FAILED to build $src" >&2
      exit 1
    fi
  fi
  targets+=("$name")
done
if [ ${#targets[@]} -eq 0 ]; then
  echo "fuzz: no targets" >&2
  exit 1
fi

# ---- 3. run ------------------------------------------------------------------------------
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
fail=0
results=()
for name in "${targets[@]}"; do
  corpus=$OUT/corpus-$name
  if [ "${FUZZ_KEEP_CORPUS:-0}" != 1 ] || [ ! -d "$corpus" ]; then
    rm -rf "$corpus"
    mkdir -p "$corpus"
    if [ -d tests/fuzz/corpus/$name ]; then
      cp -p tests/fuzz/corpus/"$name"/* "$corpus"/ 2>/dev/null || true
    fi
  fi
  dict=()
  [ -f "tests/fuzz/$name.dict" ] && dict=("-dict=tests/fuzz/$name.dict")
  log=$OUT/fuzz_$name.log
  echo "fuzz: running $name for ${SECONDS_PER_TARGET}s ($(ls "$corpus" | wc -l) seed files)"
  start=$(date +%s)
  "$OUT/fuzz_$name" -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=2048 -timeout=10 \
    -detect_leaks=1 -print_final_stats=1 -artifact_prefix="$FINDINGS/$name-" \
    "${dict[@]}" "$corpus" >"$log" 2>&1
  rc=$?
  end=$(date +%s)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -aoE 'cov: [0-9]+' "$log" | tail -1 | awk '{print $2}')
  if [ $rc -eq 0 ]; then
    result=ok
  else
    fail=1
    art=$(grep -aoE "$FINDINGS/[^ ]+" "$log" | tail -1)
    kind=$(grep -aoE 'ERROR: (AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|libFuzzer)[^ ]*( [a-z-]+)?|runtime error|ALARM: working on the last Unit|out-of-memory' "$log" | head -1)
    result="FAIL rc=$rc ${kind:-?} ${art:-} (log: $log)"
    grep -a -m1 -B2 -A25 -E 'ERROR: |runtime error|ALARM|out-of-memory' "$log" | sed 's/^/    /'
  fi
  results+=("$(printf '%-10s execs=%-10s exec/s=%-7s cov=%-6s time=%3ss  %s' "$name" \
    "${execs:-?}" "${rate:-?}" "${cov:-?}" "$((end - start))" "$result")")
done

echo "== fuzz summary (${SECONDS_PER_TARGET}s per target)"
printf '%s\n' "${results[@]}"
exit $fail
