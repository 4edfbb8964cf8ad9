"""Full login through the real OpenID provider (oidc-provider), without a browser.

protected page -> 302 to <endpoint>/login -> 302 to the IdP (flow cookie) -> the IdP's dev
login + consent forms (walked with requests) -> callback -> cookies + 302 back to the page ->
the page through the gate, with the claims the backend receives.

Covers issue 4 "full code+PKCE login without a browser for RS256 and ES256 id_tokens,
client_secret_basic and _post" (E01, E08, E14), and on the way D01 (authorization request),
D04 (replayed callback), D09 (exact callback path), D12 (response headers), F01 (cookie
attributes, http-loopback variant), session and jwks.json.
"""
import json
import os
import sys
import urllib.parse

import pytest
import requests

import afharness
import backends

sys.path.insert(0, os.path.join(afharness.REPO, 'tests', 'idp'))
from idp_fixture import BASIC_CLIENT, POST_CLIENT, OidcProvider, free_port, walk_login  # noqa

HTDOCS = os.path.join(afharness.REPO, 'htdocs')

SITE = '''
AuthFlowBaseURL @BASE@
AuthFlowStore "@ROOT@/store"
AuthFlowTemplateDir "%(htdocs)s"
<AuthFlowProvider idp>
    Issuer %(issuer)s
    ClientID %(cid)s
    ClientSecret %(secret)s
    TokenEndpointAuth %(auth)s
    Scope "openid email profile groups"
    IDTokenSigningAlg %(alg)s
</AuthFlowProvider>
<Location /auth>
    SetHandler authflow
</Location>
<Location /app>
    AuthType AuthFlow
    AuthFlowLogin idp
    Require valid-user
    AuthFlowExport header X-Auth-Email email
    AuthFlowExport header X-Auth-Groups groups join=,
    ProxyPass "%(backend)s/app"
</Location>
'''

NAV = {'Accept': 'text/html', 'Sec-Fetch-Mode': 'navigate'}


def set_cookies(resp):
    """name -> full Set-Cookie header value."""
    out = {}
    for k, v in resp.raw.headers.items():
        if k.lower() == 'set-cookie':
            out[v.split('=', 1)[0]] = v
    return out


def cookie_value(sc):
    return sc.split(';', 1)[0].split('=', 1)[1]


def attrs(sc):
    return [a.strip().lower() for a in sc.split(';')[1:]]


@pytest.fixture
def site(httpd, echo):
    servers = []

    def make(alg='RS256', client=BASIC_CLIENT, auth='client_secret_basic', mpm='event',
             extra=''):
        idp_port = free_port()
        body = extra + SITE % dict(htdocs=HTDOCS, issuer='http://127.0.0.1:%d' % idp_port,
                           cid=client[0], secret=client[1], auth=auth, alg=alg,
                           backend=echo.url)
        srv = httpd('login-%s-%s' % (alg, auth), body, mpm=mpm)
        idp = OidcProvider(port=idp_port, alg=alg, redirect_uris=[srv.base + '/auth/callback'])
        servers.append(idp)
        return srv, idp

    yield make
    for s in servers:
        s.stop()


