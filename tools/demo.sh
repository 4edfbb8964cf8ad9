#!/usr/bin/env bash
# Demo of the gate (until the OIDC login demo replaces it):
#   tools/demo.sh start   httpd (event MPM) with mod_authflow in front of an echo backend,
#                         on 127.0.0.1; prints the URL and a curl command with a token
#   tools/demo.sh token   print a fresh demo token (valid 10 minutes)
#   tools/demo.sh stop    stop httpd and the echo backend (by their pids)
# Everything lives in demo-run/ (gitignored).  Tokens are minted with jwcrypto.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
RUN=$REPO/demo-run
PY=/usr/bin/python3
export PYTHONPATH=$REPO/tests/integration

mint() {
  $PY - "$RUN" <<'PYEOF'
import json, sys
import tokens
from jwcrypto import jwk
run = sys.argv[1]
st = json.load(open(run + '/state.json'))
k = tokens.Key('ec', jwk.JWK.from_pem(open(run + '/keys/demo.pem', 'rb').read()).get_op_key('sign'),
               'demo-1', 'ES256')
c = tokens.claims(st['base'], st['base'], sub='demo-user', ttl=600,
                  email='demo@example.com', groups=['demo', 'ops'], name='Demo User')
print(tokens.mint(k, c))
PYEOF
}

start() {
  if [ -f "$RUN/run/httpd.pid" ] && kill -0 "$(cat "$RUN/run/httpd.pid")" 2>/dev/null; then
    echo "demo: already running (tools/demo.sh stop first)"; exit 0
  fi
  [ -f build/mod_authflow.so ] || { echo "demo: build first (make)"; exit 1; }
  rm -rf "$RUN"; mkdir -p "$RUN/keys" "$RUN/run" "$RUN/logs" "$RUN/htdocs"
  chmod 755 "$RUN" "$RUN/keys" "$RUN/htdocs"; chmod 777 "$RUN/run"
  $PY - "$RUN" <<'PYEOF'
import json, os, shutil, sys
import afharness, tokens
run = sys.argv[1]
# a private copy: `make` rewrites build/mod_authflow.so in place, which would crash us
shutil.copyfile(afharness.MODULE_SO, run + '/mod_authflow.so')
afharness._MODULE_COPY.append(run + '/mod_authflow.so')
k = tokens.gen_ec('P-256', kid='demo-1').write(run + '/keys', 'demo')
port, echo_port = afharness.free_port(), afharness.free_port()
base = 'http://127.0.0.1:%d' % port
body = '''
AuthFlowBaseURL %(base)s
AuthFlowSigningKey "%(key)s" kid=demo-1
<Location /app>
    AuthType AuthFlow
    Require valid-user
    AuthFlowExport header X-Auth-Email email
    AuthFlowExport header X-Auth-Groups groups join=,
    RequestHeader set X-Remote-User "%%{REMOTE_USER}e"
    ProxyPass "http://127.0.0.1:%(echo)d/app"
</Location>
''' % dict(base=base, key=k.files['pem'], echo=echo_port)
conf = afharness.render_conf(run, port, body, mpm='event')
open(run + '/httpd.conf', 'w').write(conf)
json.dump({'base': base, 'port': port, 'echo_port': echo_port}, open(run + '/state.json', 'w'))
PYEOF
  echo_port=$($PY -c "import json;print(json.load(open('$RUN/state.json'))['echo_port'])")
  base=$($PY -c "import json;print(json.load(open('$RUN/state.json'))['base'])")
  nohup $PY "$REPO/tests/integration/backends.py" echo "$echo_port" >"$RUN/logs/echo.log" 2>&1 &
  echo $! >"$RUN/run/echo.pid"
  /usr/sbin/apache2 -f "$RUN/httpd.conf" -k start
  for _ in $(seq 1 50); do
    curl -s -o /dev/null "$base/" && break
    sleep 0.1
  done
  tok=$(mint)
  cat <<MSG
demo: httpd with mod_authflow on $base (logs: demo-run/logs/error.log)

  without a token (API call -> 401, browser -> 302 to the login initiator):
    curl -i $base/app/hello
  with a demo access token (valid 10 minutes; fresh one: tools/demo.sh token):
    curl -s -H 'Authorization: Bearer $tok' $base/app/hello
  or as the cookie a browser would carry:
    curl -s --cookie 'authflow-at=$tok' $base/app/hello

  the echo backend answers with the headers it received (X-Remote-User, X-Auth-Email, ...)
  stop: tools/demo.sh stop
MSG
}

stop() {
  for f in "$RUN/run/httpd.pid" "$RUN/run/echo.pid"; do
    if [ -f "$f" ]; then
      pid=$(cat "$f")
      if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
      fi
      rm -f "$f"
    fi
  done
  echo "demo: stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  token) mint ;;
  *) echo "usage: $0 start|stop|token"; exit 2 ;;
esac
