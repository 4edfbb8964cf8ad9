"""Smoke test of the real OpenID provider fixture (oidc-provider): a full authorization code +
PKCE flow with requests, id_token validated with jwcrypto.

Run: /usr/bin/python3 -m pytest -q tests/idp
"""
import base64
import hashlib
import json
import os
import secrets
import shutil
import time
import urllib.parse

import pytest
import requests
from jwcrypto import jwk, jwt

from idp_fixture import BASIC_CLIENT, POST_CLIENT, OidcProvider, walk_login

HERE = os.path.dirname(os.path.abspath(__file__))
REDIRECT = "http://127.0.0.1:9/auth/callback"  # never contacted: walk_login stops before it

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or not os.path.isdir(os.path.join(HERE, "node_modules")),
    reason="node or tests/idp/node_modules missing (run make deps)")


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def pkce():
    verifier = b64url(secrets.token_bytes(32))
    return verifier, b64url(hashlib.sha256(verifier.encode()).digest())


def authorize_url(idp, client_id, state, nonce, challenge, scope="openid email profile groups"):
    q = {"response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT,
         "scope": scope, "state": state, "nonce": nonce, "code_challenge": challenge,
         "code_challenge_method": "S256"}
    disco = requests.get(idp.issuer + "/.well-known/openid-configuration", timeout=5).json()
    return disco, disco["authorization_endpoint"] + "?" + urllib.parse.urlencode(q)


def token_request(disco, client, auth, code, verifier):
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
            "code_verifier": verifier}
    headers = {}
    if auth == "basic":
        cred = "%s:%s" % (urllib.parse.quote_plus(client[0]), urllib.parse.quote_plus(client[1]))
        headers["Authorization"] = "Basic " + base64.b64encode(cred.encode()).decode()
    else:
        data.update(client_id=client[0], client_secret=client[1])
    return requests.post(disco["token_endpoint"], data=data, headers=headers, timeout=10)


@pytest.fixture(scope="module", params=["RS256", "ES256"])
def idp(request):
    with OidcProvider(alg=request.param, redirect_uris=[REDIRECT]) as p:
        p.alg = request.param
        yield p


@pytest.mark.parametrize("client,auth", [(BASIC_CLIENT, "basic"), (POST_CLIENT, "post")])
def test_code_pkce_flow(idp, client, auth):
    s = requests.Session()
    state, nonce = b64url(secrets.token_bytes(16)), b64url(secrets.token_bytes(16))
    verifier, challenge = pkce()
    disco, url = authorize_url(idp, client[0], state, nonce, challenge)
    assert disco["issuer"] == idp.issuer
    assert disco["authorization_response_iss_parameter_supported"] is True

    back = walk_login(s, url, username="alice")
    assert back.startswith(REDIRECT + "?")
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(back).query)
    assert q["state"] == [state]
    assert q["iss"] == [idp.issuer]  # RFC 9207
    code = q["code"][0]

    r = token_request(disco, client, auth, code, verifier)
    assert r.status_code == 200, r.text
    tok = r.json()
    assert tok["token_type"].lower() == "bearer"

    keys = jwk.JWKSet.from_json(requests.get(disco["jwks_uri"], timeout=5).text)
    t = jwt.JWT(jwt=tok["id_token"], key=keys, algs=[idp.alg],
                check_claims={"iss": idp.issuer, "aud": client[0], "exp": None, "iat": None})
    claims = json.loads(t.claims)
    header = json.loads(t.header)
    assert header["alg"] == idp.alg
    assert header["kid"] == idp.kid
    assert claims["sub"] == "alice"
    assert claims["nonce"] == nonce
    assert claims["email"] == "alice@example.com" and claims["email_verified"] is True
    assert claims["groups"] == ["ops", "dev"]
    assert abs(claims["iat"] - time.time()) < 120
    # at_hash is optional in the code flow (OIDC Core 3.1.3.8); when present it must match
    if "at_hash" in claims:
        h = hashlib.sha256(tok["access_token"].encode()).digest()
        assert claims["at_hash"] == b64url(h[:16])

    ui = requests.get(disco["userinfo_endpoint"],
                      headers={"Authorization": "Bearer " + tok["access_token"]}, timeout=5)
    assert ui.status_code == 200
    assert ui.json()["sub"] == "alice"

    # the code is single-use
    assert token_request(disco, client, auth, code, verifier).status_code == 400


def test_pkce_required_and_checked(idp):
    s = requests.Session()
    disco = requests.get(idp.issuer + "/.well-known/openid-configuration", timeout=5).json()
    # no code_challenge: the IdP refuses to start
    q = {"response_type": "code", "client_id": BASIC_CLIENT[0], "redirect_uri": REDIRECT,
         "scope": "openid", "state": "s" * 22, "nonce": "n" * 22}
    r = s.get(disco["authorization_endpoint"] + "?" + urllib.parse.urlencode(q),
              allow_redirects=False, timeout=5)
    loc = r.headers.get("Location", "")
    assert r.status_code in (302, 303) and "error=invalid_request" in loc, (r.status_code, loc)

    # a wrong verifier at the token endpoint (code injection, D05)
    verifier, challenge = pkce()
    _, url = authorize_url(idp, BASIC_CLIENT[0], "s" * 22, "n" * 22, challenge)
    back = walk_login(s, url, username="bob")
    code = urllib.parse.parse_qs(urllib.parse.urlsplit(back).query)["code"][0]
    other, _ = pkce()
    r = token_request(disco, BASIC_CLIENT, "basic", code, other)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


def test_wrong_client_secret_refused(idp):
    s = requests.Session()
    verifier, challenge = pkce()
    disco, url = authorize_url(idp, POST_CLIENT[0], "s" * 22, "n" * 22, challenge)
    back = walk_login(s, url, username="bob")
    code = urllib.parse.parse_qs(urllib.parse.urlsplit(back).query)["code"][0]
    r = token_request(disco, (POST_CLIENT[0], POST_CLIENT[1] + "x"), "post", code, verifier)
    assert r.status_code in (400, 401) and r.json()["error"] == "invalid_client"
