#!/usr/bin/python3
"""bench/shared_bench.py -- the work of bench/shared.sh (read its header first).

The shared PostgreSQL store through real httpd, next to LMDB, in one run: gate req/s with the
verified-token cache warm, durable rotations/s, revocation propagation between two hosts.
Every server started here (PostgreSQL, the IdP, two httpd) is stopped by its pid or data dir on
exit, failures and SIGINT/SIGTERM included.  No token or secret is ever printed.
"""
import concurrent.futures
import http.client
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
sys.path.insert(0, os.path.join(REPO, 'tests', 'integration'))
import afharness  # noqa: E402
import tokens  # noqa: E402
from loginhelp import BASIC_CLIENT, OidcProvider, full_login, provider_block  # noqa: E402

SECS = int(os.environ.get('BENCH_SECONDS', '5'))          # per rotation round
GATE_SECS = int(os.environ.get('GATE_SECONDS', '3'))      # per gate scenario and round
GATE_ROUNDS = int(os.environ.get('BENCH_ROUNDS', '11'))
ROT_ROUNDS = int(os.environ.get('ROT_ROUNDS', '3'))
CONNS = int(os.environ.get('BENCH_CONNS', '32'))
SAMPLES = int(os.environ.get('REV_SAMPLES', '20'))
KEEP = os.environ.get('BENCH_KEEP') == '1'
PG_SCRIPT = os.path.join(REPO, 'tools', 'pg-test.sh')
CTL = os.path.join(REPO, 'build', 'authflowctl')
OUT_MD = os.path.join(REPO, 'build', 'bench', 'shared.md')
POLL = 0.010  # seconds between two polls of host B
NOSTORE = 'gate, no store (no revocation check: as bench/run.sh)'
PGVIEW = 'gate, PostgreSQL, delay 1s (view)'

# wrk: one connection per thread, one login per connection; each 204's successor refresh
# cookie is carried into the next request, so every request is a durable rotation.
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

# sizing as bench/run.sh: enough threads for every client and backend connection
MPM = '''
ServerLimit 4
ThreadLimit 128
StartServers 2
ThreadsPerChild 128
MaxRequestWorkers 256
MinSpareThreads 64
MaxSpareThreads 256
KeepAlive On
MaxKeepAliveRequests 0
KeepAliveTimeout 30
'''


def _term(signum, frame):
    raise SystemExit(128 + signum)


class Site:
    """One virtual host: what loginhelp's login steps need (base, url)."""

    def __init__(self, port):
        self.port = port
        self.base = 'http://127.0.0.1:%d' % port

    def url(self, path):
        return self.base + path


class MultiHttpd(afharness.Httpd):
    """An afharness.Httpd listening on ports chosen in advance (the IdP must know every
    redirect_uri before httpd starts); ports[0] is the main server."""

    def __init__(self, name, body, ports, **kw):
        super().__init__(name, body, **kw)
        self.fixed = list(ports)

    def start(self, timeout=60):
        self.ports = list(self.fixed)
        self.port = self.ports[0]
        self.write_files()
        with open(self.conf_path, 'w') as f:
            f.write(self.render())
        ok, last = self._spawn(timeout)
        if not ok:
            raise SystemExit('bench/shared: httpd %s did not start:\n%s' % (self.name,
                                                                            last[-3000:]))
        return self


def site_vhost(port, base, store, key, prov, back, extra=''):
    return '''
<VirtualHost 127.0.0.1:%(port)d>
    AuthFlowBaseURL %(base)s
    AuthFlowStore "%(store)s"
    AuthFlowSigningKey "%(key)s" kid=bench
    AuthFlowAccessTTL 1h
    AuthFlowReuseGrace 10s
%(extra)s
%(prov)s
    <Location /auth>
        SetHandler authflow
    </Location>
    ProxyPass /noauth/ http://127.0.0.1:%(back)d/f/
    ProxyPass /gate/ http://127.0.0.1:%(back)d/f/
    <Location /gate/>
        AuthType AuthFlow
        AuthFlowTokenFrom cookie
        AuthFlowUnauthenticated 401
        Require valid-user
    </Location>
</VirtualHost>
''' % dict(port=port, base=base, store=store, key=key, prov=prov, back=back, extra=extra)


