"""Glue for the login / callback integration tests (issue 4; SECURITY.md groups D, E, F).

- IdPs: the real OpenID provider (tests/idp/provider.js, oidc-provider) and the misbehaving
  one (tests/idp/bad_idp.py), both on 127.0.0.1, stopped by pid.
- FixedHttpd: an afharness.Httpd on a port chosen in advance (the real IdP must know the
  redirect_uri before httpd starts, and httpd must know the IdP's issuer).
- Browser: a tiny cookie jar for one site.  requests does not send Secure cookies over
  plain http, so the Cookie header is always built here by hand.
- login steps: start (protected page or /auth/login), walk the IdP (real form, or the bad
  IdP's immediate redirect), callback; each returns the raw responses for assertions.
- store snapshots: `mdb_dump` of the session databases of AuthFlowStore (NOCHANGE).

Nothing here uses the module's own code: tokens are checked with jwcrypto.
"""
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.parse

import requests
from jwcrypto import jwk, jwt

import afharness
import tokens

HERE = os.path.dirname(os.path.abspath(__file__))
IDP_DIR = os.path.join(afharness.REPO, 'tests', 'idp')
if IDP_DIR not in sys.path:
    sys.path.insert(0, IDP_DIR)

import idp_fixture  # noqa: E402
from idp_fixture import BASIC_CLIENT, POST_CLIENT, OidcProvider, walk_login  # noqa: E402,F401

PYTHON = '/usr/bin/python3'
BAD_CLIENT = ('authflow-test', 'authflow-test-secret-0123456789abcdef')
SESSION_DBS = ('tokens', 'families', 'by_sub')
NAV = {'Accept': 'text/html,application/xhtml+xml', 'Sec-Fetch-Mode': 'navigate',
       'Sec-Fetch-Dest': 'document', 'Sec-Fetch-Site': 'none'}
SCOPE = 'openid email profile groups'

have_node = (subprocess.run(['sh', '-c', 'command -v node'], stdout=subprocess.DEVNULL)
             .returncode == 0 and os.path.isdir(os.path.join(IDP_DIR, 'node_modules')))
# The login, refresh and logout tests need the real provider: a missing node or
# tests/idp/node_modules is a setup error (run `make deps`), not a reason to skip silently.
# AF_ALLOW_SKIP_IDP=1 lets a developer without node run the rest.
if not have_node and os.environ.get('AF_ALLOW_SKIP_IDP') != '1':
    raise RuntimeError('node or tests/idp/node_modules missing: run `make deps` '
                       '(or set AF_ALLOW_SKIP_IDP=1 to skip the login tests)')


# -- identity providers -----------------------------------------------------------------
class BadIdp(idp_fixture._Server):
    """tests/idp/bad_idp.py (or a script with the same CLI) with any extra arguments."""

    def __init__(self, modes=(), alg='RS256', client=BAD_CLIENT, issuer=None, sub=None,
                 hang_seconds=None, script=None, port=None, key_file=None):
        self.port = port or afharness.free_port()
        script = script or os.path.join(IDP_DIR, 'bad_idp.py')
        cmd = [PYTHON, script, '--port', str(self.port), '--alg', alg,
               '--client-id', client[0], '--client-secret', client[1]]
        for m in modes:
            cmd += ['--mode', m]
        if issuer:
            cmd += ['--issuer', issuer]
        if sub:
            cmd += ['--sub', sub]
        if hang_seconds is not None:
            cmd += ['--hang-seconds', str(hang_seconds)]
        if key_file:
            cmd += ['--key-file', key_file]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        try:
            info = idp_fixture._wait_ready(self.proc, 'READY ', 30)
        except Exception:
            self.stop()
            raise
        self.issuer = info['issuer']
        self.url = 'http://127.0.0.1:%d' % self.port
        self.client = client
        self.alg = alg

    def set_mode(self, *modes):
        r = requests.post(self.url + '/_control', json={'modes': list(modes),
                                                        'clear_log': True}, timeout=5)
        r.raise_for_status()
        return r.json()

    def set_sid(self, sid):
        """The sid claim of the id_tokens from now on (None: none)."""
        r = requests.post(self.url + '/_control', json={'sid': sid}, timeout=5)
        r.raise_for_status()

    def log(self):
        return requests.get(self.url + '/_control', timeout=5).json()['log']

    def paths(self):
        return [e['path'] for e in self.log()]


