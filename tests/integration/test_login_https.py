"""F01 on the production shape: an https site (mod_ssl, a throwaway self-signed certificate for
127.0.0.1).  The login cookies are __Host- cookies with Secure, HttpOnly, Path=/, no Domain,
SameSite=Lax; the flow cookie too.  requests trusts the certificate via REQUESTS_CA_BUNDLE.
"""
import datetime
import ipaddress
import os

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

import afharness
from loginhelp import (BadIdp, Browser, callback, describe, get, idp_redirect, login_path,
                       login_site, provider_block, session_cookies, set_cookies, start)

SSL_MODULES = afharness.DEFAULT_MODULES + ('ssl', 'socache_shmcb')


class HttpsHttpd(afharness.Httpd):
    @property
    def base(self):
        return 'https://127.0.0.1:%d' % self.port

    def url(self, path, port_index=0):
        return 'https://127.0.0.1:%d%s' % (self.ports[port_index], path)

    def expand(self, text):
        return super().expand(text.replace('@BASE@', 'https://127.0.0.1:@PORT@'))


def _cert(directory):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, '127.0.0.1')])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=2))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address('127.0.0.1'))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    crt, pem = os.path.join(directory, 'tls.crt'), os.path.join(directory, 'tls.key')
    with open(crt, 'wb') as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(pem, 'wb') as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    os.chmod(crt, 0o644)
    os.chmod(pem, 0o644)
    return crt, pem


@pytest.fixture(scope='module')
def site(request, keys, echo):
    idp = BadIdp()
    request.addfinalizer(idp.stop)
    crt, pem = _cert(keys.dir)
    old = os.environ.get('REQUESTS_CA_BUNDLE')
    os.environ['REQUESTS_CA_BUNDLE'] = crt

    def restore():
        if old is None:
            os.environ.pop('REQUESTS_CA_BUNDLE', None)
        else:
            os.environ['REQUESTS_CA_BUNDLE'] = old
    request.addfinalizer(restore)
    tls = ('SSLEngine on\nSSLCertificateFile "%s"\nSSLCertificateKeyFile "%s"\n'
           'SSLSessionCache "shmcb:@ROOT@/run/ssl_scache(51200)"\n' % (crt, pem))
    body = tls + login_site(keys, echo, provider_block('bad', idp.url), apps=[('/app', 'bad')])
    srv = HttpsHttpd('login-https', body, modules=SSL_MODULES)
    request.addfinalizer(lambda: srv.cleanup_dir())
    srv.start()
    request.addfinalizer(srv.stop)
    return srv


def test_F01_https_cookie_attributes(site):
    b = Browser()
    r, auth = start(site, b, login_path('bad', '/app'))
    assert auth, describe(r)
    flows = [c for c in set_cookies(r) if c.kind() == 'flow']
    cb = callback(site, b, idp_redirect(auth))
    assert cb.status_code in (302, 303), describe(cb)
    made = {c.kind(): c for c in session_cookies(cb)}
    assert set(made) >= {'at', 'rt'} and flows
    for c in flows + [made['at'], made['rt']]:
        assert c.name.startswith('__Host-authflow-'), c
        assert 'secure' in c.flags and 'httponly' in c.flags, c
        assert c.attrs.get('path') == '/' and 'domain' not in c.attrs, c
        assert c.attrs.get('samesite', '').lower() == 'lax', c
    r = get(site, '/app', b)
    assert r.status_code == 200, describe(r)


def test_F01_no_cookie_prefix_warning_on_https(site):
    """AF07001 (plain-http loopback: prefix and Secure dropped) must not appear here."""
    assert 'AF07001' not in site.read_log(0)


def test_F01_plain_http_never_gets_login_cookies(site):
    """The https-only site answers plain http with an error, never a cookie."""
    raw = afharness.raw_request(site.port, b'GET /auth/login?provider=bad HTTP/1.0\r\n'
                                           b'Host: 127.0.0.1\r\n\r\n', timeout=10)
    assert b'Set-Cookie' not in raw
