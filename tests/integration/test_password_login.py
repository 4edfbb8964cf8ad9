"""Password login through httpd's own authn providers (issue 14, CONFIG.md "Password login
through httpd's authn providers"): <AuthFlowProvider NAME> with Type password.

Real parts only: mod_authn_file with an `htpasswd -B` file, an <AuthnProviderAlias> of it,
mod_authn_dbd over SQLite (libaprutil1-dbd-sqlite3), real httpd (event and prefork), the LMDB
store.  A password login ends like an OIDC one: the same -at / -rt cookies, refresh (rotation),
logout (revocation), return_to; `idp` the provider, `sub` "<user>@<provider>".
"""
import base64
import json
import os
import re
import sqlite3
import subprocess
import time
import urllib.parse

import pytest

import afharness
from pghelp import pg_cluster  # noqa: F401  (fixture)
from loginhelp import Browser, echo_of, echo_header, reason, set_cookies, unverified_claims
from refreshhelp import cleared, cookies_of

MODULES = afharness.DEFAULT_MODULES + ('authn_file', 'authn_dbd', 'dbd')

PASSWORDS = {'alice': 'Wonderland-1', 'bob': 'Builder-2', 'carol': 'Sqlite-3',
             'dave': 'Alias-4', 'erin': 'Throttle-5'}


def htpasswd(*users):
    out = ''
    for u in users:
        p = subprocess.run(['htpasswd', '-nbB', u, PASSWORDS[u]], stdout=subprocess.PIPE,
                           check=True, timeout=30)
        out += p.stdout.decode().strip() + '\n'
    return out


def sqlite_db(path):
    db = sqlite3.connect(path)
    db.execute('CREATE TABLE users (user TEXT PRIMARY KEY, password TEXT, email TEXT)')
    pw = htpasswd('carol').strip().split(':', 1)[1]
    db.execute('INSERT INTO users VALUES (?, ?, ?)', ('carol', pw, 'carol@example.org'))
    db.commit()
    db.close()
    os.chmod(path, 0o644)


SITE = '''
AuthFlowBaseURL @BASE@
AuthFlowStore "@ROOT@/store"
AuthFlowTokenClaims sub email preferred_username
DBDriver sqlite3
DBDParams "@ROOT@/users.db"
<AuthnProviderAlias file staffalias>
    AuthUserFile "@ROOT@/alias.htpasswd"
</AuthnProviderAlias>
<AuthFlowProvider staff>
    Type password
    AuthnProvider file
    Throttle 1000 10m
</AuthFlowProvider>
<AuthFlowProvider locked>
    Type password
    AuthnProvider file
    Throttle 3 10m
</AuthFlowProvider>
<AuthFlowProvider aliased>
    Type password
    AuthnProvider staffalias
    Throttle 1000 10m
</AuthFlowProvider>
<AuthFlowProvider db>
    Type password
    AuthnProvider dbd
    Claim email email
    Throttle 1000 10m
</AuthFlowProvider>
<Location /auth>
    SetHandler authflow
    AuthUserFile "@ROOT@/staff.htpasswd"
    AuthDBDUserPWQuery "SELECT password, email FROM users WHERE user = %s"
</Location>
<Location /app>
    AuthType AuthFlow
    Require valid-user
    AuthFlowExport header X-Auth-Email email
    ProxyPass "@ECHO@/app"
</Location>
<Location /metrics>
    SetHandler authflow-metrics
    Require ip 127.0.0.1
</Location>
'''


def start(request, echo, mpm='event', loglevel=None, extra=''):
    srv = afharness.Httpd('pw-' + mpm, SITE + extra, mpm=mpm, modules=MODULES, loglevel=loglevel,
                          subst={'ECHO': echo.url},
                          files={'staff.htpasswd': htpasswd('alice', 'bob', 'erin'),
                                 'alias.htpasswd': htpasswd('dave')})
    os.makedirs(srv.root, exist_ok=True)
    sqlite_db(os.path.join(srv.root, 'users.db'))

    def fin():
        srv.stop()
        if not getattr(request.node, '_af_failed', False) and not os.environ.get('AF_KEEP'):
            srv.cleanup_dir()
    request.addfinalizer(fin)
    srv.start()
    srv.store = os.path.join(srv.root, 'store')
    return srv


