"""Refresh-token rotation through real httpd + the real OpenID provider (issue 5).

SECURITY.md G01-G04, G06-G08, G10 (timestamps), F07; transparent refresh in the gate.
Reuse grace on this site: 2 s.  The module's clock is shifted with AuthFlowTestClockOffset
(httpd started with -DAUTHFLOW_TESTING) for the idle / absolute lifetime cases.
"""
import hashlib
import threading
import time

import pytest

import afharness
import tokens
from loginhelp import echo_header, echo_of, get, have_node, unverified_claims, verify_access_token
from refreshhelp import (cleared, cookies_of, ctl, expired_at, family, login, new_rt, refresh,
                         rt_cookie, set_clock, sid_of, snapshot, start_site)

pytestmark = pytest.mark.skipif(not have_node, reason='node or tests/idp/node_modules missing')

GRACE = 2

APPS = '''
<Location /norefresh>
    AuthType AuthFlow
    AuthFlowUnauthenticated 401
    AuthFlowRefresh off
    Require valid-user
    ProxyPass "@ECHO@/norefresh"
</Location>
<Location /norevoke>
    AuthType AuthFlow
    AuthFlowUnauthenticated 401
    AuthFlowCheckRevocation off
    Require valid-user
    ProxyPass "@ECHO@/norevoke"
</Location>
'''


@pytest.fixture(scope='module')
def site(request, keys, echo):
    return start_site(request, keys, echo, 'refresh', grace='%ds' % GRACE, apps_extra=APPS,
                      extra='AuthFlowRefreshIdle 2m\nAuthFlowRefreshTTL 5m')


@pytest.fixture
def clock(site):
    yield site
    if site.offset:
        set_clock(site, 0)


# -- G01 ---------------------------------------------------------------------------------------
def test_G01_store_keeps_only_hashes(site):
    b = login(site)
    rt1 = b.get('rt')[1]
    at1 = b.get('at')[1]
    r = refresh(site, b)
    assert r.status_code == 204, r.text
    rt2, at2 = b.get('rt')[1], b.get('at')[1]
    assert rt2 != rt1 and at2 != at1
    # >= 256 bits: 43 base64url characters = 32 bytes
    for rt in (rt1, rt2):
        assert len(rt) == 43 and len(tokens.b64u_decode(rt)) == 32
    dump = snapshot(site)
    text = ''.join(dump.values())
    for secret in (rt1, rt2, at1, at2):
        for form in (secret, secret.encode().hex(), tokens.b64u_decode(secret.split('.')[-1]).hex()):
            assert form not in text, 'token material in the LMDB dump'
    # the lookup key is SHA-256(token)
    assert hashlib.sha256(rt2.encode()).hexdigest() in dump['tokens']
    assert hashlib.sha256(rt1.encode()).hexdigest() in dump['tokens']


# -- G02 ---------------------------------------------------------------------------------------
def test_G02_rotation(site, keys):
    b = login(site)
    sid = sid_of(b)
    before = family(site, sid)
    rt1 = b.get('rt')[1]
    r = refresh(site, b)
    assert r.status_code == 204 and r.content == b''
    cs = cookies_of(r)
    assert set(cs) == {'at', 'rt'} and not cs['at'].deleting and not cs['rt'].deleting
    for c in cs.values():
        assert 'httponly' in c.flags and c.attrs.get('path') == '/'
    assert cs['rt'].value != rt1
    assert r.headers.get('Cache-Control') == 'no-store'
    assert cs['rt'].value not in r.text and cs['at'].value not in r.text
    hdr, c = verify_access_token(cs['at'].value, keys.ec256)
    assert hdr['typ'] == 'at+jwt' and c['sid'] == sid and c['sub'] == 'alice@idp'
    assert c['idp_sub'] == 'alice'
    assert c['email'] == 'alice@example.com'  # from the family's claims snapshot
    after = family(site, sid)
    assert after['expires'] == before['expires'], 'rotation extended the family'
    assert after['generation'] == before['generation'] + 1
    assert not after['revoked']
    # the new token rotates again; the family id stays
    r = refresh(site, b)
    assert r.status_code == 204 and sid_of(b) == sid


