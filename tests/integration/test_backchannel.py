"""OpenID Connect Back-Channel Logout 1.0 at POST /auth/backchannel/NAME (SECURITY.md E20).

Logout tokens are minted here with jwcrypto, with the key the bad IdP publishes (it signs its
id_tokens with a key this module made: --key-file), never by the module.  Every rejection: 400
(404 for an unknown provider, 405 for another method) with a JSON reason, the login the token
names still works, the store's login databases are unchanged.
"""
import json
import os
import re
import secrets
import time
import urllib.parse

import pytest
import requests
from jwcrypto import jwk, jws
from jwcrypto.common import json_encode

import afharness
import conftest
from pghelp import pg_cluster  # noqa: F401  (fixture)
from loginhelp import (BAD_CLIENT, BASIC_CLIENT, BadIdp, Browser, OidcProvider, callback, describe,
                       full_login, get, have_node, idp_redirect, login_path, login_site,
                       provider_block, start, start_fixed, store_families, store_snapshot,
                       unverified_claims)

pytestmark = pytest.mark.allow_log(r'AF04001', r'AH01631')

EVENT = 'http://schemas.openid.net/event/backchannel-logout'
FORM = 'application/x-www-form-urlencoded'


@pytest.fixture(scope='module')
def bcl(request, keys, echo, tmp_path_factory):
    d = tmp_path_factory.mktemp('bcl')
    key = jwk.JWK.generate(kty='RSA', size=2048, kid='bcl-1', alg='RS256', use='sig')
    kf = d / 'idp-key.json'
    kf.write_text(key.export_private())
    op = BadIdp(sub='alice', key_file=str(kf))
    request.addfinalizer(op.stop)
    op2 = BadIdp(sub='alice')                  # another provider, the same raw subject
    request.addfinalizer(op2.stop)
    providers = '\n'.join([
        provider_block('op', op.url),
        provider_block('op2', op2.url),
        provider_block('gh', None, extra='''
            AuthorizationEndpoint %(u)s/authorize
            TokenEndpoint %(u)s/token
            UserinfoEndpoint %(u)s/userinfo''' % dict(u=op2.url)),
    ])
    body = login_site(keys, echo, providers, apps=[('/app', None)])
    srv = conftest.start_server(request, 'backchannel', body)
    srv.store = srv.root + '/store'
    srv.op, srv.op2, srv.key = op, op2, key
    return srv


@pytest.fixture(autouse=True)
def _reset(bcl):
    bcl.op.set_sid(None)
    bcl.op2.set_sid(None)
    yield


def claims(srv, sid=None, sub='alice', **edit):
    now = int(time.time())
    c = {'iss': srv.op.issuer, 'aud': BAD_CLIENT[0], 'iat': now, 'exp': now + 120,
         'jti': secrets.token_urlsafe(12), 'events': {EVENT: {}}}
    if sub is not None:
        c['sub'] = sub
    if sid is not None:
        c['sid'] = sid
    c.update(edit)
    return c


def mint(c, key, header=None):
    h = header or {'alg': 'RS256', 'kid': key.get('kid'), 'typ': 'logout+jwt'}
    s = jws.JWS(json_encode(c).encode())
    s.add_signature(key, alg=h['alg'], protected=json_encode(h))
    return s.serialize(compact=True)


def post(srv, token, name='op', ctype=FORM, body=None, method='POST'):
    data = body if body is not None else {'logout_token': token}
    headers = {'Content-Type': ctype} if ctype else {}
    return afharness.http(method, srv.url('/auth/backchannel/' + name), headers=headers,
                          data=data)


def login(srv, provider='op', sid=None):
    idp = srv.op if provider == 'op' else srv.op2
    idp.set_sid(sid)
    lg = full_login(srv, provider, '/app')
    assert lg.ok, describe(lg.cb_resp)
    assert works(srv, lg)
    return lg


def works(srv, lg):
    r = get(srv, '/app/x', lg.browser)
    return r.status_code == 200


