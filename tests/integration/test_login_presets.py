"""The Google and Kakao presets against the misbehaving IdP (tests/idp/bad_idp.py):
SECURITY.md D16 (email only when verified, Workspace domain from `hd`) and D17 (provider
specific issuer and audience, Kakao's client_secret_post).

Each preset's endpoints point at a local bad IdP started with the provider's real issuer
(`--issuer https://accounts.google.com` / `https://kauth.kakao.com`), so discovery is not
used; a generic provider (`gen`, loopback issuer) is the control.  One httpd (prefork) for
the module; each test sets the IdPs' modes through /_control.
"""
import pytest

import conftest
from loginhelp import (BadIdp, Browser, assert_cbfail, callback, describe, echo_header, echo_of,
                       full_login, get, idp_redirect, login_path, login_site, protected,
                       provider_block, qs, session_cookies, start, store_snapshot)

PRESETS = ('google', 'kakao')
EXTRA = 'AuthFlowExport header X-Auth-Hd hd'


@pytest.fixture(scope='module')
def idps():
    started = {}
    try:
        started['gen'] = BadIdp()
        started['google'] = BadIdp(issuer='https://accounts.google.com', sub='g-1001')
        started['kakao'] = BadIdp(issuer='https://kauth.kakao.com', sub='4242')
        yield started
    finally:
        for s in started.values():
            s.stop()


@pytest.fixture(scope='module')
def site(request, keys, echo, idps):
    providers = '\n'.join(
        [provider_block('gen', idps['gen'].url)] +
        [provider_block(name, None, extra='''
            Preset %(name)s
            AuthorizationEndpoint %(u)s/authorize
            TokenEndpoint %(u)s/token
            UserinfoEndpoint %(u)s/userinfo
            JwksURI %(u)s/jwks''' % dict(name=name, u=idps[name].url)) for name in PRESETS])
    # hd is not among the default AuthFlowTokenClaims: a Workspace site lists it
    body = login_site(keys, echo, providers, server_extra='AuthFlowTokenClaims sub email '
                      'email_verified name preferred_username groups hd')
    for name in ('gen',) + PRESETS:
        body += protected('/app-' + name, echo, name, extra=EXTRA) + '\n'
    srv = conftest.start_server(request, 'login-presets', body, mpm='prefork')
    srv.store = srv.root + '/store'
    return srv


@pytest.fixture(autouse=True)
def _reset(idps):
    for idp in idps.values():
        idp.set_mode()
    yield


def login_ok(site, name):
    lg = full_login(site, name, '/app-' + name)
    assert lg.cb_resp.status_code in (302, 303), describe(lg.cb_resp)
    assert {c.kind() for c in session_cookies(lg.cb_resp)} >= {'at', 'rt'}
    r = get(site, '/app-' + name, lg.browser)
    assert r.status_code == 200, (r.status_code, r.text[:200])
    return lg, echo_of(r)


def login_fails(site, name, status):
    b = Browser()
    r, auth = start(site, b, login_path(name, '/app-' + name))
    assert auth, 'login start failed: %d %s' % (r.status_code, r.text[:300])
    cb = idp_redirect(auth)
    before = store_snapshot(site.store)
    resp = callback(site, b, cb)
    assert_cbfail(resp, status, before, site.store, return_to='/app-' + name,
                  secrets_=[qs(cb).get('code')])
    return resp


def token_requests(idp):
    return [e for e in idp.log() if e['path'] == '/token']


# ---- D17: issuer -------------------------------------------------------------------------------
@pytest.mark.parametrize('name', PRESETS)
def test_D17_preset_real_issuer_accepted(site, idps, name):
    lg, item = login_ok(site, name)
    # AUTHFLOW_ISSUER is our own token issuer; the IdP shows up as the provider name
    assert echo_header(item, 'X-Env-Provider') == name
    assert lg.claims()['idp'] == name


def test_D17_google_legacy_issuer_accepted(site, idps):
    """Google's id_token may say iss "accounts.google.com" (no scheme): accepted for the
    Google preset only."""
    idps['google'].set_mode('google_legacy_iss')
    lg, item = login_ok(site, 'google')
    assert echo_header(item, 'X-Env-Sub') == 'g-1001@google'


def test_D17_google_legacy_issuer_refused_generic(site, idps):
    idps['gen'].set_mode('google_legacy_iss')
    login_fails(site, 'gen', 401)
    assert '/userinfo' not in [e['path'] for e in idps['gen'].log()]


def test_D17_google_legacy_issuer_refused_kakao(site, idps):
    idps['kakao'].set_mode('google_legacy_iss')
    login_fails(site, 'kakao', 401)


@pytest.mark.parametrize('name', PRESETS)
@pytest.mark.parametrize('mode,status', [('wrong_iss', 401), ('wrong_aud', 401),
                                         ('multi_aud_no_azp', 401), ('wrong_azp', 401)])
def test_D17_preset_wrong_issuer_or_audience(site, idps, name, mode, status):
    idps[name].set_mode(mode)
    login_fails(site, name, status)


# ---- D17: Kakao client authentication and audience -----------------------------------------------
def test_D17_kakao_client_secret_post_and_aud(site, idps):
    lg, item = login_ok(site, 'kakao')
    reqs = token_requests(idps['kakao'])
    assert len(reqs) == 1, reqs
    t = reqs[0]
    assert t['client_auth'] == 'client_secret_post'
    assert {'client_id', 'client_secret', 'code', 'code_verifier', 'grant_type',
            'redirect_uri'} <= set(t['form_keys']), t['form_keys']
    # the authorization request carried the same client id the id_token's aud names
    authz = [e for e in idps['kakao'].log() if e['path'] == '/authorize']
    assert authz and authz[0]['query']['client_id'] == idps['kakao'].client[0]
    assert echo_header(item, 'X-Env-Sub') == '4242@kakao'


def test_D17_google_client_secret_basic(site, idps):
    login_ok(site, 'google')
    reqs = token_requests(idps['google'])
    assert [t['client_auth'] for t in reqs] == ['client_secret_basic']
    assert 'client_secret' not in reqs[0]['form_keys']


# ---- D16: email only when verified; hd ---------------------------------------------------------------
@pytest.mark.parametrize('name', PRESETS)
def test_D16_verified_email_exported(site, idps, name):
    lg, item = login_ok(site, name)
    assert echo_header(item, 'X-Auth-Email') == 'alice@example.com'
    assert lg.claims().get('email') == 'alice@example.com'


@pytest.mark.parametrize('name', PRESETS + ('gen',))
def test_D16_email_verified_false_not_exported(site, idps, name):
    idps[name].set_mode('email_unverified')
    lg, item = login_ok(site, name)
    assert not echo_header(item, 'X-Auth-Email'), item
    # mod_headers writes "(null)" for an unset variable
    assert echo_header(item, 'X-Env-Claim-Email') in (None, '', '(null)')
    assert lg.claims().get('email') in (None, ''), lg.claims()


def test_D16_google_hd_exported(site, idps):
    idps['google'].set_mode('hd')
    lg, item = login_ok(site, 'google')
    assert echo_header(item, 'X-Auth-Hd') == 'example.org'
    assert lg.claims().get('hd') == 'example.org'


def test_D16_google_no_hd_not_invented(site, idps):
    """A consumer (gmail.com-style) account has no hd: nothing is exported for it, even
    though its email domain could look like a Workspace domain."""
    lg, item = login_ok(site, 'google')
    assert not echo_header(item, 'X-Auth-Hd')
    assert 'hd' not in lg.claims()
