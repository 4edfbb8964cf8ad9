#!/usr/bin/env bash
# bench/refresh.sh: refresh-token rotation and the revocation check, through real httpd.
#
# One httpd (event MPM, KeepAlive on, 127.0.0.1 only) with AuthFlowStore (full LMDB
# durability: one sync per commit, as shipped) and the real OpenID provider
# (tests/idp/provider.js) for the logins.  REFRESH_FAMILIES (32) users log in first.
#
#   rotations   wrk, one connection per thread and one login per connection, POSTs
#               /auth/refresh in a loop; a Lua script carries each response's successor
#               refresh cookie into the next request, so every request is a durable rotation
#               (a committed LMDB write transaction), never a grace replay.  Reported:
#               rotations per second (target >= 2,000/s) and the non-204 count (must be 0).
#   revocation  the gate on a small static file with a valid access token whose login exists:
#               /rev-on (AuthFlowCheckRevocation on: one LMDB read transaction per request) and
#               /rev-off (off), interleaved in BENCH_ROUNDS rounds of BENCH_SECONDS; the median
#               req/s of each and their ratio (target >= 0.98).
#   BENCH_SECONDS (5) BENCH_ROUNDS (5) BENCH_CONNS (32) REFRESH_FAMILIES (32) BENCH_KEEP=1
set -euo pipefail
cd "$(dirname "$0")/.."
for bin in wrk node /usr/sbin/apache2; do
  command -v "$bin" >/dev/null || { echo "bench/refresh: $bin missing (make deps)" >&2; exit 2; }
done
[ -f build/mod_authflow.so ] || { echo "bench/refresh: build/mod_authflow.so missing (make)" >&2; exit 2; }
[ -d tests/idp/node_modules ] || { echo "bench/refresh: tests/idp/node_modules missing (make deps)" >&2; exit 2; }

exec /usr/bin/python3 - "$@" <<'PYEOF'
import os, re, statistics, subprocess, sys, tempfile
sys.path.insert(0, os.path.join(os.getcwd(), 'tests', 'integration'))
import afharness, backends, tokens  # noqa: E402
from loginhelp import (BASIC_CLIENT, FixedHttpd, OidcProvider, full_login,  # noqa: E402
                       provider_block)

SECS = int(os.environ.get('BENCH_SECONDS', '5'))
ROUNDS = int(os.environ.get('BENCH_ROUNDS', '5'))
CONNS = int(os.environ.get('BENCH_CONNS', '32'))
FAMILIES = int(os.environ.get('REFRESH_FAMILIES', '32'))

LUA = r'''
local rts = {}
for line in io.lines(os.getenv("RT_FILE")) do rts[#rts + 1] = line end
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("rt", rts[counter])
  thread:set("origin", os.getenv("ORIGIN"))
end
function init(args)
  rt_name = os.getenv("RT_NAME")
end
function request()
  return wrk.format("POST", "/auth/refresh", {["Origin"] = origin,
                    ["Cookie"] = rt_name .. "=" .. rt}, nil)
end
function response(status, headers, body)
  local sc = headers["Set-Cookie"] or headers["set-cookie"]
  if status == 204 and sc then
    local v = sc:match("^" .. rt_name:gsub("%-", "%%-") .. "=([^;]+)")
    if v then rt = v end
  end
end
'''


def wrk(url, secs, conns, threads, script=None, env=None, headers=()):
    cmd = ['wrk', '-t%d' % threads, '-c%d' % conns, '-d%ds' % secs, '--latency']
    for h in headers:
        cmd += ['-H', h]
    if script:
        cmd += ['-s', script]
    out = subprocess.run(cmd + [url], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, env=dict(os.environ, **(env or {})), timeout=secs + 60).stdout
    m = re.search(r'Requests/sec:\s+([\d.]+)', out)
    bad = re.search(r'Non-2xx or 3xx responses:\s+(\d+)', out)
    errs = re.search(r'Socket errors:.*', out)
    return float(m.group(1)) if m else 0.0, int(bad.group(1)) if bad else 0, \
        errs.group(0) if errs else '', out


