#!/usr/bin/python3
"""bench/password_bench.py (run by bench/password.sh): does an unknown account answer as fast
as a wrong password?  (issue 14: "not distinguishable in a benchmark of 1,000 tries each")

One httpd (event MPM, 127.0.0.1 only) with mod_authflow and a Type password provider over
mod_authn_file (an `htpasswd -B` file, bcrypt cost 5 -- htpasswd's default -- with 50 users).
PW_N (1000) tries of each kind, interleaved (wrong, unknown, wrong, ...), one at a time:
each try fetches the form (not timed), then POSTs username + password (timed, client side,
new connection each time).  "wrong": an existing account with a wrong password; "unknown": a
name that is in no file.  Both must answer 403 login_failed.  Throttle is set out of reach
(100000 per 1s window), so the store's throttle reads and writes are in both.

Reported: the median, p10 and p90 of each kind and the difference of the medians.  PW_MD=FILE
appends the table as markdown.  The server is stopped by its pid (finally).
"""
import os
import re
import statistics
import subprocess
import sys
import time
import urllib.parse

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, 'tests', 'integration'))
import afharness  # noqa: E402

N = int(os.environ.get('PW_N', '1000'))
USERS = 50

SITE = '''
AuthFlowBaseURL @BASE@
AuthFlowStore "@ROOT@/store"
<AuthFlowProvider staff>
    Type password
    AuthnProvider file
    Throttle 100000 1s
</AuthFlowProvider>
<Location /auth>
    SetHandler authflow
    AuthUserFile "@ROOT@/staff.htpasswd"
</Location>
'''


def pct(xs, q):
    xs = sorted(xs)
    k = (len(xs) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def one(srv, user, password):
    h = {'Accept': 'text/html', 'Sec-Fetch-Mode': 'navigate', 'Sec-Fetch-Site': 'same-origin'}
    f = afharness.http('GET', srv.url('/auth/login?provider=staff'), headers=h)
    flow = re.search(r'name="flow" value="([^"]+)"', f.text).group(1)
    cookie = f.headers['Set-Cookie'].split(';', 1)[0]
    body = urllib.parse.urlencode({'flow': flow, 'username': user, 'password': password})
    hdr = {'Content-Type': 'application/x-www-form-urlencoded', 'Origin': srv.base,
           'Cookie': cookie}
    t0 = time.perf_counter()
    r = afharness.http('POST', srv.url('/auth/login'), headers=hdr, data=body)
    dt = time.perf_counter() - t0
    if r.status_code != 403 or 'Reason: <code>' in r.text:
        raise SystemExit('unexpected answer %d for %s' % (r.status_code, user))
    return dt


def main():
    lines = []
    for i in range(USERS):
        p = subprocess.run(['htpasswd', '-nbB', 'user%02d' % i, 'secret-%d' % i],
                           stdout=subprocess.PIPE, check=True)
        lines.append(p.stdout.decode().strip())
    srv = afharness.Httpd('bench-password', SITE, loglevel='warn',
                          modules=afharness.DEFAULT_MODULES + ('authn_file',),
                          files={'staff.htpasswd': '\n'.join(lines) + '\n'})
    try:
        srv.start()
        for i in range(5):                                     # warm up both paths
            one(srv, 'user%02d' % (i % USERS), 'nope')
            one(srv, 'ghost%d' % i, 'nope')
        wrong, unknown = [], []
        for i in range(N):
            wrong.append(one(srv, 'user%02d' % (i % USERS), 'wrong-%d' % i))
            unknown.append(one(srv, 'nobody%05d' % i, 'wrong-%d' % i))
    finally:
        srv.stop()
        srv.cleanup_dir()
    ms = lambda x: x * 1000.0  # noqa: E731
    rows = [('wrong password', wrong), ('unknown account', unknown)]
    out = ['| kind (%d tries each) | median ms | p10 ms | p90 ms |' % N, '|---|---|---|---|']
    for name, xs in rows:
        out.append('| %s | %.2f | %.2f | %.2f |' % (name, ms(statistics.median(xs)),
                                                    ms(pct(xs, 0.1)), ms(pct(xs, 0.9))))
    d = ms(statistics.median(unknown) - statistics.median(wrong))
    out.append('')
    out.append('median(unknown) - median(wrong) = %+.2f ms (%.1f%% of the wrong-password median)'
               % (d, 100.0 * d / ms(statistics.median(wrong))))
    text = '\n'.join(out)
    print(text)
    if os.environ.get('PW_MD'):
        with open(os.environ['PW_MD'], 'a') as f:
            f.write(text + '\n')


if __name__ == '__main__':
    main()
