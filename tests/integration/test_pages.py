"""Issue 16, the pages people see: the chooser (one button per provider in configuration order,
preset wording, DisplayName escaped, per language), the language (Accept-Language with q-values,
AuthFlowLanguage), the error page (a sentence per reason, try-again link with return_to, reason
code and request id, never the IdP's words), the 401/403 page for a signed-in user whom a
`Require authflow` rule denies, and the headers of every page (CSP without 'unsafe-inline', the
inline style admitted by its SHA-256 hash; H11, D11, D12).

Real parts: httpd, the project's bad IdP (loginhelp.BadIdp), tokens minted by jwcrypto."""
import base64
import hashlib
import os
import html
import re
import urllib.parse

import pytest

import afharness
import conftest
import sites
import tokens
from gatehelp import good_claims
from loginhelp import (NAV, BadIdp, Browser, callback, get, idp_redirect, login_path,
                       provider_block, start, store_unreadable)

DENIAL_LOG = r'AH01631'


@pytest.fixture(scope='module')
def idp():
    s = BadIdp()
    try:
        yield s
    finally:
        s.stop()


def providers(idp):
    return '''
<AuthFlowProvider naver>
    Preset naver
    AuthorizationEndpoint %(u)s/authorize
    TokenEndpoint %(u)s/token
    UserinfoEndpoint %(u)s/userinfo
    ClientID c1
    ClientSecret s1
</AuthFlowProvider>
<AuthFlowProvider corp>
    Issuer %(u)s
    ClientID c2
    ClientSecret s2
    DisplayName "Corp <b>& Co</b>"
    DisplayName ko "회사 계정"
</AuthFlowProvider>
<AuthFlowProvider staff>
    Type password
    AuthnProvider file
</AuthFlowProvider>
<AuthFlowProvider plain>
    Issuer %(u)s
    ClientID c3
    ClientSecret s3
</AuthFlowProvider>
''' % dict(u=idp.url)


def site_body(keys, echo, idp, extra=''):
    k = keys.ec256
    return '''AuthFlowBaseURL @BASE@
AuthFlowStore "@ROOT@/store"
AuthFlowSigningKey "%(pem)s" kid=%(kid)s
%(extra)s
%(providers)s
<Location /auth>
    SetHandler authflow
    AuthUserFile "@ROOT@/htpasswd"
</Location>
<Location /forbid>
    AuthType AuthFlow
    AuthFlowCheckRevocation off
    AuthzSendForbiddenOnFailure On
    Require authflow "'wizards-7' in groups"
    ProxyPass "%(echo)s/forbid"
</Location>
<Location /default>
    AuthType AuthFlow
    AuthFlowCheckRevocation off
    Require authflow "'wizards-7' in groups"
    ProxyPass "%(echo)s/default"
</Location>
<Location /app>
    AuthType AuthFlow
    AuthFlowLogin corp
    Require valid-user
    ProxyPass "%(echo)s/app"
</Location>
''' % dict(pem=k.files['pem'], kid=k.kid, extra=extra, providers=providers(idp), echo=echo.url)


MODULES = afharness.DEFAULT_MODULES + ('authn_file',)


@pytest.fixture(scope='module')
def site(request, keys, echo, idp):
    return conftest.start_server(request, 'pages', site_body(keys, echo, idp), modules=MODULES)


def page(site, path, lang=None):
    h = {'Accept-Language': lang} if lang is not None else {}
    return get(site, path, headers=h)


def buttons(text):
    return re.findall(r'<a class="b([^"]*)" href="([^"]*)">(?:<svg.*?</svg>)?<span>([^<]*)</span>',
                      text)


