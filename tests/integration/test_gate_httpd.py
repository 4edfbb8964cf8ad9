"""Issue 3: Apache integration of the gate (SECURITY.md group H): H03 extras, H05, H07,
H08, H10, H13."""
import concurrent.futures
import json
import threading
import time

import pytest

import sites
import tokens
from afharness import http, http_list, raw_request
from conftest import start_server
from gatehelp import accept, good_claims, spoof_variants, values_any_spelling

H13_MORE = '''
RewriteEngine On
RewriteRule ^/rwp/(.*)$ @ECHO@/rwp/$1 [P]
<Location /rwp>
    AuthType AuthFlow
    Require valid-user
    AuthFlowExport header X-Auth-Email email
</Location>
'''


@pytest.fixture(scope='module')
def site(request, keys, echo, fcgi):
    body = sites.standard_site(keys, echo, fcgi, more=H13_MORE)
    return start_server(request, 'httpd-event', body, mpm='event', subst={'ECHO': echo.url})


def resp_sub(r):
    item = json.loads(r.text)
    return sites.hdr(item, 'X-Env-Sub')


# -- H03 extras ----------------------------------------------------------------------------------
def test_H03_authflow_prefixed_headers_always_scrubbed(site, echo):
    m = echo.mark()
    hl = []
    for n in ('AuthFlow-User', 'AuthFlow-Claim-Email', 'Authflow-Sub'):
        hl += [(v, 'evil') for v in spoof_variants(n)]
    r = http_list(site.port, 'GET', '/open/afp', hl)
    assert r.status_code == 200
    assert 'evil' not in json.dumps(echo.since(m))


def test_H03_fcgi_pass_location_no_identity(site, fcgi):
    m = fcgi.mark()
    hl = [(v, 'evil') for v in spoof_variants('X-Auth-Email')]
    r = http_list(site.port, 'GET', '/fcgipass/x', hl)
    assert r.status_code == 200
    env = fcgi.since(m)[0]['env']
    assert 'evil' not in json.dumps(env)
    assert not env.get('REMOTE_USER')
    assert [k for k in env if k.startswith('AUTHFLOW_')] == []


# -- H05 claim names in the environment ---------------------------------------------------------------
def test_H05_claim_names_cannot_clobber_env(site, keys, fcgi):
    evil = {'PATH': '/evil-path', 'LD_PRELOAD': '/evil.so', 'REMOTE_USER': 'evil-ru',
            'AUTH_TYPE': 'evil-at', 'HTTP_X': 'evil-hx', 'a-b': 'evil-ab', '../x': 'evil-dots',
            'ünï': 'evil-uni', 'HTTP_AUTHORIZATION': 'evil-authz', 'AUTHFLOW_SUB': 'evil-sub',
            'authflow_issuer': 'evil-iss', 'SERVER_NAME': 'evil-sn', '': 'evil-empty',
            'x\ny': 'evil-nl', 'GATEWAY_INTERFACE': 'evil-gw'}
    c = good_claims(site, **evil)
    t = tokens.mint(keys.ec256, c)
    m = fcgi.mark()
    r = http('GET', site.url('/fcgi/h05'), headers=sites.bearer(t))
    assert r.status_code == 200, r.text[:300]
    env = fcgi.since(m)[0]['env']
    assert env.get('REMOTE_USER') == 'alice'
    assert env.get('AUTHFLOW_SUB') == 'alice'
    assert env.get('AUTHFLOW_ISSUER') == site.base
    assert env.get('AUTH_TYPE') != 'evil-at'
    assert env.get('SERVER_NAME') != 'evil-sn'
    assert env.get('GATEWAY_INTERFACE') != 'evil-gw'
    for k, v in env.items():
        if isinstance(v, str) and v.startswith('evil-'):
            assert k.startswith('AUTHFLOW_CLAIM_') and len(k) > len('AUTHFLOW_CLAIM_'), k
            assert all(ch.isupper() or ch.isdigit() or ch == '_' for ch in k), k
    assert 'PATH' not in env or env['PATH'] != '/evil-path'
    assert 'LD_PRELOAD' not in env
    assert env.get('HTTP_X') is None


def test_H01_claim_value_crlf_not_injected(site, keys, echo):
    """A claim value with CR/LF exported as a header never splits into a second header."""
    for email in ('a@x\r\nX-Injected: yes', 'a@x\nX-Injected: yes', 'a@x\rX-Injected: yes'):
        t = tokens.mint(keys.ec256, good_claims(site, email=email))
        m = echo.mark()
        r = http('GET', site.url('/app/crlf'), headers=sites.bearer(t))
        assert r.status_code in (200, 401, 403)
        for item in echo.since(m):
            assert values_any_spelling(item, 'X-Injected') == [], item['headers']
            for k, v in item['headers']:
                assert '\r' not in v and '\n' not in v


