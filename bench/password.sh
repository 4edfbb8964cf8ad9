#!/usr/bin/env bash
# bench/password.sh (make bench-password): does an unknown account take as long as a wrong
# password?  Medians of PW_N (1000) tries of each; the work is in bench/password_bench.py.
#   PW_N (1000)   PW_MD=FILE  append the result table (markdown) to FILE
# Runs after `make`; installs and builds nothing.  The server is stopped by its pid.
set -euo pipefail
cd "$(dirname "$0")/.."
for bin in /usr/sbin/apache2 /usr/bin/python3 htpasswd; do
  command -v "$bin" >/dev/null || { echo "bench/password: $bin missing (make deps)" >&2; exit 2; }
done
[ -f build/mod_authflow.so ] || { echo "bench/password: build/mod_authflow.so missing (make)" >&2; exit 2; }
exec /usr/bin/python3 bench/password_bench.py "$@"
