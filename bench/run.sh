#!/usr/bin/env bash
# make bench: side-by-side load benchmark of the gate, one httpd, scenarios interleaved in rounds.
#
# One Apache httpd (event MPM, KeepAlive on, own ServerRoot in a temp dir, 127.0.0.1 only):
#   backend vhost   serves a small static file
#   front vhost     ES256 signing key; /noauth/ plain proxy; /es-cookie/ AuthType AuthFlow with
#                   the token in a cookie (verified-token cache warm)
#   nocache vhost   same key, AuthFlowTokenCache off; /es-bearer/ the same token as Bearer
#   hs vhost        HS256 key; /hs/ Bearer, cache off
#   oidc vhost      mod_auth_openidc (AuthType oauth20) verifying the same ES256 Bearer token
# Every protected location proxies to the backend.  Tokens are minted by jwcrypto (bench/mint.py).
# wrk runs each scenario BENCH_SECONDS (5) per round for BENCH_ROUNDS (5) rounds, interleaved;
# the table shows the median req/s, the median p99 and the ratio to proxy-noauth.
#   BENCH_SECONDS BENCH_ROUNDS BENCH_CONNS (32) BENCH_THREADS (2) BENCH_KEEP=1 (keep temp dir)
#   BENCH_MODULE (default build/mod_authflow.so)  BENCH_OUT (default build/bench)
#   BENCH_ONLY=REGEX (scenarios to run besides proxy-noauth)  BENCH_PIN=1 (httpd on core 0, wrk on core 1; worse on a shared machine)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

