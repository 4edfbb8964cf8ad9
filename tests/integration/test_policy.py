"""Issue 6: the claim language through a real httpd (event MPM): `Require authflow`,
`Require authflow-claim` inside RequireAll/RequireAny/RequireNone and with AuthMerging,
the ap_expr function authflow_claim(), denial logging, and configtest failures.

Tokens are minted by jwcrypto (tokens.py) with the site's signing key; only the claims
vary.  An authenticated user whom the policy denies gets 403 where the location sets
mod_authz_core's `AuthzSendForbiddenOnFailure On` (httpd's own default is 401)."""
import re
import time

import pytest

import afharness
import sites
import tokens
from afharness import http
from conftest import start_server
from gatehelp import good_claims

FORBID = 'AuthzSendForbiddenOnFailure On'
# mod_authz_core logs every authorization failure of an authenticated user at error level
DENIAL_LOG = r'AH01631'


def loc(path, echo, require, extra=''):
    return '''
<Location %(path)s>
    AuthType AuthFlow
    %(forbid)s
    %(extra)s
%(require)s
    ProxyPass "%(backend)s%(path)s"
</Location>
''' % dict(path=path, backend=echo.url, require=require, extra=extra, forbid=FORBID)


def policy_site(keys, echo):
    body = [sites.keylines(keys), 'AuthFlowBaseURL @BASE@']
    body.append(loc('/all', echo, r'''
    <RequireAll>
        Require authflow "email_verified && email =~ /@corp\.example$/i"
        Require authflow "'ops' in groups"
    </RequireAll>'''))
    body.append(loc('/any', echo, '''
    <RequireAny>
        Require authflow "'admin' in groups or realm_access.roles[0] == 'admin'"
        Require authflow-claim email boss@corp.example ceo@corp.example
    </RequireAny>'''))
    body.append(loc('/none', echo, '''
    <RequireAll>
        Require valid-user
        <RequireNone>
            Require authflow "'banned' in groups"
            Require authflow-claim realm_access.roles suspended
        </RequireNone>
    </RequireAll>'''))
    body.append(loc('/mfa', echo, '''
    Require authflow "exists(amr) and 'mfa' in amr and auth_time > now() - 3600"'''))
    body.append(loc('/plain', echo, '''
    Require authflow email_verified and len(groups) >= 2'''))
    body.append(loc('/merge', echo, '''
    Require authflow "'ops' in groups"'''))
    body.append('''
<Location /merge/and>
    AuthMerging And
    Require authflow "'dev' in groups"
</Location>
<Location /merge/or>
    AuthMerging Or
    Require authflow "'dev' in groups"
</Location>''')
    body.append(loc('/expr', echo, r'''
    Require expr "-n %{REMOTE_USER} && authflow_claim('email') =~ /@corp\.example$/"'''))
    body.append(loc('/hdr', echo, '''
    Require valid-user''', extra='''
    RequestHeader set X-Claim-Email "expr=%{authflow_claim:email}"
    RequestHeader set X-Claim-Groups "expr=%{authflow_claim:groups}"
    RequestHeader set X-Claim-Role "expr=%{authflow_claim:realm_access.roles[0]}"
    RequestHeader set X-Claim-Missing "expr=[%{authflow_claim:nope}]"
    RequestHeader set X-Claim-Fn "expr=%{tolower:%{authflow_claim:tenant}}"
    RequestHeader set X-Has-Ops "yes" "expr='ops' -in authflow_claims('groups')"'''))
    # <If> is evaluated by httpd before authentication: claims are not there yet
    body.append(loc('/ifx', echo, '''
    Require valid-user''', extra='''
    <If "authflow_claim('email') =~ /@corp/">
        RequestHeader set X-If "yes"
    </If>
    <Else>
        RequestHeader set X-If "no"
    </Else>'''))
    # without AuthzSendForbiddenOnFailure: httpd's default status for authenticated-but-denied
    body.append('''
<Location /default>
    AuthType AuthFlow
    Require authflow "'nobody' in groups"
    ProxyPass "%s/default"
</Location>''' % echo.url)
    return '\n'.join(body)


