"""Issue 14, step-up with real logins: the real OpenID provider (oidc-provider,
tests/idp/provider.js) honours max_age + prompt=login and returns auth_time; the misbehaving
IdP (tests/idp/bad_idp.py, its own keys) sends an id_token without auth_time, with an old one,
or with the wrong acr -- the callback refuses those with a reason code (OIDC Core 3.1.2.1,
3.1.3.7 item 13), stores nothing and sets no login cookie.  Rotation keeps the original
auth_time.  Tokens are read with jwcrypto / base64, never by the module.
"""
import time
import urllib.parse

import pytest
import requests

import afharness
from loginhelp import (BAD_CLIENT, BadIdp, Browser, OidcProvider, assert_cbfail, callback,
                       describe, family_count, get, have_node, idp_redirect, login_path,
                       login_site, provider_block, reason, start, start_fixed, store_snapshot,
                       unverified_claims, BASIC_CLIENT)
import refreshhelp

pytestmark = pytest.mark.skipif(not have_node, reason='node or tests/idp/node_modules missing')

MAX_AGE = 4   # seconds (AuthFlowMaxAge of /admin); the site's clock skew is 1s
API = {'Accept': 'application/json', 'Sec-Fetch-Mode': 'cors', 'Sec-Fetch-Site': 'same-origin'}


@pytest.fixture(scope='module')
def site(request, keys, echo):
    port = afharness.free_port()
    cb = 'http://127.0.0.1:%d/auth/callback' % port
    idps = {}

    def fin():
        for p in idps.values():
            p.stop()
    request.addfinalizer(fin)
    idps['real'] = OidcProvider(alg='RS256', redirect_uris=[cb])
    idps['bad'] = BadIdp()
    providers = '\n'.join([provider_block('real', idps['real'].issuer, client=BASIC_CLIENT),
                           provider_block('bad', idps['bad'].url, client=BAD_CLIENT)])
    body = login_site(keys, echo, providers, apps=[('/app', 'real')],
                      server_extra='AuthFlowClockSkew 1s')
    body += '''
<Location /admin>
    AuthType AuthFlow
    AuthFlowLogin real
    AuthFlowMaxAge %ds
    Require valid-user
    ProxyPass "%s/admin"
</Location>
<Location /gold>
    AuthType AuthFlow
    AuthFlowLogin bad
    AuthFlowACR gold platinum
    Require authflow "acr == 'gold' || acr == 'platinum'"
    ProxyPass "%s/gold"
</Location>
''' % (MAX_AGE, echo.url, echo.url)
    srv = start_fixed(request, 'login-stepup', body, port)
    srv.store = srv.root + '/store'
    srv.idps = idps
    return srv


def login(srv, path, browser, idp_session=None, username='alice'):
    """Start at path (a protected page or /auth/login?...), walk the IdP, deliver the
    callback.  Returns (authorize URL, callback response)."""
    r, auth_url = start(srv, browser, path)
    assert auth_url, describe(r)
    cb_url = idp_redirect(auth_url, username, idp_session=idp_session)
    return auth_url, callback(srv, browser, cb_url)


def query(url):
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))


def test_stepup_max_age_with_the_real_idp(site, echo):
    b = Browser()
    idp = requests.Session()
    auth_url, cb = login(site, '/app', b, idp)
    assert cb.status_code == 302, describe(cb)
    assert 'max_age' not in query(auth_url)
    first = unverified_claims(b.get('at')[1])
    now = int(time.time())
    assert isinstance(first['auth_time'], int) and abs(first['auth_time'] - now) < 30, first
    # fresh: the step-up location lets it through
    r = get(site, '/admin/x', b)
    assert r.status_code == 200, (r.status_code, r.text[:200])
    # later than MaxAge + skew: navigations go to login with max_age, API calls get 401
    time.sleep(MAX_AGE + 2.5)
    r = get(site, '/admin/x?y=1', b)
    assert r.status_code == 302
    u = urllib.parse.urlsplit(r.headers['Location'])
    assert u.path == '/auth/login'
    assert query(r.headers['Location']) == {'provider': 'real', 'return_to': '/admin/x?y=1',
                                            'max_age': str(MAX_AGE)}
    r = get(site, '/admin/x', b, headers=API)
    assert r.status_code == 401
    assert r.headers['WWW-Authenticate'] == (
        'Bearer error="insufficient_user_authentication", '
        'error_description="A more recent authentication is required", max_age="%d"' % MAX_AGE)
    assert r.json()['error'] == 'step_up_max_age'
    assert 'max_age=%d' % MAX_AGE in r.json()['login_url']
    # the re-login: max_age and prompt=login go to the IdP (same IdP session: it must
    # authenticate again), the id_token's auth_time is new, and the page passes
    auth_url, cb = login(site, '/admin/x?y=1', b, idp)
    q = query(auth_url)
    assert q['max_age'] == str(MAX_AGE) and q['prompt'] == 'login'
    assert cb.status_code == 302, describe(cb)
    assert cb.headers['Location'].endswith('/admin/x?y=1')
    second = unverified_claims(b.get('at')[1])
    assert second['auth_time'] > first['auth_time']
    m = echo.mark()
    r = get(site, '/admin/x?y=1', b)
    assert r.status_code == 200
    assert len(echo.since(m)) == 1


