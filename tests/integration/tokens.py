"""Independent token minting for the integration tests (jwcrypto + pyca/cryptography).

Never uses the module under test.  Valid tokens go through jwcrypto's JWS; negative
constructions are assembled by hand here (raw header/payload bytes, any alg string,
any signature bytes), so duplicate members, bad base64 and the like are possible.

Every token minted is remembered in MINTED so the harness can check that no token
material ever reaches an error log.
"""
import base64
import hashlib
import hmac
import json
import os
import secrets
import time
import uuid

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from jwcrypto import jwk, jws

MINTED = set()

_HASH = {'256': hashes.SHA256, '384': hashes.SHA384, '512': hashes.SHA512}
_HLIB = {'256': hashlib.sha256, '384': hashlib.sha384, '512': hashlib.sha512}
_CURVES = {'P-256': ec.SECP256R1, 'P-384': ec.SECP384R1, 'P-521': ec.SECP521R1}
_EC_ALG = {'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512'}


def b64u(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b'=').decode()


def b64u_decode(s):
    return base64.urlsafe_b64decode(s + '=' * (-len(s) % 4))


def jdump(obj):
    return json.dumps(obj, separators=(',', ':')).encode()


def remember(tok):
    MINTED.add(tok)
    return tok


class Key:
    """A key with its files.  kind: ec|rsa|ed25519|oct."""

    def __init__(self, kind, priv, kid, alg, secret=None):
        self.kind = kind
        self.priv = priv          # pyca private key (None for oct)
        self.secret = secret      # bytes for oct
        self.kid = kid
        self.alg = alg
        self.files = {}

    @property
    def pub(self):
        return self.priv.public_key()

    def jwk(self, private=False):
        if self.kind == 'oct':
            return jwk.JWK(kty='oct', k=b64u(self.secret))
        k = jwk.JWK.from_pyca(self.priv if private else self.pub)
        return k

    def public_jwk_dict(self, kid=True, alg=True):
        if self.kind == 'oct':
            d = {'kty': 'oct', 'k': b64u(self.secret)}
        else:
            d = json.loads(self.jwk().export_public())
        if kid and self.kid:
            d['kid'] = self.kid
        if alg and self.alg:
            d['alg'] = self.alg
        d['use'] = 'sig'
        return d

    def pub_pem(self):
        return self.pub.public_bytes(serialization.Encoding.PEM,
                                     serialization.PublicFormat.SubjectPublicKeyInfo)

    def priv_pem(self):
        return self.priv.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption())

    def write(self, directory, name):
        """Write name.pem (private), name.pub.pem, name.jwk.json (public), name.jwks.json,
        or for oct name.secret (raw bytes).  Returns self (paths in self.files)."""
        os.makedirs(directory, exist_ok=True)
        if self.kind == 'oct':
            p = os.path.join(directory, name + '.secret')
            with open(p, 'wb') as f:
                f.write(self.secret)
            os.chmod(p, 0o600)      # a secret file: others may not read it (C08)
            self.files['secret'] = p
            return self
        items = {
            'pem': self.priv_pem(),
            'pub': self.pub_pem(),
            'jwk': jdump(self.public_jwk_dict()),
            'jwks': jdump({'keys': [self.public_jwk_dict()]}),
        }
        suffix = {'pem': '.pem', 'pub': '.pub.pem', 'jwk': '.jwk.json', 'jwks': '.jwks.json'}
        for k, data in items.items():
            p = os.path.join(directory, name + suffix[k])
            with open(p, 'wb') as f:
                f.write(data)
            os.chmod(p, 0o600 if k == 'pem' else 0o644)    # the private key is a secret file
            self.files[k] = p
        return self


def gen_ec(crv='P-256', kid=None):
    return Key('ec', ec.generate_private_key(_CURVES[crv]()), kid, _EC_ALG[crv])


def gen_rsa(bits=2048, kid=None, e=65537, alg='RS256'):
    return Key('rsa', rsa.generate_private_key(public_exponent=e, key_size=bits), kid, alg)


