"""Metrics (issue 15): SetHandler authflow-metrics and the AuthFlow section of mod_status.

Real httpd (prefork: several children, one counter segment in shared memory), the real
OpenID provider, the LMDB store.  Known traffic -- gate 401s with and without a token,
logins through the IdP, a page through the gate, an inline refresh, /refresh rotations, a
refresh-token reuse, a logout -- spread over several children, then the exact counter
deltas in the scrape.  The scrape is parsed by a strict parser of the Prometheus text
format 0.0.4 written here (HELP/TYPE before samples, metric and label names, escaped label
values, no duplicate series, counters ending in _total, histogram buckets cumulative with
+Inf == _count).  No per-user data (sub, email, sid, user name) in any output.
"""
import concurrent.futures
import re

import pytest

import afharness
from loginhelp import get, have_node
from refreshhelp import login, refresh, rt_cookie, sid_of, start_site
from test_logout import logout

pytestmark = pytest.mark.skipif(not have_node, reason='node or tests/idp/node_modules missing '
                                                      '(make deps)')

APPS = '''
LogFormat "%P %U %>s" pids
CustomLog "@ROOT@/logs/pids.log" pids
<Location /metrics>
    SetHandler authflow-metrics
    Require ip 127.0.0.1
</Location>
<Location /again>
    AuthType AuthFlow
    Require valid-user
    RewriteEngine On
    RewriteRule ^ /app [PT,L]
</Location>
<Location /server-status>
    SetHandler server-status
    Require ip 127.0.0.1
</Location>
'''

API = {'Accept': 'application/json'}   # not a navigation: 401, not a redirect


@pytest.fixture(scope='module')
def site(request, keys, echo):
    return start_site(request, keys, echo, 'metrics', mpm='prefork', apps_extra=APPS,
                      grace='30s', testing=False,
                      modules=afharness.DEFAULT_MODULES + ('status',))


# -- a strict parser of the text exposition format 0.0.4 ----------------------------------------
NAME = r'[a-zA-Z_:][a-zA-Z0-9_:]*'
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*'
VALUE = r'(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]Inf|NaN)'
SAMPLE_RE = re.compile(r'^(%s)(?:\{(.*)\})? (%s)$' % (NAME, VALUE))
PAIR_RE = re.compile(r'(%s)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)' % LABEL)


def parse_labels(text):
    labels, pos = {}, 0
    while pos < len(text):
        m = PAIR_RE.match(text, pos)
        assert m, 'bad label syntax at %r' % text[pos:]
        name = m.group(1)
        assert name not in labels, 'label %s twice' % name
        labels[name] = re.sub(r'\\(.)', lambda e: {'n': '\n'}.get(e.group(1), e.group(1)),
                              m.group(2))
        pos = m.end()
        if m.group(3) == '' and pos < len(text):
            raise AssertionError('junk after labels: %r' % text[pos:])
    return labels


def family_of(name, types):
    for suffix in ('_bucket', '_sum', '_count'):
        if name.endswith(suffix) and types.get(name[:-len(suffix)]) == 'histogram':
            return name[:-len(suffix)]
    return name