ROUNDS=${BENCH_ROUNDS:-5}
SECS=${BENCH_SECONDS:-5}
CONNS=${BENCH_CONNS:-32}
# BENCH_PIN=1: httpd (with the backend vhost) on core 0, wrk on core 1 when there are two cores: the client
# then never steals CPU from the server, and req/s measures the server's cost per request.
HTTPD_PIN=(); WRK_PIN=()
if [ "${BENCH_PIN:-0}" = 1 ] && [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
  HTTPD_PIN=(taskset -c 0); WRK_PIN=(taskset -c 1)
fi
THREADS=${BENCH_THREADS:-$([ ${#WRK_PIN[@]} -gt 0 ] && echo 1 || echo 2)}
MODULE=${BENCH_MODULE:-$ROOT/build/mod_authflow.so}
MODDIR=/usr/lib/apache2/modules
HTTPD=${HTTPD:-/usr/sbin/apache2}
PY=/usr/bin/python3
OUT=${BENCH_OUT:-$ROOT/build/bench}
mkdir -p "$OUT"

for bin in "$HTTPD" wrk curl openssl "$PY"; do
  command -v "$bin" >/dev/null || { echo "bench: $bin missing (make deps)" >&2; exit 2; }
done
[ -f "$MODULE" ] || { echo "bench: $MODULE missing (make)" >&2; exit 2; }
HAVE_OIDC=0
[ -f $MODDIR/mod_auth_openidc.so ] && HAVE_OIDC=1

WORK=$(mktemp -d /tmp/authflow-bench.XXXXXX)
chmod 755 "$WORK"
HTTPD_PID=""
cleanup() {
  local rc=$?
  if [ -n "$HTTPD_PID" ] && kill -0 "$HTTPD_PID" 2>/dev/null; then
    kill -TERM "$HTTPD_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$HTTPD_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$HTTPD_PID" 2>/dev/null || true
    wait "$HTTPD_PID" 2>/dev/null || true
  fi
  if [ $rc -ne 0 ] && [ -f "$WORK/error.log" ]; then
    echo "bench: failed; last lines of the error log:" >&2
    tail -20 "$WORK/error.log" >&2
  fi
  if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "bench: kept $WORK" >&2; else rm -rf "$WORK"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
BACK=$(free_port); FRONT=$(free_port); NOCACHE=$(free_port); HSV=$(free_port); OIDC=$(free_port)
JWKS=$(free_port)

# ---- keys, tokens, content -------------------------------------------------------------
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$WORK/es.pem" 2>/dev/null
# mod_auth_openidc 2.4.12 takes EC keys only from a JWKS over https (OIDCOAuthVerifyCertFiles
# handles RSA only and crashes on an EC certificate): a TLS vhost serves jwks.json
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/tls.key" \
  -out "$WORK/tls.crt" -subj /CN=127.0.0.1 -days 2 2>/dev/null
mkdir -p "$WORK/jwks"
"$PY" -c 'import json, sys; from jwcrypto import jwk
k = json.loads(jwk.JWK.from_pem(open(sys.argv[1], "rb").read()).export_public())
k.update(kid="bench-es", alg="ES256", use="sig"); print(json.dumps({"keys": [k]}))' \
  "$WORK/es.pem" >"$WORK/jwks/jwks.json"
head -c 48 /dev/urandom | base64 | tr -d '\n=+/' | head -c 48 >"$WORK/hs.secret"
chmod 600 "$WORK"/es.pem "$WORK"/hs.secret # secret files: others may not read them
chmod 644 "$WORK"/tls.key
ISS_ES=http://127.0.0.1:$FRONT
ISS_HS=http://127.0.0.1:$HSV
TOK_ES=$("$PY" bench/mint.py ES256 "$WORK/es.pem" bench-es "$ISS_ES")
TOK_HS=$("$PY" bench/mint.py HS256 "$WORK/hs.secret" bench-hs "$ISS_HS")
printf '%s\n' "$TOK_ES" >"$WORK/token-es256"
printf '%s\n' "$TOK_HS" >"$WORK/token-hs256"
for d in noauth es-cookie es-bearer hs oidc; do
  mkdir -p "$WORK/htdocs/$d"
  printf 'hello from the backend: a small static file of about one hundred bytes...........\n' \
    >"$WORK/htdocs/$d/small.txt"
done
RUNUSER=""
if [ "$(id -u)" = 0 ]; then
  RUNUSER="User www-data
Group www-data"
fi

# The directive that turns the verified-token cache off (server scope, src/httpd/config.c).
CACHE_OFF=${BENCH_CACHE_OFF:-"AuthFlowTokenCache off"}
GATE_COMMON="AuthFlowUnauthenticated 401
        Require valid-user"

cat >"$WORK/httpd.conf" <<EOF
ServerRoot "$WORK"
ServerName 127.0.0.1
PidFile $WORK/httpd.pid
DefaultRuntimeDir $WORK
Mutex file:$WORK default
ErrorLog $WORK/error.log
LogLevel warn
$RUNUSER
LoadModule mpm_event_module $MODDIR/mod_mpm_event.so
LoadModule authn_core_module $MODDIR/mod_authn_core.so
LoadModule authz_core_module $MODDIR/mod_authz_core.so
LoadModule authz_user_module $MODDIR/mod_authz_user.so
LoadModule mime_module $MODDIR/mod_mime.so
LoadModule proxy_module $MODDIR/mod_proxy.so
LoadModule proxy_http_module $MODDIR/mod_proxy_http.so
$( [ $HAVE_OIDC = 1 ] && printf '%s\n' "LoadModule ssl_module $MODDIR/mod_ssl.so" \
  "LoadModule socache_shmcb_module $MODDIR/mod_socache_shmcb.so" \
  "LoadModule auth_openidc_module $MODDIR/mod_auth_openidc.so" )
LoadModule authflow_module $MODULE
TypesConfig /etc/mime.types
Listen 127.0.0.1:$BACK
Listen 127.0.0.1:$FRONT
Listen 127.0.0.1:$NOCACHE
Listen 127.0.0.1:$HSV
$( [ $HAVE_OIDC = 1 ] && printf '%s\n' "Listen 127.0.0.1:$OIDC" "Listen 127.0.0.1:$JWKS" )
KeepAlive On
MaxKeepAliveRequests 0
KeepAliveTimeout 30
# enough threads for every client and backend connection: an overloaded event MPM closes idle
# keep-alive connections, which mod_proxy then finds dead (AH01102)
StartServers 2
ServerLimit 4
ThreadsPerChild 128
MaxRequestWorkers 256
MinSpareThreads 64
MaxSpareThreads 256
DocumentRoot $WORK/htdocs
<Directory />
    Require all denied
</Directory>

<VirtualHost 127.0.0.1:$BACK>
    DocumentRoot $WORK/htdocs
    <Directory $WORK/htdocs>
        Require all granted
    </Directory>
</VirtualHost>

<VirtualHost 127.0.0.1:$FRONT>
    AuthFlowBaseURL $ISS_ES
    AuthFlowSigningKey $WORK/es.pem kid=bench-es
    AuthFlowAccessTTL 2h
    AuthFlowCookiePrefix bench
    ProxyPass /noauth/ http://127.0.0.1:$BACK/noauth/
    ProxyPass /es-cookie/ http://127.0.0.1:$BACK/es-cookie/
    <Location /es-cookie/>
        AuthType AuthFlow
        AuthFlowTokenFrom cookie
        $GATE_COMMON
    </Location>
</VirtualHost>

# same issuer and key, verified-token cache off (AuthFlowTokenCache is per server)
<VirtualHost 127.0.0.1:$NOCACHE>
    AuthFlowBaseURL $ISS_ES
    AuthFlowSigningKey $WORK/es.pem kid=bench-es
    AuthFlowAccessTTL 2h
    AuthFlowCookiePrefix bench
    $CACHE_OFF
    ProxyPass /es-bearer/ http://127.0.0.1:$BACK/es-bearer/
    <Location /es-bearer/>
        AuthType AuthFlow
        AuthFlowTokenFrom bearer
        $GATE_COMMON
    </Location>
</VirtualHost>

<VirtualHost 127.0.0.1:$HSV>
    AuthFlowBaseURL $ISS_HS
    AuthFlowSigningKey $WORK/hs.secret kid=bench-hs alg=HS256
    AuthFlowAccessTTL 2h
    AuthFlowCookiePrefix bench
    $CACHE_OFF
    ProxyPass /hs/ http://127.0.0.1:$BACK/hs/
    <Location /hs/>
        AuthType AuthFlow
        AuthFlowTokenFrom bearer
        $GATE_COMMON
    </Location>
</VirtualHost>
EOF
if [ $HAVE_OIDC = 1 ]; then
  cat >>"$WORK/httpd.conf" <<EOF

<VirtualHost 127.0.0.1:$JWKS>
    SSLEngine on
    SSLCertificateFile $WORK/tls.crt
    SSLCertificateKeyFile $WORK/tls.key
    DocumentRoot $WORK/jwks
    <Directory $WORK/jwks>
        Require all granted
    </Directory>
</VirtualHost>

<VirtualHost 127.0.0.1:$OIDC>
    OIDCOAuthVerifyJwksUri https://127.0.0.1:$JWKS/jwks.json
    OIDCOAuthSSLValidateServer Off
    OIDCCryptoPassphrase bench-only-passphrase-0123456789
    OIDCCacheType shm
    ProxyPass /oidc/ http://127.0.0.1:$BACK/oidc/
    <Location /oidc/>
        AuthType oauth20
        Require valid-user
    </Location>
</VirtualHost>
EOF
fi
[ -n "${BENCH_EXTRA_CONF:-}" ] && cat "$BENCH_EXTRA_CONF" >>"$WORK/httpd.conf"

"$HTTPD" -f "$WORK/httpd.conf" -t >"$WORK/configtest.log" 2>&1 || {
  cat "$WORK/configtest.log" >&2; exit 1; }
"${HTTPD_PIN[@]}" "$HTTPD" -f "$WORK/httpd.conf" -DFOREGROUND >"$WORK/stdout.log" 2>&1 &
HTTPD_PID=$!
for _ in $(seq 100); do
  curl -s -o /dev/null "http://127.0.0.1:$BACK/noauth/small.txt" && break
  kill -0 "$HTTPD_PID" 2>/dev/null || { echo "bench: httpd died" >&2; exit 1; }
  sleep 0.1
done

# ---- scenarios: name|url|header ----------------------------------------------------------
COOKIE_NAME=${BENCH_COOKIE:-bench-at}
SCEN=(
  "proxy-noauth|http://127.0.0.1:$FRONT/noauth/small.txt|"
  "authflow cookie ES256 (cache warm)|http://127.0.0.1:$FRONT/es-cookie/small.txt|Cookie: $COOKIE_NAME=$TOK_ES"
  "authflow Bearer ES256 (cache off)|http://127.0.0.1:$NOCACHE/es-bearer/small.txt|Authorization: Bearer $TOK_ES"
  "authflow Bearer HS256 (cache off)|http://127.0.0.1:$HSV/hs/small.txt|Authorization: Bearer $TOK_HS"
)
[ $HAVE_OIDC = 1 ] && SCEN+=("mod_auth_openidc Bearer ES256|http://127.0.0.1:$OIDC/oidc/small.txt|Authorization: Bearer $TOK_ES")

if [ -n "${BENCH_ONLY:-}" ]; then # a regex on scenario names, e.g. to profile one of them
  keep=()
  for s in "${SCEN[@]}"; do [[ "${s%%|*}" =~ proxy-noauth|$BENCH_ONLY ]] && keep+=("$s"); done
  SCEN=("${keep[@]}")
fi

# Each scenario must really authenticate: 200 with the token, 401 without (except noauth).
for s in "${SCEN[@]}"; do
  IFS='|' read -r name url hdr <<<"$s"
  code=$(curl -s -o /dev/null -w '%{http_code}' ${hdr:+-H "$hdr"} "$url")
  [ "$code" = 200 ] || { echo "bench: $name: expected 200 with the token, got $code" >&2; exit 1; }
  if [ -n "$hdr" ]; then
    code=$(curl -s -o /dev/null -w '%{http_code}' "$url")
    [ "$code" = 401 ] || { echo "bench: $name: expected 401 without a token, got $code" >&2; exit 1; }
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "${hdr%?????}AAAAA" "$url")
    [ "$code" = 401 ] || { echo "bench: $name: expected 401 with a bad signature, got $code" >&2
                           exit 1; }
  fi
done
echo "bench: all scenarios answer 200 with the token and 401 without or with a bad signature"
LOG_MARK=$(wc -l <"$WORK/error.log")

run_wrk() { # url header seconds -> "req/s p99_ms non2xx"
  local out
  out=$("${WRK_PIN[@]}" wrk -t"$THREADS" -c"$CONNS" -d"$3"s --latency ${2:+-H "$2"} "$1" 2>&1)
  echo "$out" | "$PY" -c '
import re, sys
t = sys.stdin.read()
rps = re.search(r"Requests/sec:\s+([\d.]+)", t)
p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\b", t, re.M)
bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", t)
err = re.search(r"Socket errors:.*", t)
mult = {"us": 0.001, "ms": 1.0, "s": 1000.0}
print(rps.group(1) if rps else "0",
      "%.3f" % (float(p99.group(1)) * mult[p99.group(2)]) if p99 else "0",
      bad.group(1) if bad else "0", "1" if err else "0")'
}

RES=$WORK/results.tsv
: >"$RES"
echo "bench: warm-up"
for s in "${SCEN[@]}"; do
  IFS='|' read -r name url hdr <<<"$s"
  run_wrk "$url" "$hdr" 1 >/dev/null
done
for r in $(seq "$ROUNDS"); do
  for s in "${SCEN[@]}"; do
    IFS='|' read -r name url hdr <<<"$s"
    read -r rps p99 bad err <<<"$(run_wrk "$url" "$hdr" "$SECS")"
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$name" "$rps" "$p99" "$bad" "$err" >>"$RES"
    printf 'round %s  %-36s %10s req/s  p99 %8s ms%s\n' "$r" "$name" "$rps" "$p99" \
      "$([ "$bad" != 0 ] && echo "  NON-2xx: $bad")"
  done
done

# the checks above log refusals on purpose; the load runs must log nothing serious
if tail -n +"$((LOG_MARK + 1))" "$WORK/error.log" | grep -qE '\[[a-z_]*:(error|crit|alert|emerg)\]'
then
  echo "bench: errors in the httpd error log during the runs:" >&2
  tail -n +"$((LOG_MARK + 1))" "$WORK/error.log" | grep -E ':(error|crit|alert|emerg)\]' | head -5 >&2
fi

# ---- report ----------------------------------------------------------------------------------
{
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), nproc $(nproc);" \
       "$($HTTPD -v | sed -n 's/^Server version: //p'), event MPM;" \
       "wrk -t$THREADS -c$CONNS, $ROUNDS rounds x ${SECS}s per scenario, interleaved;" \
       "pinned: ${HTTPD_PIN[*]:-no} httpd, ${WRK_PIN[*]:-no} wrk"
  "$PY" - "$RES" <<'EOF'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
names = []
for r in rows:
    if r[1] not in names:
        names.append(r[1])
med = {}
failed = [r for r in rows if float(r[2]) <= 0]
rows = [r for r in rows if float(r[2]) > 0]  # a stalled round (0 req/s) is not a sample
for n in list(names):
    rs = [r for r in rows if r[1] == n]
    if not rs:
        names.remove(n)
        continue
    med[n] = (statistics.median(float(r[2]) for r in rs),
              statistics.median(float(r[3]) for r in rs),
              sum(int(r[4]) for r in rs), sum(int(r[5]) for r in rs))
if "proxy-noauth" not in med:
    sys.exit("bench: no valid proxy-noauth sample")
base = med["proxy-noauth"][0]
print()
print("| scenario | req/s (median) | p99 ms (median) | vs proxy-noauth |")
print("|---|---:|---:|---:|")
for n in names:
    rps, p99, bad, err = med[n]
    note = " (non-2xx: %d)" % bad if bad else ""
    print("| %s%s | %.0f | %.2f | %.3f |" % (n, note, rps, p99, rps / base))
if failed:
    print("\n%d stalled run(s) (0 req/s, machine overloaded) left out of the medians" % len(failed))
print()
def ratio(a, b):
    return med[a][0] / med[b][0] if a in med and b in med else None
checks = [
    ("cache warm >= 0.97x proxy-noauth", ratio("authflow cookie ES256 (cache warm)", "proxy-noauth"), 0.97),
    ("cache off ES256 >= 0.88x proxy-noauth", ratio("authflow Bearer ES256 (cache off)", "proxy-noauth"), 0.88),
    ("authflow ES256 (cache off) >= 1.25x mod_auth_openidc",
     ratio("authflow Bearer ES256 (cache off)", "mod_auth_openidc Bearer ES256"), 1.25),
    ("authflow ES256 (cache warm) vs mod_auth_openidc (info)",
     ratio("authflow cookie ES256 (cache warm)", "mod_auth_openidc Bearer ES256"), None),
]
print("targets:")
for label, v, want in checks:
    if v is None:
        print("  %s: n/a" % label)
    elif want is None:
        print("  %s: %.3f" % (label, v))
    else:
        print("  %s: %.3f %s" % (label, v, "MET" if v >= want else "MISSED"))
EOF
} | tee "$OUT/httpd.md"