@pytest.fixture(scope='module')
def site(request, keys, echo):
    return start_server(request, 'policy', policy_site(keys, echo), mpm='event')


def claims(site, **kw):
    now = int(time.time())
    base = dict(email='alice@corp.example', email_verified=True, groups=['ops', 'dev'],
                amr=['pwd', 'mfa'], auth_time=now - 60, tenant='ACME',
                realm_access={'roles': ['user']})
    base.update(kw)
    return good_claims(site, **base)


def tok(keys, site, **kw):
    return tokens.mint(keys.ec256, claims(site, **kw))


def get(site, path, token, nav=False):
    h = sites.cookie(token) if nav else sites.bearer(token)
    return http('GET', site.url(path), headers=h)


def allowed(site, echo, path, token):
    m = echo.mark()
    r = get(site, path, token)
    assert r.status_code == 200, '%s: expected 200, got %d' % (path, r.status_code)
    seen = echo.since(m)
    assert len(seen) == 1, 'backend saw %d requests' % len(seen)
    return seen[0]


def forbidden(site, echo, path, token, status=403):
    m = echo.mark()
    r = get(site, path, token)
    assert r.status_code == status, '%s: expected %d, got %d' % (path, status, r.status_code)
    assert echo.since(m) == [], 'backend was reached'
    assert token not in r.text
    return r


# -- RequireAll -------------------------------------------------------------------------
@pytest.mark.allow_log(DENIAL_LOG)
def test_require_all(site, keys, echo):
    allowed(site, echo, '/all/x', tok(keys, site))
    allowed(site, echo, '/all/x', tok(keys, site, email='BOB@CORP.EXAMPLE'))
    forbidden(site, echo, '/all/x', tok(keys, site, email_verified=False))
    forbidden(site, echo, '/all/x', tok(keys, site, email_verified='true', groups=['dev']))
    forbidden(site, echo, '/all/x', tok(keys, site, email='alice@corp.example.evil.com'))
    forbidden(site, echo, '/all/x', tok(keys, site, email='alice@corp.example\n'))
    forbidden(site, echo, '/all/x', tok(keys, site, groups=['dev']))
    forbidden(site, echo, '/all/x', tok(keys, site, groups='dev'))
    # CONFIG.md: `in` on a string is a substring test, so a string claim 'devops' matches
    allowed(site, echo, '/all/x', tok(keys, site, groups='devops'))
    forbidden(site, echo, '/all/x', tok(keys, site, email=None))


# -- RequireAny, authflow-claim --------------------------------------------------------------
@pytest.mark.allow_log(DENIAL_LOG)
def test_require_any(site, keys, echo):
    allowed(site, echo, '/any/x', tok(keys, site, groups=['admin']))
    allowed(site, echo, '/any/x', tok(keys, site, realm_access={'roles': ['admin', 'x']}))
    allowed(site, echo, '/any/x', tok(keys, site, email='boss@corp.example'))
    allowed(site, echo, '/any/x', tok(keys, site, email='ceo@corp.example'))
    forbidden(site, echo, '/any/x', tok(keys, site))
    forbidden(site, echo, '/any/x', tok(keys, site, email='Boss@corp.example'))
    forbidden(site, echo, '/any/x', tok(keys, site, realm_access={'roles': ['x', 'admin']}))


# -- RequireNone ---------------------------------------------------------------------------
@pytest.mark.allow_log(DENIAL_LOG)
def test_require_none(site, keys, echo):
    allowed(site, echo, '/none/x', tok(keys, site))
    allowed(site, echo, '/none/x', tok(keys, site, groups=[]))
    forbidden(site, echo, '/none/x', tok(keys, site, groups=['ops', 'banned']))
    forbidden(site, echo, '/none/x', tok(keys, site, realm_access={'roles': ['suspended']}))


