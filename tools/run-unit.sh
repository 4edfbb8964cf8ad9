#!/usr/bin/env bash
# Run every unit-test binary; fail if any fails.  Prints a summary line per binary.
# Then the store binaries run a second time against a PostgreSQL 15 started for the run
# (tools/pg-test.sh; AF_TEST_STORE=URI): the same test bodies on the shared store.  The
# cluster is stopped on every exit, failures included.
set -u
cd "$(dirname "$0")/.."
export AF_VECTORS_DIR=${AF_VECTORS_DIR:-$PWD/tests/vectors}
PG_PASS="test_store test_store_race test_store_bounds test_hardening test_revview"
fail=0
for t in "$@"; do
  echo "== $t"
  if ! CK_FORK=yes AF_TEST_STORE=lmdb "$t"; then
    echo "FAILED: $t"
    fail=1
  fi
done

pg=()
for t in "$@"; do
  for n in $PG_PASS; do
    [ "$(basename "$t")" = "$n" ] && pg+=("$t")
  done
done
if [ ${#pg[@]} -gt 0 ]; then
  if [ ! -x /usr/lib/postgresql/15/bin/initdb ]; then
    echo "FAILED: PostgreSQL 15 is not installed (make deps): the shared-store pass cannot run"
    exit 1
  fi
  pgdir=$(mktemp -d /tmp/af_pg.XXXXXX)
  trap 'tools/pg-test.sh stop "$pgdir"' EXIT
  if ! uri=$(tools/pg-test.sh start "$pgdir"); then
    echo "FAILED: could not start PostgreSQL for the shared-store pass"
    exit 1
  fi
  for t in "${pg[@]}"; do
    echo "== $t (PostgreSQL)"
    if ! CK_FORK=yes AF_TEST_STORE="$uri" "$t"; then
      echo "FAILED: $t (PostgreSQL)"
      fail=1
    fi
  done
fi
exit $fail