def ok(r):
    assert r.status_code == 200, (r.status_code, r.text[:200])
    assert 'no-store' in r.headers.get('Cache-Control', '')


# -- the logout -----------------------------------------------------------------------------
def test_E20_sid_logout_revokes_the_logins_of_that_idp_session(bcl):
    a1 = login(bcl, sid='S-A')
    a2 = login(bcl, sid='S-A')              # a second login in the same IdP session
    b = login(bcl, sid='S-B')
    ok(post(bcl, mint(claims(bcl, sid='S-A', sub=None), bcl.key)))
    assert not works(bcl, a1) and not works(bcl, a2)
    assert works(bcl, b)
    fams = store_families(bcl.store)
    assert fams[a1.claims()['sid']]['revoked'] and not fams[b.claims()['sid']]['revoked']


def test_E20_sid_and_sub_revoke_only_that_subject_in_that_session(bcl):
    a = login(bcl, sid='S-C')
    ok(post(bcl, mint(claims(bcl, sid='S-C', sub='mallory'), bcl.key)))
    assert works(bcl, a)                    # the session's subject is alice, not mallory
    ok(post(bcl, mint(claims(bcl, sid='S-C', sub='alice'), bcl.key)))
    assert not works(bcl, a)


def test_E20_sub_logout_revokes_every_login_of_the_account_at_that_provider(bcl):
    a1 = login(bcl, sid='S-D')
    a2 = login(bcl)                         # no sid at all
    other = login(bcl, 'op2')               # "alice" at another provider: another account
    ok(post(bcl, mint(claims(bcl, sub='alice'), bcl.key)))
    assert not works(bcl, a1) and not works(bcl, a2)
    assert works(bcl, other)


def test_E20_unknown_session_or_subject_is_a_successful_noop(bcl):
    a = login(bcl, sid='S-E')
    ok(post(bcl, mint(claims(bcl, sid='S-nobody', sub=None), bcl.key)))
    ok(post(bcl, mint(claims(bcl, sub='nobody'), bcl.key)))
    assert works(bcl, a)


def test_E20_replayed_jti_is_refused_and_revokes_nothing(bcl):
    c = claims(bcl, sid='S-F', sub=None)
    tok = mint(c, bcl.key)
    ok(post(bcl, tok))                      # nobody logged in with S-F yet
    a = login(bcl, sid='S-F')
    before = store_snapshot(bcl.store)
    r = post(bcl, tok)
    assert r.status_code == 400 and r.json()['error'] == 'oidc_logout_token_replayed', r.text
    # the same jti in a freshly signed token is the same logout token
    r = post(bcl, mint(dict(c, iat=int(time.time())), bcl.key))
    assert r.status_code == 400 and r.json()['error'] == 'oidc_logout_token_replayed', r.text
    assert works(bcl, a)
    assert store_snapshot(bcl.store) == before


# -- every rejection: 400, nothing revoked ------------------------------------------------------
def _other_key():
    return jwk.JWK.generate(kty='RSA', size=2048, kid='bcl-1', alg='RS256', use='sig')


def _unsigned(c):
    import base64
    b = lambda x: base64.urlsafe_b64encode(x).rstrip(b'=').decode()
    return b(b'{"alg":"none","typ":"logout+jwt"}') + '.' + b(json_encode(c).encode()) + '.'


def _hs256(c):
    k = jwk.JWK(kty='oct', k=jws.base64url_encode(BAD_CLIENT[1].encode()))
    return mint(c, k, {'alg': 'HS256', 'typ': 'logout+jwt'})


def _flip(tok):
    h, p, s = tok.split('.')
    return '.'.join([h, p, ('A' if s[5] != 'A' else 'B').join([s[:5], s[6:]])])


def _without(name):
    def edit(c):
        c.pop(name, None)
        return c
    return edit


def _with(**kv):
    def edit(c):
        c.update(kv)
        return c
    return edit


NOW = lambda: int(time.time())   # noqa: E731

