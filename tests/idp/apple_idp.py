#!/usr/bin/python3
"""An Apple-shaped OpenID provider for the Sign in with Apple tests: the project's misbehaving
IdP (bad_idp.py) with Apple's documented quirks.

    /usr/bin/python3 tests/idp/apple_idp.py --port N --team-id T --key-id K
        --secret-public-key PEM [--client-id ID] [--issuer URL] [--sub SUB] [--mode MODE]...

As Apple (developer.apple.com, "Sign in with Apple REST API"):
  /.well-known/openid-configuration   issuer, /auth/authorize, /auth/token, /auth/keys; no
                                      userinfo, no end_session; response_modes query,
                                      fragment, form_post; client_secret_post only; RS256
  /auth/authorize                     needs response_mode=form_post when name/email is asked
                                      for; answers with an auto-submitting HTML form that
                                      POSTs code, state and, at the first consent of a
                                      subject, "user" (JSON: name.firstName/lastName, email)
                                      to redirect_uri
  /auth/token                         client_secret_post whose client_secret is an ES256 JWT:
                                      VERIFIED with the public half of the .p8 (header alg
                                      ES256, kid = KeyID; iss = TeamID, sub = client_id,
                                      aud = https://appleid.apple.com, iat <= now, exp > now,
                                      exp - iat <= 15777000); a wrong one gets
                                      400 {"error": "invalid_client"}; then code, PKCE and
                                      redirect_uri as bad_idp.py
  id_token                            email_verified and is_private_email as the STRINGS
                                      "true" / "false", no name claims, nonce_supported
  /_sign                              POST {"claims": {...}, "key": "primary"|"unpublished",
                                      "alg": "RS256"|"HS256"} -> {"jws": ...}: jwcrypto signs
                                      test notifications with this IdP's keys (never the module)
Modes (besides bad_idp.py's): apple_user_always (the user field on every authorization),
apple_user_evil (its email and a name that try to become the identity), apple_user_bad (not
JSON), apple_email_unverified ("false"), apple_cancel (error=user_cancelled_authorize).
"""
import argparse
import html
import json
import os
import secrets
import signal
import sys
import threading
import time
import urllib.parse
from http.server import ThreadingHTTPServer

from jwcrypto import jwk, jws, jwt
from jwcrypto.common import json_encode

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bad_idp  # noqa: E402

APPLE_AUD = "https://appleid.apple.com"
SIX_MONTHS = 15777000
bad_idp.MODES |= {"apple_user_always", "apple_user_evil", "apple_user_bad",
                  "apple_email_unverified", "apple_cancel"}