# -- G03 ---------------------------------------------------------------------------------------
def test_G03_reuse_after_grace_revokes_family(site):
    b = login(site)
    sid = sid_of(b)
    rt1 = b.get('rt')[1]
    assert refresh(site, b).status_code == 204
    rt2 = b.get('rt')[1]
    time.sleep(GRACE + 1.5)
    mark = len(site.read_log())
    r = refresh(site, rt_cookie(b, rt1))
    assert r.status_code == 401 and cleared(r)
    assert family(site, sid)['revoked']
    log = site.read_log()[mark:]
    assert 'AF03010' in log and sid in log
    assert rt1 not in log and rt2 not in log
    # the successor is dead too, and so is the access token (revocation check)
    assert refresh(site, rt_cookie(b, rt2)).status_code == 401
    r = get(site, '/app', cookie='%s=%s' % b.get('at'))
    assert r.status_code in (302, 401)


def test_G03_older_than_predecessor_revokes_inside_grace(site):
    b = login(site)
    sid = sid_of(b)
    rt1 = b.get('rt')[1]
    assert refresh(site, b).status_code == 204
    assert refresh(site, b).status_code == 204    # rt2 -> rt3, all inside the grace window
    r = refresh(site, rt_cookie(b, rt1))          # rt1 is two generations old
    assert r.status_code == 401 and cleared(r)
    assert family(site, sid)['revoked']


