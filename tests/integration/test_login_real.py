"""Full logins against the real OpenID provider (oidc-provider, tests/idp/provider.js):
authorization code + PKCE without a browser (requests), RS256 and ES256 id_tokens,
client_secret_basic and client_secret_post; then the protected page through the gate shows
the claims at the echo backend.  Also: our access token (verified with jwcrypto), the cookie
attributes (F01), replay (D04), unverified email (D16), the jwks.json and session endpoints.
"""
import json
import re

import pytest

from loginhelp import (describe, BASIC_CLIENT, POST_CLIENT, Browser, OidcProvider, callback,
                       echo_header, echo_of, family_count, full_login, get, have_node,
                       idp_redirect, login_path, login_site, provider_block, session_cookies,
                       set_cookies, start, start_fixed, store_snapshot, assert_cbfail,
                       verify_access_token)
import afharness

pytestmark = pytest.mark.skipif(not have_node, reason='node or tests/idp/node_modules missing '
                                                      '(make deps)')

ACCESS_TTL = 300
COMBOS = ['rs-basic', 'rs-post', 'es-basic', 'es-post']


@pytest.fixture(scope='module')
def real(request, keys, echo):
    port = afharness.free_port()
    cb = 'http://127.0.0.1:%d/auth/callback' % port
    idps = {}

    def fin():
        for p in idps.values():
            p.stop()
    request.addfinalizer(fin)
    idps['rs'] = OidcProvider(alg='RS256', redirect_uris=[cb])
    idps['es'] = OidcProvider(alg='ES256', redirect_uris=[cb])
    providers = '\n'.join(
        provider_block('%s-%s' % (a, m), idps[a].issuer,
                       client=BASIC_CLIENT if m == 'basic' else POST_CLIENT,
                       auth='client_secret_%s' % m)
        for a in ('rs', 'es') for m in ('basic', 'post'))
    body = login_site(keys, echo, providers, apps=[('/app', 'rs-basic'), ('/es', 'es-post')],
                      server_extra='AuthFlowAccessTTL %ds' % ACCESS_TTL)
    srv = start_fixed(request, 'login-real', body, port)
    srv.store = srv.root + '/store'
    srv.idps = idps
    return srv


def login_ok(srv, provider, username='alice', return_to='/app', path=None):
    n = family_count(srv.store)
    lg = full_login(srv, provider, return_to, username=username, path=path)
    assert lg.cb_resp.status_code in (302, 303), describe(lg.cb_resp)
    assert lg.cb_resp.headers['Location'] in (return_to, srv.base + return_to)
    assert {c.kind() for c in session_cookies(lg.cb_resp)} >= {'at', 'rt'}
    assert family_count(srv.store) == n + 1
    return lg


@pytest.mark.parametrize('provider', COMBOS)
def test_E01_real_code_pkce_login(real, keys, provider):
    lg = login_ok(real, provider)
    alg = 'RS256' if provider.startswith('rs') else 'ES256'
    idp = real.idps[provider[:2]]
    assert lg.auth_url.startswith(idp.issuer + '/')
    # our access token: typ at+jwt, signed by the configured key, claims per RFC 9068
    hdr, c = verify_access_token(lg.at(), keys.ec256)
    assert hdr['typ'] == 'at+jwt' and hdr['alg'] == 'ES256' and hdr.get('kid') == 'e256'
    assert c['iss'] == real.base and c['aud'] in (real.base, [real.base])
    assert c['sub'] == 'alice@' + provider and c['idp'] == provider and c['idp_sub'] == 'alice'
    assert c['email'] == 'alice@example.com' and c.get('email_verified') is True
    assert c['groups'] == ['ops', 'dev'] and c['name'] == 'Alice Example'
    assert c['sid'] and c['jti'] and 0 < c['exp'] - c['iat'] <= ACCESS_TTL
    assert alg  # the IdP signed its id_token with this alg (provider.js --alg)
    # the protected page through the gate
    r = get(real, '/app', lg.browser)
    assert r.status_code == 200, (r.status_code, r.text[:300])
    item = echo_of(r)
    assert echo_header(item, 'X-Env-Sub') == 'alice@' + provider
    assert echo_header(item, 'X-Env-Remote-User') == 'alice@' + provider
    assert echo_header(item, 'X-Auth-Email') == 'alice@example.com'
    assert echo_header(item, 'X-Auth-Groups') == 'ops,dev'
    assert echo_header(item, 'X-Env-Provider') == provider


def test_E01_login_from_protected_page(real):
    """GET /app unauthenticated -> (AuthFlowLogin es-post) IdP -> callback -> /app."""
    b = Browser()
    r, auth = start(real, b, '/es/page?q=1')
    assert auth and auth.startswith(real.idps['es'].issuer + '/'), (r.status_code, r.text[:300])
    cb = callback(real, b, idp_redirect(auth))
    assert cb.status_code in (302, 303), describe(cb)
    assert cb.headers['Location'] in ('/es/page?q=1', real.base + '/es/page?q=1')
    r = get(real, '/es/page?q=1', b)
    assert r.status_code == 200 and echo_header(echo_of(r), 'X-Env-Sub') == 'alice@es-post'


