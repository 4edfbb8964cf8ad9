"""Test backends, all on 127.0.0.1 and stdlib only.

- EchoServer: HTTP backend (for mod_proxy_http) answering every request with JSON of the
  request line, headers and body it received; records every request it saw.  A query
  parameter sleep=SECONDS makes it answer that much later (a slow backend).
- FcgiEchoServer: FastCGI responder (for mod_proxy_fcgi) answering with JSON of the
  FCGI params (the environment) it received; records every request.
- DocServer: serves configurable documents (JWKS) per path, counts fetches, can hang.
- ConnCounter: a bare TCP listener that only counts connections (SSRF canary).

Each runs in threads of the test process (stop() shuts it down) or, for the demo,
standalone: `python3 backends.py echo PORT`.
"""
import json
import socket
import socketserver
import struct
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.requests = []

    def add(self, item):
        with self.lock:
            self.requests.append(item)

    def mark(self):
        with self.lock:
            return len(self.requests)

    def since(self, mark):
        with self.lock:
            return list(self.requests[mark:])


# -- HTTP echo -------------------------------------------------------------------------
class _EchoHandler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, *a):
        pass

    def _echo(self):
        n = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(n) if n > 0 else b''
        # a slow backend (long poll, report): ?sleep=SECONDS (at most 30) before answering
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        if 'sleep' in q:
            time.sleep(min(float(q['sleep'][0]), 30.0))
        item = {
            'method': self.command,
            'path': self.path,
            'headers': [[k, v] for k, v in self.headers.items()],
            'body': body.decode('utf-8', 'replace'),
        }
        self.server.recorder.add(item)
        out = json.dumps(item).encode()
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(out)))
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(out)

    do_GET = do_POST = do_PUT = do_DELETE = do_OPTIONS = do_PATCH = do_HEAD = _echo


class _Threading(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class EchoServer:
    def __init__(self):
        self.recorder = _Recorder()
        self.httpd = _Threading(('127.0.0.1', 0), _EchoHandler)
        self.httpd.recorder = self.recorder
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self):
        return 'http://127.0.0.1:%d' % self.port

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def mark(self):
        return self.recorder.mark()

    def since(self, mark):
        return self.recorder.since(mark)


def header_values(item, name):
    """All values of a header (case-insensitive) in an echo record."""
    n = name.lower()
    return [v for k, v in item['headers'] if k.lower() == n]


def header_names(item):
    return [k for k, _ in item['headers']]


# -- FastCGI echo ----------------------------------------------------------------------
FCGI_BEGIN, FCGI_ABORT, FCGI_END, FCGI_PARAMS, FCGI_STDIN, FCGI_STDOUT = 1, 2, 3, 4, 5, 6
FCGI_GET_VALUES, FCGI_GET_VALUES_RESULT = 9, 10


def _fcgi_record(rtype, req_id, content):
    out = b''
    # split into records of at most 65535 bytes; always at least one
    pos = 0
    while True:
        chunk = content[pos:pos + 65535]
        pad = (8 - len(chunk) % 8) % 8
        out += struct.pack('>BBHHBB', 1, rtype, req_id, len(chunk), pad, 0) + chunk + b'\0' * pad
        pos += len(chunk)
        if pos >= len(content):
            break
    return out


def _fcgi_params(data):
    out = {}
    i = 0
    while i < len(data):
        lens = []
        for _ in range(2):
            b = data[i]
            if b >> 7:
                lens.append(struct.unpack('>I', data[i:i + 4])[0] & 0x7fffffff)
                i += 4
            else:
                lens.append(b)
                i += 1
        k = data[i:i + lens[0]]
        i += lens[0]
        v = data[i:i + lens[1]]
        i += lens[1]
        out[k.decode('utf-8', 'replace')] = v.decode('utf-8', 'replace')
    return out


def _read_exact(sock, n):
    buf = b''
    while len(buf) < n:
        b = sock.recv(n - len(buf))
        if not b:
            raise EOFError
        buf += b
    return buf


