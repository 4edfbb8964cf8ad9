#!/usr/bin/env bash
# bench/metrics_ir.sh -- what metrics cost one gate request, counted in instructions (issue 15:
# "the gate with metrics on vs off ... within 1 %").
#
# Wall-clock benchmarks on this 2-core shared machine cannot resolve 1 % (an A/A control of
# bench/metrics.sh moves by 2-3 %), so this counts work instead of time: the front httpd runs
# in one process (prefork, -X) under valgrind's callgrind, which counts every instruction the
# process executes -- exact and repeatable, whatever else the machine is doing.  For each
# module (counting on, and the same source built with -DAF_NO_METRICS) it
#   1. starts the backend (a plain httpd, not measured) and the front under callgrind,
#   2. sends WARM gate requests (keys, caches and pools warm), zeroes the counters
#      (callgrind_control -z), sends N more on one keep-alive connection, dumps (-d),
#   3. reads the dump: instructions per request for the whole process, and the part spent in
#      af_metrics_* functions (inclusive).
# Scenarios: the cache-warm cookie gate (the cheapest request, where counting weighs most) and
# the HS256 Bearer gate without the token cache; every request proxied to the backend, as in
# bench/run.sh.  Each module is measured BENCH_IR_REPEAT (2) times, alternating, to show the
# counts repeat.  Prints a table; asserts nothing.
#   BENCH_IR_N (2000)  BENCH_IR_WARM (200)  BENCH_IR_REPEAT (2)  BENCH_KEEP=1 (keep temp dir)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
N=${BENCH_IR_N:-2000}
WARM=${BENCH_IR_WARM:-200}
REPEAT=${BENCH_IR_REPEAT:-2}
MODDIR=/usr/lib/apache2/modules
HTTPD=${HTTPD:-/usr/sbin/apache2}
PY=/usr/bin/python3
OUT=$ROOT/build/bench/metrics_ir
for bin in "$HTTPD" valgrind callgrind_control callgrind_annotate openssl "$PY"; do
  command -v "$bin" >/dev/null || { echo "metrics_ir: $bin missing (make deps)" >&2; exit 2; }
done
[ -f build/mod_authflow.so ] || { echo "metrics_ir: make first" >&2; exit 2; }
OFF=build/nometrics
mkdir -p "$OFF" "$OUT"
make BUILD=$OFF CFLAGS="-O2 -g -DAF_NO_METRICS" $OFF/mod_authflow.so >"$OFF/build.log" 2>&1 ||
  { echo "metrics_ir: building the module without counting failed ($OFF/build.log)" >&2; exit 1; }

