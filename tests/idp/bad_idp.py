#!/usr/bin/python3
"""A deliberately misbehaving OpenID provider for negative tests (SECURITY.md groups D and E).

    /usr/bin/python3 tests/idp/bad_idp.py --port N [--alg RS256|ES256] [--mode MODE]...
        [--client-id ID] [--client-secret S] [--issuer URL] [--sub SUB] [--hang-seconds S]

Serves on 127.0.0.1 (stdlib http.server, keys and tokens by jwcrypto):
  /.well-known/openid-configuration   discovery
  /jwks                               public keys
  /authorize                          redirects straight back with code, state and iss
  /token                              authorization_code grant (checks PKCE S256, redirect_uri,
                                      client auth basic or post, single-use code)
  /userinfo                           Bearer access token -> claims
  /user, /user/emails                 GitHub-shaped endpoints (mode "github")
  /_control                           GET: {"modes": [...], "log": [...]};
                                      POST {"modes": [...]} replaces the modes,
                                      POST {"clear_log": true} forgets the request log,
                                      POST {"sid": "S"} puts "sid": "S" in the id_tokens
                                      from now on (null: none, the default)
  --key-file FILE                     the signing key of --alg: a private JWK (JSON) the
                                      caller made, so that it can sign tokens of its own
                                      (back-channel logout tokens) with the published key

With no mode everything is correct.  Each mode breaks one thing:
  id_token:  wrong_iss wrong_aud missing_aud multi_aud_no_azp multi_aud_azp wrong_azp
             wrong_nonce missing_nonce missing_sub missing_iat old_iat future_iat iat_ahead_30
             expired
             missing_exp alg_none bad_sig hs256 hs256_bad_sig unknown_kid kid_absent_single
             kid_absent_multi rotate_key wrong_at_hash no_at_hash other_alg
  token:     token_not_json token_500 token_400 token_no_id_token token_type_mac
             token_error_200 token_form_encoded
  userinfo:  userinfo_sub_mismatch userinfo_not_json userinfo_500 userinfo_no_sub
  discovery: discovery_issuer_mismatch discovery_issuer_slash no_iss_param_supported
             discovery_not_json discovery_http_endpoint
  authorize: iss_param_mismatch iss_param_missing error_response duplicate_state
             duplicate_code duplicate_iss
  hanging:   hang_token hang_userinfo hang_jwks hang_discovery (sleep --hang-seconds)
  provider:  github (no id_token; /user numeric id; /user/emails), github_no_verified_email
  kakao:     kakao (Kakao-like: discovery as kauth.kakao.com publishes it -- client_secret_post
             only, no email_verified among claims_supported, no end_session_endpoint; an
             id_token without email_verified; GET /v2/user/me in the REST shape {"id": <numeric
             sub>, "kakao_account": {"email", "is_email_valid", "is_email_verified", "profile"}};
             GET /oauth/logout?client_id&logout_redirect_uri&state -> 302 back with state)
             kakao_no_secret (the token endpoint takes client_id alone, as a Kakao app without
             a client secret does) kakao_email_invalid kakao_email_unverified
             kakao_profile_other (/v2/user/me about another account)
  naver:     naver (Naver-like: /oauth2.0/authorize, /oauth2.0/token answering expires_in as
             the string "3600" and no id_token, requiring the authorization request's state;
             GET /v1/nid/me {"resultcode": "00", "message": "success", "response": {...}})
             naver_bad_resultcode (/v1/nid/me answers 200 with resultcode "024")
             naver_expires_in_bad (expires_in "3600s")
  claims:    google_legacy_iss (id_token iss "accounts.google.com", no https)
             string_booleans (email_verified "true", a string, in id_token and userinfo)
             no_email_verified (no email_verified member at all)
             email_unverified (email_verified false in id_token and userinfo)
             hd (Google Workspace "hd": "example.org" in id_token and userinfo)
  step-up:   missing_auth_time, old_auth_time (an hour ago); acr: the id_token's acr is
             the first of the request's acr_values (none without them), or "weak" with
             wrong_acr; amr is ["pwd"] (["pwd","otp"] when acr_values were asked)
Prints "READY {json}" on stdout when listening; SIGTERM stops it.
"""
import argparse
import base64
import hashlib
import json
import secrets
import signal
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from jwcrypto import jwk, jws
from jwcrypto.common import json_encode

