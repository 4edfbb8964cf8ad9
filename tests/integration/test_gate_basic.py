"""Issue 3: the gate end to end -- real httpd + mod_proxy_http/mod_proxy_fcgi + echo
backends, over event, worker and prefork.  Happy paths, DENY semantics, H01, H03, F09, D13."""
import json
import urllib.parse

import pytest

import afharness
import sites
import tokens
from afharness import http, http_list
from conftest import start_server
from gatehelp import (accept, deny, good_claims, spoof_variants,
                      values_any_spelling)

SSI_ALLOW = r'AH01330|unable to include'

MORE = '''
ErrorDocument 404 /open/errdoc
RewriteEngine On
RewriteRule ^/rw/(.*)$ /open/$1 [PT]
RewriteRule ^/rwpass/(.*)$ /pass/$1 [PT]
RewriteRule ^/rwapp/(.*)$ /app/$1 [PT]
AddOutputFilter INCLUDES .shtml
'''

SSI = ('<!--#include virtual="/open/ssi" -->\n<!--#include virtual="/pass/ssi" -->\n')


@pytest.fixture(scope='module', params=afharness.MPMS)
def site(request, keys, echo, fcgi):
    mpm = request.param
    srv = start_server(request, 'gate-' + mpm, sites.standard_site(keys, echo, fcgi, more=MORE),
                       mpm=mpm, files={'htdocs/ssi.shtml': SSI}, allow=[SSI_ALLOW])
    return srv


def spoof_list(names, value='evil'):
    out = []
    for n in names:
        for v in spoof_variants(n):
            out.append((v, value))
    return out


EXPORTED = ['X-Auth-Email', 'X-Auth-Groups', 'X-Auth-Org']


# -- happy paths ----------------------------------------------------------------------
def test_bearer_reaches_backend_with_identity(site, echo):
    c = good_claims(site)
    tok = tokens.mint(keys_of(site).ec256, c)
    item = accept(site, echo, tok, path='/app/hello?x=1')
    h = lambda n: sites.hdr(item, n)
    assert item['path'] == '/app/hello?x=1'
    assert h('X-Auth-Email') == 'alice@example.com'
    assert h('X-Auth-Groups') == 'ops,dev'
    assert h('X-Auth-Org') == 'ACME'
    assert h('X-Env-Remote-User') == 'alice'
    assert h('X-Env-Sub') == 'alice'
    assert h('X-Env-Issuer') == site.base
    assert h('X-Env-Expires') == str(c['exp'])
    assert h('X-Env-Claim-Email') == 'alice@example.com'
    assert h('X-Env-Auth-Email') == 'alice@example.com'
    assert h('X-Admin-Fixed') == 'fixed-by-admin'


def test_cookie_reaches_backend_with_identity(site, echo):
    c = good_claims(site, sub='bob', email='bob@example.com')
    tok = tokens.mint(keys_of(site).ec256, c)
    item = accept(site, echo, tok, via='cookie', expect_sub='bob')
    assert sites.hdr(item, 'X-Auth-Email') == 'bob@example.com'
    assert sites.hdr(item, 'X-Env-Remote-User') == 'bob'


@pytest.mark.parametrize('keyname', ['ec384', 'ec521', 'rsa', 'ed', 'old'])
def test_verify_keys_accepted(site, echo, keyname):
    k = getattr(keys_of(site), keyname)
    accept(site, echo, tokens.mint(k, good_claims(site)))


