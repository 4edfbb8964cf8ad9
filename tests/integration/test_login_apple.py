"""Sign in with Apple (issue 13) against an Apple-shaped test IdP (tests/idp/apple_idp.py):
`Preset apple`, `ResponseMode form_post`, `POST /auth/callback` and its re-post page, the
ES256 client-secret JWT minted from TeamID / KeyID / PrivateKeyFile (verified by the IdP),
Apple's string booleans, the unsigned first-consent `user` field, and the server-to-server
notifications at `POST /auth/events/NAME`.  SECURITY.md: D03 (strict callback parameters),
D16 (identity never from unsigned data), F03 (the Lax flow cookie on a cross-site
form_post), H10 (malformed handler requests), D12 (headers of the pages we render).

Notifications are signed by jwcrypto inside the test IdP with the keys its JWKS publishes
(/_sign), never by the module.
"""
import json
import os
import re
import time
import urllib.parse

import pytest
import requests

import afharness
import conftest
import tokens
from loginhelp import (BadIdp, Browser, assert_cbfail, describe, echo_of, get, login_path,
                       protected, reason, session_cookies, set_cookies, start, store_families,
                       store_snapshot)

TEAM = 'TEAM123456'
KEYID = 'KEY1234567'
CLIENT = 'com.example.authflow'
SUB = '001234.abcdef0123456789.0042'


class AppleIdp(BadIdp):
    """tests/idp/apple_idp.py: bad_idp's CLI plus the client-secret verification key."""

    def __init__(self, pub_pem_file, sub=SUB):
        self.port = afharness.free_port()
        cmd = ['/usr/bin/python3', os.path.join(afharness.REPO, 'tests', 'idp', 'apple_idp.py'),
               '--port', str(self.port), '--client-id', CLIENT, '--sub', sub,
               '--team-id', TEAM, '--key-id', KEYID, '--secret-public-key', pub_pem_file]
        import idp_fixture
        import subprocess
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        try:
            info = idp_fixture._wait_ready(self.proc, 'READY ', 30)
        except Exception:
            self.stop()
            raise
        self.issuer = info['issuer']
        self.url = 'http://127.0.0.1:%d' % self.port

    def sign(self, claims, key='primary', alg='RS256'):
        r = requests.post(self.url + '/_sign', json={'claims': claims, 'key': key, 'alg': alg},
                          timeout=5)
        r.raise_for_status()
        return r.json()['jws']


def apple_block(name, idp, key_file, extra=''):
    return '''
<AuthFlowProvider %s>
    Preset apple
    Issuer %s
    ClientID %s
    TeamID %s
    KeyID %s
    PrivateKeyFile "%s"
    %s
</AuthFlowProvider>''' % (name, idp.issuer, CLIENT, TEAM, KEYID, key_file, extra)


@pytest.fixture(scope='module')
def p8(keys):
    """The .p8 (PKCS#8 EC P-256) the IdP trusts, a second one it does not, and a P-384."""
    d = os.path.join(keys.dir, 'apple')
    os.makedirs(d, exist_ok=True)
    out = {}
    for name, crv in (('good', 'P-256'), ('other', 'P-256'), ('p384', 'P-384')):
        k = tokens.gen_ec(crv, kid=KEYID)
        path = os.path.join(d, 'AuthKey_%s.p8' % name)
        with open(path, 'wb') as f:
            f.write(k.priv_pem())
        os.chmod(path, 0o600)
        with open(path + '.pub.pem', 'wb') as f:
            f.write(k.pub_pem())
        out[name] = path
    return out


@pytest.fixture(scope='module')
def idp(p8):
    s = AppleIdp(p8['good'] + '.pub.pem')
    yield s
    s.stop()


