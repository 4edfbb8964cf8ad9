#!/usr/bin/python3
"""bench/login_bench.py (run by bench/login.sh): complete interactive logins through httpd.

The real OpenID provider (tests/idp/provider.js, oidc-provider, ES256) and one httpd (event
MPM, 127.0.0.1 only) with mod_authflow: AuthFlowStore, the handler at /auth, a small static
file at /app behind `AuthType AuthFlow`.  LOGIN_N (60) logins by LOGIN_WORKERS (4) threads,
each a new browser (no cookies) doing

    GET /app -> 302 /auth/login -> 302 IdP /authorize -> IdP login form + consent form
    -> 302 /auth/callback?code=... -> 302 /app -> 200

Reported: completed logins per second (wall clock over all workers); per phase the median
and p90 of the client-side time: our two redirects (/app, /auth/login), the IdP's requests
(each request the browser makes to the IdP), the callback (GET /auth/callback only: it
includes our code exchange at the IdP's token endpoint, the id_token check, the LMDB write,
the access-token signature) and the final GET /app.  The IdP's token endpoint is also timed
directly: LOGIN_DIRECT (20) authorization-code exchanges done by this script itself as the
client (same client, PKCE S256, client_secret_basic), after walking the same forms.

Every server is stopped by its pid (finally).  LOGIN_MD=FILE appends the table as markdown.
"""
import base64
import concurrent.futures
import hashlib
import os
import platform
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, 'tests', 'integration'))
import requests  # noqa: E402

import afharness  # noqa: E402
import tokens  # noqa: E402
from loginhelp import (BASIC_CLIENT, Browser, FixedHttpd, OidcProvider, callback,  # noqa: E402
                       describe, get, provider_block, start, walk_login)

N = int(os.environ.get('LOGIN_N', '60'))
WORKERS = int(os.environ.get('LOGIN_WORKERS', '4'))
DIRECT = int(os.environ.get('LOGIN_DIRECT', '20'))
WARMUP = int(os.environ.get('LOGIN_WARMUP', '3'))
SEQ = int(os.environ.get('LOGIN_SEQ', '20'))


def pct(xs, q):
    xs = sorted(xs)
    if not xs:
        return float('nan')
    k = (len(xs) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def ms(x):
    return x * 1000.0


class Timings:
    def __init__(self):
        self.lock = threading.Lock()
        self.d = {}

    def add(self, key, v):
        with self.lock:
            self.d.setdefault(key, []).append(v)


def one_login(srv, idx, tm):
    """One complete login by a fresh browser; the timings go to tm."""
    b = Browser()
    idp = requests.Session()
    idp_times = []
    idp.hooks['response'].append(lambda r, *a, **k: idp_times.append(r.elapsed.total_seconds()))
    t_begin = time.perf_counter()
    t0 = time.perf_counter()
    r, auth = start(srv, b, '/app')                    # /app -> /auth/login -> IdP
    t_start = time.perf_counter() - t0
    if not auth:
        raise RuntimeError('login %d: /app did not lead to the IdP (%d)' % (idx, r.status_code))
    t0 = time.perf_counter()
    cb_url = walk_login(idp, auth, username='bench%d' % idx)
    t_idp = time.perf_counter() - t0
    t0 = time.perf_counter()
    cb = callback(srv, b, cb_url)
    t_cb = time.perf_counter() - t0
    if cb.status_code not in (302, 303) or not b.get('at')[1]:
        tm.add('failed', 'callback %s' % describe(cb))
        return
    t0 = time.perf_counter()
    app = get(srv, '/app', b)
    t_app = time.perf_counter() - t0
    if app.status_code != 200:
        raise RuntimeError('login %d: /app after login answered %d' % (idx, app.status_code))
    tm.add('start', t_start)
    tm.add('idp_walk', t_idp)
    for x in idp_times:
        tm.add('idp_req', x)
    tm.add('idp_reqs_per_login', len(idp_times))
    tm.add('callback', t_cb)
    tm.add('app', t_app)
    tm.add('total', time.perf_counter() - t_begin)


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b'=').decode()


def direct_token_times(idp, redirect_uri, n):
    """Time the IdP's token endpoint directly: this script is the client."""
    meta = requests.get(idp.issuer + '/.well-known/openid-configuration', timeout=10).json()
    out = []
    for i in range(n):
        verifier = b64u(secrets.token_bytes(32))
        q = {'response_type': 'code', 'client_id': BASIC_CLIENT[0],
             'redirect_uri': redirect_uri, 'scope': 'openid email profile',
             'state': b64u(secrets.token_bytes(16)), 'nonce': b64u(secrets.token_bytes(16)),
             'code_challenge': b64u(hashlib.sha256(verifier.encode()).digest()),
             'code_challenge_method': 'S256'}
        s = requests.Session()
        back = walk_login(s, meta['authorization_endpoint'] + '?' + urllib.parse.urlencode(q),
                          username='direct%d' % i)
        code = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(back).query))['code']
        t0 = time.perf_counter()
        r = requests.post(meta['token_endpoint'], auth=BASIC_CLIENT, timeout=10,
                          data={'grant_type': 'authorization_code', 'code': code,
                                'redirect_uri': redirect_uri, 'code_verifier': verifier})
        dt = time.perf_counter() - t0
        if r.status_code != 200 or 'id_token' not in r.json():
            raise RuntimeError('direct token request answered %d' % r.status_code)
        out.append(dt)
    return out