# -- httpd on a port chosen in advance ------------------------------------------------------
class FixedHttpd(afharness.Httpd):
    def __init__(self, name, body, port, **kw):
        super().__init__(name, body, **kw)
        self.fixed_port = port

    def start(self, attempts=1, timeout=60):
        self.ports = [self.fixed_port]
        self.port = self.fixed_port
        self.write_files()
        with open(self.conf_path, 'w') as f:
            f.write(self.render())
        ok, last = self._spawn(timeout)
        if not ok:
            raise afharness.StartError('httpd %s did not start:\n%s' % (self.name, last[-6000:]))
        with afharness._ALL_LOCK:
            afharness._ALL.append(self)
        return self


def start_fixed(request, name, body, port, **kw):
    """A FixedHttpd stopped by pid when the calling fixture's scope ends."""
    srv = FixedHttpd(name, body, port, **kw)

    def fin():
        srv.stop()
        if not getattr(request.node, '_af_failed', False) and not os.environ.get('AF_KEEP'):
            srv.cleanup_dir()
    request.addfinalizer(fin)
    srv.start()
    return srv


# -- configuration --------------------------------------------------------------------------
def provider_block(name, issuer=None, client=BAD_CLIENT, auth=None, scope=SCOPE, extra=''):
    lines = ['<AuthFlowProvider %s>' % name]
    if issuer:
        lines.append('    Issuer %s' % issuer)
    lines += ['    ClientID %s' % client[0],
              '    ClientSecret "%s"' % client[1]]
    if auth:
        lines.append('    TokenEndpointAuth %s' % auth)
    if scope:
        lines.append('    Scope "%s"' % scope)
    for x in extra.strip().splitlines():
        lines.append('    ' + x.strip())
    lines.append('</AuthFlowProvider>')
    return '\n'.join(lines)


EXPORTS = '''
    AuthFlowExport header X-Auth-Email email
    AuthFlowExport header X-Auth-Groups groups join=,
    AuthFlowExport header X-Auth-Name name
    RequestHeader set X-Env-Remote-User "%{REMOTE_USER}e"
    RequestHeader set X-Env-Sub "%{AUTHFLOW_SUB}e"
    RequestHeader set X-Env-Provider "%{AUTHFLOW_PROVIDER}e"
    RequestHeader set X-Env-Issuer "%{AUTHFLOW_ISSUER}e"
    RequestHeader set X-Env-Claim-Email "%{AUTHFLOW_CLAIM_EMAIL}e"
    RequestHeader set X-Env-Claim-Exp "%{AUTHFLOW_CLAIM_EXP}e"
    RequestHeader set X-Env-Claim-Verified "%{AUTHFLOW_CLAIM_EMAIL_VERIFIED}e"
    RequestHeader set X-Env-Expires "%{AUTHFLOW_EXPIRES}e"'''


def protected(path, echo, login=None, extra=''):
    return '''
<Location %(path)s>
    AuthType AuthFlow
    %(login)s
    Require valid-user
    %(exports)s
    %(extra)s
    ProxyPass "%(backend)s%(path)s"
</Location>''' % dict(path=path, login=('AuthFlowLogin %s' % login) if login else '',
                      exports=EXPORTS, extra=extra, backend=echo.url)


def login_site(keys, echo, providers, apps=(), server_extra='', base='@BASE@',
               store='@ROOT@/store', signing=True):
    """A site with AuthFlowStore, the handler at /auth, and protected locations.

    providers: text of <AuthFlowProvider> blocks.  apps: (path, provider-or-None) pairs.
    """
    body = ['AuthFlowBaseURL %s' % base, 'AuthFlowStore "%s"' % store]
    if signing:
        k = keys.ec256
        body.append('AuthFlowSigningKey "%s" kid=%s' % (k.files['pem'], k.kid))
    body += [server_extra, providers,
             '<Location /auth>\n    SetHandler authflow\n</Location>']
    for path, prov in apps:
        body.append(protected(path, echo, prov))
    return '\n'.join(body) + '\n'


# -- cookies ----------------------------------------------------------------------------------
class SetCookie:
    def __init__(self, raw):
        self.raw = raw
        parts = [p.strip() for p in raw.split(';')]
        self.name, _, self.value = parts[0].partition('=')
        self.attrs = {}
        self.flags = set()
        for p in parts[1:]:
            if '=' in p:
                k, _, v = p.partition('=')
                self.attrs[k.strip().lower()] = v.strip()
            elif p:
                self.flags.add(p.lower())

    @property
    def deleting(self):
        ma = self.attrs.get('max-age')
        if ma is not None and ma.lstrip('-').isdigit() and int(ma) <= 0:
            return True
        exp = self.attrs.get('expires', '')
        return self.value == '' or '1970' in exp

    def kind(self):
        """'at', 'rt', 'flow' (by suffix), or None."""
        for k in ('flow', 'at', 'rt'):
            if self.name.endswith('-' + k):
                return k
        return None

    def __repr__(self):
        return 'SetCookie(%r)' % self.raw[:120]


