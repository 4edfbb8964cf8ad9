#!/usr/bin/env bash
# Browser tests (make e2e): Debian chromium driven by playwright-core through a real login.
#   - the real OpenID provider on http://127.0.0.1:P and Apache + mod_authflow + the demo
#     backend on http://localhost:Q (two host names: two sites, so SameSite is real; F03),
#     both started by tools/demo_login.sh into tests/artifacts/e2e/run-<pid>-* (one
#     directory per run, so concurrent runs do not stop each other's servers);
#   - a second instance with AuthFlowCookieSameSite Strict, a third with AuthFlowReuseGrace 1s
#     (a slow XHR must not log the other tab out, hardening item 2);
#   - a fourth in shared mode (issue 12): hosts A and B on one PostgreSQL store behind a
#     round-robin mod_proxy_balancer on http://localhost:R (tools/demo_login.sh, DEMO_SHARED=1);
#   - a fifth with a Type password provider over mod_authn_file (issue 14: the password form)
#     and Kakao / Naver presets that only the chooser uses (issue 16: pages.test.mjs);
#   - a sixth for Sign in with Apple (issue 13): tests/e2e/apple_site.py -- the Apple-shaped
#     IdP (form_post) on http://127.0.0.1:P and Preset apple on http://localhost:Q;
#   - node --test tests/e2e/*.test.mjs (TAP summary on stdout); screenshots in
#     tests/artifacts/e2e/ (gitignored).
#   E2E_ONLY=tests/e2e/NAME.test.mjs runs one file (all instances still start)
# Every server is stopped by its pid (trap), also on failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
ART=$REPO/tests/artifacts/e2e
mkdir -p "$ART"

if [ ! -d tests/e2e/node_modules/playwright-core ]; then
  echo "e2e: tests/e2e/node_modules missing (make deps runs npm ci)"; exit 1
fi
[ -x /usr/bin/chromium ] || { echo "e2e: /usr/bin/chromium missing (make deps)"; exit 1; }

instances=()
apple_pid= apple_dir=
cleanup() {
  rm -f "$ART/run-$$-password.htpasswd"
  if [ -n "$apple_pid" ]; then
    kill "$apple_pid" 2>/dev/null || true; wait "$apple_pid" 2>/dev/null || true
    [ "${E2E_KEEP:-}" ] || [ "$rc" != 0 ] || rm -rf "$apple_dir" "$apple_dir.log"
  fi
  for d in "${instances[@]}"; do
    DEMO_RUN=$d tools/demo_login.sh stop >/dev/null 2>&1 || true
    [ "${E2E_KEEP:-}" ] || [ "$rc" != 0 ] || rm -rf "$d"
  done
}
rc=0
trap cleanup EXIT INT TERM

