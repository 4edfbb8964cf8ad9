"""Start/stop the test identity providers and walk a login without a browser.

Used by tests/idp/test_*.py and, later, by tests/integration (import this module):

    with OidcProvider(alg="ES256", redirect_uris=[...]) as idp:
        idp.issuer, idp.port ...
    code_url = walk_login(session, authorize_url, username="alice")

Every server is started on 127.0.0.1 on a free port and stopped by its pid.
"""
import html.parser
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))

BASIC_CLIENT = ("authflow-basic", "authflow-basic-secret-0123456789abcdef")
POST_CLIENT = ("authflow-post", "authflow-post-secret-0123456789abcdefgh")


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_ready(proc, marker, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            if proc.poll() is not None:
                raise RuntimeError("server exited with %s: %s" % (proc.returncode, proc.stderr.read()))
            continue
        if line.startswith(marker):
            return json.loads(line[len(marker):].strip() or "{}")
    raise RuntimeError("server did not become ready in %ss" % timeout)


class _Server:
    """A child process stopped by its own pid (SIGTERM, then SIGKILL)."""

    proc = None

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        for f in (self.proc.stdout, self.proc.stderr):
            if f:
                f.close()
        self.proc = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class OidcProvider(_Server):
    """node tests/idp/provider.js (oidc-provider) on 127.0.0.1."""

    def __init__(self, port=None, issuer=None, alg="RS256", redirect_uris=None, clients=None,
                 always_refresh=False, post_logout_redirect_uris=None, node="node",
                 backchannel_logout_uri=None):
        self.port = port or free_port()
        cmd = [node, os.path.join(HERE, "provider.js"), "--port", str(self.port), "--alg", alg]
        if issuer:
            cmd += ["--issuer", issuer]
        for r in redirect_uris or []:
            cmd += ["--redirect-uri", r]
        for r in post_logout_redirect_uris or []:
            cmd += ["--post-logout-redirect-uri", r]
        if clients:
            cmd += ["--clients", clients]
        if always_refresh:
            cmd.append("--always-refresh")
        if backchannel_logout_uri:
            cmd += ["--backchannel-logout-uri", backchannel_logout_uri]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            info = _wait_ready(self.proc, "READY ", 30)
        except Exception:
            self.stop()
            raise
        self.issuer = info["issuer"]
        self.pid = info["pid"]
        self.kid = info.get("kid")


class BadIdp(_Server):
    """tests/idp/bad_idp.py on 127.0.0.1; modes set by CLI or set_mode()."""

    def __init__(self, port=None, modes=(), alg="RS256", client_id="authflow-test",
                 client_secret="authflow-test-secret-0123456789abcdef", python=sys.executable):
        self.port = port or free_port()
        cmd = [python, os.path.join(HERE, "bad_idp.py"), "--port", str(self.port), "--alg", alg,
               "--client-id", client_id, "--client-secret", client_secret]
        for m in modes:
            cmd += ["--mode", m]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            info = _wait_ready(self.proc, "READY ", 30)
        except Exception:
            self.stop()
            raise
        self.issuer = info["issuer"]
        self.pid = info["pid"]

    def set_mode(self, *modes):
        import requests
        r = requests.post(self.issuer + "/_control", json={"modes": list(modes)}, timeout=5)
        r.raise_for_status()
        return r.json()

    def log(self):
        import requests
        return requests.get(self.issuer + "/_control", timeout=5).json()


class _FormParser(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action", ""), "method": a.get("method", "get"),
                               "fields": {}})
        elif tag in ("input", "button") and self.forms and a.get("name"):
            if a.get("type") in ("submit",) and tag == "input":
                return
            self.forms[-1]["fields"].setdefault(a["name"], a.get("value", ""))


def walk_login(session, authorize_url, username="alice", password="x", max_steps=12):
    """Follow the IdP's redirects, fill the dev login and consent forms, and return the final
    redirect URL (to the client's redirect_uri, carrying code/state/iss or an error)."""
    idp = urllib.parse.urlsplit(authorize_url)
    url = authorize_url
    for _ in range(max_steps):
        r = session.get(url, allow_redirects=False, timeout=10)
        if r.status_code in (301, 302, 303, 307, 308):
            nxt = urllib.parse.urljoin(url, r.headers["Location"])
            if urllib.parse.urlsplit(nxt).netloc != idp.netloc:
                return nxt
            url = nxt
            continue
        if r.status_code != 200:
            raise RuntimeError("IdP answered %s at %s: %s" % (r.status_code, url, r.text[:300]))
        p = _FormParser()
        p.feed(r.text)
        if not p.forms:
            raise RuntimeError("no form at %s" % url)
        form = p.forms[0]
        data = dict(form["fields"])
        if "login" in data:
            data["login"] = username
            data["password"] = password
        action = urllib.parse.urljoin(url, form["action"])
        r = session.post(action, data=data, allow_redirects=False, timeout=10)
        if r.status_code not in (302, 303):
            raise RuntimeError("form post to %s answered %s" % (action, r.status_code))
        nxt = urllib.parse.urljoin(action, r.headers["Location"])
        if urllib.parse.urlsplit(nxt).netloc != idp.netloc:
            return nxt
        url = nxt
    raise RuntimeError("login did not finish in %d steps" % max_steps)
