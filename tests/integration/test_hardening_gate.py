"""Issue 10 (hardening), the gate and configuration items: each test here failed on the code
before its fix (the closing note of the issue lists what each one printed).

  item 3   store unreadable -> 503, never a login loop          (G10)
  item 4   a client Authorization header never reaches the backend (F09)
  item 5   export header names scrubbed in every virtual host     (H01, H03)
  item 6   a PEM/DER/JWK key file refused as an HMAC secret       (A02, C01)
  item 13  small things: -logout cookie stripped, cookies split on ',', reserved env names
           refused, tmpfs warning, small chunked bodies          (F09, H05, H10)
"""
import json
import os
import subprocess
import time

import pytest

import afharness
import sites
import tokens
from afharness import http, http_list
from conftest import start_server
from gatehelp import accept, good_claims, values_any_spelling


@pytest.fixture(scope='module')
def site(request, keys, echo):
    more = '''
<Location /basicpass>
    AuthType AuthFlow
    AuthFlowUnauthenticated pass
    Require all granted
    ProxyPass "%s/basicpass"
</Location>
<Location /auth>
    SetHandler authflow
</Location>
''' % echo.url
    srv = start_server(request, 'hardening-gate', sites.standard_site(keys, echo, more=more))
    srv._keys = keys
    return srv


# -- item 4: F09, the client's Authorization header ------------------------------------------
@pytest.mark.parametrize('forged', ['Bearer forged.token.value', 'Basic YWRtaW46YWRtaW4='])
def test_F09_client_authorization_removed_on_cookie_login(site, echo, forged):
    """Cookie-authenticated, AuthFlowForwardToken off: an inbound Authorization header (a
    forged Bearer the gate never read, or Basic credentials) is not passed to the backend."""
    tok = tokens.mint(site._keys.ec256, good_claims(site))
    m = echo.mark()
    h = sites.cookie(tok)
    h['Authorization'] = forged
    r = http('GET', site.url('/app/f09-authz'), headers=h)
    assert r.status_code == 200, r.text[:200]
    got = echo.since(m)
    assert len(got) == 1
    assert values_any_spelling(got[0], 'Authorization') == [], got[0]['headers']


def test_F09_client_authorization_removed_when_anonymous(site, echo):
    """AuthFlowUnauthenticated pass, no token: Basic credentials are not forwarded either."""
    m = echo.mark()
    r = http('GET', site.url('/basicpass/x'),
             headers=dict(sites.API, Authorization='Basic YWRtaW46YWRtaW4='))
    assert r.status_code == 200
    got = echo.since(m)
    assert len(got) == 1
    assert values_any_spelling(got[0], 'Authorization') == []


def test_F09_forward_token_still_forwards_ours(site, echo):
    """Control: AuthFlowForwardToken on sends the module's own verified token, not the
    client's header."""
    tok = tokens.mint(site._keys.ec256, good_claims(site))
    m = echo.mark()
    h = sites.cookie(tok)
    h['Authorization'] = 'Basic YWRtaW46YWRtaW4='
    r = http('GET', site.url('/fwd/x'), headers=h)
    assert r.status_code == 200
    got = echo.since(m)
    assert values_any_spelling(got[0], 'Authorization') == ['Bearer ' + tok]


# -- item 13: cookies --------------------------------------------------------------------------
def test_F09_logout_cookie_stripped(site, echo):
    tok = tokens.mint(site._keys.ec256, good_claims(site))
    m = echo.mark()
    ck = '%s=%s; authflow-logout=logout-state-secret; theme=dark' % (sites.COOKIE, tok)
    r = http('GET', site.url('/app/f09-logout'), headers=dict(sites.NAV, Cookie=ck))
    assert r.status_code == 200
    item = echo.since(m)[0]
    blob = json.dumps(item)
    assert 'logout-state-secret' not in blob
    assert 'theme=dark' in '; '.join(values_any_spelling(item, 'Cookie'))


