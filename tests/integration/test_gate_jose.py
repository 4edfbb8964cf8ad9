"""Issue 3: JOSE-level attacks through the real gate (SECURITY.md group A), event MPM.

Every token is minted independently (tokens.py: jwcrypto / pyca), most of them with a
*valid* signature by a configured key, so that only the property under test can make
the gate refuse them.  DENY = 401 + WWW-Authenticate: Bearer error="invalid_token" for
Bearer, 302 to login for a cookie navigation, backend never reached."""
import datetime
import json
import time
import zlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

import backends
import sites
import tokens
from afharness import http
from conftest import start_server
from gatehelp import accept, deny, good_claims
from tokens import b64u, compact, jdump

VERIFY = ('ec384', 'ec521', 'rsa', 'rsa_ps', 'ed', 'old')


@pytest.fixture(scope='module')
def site(request, keys, echo):
    body = sites.standard_site(keys, echo, verify=VERIFY,
                               server_extra='LimitRequestFieldSize 200000')
    srv = start_server(request, 'jose', body, mpm='event')
    srv._keys = keys
    return srv


@pytest.fixture(scope='module')
def hsite(request, keys, echo):
    body = sites.standard_site(keys, echo, signing='hs', verify=())
    srv = start_server(request, 'jose-hs', body, mpm='event')
    return srv


def hdr(keys, name='ec256', **extra):
    k = getattr(keys, name)
    return tokens.header_for(k, **extra)


def signed(site, keys, header, payload=None, key='ec256', alg=None):
    """Compact JWS over raw header/payload, validly signed by a configured key."""
    payload = payload if payload is not None else good_claims(site)
    k = getattr(keys, key)
    a = alg or (header.get('alg') if isinstance(header, dict) else None) or k.alg
    return compact(header, payload, key=k, alg=a)


def test_sanity_valid_token_accepted(site, keys, echo):
    accept(site, echo, tokens.mint(keys.ec256, good_claims(site)))
    accept(site, echo, signed(site, keys, hdr(keys)))


# -- A01 alg none and friends ------------------------------------------------------------
RFC7515_A5 = ('eyJhbGciOiJub25lIn0'
              '.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ'
              '.')


@pytest.mark.parametrize('alg', ['none', 'None', 'NONE', 'nOnE', 'none ', ' none', ''])
def test_A01_alg_none_variants(site, keys, echo, alg):
    h = hdr(keys, alg=alg)
    deny(site, echo, compact(h, good_claims(site), sig=b''))
    # same header with a real ES256 signature appended
    deny(site, echo, compact(h, good_claims(site), key=keys.ec256, alg='ES256'))


@pytest.mark.parametrize('algval', ['<missing>', None, 256, ['ES256'], {'a': 'ES256'}, True])
def test_A01_alg_missing_null_numeric_array(site, keys, echo, algval):
    h = {'typ': 'at+jwt', 'kid': 'e256'}
    if algval != '<missing>':
        h['alg'] = algval
    deny(site, echo, compact(h, good_claims(site), key=keys.ec256, alg='ES256'))
    deny(site, echo, compact(h, good_claims(site), sig=b''))


def test_A01_rfc7515_a5_token(site, echo):
    deny(site, echo, tokens.remember(RFC7515_A5))