@pytest.fixture(scope='module')
def site(request, echo):
    # httpd's own trace lines show headers (cookies): trace8 for the modules that see the
    # password, debug for the rest
    return start(request, echo, loglevel='debug authflow:trace8 authn_file:trace8 '
                 'authn_dbd:trace8 dbd:trace8 authn_core:trace8')


# -- steps ------------------------------------------------------------------------------------
NAV = {'Accept': 'text/html', 'Sec-Fetch-Mode': 'navigate', 'Sec-Fetch-Site': 'same-origin'}


def form(srv, browser, provider, return_to='/app/page'):
    q = urllib.parse.urlencode({'provider': provider, 'return_to': return_to})
    h = dict(NAV)
    if browser.jar:
        h['Cookie'] = browser.header()
    r = afharness.http('GET', srv.url('/auth/login?' + q), headers=h)
    browser.take(r)
    return r


def flow_of(resp):
    m = re.search(r'name="flow" value="([^"]+)"', resp.text)
    return m.group(1) if m else None


def post(srv, browser, fields, origin=True, headers=None, raw=None):
    h = {'Content-Type': 'application/x-www-form-urlencoded'}
    if origin is True:
        h['Origin'] = srv.base
    elif origin:
        h['Origin'] = origin
    if browser is not None and browser.jar:
        h['Cookie'] = browser.header()
    h.update(headers or {})
    body = raw if raw is not None else urllib.parse.urlencode(fields)
    r = afharness.http('POST', srv.url('/auth/login'), headers=h, data=body)
    if browser is not None:
        browser.take(r)
    return r


def login(srv, provider, user, password=None, return_to='/app/page', browser=None):
    b = browser or Browser()
    f = form(srv, b, provider, return_to)
    assert f.status_code == 200, f.text[:300]
    r = post(srv, b, {'flow': flow_of(f), 'return_to': return_to, 'username': user,
                      'password': PASSWORDS.get(user, 'x') if password is None else password})
    return b, r


def masked(text):
    return re.sub(r'name="flow" value="[^"]+"', 'name="flow" value="-"', text)


# -- the form -----------------------------------------------------------------------------------
def test_PW_form_fields(site):
    b = Browser()
    r = form(site, b, 'staff', '/app/x?y=1')
    assert r.status_code == 200 and r.headers['Content-Type'].startswith('text/html')
    t = r.text
    assert '<form method="post" action="%s/auth/login">' % site.base in t
    assert re.search(r'<label for="username">', t) and re.search(r'<label for="password">', t)
    assert 'name="username" type="text" autocomplete="username"' in t
    assert 'name="password" type="password" autocomplete="current-password"' in t
    assert 'name="return_to" value="/app/x?y=1"' in t
    assert len(flow_of(r)) >= 22 and b.get('flow')[1]
    assert r.headers['Cache-Control'] == 'no-store'


def test_PW_form_template_replaceable(request, echo):
    htdocs = os.path.join(afharness.REPO, 'htdocs')
    files = {'tpl/' + n: open(os.path.join(htdocs, n)).read() for n in os.listdir(htdocs)
             if n.endswith('.html')}
    files['tpl/password.html'] = files['tpl/password.html'].replace(
        '<h1>Sign in</h1>', '<h1>Staff sign-in ({{provider}})</h1>')
    srv = afharness.Httpd('pw-tpl', SITE + 'AuthFlowTemplateDir "@ROOT@/tpl"\n', modules=MODULES,
                          subst={'ECHO': echo.url},
                          files=dict(files, **{'staff.htpasswd': htpasswd('alice'),
                                               'alias.htpasswd': htpasswd('dave')}))
    sqlite_db(os.path.join(srv.root, 'users.db'))
    request.addfinalizer(srv.stop)
    srv.start()
    b = Browser()
    r = form(srv, b, 'staff')
    assert r.status_code == 200 and '<h1>Staff sign-in (staff)</h1>' in r.text
    r = post(srv, b, {'flow': flow_of(r), 'username': 'alice', 'password': PASSWORDS['alice']})
    assert r.status_code == 303