def test_F09_repeated_cookie_lines_stripped(site, echo):
    """Two Cookie header lines: httpd joins them with ", "; our cookies are still removed
    from the joined value (also when they follow the comma)."""
    tok = tokens.mint(site._keys.ec256, good_claims(site))
    m = echo.mark()
    r = http_list(site.port, 'GET', '/open/two-cookie-lines', [
        ('Cookie', 'theme=dark'),
        ('Cookie', 'authflow-rt=rt-secret-value; lang=en'),
        ('Cookie', '%s=%s' % (sites.COOKIE, tok))])
    assert r.status_code == 200
    item = echo.since(m)[0]
    blob = json.dumps(item)
    assert 'rt-secret-value' not in blob
    assert tok not in blob
    cookies = '; '.join(values_any_spelling(item, 'Cookie'))
    assert 'theme=dark' in cookies and 'lang=en' in cookies


# -- item 5: H01/H03 across virtual hosts --------------------------------------------------------
@pytest.fixture(scope='module')
def two_vhosts(request, keys, echo):
    body = '''
%(keys)s
<VirtualHost 127.0.0.1:@PORT@>
    ServerName a.test
    AuthFlowBaseURL @BASE@
    <Location /app>
        AuthType AuthFlow
        Require valid-user
        AuthFlowExport header X-Auth-Email email
        AuthFlowExport header X-Tenant-Id tenant
        ProxyPass "%(echo)s/app"
    </Location>
</VirtualHost>
<VirtualHost 127.0.0.1:@PORT2@>
    ServerName b.test
    <Location /open>
        ProxyPass "%(echo)s/open"
    </Location>
</VirtualHost>
''' % dict(keys=sites.keylines(keys), echo=echo.url)
    return start_server(request, 'hardening-vhosts', body, ports=2)


def test_H03_export_names_scrubbed_in_every_vhost(two_vhosts, echo):
    """An AuthFlowExport header name declared in vhost A is removed from inbound requests of
    vhost B too (any spelling), which proxies to the same backend."""
    m = echo.mark()
    r = http_list(two_vhosts.ports[1], 'GET', '/open/spoof', [
        ('X-Auth-Email', 'ceo@example.com'),
        ('x_auth_email', 'ceo@example.com'),
        ('X-TENANT-ID', 'other-tenant'),
        ('X-Kept', 'yes')])
    assert r.status_code == 200
    item = echo.since(m)[0]
    assert values_any_spelling(item, 'X-Auth-Email') == [], item['headers']
    assert values_any_spelling(item, 'X-Tenant-Id') == [], item['headers']
    assert values_any_spelling(item, 'X-Kept') == ['yes']


# -- item 6: A02/C01 key confusion from one configuration word ------------------------------------
def _conf(keys, line):
    return '''
AuthFlowSigningKey "%s" kid=e256
%s
AuthFlowBaseURL http://127.0.0.1:8080
<Location /app>
    AuthType AuthFlow
    Require valid-user
</Location>
''' % (keys.ec256.files['pem'], line)


@pytest.mark.parametrize('kind', ['pub', 'pem', 'jwk', 'der'])
def test_A02_key_file_refused_as_hmac_secret(workdir, keys, kind):
    """AuthFlowVerifyKey <a public/private key file> alg=HS256 would turn public key bytes
    into an HMAC secret (the A02 confusion): configtest refuses it, naming the directive."""
    if kind == 'der':
        path = os.path.join(workdir, 'pub.der')
        subprocess.run(['openssl', 'pkey', '-pubin', '-in', keys.rsa.files['pub'], '-outform',
                        'DER', '-out', path], check=True)
    else:
        path = keys.rsa.files[kind]
    conf = afharness.render_conf(workdir, afharness.free_port(),
                                 _conf(keys, 'AuthFlowVerifyKey "%s" kid=h alg=HS256' % path))
    rc, out = afharness.configtest(workdir, conf)
    assert rc != 0, 'configtest accepted a key file as an HMAC secret:\n' + out
    assert 'AuthFlowVerifyKey' in out and 'key' in out.lower(), out