def login(srv, path='/app/page?x=1&y=%2F'):
    """Walk the whole login; returns (callback response, callback url, flow cookie)."""
    r = afharness.http('GET', srv.url(path), headers=NAV)
    assert r.status_code == 302, r.text
    loc = r.headers['Location']
    assert loc.startswith(srv.base + '/auth/login?provider=idp&return_to=')

    r = afharness.http('GET', loc)
    assert r.status_code == 302, r.text
    assert r.headers['Cache-Control'] == 'no-store'
    auth_url = r.headers['Location']
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(auth_url).query, strict_parsing=True)
    # D01: the authorization request
    assert q['response_type'] == ['code']
    assert q['code_challenge_method'] == ['S256']
    assert len(q['code_challenge'][0]) == 43
    assert q['redirect_uri'] == [srv.base + '/auth/callback']
    assert 'openid' in q['scope'][0].split()
    assert len(q['state'][0]) >= 22 and len(q['nonce'][0]) >= 22
    cookies = set_cookies(r)
    flow = cookies['authflow-flow']
    a = attrs(flow)
    assert 'httponly' in a and 'path=/' in a and 'samesite=lax' in a
    assert q['state'][0] not in flow and q['nonce'][0] not in flow   # sealed

    with requests.Session() as idp_session:
        cb_url = walk_login(idp_session, auth_url, username='alice')
    assert cb_url.startswith(srv.base + '/auth/callback?')
    cb_path = cb_url[len(srv.base):]
    r = afharness.http('GET', srv.url(cb_path),
                       headers={'Cookie': 'authflow-flow=' + cookie_value(flow)})
    return r, cb_path, cookie_value(flow)


@pytest.mark.parametrize('alg,client,auth,mpm', [
    ('RS256', BASIC_CLIENT, 'client_secret_basic', 'event'),
    ('ES256', BASIC_CLIENT, 'client_secret_basic', 'prefork'),
    ('RS256', POST_CLIENT, 'client_secret_post', 'worker'),
    ('ES256', POST_CLIENT, 'client_secret_post', 'event'),
])
def test_E01_full_login(site, echo, alg, client, auth, mpm):
    srv, idp = site(alg, client, auth, mpm=mpm)
    r, cb_path, flow = login(srv)
    assert r.status_code == 302, r.text
    # D12: clean redirect back to the page first asked for
    assert r.headers['Location'] == srv.base + '/app/page?x=1&y=%2F'
    assert r.headers['Cache-Control'] == 'no-store'
    assert r.headers['Referrer-Policy'] == 'no-referrer'
    cookies = set_cookies(r)
    at, rt = cookies['authflow-at'], cookies['authflow-rt']
    for c in (at, rt):
        a = attrs(c)
        assert 'httponly' in a and 'path=/' in a and 'samesite=lax' in a
        assert not any(x.startswith('domain') for x in a)
    assert 'max-age=600' in attrs(at)
    assert 'max-age=0' in attrs(cookies['authflow-flow'])     # flow cleared
    at_v, rt_v = cookie_value(at), cookie_value(rt)
    assert at_v.count('.') == 2 and len(rt_v) == 43
    assert len('authflow-at=' + at_v) <= 4096

    # the protected page with the cookies: the backend sees the claims, not the cookies
    mark = echo.mark()
    r = afharness.http('GET', srv.url('/app/page'),
                       headers={'Cookie': 'authflow-at=%s; authflow-rt=%s; other=1' % (at_v, rt_v)})
    assert r.status_code == 200, r.text
    seen = echo.since(mark)[-1]
    assert backends.header_values(seen, 'X-Auth-Email') == ['alice@example.com']
    assert backends.header_values(seen, 'X-Auth-Groups') == ['ops,dev']
    cookie_hdr = ' '.join(backends.header_values(seen, 'Cookie'))
    assert at_v not in cookie_hdr and rt_v not in cookie_hdr

    # session: claims as JSON, no token
    r = afharness.http('GET', srv.url('/auth/session'), headers={'Cookie': 'authflow-at=' + at_v})
    assert r.status_code == 200
    s = r.json()
    assert s['sub'] == 'alice@idp' and s['idp'] == 'idp' and s['email'] == 'alice@example.com'
    assert s['idp_sub'] == 'alice'
    assert s['email_verified'] is True and s['groups'] == ['ops', 'dev']
    assert 'exp' in s and 'sid' in s
    assert at_v not in r.text and rt_v not in r.text
    assert afharness.http('GET', srv.url('/auth/session')).status_code == 401

    # D04: the same callback again (same flow cookie) fails and creates nothing
    r = afharness.http('GET', srv.url(cb_path), headers={'Cookie': 'authflow-flow=' + flow})
    assert r.status_code == 400
    assert 'authflow-at' not in set_cookies(r)
    assert 'max-age=0' in attrs(set_cookies(r)['authflow-flow'])
    assert r.headers['X-Frame-Options'] == 'DENY'
    assert "frame-ancestors 'none'" in r.headers['Content-Security-Policy']
    assert 'flow_replayed' in r.text