def nostore_vhost(port, base, issuer, key, back):
    """The gate as bench/run.sh measures it: no AuthFlowStore, so no revocation check; it
    accepts site P's tokens (same issuer and key)."""
    return '''
<VirtualHost 127.0.0.1:%(port)d>
    AuthFlowBaseURL %(base)s
    AuthFlowIssuer %(issuer)s
    AuthFlowSigningKey "%(key)s" kid=bench
    AuthFlowAccessTTL 1h
    ProxyPass /gate/ http://127.0.0.1:%(back)d/f/
    <Location /gate/>
        AuthType AuthFlow
        AuthFlowTokenFrom cookie
        AuthFlowUnauthenticated 401
        Require valid-user
    </Location>
</VirtualHost>
''' % dict(port=port, base=base, issuer=issuer, key=key, back=back)


def run(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=kw.pop('timeout', 120), **kw)


def psql(uri, sql):
    p = run(['psql', uri, '-XAtq', '-c', sql])
    if p.returncode != 0:
        raise SystemExit('bench/shared: psql failed: %s' % p.stderr.strip()[:300])
    return p.stdout.strip()


def new_schema(uri, name):
    psql(uri, 'CREATE SCHEMA %s' % name)
    s = '%s&options=-csearch_path%%3D%s' % (uri, name)
    p = run([CTL, '--store', s, 'migrate'])
    if p.returncode != 0:
        raise SystemExit('bench/shared: authflowctl migrate failed: %s' % p.stderr[:300])
    return s


def store_stats(store):
    p = run([CTL, '--store', store, '--json', 'stats'])
    if p.returncode != 0:
        raise SystemExit('bench/shared: authflowctl stats failed: %s' % p.stderr[:300])
    d = json.loads(p.stdout)
    return int(d.get('rotations', 0)), int(d.get('reuse_detections', 0))


# ---- what else used the machine ---------------------------------------------------------------
# The load average counts the benchmark's own runnable threads (32 connections keep dozens of
# httpd threads busy), so it says nothing about other jobs.  Instead, per wrk run: the CPU time
# the machine spent (/proc/stat) less what our processes spent (the httpd, PostgreSQL and IdP
# process trees, this script and its waited children: wrk, psql, authflowctl), and the
# hypervisor's steal time.  Our processes that exit during a run (rare) count as others.
OURS = []  # root pids of our process trees
HZ = os.sysconf('SC_CLK_TCK')


def _tree_ticks(roots):
    ppid, ticks = {}, {}
    for d in os.listdir('/proc'):
        if not d.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % d) as f:
                st = f.read().rsplit(')', 1)[1].split()
        except (OSError, IndexError):
            continue
        ppid[int(d)] = int(st[1])
        ticks[int(d)] = int(st[11]) + int(st[12])  # utime + stime
    total = 0
    for pid in ticks:
        p, seen = pid, 0
        while p > 1 and seen < 64:
            if p in roots:
                total += ticks[pid]
                break
            p, seen = ppid.get(p, 0), seen + 1
    return total


def cpu_mark():
    with open('/proc/stat') as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    t = os.times()
    ours = _tree_ticks(set(OURS)) + (t[0] + t[1] + t[2] + t[3]) * HZ
    return dict(busy=v[0] + v[1] + v[2] + v[5] + v[6], total=sum(v), steal=v[7], ours=ours)


def cpu_since(m0):
    """Percent of the machine's CPU (all cores) used by other processes, and stolen."""
    m1 = cpu_mark()
    total = max(1, m1['total'] - m0['total'])
    others = (m1['busy'] - m0['busy']) - (m1['ours'] - m0['ours'])
    return max(0.0, 100.0 * others / total), 100.0 * (m1['steal'] - m0['steal']) / total