# -- login, refresh, logout ---------------------------------------------------------------------
def refresh(srv, b):
    r = afharness.http('POST', srv.url('/auth/refresh'),
                       headers={'Origin': srv.base, 'Cookie': b.header()})
    b.take(r)
    return r


def logout(srv, b):
    r = afharness.http('POST', srv.url('/auth/logout'),
                       headers={'Origin': srv.base, 'Cookie': b.header()})
    b.take(r)
    return r


def app(srv, b, path='/app/page'):
    return afharness.http('GET', srv.url(path), headers={'Cookie': b.header(), **NAV})


def check_login_cycle(srv, provider, user):
    b, r = login(srv, provider, user, return_to='/app/page?q=1')
    assert r.status_code == 303, (r.status_code, reason(r))
    assert r.headers['Location'] == srv.base + '/app/page?q=1'
    cs = cookies_of(r)
    assert not cs['at'].deleting and not cs['rt'].deleting
    claims = unverified_claims(b.get('at')[1])
    assert claims['sub'] == '%s@%s' % (user, provider) and claims['idp'] == provider
    assert claims['preferred_username'] == user
    # step-up: the token carries the password check's time and method (RFC 8176 "pwd")
    assert abs(claims['auth_time'] - time.time()) < 60 and claims['amr'] == ['pwd']
    # through the gate: the backend sees the user
    g = app(srv, b, '/app/page?q=1')
    assert g.status_code == 200, g.status_code
    item = echo_of(g)
    assert item['path'].startswith('/app/page')
    # refresh rotates
    old_rt = b.get('rt')[1]
    r2 = refresh(srv, b)
    assert r2.status_code == 204 and b.get('rt')[1] != old_rt
    rotated = unverified_claims(b.get('at')[1])
    assert rotated['sub'] == '%s@%s' % (user, provider)
    assert rotated['auth_time'] == claims['auth_time'] and rotated['amr'] == ['pwd']
    # logout revokes: the refresh token no longer works
    stale = b.copy()
    r3 = logout(srv, b)
    assert r3.status_code == 303, r3.status_code
    r4 = refresh(srv, stale)
    assert r4.status_code == 401 and cleared(r4)
    return claims, item


def test_PW_file_login_refresh_logout(site):
    claims, item = check_login_cycle(site, 'staff', 'alice')
    assert 'email' not in claims


def test_PW_alias_login_refresh_logout(site):
    check_login_cycle(site, 'aliased', 'dave')
    # the alias reads its own file: alice (only in the location's AuthUserFile) is unknown
    b, r = login(site, 'aliased', 'alice')
    assert r.status_code == 403 and reason(r) != 'x'


def test_PW_dbd_sqlite_login_refresh_logout_with_claim(site):
    claims, item = check_login_cycle(site, 'db', 'carol')
    # Claim email email: mod_authn_dbd's AUTHENTICATE_EMAIL
    assert claims['email'] == 'carol@example.org'
    assert echo_header(item, 'X-Auth-Email') == 'carol@example.org'


def test_PW_wrong_password_and_unknown_user_identical(site):
    b1, wrong = login(site, 'staff', 'bob', password='not-his-password')
    b2, unknown = login(site, 'staff', 'nobody-such', password='not-his-password')
    for r in (wrong, unknown):
        assert r.status_code == 403
        assert not [c for c in set_cookies(r) if c.kind() in ('at', 'rt')]
        assert 'The username or password is not correct.' in r.text
    assert masked(wrong.text) == masked(unknown.text)
    assert sorted(k for k in wrong.headers if k.lower() not in ('date', 'set-cookie')) == \
        sorted(k for k in unknown.headers if k.lower() not in ('date', 'set-cookie'))
    # the answer carries a fresh form: the right password then works from it
    r = post(site, b1, {'flow': flow_of(wrong), 'username': 'bob', 'password': PASSWORDS['bob']})
    assert r.status_code == 303


def metric(srv, name, reason=None):
    text = afharness.http('GET', srv.url('/metrics')).text
    want = name + ('{reason="%s"}' % reason if reason else '')
    for ln in text.splitlines():
        if ln.startswith(want + ' '):
            return int(float(ln.split()[-1]))
    return 0


