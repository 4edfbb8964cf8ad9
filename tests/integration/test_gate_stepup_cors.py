"""Issue 14 at the gate, real httpd: step-up answers (AuthFlowMaxAge, AuthFlowACR) for tokens
minted independently (jwcrypto); CORS preflights (AuthFlowPreflight pass|deny) with real
`Require authflow` rules and an echo backend that records what it got (H03: no claims, spoofed
headers stripped); a WebSocket echo through mod_proxy_wstunnel (`ProxyPass ws://`) behind the
gate -- a valid cookie upgrades (101) and the echo works, no cookie is a 401, never a 302.
"""
import base64
import hashlib
import os
import socket
import struct
import threading
import time
import urllib.parse

import pytest

import afharness
import sites
import tokens
from afharness import http
from conftest import start_server
from gatehelp import good_claims, spoof_variants

WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'


# -- a tiny WebSocket echo backend (RFC 6455, stdlib only) --------------------------------------
def _recv_exact(sock, n):
    buf = b''
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError('closed')
        buf += chunk
    return buf


def _recv_head(sock):
    buf = b''
    while b'\r\n\r\n' not in buf:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError('closed before the end of the head')
        buf += chunk
    head, _, rest = buf.partition(b'\r\n\r\n')
    return head.decode('latin-1'), rest


def read_frame(sock, pre=b''):
    """(opcode, payload) of one frame (unmasking when masked)."""
    data = pre

    def take(n):
        nonlocal data
        if len(data) < n:
            data += _recv_exact(sock, n - len(data))
        out, data = data[:n], data[n:]
        return out
    b1, b2 = take(2)
    n = b2 & 0x7f
    if n == 126:
        n = struct.unpack('!H', take(2))[0]
    elif n == 127:
        n = struct.unpack('!Q', take(8))[0]
    mask = take(4) if b2 & 0x80 else None
    payload = take(n)
    if mask:
        payload = bytes(c ^ mask[i % 4] for i, c in enumerate(payload))
    return b1 & 0x0f, payload


def frame(opcode, payload, masked):
    head = bytes([0x80 | opcode])
    n = len(payload)
    mbit = 0x80 if masked else 0
    if n < 126:
        head += bytes([mbit | n])
    else:
        head += bytes([mbit | 126]) + struct.pack('!H', n)
    if not masked:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(c ^ key[i % 4] for i, c in enumerate(payload))