CASES = {
    # case: (how the token is made from (srv, claims), expected reason)
    'bad_signature': (lambda s, c: _flip(mint(c, s.key)), 'oidc_logout_token_bad_signature'),
    'unpublished_key': (lambda s, c: mint(c, _other_key()), 'oidc_logout_token_bad_signature'),
    'alg_none': (lambda s, c: _unsigned(c), 'oidc_logout_token_alg_not_allowed'),
    'hs256_client_secret': (lambda s, c: _hs256(c), 'oidc_logout_token_alg_not_allowed'),
    'typ_access_token': (lambda s, c: mint(c, s.key, {'alg': 'RS256', 'kid': 'bcl-1',
                                                      'typ': 'at+jwt'}),
                         'oidc_logout_token_typ_invalid'),
    'wrong_iss': (lambda s, c: mint(_with(iss='http://evil.example')(c), s.key),
                  'oidc_logout_token_issuer_mismatch'),
    'iss_of_other_provider': (lambda s, c: mint(_with(iss=s.op2.issuer)(c), s.key),
                              'oidc_logout_token_issuer_mismatch'),
    'wrong_aud': (lambda s, c: mint(_with(aud='someone-else')(c), s.key),
                  'oidc_logout_token_audience_mismatch'),
    'missing_iat': (lambda s, c: mint(_without('iat')(c), s.key), 'oidc_logout_token_iat_invalid'),
    'iat_too_old': (lambda s, c: mint(_with(iat=NOW() - 3600, exp=NOW() + 60)(c), s.key),
                    'oidc_logout_token_iat_invalid'),
    'iat_in_future': (lambda s, c: mint(_with(iat=NOW() + 600, exp=NOW() + 900)(c), s.key),
                      'oidc_logout_token_iat_invalid'),
    'expired': (lambda s, c: mint(_with(exp=NOW() - 600)(c), s.key), 'oidc_logout_token_expired'),
    'missing_jti': (lambda s, c: mint(_without('jti')(c), s.key), 'oidc_logout_token_jti_invalid'),
    'missing_events': (lambda s, c: mint(_without('events')(c), s.key),
                       'oidc_logout_token_event_missing'),
    'wrong_event': (lambda s, c: mint(_with(events={'http://schemas.openid.net/event/x': {}})(c),
                                      s.key), 'oidc_logout_token_event_missing'),
    'event_not_object': (lambda s, c: mint(_with(events={EVENT: 'yes'})(c), s.key),
                         'oidc_logout_token_event_missing'),
    'nonce_present': (lambda s, c: mint(_with(nonce='n-123')(c), s.key),
                      'oidc_logout_token_nonce_present'),
    'neither_sid_nor_sub': (lambda s, c: mint(_without('sub')(_without('sid')(c)), s.key),
                            'oidc_logout_token_subject_invalid'),
    'not_a_jwt': (lambda s, c: 'not.a.jwt', 'oidc_logout_token_malformed'),
}


@pytest.fixture(scope='module')
def victim(bcl):
    """One login (sid S-V, subject alice) that every rejected token names."""
    bcl.op.set_sid('S-V')
    lg = full_login(bcl, 'op', '/app')
    bcl.op.set_sid(None)
    assert lg.ok and works(bcl, lg)
    return lg


@pytest.mark.parametrize('case', sorted(CASES))
def test_E20_rejected_logout_token_revokes_nothing(bcl, victim, case):
    make, why = CASES[case]
    tok = make(bcl, claims(bcl, sid='S-V', sub='alice'))
    before = store_snapshot(bcl.store)
    r = post(bcl, tok)
    assert r.status_code == 400, (case, r.status_code, r.text[:200])
    assert r.headers.get('Content-Type', '').startswith('application/json')
    assert r.json()['error'] == why, (case, r.text)
    assert works(bcl, victim), case
    assert store_snapshot(bcl.store) == before, case
    assert tok not in r.text


