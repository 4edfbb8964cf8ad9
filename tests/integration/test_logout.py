"""Logout (issue 5): SECURITY.md G09, F08, E19, against real httpd + the real OpenID provider
(which has an end_session_endpoint and knows our post_logout_redirect_uri).
"""
import json
import subprocess
import urllib.parse

import pytest
import requests
from jwcrypto import jwk, jwt

import tokens

import afharness
from loginhelp import AUTHFLOWCTL, get, have_node, qs, set_cookies, walk_login
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


def idp_jwks(site):
    meta = requests.get(site.idp.issuer + '/.well-known/openid-configuration', timeout=5).json()
    return jwk.JWKSet.from_json(requests.get(meta['jwks_uri'], timeout=5).text)


def check_id_token_hint(site, q, sub='alice'):
    """The hint verifies with the IdP's JWKS and is an id_token for our client."""
    hint = q['id_token_hint']
    tok = jwt.JWT(jwt=hint, key=idp_jwks(site),
                  check_claims={'iss': site.idp.issuer, 'aud': q['client_id']})
    claims = json.loads(tok.claims)
    assert claims['sub'] == sub and claims.get('nonce'), claims
    return hint


def dump_all(store):
    """Every database of the store, as mdb_dump -a prints it (hex) and printable (-p)."""
    out = ''
    for extra in ([], ['-p']):
        p = subprocess.run(['mdb_dump', '-a'] + extra + [store], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=30)
        assert p.returncode == 0, p.stderr.decode()[:300]
        out += p.stdout.decode('latin-1')
    return out


def test_G01_id_token_never_plaintext_in_store(site):
    b = login(site)
    sid = sid_of(b)
    dump = dump_all(site.store)
    # shown by neither authflowctl show (text, --json) nor our access token
    fam = family(site, sid)
    assert '_idt' not in fam['claims'] and 'alice' in json.dumps(fam['claims'])
    p = subprocess.run([AUTHFLOWCTL, '--store', site.store, 'show', sid], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=30)
    assert p.returncode == 0 and b'_idt' not in p.stdout and b'claims:' in p.stdout
    at = b.get('at')[1]
    assert '_idt' not in json.loads(tokens.b64u_decode(at.split('.')[1]))
    # the IdP's id_token, learned from the logout redirect, is nowhere in the dump
    r = logout(site, b.header())
    assert r.status_code == 303
    hint = check_id_token_hint(site, qs(r.headers['Location']))
    forms = [hint, hint.encode().hex()]
    for part in hint.split('.'):
        forms += [part, part.encode().hex(), tokens.b64u_decode(part).hex()]
    for form in forms:
        assert form not in dump, 'id_token material in the LMDB dump'
    # the sealed blob is there instead (the login had one to hint with)
    assert '_idt' in dump


def test_E19_hint_survives_refresh(site):
    """Rotation keeps the login's snapshot: the hint is still sent after a refresh."""
    b = login(site)
    # a refresh keeps the snapshot (and the hint) of the login
    assert refresh(site, b).status_code == 204
    r = logout(site, b.header())
    assert r.status_code == 303
    check_id_token_hint(site, qs(r.headers['Location']))


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
    # E19: id_token_hint is the id_token this IdP issued for this login (kept sealed)
    check_id_token_hint(site, q)
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