class _FcgiHandler(socketserver.BaseRequestHandler):
    def handle(self):
        sock = self.request
        reqs = {}
        try:
            while True:
                hdr = _read_exact(sock, 8)
                _, rtype, rid, clen, plen, _ = struct.unpack('>BBHHBB', hdr)
                content = _read_exact(sock, clen) if clen else b''
                if plen:
                    _read_exact(sock, plen)
                if rtype == FCGI_BEGIN:
                    flags = content[2]
                    reqs[rid] = {'params': b'', 'stdin': b'', 'keep': bool(flags & 1)}
                elif rtype == FCGI_PARAMS and rid in reqs:
                    reqs[rid]['params'] += content
                elif rtype == FCGI_STDIN and rid in reqs:
                    if clen:
                        reqs[rid]['stdin'] += content
                    else:
                        keep = self._respond(sock, rid, reqs.pop(rid))
                        if not keep:
                            return
                elif rtype == FCGI_GET_VALUES:
                    sock.sendall(_fcgi_record(FCGI_GET_VALUES_RESULT, 0, b''))
                elif rtype == FCGI_ABORT:
                    reqs.pop(rid, None)
        except (EOFError, OSError):
            return

    def _respond(self, sock, rid, req):
        env = _fcgi_params(req['params'])
        item = {'env': env, 'body': req['stdin'].decode('utf-8', 'replace')}
        self.server.recorder.add(item)
        body = json.dumps(item).encode()
        out = b'Status: 200 OK\r\nContent-Type: application/json\r\n'
        out += b'Content-Length: %d\r\n\r\n' % len(body) + body
        sock.sendall(_fcgi_record(FCGI_STDOUT, rid, out) + _fcgi_record(FCGI_STDOUT, rid, b'')
                     + _fcgi_record(FCGI_END, rid, struct.pack('>IB3x', 0, 0)))
        return req['keep']


class _ThreadingTCP(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class FcgiEchoServer:
    def __init__(self):
        self.recorder = _Recorder()
        self.server = _ThreadingTCP(('127.0.0.1', 0), _FcgiHandler)
        self.server.recorder = self.recorder
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self):
        return 'fcgi://127.0.0.1:%d' % self.port

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def mark(self):
        return self.recorder.mark()

    def since(self, mark):
        return self.recorder.since(mark)


# -- documents (JWKS) with fetch counting and hanging ------------------------------------
class _DocHandler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, *a):
        pass

    def do_GET(self):
        srv = self.server.owner
        with srv.lock:
            srv.fetches[self.path] = srv.fetches.get(self.path, 0) + 1
            doc = srv.docs.get(self.path)
        if doc is None:
            body = b'not found'
            self.send_response(404)
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        status, body, mode = doc
        if mode == 'hang':
            srv.stopping.wait(120)
            return
        if mode == 'slowbody':
            self.send_response(status)
            self.send_header('Content-Type', 'application/json')
            self.send_header('Content-Length', str(len(body) + 10))
            self.end_headers()
            self.wfile.write(body[:5])
            self.wfile.flush()
            srv.stopping.wait(120)
            return
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class DocServer:
    def __init__(self):
        self.lock = threading.Lock()
        self.docs = {}
        self.fetches = {}
        self.stopping = threading.Event()
        self.httpd = _Threading(('127.0.0.1', 0), _DocHandler)
        self.httpd.owner = self
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path):
        return 'http://127.0.0.1:%d%s' % (self.port, path)

    def set(self, path, body, status=200, mode=None):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        with self.lock:
            self.docs[path] = (status, body, mode)

    def count(self, path):
        with self.lock:
            return self.fetches.get(path, 0)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()


class ConnCounter:
    """Accepts TCP connections, counts them, closes them."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.count = 0
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)

    def url(self, path='/'):
        return 'http://127.0.0.1:%d%s' % (self.port, path)

    def _run(self):
        while self.running:
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.count += 1
            c.close()

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.running = False
        self.thread.join(2)
        self.sock.close()