def gen_ed25519(kid=None):
    return Key('ed25519', ed25519.Ed25519PrivateKey.generate(), kid, 'EdDSA')


def gen_oct(nbytes=32, kid=None, alg='HS256'):
    # printable secret without newline: file contents == key bytes, however it is read
    secret = secrets.token_hex(nbytes)[:nbytes].encode()
    return Key('oct', None, kid, alg, secret=secret)


# -- signing (raw) ---------------------------------------------------------------------
def sign_raw(alg, key, msg):
    """Signature bytes for signing input msg.  The *key's* type decides the primitive for
    EC (curve size from the key, hash from alg), so mismatches can be built on purpose."""
    if isinstance(key, (bytes, bytearray)):
        return hmac.new(bytes(key), msg, _HLIB[alg[2:]]).digest()
    if key.kind == 'oct':
        return hmac.new(key.secret, msg, _HLIB[alg[2:] if alg.startswith('HS') else '256']).digest()
    if key.kind == 'rsa':
        h = _HASH[alg[2:]]() if alg[2:] in _HASH else hashes.SHA256()
        if alg.startswith('PS'):
            return key.priv.sign(msg, padding.PSS(mgf=padding.MGF1(h), salt_length=h.digest_size), h)
        return key.priv.sign(msg, padding.PKCS1v15(), h)
    if key.kind == 'ec':
        h = _HASH[alg[2:]]() if alg[2:] in _HASH else hashes.SHA256()
        der = key.priv.sign(msg, ec.ECDSA(h))
        r, s = decode_dss_signature(der)
        n = (key.priv.curve.key_size + 7) // 8
        return r.to_bytes(n, 'big') + s.to_bytes(n, 'big')
    if key.kind == 'ed25519':
        return key.priv.sign(msg)
    raise ValueError(key.kind)


def compact(header, payload, key=None, alg=None, sig=None):
    """Assemble a compact JWS.  header/payload: dict (serialized compactly) or bytes/str
    (used verbatim).  sig: explicit signature bytes; otherwise signed with key using alg
    (default: header['alg'])."""
    hb = header if isinstance(header, bytes) else (
        header.encode() if isinstance(header, str) else jdump(header))
    pb = payload if isinstance(payload, bytes) else (
        payload.encode() if isinstance(payload, str) else jdump(payload))
    si = (b64u(hb) + '.' + b64u(pb)).encode()
    if sig is None:
        a = alg or (header.get('alg') if isinstance(header, dict) else None)
        sig = sign_raw(a, key, si) if key is not None else b''
    return remember(si.decode() + '.' + b64u(sig))


# -- claims ----------------------------------------------------------------------------
def claims(iss, aud, sub='alice', ttl=300, **extra):
    now = int(time.time())
    c = {'iss': iss, 'aud': aud, 'sub': sub, 'iat': now, 'nbf': now - 1, 'exp': now + ttl,
         'jti': uuid.uuid4().hex, 'sid': uuid.uuid4().hex, 'idp': 'test'}
    for k, v in extra.items():
        if v is None:
            c.pop(k, None)
        else:
            c[k] = v
    return c


def mint(key, payload, alg=None, typ='at+jwt', kid=True, extra_header=None):
    """A valid token signed through jwcrypto's JWS (the reference implementation)."""
    a = alg or key.alg
    hdr = {'alg': a}
    if typ:
        hdr['typ'] = typ
    if kid is True and key.kid:
        hdr['kid'] = key.kid
    elif isinstance(kid, str):
        hdr['kid'] = kid
    if extra_header:
        hdr.update(extra_header)
    s = jws.JWS(jdump(payload))
    s.add_signature(key.jwk(private=True), alg=a, protected=json.dumps(hdr))
    return remember(s.serialize(compact=True))


def header_for(key, alg=None, typ='at+jwt', **extra):
    h = {'alg': alg if alg is not None else key.alg}
    if typ:
        h['typ'] = typ
    if key is not None and key.kid:
        h['kid'] = key.kid
    h.update(extra)
    return h