@pytest.fixture(scope='module')
def site(request, keys, echo, idp, p8):
    body = ['AuthFlowBaseURL @BASE@', 'AuthFlowStore "@ROOT@/store"',
            'AuthFlowSigningKey "%s" kid=%s' % (keys.ec256.files['pem'], keys.ec256.kid),
            'AuthFlowTokenClaims sub email email_verified is_private_email name given_name '
            'family_name',
            apple_block('apple', idp, p8['good']),
            apple_block('apple-wrongkey', idp, p8['other']),
            apple_block('apple-query', idp, p8['good'], 'ResponseMode query\n    Scope openid'),
            '<Location /auth>\n    SetHandler authflow\n</Location>',
            protected('/app', echo, 'apple', extra='AuthFlowExport header X-Auth-Given '
                      'given_name\n    AuthFlowExport header X-Auth-Private is_private_email')]
    srv = conftest.start_server(request, 'login-apple', '\n'.join(body) + '\n', mpm='event')
    srv.store = srv.root + '/store'
    return srv


@pytest.fixture(autouse=True)
def _reset(idp):
    idp.set_mode()
    yield


# ---- helpers ------------------------------------------------------------------------------------
INPUT = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def form_of(page):
    """(action, [(name, value)]) of the first form of an HTML page."""
    import html
    m = re.search(r'<form[^>]*action="([^"]+)"', page)
    assert m, page[:300]
    return html.unescape(m.group(1)), [(k, html.unescape(v)) for k, v in INPUT.findall(page)]


def authorize(site, browser, provider='apple'):
    """Start a login and let the IdP answer: its form_post fields."""
    r, auth = start(site, browser, login_path(provider, '/app'))
    assert auth, describe(r)
    page = requests.get(auth, timeout=10)
    assert page.status_code == 200, page.text[:200]
    action, fields = form_of(page.text)
    assert action == site.url('/auth/callback')
    return auth, fields


def post_cb(site, fields, cookie='', cross=True, extra_headers=None, raw=None, query=''):
    h = {'Content-Type': 'application/x-www-form-urlencoded', 'Sec-Fetch-Mode': 'navigate',
         'Sec-Fetch-Dest': 'document', 'Accept': 'text/html'}
    if cross:
        h.update({'Sec-Fetch-Site': 'cross-site', 'Origin': 'https://appleid.apple.com'})
    else:
        h.update({'Sec-Fetch-Site': 'same-origin', 'Origin': site.base})
    if cookie:
        h['Cookie'] = cookie
    h.update(extra_headers or {})
    body = raw if raw is not None else urllib.parse.urlencode(fields)
    return afharness.http('POST', site.url('/auth/callback' + query), headers=h, data=body)


def csp_nonce(resp):
    csp = resp.headers.get('Content-Security-Policy', '')
    m = re.search(r"script-src 'nonce-([A-Za-z0-9_-]{16,})'", csp)
    return m and m.group(1), csp


def apple_login(site, idp, browser=None):
    """The whole Apple login without a browser: cross-site POST (no flow cookie: the Lax
    cookie is not sent) -> re-post page -> same-origin POST with the flow cookie."""
    b = browser or Browser()
    _, fields = authorize(site, b)
    first = post_cb(site, fields)
    assert first.status_code == 200, describe(first)
    action, again = form_of(first.text)
    assert action == site.url('/auth/callback')
    second = post_cb(site, again, cookie=b.header(), cross=False)
    b.take(second)
    return b, fields, first, second