def check_headers(r):
    """The headers of every page: no caching, no framing, no referrer, a CSP that admits the
    page's <style> by its hash and nothing inline otherwise (no script source at all)."""
    csp = r.headers.get('Content-Security-Policy', '')
    assert 'unsafe-inline' not in csp and 'unsafe-eval' not in csp, csp
    assert 'script-src' not in csp and "default-src 'none'" in csp, csp
    assert "frame-ancestors 'none'" in csp and "base-uri 'none'" in csp, csp
    styles = re.findall(r'<style>(.*?)</style>', r.text, re.S)
    assert styles, r.text[:300]
    for s in styles:
        h = base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()
        assert "'sha256-%s'" % h in csp, (h, csp)
    assert '<script' not in r.text.lower()
    assert 'no-store' in r.headers.get('Cache-Control', '')
    assert r.headers.get('X-Frame-Options') == 'DENY'
    assert r.headers.get('X-Content-Type-Options') == 'nosniff'
    assert 'Accept-Language' in r.headers.get('Vary', '')
    assert 'name="viewport"' in r.text
    assert 'prefers-color-scheme:dark' in r.text
    u = urllib.parse.urlsplit(r.url)
    assert not re.search(r'(src|href)="(https?:)?//', r.text.replace(
        '%s://%s/' % (u.scheme, u.netloc), '/')), 'a remote asset'
    assert not re.search(r'\bsrc=|@import|url\(', r.text), 'a remote asset'


# ---- chooser ------------------------------------------------------------------------------------
def test_chooser_order_labels_escaping_en(site):
    r = page(site, login_path(None, '/app/x'), 'en')
    assert r.status_code == 200
    assert '<html lang="en">' in r.text
    b = buttons(r.text)
    assert [urllib.parse.parse_qs(urllib.parse.urlsplit(html.unescape(h)).query)['provider'][0]
            for _, h, _ in b] == ['naver', 'corp', 'staff', 'plain']     # configuration order
    assert [c for c, _, _ in b] == [' naver', '', '', '']
    assert [l for _, _, l in b] == ['Log in with NAVER', 'Corp &lt;b&gt;&amp; Co&lt;/b&gt;',
                                    'staff', 'plain']
    assert '<b>&' not in r.text
    check_headers(r)


@pytest.mark.parametrize('al', ['ko', 'ko-KR', 'ko-KR,ko;q=0.9,en;q=0.8', 'en;q=0.5, ko;q=0.7',
                                'fr, ko;q=0.1'])
def test_chooser_korean_by_accept_language(site, al):
    r = page(site, login_path(None, '/app/x'), al)
    assert '<html lang="ko">' in r.text, al
    assert [l for _, _, l in buttons(r.text)] == ['네이버 로그인', '회사 계정', 'staff', 'plain']
    check_headers(r)


@pytest.mark.parametrize('al', [None, '', 'en-US,en;q=0.9,ko;q=0.8', 'ko;q=0', 'ko;q=0, en;q=0.1',
                                'de', '*', 'ko;q=5'])
def test_chooser_english_otherwise(site, al):
    r = page(site, login_path(None, '/app/x'), al)
    assert '<html lang="en">' in r.text, al


def test_language_forced(request, keys, echo, idp):
    srv = conftest.start_server(request, 'pages-ko', site_body(keys, echo, idp, 'AuthFlowLanguage ko'),
                                modules=MODULES)
    r = page(srv, login_path(None, '/'), 'en-US,en')
    assert '<html lang="ko">' in r.text and '네이버 로그인' in r.text


@pytest.mark.parametrize('line,needle', [('AuthFlowLanguage fr', r'AuthFlowLanguage: unknown language'),
                                         ('', r'DisplayName takes')])
def test_configtest_language_and_display_name(workdir, line, needle):
    prov = '<AuthFlowProvider p>\n  Issuer http://127.0.0.1:9\n  ClientID c\n  ClientSecret s\n%s</AuthFlowProvider>\n' % (
        '' if line else '  DisplayName a b c\n')
    body = 'AuthFlowBaseURL http://127.0.0.1:8080\nAuthFlowStore "%s/store"\n%s\n%s' % (workdir, line, prov)
    rc, out = afharness.configtest(workdir, afharness.render_conf(workdir, 8080, body))
    assert rc != 0 and re.search(needle, out), out