def test_PW_metrics_count_password_logins(site):
    done, failed = (metric(site, 'authflow_logins_completed_total'),
                    metric(site, 'authflow_logins_failed_total', 'login_failed'))
    assert login(site, 'staff', 'alice')[1].status_code == 303
    assert login(site, 'staff', 'alice', password='nope')[1].status_code == 403
    assert metric(site, 'authflow_logins_completed_total') == done + 1
    assert metric(site, 'authflow_logins_failed_total', 'login_failed') == failed + 1


def test_PW_flow_single_use(site):
    b = Browser()
    f = form(site, b, 'staff')
    fields = {'flow': flow_of(f), 'username': 'alice', 'password': PASSWORDS['alice']}
    saved = b.copy()
    assert post(site, b, fields).status_code == 303
    again = post(site, saved, fields)     # the same form and cookie once more
    assert again.status_code == 400 and reason(again) == 'flow_replayed', reason(again)
    assert not [c for c in set_cookies(again) if c.kind() in ('at', 'rt')]


# -- CSRF and strict parsing --------------------------------------------------------------------
def test_PW_cross_origin_post_refused(site):
    b = Browser()
    f = form(site, b, 'staff')
    fields = {'flow': flow_of(f), 'username': 'alice', 'password': PASSWORDS['alice']}
    for origin, extra in (('https://evil.example', {}),
                          (None, {'Sec-Fetch-Site': 'cross-site'}),
                          (None, {})):
        r = post(site, b.copy(), fields, origin=origin, headers=extra)
        assert r.status_code == 403 and reason(r) == 'cross_site', (origin, extra, r.status_code)
        assert not set_cookies(r)
    # the flow was not used up by the refusals
    assert post(site, b, fields).status_code == 303


def test_PW_post_without_flow_cookie_refused(site):
    b = Browser()
    f = form(site, b, 'staff')
    fields = {'flow': flow_of(f), 'username': 'alice', 'password': PASSWORDS['alice']}
    r = post(site, None, fields)
    assert r.status_code == 400 and reason(r) == 'login_flow_invalid'
    assert not set_cookies(r)
    # another browser's flow id with this browser's cookie: refused too
    other = Browser()
    form(site, other, 'staff')
    r = post(site, other, fields)
    assert r.status_code == 400 and reason(r) == 'login_flow_invalid'


def test_PW_duplicate_and_malformed_fields_refused(site):
    b = Browser()
    f = form(site, b, 'staff')
    flow = flow_of(f)
    for raw, why in (
            ('flow=%s&username=alice&username=bob&password=%s' % (flow, PASSWORDS['alice']),
             'duplicate_parameter'),
            ('flow=%s&username=alice&password=a&password=%s' % (flow, PASSWORDS['alice']),
             'duplicate_parameter'),
            ('flow=%s&flow=%s&username=alice&password=x' % (flow, flow), 'duplicate_parameter'),
            ('flow=%s&username=alice&&password=x' % flow, 'empty_parameter'),
            ('flow=%s&username=al%%zzice&password=x' % flow, 'bad_escape'),
            ('flow=%s&username=al%%00ice&password=x' % flow, 'bad_escape'),
            ('flow=%s&username=&password=x' % flow, 'credentials_invalid'),
            ('flow=%s&username=a%%0aice&password=x' % flow, 'credentials_invalid')):
        r = post(site, b.copy(), None, raw=raw)
        assert r.status_code == 400 and reason(r) == why, (raw, r.status_code, reason(r))
        assert not [c for c in set_cookies(r) if c.kind() in ('at', 'rt')]
    r = post(site, b.copy(), None, raw='flow=%s&username=alice&password=x' % flow,
             headers={'Content-Type': 'multipart/form-data; boundary=x'})
    assert r.status_code == 415
    # none of them used the flow
    r = post(site, b, {'flow': flow, 'username': 'alice', 'password': PASSWORDS['alice']})
    assert r.status_code == 303


def test_PW_oversize_body_413(site):
    b = Browser()
    f = form(site, b, 'staff')
    big = 'flow=%s&username=alice&password=%s' % (flow_of(f), 'x' * 9000)
    r = post(site, b, None, raw=big)
    assert r.status_code == 413
    assert not [c for c in set_cookies(r) if c.kind() in ('at', 'rt')]
    # chunked, no Content-Length
    r = afharness.http('POST', site.url('/auth/login'),
                       headers={'Content-Type': 'application/x-www-form-urlencoded',
                                'Origin': site.base, 'Cookie': b.header()},
                       data=iter([big[:4000].encode(), big[4000:].encode()]))
    assert r.status_code == 413


