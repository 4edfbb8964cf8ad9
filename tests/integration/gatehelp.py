"""Assertions shared by the gate tests (DENY / accept as SECURITY.md defines them)."""
import json

import sites
import tokens
from afharness import http


def good_claims(srv, sub='alice', **extra):
    """Valid claims for srv (iss = aud = its base URL); extra overrides, None removes."""
    c = tokens.claims(srv.base, srv.base, sub=sub, email='alice@example.com',
                      groups=['ops', 'dev'], org={'name': 'ACME'})
    for k, v in extra.items():
        if v is None:
            c.pop(k, None)
        else:
            c[k] = v
    return c


def accept(srv, echo, tok, path='/app/ok', via='bearer', expect_sub='alice'):
    """The token is accepted: 200 from the echo backend, which saw the identity."""
    m = echo.mark()
    h = sites.bearer(tok) if via == 'bearer' else sites.cookie(tok)
    r = http('GET', srv.url(path), headers=h)
    assert r.status_code == 200, 'expected accept, got %d %s' % (r.status_code, r.text[:200])
    got = echo.since(m)
    assert len(got) == 1, 'backend saw %d requests' % len(got)
    if expect_sub is not None:
        assert sites.hdr(got[0], 'X-Env-Sub') == expect_sub
    return got[0]


def deny(srv, echo, tok, path='/app/deny', both=True, raw_header=None):
    """DENY: Bearer -> 401 + WWW-Authenticate: Bearer error="invalid_token"; cookie
    navigation -> 302 to login with return_to; the backend sees nothing; no token in
    the response."""
    m = echo.mark()
    h = dict(sites.API)
    h['Authorization'] = raw_header if raw_header is not None else 'Bearer ' + tok
    r = http('GET', srv.url(path), headers=h)
    assert r.status_code == 401, 'Bearer: expected 401, got %d' % r.status_code
    www = r.headers.get('WWW-Authenticate', '')
    assert www.startswith('Bearer') and 'error="invalid_token"' in www, www
    assert echo.since(m) == [], 'backend was reached'
    if tok and len(tok) > 20:
        assert tok not in r.text and tok not in json.dumps(dict(r.headers))
    if both and tok and ';' not in tok and ' ' not in tok and '\t' not in tok:
        r2 = http('GET', srv.url(path + '?q=1'), headers=sites.cookie(tok))
        ok, why = sites.login_redirect_ok(r2, srv, path + '?q=1')
        assert ok, 'cookie navigation: ' + why
        assert echo.since(m) == [], 'backend was reached (cookie)'
    return r


def spoof_variants(name):
    """Every spelling of a header name: case and '-'/'_' variants."""
    low = name.lower()
    return sorted({name, low, name.upper(), name.replace('-', '_'), low.replace('-', '_'),
                   name.upper().replace('-', '_'),
                   '_'.join(low.split('-')[:1]) + '-' + '-'.join(low.split('-')[1:]).replace('-', '_')
                   if '-' in low else low})


def same_header(a, b):
    return a.lower().replace('_', '-') == b.lower().replace('_', '-')


def values_any_spelling(item, name):
    return [v for k, v in item['headers'] if same_header(k, name)]