state() { /usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1/state.json" "$2"; }

start_instance() {  # start_instance NAME EXTRA_CONF [shared]
  local d=$ART/run-$$-$1 shared=
  if [ "${3:-}" = shared ]; then shared=1; fi
  instances+=("$d")
  if ! DEMO_RUN=$d DEMO_EXTRA_CONF=$2 DEMO_SHARED=$shared tools/demo_login.sh start \
      >"$d.start.log" 2>&1; then
    cat "$d.start.log"; rc=1; exit 1
  fi
  rm -f "$d.start.log" 
}

start_instance lax 'AuthFlowCookieSameSite Lax'
start_instance strict 'AuthFlowCookieSameSite Strict'
start_instance slow 'AuthFlowReuseGrace 1s'
start_instance shared '' shared
# the password form: an htpasswd -B file readable by the children, one provider over it
htpasswd -cbB "$ART/run-$$-password.htpasswd" alice 'Alice-Staff-Pass-1' >/dev/null 2>&1
chmod 644 "$ART/run-$$-password.htpasswd"
start_instance password "LoadModule authn_file_module /usr/lib/apache2/modules/mod_authn_file.so
<AuthFlowProvider staff>
    Type password
    AuthnProvider file
    Throttle 20 15m
    DisplayName \"Staff sign-in\"
    DisplayName ko \"직원 로그인\"
</AuthFlowProvider>
<AuthFlowProvider kakao>
    Preset kakao
    Issuer http://127.0.0.1:9
    ClientID e2e-kakao
    ClientSecret e2e-kakao-secret
</AuthFlowProvider>
<AuthFlowProvider naver>
    Preset naver
    AuthorizationEndpoint http://127.0.0.1:9/authorize
    TokenEndpoint http://127.0.0.1:9/token
    UserinfoEndpoint http://127.0.0.1:9/userinfo
    ClientID e2e-naver
    ClientSecret e2e-naver-secret
</AuthFlowProvider>
<Location /auth>
    AuthUserFile \"$ART/run-$$-password.htpasswd\"
</Location>
# a page that a signed-in staff account may not see (pages.test.mjs: the 403 page)
<If \"%{REQUEST_URI} =~ m#^/app/ops#\">
    AuthzSendForbiddenOnFailure On
    Require authflow \"'ops' in groups\"
</If>"

apple_dir=$ART/run-$$-apple
/usr/bin/python3 tests/e2e/apple_site.py "$apple_dir" >"$apple_dir.log" 2>&1 &
apple_pid=$!
for _ in $(seq 120); do [ -f "$apple_dir/state.json" ] && break; kill -0 "$apple_pid" 2>/dev/null || break; sleep 0.5; done
[ -f "$apple_dir/state.json" ] || { cat "$apple_dir.log"; rc=1; exit 1; }
export E2E_APPLE_APP E2E_APPLE_IDP
E2E_APPLE_APP=$(state "$apple_dir" app)
E2E_APPLE_IDP=$(state "$apple_dir" idp)

export E2E_APP E2E_IDP E2E_STRICT_APP E2E_STRICT_IDP E2E_SLOW_APP E2E_SLOW_IDP E2E_ARTIFACTS=$ART
E2E_APP=$(state "$ART/run-$$-lax" app)
E2E_IDP=$(state "$ART/run-$$-lax" idp)
E2E_STRICT_APP=$(state "$ART/run-$$-strict" app)
E2E_STRICT_IDP=$(state "$ART/run-$$-strict" idp)
E2E_SLOW_APP=$(state "$ART/run-$$-slow" app)
E2E_SLOW_IDP=$(state "$ART/run-$$-slow" idp)
export E2E_PW_APP
E2E_PW_APP=$(state "$ART/run-$$-password" app)
export E2E_SHARED_APP E2E_SHARED_IDP E2E_SHARED_PORT_A E2E_SHARED_PORT_B
E2E_SHARED_APP=$(state "$ART/run-$$-shared" app)
E2E_SHARED_IDP=$(state "$ART/run-$$-shared" idp)
E2E_SHARED_PORT_A=$(state "$ART/run-$$-shared" port_a)
E2E_SHARED_PORT_B=$(state "$ART/run-$$-shared" port_b)
echo "e2e: app $E2E_APP, IdP $E2E_IDP; Strict variant app $E2E_STRICT_APP"
echo "e2e: Sign in with Apple: app $E2E_APPLE_APP, Apple-shaped IdP $E2E_APPLE_IDP"
echo "e2e: shared store: balancer $E2E_SHARED_APP over hosts :$E2E_SHARED_PORT_A and :$E2E_SHARED_PORT_B"

NODE_PATH=$REPO/tests/e2e/node_modules node --test --test-reporter=tap ${E2E_ONLY:-tests/e2e/} || rc=$?
if [ $rc -ne 0 ]; then
  for d in "${instances[@]}"; do
    for f in "$d"/logs/error.log "$d"/*/logs/error.log; do
      [ -f "$f" ] || continue
      echo "---- $f (tail)"; tail -n 30 "$f" || true
    done
  done
fi
echo "e2e: screenshots in ${ART#$REPO/}/"
exit $rc
