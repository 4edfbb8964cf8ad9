"""Kakao and Naver (issue 13) against provider-shaped test IdPs (tests/idp/bad_idp.py modes
`kakao`, `naver`): login, refresh and logout per preset, Kakao logout, Naver's resultcode and
string expires_in, EmailVerified claim|never|always, and Kakao unlink callbacks at
POST /auth/events/NAME.  SECURITY.md D16 (email only when verified), D17 (provider
specifics), H05 (subjects namespaced by provider: no collision across providers).

One httpd; each test sets the IdPs' modes through /_control.
  kakao     Preset kakao, Issuer = the Kakao-like IdP (its discovery), no client secret,
            UserinfoEndpoint /v2/user/me and EndSessionEndpoint /oauth/logout overriding
            the preset's kapi/kauth URLs, AdminKeyFile
  naver     Preset naver with the three endpoints overridden to the Naver-like IdP
  gen*      a generic OIDC provider on a third IdP whose subject is the same "4242" as the
            Kakao account: EmailVerified claim (default), always, never
"""
import os
import re
import urllib.parse

import pytest

import afharness
import conftest
from loginhelp import (BadIdp, Browser, callback, describe, echo_header, echo_of, full_login,
                       get, idp_redirect, login_path, login_site, protected, qs, reason,
                       session_cookies, start, store_snapshot)
from refreshhelp import cleared, refresh

ADMIN_KEY = 'kakao-admin-key-0123456789abcdef0123'
FORM = {'Content-Type': 'application/x-www-form-urlencoded'}


@pytest.fixture(scope='module')
def idps():
    started = {}
    try:
        started['kakao'] = BadIdp(sub='4242', modes=('kakao', 'kakao_no_secret'))
        started['naver'] = BadIdp(sub='nv-32742776', modes=('naver',))
        started['gen'] = BadIdp(sub='4242')
        yield started
    finally:
        for s in started.values():
            s.stop()


def blocks(idps):
    k, n, g = idps['kakao'].url, idps['naver'].url, idps['gen'].url
    cid, sec = idps['gen'].client
    out = ['''<AuthFlowProvider kakao>
    Preset kakao
    Issuer %(k)s
    ClientID %(cid)s
    UserinfoEndpoint %(k)s/v2/user/me
    EndSessionEndpoint %(k)s/oauth/logout
    AdminKeyFile "@ROOT@/kakao-admin.key"
</AuthFlowProvider>''' % dict(k=k, cid=cid),
           '''<AuthFlowProvider naver>
    Preset naver
    AuthorizationEndpoint %(n)s/oauth2.0/authorize
    TokenEndpoint %(n)s/oauth2.0/token
    UserinfoEndpoint %(n)s/v1/nid/me
    ClientID %(cid)s
    ClientSecret "%(sec)s"
    Claim contact_email response.email
</AuthFlowProvider>''' % dict(n=n, cid=cid, sec=sec)]
    for name, ev in (('gen', None), ('genalways', 'always'), ('gennever', 'never')):
        out.append('''<AuthFlowProvider %s>
    Issuer %s
    ClientID %s
    ClientSecret "%s"
    Scope "openid email profile"
    %s
</AuthFlowProvider>''' % (name, g, cid, sec, ('EmailVerified ' + ev) if ev else ''))
    return '\n'.join(out)


PROVIDERS = ('kakao', 'naver', 'gen', 'genalways', 'gennever')


@pytest.fixture(scope='module')
def site(request, keys, echo, idps):
    body = login_site(keys, echo, blocks(idps), server_extra='AuthFlowTokenClaims sub email '
                      'email_verified name preferred_username groups contact_email picture')
    for name in PROVIDERS:
        body += protected('/app-' + name, echo, name,
                          extra='AuthFlowExport header X-Auth-Picture picture\n'
                                '    AuthFlowExport header X-Auth-Contact contact_email') + '\n'
    srv = conftest.start_server(request, 'kakao-naver', body,
                                files={'kakao-admin.key': ADMIN_KEY + '\n'})
    srv.store = srv.root + '/store'
    return srv


