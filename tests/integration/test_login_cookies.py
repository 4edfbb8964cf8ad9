"""Login cookies: F02 (configuration the browser would silently drop -> configtest fails),
F04 (large claims: every Set-Cookie name+value <= 4096), F10 (the sealed flow cookie:
a flipped bit, swapped names, a replayed old one -> 400, nothing stored), plus configtest
errors of <AuthFlowProvider> blocks (unknown keys name the line).
"""
import os
import re

import pytest

import afharness
import conftest
from loginhelp import (BadIdp, Browser, assert_cbfail, callback, describe, echo_of, get,
                       family_count, full_login, idp_redirect, login_path, login_site,
                       provider_block, session_cookies, set_cookies, start, store_snapshot)

BIG_IDP = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'big_idp.py')


# ---- configtest -----------------------------------------------------------------------------
def _conf(workdir, keys, echo, providers, server_extra='', base='http://127.0.0.1:8080'):
    body = login_site(keys, echo, providers, apps=[('/app', None)], server_extra=server_extra,
                      base=base, store=os.path.join(workdir, 'store'))
    return afharness.render_conf(workdir, 8080, body)


GOOD = provider_block('idp', 'http://127.0.0.1:9')


def test_F02_configtest_good_site(workdir, keys, echo):
    rc, out = afharness.configtest(workdir, _conf(workdir, keys, echo, GOOD))
    assert rc == 0, out


def test_F02_configtest_host_prefix_on_https(workdir, keys, echo):
    rc, out = afharness.configtest(workdir, _conf(
        workdir, keys, echo, GOOD, base='https://app.example.com',
        server_extra='AuthFlowCookiePrefix __Host-myapp'))
    assert rc == 0, out


@pytest.mark.parametrize('line', ['AuthFlowCookiePrefix "bad;name"', 'AuthFlowCookiePrefix "a b"',
                                  'AuthFlowCookiePrefix "x=y"', 'AuthFlowCookieSameSite Sometimes'])
def test_F02_configtest_bad_cookie_settings(workdir, keys, echo, line):
    rc, out = afharness.configtest(workdir, _conf(workdir, keys, echo, GOOD, server_extra=line))
    assert rc != 0, out
    assert line.split()[0] in out, out


def test_F02_samesite_none_needs_secure(workdir, keys, echo):
    """SameSite=None without Secure is dropped by browsers; on a plain-http base URL the
    module cannot send Secure, so the combination must fail configtest."""
    rc, out = afharness.configtest(workdir, _conf(workdir, keys, echo, GOOD,
                                                  server_extra='AuthFlowCookieSameSite None'))
    assert rc != 0, out
    assert 'AuthFlowCookieSameSite' in out, out


@pytest.mark.parametrize('body,needle', [
    ('Issuer http://127.0.0.1:9\nClientID x\nClientSecret y\nCookieDomain example.com',
     'CookieDomain'),
    ('Issuer http://idp.example.com\nClientID x\nClientSecret y', 'Issuer'),
    ('Issuer http://127.0.0.1:9\nClientSecret y', 'ClientID'),
    ('Issuer http://127.0.0.1:9\nClientID x\nClientSecret y\nTokenEndpointAuth private_key_jwt',
     'TokenEndpointAuth'),
    ('Issuer http://127.0.0.1:9\nClientID x\nClientSecret y\nPreset facebook', 'Preset'),
    ('Issuer http://127.0.0.1:9\nClientID x\nClientSecret y\nIDTokenSigningAlg none RS256',
     'none'),
])
def test_F02_configtest_provider_errors(workdir, keys, echo, body, needle):
    prov = '<AuthFlowProvider idp>\n%s\n</AuthFlowProvider>' % body
    conf = _conf(workdir, keys, echo, prov)
    rc, out = afharness.configtest(workdir, conf)
    assert rc != 0, out
    assert needle in out, out
    if needle == 'CookieDomain':
        line = [i + 1 for i, ln in enumerate(conf.splitlines()) if 'CookieDomain' in ln][0]
        assert re.search(r'(line |:)%d\b' % line, out), out


def test_F02_configtest_duplicate_provider(workdir, keys, echo):
    rc, out = afharness.configtest(workdir, _conf(workdir, keys, echo, GOOD + '\n' + GOOD))
    assert rc != 0 and 'idp' in out, out


# ---- a site for F04 and F10 -------------------------------------------------------------------
@pytest.fixture(scope='module')
def idps():
    started = {}
    try:
        started['bad'] = BadIdp()
        started['big'] = BadIdp(script=BIG_IDP)
        yield started
    finally:
        for s in started.values():
            s.stop()