def test_template_per_language(request, keys, echo, idp, tmp_path):
    """AuthFlowTemplateDir/ko/chooser.html serves Korean, DIR/chooser.html every other language."""
    import shutil
    d = tmp_path / 'tpl'
    shutil.copytree(os.path.join(os.path.dirname(os.path.abspath(__file__)), '../../htdocs'), d)
    (d / 'ko' / 'chooser.html').write_text('<!DOCTYPE html><html lang="ko"><style>p{}</style>'
                                           '<p>KO-OVERRIDE</p><ul>{{providers}}</ul></html>')
    (d / 'chooser.html').write_text('<!DOCTYPE html><html lang="en"><p>EN-OVERRIDE</p>'
                                    '<ul>{{providers}}</ul></html>')
    srv = conftest.start_server(request, 'pages-tpl', site_body(
        keys, echo, idp, 'AuthFlowTemplateDir "%s"' % d), modules=MODULES)
    r = page(srv, login_path(None, '/'), 'ko')
    assert 'KO-OVERRIDE' in r.text and '네이버 로그인' in r.text
    assert "style-src 'sha256-%s'" % base64.b64encode(hashlib.sha256(b'p{}').digest()).decode() \
        in r.headers['Content-Security-Policy']
    r = page(srv, login_path(None, '/'), 'en')
    assert 'EN-OVERRIDE' in r.text and 'Log in with NAVER' in r.text
    assert 'style-src' not in r.headers['Content-Security-Policy']


# ---- error page ---------------------------------------------------------------------------------
def _login(site, rt='/app/deep?x=1'):
    b = Browser()
    r, auth = start(site, b, login_path('corp', rt))
    assert auth, r.status_code
    return b, auth


@pytest.mark.parametrize('lang,title', [('en', 'Sign-in cancelled'), ('ko', '로그인 취소됨')])
def test_D11_error_page_access_denied(site, lang, title):
    b, auth = _login(site)
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(auth).query))
    secret_desc = 'SECRET-DESCRIPTION<script>alert(1)</script>'
    r = get(site, '/auth/callback?' + urllib.parse.urlencode(dict(
        state=q['state'], error='access_denied', error_description=secret_desc,
        error_uri='https://evil.example/')), browser=b, headers={'Accept-Language': lang})
    assert r.status_code == 400
    assert '<h1>%s</h1>' % title in r.text
    assert 'SECRET-DESCRIPTION' not in r.text and 'evil.example' not in r.text
    assert '<script>' not in r.text
    assert ': <code>access_denied</code>' in r.text         # the IdP's error code, small print
    assert q['state'] not in r.text
    assert '<code>oidc_idp_error</code>' in r.text
    m = re.search(r'ID: <code>([A-Za-z0-9_@-]{6,40})</code></p>', r.text)
    assert m, r.text                                                      # the request id
    log = site.read_log()
    assert re.search(r'AF08100: error page 400 oidc_idp_error, request id %s' % re.escape(m.group(1)), log)
    assert 'SECRET-DESCRIPTION' not in log
    href = html.unescape(re.search(r'<a class="b primary" href="([^"]*)"', r.text).group(1))
    assert href == site.base + '/auth/login?return_to=' + urllib.parse.quote('/app/deep?x=1', safe='')
    check_headers(r)


def test_error_page_replayed_state(site):
    b, auth = _login(site)
    cb = idp_redirect(auth)
    r1 = callback(site, b, cb)
    r2 = get(site, cb, headers={'Accept-Language': 'en'})                 # no flow cookie now
    assert r2.status_code == 400
    assert 'This sign-in link has expired' in r2.text or 'Sign-in failed' in r2.text, r2.text
    assert 'code=' not in r2.text


# ---- the 401/403 page for a signed-in user ------------------------------------------------------
def _tok(keys, site, **kw):
    return tokens.mint(keys.ec256, good_claims(site, name='Alice <Kim>', groups=['dev'], **kw))


@pytest.mark.allow_log(DENIAL_LOG)
@pytest.mark.parametrize('path,status', [('/forbid/x?a=1', 403), ('/default/x', 401)])
def test_denied_page_names_the_account(site, keys, echo, path, status):
    m = echo.mark()
    r = afharness.http('GET', site.url(path), headers=sites.cookie(_tok(keys, site)))
    assert r.status_code == status
    assert echo.since(m) == []
    assert 'Signed in as <strong>Alice &lt;Kim&gt;</strong>' in r.text, r.text
    assert 'could not verify' not in r.text
    assert 'wizards-7' not in r.text   # the rule stays secret
    links = [html.unescape(h) for h in re.findall(r'href="([^"]*)"', r.text)]
    assert site.base + '/auth/logout?return_to=%2F' in links
    sw = [l for l in links if 'logout?return_to=%2Fauth%2Flogin' in l]
    assert sw and urllib.parse.quote(path.split('?')[0], safe='') in urllib.parse.unquote(sw[0])
    assert 'text/html' in r.headers.get('Content-Type', '')
    assert 'charset=utf-8' in r.headers.get('Content-Type', '').lower()
    check_headers(r)


