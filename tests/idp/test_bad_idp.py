"""Self-test of the misbehaving IdP (bad_idp.py): with no mode it is a correct code + PKCE
provider; each mode breaks exactly what it says.  Checked independently with jwcrypto.

Run: /usr/bin/python3 -m pytest -q tests/idp
"""
import base64
import hashlib
import json
import secrets
import time
import urllib.parse

import pytest
import requests
from jwcrypto import jwk, jws, jwt

from idp_fixture import BadIdp

CID, SECRET = "authflow-test", "authflow-test-secret-0123456789abcdef"
REDIRECT = "http://127.0.0.1:9/auth/callback"


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def b64dec(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


@pytest.fixture(scope="module")
def idp():
    with BadIdp(client_id=CID, client_secret=SECRET, alg="RS256") as p:
        yield p


@pytest.fixture(autouse=True)
def reset(idp):
    idp.set_mode()
    yield
    idp.set_mode()


def authorize(idp, nonce="n" * 22, state="s" * 22):
    verifier = b64url(secrets.token_bytes(32))
    challenge = b64url(hashlib.sha256(verifier.encode()).digest())
    q = {"response_type": "code", "client_id": CID, "redirect_uri": REDIRECT, "scope": "openid",
         "state": state, "nonce": nonce, "code_challenge": challenge,
         "code_challenge_method": "S256"}
    r = requests.get(idp.issuer + "/authorize?" + urllib.parse.urlencode(q),
                     allow_redirects=False, timeout=5)
    assert r.status_code == 302
    loc = r.headers["Location"]
    assert loc.startswith(REDIRECT + "?")
    return urllib.parse.parse_qs(urllib.parse.urlsplit(loc).query), verifier


def exchange(idp, code, verifier, basic=True):
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
            "code_verifier": verifier}
    headers = {}
    if basic:
        cred = "%s:%s" % (urllib.parse.quote_plus(CID), urllib.parse.quote_plus(SECRET))
        headers["Authorization"] = "Basic " + base64.b64encode(cred.encode()).decode()
    else:
        data.update(client_id=CID, client_secret=SECRET)
    return requests.post(idp.issuer + "/token", data=data, headers=headers, timeout=5)


def login(idp, nonce="n" * 22):
    q, verifier = authorize(idp, nonce=nonce)
    r = exchange(idp, q["code"][0], verifier)
    return r


def keys(idp):
    return jwk.JWKSet.from_json(requests.get(idp.issuer + "/jwks", timeout=5).text)


def verify(idp, token, algs=("RS256", "ES256")):
    """Full independent validation; returns claims or raises."""
    t = jwt.JWT(jwt=token, key=keys(idp), algs=list(algs),
                check_claims={"iss": idp.issuer, "aud": CID, "exp": None})
    return json.loads(t.claims)


def unverified(token):
    h, p, _ = token.split(".")
    return json.loads(b64dec(h)), json.loads(b64dec(p))


def test_correct_by_default(idp):
    q, verifier = authorize(idp, nonce="the-nonce-0123456789ab")
    assert q["iss"] == [idp.issuer] and q["state"] == ["s" * 22]
    r = exchange(idp, q["code"][0], verifier)
    assert r.status_code == 200
    tok = r.json()
    c = verify(idp, tok["id_token"])
    assert c["sub"] == "alice" and c["nonce"] == "the-nonce-0123456789ab"
    assert c["at_hash"] == b64url(hashlib.sha256(tok["access_token"].encode()).digest()[:16])
    ui = requests.get(idp.issuer + "/userinfo",
                      headers={"Authorization": "Bearer " + tok["access_token"]}, timeout=5)
    assert ui.json()["sub"] == "alice"
    # single-use code, PKCE and client auth enforced
    assert exchange(idp, q["code"][0], verifier).status_code == 400
    q, verifier = authorize(idp)
    assert exchange(idp, q["code"][0], b64url(secrets.token_bytes(32))).status_code == 400
    q, verifier = authorize(idp)
    assert exchange(idp, q["code"][0], verifier, basic=False).status_code == 200
    disco = requests.get(idp.issuer + "/.well-known/openid-configuration", timeout=5).json()
    assert disco["issuer"] == idp.issuer
    assert disco["authorization_response_iss_parameter_supported"] is True
    log = idp.log()["log"]
    assert any(e["path"] == "/token" and e["client_auth"] == "client_secret_post" for e in log)


