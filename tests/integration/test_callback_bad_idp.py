"""The login callback against a misbehaving IdP (tests/idp/bad_idp.py): SECURITY.md groups D
and E.  Every rejection: the stated status, no login cookie, no redirect to return_to, the
LMDB session databases unchanged (mdb_dump before/after), the flow cookie cleared.

One httpd (prefork: the single-use state must hold across children) and a few bad IdPs for
the whole module; each test sets the IdP's modes through /_control.
"""
import base64
import hashlib
import re
import secrets
import time
import urllib.parse

import pytest

import afharness
import conftest
from loginhelp import (describe, BAD_CLIENT, B64URL, BadIdp, Browser, assert_cbfail, callback,
                       echo_header, echo_of, family_count, full_login, get, idp_redirect,
                       login_path, login_site, provider_block, qs, session_cookies, store_families,
                       set_cookies, start, store_snapshot, unverified_claims)

ENC_CLIENT = ('authflow test:id', 'p%s:+&=/ secret-0123456789abcdef')
IDP_5XX = r'AF0\d{4}'   # the module may log an unusable IdP at warn/error
GH = ['github', 'iss_param_missing']   # GitHub sends no RFC 9207 iss parameter
JWKS_THROTTLE = 10   # seconds: at most one JWKS fetch per provider per interval (C06)


@pytest.fixture(scope='module')
def idps():
    started = {}
    try:
        started['bad'] = BadIdp(hang_seconds=5)
        started['rot'] = BadIdp()
        started['rot2'] = BadIdp()
        started['gh'] = BadIdp(modes=GH, sub='octocat')
        started['b2'] = BadIdp()
        started['enc'] = BadIdp(client=ENC_CLIENT)
        started['google'] = BadIdp(issuer='https://accounts.google.com')
        started['kakao'] = BadIdp(issuer='https://kauth.kakao.com')
        yield started
    finally:
        for s in started.values():
            s.stop()


@pytest.fixture(scope='module')
def site(request, keys, echo, idps):
    i = idps
    providers = '\n'.join([
        provider_block('bad', i['bad'].url, extra='Timeout 2s'),
        provider_block('post', i['bad'].url, auth='client_secret_post'),
        provider_block('rot', i['rot'].url),
        provider_block('rot2', i['rot2'].url),
        provider_block('b2', i['b2'].url),
        provider_block('enc', i['enc'].url, client=('"%s"' % ENC_CLIENT[0], ENC_CLIENT[1])),
        provider_block('gh', None, scope='read:user user:email', extra='''
            Preset github
            AuthorizationEndpoint %(u)s/authorize
            TokenEndpoint %(u)s/token
            UserinfoEndpoint %(u)s/user''' % dict(u=i['gh'].url)),
    ] + [provider_block(name, None, extra='''
            Preset %(name)s
            AuthorizationEndpoint %(u)s/authorize
            TokenEndpoint %(u)s/token
            UserinfoEndpoint %(u)s/userinfo
            JwksURI %(u)s/jwks''' % dict(name=name, u=i[name].url))
        for name in ('google', 'kakao')])
    body = login_site(keys, echo, providers, apps=[('/app', 'bad'), ('/other', 'bad')])
    srv = conftest.start_server(request, 'callback-bad-idp', body, mpm='prefork')
    srv.store = srv.root + '/store'
    # E16: the first login with rot2 caches its JWKS (in the child that served it); the
    # rotation test runs once the refetch throttle interval has passed
    srv.rot2_warm = [full_login(srv, 'rot2', '/app') for _ in range(3)]
    srv.rot2_time = time.time()
    return srv


@pytest.fixture(autouse=True)
def _reset(idps):
    for name, idp in idps.items():
        idp.set_mode(*(GH if name == 'gh' else []))
    yield


def attempt(site, idp, modes=(), provider='bad', return_to='/app'):
    """Start a login, let the IdP answer (with modes), deliver the callback.
    Returns (callback response, store snapshot taken before the callback, callback URL)."""
    idp.set_mode(*modes)
    b = Browser()
    r, auth = start(site, b, login_path(provider, return_to))
    assert auth, 'login start failed: %d %s' % (r.status_code, r.text[:300])
    cb = idp_redirect(auth)
    before = store_snapshot(site.store)
    resp = callback(site, b, cb)
    return resp, before, cb