def test_D09_callback_path_exact(site):
    srv, idp = site()
    for path in ('/auth/callback/x', '/auth/callback;x', '/auth//callback', '/auth/callback/',
                 '/auth/Callback'):
        r = afharness.http('GET', srv.url(path + '?code=a&state=b'))
        assert r.status_code == 404, path


def test_jwks_has_default_key(site):
    srv, idp = site()
    r = afharness.http('GET', srv.url('/auth/jwks.json'))
    assert r.status_code == 200
    keys = r.json()['keys']
    assert len(keys) == 1 and keys[0]['kty'] == 'EC' and keys[0]['crv'] == 'P-256'
    assert 'd' not in keys[0]
    st = os.stat(os.path.join(srv.root, 'store', 'signing-key.pem'))
    assert st.st_mode & 0o077 == 0


TWO = '''
AuthFlowBaseURL @BASE@
AuthFlowStore "@ROOT@/store"
<AuthFlowProvider one>
    Issuer http://127.0.0.1:9/one
    ClientID c1
    ClientSecret s1
</AuthFlowProvider>
<AuthFlowProvider two>
    AuthorizationEndpoint http://127.0.0.1:9/authorize
    TokenEndpoint http://127.0.0.1:9/token
    UserinfoEndpoint http://127.0.0.1:9/user
    ClientID c2
    ClientSecret s2
    SubjectClaim id
</AuthFlowProvider>
<Location /auth>
    SetHandler authflow
</Location>
'''


def test_H11_chooser_escaped(httpd):
    srv = httpd('login-chooser', TWO)
    r = afharness.http('GET', srv.url('/auth/login?return_to=/x%22%3E%3Cscript%3Ealert(1)%3C/script%3E'))
    assert r.status_code == 200
    assert r.headers['X-Frame-Options'] == 'DENY'
    assert r.headers['Cache-Control'] == 'no-store'
    assert r.headers['Referrer-Policy'] == 'no-referrer'
    assert '<script>' not in r.text and '"><script' not in r.text
    # the return_to stays inside the href: every link has exactly the module's attributes
    import html.parser

    class Links(html.parser.HTMLParser):
        attrs = []

        def handle_starttag(self, tag, attrs):
            if tag == 'a':
                self.attrs.append(sorted(k for k, _ in attrs))
            assert tag not in ('script', 'img', 'iframe'), tag
    parser = Links()
    parser.feed(r.text)
    assert parser.attrs == [['class', 'href'], ['class', 'href']], parser.attrs
    assert 'provider=one&amp;return_to=%2Fx%22%3E%3Cscript%3E' in r.text
    assert 'provider=two' in r.text
    # unknown provider, bad queries (H10)
    assert afharness.http('GET', srv.url('/auth/login?provider=three')).status_code == 400
    assert afharness.http('GET', srv.url('/auth/login?provider=one&provider=two')).status_code == 400
    assert afharness.http('GET', srv.url('/auth/login?&&&')).status_code == 400
    assert afharness.http_list(srv.port, 'GET', '/auth/login?%zz=1', [('Host', 'x')]).status_code == 400
    assert afharness.http_list(srv.port, 'GET', '/auth/login?provider=%00', [('Host', 'x')]).status_code == 400
    assert afharness.http('GET', srv.url('/auth/login?' + 'a&' * 2000 + 'b')).status_code == 400
    assert afharness.http('GET', srv.url('/auth/callback?' + 'a=1&' * 2000)).status_code == 400
    assert afharness.http('GET', srv.url('/auth/callback?&&&')).status_code == 400
    assert afharness.http('GET', srv.url('/auth/callback')).status_code == 400
    assert afharness.http('POST', srv.url('/auth/login'), data='x').status_code == 405
    assert afharness.http('GET', srv.url('/auth/nothing')).status_code == 404