def set_cookies(resp):
    """Every Set-Cookie of a requests response or an afharness.RawResponse, parsed."""
    if hasattr(resp, 'header_list'):
        raws = [v for k, v in resp.header_list if k.lower() == 'set-cookie']
    else:
        raws = resp.raw.headers.getlist('Set-Cookie')
    return [SetCookie(r) for r in raws]


def session_cookies(resp):
    """Set-Cookies that create a login (an access or refresh cookie with a value)."""
    return [c for c in set_cookies(resp) if c.kind() in ('at', 'rt') and not c.deleting]


class Browser:
    """A cookie jar for the one site under test (all cookies there use Path=/)."""

    def __init__(self):
        self.jar = {}

    def take(self, resp):
        for c in set_cookies(resp):
            if c.deleting:
                self.jar.pop(c.name, None)
            else:
                self.jar[c.name] = c.value
                if c.kind() in ('at', 'rt'):
                    tokens.remember(c.value)
        return resp

    def get(self, kind):
        for n, v in self.jar.items():
            if n.endswith('-' + kind):
                return n, v
        return None, None

    def header(self, **override):
        d = dict(self.jar)
        d.update(override)
        return '; '.join('%s=%s' % kv for kv in d.items())

    def copy(self):
        b = Browser()
        b.jar = dict(self.jar)
        return b


def get(srv, path, browser=None, headers=None, cookie=None, **kw):
    h = dict(NAV)
    h.update(headers or {})
    c = cookie if cookie is not None else (browser.header() if browser else '')
    if c:
        h['Cookie'] = c
    url = path if path.startswith('http') else srv.url(path)
    r = afharness.http('GET', url, headers=h, **kw)
    if browser is not None:
        browser.take(r)
    return r


# -- login steps ------------------------------------------------------------------------------
def origin(url):
    u = urllib.parse.urlsplit(url)
    return '%s://%s' % (u.scheme, u.netloc)


def login_path(provider=None, return_to=None, endpoint='/auth'):
    q = []
    if provider:
        q.append(('provider', provider))
    if return_to is not None:
        q.append(('return_to', return_to))
    return endpoint + '/login' + ('?' + urllib.parse.urlencode(q) if q else '')


def start(srv, browser, path, max_hops=5):
    """GET path at httpd and follow its redirects on the site until one leaves it.
    Returns (last httpd response, authorize URL or None)."""
    r = None
    for _ in range(max_hops):
        r = get(srv, path, browser)
        if r.status_code not in (301, 302, 303, 307, 308):
            return r, None
        loc = urllib.parse.urljoin(srv.url(path) if not path.startswith('http') else path,
                                   r.headers['Location'])
        if origin(loc) != srv.base:
            return r, loc
        path = loc
    return r, None


def idp_redirect(auth_url, username='alice', idp_session=None):
    """Walk the IdP: real provider (login + consent forms) or the bad IdP (immediate
    redirect).  Returns the URL the IdP sends the browser back to."""
    s = idp_session or requests.Session()
    return walk_login(s, auth_url, username=username)


def callback(srv, browser, cb_url, cookie=None, **kw):
    """Deliver the IdP's redirect to httpd (only path and query: the host is ours)."""
    u = urllib.parse.urlsplit(cb_url)
    path = u.path + ('?' + u.query if u.query else '')
    for k, v in urllib.parse.parse_qsl(u.query):
        if k == 'code':
            tokens.remember(v)
    return get(srv, path, browser, cookie=cookie, **kw)


class Login:
    """Result of full_login: every step's response."""
    browser = start_resp = auth_url = cb_url = cb_resp = None

    @property
    def ok(self):
        return self.cb_resp is not None and self.cb_resp.status_code in (302, 303)

    def at(self):
        return self.browser.get('at')[1]

    def claims(self):
        return unverified_claims(self.at())


def full_login(srv, provider=None, return_to='/app', username='alice', path=None,
               browser=None):
    """Login through /auth/login?provider=&return_to= (or through a protected path)."""
    lg = Login()
    lg.browser = browser or Browser()
    lg.start_resp, lg.auth_url = start(srv, lg.browser,
                                       path or login_path(provider, return_to))
    assert lg.auth_url, 'login did not redirect to the IdP: %s' % describe(lg.start_resp)
    lg.cb_url = idp_redirect(lg.auth_url, username)
    lg.cb_resp = callback(srv, lg.browser, lg.cb_url)
    return lg