def parse(text):
    """{(name, frozenset(labels.items())): float}; asserts the format's rules."""
    assert text.endswith('\n'), 'the exposition ends with a line feed'
    types, helps, samples, seen_fams = {}, {}, {}, []
    for line in text[:-1].split('\n'):
        assert line, 'empty line'
        if line.startswith('#'):
            m = re.match(r'^# (HELP|TYPE) (%s) (.+)$' % NAME, line)
            assert m, 'bad comment line %r' % line
            kind, name, rest = m.groups()
            assert name.startswith('authflow_'), name
            if kind == 'TYPE':
                assert rest in ('counter', 'gauge', 'histogram'), line
                assert name not in types, 'TYPE twice for %s' % name
                assert name not in seen_fams, 'TYPE after samples of %s' % name
                types[name] = rest
            else:
                assert name not in helps, 'HELP twice for %s' % name
                helps[name] = rest
            continue
        m = SAMPLE_RE.match(line)
        assert m, 'bad sample line %r' % line
        name, labels, value = m.group(1), parse_labels(m.group(2) or ''), float(m.group(3))
        fam = family_of(name, types)
        assert fam in types and fam in helps, 'sample of %s before its HELP/TYPE' % name
        if seen_fams and seen_fams[-1] != fam:
            assert fam not in seen_fams, 'samples of %s not together' % fam
        if not seen_fams or seen_fams[-1] != fam:
            seen_fams.append(fam)
        if types[fam] == 'counter':
            assert fam.endswith('_total') and value >= 0 and value == int(value), line
        key = (name, frozenset(labels.items()))
        assert key not in samples, 'duplicate series %r' % line
        samples[key] = value
    # histograms: buckets cumulative, +Inf == _count, per label set
    for fam, t in types.items():
        if t != 'histogram':
            continue
        series = {}
        for (name, labels), v in samples.items():
            d = dict(labels)
            if name == fam + '_bucket':
                le = d.pop('le')
                series.setdefault(frozenset(d.items()), []).append(
                    (float('inf') if le == '+Inf' else float(le), v))
        for lab, buckets in series.items():
            buckets.sort()
            assert buckets[-1][0] == float('inf'), 'no +Inf bucket'
            vals = [v for _, v in buckets]
            assert vals == sorted(vals), 'buckets not cumulative: %r' % buckets
            assert samples[(fam + '_count', lab)] == vals[-1]
            assert (fam + '_sum', lab) in samples
    return samples


def val(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0)


def scrape(site):
    r = afharness.http('GET', site.url('/metrics'))
    assert r.status_code == 200, r.text[:300]
    assert r.headers['Content-Type'] == 'text/plain; version=0.0.4; charset=utf-8'
    assert r.headers.get('Cache-Control') == 'no-store'
    return r.text, parse(r.text)


def pids_for(site, path, status, since):
    with open(site.root + '/logs/pids.log') as f:
        lines = f.read().splitlines()[since:]
    return {ln.split()[0] for ln in lines if ln.split()[1:] == [path, str(status)]}


def log_lines(site):
    with open(site.root + '/logs/pids.log') as f:
        return len(f.read().splitlines())


def delta(after, before, name, **labels):
    return val(after, name, **labels) - val(before, name, **labels)


def test_parser_refuses_bad_text():
    bad = ['authflow_x_total 1\n',                                      # no TYPE
           '# HELP authflow_x_total h\n# TYPE authflow_x_total counter\nauthflow_x_total{a="\\q"} 1\n',
           '# HELP authflow_x h\n# TYPE authflow_x counter\nauthflow_x 1\n',  # no _total
           '# HELP authflow_x_total h\n# TYPE authflow_x_total counter\nauthflow_x_total 1\n'
           'authflow_x_total 2\n',                                      # duplicate series
           '# HELP authflow_h h\n# TYPE authflow_h histogram\nauthflow_h_bucket{le="1"} 3\n'
           'authflow_h_bucket{le="+Inf"} 2\nauthflow_h_sum 1\nauthflow_h_count 2\n']
    for text in bad:
        with pytest.raises(AssertionError):
            parse(text)
    ok = parse('# HELP authflow_x_total h\n# TYPE authflow_x_total counter\n'
               'authflow_x_total{p="a\\"b\\\\c\\nd"} 1\n')
    assert val(ok, 'authflow_x_total', p='a"b\\c\nd') == 1


