"""The provider chooser page (several providers, none named) and return_to handling (D08):
a same-origin relative path is kept; //evil, /\\evil, https://evil, javascript:, other
origins -> the safe default; an AuthFlowReturnTo origin is allowed.
"""
import html
import urllib.parse

import pytest

import conftest
from loginhelp import (BadIdp, Browser, callback, describe, get, idp_redirect, login_path,
                       login_site, provider_block, start)

ALLOWED = 'https://allowed.example'


@pytest.fixture(scope='module')
def idps():
    started = {}
    try:
        started['one'] = BadIdp()
        started['two'] = BadIdp()
        yield started
    finally:
        for s in started.values():
            s.stop()


@pytest.fixture(scope='module')
def site(request, keys, echo, idps):
    providers = '\n'.join([provider_block('one', idps['one'].url),
                           provider_block('two', idps['two'].url)])
    body = login_site(keys, echo, providers, apps=[('/app', None), ('/direct', 'two')],
                      server_extra='AuthFlowReturnTo %s' % ALLOWED)
    srv = conftest.start_server(request, 'login-return-to', body)
    return srv


# ---- chooser ------------------------------------------------------------------------------------
def _links(text):
    return [html.unescape(h) for h in
            __import__('re').findall(r'href="([^"]*login\?[^"]*)"', text)]


def test_chooser_lists_providers(site):
    r = get(site, login_path(None, '/app/x'))
    assert r.status_code == 200, describe(r)
    assert 'text/html' in r.headers.get('Content-Type', '')
    links = _links(r.text)
    provs = sorted(dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(h).query))['provider']
                   for h in links)
    assert provs == ['one', 'two'], links
    for h in links:
        q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(h).query))
        assert q['return_to'] == '/app/x'
    assert 'no-store' in r.headers.get('Cache-Control', '')
    xfo = r.headers.get('X-Frame-Options', '').upper()
    assert xfo == 'DENY' or "frame-ancestors 'none'" in r.headers.get(
        'Content-Security-Policy', '')
    assert not [c for c in r.raw.headers.getlist('Set-Cookie')], 'chooser sets cookies'


def test_chooser_from_protected_page(site):
    b = Browser()
    r, auth = start(site, b, '/app/page')
    assert auth is None and r.status_code == 200, describe(r)
    assert sorted(urllib.parse.parse_qs(urllib.parse.urlsplit(h).query)['provider'][0]
                  for h in _links(r.text)) == ['one', 'two']


def test_chooser_escapes_return_to(site):
    evil = '/app"><script>alert(1)</script>'
    r = get(site, login_path(None, evil))
    assert r.status_code == 200
    assert '<script>alert(1)' not in r.text


def test_chooser_link_starts_login(site, idps):
    r = get(site, login_path(None, '/app/y'))
    link = _links(r.text)[0]
    b = Browser()
    r2, auth = start(site, b, link)
    assert auth and auth.startswith(idps['one'].url + '/authorize'), describe(r2)


def test_login_direct_provider_from_protected_page(site, idps):
    r, auth = start(site, Browser(), '/direct/z')
    assert auth and auth.startswith(idps['two'].url + '/authorize'), describe(r)


def test_unknown_provider(site):
    r = get(site, login_path('nope', '/app'))
    assert r.status_code in (400, 404), describe(r)
    assert not r.raw.headers.getlist('Set-Cookie')


# ---- return_to ----------------------------------------------------------------------------------
def _final_location(site, return_to, provider='one'):
    b = Browser()
    r, auth = start(site, b, login_path(provider, return_to))
    assert auth, describe(r)
    cb = callback(site, b, idp_redirect(auth))
    assert cb.status_code in (302, 303), describe(cb)
    return cb.headers['Location']


def _same(site, loc, path):
    return loc in (path, site.base + path)


@pytest.mark.parametrize('rt', ['/app', '/app/x?y=1&z=%2F', '/app/#frag', '/'])
def test_D08_return_to_same_origin_kept(site, rt):
    loc = _final_location(site, rt)
    assert _same(site, loc, rt), loc


def test_D08_return_to_absolute_same_origin_kept(site):
    loc = _final_location(site, site.base + '/app/abs')
    assert _same(site, loc, '/app/abs'), loc


@pytest.mark.parametrize('rt', [
    '//evil.example/x', '/\\evil.example/x', '\\\\evil.example', 'https://evil.example/',
    'http://evil.example', 'javascript:alert(1)', 'JaVaScRiPt:alert(1)', 'data:text/html,x',
    'http://127.0.0.1:1/x', 'https://allowed.example.evil.example/',
    'https://allowed.example@evil.example/', '/\t/evil.example', ' //evil.example',
    'https:evil.example', '///evil.example', ''])
def test_D08_return_to_unsafe_replaced(site, rt):
    loc = _final_location(site, rt)
    assert _same(site, loc, '/'), 'return_to %r -> Location %r' % (rt, loc)


def test_D08_return_to_allowed_origin(site):
    loc = _final_location(site, ALLOWED + '/cb?x=1')
    assert loc == ALLOWED + '/cb?x=1', loc


def test_D08_gate_preserves_return_to(site, idps):
    b = Browser()
    r, auth = start(site, b, '/direct/deep/page?a=1&b=2')
    assert auth, describe(r)
    cb = callback(site, b, idp_redirect(auth))
    assert cb.status_code in (302, 303), describe(cb)
    assert _same(site, cb.headers['Location'], '/direct/deep/page?a=1&b=2'), cb.headers['Location']