@pytest.fixture(autouse=True)
def _reset(idps):
    idps['kakao'].set_mode('kakao', 'kakao_no_secret')
    idps['naver'].set_mode('naver')
    idps['gen'].set_mode()
    yield


def login_ok(site, name):
    lg = full_login(site, name, '/app-' + name)
    assert lg.cb_resp.status_code in (302, 303), describe(lg.cb_resp)
    assert {c.kind() for c in session_cookies(lg.cb_resp)} >= {'at', 'rt'}
    r = get(site, '/app-' + name, lg.browser)
    assert r.status_code == 200, (r.status_code, r.text[:200])
    return lg, echo_of(r)


def login_fails(site, name, status, why):
    b = Browser()
    r, auth = start(site, b, login_path(name, '/app-' + name))
    assert auth, describe(r)
    before = store_snapshot(site.store)
    resp = callback(site, b, idp_redirect(auth))
    assert resp.status_code == status, describe(resp)
    assert reason(resp) == why, describe(resp)
    assert not session_cookies(resp)
    assert store_snapshot(site.store) == before
    return resp


def paths(idp):
    return [e['path'] for e in idp.log()]


def log_of(idp, path):
    return [e for e in idp.log() if e['path'] == path]


def refreshed(site, browser):
    r = refresh(site, browser)
    return r.status_code == 204, r


# ---- Kakao ---------------------------------------------------------------------------------------
def test_D17_kakao_login_defaults(site, idps):
    """Kakao-like discovery, Kakao's consent items as scope, client_id without a secret
    (client_secret_post), the REST profile's id equal to the id_token sub, its verified
    email (is_email_valid and is_email_verified)."""
    lg, item = login_ok(site, 'kakao')
    authz = log_of(idps['kakao'], '/authorize')[0]['query']
    assert authz['scope'] == 'openid profile_nickname profile_image account_email'
    tok = log_of(idps['kakao'], '/token')
    assert [t['client_auth'] for t in tok] == ['client_id_only'], tok
    assert 'client_secret' not in tok[0]['form_keys']
    assert '/v2/user/me' in paths(idps['kakao']) and '/userinfo' not in paths(idps['kakao'])
    assert echo_header(item, 'X-Env-Sub') == '4242@kakao'
    assert echo_header(item, 'X-Auth-Email') == 'kay@kakao.example'
    assert echo_header(item, 'X-Auth-Name') == 'Kay'
    assert echo_header(item, 'X-Auth-Picture') == 'https://k.kakaocdn.net/p.jpg'
    c = lg.claims()
    assert c['idp'] == 'kakao' and c['idp_sub'] == '4242' and c['email_verified'] is True


@pytest.mark.parametrize('mode', ['kakao_email_invalid', 'kakao_email_unverified'])
def test_D16_kakao_email_needs_both_flags(site, idps, mode):
    idps['kakao'].set_mode('kakao', 'kakao_no_secret', mode)
    lg, item = login_ok(site, 'kakao')
    assert not echo_header(item, 'X-Auth-Email'), item
    assert lg.claims().get('email') is None and lg.claims().get('email_verified') is False


def test_E12_kakao_profile_of_another_account(site, idps):
    idps['kakao'].set_mode('kakao', 'kakao_no_secret', 'kakao_profile_other')
    login_fails(site, 'kakao', 401, 'oidc_userinfo_sub_mismatch')


