"""Glue for the refresh / logout / rotation tests (issue 5; SECURITY.md group G, F07, F08, E19).

Builds on loginhelp (real OpenID provider, FixedHttpd, Browser cookie jar, mdb_dump
snapshots).  Every token here is either received from the module or minted by jwcrypto
(tokens.py); nothing uses the module's own code.
"""
import json
import os
import subprocess
import time

import afharness
import tokens
from loginhelp import (AUTHFLOWCTL, BASIC_CLIENT, Browser, OidcProvider, full_login,
                       login_site, provider_block, set_cookies, start_fixed, store_snapshot,
                       unverified_claims)

ALL_DBS = ('tokens', 'families', 'by_sub', 'by_expiry', 'flows', 'meta')
KEEP_ROTATED = 16   # AF_STORE_KEEP_ROTATED: rotated tokens kept per login


class Site:
    """A started httpd with its IdP; .store is the LMDB directory."""


def start_site(request, keys, echo, name, extra='', mpm='event', apps_extra='',
               grace='2s', access_ttl='300s', post_logout=True, testing=True, **kw):
    port = afharness.free_port()
    base = 'http://127.0.0.1:%d' % port
    idp = OidcProvider(alg='ES256', redirect_uris=[base + '/auth/callback'],
                       post_logout_redirect_uris=[base + '/auth/logout'] if post_logout else [])
    request.addfinalizer(idp.stop)
    server_extra = '\n'.join([
        'AuthFlowAccessTTL %s' % access_ttl,
        'AuthFlowReuseGrace %s' % grace,
        'AuthFlowTestClockOffset @OFFSET@' if testing else '',
        extra])
    body = login_site(keys, echo, provider_block('idp', idp.issuer, client=BASIC_CLIENT),
                      apps=[('/app', 'idp')], server_extra=server_extra)
    body += apps_extra.replace('@ECHO@', echo.url)
    srv = start_fixed(request, name, body, port, mpm=mpm,
                      defines=('AUTHFLOW_TESTING',) if testing else (),
                      subst={'OFFSET': 0},
                      allow=[r'AF03010', r'AF09001'], **kw)
    srv.store = srv.root + '/store'
    srv.idp = idp
    srv.offset = 0
    return srv


def set_clock(srv, offset, timeout=30):
    """Shift the module's clock (AuthFlowTestClockOffset) by a full restart (SIGHUP)."""
    before = srv.read_log().count('resuming normal operations')
    srv.subst['OFFSET'] = offset
    with open(srv.conf_path, 'w') as f:
        f.write(srv.render())
    os.kill(srv.proc.pid, 1)
    end = time.time() + timeout
    while time.time() < end:
        if srv.read_log().count('resuming normal operations') > before:
            break
        time.sleep(0.1)
    else:
        raise AssertionError('httpd did not restart')
    time.sleep(0.3)
    srv.offset = offset


def login(srv, username='alice', browser=None):
    lg = full_login(srv, 'idp', '/app', username=username, browser=browser)
    assert lg.ok, (lg.cb_resp.status_code, lg.cb_resp.text[:300])
    return lg.browser


def cookie_names(browser):
    at = browser.get('at')[0]
    rt = browser.get('rt')[0]
    return at, rt


def refresh(srv, cookie, origin=True, headers=None, method='POST'):
    """POST <endpoint>/refresh with exactly this Cookie header (a string or a Browser)."""
    h = {}
    if origin is True:
        h['Origin'] = srv.base
    elif origin:
        h['Origin'] = origin
    h.update(headers or {})
    c = cookie.header() if isinstance(cookie, Browser) else cookie
    if c:
        h['Cookie'] = c
    r = afharness.http(method, srv.url('/auth/refresh'), headers=h)
    if isinstance(cookie, Browser):
        cookie.take(r)
    return r


def cookies_of(resp):
    """{kind: SetCookie} of the access / refresh cookies in a response."""
    return {c.kind(): c for c in set_cookies(resp) if c.kind() in ('at', 'rt')}


def new_rt(resp):
    c = cookies_of(resp).get('rt')
    return c.value if c is not None and not c.deleting else None


def cleared(resp):
    cs = cookies_of(resp)
    return 'at' in cs and 'rt' in cs and cs['at'].deleting and cs['rt'].deleting


def rt_cookie(browser, rt):
    name = browser.get('rt')[0]
    return '%s=%s' % (name, rt)