def fail(site, idp, modes, status, provider='bad'):
    resp, before, cb = attempt(site, idp, modes, provider)
    assert_cbfail(resp, status, before, site.store, secrets_=[qs(cb).get('code')])
    return resp


def succeed(site, provider='bad', return_to='/app'):
    n = family_count(site.store)
    lg = full_login(site, provider, return_to)
    assert lg.cb_resp.status_code in (302, 303), describe(lg.cb_resp)
    kinds = {c.kind() for c in session_cookies(lg.cb_resp)}
    assert kinds >= {'at', 'rt'}, set_cookies(lg.cb_resp)
    assert family_count(site.store) == n + 1
    return lg


def app_view(site, lg, path='/app'):
    r = get(site, path, lg.browser)
    assert r.status_code == 200, (r.status_code, r.text[:200])
    return echo_of(r)


# ---- D01, D02: the authorization request -------------------------------------------------
def test_D01_authorization_request(site, idps):
    seen = []
    for _ in range(2):
        r, auth = start(site, Browser(), login_path('bad', '/app'))
        assert r.status_code == 302 and auth.startswith(idps['bad'].url + '/authorize?')
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(auth).query)
        assert all(len(v) == 1 for v in q.values()), q
        q = {k: v[0] for k, v in q.items()}
        assert q['response_type'] == 'code'
        assert q['code_challenge_method'] == 'S256'
        assert len(q['code_challenge']) == 43 and B64URL.match(q['code_challenge'])
        assert q['redirect_uri'] == site.base + '/auth/callback'
        assert q['client_id'] == BAD_CLIENT[0]
        assert 'openid' in q['scope'].split()
        for k in ('state', 'nonce'):
            assert len(q[k]) >= 22 and B64URL.match(q[k]), (k, q[k])   # >= 128 bits
        seen.append(q)
    for k in ('state', 'nonce', 'code_challenge'):
        assert seen[0][k] != seen[1][k], 'not fresh: ' + k
    assert seen[0]['state'] != seen[0]['nonce']


def test_D01_verifier_at_token_endpoint(site, idps):
    bad = idps['bad']
    lg = succeed(site)
    challenge = qs(lg.auth_url)['code_challenge']
    tok = [e for e in bad.log() if e['path'] == '/token']
    assert len(tok) == 1
    v = tok[0]['code_verifier']
    assert 43 <= len(v) <= 128 and re.match(r'^[A-Za-z0-9._~-]+$', v)
    digest = base64.urlsafe_b64encode(hashlib.sha256(v.encode()).digest()).rstrip(b'=')
    assert digest.decode() == challenge


def test_D02_github_pkce_and_identity(site, idps):
    gh = idps['gh']
    lg = succeed(site, 'gh')
    q = qs(lg.auth_url)
    assert q['code_challenge_method'] == 'S256' and len(q['code_challenge']) == 43
    assert 'openid' not in q.get('scope', '').split()
    tok = [e for e in gh.log() if e['path'] == '/token']
    assert len(tok) == 1 and tok[0]['code_verifier']
    c = lg.claims()
    assert c['sub'] == '583231@gh'                    # D16: numeric id from GET /user (H05)
    assert c['idp_sub'] == '583231'
    assert c.get('email') == 'octocat@example.com'    # verified + primary from /user/emails
    assert '/user/emails' in gh.paths()


def test_D16_github_unverified_email_not_exported(site, idps):
    idps['gh'].set_mode(*GH, 'github_no_verified_email')
    lg = succeed(site, 'gh')
    c = lg.claims()
    assert c['sub'] == '583231@gh' and c['idp_sub'] == '583231'
    assert 'email' not in c or c['email'] in (None, ''), c
    item = app_view(site, lg)
    assert not echo_header(item, 'X-Auth-Email')


def test_D16_github_identity_not_from_query(site, idps):
    b = Browser()
    _, auth = start(site, b, login_path('gh', '/app'))
    cb = idp_redirect(auth) + '&id=1&login=admin&sub=admin&email=admin%40example.com'
    r = callback(site, b, cb)
    assert r.status_code in (302, 303), describe(r)
    c = unverified_claims(b.get('at')[1])
    assert c['sub'] == '583231@gh' and c.get('email') != 'admin@example.com'


# ---- D03: callback parameters ---------------------------------------------------------------
def _pending(site, provider='bad'):
    b = Browser()
    r, auth = start(site, b, login_path(provider, '/app'))
    assert auth, r.text[:300]
    return b, idp_redirect(auth)