# ---- the login ---------------------------------------------------------------------------------
def test_F03_apple_form_post_login_through_the_repost_page(site, idp):
    b, fields, first, second = apple_login(site, idp)
    names = [k for k, _ in fields]
    assert names[:2] == ['code', 'state'] and 'user' in names  # first consent: user sent
    # the re-post page: same fields, script only under a fresh nonce, no login yet
    nonce, csp = csp_nonce(first)
    assert nonce and ('nonce="%s"' % nonce) in first.text, csp
    assert "default-src 'none'" in csp and "form-action 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert first.headers.get('Cache-Control') == 'no-store'
    assert first.headers.get('X-Frame-Options') == 'DENY'
    assert '<noscript>' in first.text and '<button class="b primary" type="submit">' in first.text
    assert form_of(first.text)[1] == fields
    assert not session_cookies(first)
    assert not [c for c in set_cookies(first) if c.kind() == 'flow']  # flow cookie kept
    # the same-origin re-post logs in
    assert second.status_code == 302, describe(second)
    assert second.headers['Location'] == site.url('/app')
    assert {c.kind() for c in session_cookies(second)} >= {'at', 'rt'}
    r = get(site, '/app', b)
    assert r.status_code == 200, describe(r)
    item = echo_of(r)
    hdr = {k.lower(): v for k, v in item['headers']}
    assert hdr['x-env-sub'] == SUB + '@apple'
    assert hdr['x-env-provider'] == 'apple'
    # Apple's "true" strings: email kept and exported as booleans
    assert hdr['x-auth-email'] == 'alice@privaterelay.appleid.com'
    assert hdr['x-env-claim-verified'] in ('true', '1'), hdr
    claims = json.loads(tokens.b64u_decode(b.get('at')[1].split('.')[1]))
    assert claims['email_verified'] is True and claims['is_private_email'] is True
    # display names from the first-consent user field
    assert claims['given_name'] == 'Alice' and claims['family_name'] == 'Apple'
    assert claims['name'] == 'Alice Apple'


def test_apple_client_secret_minted_and_verified_by_the_idp(site, idp):
    apple_login(site, idp)
    tok = [e for e in idp.log() if e['path'] == '/auth/token']
    assert tok and tok[0]['secret_verdict'] == 'ok', tok
    # the authorization request asked for form_post, the name and email scopes and PKCE
    q = [e for e in idp.log() if e['path'] == '/auth/authorize'][0]['query']
    assert q['response_mode'] == 'form_post' and q['scope'] == 'openid name email'
    assert q['code_challenge_method'] == 'S256'


def test_apple_client_secret_of_a_wrong_key_is_refused_by_the_idp(site, idp):
    b = Browser()
    _, fields = authorize(site, b, 'apple-wrongkey')
    first = post_cb(site, fields)
    _, again = form_of(first.text)
    before = store_snapshot(site.store)
    r = post_cb(site, again, cookie=b.header(), cross=False)
    assert_cbfail(r, 401, before, site.store)
    assert reason(r) == 'oidc_token_request_rejected'
    tok = [e for e in idp.log() if e['path'] == '/auth/token']
    assert tok and tok[0]['secret_verdict'].startswith('signature'), tok


def test_D16_apple_user_field_is_never_identity(site, idp):
    idp.set_mode('apple_user_evil')
    b, fields, _, second = apple_login(site, idp)
    assert second.status_code == 302, describe(second)
    assert json.loads(dict(fields)['user'])['email'] == 'admin@example.com'
    claims = json.loads(tokens.b64u_decode(b.get('at')[1].split('.')[1]))
    assert claims['sub'] == SUB + '@apple'
    assert claims['email'] == 'alice@privaterelay.appleid.com'  # from the id_token only
    assert claims['name'] == 'Mallory Evil'  # display name only


def test_apple_user_field_malformed_is_refused(site, idp):
    idp.set_mode('apple_user_bad')
    b = Browser()
    _, fields = authorize(site, b)
    _, again = form_of(post_cb(site, fields).text)
    before = store_snapshot(site.store)
    r = post_cb(site, again, cookie=b.header(), cross=False)
    assert_cbfail(r, 400, before, site.store)
    assert reason(r) == 'oidc_apple_user_invalid'


def test_apple_email_verified_false_string_drops_the_email(site, idp):
    idp.set_mode('apple_email_unverified')
    b, _, _, second = apple_login(site, idp)
    assert second.status_code == 302, describe(second)
    claims = json.loads(tokens.b64u_decode(b.get('at')[1].split('.')[1]))
    assert 'email' not in claims and claims.get('email_verified') is False


def test_apple_user_cancel_error_shown(site, idp):
    idp.set_mode('apple_cancel')
    b = Browser()
    _, fields = authorize(site, b)
    assert dict(fields)['error'] == 'user_cancelled_authorize'
    _, again = form_of(post_cb(site, fields).text)
    before = store_snapshot(site.store)
    r = post_cb(site, again, cookie=b.header(), cross=False)
    assert_cbfail(r, 400, before, site.store)
    assert 'user_cancelled_authorize' in r.text


