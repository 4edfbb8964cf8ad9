"""One permission rule for every file that holds a secret (SECURITY.md C08, insecure
configuration -> CFGFAIL): AuthFlowSecretFile, AuthFlowSigningKey / AuthFlowVerifyKey when the
file holds private material (a private key or an HMAC secret), and the provider keys
ClientSecretFile, AdminKeyFile (Kakao) and PrivateKeyFile (Apple .p8).

The rule (src/common/af_file.c, af_file_check_private): a regular file -- symlinks followed,
the rule applies to the target -- that "others" can neither read nor write; group access is
allowed (Debian's root:www-data 0640).  `apache2 -t` stops naming the directive or key, the
file, the line and the reason ("readable by others: chmod o-rwx FILE").  Public keys need no
rule.  `authflowctl check` reports the same.
"""
import os
import re
import subprocess

import pytest

import afharness
import tokens

CTL = os.path.join(afharness.REPO, 'build', 'authflowctl')
ADMIN_KEY = 'kakao-admin-key-never-printed-0123456789'
CLIENT_SECRET = 'client-secret-never-printed-0123456789'


def write(path, data, mode):
    with open(path, 'wb') as f:
        f.write(data if isinstance(data, bytes) else data.encode())
    os.chmod(path, mode)
    return path


def materials(workdir):
    """Each kind of secret file: (the directive or key that names it, its content, the config
    using it -- @FILE@ is its path)."""
    ec = tokens.gen_ec('P-256', kid='k1')
    apple = tokens.gen_ec('P-256', kid='KEY1234567')
    hs = tokens.gen_oct(32, kid='h1')
    return {
        'secret_file': ('AuthFlowSecretFile', os.urandom(48),
                        'AuthFlowSecretFile "@FILE@"\n'),
        'signing_key_pem': ('AuthFlowSigningKey', ec.priv_pem(),
                            'AuthFlowSigningKey "@FILE@" kid=k1\n'),
        'signing_key_hs256': ('AuthFlowSigningKey', hs.secret,
                              'AuthFlowSigningKey "@FILE@" kid=h1 alg=HS256\n'),
        'verify_key_hs256': ('AuthFlowVerifyKey', hs.secret,
                             'AuthFlowVerifyKey "@FILE@" kid=h2 alg=HS256\n'),
        'client_secret_file': ('ClientSecretFile', CLIENT_SECRET + '\n',
                               '<AuthFlowProvider idp>\n'
                               '    Issuer https://idp.example.com\n'
                               '    ClientID c\n'
                               '    ClientSecretFile "@FILE@"\n'
                               '</AuthFlowProvider>\n'),
        'admin_key_file': ('AdminKeyFile', ADMIN_KEY + '\n',
                           '<AuthFlowProvider kakao>\n'
                           '    Preset kakao\n'
                           '    ClientID c\n'
                           '    AdminKeyFile "@FILE@"\n'
                           '</AuthFlowProvider>\n'),
        'private_key_file': ('PrivateKeyFile', apple.priv_pem(),
                             '<AuthFlowProvider apple>\n'
                             '    Preset apple\n'
                             '    ClientID com.example.web\n'
                             '    TeamID TEAM123456\n'
                             '    KeyID KEY1234567\n'
                             '    PrivateKeyFile "@FILE@"\n'
                             '</AuthFlowProvider>\n'),
    }


def site(keys, workdir, snippet):
    """A complete site around snippet; the server's own signing key is the fixture's (0600)
    unless the snippet brings one."""
    signing = '' if 'AuthFlowSigningKey' in snippet else \
        'AuthFlowSigningKey "%s" kid=e256\n' % keys.ec256.files['pem']
    return ('%sAuthFlowBaseURL http://127.0.0.1:8080\nAuthFlowStore "%s/store"\n%s'
            '<Location /auth>\n    SetHandler authflow\n</Location>\n'
            % (signing, workdir, snippet))


def configtest(workdir, body):
    conf = afharness.render_conf(workdir, afharness.free_port(), body)
    rc, out = afharness.configtest(workdir, conf)
    return rc, out, conf


def line_of(conf, needle):
    for n, line in enumerate(conf.splitlines(), 1):
        if needle in line:
            return n
    raise AssertionError('%s not in the configuration' % needle)


def assert_no_secret(out, data):
    text = data.decode('latin-1') if isinstance(data, bytes) else data
    assert text.strip() not in out
    assert 'PRIVATE KEY' not in out


KINDS = ['secret_file', 'signing_key_pem', 'signing_key_hs256', 'verify_key_hs256',
         'client_secret_file', 'admin_key_file', 'private_key_file']


@pytest.mark.parametrize('kind', KINDS)
@pytest.mark.parametrize('mode,reason', [(0o644, 'readable by others'),
                                         (0o604, 'readable by others'),
                                         (0o602, 'writable by others'),
                                         (0o666, 'readable by others')],
                         ids=['0644', '0604', '0602', '0666'])
