#!/usr/bin/env bash
# The login demo (issue 4):
#   tools/demo_login.sh start   the real OpenID provider (oidc-provider, tests/idp/provider.js)
#                               on http://127.0.0.1:P, Apache with mod_authflow and a demo
#                               backend page (a CGI showing the claims it received) on
#                               http://localhost:Q; prints the URL to open and the demo users
#   tools/demo_login.sh stop    stop everything it started, by pid (and the PostgreSQL
#                               cluster of the shared mode by its directory)
# It installs nothing (make deps did) and builds nothing (make did).  Everything lives in
# demo-run/ (gitignored).  The IdP and the app are on different host names (127.0.0.1 and
# localhost), so the browser treats them as different sites, as in production.
#
# Shared mode (DEMO_SHARED=1, `make demo-shared`; issue 12): two Apache hosts A and B with
# the same configuration and one PostgreSQL store (tools/pg-test.sh, in $RUN/pg), the same
# AuthFlowSecretFile ($RUN/secret.key, 48 random bytes) and AuthFlowSigningKey
# ($RUN/signing-key.pem, P-256), AuthFlowRevocationDelay 1s, behind a third Apache running
# mod_proxy_balancer (round robin, no stickiness) on the app port: http://localhost:Q is the
# balancer, the public origin (AuthFlowBaseURL of A and B) and the IdP's redirect_uri.  Each
# host has its own ServerRoot, pid file, runtime dir and logs ($RUN/a, $RUN/b, $RUN/lb).  The
# demo page shows which host served it (#served-by: the host's port, SERVER_PORT) and every
# answer of A and B carries X-Served-By: <port>.  state.json adds port_a / port_b.
#
# Environment (used by tests/e2e/run.sh): DEMO_RUN (directory, default demo-run),
# DEMO_PORT / DEMO_IDP_PORT (default: free ports), DEMO_EXTRA_CONF (extra server config,
# on both hosts in shared mode), DEMO_SHARED (1: shared mode).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
RUN=${DEMO_RUN:-$REPO/demo-run}
PY=/usr/bin/python3
MODDIR=/usr/lib/apache2/modules
STARTED=0