def machine():
    p = subprocess.run(['sh', '-c', "lscpu | grep 'Model name' | head -1"],
                       stdout=subprocess.PIPE, text=True)
    model = p.stdout.split(':', 1)[-1].strip() or platform.processor()
    return '%s, nproc %d, load average %s' % (model, os.cpu_count() or 0,
                                               ' '.join('%.1f' % x for x in os.getloadavg()))


def main():
    work = tempfile.mkdtemp(prefix='authflow-bench-login.')
    os.chmod(work, 0o755)
    keys = tokens.gen_ec('P-256', kid='bench').write(work, 'ec256')
    small = os.path.join(work, 'small.txt')
    with open(small, 'w') as f:
        f.write('ok\n')
    os.chmod(small, 0o644)
    port = afharness.free_port()
    base = 'http://127.0.0.1:%d' % port
    redirect_uri = base + '/auth/callback'
    idp = srv = None
    try:
        idp = OidcProvider(alg='ES256', redirect_uris=[redirect_uri])
        body = '''
AuthFlowBaseURL @BASE@
AuthFlowStore "@ROOT@/store"
AuthFlowSigningKey "%(key)s" kid=bench
KeepAlive On
%(prov)s
<Location /auth>
    SetHandler authflow
</Location>
Alias /app "%(small)s"
<Location /app>
    AuthType AuthFlow
    AuthFlowLogin idp
    Require valid-user
</Location>
''' % dict(key=keys.files['pem'], small=small,
           prov=provider_block('idp', idp.issuer, client=BASIC_CLIENT))
        srv = FixedHttpd('bench-login', body, port,
                         loglevel=os.environ.get('LOGIN_LOGLEVEL', 'warn'))
        srv.start()
        warm = Timings()
        for i in range(WARMUP):   # discovery, JWKS, node's JIT
            one_login(srv, 10000 + i, warm)
        tm = Timings()
        t0 = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(WORKERS) as ex:
            list(ex.map(lambda i: one_login(srv, i, tm), range(N)))
        wall = time.perf_counter() - t0
        seq = Timings()   # one at a time, to compare with the direct token requests
        for i in range(SEQ):
            one_login(srv, 20000 + i, seq)
        direct = direct_token_times(idp, redirect_uri, DIRECT)
        with open(os.path.join(srv.root, 'logs', 'error.log'), errors='replace') as f:
            errlog = [ln.rstrip() for ln in f if (':error]' in ln or ':warn]' in ln or 'jwks' in ln.lower())
                      and 'AF07001' not in ln]
    finally:
        if srv is not None:
            srv.stop()
        if idp is not None:
            idp.stop()
        if os.environ.get('BENCH_KEEP') != '1':
            subprocess.run(['rm', '-rf', work])
            if srv is not None:
                srv.cleanup_dir()

    d = tm.d
    failed = d.get('failed', []) + warm.d.get('failed', []) + seq.d.get('failed', [])
    if failed or errlog:
        print('FAILED logins: %d %r' % (len(failed), sorted(set(failed))))
        print('httpd error log (warn/error):\n  ' + '\n  '.join(errlog[-20:]))
    rows = [
        ('GET /app + /auth/login (2 redirects, ours)', d['start']),
        ('IdP: one browser request (median over all)', d['idp_req']),
        ('IdP: whole interaction (%d requests/login)' % round(
            statistics.median(d['idp_reqs_per_login'])), d['idp_walk']),
        ('**GET /auth/callback** (incl. token exchange)', d['callback']),
        ('GET /auth/callback, logins one at a time (%d)' % SEQ, seq.d['callback']),
        ('IdP token endpoint, direct POST, one at a time (%d)' % len(direct), direct),
        ('GET /app after login', d['app']),
        ('complete login (client view)', d['total']),
    ]
    cb_med, tok_med = statistics.median(seq.d['callback']), statistics.median(direct)
    ok = len(d['callback'])
    head = ('%d logins (%d completed), %d workers, %.1f s: **%.1f completed logins/s**'
            % (N, ok, WORKERS, wall, ok / wall))
    lines = [head, '', '| step | median ms | p90 ms | n |', '|---|---:|---:|---:|']
    for name, xs in rows:
        lines.append('| %s | %.1f | %.1f | %d |' % (name, ms(statistics.median(xs)),
                                                    ms(pct(xs, 0.9)), len(xs)))
    lines += ['', 'one at a time: callback median %.1f ms minus direct token-endpoint median '
              '%.1f ms = %.1f ms spent outside the IdP\'s token endpoint (our callback work, '
              'the userinfo request, the LMDB commit, the client and the network stack)'
              % (ms(cb_med), ms(tok_med), ms(cb_med - tok_med))]
    print('\n'.join(lines))
    md = os.environ.get('LOGIN_MD')
    if md:
        stamp = time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())
        with open(md, 'a') as f:
            f.write('\n### Results (%s; %s; shared, noisy machine)\n\n' % (stamp, machine()))
            f.write('`make bench-login` (LOGIN_N=%d LOGIN_WORKERS=%d):\n\n' % (N, WORKERS))
            f.write('\n'.join(lines) + '\n')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
