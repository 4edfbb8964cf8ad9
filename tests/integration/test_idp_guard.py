"""Outbound calls to a slow or hanging IdP are bounded (SECURITY.md H09, issue 10 item 1).

One prefork httpd (8 workers, several children: the guard lives in shared memory and must
hold across processes) with one provider per test, each against its own bad IdP
(tests/idp/bad_idp.py), whose /_control log shows which requests reached it:

- `busy`: MaxConcurrent 2.  While its token endpoint hangs, concurrent callbacks beyond 2 are
  refused at once with 503 oidc_idp_busy (Retry-After) instead of taking a worker each, and
  a logged-in user's request to a gated page is answered meanwhile.
- `brk`: after 3 consecutive timeouts the circuit opens: callbacks and login starts answer
  503 oidc_idp_unavailable without calling the IdP; the refused callback's state and code
  are left unused, so the same callback succeeds once the IdP answers again.
- `disc`: the discovery retry throttle counts from the end of the failed fetch, and across
  children: a login start right after a timed-out discovery fails without a second fetch.

Assertions are on statuses, reasons and the IdP's request log, never on durations.
"""
import concurrent.futures
import re
import secrets
import time
import urllib.parse

import pytest

import afharness
import conftest
from loginhelp import (BadIdp, Browser, callback, describe, full_login, get, idp_redirect,
                       login_path, login_site, provider_block, qs, reason, session_cookies,
                       set_cookies, start, wait_for)

ANY_AF = r'AF0\d{4}'        # failed callbacks and IdP timeouts log at warn (AF05010, AF08020...)
DISCOVERY = '/.well-known/openid-configuration'


@pytest.fixture(scope='module')
def idps():
    started = {}
    try:
        started['busy'] = BadIdp(hang_seconds=30)
        started['brk'] = BadIdp(hang_seconds=5)
        started['disc'] = BadIdp(modes=['hang_discovery'], hang_seconds=12)
        yield started
    finally:
        for s in started.values():
            s.stop()


@pytest.fixture(scope='module')
def site(request, keys, echo, idps):
    providers = '\n'.join([
        provider_block('busy', idps['busy'].url, extra='Timeout 10s\nMaxConcurrent 2'),
        # explicit endpoints: no discovery, whose answers would count as "reachable" and
        # restart the count of consecutive failures in whichever child fetches it
        provider_block('brk', idps['brk'].url, extra='''Timeout 2s
            AuthorizationEndpoint %(u)s/authorize
            TokenEndpoint %(u)s/token
            UserinfoEndpoint %(u)s/userinfo
            JwksURI %(u)s/jwks''' % dict(u=idps['brk'].url)),
        provider_block('disc', idps['disc'].url, extra='Timeout 6s'),
    ])
    body = login_site(keys, echo, providers, apps=[('/app', 'busy')])
    srv = conftest.start_server(request, 'idp-guard', body, mpm='prefork', allow=[ANY_AF])
    srv.store = srv.root + '/store'
    return srv


def _count(idp, path):
    return sum(1 for e in idp.log() if e['path'] == path)


def _pending_garbage(site, provider, issuer):
    """A fresh login state from /auth/login, answered with a code the IdP never issued."""
    b = Browser()
    r, auth = start(site, b, login_path(provider, '/app'))
    assert auth, 'login start failed: %s' % describe(r)
    q = urllib.parse.urlencode([('code', 'garbage-' + secrets.token_urlsafe(8)),
                                ('state', qs(auth)['state']), ('iss', issuer)])
    return b, '/auth/callback?' + q


def _retry_after(r):
    v = r.headers.get('Retry-After', '')
    return int(v) if v.isdigit() else None