free_port() {
  $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

stop_pid() {  # stop_pid FILE: TERM, wait, then KILL the pid in FILE
  local f=$1 pid
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

write_cgi() {
  cat >"$RUN/cgi/app.cgi" <<'PYEOF'
#!/usr/bin/python3
# Demo backend: shows what mod_authflow handed to it (REMOTE_USER and the AUTHFLOW_*
# variables).  It never sees a token: the login cookies are not passed to it.
import html
import os
import time
import urllib.parse

# a slow page (a report, a long poll): ?sleep=SECONDS, at most 30 (the browser tests use it)
q = urllib.parse.parse_qs(os.environ.get('QUERY_STRING', ''))
if 'sleep' in q:
    time.sleep(min(float(q['sleep'][0]), 30.0))

rows = [(k, os.environ[k]) for k in sorted(os.environ)
        if k == 'REMOTE_USER' or k.startswith('AUTHFLOW_')]
user = os.environ.get('AUTHFLOW_CLAIM_NAME') or os.environ.get('REMOTE_USER', '?')
# shared mode: which Apache host answered (behind the balancer, SERVER_PORT is the host's port)
served = ''
if os.environ.get('DEMO_HOST'):
    served = ('<p>Served by host <b id="served-by-host">%s</b> (port <span id="served-by">%s'
              '</span>) behind the load balancer.</p>\n'
              % (html.escape(os.environ['DEMO_HOST']),
                 html.escape(os.environ.get('SERVER_PORT', '?'))))
body = ''.join('<tr><th>%s</th><td id="%s">%s</td></tr>\n'
               % (html.escape(k), html.escape(k.lower()), html.escape(v)) for k, v in rows)
print('Content-Type: text/html; charset=utf-8')
print('Cache-Control: no-store')
print()
print('''<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>mod_authflow demo</title>
<style>body{font-family:sans-serif;max-width:50em;margin:2em auto}
th{text-align:left;padding-right:1em;font-family:monospace}td{font-family:monospace}
tr:nth-child(odd){background:#f3f3f3}</style></head><body>
<h1>Hello, %s</h1>
%s<p>This page is a CGI behind <code>AuthType AuthFlow</code>. It received these
variables from mod_authflow (path <code>%s</code>):</p>
<table id="claims">
%s</table>
<p><a href="/auth/session">/auth/session</a> (the login as JSON, no tokens)</p>
</body></html>''' % (html.escape(user), served, html.escape(os.environ.get('PATH_INFO', '/')), body))
PYEOF
  chmod 755 "$RUN/cgi/app.cgi"
}

user_lines() {
  if [ "$(id -u)" = 0 ]; then echo $'User nobody\nGroup nogroup'; fi
}

# write_conf PORT IDP_PORT [ROOT BASE_URL STORE_CONF]: an app host.  Single mode: ROOT is
# $RUN, the base URL http://localhost:PORT and the store an LMDB directory.  Shared mode: one
# ROOT per host, the balancer's origin as base URL, STORE_CONF the shared-store lines.
write_conf() {
  local port=$1 idp=$2 root=${3:-$RUN} base=${4:-http://localhost:$1}
  local store_conf=${5:-AuthFlowStore \"$RUN/store\"} user_lines
  user_lines=$(user_lines)
  cat >"$root/httpd.conf" <<EOF
# generated by tools/demo_login.sh
ServerRoot "$root"
ServerName localhost
Listen 127.0.0.1:$port
PidFile "$root/run/httpd.pid"
DefaultRuntimeDir "$root/run"
LoadModule mpm_event_module $MODDIR/mod_mpm_event.so
LoadModule authn_core_module $MODDIR/mod_authn_core.so
LoadModule authz_core_module $MODDIR/mod_authz_core.so
LoadModule authz_user_module $MODDIR/mod_authz_user.so
LoadModule alias_module $MODDIR/mod_alias.so
LoadModule cgid_module $MODDIR/mod_cgid.so
LoadModule mime_module $MODDIR/mod_mime.so
LoadModule headers_module $MODDIR/mod_headers.so
LoadModule env_module $MODDIR/mod_env.so
LoadModule authflow_module "$RUN/mod_authflow.so"
$user_lines
ErrorLog "$root/logs/error.log"
LogLevel info authflow:debug
TypesConfig /etc/mime.types
DocumentRoot "$RUN/htdocs"
ScriptSock "$root/run/cgid.sock"
<Directory "$RUN/htdocs">
    Require all granted
</Directory>

AuthFlowBaseURL $base
$store_conf
AuthFlowAccessTTL 10m
${DEMO_EXTRA_CONF:-}

<AuthFlowProvider demo>
    Issuer            http://127.0.0.1:$idp
    ClientID          authflow-basic
    ClientSecret      authflow-basic-secret-0123456789abcdef
    TokenEndpointAuth client_secret_basic
    Scope             "openid email profile groups"
</AuthFlowProvider>

<Location /auth>
    SetHandler authflow
</Location>

RedirectMatch 302 ^/$ /app/
ScriptAliasMatch ^/app(/.*)?\$ "$RUN/cgi/app.cgi\$1"
<Directory "$RUN/cgi">
    Options +ExecCGI
    Require all granted
</Directory>
<Location /app>
    AuthType AuthFlow
    AuthFlowLogin demo
    Require valid-user
</Location>
EOF
}

# write_lb_conf PORT ROOT MEMBER_PORT...: the load balancer (mod_proxy_balancer, round robin,
# no stickiness) in front of the app hosts.  No ProxyPreserveHost: a host sees its own
# address in Host, so its SERVER_PORT names it.
write_lb_conf() {
  local port=$1 root=$2 members="" p user_lines
  shift 2
  for p in "$@"; do members+="    BalancerMember \"http://127.0.0.1:$p\""$'\n'; done
  user_lines=$(user_lines)
  cat >"$root/httpd.conf" <<EOF
# generated by tools/demo_login.sh (shared mode: the load balancer)
ServerRoot "$root"
ServerName localhost
Listen 127.0.0.1:$port
PidFile "$root/run/httpd.pid"
DefaultRuntimeDir "$root/run"
LoadModule mpm_event_module $MODDIR/mod_mpm_event.so
LoadModule authz_core_module $MODDIR/mod_authz_core.so
LoadModule slotmem_shm_module $MODDIR/mod_slotmem_shm.so
LoadModule proxy_module $MODDIR/mod_proxy.so
LoadModule proxy_http_module $MODDIR/mod_proxy_http.so
LoadModule proxy_balancer_module $MODDIR/mod_proxy_balancer.so
LoadModule lbmethod_byrequests_module $MODDIR/mod_lbmethod_byrequests.so
$user_lines
ErrorLog "$root/logs/error.log"
LogLevel info
<Proxy "balancer://site">
$members    ProxySet lbmethod=byrequests
</Proxy>
ProxyPass "/" "balancer://site/"
ProxyPassReverse "/" "balancer://site/"
EOF
}

wait_http() {  # wait_http URL SECONDS
  local i
  for i in $(seq 1 $(($2 * 10))); do
    if curl -s -o /dev/null --max-time 2 "$1"; then return 0; fi
    sleep 0.1
  done
  return 1
}

start_idp() {  # start_idp PORT APP_ORIGIN
  node tests/idp/provider.js --port "$1" --redirect-uri "$2/auth/callback" \
    >"$RUN/logs/idp.log" 2>&1 &
  echo $! >"$RUN/run/idp.pid"
  for _ in $(seq 1 300); do
    grep -q '^READY' "$RUN/logs/idp.log" && break
    kill -0 "$(cat "$RUN/run/idp.pid")" 2>/dev/null || { cat "$RUN/logs/idp.log"; exit 1; }
    sleep 0.1
  done
  grep -q '^READY' "$RUN/logs/idp.log" || { echo "demo: IdP did not start"; exit 1; }
}

start_httpd() {  # start_httpd ROOT HEALTH_URL
  if ! APACHE_LOCK_DIR=/tmp /usr/sbin/apache2 -f "$1/httpd.conf" -k start; then
    echo "demo: apache2 did not start; see $1/logs/error.log"; exit 1
  fi
  if ! wait_http "$2" 30; then
    echo "demo: apache2 is not answering; see $1/logs/error.log"; exit 1
  fi
}

running() {
  local f
  for f in "$RUN/run/httpd.pid" "$RUN/lb/run/httpd.pid"; do
    if [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null; then return 0; fi
  done
  return 1
}

start() {
  if running; then
    echo "demo: already running ($0 stop first)"; exit 0
  fi
  [ -f build/mod_authflow.so ] || { echo "demo: build first (make)"; exit 1; }
  [ -d tests/idp/node_modules ] || { echo "demo: tests/idp/node_modules missing (make deps)"; exit 1; }
  rm -rf "$RUN"
  mkdir -p "$RUN/run" "$RUN/logs" "$RUN/htdocs" "$RUN/cgi"
  chmod 755 "$RUN" "$RUN/htdocs" "$RUN/cgi"; chmod 777 "$RUN/run"
  # whatever fails from here on (or an interrupt): stop what was started
  trap '[ "$STARTED" = 1 ] || stop >/dev/null 2>&1' EXIT
  trap 'exit 1' INT TERM
  # a private copy: `make` rewrites build/mod_authflow.so in place
  cp build/mod_authflow.so "$RUN/mod_authflow.so"; chmod 755 "$RUN/mod_authflow.so"
  write_cgi
  if [ "${DEMO_SHARED:-}" = 1 ]; then start_shared; else start_single; fi
  STARTED=1
}

start_single() {
  local port=${DEMO_PORT:-$(free_port)} idp=${DEMO_IDP_PORT:-$(free_port)}
  local app="http://localhost:$port"
  start_idp "$idp" "$app"
  write_conf "$port" "$idp"
  start_httpd "$RUN" "$app/auth/jwks.json"
  printf '{"app": "%s", "idp": "http://127.0.0.1:%s", "port": %s, "idp_port": %s}\n' \
    "$app" "$idp" "$port" "$idp" >"$RUN/state.json"
  cat <<MSG
demo: running (logs in ${RUN#$REPO/}/logs/)

  open  $app/app/

  identity provider: http://127.0.0.1:$idp (oidc-provider; any password)
  demo users:  alice  (alice@example.com, verified, groups ops, dev)
               bob    (bob@example.com, email not verified: not exported)
  the page shows the claims the backend received; $app/auth/session shows the login

  stop: make demo-stop  (or: $0 stop)
MSG
}

start_shared() {
  local port=${DEMO_PORT:-$(free_port)} idp=${DEMO_IDP_PORT:-$(free_port)}
  local port_a port_b h
  port_a=$(free_port); port_b=$(free_port)
  local app="http://localhost:$port"
  # the shared store: a throw-away PostgreSQL 15 (the module creates its schema at startup)
  tools/pg-test.sh start "$RUN/pg" >/dev/null || { echo "demo: PostgreSQL did not start"; exit 1; }
  # the same secret and signing key on every host (files only root and the owner can read)
  (umask 077; head -c 48 /dev/urandom >"$RUN/secret.key")
  chmod 600 "$RUN/secret.key"
  (umask 077; openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
    -out "$RUN/signing-key.pem" 2>/dev/null)
  chmod 600 "$RUN/signing-key.pem"
  start_idp "$idp" "$app"
  for h in a b; do
    mkdir -p "$RUN/$h/run" "$RUN/$h/logs"
    chmod 755 "$RUN/$h"; chmod 777 "$RUN/$h/run"
  done
  write_conf "$port_a" "$idp" "$RUN/a" "$app" "$(shared_conf A)"
  write_conf "$port_b" "$idp" "$RUN/b" "$app" "$(shared_conf B)"
  start_httpd "$RUN/a" "http://127.0.0.1:$port_a/auth/jwks.json"
  start_httpd "$RUN/b" "http://127.0.0.1:$port_b/auth/jwks.json"
  mkdir -p "$RUN/lb/run" "$RUN/lb/logs"
  chmod 755 "$RUN/lb"; chmod 777 "$RUN/lb/run"
  write_lb_conf "$port" "$RUN/lb" "$port_a" "$port_b"
  start_httpd "$RUN/lb" "$app/auth/jwks.json"
  printf '{"app": "%s", "idp": "http://127.0.0.1:%s", "port": %s, "idp_port": %s, "shared": true, "port_a": %s, "port_b": %s}\n' \
    "$app" "$idp" "$port" "$idp" "$port_a" "$port_b" >"$RUN/state.json"
  cat <<MSG
demo: running, shared mode (logs in ${RUN#$REPO/}/{a,b,lb}/logs/, PostgreSQL in ${RUN#$REPO/}/pg/)

  open  $app/app/

  the load balancer ($app, round robin, no stickiness) in front of
    host A  http://127.0.0.1:$port_a
    host B  http://127.0.0.1:$port_b
  both with the same PostgreSQL store, secret file and signing key; each page says which
  host served it: reload it and the host changes, the login stays

  identity provider: http://127.0.0.1:$idp (oidc-provider; any password)
  demo users:  alice  (alice@example.com, verified, groups ops, dev)
               bob    (bob@example.com, email not verified: not exported)

  stop: make demo-stop  (or: $0 stop)
MSG
}

shared_conf() {  # shared_conf HOST_NAME: the store lines of a host in shared mode
  cat <<EOF
AuthFlowStore "$(cat "$RUN/pg/uri")"
AuthFlowSecretFile "$RUN/secret.key"
AuthFlowSigningKey "$RUN/signing-key.pem" kid=demo-shared-1
AuthFlowRevocationDelay 1s
SetEnv DEMO_HOST $1
Header always set X-Served-By "expr=%{SERVER_PORT}"
EOF
}

stop_pg() {  # the cluster of $RUN/pg, by its directory (pg_ctl), else by the postmaster's pid
  local d=$RUN/pg pid
  [ -f "$d/data/postmaster.pid" ] || return 0
  tools/pg-test.sh halt "$d" >/dev/null 2>&1 || true
  if [ -f "$d/data/postmaster.pid" ]; then
    pid=$(head -n 1 "$d/data/postmaster.pid")
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill -INT "$pid" 2>/dev/null || true
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -rf "$d/data"  # keep $d/log
}

stop() {
  local f
  # the balancer first, then the hosts, the IdP and the database
  for f in "$RUN/lb/run/httpd.pid" "$RUN/a/run/httpd.pid" "$RUN/b/run/httpd.pid" \
           "$RUN/run/httpd.pid"; do
    stop_pid "$f"
  done
  stop_pid "$RUN/run/idp.pid"
  stop_pg
  echo "demo: stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop"; exit 2 ;;
esac