# ---- the POST callback is as strict as the GET one (D03, H10) -----------------------------------
def test_D03_post_callback_duplicate_field(site, idp):
    b = Browser()
    _, fields = authorize(site, b)
    r = post_cb(site, fields + [('state', 'attacker')], cookie=b.header(), cross=False)
    assert r.status_code == 400 and reason(r) == 'oidc_callback_duplicate_parameter'
    # also before the re-post page: a duplicate is never reflected
    r = post_cb(site, fields + [('code', 'x')])
    assert r.status_code == 400 and reason(r) == 'oidc_callback_duplicate_parameter'


def test_D03_post_callback_wrong_state(site, idp):
    b = Browser()
    _, fields = authorize(site, b)
    bad = [(k, 'A' * 22 if k == 'state' else v) for k, v in fields]
    before = store_snapshot(site.store)
    r = post_cb(site, bad, cookie=b.header(), cross=False)
    assert_cbfail(r, 400, before, site.store)
    assert reason(r) == 'oidc_state_mismatch'


def test_repost_page_never_twice_and_bound_to_the_browsers_flow(site, idp):
    """A same-origin POST without the flow cookie is not re-posted (no loop): state
    mismatch.  A form an attacker makes a victim's browser post cross-site gets the page,
    and the re-post fails the victim's own state."""
    attacker = Browser()
    _, fields = authorize(site, attacker)
    r = post_cb(site, fields, cross=False)
    assert r.status_code == 400 and reason(r) == 'oidc_state_mismatch'
    victim = Browser()
    authorize(site, victim)                   # the victim has a login of their own going
    page = post_cb(site, fields)              # the attacker's code, posted cross-site
    assert page.status_code == 200
    _, again = form_of(page.text)
    before = store_snapshot(site.store)
    r = post_cb(site, again, cookie=victim.header(), cross=False)
    assert_cbfail(r, 400, before, site.store)
    assert reason(r) == 'oidc_state_mismatch'


def test_repost_page_without_fetch_metadata_uses_origin(site, idp):
    b = Browser()
    _, fields = authorize(site, b)
    h = {'Sec-Fetch-Site': None, 'Origin': 'https://appleid.apple.com'}
    r = post_cb(site, fields, extra_headers=h)
    assert r.status_code == 200 and csp_nonce(r)[0]


def test_H10_post_callback_malformed(site, idp):
    b = Browser()
    _, fields = authorize(site, b)
    body = urllib.parse.urlencode(fields)
    # not a form
    r = post_cb(site, fields, cookie=b.header(), cross=False,
                extra_headers={'Content-Type': 'application/json'})
    assert r.status_code == 400 and reason(r) == 'oidc_callback_malformed'
    # a query and a body
    r = post_cb(site, fields, cookie=b.header(), cross=False, query='?code=x')
    assert r.status_code == 400 and reason(r) == 'oidc_callback_malformed'
    # too large a body: refused unread
    r = post_cb(site, fields, cookie=b.header(), cross=False,
                raw=body + '&pad=' + 'x' * 20000)
    assert r.status_code == 413, describe(r)
    # too many parameters (the GET callback's limit)
    r = post_cb(site, fields, cookie=b.header(), cross=False,
                raw=body + ''.join('&p%d=1' % i for i in range(40)))
    assert r.status_code == 400 and reason(r) == 'too_many_parameters', describe(r)
    # a NUL in the body
    r = post_cb(site, fields, cookie=b.header(), cross=False, raw=body + '&x=%00')
    assert r.status_code == 400
    # the flow is still usable after all of that (nothing was consumed)
    r = post_cb(site, fields, cookie=b.header(), cross=False)
    assert r.status_code == 302, describe(r)