# -- A02 algorithm confusion: HMAC keyed with the public key bytes ----------------------------
def _pub_variants(k):
    pem = k.pub_pem()
    der = k.pub.public_bytes(serialization.Encoding.DER,
                             serialization.PublicFormat.SubjectPublicKeyInfo)
    out = {'pem': pem, 'pem_nonl': pem.rstrip(b'\n'), 'pem_lead_ws': b'  \n' + pem,
           'pem_crlf': pem.replace(b'\n', b'\r\n'), 'der': der,
           'jwk': jdump(k.public_jwk_dict()), 'jwk_plain': k.jwk().export_public().encode()}
    if k.kind == 'rsa':
        out['pkcs1_pem'] = k.pub.public_bytes(serialization.Encoding.PEM,
                                              serialization.PublicFormat.PKCS1)
        out['pkcs1_der'] = k.pub.public_bytes(serialization.Encoding.DER,
                                              serialization.PublicFormat.PKCS1)
        n = k.pub.public_numbers().n
        out['raw_n'] = n.to_bytes((n.bit_length() + 7) // 8, 'big')
    if k.kind == 'ec':
        out['raw_point'] = k.pub.public_bytes(serialization.Encoding.X962,
                                              serialization.PublicFormat.UncompressedPoint)
    return out


@pytest.mark.parametrize('keyname', ['rsa', 'ec256'])
@pytest.mark.parametrize('alg', ['HS256', 'HS384', 'HS512'])
def test_A02_hmac_with_public_key_bytes(site, keys, echo, keyname, alg):
    k = getattr(keys, keyname)
    for name, secret in _pub_variants(k).items():
        for kid in (k.kid, None):
            h = {'alg': alg, 'typ': 'at+jwt'}
            if kid:
                h['kid'] = kid
            deny(site, echo, compact(h, good_claims(site), key=secret, alg=alg), both=False)


# -- A03 empty-key HMAC ----------------------------------------------------------------------
@pytest.mark.parametrize('kid', ['r2048', 'e256', 'ed1', None])
def test_A03_hmac_empty_key(site, keys, echo, kid):
    h = {'alg': 'HS256', 'typ': 'at+jwt'}
    if kid:
        h['kid'] = kid
    deny(site, echo, compact(h, good_claims(site), key=b'', alg='HS256'))


# -- A04 alg / key-type mismatch ---------------------------------------------------------------
@pytest.mark.parametrize('hdr_alg,kid,signer,sig_alg', [
    ('ES256', 'r2048', 'rsa', 'RS256'),      # ES256 header, RSA key
    ('ES384', 'e256', 'ec256', 'ES384'),     # ES384 with a P-256 key (SHA-384 on P-256)
    ('ES256', 'e384', 'ec384', 'ES256'),     # ES256 with a P-384 key
    ('PS512', 'r2048', 'rsa', 'RS256'),      # PS512 header, RS256 signature
    ('RS256', 'r2048', 'rsa', 'PS256'),      # RS256 header, PSS signature
    ('PS256', 'r2048', 'rsa', 'PS256'),      # header alg differs from the key's pinned RS256
    ('RS512', 'r2048', 'rsa', 'RS512'),      # same key, other hash
    ('RS256', 'p2048', 'rsa_ps', 'RS256'),   # key pinned PS256, token RS256
    ('EdDSA', 'e256', 'ed', 'EdDSA'),        # EdDSA header, EC kid
    ('ES256', 'ed1', 'ec256', 'ES256'),      # EC signature, Ed25519 kid
    ('Ed25519', 'ed1', 'ed', 'EdDSA'),       # fully-specified name not configured
])
def test_A04_alg_key_mismatch(site, keys, echo, hdr_alg, kid, signer, sig_alg):
    h = {'alg': hdr_alg, 'typ': 'at+jwt', 'kid': kid}
    deny(site, echo, compact(h, good_claims(site), key=getattr(keys, signer), alg=sig_alg))


# -- A05 structure ------------------------------------------------------------------------------
def test_A05_structure(site, keys, echo):
    good = signed(site, keys, hdr(keys))
    h, p, s = good.split('.')
    jwe_hdr = b64u(jdump({'alg': 'dir', 'enc': 'A256GCM', 'kid': 'e256'}))
    variants = [
        h, h + '.' + p, good + '.', good + '.' + s, h + '.' + p + '.' + s + '.' + s + '.' + s,
        '.' + p + '.' + s, h + '..' + s, h + '.' + p + '.', '..', '.', '....',
        jwe_hdr + '.' + p + '.' + s + '.' + s + '.' + s,   # 5 segments (JWE compact)
        jwe_hdr + '..' + b64u(b'x' * 12) + '.' + p + '.' + b64u(b'y' * 16),
        good + '..',
    ]
    for v in variants:
        deny(site, echo, tokens.remember(v), both='..' not in v[:2])
    # JSON serialization of the same valid signature
    js = json.dumps({'payload': p, 'protected': h, 'signature': s})
    deny(site, echo, tokens.remember(js), both=False)
    js = json.dumps({'payload': p, 'signatures': [{'protected': h, 'signature': s}]})
    deny(site, echo, tokens.remember(js), both=False)


def test_A05_jwe_header_signed(site, keys, echo):
    """A JWS whose header carries enc (looks like JWE) is refused."""
    deny(site, echo, signed(site, keys, hdr(keys, enc='A256GCM')))


# -- A06 non-strict base64url ------------------------------------------------------------------
def _token_with(pred, site, keys, tries=200):
    for _ in range(tries):
        t = signed(site, keys, hdr(keys), good_claims(site))
        if pred(t):
            return t
    raise RuntimeError('no token with the wanted property')


def test_A06_padding(site, keys, echo):
    t = _token_with(lambda t: len(t.split('.')[2]) % 4 != 0, site, keys)
    h, p, s = t.split('.')
    pad = '=' * (-len(s) % 4)
    deny(site, echo, tokens.remember(h + '.' + p + '.' + s + pad))
    ph = '=' * (-len(h) % 4)
    if ph:
        deny(site, echo, tokens.remember(h + ph + '.' + p + '.' + s))
    pp = '=' * (-len(p) % 4)
    if pp:
        deny(site, echo, tokens.remember(h + '.' + p + pp + '.' + s))


def test_A06_standard_alphabet(site, keys, echo):
    t = _token_with(lambda t: '-' in t.split('.')[2] or '_' in t.split('.')[2], site, keys)
    h, p, s = t.split('.')
    s2 = s.replace('-', '+').replace('_', '/')
    accept(site, echo, t)   # control
    deny(site, echo, tokens.remember(h + '.' + p + '.' + s2))


@pytest.mark.parametrize('ch', [' ', '\t', '?', '#', '%20', '!'])
def test_A06_junk_chars(site, keys, echo, ch):
    t = signed(site, keys, hdr(keys))
    h, p, s = t.split('.')
    mid = len(s) // 2
    deny(site, echo, tokens.remember(h + '.' + p + '.' + s[:mid] + ch + s[mid:]), both=False)
    mid = len(p) // 2
    deny(site, echo, tokens.remember(h + '.' + p[:mid] + ch + p[mid:] + '.' + s), both=False)


def test_A06_length_1_mod_4(site, keys, echo):
    t = signed(site, keys, hdr(keys))
    h, p, s = t.split('.')
    s2 = s + ('A' * ((1 - len(s)) % 4 or 4))
    assert len(s2) % 4 == 1
    deny(site, echo, tokens.remember(h + '.' + p + '.' + s2))
    p2 = p + ('A' * ((1 - len(p)) % 4 or 4))
    assert len(p2) % 4 == 1
    deny(site, echo, tokens.remember(h + '.' + p2 + '.' + s))


def test_A06_nonzero_trailing_bits(site, keys, echo):
    # ES256: 64-byte signature -> 86 chars, 4 unused bits in the last char
    t = signed(site, keys, hdr(keys))
    h, p, s = t.split('.')
    assert len(s) == 86
    alpha = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    i = alpha.index(s[-1])
    assert i & 0x0f == 0
    s2 = s[:-1] + alpha[i | 0x01]
    assert tokens.b64u_decode(s2) == tokens.b64u_decode(s)   # a lax decoder sees the same bytes
    deny(site, echo, tokens.remember(h + '.' + p + '.' + s2))


# -- A07 duplicate members ------------------------------------------------------------------------
def test_A07_duplicate_members(site, keys, echo):
    c = good_claims(site)
    body = jdump(c)[:-1]
    deny(site, echo, signed(site, keys, b'{"alg":"ES256","kid":"e256","alg":"none"}', c, alg='ES256'))
    deny(site, echo, signed(site, keys, b'{"alg":"ES256","kid":"e256","kid":"e256"}', c, alg='ES256'))
    deny(site, echo, signed(site, keys, b'{"alg":"ES256","typ":"at+jwt","kid":"e256"}',
                            body + b',"sub":"admin"}'))
    deny(site, echo, signed(site, keys, b'{"alg":"ES256","typ":"at+jwt","kid":"e256"}',
                            body + b',"exp":9999999999}'))


# -- A08 non-canonical JSON -----------------------------------------------------------------------
def test_A08_noncanonical_json(site, keys, echo):
    c = good_claims(site)
    body = jdump(c)
    h = hdr(keys)
    hb = jdump(h)
    nested = {'n': 1}
    for _ in range(40):
        nested = {'n': nested}
    bad_payloads = [
        body[:-1] + b',"name":"\xff\xfe"}',                     # invalid UTF-8
        body.decode().encode('utf-16'),                          # UTF-16 with BOM
        body.decode().encode('utf-16-le'),
        b'\xef\xbb\xbf' + body,                                  # UTF-8 BOM
        body.replace(b'"sub":"alice"', b'"sub":"alice\\u0000x"'),  # NUL in a string
        body + b' x',                                            # bytes after the object
        body + b'{}',
        b'[' + body + b']',                                      # not an object
        b'"alice"', b'42', b'null',
        jdump(dict(c, deep=nested)),                             # nesting > 32
        body[:-1] + b',"name":"\xc0\xaf"}',                      # overlong UTF-8
        body[:-1] + b',"name":"\xed\xa0\x80"}',                  # UTF-8 surrogate
    ]
    for pb in bad_payloads:
        deny(site, echo, signed(site, keys, h, pb))
    bad_headers = [b'\xef\xbb\xbf' + hb, hb + b' x', b'[' + hb + b']',
                   hb[:-1] + b',"x":"\xff"}', hb.replace(b'"ES256"', b'"ES256\\u0000"')]
    for hbad in bad_headers:
        deny(site, echo, signed(site, keys, hbad, body, alg='ES256'))


# -- A09 crit -------------------------------------------------------------------------------------
@pytest.mark.parametrize('crit', [['x-unknown'], [], 'exp', {'a': 1}, ['alg'], ['kid'],
                                  ['missing-param'], [1], None])
def test_A09_crit(site, keys, echo, crit):
    h = hdr(keys, crit=crit)
    if crit == ['x-unknown']:
        h['x-unknown'] = True
    deny(site, echo, signed(site, keys, h))


# -- A10 b64:false ------------------------------------------------------------------------------------
def test_A10_b64_false(site, keys, echo):
    c = good_claims(site)
    for h in (hdr(keys, b64=False, crit=['b64']), hdr(keys, b64=False)):
        hb = jdump(h)
        si = b64u(hb).encode() + b'.' + jdump(c)
        sig = tokens.sign_raw('ES256', keys.ec256, si)
        deny(site, echo, tokens.remember(si.decode() + '.' + b64u(sig)), both=False)
        # encoded payload, signed over the encoded form, but the header says b64:false
        deny(site, echo, signed(site, keys, h, c))


# -- A11 zip ---------------------------------------------------------------------------------------
def test_A11_zip_def(site, keys, echo):
    c = good_claims(site)
    deny(site, echo, signed(site, keys, hdr(keys, zip='DEF'), c))
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    raw = co.compress(jdump(c)) + co.flush()
    deny(site, echo, signed(site, keys, hdr(keys, zip='DEF'), raw))


# -- A12 nested JWT ---------------------------------------------------------------------------------
def test_A12_nested_jwt(site, keys, echo):
    inner = tokens.mint(keys.ec256, good_claims(site))
    for cty in ('JWT', 'jwt', 'application/jwt'):
        deny(site, echo, signed(site, keys, hdr(keys, cty=cty), inner.encode()))
    # cty JWT over an ordinary claims payload is refused too
    deny(site, echo, signed(site, keys, hdr(keys, cty='JWT'), good_claims(site)))


# -- A13 key-selection headers: no SSRF, no embedded keys ------------------------------------------
@pytest.fixture
def canary():
    c = backends.ConnCounter().start()
    yield c
    c.stop()


def _attacker_cert(k):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'attacker')])
    now = datetime.datetime.utcnow()
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(k.pub).serial_number(1).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1)).sign(k.priv, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.DER)


