"""Issue 3: keys, trusted issuers and JWKS through the real gate (SECURITY.md group C,
plus H09), event MPM with a single child process so that fetch counts are exact."""
import json
import threading
import time
import uuid

import pytest

import sites
import tokens
from afharness import http
from conftest import start_server
from gatehelp import accept, deny, good_claims

ONE_CHILD = 'StartServers 1\nServerLimit 1\nMaxRequestWorkers 16\n'
JWKS_ALLOW = r'AF0\d+:.*([Jj][Ww][Kk][Ss]|[Kk]ey|fetch|timed? ?out)'
AUD = 'api://tests'


def iss_of(name):
    return 'https://%s.idp.test' % name


def foreign(key, name, **extra):
    now = int(time.time())
    c = {'iss': iss_of(name), 'aud': AUD, 'sub': 'svc-' + name, 'iat': now, 'nbf': now - 1,
         'exp': now + 300, 'jti': uuid.uuid4().hex}
    for k, v in extra.items():
        if v is None:
            c.pop(k, None)
        else:
            c[k] = v
    return tokens.mint(key, c, typ=None)


class Scenarios:
    pass


def _bad_point(k):
    d = k.public_jwk_dict()
    y = bytearray(tokens.b64u_decode(d['y']))
    y[-1] ^= 1
    d['y'] = tokens.b64u(bytes(y))
    return d


@pytest.fixture(scope='module')
def ks(request, keys, echo, docs):
    """One server with a trusted issuer per scenario; documents served by `docs`."""
    s = Scenarios()
    d = keys.dir
    s.k = {n: tokens.gen_ec('P-256', kid=n + '-k') for n in
           ('file', 'rot', 'c03', 'c04dup', 'c04priv', 'c04use', 'c04ops', 'c05', 'c06',
            'big', 'many', 'hang', 'slow', 'c01', 'c02')}
    s.k['rot2'] = tokens.gen_ec('P-256', kid='rot-k2')
    s.rsa1024 = keys.rsa1024
    s.path = {}
    p = '/%s/jwks.json' % uuid.uuid4().hex[:8]

    def serve(name, keylist, **kw):
        s.path[name] = '/' + name + p
        docs.set(s.path[name], {'keys': keylist}, **kw)

    # file JWKS (C05: unusable keys next to the good one)
    filedoc = {'keys': [{'kty': 'AKP', 'alg': 'ML-DSA-44', 'kid': 'akp', 'pub': 'AAAA'},
                        {'kty': 'XYZ', 'kid': 'inv', 'foo': 'bar'},
                        s.k['file'].public_jwk_dict()]}
    fpath = '%s/trusted-file.jwks.json' % d
    with open(fpath, 'w') as f:
        json.dump(filedoc, f)
    serve('rot', [s.k['rot'].public_jwk_dict()])
    bad = _bad_point(s.k['c03'])
    short = s.k['c03'].public_jwk_dict()
    short['x'] = short['x'][:-2]
    short['kid'] = 'c03-short'
    crvmis = s.k['c03'].public_jwk_dict()
    crvmis['crv'] = 'P-384'
    crvmis['kid'] = 'c03-crv'
    serve('c03', [bad, short, crvmis, s.k['c05'].public_jwk_dict() | {'kid': 'c03-good'}])
    dup = s.k['c04dup'].public_jwk_dict()
    serve('c04dup', [dup, tokens.gen_ec('P-256', kid='c04dup-k').public_jwk_dict()])
    priv = json.loads(s.k['c04priv'].jwk(private=True).export_private())
    priv.update(kid='c04priv-k', alg='ES256')
    serve('c04priv', [priv])
    serve('c04use', [s.k['c04use'].public_jwk_dict() | {'use': 'enc'}])
    ops = s.k['c04ops'].public_jwk_dict()
    ops.pop('use')
    ops['key_ops'] = ['encrypt']
    serve('c04ops', [ops])
    serve('c05', [{'kty': 'AKP', 'alg': 'ML-DSA-44', 'kid': 'akp', 'pub': 'AAAA'},
                  {'kty': 'EC', 'crv': 'P-999', 'kid': 'odd', 'x': 'AA', 'y': 'AA'},
                  s.k['c05'].public_jwk_dict()])
    serve('c06', [s.k['c06'].public_jwk_dict()])
    bigkey = s.k['big'].public_jwk_dict()
    bigkey['x-pad'] = 'A' * (300 * 1024)
    serve('big', [bigkey])
    serve('many', [tokens.gen_ec('P-256', kid='many-%d' % i).public_jwk_dict() for i in range(59)]
          + [s.k['many'].public_jwk_dict()])
    serve('hang', [s.k['hang'].public_jwk_dict()], mode='hang')
    serve('slow', [s.k['slow'].public_jwk_dict()], mode='slowbody')
    s.hs_short = tokens.gen_oct(16, kid='c01-k')
    s.hs_ok = tokens.gen_oct(32, kid='c01-ok')
    serve('c01', [s.hs_short.public_jwk_dict(), s.hs_ok.public_jwk_dict()])
    serve('c02', [keys.rsa1024.public_jwk_dict() | {'kid': 'c02-k'}])

    lines = ['AuthFlowTrustIssuer %s "%s" aud=%s' % (iss_of('file'), fpath, AUD)]
    for name in s.path:
        lines.append('AuthFlowTrustIssuer %s %s aud=%s' % (iss_of(name), docs.url(s.path[name]), AUD))
    body = sites.standard_site(keys, echo, server_extra=ONE_CHILD + '\n'.join(lines))
    srv = start_server(request, 'keys', body, mpm='event', allow=[JWKS_ALLOW])
    s.srv = srv
    s.docs = docs
    # the first rotation fetch happens now; the rotation test runs last (throttle: 60 s)
    accept(srv, echo, foreign(s.k['rot'], 'rot'), expect_sub='svc-rot')
    s.rot_first_fetch = time.time()
    return s


