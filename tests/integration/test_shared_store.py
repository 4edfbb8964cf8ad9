"""Issue 12: several Apache hosts behind one load balancer, sharing a PostgreSQL store.

Two httpd instances (A and B: event MPM, the same signing key, the same AuthFlowSecretFile,
the same AuthFlowStore postgresql://... URI) serve one site whose public origin is a third
httpd running mod_proxy_balancer over A and B (round robin).  Tests pick the host of each
request by sending it to A's or B's own port -- what a load balancer without stickiness may
do -- and the balancer itself serves the browser-like flows.  The database is a real
PostgreSQL 15 (pghelp.py), each module its own schema; the IdP is the real oidc-provider.

    login on A -> request on B; login started on A, callback on B (and not twice);
    refresh on B of a login made on A; concurrent refresh of one token on A and B
    (20 rounds, never a logout); logout on A refused on B after the revocation delay;
    `authflowctl revoke` seen by both; PostgreSQL stopped: the gate serves issued tokens,
    refresh / callback / logout answer 503 and nothing is lost once it is back; a dead
    first host in the URI falls through to the second; configtest refuses a shared store
    without AuthFlowSecretFile or AuthFlowSigningKey; the database holds no token.

Durations are never asserted: the propagation of a revocation is polled for and printed.
"""
import concurrent.futures
import json
import os
import subprocess
import time
import urllib.parse

import pytest

import afharness
import tokens
from backends import header_values
from loginhelp import (AUTHFLOWCTL, BASIC_CLIENT, Browser, OidcProvider, describe,
                       get, have_node, idp_redirect, login_path, login_site, provider_block,
                       set_cookies, start_fixed, unverified_claims)
from pghelp import pg_cluster  # noqa: F401  (fixture)

pytestmark = pytest.mark.skipif(not have_node, reason='node or tests/idp/node_modules missing')

# store failures while the database is down are expected in these logs
DB_DOWN_LOG = (r'AF03050', r'AF03057', r'AF08007', r'AF09002', r'AF08024', r'AF08025',
               r'AF08040', r'AF0\d{4}.*store')
JSON = {'Accept': 'application/json', 'Sec-Fetch-Mode': 'cors'}


def write_secret(path, data=None, mode=0o600):
    with open(path, 'wb') as f:
        f.write(os.urandom(48) if data is None else data)
    os.chmod(path, mode)
    return path