def unverified_claims(tok):
    payload = tok.split('.')[1]
    return json.loads(tokens.b64u_decode(payload))


def verify_access_token(tok, key):
    """Verify our access JWT with jwcrypto against the configured signing key."""
    k = jwk.JWK.from_pem(key.pub_pem())
    t = jwt.JWT(jwt=tok, key=k, algs=[key.alg], check_claims={})
    return json.loads(t.token.objects['protected']), json.loads(t.claims)


def echo_of(resp):
    return json.loads(resp.text)


def echo_header(item, name):
    n = name.lower()
    vals = [v for k, v in item['headers'] if k.lower() == n]
    return vals[0] if len(vals) == 1 else (vals or None)


# -- store ----------------------------------------------------------------------------------
def store_snapshot(store_dir, dbs=SESSION_DBS):
    """mdb_dump of the session databases ('' for a database that does not exist yet)."""
    out = {}
    for db in dbs:
        p = subprocess.run(['mdb_dump', '-s', db, store_dir], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=30)
        out[db] = p.stdout.decode('latin-1') if p.returncode == 0 else ''
    return out


def records(dump_text):
    """Number of key/value pairs in one mdb_dump text."""
    body = dump_text.split('HEADER=END', 1)[-1]
    return sum(1 for ln in body.splitlines() if ln.startswith(' ')) // 2


AUTHFLOWCTL = os.path.join(afharness.REPO, 'build', 'authflowctl')


def store_families(store_dir):
    """{sid: record} from `authflowctl --json list` (STORE's CLI over the same LMDB)."""
    p = subprocess.run([AUTHFLOWCTL, '--store', store_dir, '--json', 'list'],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    assert p.returncode == 0, p.stderr.decode()[:300]
    return {f['sid']: f for f in json.loads(p.stdout or b'[]')}


def family_count(store_dir):
    return records(store_snapshot(store_dir, ('families',))['families'])


# -- failure assertions -------------------------------------------------------------------------
def reason(resp):
    """The reason code of the module's error page (or the start of the body)."""
    m = re.search(r'Reason: <code>([^<]*)</code>', resp.text or '')
    return m.group(1) if m else (resp.text or '')[:120]


def describe(resp):
    return '%d %s' % (resp.status_code, reason(resp))


def assert_cbfail(resp, status, before, store_dir, return_to='/app', flow_sent=True,
                  secrets_=()):
    """CBFAIL: the status, no login cookie, no redirect to return_to, LMDB session databases
    unchanged, the flow cookie cleared, nothing secret in the page."""
    problems = []
    if resp.status_code != status:
        problems.append('status %d, expected %d (reason %r)' % (resp.status_code, status,
                                                                 reason(resp)))
    made = session_cookies(resp)
    if made:
        problems.append('login cookies set: %r' % made)
    loc = resp.headers.get('Location')
    if loc and (return_to in loc or resp.status_code in (301, 302, 303, 307, 308)):
        problems.append('redirect to %r' % loc)
    after = store_snapshot(store_dir)
    for db in SESSION_DBS:
        if before[db] != after[db]:
            problems.append('LMDB %s changed (%d -> %d records)' % (
                db, records(before[db]), records(after[db])))
    if flow_sent:
        flows = [c for c in set_cookies(resp) if c.kind() == 'flow']
        if not flows or not all(c.deleting for c in flows):
            problems.append('flow cookie not cleared: %r' % flows)
    for s in secrets_:
        if s and s in resp.text:
            problems.append('secret value %r... in the error page' % s[:8])
    assert not problems, '; '.join(problems)


def wait_for(pred, timeout=10.0, step=0.1):
    end = time.time() + timeout
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


def kill_pid(pid):
    try:
        os.kill(pid, signal.SIGTERM)
    except OSError:
        pass


def qs(url):
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query,
                                       keep_blank_values=True))


B64URL = re.compile(r'^[A-Za-z0-9_-]+$')


def store_unreadable(request, srv, store):
    """G10: make the LMDB store of srv unreadable to its children (data.mdb mode 0, restored
    at the end of the test) and replace the children, which then cannot open it.  True once
    new children run and one has logged AF08004."""
    data = os.path.join(store, 'data.mdb')
    assert os.path.exists(data), data
    os.chmod(data, 0)
    request.addfinalizer(lambda: os.path.exists(data) and os.chmod(data, 0o600))
    old = set(srv._children())
    for pid in old:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    return wait_for(lambda: set(srv._children()) - old and 'AF08004' in srv.read_log(), 20)