CLAIM_MODES = {
    "wrong_iss": lambda c: c["iss"] == "http://evil.example",
    "wrong_aud": lambda c: c["aud"] == "someone-else",
    "missing_aud": lambda c: "aud" not in c,
    "multi_aud_no_azp": lambda c: isinstance(c["aud"], list) and "azp" not in c,
    "multi_aud_azp": lambda c: isinstance(c["aud"], list) and c["azp"] == CID,
    "wrong_azp": lambda c: c["azp"] == "someone-else",
    "wrong_nonce": lambda c: c["nonce"] == "not-the-nonce",
    "missing_nonce": lambda c: "nonce" not in c,
    "missing_sub": lambda c: "sub" not in c,
    "missing_iat": lambda c: "iat" not in c,
    "old_iat": lambda c: c["iat"] < time.time() - 3600,
    "future_iat": lambda c: c["iat"] > time.time() + 600,
    "expired": lambda c: c["exp"] < time.time(),
    "missing_exp": lambda c: "exp" not in c,
    "wrong_at_hash": lambda c: c["at_hash"] == b64url(b"\0" * 16),
    "no_at_hash": lambda c: "at_hash" not in c,
}


@pytest.mark.parametrize("mode", sorted(CLAIM_MODES))
def test_claim_modes(idp, mode):
    idp.set_mode(mode)
    r = login(idp)
    assert r.status_code == 200
    tok = r.json()["id_token"]
    h, c = unverified(tok)
    # the signature itself is good: only the claim is broken
    jws_obj = jws.JWS()
    jws_obj.deserialize(tok)
    jws_obj.verify(keys(idp).get_key(h["kid"]))
    assert CLAIM_MODES[mode](c), c


def test_alg_none(idp):
    idp.set_mode("alg_none")
    tok = login(idp).json()["id_token"]
    h, c = unverified(tok)
    assert h == {"alg": "none"} and tok.endswith(".") and c["sub"] == "alice"


@pytest.mark.parametrize("mode", ["bad_sig", "unknown_kid", "hs256_bad_sig"])
def test_signature_modes_fail_verification(idp, mode):
    idp.set_mode(mode)
    tok = login(idp).json()["id_token"]
    with pytest.raises(Exception):
        verify(idp, tok, algs=("RS256", "ES256", "HS256"))


def test_hs256_keyed_by_client_secret(idp):
    idp.set_mode("hs256")
    tok = login(idp).json()["id_token"]
    assert unverified(tok)[0]["alg"] == "HS256"
    key = jwk.JWK(kty="oct", k=b64url(SECRET.encode()))
    t = jwt.JWT(jwt=tok, key=key, algs=["HS256"])
    assert json.loads(t.claims)["sub"] == "alice"


def test_kid_modes_and_rotation(idp):
    idp.set_mode("kid_absent_single")
    tok = login(idp).json()["id_token"]
    assert "kid" not in unverified(tok)[0]
    ks = json.loads(requests.get(idp.issuer + "/jwks", timeout=5).text)["keys"]
    assert len(ks) == 1 and "kid" not in ks[0]
    verify(idp, tok)

    idp.set_mode("kid_absent_multi")
    tok = login(idp).json()["id_token"]
    ks = json.loads(requests.get(idp.issuer + "/jwks", timeout=5).text)["keys"]
    assert len(ks) == 2 and all("kid" not in k for k in ks)
    assert "kid" not in unverified(tok)[0]

    idp.set_mode()
    before = {k["kid"] for k in json.loads(requests.get(idp.issuer + "/jwks").text)["keys"]}
    idp.set_mode("rotate_key")
    tok = login(idp).json()["id_token"]
    kid = unverified(tok)[0]["kid"]
    assert kid not in before
    verify(idp, tok)  # the rotated key is published


def test_other_alg(idp):
    idp.set_mode("other_alg")
    tok = login(idp).json()["id_token"]
    assert unverified(tok)[0]["alg"] == "ES256"
    verify(idp, tok)