def test_E20_unknown_provider_is_404(bcl, victim):
    r = post(bcl, mint(claims(bcl, sid='S-V'), bcl.key), name='nosuch')
    assert r.status_code == 404, r.status_code
    assert works(bcl, victim)


def test_E20_provider_without_id_tokens_refuses(bcl, victim):
    """Plain OAuth 2.0 providers have no IdP sessions: nothing to log out."""
    r = post(bcl, mint(claims(bcl, sid='S-V'), bcl.key), name='gh')
    assert r.status_code == 400 and r.json()['error'] == 'oidc_logout_not_supported', r.text
    assert works(bcl, victim)


@pytest.mark.parametrize('method', ['GET', 'PUT'])
def test_E20_other_methods_are_405(bcl, victim, method):
    r = post(bcl, mint(claims(bcl, sid='S-V'), bcl.key), method=method)
    assert r.status_code == 405 and 'POST' in r.headers.get('Allow', ''), r.status_code
    assert works(bcl, victim)


@pytest.mark.parametrize('ctype,body,why', [
    ('application/json', None, 'backchannel_content_type'),
    ('text/plain', None, 'backchannel_content_type'),
    (None, None, 'backchannel_content_type'),
    (FORM, 'token=x', 'backchannel_request_malformed'),
    (FORM, '', 'backchannel_request_malformed'),
    (FORM, 'logout_token=a&logout_token=b', 'backchannel_request_malformed'),
    (FORM, 'logout_token=%zz', 'backchannel_request_malformed'),
])
def test_E20_malformed_requests_are_400(bcl, victim, ctype, body, why):
    tok = mint(claims(bcl, sid='S-V'), bcl.key)
    if ctype == 'application/json':
        body = json.dumps({'logout_token': tok})
    elif body is None:
        body = 'logout_token=' + tok
    before = store_snapshot(bcl.store)
    r = post(bcl, tok, ctype=ctype, body=body)
    assert r.status_code == 400 and r.json()['error'] == why, (r.status_code, r.text[:200])
    assert works(bcl, victim)
    assert store_snapshot(bcl.store) == before


def test_E20_charset_parameter_accepted(bcl):
    a = login(bcl, sid='S-G')
    ok(post(bcl, mint(claims(bcl, sid='S-G', sub=None), bcl.key),
            ctype=FORM + '; charset=UTF-8'))
    assert not works(bcl, a)


def test_E20_nothing_secret_logged(bcl):
    tok = mint(claims(bcl, sid='S-H', nonce='x'), bcl.key)
    with open(bcl.error_log) as f:
        f.seek(0, 2)
        before = f.tell()
    post(bcl, tok)
    with open(bcl.error_log) as f:
        log = f.read()
        f.seek(before)
        mine = [l for l in f.read().splitlines() if 'oidc_logout_token_nonce_present' in l]
    # the refusal is logged, by reason, once (it was logged twice: AF05090 and AF08090)
    assert len(mine) == 1 and 'AF08090' in mine[0], mine
    assert tok.split('.')[2] not in log and tok.split('.')[1] not in log


# -- the real IdP: a logout at oidc-provider reaches us --------------------------------------
@pytest.fixture(scope='module')
def real(request, keys, echo):
    if not have_node:
        pytest.skip('node or tests/idp/node_modules missing (make deps)')
    port = afharness.free_port()
    base = 'http://127.0.0.1:%d' % port
    idp = OidcProvider(alg='ES256', redirect_uris=[base + '/auth/callback'],
                       backchannel_logout_uri=base + '/auth/backchannel/real')
    request.addfinalizer(idp.stop)
    body = login_site(keys, echo, provider_block('real', idp.issuer, client=BASIC_CLIENT),
                      apps=[('/app', 'real')])
    srv = start_fixed(request, 'backchannel-real', body, port)
    srv.store = srv.root + '/store'
    srv.idp = idp
    return srv