def test_response_mode_is_bound_to_the_provider(site, idp):
    """A form_post provider's response by GET, or a query provider's by POST: refused."""
    b = Browser()
    _, fields = authorize(site, b)
    before = store_snapshot(site.store)
    r = get(site, '/auth/callback?' + urllib.parse.urlencode(fields), b)
    assert_cbfail(r, 400, before, site.store)
    assert reason(r) == 'oidc_response_mode_mismatch'
    b = Browser()
    r, auth = start(site, b, login_path('apple-query', '/app'))
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(auth).query))
    assert 'response_mode' not in q
    r = post_cb(site, [('code', 'abc'), ('state', q['state'])], cookie=b.header(), cross=False)
    assert r.status_code == 400 and reason(r) == 'oidc_response_mode_mismatch'


# ---- refresh and logout of an Apple login ------------------------------------------------------
def test_apple_login_refresh_and_logout(site, idp):
    b, _, _, second = apple_login(site, idp)
    assert second.status_code == 302
    old_rt = b.get('rt')[1]
    h = {'Origin': site.base, 'Sec-Fetch-Site': 'same-origin', 'Cookie': b.header()}
    r = afharness.http('POST', site.url('/auth/refresh'), headers=h)
    assert r.status_code == 204, describe(r)
    b.take(r)
    assert b.get('rt')[1] != old_rt
    assert get(site, '/app', b).status_code == 200
    h['Cookie'] = b.header()
    n = len(active_apple_logins(site))
    r = afharness.http('POST', site.url('/auth/logout'), headers=h)
    assert r.status_code == 303, describe(r)
    b.take(r)
    assert b.get('at')[1] is None and b.get('rt')[1] is None
    assert len(active_apple_logins(site)) == n - 1
    assert get(site, '/app', b).status_code == 302


# ---- server-to-server notifications --------------------------------------------------------------
def event_claims(idp, type_, sub=SUB, **over):
    c = {'iss': idp.issuer, 'aud': CLIENT, 'iat': int(time.time()), 'jti': 'j-%f' % time.time(),
         'events': json.dumps({'type': type_, 'sub': sub, 'event_time': int(time.time() * 1000),
                               'email': 'alice@privaterelay.appleid.com',
                               'is_private_email': 'true'})}
    c.update(over)
    return c


def notify(site, body, name='apple', ctype='application/json'):
    data = body if isinstance(body, str) else json.dumps(body)
    return afharness.http('POST', site.url('/auth/events/' + name),
                          headers={'Content-Type': ctype}, data=data)


def active_apple_logins(site):
    return [f for f in store_families(site.store).values()
            if f['sub'] == SUB + '@apple' and f['state'] == 'active']


@pytest.mark.parametrize('type_', ['consent-revoked', 'account-delete'])
def test_apple_notification_revokes_every_login(site, idp, type_):
    b1, _, _, _ = apple_login(site, idp)
    b2, _, _, _ = apple_login(site, idp)
    assert len(active_apple_logins(site)) >= 2
    r = notify(site, {'payload': idp.sign(event_claims(idp, type_))})
    assert r.status_code == 200, r.text
    assert active_apple_logins(site) == []
    for b in (b1, b2):
        r = get(site, '/app', b)
        assert r.status_code in (302, 401), describe(r)


def test_apple_notification_email_events_are_logged_only(site, idp):
    apple_login(site, idp)
    n = len(active_apple_logins(site))
    for t in ('email-disabled', 'email-enabled'):
        r = notify(site, {'payload': idp.sign(event_claims(idp, t))})
        assert r.status_code == 200, r.text
    assert len(active_apple_logins(site)) == n
    with open(site.error_log, 'rb') as f:
        log = f.read().decode('utf-8', 'replace')
    assert 'email-disabled' in log and 'privaterelay' not in log