def test_token_modes(idp):
    for mode, status, check in [
            ("token_500", 500, None),
            ("token_400", 400, None),
            ("token_not_json", 200, lambda r: r.headers["Content-Type"] == "text/html"),
            ("token_error_200", 200, lambda r: r.json()["error"] == "bad_verification_code"),
            ("token_no_id_token", 200, lambda r: "id_token" not in r.json()),
            ("token_type_mac", 200, lambda r: r.json()["token_type"] == "mac"),
            ("token_form_encoded", 200, lambda r: r.text.startswith("access_token="))]:
        idp.set_mode(mode)
        r = login(idp)
        assert r.status_code == status, mode
        if check:
            assert check(r), mode


def test_userinfo_modes(idp):
    for mode, check in [("userinfo_sub_mismatch", lambda r: r.json()["sub"] == "mallory"),
                        ("userinfo_no_sub", lambda r: "sub" not in r.json()),
                        ("userinfo_not_json", lambda r: r.text.startswith("<html>")),
                        ("userinfo_500", lambda r: r.status_code == 500)]:
        idp.set_mode()
        at = login(idp).json()["access_token"]
        idp.set_mode(mode)
        r = requests.get(idp.issuer + "/userinfo", headers={"Authorization": "Bearer " + at},
                         timeout=5)
        assert check(r), mode
    r = requests.get(idp.issuer + "/userinfo", headers={"Authorization": "Bearer nope"}, timeout=5)
    assert r.status_code == 401


def test_discovery_modes(idp):
    url = idp.issuer + "/.well-known/openid-configuration"
    idp.set_mode("discovery_issuer_mismatch")
    assert requests.get(url, timeout=5).json()["issuer"] == "http://evil.example"
    idp.set_mode("discovery_issuer_slash")
    assert requests.get(url, timeout=5).json()["issuer"] == idp.issuer + "/"
    idp.set_mode("discovery_http_endpoint")
    assert requests.get(url, timeout=5).json()["token_endpoint"].startswith("http://idp.")
    idp.set_mode("discovery_not_json")
    assert requests.get(url, timeout=5).text.startswith("<html>")
    idp.set_mode("no_iss_param_supported")
    assert requests.get(url, timeout=5).json()[
        "authorization_response_iss_parameter_supported"] is False
    q, _ = authorize(idp)
    assert "iss" not in q


def test_authorize_modes(idp):
    idp.set_mode("iss_param_mismatch")
    assert authorize(idp)[0]["iss"] == ["http://evil.example"]
    idp.set_mode("iss_param_missing")
    assert "iss" not in authorize(idp)[0]
    idp.set_mode("duplicate_state")
    assert len(authorize(idp)[0]["state"]) == 2
    idp.set_mode("duplicate_code")
    assert len(authorize(idp)[0]["code"]) == 2
    idp.set_mode("duplicate_iss")
    assert len(authorize(idp)[0]["iss"]) == 2
    idp.set_mode("error_response")
    q = authorize(idp)[0]
    assert q["error"] == ["access_denied"] and "code" not in q
    assert q["error_description"] == ["<script>alert(1)</script>"]


def test_github_mode(idp):
    idp.set_mode("github")
    tok = login(idp).json()
    assert "id_token" not in tok and tok["token_type"] == "bearer"
    h = {"Authorization": "Bearer " + tok["access_token"]}
    assert requests.get(idp.issuer + "/user", headers=h, timeout=5).json()["id"] == 583231
    emails = requests.get(idp.issuer + "/user/emails", headers=h, timeout=5).json()
    assert [e["email"] for e in emails if e["verified"] and e["primary"]] == [
        "octocat@example.com"]
    idp.set_mode("github", "github_no_verified_email")
    emails = requests.get(idp.issuer + "/user/emails", headers=h, timeout=5).json()
    assert not [e for e in emails if e["verified"] and e["primary"]]