class WsEcho:
    """Accepts WebSocket handshakes, records their heads, echoes text frames."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.heads = []
        self.stopped = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stopped:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        try:
            c.settimeout(10)
            head, _ = _recv_head(c)
            self.heads.append(head)
            key = ''
            for line in head.split('\r\n')[1:]:
                k, _, v = line.partition(':')
                if k.strip().lower() == 'sec-websocket-key':
                    key = v.strip()
            acc = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
            c.sendall(('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n'
                       'Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n' % acc).encode())
            while True:
                op, payload = read_frame(c)
                if op == 8:
                    c.sendall(frame(8, payload, False))
                    return
                if op == 1:
                    c.sendall(frame(1, b'echo:' + payload, False))
        except (OSError, ConnectionError):
            pass
        finally:
            c.close()

    def stop(self):
        self.stopped = True
        self.sock.close()


def ws_handshake(port, path, extra=()):
    """Open a WebSocket through httpd; returns (socket, status, head, leftover bytes)."""
    s = socket.create_connection(('127.0.0.1', port), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    lines = ['GET %s HTTP/1.1' % path, 'Host: 127.0.0.1:%d' % port, 'Upgrade: websocket',
             'Connection: Upgrade', 'Sec-WebSocket-Key: ' + key, 'Sec-WebSocket-Version: 13',
             'Origin: http://127.0.0.1:%d' % port]
    lines += ['%s: %s' % kv for kv in extra]
    s.sendall(('\r\n'.join(lines) + '\r\n\r\n').encode())
    head, rest = _recv_head(s)
    status = int(head.split(' ', 2)[1])
    if status == 101:
        want = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
        assert ('sec-websocket-accept: ' + want.lower()) in head.lower(), head
    return s, status, head, rest


# -- the site -----------------------------------------------------------------------------------
CORS_EXPORTS = '''
    AuthFlowExport header X-Auth-Email email
    RequestHeader set X-Env-Remote-User "%{REMOTE_USER}e"
    RequestHeader set X-Env-Sub "%{AUTHFLOW_SUB}e"'''


@pytest.fixture(scope='module')
def ws():
    w = WsEcho()
    yield w
    w.stop()


@pytest.fixture(scope='module')
def site(request, keys, echo, ws):
    more = '\n'.join([
        sites.protected('/cors', echo.url, CORS_EXPORTS,
                        require='Require authflow "email_verified"'),
        sites.protected('/corsclaim', echo.url, CORS_EXPORTS,
                        require='Require authflow-claim groups ops'),
        sites.protected('/corsdeny', echo.url, CORS_EXPORTS + '\n    AuthFlowPreflight deny',
                        require='Require authflow "email_verified"'),
        sites.protected('/corsip', echo.url, CORS_EXPORTS, require='''<RequireAll>
        Require authflow "email_verified"
        Require ip 10.9.9.9
    </RequireAll>'''),
        sites.protected('/fresh', echo.url, 'AuthFlowMaxAge 10m'),
        sites.protected('/freshapi', echo.url, 'AuthFlowMaxAge 10m\n    AuthFlowLogin /signin'),
        sites.protected('/gold', echo.url, 'AuthFlowACR gold silver'),
        sites.protected('/goldoff', echo.url, 'AuthFlowACR gold\n    AuthFlowMaxAge 60s'),
        '''<Location /goldoff/sub>
    AuthFlowACR off
    AuthFlowMaxAge off
</Location>''',
        '''<Location /ws>
    AuthType AuthFlow
    Require valid-user
    ProxyPass "ws://127.0.0.1:%d/ws"
</Location>
<Location /wsnav>
    AuthType AuthFlow
    AuthFlowUnauthenticated redirect
    Require valid-user
    ProxyPass "ws://127.0.0.1:%d/wsnav"
</Location>''' % (ws.port, ws.port)])
    srv = start_server(request, 'stepup-cors', sites.standard_site(keys, echo, more=more),
                       modules=afharness.DEFAULT_MODULES + ('proxy_wstunnel',))
    return srv


def tok(keys, srv, **extra):
    return tokens.mint(keys.ec256, good_claims(srv, email_verified=True, **extra))


PREFLIGHT = {'Origin': 'https://spa.example', 'Access-Control-Request-Method': 'POST',
             'Access-Control-Request-Headers': 'content-type', 'Sec-Fetch-Mode': 'cors'}
SPOOF = ['X-Auth-Email', 'X-Remote-User', 'AUTHFLOW_SUB', 'AuthFlow-Claim-Email']


def spoofed_headers():
    h = []
    for n in SPOOF:
        for v in spoof_variants(n):
            h.append((v, 'evil'))
    return h


# -- CORS preflight -----------------------------------------------------------------------------
@pytest.mark.parametrize('path', ['/cors', '/corsclaim'])
def test_H03_preflight_passes_unauthenticated_through_require_authflow(site, echo, keys, path):
    """AuthFlowPreflight pass (default): the preflight reaches the backend although the
    location says `Require authflow ...`; no claim, no user, no spoofed header, no cookie
    of ours, no Authorization -- even when the client sends a valid token."""
    t = tok(keys, site)
    hl = [(k, v) for k, v in PREFLIGHT.items()] + spoofed_headers() + [
        ('Cookie', 'authflow-at=%s; other=1' % t), ('Authorization', 'Bearer ' + t)]
    m = echo.mark()
    r = afharness.http_list(site.port, 'OPTIONS', path + '/x', hl)
    assert r.status_code == 200, (r.status_code, r.text[:200])
    got = echo.since(m)
    assert len(got) == 1 and got[0]['method'] == 'OPTIONS'
    names = {k.lower().replace('_', '-') for k, _ in got[0]['headers']}
    for n in SPOOF:
        assert n.lower().replace('_', '-') not in names, n
    assert 'authorization' not in names
    assert sites.hdr(got[0], 'X-Env-Remote-User') in (None, '', '(null)')
    assert sites.hdr(got[0], 'X-Env-Sub') in (None, '', '(null)')
    ck = sites.hdr(got[0], 'Cookie') or ''
    assert 'authflow-at' not in ck and t not in ck
    assert sites.hdr(got[0], 'Origin') == 'https://spa.example'


def test_H03_preflight_deny_is_401(site, echo):
    m = echo.mark()
    r = http('OPTIONS', site.url('/corsdeny/x'), headers=PREFLIGHT)
    assert r.status_code == 401
    assert r.headers.get('WWW-Authenticate') == 'Bearer'
    assert echo.since(m) == []


@pytest.mark.allow_log(r'AH01630')
def test_H03_preflight_other_authz_rules_still_apply(site, echo):
    """Only the authflow providers grant a preflight: `Require ip` in a RequireAll still
    refuses it (the client is 127.0.0.1)."""
    m = echo.mark()
    r = http('OPTIONS', site.url('/corsip/x'), headers=PREFLIGHT)
    assert r.status_code in (401, 403)
    assert echo.since(m) == []


def test_H03_plain_options_is_any_request(site, echo, keys):
    """OPTIONS without Access-Control-Request-Method (or without Origin) is not a preflight:
    401 without a token, through the gate with one."""
    for h in ({'Origin': 'https://spa.example', 'Sec-Fetch-Mode': 'cors'},
              {'Access-Control-Request-Method': 'POST', 'Sec-Fetch-Mode': 'cors'}):
        m = echo.mark()
        r = http('OPTIONS', site.url('/cors/x'), headers=h)
        assert r.status_code == 401, (h, r.status_code)
        assert echo.since(m) == []
    m = echo.mark()
    r = http('OPTIONS', site.url('/cors/x'), headers=sites.bearer(tok(keys, site)))
    assert r.status_code == 200
    got = echo.since(m)
    assert sites.hdr(got[0], 'X-Auth-Email') == 'alice@example.com'


def test_preflight_default_location_with_valid_user_asks_for_a_user(site, echo):
    """Documented: `Require valid-user` wants a user, which a preflight never has."""
    m = echo.mark()
    r = http('OPTIONS', site.url('/app/x'), headers=PREFLIGHT)
    assert r.status_code == 401
    assert echo.since(m) == []


# -- step-up answers at the gate ----------------------------------------------------------------
def test_stepup_max_age_navigation_and_api(site, echo, keys):
    now = int(time.time())
    old = tok(keys, site, auth_time=now - 3600)
    r = http('GET', site.url('/fresh/page?q=1'), headers=sites.cookie(old))
    assert r.status_code == 302
    u = urllib.parse.urlsplit(r.headers['Location'])
    q = dict(urllib.parse.parse_qsl(u.query))
    assert u.path == '/auth/login' and q == {'return_to': '/fresh/page?q=1', 'max_age': '600'}
    m = echo.mark()
    r = http('GET', site.url('/fresh/page'), headers=sites.bearer(old))
    assert r.status_code == 401
    assert r.headers['WWW-Authenticate'] == (
        'Bearer error="insufficient_user_authentication", '
        'error_description="A more recent authentication is required", max_age="600"')
    body = r.json()
    assert body['error'] == 'step_up_max_age' and 'max_age=600' in body['login_url']
    assert echo.since(m) == []
    # AuthFlowLogin a local path: the step-up parameters ride along
    r = http('GET', site.url('/freshapi/x'), headers=sites.bearer(old))
    assert r.json()['login_url'].endswith('/signin?return_to=%2Ffreshapi%2Fx&max_age=600')
    # recent enough, and without auth_time at all
    r = http('GET', site.url('/fresh/page'), headers=sites.bearer(tok(keys, site,
                                                                          auth_time=now - 60)))
    assert r.status_code == 200
    r = http('GET', site.url('/fresh/page'), headers=sites.bearer(tok(keys, site)))
    assert r.status_code == 401 and 'insufficient_user_authentication' in \
        r.headers['WWW-Authenticate']
    # a location without AuthFlowMaxAge does not care
    r = http('GET', site.url('/app/x'), headers=sites.bearer(old))
    assert r.status_code == 200


def test_stepup_acr(site, keys):
    r = http('GET', site.url('/gold/x'), headers=sites.bearer(tok(keys, site, acr='silver')))
    assert r.status_code == 200
    for bad in ({'acr': 'bronze'}, {'acr': 'Gold'}, {}):
        r = http('GET', site.url('/gold/x'), headers=sites.bearer(tok(keys, site, **bad)))
        assert r.status_code == 401, bad
        assert r.headers['WWW-Authenticate'] == (
            'Bearer error="insufficient_user_authentication", '
            'error_description="A different authentication level is required", '
            'acr_values="gold silver"')
    r = http('GET', site.url('/gold/x'), headers=sites.cookie(tok(keys, site, acr='bronze')))
    assert r.status_code == 302
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(r.headers['Location']).query))
    assert q['acr_values'] == 'gold silver'
    # `off` in a sub-location undoes both
    weak = tok(keys, site, acr='bronze', auth_time=int(time.time()) - 86400)
    assert http('GET', site.url('/goldoff/x'), headers=sites.bearer(weak)).status_code == 401
    assert http('GET', site.url('/goldoff/sub/x'), headers=sites.bearer(weak)).status_code == 200


# -- WebSocket ----------------------------------------------------------------------------------
def test_websocket_with_cookie_upgrades_and_echoes(site, ws, keys):
    t = tok(keys, site)
    n = len(ws.heads)
    s, status, head, rest = ws_handshake(site.port, '/ws/chat', [('Cookie', 'authflow-at=' + t)])
    try:
        assert status == 101, head
        s.sendall(frame(1, b'hello', True))
        op, payload = read_frame(s, rest)
        assert (op, payload) == (1, b'echo:hello')
        s.sendall(frame(8, b'', True))
    finally:
        s.close()
    assert len(ws.heads) == n + 1
    # the backend got no token of ours
    assert t not in ws.heads[-1] and 'authflow-at' not in ws.heads[-1]


@pytest.mark.parametrize('path', ['/ws/chat', '/wsnav/chat'])
def test_websocket_without_cookie_is_401_never_302(site, ws, path):
    n = len(ws.heads)
    for extra in ([('Sec-Fetch-Mode', 'websocket'), ('Accept', 'text/html')],
                  [('Accept', 'text/html')]):
        s, status, head, _ = ws_handshake(site.port, path, extra)
        s.close()
        assert status == 401, head
        assert 'location:' not in head.lower()
    assert len(ws.heads) == n