@pytest.fixture(scope='module')
def site(request, keys, echo, idps):
    providers = '\n'.join([provider_block('bad', idps['bad'].url),
                           provider_block('big', idps['big'].url)])
    body = login_site(keys, echo, providers, apps=[('/app', 'bad')])
    srv = conftest.start_server(request, 'login-cookies', body)
    srv.store = srv.root + '/store'
    return srv


def test_F04_large_claims_fit_cookies(site):
    n = family_count(site.store)
    lg = full_login(site, 'big', '/app')
    assert lg.cb_resp.status_code in (302, 303), describe(lg.cb_resp)
    assert family_count(site.store) == n + 1
    for c in set_cookies(lg.cb_resp):
        assert len(c.name) + 1 + len(c.value) <= 4096, (c.name, len(c.value))
    made = session_cookies(lg.cb_resp)
    assert {c.kind() for c in made} >= {'at', 'rt'}
    assert len([c for c in made if c.kind() not in ('at', 'rt')]) <= 8
    cookie = lg.browser.header()
    assert len('Cookie: ' + cookie) < 8190
    r = get(site, '/app', lg.browser)
    assert r.status_code == 200, describe(r)
    item = echo_of(r)
    assert [v for k, v in item['headers'] if k.lower() == 'x-env-sub'] == ['alice@big']


# ---- F10: the sealed flow cookie ----------------------------------------------------------------
def _pending(site):
    b = Browser()
    r, auth = start(site, b, login_path('bad', '/app'))
    assert auth, describe(r)
    name, value = b.get('flow')
    return b, idp_redirect(auth), name, value


def _flip(value, pos):
    alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    c = value[pos]
    i = alphabet.find(c)
    repl = alphabet[i ^ 1] if i >= 0 else ('A' if c != 'A' else 'B')
    return value[:pos] + repl + value[pos + 1:]


@pytest.mark.parametrize('where', ['start', 'middle', 'end'])
def test_F10_flipped_bit(site, where):
    b, cb, name, value = _pending(site)
    pos = {'start': 2, 'middle': len(value) // 2, 'end': len(value) - 2}[where]
    before = store_snapshot(site.store)
    r = callback(site, Browser(), cb, cookie='%s=%s' % (name, _flip(value, pos)))
    assert_cbfail(r, 400, before, site.store, flow_sent=False)


def test_F10_truncated(site):
    b, cb, name, value = _pending(site)
    before = store_snapshot(site.store)
    r = callback(site, Browser(), cb, cookie='%s=%s' % (name, value[:-10]))
    assert_cbfail(r, 400, before, site.store, flow_sent=False)


def test_F10_flow_value_under_other_names(site):
    """The flow blob sent as the access or refresh cookie is no login."""
    b, cb, name, value = _pending(site)
    prefix = name[:-len('flow')]
    for other in ('at', 'rt'):
        r = get(site, '/app', cookie='%s%s=%s' % (prefix, other, value),
                headers={'Accept': 'application/json', 'Sec-Fetch-Mode': 'cors'})
        assert r.status_code == 401, (other, describe(r))


def test_F10_other_cookie_value_as_flow(site):
    first = full_login(site, 'bad', '/app')
    assert first.ok
    b, cb, name, value = _pending(site)
    before = store_snapshot(site.store)
    for other in ('at', 'rt'):
        r = callback(site, Browser(), cb, cookie='%s=%s' % (name, first.browser.get(other)[1]))
        assert_cbfail(r, 400, before, site.store, flow_sent=False)


def test_F10_flow_cookie_of_other_server(site, request, keys, echo, idps):
    """A flow sealed by another server (another secret) is not accepted here."""
    other = conftest.start_server(request, 'login-cookies-other', login_site(
        keys, echo, provider_block('bad', idps['bad'].url), apps=[('/app', 'bad')]))
    b = Browser()
    r, auth = start(other, b, login_path('bad', '/app'))
    assert auth, describe(r)
    mine, cb_mine, name, _v = _pending(site)
    before = store_snapshot(site.store)
    r = callback(site, Browser(), cb_mine, cookie='%s=%s' % (name, b.get('flow')[1]))
    assert_cbfail(r, 400, before, site.store, flow_sent=False)


def test_F10_replayed_old_flow_cookie(site):
    b, cb, name, value = _pending(site)
    ok = callback(site, b, cb)
    assert ok.status_code in (302, 303), describe(ok)
    before = store_snapshot(site.store)
    r = callback(site, Browser(), cb, cookie='%s=%s' % (name, value))
    assert_cbfail(r, 400, before, site.store)
    # an old flow cookie next to a new login's state: still only the new login's flow counts
    b2, cb2, _n, _v2 = _pending(site)
    r = callback(site, Browser(), cb2, cookie='%s=%s' % (name, value))
    assert_cbfail(r, 400, before, site.store, flow_sent=False)