def test_stepup_rotation_keeps_auth_time(site):
    b = Browser()
    _, cb = login(site, '/app', b)
    assert cb.status_code == 302, describe(cb)
    before = unverified_claims(b.get('at')[1])
    time.sleep(1.1)
    r = refreshhelp.refresh(site, b.header())
    assert r.status_code == 204, describe(r)
    b.take(r)
    after = unverified_claims(b.get('at')[1])
    assert after['jti'] != before['jti'] and after['iat'] > before['iat']
    assert after['auth_time'] == before['auth_time']


@pytest.mark.parametrize('mode,why', [('missing_auth_time', 'oidc_auth_time_missing'),
                                      ('old_auth_time', 'oidc_auth_time_too_old')])
def test_stepup_callback_refuses_auth_time(site, mode, why):
    bad = site.idps['bad']
    bad.set_mode(mode)
    try:
        b = Browser()
        path = login_path('bad', '/admin') + '&max_age=60'
        r, auth_url = start(site, b, path)
        assert query(auth_url)['max_age'] == '60' and query(auth_url)['prompt'] == 'login'
        before = store_snapshot(site.store)
        resp = callback(site, b, idp_redirect(auth_url))
        assert_cbfail(resp, 401, before, site.store, return_to='/admin')
        assert reason(resp) == why
    finally:
        bad.set_mode()


def test_stepup_auth_time_not_required_without_max_age(site):
    """Without max_age the IdP need not send auth_time: the login time stands in."""
    bad = site.idps['bad']
    bad.set_mode('missing_auth_time')
    try:
        b = Browser()
        n = family_count(site.store)
        _, cb = login(site, login_path('bad', '/app'), b)
        assert cb.status_code == 302, describe(cb)
        assert family_count(site.store) == n + 1
        c = unverified_claims(b.get('at')[1])
        assert abs(c['auth_time'] - int(time.time())) < 30
    finally:
        bad.set_mode()


def test_stepup_acr(site, echo):
    bad = site.idps['bad']
    bad.set_mode()
    b = Browser()
    _, cb = login(site, login_path('bad', '/app'), b)
    assert cb.status_code == 302, describe(cb)
    assert 'acr' not in unverified_claims(b.get('at')[1])
    # no acr: the gate sends the browser to login with acr_values
    r = get(site, '/gold/x', b)
    assert r.status_code == 302
    assert query(r.headers['Location'])['acr_values'] == 'gold platinum'
    auth_url, cb = login(site, '/gold/x', b)
    assert query(auth_url)['acr_values'] == 'gold platinum'
    assert cb.status_code == 302, describe(cb)
    c = unverified_claims(b.get('at')[1])
    assert c['acr'] == 'gold' and c['amr'] == ['pwd', 'otp']
    m = echo.mark()
    assert get(site, '/gold/x', b).status_code == 200
    assert len(echo.since(m)) == 1
    # the IdP answers with another acr than asked: refused.  A first login at the location
    # (no token yet) asks for its acr_values at once
    bad.set_mode('wrong_acr')
    try:
        b2 = Browser()
        r, auth_url = start(site, b2, '/gold/x')
        assert query(auth_url)['acr_values'] == 'gold platinum'
        before = store_snapshot(site.store)
        resp = callback(site, b2, idp_redirect(auth_url))
        assert_cbfail(resp, 401, before, site.store, return_to='/gold/x')
        assert reason(resp) == 'oidc_acr_not_satisfied'
    finally:
        bad.set_mode()


def test_stepup_login_parameters_checked(site):
    for q in ('&max_age=abc', '&max_age=-5', '&acr_values=%22x', '&max_age=1&max_age=2'):
        r = get(site, login_path('real', '/app') + q, Browser())
        assert r.status_code == 400, q
        assert reason(r) == 'step_up_parameter_invalid' or q.endswith('max_age=2')
