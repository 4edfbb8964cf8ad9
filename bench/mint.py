#!/usr/bin/python3
"""Mint the benchmark's access tokens with jwcrypto (independent of the module's own code).

usage: mint.py ALG KEYFILE KID ISSUER [AUDIENCE]   -> prints one compact JWS
  ALG ES256: KEYFILE is a PEM private key;  ALG HS256: KEYFILE holds the raw secret bytes.
The token looks like one of ours: typ at+jwt, iss/aud/sub/iat/exp/jti/sid/idp and a few mapped
claims (~300-byte payload), valid for 1 hour.
"""
import base64
import json
import sys
import time
import uuid

from jwcrypto import jwk, jws


def main():
    alg, keyfile, kid, iss = sys.argv[1:5]
    aud = sys.argv[5] if len(sys.argv) > 5 else iss
    data = open(keyfile, "rb").read()
    if alg.startswith("HS"):
        key = jwk.JWK(kty="oct", k=base64.urlsafe_b64encode(data).rstrip(b"=").decode())
    else:
        key = jwk.JWK.from_pem(data)
    now = int(time.time())
    claims = {
        "iss": iss, "aud": aud, "sub": "109876543210987654321", "iat": now - 5,
        "exp": now + 3600, "jti": str(uuid.uuid4()), "sid": "fam-Qm9uam91ciBsZSBtb25kZQ",
        "idp": "google", "email": "alice.martin@example.com", "email_verified": True,
        "name": "Alice Martin", "preferred_username": "alice", "groups": ["ops", "dev", "staff"],
    }
    tok = jws.JWS(json.dumps(claims, separators=(",", ":")))
    hdr = {"alg": alg, "typ": "at+jwt", "kid": kid}
    tok.add_signature(key, alg=alg, protected=json.dumps(hdr, separators=(",", ":")))
    print(tok.serialize(compact=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