def test_F01_cookie_attributes(real):
    b = Browser()
    r, auth = start(real, b, login_path('rs-basic', '/app'))
    flows = [c for c in set_cookies(r) if c.kind() == 'flow']
    assert len(flows) == 1
    cb = callback(real, b, idp_redirect(auth))
    made = {c.kind(): c for c in session_cookies(cb)}
    assert set(made) >= {'at', 'rt'}
    for c in flows + [made['at'], made['rt']]:
        assert 'httponly' in c.flags, c
        assert c.attrs.get('path') == '/', c
        assert 'domain' not in c.attrs, c
        assert c.attrs.get('samesite', '').lower() == 'lax', c
        # plain-http loopback base URL: no __Host- prefix and no Secure (CONFIG.md)
        assert not c.name.startswith('__Host-') and 'secure' not in c.flags, c
        assert c.name.startswith('authflow-'), c
    assert 0 < int(made['at'].attrs['max-age']) <= ACCESS_TTL
    assert 0 < int(made['rt'].attrs['max-age']) <= 14 * 86400
    assert 0 < int(flows[0].attrs['max-age']) <= 600
    rt = made['rt'].value
    assert len(rt) >= 43 and re.match(r'^[A-Za-z0-9_-]+$', rt)   # >= 256 bits base64url
    # the flow cookie is cleared once the login is done
    done = [c for c in set_cookies(cb) if c.kind() == 'flow']
    assert done and all(c.deleting for c in done)


def test_F09_backend_sees_no_login_cookies(real):
    lg = login_ok(real, 'es-basic')
    r = get(real, '/app', lg.browser)
    assert r.status_code == 200
    cookies = ' '.join(v for k, v in echo_of(r)['headers'] if k.lower() == 'cookie')
    assert lg.at() not in cookies and lg.browser.get('rt')[1] not in cookies


def test_D04_replay_real(real):
    b = Browser()
    _, auth = start(real, b, login_path('es-basic', '/app'))
    flow = b.header()
    cb_url = idp_redirect(auth)
    first = callback(real, b, cb_url)
    assert first.status_code in (302, 303)
    before = store_snapshot(real.store)
    again = callback(real, Browser(), cb_url, cookie=flow)
    assert_cbfail(again, 400, before, real.store)


def test_D16_unverified_email_not_exported(real):
    lg = login_ok(real, 'rs-post', username='bob')
    c = lg.claims()
    assert c['sub'] == 'bob@rs-post'
    assert not c.get('email'), 'unverified email exported: %r' % c
    r = get(real, '/app', lg.browser)
    assert r.status_code == 200
    assert not echo_header(echo_of(r), 'X-Auth-Email')


def test_session_endpoint(real):
    lg = login_ok(real, 'rs-basic')
    r = get(real, '/auth/session', lg.browser, headers={'Accept': 'application/json'})
    assert r.status_code == 200, r.text[:300]
    body = r.json()
    text = json.dumps(body)
    assert 'alice' in text
    assert lg.at() not in r.text and lg.browser.get('rt')[1] not in r.text
    assert 'no-store' in r.headers.get('Cache-Control', '')
    r = get(real, '/auth/session', cookie='', headers={'Accept': 'application/json'})
    assert r.status_code == 401


def test_jwks_endpoint(real, keys):
    r = get(real, '/auth/jwks.json', cookie='')
    assert r.status_code == 200
    ks = r.json()['keys']
    mine = [k for k in ks if k.get('kid') == 'e256']
    assert mine and mine[0]['kty'] == 'EC' and mine[0]['crv'] == 'P-256'
    assert all('d' not in k and 'p' not in k for k in ks)


def test_E13_claims_exported_as_env(real):
    """AuthFlowExportAll (default on): every claim as AUTHFLOW_CLAIM_<NAME>, numbers as
    decimal digits, booleans as true/false; AUTHFLOW_EXPIRES is the token's exp."""
    lg = login_ok(real, 'rs-basic')
    c = lg.claims()
    r = get(real, '/app', lg.browser)
    assert r.status_code == 200
    item = echo_of(r)
    assert echo_header(item, 'X-Env-Claim-Email') == 'alice@example.com'
    assert echo_header(item, 'X-Env-Claim-Verified') == 'true'
    assert echo_header(item, 'X-Env-Expires') == str(c['exp'])
    got = echo_header(item, 'X-Env-Claim-Exp')
    assert got == str(c['exp']), 'AUTHFLOW_CLAIM_EXP is %r' % got