# -- now(), exists(), len(), unquoted expression ---------------------------------------------
@pytest.mark.allow_log(DENIAL_LOG)
def test_mfa_recent(site, keys, echo):
    now = int(time.time())
    allowed(site, echo, '/mfa/x', tok(keys, site, auth_time=now - 3000))
    forbidden(site, echo, '/mfa/x', tok(keys, site, auth_time=now - 4000))
    forbidden(site, echo, '/mfa/x', tok(keys, site, auth_time=str(now)))
    forbidden(site, echo, '/mfa/x', tok(keys, site, amr=['pwd']))
    forbidden(site, echo, '/mfa/x', tok(keys, site, amr=None))


@pytest.mark.allow_log(DENIAL_LOG)
def test_unquoted_expression(site, keys, echo):
    allowed(site, echo, '/plain/x', tok(keys, site))
    forbidden(site, echo, '/plain/x', tok(keys, site, groups=['ops']))


# -- AuthMerging --------------------------------------------------------------------------
@pytest.mark.allow_log(DENIAL_LOG)
def test_auth_merging(site, keys, echo):
    both, ops, dev = (tok(keys, site, groups=g) for g in (['ops', 'dev'], ['ops'], ['dev']))
    allowed(site, echo, '/merge/and/x', both)
    forbidden(site, echo, '/merge/and/x', ops)
    forbidden(site, echo, '/merge/and/x', dev)
    allowed(site, echo, '/merge/or/x', ops)
    allowed(site, echo, '/merge/or/x', dev)
    forbidden(site, echo, '/merge/or/x', tok(keys, site, groups=['qa']))
    allowed(site, echo, '/merge/x', ops)
    forbidden(site, echo, '/merge/x', dev)


# -- no token: authentication first (401 for APIs, 302 to login for navigations) ----------------
@pytest.mark.parametrize('path', ['/all/x', '/any/x', '/none/x', '/mfa/x', '/expr/x'])
def test_no_token_is_authentication_not_authorization(site, echo, path):
    m = echo.mark()
    r = http('GET', site.url(path), headers=sites.API)
    assert r.status_code == 401
    assert r.headers.get('WWW-Authenticate', '').startswith('Bearer')
    r = http('GET', site.url(path), headers=sites.NAV)
    ok, why = sites.login_redirect_ok(r, site, path)
    assert ok, why
    assert echo.since(m) == []


@pytest.mark.allow_log(DENIAL_LOG)
def test_cookie_navigation_denied_is_403_not_login_loop(site, keys, echo):
    m = echo.mark()
    r = get(site, '/all/x', tok(keys, site, groups=['dev']), nav=True)
    assert r.status_code == 403
    assert 'Location' not in r.headers
    assert echo.since(m) == []


@pytest.mark.allow_log(DENIAL_LOG)
def test_httpd_default_without_forbid_is_401(site, keys, echo):
    """Without AuthzSendForbiddenOnFailure, mod_authz_core answers an authenticated but
    unauthorized user with 401 (its documented default); still never the backend."""
    forbidden(site, echo, '/default/x', tok(keys, site), status=401)


# -- the denial log line ---------------------------------------------------------------------
@pytest.mark.allow_log(DENIAL_LOG)
def test_denial_logged_with_reason_nothing_secret(site, keys, echo):
    t = tok(keys, site, groups=['dev'], email='secret-person@corp.example')
    mark = len(site.read_log())
    forbidden(site, echo, '/all/x', t)
    time.sleep(0.2)
    log = site.read_log(mark)
    lines = [l for l in log.splitlines() if 'AF04001' in l]
    assert lines, log
    assert re.search(r'\[authflow:info\]', lines[0]), lines[0]
    assert 'reason=policy_denied' in lines[0]
    assert "'ops' in groups" in lines[0]
    assert 'user alice' in lines[0]
    assert t not in log and t.split('.')[1] not in log
    assert 'secret-person' not in lines[0]


# -- ap_expr: authflow_claim() / authflow_claims() ----------------------------------------------
@pytest.mark.allow_log(DENIAL_LOG, r'AH01629')
def test_require_expr_with_authflow_claim(site, keys, echo):
    """`Require expr` needs %{REMOTE_USER} in the expression so that httpd authenticates
    before evaluating it; mod_authz_core then answers a false expression with 401."""
    allowed(site, echo, '/expr/x', tok(keys, site))
    forbidden(site, echo, '/expr/x', tok(keys, site, email='alice@other.example'), status=401)


