#!/usr/bin/env bash
# Run every unit-test binary; fail if any fails.  Prints a summary line per binary.
set -u
cd "$(dirname "$0")/.."
export AF_VECTORS_DIR=${AF_VECTORS_DIR:-$PWD/tests/vectors}
fail=0
for t in "$@"; do
  echo "== $t"
  if ! CK_FORK=yes "$t"; then
    echo "FAILED: $t"
    fail=1
  fi
done
exit $fail