def test_H05_user_claim_unsafe_values_refused(site, keys, echo):
    """REMOTE_USER from a claim with control characters: refused, not exported."""
    for email in ('a\r\nX-Injected: 1', 'a\x00b', '\x7f'):
        t = tokens.mint(keys.ec256, good_claims(site, email=email))
        m = echo.mark()
        r = http('GET', site.url('/byemail/x'), headers=sites.bearer(t))
        for item in echo.since(m):
            assert 'X-Injected' not in json.dumps(item['headers'])
            assert '\x00' not in json.dumps(item)
        assert r.status_code in (401, 403, 500) or r.status_code == 200 and \
            resp_sub(r) == 'alice'


# -- H07 prefork graceful restart under load ------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.allow_log(r'AH00171|AH00169|Graceful restart')
def test_H07_prefork_graceful_restart(request, keys, echo):
    srv = start_server(request, 'h07-prefork', sites.standard_site(keys, echo), mpm='prefork')
    t = tokens.mint(keys.ec256, good_claims(srv))
    bad = tokens.mint(keys.attacker, good_claims(srv))
    errors = []
    counts = {'ok': 0, 'deny': 0}
    stop = threading.Event()

    def loop():
        while not stop.is_set():
            try:
                r = http('GET', srv.url('/app/h07'), headers=sites.bearer(t), timeout=20)
                if r.status_code != 200 or resp_sub(r) != 'alice':
                    errors.append('valid: %d' % r.status_code)
                else:
                    counts['ok'] += 1
                r = http('GET', srv.url('/app/h07'), headers=sites.bearer(bad), timeout=20)
                if r.status_code != 401:
                    errors.append('invalid: %d' % r.status_code)
                else:
                    counts['deny'] += 1
            except Exception as e:   # noqa
                errors.append(repr(e))

    ths = [threading.Thread(target=loop) for _ in range(4)]
    for th in ths:
        th.start()
    time.sleep(1.0)
    srv.graceful()
    time.sleep(1.5)
    srv.graceful()
    time.sleep(1.5)
    stop.set()
    for th in ths:
        th.join(30)
    assert srv.alive()
    assert srv.read_log().count('AH00171') >= 2, 'no graceful restart happened'
    assert errors == [], errors[:5]
    assert counts['ok'] >= 8 and counts['deny'] >= 8, counts


# -- H08 threaded MPMs under concurrent load ---------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize('mpm', ['worker', 'event'])
def test_H08_concurrent_load(request, keys, echo, mpm):
    srv = start_server(request, 'h08-' + mpm, sites.standard_site(keys, echo), mpm=mpm)
    signers = [keys.ec256, keys.ec384, keys.rsa, keys.ed, keys.old]

    def worker(i):
        errs = []
        sess = __import__('requests').Session()
        for j in range(30):
            sub = 'user-%d-%d' % (i, j % 3)
            k = signers[(i + j) % len(signers)]
            good = tokens.mint(k, good_claims(srv, sub=sub, email=sub + '@x'))
            r = sess.get(srv.url('/app/h08'), headers=sites.bearer(good), timeout=30)
            if r.status_code != 200:
                errs.append('valid %s -> %d' % (sub, r.status_code))
                continue
            item = json.loads(r.text)
            if sites.hdr(item, 'X-Env-Sub') != sub or sites.hdr(item, 'X-Auth-Email') != sub + '@x':
                errs.append('wrong identity for %s: %s' % (sub, sites.hdr(item, 'X-Env-Sub')))
            if j % 4 == 0:
                bad = tokens.mint(keys.attacker, good_claims(srv, sub='evil'))
                r = sess.get(srv.url('/app/h08'), headers=sites.bearer(bad), timeout=30)
                if r.status_code != 401:
                    errs.append('invalid accepted: %d' % r.status_code)
        sess.close()
        return errs

    with concurrent.futures.ThreadPoolExecutor(12) as ex:
        results = list(ex.map(worker, range(12)))
    errs = [e for r in results for e in r]
    assert errs == [], errs[:10]


# -- H10 malformed requests ----------------------------------------------------------------------------------
@pytest.mark.allow_log(r'AH00561|AH00565|AH02427|AH02430|AH00567|AH10173|exceeds|too long|'
                       r'Request header|LimitRequest|AH00566|AH00569|AH02429')