MODES = set("""
wrong_iss wrong_aud missing_aud multi_aud_no_azp multi_aud_azp wrong_azp wrong_nonce
missing_nonce missing_sub missing_iat old_iat future_iat iat_ahead_30 expired missing_exp alg_none
bad_sig
hs256 hs256_bad_sig unknown_kid kid_absent_single kid_absent_multi rotate_key wrong_at_hash
no_at_hash other_alg token_not_json token_500 token_400 token_no_id_token token_type_mac
token_error_200 token_form_encoded userinfo_sub_mismatch userinfo_not_json userinfo_500
userinfo_no_sub discovery_issuer_mismatch discovery_issuer_slash no_iss_param_supported
discovery_not_json discovery_http_endpoint iss_param_mismatch iss_param_missing error_response
duplicate_state duplicate_code duplicate_iss hang_token hang_userinfo hang_jwks hang_discovery
github github_no_verified_email
google_legacy_iss email_unverified hd
missing_auth_time old_auth_time wrong_acr
kakao kakao_no_secret kakao_email_invalid kakao_email_unverified kakao_profile_other
naver naver_bad_resultcode naver_expires_in_bad string_booleans no_email_verified
""".split())

USER = {"email": "alice@example.com", "email_verified": True, "name": "Alice Example",
        "preferred_username": "alice", "groups": ["ops", "dev"]}


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def s256(verifier):
    return b64url(hashlib.sha256(verifier.encode()).digest())


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.modes = set(args.mode or [])
        self.log = []
        self.codes = {}      # code -> authorize request
        self.tokens = {}     # access token -> sub
        self.stop = threading.Event()
        gen = {"RS256": lambda kid: jwk.JWK.generate(kty="RSA", size=2048, kid=kid, alg="RS256",
                                                     use="sig"),
               "ES256": lambda kid: jwk.JWK.generate(kty="EC", crv="P-256", kid=kid, alg="ES256",
                                                     use="sig")}
        self.primary = {a: gen[a](a.lower() + "-1") for a in gen}
        if args.key_file:
            with open(args.key_file) as f:
                self.primary[args.alg] = jwk.JWK.from_json(f.read())
        self.sid = None
        self.secondary = {a: gen[a](a.lower() + "-2") for a in gen}   # published on rotation
        self.unpublished = {a: gen[a]("unknown-kid") for a in gen}   # never published

    def has(self, mode):
        with self.lock:
            return mode in self.modes


def public(key, drop_kid=False):
    d = json.loads(key.export_public())
    if drop_kid:
        d.pop("kid", None)
    return d