class AppleHandler(bad_idp.Handler):
    server_version = "apple-idp/1"

    def do_GET(self):
        path = urllib.parse.urlsplit(self.path).path
        route = {"/.well-known/openid-configuration": self.discovery, "/auth/keys": self.jwks,
                 "/auth/authorize": self.authorize, "/_control": self.control_get}.get(path)
        if route is None:
            self.record()
            return self.send(404, {"error": "not_found"})
        route()

    def do_POST(self):
        path = urllib.parse.urlsplit(self.path).path
        if path == "/auth/token":
            return self.token()
        if path == "/_control":
            return self.control_post()
        if path == "/_sign":
            return self.sign()
        self.record()
        self.send(404, {"error": "not_found"})

    def discovery(self):
        self.record()
        iss = self.issuer()
        self.send(200, {
            "issuer": iss,
            "authorization_endpoint": iss + "/auth/authorize",
            "token_endpoint": iss + "/auth/token",
            "revocation_endpoint": iss + "/auth/revoke",
            "jwks_uri": iss + "/auth/keys",
            "response_types_supported": ["code"],
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "name"],
            "token_endpoint_auth_methods_supported": ["client_secret_post"],
            "claims_supported": ["aud", "email", "email_verified", "exp", "iat",
                                 "is_private_email", "iss", "nonce", "nonce_supported",
                                 "real_user_status", "sub", "transfer_sub"],
        })

    def jwks(self):
        self.record()
        st = self.st
        keys = [bad_idp.public(st.primary["RS256"])]
        if st.has("rotate_key"):
            keys.append(bad_idp.public(st.secondary["RS256"]))
        self.send(200, {"keys": keys})

    def authorize(self):
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        one = {k: v[0] for k, v in q.items()}
        self.record({"query": one})
        redirect = one.get("redirect_uri", "")
        scopes = one.get("scope", "").split()
        if not redirect or one.get("client_id") != self.st.args.client_id:
            return self.send(400, {"error": "invalid_request"})
        if ("name" in scopes or "email" in scopes) and one.get("response_mode") != "form_post":
            # Apple: "response_mode must be form_post when name or email scope is requested"
            return self.send(400, {"error": "invalid_request"})
        fields = [("state", one.get("state", ""))]
        if self.st.has("apple_cancel"):
            fields.append(("error", "user_cancelled_authorize"))
        else:
            code = secrets.token_urlsafe(24)
            with self.st.lock:
                self.st.codes[code] = one
                first = self.st.args.sub not in self.st.consented
                self.st.consented.add(self.st.args.sub)
            fields.insert(0, ("code", code))
            if first or self.st.has("apple_user_always") or self.st.has("apple_user_evil") \
                    or self.st.has("apple_user_bad"):
                fields.append(("user", self.user_field()))
        inputs = "".join('<input type="hidden" name="%s" value="%s">' %
                         (html.escape(k), html.escape(v)) for k, v in fields)
        page = ('<!DOCTYPE html><html><head><title>Apple</title></head><body>'
                '<form id="f" method="post" action="%s">%s'
                '<button type="submit">Continue</button></form>'
                '<script>document.getElementById("f").submit()</script></body></html>'
                % (html.escape(redirect), inputs))
        self.send(200, page, "text/html; charset=utf-8")

    def user_field(self):
        if self.st.has("apple_user_bad"):
            return '{"name": {"firstName": "Al'
        if self.st.has("apple_user_evil"):
            return json.dumps({"name": {"firstName": "Mallory", "lastName": "Evil"},
                               "email": "admin@example.com", "sub": "admin"})
        return json.dumps({"name": {"firstName": "Alice", "lastName": "Apple"},
                           "email": "alice@privaterelay.appleid.com"})

    def form(self):
        if not hasattr(self, "_form"):
            self._form = super().form()
        return self._form

    def check_secret(self, secret):
        """None when the client secret JWT is right, else why not."""
        a = self.st.args
        try:
            tok = jwt.JWT(jwt=secret, key=self.server.secret_key, algs=["ES256"],
                          check_claims={})
        except Exception as e:  # bad signature, bad format, wrong alg
            return "signature: %s" % type(e).__name__
        hdr = json.loads(tok.header)
        c = json.loads(tok.claims)
        now = int(time.time())
        if hdr.get("alg") != "ES256" or hdr.get("kid") != a.key_id:
            return "header"
        if c.get("iss") != a.team_id:
            return "iss"
        if c.get("sub") != a.client_id:
            return "sub"
        if c.get("aud") != APPLE_AUD:
            return "aud"
        iat, exp = c.get("iat"), c.get("exp")
        if not isinstance(iat, int) or not isinstance(exp, int):
            return "times"
        if iat > now + 60 or exp <= now or exp - iat > SIX_MONTHS:
            return "lifetime"
        return None

    def client_auth(self, form):
        a = self.st.args
        if self.headers.get("Authorization"):
            self.verdict = "basic auth is not Apple's"
            return None
        cid = form.get("client_id", [""])[0]
        sec = form.get("client_secret", [""])[0]
        if cid != a.client_id:
            self.verdict = "client_id"
            return None
        self.verdict = self.check_secret(sec)
        if self.verdict is not None:
            return None
        with self.st.lock:
            self.st.secrets.append(sec)
        return (cid, "client_secret_post")

    def token(self):
        form = self.form()
        auth = self.client_auth(form)
        self.record({"secret_verdict": self.verdict or "ok"})
        if auth is None:
            return self.send(400, {"error": "invalid_client"})
        # code, PKCE, redirect_uri exactly as bad_idp; client auth already checked
        self.client_auth = lambda f: auth
        super().token()

    def id_token(self, req, at):
        st, a = self.st, self.st.args
        now = int(time.time())
        verified = "false" if st.has("apple_email_unverified") else "true"
        c = {"iss": self.issuer(), "aud": a.client_id, "exp": now + 600, "iat": now,
             "sub": a.sub, "nonce": req.get("nonce"), "nonce_supported": True,
             "email": "alice@privaterelay.appleid.com", "email_verified": verified,
             "is_private_email": "true", "auth_time": now, "real_user_status": 2}
        key = st.primary["RS256"]
        s = jws.JWS(json_encode(c).encode())
        s.add_signature(key, alg="RS256",
                        protected=json_encode({"alg": "RS256", "kid": key.get("kid")}))
        return s.serialize(compact=True)

    def sign(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(n) or b"{}")
        alg = body.get("alg", "RS256")
        if alg == "HS256":
            key = jwk.JWK(kty="oct", k=bad_idp.b64url(self.st.args.client_secret.encode()))
            header = {"alg": "HS256"}
        else:
            key = (self.st.unpublished if body.get("key") == "unpublished"
                   else self.st.primary)["RS256"]
            header = {"alg": "RS256", "kid": key.get("kid")}
        s = jws.JWS(json_encode(body["claims"]).encode())
        s.add_signature(key, alg=header["alg"], protected=json_encode(header))
        self.send(200, {"jws": s.serialize(compact=True)})


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--alg", default="RS256")
    ap.add_argument("--mode", action="append", choices=sorted(bad_idp.MODES))
    ap.add_argument("--client-id", default="com.example.authflow")
    ap.add_argument("--client-secret", default="unused-by-apple-0123456789abcdef")
    ap.add_argument("--issuer")
    ap.add_argument("--sub", default="001234.abcdef0123456789.0042")
    ap.add_argument("--hang-seconds", type=float, default=30.0)
    ap.add_argument("--key-file")  # bad_idp's: the RS256 signing key as a private JWK
    ap.add_argument("--team-id", required=True)
    ap.add_argument("--key-id", required=True)
    ap.add_argument("--secret-public-key", required=True)
    args = ap.parse_args(argv)
    args.issuer = args.issuer or "http://127.0.0.1:%d" % args.port

    srv = ThreadingHTTPServer(("127.0.0.1", args.port), AppleHandler)
    srv.daemon_threads = True
    srv.state = bad_idp.State(args)
    srv.state.consented = set()
    srv.state.secrets = []
    with open(args.secret_public_key, "rb") as f:
        srv.secret_key = jwk.JWK.from_pem(f.read())

    def stop(*_):
        srv.state.stop.set()
        threading.Thread(target=srv.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("READY " + json.dumps({"issuer": args.issuer, "port": args.port,
                                 "pid": os.getpid()}), flush=True)
    srv.serve_forever()
    srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