def test_H10_malformed_requests(site, keys, echo):
    good = tokens.mint(keys.ec256, good_claims(site))
    evil = tokens.mint(keys.attacker, good_claims(site, sub='admin'))
    m = echo.mark()
    cases = [
        [('Authorization', 'Bearer')],
        [('Authorization', 'Bearer ')],
        [('Authorization', 'Bearer  ' + evil)],
        [('Authorization', 'Basic dXNlcjpwYXNz')],
        [('Authorization', 'Bearer ' + evil + ', Bearer ' + good)],
        [('Authorization', 'Bearer ' + good + ' ' + good)],
        [('Authorization', 'Bearer ' + evil), ('Authorization', 'Bearer ' + good)],
        [('Authorization', 'Bearer ' + good), ('Authorization', 'Bearer ' + evil)],
        [('Cookie', '%s=%s; %s=%s' % (sites.COOKIE, good, sites.COOKIE, evil))],
        [('Cookie', '%s=%s' % (sites.COOKIE, good)), ('Cookie', '%s=%s' % (sites.COOKIE, evil))],
        [('Cookie', '%s=' % sites.COOKIE)],
        [('Cookie', '%s' % sites.COOKIE)],
        [('Cookie', ';;;=;=%s;' % sites.COOKIE)],
        [('Cookie', '; '.join('c%d=v' % i for i in range(300)) + '; %s=%s' % (sites.COOKIE, evil))],
        [('Authorization', 'Bearer ' + 'A' * 7000)],
        [('Authorization', 'Bearer ' + '.' * 5000)],
        [('Authorization', 'Bearer ' + good.replace('.', '\xff', 1))],
    ]
    for hl in cases:
        r = http_list(site.port, 'GET', '/app/h10', [('Accept', 'application/json')] + hl)
        assert r.status_code in (400, 401), (hl[0][1][:40], r.status_code)
    assert echo.since(m) == []
    # case-insensitive auth scheme: accepted or refused, never anything else
    r = http_list(site.port, 'GET', '/app/h10', [('Authorization', 'bearer ' + good)])
    assert r.status_code in (200, 401)
    m = echo.mark()
    # limits enforced by Apache itself: no 5xx, the gate never sees them
    big_cookie = [('Cookie', 'x=' + 'a' * 70000)]
    r = http_list(site.port, 'GET', '/app/h10', big_cookie)
    assert r.status_code == 400
    many = [('X-H%d' % i, 'v') for i in range(150)]
    r = http_list(site.port, 'GET', '/app/h10', many + [('Authorization', 'Bearer ' + good)])
    assert r.status_code == 400
    out = raw_request(site.port, b'GET /app/h10?' + b'a&' * 5000 + b' HTTP/1.1\r\nHost: x\r\n'
                      b'Authorization: Bearer ' + evil.encode() + b'\r\nConnection: close\r\n\r\n')
    assert out.startswith(b'HTTP/1.1 4'), out[:40]
    # obs-fold: Apache unfolds it (RFC 7230 3.2.4); the attacker's token must still be refused
    out = raw_request(site.port, b'GET /app/h10 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer\r\n'
                      b' ' + evil.encode() + b'\r\nConnection: close\r\n\r\n')
    assert out.startswith(b'HTTP/1.1 4'), out[:40]
    for body in (b'Content-Length: 2\r\nConnection: close\r\n\r\nabcdef',
                 b'Content-Length: 0\r\nConnection: close\r\n\r\n',
                 b'Transfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n'):
        out = raw_request(site.port, b'POST /app/h10 HTTP/1.1\r\nHost: x\r\n' + body, timeout=10)
        assert out.startswith(b'HTTP/1.1 4'), out[:40]
    assert echo.since(m) == []
    accept(site, echo, good)


# -- H13 module order ------------------------------------------------------------------------------------
def test_H13_request_header_set_not_undone_by_client(site, keys, echo):
    good = tokens.mint(keys.ec256, good_claims(site))
    hl = [('Authorization', 'Bearer ' + good)] + [(v, 'evil') for v in spoof_variants('X-Admin-Fixed')]
    hl += [(v, 'evil') for v in spoof_variants('X-Env-Claim-Email')]
    m = echo.mark()
    r = http_list(site.port, 'GET', '/app/h13', hl)
    assert r.status_code == 200
    item = echo.since(m)[0]
    assert sites.hdr(item, 'X-Admin-Fixed') == 'fixed-by-admin'
    # mod_headers (fixups, late) sees the env the module set earlier
    assert sites.hdr(item, 'X-Env-Claim-Email') == 'alice@example.com'


def test_H13_rewrite_proxy_still_authenticated(site, keys, echo):
    m = echo.mark()
    r = http('GET', site.url('/rwp/x'), headers=sites.API)
    assert r.status_code == 401
    r = http('GET', site.url('/rwp/x'), headers=sites.NAV)
    assert r.status_code == 302
    assert echo.since(m) == []
    good = tokens.mint(keys.ec256, good_claims(site))
    r = http('GET', site.url('/rwp/x'), headers=sites.bearer(good))
    assert r.status_code == 200
    item = echo.since(m)[0]
    assert item['path'] == '/rwp/x'
    assert values_any_spelling(item, 'X-Auth-Email') == ['alice@example.com']
    assert values_any_spelling(item, 'Authorization') == []