WORK=$(mktemp -d /tmp/authflow-ir.XXXXXX)
chmod 755 "$WORK"
PIDS=()
cleanup() {
  local rc=$? p
  for p in "${PIDS[@]}"; do
    kill -TERM "$p" 2>/dev/null || true
  done
  for p in "${PIDS[@]}"; do
    for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  done
  if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "metrics_ir: kept $WORK" >&2; else rm -rf "$WORK"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
BACK=$(free_port); FRONT=$(free_port); HSV=$(free_port)
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$WORK/es.pem" 2>/dev/null
head -c 48 /dev/urandom | base64 | tr -d '\n=+/' | head -c 48 >"$WORK/hs.secret"
chmod 600 "$WORK/es.pem" "$WORK/hs.secret"
TOK_ES=$("$PY" bench/mint.py ES256 "$WORK/es.pem" bench-es "http://127.0.0.1:$FRONT")
TOK_HS=$("$PY" bench/mint.py HS256 "$WORK/hs.secret" bench-hs "http://127.0.0.1:$HSV")
for d in es-cookie hs; do
  mkdir -p "$WORK/htdocs/$d"
  printf 'hello from the backend: a small static file of about one hundred bytes...........\n' \
    >"$WORK/htdocs/$d/small.txt"
done
RUNUSER=""
[ "$(id -u)" = 0 ] && RUNUSER=$'User www-data\nGroup www-data'

common() { # $1 name
  cat <<EOF
ServerRoot "$WORK"
ServerName 127.0.0.1
PidFile $WORK/$1.pid
DefaultRuntimeDir $WORK
Mutex file:$WORK default
ErrorLog $WORK/$1-error.log
LogLevel warn
$RUNUSER
LoadModule authn_core_module $MODDIR/mod_authn_core.so
LoadModule authz_core_module $MODDIR/mod_authz_core.so
LoadModule authz_user_module $MODDIR/mod_authz_user.so
LoadModule mime_module $MODDIR/mod_mime.so
TypesConfig /etc/mime.types
KeepAlive On
MaxKeepAliveRequests 0
KeepAliveTimeout 300
Timeout 300
DocumentRoot $WORK/htdocs
EOF
}
{ common back
  cat <<EOF
LoadModule mpm_event_module $MODDIR/mod_mpm_event.so
Listen 127.0.0.1:$BACK
<Directory $WORK/htdocs>
    Require all granted
</Directory>
EOF
} >"$WORK/back.conf"
front_conf() { # $1 module
  common front | grep -v -e '^User ' -e '^Group '
  cat <<EOF
LoadModule mpm_prefork_module $MODDIR/mod_mpm_prefork.so
LoadModule proxy_module $MODDIR/mod_proxy.so
LoadModule proxy_http_module $MODDIR/mod_proxy_http.so
LoadModule authflow_module $1
Listen 127.0.0.1:$FRONT
Listen 127.0.0.1:$HSV
<Directory />
    Require all denied
</Directory>
<VirtualHost 127.0.0.1:$FRONT>
    AuthFlowBaseURL http://127.0.0.1:$FRONT
    AuthFlowSigningKey $WORK/es.pem kid=bench-es
    AuthFlowAccessTTL 2h
    AuthFlowCookiePrefix bench
    ProxyPass /es-cookie/ http://127.0.0.1:$BACK/es-cookie/
    <Location /es-cookie/>
        AuthType AuthFlow
        AuthFlowTokenFrom cookie
        AuthFlowUnauthenticated 401
        Require valid-user
    </Location>
</VirtualHost>
<VirtualHost 127.0.0.1:$HSV>
    AuthFlowBaseURL http://127.0.0.1:$HSV
    AuthFlowSigningKey $WORK/hs.secret kid=bench-hs alg=HS256
    AuthFlowAccessTTL 2h
    AuthFlowCookiePrefix bench
    AuthFlowTokenCache off
    ProxyPass /hs/ http://127.0.0.1:$BACK/hs/
    <Location /hs/>
        AuthType AuthFlow
        AuthFlowTokenFrom bearer
        AuthFlowUnauthenticated 401
        Require valid-user
    </Location>
</VirtualHost>
EOF
}
mkdir -p "$WORK/cg"
# As root, the front runs as www-data from the start (callgrind writes its dumps after httpd
# would have dropped to User, so valgrind itself must be that user): it then owns its files.
AS=()
if [ "$(id -u)" = 0 ]; then
  chown -R www-data:www-data "$WORK"
  AS=(setpriv --reuid=www-data --regid=www-data --init-groups)
fi

"$HTTPD" -f "$WORK/back.conf" -DFOREGROUND >"$WORK/back.out" 2>&1 &
PIDS+=($!)

# One keep-alive connection, sequential requests; every answer must be 200.
cat >"$WORK/client.py" <<'PY'
import http.client, sys
port, path, hdr, val, n = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
c = http.client.HTTPConnection('127.0.0.1', port, timeout=300)
for _ in range(n):
    c.request('GET', path, headers={hdr: val})
    r = c.getresponse(); r.read()
    if r.status != 200:
        sys.exit('status %d on %s' % (r.status, path))
PY

wait_port() {
  for _ in $(seq 600); do
    "$PY" -c 'import socket,sys; socket.create_connection(("127.0.0.1",int(sys.argv[1])),1)' "$1" \
      2>/dev/null && return 0
    sleep 0.1
  done
  echo "metrics_ir: port $1 never opened" >&2; return 1
}
wait_port "$BACK"

measure() { # $1 label (on|off) $2 module $3 repeat
  local which=$1 tag=$1-$3 conf=$WORK/front-$1.conf pid
  front_conf "$2" >"$conf"
  "${AS[@]}" "$HTTPD" -f "$conf" -t >"$WORK/configtest.log" 2>&1 ||
    { cat "$WORK/configtest.log" >&2; exit 1; }
  "${AS[@]}" valgrind --tool=callgrind --callgrind-out-file="$WORK/cg/$tag.%p" --dump-line=no \
    "$HTTPD" -f "$conf" -X >"$WORK/front-$tag.out" 2>&1 &
  pid=$!; PIDS+=("$pid")
  wait_port "$FRONT"; wait_port "$HSV"
  local sc
  for sc in es hs; do
    if [ $sc = es ]; then set -- "$FRONT" /es-cookie/small.txt Cookie "bench-at=$TOK_ES"
    else set -- "$HSV" /hs/small.txt Authorization "Bearer $TOK_HS"; fi
    "$PY" "$WORK/client.py" "$@" "$WARM"
    "${AS[@]}" callgrind_control -z "$pid" >/dev/null 2>&1
    "$PY" "$WORK/client.py" "$@" "$N"
    "${AS[@]}" callgrind_control -d "$sc" "$pid" >/dev/null 2>&1
  done
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
  for sc in es hs; do
    local f
    f=$(grep -l "^desc: Trigger: dump $sc\$" "$WORK"/cg/"$tag".*) ||
      { echo "metrics_ir: no callgrind dump for $tag $sc" >&2; exit 1; }
    cp "$f" "$OUT/cg-$tag-$sc.out"
    "$PY" - "$f" "$which" "$sc" "$N" >>"$WORK/rows" <<'PY'
import re, subprocess, sys
f, which, sc, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
total = None
for line in open(f):
    if line.startswith('summary:'):
        total = int(line.split()[1])
ann = subprocess.run(['callgrind_annotate', '--inclusive=yes', '--threshold=100', f],
                     capture_output=True, text=True).stdout
metrics = 0
for line in ann.splitlines():
    m = re.match(r'\s*([\d,]+) \([^)]*\)\s+\S*:(af_metrics_\w+)', line) or \
        re.match(r'\s*([\d,]+)\s+\S*:(af_metrics_\w+)', line)
    if m:
        metrics += int(m.group(1).replace(',', ''))
print(which, sc, total / n, metrics / n)
PY
  done
}

: >"$WORK/rows"
for i in $(seq 1 "$REPEAT"); do
  echo "metrics_ir: round $i/$REPEAT (callgrind, $N requests per scenario)" >&2
  if [ $((i % 2)) = 1 ]; then
    measure off "$ROOT/$OFF/mod_authflow.so" "$i"; measure on "$ROOT/build/mod_authflow.so" "$i"
  else
    measure on "$ROOT/build/mod_authflow.so" "$i"; measure off "$ROOT/$OFF/mod_authflow.so" "$i"
  fi
done

"$PY" - "$WORK/rows" "$N" "$REPEAT" <<'PY' | tee "$OUT/metrics_ir.md"
import statistics, sys
rows, n, rep = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
d = {}
for line in open(rows):
    which, sc, tot, met = line.split()
    d.setdefault((sc, which), []).append((float(tot), float(met)))
names = {'es': 'gate, cookie, ES256, token cache warm', 'hs': 'gate, Bearer, HS256, no cache'}
print('\nInstructions per gated request (whole front httpd process, proxying to the backend;'
      ' callgrind, %d requests, median of %d runs)\n' % (n, rep))
print('| scenario | metrics off | metrics on | on / off | in af_metrics_* (on) |')
print('|---|---:|---:|---:|---:|')
for sc in ('es', 'hs'):
    off = statistics.median(t for t, _ in d[(sc, 'off')])
    on = statistics.median(t for t, _ in d[(sc, 'on')])
    met = statistics.median(m for _, m in d[(sc, 'on')])
    print('| %s | %.0f | %.0f | %.4f | %.0f |' % (names[sc], off, on, on / off, met))
print('\nruns (instructions per request): ' + '; '.join(
    '%s %s: %s' % (sc, w, ', '.join('%.0f' % t for t, _ in v)) for (sc, w), v in sorted(d.items())))
PY
