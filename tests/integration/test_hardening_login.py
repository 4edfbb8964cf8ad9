"""Issue 10 (hardening), the login and rotation items: each test here failed on the code
before its fix.

  item 2   a rotation whose response has not reached the browser is never held against it:
           a slow backend + another tab after the reuse grace must not log the user out;
           real reuse is still detected                                          (G06, G03)
  item 3   the gate answers 503 when the store cannot be read (no login loop)   (G10)
  item 8   refresh re-mints with the same claim trimming as the login          (F04)
  item 9   two providers with the same IdP subject are two users              (H05, D16)
"""
import os
import subprocess
import threading
import time

import pytest

import afharness
import conftest
import tokens
from loginhelp import (BadIdp, Browser, describe, echo_header, echo_of, full_login, get,
                       have_node, login_site, provider_block, store_families, store_unreadable,
                       unverified_claims)
from refreshhelp import (ctl, family, login, refresh, sid_of, start_site)

pytestmark = pytest.mark.skipif(not have_node, reason='node or tests/idp/node_modules missing')

BIG_IDP = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'big_idp.py')

SLOW_APPS = '''
<Location /slow>
    AuthType AuthFlow
    Require valid-user
    ProxyPass "@ECHO@/slow"
</Location>
<Location /api>
    AuthType AuthFlow
    AuthFlowUnauthenticated 401
    Require valid-user
    ProxyPass "@ECHO@/api"
</Location>
'''


@pytest.fixture(scope='module')
def site(request, keys, echo):
    srv = start_site(request, keys, echo, 'hardening-login', grace='1s', apps_extra=SLOW_APPS)
    return srv


def rt_only(browser):
    """The Cookie header of a tab whose access cookie is gone (expired): the refresh cookie
    only, so the gate rotates inline."""
    name, value = browser.get('rt')
    return '%s=%s' % (name, value)


# -- item 2 ------------------------------------------------------------------------------------
@pytest.mark.allow_log(r'AF03010', r'AF09001')
def test_G06_slow_backend_rotation_not_held_against_other_tab(site):
    """Tab A's request rotates the refresh token inline, and its new cookies travel with the
    backend's slow answer (4 s).  Tab B, still holding the old refresh token, comes after the
    reuse grace (1 s) but before A's answer reached the browser: B is served (it gets the
    same successor), nothing is revoked, and A's late answer carries that same successor."""
    b = login(site)
    sid = sid_of(b)
    old = rt_only(b)
    res = {}

    def tab_a():
        res['a'] = get(site, '/slow/report?sleep=4', cookie=old, timeout=60)
    t = threading.Thread(target=tab_a)
    t.start()
    time.sleep(2.5)                       # > AuthFlowReuseGrace, < the backend's 4 s
    rb = get(site, '/app/tab-b', cookie=old)
    t.join(60)
    ra = res['a']
    assert ra.status_code == 200, describe(ra)
    assert rb.status_code == 200, 'tab B: %s (the login was revoked)' % describe(rb)
    assert not family(site, sid)['revoked']
    rt_a = [c for c in ra.raw.headers.getlist('Set-Cookie') if '-rt=' in c]
    rt_b = [c for c in rb.raw.headers.getlist('Set-Cookie') if '-rt=' in c]
    assert rt_a and rt_b
    val = lambda c: c.split(';')[0].split('=', 1)[1]
    assert val(rt_a[0]) == val(rt_b[0]), 'two different successors'
    # and the successor works for both tabs afterwards
    tokens.remember(val(rt_a[0]))
    name = b.get('rt')[0]
    r = get(site, '/app/after', cookie='%s=%s' % (name, val(rt_a[0])))
    assert r.status_code == 200, describe(r)
    assert not family(site, sid)['revoked']


@pytest.mark.allow_log(r'AF03010', r'AF09001')
def test_G03_reuse_after_delivery_still_revokes(site):
    """Control for the fix above: once the successor has reached the browser and the grace
    has passed, presenting the old token again is a reuse and revokes the login."""
    b = login(site)
    sid = sid_of(b)
    old = rt_only(b)
    r = get(site, '/app/one', cookie=old)
    assert r.status_code == 200, describe(r)
    time.sleep(2.2)
    r = get(site, '/api/two', cookie=old, headers={'Sec-Fetch-Mode': 'cors',
                                                    'Accept': 'application/json'})
    assert r.status_code == 401, describe(r)
    assert family(site, sid)['revoked']