@pytest.mark.allow_log(DENIAL_LOG)
def test_denied_page_korean(site, keys, echo):
    h = sites.cookie(_tok(keys, site))
    h['Accept-Language'] = 'ko-KR'
    r = afharness.http('GET', site.url('/forbid/x'), headers=h)
    assert r.status_code == 403 and '접근 권한 없음' in r.text and '다른 계정으로 로그인' in r.text


def test_denied_endpoint_direct_is_404(site):
    r = afharness.http('GET', site.url('/auth/denied'))
    assert r.status_code == 404


# ---- every page in Korean: no English label left (built-in pages and the shipped htdocs/) -------
HTDOCS = os.path.join(afharness.REPO, 'htdocs')
PROVIDER_NAMES = {'staff', 'plain'}    # labels the operator chose (no DisplayName): not ours


def english_words(text):
    """The Latin words a reader sees: outside tags, comments, <style>, <script>, <code> (the
    reason and the IdP's error code stay codes), <strong> (the account's name) and the
    operator's provider names."""
    for pat in (r'<!--.*?-->', r'<style>.*?</style>', r'<script[^>]*>.*?</script>',
                r'<code>.*?</code>', r'<strong>.*?</strong>', r'<[^>]*>', r'&[a-z]+;|&#[0-9]+;'):
        text = re.sub(pat, ' ', text, flags=re.S)
    return [w for w in re.findall(r'[A-Za-z]+', text) if w != 'ID' and w not in PROVIDER_NAMES]


@pytest.fixture(scope='module', params=['builtin', 'htdocs'])
def i18n(request, keys, echo, idp):
    """The pages built in, and the shipped templates (AuthFlowTemplateDir htdocs/); Strict
    cookies for the page that continues after the login."""
    extra = 'AuthFlowCookieSameSite Strict\n' + provider_block(
        'bad', idp.url, extra='DisplayName "Test IdP"\nDisplayName ko "시험용 로그인"') + '\n'
    if request.param == 'htdocs':
        extra += 'AuthFlowTemplateDir "%s"\n' % HTDOCS
    return conftest.start_server(request, 'pages-i18n-' + request.param,
                                 site_body(keys, echo, idp, extra), modules=MODULES)


def _pages(srv, keys, lang):
    """Every page the module shows a browser, in lang: {name: response}."""
    out = {'chooser': page(srv, login_path(None, '/app/x'), lang),
           'password': page(srv, login_path('staff', '/app/x'), lang),
           'error': page(srv, '/auth/nothing-here', lang),
           'signed-out': page(srv, '/auth/logout', lang)}
    h = sites.cookie(_tok(keys, srv))
    h['Accept-Language'] = lang
    out['denied'] = afharness.http('GET', srv.url('/forbid/x'), headers=h)
    # the form_post re-post: a cross-site POST callback without the flow cookie
    out['re-post'] = afharness.http('POST', srv.url('/auth/callback'), headers={
        'Content-Type': 'application/x-www-form-urlencoded', 'Sec-Fetch-Site': 'cross-site',
        'Origin': 'https://appleid.apple.com', 'Accept-Language': lang},
        data='code=c-1&state=s-1')
    # after a login with Strict cookies: on from a page of our own
    b = Browser()
    r, auth = start(srv, b, login_path('bad', '/app/x'))
    assert auth, r.status_code
    out['signed-in'] = callback(srv, b, idp_redirect(auth), headers={'Accept-Language': lang})
    assert out['signed-in'].status_code == 200, out['signed-in'].text
    assert 'http-equiv="refresh"' in out['signed-in'].text
    assert out['re-post'].status_code == 200 and out['denied'].status_code == 403
    return out