def test_A13_key_selection_headers(site, keys, echo, canary):
    att = keys.attacker
    c = good_claims(site, sub='admin')
    jwks_doc = canary.url('/jwks.json')
    heads = [
        {'alg': 'ES256', 'typ': 'at+jwt', 'jku': jwks_doc},
        {'alg': 'ES256', 'typ': 'at+jwt', 'jku': jwks_doc, 'kid': 'evil'},
        {'alg': 'ES256', 'typ': 'at+jwt', 'x5u': canary.url('/cert.pem')},
        {'alg': 'ES256', 'typ': 'at+jwt', 'jwk': att.public_jwk_dict()},
        {'alg': 'ES256', 'typ': 'at+jwt', 'kid': 'e256', 'jwk': att.public_jwk_dict()},
        {'alg': 'ES256', 'typ': 'at+jwt', 'x5c': [b64u(_attacker_cert(att)).replace('-', '+')]},
        {'alg': 'ES256', 'typ': 'at+jwt', 'kid': 'e256'},   # the attacker key reuses our kid
    ]
    for h in heads:
        deny(site, echo, compact(h, c, key=att, alg='ES256'))
    # the same headers on a token signed by our real key: never fetched (accept or deny)
    for h in heads[:3]:
        h2 = dict(h, kid='e256')
        http('GET', site.url('/app/a13'), headers=sites.bearer(compact(h2, good_claims(site),
                                                                      key=keys.ec256, alg='ES256')))
    time.sleep(0.3)
    assert canary.count == 0, 'the gate connected to a jku/x5u URL (SSRF)'


