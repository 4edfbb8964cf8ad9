"""Issue 15: the Debian package.  `make deb` builds it (dpkg-buildpackage, debhelper,
dh_apache2, lintian without errors); the test reads it with dpkg-deb (-c owners and modes,
-f fields, -I maintainer scripts), unpacks it into a scratch root (dpkg-deb -x; never onto
this machine), runs its postinst there (DPKG_ROOT), enables it with the real a2enmod on the
scratch /etc/apache2, and starts a real httpd from that tree: the packaged authflow.load
verbatim (its /usr/lib/apache2/modules path is the packaged .so through an overlay in a
private mount namespace), the packaged authflow.conf, the packaged templates, and the
packaged default store /var/lib/authflow (the scratch root's, bound in that namespace).
Then postrm purge removes the store.

Nothing of this machine changes: mounts happen in private mount namespaces (unshare -m),
which needs root -- as `make test` runs."""
import json
import os
import re
import shutil
import stat
import subprocess

import pytest
from jwcrypto import jwk

import afharness
from afharness import REPO, http
from conftest import start_server

PKG = 'libapache2-mod-authflow'
TOOLS = ('dpkg-buildpackage', 'dh', 'dh_apache2', 'fakeroot', 'lintian', 'dpkg-deb', 'unshare')
MISSING = [t for t in TOOLS if shutil.which(t) is None]
pytestmark = pytest.mark.skipif(bool(MISSING), reason='Debian packaging tools missing: %s '
                                '(make deps installs them)' % ' '.join(MISSING))


def changelog_version():
    with open(os.path.join(REPO, 'debian', 'changelog')) as f:
        return re.match(r'^\S+ \(([^)]+)\)', f.readline()).group(1)


def run(cmd, **kw):
    kw.setdefault('timeout', 120)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **kw)
    return p.returncode, p.stdout.decode('utf-8', 'replace')


def in_namespace(script, *args, env=None):
    """sh -c SCRIPT in a private mount namespace (its mounts vanish with it)."""
    return run(['unshare', '--mount', '--propagation', 'private', 'sh', '-ec', script, 'sh'] +
               list(args), env=env)


class Pkg:
    pass


@pytest.fixture(scope='module')
def pkg(request):
    if os.geteuid() != 0:
        pytest.skip('needs root: private mount namespaces for the scratch install')
    p = Pkg()
    git_before = run(['git', '-C', REPO, 'status', '--porcelain'])[1]
    rc, out = run(['make', '-C', REPO, '--no-print-directory', 'deb'], timeout=900)
    assert rc == 0, out[-4000:]
    p.build_out = out
    p.git_after = run(['git', '-C', REPO, 'status', '--porcelain'])[1]
    p.git_before = git_before
    p.version = changelog_version()
    p.arch = run(['dpkg-architecture', '-qDEB_HOST_ARCH'])[1].strip()
    p.deb = os.path.join(REPO, 'build', '%s_%s_%s.deb' % (PKG, p.version, p.arch))
    assert out.strip().splitlines()[-1] == 'deb: build/' + os.path.basename(p.deb)
    assert os.path.isfile(p.deb)
    p.root = afharness.make_root('debroot')    # on disk (tmpfs would draw AF07011)
    request.addfinalizer(lambda: getattr(request.node, '_af_failed', False) or
                         shutil.rmtree(p.root, ignore_errors=True))
    rc, out = run(['dpkg-deb', '-x', p.deb, p.root])
    assert rc == 0, out
    p.control = os.path.join(p.root, 'DEBIAN')
    rc, out = run(['dpkg-deb', '-e', p.deb, p.control])
    assert rc == 0, out
    return p


def test_deb_built_by_make_deb_lintian_clean_git_clean(pkg):
    assert 'lintian' in pkg.build_out
    assert not re.search(r'^\s*E: ', pkg.build_out, re.M), pkg.build_out
    # build products stay under build/ (ignored): git status is what it was
    assert pkg.git_after == pkg.git_before


