#!/usr/bin/python3
"""Regenerate the seed corpora tests/fuzz/corpus/jws/ and tests/fuzz/corpus/jwks/.

Run by hand (/usr/bin/python3 tests/fuzz/mkcorpus.py); the output is committed.  Tokens are
signed by jwcrypto (independent code) with the test keys in tests/fuzz/keys/fuzz-keys.json,
whose public halves are compiled into fuzz_jws.c; more seeds are taken from the Wycheproof
JWS/JWK vectors in tests/vectors/wycheproof/.  Files named regress-* are reproducers of past
findings and are never touched by this script.
"""
import base64
import hashlib
import hmac
import json
import os
import sys

from jwcrypto import jwk, jws

HERE = os.path.dirname(os.path.abspath(__file__))
WYCHE = os.path.join(HERE, "..", "vectors", "wycheproof")
NOW = 1767225600  # FUZZ_NOW in fuzz_jws.c


def b64(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jdump(obj):
    return json.dumps(obj, separators=(",", ":"))


def reset(name):
    d = os.path.join(HERE, "corpus", name)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        if not f.startswith("regress-"):
            os.unlink(os.path.join(d, f))
    return d


def write(d, name, data):
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def claims(**over):
    c = {
        "iss": "https://issuer.example",
        "aud": "api://fuzz",
        "sub": "user-1234",
        "iat": NOW - 60,
        "exp": NOW + 600,
        "jti": "b1c9f0e2-4d1a-4c55-9f7e-2b8a0d6c3e11",
        "sid": "fam-7f3a",
        "idp": "google",
        "email": "alice@example.com",
        "email_verified": True,
        "groups": ["ops", "dev"],
        "realm_access": {"roles": ["admin"]},
    }
    c.update(over)
    return {k: v for k, v in c.items() if v is not None}


def sign(key, alg, payload, kid=True, typ="at+jwt", extra=None):
    hdr = {"alg": alg}
    if typ:
        hdr["typ"] = typ
    if kid:
        hdr["kid"] = key.get("kid") if kid is True else kid
    if extra:
        hdr.update(extra)
    if not isinstance(payload, (bytes, str)):
        payload = jdump(payload)
    s = jws.JWS(payload)
    s.add_signature(key, alg=alg, protected=jdump(hdr))
    return s.serialize(compact=True)


def hs_raw(key, hdr, payload_b64):
    """HS256 over any header jwcrypto would refuse to produce (crit, b64, zip...)."""
    secret = base64.urlsafe_b64decode(key.get("k") + "==")
    si = "%s.%s" % (b64(jdump(hdr)), payload_b64)
    return si + "." + b64(hmac.new(secret, si.encode(), hashlib.sha256).digest())


def jws_corpus(keys):
    d = reset("jws")
    hs, es, rs, ed = keys["hs"], keys["es"], keys["rs"], keys["ed"]
    good = {"HS256": hs, "ES256": es, "RS256": rs, "EdDSA": ed}
    for alg, k in good.items():
        write(d, "valid-%s" % alg.lower(), sign(k, alg, claims()))
        write(d, "valid-%s-nokid" % alg.lower(), sign(k, alg, claims(), kid=False))
    write(d, "ps256-on-rs-key", sign(rs, "PS256", claims()))
    write(d, "es256-kid-of-rs", sign(es, "ES256", claims(), kid="rs"))
    write(d, "expired", sign(es, "ES256", claims(exp=NOW - 3600, iat=NOW - 7200)))
    write(d, "nbf-future", sign(hs, "HS256", claims(nbf=NOW + 3600)))
    write(d, "aud-array", sign(hs, "HS256", claims(aud=["other", "api://fuzz"])))
    write(d, "exp-fraction", sign(hs, "HS256", claims(exp=NOW + 600.5)))
    write(d, "exp-string", sign(hs, "HS256", claims(exp=str(NOW + 600))))
    write(d, "no-exp", sign(ed, "EdDSA", claims(exp=None)))
    write(d, "sub-long", sign(hs, "HS256", claims(sub="x" * 300)))
    write(d, "typ-jwt", sign(hs, "HS256", claims(), typ="JWT"))
    write(d, "typ-app", sign(hs, "HS256", claims(), typ="application/AT+JWT"))
    # headers the parser must refuse
    p = b64(jdump(claims()))
    write(d, "alg-none", "%s.%s." % (b64('{"alg":"none","typ":"JWT"}'), p))
    write(d, "alg-None-sig", "%s.%s.AAAA" % (b64('{"alg":"None"}'), p))
    write(d, "alg-num", "%s.%s.AAAA" % (b64('{"alg":256}'), p))
    write(d, "dup-alg", "%s.%s.AAAA" % (b64('{"alg":"ES256","alg":"none"}'), p))
    hk = {"alg": "HS256", "kid": "hs"}
    write(d, "crit", hs_raw(hs, dict(hk, crit=["exp"], exp=1), p))
    write(d, "crit-empty", hs_raw(hs, dict(hk, crit=[]), p))
    write(d, "b64-false", hs_raw(hs, dict(hk, b64=False, crit=["b64"]), "$.02"))
    write(d, "zip", hs_raw(hs, dict(hk, zip="DEF"), p))
    write(d, "cty-jwt", hs_raw(hs, dict(hk, cty="JWT"), p))
    write(d, "jku", hs_raw(hs, dict(hk, jku="http://127.0.0.1:1/k"), p))
    write(d, "jwe", "%s.%s.%s.%s.%s" % (b64('{"alg":"RSA-OAEP","enc":"A256GCM"}'),
                                       b64("k" * 32), b64("iv" * 6), b64("c" * 40),
                                       b64("t" * 16)))
    write(d, "json-serialization", jdump({"payload": p, "protected": b64('{"alg":"HS256"}'),
                                          "signature": b64("s" * 32)}))
    tok = sign(hs, "HS256", claims())
    h, pl, sg = tok.split(".")
    write(d, "padded", "%s.%s==.%s=" % (h, pl, sg))
    write(d, "std-alphabet", tok.replace("-", "+").replace("_", "/"))
    write(d, "trailing-dot", tok + ".")
    write(d, "two-segments", h + "." + pl)
    write(d, "payload-dup-sub", "%s.%s.%s" % (h, b64('{"sub":"a","sub":"admin","exp":1}'), sg))
    write(d, "payload-nul", "%s.%s.%s" % (h, b64('{"sub":"admin\\u0000x","exp":1}'), sg))
    write(d, "payload-deep", "%s.%s.%s" % (h, b64("[" * 40 + "]" * 40), sg))
    # raw payloads: fuzz_jws.c signs inputs starting with '{' itself
    write(d, "payload-claims", jdump(claims()))
    write(d, "payload-minimal", jdump({"exp": NOW + 10, "sub": "a"}))
    # a selection of the Wycheproof JWS vectors
    w = json.load(open(os.path.join(WYCHE, "json_web_signature_test.json")))
    want = {1, 2, 3, 6, 8, 10, 14, 16, 17, 18, 22, 31, 32, 33, 259, 272, 345, 346, 347, 348,
            353, 357, 360, 363, 366, 371, 375, 378, 386, 392, 401}
    for g in w["testGroups"]:
        for t in g["tests"]:
            if t["tcId"] in want and isinstance(t["jws"], str):
                write(d, "wycheproof-%d" % t["tcId"], t["jws"])
    return len(os.listdir(d))


def jwks_corpus(keys, priv):
    d = reset("jwks")
    pub = {k: json.loads(v.export_public()) for k, v in keys.items() if k != "hs"}
    write(d, "fuzz-keyset-public", jdump({"keys": list(pub.values())}))
    write(d, "oct-hs256", jdump(priv["hs"]))
    for name in ("es", "rs", "ed"):
        write(d, "single-public-%s" % name, jdump(pub[name]))
        write(d, "single-private-%s" % name, jdump(priv[name]))
    gen = [
        ("ec-p384", jwk.JWK.generate(kty="EC", crv="P-384", kid="p384")),
        ("ec-p521", jwk.JWK.generate(kty="EC", crv="P-521", kid="p521")),
        ("ec-secp256k1", jwk.JWK.generate(kty="EC", crv="secp256k1", kid="k1")),
        ("okp-ed448", jwk.JWK.generate(kty="OKP", crv="Ed448", kid="ed448")),
        ("okp-x25519", jwk.JWK.generate(kty="OKP", crv="X25519", kid="x25519")),
        ("rsa-1024", jwk.JWK.generate(kty="RSA", size=1024, kid="small")),
    ]
    for name, k in gen:
        write(d, name, jdump(json.loads(k.export_public())))
    es = pub["es"]
    write(d, "mixed-symmetric", jdump({"keys": [es, priv["hs"]]}))
    write(d, "duplicate-kid", jdump({"keys": [es, dict(pub["ed"], kid="es")]}))
    write(d, "unknown-kty", jdump({"keys": [{"kty": "AKP", "kid": "x", "alg": "ML-DSA-44",
                                             "pub": b64("p" * 32)}, es]}))
    write(d, "enc-use", jdump({"keys": [dict(es, use="enc"), dict(pub["ed"], key_ops=["wrapKey"])]}))
    write(d, "alg-mismatch", jdump({"keys": [dict(es, alg="ES384"), dict(pub["rs"], alg="EdDSA")]}))
    write(d, "ec-short-x", jdump(dict(es, x=es["x"][:-2])))
    write(d, "rsa-e-even", jdump(dict(pub["rs"], e=b64(b"\x01\x00\x00"))))
    write(d, "rsa-e-huge", jdump(dict(pub["rs"], e=b64(b"\x01" + b"\x00" * 255 + b"\x01"))))
    write(d, "oct-aes", jdump({"kty": "oct", "alg": "A256GCM", "k": b64("k" * 32)}))
    write(d, "oct-empty", jdump({"kty": "oct", "alg": "HS256", "k": ""}))
    write(d, "keys-not-array", '{"keys":{"kty":"EC"}}')
    write(d, "empty-keys", '{"keys":[]}')
    write(d, "not-object", "[1,2,3]")
    w = json.load(open(os.path.join(WYCHE, "json_web_key_test.json")))
    for g in w["testGroups"]:
        tc = g["tests"][0]["tcId"]
        for part in ("public", "private"):
            if part in g:
                write(d, "wycheproof-%d-%s" % (tc, part), jdump(g[part]))
    return len(os.listdir(d))


def main():
    priv = {k["kid"]: k for k in
            json.load(open(os.path.join(HERE, "keys", "fuzz-keys.json")))["keys"]}
    keys = {kid: jwk.JWK(**k) for kid, k in priv.items()}
    n1 = jws_corpus(keys)
    n2 = jwks_corpus(keys, priv)
    print("corpus: jws %d files, jwks %d files" % (n1, n2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