# ---- H09: concurrency limit ---------------------------------------------------------------
@pytest.mark.allow_log(ANY_AF)
def test_H09_callbacks_bounded_while_idp_hangs(site, idps):
    idp = idps['busy']
    idp.set_mode()
    user = full_login(site, 'busy', '/app')       # a logged-in user, before the IdP hangs
    assert user.ok, describe(user.cb_resp)
    pending = [_pending_garbage(site, 'busy', idp.issuer) for _ in range(20)]
    idp.set_mode('hang_token')                    # also clears the IdP's request log

    def deliver(item):
        b, cb = item
        try:
            return callback(site, b, cb, timeout=60)
        except Exception as e:   # noqa: BLE001 - reported below
            return e

    with concurrent.futures.ThreadPoolExecutor(max_workers=len(pending)) as ex:
        futures = [ex.submit(deliver, p) for p in pending]
        assert wait_for(lambda: _count(idp, '/token') >= 1, timeout=30), 'no token request'
        try:
            page = get(site, '/app', user.browser, timeout=8)
            gate = page.status_code
        except Exception as e:   # noqa: BLE001
            gate = 'no answer within 8 s (%s)' % type(e).__name__
        results = [f.result() for f in futures]

    statuses = [r.status_code if hasattr(r, 'status_code') else repr(r) for r in results]
    tokens_seen = _count(idp, '/token')
    busy = [r for r in results if getattr(r, 'status_code', None) == 503]
    assert tokens_seen <= 2, 'token requests reaching the IdP: %d; statuses %r' % (
        tokens_seen, statuses)
    assert gate == 200, 'logged-in user while the IdP hangs: %r' % (gate,)
    assert len(busy) >= len(pending) - 2, statuses
    for r in busy:
        assert reason(r) == 'oidc_idp_busy', describe(r)
        assert _retry_after(r) and _retry_after(r) > 0, r.headers
        assert not session_cookies(r)
        # the refused callback keeps its flow cookie: the user can retry it
        assert not [c for c in set_cookies(r) if c.kind() == 'flow' and c.deleting], r.headers
    others = [r for r in results if r not in busy]
    assert all(getattr(r, 'status_code', None) == 504 for r in others), statuses


# ---- H09: circuit breaker ------------------------------------------------------------------
@pytest.mark.allow_log(ANY_AF)
def test_H09_circuit_opens_after_timeouts(site, idps):
    idp = idps['brk']
    idp.set_mode()
    pending = []
    for _ in range(4):
        b = Browser()
        r, auth = start(site, b, login_path('brk', '/app'))
        assert auth, describe(r)
        pending.append((b, idp_redirect(auth)))   # real codes, issued by the IdP
    idp.set_mode('hang_token')

    for b, cb in pending[:3]:
        r = callback(site, b, cb)
        assert r.status_code == 504 and reason(r) == 'oidc_idp_timeout', describe(r)
    assert _count(idp, '/token') == 3

    b, cb = pending[3]
    r = callback(site, b, cb)
    assert r.status_code == 503, 'callback after 3 timeouts: %s' % describe(r)
    assert reason(r) == 'oidc_idp_unavailable', describe(r)
    assert _retry_after(r) and _retry_after(r) > 0, r.headers
    assert not session_cookies(r)
    r2 = get(site, login_path('brk', '/app'), Browser())
    assert r2.status_code == 503 and reason(r2) == 'oidc_idp_unavailable', describe(r2)
    assert _count(idp, '/token') == 3, 'the open circuit still called the IdP'

    # the refused callback consumed neither its state nor its code: once the IdP answers
    # again and the back-off is over, the very same callback signs the user in
    idp.set_mode()

    def retried():
        x = callback(site, b, cb)
        return x if x.status_code != 503 else None
    last = wait_for(retried, timeout=90, step=1.0)
    assert last and last.status_code in (302, 303), describe(last) if last else 'still 503'
    assert {c.kind() for c in session_cookies(last)} >= {'at', 'rt'}
    assert _count(idp, '/token') == 1