def test_deb_file_list_owners_modes(pkg):
    rc, out = run(['dpkg-deb', '-c', pkg.deb])
    assert rc == 0, out
    files = {}
    for line in out.splitlines():
        f = line.split()
        files[f[5].rstrip('/')] = (f[0], f[1])
    want = {
        './usr/lib/apache2/modules/mod_authflow.so': '-rw-r--r--',
        './etc/apache2/mods-available/authflow.load': '-rw-r--r--',
        './etc/apache2/mods-available/authflow.conf': '-rw-r--r--',
        './usr/sbin/authflowctl': '-rwxr-xr-x',
        './usr/share/apache2/authflow/chooser.html': '-rw-r--r--',
        './usr/share/apache2/authflow/error.html': '-rw-r--r--',
        './usr/share/apache2/authflow/logout.html': '-rw-r--r--',
        './usr/share/apache2/authflow/ko/chooser.html': '-rw-r--r--',
        './usr/share/apache2/authflow/ko/error.html': '-rw-r--r--',
        './usr/share/man/man8/authflowctl.8.gz': '-rw-r--r--',
        './usr/share/doc/libapache2-mod-authflow/copyright': '-rw-r--r--',
        './usr/share/doc/libapache2-mod-authflow/examples/gate-proxy.conf': '-rw-r--r--',
    }
    for path, mode in want.items():
        assert path in files, path
        assert files[path] == (mode, 'root/root'), (path, files[path])
    for path, (mode, owner) in files.items():
        assert owner == 'root/root', path
        assert mode[5] != 'w' and mode[8] != 'w', path  # nothing group/other-writable
    # the store is made by postinst for www-data, never shipped; no build tree leaks in
    assert not [f for f in files if f.startswith('./var')]
    assert not [f for f in files if '/build/' in f or f.endswith('.a')]
    # the packaged templates are the tree's, all of them
    top = os.path.join(REPO, 'htdocs')
    names = sorted(os.path.relpath(os.path.join(d, n), top)
                   for d, _, ns in os.walk(top) for n in ns if n.endswith('.html'))
    # every page of the module, in every language (src/session/session_lang.c)
    pages = ('chooser', 'error', 'logout', 'password', 'denied', 'repost', 'signedin')
    assert names == sorted(d + p + '.html' for p in pages for d in ('', 'ko/')), names
    assert sorted(f[len('./usr/share/apache2/authflow/'):] for f in files
                  if f.startswith('./usr/share/apache2/authflow/') and f.endswith('.html')) == names
    for name in names:
        with open(os.path.join(REPO, 'htdocs', name), 'rb') as a, \
                open(os.path.join(pkg.root, 'usr/share/apache2/authflow', name), 'rb') as b:
            assert a.read() == b.read()


def test_deb_control_fields_and_depends(pkg):
    rc, out = run(['dpkg-deb', '-f', pkg.deb, 'Package', 'Version', 'Architecture',
                   'Section', 'Depends'])
    assert rc == 0, out
    f = dict(l.split(': ', 1) for l in out.splitlines())
    assert f['Package'] == PKG and f['Version'] == pkg.version
    assert f['Architecture'] == pkg.arch and f['Section'] == 'httpd'
    deps = [d.strip() for d in f['Depends'].split(',')]
    mmn = run(['apxs', '-q', 'HTTPD_MMN'])[1].strip() or '20120211'
    assert 'apache2-api-%s' % mmn in deps                      # dh_apache2
    assert any(d.startswith('apache2-bin') for d in deps)
    for lib in ('libc6', 'libssl3', 'libcurl4', 'libjansson4', 'liblmdb0', 'libpq5',
                'libpcre2-8-0', 'libapr1', 'libaprutil1'):      # ${shlibs:Depends}
        assert any(re.match(re.escape(lib) + r'( |$)', d) for d in deps), (lib, deps)
    with open(os.path.join(pkg.control, 'conffiles')) as fh:
        conffiles = fh.read().split()
    assert '/etc/apache2/mods-available/authflow.load' in conffiles
    assert '/etc/apache2/mods-available/authflow.conf' in conffiles
    # dh_apache2's a2enmod glue, and our store directory
    with open(os.path.join(pkg.control, 'postinst')) as fh:
        postinst = fh.read()
    assert re.search(r'for conf in authflow\s*;.*apache2_invoke enmod', postinst, re.S)
    assert 'install -d -o www-data -g www-data -m 0700' in postinst
    with open(os.path.join(pkg.control, 'postrm')) as fh:
        assert 'apache2_invoke dismod' in fh.read()
    # the load file is the one a2enmod links, the module where Debian keeps modules
    with open(os.path.join(pkg.root, 'etc/apache2/mods-available/authflow.load')) as fh:
        load = [l for l in fh.read().splitlines() if l and not l.startswith('#')]
    assert load == ['LoadModule authflow_module /usr/lib/apache2/modules/mod_authflow.so']
    # the commented default enables nothing
    with open(os.path.join(pkg.root, 'etc/apache2/mods-available/authflow.conf')) as fh:
        assert [l for l in fh.read().splitlines() if l.strip() and
                not l.lstrip().startswith('#')] == []


