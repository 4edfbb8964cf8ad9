"""`authflowctl check CONF` (tools/authflowctl_check.c): keys, stores and providers named by
the AuthFlow directives of an Apache configuration, Include/IncludeOptional followed.
Exit 0 all ok, 4 any check failed, 2 usage.  Keys are made here with `cryptography`.
"""
import json
import os
import subprocess

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

import afharness
from loginhelp import BAD_CLIENT, BadIdp

CTL = os.path.join(afharness.REPO, 'build', 'authflowctl')


def run(*args):
    p = subprocess.run([CTL] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def pem(key, public=False):
    if public:
        return key.public_key().public_bytes(serialization.Encoding.PEM,
                                             serialization.PublicFormat.SubjectPublicKeyInfo)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


@pytest.fixture(scope='module')
def idp():
    srv = BadIdp()
    yield srv
    srv.stop()


@pytest.fixture
def root(tmp_path):
    ec_key = ec.generate_private_key(ec.SECP256R1())
    (tmp_path / 'good.pem').write_bytes(pem(ec_key))
    (tmp_path / 'good.pub.pem').write_bytes(pem(ec_key, public=True))
    (tmp_path / 'weak.pem').write_bytes(pem(rsa.generate_private_key(65537, 1024)))
    (tmp_path / 'short.secret').write_bytes(b'x' * 16)
    for name in ('good.pem', 'weak.pem', 'short.secret'):      # private material: no access
        (tmp_path / name).chmod(0o600)                         # for others (the module's rule)
    (tmp_path / 'conf.d').mkdir()
    (tmp_path / 'store').mkdir()
    return tmp_path


def provider(name, issuer):
    return ('<AuthFlowProvider %s>\n    Issuer %s\n    ClientID %s\n'
            '    ClientSecret "%s"\n</AuthFlowProvider>\n' % (name, issuer, BAD_CLIENT[0],
                                                         BAD_CLIENT[1]))


def test_check_all_ok(root, idp):
    (root / 'conf.d' / 'a.conf').write_text(
        'AuthFlowVerifyKey good.pub.pem kid=old\n' + provider('corp', idp.issuer))
    (root / 'main.conf').write_text(
        'ServerRoot %s\n# AuthFlowSigningKey weak.pem (a comment)\n'
        'AuthFlowSigningKey "good.pem" kid=2026\nAuthFlowStore %s/store\n'
        'IncludeOptional conf.d/*.conf\nIncludeOptional absent/*.conf\n' % (root, root))
    rc, out, err = run('check', str(root / 'main.conf'))
    assert rc == 0, out + err
    lines = out.splitlines()
    assert lines[-1] == 'ok: all checks passed'
    checks = [ln.split()[:3] for ln in lines[:-1]]
    assert checks == [['ok', 'signing_key', str(root / 'good.pem') + ':'],
                      ['ok', 'store', str(root / 'store') + ':'],
                      ['ok', 'verify_key', str(root / 'good.pub.pem') + ':'],
                      ['ok', 'provider', 'corp:']], out
    assert 'main.conf:3' in lines[0] and 'a.conf:2' in lines[3]
    assert BAD_CLIENT[1] not in out + err     # no secret printed


def test_check_failures(root, idp):
    dead = afharness.free_port()              # closed: nothing listens there
    (root / 'conf.d' / 'bad.conf').write_text(
        'AuthFlowVerifyKey weak.pem\nAuthFlowVerifyKey short.secret alg=HS256\n'
        'AuthFlowVerifyKey missing.pem\nAuthFlowSigningKey good.pub.pem\n'
        + provider('down', 'http://127.0.0.1:%d' % dead)
        + provider('up', idp.issuer)
        + '<AuthFlowProvider nosecret>\n    Issuer %s\n    ClientID c\n'
          '</AuthFlowProvider>\n' % idp.issuer)
    (root / 'main.conf').write_text(
        'ServerRoot %s\nAuthFlowSigningKey good.pem\nInclude conf.d/\n'
        'Include nothere.conf\n' % root)
    rc, out, err = run('--json', 'check', str(root / 'main.conf'))
    assert rc == 4, out + err
    doc = json.loads(out)
    assert doc['ok'] is False
    got = {(c['check'], os.path.basename(c['subject'])): c for c in doc['checks']}
    assert got[('signing_key', 'good.pem')]['ok']
    weak = got[('verify_key', 'weak.pem')]
    assert not weak['ok'] and 'rsa_modulus' in weak['reason']
    assert weak['where'].endswith('bad.conf:1')
    assert not got[('verify_key', 'short.secret')]['ok']
    assert not got[('verify_key', 'missing.pem')]['ok']
    assert not got[('signing_key', 'good.pub.pem')]['ok']       # public: cannot sign
    assert got[('provider', 'down')] == {'ok': False, 'check': 'provider', 'subject': 'down',
                                         'reason': 'oidc_idp_unreachable',
                                         'where': got[('provider', 'down')]['where']}
    assert got[('provider', 'up')]['ok']
    assert not got[('provider', 'nosecret')]['ok']
    assert not got[('include', 'nothere.conf')]['ok']
    # the same checks as text: one FAIL line each, exit 4
    rc, text, _ = run('check', str(root / 'main.conf'))
    assert rc == 4
    assert sum(ln.startswith('FAIL ') for ln in text.splitlines()) == 7
    assert 'FAIL provider down: oidc_idp_unreachable' in text
    assert text.splitlines()[-1] == 'FAIL: some checks failed'


@pytest.mark.parametrize('line,needle', [
    ('CookieDomain example.com', "unknown key 'CookieDomain'"),
    ('MaxConcurrent 0', 'MaxConcurrent'),
    ('Timeout 900s', 'Timeout'),
    ('TokenEndpointAuth private_key_jwt', 'TokenEndpointAuth'),
    ('IDTokenSigningAlg XS256', 'IDTokenSigningAlg'),
    ('Claim "bad name" email', 'Claim'),
    ('ClientSecretFile missing.secret', 'ClientSecretFile'),
])
def test_check_provider_keys_like_configtest(root, idp, line, needle):
    """issue 11: `check` parses provider keys with the module's own parser -- a key that
    stops configtest fails the check too (the check's old parser ignored these)."""
    (root / 'main.conf').write_text(
        'ServerRoot %s\n<AuthFlowProvider corp>\n    Issuer %s\n    ClientID c\n    %s\n'
        '</AuthFlowProvider>\n' % (root, idp.issuer, line))
    rc, out, err = run('--json', 'check', str(root / 'main.conf'))
    assert rc == 4, out + err
    doc = json.loads(out)
    bad = [c for c in doc['checks'] if c['check'] == 'provider' and not c['ok']]
    assert bad and needle in bad[0]['reason'], doc
    assert bad[0]['where'].endswith('main.conf:5'), bad


def test_check_include_loop_is_bounded(root):
    (root / 'loop.conf').write_text('AuthFlowSigningKey %s/good.pem\nInclude loop.conf\n' % root)
    rc, out, _ = run('check', str(root / 'loop.conf'))
    assert rc == 4 and 'nested too deeply' in out
    assert out.count('ok   signing_key') == 16


def test_check_usage_and_help(root):
    assert run('check')[0] == 2
    assert run('check', 'a', 'b')[0] == 2
    rc, out, _ = run('check', str(root / 'nope.conf'))
    assert rc == 4 and out.startswith('FAIL config')
    rc, out, _ = run('--help')
    assert rc == 0 and 'check [--server-root DIR] CONF' in out and '4 check' in out