@pytest.mark.parametrize('case,status,code', [
    ('bad_signature', 401, 'oidc_apple_event_bad_signature'),
    ('hs256', 401, 'oidc_apple_event_bad_signature'),
    ('wrong_iss', 401, 'oidc_apple_event_claims_invalid'),
    ('wrong_aud', 401, 'oidc_apple_event_claims_invalid'),
    ('old_iat', 401, 'oidc_apple_event_claims_invalid'),
    ('future_iat', 401, 'oidc_apple_event_claims_invalid'),
    ('expired', 401, 'oidc_apple_event_claims_invalid'),
    ('no_events', 400, 'oidc_apple_event_malformed'),
    ('events_not_json', 400, 'oidc_apple_event_malformed'),
    ('no_sub', 400, 'oidc_apple_event_malformed'),
    ('not_json', 400, 'oidc_apple_event_malformed'),
    ('no_payload', 400, 'oidc_apple_event_malformed'),
    ('duplicate_member', 400, 'oidc_apple_event_malformed'),
    ('not_a_jws', 400, 'oidc_apple_event_malformed'),
])
def test_apple_notification_refused_nothing_revoked(site, idp, case, status, code):
    apple_login(site, idp)
    before = len(active_apple_logins(site))
    assert before >= 1
    now = int(time.time())
    c = event_claims(idp, 'account-delete')
    body = None
    if case == 'bad_signature':
        body = {'payload': idp.sign(c, key='unpublished')}
    elif case == 'hs256':
        body = {'payload': idp.sign(c, alg='HS256')}
    elif case == 'wrong_iss':
        c['iss'] = 'https://appleid.apple.com.evil.example'
    elif case == 'wrong_aud':
        c['aud'] = 'com.example.other'
    elif case == 'old_iat':
        c['iat'] = now - 3600
    elif case == 'future_iat':
        c['iat'] = now + 3600
    elif case == 'expired':
        c['exp'] = now - 600
    elif case == 'no_events':
        c.pop('events')
    elif case == 'events_not_json':
        c['events'] = '{"type": "account-delete", '
    elif case == 'no_sub':
        c['events'] = json.dumps({'type': 'account-delete'})
    elif case == 'not_json':
        body = 'payload=x'
    elif case == 'no_payload':
        body = {'token': idp.sign(c)}
    elif case == 'duplicate_member':
        body = '{"payload": "%s", "payload": "x"}' % idp.sign(c)
    elif case == 'not_a_jws':
        body = {'payload': 'not.a.jws'}
    if body is None:
        body = {'payload': idp.sign(c)}
    r = notify(site, body)
    assert r.status_code == status, (r.status_code, r.text)
    assert json.loads(r.text)['error'] == code
    assert len(active_apple_logins(site)) == before


def test_events_endpoint_routes(site, idp):
    r = notify(site, {'payload': 'x'}, name='nosuch')
    assert r.status_code == 404
    r = afharness.http('GET', site.url('/auth/events/apple'))
    assert r.status_code == 405 and r.headers.get('Allow') == 'POST'
    r = notify(site, {'payload': 'x'}, name='../apple')
    assert r.status_code == 404


# ---- configtest -------------------------------------------------------------------------------
def configtest(workdir, keys, block):
    body = '''
AuthFlowSigningKey "%s" kid=e256
AuthFlowBaseURL http://127.0.0.1:8080
AuthFlowStore "%s/store"
%s
<Location /auth>
    SetHandler authflow
</Location>
''' % (keys.ec256.files['pem'], workdir, block)
    conf = afharness.render_conf(workdir, afharness.free_port(), body)
    return afharness.configtest(workdir, conf)


def apple_conf(key_file, extra='', team=True):
    return '''<AuthFlowProvider apple>
    Preset apple
    ClientID %s
    %s
    KeyID %s
    PrivateKeyFile "%s"
    %s
</AuthFlowProvider>''' % (CLIENT, 'TeamID %s' % TEAM if team else '', KEYID, key_file, extra)


def test_configtest_apple_accepted(workdir, keys, p8):
    rc, out = configtest(workdir, keys, apple_conf(p8['good']))
    assert rc == 0, out