def _with_query(cb, drop=(), add=(), replace=None):
    u = urllib.parse.urlsplit(cb)
    q = [(k, v) for k, v in urllib.parse.parse_qsl(u.query) if k not in drop]
    if replace:
        q = [(k, replace.get(k, v)) for k, v in q]
    q += list(add)
    return u.path + '?' + urllib.parse.urlencode(q)


def test_D03_state_missing(site):
    b, cb = _pending(site)
    before = store_snapshot(site.store)
    r = callback(site, b, _with_query(cb, drop=('state',)))
    assert_cbfail(r, 400, before, site.store, flow_sent=False)


def test_D03_state_unknown(site):
    b, cb = _pending(site)
    before = store_snapshot(site.store)
    r = callback(site, b, _with_query(cb, replace={'state': secrets.token_urlsafe(16)}))
    assert_cbfail(r, 400, before, site.store, flow_sent=False)


def test_D03_state_of_another_browser(site):
    victim, cb_v = _pending(site)
    attacker, _cb_a = _pending(site)
    before = store_snapshot(site.store)
    r = callback(site, attacker, cb_v)      # the victim's state with the attacker's flow cookie
    assert_cbfail(r, 400, before, site.store, flow_sent=False)


def test_D03_no_flow_cookie(site):
    _b, cb = _pending(site)
    before = store_snapshot(site.store)
    r = callback(site, Browser(), cb)
    assert_cbfail(r, 400, before, site.store, flow_sent=False)


@pytest.mark.parametrize('mode', ['duplicate_state', 'duplicate_code', 'duplicate_iss'])
def test_D03_duplicate_parameter(site, idps, mode):
    fail(site, idps['bad'], [mode], 400)
    assert '/token' not in idps['bad'].paths()


# ---- D04: replay ---------------------------------------------------------------------------
def test_D04_replayed_callback(site):
    b = Browser()
    _, auth = start(site, b, login_path('bad', '/app'))
    flow_cookie = b.header()
    cb = idp_redirect(auth)
    first = callback(site, b, cb)
    assert first.status_code in (302, 303)
    before = store_snapshot(site.store)
    n = family_count(site.store)
    # prefork, a new connection per request: the replays reach other children too
    for _ in range(4):
        r = callback(site, Browser(), cb, cookie=flow_cookie)
        assert_cbfail(r, 400, before, site.store)
    assert family_count(site.store) == n


# ---- D05: code injection ---------------------------------------------------------------------
def test_D05_code_injection(site, idps):
    victim, cb_v = _pending(site)
    _attacker, cb_a = _pending(site)
    idps['bad'].set_mode()
    before = store_snapshot(site.store)
    injected = _with_query(cb_v, replace={'code': qs(cb_a)['code']})
    r = callback(site, victim, injected)
    assert_cbfail(r, 401, before, site.store)
    tok = [e for e in idps['bad'].log() if e['path'] == '/token']
    assert len(tok) == 1, 'no retry with another verifier: %r' % tok


# ---- D06: mix-up ------------------------------------------------------------------------------
@pytest.mark.parametrize('mode', ['iss_param_mismatch', 'iss_param_missing'])
def test_D06_iss_parameter(site, idps, mode):
    fail(site, idps['bad'], [mode], 400)
    assert '/token' not in idps['bad'].paths(), 'code sent to a token endpoint'


def test_D06_response_from_other_provider(site, idps):
    """A login started with b2 receives bad's authorization response (iss = bad)."""
    b, _cb_b2 = _pending(site, 'b2')
    _b, cb_bad = _pending(site, 'bad')
    idps['bad'].set_mode()
    idps['b2'].set_mode()
    state_b2 = qs(_cb_b2)['state']
    before = store_snapshot(site.store)
    r = callback(site, b, _with_query(cb_bad, replace={'state': state_b2}))
    assert_cbfail(r, 400, before, site.store)
    assert '/token' not in idps['bad'].paths() and '/token' not in idps['b2'].paths()


def test_D06_id_token_iss_other(site, idps):
    fail(site, idps['bad'], ['wrong_iss'], 401)


# ---- D07 / E11: nonce ---------------------------------------------------------------------------
@pytest.mark.parametrize('mode', ['wrong_nonce', 'missing_nonce'])
def test_D07_nonce(site, idps, mode):
    fail(site, idps['bad'], [mode], 401)


