"""Issue 2: the module loads and httpd answers under event, worker and prefork."""
import pytest

import afharness
from afharness import http

BODY = '''
Alias /static "@ROOT@/htdocs"
'''


@pytest.mark.parametrize('mpm', afharness.MPMS)
def test_module_loads_and_answers(httpd, mpm):
    srv = httpd('load-' + mpm, BODY, mpm=mpm, files={'htdocs/hello.txt': 'hello\n'})
    r = http('GET', srv.url('/static/hello.txt'))
    assert r.status_code == 200
    assert r.text == 'hello\n'
    # the module is really loaded in this process
    rc, out = afharness.configtest(srv.root, srv.render())
    assert rc == 0, out
    assert 'authflow' in open(srv.conf_path).read()
    assert srv.alive()


def test_configtest_plain_ok(workdir):
    conf = afharness.render_conf(workdir, afharness.free_port(), BODY)
    rc, out = afharness.configtest(workdir, conf)
    assert rc == 0, out
    assert 'Syntax OK' in out


def test_module_symbol_exported_only():
    """Only authflow_module is exported from the .so (STYLE.md)."""
    import subprocess
    out = subprocess.run(['nm', '-D', '--defined-only', afharness.module_copy()],
                         stdout=subprocess.PIPE, check=True).stdout.decode()
    syms = [l.split()[-1] for l in out.splitlines() if l.split()[1:2] in (['T'], ['D'], ['B'])]
    assert 'authflow_module' in syms
    assert [s for s in syms if s != 'authflow_module' and not s.startswith('_')] == []