def test_request_header_from_claim(site, keys, echo):
    seen = allowed(site, echo, '/hdr/x', tok(keys, site, realm_access={'roles': ['r1', 'r2']}))
    assert sites.hdr(seen, 'X-Claim-Email') == 'alice@corp.example'
    assert sites.hdr(seen, 'X-Claim-Groups') == 'ops,dev'
    assert sites.hdr(seen, 'X-Claim-Role') == 'r1'
    assert sites.hdr(seen, 'X-Claim-Missing') == '[]'
    assert sites.hdr(seen, 'X-Claim-Fn') == 'acme'
    assert sites.hdr(seen, 'X-Has-Ops') == 'yes'
    seen = allowed(site, echo, '/hdr/x', tok(keys, site, groups=['dev']))
    assert sites.hdr(seen, 'X-Has-Ops') is None


def test_if_is_evaluated_before_authentication(site, keys, echo):
    """Documented limitation: httpd walks <If> before check_user_id, so authflow_claim()
    is empty there (use Require authflow, or expr= in RequestHeader/Header/RewriteCond)."""
    seen = allowed(site, echo, '/ifx/x', tok(keys, site))
    assert sites.hdr(seen, 'X-If') == 'no'


# -- configtest --------------------------------------------------------------------------------
def conf_with(keys, require):
    return '''
AuthFlowSigningKey "%s" kid=e256
AuthFlowBaseURL http://127.0.0.1:8080
<Location /app>
    AuthType AuthFlow
    %s
</Location>
''' % (keys.ec256.files['pem'], require)


def configtest(workdir, keys, require):
    conf = afharness.render_conf(workdir, afharness.free_port(), conf_with(keys, require))
    return afharness.configtest(workdir, conf)


@pytest.mark.parametrize('require', [
    'Require authflow "email_verified && email =~ /@corp\\.example$/"',
    "Require authflow \"'admin' in groups\"",
    'Require authflow "exists(amr) and \'mfa\' in amr and auth_time > now() - 3600"',
    'Require authflow email_verified',
    'Require authflow-claim groups ops dev',
    'Require expr "authflow_claim(\'email\') == \'a@b.c\'"',
    'Require not authflow "\'banned\' in groups"\n    Require valid-user',
])
def test_configtest_accepts(workdir, keys, require):
    if require.startswith('Require not'):
        require = '<RequireAll>\n%s\n</RequireAll>' % require
    rc, out = configtest(workdir, keys, require)
    assert rc == 0, out
    assert 'Syntax OK' in out


@pytest.mark.parametrize('require,message', [
    ('Require authflow "email_verified && email =="',
     "Require authflow: column 27: expected a value after '=='"),
    ('Require authflow "\'a\' + 1"',
     "Require authflow: column 1: '+' needs numbers, found a string"),
    ('Require authflow "email =~ /(x/"',
     'Require authflow: column 13: invalid regex: missing closing parenthesis'),
    ('Require authflow "email = \'x\'"',
     "Require authflow: column 7: unexpected '=' (did you mean '=='?)"),
    ('Require authflow "/x/ =~ email"',
     "Require authflow: column 1: a regex must be on the right of '=~'"),
    ('Require authflow "groups.\'x\'"',
     "Require authflow: column 8: expected a name after '.'"),
    ('Require authflow ""', 'Require authflow: column 1: expected a value'),
    ('Require authflow-claim groups',
     'Require authflow-claim: expected at least one value after the claim path'),
    ('Require authflow-claim groups. ops',
     "Require authflow-claim: column 8: expected a name after '.'"),
    ('Require expr "authflow_claim(\'a..b\') == \'x\'"',
     "authflow_claim('a..b'): column 3: expected a name after '.'"),
])
def test_configtest_refuses_with_column(workdir, keys, require, message):
    rc, out = configtest(workdir, keys, require)
    assert rc != 0, 'configtest accepted it:\n' + out
    assert message in out, out
    assert re.search(r'line \d+ of ', out), 'no file/line:\n' + out