def ctl(srv, *args):
    p = subprocess.run([AUTHFLOWCTL, '--store', srv.store, '--json'] + list(args),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    assert p.returncode in (0, 1), p.stderr.decode()[:300]
    return json.loads(p.stdout or b'null'), p.returncode


def family(srv, sid):
    out, rc = ctl(srv, 'show', sid)
    assert rc == 0, out
    return out


def sid_of(browser):
    return unverified_claims(browser.get('at')[1])['sid']


def snapshot(srv):
    return store_snapshot(srv.store, ALL_DBS)


def mdb_stat_ok(store):
    p = subprocess.run(['mdb_stat', '-a', '-r', store], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=30)
    return p.returncode == 0, p.stdout.decode() + p.stderr.decode()


def expired_at(keys, srv, sid, sub='alice', age=3600):
    """An access token signed with the site's signing key, valid except that it expired."""
    now = int(time.time()) + srv.offset
    payload = tokens.claims(srv.base, srv.base, sub=sub, ttl=300, sid=sid, idp='idp',
                            jti=tokens.b64u(os.urandom(16)), nbf=None)
    payload['iat'] = now - age - 300
    payload['exp'] = now - age
    return tokens.mint(keys.ec256, payload)


def remember(*toks):
    for t in toks:
        if t:
            tokens.remember(t)


# -- store invariants (independent decoder of the LMDB records, src/store/store_lmdb.c) ---------
def _pairs(dump_text):
    body = dump_text.split('HEADER=END', 1)[-1].split('DATA=END', 1)[0]
    vals = [bytes.fromhex(ln.strip()) for ln in body.splitlines() if ln.startswith(' ')]
    return list(zip(vals[0::2], vals[1::2]))


def store_records(store):
    """({token hash: dict}, {sid: dict}) decoded from mdb_dump of tokens and families."""
    snap = store_snapshot(store, ('tokens', 'families'))
    toks, fams = {}, {}
    for k, v in _pairs(snap['tokens']):
        assert v[0] == 1 and len(v) >= 88, 'token record of unknown shape'
        toks[k] = {'state': {1: 'active', 2: 'rotated', 3: 'revoked'}[v[1]],
                   'generation': int.from_bytes(v[4:8], 'big'),
                   'sid': v[32:54].decode(), 'succ': v[56:88]}
    for k, v in _pairs(snap['families']):
        # version 1: a 92-byte header, then sub, provider, claims; version 2 adds after the
        # header a ring of the last rotated tokens: count byte, 3 zero bytes, count hashes
        assert v[0] in (1, 2) and len(v) >= 92, 'family record of unknown shape'
        ring = []
        if v[0] == 2:
            n = v[92]
            assert n <= KEEP_ROTATED and v[93:96] == b'\0\0\0', 'bad ring'
            ring = [v[96 + 32 * i:128 + 32 * i] for i in range(n)]
        fams[k.decode()] = {'revoked': bool(v[1]), 'generation': int.from_bytes(v[4:8], 'big'),
                            'cur': v[56:88], 'version': v[0], 'ring': ring}
    return toks, fams


def check_store_invariants(store, sids):
    """G04/G11: per family exactly one active token, the family's current one; every rotated
    token's successor exists (never consumed without successor); one token per generation;
    at most the last KEEP_ROTATED rotated tokens are kept, and they are the ring's."""
    toks, fams = store_records(store)
    problems = []
    for sid in sids:
        mine = {h: t for h, t in toks.items() if t['sid'] == sid}
        rotated = {h for h, t in mine.items() if t['state'] == 'rotated'}
        if fams[sid]['version'] == 2 and not rotated <= set(fams[sid]['ring']):
            problems.append('%s: a rotated token outside the ring' % sid)
        if len(rotated) > KEEP_ROTATED:
            problems.append('%s: %d rotated tokens kept' % (sid, len(rotated)))
        active = [h for h, t in mine.items() if t['state'] == 'active']
        if len(active) != 1:
            problems.append('%s: %d active tokens' % (sid, len(active)))
        elif active[0] != fams[sid]['cur']:
            problems.append('%s: the active token is not the family current one' % sid)
        gens = [t['generation'] for t in mine.values()]
        if len(gens) != len(set(gens)):
            problems.append('%s: two tokens of one generation (two successors)' % sid)
        for h, t in mine.items():
            if t['state'] == 'rotated' and t['succ'] not in mine:
                problems.append('%s: generation %d rotated without a successor' % (
                    sid, t['generation']))
    return problems
