"""Issue 3: runtime behaviour of the server-level gate directives (CONFIG.md):
AuthFlowCookiePrefix, AuthFlowIssuer, AuthFlowAudience, AuthFlowClockSkew, AuthFlowLogin,
and the plain-http loopback cookie naming."""
import json
import time
import urllib.parse

import pytest

import sites
import tokens
from afharness import http
from conftest import start_server
from gatehelp import accept, deny, good_claims

ISS = 'https://issuer.example'
AUD = 'urn:app:tests'


@pytest.fixture(scope='module')
def site(request, keys, echo):
    extra = ('AuthFlowCookiePrefix myapp\nAuthFlowIssuer %s\nAuthFlowAudience %s\n'
             'AuthFlowClockSkew 10s' % (ISS, AUD))
    more = (sites.protected('/prov', echo.url, 'AuthFlowLogin google')
            + sites.protected('/ext', echo.url, 'AuthFlowLogin https://login.example/start')
            + sites.protected('/local', echo.url, 'AuthFlowLogin /signin'))
    return start_server(request, 'directives', sites.standard_site(keys, echo, server_extra=extra,
                                                                    more=more))


def claims(**kw):
    now = int(time.time())
    c = {'iss': ISS, 'aud': AUD, 'sub': 'alice', 'iat': now, 'nbf': now - 1, 'exp': now + 300,
         'jti': 'j-%f' % time.time(), 'email': 'alice@example.com'}
    for k, v in kw.items():
        if v is None:
            c.pop(k, None)
        else:
            c[k] = v
    return c


def test_cookie_prefix(site, keys, echo):
    t = tokens.mint(keys.ec256, claims())
    accept(site, echo, t, via='bearer')
    m = echo.mark()
    r = http('GET', site.url('/app/c'), headers=dict(sites.NAV, Cookie='myapp-at=' + t))
    assert r.status_code == 200
    for name in ('authflow-at', '__Host-authflow-at', '__Host-myapp-at', 'MYAPP-AT'):
        r = http('GET', site.url('/app/c'), headers=dict(sites.API, Cookie='%s=%s' % (name, t)))
        assert r.status_code == 401, name
    assert len(echo.since(m)) == 1


def test_default_prefix_on_plain_http_loopback(request, keys, echo):
    """CONFIG.md: plain-http loopback base URL -> cookies drop __Host- (authflow-at), and
    startup logs a warning saying so."""
    srv = start_server(request, 'prefix-default', sites.standard_site(keys, echo))
    assert 'AF07001' in srv.read_log() or '__Host-' in srv.read_log()
    t = tokens.mint(keys.ec256, good_claims(srv))
    accept(srv, echo, t, via='cookie')
    deny(srv, echo, tokens.mint(keys.attacker, good_claims(srv)))
    m = echo.mark()
    r = http('GET', srv.url('/app/c'), headers=dict(sites.API, Cookie='__Host-authflow-at=' + t))
    assert r.status_code == 401
    assert echo.since(m) == []


def test_issuer_and_audience(site, keys, echo):
    accept(site, echo, tokens.mint(keys.ec256, claims()))
    deny(site, echo, tokens.mint(keys.ec256, claims(iss=site.base)))
    deny(site, echo, tokens.mint(keys.ec256, claims(aud=site.base)))
    deny(site, echo, tokens.mint(keys.ec256, claims(aud=ISS)))


def test_clock_skew_configured(site, keys, echo):
    now = int(time.time())
    deny(site, echo, tokens.mint(keys.ec256, claims(exp=now - 12, iat=now - 100, nbf=now - 100)))
    now = int(time.time())
    accept(site, echo, tokens.mint(keys.ec256, claims(exp=now - 8, iat=now - 100, nbf=now - 100)))
    now = int(time.time())
    deny(site, echo, tokens.mint(keys.ec256, claims(nbf=now + 12)))


def _loc(r):
    assert r.status_code == 302, r.status_code
    return urllib.parse.urlsplit(r.headers['Location'])


def test_login_provider(site, echo):
    u = _loc(http('GET', site.url('/prov/page?x=1'), headers=sites.NAV))
    assert u.path == '/auth/login'
    q = urllib.parse.parse_qs(u.query)
    assert q['provider'] == ['google']
    assert q['return_to'][0] in ('/prov/page?x=1', site.base + '/prov/page?x=1')


def test_login_url_and_path(site, echo):
    u = _loc(http('GET', site.url('/ext/page'), headers=sites.NAV))
    assert (u.scheme, u.netloc, u.path) == ('https', 'login.example', '/start')
    assert urllib.parse.parse_qs(u.query)['return_to'][0] in ('/ext/page', site.base + '/ext/page')
    u = _loc(http('GET', site.url('/local/page'), headers=sites.NAV))
    assert u.path == '/signin'


def test_401_has_no_store(site, echo):
    r = http('GET', site.url('/app/x'), headers=sites.API)
    assert r.status_code == 401
    assert 'no-store' in r.headers.get('Cache-Control', '')
    r = http('GET', site.url('/app/x'), headers=sites.NAV)
    assert r.status_code == 302
    assert 'no-store' in r.headers.get('Cache-Control', '')


def test_D13_query_token_not_reflected(site, keys, echo):
    """A token in the query is ignored, and the module does not copy it into its own
    responses (Location / login_url in the 401 body): no token material in a URL."""
    t = tokens.mint(keys.ec256, claims())
    for h in (sites.API, sites.NAV):
        r = http('GET', site.url('/app/d13?access_token=' + t + '&x=1'), headers=h)
        assert r.status_code in (302, 401)
        assert t not in r.text
        assert t not in json.dumps(dict(r.headers))
