"""The README's runbooks, run as written against a real httpd, the real OpenID provider and a
scratch LMDB store (README "Key rotation", "Backup and restore", "Upgrading").

- C07: the signing key rotated away from the generated key with the old one as
  `AuthFlowVerifyKey STORE/signing-key.pem` (no kid=: the RFC 7638 thumbprint the tokens carry):
  tokens signed before keep working, jwks.json lists both, a refresh mints with the new kid;
  once the verify key is removed the old token is refused.
- The server secret replaced by `AuthFlowSecretFile`: logged-in users keep their access and
  refresh tokens, a new login works.
- Backup while httpd runs (`mdb_copy -c` + the secret and the generated key), restore with httpd
  stopped: the logins of the backup are back; a login made after the backup is unknown.
- The module replaced by a rename and a graceful restart; `authflowctl migrate` on LMDB.
"""
import json
import subprocess
import time

import pytest

import afharness
import tokens
from loginhelp import (AUTHFLOWCTL, BASIC_CLIENT, OidcProvider, full_login, get, have_node,
                       provider_block, start_fixed)
from refreshhelp import refresh

pytestmark = pytest.mark.skipif(not have_node, reason='node or tests/idp/node_modules missing')

BODY = '''AuthFlowBaseURL @BASE@
AuthFlowStore "@ROOT@/store"
@KEYS@
%(prov)s
<Location /auth>
    SetHandler authflow
</Location>
Alias /app "@ROOT@/htdocs/app.txt"
<Location /app>
    AuthType AuthFlow
    AuthFlowLogin idp
    Require valid-user
</Location>
'''


def sh(cmd):
    p = subprocess.run(cmd, shell=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=60)
    assert p.returncode == 0, '%s\n%s' % (cmd, p.stdout)
    return p.stdout


@pytest.fixture
def site(request):
    port = afharness.free_port()
    idp = OidcProvider(alg='ES256', redirect_uris=['http://127.0.0.1:%d/auth/callback' % port])
    request.addfinalizer(idp.stop)
    body = BODY % dict(prov=provider_block('idp', idp.issuer, client=BASIC_CLIENT))
    srv = start_fixed(request, 'runbook', body, port, subst={'KEYS': ''},
                      files={'htdocs/app.txt': 'ok\n'})
    srv.store = srv.root + '/store'
    return srv


def reconfigure(srv, keys):
    """New server-level lines, then `apachectl configtest && apachectl graceful`."""
    srv.subst['KEYS'] = keys
    with open(srv.conf_path, 'w') as f:
        f.write(srv.render())
    sh('%s -t -f %s' % (afharness.APACHE, srv.conf_path))
    before = srv.read_log().count('resuming normal operations')
    srv.graceful()
    end = time.time() + 30
    while time.time() < end and srv.read_log().count('resuming normal operations') <= before:
        time.sleep(0.1)
    time.sleep(0.5)


def kid(tok):
    return json.loads(tokens.b64u_decode(tok.split('.')[0]))['kid']


def login(srv, user):
    lg = full_login(srv, 'idp', '/app', username=user)
    assert lg.ok, (lg.cb_resp.status_code, lg.cb_resp.text[:200])
    return lg.browser


def at_get(srv, at):
    return get(srv, '/app', cookie='authflow-at=%s' % at)


def test_C07_runbook_signing_key_rotation_from_the_generated_key(site):
    b = login(site, 'alice')
    old = b.get('at')[1]
    new_pem = site.root + '/signing-2027.pem'
    sh('openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out %s && chmod 600 %s'
       % (new_pem, new_pem))
    reconfigure(site, 'AuthFlowSigningKey %s kid=2027-01\nAuthFlowVerifyKey %s/signing-key.pem'
                % (new_pem, site.store))
    assert at_get(site, old).status_code == 200
    kids = [k['kid'] for k in get(site, '/auth/jwks.json').json()['keys']]
    assert '2027-01' in kids and kid(old) in kids, kids
    assert refresh(site, b).status_code == 204
    assert kid(b.get('at')[1]) == '2027-01'
    # one access-token lifetime later: the verify key goes
    reconfigure(site, 'AuthFlowSigningKey %s kid=2027-01' % new_pem)
    assert at_get(site, old).status_code != 200
    assert at_get(site, b.get('at')[1]).status_code == 200


def test_runbook_server_secret_rotation(site):
    b = login(site, 'alice')
    secret = site.root + '/secret-2027.key'
    sh('head -c 32 /dev/urandom > %s && chmod 600 %s' % (secret, secret))
    reconfigure(site, 'AuthFlowSecretFile %s' % secret)
    assert at_get(site, b.get('at')[1]).status_code == 200
    assert refresh(site, b).status_code == 204
    login(site, 'bob')


@pytest.mark.allow_log(r'AF07001')
def test_runbook_lmdb_backup_while_running_and_restore(site):
    a = login(site, 'alice')
    backup = site.root + '/backup'
    # README "Backup and restore", LMDB, while httpd runs
    sh('umask 077 && mkdir -p %(b)s && mdb_copy -c %(s)s %(b)s && '
       'cp -p %(s)s/secret.key %(s)s/signing-key.pem %(b)s/' % dict(b=backup, s=site.store))
    stats = json.loads(sh('%s --store %s --json stats' % (AUTHFLOWCTL, backup)))
    assert stats['family_records'] == 1, stats
    b = login(site, 'bob')                      # after the backup
    site.stop()
    sh('mv %(s)s %(s)s.broken && install -d -m 700 -o nobody -g nogroup %(s)s && '
       'cp -p %(b)s/data.mdb %(b)s/secret.key %(b)s/signing-key.pem %(s)s/ && '
       'chown -R nobody:nogroup %(s)s && chmod 600 %(s)s/*' % dict(b=backup, s=site.store))
    site.start()
    assert at_get(site, a.get('at')[1]).status_code == 200   # the generated key came back
    assert refresh(site, a).status_code == 204
    assert refresh(site, b).status_code == 401                # unknown: logs in again
    out = sh('%s --store %s list' % (AUTHFLOWCTL, site.store))
    assert 'alice@idp' in out and 'bob@idp' not in out, out


def test_runbook_module_swap_and_migrate(site):
    b = login(site, 'alice')
    mod = afharness.module_copy()
    # the same bytes (the session's snapshot): the swap by rename is what is tested
    sh('install -m 644 %s %s.new && mv -f %s.new %s' % (mod, mod, mod, mod))
    reconfigure(site, '')
    assert at_get(site, b.get('at')[1]).status_code == 200
    assert refresh(site, b).status_code == 204
    assert 'nothing to migrate' in sh('%s --store %s migrate' % (AUTHFLOWCTL, site.store))