def test_fcgi_backend_sees_env(site, fcgi):
    c = good_claims(site)
    tok = tokens.mint(keys_of(site).ec256, c)
    m = fcgi.mark()
    r = http('GET', site.url('/fcgi/x'), headers=sites.bearer(tok))
    assert r.status_code == 200, r.text[:300]
    got = fcgi.since(m)
    assert len(got) == 1
    env = got[0]['env']
    assert env.get('REMOTE_USER') == 'alice'
    assert env.get('AUTHFLOW_SUB') == 'alice'
    assert env.get('AUTHFLOW_ISSUER') == site.base
    assert env.get('AUTHFLOW_EXPIRES') == str(c['exp'])
    assert 'AUTHFLOW_PROVIDER' in env
    assert env.get('AUTHFLOW_CLAIM_EMAIL') == 'alice@example.com'
    assert env.get('AUTH_EMAIL_ENV') == 'alice@example.com'
    assert env.get('AUTH_GROUPS_ENV') == 'ops;dev'
    assert env.get('HTTP_X_AUTH_EMAIL') == 'alice@example.com'
    assert 'HTTP_AUTHORIZATION' not in env, 'bearer forwarded to the FastCGI app (F09)'
    assert tok not in json.dumps(env)


def test_F09_fcgi_gets_no_token_cookie(site, fcgi):
    tok = tokens.mint(keys_of(site).ec256, good_claims(site))
    m = fcgi.mark()
    ck = 'theme=dark; %s=%s; authflow-rt=rt-secret-value' % (sites.COOKIE, tok)
    r = http('GET', site.url('/fcgi/ck'), headers=dict(sites.NAV, Cookie=ck))
    assert r.status_code == 200
    env = fcgi.since(m)[0]['env']
    assert env.get('REMOTE_USER') == 'alice'
    blob = json.dumps(env)
    assert tok not in blob and 'rt-secret-value' not in blob
    assert 'theme=dark' in env.get('HTTP_COOKIE', '')


def test_fcgi_auth_type(site, fcgi):
    """AUTH_TYPE (CGI/FastCGI) names the mechanism, like AuthType Basic does (r->ap_auth_type)."""
    tok = tokens.mint(keys_of(site).ec256, good_claims(site))
    m = fcgi.mark()
    r = http('GET', site.url('/fcgi/at'), headers=sites.bearer(tok))
    assert r.status_code == 200
    assert fcgi.since(m)[0]['env'].get('AUTH_TYPE', '').lower() == 'authflow'


def test_fcgi_export_all_off(site, fcgi):
    tok = tokens.mint(keys_of(site).ec256, good_claims(site))
    m = fcgi.mark()
    r = http('GET', site.url('/noall/x'), headers=sites.bearer(tok))
    assert r.status_code == 200
    env = fcgi.since(m)[0]['env']
    assert env.get('AUTHFLOW_SUB') == 'alice'
    assert [k for k in env if k.startswith('AUTHFLOW_CLAIM_')] == []


def test_user_claim_email(site, echo):
    tok = tokens.mint(keys_of(site).ec256, good_claims(site))
    item = accept(site, echo, tok, path='/byemail/x')
    assert sites.hdr(item, 'X-Env-Remote-User') == 'alice@example.com'


# -- unauthenticated: navigation vs API ------------------------------------------------------
def test_no_token_navigation_redirects_to_login(site, echo):
    m = echo.mark()
    r = http('GET', site.url('/app/page?a=1&b=2'), headers=sites.NAV)
    ok, why = sites.login_redirect_ok(r, site, '/app/page?a=1&b=2')
    assert ok, why
    assert echo.since(m) == []


def test_no_token_accept_html_without_sec_fetch_redirects(site, echo):
    m = echo.mark()
    r = http('GET', site.url('/app/page'), headers={'Accept': 'text/html'})
    ok, why = sites.login_redirect_ok(r, site, '/app/page')
    assert ok, why
    assert echo.since(m) == []


def test_no_token_api_gets_401(site, echo):
    m = echo.mark()
    r = http('GET', site.url('/app/data'), headers=sites.API)
    assert r.status_code == 401
    assert r.headers.get('WWW-Authenticate', '').startswith('Bearer')
    # an html Accept from fetch() (Sec-Fetch-Mode: cors) is not a navigation
    r = http('GET', site.url('/app/data'), headers={'Accept': 'text/html', 'Sec-Fetch-Mode': 'cors'})
    assert r.status_code == 401
    assert echo.since(m) == []