def test_E11_nonce_invalid(site, idps):
    fail(site, idps['bad'], ['wrong_nonce'], 401)


# ---- D09: redirect_uri ---------------------------------------------------------------------------
def test_D09_redirect_uri_from_config(site, idps):
    b = Browser()
    r = get(site, login_path('bad', '/app'), b,
            headers={'Host': 'evil.example', 'X-Forwarded-Host': 'evil.example',
                     'X-Forwarded-Proto': 'https', 'Forwarded': 'host=evil.example'})
    assert r.status_code == 302
    q = qs(r.headers['Location'])
    assert q['redirect_uri'] == site.base + '/auth/callback'
    # the token request must carry the same bytes (the bad IdP compares them)
    r2 = callback(site, b, idp_redirect(r.headers['Location']))
    assert r2.status_code in (302, 303), describe(r2)
    assert urllib.parse.urlsplit(r2.headers['Location']).netloc in ('', '127.0.0.1:%d' % site.port)


@pytest.mark.parametrize('path', ['/auth/callback/x', '/auth/callback;x', '/auth/callback%2F..',
                                  '/auth/callbackx', '/auth/Callback'])
def test_D09_not_a_callback(site, path):
    b, cb = _pending(site)
    before = store_snapshot(site.store)
    q = urllib.parse.urlsplit(cb).query
    r = get(site, path + '?' + q, b)
    assert r.status_code in (400, 404), (r.status_code, r.text[:200])
    assert not session_cookies(r)
    assert store_snapshot(site.store) == before


# ---- D11: IdP error response ---------------------------------------------------------------------
def test_D11_idp_error_escaped(site, idps):
    r = fail(site, idps['bad'], ['error_response'], 400)
    assert '<script>alert(1)</script>' not in r.text
    assert 'evil.example' not in r.headers.get('Location', '')
    assert 'text/html' in r.headers.get('Content-Type', '')
    assert '/token' not in idps['bad'].paths()


# ---- D12: redirect hygiene ----------------------------------------------------------------------
def test_D12_success_redirect_hygiene(site):
    lg = succeed(site, return_to='/app/page?x=1')
    r = lg.cb_resp
    assert r.status_code in (302, 303)
    loc = r.headers['Location']
    assert loc in ('/app/page?x=1', site.base + '/app/page?x=1'), loc
    assert 'code=' not in loc and 'state=' not in loc
    assert 'no-store' in r.headers.get('Cache-Control', '')
    assert r.headers.get('Referrer-Policy') == 'no-referrer'


def test_D12_error_page_headers(site, idps):
    r = fail(site, idps['bad'], ['wrong_nonce'], 401)
    assert 'no-store' in r.headers.get('Cache-Control', '')
    xfo = r.headers.get('X-Frame-Options', '').upper()
    csp = r.headers.get('Content-Security-Policy', '')
    assert xfo == 'DENY' or "frame-ancestors 'none'" in csp, r.headers
    assert r.headers.get('Referrer-Policy') == 'no-referrer'


# ---- D13: token in URL or form ------------------------------------------------------------------
def test_D13_token_in_url_or_form_ignored(site):
    lg = succeed(site)
    at = lg.at()
    r = get(site, '/app?access_token=' + at, cookie='')
    assert r.status_code in (302, 401)
    r = afharness.http('POST', site.url('/app'), data={'access_token': at},
                       headers={'Accept': 'application/json'})
    assert r.status_code in (302, 401)


# ---- D14: session fixation -----------------------------------------------------------------------
def test_D14_planted_login_cookie_replaced(site):
    first = succeed(site)
    sid1 = first.claims()['sid']
    planted = first.browser.copy()          # the attacker's login cookies in the victim's jar
    lg = full_login(site, 'bad', '/app', browser=planted)
    assert lg.cb_resp.status_code in (302, 303)
    made = {c.kind(): c.value for c in session_cookies(lg.cb_resp)}
    assert made.get('at') and made.get('rt'), 'no fresh login cookies'
    assert made['rt'] != first.browser.get('rt')[1]
    assert unverified_claims(made['at'])['sid'] != sid1
    fams = store_families(site.store)
    assert fams[sid1]['state'] == 'revoked', fams[sid1]
    assert fams[unverified_claims(made['at'])['sid']]['state'] == 'active'
    site.d14_planted = first