def idp_logout(idp_session, issuer):
    """End the session at the IdP, as its user would: GET /session/end, confirm 'yes'."""
    r = idp_session.get(issuer + '/session/end', timeout=30)
    assert r.status_code == 200, r.status_code
    xsrf = re.search(r'name="xsrf" value="([^"]+)"', r.text).group(1)
    action = re.search(r'<form[^>]*action="([^"]+)"', r.text).group(1)
    r = idp_session.post(urllib.parse.urljoin(issuer + '/', action),
                         data={'xsrf': xsrf, 'logout': 'yes'}, allow_redirects=False,
                         timeout=30)
    assert r.status_code in (200, 302, 303), (r.status_code, r.text[:300])
    return r


def real_login(srv, idp_session, username='alice'):
    b = Browser()
    _, auth = start(srv, b, login_path('real', '/app'))
    cb = idp_redirect(auth, username, idp_session=idp_session)
    resp = callback(srv, b, cb)
    assert resp.status_code in (302, 303), describe(resp)
    assert get(srv, '/app/x', b).status_code == 200
    return b


def test_E20_real_idp_logout_revokes_that_session_only(real):
    """oidc-provider with features.backchannelLogout and backchannel_logout_session_required:
    the user logs out at the IdP; its logout token (typ logout+jwt, sid, sub, ES256) arrives at
    /auth/backchannel/real; the login made in that IdP session is refused at the next gate
    check, a login of another IdP session (another browser) is not."""
    s1, s2 = requests.Session(), requests.Session()
    b1 = real_login(real, s1)
    b2 = real_login(real, s2)
    claims = unverified_claims(b1.get('at')[1])
    idp_logout(s1, real.idp.issuer)
    # the IdP waited for our 200 before answering its user
    r = get(real, '/app/x', b1)
    assert r.status_code != 200, r.status_code
    assert store_families(real.store)[claims['sid']]['revoked']
    assert get(real, '/app/x', b2).status_code == 200
    with open(real.error_log) as f:
        log = f.read()
    assert 'back-channel logout refused' not in log


# -- the shared store (PostgreSQL): the IdP session index and the jti there -------------------
@pytest.fixture(scope='module')
def bcl_pg(request, keys, echo, bcl, pg_cluster):  # noqa: F811
    secret = os.path.join(keys.dir, 'backchannel-secret.key')
    with open(secret, 'wb') as f:
        f.write(secrets.token_bytes(48))
    os.chmod(secret, 0o600)
    uri = pg_cluster.new_store('bcl')
    body = login_site(keys, echo, provider_block('op', bcl.op.url), apps=[('/app', None)],
                      store=uri,
                      server_extra='AuthFlowSecretFile "%s"\nAuthFlowRevocationDelay 0' % secret)
    srv = conftest.start_server(request, 'backchannel-pg', body)
    srv.op, srv.key = bcl.op, bcl.key
    srv.query = lambda sql: pg_cluster.query(sql, uri)   # noqa: E731  (the site's own schema)
    return srv


def test_E20_shared_store_sid_logout_and_replay(bcl_pg):
    a = login(bcl_pg, sid='P-A')
    b = login(bcl_pg, sid='P-B')
    tok = mint(claims(bcl_pg, sid='P-A', sub='alice'), bcl_pg.key)
    ok(post(bcl_pg, tok))
    assert not works(bcl_pg, a)
    assert works(bcl_pg, b)
    c = login(bcl_pg, sid='P-A')            # a new login in a session logged out before
    r = post(bcl_pg, tok)
    assert r.status_code == 400 and r.json()['error'] == 'oidc_logout_token_replayed', r.text
    assert works(bcl_pg, c)
    ok(post(bcl_pg, mint(claims(bcl_pg, sub='alice'), bcl_pg.key)))
    assert not works(bcl_pg, b) and not works(bcl_pg, c)