def test_no_token_www_authenticate_has_no_error_code(site, echo):
    """RFC 6750 3.1: a request without any credentials gets a bare Bearer challenge (no error
    code); error="invalid_token" is for a token that was presented and refused."""
    r = http('GET', site.url('/app/data'), headers=sites.API)
    assert r.status_code == 401
    www = r.headers.get('WWW-Authenticate', '')
    assert www.startswith('Bearer') and 'error=' not in www, www


def test_unauthenticated_401_mode(site, echo):
    m = echo.mark()
    r = http('GET', site.url('/api/page'), headers=sites.NAV)
    assert r.status_code == 401
    assert echo.since(m) == []


def test_unauthenticated_redirect_mode(site, echo):
    m = echo.mark()
    r = http('GET', site.url('/nav/data'), headers=sites.API)
    ok, why = sites.login_redirect_ok(r, site, '/nav/data')
    assert ok, why
    assert echo.since(m) == []


def test_pass_mode_anonymous_and_authenticated(site, echo):
    m = echo.mark()
    r = http('GET', site.url('/pass/anon'), headers=sites.API)
    assert r.status_code == 200
    item = echo.since(m)[0]
    assert values_any_spelling(item, 'X-Auth-Email') == []
    assert sites.hdr(item, 'X-Env-Sub') in ('(null)', '', None)
    assert sites.hdr(item, 'X-Env-Remote-User') in ('(null)', '', None)
    tok = tokens.mint(keys_of(site).ec256, good_claims(site))
    item = accept(site, echo, tok, path='/pass/authed')
    assert sites.hdr(item, 'X-Auth-Email') == 'alice@example.com'


def test_pass_mode_bad_token_is_anonymous(site, echo):
    bad = tokens.mint(keys_of(site).attacker, good_claims(site, sub='admin'))
    m = echo.mark()
    r = http('GET', site.url('/pass/bad'), headers=sites.bearer(bad))
    assert r.status_code in (200, 401)
    for item in echo.since(m):
        assert sites.hdr(item, 'X-Env-Sub') in ('(null)', '', None)
        assert values_any_spelling(item, 'X-Auth-Email') == []


def test_token_from_cookie_only(site, echo):
    tok = tokens.mint(keys_of(site).ec256, good_claims(site))
    accept(site, echo, tok, path='/cookieonly/x', via='cookie')
    m = echo.mark()
    r = http('GET', site.url('/cookieonly/x'), headers=sites.bearer(tok))
    assert r.status_code == 401
    assert echo.since(m) == []


def test_token_from_bearer_only(site, echo):
    tok = tokens.mint(keys_of(site).ec256, good_claims(site))
    accept(site, echo, tok, path='/beareronly/x', via='bearer')
    m = echo.mark()
    r = http('GET', site.url('/beareronly/x'), headers=sites.cookie(tok, nav=False))
    assert r.status_code == 401
    assert echo.since(m) == []


def test_deny_semantics_bad_signature(site, echo):
    tok = tokens.mint(keys_of(site).attacker, good_claims(site, sub='admin'))
    deny(site, echo, tok)


# -- H01: spoofed export headers with a valid token ----------------------------------------
def test_H01_spoofed_headers_replaced(site, echo):
    tok = tokens.mint(keys_of(site).ec256, good_claims(site))
    hl = [('Authorization', 'Bearer ' + tok), ('Accept', 'application/json')]
    hl += spoof_list(EXPORTED)
    m = echo.mark()
    r = http_list(site.port, 'GET', '/app/h01', hl)
    assert r.status_code == 200, r.text[:200]
    item = echo.since(m)[0]
    assert values_any_spelling(item, 'X-Auth-Email') == ['alice@example.com']
    assert values_any_spelling(item, 'X-Auth-Groups') == ['ops,dev']
    assert values_any_spelling(item, 'X-Auth-Org') == ['ACME']
    assert 'evil' not in json.dumps(item['headers'])