def _postinst(pkg):
    """The real postinst, for the scratch root: DPKG_ROOT, and dh_apache2's a2enmod block
    skipped (its helper hidden in this namespace; it would act on this machine's apache2)."""
    env = dict(os.environ, DPKG_ROOT=pkg.root)
    return in_namespace('mount -t tmpfs tmpfs /usr/share/apache2; sh "$1" configure',
                        os.path.join(pkg.control, 'postinst'), env=env)


def test_deb_postinst_makes_the_store_and_a2enmod_enables(pkg):
    rc, out = _postinst(pkg)
    assert rc == 0, out
    store = os.path.join(pkg.root, 'var/lib/authflow')
    st = os.stat(store)
    assert stat.S_ISDIR(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o700
    assert st.st_uid == int(run(['id', '-u', 'www-data'])[1])
    assert st.st_gid == int(run(['id', '-g', 'www-data'])[1])
    rc, out = _postinst(pkg)          # again (upgrade): left as it is
    assert rc == 0, out
    # the real a2enmod on the scratch /etc/apache2 (the machine's hidden in the namespace)
    etc = os.path.join(pkg.root, 'etc/apache2')
    os.makedirs(os.path.join(etc, 'mods-enabled'), exist_ok=True)
    env = dict(os.environ, APACHE_CONFDIR=etc, APACHE_ENVVARS='/dev/null',
               APACHE_STATE_DIRECTORY=os.path.join(pkg.root, 'var/lib/apache2'))
    rc, out = in_namespace('mount -t tmpfs tmpfs /etc/apache2; a2enmod -q authflow', env=env)
    assert rc == 0, out
    for ext in ('load', 'conf'):
        link = os.path.join(etc, 'mods-enabled', 'authflow.' + ext)
        assert os.readlink(link) == '../mods-available/authflow.' + ext


LAUNCH = ('mount -t overlay overlay -o lowerdir="$AF_ROOT/usr/lib/apache2/modules":'
          '/usr/lib/apache2/modules /usr/lib/apache2/modules; '
          'mount --bind "$AF_ROOT/var/lib" /var/lib; exec "$@"')

BODY = '''
Include "@PKGROOT@/etc/apache2/mods-enabled/*.load"
Include "@PKGROOT@/etc/apache2/mods-enabled/*.conf"
AuthFlowBaseURL @BASE@
AuthFlowTemplateDir "@PKGROOT@/usr/share/apache2/authflow"
<Location /auth>
    SetHandler authflow
</Location>
Alias /app "@ROOT@/htdocs"
<Location /app>
    AuthType AuthFlow
    Require valid-user
</Location>
'''


@pytest.fixture(scope='module')
def srv(request, pkg):
    if not os.path.islink(os.path.join(pkg.root, 'etc/apache2/mods-enabled/authflow.load')):
        pytest.skip('needs test_deb_postinst_makes_the_store_and_a2enmod_enables first')
    os.environ['AF_ROOT'] = pkg.root    # read by LAUNCH (the environment httpd starts with)
    request.addfinalizer(lambda: os.environ.pop('AF_ROOT', None))
    return start_server(request, 'deb', BODY, subst={'PKGROOT': pkg.root}, with_authflow=False,
                        launcher=['unshare', '--mount', '--propagation', 'private', 'sh',
                                  '-ec', LAUNCH, 'sh'],
                        files={'htdocs/index.html': 'app\n'})


def test_deb_httpd_gate_answers_from_the_package(pkg, srv):
    # the gate: an API call gets 401 Bearer, a navigation a redirect to the login
    r = http('GET', srv.url('/app/'), headers={'Accept': 'application/json'})
    assert r.status_code == 401
    assert r.headers['WWW-Authenticate'].startswith('Bearer')
    r = http('GET', srv.url('/app/'), headers={'Sec-Fetch-Mode': 'navigate',
                                               'Accept': 'text/html'})
    assert r.status_code == 302
    assert r.headers['Location'].startswith(srv.base + '/auth/login')
    # the signing key the packaged module generated in its default store, /var/lib/authflow
    # (the scratch root's), and served in jwks.json
    store = os.path.join(pkg.root, 'var/lib/authflow')
    pem = os.path.join(store, 'signing-key.pem')
    assert os.path.isfile(pem) and os.path.isfile(os.path.join(store, 'data.mdb'))
    assert stat.S_IMODE(os.stat(pem).st_mode) == 0o600
    assert os.stat(store).st_uid == int(run(['id', '-u', 'nobody'])[1])  # the child user
    with open(pem, 'rb') as fh:
        mine = json.loads(jwk.JWK.from_pem(fh.read()).export_public())
    r = http('GET', srv.url('/auth/jwks.json'))
    assert r.status_code == 200
    keys = r.json()['keys']
    assert len(keys) == 1
    assert (keys[0]['kty'], keys[0]['crv'], keys[0]['x'], keys[0]['y']) == \
        (mine['kty'], mine['crv'], mine['x'], mine['y'])
    # the packaged error template (its comment is not in the built-in copy)
    r = http('GET', srv.url('/auth/callback?state=x&code=y'))
    assert 400 <= r.status_code < 500
    assert 'mod_authflow error page (AuthFlowTemplateDir' in r.text
    # the module reports the package's version
    log = srv.read_log()
    assert 'AF07020: mod_authflow %s, default store /var/lib/authflow' % pkg.version in log
    assert 'mod_authflow/%s' % pkg.version in r.headers.get('Server', '')
    assert 'AF07011' not in log       # not the tmpfs runtime dir


def test_deb_authflowctl_and_man_page(pkg, srv):
    ctl = os.path.join(pkg.root, 'usr/sbin/authflowctl')
    rc, out = run([ctl, '--version'])
    assert (rc, out) == (0, 'authflowctl %s\n' % pkg.version)
    # its default store is the module's: /var/lib/authflow (the scratch one, bound)
    env = dict(os.environ, AF_ROOT=pkg.root)
    rc, out = in_namespace('mount --bind "$AF_ROOT/var/lib" /var/lib; exec "$@"', ctl,
                           '--json', 'stats', env=env)
    assert rc == 0, out
    assert json.loads(out)['active_logins'] == 0
    rc, out = run(['man', '-l', os.path.join(pkg.root, 'usr/share/man/man8/authflowctl.8.gz')],
                  env=dict(os.environ, MANWIDTH='100', MAN_KEEP_FORMATTING='0'))
    assert rc == 0, out
    text = re.sub(r'.\x08', '', out)
    for word in ('list', 'show', 'revoke', 'sweep', 'stats', 'migrate', 'check',
                 '--store', '--json', '--user', '--sid', '--server-root', '--help',
                 '--version', 'EXIT STATUS', '/var/lib/authflow'):
        assert word in text, word


def test_deb_postrm_purge_removes_the_store(pkg, srv):
    srv.stop()
    env = dict(os.environ, DPKG_ROOT=pkg.root)
    postrm = os.path.join(pkg.control, 'postrm')
    rc, out = in_namespace('mount -t tmpfs tmpfs /usr/share/apache2; sh "$1" remove', postrm,
                           env=env)
    assert rc == 0, out
    assert os.path.isdir(os.path.join(pkg.root, 'var/lib/authflow'))   # remove keeps it
    rc, out = in_namespace('mount -t tmpfs tmpfs /usr/share/apache2; sh "$1" purge', postrm,
                           env=env)
    assert rc == 0, out
    assert not os.path.exists(os.path.join(pkg.root, 'var/lib/authflow'))