# -- item 3 ------------------------------------------------------------------------------------
@pytest.mark.allow_log(r'AF08004', r'AF08006', r'AF08007', r'AF03001', r'AF07012')
def test_G10_store_unreadable_gate_answers_503(request, keys, echo):
    """Children that cannot open the store: a valid access token gets 503 with a reason
    (never a 302 to the IdP and back in a loop, never 401)."""
    srv = start_site(request, keys, echo, 'hardening-store-503', mpm='prefork')
    b = login(srv)
    assert store_unreadable(request, srv, srv.store)
    nav = get(srv, '/app/x', b)
    api = get(srv, '/app/x', b, headers={'Sec-Fetch-Mode': 'cors', 'Accept': 'application/json'})
    for r in (nav, api):
        assert r.status_code == 503, describe(r)
        assert 'Location' not in r.headers
        assert 'store_unavailable' in r.text
        # the gate's own body, not the backend's: the headers of the handler's pages
        assert r.headers.get('X-Content-Type-Options') == 'nosniff', r.headers
        assert r.headers.get('X-Frame-Options') == 'DENY', r.headers
        assert r.headers.get('Referrer-Policy') == 'no-referrer', r.headers
        assert "default-src 'none'" in r.headers.get('Content-Security-Policy', ''), r.headers
    assert api.headers.get('Retry-After')


# -- item 8 ------------------------------------------------------------------------------------
@pytest.fixture(scope='module')
def big(request, keys, echo):
    idp = BadIdp(script=BIG_IDP)
    request.addfinalizer(idp.stop)
    body = login_site(keys, echo, provider_block('big', idp.url), apps=[('/app', 'big')],
                      server_extra='AuthFlowTokenClaims sub email email_verified name '
                                   'preferred_username groups')
    srv = conftest.start_server(request, 'hardening-big', body)
    srv.store = srv.root + '/store'
    return srv


def test_F04_refresh_of_trimmed_login(big):
    """A login whose access token needed claims left out to fit a 4 KB cookie refreshes with
    the same trimming (one mint path), instead of 500 on every refresh."""
    lg = full_login(big, 'big', '/app')
    assert lg.ok, describe(lg.cb_resp)
    first = unverified_claims(lg.at())
    assert 'groups' not in first          # the 200 groups did not fit
    r = afharness.http('POST', big.url('/auth/refresh'),
                       headers={'Origin': big.base, 'Cookie': lg.browser.header()})
    assert r.status_code == 204, '%d %s' % (r.status_code, r.text[:200])
    lg.browser.take(r)
    again = unverified_claims(lg.browser.get('at')[1])
    assert set(again) == set(first), (sorted(first), sorted(again))
    # and the gate's inline refresh too
    b = Browser()
    b.jar = {k: v for k, v in lg.browser.jar.items() if k.endswith('-rt')}
    r = get(big, '/app/inline', b)
    assert r.status_code == 200, describe(r)


# -- item 9 ------------------------------------------------------------------------------------
@pytest.fixture(scope='module')
def two(request, keys, echo):
    a = BadIdp(sub='alice')
    request.addfinalizer(a.stop)
    c = BadIdp(sub='alice')
    request.addfinalizer(c.stop)
    t = BadIdp(sub='alice@one')     # a raw subject that looks like a namespaced one
    request.addfinalizer(t.stop)
    more = '''
<Location /only-a>
    AuthType AuthFlow
    Require authflow-claim sub alice@one
    ProxyPass "%s/only-a"
</Location>
''' % echo.url
    body = login_site(keys, echo, provider_block('one', a.url) + '\n' +
                      provider_block('two', c.url) + '\n' + provider_block('three', t.url),
                      apps=[('/app', None)], server_extra=more)
    srv = conftest.start_server(request, 'hardening-subjects', body)
    srv.store = srv.root + '/store'
    return srv