def test_H01_spoofed_header_removed_when_claim_absent(site, echo):
    c = good_claims(site, email=None, groups=None, org=None)
    tok = tokens.mint(keys_of(site).ec256, c)
    hl = [('Authorization', 'Bearer ' + tok)] + spoof_list(EXPORTED)
    m = echo.mark()
    r = http_list(site.port, 'GET', '/app/h01b', hl)
    assert r.status_code == 200
    item = echo.since(m)[0]
    for n in EXPORTED:
        assert values_any_spelling(item, n) == [], n
    assert 'evil' not in json.dumps(item['headers'])


def test_H01_spoofed_cookie_path(site, echo):
    tok = tokens.mint(keys_of(site).ec256, good_claims(site))
    hl = [('Cookie', '%s=%s' % (sites.COOKIE, tok)), ('Sec-Fetch-Mode', 'navigate'),
          ('Accept', 'text/html')] + spoof_list(EXPORTED)
    m = echo.mark()
    r = http_list(site.port, 'GET', '/app/h01c', hl)
    assert r.status_code == 200
    item = echo.since(m)[0]
    assert values_any_spelling(item, 'X-Auth-Email') == ['alice@example.com']
    assert 'evil' not in json.dumps(item['headers'])


def test_H01_fcgi_env_not_spoofable(site, fcgi):
    tok = tokens.mint(keys_of(site).ec256, good_claims(site))
    hl = [('Authorization', 'Bearer ' + tok)] + spoof_list(['X-Auth-Email'])
    m = fcgi.mark()
    r = http_list(site.port, 'GET', '/fcgi/h01', hl)
    assert r.status_code == 200
    env = fcgi.since(m)[0]['env']
    assert env.get('HTTP_X_AUTH_EMAIL') == 'alice@example.com'
    assert 'evil' not in json.dumps(env)


# -- H03: spoofed headers on every other path ------------------------------------------------
def _no_spoof(items):
    for item in items:
        blob = json.dumps(item)
        assert 'evil' not in blob, 'spoofed value reached the backend: %s' % blob[:400]


@pytest.mark.parametrize('path', ['/pass/h03', '/open/h03', '/rw/h03', '/rwpass/h03'])
def test_H03_spoof_scrubbed_pass_open_rewrite(site, echo, path):
    m = echo.mark()
    r = http_list(site.port, 'GET', path, [('Accept', 'application/json')] + spoof_list(EXPORTED))
    assert r.status_code == 200, r.status_code
    got = echo.since(m)
    assert len(got) == 1
    _no_spoof(got)


def test_H03_unauthenticated_protected_never_reaches_backend(site, echo):
    m = echo.mark()
    for path in ('/app/h03', '/rwapp/h03', '/api/h03', '/nav/h03'):
        r = http_list(site.port, 'GET', path, [('Accept', 'application/json')]
                      + spoof_list(EXPORTED))
        assert r.status_code in (302, 401), (path, r.status_code)
    assert echo.since(m) == []


@pytest.mark.parametrize('path', ['/app/pre', '/pass/pre', '/open/pre'])
def test_H03_options_preflight(site, echo, path):
    m = echo.mark()
    hl = [('Origin', 'http://127.0.0.1:1'), ('Access-Control-Request-Method', 'POST'),
          ('Access-Control-Request-Headers', 'x-auth-email')] + spoof_list(EXPORTED)
    r = http_list(site.port, 'OPTIONS', path, hl)
    assert r.status_code < 500
    _no_spoof(echo.since(m))