def test_metrics_counts_known_traffic_across_children(site):
    text0, m0 = scrape(site)
    mark = log_lines(site)

    # gate 401s from many connections at once (prefork: several children answer)
    def anon(i):
        h = dict(API)
        if i % 4 == 0:
            h['Authorization'] = 'Bearer not-a-jwt'
        r = afharness.http('GET', site.url('/app'), headers=h)
        assert r.status_code == 401, r.status_code
        return r.json()['error']
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        reasons = list(ex.map(anon, range(40)))
    by_reason = {x: reasons.count(x) for x in set(reasons)}
    assert by_reason['no_token'] == 30 and len(by_reason) == 2

    # two logins through the real IdP; a page through the gate
    a = login(site, 'alice')
    b = login(site, 'bob')
    assert get(site, '/app', a).status_code == 200
    # an inline refresh: only the refresh cookie, a navigation
    name, rt = a.get('rt')
    r = get(site, '/app', cookie='%s=%s' % (name, rt))
    assert r.status_code == 200
    a.take(r)
    # /refresh twice, then the first refresh token again: reuse, the login revoked
    rt1 = a.get('rt')[1]
    assert refresh(site, a).status_code == 204
    assert refresh(site, a).status_code == 204
    r = refresh(site, rt_cookie(a, rt1))
    assert r.status_code == 401 and r.json()['error'] == 'refresh_token_reused'
    # logout: a revocation by the module
    assert logout(site, b.header()).status_code == 303

    text1, m1 = scrape(site)
    gate = 'authflow_gate_requests_total'
    assert delta(m1, m0, gate, reason='no_token') == 30
    bad = [x for x in by_reason if x != 'no_token'][0]
    assert delta(m1, m0, gate, reason=bad) == 10
    assert delta(m1, m0, gate, reason='ok') == 2            # the page, the inline refresh
    assert delta(m1, m0, 'authflow_inline_refreshes_total', reason='ok') == 1
    assert delta(m1, m0, 'authflow_refresh_requests_total', reason='ok') == 2
    assert delta(m1, m0, 'authflow_refresh_requests_total', reason='refresh_token_reused') == 1
    assert delta(m1, m0, 'authflow_refresh_token_reuse_total') == 1
    assert delta(m1, m0, 'authflow_revocations_total') == 1
    assert delta(m1, m0, 'authflow_logins_started_total') == 2
    assert delta(m1, m0, 'authflow_logins_completed_total') == 2
    assert not any(k[0] == 'authflow_logins_failed_total' for k in m1)
    assert not any(k[0] == 'authflow_store_errors_total' for k in m1)
    # every token the gate looked at was a cache hit or a miss: 10 bad Bearers, the page
    assert (delta(m1, m0, 'authflow_token_cache_hits_total') +
            delta(m1, m0, 'authflow_token_cache_misses_total')) == 11
    # IdP calls (at least the two code exchanges) in the provider's histogram
    assert delta(m1, m0, 'authflow_idp_request_duration_seconds_count', provider='idp') >= 2
    assert val(m1, 'authflow_jwks_fetches_total', provider='idp') >= 1
    assert val(m1, 'authflow_jwks_fetch_failures_total', provider='idp') == 0
    assert val(m1, 'authflow_store_map_used_bytes') > 0
    assert val(m1, 'authflow_store_map_size_bytes') >= val(m1, 'authflow_store_map_used_bytes')
    # several children counted into the one segment
    assert len(pids_for(site, '/app', 401, mark)) >= 2, 'all 401s from one child'
    # no per-user data
    for secret in ('alice', 'bob', 'example.com', sid_of(a), rt1):
        assert secret not in text1


def test_metrics_endpoint_methods_and_protection(site):
    r = afharness.http('POST', site.url('/metrics'))
    assert r.status_code == 405 and 'GET' in r.headers.get('Allow', '')
    r = afharness.http('HEAD', site.url('/metrics'))
    assert r.status_code == 200 and not r.content


def test_mod_status_section(site):
    login(site, 'carol')
    _, m = scrape(site)
    r = afharness.http('GET', site.url('/server-status'))
    assert r.status_code == 200
    assert '<h2>AuthFlow</h2>' in r.text and '<td>logins completed</td>' in r.text
    r = afharness.http('GET', site.url('/server-status?auto'))
    assert r.status_code == 200
    auto = dict(ln.split(': ', 1) for ln in r.text.splitlines() if ln.startswith('AuthFlow'))
    assert int(auto['AuthFlowLoginsCompleted']) == val(m, 'authflow_logins_completed_total')
    assert int(auto['AuthFlowGateOK']) == val(m, 'authflow_gate_requests_total', reason='ok')
    assert int(auto['AuthFlowStoreMapUsed']) > 0
    assert 'carol' not in r.text


def test_metrics_kept_across_graceful_restart(site):
    _, m0 = scrape(site)
    before = site.read_log().count('resuming normal operations')
    site.graceful()
    end = afharness.time.time() + 30
    while site.read_log().count('resuming normal operations') == before:
        assert afharness.time.time() < end, 'no graceful restart'
        afharness.time.sleep(0.1)
    _, m1 = scrape(site)
    assert val(m1, 'authflow_start_time_seconds') == val(m0, 'authflow_start_time_seconds')
    assert (val(m1, 'authflow_logins_completed_total') ==
            val(m0, 'authflow_logins_completed_total') > 0)