def wrk(url, secs, conns, threads, script=None, env=None, headers=()):
    m0 = cpu_mark()
    cmd = ['wrk', '-t%d' % threads, '-c%d' % conns, '-d%ds' % secs, '--latency']
    for h in headers:
        cmd += ['-H', h]
    if script:
        cmd += ['-s', script]
    out = subprocess.run(cmd + [url], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, env=dict(os.environ, **(env or {})),
                         timeout=secs + 60).stdout
    m = re.search(r'Requests/sec:\s+([\d.]+)', out)
    n = re.search(r'(\d+) requests in', out)
    bad = re.search(r'Non-2xx or 3xx responses:\s+(\d+)', out)
    errs = re.search(r'Socket errors:.*', out)
    p99 = re.search(r'^\s+99%\s+([\d.]+)(us|ms|s)\b', out, re.M)
    mult = {'us': 0.001, 'ms': 1.0, 's': 1000.0}
    others, steal = cpu_since(m0)
    return dict(others=others, steal=steal,rps=float(m.group(1)) if m else 0.0, n=int(n.group(1)) if n else 0,
                bad=int(bad.group(1)) if bad else 0, errs=errs.group(0) if errs else '',
                p99=float(p99.group(1)) * mult[p99.group(2)] if p99 else 0.0)


def status(port, path, cookie):
    """GET path on a new connection (any child of that httpd may answer): the status."""
    c = http.client.HTTPConnection('127.0.0.1', port, timeout=10)
    try:
        c.request('GET', path, headers={'Cookie': cookie, 'Accept': 'application/json',
                                        'Connection': 'close'})
        r = c.getresponse()
        r.read()
        return r.status
    finally:
        c.close()


def do_login(site, user):
    lg = full_login(site, 'idp', '/gate/small.txt', username=user)
    if not lg.ok:
        raise SystemExit('bench/shared: a login on %s failed: %s' % (
            site.base, lg.cb_resp.status_code if lg.cb_resp is not None else 'no callback'))
    return lg.browser


def logins(site, prefix, n, ex):
    return list(ex.map(lambda i: do_login(site, '%s%d' % (prefix, i)), range(n)))


def cookie_of(browser, kind):
    return '%s=%s' % browser.get(kind)


def med(xs):
    return statistics.median(xs) if xs else 0.0


# ---- 1. gate req/s ----------------------------------------------------------------------------
def bench_gate(scen):
    """scen: [(name, site, path, access cookie or None)]"""
    for name, site, path, ck in scen:  # must really authenticate: 200 with it, 401 without
        if status(site.port, path, ck or '') != 200:
            raise SystemExit('bench/shared: %s: no 200 with the token' % name)
        if ck and status(site.port, path, '') != 401:
            raise SystemExit('bench/shared: %s: no 401 without a token' % name)
    scen = [(name, site.url(path), 'Cookie: ' + ck if ck else None)
            for name, site, path, ck in scen]
    for name, url, hdr in scen:  # warm-up (caches, connections, the views' first refresh)
        wrk(url, 1, CONNS, 2, headers=[hdr] if hdr else [])
    res = {name: [] for name, _, _ in scen}
    for r in range(GATE_ROUNDS):
        k = r % len(scen)
        for name, url, hdr in scen[k:] + scen[:k]:
            w = wrk(url, GATE_SECS, CONNS, 2, headers=[hdr] if hdr else [])
            if w['bad'] or w['rps'] <= 0:
                raise SystemExit('bench/shared: %s: %d non-2xx, %.0f req/s %s' % (
                    name, w['bad'], w['rps'], w['errs']))
            w['round'] = r
            res[name].append(w)
            print('gate  round %d  %-48s %8.0f req/s  p99 %6.2f ms  (others %4.1f%% of the '
                  'CPU, steal %4.1f%%)' % (r + 1, name, w['rps'], w['p99'], w['others'],
                                           w['steal']), flush=True)
    return res