def test_A02_signing_key_pem_refused_as_hmac_secret(workdir, keys):
    conf = afharness.render_conf(workdir, afharness.free_port(), '''
AuthFlowSigningKey "%s" kid=h alg=HS256
AuthFlowBaseURL http://127.0.0.1:8080
''' % keys.ec256.files['pem'])
    rc, out = afharness.configtest(workdir, conf)
    assert rc != 0, out
    assert 'AuthFlowSigningKey' in out, out


def test_C01_raw_hmac_secret_still_accepted(workdir, keys):
    """Control: a raw 32-byte secret file stays fine."""
    conf = afharness.render_conf(workdir, afharness.free_port(),
                                 _conf(keys, 'AuthFlowVerifyKey "%s" kid=h alg=HS256'
                                       % keys.hs.files['secret']))
    rc, out = afharness.configtest(workdir, conf)
    assert rc == 0, out


# -- item 13: H05, AuthFlowExport env must not overwrite CGI / server variables ----------------
@pytest.mark.parametrize('name', ['REMOTE_USER', 'PATH', 'HTTP_X_AUTH', 'AUTH_TYPE',
                                  'LD_PRELOAD', 'SERVER_NAME', 'QUERY_STRING', 'HTTPS',
                                  'AUTHFLOW_SUB', 'REDIRECT_STATUS', 'remote_user'])
def test_H05_export_env_reserved_name_refused(workdir, keys, name):
    conf = afharness.render_conf(workdir, afharness.free_port(), _conf(keys, '') + '''
<Location /b>
    AuthType AuthFlow
    Require valid-user
    AuthFlowExport env %s email
</Location>
''' % name)
    rc, out = afharness.configtest(workdir, conf)
    assert rc != 0, 'AuthFlowExport env %s accepted:\n%s' % (name, out)
    assert 'AuthFlowExport' in out, out


def test_H05_export_env_plain_name_accepted(workdir, keys):
    conf = afharness.render_conf(workdir, afharness.free_port(), _conf(keys, '') + '''
<Location /b>
    AuthType AuthFlow
    Require valid-user
    AuthFlowExport env USER_EMAIL email
</Location>
''')
    rc, out = afharness.configtest(workdir, conf)
    assert rc == 0, out


# -- item 13: tmpfs warning --------------------------------------------------------------------
def _is_tmpfs(path):
    p = subprocess.run(['stat', '-f', '-c', '%T', path], stdout=subprocess.PIPE, text=True)
    return p.stdout.strip() == 'tmpfs'


@pytest.mark.skipif(not _is_tmpfs('/dev/shm'), reason='/dev/shm is not tmpfs here')
def test_store_on_tmpfs_warns_at_startup(request, keys, echo):
    store = '/dev/shm/authflow-test-%d-%d' % (os.getpid(), int(time.time() * 1000))
    request.addfinalizer(lambda: subprocess.run(['rm', '-rf', store]))
    body = sites.standard_site(keys, echo, server_extra='AuthFlowStore "%s"' % store)
    srv = start_server(request, 'hardening-tmpfs', body, allow=[r'AF07011'])
    log = srv.read_log()
    assert 'AF07011' in log and 'tmpfs' in log, log[-2000:]


def test_store_on_disk_does_not_warn(site):
    assert 'AF07011' not in site.read_log()


# -- item 13: H10, small chunked bodies to the handler ------------------------------------------
def test_H10_small_chunked_body_not_413(site):
    """A 5-byte chunked POST to <endpoint>/refresh is answered like any refresh (here: no
    refresh cookie -> 401), not 413."""
    raw = ('POST /auth/refresh HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: %s\r\n'
           'Transfer-Encoding: chunked\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n'
           '5\r\nhello\r\n0\r\n\r\n' % site.base).encode()
    out = afharness.raw_request(site.port, raw)
    status = int(out.split(b' ', 2)[1])
    assert status != 413, out[:300]
    assert status == 401, out[:300]


def test_H10_large_chunked_body_still_413(site):
    body = b'x' * 20000
    raw = (('POST /auth/refresh HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: %s\r\n'
            'Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n' % site.base).encode()
           + b'%x\r\n' % len(body) + body + b'\r\n0\r\n\r\n')
    out = afharness.raw_request(site.port, raw)
    assert int(out.split(b' ', 2)[1]) == 413, out[:300]