# -- A15 HMAC tag length ----------------------------------------------------------------------------
def test_A15_hmac_tag_length(hsite, keys, echo):
    c = good_claims(hsite)
    h = tokens.header_for(keys.hs)
    full = tokens.sign_raw('HS256', keys.hs, (b64u(jdump(h)) + '.' + b64u(jdump(c))).encode())
    accept(hsite, echo, compact(h, c, sig=full))   # control
    for sig in (full[:16], full[:31], full + b'\x00', full + full[:1], b'', full[:1]):
        deny(hsite, echo, compact(h, c, sig=sig))
    # HS384/HS512 headers over the same secret
    for alg in ('HS384', 'HS512'):
        h2 = dict(h, alg=alg)
        deny(hsite, echo, compact(h2, c, key=keys.hs.secret, alg=alg))
        deny(hsite, echo, compact(h2, c, key=keys.hs.secret, alg=alg)[:-10] + 'AAAAAAAAAA')


# -- A17 psychic signatures ---------------------------------------------------------------------------
CURVE_N = {
    'e256': (0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551, 32, 'ES256'),
    'e384': (0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973,
             48, 'ES384'),
    'e521': (0x01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409,
             66, 'ES512'),
}


@pytest.mark.parametrize('kid', ['e256', 'e384', 'e521'])
def test_A17_psychic_signatures(site, keys, echo, kid):
    n, size, alg = CURVE_N[kid]
    c = good_claims(site)
    h = {'alg': alg, 'typ': 'at+jwt', 'kid': kid}
    vals = [0, 1, n - 1, n]
    for r in vals:
        for s in vals:
            sig = r.to_bytes(size, 'big') + s.to_bytes(size, 'big')
            deny(site, echo, compact(h, c, sig=sig), both=(r == 0 and s == 0))
    # wrong lengths: DER encoding of a valid signature, and one byte short / long
    k = {'e256': keys.ec256, 'e384': keys.ec384, 'e521': keys.ec521}[kid]
    good = tokens.sign_raw(alg, k, (b64u(jdump(h)) + '.' + b64u(jdump(c))).encode())
    accept(site, echo, compact(h, c, sig=good))   # control
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
    der = encode_dss_signature(int.from_bytes(good[:size], 'big'), int.from_bytes(good[size:], 'big'))
    for sig in (der, good[:-1], good + b'\x00', b'\x00' + good):
        deny(site, echo, compact(h, c, sig=sig), both=False)


