"""Issue 11 (the glue only translates): behaviour that changed when the request logic moved
from src/httpd into the session core (src/session).  Each test failed on the module before
the move (commit e91a35b):

  core logs   a message logged by the core during a request (here: discovery of a dead
              provider, AF05030) lands in the virtual host's own ErrorLog with the client
              address, like httpd's own request messages -- not in the main server's log
  one clock   `Require authflow "... now() ..."` is judged by the module's clock, the one the
              gate verified the token with (AuthFlowTestClockOffset included)
  logout      revoking a login by its refresh cookie (the access cookie has expired) reads
              the token's family; it never rotates the refresh token first
  D14         the same for a new login over an old one whose access cookie has expired
"""
import socket
import time

import pytest

import afharness
import sites
import tokens
from gatehelp import good_claims
from loginhelp import Browser, describe, full_login, get, have_node, login_path
from refreshhelp import family, login, sid_of, start_site

pytestmark = pytest.mark.skipif(not have_node, reason='node or tests/idp/node_modules missing')


def dead_port():
    """A loopback port nobody listens on (bound, then closed)."""
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


# -- core log lines reach the request's virtual host ------------------------------------------
@pytest.mark.allow_log(r'AF05030', r'AF0\d{4}')
def test_core_log_line_goes_to_the_vhost_error_log(request, keys, echo, httpd):
    dead = 'http://127.0.0.1:%d' % dead_port()
    body = '''
AuthFlowBaseURL @BASE@
AuthFlowSigningKey "%(key)s" kid=%(kid)s
AuthFlowStore "@ROOT@/store"
<AuthFlowProvider dead>
    Issuer %(dead)s
    ClientID c
    ClientSecret "s3cret-for-tests"
    Timeout 3s
</AuthFlowProvider>
<Location /auth>
    SetHandler authflow
</Location>
<VirtualHost 127.0.0.1:@PORT2@>
    ServerName localhost
    ErrorLog "@ROOT@/vhost_error.log"
    AuthFlowBaseURL http://127.0.0.1:@PORT2@
    <Location /auth>
        SetHandler authflow
    </Location>
</VirtualHost>
''' % dict(key=keys.ec256.files['pem'], kid=keys.ec256.kid, dead=dead)
    srv = httpd('session-core-vhost-log', body, ports=2)
    vhost = 'http://127.0.0.1:%d' % srv.ports[1]
    r = get(srv, vhost + login_path('dead', '/'), Browser())
    assert r.status_code in (502, 503, 504), describe(r)
    path = srv.root + '/vhost_error.log'
    deadline = time.time() + 10
    text = ''
    while time.time() < deadline:
        with open(path, errors='replace') as f:
            text = f.read()
        if 'AF05030' in text:
            break
        time.sleep(0.1)
    lines = [ln for ln in text.splitlines() if 'AF05030' in ln]
    assert lines, 'the discovery failure is not in the virtual host ErrorLog:\n%s' % text[-2000:]
    assert all('[client 127.0.0.1:' in ln for ln in lines), lines
    assert not any('AF05030::' in ln for ln in lines), lines
    assert 'AF05030' not in srv.read_log(), 'logged to the main server log instead'


# -- one clock -----------------------------------------------------------------------------------
CLOCK_SITE = '''
%(keys)s
AuthFlowBaseURL @BASE@
AuthFlowTestClockOffset 3600
<Location /clock/ahead>
    AuthType AuthFlow
    AuthzSendForbiddenOnFailure On
    Require authflow "now() >= iat"
    ProxyPass "%(echo)s/clock/ahead"
</Location>
<Location /clock/behind>
    AuthType AuthFlow
    AuthzSendForbiddenOnFailure On
    Require authflow "now() < iat"
    ProxyPass "%(echo)s/clock/behind"
</Location>
'''


@pytest.mark.allow_log(r'AH01631')
def test_policy_now_uses_the_module_clock(keys, echo, httpd):
    """The module's clock runs an hour ahead; the token was issued at that clock's now.
    `now() >= iat` holds by the module's clock (it was judged by the wall clock before:
    403), and the control `now() < iat` is denied."""
    srv = httpd('session-core-clock', CLOCK_SITE % dict(keys=sites.keylines(keys), echo=echo.url),
                defines=('AUTHFLOW_TESTING',))
    ahead = int(time.time()) + 3600
    tok = tokens.mint(keys.ec256, good_claims(srv, iat=ahead, nbf=ahead - 1, exp=ahead + 300))
    r = afharness.http('GET', srv.url('/clock/ahead'), headers=sites.bearer(tok))
    assert r.status_code == 200, 'now() is not the clock the gate used: %d' % r.status_code
    r = afharness.http('GET', srv.url('/clock/behind'), headers=sites.bearer(tok))
    assert r.status_code == 403, r.status_code


# -- revoking a login never rotates it -----------------------------------------------------------
@pytest.fixture(scope='module')
def site(request, keys, echo):
    return start_site(request, keys, echo, 'session-core')


def without_access_cookie(browser):
    """The browser after its access cookie expired: the refresh cookie is what it has."""
    b = browser.copy()
    b.jar.pop(b.get('at')[0])
    return b


def test_logout_does_not_rotate_the_login(site):
    b = login(site)
    sid = sid_of(b)
    before = family(site, sid)
    r = afharness.http('POST', site.url('/auth/logout'),
                       headers={'Origin': site.base,
                                'Cookie': without_access_cookie(b).header()})
    assert r.status_code in (200, 302, 303), describe(r)
    after = family(site, sid)
    assert after['revoked'], after
    assert after['generation'] == before['generation'], \
        'logout rotated the refresh token (generation %d -> %d)' % (before['generation'],
                                                                     after['generation'])


def test_D14_new_login_revokes_old_without_rotating(site):
    b = login(site)
    sid = sid_of(b)
    before = family(site, sid)
    lg = full_login(site, 'idp', '/app', browser=without_access_cookie(b))   # a second login
    assert lg.ok, describe(lg.cb_resp)
    assert sid_of(lg.browser) != sid
    after = family(site, sid)
    assert after['revoked'], after
    assert after['generation'] == before['generation'], \
        'the old login was rotated before its revocation (generation %d -> %d)' % (
            before['generation'], after['generation'])