@pytest.mark.parametrize('return_to,expect', [
    ('/deep/page?a=1', '/deep/page?a=1'),
    ('//evil.example/x', '/'),
    ('/\\evil.example/x', '/'),
    ('https://evil.example/x', '/'),
    ('/\t/evil.example', '/'),          # browsers drop the tab: "//evil.example"
    ('/%2F%2Fx', '/%2F%2Fx'),
    ('@BASE@/same/origin', '@BASE@/same/origin'),
    ('javascript:alert(1)', '/'),
])
def test_D08_return_to(site, return_to, expect):
    srv, idp = site()
    rt = return_to.replace('@BASE@', srv.base)
    r = afharness.http('GET', srv.url('/auth/login?provider=idp&return_to=' +
                                      urllib.parse.quote(rt, safe='')))
    assert r.status_code == 302
    flow = cookie_value(set_cookies(r)['authflow-flow'])
    with requests.Session() as s:
        cb = walk_login(s, r.headers['Location'])
    r = afharness.http('GET', cb, headers={'Cookie': 'authflow-flow=' + flow})
    assert r.status_code == 302
    want = expect.replace('@BASE@', srv.base)
    if want.startswith('/'):
        want = srv.base + want
    assert r.headers['Location'] == want


@pytest.mark.parametrize('block,needle', [
    ('<AuthFlowProvider p>\n  Issuer http://127.0.0.1:9\n  ClientID c\n  Bogus 1\n</AuthFlowProvider>',
     r"unknown key 'Bogus' \(.*httpd-t.conf:\d+\)"),
    ('<AuthFlowProvider p>\n  Issuer http://idp.example.com\n  ClientID c\n</AuthFlowProvider>',
     r'<AuthFlowProvider p>'),
    ('<AuthFlowProvider p>\n  Issuer https://idp.example.com\n</AuthFlowProvider>',
     r'<AuthFlowProvider p>'),
    ('<AuthFlowProvider p>\n  Issuer https://idp.example.com\n  ClientID c\n  ClientSecretFile /nonexistent\n</AuthFlowProvider>',
     r'ClientSecretFile /nonexistent: cannot read'),
    ('<AuthFlowProvider p>\n  Issuer https://a.example\n  ClientID c\n</AuthFlowProvider>\n'
     '<AuthFlowProvider p>\n  Issuer https://a.example\n  ClientID c\n</AuthFlowProvider>',
     r'defined twice'),
    ('<AuthFlowProvider p>\n  Timeout 10x\n</AuthFlowProvider>', r'Timeout'),
    ('AuthFlowReturnTo https://*.example.com', r'AuthFlowReturnTo'),
    ('AuthFlowReturnTo http://evil.example', r'AuthFlowReturnTo'),
    ('AuthFlowReuseGrace 5m', r'AuthFlowReuseGrace'),
    ('AuthFlowRefreshTTL soon', r'AuthFlowRefreshTTL'),
    ('AuthFlowStoreMapSize 12Q', r'AuthFlowStoreMapSize'),
    ('AuthFlowCookieSameSite None', r'AuthFlowCookieSameSite'),
    ('AuthFlowCookieSameSite Loose', r'AuthFlowCookieSameSite'),
    ('AuthFlowTemplateDir /nonexistent', r'AuthFlowTemplateDir'),
    ('AuthFlowTokenClaims a,b', r'AuthFlowTokenClaims'),
])
def test_configtest_login_directives(workdir, block, needle):
    import re
    body = 'AuthFlowBaseURL http://127.0.0.1:8080\nAuthFlowStore "%s/store"\n%s\n' % (workdir, block)
    rc, out = afharness.configtest(workdir, afharness.render_conf(workdir, 8080, body))
    assert rc != 0, out
    assert re.search(needle, out), out