class Handler(BaseHTTPRequestHandler):
    server_version = "bad-idp/1"
    protocol_version = "HTTP/1.1"

    # ---- plumbing ----------------------------------------------------------------------
    def log_message(self, fmt, *a):  # quiet
        pass

    @property
    def st(self):
        return self.server.state

    def issuer(self):
        return self.st.args.issuer

    def record(self, extra=None):
        e = {"method": self.command, "path": urllib.parse.urlsplit(self.path).path,
             "time": time.time()}
        if extra:
            e.update(extra)
        with self.st.lock:
            self.st.log.append(e)

    def send(self, status, body, ctype="application/json", headers=None):
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def hang(self):
        self.st.stop.wait(self.st.args.hang_seconds)

    def form(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n).decode() if n else ""
        return urllib.parse.parse_qs(raw, keep_blank_values=True)

    # ---- routes -------------------------------------------------------------------------
    def do_GET(self):
        path = urllib.parse.urlsplit(self.path).path
        route = {"/.well-known/openid-configuration": self.discovery, "/jwks": self.jwks,
                 "/authorize": self.authorize, "/userinfo": self.userinfo, "/user": self.gh_user,
                 "/user/emails": self.gh_emails, "/_control": self.control_get,
                 "/oauth2.0/authorize": self.authorize, "/v1/nid/me": self.naver_me,
                 "/v2/user/me": self.kakao_me, "/oauth/logout": self.kakao_logout}.get(path)
        if route is None:
            self.record()
            return self.send(404, {"error": "not_found"})
        route()

    def do_POST(self):
        path = urllib.parse.urlsplit(self.path).path
        if path in ("/token", "/oauth2.0/token"):
            return self.token()
        if path == "/v2/user/me":
            return self.kakao_me()
        if path == "/_control":
            return self.control_post()
        self.record()
        self.send(404, {"error": "not_found"})

    def control_get(self):
        with self.st.lock:
            self.send(200, {"modes": sorted(self.st.modes), "log": self.st.log})

    def control_post(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(n) or b"{}")
        with self.st.lock:
            if "modes" in body:
                bad = [m for m in body["modes"] if m not in MODES]
                if bad:
                    return self.send(400, {"error": "unknown modes", "modes": bad})
                self.st.modes = set(body["modes"])
            if body.get("clear_log"):
                self.st.log = []
            if "sid" in body:
                self.st.sid = body["sid"]
            self.send(200, {"modes": sorted(self.st.modes)})

    def discovery(self):
        self.record()
        if self.st.has("hang_discovery"):
            self.hang()
        iss = self.issuer()
        if self.st.has("discovery_not_json"):
            return self.send(200, "<html>not json</html>", "text/html")
        doc = {
            "issuer": iss,
            "authorization_endpoint": iss + "/authorize",
            "token_endpoint": iss + "/token",
            "userinfo_endpoint": iss + "/userinfo",
            "jwks_uri": iss + "/jwks",
            "end_session_endpoint": iss + "/logout",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256", "ES256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic",
                                                      "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "authorization_response_iss_parameter_supported":
                not self.st.has("no_iss_param_supported"),
        }
        if self.st.has("discovery_issuer_mismatch"):
            doc["issuer"] = "http://evil.example"
        if self.st.has("discovery_issuer_slash"):
            doc["issuer"] = iss + "/"
        if self.st.has("discovery_http_endpoint"):
            doc["token_endpoint"] = "http://idp.example/token"
        if self.st.has("kakao"):
            # https://kauth.kakao.com/.well-known/openid-configuration, with our host
            doc = {"issuer": iss, "authorization_endpoint": iss + "/authorize",
                   "token_endpoint": iss + "/token", "userinfo_endpoint": iss + "/userinfo",
                   "jwks_uri": iss + "/jwks",
                   "token_endpoint_auth_methods_supported": ["client_secret_post"],
                   "subject_types_supported": ["public"],
                   "id_token_signing_alg_values_supported": ["RS256"],
                   "request_uri_parameter_supported": False,
                   "response_types_supported": ["code"], "response_modes_supported": ["query"],
                   "grant_types_supported": ["authorization_code", "refresh_token"],
                   "code_challenge_methods_supported": ["S256"],
                   "claims_supported": ["iss", "aud", "sub", "auth_time", "exp", "iat", "nonce",
                                        "nickname", "picture", "email"]}
        self.send(200, doc)

    def jwks(self):
        self.record()
        if self.st.has("hang_jwks"):
            self.hang()
        st = self.st
        if st.has("kid_absent_single"):
            keys = [public(st.primary[st.args.alg], drop_kid=True)]
        elif st.has("kid_absent_multi"):
            keys = [public(st.secondary[st.args.alg], drop_kid=True),
                    public(st.primary[st.args.alg], drop_kid=True)]
        else:
            keys = [public(st.primary["RS256"]), public(st.primary["ES256"])]
            if st.has("rotate_key"):
                keys.append(public(st.secondary[st.args.alg]))
        self.send(200, {"keys": keys})

    def authorize(self):
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        one = {k: v[0] for k, v in q.items()}
        self.record({"query": one})
        redirect = one.get("redirect_uri", "")
        state = one.get("state", "")
        if not redirect:
            return self.send(400, {"error": "invalid_request"})
        if self.st.has("error_response"):
            params = [("error", "access_denied"),
                      ("error_description", "<script>alert(1)</script>"),
                      ("error_uri", "https://evil.example/"), ("state", state)]
        else:
            code = secrets.token_urlsafe(24)
            with self.st.lock:
                self.st.codes[code] = one
            params = [("code", code), ("state", state)]
            if self.st.has("duplicate_state"):
                params.append(("state", "attacker-state"))
            if self.st.has("duplicate_code"):
                params.append(("code", "attacker-code"))
        iss = self.issuer()
        if self.st.has("iss_param_mismatch"):
            iss = "http://evil.example"
        if not (self.st.has("iss_param_missing") or self.st.has("no_iss_param_supported")
                or self.st.has("naver")):  # Naver is no OpenID provider: no RFC 9207 iss
            params.append(("iss", iss))
            if self.st.has("duplicate_iss"):
                params.append(("iss", iss))
        sep = "&" if "?" in redirect else "?"
        self.send(302, "", "text/plain",
                  {"Location": redirect + sep + urllib.parse.urlencode(params)})

    def client_auth(self, form):
        """(client_id, method) when the client authenticated, else None."""
        a = self.st.args
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            try:
                cid, sec = base64.b64decode(auth[6:]).decode().split(":", 1)
            except Exception:
                return None
            cid, sec = urllib.parse.unquote_plus(cid), urllib.parse.unquote_plus(sec)
            ok = cid == a.client_id and sec == a.client_secret
            return (cid, "client_secret_basic") if ok else None
        cid = form.get("client_id", [""])[0]
        sec = form.get("client_secret", [""])[0]
        if cid == a.client_id and sec == a.client_secret:
            return (cid, "client_secret_post")
        if (self.st.has("kakao_no_secret") and cid == a.client_id
                and "client_secret" not in form):
            return (cid, "client_id_only")
        return None

    def token(self):
        form = self.form()
        dup = [k for k, v in form.items() if len(v) > 1]
        f = {k: v[0] for k, v in form.items()}
        auth = self.client_auth(form)
        self.record({"form_keys": sorted(f), "client_auth": auth and auth[1],
                     "code": f.get("code"), "code_verifier": f.get("code_verifier")})
        st = self.st
        if st.has("hang_token"):
            self.hang()
        if st.has("token_500"):
            return self.send(500, {"error": "server_error"})
        if st.has("token_400"):
            return self.send(400, {"error": "invalid_grant"})
        if st.has("token_not_json"):
            return self.send(200, "<html>hello</html>", "text/html")
        if st.has("token_error_200"):
            return self.send(200, {"error": "bad_verification_code"})
        if dup or auth is None:
            return self.send(401, {"error": "invalid_client"})
        with st.lock:
            req = st.codes.pop(f.get("code", ""), None)
        if (f.get("grant_type") != "authorization_code" or req is None
                or f.get("redirect_uri") != req.get("redirect_uri")
                or req.get("code_challenge_method") != "S256"
                or s256(f.get("code_verifier", "")) != req.get("code_challenge")):
            return self.send(400, {"error": "invalid_grant"})
        if st.has("naver") and f.get("state") != req.get("state"):
            # Naver's token request names the authorization request's state
            return self.send(200, {"error": "invalid_request",
                                   "error_description": "state mismatch"})
        at = secrets.token_urlsafe(32)
        sub = st.args.sub
        with st.lock:
            st.tokens[at] = sub
        resp = {"access_token": at, "token_type": "Bearer", "expires_in": 300}
        if st.has("token_type_mac"):
            resp["token_type"] = "mac"
        if st.has("github"):
            resp = {"access_token": at, "token_type": "bearer", "scope": "read:user,user:email"}
        elif st.has("naver"):
            resp = {"access_token": at, "refresh_token": secrets.token_urlsafe(16),
                    "token_type": "bearer",
                    "expires_in": "3600s" if st.has("naver_expires_in_bad") else "3600"}
        elif not st.has("token_no_id_token"):
            resp["id_token"] = self.id_token(req, at)
        if st.has("token_form_encoded"):
            return self.send(200, urllib.parse.urlencode(resp), "application/x-www-form-urlencoded")
        self.send(200, resp)

    def id_token(self, req, at):
        st, a = self.st, self.st.args
        now = int(time.time())
        alg = a.alg
        if st.has("other_alg"):
            alg = "ES256" if alg == "RS256" else "RS256"
        c = {"iss": self.issuer(), "sub": a.sub, "aud": a.client_id, "exp": now + 300,
             "iat": now, "auth_time": now, "nonce": req.get("nonce"), **USER}
        h = hashlib.sha256(at.encode()).digest()
        c["at_hash"] = b64url(h[:16])
        edits = {
            "wrong_iss": lambda: c.update(iss="http://evil.example"),
            "wrong_aud": lambda: c.update(aud="someone-else"),
            "missing_aud": lambda: c.pop("aud"),
            "multi_aud_no_azp": lambda: c.update(aud=[a.client_id, "someone-else"]),
            "multi_aud_azp": lambda: c.update(aud=[a.client_id, "someone-else"],
                                              azp=a.client_id),
            "wrong_azp": lambda: c.update(azp="someone-else"),
            "wrong_nonce": lambda: c.update(nonce="not-the-nonce"),
            "missing_nonce": lambda: c.pop("nonce"),
            "missing_sub": lambda: c.pop("sub"),
            "missing_iat": lambda: c.pop("iat"),
            "old_iat": lambda: c.update(iat=now - 86400),
            "future_iat": lambda: c.update(iat=now + 3600),
            # an IdP clock 30 s ahead: inside the default leeway (60 s), outside a smaller one
            "iat_ahead_30": lambda: c.update(iat=now + 30, auth_time=now + 30),
            "expired": lambda: c.update(exp=now - 3600, iat=now - 3900),
            "missing_exp": lambda: c.pop("exp"),
            "wrong_at_hash": lambda: c.update(at_hash=b64url(b"\0" * 16)),
            "no_at_hash": lambda: c.pop("at_hash"),
            "google_legacy_iss": lambda: c.update(iss="accounts.google.com"),
            "missing_auth_time": lambda: c.pop("auth_time"),
            "old_auth_time": lambda: c.update(auth_time=now - 3600),
            "wrong_acr": lambda: c.update(acr="weak"),
        }
        acr_values = (req.get("acr_values") or "").split()
        c["amr"] = ["pwd"]
        if acr_values:
            c["acr"] = acr_values[0]
            c["amr"] = ["pwd", "otp"]
        if st.sid is not None:
            c["sid"] = st.sid
        c.update(self.claim_edits())
        self.drop_email_verified(c)
        if st.has("kakao"):
            # Kakao's id_token: nickname, picture, email; no email_verified, no groups
            c = {k: v for k, v in c.items() if k not in ("email_verified", "groups", "name",
                                                         "preferred_username")}
            c.update(nickname="Kay", picture="https://k.kakaocdn.net/p.jpg")
        for mode, edit in edits.items():
            if st.has(mode):
                edit()
        payload = json_encode(c)
        if st.has("alg_none"):
            return b64url(b'{"alg":"none"}') + "." + b64url(payload.encode()) + "."
        if st.has("hs256") or st.has("hs256_bad_sig"):
            key = jwk.JWK(kty="oct", k=b64url(a.client_secret.encode()))
            header = {"alg": "HS256", "typ": "JWT"}
        else:
            if st.has("unknown_kid"):
                key = st.unpublished[alg]
            elif st.has("rotate_key"):
                key = st.secondary[alg]
            else:
                key = st.primary[alg]
            header = {"alg": alg, "typ": "JWT"}
            if not (st.has("kid_absent_single") or st.has("kid_absent_multi")):
                header["kid"] = key.get("kid")
        s = jws.JWS(payload.encode())
        s.add_signature(key, alg=header["alg"], protected=json_encode(header))
        tok = s.serialize(compact=True)
        if st.has("bad_sig") or st.has("hs256_bad_sig"):
            head, body, sig = tok.split(".")
            raw = bytearray(base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4)))
            raw[len(raw) // 2] ^= 0x01
            tok = ".".join([head, body, b64url(bytes(raw))])
        return tok

    def claim_edits(self):
        """Claims changed by the 'claims' modes (id_token and userinfo alike)."""
        out = {}
        if self.st.has("email_unverified"):
            out["email_verified"] = False
        if self.st.has("hd"):
            out["hd"] = "example.org"
        if self.st.has("string_booleans"):
            out["email_verified"] = "true"
        return out

    def drop_email_verified(self, d):
        if self.st.has("no_email_verified"):
            d.pop("email_verified", None)
        return d

    def bearer_sub(self):
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return None
        with self.st.lock:
            return self.st.tokens.get(auth[7:])

    def userinfo(self):
        self.record()
        st = self.st
        if st.has("hang_userinfo"):
            self.hang()
        sub = self.bearer_sub()
        if sub is None:
            return self.send(401, {"error": "invalid_token"},
                             headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        if st.has("userinfo_500"):
            return self.send(500, {"error": "server_error"})
        if st.has("userinfo_not_json"):
            return self.send(200, "<html>hi</html>", "text/html")
        body = self.drop_email_verified({"sub": sub, **USER, **self.claim_edits()})
        if st.has("userinfo_sub_mismatch"):
            body["sub"] = "mallory"
        if st.has("userinfo_no_sub"):
            body.pop("sub")
        self.send(200, body)

    def kakao_me(self):
        """Kakao's REST profile (GET or POST /v2/user/me)."""
        self.record()
        sub = self.bearer_sub()
        if sub is None:
            return self.send(401, {"msg": "this access token does not exist", "code": -401})
        # Kakao ids are numbers; a non-numeric --sub gets an id that matches nothing
        uid = (int(sub) if sub.isdigit() else 1) + (1 if self.st.has("kakao_profile_other") else 0)
        self.send(200, {
            "id": uid, "connected_at": "2026-12-01T00:00:00Z",
            "properties": {"nickname": "Kay"},
            "kakao_account": {
                "profile_nickname_needs_agreement": False,
                "profile": {"nickname": "Kay", "profile_image_url": "https://k.kakaocdn.net/p.jpg",
                            "is_default_image": False},
                "has_email": True, "email_needs_agreement": False,
                "is_email_valid": not self.st.has("kakao_email_invalid"),
                "is_email_verified": not self.st.has("kakao_email_unverified"),
                "email": "kay@kakao.example"}})

    def kakao_logout(self):
        """Kakao logout: back to logout_redirect_uri with the state."""
        q = {k: v[0] for k, v in urllib.parse.parse_qs(
            urllib.parse.urlsplit(self.path).query).items()}
        self.record({"query": q})
        if q.get("client_id") != self.st.args.client_id or not q.get("logout_redirect_uri"):
            return self.send(400, {"error": "invalid_request"})
        url = q["logout_redirect_uri"]
        if q.get("state"):
            url += ("&" if "?" in url else "?") + urllib.parse.urlencode({"state": q["state"]})
        self.send(302, "", "text/plain", {"Location": url})

    def naver_me(self):
        """Naver's profile API."""
        self.record()
        sub = self.bearer_sub()
        if sub is None:
            return self.send(401, {"resultcode": "024", "message": "Authentication failed"})
        if self.st.has("naver_bad_resultcode"):
            return self.send(200, {"resultcode": "024", "message": "Authentication failed"})
        self.send(200, {"resultcode": "00", "message": "success",
                        "response": {"id": sub, "nickname": "nav", "name": "Naver User",
                                     "email": "nav@naver.example",
                                     "profile_image": "https://phinf.example/p.png",
                                     "mobile": "010-0000-0000"}})

    def gh_user(self):
        self.record()
        if self.bearer_sub() is None:
            return self.send(401, {"message": "Bad credentials"})
        self.send(200, {"id": 583231, "login": "octocat", "name": "The Octocat",
                        "email": "public-unverified@example.com"})

    def gh_emails(self):
        self.record()
        if self.bearer_sub() is None:
            return self.send(401, {"message": "Bad credentials"})
        emails = [{"email": "unverified@example.com", "verified": False, "primary": True},
                  {"email": "old@example.com", "verified": True, "primary": False}]
        if not self.st.has("github_no_verified_email"):
            emails = [{"email": "unverified@example.com", "verified": False, "primary": False},
                      {"email": "old@example.com", "verified": True, "primary": False},
                      {"email": "octocat@example.com", "verified": True, "primary": True}]
        self.send(200, emails)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--alg", choices=["RS256", "ES256"], default="RS256")
    ap.add_argument("--mode", action="append", choices=sorted(MODES))
    ap.add_argument("--client-id", default="authflow-test")
    ap.add_argument("--client-secret", default="authflow-test-secret-0123456789abcdef")
    ap.add_argument("--issuer")
    ap.add_argument("--sub", default="alice")
    ap.add_argument("--hang-seconds", type=float, default=30.0)
    ap.add_argument("--key-file")
    args = ap.parse_args(argv)
    args.issuer = args.issuer or "http://127.0.0.1:%d" % args.port

    srv = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    srv.daemon_threads = True
    srv.state = State(args)

    def stop(*_):
        srv.state.stop.set()
        threading.Thread(target=srv.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("READY " + json.dumps({"issuer": args.issuer, "port": args.port,
                                 "pid": __import__("os").getpid()}), flush=True)
    srv.serve_forever()
    srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
