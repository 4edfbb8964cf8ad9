"""Configuration snippets for the gate tests (CONFIG.md directive names)."""
import json
import urllib.parse

import backends

COOKIE = 'authflow-at'   # default prefix __Host-authflow, minus __Host- on http loopback


def keylines(keys, signing='ec256', verify=('ec384', 'ec521', 'rsa', 'ed', 'old')):
    """AuthFlowSigningKey + AuthFlowVerifyKey lines for KeySet attribute names."""
    k = getattr(keys, signing)
    out = ['AuthFlowSigningKey "%s" kid=%s' % (k.files.get('pem') or k.files['secret'], k.kid)
           + (' alg=%s' % k.alg if k.kind == 'oct' or k.alg.startswith('PS') else '')]
    for v in verify:
        kv = getattr(keys, v)
        path = kv.files.get('pub') or kv.files['secret']
        out.append('AuthFlowVerifyKey "%s" kid=%s' % (path, kv.kid)
                   + (' alg=%s' % kv.alg if kv.kind == 'oct' or kv.alg.startswith('PS') else ''))
    return '\n'.join(out)


def protected(path, backend, extra='', require='Require valid-user'):
    return '''
<Location %(path)s>
    AuthType AuthFlow
    %(require)s
    %(extra)s
    ProxyPass "%(backend)s%(path)s"
</Location>
''' % dict(path=path, backend=backend, extra=extra, require=require)


def standard_site(keys, echo, fcgi=None, server_extra='', more='', signing='ec256',
                  verify=('ec384', 'ec521', 'rsa', 'ed', 'old')):
    """The site most gate tests use.

    /app      protected, exports X-Auth-Email, X-Auth-Groups (join=,), X-Auth-Org
              (nested org.name), mod_headers copies of env vars into X-Env-* headers
    /api      protected, AuthFlowUnauthenticated 401
    /nav      protected, AuthFlowUnauthenticated redirect
    /pass     AuthFlowUnauthenticated pass, Require all granted
    /open     not protected, proxied (spoofed headers must still be scrubbed)
    /fcgi     protected, mod_proxy_fcgi to the FastCGI echo (env)
    /fwd      protected, AuthFlowForwardToken on
    /cookieonly, /beareronly   AuthFlowTokenFrom cookie / bearer
    /byemail  AuthFlowUserClaim email
    /noall    AuthFlowExportAll off (fcgi)
    """
    exports = '''
    AuthFlowExport header X-Auth-Email email
    AuthFlowExport header X-Auth-Groups groups join=,
    AuthFlowExport header X-Auth-Org org.name
    AuthFlowExport env AUTH_EMAIL_ENV email
    RequestHeader set X-Env-Remote-User "%{REMOTE_USER}e"
    RequestHeader set X-Env-Sub "%{AUTHFLOW_SUB}e"
    RequestHeader set X-Env-Issuer "%{AUTHFLOW_ISSUER}e"
    RequestHeader set X-Env-Expires "%{AUTHFLOW_EXPIRES}e"
    RequestHeader set X-Env-Claim-Email "%{AUTHFLOW_CLAIM_EMAIL}e"
    RequestHeader set X-Env-Auth-Email "%{AUTH_EMAIL_ENV}e"
    RequestHeader set X-Admin-Fixed "fixed-by-admin"'''
    body = [keylines(keys, signing, verify), 'AuthFlowBaseURL @BASE@', server_extra,
            protected('/app', echo.url, exports),
            protected('/api', echo.url, exports + '\n    AuthFlowUnauthenticated 401'),
            protected('/nav', echo.url, exports + '\n    AuthFlowUnauthenticated redirect'),
            protected('/pass', echo.url, exports + '\n    AuthFlowUnauthenticated pass',
                      require='Require all granted'),
            protected('/fwd', echo.url, exports + '\n    AuthFlowForwardToken on'),
            protected('/cookieonly', echo.url, exports + '\n    AuthFlowTokenFrom cookie'),
            protected('/beareronly', echo.url, exports + '\n    AuthFlowTokenFrom bearer'),
            protected('/byemail', echo.url, exports + '\n    AuthFlowUserClaim email'),
            '''
<Location /open>
    ProxyPass "%s/open"
</Location>
''' % echo.url]
    if fcgi is not None:
        body.append(protected('/fcgi', fcgi.url, '''
    AuthFlowExport env AUTH_EMAIL_ENV email
    AuthFlowExport env AUTH_GROUPS_ENV groups join=;
    AuthFlowExport header X-Auth-Email email'''))
        body.append(protected('/noall', fcgi.url, 'AuthFlowExportAll off'))
        body.append(protected('/fcgipass', fcgi.url, '''
    AuthFlowUnauthenticated pass
    AuthFlowExport header X-Auth-Email email''', require='Require all granted'))
    body.append(more)
    return '\n'.join(body)


# -- request helpers -------------------------------------------------------------------
API = {'Accept': 'application/json', 'Sec-Fetch-Mode': 'cors'}
NAV = {'Accept': 'text/html,application/xhtml+xml', 'Sec-Fetch-Mode': 'navigate',
       'Sec-Fetch-Dest': 'document'}


def bearer(tok, **more):
    h = dict(API)
    h['Authorization'] = 'Bearer ' + tok
    h.update(more)
    return h


def cookie(tok, name=COOKIE, nav=True, **more):
    h = dict(NAV if nav else API)
    h['Cookie'] = '%s=%s' % (name, tok)
    h.update(more)
    return h


def echo_json(resp):
    return json.loads(resp.text)


def hdr(item, name):
    vals = backends.header_values(item, name)
    return vals[0] if len(vals) == 1 else (None if not vals else vals)


def login_redirect_ok(resp, srv, path):
    """A 302 to the login initiator at <base>/auth/login with return_to naming path."""
    if resp.status_code != 302:
        return False, 'status %d, not 302' % resp.status_code
    loc = resp.headers.get('Location', '')
    u = urllib.parse.urlsplit(loc)
    if u.path != '/auth/login' or (u.netloc and u.netloc != '127.0.0.1:%d' % srv.port):
        return False, 'Location %r is not the login initiator' % loc
    q = urllib.parse.parse_qs(u.query)
    rt = q.get('return_to', [''])[0]
    if not (rt == path or rt == srv.base + path):
        return False, 'return_to %r does not name %r' % (rt, path)
    return True, ''