def test_D14_planted_access_token_denied(site):
    """The revoked planted login's access token no longer passes the gate
    (AuthFlowCheckRevocation on, the default)."""
    first = getattr(site, 'd14_planted', None) or succeed(site)
    if not hasattr(site, 'd14_planted'):
        full_login(site, 'bad', '/app', browser=first.browser.copy())
    r = get(site, '/app', cookie=first.browser.header(), headers={'Accept': 'application/json',
                                                                  'Sec-Fetch-Mode': 'cors'})
    assert r.status_code == 401, 'revoked login still passes the gate (%d)' % r.status_code


# ---- D17: provider-specific issuer ---------------------------------------------------------------
def test_D17_generic_provider_rejects_other_issuer(site, idps):
    fail(site, idps['bad'], ['wrong_iss'], 401)


@pytest.mark.parametrize('name', ['google', 'kakao'])
def test_D17_preset_issuer_accepted(site, idps, name):
    """Preset google / kakao (endpoints pointed at the local test IdP, which signs with the
    provider's real issuer): the preset's issuer is accepted."""
    lg = succeed(site, name)
    assert lg.claims()['idp'] == name
    auth = [e['client_auth'] for e in idps[name].log() if e['path'] == '/token']
    # Kakao authenticates the client with client_secret_post; Google with basic
    assert auth == ['client_secret_post' if name == 'kakao' else 'client_secret_basic']


@pytest.mark.parametrize('name', ['google', 'kakao'])
@pytest.mark.parametrize('mode,status', [('wrong_iss', 401), ('iss_param_mismatch', 400),
                                         ('wrong_aud', 401)])
def test_D17_preset_other_issuer_or_audience(site, idps, name, mode, status):
    fail(site, idps[name], [mode], status, provider=name)


# ---- D18: token endpoint response ----------------------------------------------------------------
@pytest.mark.parametrize('mode,status', [
    ('token_not_json', 401), ('token_no_id_token', 401), ('token_type_mac', 401),
    ('token_error_200', 401), ('token_form_encoded', 401), ('token_400', 401),
    ('wrong_at_hash', 401)])
def test_D18_token_response(site, idps, mode, status):
    fail(site, idps['bad'], [mode], status)


@pytest.mark.allow_log(IDP_5XX)
def test_D18_token_endpoint_5xx(site, idps):
    fail(site, idps['bad'], ['token_500'], 502)


@pytest.mark.allow_log(IDP_5XX)
def test_D18_token_endpoint_hangs(site, idps):
    t0 = time.time()
    fail(site, idps['bad'], ['hang_token'], 504)
    assert time.time() - t0 < 30


# ---- E: OpenID RP conformance, replicated --------------------------------------------------------
def test_E01_code_flow_accepts_valid_id_token(site):
    lg = succeed(site)
    item = app_view(site, lg)
    assert echo_header(item, 'X-Env-Sub') == 'alice@bad'
    assert echo_header(item, 'X-Auth-Email') == 'alice@example.com'
    assert echo_header(item, 'X-Env-Provider') == 'bad'


def test_E02_issuer_mismatch_no_userinfo(site, idps):
    fail(site, idps['bad'], ['wrong_iss'], 401)
    assert '/userinfo' not in idps['bad'].paths()


def test_E03_missing_sub(site, idps):
    fail(site, idps['bad'], ['missing_sub'], 401)


@pytest.mark.parametrize('mode', ['wrong_aud', 'missing_aud', 'multi_aud_no_azp', 'wrong_azp'])
def test_E04_audience(site, idps, mode):
    fail(site, idps['bad'], [mode], 401)


@pytest.mark.parametrize('mode', ['missing_iat', 'old_iat', 'future_iat', 'expired',
                                  'missing_exp'])
def test_E05_iat_exp(site, idps, mode):
    fail(site, idps['bad'], [mode], 401)


def test_E05_iat_ahead_within_clock_skew(site, idps):
    """An IdP whose clock is 30 s ahead: inside the default AuthFlowClockSkew (60 s)."""
    idps['bad'].set_mode('iat_ahead_30')
    succeed(site)