work = tempfile.mkdtemp(prefix='authflow-bench-refresh.')
os.chmod(work, 0o755)
keys = tokens.gen_ec('P-256', kid='bench').write(work, 'ec256')
with open(os.path.join(work, 'small.txt'), 'w') as f:
    f.write('ok\n')
os.chmod(os.path.join(work, 'small.txt'), 0o644)
port = afharness.free_port()
base = 'http://127.0.0.1:%d' % port
idp = OidcProvider(alg='ES256', redirect_uris=[base + '/auth/callback'])
srv = None
try:
    body = '''
AuthFlowBaseURL @BASE@
AuthFlowStore "@ROOT@/store"
AuthFlowSigningKey "%(key)s" kid=bench
AuthFlowAccessTTL 1h
AuthFlowReuseGrace 10s
KeepAlive On
MaxKeepAliveRequests 0
%(prov)s
<Location /auth>
    SetHandler authflow
</Location>
Alias /rev-on "%(small)s"
Alias /rev-off "%(small)s"
<Location /rev-on>
    AuthType AuthFlow
    Require valid-user
    AuthFlowCheckRevocation on
</Location>
<Location /rev-off>
    AuthType AuthFlow
    Require valid-user
    AuthFlowCheckRevocation off
</Location>
<Location /app>
    AuthType AuthFlow
    Require valid-user
</Location>
''' % dict(key=keys.files['pem'], prov=provider_block('idp', idp.issuer, client=BASIC_CLIENT),
           small=os.path.join(work, 'small.txt'))
    srv = FixedHttpd('bench-refresh', body, port, loglevel='warn')
    srv.start()
    rts, ats = [], []
    for i in range(FAMILIES):
        lg = full_login(srv, 'idp', '/app', username='bench%d' % i)
        assert lg.ok, lg.cb_resp.status_code
        rt_name, rt = lg.browser.get('rt')
        at_name, at = lg.browser.get('at')
        rts.append(rt)
        ats.append(at)
    rt_file = os.path.join(work, 'rts.txt')
    with open(rt_file, 'w') as f:
        f.write('\n'.join(rts) + '\n')
    script = os.path.join(work, 'refresh.lua')
    with open(script, 'w') as f:
        f.write(LUA)
    env = {'RT_FILE': rt_file, 'RT_NAME': rt_name, 'ORIGIN': base}
    rps, bad, errs, out = wrk(base + '/auth/refresh', SECS, FAMILIES, FAMILIES, script, env)
    print('rotations: %.0f durable rotations/s through httpd (%d connections, one login each, '
          '%ds), non-204: %d %s' % (rps, FAMILIES, SECS, bad, errs))
    p = subprocess.run([os.path.join(os.getcwd(), 'build', 'authflowctl'), '--store',
                        srv.root + '/store', 'stats'], stdout=subprocess.PIPE, text=True)
    print('  ' + '\n  '.join(l for l in p.stdout.splitlines() if re.search(r'rotation|reuse', l)))

    cookie = 'Cookie: %s=%s' % (at_name, ats[0])
    on, off = [], []
    for r in range(ROUNDS):
        for name, acc in (('rev-on', on), ('rev-off', off)) if r % 2 == 0 else \
                (('rev-off', off), ('rev-on', on)):
            v, bad, errs, out = wrk(base + '/' + name, SECS, CONNS, 2, headers=[cookie])
            if bad:
                raise SystemExit('bench/refresh: %s answered %d non-2xx' % (name, bad))
            acc.append(v)
    mon, moff = statistics.median(on), statistics.median(off)
    print('revocation check: on %.0f req/s, off %.0f req/s (median of %d rounds of %ds, '
          'interleaved); ratio on/off = %.3f (target >= 0.98)' % (mon, moff, ROUNDS, SECS,
                                                                 mon / moff))
finally:
    if srv is not None:
        srv.stop()
    idp.stop()
    if os.environ.get('BENCH_KEEP') != '1':
        subprocess.run(['rm', '-rf', work])
        if srv is not None:
            srv.cleanup_dir()
PYEOF