def test_kakao_refresh_and_logout_via_kakao(site, idps):
    """Refresh rotates; logout revokes our login and clears the cookies first, then sends
    the browser to Kakao's /oauth/logout (client_id, logout_redirect_uri, state -- not
    RP-initiated logout), which comes back to /auth/logout with the state."""
    lg, _ = login_ok(site, 'kakao')
    ok, r = refreshed(site, lg.browser)
    assert ok, describe(r)
    old = lg.browser.copy()
    h = {'Origin': site.base, 'Cookie': lg.browser.header()}
    r = afharness.http('POST', site.url('/auth/logout?return_to=/bye'), headers=h)
    assert r.status_code == 303, describe(r)
    lg.browser.take(r)
    loc = r.headers['Location']
    u = urllib.parse.urlsplit(loc)
    assert '%s://%s%s' % (u.scheme, u.netloc, u.path) == idps['kakao'].url + '/oauth/logout'
    q = qs(loc)
    assert set(q) == {'client_id', 'logout_redirect_uri', 'state'}, q
    assert q['client_id'] == idps['kakao'].client[0]
    assert q['logout_redirect_uri'] == site.base + '/auth/logout'
    assert cleared(r)
    # our logout happened before Kakao's: the old refresh token is dead already
    r2 = refresh(site, old.header())
    assert r2.status_code == 401, describe(r2)
    # Kakao sends the browser back with the state
    back = afharness.http('GET', loc, headers={})
    assert back.status_code == 302, back.status_code
    ret = back.headers['Location']
    assert ret.startswith(site.base + '/auth/logout?state=')
    r3 = get(site, ret[len(site.base):], lg.browser)
    assert r3.status_code == 303 and r3.headers['Location'] == site.base + '/bye', describe(r3)


# ---- Naver ---------------------------------------------------------------------------------------
def test_D17_naver_login_refresh_logout(site, idps):
    """Plain OAuth 2.0: the token response's expires_in is the string "3600" and there is
    no id_token; the token request names the state; the profile is wrapped in response;
    EmailVerified never (the preset's): no email, but the operator's own Claim keeps the
    contact address under another name."""
    lg, item = login_ok(site, 'naver')
    tok = log_of(idps['naver'], '/oauth2.0/token')
    assert len(tok) == 1 and 'state' in tok[0]['form_keys'], tok
    assert tok[0]['client_auth'] == 'client_secret_post'
    assert '/v1/nid/me' in paths(idps['naver'])
    assert echo_header(item, 'X-Env-Sub') == 'nv-32742776@naver'
    assert echo_header(item, 'X-Auth-Name') == 'Naver User'
    assert not echo_header(item, 'X-Auth-Email')
    assert echo_header(item, 'X-Auth-Contact') == 'nav@naver.example'
    assert lg.claims().get('preferred_username') == 'nav'
    ok, r = refreshed(site, lg.browser)
    assert ok, describe(r)
    h = {'Origin': site.base, 'Cookie': lg.browser.header()}
    r = afharness.http('POST', site.url('/auth/logout'), headers=h)
    assert r.status_code == 303 and cleared(r), describe(r)
    assert r.headers['Location'] == site.base + '/auth/logout'   # no IdP logout for Naver
    assert refresh(site, lg.browser.header()).status_code == 401


@pytest.mark.allow_log(r'AF08020: callback failed: oidc_profile_resultcode \(502\), provider naver')
def test_naver_bad_resultcode_refused(site, idps):
    idps['naver'].set_mode('naver', 'naver_bad_resultcode')
    login_fails(site, 'naver', 502, 'oidc_profile_resultcode')


def test_D18_expires_in_not_digits_refused(site, idps):
    idps['naver'].set_mode('naver', 'naver_expires_in_bad')
    login_fails(site, 'naver', 401, 'oidc_token_response_invalid')
    assert '/v1/nid/me' not in paths(idps['naver'])


# ---- EmailVerified -------------------------------------------------------------------------------
@pytest.mark.parametrize('name,mode,exported', [
    ('gen', None, True),
    ('gen', 'string_booleans', True),          # "true" is true
    ('gen', 'email_unverified', False),
    ('gen', 'no_email_verified', False),
    ('genalways', 'no_email_verified', True),
    ('genalways', 'email_unverified', True),
    ('gennever', None, False),
    ('gennever', 'string_booleans', False),
])
def test_D16_email_verified_modes(site, idps, name, mode, exported):
    idps['gen'].set_mode(*([mode] if mode else []))
    lg, item = login_ok(site, name)
    if exported:
        assert echo_header(item, 'X-Auth-Email') == 'alice@example.com', item
        assert lg.claims()['email_verified'] is True
    else:
        assert not echo_header(item, 'X-Auth-Email'), item
        assert lg.claims().get('email') is None
        assert lg.claims().get('email_verified') in (None, False)