# ---- 2. rotations/s ---------------------------------------------------------------------------
def bench_rotations(work, stores):
    """stores: [(name, site, store, [[browser]*CONNS per round])]"""
    script = os.path.join(work, 'refresh.lua')
    with open(script, 'w') as f:
        f.write(LUA)
    res = {s[0]: [] for s in stores}
    for r in range(ROT_ROUNDS):
        order = stores if r % 2 == 0 else list(reversed(stores))
        for name, site, store, per_round in order:
            browsers = per_round[r]
            rt_file = os.path.join(work, 'rts-%d.txt' % r)
            with open(rt_file, 'w') as f:
                f.write('\n'.join(b.get('rt')[1] for b in browsers) + '\n')
            os.chmod(rt_file, 0o600)
            env = {'RT_FILE': rt_file, 'RT_NAME': browsers[0].get('rt')[0], 'ORIGIN': site.base}
            rot0, reuse0 = store_stats(store)
            w = wrk(site.url('/auth/refresh'), SECS, len(browsers), len(browsers), script, env)
            rot1, reuse1 = store_stats(store)
            os.unlink(rt_file)
            w.update(rotations=rot1 - rot0, reuse=reuse1 - reuse0)
            res[name].append(w)
            print('rot   round %d  %-10s %8.0f rotations/s  non-204 %d  reuse detections %d  '
                  '(%d requests, %d rotations counted by the store; others %.1f%% of the CPU, '
                  'steal %.1f%%) %s' % (r + 1, name, w['rps'], w['bad'], w['reuse'], w['n'],
                                        w['rotations'], w['others'], w['steal'], w['errs']),
                  flush=True)
    return res


# ---- 3. revocation propagation ----------------------------------------------------------------
def propagation_sample(site_a, port_b, browser, delay):
    at = cookie_of(browser, 'at')
    # B accepts the login, and keeps being asked for a random part of a second (so the logout
    # falls anywhere in B's refresh period; a busy host refreshes its view on schedule)
    until = time.monotonic() + random.uniform(0.0, 1.0)
    while True:
        s = status(port_b, '/gate/small.txt', at)
        if s != 200:
            raise SystemExit('bench/shared: host B answered %d for a live login' % s)
        if time.monotonic() >= until:
            break
        time.sleep(POLL)
    t_send = time.monotonic()
    r = afharness.http('POST', site_a.url('/auth/logout'),
                       headers={'Origin': site_a.base, 'Cookie': browser.header()})
    t0 = time.monotonic()  # the revocation is committed (the logout has answered)
    if r.status_code not in (200, 302, 303):
        raise SystemExit('bench/shared: logout on A answered %d' % r.status_code)
    seen = []
    first = None
    while True:
        s = status(port_b, '/gate/small.txt', at)
        t = time.monotonic() - t0
        if s not in (200, 401):
            raise SystemExit('bench/shared: host B answered %d while polling' % s)
        seen.append((t, s))
        if s == 401 and first is None:
            first = t
        if first is not None and s == 401 and t >= first + delay + 0.3:
            break
        if t > delay + 15:
            raise SystemExit('bench/shared: host B still accepts a login revoked on A after '
                             '%.1f s' % t)
        time.sleep(POLL)
    last200 = max((t for t, s in seen if s == 200), default=None)
    settled = first if last200 is None else min(t for t, s in seen if s == 401 and t > last200)
    return dict(first=first, settled=settled, late200=sum(1 for t, s in seen
                                                          if s == 200 and t > first),
                logout=t0 - t_send)


def bench_propagation(cases):
    """cases: [(label, delay, site_a, port_b, [browser]*SAMPLES)]"""
    res = {}
    for label, delay, site_a, port_b, browsers in cases:
        out = []
        for i, b in enumerate(browsers):
            x = propagation_sample(site_a, port_b, b, delay)
            out.append(x)
            print('rev   %-26s sample %2d: B refused after %.3f s (every child: %.3f s)' % (
                label, i + 1, x['first'], x['settled']), flush=True)
        res[label] = out
    return res


# ---- report -----------------------------------------------------------------------------------
def machine():
    cpu = ''
    try:
        for line in open('/proc/cpuinfo'):
            if line.startswith('model name'):
                cpu = line.split(':', 1)[1].strip()
                break
    except OSError:
        pass
    v = run([afharness.APACHE, '-v']).stdout
    m = re.search(r'Server version: (\S+)', v)
    return cpu, os.cpu_count(), m.group(1) if m else '?'


def loadavg():
    with open('/proc/loadavg') as f:
        return ' '.join(f.read().split()[:3])


def paired(gate, name, ref):
    """The median over the rounds of name's req/s / ref's req/s in the same round."""
    r = {w['round']: w['rps'] for w in gate[ref]}
    return med([w['rps'] / r[w['round']] for w in gate[name]])


