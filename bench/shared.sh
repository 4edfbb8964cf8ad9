#!/usr/bin/env bash
# bench/shared.sh: the shared PostgreSQL store through real httpd, side by side with LMDB.
#
# One run, real parts only (127.0.0.1): a durable PostgreSQL 15 (tools/pg-test.sh start DIR
# durable: fsync, synchronous_commit and full_page_writes on), the real OpenID provider
# (tests/idp/provider.js) for the logins, and two httpd (event MPM, KeepAlive on):
#
#   httpd A   backend vhost (a ~90-byte static file, reached through mod_proxy_http by every
#             scenario) and three sites, each /auth (SetHandler authflow), /noauth (plain
#             proxy) and /gate (AuthType AuthFlow, cookie, verified-token cache on):
#               L   AuthFlowStore DIR (LMDB, full durability)
#               P   AuthFlowStore postgresql://... schema 1, AuthFlowRevocationDelay 1s
#               Z   AuthFlowStore postgresql://... schema 2, AuthFlowRevocationDelay 0
#             plus N: /gate without any store (no revocation check, as bench/run.sh), same
#             issuer and key as P
#   httpd B   the sites P and Z again (same URIs, secret file and signing key): a second host
#
# Measured, every scenario interleaved in rounds (medians and ratios, no timing asserted):
#   1. gate req/s, cache warm: proxy-noauth vs gate on N (no store), on L, on P (delay 1s: the
#      per-process revocation view, no round trip) and on Z (delay 0: one round trip per
#      request; for comparison); the order rotates each round.  Tokens: access cookies of real
#      logins (the sid exists in the store).
#   2. durable rotations/s through httpd: wrk POSTs /auth/refresh, one connection and one
#      fresh login each (a Lua script carries each successor cookie into the next request);
#      L vs P.  Every 204 is a committed rotation; non-204 and reuse detections must be 0.
#   3. revocation propagation: log out (POST /auth/logout) on A, poll B (a new connection per
#      request, every 10 ms) until 401: the time from the logout's response to B's first 401,
#      and to the last 200 B still gave (any child); delay 1s (site P) and 0 (site Z).
#
# Each wrk run also records the CPU other processes used (/proc/stat less our process trees)
# and the hypervisor's steal time: the load average counts the benchmark's own threads.
# Output: a markdown table on stdout and in build/bench/shared.md.  Tokens are never printed.
#   GATE_SECONDS (3) BENCH_ROUNDS (11, gate) BENCH_SECONDS (5, rotations) ROT_ROUNDS (3)
#   BENCH_CONNS (32) REV_SAMPLES (20)
#   BENCH_KEEP=1 (keep the httpd roots)
set -euo pipefail
cd "$(dirname "$0")/.."
for bin in wrk node psql /usr/sbin/apache2 /usr/lib/postgresql/15/bin/initdb; do
  command -v "$bin" >/dev/null || { echo "bench/shared: $bin missing (make deps)" >&2; exit 2; }
done
for f in build/mod_authflow.so build/authflowctl; do
  [ -f "$f" ] || { echo "bench/shared: $f missing (make)" >&2; exit 2; }
done
[ -d tests/idp/node_modules ] || { echo "bench/shared: tests/idp/node_modules missing (make deps)" >&2; exit 2; }
mkdir -p build/bench
exec /usr/bin/python3 bench/shared_bench.py "$@"