# -- A19 per-token-type allow-list ------------------------------------------------------------------
def test_A19_other_alg_with_configured_key(site, keys, echo):
    c = good_claims(site)
    accept(site, echo, tokens.mint(keys.rsa, c))                   # RS256 key: RS256 ok
    accept(site, echo, tokens.mint(keys.rsa_ps, good_claims(site)))  # PS256-pinned: PS256 ok
    deny(site, echo, tokens.mint(keys.rsa, good_claims(site), alg='PS256'))
    deny(site, echo, tokens.mint(keys.rsa, good_claims(site), alg='RS384'))
    deny(site, echo, tokens.mint(keys.rsa_ps, good_claims(site), alg='RS256'))
    deny(site, echo, tokens.mint(keys.rsa_ps, good_claims(site), alg='PS512'))


# -- A21 oversized tokens ----------------------------------------------------------------------------
@pytest.mark.allow_log(r'AH00561|exceeds server limit|request header')
def test_A21_oversized(site, keys, echo):
    m = echo.mark()
    big = 'eyJhbGciOiJFUzI1NiJ9.' + 'A' * (100 * 1024) + '.' + 'B' * 86
    r = http('GET', site.url('/app/a21'), headers=dict(sites.API, Authorization='Bearer ' + big))
    assert r.status_code in (400, 401), r.status_code
    if r.status_code == 401:
        assert 'error="invalid_token"' in r.headers.get('WWW-Authenticate', '')
    r = http('GET', site.url('/app/a21'), headers=dict(sites.NAV, Cookie='%s=%s' % (sites.COOKIE, big)))
    assert r.status_code in (302, 400, 401), r.status_code
    # a 9 KiB token that is otherwise valid: above the module maximum (8 KiB)
    c = good_claims(site, pad='x' * 9000)
    t9 = tokens.mint(keys.ec256, c)
    r = http('GET', site.url('/app/a21'), headers=sites.bearer(t9))
    assert r.status_code == 401, r.status_code
    # 10 MiB: Apache refuses it (LimitRequestFieldSize) or closes the connection
    huge = 'A' * (10 * 1024 * 1024)
    try:
        r = http('GET', site.url('/app/a21'), headers=dict(sites.API, Authorization='Bearer ' + huge))
        assert r.status_code in (400, 401, 413, 431), r.status_code
    except Exception as e:   # connection reset while we were still sending: acceptable
        assert 'Connection' in type(e).__name__ or 'Connection' in str(e), repr(e)
    assert echo.since(m) == []
    accept(site, echo, tokens.mint(keys.ec256, good_claims(site)))   # still alive