class Site:
    """Hosts A and B (FixedHttpd each) and the balancer in front of them."""

    def __init__(self, request, keys, echo, uri, name, delay='1s', grace='2s', hosts=2,
                 extra=''):
        self.lb_port = afharness.free_port()
        self.base = 'http://127.0.0.1:%d' % self.lb_port
        self.uri = uri
        self.idp = OidcProvider(alg='ES256', redirect_uris=[self.base + '/auth/callback'],
                                post_logout_redirect_uris=[self.base + '/auth/logout'])
        request.addfinalizer(self.idp.stop)
        self.secret = write_secret(os.path.join(keys.dir, 'shared-secret-%s.key' % name))
        server_extra = '\n'.join([
            'AuthFlowSecretFile "%s"' % self.secret,
            'AuthFlowRevocationDelay %s' % delay,
            'AuthFlowReuseGrace %s' % grace,
            'AuthFlowAccessTTL 300s',
            'RequestHeader set X-Served-By "expr=%{SERVER_PORT}"',
            extra])
        body = login_site(keys, echo, provider_block('idp', self.idp.issuer,
                                                     client=BASIC_CLIENT),
                          apps=[('/app', 'idp'), ('/api', 'idp')], base=self.base,
                          store=uri, server_extra=server_extra)
        self.hosts = []
        for i in range(hosts):
            self.hosts.append(start_fixed(request, '%s-%s' % (name, 'AB'[i]), body,
                                          afharness.free_port(), allow=DB_DOWN_LOG))
        members = '\n'.join('    BalancerMember "http://127.0.0.1:%d"' % h.port
                            for h in self.hosts)
        lb_body = '''
<Proxy "balancer://site">
%s
    ProxySet lbmethod=byrequests
</Proxy>
ProxyPass "/" "balancer://site/"
ProxyPassReverse "/" "balancer://site/"
''' % members
        mods = afharness.DEFAULT_MODULES + ('slotmem_shm', 'proxy_balancer',
                                            'lbmethod_byrequests')
        self.lb = start_fixed(request, name + '-lb', lb_body, self.lb_port, modules=mods)

    @property
    def a(self):
        return self.hosts[0]

    @property
    def b(self):
        return self.hosts[1]

    def at(self, host, path):
        """The URL of path on one host (its own port), bypassing the balancer."""
        return 'http://127.0.0.1:%d%s' % (host.port, path)

    def ctl(self, *args):
        p = subprocess.run([AUTHFLOWCTL, '--store', self.uri, '--json'] + list(args),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        assert p.returncode in (0, 1), p.stderr.decode()[:300]
        return json.loads(p.stdout or b'null'), p.returncode

    def family(self, sid):
        out, rc = self.ctl('show', sid)
        assert rc == 0, out
        return out


def start_login(site, host, browser, return_to='/app'):
    """GET /auth/login on host: the authorize URL at the IdP."""
    r = get(None, site.at(host, login_path('idp', return_to)), browser)
    assert r.status_code == 302, describe(r)
    loc = r.headers['Location']
    assert loc.startswith(site.idp.issuer), loc
    return loc


def finish_login(site, host, browser, auth_url, username='alice'):
    """Walk the IdP, deliver its redirect (path and query) to host."""
    cb = idp_redirect(auth_url, username)
    u = urllib.parse.urlsplit(cb)
    for k, v in urllib.parse.parse_qsl(u.query):
        if k == 'code':
            tokens.remember(v)
    path = u.path + '?' + u.query
    return get(None, site.at(host, path), browser), path


def login(site, host=None, username='alice'):
    b = Browser()
    host = host or site.a
    auth = start_login(site, host, b)
    r, _ = finish_login(site, host, b, auth, username)
    assert r.status_code in (302, 303), describe(r)
    assert b.get('at')[1] and b.get('rt')[1], 'no login cookies'
    return b


def sid_of(browser):
    return unverified_claims(browser.get('at')[1])['sid']


def page(site, host, browser, path='/app/x', cookie=None):
    return get(None, site.at(host, path), browser if cookie is None else None,
               headers=JSON, cookie=cookie)


def rt_header(browser):
    n, v = browser.get('rt')
    return '%s=%s' % (n, v)


def refresh(site, host, cookie):
    return afharness.http('POST', site.at(host, '/auth/refresh'),
                          headers={'Origin': site.base, 'Cookie': cookie})


def new_rt(resp):
    for c in set_cookies(resp):
        if c.kind() == 'rt' and not c.deleting:
            tokens.remember(c.value)
            return c.value
    return None


def wait_refused(site, host, browser, timeout=20):
    """Poll host until the login is refused (401); the seconds it took, or None."""
    t0 = time.time()
    while time.time() - t0 < timeout:
        r = page(site, host, browser, '/api/poll')
        if r.status_code == 401:
            return time.time() - t0
        assert r.status_code == 200, describe(r)
        time.sleep(0.05)
    return None


@pytest.fixture(scope='module')
def site(request, keys, echo, pg_cluster):  # noqa: F811
    return Site(request, keys, echo, pg_cluster.new_store('hosts'), 'shared')


# -- one login, two hosts ---------------------------------------------------------------------
def test_login_on_A_request_on_B(site, echo):
    b = login(site, site.a)
    m = echo.mark()
    r = page(site, site.b, b)
    assert r.status_code == 200, 'host B refused a login made on A: %s' % describe(r)
    seen = echo.since(m)
    assert len(seen) == 1 and header_values(seen[0], 'X-Env-Sub') == ['alice@idp']
    assert header_values(seen[0], 'X-Served-By') == [str(site.b.port)]


def test_login_started_on_A_callback_on_B(site):
    b = Browser()
    auth = start_login(site, site.a, b)
    flow_jar = dict(b.jar)
    r, path = finish_login(site, site.b, b, auth)
    assert r.status_code in (302, 303), 'callback on B: %s' % describe(r)
    assert r.headers['Location'] == site.base + '/app'
    assert page(site, site.a, b).status_code == 200
    # the login state is single-use on every host: the same callback again, on A
    replay = Browser()
    replay.jar = flow_jar
    r2 = get(None, site.at(site.a, path), replay)
    assert r2.status_code == 400, 'a login state was used twice: %s' % describe(r2)


def test_refresh_on_B_of_a_login_from_A(site):
    b = login(site, site.a)
    sid = sid_of(b)
    r = refresh(site, site.b, rt_header(b))
    assert r.status_code == 204, describe(r)
    assert new_rt(r) not in (None, b.get('rt')[1])
    f = site.family(sid)
    assert f['generation'] == 2 and not f['revoked'], f


def test_G04_concurrent_refresh_on_A_and_B_never_logs_out(site):
    """20 rounds: the same refresh token presented on A and B at once.  Both are answered
    (204) with the same successor (one rotates, the other gets it from the grace window) and
    the login is never revoked."""
    b = login(site, site.a)
    sid = sid_of(b)
    name = b.get('rt')[0]
    rt = b.get('rt')[1]
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as ex:
        for rnd in range(20):
            cookie = '%s=%s' % (name, rt)
            fa = ex.submit(refresh, site, site.a, cookie)
            fb = ex.submit(refresh, site, site.b, cookie)
            ra, rb = fa.result(), fb.result()
            assert ra.status_code == 204 and rb.status_code == 204, \
                'round %d: A %s, B %s' % (rnd, describe(ra), describe(rb))
            sa, sb = new_rt(ra), new_rt(rb)
            assert sa and sa == sb, 'round %d: two different successors' % rnd
            rt = sa
    f = site.family(sid)
    assert not f['revoked'], f
    assert f['generation'] == 21, f


def test_logout_on_A_refused_on_B_within_the_delay(site):
    b = login(site, site.a)
    assert page(site, site.b, b).status_code == 200
    r = afharness.http('POST', site.at(site.a, '/auth/logout'),
                       headers={'Origin': site.base, 'Cookie': b.header()})
    assert r.status_code in (200, 302, 303), describe(r)
    # the child that handled the logout knows at once; A's other children and host B
    # within the delay
    took = wait_refused(site, site.b, b)
    assert took is not None, 'host B still accepts a login revoked on A'
    print('revocation on A honoured on B after %.2f s (AuthFlowRevocationDelay 1s)' % took)
    assert wait_refused(site, site.a, b) is not None, 'host A still accepts its own logout'


def test_authflowctl_revoke_seen_by_both(site):
    b = login(site, site.b)
    sid = sid_of(b)
    out, rc = site.ctl('revoke', '--sid', sid)
    assert rc == 0, out
    for h in site.hosts:
        assert wait_refused(site, h, b) is not None, 'host %s ignores authflowctl revoke' % h.name


def test_balancer_round_robin_serves_one_login(site, echo):
    """Through the balancer: ten requests of one browser land on both hosts and pass."""
    b = Browser()
    r = get(None, site.base + login_path('idp', '/app'), b)
    assert r.status_code == 302, describe(r)
    cb = idp_redirect(r.headers['Location'])
    u = urllib.parse.urlsplit(cb)
    r = get(None, site.base + u.path + '?' + u.query, b)
    assert r.status_code in (302, 303), describe(r)
    m = echo.mark()
    for i in range(10):
        r = get(None, site.base + '/app/lb%d' % i, b, headers=JSON)
        assert r.status_code == 200, describe(r)
    served = {v for item in echo.since(m) for v in header_values(item, 'X-Served-By')}
    assert served == {str(h.port) for h in site.hosts}, served


def test_G09_a_login_the_store_does_not_know_is_refused(site, keys):
    """A token signed with the site's key whose login never reached this store (a host wrongly
    configured with a store of its own issued it) is refused, as on LMDB: the view asks the
    store about a login it has not seen (once per child)."""
    claims = tokens.claims(site.base, site.base, sub='alice@idp', idp='idp',
                           sid=tokens.b64u(os.urandom(16)))
    tok = tokens.mint(keys.ec256, claims)
    for h in site.hosts:
        r = afharness.http('GET', site.at(h, '/api/ghost'),
                           headers={'Authorization': 'Bearer ' + tok, **JSON})
        assert r.status_code == 401, 'host %s: %s' % (h.name, describe(r))


def test_the_database_holds_no_token(site, pg_cluster):  # noqa: F811
    b = login(site, site.a)
    r = refresh(site, site.b, rt_header(b))
    assert r.status_code == 204
    dump = pg_cluster.dump(site.uri)
    for v in (b.get('rt')[1], new_rt(r), b.get('at')[1]):
        assert v and v not in dump


# -- the database down ---------------------------------------------------------------------------
@pytest.mark.allow_log(*DB_DOWN_LOG)
def test_G10_database_down_gate_serves_refresh_503_nothing_lost(site, pg_cluster):  # noqa: F811
    b = login(site, site.a)
    sid = sid_of(b)
    other = Browser()
    auth = start_login(site, site.b, other)     # a login under way when the database goes
    pg_cluster.halt()
    try:
        for h in site.hosts:
            r = page(site, h, b, '/api/down')
            assert r.status_code == 200, 'gate on %s with the database down: %s' % (
                h.name, describe(r))
        r = refresh(site, site.b, rt_header(b))
        assert r.status_code == 503, describe(r)
        assert r.json().get('error') == 'store_unavailable', r.text[:200]
        assert r.headers.get('Retry-After')
        assert not any(c.kind() == 'rt' for c in set_cookies(r)), 'cookies changed'
        r, _ = finish_login(site, site.b, other, auth)
        assert r.status_code == 503, 'callback with the database down: %s' % describe(r)
        r = afharness.http('POST', site.at(site.a, '/auth/logout'),
                           headers={'Origin': site.base, 'Cookie': b.header(), **JSON})
        assert r.status_code == 503, 'logout with the database down: %s' % describe(r)
    finally:
        pg_cluster.resume()
    # nothing was lost or changed: the same refresh token rotates once the database is back
    deadline = time.time() + 30
    while True:
        r = refresh(site, site.a, rt_header(b))
        if r.status_code == 204 or time.time() > deadline:
            break
        time.sleep(0.5)
    assert r.status_code == 204, 'no recovery after the database came back: %s' % describe(r)
    f = site.family(sid)
    assert f['generation'] == 2 and not f['revoked'], f


# -- failover and configuration --------------------------------------------------------------
def test_dead_first_host_falls_through(request, keys, echo, pg_cluster):  # noqa: F811
    uri = pg_cluster.new_store('failover')
    dead = afharness.free_port()
    both = uri.replace('@127.0.0.1:%d/' % pg_cluster.port,
                       '@127.0.0.1:%d,127.0.0.1:%d/' % (dead, pg_cluster.port))
    assert both != uri
    s = Site(request, keys, echo, both, 'failover', hosts=1)
    b = login(s, s.a)
    r = refresh(s, s.a, rt_header(b))
    assert r.status_code == 204, describe(r)
    assert s.family(sid_of(b))['generation'] == 2


def shared_conf(keys, uri, secret=None, signing=True):
    lines = ['AuthFlowBaseURL http://127.0.0.1:8080', 'AuthFlowStore "%s"' % uri]
    if secret:
        lines.append('AuthFlowSecretFile "%s"' % secret)
    if signing:
        lines.append('AuthFlowSigningKey "%s" kid=%s' % (keys.ec256.files['pem'],
                                                         keys.ec256.kid))
    lines += ['<AuthFlowProvider idp>', '    Issuer https://idp.example.com',
              '    ClientID c', '    ClientSecret "s3cret-for-tests"', '</AuthFlowProvider>']
    return '\n'.join(lines) + '\n'


@pytest.mark.parametrize('case', ['no_secret', 'no_signing_key', 'bad_uri', 'short_secret',
                                  'secret_readable_by_others', 'secret_is_a_key'])
def test_configtest_refuses_a_shared_store_without_shared_keys(keys, workdir, case):
    uri = 'postgresql://authflow:pw-not-printed@127.0.0.1:1/authflow'
    secret = write_secret(os.path.join(workdir, 'secret.key'))
    want = {'no_secret': 'AuthFlowSecretFile: required with a shared store',
            'no_signing_key': 'AuthFlowSigningKey: required with a shared store',
            'bad_uri': 'AuthFlowStore: ',
            'short_secret': 'secret_too_short',
            'secret_readable_by_others': 'readable by others: chmod o-rwx ' + secret,
            'secret_is_a_key': 'secret_is_a_key'}[case]
    if case == 'no_secret':
        conf = shared_conf(keys, uri)
    elif case == 'no_signing_key':
        conf = shared_conf(keys, uri, secret, signing=False)
    elif case == 'bad_uri':
        conf = shared_conf(keys, 'postgresql://authflow:pw-not-printed@127.0.0.1:1/x?nope=1',
                           secret)
    elif case == 'short_secret':
        conf = shared_conf(keys, uri, write_secret(secret, b'x' * 31))
    elif case == 'secret_readable_by_others':
        conf = shared_conf(keys, uri, write_secret(secret, mode=0o644))
    else:
        with open(keys.ec256.files['pem'], 'rb') as f:
            conf = shared_conf(keys, uri, write_secret(secret, f.read()))
    rc, out = afharness.configtest(workdir, afharness.render_conf(workdir, 8080, conf))
    assert rc != 0, 'configtest accepted: %s' % case
    assert want in out, out[-600:]
    assert 'pw-not-printed' not in out


def test_configtest_shared_store_ok_without_the_database(keys, workdir):
    """configtest parses the URI and reads the files; it never connects (no database here)."""
    secret = write_secret(os.path.join(workdir, 'secret.key'))
    conf = shared_conf(keys, 'postgresql://authflow@127.0.0.1:1/authflow', secret)
    rc, out = afharness.configtest(workdir, afharness.render_conf(workdir, 8080, conf))
    assert rc == 0, out[-600:]