LOGIN_OK = ('AuthFlowBaseURL http://127.0.0.1:@PORT@\nAuthFlowStore "@ROOT@/store"\n'
            'AuthFlowTemplateDir "%s"\nAuthFlowReturnTo https://other.example:8443/\n'
            '<AuthFlowProvider p>\n  Issuer http://127.0.0.1:9\n  ClientID c\n'
            '  ClientSecret "s e c"\n  Scope "openid email"\n  AuthParam prompt login\n'
            '  Claim team org.team\n  Timeout 5s\n</AuthFlowProvider>\n'
            '<Location /app>\n  AuthType AuthFlow\n  Require valid-user\n'
            '  AuthFlowCheckRevocation off\n</Location>\n' % HTDOCS)


def test_configtest_login_ok_and_without_side_effects(workdir):
    """configtest accepts the site and, issue 11, creates nothing: not the store directory,
    not the server secret, not the default signing key (it used to create all three)."""
    body = LOGIN_OK.replace('@ROOT@', workdir).replace('@PORT@', '8080')
    rc, out = afharness.configtest(workdir, afharness.render_conf(workdir, 8080, body))
    assert rc == 0, out
    assert not os.path.exists(os.path.join(workdir, 'store')), os.listdir(workdir)


def test_start_creates_the_store_privately(httpd):
    """Starting httpd makes the store, the server secret and the default signing key, once,
    private to the child user."""
    srv = httpd('login-ok', LOGIN_OK)
    for f in ('signing-key.pem', 'secret.key'):
        assert os.stat(os.path.join(srv.root, 'store', f)).st_mode & 0o077 == 0
    assert os.stat(os.path.join(srv.root, 'store')).st_mode & 0o077 == 0


def test_provider_inherited_by_vhost_with_own_redirect_uri(httpd):
    """A provider of the main server serves every vhost, each with its own redirect_uri
    (from its own AuthFlowBaseURL, never from Host)."""
    body = '''
AuthFlowBaseURL @BASE@
AuthFlowStore "@ROOT@/store"
<AuthFlowProvider idp>
    AuthorizationEndpoint http://127.0.0.1:9/authorize
    TokenEndpoint http://127.0.0.1:9/token
    UserinfoEndpoint http://127.0.0.1:9/user
    ClientID c
    ClientSecret s
</AuthFlowProvider>
<Location /auth>
    SetHandler authflow
</Location>
<VirtualHost 127.0.0.1:@PORT2@>
    ServerName localhost
    AuthFlowBaseURL http://localhost:@PORT2@
    <Location /auth>
        SetHandler authflow
    </Location>
</VirtualHost>
'''
    srv = httpd('login-vhosts', body, ports=2)
    for port, base in ((srv.ports[0], srv.base),
                       (srv.ports[1], 'http://localhost:%d' % srv.ports[1])):
        r = afharness.http('GET', 'http://127.0.0.1:%d/auth/login' % port,
                           headers={'Host': 'evil.example', 'X-Forwarded-Host': 'evil.example'})
        assert r.status_code == 302, r.text
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(r.headers['Location']).query)
        assert q['redirect_uri'] == [base + '/auth/callback']


def test_samesite_strict_continues_from_own_page(site):
    srv, idp = site(extra='AuthFlowCookieSameSite Strict\n', mpm='prefork')
    r, _, _ = login(srv)
    assert r.status_code == 200, r.text
    assert 'http-equiv="refresh" content="0;url=%s/app/page?x=1&amp;y=%%2F"' % srv.base in r.text
    c = set_cookies(r)
    assert 'samesite=strict' in attrs(c['authflow-at']) and 'samesite=strict' in attrs(c['authflow-rt'])
    assert r.headers['Cache-Control'] == 'no-store' and r.headers['X-Frame-Options'] == 'DENY'