def test_metrics_one_gate_decision_per_client_request(site):
    """An internal redirect from one gate location to another (mod_rewrite in a <Location>)
    runs the gate twice; it is one client request and counts once."""
    b = login(site, 'dave')
    _, m0 = scrape(site)
    r = get(site, '/again', b)
    assert r.status_code == 200, (r.status_code, r.text[:200])
    r = afharness.http('GET', site.url('/again'), headers=API)
    assert r.status_code == 401
    _, m1 = scrape(site)
    assert delta(m1, m0, 'authflow_gate_requests_total', reason='ok') == 1
    assert delta(m1, m0, 'authflow_gate_requests_total', reason='no_token') == 1


@pytest.mark.allow_log(r'AF09002', r'AF03\d{3}', r'MDB_MAP_FULL', r'store_full')
def test_metrics_store_errors_and_map_use(request, keys, echo):
    """A full LMDB map: every refresh fails with store_full (503) and each is one store error
    by reason; the map gauges show it nearly used up."""
    from test_refresh_store import fill
    full = start_site(request, keys, echo, 'metrics-full', extra='AuthFlowStoreMapSize 1M',
                      apps_extra=APPS, testing=False)
    b = login(full)
    fill(full.store, 1024 * 1024)
    _, m0 = scrape(full)
    for _ in range(7):
        r = refresh(full, b.header())
        assert r.status_code == 503 and r.json()['error'] == 'store_unavailable', r.text[:200]
    _, m1 = scrape(full)
    assert delta(m1, m0, 'authflow_store_errors_total', reason='store_full') == 7
    assert delta(m1, m0, 'authflow_refresh_requests_total', reason='store_unavailable') == 7
    assert val(m1, 'authflow_store_map_size_bytes') == 1024 * 1024
    assert val(m1, 'authflow_store_map_used_bytes') > 0.9 * 1024 * 1024


def test_metrics_trusted_issuer_jwks(request, keys, echo, docs):
    """AuthFlowTrustIssuer with remote JWKS: fetches and failures (a 404) are counted in the
    "(trusted issuers)" slot, their durations in its histogram."""
    import sites
    import tokens
    from conftest import start_server
    import uuid
    good, bad = tokens.gen_ec('P-256', kid='m-good'), tokens.gen_ec('P-256', kid='m-bad')
    tag = uuid.uuid4().hex[:8]
    docs.set('/m-%s/good.json' % tag, {'keys': [good.public_jwk_dict()]})
    lines = ['AuthFlowTrustIssuer https://good.idp.test %s aud=api://m'
             % docs.url('/m-%s/good.json' % tag),
             'AuthFlowTrustIssuer https://bad.idp.test %s aud=api://m'
             % docs.url('/m-%s/missing.json' % tag),
             'StartServers 1\nServerLimit 1\nMaxRequestWorkers 16']
    body = sites.standard_site(keys, echo, server_extra='\n'.join(lines)) + APPS
    srv = start_server(request, 'metrics-trust', body, mpm='event',
                       allow=[r'AF0\d+:.*([Jj][Ww][Kk][Ss]|[Kk]ey|fetch)'])
    _, m0 = scrape(srv)
    for iss, key, want in (('https://good.idp.test', good, 200),
                           ('https://bad.idp.test', bad, 401)):
        tok = tokens.mint(key, tokens.claims(iss, 'api://m', sub='svc'), typ=None)
        r = afharness.http('GET', srv.url('/api/'), headers={'Authorization': 'Bearer ' + tok})
        assert r.status_code == want, (iss, r.status_code, r.text[:200])
    _, m1 = scrape(srv)
    slot = '(trusted issuers)'
    assert delta(m1, m0, 'authflow_jwks_fetches_total', provider=slot) == 2
    assert delta(m1, m0, 'authflow_jwks_fetch_failures_total', provider=slot) == 1
    assert delta(m1, m0, 'authflow_idp_request_duration_seconds_count', provider=slot) == 2