# A trigger that makes every UPDATE of a login fail as a full disk would (SQLSTATE 53100): the
# revocation's transaction fails for real, inside PostgreSQL, after the jti was taken.
REFUSE_UPDATES = """
CREATE FUNCTION af_test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION USING ERRCODE = 'disk_full', MESSAGE = 'test: no space left'; END $$;
CREATE TRIGGER af_test_refuse BEFORE UPDATE ON af_families
    FOR EACH ROW EXECUTE FUNCTION af_test_refuse();
"""
ALLOW_UPDATES = """
DROP TRIGGER IF EXISTS af_test_refuse ON af_families;
DROP FUNCTION IF EXISTS af_test_refuse();
"""


def test_E20_shared_store_failed_revocation_can_be_retried(bcl_pg, allow_log):
    """The store fails while revoking: 400 backchannel_logout_failed, nothing revoked, and the
    jti is given back, so the IdP's retry of the SAME token revokes the login (it was refused
    as a replay before: the logout was lost).  A replay after that success is still refused."""
    allow_log(r'AF03050.*af_test_refuse|AF03050.*no space left')
    a = login(bcl_pg, sid='P-R')
    tok = mint(claims(bcl_pg, sid='P-R', sub='alice'), bcl_pg.key)
    bcl_pg.query(REFUSE_UPDATES)
    try:
        r = post(bcl_pg, tok)
        assert r.status_code == 400 and r.json()['error'] == 'backchannel_logout_failed', r.text
        assert works(bcl_pg, a)             # nothing revoked
    finally:
        bcl_pg.query(ALLOW_UPDATES)
    r = post(bcl_pg, tok)                   # the IdP retries the same token
    ok(r)
    assert not works(bcl_pg, a)
    assert bcl_pg.query("SELECT revoked FROM af_families WHERE idp_sid = 'P-R'") == [['t']]
    r = post(bcl_pg, tok)                   # a replay of a logout that succeeded
    assert r.status_code == 400 and r.json()['error'] == 'oidc_logout_token_replayed', r.text


REFUSE_FLOW_DELETES = """
CREATE FUNCTION af_test_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION USING ERRCODE = 'disk_full', MESSAGE = 'test: no space left'; END $$;
CREATE TRIGGER af_test_keep BEFORE DELETE ON af_flows FOR EACH ROW EXECUTE FUNCTION af_test_keep();
"""
ALLOW_FLOW_DELETES = """
DROP TRIGGER IF EXISTS af_test_keep ON af_flows;
DROP FUNCTION IF EXISTS af_test_keep();
"""


def test_E20_shared_store_lost_logout_is_logged_once_without_the_token(bcl_pg, allow_log):
    """The revocation fails and so does giving the jti back: the answer is the same failure, one
    error line (AF08092) says the logout is lost -- with the provider, never the token or its
    jti -- and the IdP's retry is then refused as a replay."""
    allow_log(r'AF03050.*no space left', r'AF08092')
    a = login(bcl_pg, sid='P-L')
    c = claims(bcl_pg, sid='P-L', sub=None)
    tok = mint(c, bcl_pg.key)
    with open(bcl_pg.error_log) as f:
        f.seek(0, 2)
        start = f.tell()
    bcl_pg.query(REFUSE_UPDATES + REFUSE_FLOW_DELETES)
    try:
        r = post(bcl_pg, tok)
        assert r.status_code == 400 and r.json()['error'] == 'backchannel_logout_failed', r.text
    finally:
        bcl_pg.query(ALLOW_UPDATES + ALLOW_FLOW_DELETES)
    r = post(bcl_pg, tok)
    assert r.status_code == 400 and r.json()['error'] == 'oidc_logout_token_replayed', r.text
    assert works(bcl_pg, a)
    with open(bcl_pg.error_log) as f:
        f.seek(start)
        log = f.read()
    lost = [line for line in log.splitlines() if 'AF08092' in line]
    assert len(lost) == 1 and 'provider op' in lost[0] and ':error]' in lost[0], lost
    assert c['jti'] not in log and tok.split('.')[1] not in log and tok.split('.')[2] not in log
