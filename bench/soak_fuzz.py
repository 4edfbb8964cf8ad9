"""bench/soak_fuzz.py: the malformed requests of bench/soak.py (phase "malformed").

Each request is built from a seeded random.Random: a path among the handler's endpoints, the
gate and spellings the router must refuse; a method; a query string of protocol parameter
names with junk or altered tokens; cookies named like ours holding real tokens cut, doubled,
reordered or re-headed with alg none; Authorization, Origin, Sec-Fetch-*, X-Forwarded-*,
spoofed identity headers, oversized headers; bodies (form, binary, over 16 KiB, chunked).
The bytes go out over a raw socket, so nothing is normalised on the way.
"""
import urllib.parse

PATHS = ['/auth/login', '/auth/callback', '/auth/refresh', '/auth/logout', '/auth/jwks.json',
         '/auth/session', '/app', '/api/x', '/auth/', '/auth/callback/x', '/auth//login',
         '/auth/login;x', '/auth/%2e%2e/app', '/app/../auth/refresh', '/metrics',
         '/auth/backchannel/idp', '/auth/backchannel/down', '/auth/backchannel/nope',
         '/auth/events/idp', '/auth/events/nope']
METHODS = ['GET', 'GET', 'GET', 'POST', 'POST', 'HEAD', 'PUT', 'OPTIONS', 'DELETE', 'PATCH',
           'G\x00T', 'BREW']
JUNK = ['', 'x', '%', '%zz', '%00', '%0d%0a', '\u00e9', '..', '//evil.example', '\\\\x',
        'javascript:alert(1)', '=', '&&&', '%ff%fe', '\t', 'A' * 5000, '"', "'", '<script>',
        '${jndi:x}', '-1', '99999999999999999999', 'null', '[]', '{}']


class Fuzzer:
    def __init__(self, rnd, cookie_names, tokens_):
        self.r = rnd
        self.cookie_names = cookie_names
        self.tokens = [t for t in tokens_ if t]

    def junk(self):
        r = self.r
        k = r.random()
        if k < 0.5:
            return r.choice(JUNK)
        if k < 0.8:
            return ''.join(chr(r.randrange(0x20, 0x7f)) for _ in range(r.randrange(0, 60)))
        return ''.join(chr(r.randrange(0, 256)) for _ in range(r.randrange(0, 40)))

    def token(self):
        r = self.r
        t = r.choice(self.tokens) if self.tokens else 'eyJ'
        k = r.randrange(7)
        if k == 0:
            return t[:r.randrange(len(t))]
        if k == 1:
            i = r.randrange(len(t))
            return t[:i] + r.choice('A.-_=+/ %\x00') + t[i + 1:]
        if k == 2:
            return t + '.' + t
        if k == 3:
            p = t.split('.')
            return '.'.join(reversed(p))
        if k == 4:
            return t * r.randrange(2, 6)
        if k == 5:
            return 'eyJhbGciOiJub25lIn0.' + t.split('.')[-1] + '.'
        return self.junk()

    def query(self):
        r = self.r
        keys = ['provider', 'return_to', 'code', 'state', 'iss', 'error', 'session_state',
                'access_token', 'id_token', 'x', '']
        parts = []
        for _ in range(r.randrange(0, 40 if r.random() < 0.1 else 5)):
            v = self.token() if r.random() < 0.3 else self.junk()
            parts.append('%s=%s' % (r.choice(keys), urllib.parse.quote(v, safe='%=&/:')
                                    if r.random() < 0.7 else v))
        return '&'.join(parts)

    def cookie(self):
        r = self.r
        items = []
        for _ in range(r.randrange(0, 6)):
            name = r.choice(self.cookie_names + ['x', '', 'authflow-at', '__Host-authflow-rt '])
            items.append('%s=%s' % (name, self.token()))
        sep = r.choice(['; ', ';', ', ', ';;', '; ; '])
        return sep.join(items)

    def headers(self, path, base):
        r = self.r
        h = []
        if r.random() < 0.7:
            h.append(('Cookie', self.cookie()))
        if r.random() < 0.3:
            h.append(('Cookie', self.cookie()))
        if r.random() < 0.4:
            h.append(('Authorization', r.choice(['Bearer ', 'bearer ', 'Basic ', 'Bearer  ', ''])
                      + self.token()))
        if r.random() < 0.4:
            h.append(('Origin', r.choice([base, 'null', 'http://evil.example', base + '/',
                                          self.junk()])))
        if r.random() < 0.3:
            h.append(('Sec-Fetch-Site', r.choice(['same-origin', 'cross-site', 'none',
                                                  self.junk()])))
        if r.random() < 0.3:
            h.append(('Sec-Fetch-Mode', r.choice(['navigate', 'cors', self.junk()])))
        if r.random() < 0.3:
            h.append(('Accept', r.choice(['text/html', '*/*', 'application/json', self.junk()])))
        if r.random() < 0.3:
            h.append((r.choice(['X-Forwarded-Host', 'X-Forwarded-Proto', 'X-Forwarded-For',
                                'Forwarded', 'Host']), self.junk()))
        if r.random() < 0.2:
            h.append((r.choice(['AuthFlow-Sub', 'X-Remote-User', 'authflow_claim_email',
                                'X-Auth-Email', 'Remote-User']), self.junk()))
        if r.random() < 0.1:
            h.append(('X-Big', 'b' * r.choice([100, 9000, 20000])))
        if r.random() < 0.05:
            h.append((self.junk() or 'X', self.junk()))
        return h

    def body(self):
        r = self.r
        k = r.randrange(6)
        if k == 0:
            return None, None
        if k == 1:
            return 'application/x-www-form-urlencoded', self.query().encode('latin-1', 'replace')
        if k == 2:
            return r.choice(['application/json', 'text/plain', '', 'multipart/form-data; b=x']), \
                bytes(r.randrange(256) for _ in range(r.randrange(0, 3000)))
        if k == 3:
            return 'application/x-www-form-urlencoded', b'a=' + b'x' * r.choice([17000, 70000])
        if k == 4:
            return 'application/x-www-form-urlencoded', ('logout_token=%s&state=%s' % (
                self.token(), self.junk())).encode('latin-1', 'replace')
        return None, b''

    def request(self, port, base):
        r = self.r
        path = r.choice(PATHS)
        if r.random() < 0.6:
            path += '?' + self.query()
        method = r.choice(METHODS)
        ctype, body = self.body() if method not in ('GET', 'HEAD') or r.random() < 0.2 \
            else (None, None)
        lines = ['%s %s HTTP/1.1' % (method, path), 'Host: 127.0.0.1:%d' % port,
                 'Connection: close']
        for k, v in self.headers(path, base):
            lines.append('%s: %s' % (k, v))
        chunked = body is not None and r.random() < 0.15
        if ctype:
            lines.append('Content-Type: ' + ctype)
        if body is not None and chunked:
            lines.append('Transfer-Encoding: chunked')
            data = ('%x\r\n' % len(body)).encode() + body + b'\r\n0\r\n\r\n'
        elif body is not None:
            lines.append('Content-Length: %d' % len(body))
            data = body
        else:
            data = b''
        head = ('\r\n'.join(lines) + '\r\n\r\n').encode('latin-1', 'replace')
        return method, path, head + data
