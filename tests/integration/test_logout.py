"""Logout (issue 5): SECURITY.md G09, F08, E19, against real httpd + the real OpenID provider
(which has an end_session_endpoint and knows our post_logout_redirect_uri).
"""
import urllib.parse

import pytest
import requests

import afharness
from loginhelp import get, have_node, qs, set_cookies, walk_login
from refreshhelp import (cleared, cookies_of, family, login, refresh, rt_cookie, sid_of, snapshot,
                         start_site)

pytestmark = pytest.mark.skipif(not have_node, reason='node or tests/idp/node_modules missing')


@pytest.fixture(scope='module')
def site(request, keys, echo):
    return start_site(request, keys, echo, 'logout')


def logout(site, cookie, origin=True, query='', headers=None, method='POST'):
    h = {'Origin': site.base} if origin else {}
    h.update(headers or {})
    if cookie:
        h['Cookie'] = cookie
    return afharness.http(method, site.url('/auth/logout' + query), headers=h)


def all_cleared(resp):
    got = {c.kind(): c for c in set_cookies(resp)}
    ok = all(k in got and got[k].deleting and got[k].attrs.get('path') == '/' and
             got[k].attrs.get('max-age') == '0' for k in ('at', 'rt', 'flow'))
    return ok


def test_G09_logout_revokes_and_old_tokens_die(site):
    b = login(site)
    sid = sid_of(b)
    at, rt = '%s=%s' % b.get('at'), rt_cookie(b, b.get('rt')[1])
    assert get(site, '/app', cookie=at).status_code == 200
    r = logout(site, b.header())
    assert r.status_code == 303
    assert all_cleared(r)
    assert family(site, sid)['revoked']
    # the IdP has an end_session_endpoint: RP-initiated logout
    loc = r.headers['Location']
    assert loc.startswith(site.idp.issuer)
    q = qs(loc)
    assert q['post_logout_redirect_uri'] == site.base + '/auth/logout'
    assert q['client_id'] and len(q['state']) >= 22
    assert 'id_token_hint' not in q        # the id_token is not kept server-side
    # old access and refresh tokens are rejected
    assert get(site, '/app', cookie=at).status_code == 302
    assert refresh(site, rt).status_code == 401
    assert get(site, '/app', cookie=rt).status_code == 302
    # idempotent: again, with the old cookies and with none
    before = snapshot(site)
    r2 = logout(site, b.header())
    assert r2.status_code == 303 and all_cleared(r2)
    r3 = logout(site, '')
    assert r3.status_code == 303 and all_cleared(r3)
    assert snapshot(site)['families'] == before['families']


def test_G09_logout_with_only_refresh_cookie(site):
    b = login(site)
    sid = sid_of(b)
    r = logout(site, rt_cookie(b, b.get('rt')[1]))
    assert r.status_code == 303 and all_cleared(r)
    assert family(site, sid)['revoked']
    # no verified access token: the provider is unknown, the signed-out page it is
    assert r.headers['Location'] == site.base + '/auth/logout'


def test_F08_get_shows_confirmation_only(site):
    b = login(site)
    before = snapshot(site)
    r = logout(site, b.header(), origin=False, method='GET',
               headers={'Sec-Fetch-Site': 'cross-site', 'Sec-Fetch-Dest': 'image'})
    assert r.status_code == 200
    assert '<form method="post"' in r.text
    assert r.headers['X-Frame-Options'] == 'DENY'
    assert "frame-ancestors 'none'" in r.headers['Content-Security-Policy']
    assert r.headers['Cache-Control'] == 'no-store'
    assert not cookies_of(r) and snapshot(site) == before
    # return_to is escaped into the form
    r = logout(site, b.header(), origin=False, method='GET',
               query='?return_to=' + urllib.parse.quote('/x"><script>'))
    assert r.status_code == 200 and '<script>' not in r.text


@pytest.mark.parametrize('hdrs', [
    {'Origin': 'https://evil.example'},
    {'Sec-Fetch-Site': 'cross-site'},
    {'Sec-Fetch-Site': 'same-site'},
    {},
], ids=['origin', 'sfs-cross', 'sfs-same-site', 'none'])
def test_F08_cross_site_post_is_refused(site, hdrs):
    b = login(site)
    before = snapshot(site)
    r = logout(site, b.header(), origin=False, headers=hdrs)
    assert r.status_code == 403
    assert not set_cookies(r)
    assert snapshot(site) == before
    assert not family(site, sid_of(b))['revoked']


def test_E19_return_from_idp_checks_state(site):
    b = login(site)
    r = logout(site, b.header(), query='?return_to=/app/bye')
    assert r.status_code == 303
    b.take(r)
    lo_name = [c.name for c in set_cookies(r) if c.name.endswith('-logout')]
    assert lo_name, 'no logout state cookie'
    # walk the IdP's end-session confirmation; it sends the browser back with our state
    back = walk_login(requests.Session(), r.headers['Location'])
    assert back.startswith(site.base + '/auth/logout?')
    state = qs(back)['state']
    # a foreign state: an error page, no redirect
    bad = get(site, '/auth/logout?state=' + 'A' * len(state), b)
    assert bad.status_code == 400 and 'Location' not in bad.headers
    # the browser's own state (the cookie was cleared by the failure: present it again)
    ok = get(site, back[len(site.base):], cookie='%s=%s' % (
        lo_name[0], [c.value for c in set_cookies(r) if c.name == lo_name[0]][0]))
    assert ok.status_code == 303
    assert ok.headers['Location'] in ('/app/bye', site.base + '/app/bye')
    # without any logout cookie: refused
    none = get(site, back[len(site.base):], cookie='')
    assert none.status_code == 400 and 'Location' not in none.headers
    assert cleared(r)
