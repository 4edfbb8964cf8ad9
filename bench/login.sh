#!/usr/bin/env bash
# bench/login.sh (make bench-login): complete interactive logins through httpd and the real
# OpenID provider (tests/idp/provider.js); the work is in bench/login_bench.py (see there).
#   LOGIN_N (60) LOGIN_WORKERS (4) LOGIN_DIRECT (20) LOGIN_WARMUP (3) BENCH_KEEP=1
#   LOGIN_MD=FILE  append the result table (markdown, with date and machine) to FILE
# Runs after `make`; installs and builds nothing.  Every server is stopped by its pid.
set -euo pipefail
cd "$(dirname "$0")/.."
for bin in node /usr/sbin/apache2 /usr/bin/python3; do
  command -v "$bin" >/dev/null || { echo "bench/login: $bin missing (make deps)" >&2; exit 2; }
done
[ -f build/mod_authflow.so ] || { echo "bench/login: build/mod_authflow.so missing (make)" >&2; exit 2; }
[ -d tests/idp/node_modules ] || { echo "bench/login: tests/idp/node_modules missing (make deps)" >&2; exit 2; }
exec /usr/bin/python3 bench/login_bench.py "$@"