def test_trust_issuer_file_and_C05_unusable_keys_ignored(ks, echo):
    accept(ks.srv, echo, foreign(ks.k['file'], 'file'), expect_sub='svc-file')


def test_C05_remote_unusable_keys_ignored(ks, echo):
    accept(ks.srv, echo, foreign(ks.k['c05'], 'c05'), expect_sub='svc-c05')


def test_trust_issuer_binding(ks, keys, echo):
    srv = ks.srv
    # a trusted issuer's key cannot vouch for another issuer, nor for our own iss
    deny(srv, echo, foreign(ks.k['file'], 'c05'))
    c = good_claims(srv)
    deny(srv, echo, tokens.mint(ks.k['file'], c))
    # our key cannot vouch for a trusted issuer
    deny(srv, echo, foreign(keys.ec256, 'file'))
    # wrong audience for the trusted issuer
    deny(srv, echo, foreign(ks.k['file'], 'file', aud=srv.base))
    deny(srv, echo, foreign(ks.k['file'], 'file', exp=None))


@pytest.mark.allow_log(JWKS_ALLOW)
def test_C03_invalid_ec_keys_refused(ks, echo):
    k = ks.k['c03']
    for kid in ('c03-k', 'c03-short', 'c03-crv'):
        deny(ks.srv, echo, foreign(k, 'c03', ) if kid == 'c03-k' else
             tokens.mint(k, json.loads(tokens.b64u_decode(foreign(k, 'c03').split('.')[1])),
                         kid=kid, typ=None))
    # the good key of the same set still works
    good = tokens.Key('ec', ks.k['c05'].priv, 'c03-good', 'ES256')
    accept(ks.srv, echo, foreign(good, 'c03'), expect_sub='svc-c03')


@pytest.mark.allow_log(JWKS_ALLOW)
@pytest.mark.parametrize('name', ['c04dup', 'c04priv', 'c04use', 'c04ops'])
def test_C04_key_set_hygiene(ks, echo, name):
    deny(ks.srv, echo, foreign(ks.k[name], name))


@pytest.mark.allow_log(JWKS_ALLOW)
def test_C01_fetched_hmac_keys_ignored(ks, echo):
    deny(ks.srv, echo, foreign(ks.hs_short, 'c01'))
    deny(ks.srv, echo, foreign(ks.hs_ok, 'c01'))