def test_kakao_mode(idp):
    idp.set_mode("kakao")
    disco = requests.get(idp.issuer + "/.well-known/openid-configuration", timeout=5).json()
    assert disco["token_endpoint_auth_methods_supported"] == ["client_secret_post"]
    assert "email_verified" not in disco["claims_supported"]
    assert "end_session_endpoint" not in disco
    tok = login(idp).json()
    assert "email_verified" not in verify(idp, tok["id_token"])
    h = {"Authorization": "Bearer " + tok["access_token"]}
    me = requests.get(idp.issuer + "/v2/user/me", headers=h, timeout=5).json()
    assert isinstance(me["id"], int)
    acct = me["kakao_account"]
    assert acct["is_email_valid"] is True and acct["is_email_verified"] is True
    idp.set_mode("kakao", "kakao_email_unverified")
    me = requests.post(idp.issuer + "/v2/user/me", headers=h, timeout=5).json()
    assert me["kakao_account"]["is_email_verified"] is False
    # no secret: refused unless kakao_no_secret
    q, verifier = authorize(idp)
    data = {"grant_type": "authorization_code", "code": q["code"][0],
            "redirect_uri": REDIRECT, "code_verifier": verifier, "client_id": CID}
    assert requests.post(idp.issuer + "/token", data=data, timeout=5).status_code == 401
    idp.set_mode("kakao", "kakao_no_secret")
    q, verifier = authorize(idp)
    data.update(code=q["code"][0], code_verifier=verifier)
    assert requests.post(idp.issuer + "/token", data=data, timeout=5).status_code == 200
    # Kakao logout sends the browser back with the state
    r = requests.get(idp.issuer + "/oauth/logout", params={
        "client_id": CID, "logout_redirect_uri": REDIRECT, "state": "st"},
        allow_redirects=False, timeout=5)
    assert r.status_code == 302 and r.headers["Location"] == REDIRECT + "?state=st"


def test_naver_mode(idp):
    idp.set_mode("naver")
    q, verifier = authorize(idp)
    assert "iss" not in q
    r = exchange(idp, q["code"][0], verifier, basic=False)
    assert r.json().get("error") == "invalid_request"  # the state is required
    q, verifier = authorize(idp)
    data = {"grant_type": "authorization_code", "code": q["code"][0], "redirect_uri": REDIRECT,
            "code_verifier": verifier, "client_id": CID, "client_secret": SECRET,
            "state": q["state"][0]}
    tok = requests.post(idp.issuer + "/oauth2.0/token", data=data, timeout=5).json()
    assert tok["expires_in"] == "3600" and "id_token" not in tok
    h = {"Authorization": "Bearer " + tok["access_token"]}
    me = requests.get(idp.issuer + "/v1/nid/me", headers=h, timeout=5).json()
    assert me["resultcode"] == "00" and me["response"]["id"] == "alice"
    idp.set_mode("naver", "naver_bad_resultcode")
    me = requests.get(idp.issuer + "/v1/nid/me", headers=h, timeout=5)
    assert me.status_code == 200 and me.json()["resultcode"] == "024"


@pytest.mark.parametrize("mode,want", [("string_booleans", "true"), ("no_email_verified", None)])
def test_email_verified_modes(idp, mode, want):
    idp.set_mode(mode)
    tok = login(idp).json()
    assert verify(idp, tok["id_token"]).get("email_verified") == want
    h = {"Authorization": "Bearer " + tok["access_token"]}
    assert requests.get(idp.issuer + "/userinfo", headers=h,
                        timeout=5).json().get("email_verified") == want


def test_unknown_mode_refused(idp):
    r = requests.post(idp.issuer + "/_control", json={"modes": ["no_such_mode"]}, timeout=5)
    assert r.status_code == 400


def test_hanging_endpoints():
    with BadIdp(client_id=CID, client_secret=SECRET) as p:
        p.set_mode("hang_token", "hang_jwks", "hang_discovery", "hang_userinfo")
        for path in ("/jwks", "/.well-known/openid-configuration", "/userinfo"):
            with pytest.raises(requests.exceptions.Timeout):
                requests.get(p.issuer + path, timeout=0.5)
        q, verifier = authorize(p)
        with pytest.raises(requests.exceptions.Timeout):
            exchange_timeout(p, q["code"][0], verifier)
    # stopped by pid even with requests still hanging
    assert p.proc is None


def exchange_timeout(idp, code, verifier):
    return requests.post(idp.issuer + "/token", timeout=0.5,
                         data={"grant_type": "authorization_code", "code": code,
                               "redirect_uri": REDIRECT, "code_verifier": verifier})