@pytest.mark.parametrize('case,words', [
    ('static_secret', ['ClientSecret', 'Preset apple']),
    ('missing_key', ['PrivateKeyFile', 'key_file_unreadable']),
    ('p384', ['PrivateKeyFile', 'P-256']),
    ('rsa', ['PrivateKeyFile']),
    ('public_only', ['PrivateKeyFile']),
    ('no_team', ['TeamID']),
    ('basic', ['client_secret_post']),
    ('bad_mode', ['ResponseMode']),
])
def test_configtest_apple_refused(workdir, keys, p8, case, words):
    conf = {
        'static_secret': apple_conf(p8['good'], 'ClientSecret "abc"'),
        'missing_key': apple_conf(p8['good'] + '.missing'),
        'p384': apple_conf(p8['p384']),
        'rsa': apple_conf(keys.rsa.files['pem']),
        'public_only': apple_conf(p8['good'] + '.pub.pem'),
        'no_team': apple_conf(p8['good'], team=False),
        'basic': apple_conf(p8['good'], 'TokenEndpointAuth client_secret_basic'),
        'bad_mode': apple_conf(p8['good'], 'ResponseMode fragment'),
    }[case]
    rc, out = configtest(workdir, keys, conf)
    assert rc != 0, out
    for w in words:
        assert w in out, (w, out)


def test_configtest_apple_keys_only_with_the_preset(workdir, keys, p8):
    block = '''<AuthFlowProvider gen>
    Issuer http://127.0.0.1:9
    ClientID x
    ClientSecret "0123456789abcdef0123456789abcdef"
    TeamID %s
</AuthFlowProvider>''' % TEAM
    rc, out = configtest(workdir, keys, block)
    assert rc != 0 and 'Preset apple' in out, out


# ---- the same on the shared store (PostgreSQL) ------------------------------------------------
from pghelp import pg_cluster  # noqa: E402,F401  (fixture)
from loginhelp import wait_for  # noqa: E402


@pytest.fixture(scope='module')
def pg_site(request, keys, echo, idp, p8, pg_cluster):
    uri = pg_cluster.new_store('apple')
    secret = os.path.join(keys.dir, 'apple-shared-secret.key')
    with open(secret, 'wb') as f:
        f.write(os.urandom(48))
    os.chmod(secret, 0o600)
    body = ['AuthFlowBaseURL @BASE@', 'AuthFlowStore "%s"' % uri,
            'AuthFlowSecretFile "%s"' % secret,
            'AuthFlowRevocationDelay 1s',
            'AuthFlowSigningKey "%s" kid=%s' % (keys.ec256.files['pem'], keys.ec256.kid),
            apple_block('apple', idp, p8['good']),
            '<Location /auth>\n    SetHandler authflow\n</Location>',
            protected('/app', echo, 'apple')]
    srv = conftest.start_server(request, 'login-apple-pg', '\n'.join(body) + '\n',
                                mpm='prefork')
    srv.store = uri
    return srv


def test_G09_apple_account_delete_on_the_shared_store(pg_site, idp):
    """On PostgreSQL: the Apple login through the re-post page, then account-delete revokes
    it in the shared store, and every child refuses it within AuthFlowRevocationDelay."""
    b = Browser()
    _, fields = authorize(pg_site, b)
    _, again = form_of(post_cb(pg_site, fields).text)
    r = post_cb(pg_site, again, cookie=b.header(), cross=False)
    b.take(r)
    assert r.status_code == 302, describe(r)
    assert get(pg_site, '/app', b).status_code == 200
    logins = [f for f in store_families(pg_site.store).values() if f['sub'] == SUB + '@apple']
    assert [f['state'] for f in logins] == ['active']
    at_only = '%s=%s' % b.get('at')
    assert get(pg_site, '/app', cookie=at_only).status_code == 200
    r = notify(pg_site, {'payload': idp.sign(event_claims(idp, 'account-delete'))})
    assert r.status_code == 200, r.text
    logins = [f for f in store_families(pg_site.store).values() if f['sub'] == SUB + '@apple']
    assert [f['state'] for f in logins] == ['revoked']
    # the access cookie alone is refused by every child within the delay (no refresh cookie:
    # a refresh would be refused too, but must not hide the gate's verdict)
    assert wait_for(lambda: all(get(pg_site, '/app', cookie=at_only).status_code != 200
                                for _ in range(6)), timeout=10)