# ---- events: Kakao unlink callbacks ---------------------------------------------------------------
def unlink(site, user_id='4242', key=ADMIN_KEY, name='kakao', body=None, headers=None):
    h = dict(FORM)
    if key is not None:
        h['Authorization'] = 'KakaoAK ' + key
    h.update(headers or {})
    data = body if body is not None else 'app_id=123456&user_id=%s&referrer_type=UNLINK_FROM_APPS' \
        % user_id
    return afharness.http('POST', site.url('/auth/events/' + name), headers=h, data=data)


def test_kakao_unlink_revokes_every_login_of_that_account_only(site, idps):
    """Two Kakao logins of account 4242 and one login of the generic provider whose IdP
    subject is also 4242 (H05): the unlink ends both Kakao logins (the next refresh is
    refused), the other provider's account is untouched."""
    k1, _ = login_ok(site, 'kakao')
    k2, _ = login_ok(site, 'kakao')
    g, item = login_ok(site, 'gen')
    assert echo_header(item, 'X-Env-Sub') == '4242@gen'
    r = unlink(site)
    assert r.status_code == 200 and r.content == b'', (r.status_code, r.text[:200])
    for b in (k1.browser, k2.browser):
        r = refresh(site, b.header())
        assert r.status_code == 401 and cleared(r), describe(r)
        # the access token of a revoked login is refused by the gate too
        assert get(site, '/app-kakao', cookie=b.header()).status_code in (302, 401)
    ok, r = refreshed(site, g.browser)
    assert ok, describe(r)
    # earlier tests' Kakao logins of 4242 are live too: at least these two
    n = re.findall(r'AF09042: events: provider kakao: unlink:UNLINK_FROM_APPS for 4242@kakao: '
                   r'(\d+) login\(s\) revoked', site.read_log())
    assert len(n) == 1 and int(n[0]) >= 2, n
    # idempotent: nothing left to revoke
    assert unlink(site).status_code == 200


@pytest.mark.parametrize('key,body,headers,status', [
    ('wrong-key-0123456789abcdef0123456789', None, None, 401),
    (ADMIN_KEY[:-1], None, None, 401),
    (ADMIN_KEY + 'x', None, None, 401),
    (None, None, None, 401),                                             # no Authorization
    (None, None, {'Authorization': 'Bearer ' + ADMIN_KEY}, 401),
    (None, None, {'Authorization': 'kakaoak ' + ADMIN_KEY}, 401),
    ('wrong', 'user_id=4242&user_id=4242', None, 401),                   # auth first
    (ADMIN_KEY, 'app_id=1&user_id=4242&user_id=4243', None, 400),        # duplicate
    (ADMIN_KEY, 'app_id=1', None, 400),                                  # no user_id
    (ADMIN_KEY, 'user_id=4242', None, 400),                              # no app_id
    (ADMIN_KEY, 'app_id=1&user_id=4242%40gen', None, 400),               # not Kakao's id
    (ADMIN_KEY, 'app_id=1&user_id=4242&&x=1', None, 400),                # empty pair
    (ADMIN_KEY, 'app_id=1&user_id=4242&x=%zz', None, 400),               # bad escape
    (ADMIN_KEY, 'app_id=1&user_id=4242&x=' + 'a' * 5000, None, 400),     # over 4 KiB
    (ADMIN_KEY, '{"user_id": 4242}', {'Content-Type': 'application/json'}, 400),
])
def test_kakao_unlink_rejected_nothing_revoked(site, idps, key, body, headers, status):
    lg, _ = login_ok(site, 'kakao')
    before = store_snapshot(site.store)
    r = unlink(site, key=key, body=body, headers=headers)
    assert r.status_code == status, (r.status_code, r.text[:200])
    assert r.json()['error'] == ('event_unauthorized' if status == 401 else 'event_malformed')
    assert ADMIN_KEY not in r.text
    assert store_snapshot(site.store) == before
    ok, r = refreshed(site, lg.browser)
    assert ok, describe(r)