# -- G04 (small; the big runs are in test_rotation_concurrency.py) ---------------------------
def test_G04_parallel_refreshes_one_successor(site):
    b = login(site)
    sid = sid_of(b)
    cookie = b.header()
    gen = family(site, sid)['generation']
    results = [None] * 8
    barrier = threading.Barrier(8)

    def one(i):
        barrier.wait()
        results[i] = refresh(site, cookie)
    ts = [threading.Thread(target=one, args=(i,)) for i in range(8)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    assert all(r.status_code == 204 for r in results), [r.status_code for r in results]
    succ = {new_rt(r) for r in results} - {None}
    assert len(succ) == 1
    f = family(site, sid)
    assert f['generation'] == gen + 1 and not f['revoked']
    assert refresh(site, rt_cookie(b, succ.pop())).status_code == 204


# -- G06 ---------------------------------------------------------------------------------------
def test_G06_lost_response_retry_converges(site):
    b = login(site)
    sid = sid_of(b)
    rt1 = b.get('rt')[1]
    r1 = refresh(site, rt_cookie(b, rt1))        # the client never stores this answer
    assert r1.status_code == 204
    r2 = refresh(site, rt_cookie(b, rt1))        # retry with the old token, inside grace
    assert r2.status_code == 204
    assert new_rt(r2) == new_rt(r1), 'two live successors'
    assert not family(site, sid)['revoked']
    r3 = refresh(site, rt_cookie(b, new_rt(r2)))
    assert r3.status_code == 204 and new_rt(r3) not in (rt1, new_rt(r1))
    assert not family(site, sid)['revoked']


# -- G07 ---------------------------------------------------------------------------------------
def test_G07_unknown_refresh_token(site):
    b = login(site)
    before = snapshot(site)
    r = refresh(site, rt_cookie(b, tokens.b64u(b'\x01' * 32)))
    assert r.status_code == 401 and cleared(r)
    r = refresh(site, rt_cookie(b, 'not-a-token'))
    assert r.status_code == 401 and cleared(r)
    assert snapshot(site)['tokens'] == before['tokens']


def test_G07_revoked_family(site):
    b = login(site)
    sid = sid_of(b)
    out, rc = ctl(site, 'revoke', '--sid', sid)
    assert rc == 0
    r = refresh(site, b.header())
    assert r.status_code == 401 and cleared(r)


def test_G07_idle_timeout(site, clock):
    b = login(site)
    set_clock(site, 130)                 # AuthFlowRefreshIdle 2m
    r = refresh(site, b.header())
    assert r.status_code == 401 and cleared(r)
    assert r.json()['error'] == 'login_expired'


def test_G07_absolute_lifetime(site, clock):
    b = login(site)
    sid = sid_of(b)
    exp = family(site, sid)['expires']
    for off in (100, 200, 290):          # each step inside the idle window
        set_clock(site, off)
        assert refresh(site, b).status_code == 204
    assert family(site, sid)['expires'] == exp
    set_clock(site, 310)                 # AuthFlowRefreshTTL 5m
    r = refresh(site, b.header())
    assert r.status_code == 401 and cleared(r)


# -- G08 ---------------------------------------------------------------------------------------
def test_G08_refresh_token_with_another_users_session(site, keys):
    alice = login(site, 'alice')
    bob = login(site, 'bob')
    sid_a = sid_of(alice)
    # alice's refresh token next to bob's (expired or not) access token: theft
    cookie = '%s=%s; %s=%s' % (bob.get('at')[0], expired_at(keys, site, sid_of(bob), 'bob'),
                               alice.get('rt')[0], alice.get('rt')[1])
    r = refresh(site, cookie)
    assert r.status_code == 401 and cleared(r)
    assert family(site, sid_a)['revoked']
    assert not family(site, sid_of(bob))['revoked']
    # the same with a live access token of bob's and a fresh login of carol's
    carol = login(site, 'carol')
    r = refresh(site, '%s=%s; %s' % (bob.get('at')[0], bob.get('at')[1],
                                     rt_cookie(carol, carol.get('rt')[1])))
    assert r.status_code == 401 and cleared(r)
    assert family(site, sid_of(carol))['revoked'] and not family(site, sid_of(bob))['revoked']


# -- G10 (timestamps) ----------------------------------------------------------------------------
def test_G10_access_tokens_after_2038(site, keys, clock):
    """The gate's clock and exp are 64-bit (the store's timestamps: tests/unit/test_store*)."""
    off = 2240000000 - int(time.time())      # 2040-12-25
    set_clock(site, off)
    payload = tokens.claims(site.base, site.base, ttl=300, idp='idp', nbf=None)
    payload['iat'] = 2240000000 - 10
    payload['exp'] = 2240000000 + 290
    tok = tokens.mint(keys.ec256, payload)
    r = get(site, '/norevoke', cookie='authflow-at=' + tok)
    assert r.status_code == 200, r.text[:200]
    payload['exp'] = 2240000000 - 100        # expired in 2040
    payload['iat'] = payload['exp'] - 300
    r = get(site, '/norevoke', cookie='authflow-at=' + tokens.mint(keys.ec256, payload))
    assert r.status_code == 401


# -- F07 ---------------------------------------------------------------------------------------
@pytest.mark.parametrize('hdrs', [
    {'Origin': 'https://evil.example'},
    {'Origin': 'https://evil.example', 'Sec-Fetch-Site': 'cross-site'},
    {'Sec-Fetch-Site': 'cross-site'},
    {'Sec-Fetch-Site': 'same-site'},
    {'Origin': 'null'},
    {},
    {'Origin': 'http://127.0.0.1:1'},
    {'Origin': '@BASE@', 'Sec-Fetch-Site': 'cross-site'},
], ids=['origin', 'origin+sfs', 'sfs-cross', 'sfs-same-site', 'null', 'none', 'port',
        'sfs-overrides'])
def test_F07_refresh_csrf(site, hdrs):
    b = login(site)
    before = snapshot(site)
    h = {k: v.replace('@BASE@', site.base) for k, v in hdrs.items()}
    r = refresh(site, b.header(), origin=False, headers=h)
    assert r.status_code == 403
    assert not cookies_of(r), 'session cookie sent'
    assert snapshot(site) == before, 'LMDB changed'


def test_F07_refresh_get_is_405(site):
    b = login(site)
    before = snapshot(site)
    r = refresh(site, b.header(), method='GET')
    assert r.status_code == 405 and r.headers.get('Allow') == 'POST'
    assert not cookies_of(r) and snapshot(site) == before


def test_F07_same_origin_without_origin_header(site):
    b = login(site)
    r = refresh(site, b, origin=False, headers={'Sec-Fetch-Site': 'same-origin'})
    assert r.status_code == 204
    # after a no-referrer page browsers send "Origin: null" with Sec-Fetch-Site
    r = refresh(site, b, origin='null', headers={'Sec-Fetch-Site': 'same-origin'})
    assert r.status_code == 204


# -- transparent refresh in the gate -------------------------------------------------------------
def test_gate_refreshes_without_access_token(site):
    b = login(site)
    sid = sid_of(b)
    rt1 = b.get('rt')[1]
    r = get(site, '/app', cookie=rt_cookie(b, rt1))
    assert r.status_code == 200, r.text[:300]
    item = echo_of(r)
    assert echo_header(item, 'X-Env-Sub') == 'alice@idp'
    cs = cookies_of(r)
    assert set(cs) == {'at', 'rt'} and cs['rt'].value != rt1
    assert unverified_claims(cs['at'].value)['sid'] == sid
    assert 'no-store' in r.headers.get('Cache-Control', '')
    # the backend never sees our cookies
    assert rt1 not in r.text and cs['rt'].value not in r.text and cs['at'].value not in r.text


def test_gate_refreshes_expired_access_token(site, keys):
    b = login(site)
    sid = sid_of(b)
    old = expired_at(keys, site, sid)
    r = get(site, '/app', cookie='%s=%s; %s=%s' % (b.get('at')[0], old, b.get('rt')[0],
                                                     b.get('rt')[1]))
    assert r.status_code == 200
    cs = cookies_of(r)
    assert set(cs) == {'at', 'rt'} and unverified_claims(cs['at'].value)['sid'] == sid


def test_gate_no_refresh_for_forged_or_bearer_tokens(site, keys):
    b = login(site)
    sid = sid_of(b)
    payload = unverified_claims(expired_at(keys, site, sid))
    forged = tokens.mint(keys.attacker, payload)       # same kid, wrong key, expired
    before = snapshot(site)
    r = get(site, '/app', cookie='%s=%s; %s' % (b.get('at')[0], forged,
                                                rt_cookie(b, b.get('rt')[1])))
    assert r.status_code in (302, 401) and not cookies_of(r)
    r = get(site, '/app', cookie=rt_cookie(b, b.get('rt')[1]),
            headers={'Authorization': 'Bearer ' + expired_at(keys, site, sid)})
    # cookie comes first in AuthFlowTokenFrom, and there is none: the bearer is used
    assert r.status_code in (302, 401) and not cookies_of(r)
    assert snapshot(site)['tokens'] == before['tokens']


def test_gate_refresh_off(site):
    b = login(site)
    r = get(site, '/norefresh', cookie=rt_cookie(b, b.get('rt')[1]))
    assert r.status_code == 401 and not cookies_of(r)


def test_gate_dead_refresh_token_clears_cookies_on_redirect(site):
    b = login(site)
    ctl(site, 'revoke', '--sid', sid_of(b))
    r = get(site, '/app', cookie=rt_cookie(b, b.get('rt')[1]))
    assert r.status_code == 302 and '/auth/login' in r.headers['Location']
    assert cleared(r)


def test_gate_parallel_transparent_refreshes(site):
    """Eight tabs with an expired access token load pages at once: all stay logged in."""
    b = login(site)
    sid = sid_of(b)
    cookie = rt_cookie(b, b.get('rt')[1])
    results = [None] * 8
    barrier = threading.Barrier(8)

    def one(i):
        barrier.wait()
        results[i] = get(site, '/app', cookie=cookie)
    ts = [threading.Thread(target=one, args=(i,)) for i in range(8)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    assert [r.status_code for r in results] == [200] * 8
    assert len({new_rt(r) for r in results} - {None}) == 1
    assert not family(site, sid)['revoked']


# -- revocation check -------------------------------------------------------------------------------
def test_revocation_check_on_and_off(site):
    b = login(site)
    at = '%s=%s' % b.get('at')
    assert get(site, '/app', cookie=at).status_code == 200
    ctl(site, 'revoke', '--sid', sid_of(b))
    assert get(site, '/app', cookie=at).status_code == 302
    assert get(site, '/norevoke', cookie=at).status_code == 200


# -- configuration ---------------------------------------------------------------------------------
@pytest.mark.parametrize('value,ok', [('auto', True), ('off', True), ('OFF', True),
                                      ('maybe', False), ('', False)])
def test_refresh_directive_configtest(workdir, keys, value, ok):
    body = ('AuthFlowBaseURL https://app.example.com\n'
            'AuthFlowSigningKey "%s" kid=e256\n'
            '<Location /app>\n    AuthType AuthFlow\n    Require valid-user\n'
            '    AuthFlowRefresh %s\n</Location>\n' % (keys.ec256.files['pem'], value))
    rc, out = afharness.configtest(workdir, afharness.render_conf(workdir, afharness.free_port(),
                                                                   body))
    if ok:
        assert rc == 0, out
    else:
        assert rc != 0 and 'AuthFlowRefresh' in out, out