# -- throttle -----------------------------------------------------------------------------------
def pids_of(lines):
    return {m.group(1) for m in (re.search(r'\[pid (\d+)', ln) for ln in lines) if m}


@pytest.fixture(scope='module')
def prefork(request, echo):
    # every connection its own child (one connection per request here): the counts must add up
    # across processes, whatever child the kernel hands a connection to
    return start(request, echo, mpm='prefork', extra='MaxConnectionsPerChild 1\n')


def test_PW_throttle_429_across_children_right_password_refused(prefork):
    srv = prefork
    start_off = os.path.getsize(srv.error_log)
    fails = []
    for i in range(3):
        b, r = login(srv, 'locked', 'erin', password='wrong-%d' % i)
        assert r.status_code == 403, (i, r.status_code, reason(r))
        fails.append(r)
    # the limit is reached: even the right password is refused, nothing is checked
    b, r = login(srv, 'locked', 'erin')
    assert r.status_code == 429 and reason(r) == 'too_many_failures'
    ra = int(r.headers['Retry-After'])
    assert 0 < ra <= 600
    assert not [c for c in set_cookies(r) if c.kind() in ('at', 'rt')]
    with open(srv.error_log) as fh:
        fh.seek(start_off)
        text = fh.read()
    failed = [ln for ln in text.splitlines() if 'AF08065' in ln]
    assert len(failed) == 3
    # counted across processes: prefork children, each serving one connection
    assert len(pids_of(failed + [ln for ln in text.splitlines() if 'AF08063' in ln])) == 4, \
        failed
    # the other provider (own keys) still logs erin in with the right password
    b, r = login(srv, 'staff', 'erin')
    assert r.status_code == 303


def test_PW_throttle_per_address(request, echo):
    srv = start(request, echo)
    # three different (unknown) accounts from one address: the address is throttled
    for u in ('u1', 'u2', 'u3'):
        assert login(srv, 'locked', u, password='x')[1].status_code == 403
    b, r = login(srv, 'locked', 'alice')
    assert r.status_code == 429 and 'Retry-After' in r.headers
    # the page says it plainly (issue 16), in the browser's language
    assert 'Too many attempts' in r.text and 'too many failed sign-ins' in r.text, r.text
    b = Browser()
    f = form(srv, b, 'locked')
    r = post(srv, b, {'flow': flow_of(f), 'return_to': '/app/page', 'username': 'alice',
                      'password': 'x'}, headers={'Accept-Language': 'ko-KR,ko;q=0.9,en;q=0.8'})
    assert r.status_code == 429 and '시도 횟수 초과' in r.text and 'lang="ko"' in r.text, r.text


def test_PW_throttle_shared_by_two_hosts_on_postgresql(request, keys, echo,
                                                       pg_cluster):  # noqa: F811
    uri = pg_cluster.new_store('pw')
    secret = os.path.join(keys.dir, 'pw-shared-secret.key')
    with open(secret, 'wb') as f:
        f.write(os.urandom(48))
    os.chmod(secret, 0o600)
    body = SITE.replace('AuthFlowStore "@ROOT@/store"', 'AuthFlowStore "%s"\n'
                        'AuthFlowSecretFile "%s"\nAuthFlowSigningKey "%s" kid=%s'
                        % (uri, secret, keys.ec256.files['pem'], keys.ec256.kid))
    hosts = []
    for name in ('a', 'b'):
        srv = afharness.Httpd('pw-pg-' + name, body, modules=MODULES, subst={'ECHO': echo.url},
                              files={'staff.htpasswd': htpasswd('alice', 'bob', 'erin'),
                                     'alias.htpasswd': htpasswd('dave')})
        sqlite_db(os.path.join(srv.root, 'users.db'))
        request.addfinalizer(srv.stop)
        hosts.append(srv.start())
    a, b = hosts
    # failures on both hosts add up in the one store: 2 on A, 1 on B reach Throttle 3
    assert login(a, 'locked', 'erin', password='w1')[1].status_code == 403
    assert login(b, 'locked', 'erin', password='w2')[1].status_code == 403
    assert login(a, 'locked', 'erin', password='w3')[1].status_code == 403
    for srv in (a, b):
        r = login(srv, 'locked', 'erin')[1]
        assert r.status_code == 429 and int(r.headers['Retry-After']) > 0, srv.name
    # a login on B, refreshed on A: the same store
    br, r = login(b, 'staff', 'alice')
    assert r.status_code == 303
    assert refresh(a, br).status_code == 204
    # the database holds keyed hashes only
    rows = pg_cluster.query('SELECT count(*) FROM af_throttle', uri)
    assert int(rows[0][0]) >= 2
    dump = pg_cluster.dump(uri)
    for s in ('erin', '127.0.0.1', PASSWORDS['erin'], PASSWORDS['alice']):
        assert s not in dump