def test_events_endpoint_routing(site, idps):
    # a provider without an event kind, an unknown provider, other methods, sub-paths
    for name in ('naver', 'gen'):
        r = unlink(site, name=name)
        assert r.status_code == 404 and r.json()['error'] == 'event_not_supported', r.text
    assert unlink(site, name='nosuch').status_code == 404
    r = afharness.http('GET', site.url('/auth/events/kakao'))
    assert r.status_code == 405 and r.headers['Allow'] == 'POST'
    assert afharness.http('POST', site.url('/auth/events/kakao/x'), headers=FORM,
                          data='a=1').status_code == 404
    assert afharness.http('POST', site.url('/auth/events/'), headers=FORM,
                          data='a=1').status_code == 404
    # a body over the handler's 16 KiB is refused before anything is parsed
    r = unlink(site, body='app_id=1&user_id=4242&x=' + 'a' * 20000)
    assert r.status_code == 413


# ---- configtest ----------------------------------------------------------------------------------
@pytest.mark.parametrize('block,needle', [
    ('Preset line', r'Preset takes google, kakao, naver, github or apple'),
    ('Preset kakao\n  AdminKeyFile /nonexistent/admin.key',
     r'AdminKeyFile /nonexistent/admin.key: cannot read'),
    ('Preset kakao\n  AdminKeyFile @ROOT@/empty.key', r'AdminKeyFile .*empty'),
    ('Issuer http://127.0.0.1:9\n  ClientSecret s\n  AdminKeyFile @ROOT@/admin.key',
     r'AdminKeyFile is only for Preset kakao'),
    ('Preset naver\n  ClientSecret s\n  EmailVerified maybe', r'EmailVerified takes claim, never or always'),
    ('Preset naver\n  ClientSecret s\n  EmailVerified never\n  EmailVerified claim',
     r'EmailVerified given twice'),
    ('Preset google', r'ClientSecret or ClientSecretFile is required'),
    ('Preset kakao\n  TokenEndpointAuth client_secret_basic',
     r'without a client secret needs TokenEndpointAuth client_secret_post'),
])
def test_configtest_provider_keys(workdir, block, needle):
    with open(workdir + '/admin.key', 'w') as f:
        f.write(ADMIN_KEY + '\n')
    open(workdir + '/empty.key', 'w').close()
    os.chmod(workdir + '/admin.key', 0o600)     # secret files: no access for others
    os.chmod(workdir + '/empty.key', 0o600)
    body = ('AuthFlowBaseURL http://127.0.0.1:8080\nAuthFlowStore "%s/store"\n'
            '<AuthFlowProvider p>\n  ClientID c\n  %s\n</AuthFlowProvider>\n'
            % (workdir, block.replace('@ROOT@', workdir)))
    rc, out = afharness.configtest(workdir, afharness.render_conf(workdir, 8080, body))
    assert rc != 0, out
    assert re.search(needle, out), out
    assert re.search(r'<AuthFlowProvider p>|httpd-t.conf', out), out
    assert ADMIN_KEY not in out


def test_configtest_kakao_without_secret_ok(workdir):
    with open(workdir + '/admin.key', 'w') as f:
        f.write(ADMIN_KEY + '\n')
    os.chmod(workdir + '/admin.key', 0o640)     # root:www-data 0640 is allowed
    body = ('AuthFlowBaseURL http://127.0.0.1:8080\nAuthFlowStore "%s/store"\n'
            '<AuthFlowProvider kakao>\n  Preset kakao\n  ClientID c\n'
            '  AdminKeyFile %s/admin.key\n</AuthFlowProvider>\n'
            '<AuthFlowProvider naver>\n  Preset naver\n  ClientID n\n  ClientSecret s\n'
            '  EmailVerified always\n</AuthFlowProvider>\n' % (workdir, workdir))
    rc, out = afharness.configtest(workdir, afharness.render_conf(workdir, 8080, body))
    assert rc == 0, out