def report(info, gate, rot, rev):
    L = []
    L.append('### Results (%s)' % info['date'])
    L.append('')
    L.append('%s, nproc %d, %s event MPM, %s (fsync=%s, synchronous_commit=%s, '
             'full_page_writes=%s), over TCP to 127.0.0.1; load average %s at the start, %s at '
             'the end (the end includes the benchmark\'s own threads); %.0f s in all.' % (info['cpu'], info['nproc'], info['httpd'], info['pg'],
                                          info['fsync'], info['sync'], info['fpw'],
                                          info['load0'], info['load1'], info['wall']))
    L.append('')
    base = med([w['rps'] for w in gate['proxy-noauth']])
    L.append('Gate, verified-token cache warm (cookie ES256, real logins), wrk -t2 -c%d, %d '
             'rounds x %d s, interleaved (the order rotates each round):' % (CONNS, GATE_ROUNDS,
                                                                            GATE_SECS))
    L.append('')
    L.append('| scenario | median req/s | median p99 ms | / proxy-noauth (medians) | '
             '/ proxy-noauth (median of the rounds\' ratios) | rounds (req/s) |')
    L.append('|---|---:|---:|---:|---:|---|')
    for name, ws in gate.items():
        m = med([w['rps'] for w in ws])
        L.append('| %s | %.0f | %.2f | %.3f | %.3f | %s |' % (
            name, m, med([w['p99'] for w in ws]), m / base, paired(gate, name, 'proxy-noauth'),
            ' '.join('%.0f' % w['rps'] for w in ws)))
    L.append('')
    allw = [w for ws in gate.values() for w in ws]
    L.append('CPU used by other processes during these runs: median %.1f %%, max %.1f %% of the '
             'machine; hypervisor steal: median %.1f %%, max %.1f %%.' % (
                 med([w['others'] for w in allw]), max(w['others'] for w in allw),
                 med([w['steal'] for w in allw]), max(w['steal'] for w in allw)))
    L.append('')
    L.append('What the store adds to the gate (medians of the rounds\' ratios): PostgreSQL '
             'delay 1s / no store %.3f, / LMDB %.3f; LMDB / no store %.3f.' % (
                 paired(gate, PGVIEW, NOSTORE), paired(gate, PGVIEW, 'gate, LMDB'),
                 paired(gate, 'gate, LMDB', NOSTORE)))
    L.append('')
    L.append('Durable rotations through httpd (POST /auth/refresh, %d connections, one fresh '
             'login each per round, %d rounds x %d s, interleaved):' % (CONNS, ROT_ROUNDS, SECS))
    L.append('')
    L.append('| store | median rotations/s | rounds | non-204 | reuse detections | rotations '
             'counted by the store / requests | other processes / steal, % CPU (median) |')
    L.append('|---|---:|---|---:|---:|---|---|')
    meds = {}
    for name, ws in rot.items():
        meds[name] = med([w['rps'] for w in ws])
        L.append('| %s | %.0f | %s | %d | %d | %d / %d | %.1f / %.1f |' % (
            name, meds[name], ' '.join('%.0f' % w['rps'] for w in ws),
            sum(w['bad'] for w in ws), sum(w['reuse'] for w in ws),
            sum(w['rotations'] for w in ws), sum(w['n'] for w in ws),
            med([w['others'] for w in ws]), med([w['steal'] for w in ws])))
    names = list(rot)
    if len(names) == 2 and meds[names[0]]:
        L.append('')
        L.append('%s / %s: %.3f' % (names[1], names[0], meds[names[1]] / meds[names[0]]))
    L.append('')
    L.append('Revocation propagation: POST /auth/logout on host A, host B polled every %d ms '
             '(a new connection each time, any child), times from the logout\'s response:'
             % int(POLL * 1000))
    L.append('')
    L.append('| AuthFlowRevocationDelay | samples | B\'s first 401: median / max | every child '
             'of B refuses: median / max | samples with a 200 after the first 401 | logout on A: '
             'median |')
    L.append('|---|---:|---|---|---:|---:|')
    for label, xs in rev.items():
        f = [x['first'] for x in xs]
        s = [x['settled'] for x in xs]
        L.append('| %s | %d | %.3f s / %.3f s | %.3f s / %.3f s | %d | %.1f ms |' % (
            label, len(xs), med(f), max(f), med(s), max(s), sum(1 for x in xs if x['late200']),
            1000 * med([x['logout'] for x in xs])))
    L.append('')
    L.append('Host B (2 children at start, event MPM): %d child processes answered its polls.'
             % info['b_children'])
    L.append('')
    g = info['goal']
    L.append('Goals: gate (PostgreSQL, delay 1s) / proxy-noauth = %.3f as a ratio of medians, '
             '%.3f as the median of the rounds\' ratios (>= 0.97: %s); durable rotations/s on '
             'PostgreSQL = %.0f (>= 1000: %s); non-204 %d, reuse detections %d.'
             % (g['ratio'], g['paired'],
                'met' if min(g['ratio'], g['paired']) >= 0.97 else
                'met by one measure' if max(g['ratio'], g['paired']) >= 0.97 else 'missed',
                g['pg_rot'], 'met' if g['pg_rot'] >= 1000 else 'missed', g['bad'], g['reuse']))
    return '\n'.join(L) + '\n'