# -- logging --------------------------------------------------------------------------------------
def test_PW_password_never_in_the_log(site):
    secret_user = 'mallory-' + base64.b32encode(os.urandom(5)).decode().lower()
    login(site, 'staff', secret_user, password='Zebra-Unique-Pass-77')
    login(site, 'staff', 'alice', password='Otter-Unique-Pass-88')
    b, r = login(site, 'staff', 'bob')
    assert r.status_code == 303
    with open(site.error_log, errors='replace') as fh:
        text = fh.read()
    assert 'AF08065' in text
    for s in PASSWORDS.values():
        assert s not in text, s
    for s in ('Zebra-Unique-Pass-77', 'Otter-Unique-Pass-88', secret_user):
        assert s not in text, s
    for s in ('Zebra', 'Otter', urllib.parse.quote(secret_user)):
        assert s not in text
    fl = [ln for ln in text.splitlines() if 'AF08065' in ln]
    assert all(re.search(r'user #[A-Za-z0-9_-]{12} ', ln) for ln in fl), fl[:2]


# -- configtest -----------------------------------------------------------------------------------
def conf(workdir, provider_body, extra=''):
    return afharness.render_conf(workdir, afharness.free_port(), '''
AuthFlowBaseURL http://127.0.0.1:8080
AuthFlowStore "%s/store"
%s
<AuthFlowProvider staff>
%s
</AuthFlowProvider>
<Location /auth>
    SetHandler authflow
</Location>
''' % (workdir, extra, provider_body), modules=MODULES)


@pytest.mark.parametrize('body,extra,want', [
    ('Type password', '', 'Type password needs AuthnProvider'),
    ('Type password\nAuthnProvider file nosuch', '', "unknown authn provider 'nosuch'"),
    ('Type password\nAuthnProvider ldap', '', "unknown authn provider 'ldap'"),
    ('Type password\nAuthnProvider file\nThrottle 0 15m', '', 'Throttle takes N DUR'),
    ('Type password\nAuthnProvider file\nThrottle 5', '', 'Throttle takes N DUR'),
    ('Type password\nAuthnProvider file\nThrottle 5 forever', '', 'Throttle takes N DUR'),
    ('Type password\nAuthnProvider file\nThrottle 5 15m\nThrottle 5 15m', '',
     'Throttle given twice'),
    ('Type password\nAuthnProvider file\nClientID x', '', 'ClientID has no meaning'),
    ('Type pasword\nAuthnProvider file', '', 'Type takes oidc, oauth2 or password'),
    ('Issuer http://127.0.0.1:9/\nClientID x\nClientSecret y\nAuthnProvider file', '',
     'AuthnProvider and Throttle need Type password'),
])
def test_PW_configtest_errors(workdir, body, extra, want):
    rc, out = afharness.configtest(workdir, conf(workdir, body, extra))
    assert rc != 0 and want in out and 'AuthFlowProvider staff' in out, out[-600:]


def test_PW_configtest_alias_and_valid(workdir):
    extra = '<AuthnProviderAlias file mine>\n AuthUserFile /dev/null\n</AuthnProviderAlias>'
    rc, out = afharness.configtest(workdir, conf(
        workdir, 'Type password\nAuthnProvider mine file\nThrottle 5 15m', extra))
    assert rc == 0, out[-600:]