@pytest.mark.allow_log(DENIAL_LOG)
def test_every_page_korean_has_no_english(i18n, keys):
    for name, r in _pages(i18n, keys, 'ko-KR,ko;q=0.9').items():
        assert '<html lang="ko">' in r.text, (name, r.text[:300])
        assert english_words(r.text) == [], (name, english_words(r.text))
        assert 'Accept-Language' in r.headers.get('Vary', ''), name


@pytest.mark.allow_log(DENIAL_LOG)
def test_every_page_english_keeps_its_labels(i18n, keys):
    p = _pages(i18n, keys, 'en')
    for name, r in p.items():
        assert '<html lang="en">' in r.text, (name, r.text[:300])
        assert not re.search('[\uac00-\ud7a3]', r.text), name
    assert re.search(r'Reason: <code>not_found</code> \(404\) · Request ID: <code>',
                     p['error'].text), p['error'].text
    assert '>Continue</button></noscript>' in p['re-post'].text
    assert '>Continue</a>' in p['signed-in'].text


def test_error_page_labels_korean(i18n):
    r = page(i18n, '/auth/nothing-here', 'ko')
    assert r.status_code == 404
    assert re.search(r'사유: <code>not_found</code> \(404\) · 요청 ID: <code>', r.text), r.text
    assert 'Reason' not in r.text


def test_repost_page_korean_keeps_nonce_and_button(i18n):
    """The re-post page in Korean: same fields, the script under the response's nonce only,
    the no-script button labelled in Korean, the pages' style admitted by its hash."""
    r = afharness.http('POST', i18n.url('/auth/callback'), headers={
        'Content-Type': 'application/x-www-form-urlencoded', 'Sec-Fetch-Site': 'cross-site',
        'Accept-Language': 'ko'}, data='code=c-1&state=s-%3C1%3E&user=%7B%7D')
    assert r.status_code == 200
    csp = r.headers['Content-Security-Policy']
    nonce = re.search(r"script-src 'nonce-([A-Za-z0-9_-]{16,})'", csp).group(1)
    assert re.findall(r'<script nonce="([^"]*)">', r.text) == [nonce]
    assert 'unsafe-inline' not in csp and "form-action 'self'" in csp
    for s in re.findall(r'<style>(.*?)</style>', r.text, re.S):
        assert "'sha256-%s'" % base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() in csp
    assert re.search(r'<form id="repost" method="post" action="%s">' % re.escape(
        i18n.url('/auth/callback')), r.text)
    assert '<input type="hidden" name="state" value="s-&lt;1&gt;">' in r.text
    assert '<input type="hidden" name="user" value="{}">' in r.text
    assert '<noscript><p>로그인을 마치려면 한 단계가 더 필요합니다.</p>' in r.text
    assert '<button class="b primary" type="submit">계속</button></noscript>' in r.text
    assert r.headers.get('Cache-Control') == 'no-store'


@pytest.mark.allow_log(r'AF08004', r'AF08006', r'AF08007', r'AF03001', r'AF07012')
def test_G10_gate_503_page_speaks_korean(request, keys, echo, idp):
    """The gate's own error page (a navigation while the store cannot be read: 503, G10) is
    in the browser's language, like the handler's pages, and says it varies by it."""
    srv = conftest.start_server(request, 'pages-gate503', site_body(keys, echo, idp),
                                modules=MODULES, mpm='prefork')
    h = sites.cookie(_tok(keys, srv))
    assert store_unreadable(request, srv, os.path.join(srv.root, 'store'))
    for lang, want, unwanted in (('ko-KR', '사유: <code>', 'Reason'), ('en', 'Reason: <code>', None)):
        hh = dict(h, **NAV, **{'Accept-Language': lang})
        r = afharness.http('GET', srv.url('/app/x'), headers=hh)
        assert r.status_code == 503, (r.status_code, r.text[:300])
        assert '<html lang="%s">' % lang[:2] in r.text and want in r.text, r.text
        assert 'store_unavailable' in r.text
        assert 'Accept-Language' in r.headers.get('Vary', '')
        if unwanted:
            assert english_words(r.text) == [], english_words(r.text)