def scan_logs(servers):
    out = []
    for srv in servers:
        text = srv.read_log(0)
        bad = afharness.bad_log_lines(text, allow=[re.compile(r'AF07001')])
        if bad:
            leaks = afharness.token_leaks('\n'.join(bad), tokens.MINTED)
            out.append('%s: %d warn/error lines in its error log%s' % (
                srv.name, len(bad), ' (not shown: token material)' if leaks else ':'))
            if not leaks:
                out += ['  ' + b[:300] for b in bad[:5]]
    return out


def main():
    signal.signal(signal.SIGTERM, _term)
    signal.signal(signal.SIGINT, _term)
    t_start = time.time()
    cpu, nproc, httpd_v = machine()
    info = dict(date=time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()), cpu=cpu, nproc=nproc,
                httpd=httpd_v, load0=loadavg())
    work = tempfile.mkdtemp(prefix='authflow-bench-shared.')
    os.chmod(work, 0o755)
    pgdir = tempfile.mkdtemp(prefix='af_pg.', dir='/tmp')
    pg_started = False
    idp = a = b = None
    try:
        keys = tokens.gen_ec('P-256', kid='bench').write(work, 'ec256')
        secret = os.path.join(work, 'shared.secret')
        with open(secret, 'wb') as f:
            f.write(os.urandom(48))
        os.chmod(secret, 0o600)

        p = run([PG_SCRIPT, 'start', pgdir, 'durable'])
        if p.returncode != 0:
            raise SystemExit('bench/shared: PostgreSQL did not start: %s' % p.stderr[-500:])
        pg_started = True
        uri = p.stdout.strip().splitlines()[-1]
        info['pg'] = 'PostgreSQL ' + psql(uri, 'SHOW server_version').split()[0]
        info['fsync'] = psql(uri, 'SHOW fsync')
        info['sync'] = psql(uri, 'SHOW synchronous_commit')
        info['fpw'] = psql(uri, 'SHOW full_page_writes')
        uri_p = new_schema(uri, 'bench_p')   # site P: delay 1s
        uri_z = new_schema(uri, 'bench_z')   # site Z: delay 0

        back, pl, pp, pz, pn, b0, bp, bz = (afharness.free_port() for _ in range(8))
        sl, sp, sz, sn = Site(pl), Site(pp), Site(pz), Site(pn)
        idp = OidcProvider(alg='ES256', redirect_uris=[s.url('/auth/callback')
                                                       for s in (sl, sp, sz)])
        prov = provider_block('idp', idp.issuer, client=BASIC_CLIENT)
        key = keys.files['pem']
        shared = 'AuthFlowSecretFile "%s"\n' % secret
        vp = lambda port: site_vhost(port, sp.base, uri_p, key, prov, back,  # noqa: E731
                                     shared + 'AuthFlowRevocationDelay 1s')
        vz = lambda port: site_vhost(port, sz.base, uri_z, key, prov, back,  # noqa: E731
                                     shared + 'AuthFlowRevocationDelay 0')
        small = 'hello from the backend: a small static file of about one hundred bytes....\n'
        a = MultiHttpd('bench-shared-A', MPM + site_vhost(pl, sl.base, '@ROOT@/store', key,
                                                          prov, back) + vp(pp) + vz(pz) +
                       nostore_vhost(pn, sn.base, sp.base, key, back),
                       [back, pl, pp, pz, pn], loglevel='warn',
                       files={'htdocs/f/small.txt': small})
        a.start()
        # B logs the pid of the child that answered each poll: were several children asked?
        b = MultiHttpd('bench-shared-B', 'CustomLog "@ROOT@/logs/access.log" "%P %>s"\n' +
                       vp(bp) + vz(bz), [b0, bp, bz], loglevel='warn')
        b.start()
        with open(os.path.join(pgdir, 'data', 'postmaster.pid')) as f:
            OURS.extend([a.proc.pid, b.proc.pid, int(f.readline()), idp.proc.pid])
        store_l = os.path.join(a.root, 'store')

        print('bench/shared: %s; logging in %d users through the IdP...' % (
            info['pg'], 3 + 2 * ROT_ROUNDS * CONNS + 2 * SAMPLES), flush=True)
        with concurrent.futures.ThreadPoolExecutor(max_workers=4) as ex:
            gl, gp, gz = (do_login(s, 'gate-%s' % n) for s, n in ((sl, 'l'), (sp, 'p'), (sz, 'z')))
            rot_l = [logins(sl, 'rl%d-' % r, CONNS, ex) for r in range(ROT_ROUNDS)]
            rot_p = [logins(sp, 'rp%d-' % r, CONNS, ex) for r in range(ROT_ROUNDS)]
            rev_p = logins(sp, 'vp-', SAMPLES, ex)
            rev_z = logins(sz, 'vz-', SAMPLES, ex)

        gate = bench_gate([
            ('proxy-noauth', sl, '/noauth/small.txt', None),
            (NOSTORE, sn, '/gate/small.txt', cookie_of(gp, 'at')),
            ('gate, LMDB', sl, '/gate/small.txt', cookie_of(gl, 'at')),
            (PGVIEW, sp, '/gate/small.txt', cookie_of(gp, 'at')),
            ('gate, PostgreSQL, delay 0 (a query per request)', sz, '/gate/small.txt',
             cookie_of(gz, 'at'))])
        rot = bench_rotations(work, [('LMDB', sl, store_l, rot_l),
                                     ('PostgreSQL', sp, uri_p, rot_p)])
        rev = bench_propagation([('1s', 1.0, sp, bp, rev_p), ('0', 0.0, sz, bz, rev_z)])

        base = med([w['rps'] for w in gate['proxy-noauth']])
        info['goal'] = dict(
            ratio=med([w['rps'] for w in gate[PGVIEW]]) / base,
            paired=paired(gate, PGVIEW, 'proxy-noauth'),
            pg_rot=med([w['rps'] for w in rot['PostgreSQL']]),
            bad=sum(w['bad'] for ws in rot.values() for w in ws),
            reuse=sum(w['reuse'] for ws in rot.values() for w in ws))
        with open(os.path.join(b.root, 'logs', 'access.log')) as f:
            info['b_children'] = len({line.split()[0] for line in f if line.strip()})
        info['load1'] = loadavg()
        info['wall'] = time.time() - t_start
        md = report(info, gate, rot, rev)
        with open(OUT_MD, 'w') as f:
            f.write(md)
        print()
        print(md)
        print('written to %s' % os.path.relpath(OUT_MD, REPO))
        for line in scan_logs([a, b]):
            print('bench/shared: ' + line)
        if info['goal']['bad'] or info['goal']['reuse']:
            return 1
        return 0
    finally:
        for srv in (b, a):
            if srv is not None:
                srv.stop()
                if not KEEP:
                    srv.cleanup_dir()
        if idp is not None:
            idp.stop()
        if pg_started or os.path.isdir(pgdir):
            subprocess.run([PG_SCRIPT, 'stop', pgdir], timeout=120)
        subprocess.run(['rm', '-rf', work])


if __name__ == '__main__':
    sys.exit(main())