@pytest.mark.allow_log(JWKS_ALLOW)
def test_C02_fetched_rsa_1024_ignored(ks, echo):
    k = tokens.Key('rsa', ks.rsa1024.priv, 'c02-k', 'RS256')
    deny(ks.srv, echo, foreign(k, 'c02'))


@pytest.mark.allow_log(JWKS_ALLOW)
def test_C06_size_and_count_caps(ks, echo):
    deny(ks.srv, echo, foreign(ks.k['big'], 'big'))
    deny(ks.srv, echo, foreign(ks.k['many'], 'many'))


@pytest.mark.allow_log(JWKS_ALLOW)
def test_C06_unknown_kids_throttled(ks, echo):
    k = ks.k['c06']
    accept(ks.srv, echo, foreign(k, 'c06'), expect_sub='svc-c06')
    n0 = ks.docs.count(ks.path['c06'])
    assert n0 >= 1
    for _ in range(30):
        t = tokens.mint(k, json.loads(tokens.b64u_decode(foreign(k, 'c06').split('.')[1])),
                        kid='rnd-' + uuid.uuid4().hex, typ=None)
        deny(ks.srv, echo, t, both=False)
    assert ks.docs.count(ks.path['c06']) - n0 <= 1, 'JWKS refetched for every unknown kid'
    accept(ks.srv, echo, foreign(k, 'c06'), expect_sub='svc-c06')


@pytest.mark.allow_log(JWKS_ALLOW)
@pytest.mark.parametrize('name', ['hang', 'slow'])
def test_H09_C06_hanging_jwks_uri_times_out(ks, keys, echo, name):
    result = {}

    def slow_req():
        t0 = time.time()
        try:
            r = http('GET', ks.srv.url('/app/h09'), headers=sites.bearer(foreign(ks.k[name], name)),
                     timeout=60)
            result['status'] = r.status_code
        except Exception as e:   # noqa
            result['status'] = repr(e)
        result['elapsed'] = time.time() - t0

    th = threading.Thread(target=slow_req)
    th.start()
    time.sleep(0.5)
    # meanwhile, our own tokens are served (the hanging fetch pins one worker at most)
    t0 = time.time()
    accept(ks.srv, echo, tokens.mint(keys.ec256, good_claims(ks.srv)))
    assert time.time() - t0 < 5
    th.join(60)
    assert not th.is_alive()
    assert result['status'] == 401, result
    assert result['elapsed'] < 30, 'no timeout on the JWKS fetch: %r' % result


def test_C07_own_key_rotation(ks, keys, echo, request):
    srv = ks.srv
    # old kid still verifies (AuthFlowVerifyKey), new one too
    accept(srv, echo, tokens.mint(keys.old, good_claims(srv)))
    accept(srv, echo, tokens.mint(keys.ec256, good_claims(srv)))
    # old key under the new kid, new key under the old kid: refused
    deny(srv, echo, tokens.mint(keys.old, good_claims(srv), kid='e256'))
    deny(srv, echo, tokens.mint(keys.ec256, good_claims(srv), kid='old1'))
    # a server where the old key was removed refuses its tokens
    body = sites.standard_site(keys, echo, verify=('ec384',))
    srv2 = start_server(request, 'keys-rotated', body, mpm='event')
    deny(srv2, echo, tokens.mint(keys.old, good_claims(srv2)))
    accept(srv2, echo, tokens.mint(keys.ec256, good_claims(srv2)))


@pytest.mark.slow
def test_remote_jwks_kid_rotation(ks, echo):
    """E16-style: the issuer rotates; an unknown kid triggers one refetch (after the
    throttle interval) and the token is accepted."""
    n0 = ks.docs.count(ks.path['rot'])
    ks.docs.set(ks.path['rot'], {'keys': [ks.k['rot2'].public_jwk_dict(),
                                          ks.k['rot'].public_jwk_dict()]})
    wait = ks.rot_first_fetch + 62 - time.time()
    if wait > 0:
        time.sleep(wait)
    accept(ks.srv, echo, foreign(ks.k['rot2'], 'rot'), expect_sub='svc-rot')
    assert ks.docs.count(ks.path['rot']) == n0 + 1
    accept(ks.srv, echo, foreign(ks.k['rot'], 'rot'), expect_sub='svc-rot')
    assert ks.docs.count(ks.path['rot']) == n0 + 1