# ---- H09: discovery throttle -----------------------------------------------------------
@pytest.mark.allow_log(ANY_AF)
def test_H09_discovery_throttle_from_end_of_fetch(site, idps):
    idp = idps['disc']
    r1 = get(site, login_path('disc', '/app'), Browser())
    assert r1.status_code == 504 and reason(r1) == 'oidc_idp_timeout', describe(r1)
    assert _count(idp, DISCOVERY) == 1
    r2 = get(site, login_path('disc', '/app'), Browser())
    assert _count(idp, DISCOVERY) == 1, \
        'a second discovery request right after the timed-out one (%s)' % describe(r2)
    assert r2.status_code == 504 and reason(r2) == 'oidc_idp_timeout', describe(r2)
    assert not r2.headers.get('Location')


# ---- MaxConcurrent at configtest ---------------------------------------------------------
@pytest.mark.parametrize('value,ok', [('1', True), ('1024', True), ('0', False),
                                      ('1025', False), ('-3', False), ('lots', False),
                                      ('2 3', False), ('16s', False)])
def test_H09_max_concurrent_configtest(workdir, value, ok):
    body = ('AuthFlowBaseURL http://127.0.0.1:8080\nAuthFlowStore "%s/store"\n'
            '<AuthFlowProvider p>\n  Issuer http://127.0.0.1:9\n  ClientID c\n  ClientSecret s3cret\n'
            '  MaxConcurrent %s\n</AuthFlowProvider>\n' % (workdir, value))
    rc, out = afharness.configtest(workdir, afharness.render_conf(workdir, 8080, body))
    if ok:
        assert rc == 0, out
    else:
        assert rc != 0, out
        assert re.search(r'<AuthFlowProvider p>: MaxConcurrent takes a number between 1 and '
                         r'1024 \(.*httpd-t.conf:\d+\)', out), out


# ---- one guard per <AuthFlowProvider> block, shared by the vhosts that inherit it ----------
@pytest.mark.allow_log(ANY_AF)
def test_H09_inherited_provider_shares_one_limit(httpd, keys, idps):
    idp = idps['brk']                              # its token endpoint hangs 5 s
    idp.set_mode()
    body = '''
AuthFlowBaseURL @BASE@
AuthFlowStore "@ROOT@/store"
AuthFlowSigningKey "%(key)s" kid=%(kid)s
%(provider)s
<Location /auth>
    SetHandler authflow
</Location>
<VirtualHost 127.0.0.1:@PORT2@>
    ServerName localhost
    AuthFlowBaseURL http://localhost:@PORT2@
    <Location /auth>
        SetHandler authflow
    </Location>
</VirtualHost>
''' % dict(key=keys.ec256.files['pem'], kid=keys.ec256.kid,
           provider=provider_block('shared', idp.url, extra='Timeout 4s\nMaxConcurrent 1'))
    srv = httpd('idp-guard-vhosts', body, ports=2, allow=[ANY_AF])
    vhost = 'http://127.0.0.1:%d' % srv.ports[1]
    pending = []
    for base in (srv.base, vhost):
        b = Browser()
        r = get(srv, base + login_path('shared', '/'), b)
        assert r.status_code == 302, describe(r)
        q = urllib.parse.urlencode([('code', 'garbage'), ('state', qs(r.headers['Location'])['state']),
                                    ('iss', idp.issuer)])
        pending.append((b, base + '/auth/callback?' + q))
    idp.set_mode('hang_token')
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as ex:
        first = ex.submit(lambda: get(srv, pending[0][1], pending[0][0], timeout=30))
        assert wait_for(lambda: _count(idp, '/token') >= 1, timeout=20), 'no token request'
        other = get(srv, pending[1][1], pending[1][0], timeout=30)   # the virtual host
        assert other.status_code == 503 and reason(other) == 'oidc_idp_busy', describe(other)
        assert first.result().status_code == 504, describe(first.result())
    assert _count(idp, '/token') == 1