@pytest.mark.allow_log(r'AF04001', r'AH01631')
def test_H05_same_subject_two_providers_are_two_users(two):
    """Two IdPs both say sub "alice": REMOTE_USER, AUTHFLOW_SUB, the sub claim a Require line
    matches and the store's user key differ (namespaced by provider), and the IdP's own
    subject stays available."""
    seen = {}
    for prov in ('one', 'two'):
        lg = full_login(two, prov, '/app')
        assert lg.ok, describe(lg.cb_resp)
        item = echo_of(get(two, '/app/who', lg.browser))
        seen[prov] = (echo_header(item, 'X-Env-Remote-User'), echo_header(item, 'X-Env-Sub'),
                      lg.browser)
        claims = unverified_claims(lg.at())
        assert claims['idp'] == prov and claims['idp_sub'] == 'alice', claims
    assert seen['one'][0] != seen['two'][0], seen
    assert seen['one'][1] != seen['two'][1], seen
    assert seen['one'][0] == 'alice@one' and seen['two'][0] == 'alice@two'
    # Require authflow-claim sub alice@one: only the first account
    assert get(two, '/only-a/x', seen['one'][2]).status_code == 200
    assert get(two, '/only-a/x', seen['two'][2]).status_code in (401, 403)
    # the store's per-user index
    subs = sorted({f['sub'] for f in store_families(two.store).values()})
    assert {'alice@one', 'alice@two'} <= set(subs), subs
    out, rc = ctl(two, 'list', '--user', 'alice@one')
    assert rc == 0 and all(f['sub'] == 'alice@one' for f in out) and out, out


@pytest.mark.allow_log(r'AF04001', r'AH01631')
def test_H05_raw_subject_with_at_sign_is_not_another_account(two):
    """Provider three's IdP says sub "alice@one": that account is "alice@one@three" -- never
    the "alice@one" of provider one (the provider name, which cannot hold '@', is always the
    part after the last '@'): REMOTE_USER, AUTHFLOW_SUB, Require authflow-claim sub and the
    store's user key all tell them apart."""
    lg = full_login(two, 'three', '/app')
    assert lg.ok, describe(lg.cb_resp)
    item = echo_of(get(two, '/app/who', lg.browser))
    assert echo_header(item, 'X-Env-Remote-User') == 'alice@one@three'
    assert echo_header(item, 'X-Env-Sub') == 'alice@one@three'
    claims = unverified_claims(lg.at())
    assert claims['idp'] == 'three' and claims['idp_sub'] == 'alice@one', claims
    assert get(two, '/only-a/x', lg.browser).status_code in (401, 403)
    out, rc = ctl(two, 'list', '--user', 'alice@one')  # exit 1: none (run alone)
    assert rc in (0, 1) and all(f['sub'] == 'alice@one' for f in out), out
    out, rc = ctl(two, 'list', '--user', 'alice@one@three')
    assert rc == 0 and len(out) >= 1, out


@pytest.mark.allow_log(r'AF04001', r'AH01631')
def test_H05_revoke_user_is_one_account_on_one_provider(two):
    """`authflowctl revoke --user alice@one` signs out alice at provider one only: the
    accounts with the same raw subject at provider two, and "alice@one" at provider three,
    keep working."""
    lgs = {prov: full_login(two, prov, '/app') for prov in ('one', 'two', 'three')}
    for prov, lg in lgs.items():
        assert lg.ok, (prov, describe(lg.cb_resp))
        assert get(two, '/app/x', lg.browser).status_code == 200, prov
    out, rc = ctl(two, 'revoke', '--user', 'alice@one')
    assert rc == 0, out
    r = get(two, '/app/x', lgs['one'].browser)
    assert r.status_code != 200, r.status_code
    for prov in ('two', 'three'):
        assert get(two, '/app/x', lgs[prov].browser).status_code == 200, prov
    fams = store_families(two.store).values()
    assert all(f['revoked'] for f in fams if f['sub'] == 'alice@one')
    assert not any(f['revoked'] for f in fams if f['sub'] in ('alice@two', 'alice@one@three')
                   and f["sid"] in {sid_of(lg.browser) for lg in lgs.values()})


def test_H05_subject_stable_across_logins(two):
    """The same account on the same provider gets the same REMOTE_USER every time."""
    users = set()
    for _ in range(2):
        lg = full_login(two, 'one', '/app')
        assert lg.ok
        users.add(echo_header(echo_of(get(two, '/app/who', lg.browser)), 'X-Env-Remote-User'))
    assert users == {'alice@one'}
