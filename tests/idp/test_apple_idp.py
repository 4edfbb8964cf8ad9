"""Self-test of the Apple-shaped IdP (apple_idp.py): its token endpoint accepts a correct
ES256 client-secret JWT and refuses each wrong one (key, alg, kid, iss, sub, aud, lifetime,
expiry), its authorize answer is a form_post page, and its id_token carries Apple's string
booleans.  Client secrets are minted here with jwcrypto.

Run: /usr/bin/python3 -m pytest -q tests/idp
"""
import base64
import hashlib
import html
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.parse

import pytest
import requests
from jwcrypto import jwk, jwt

from idp_fixture import HERE, _Server, _wait_ready, free_port

TEAM, KID, CID = "TEAM123456", "KEY1234567", "com.example.authflow"
REDIRECT = "http://localhost:9/auth/callback"


class AppleIdp(_Server):
    def __init__(self, pub_pem_file):
        self.port = free_port()
        cmd = [sys.executable, os.path.join(HERE, "apple_idp.py"), "--port", str(self.port),
               "--client-id", CID, "--team-id", TEAM, "--key-id", KID,
               "--secret-public-key", pub_pem_file]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            self.issuer = _wait_ready(self.proc, "READY ", 30)["issuer"]
        except Exception:
            self.stop()
            raise


@pytest.fixture(scope="module")
def keys():
    good = jwk.JWK.generate(kty="EC", crv="P-256")
    d = tempfile.mkdtemp(prefix="apple-idp-")
    path = os.path.join(d, "pub.pem")
    with open(path, "wb") as f:
        f.write(good.export_to_pem())
    yield {"good": good, "path": path, "other": jwk.JWK.generate(kty="EC", crv="P-256"),
           "p384": jwk.JWK.generate(kty="EC", crv="P-384")}
    os.unlink(path)
    os.rmdir(d)


@pytest.fixture(scope="module")
def idp(keys):
    with AppleIdp(keys["path"]) as p:
        yield p


def secret(key, alg="ES256", kid=KID, **over):
    now = int(time.time())
    c = {"iss": TEAM, "sub": CID, "aud": "https://appleid.apple.com", "iat": now,
         "exp": now + 3600}
    c.update(over)
    c = {k: v for k, v in c.items() if v is not None}
    t = jwt.JWT(header={"alg": alg, "kid": kid}, claims=c)
    t.make_signed_token(key)
    return t.serialize()


def code_for(idp):
    """Run /auth/authorize (form_post) and return (code, verifier) from its page."""
    verifier = secrets.token_urlsafe(32)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()) \
        .rstrip(b"=").decode()
    q = {"response_type": "code", "client_id": CID, "redirect_uri": REDIRECT,
         "scope": "openid name email", "response_mode": "form_post", "state": "s1",
         "nonce": "n1", "code_challenge": challenge, "code_challenge_method": "S256"}
    r = requests.get(idp.issuer + "/auth/authorize?" + urllib.parse.urlencode(q), timeout=5)
    assert r.status_code == 200 and 'method="post"' in r.text
    assert 'action="%s"' % REDIRECT in r.text
    fields = dict((k, html.unescape(v)) for k, v in
                  re.findall(r'name="([^"]+)" value="([^"]*)"', r.text))
    return fields, verifier


def token(idp, sec, code="x", verifier="v"):
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
            "code_verifier": verifier, "client_id": CID, "client_secret": sec}
    return requests.post(idp.issuer + "/auth/token", data=form, timeout=5)


def test_form_post_authorize_and_correct_secret(idp, keys):
    fields, verifier = code_for(idp)
    assert fields["state"] == "s1" and json.loads(fields["user"])["name"]["firstName"]
    r = token(idp, secret(keys["good"]), fields["code"], verifier)
    assert r.status_code == 200, r.text
    idt = r.json()["id_token"]
    claims = json.loads(base64.urlsafe_b64decode(idt.split(".")[1] + "=="))
    assert claims["email_verified"] == "true" and claims["is_private_email"] == "true"
    assert "name" not in claims
    # the user field only comes with the first consent
    fields, _ = code_for(idp)
    assert "user" not in fields


def test_query_mode_refused_with_name_scope(idp):
    q = {"client_id": CID, "redirect_uri": REDIRECT, "scope": "openid name", "state": "s"}
    r = requests.get(idp.issuer + "/auth/authorize?" + urllib.parse.urlencode(q), timeout=5)
    assert r.status_code == 400


@pytest.mark.parametrize("case", ["other_key", "p384", "hs256", "kid", "iss", "sub", "aud",
                                  "six_months_plus", "expired", "no_exp", "future_iat"])
def test_wrong_client_secret_refused(idp, keys, case):
    now = int(time.time())
    sec = {
        "other_key": lambda: secret(keys["other"]),
        "p384": lambda: secret(keys["p384"], alg="ES384"),
        "hs256": lambda: secret(jwk.JWK(kty="oct", k="c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTAx"),
                                alg="HS256"),
        "kid": lambda: secret(keys["good"], kid="OTHERKEY00"),
        "iss": lambda: secret(keys["good"], iss="OTHERTEAM0"),
        "sub": lambda: secret(keys["good"], sub="com.example.other"),
        "aud": lambda: secret(keys["good"], aud=idp.issuer),
        "six_months_plus": lambda: secret(keys["good"], exp=now + 15777001),
        "expired": lambda: secret(keys["good"], iat=now - 7200, exp=now - 3600),
        "no_exp": lambda: secret(keys["good"], exp=None),
        "future_iat": lambda: secret(keys["good"], iat=now + 3600, exp=now + 7200),
    }[case]()
    fields, verifier = code_for(idp)
    r = token(idp, sec, fields["code"], verifier)
    assert r.status_code == 400 and r.json() == {"error": "invalid_client"}, r.text
    # and the same code with a correct secret still works: only the secret was refused
    assert token(idp, secret(keys["good"]), fields["code"], verifier).status_code == 200


def test_six_months_exactly_accepted(idp, keys):
    now = int(time.time())
    fields, verifier = code_for(idp)
    r = token(idp, secret(keys["good"], iat=now, exp=now + 15777000), fields["code"], verifier)
    assert r.status_code == 200, r.text