def test_E05_provider_leeway_is_AuthFlowClockSkew(request, keys, echo, idps):
    """AuthFlowClockSkew is the leeway of the IdP's tokens too: with 5s, an id_token issued
    30 s in the future is refused (it was accepted with a fixed 60 s provider leeway)."""
    body = login_site(keys, echo, provider_block('b2', idps['b2'].url), apps=[('/app', 'b2')],
                      server_extra='AuthFlowClockSkew 5s')
    srv = conftest.start_server(request, 'callback-skew', body, mpm='event')
    srv.store = srv.root + '/store'
    fail(srv, idps['b2'], ['iat_ahead_30'], 401, provider='b2')
    idps['b2'].set_mode()
    succeed(srv, 'b2')


def test_E06_kid_absent_single_jwks(site, idps):
    idps['rot'].set_mode('kid_absent_single')
    succeed(site, 'rot')


def test_E07_kid_absent_multiple_jwks(site, idps):
    idps['rot'].set_mode('kid_absent_multi')
    resp, before, _cb = attempt(site, idps['rot'], ['kid_absent_multi'], 'rot')
    if resp.status_code in (302, 303):
        assert {c.kind() for c in session_cookies(resp)} >= {'at', 'rt'}
    else:
        assert_cbfail(resp, 401, before, site.store)


def test_E08_rs256(site):
    lg = succeed(site)
    assert lg.claims()['sub'] == 'alice@bad' and lg.claims()['idp_sub'] == 'alice'


@pytest.mark.parametrize('modes', [['bad_sig'], ['other_alg', 'bad_sig'], ['hs256_bad_sig']],
                         ids=['rs256', 'es256', 'hs256'])
def test_E09_bad_signature_no_userinfo(site, idps, modes):
    fail(site, idps['bad'], modes, 401)
    assert '/userinfo' not in idps['bad'].paths()


def test_E09_unknown_kid(site, idps):
    fail(site, idps['bad'], ['unknown_kid'], 401)
    assert idps['bad'].paths().count('/jwks') <= 2   # at most one refetch per child


def test_A19_hs256_not_configured(site, idps):
    fail(site, idps['bad'], ['hs256'], 401)


def test_E10_alg_none(site, idps):
    fail(site, idps['bad'], ['alg_none'], 401)


@pytest.mark.parametrize('mode', ['userinfo_sub_mismatch', 'userinfo_no_sub'])
def test_E12_userinfo_sub(site, idps, mode):
    fail(site, idps['bad'], [mode], 401)


def test_E13_scope_claims_exported(site, idps):
    lg = succeed(site)
    c = lg.claims()
    assert c.get('email') == 'alice@example.com' and c.get('groups') == ['ops', 'dev']
    item = app_view(site, lg)
    assert echo_header(item, 'X-Auth-Groups') == 'ops,dev'
    assert echo_header(item, 'X-Auth-Name') == 'Alice Example'


def test_E14_client_secret_basic(site, idps):
    succeed(site, 'bad')
    tok = [e for e in idps['bad'].log() if e['path'] == '/token']
    assert [e['client_auth'] for e in tok] == ['client_secret_basic']
    assert 'client_secret' not in tok[0]['form_keys']


def test_E14_client_secret_basic_form_encoded(site, idps):
    """client id and secret with ' ', ':', '%', '+', '&', '=', '/' (RFC 6749 §2.3.1)."""
    succeed(site, 'enc')
    tok = [e for e in idps['enc'].log() if e['path'] == '/token']
    assert [e['client_auth'] for e in tok] == ['client_secret_basic']


def test_E14_client_secret_post(site, idps):
    succeed(site, 'post')
    tok = [e for e in idps['bad'].log() if e['path'] == '/token']
    assert [e['client_auth'] for e in tok] == ['client_secret_post']


def test_E16_signing_key_rotation(site, idps):
    rot = idps['rot2']
    assert all(lg.ok for lg in site.rot2_warm)   # the JWKS with the first key is cached now
    time.sleep(max(0.0, site.rot2_time + JWKS_THROTTLE + 1 - time.time()))
    rot.set_mode('rotate_key')
    for _ in range(3):                   # unknown kid -> one refetch -> accepted (any child)
        succeed(site, 'rot2')
    assert rot.paths().count('/jwks') <= 3


def test_E17_at_hash(site, idps):
    fail(site, idps['bad'], ['wrong_at_hash'], 401)
    idps['bad'].set_mode('no_at_hash')
    succeed(site)

# E19 (RP-initiated logout) is covered in test_logout.py.