def test_C08_secret_file_open_to_others_refused(workdir, keys, kind, mode, reason):
    name, data, snippet = materials(workdir)[kind]
    path = write(os.path.join(workdir, kind + '.file'), data, mode)
    rc, out, conf = configtest(workdir, site(keys, workdir, snippet.replace('@FILE@', path)))
    assert rc != 0, 'configtest accepted a %o %s:\n%s' % (mode, name, out)
    assert name in out, out
    assert '%s: chmod o-rwx %s' % (reason, path) in out, out
    # the line: httpd's own "on line N" for a directive, the key's file:line inside a provider
    n = line_of(conf, path)
    assert re.search(r'on line %d of .*httpd-t\.conf' % n, out) or \
        'httpd-t.conf:%d' % n in out, (n, out)
    assert_no_secret(out, data)


@pytest.mark.parametrize('kind', KINDS)
@pytest.mark.parametrize('mode', [0o600, 0o640, 0o400, 0o660],
                         ids=['0600', '0640', '0400', '0660'])
def test_C08_secret_file_private_or_group_accepted(workdir, keys, kind, mode):
    name, data, snippet = materials(workdir)[kind]
    path = write(os.path.join(workdir, kind + '.file'), data, mode)
    rc, out, _ = configtest(workdir, site(keys, workdir, snippet.replace('@FILE@', path)))
    assert rc == 0, '%o %s refused:\n%s' % (mode, name, out)


@pytest.mark.parametrize('kind', KINDS)
def test_C08_secret_file_symlink_follows_the_target(workdir, keys, kind):
    """The rule applies to the target (stat, not lstat): a link (always 0777) to a 0600 file
    passes, a link to a 0644 file is refused naming the link as configured."""
    name, data, snippet = materials(workdir)[kind]
    target = write(os.path.join(workdir, kind + '.target'), data, 0o600)
    link = os.path.join(workdir, kind + '.link')
    os.symlink(target, link)
    body = site(keys, workdir, snippet.replace('@FILE@', link))
    rc, out, _ = configtest(workdir, body)
    assert rc == 0, out
    os.chmod(target, 0o644)
    rc, out, _ = configtest(workdir, body)
    assert rc != 0, out
    assert name in out and 'readable by others: chmod o-rwx %s' % link in out, out


@pytest.mark.parametrize('kind', ['secret_file', 'client_secret_file', 'admin_key_file'])
def test_C08_secret_file_not_a_regular_file_refused(workdir, keys, kind):
    name, _, snippet = materials(workdir)[kind]
    path = os.path.join(workdir, kind + '.dir')
    os.makedirs(path)
    os.chmod(path, 0o700)
    rc, out, _ = configtest(workdir, site(keys, workdir, snippet.replace('@FILE@', path)))
    assert rc != 0, out
    assert name in out and 'not a regular file' in out and path in out, out


def test_public_verify_key_needs_no_rule(workdir, keys):
    """A public key is no secret: AuthFlowVerifyKey of a 0644 public PEM is accepted."""
    k = tokens.gen_ec('P-256', kid='pub1').write(os.path.join(workdir, 'pub'), 'pub1')
    os.chmod(k.files['pub'], 0o644)
    rc, out, _ = configtest(workdir, site(keys, workdir,
                                          'AuthFlowVerifyKey "%s" kid=pub1\n' % k.files['pub']))
    assert rc == 0, out


def test_C08_authflowctl_check_reports_the_same_rule(workdir):
    """`authflowctl check` reports the signing key, the verify key holding a secret and the
    provider keys under the same rule (one core helper)."""
    m = materials(workdir)
    paths = {}
    for kind in ('signing_key_pem', 'verify_key_hs256', 'client_secret_file'):
        paths[kind] = write(os.path.join(workdir, kind + '.file'), m[kind][1], 0o644)
    conf = os.path.join(workdir, 'check.conf')
    with open(conf, 'w') as f:
        f.write(m['signing_key_pem'][2].replace('@FILE@', paths['signing_key_pem']))
        f.write(m['verify_key_hs256'][2].replace('@FILE@', paths['verify_key_hs256']))
        f.write(m['client_secret_file'][2].replace('@FILE@', paths['client_secret_file']))
    p = subprocess.run([CTL, 'check', conf], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=60)
    assert p.returncode == 4, p.stdout + p.stderr
    fails = [ln for ln in p.stdout.splitlines() if ln.startswith('FAIL ')]
    for kind in paths:
        hit = [ln for ln in fails if 'readable by others: chmod o-rwx %s' % paths[kind] in ln]
        assert hit, (kind, p.stdout)
    assert CLIENT_SECRET not in p.stdout + p.stderr
    for kind in paths:
        os.chmod(paths[kind], 0o640)
    p = subprocess.run([CTL, 'check', conf], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=60)
    assert 'by others' not in p.stdout, p.stdout