def test_H03_error_document_internal_redirect(site, echo):
    m = echo.mark()
    r = http_list(site.port, 'GET', '/no-such-file.html', [('Accept', 'text/html')]
                  + spoof_list(EXPORTED))
    got = echo.since(m)
    assert r.status_code in (200, 404)   # a proxied ErrorDocument carries the backend status
    assert len(got) == 1 and got[0]['path'] == '/open/errdoc', got
    _no_spoof(got)


def test_H03_ssi_subrequests(site, echo):
    m = echo.mark()
    r = http_list(site.port, 'GET', '/ssi.shtml', spoof_list(EXPORTED))
    assert r.status_code == 200
    got = echo.since(m)
    assert sorted(g['path'] for g in got) == ['/open/ssi', '/pass/ssi'], got
    _no_spoof(got)
    assert 'evil' not in r.text


# -- F09: no token material to the backend -----------------------------------------------------
def test_F09_backend_gets_no_token_cookies_or_bearer(site, echo):
    tok = tokens.mint(keys_of(site).ec256, good_claims(site))
    m = echo.mark()
    ck = '%s=%s; authflow-rt=rt-secret-value; authflow-flow=flow-secret' % (sites.COOKIE, tok)
    r = http('GET', site.url('/app/f09'), headers=dict(sites.NAV, Cookie=ck))
    assert r.status_code == 200
    r = http('GET', site.url('/app/f09'), headers=sites.bearer(tok))
    assert r.status_code == 200
    got = echo.since(m)
    assert len(got) == 2
    for item in got:
        blob = json.dumps(item)
        assert tok not in blob
        assert 'rt-secret-value' not in blob and 'flow-secret' not in blob
        assert values_any_spelling(item, 'Authorization') == []


def test_F09_other_cookies_kept(site, echo):
    tok = tokens.mint(keys_of(site).ec256, good_claims(site))
    m = echo.mark()
    ck = 'theme=dark; %s=%s; lang=en' % (sites.COOKIE, tok)
    r = http('GET', site.url('/app/f09b'), headers=dict(sites.NAV, Cookie=ck))
    assert r.status_code == 200
    item = echo.since(m)[0]
    cookies = '; '.join(values_any_spelling(item, 'Cookie'))
    assert 'theme=dark' in cookies and 'lang=en' in cookies
    assert tok not in cookies


def test_F09_pass_location_bearer_not_forwarded(site, echo):
    tok = tokens.mint(keys_of(site).ec256, good_claims(site))
    item = accept(site, echo, tok, path='/pass/f09')
    assert values_any_spelling(item, 'Authorization') == []
    assert tok not in json.dumps(item)


@pytest.mark.parametrize('via', ['bearer', 'cookie'])
def test_F09_forward_token_on(site, echo, via):
    tok = tokens.mint(keys_of(site).ec256, good_claims(site))
    item = accept(site, echo, tok, path='/fwd/x', via=via)
    assert values_any_spelling(item, 'Authorization') == ['Bearer ' + tok]
    assert tok not in '; '.join(values_any_spelling(item, 'Cookie'))


# -- D13: token in the URL or a form body is ignored -------------------------------------------
def test_D13_access_token_in_query_or_body_ignored(site, echo):
    tok = tokens.mint(keys_of(site).ec256, good_claims(site))
    m = echo.mark()
    r = http('GET', site.url('/app/d13?access_token=' + tok), headers=sites.API)
    assert r.status_code == 401
    r = http('POST', site.url('/app/d13'), headers=dict(sites.API, **{
        'Content-Type': 'application/x-www-form-urlencoded'}),
        data='access_token=' + urllib.parse.quote(tok))
    assert r.status_code == 401
    r = http('GET', site.url('/app/d13?access_token=' + tok), headers=sites.NAV)
    assert r.status_code == 302
    assert echo.since(m) == []


def keys_of(srv):
    return srv._keys


@pytest.fixture(autouse=True)
def _attach_keys(request, keys):
    if 'site' in request.fixturenames:
        request.getfixturevalue('site')._keys = keys
