"""pytest fixtures for the mod_authflow integration tests.

- session: keys (written once), the HTTP echo backend, the FastCGI echo backend,
  a document server for JWKS.
- `server(...)` helper: start an Httpd, stopped by pid at teardown (module or function
  scope, whichever fixture calls it).
- After every test the error logs of all running servers are checked: unexpected
  warn/error/crit/alert/emerg lines, or token material, fail the test.  Declare expected
  lines with @pytest.mark.allow_log(r'regex', ...) or the `allow_log` fixture.
"""
import os
import re
import shutil
import time

import pytest

import afharness
import backends
import tokens

# Lines the suite expects from every server: the documented warning that plain-http
# loopback base URLs drop the __Host- cookie prefix (CONFIG.md).
GLOBAL_ALLOW = [re.compile(r'AF07001')]


def pytest_configure(config):
    config.addinivalue_line('markers', 'allow_log(*regex): error-log lines this test expects')
    config.addinivalue_line('markers', 'slow: longer tests (load, restarts, timeouts)')


# -- per-test log check ----------------------------------------------------------------
_TEST_ALLOW = []


@pytest.fixture
def allow_log():
    """allow_log('regex') declares an expected warn/error line for this test."""
    def add(*patterns):
        _TEST_ALLOW.extend(re.compile(p) for p in patterns)
    return add


def _check_logs(extra_allow):
    time.sleep(0.05)
    problems = []
    for srv in afharness.live_servers():
        text = srv.new_log()
        if not text:
            continue
        bad = afharness.bad_log_lines(text, GLOBAL_ALLOW + srv.allow + extra_allow)
        if bad:
            problems.append('%s: unexpected log lines:\n  %s' % (srv.name, '\n  '.join(bad[:10])))
        leaks = afharness.token_leaks(text, tokens.MINTED)
        if leaks:
            problems.append('%s: token material in the error log: %s' % (srv.name, leaks[:5]))
    return problems


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    del _TEST_ALLOW[:]
    for m in item.iter_markers('allow_log'):
        _TEST_ALLOW.extend(re.compile(a) for a in m.args)
    outcome = yield
    problems = _check_logs(list(_TEST_ALLOW))
    if problems and outcome.excinfo is None:
        outcome.force_result(None)
        raise AssertionError('error-log check failed:\n' + '\n'.join(problems))


@pytest.fixture(autouse=True)
def _mark_logs():
    """Logs written before a test (by other tests' teardown) are not blamed on it."""
    for srv in afharness.live_servers():
        srv.new_log()
    yield


# -- session resources -------------------------------------------------------------------
class KeySet:
    pass


@pytest.fixture(scope='session')
def keys():
    d = os.path.join(afharness.ARTIFACTS, 'keys-%d' % os.getpid())
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    os.chmod(d, 0o755)
    k = KeySet()
    k.dir = d
    k.ec256 = tokens.gen_ec('P-256', kid='e256').write(d, 'ec256')
    k.ec384 = tokens.gen_ec('P-384', kid='e384').write(d, 'ec384')
    k.ec521 = tokens.gen_ec('P-521', kid='e521').write(d, 'ec521')
    k.rsa = tokens.gen_rsa(2048, kid='r2048').write(d, 'rsa2048')
    k.rsa_ps = tokens.gen_rsa(2048, kid='p2048', alg='PS256').write(d, 'rsaps')
    k.rsa1024 = tokens.gen_rsa(1024, kid='r1024').write(d, 'rsa1024')
    k.ed = tokens.gen_ed25519(kid='ed1').write(d, 'ed25519')
    k.hs = tokens.gen_oct(32, kid='hs1').write(d, 'hs256')
    k.hs_short = tokens.gen_oct(31, kid='hs0').write(d, 'hs31')
    k.hs_empty = tokens.Key('oct', None, 'hse', 'HS256', secret=b'').write(d, 'hsempty')
    k.old = tokens.gen_ec('P-256', kid='old1').write(d, 'old')
    k.attacker = tokens.gen_ec('P-256', kid='e256').write(d, 'attacker')   # same kid as ec256!
    k.other = tokens.gen_ec('P-256', kid='x1').write(d, 'other')
    yield k
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope='session', autouse=True)
def _module_snapshot():
    yield
    for p in afharness._MODULE_COPY:
        try:
            os.unlink(p)
        except OSError:
            pass


@pytest.fixture(scope='session')
def echo():
    e = backends.EchoServer().start()
    yield e
    e.stop()


@pytest.fixture(scope='session')
def fcgi():
    f = backends.FcgiEchoServer().start()
    yield f
    f.stop()


@pytest.fixture(scope='session')
def docs():
    d = backends.DocServer().start()
    yield d
    d.stop()


# -- httpd -----------------------------------------------------------------------------
def start_server(request, name, body, **kw):
    """Start an Httpd whose lifetime is the calling fixture's scope (stopped by pid)."""
    srv = afharness.Httpd(name, body, **kw)

    def fin():
        srv.stop()
        failed = getattr(request.node, '_af_failed', False)
        if not failed and not os.environ.get('AF_KEEP'):
            srv.cleanup_dir()
    request.addfinalizer(fin)
    srv.start()
    return srv


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        item._af_failed = True
        # module-scoped servers: keep their directory too
        mod = item.getparent(pytest.Module)
        if mod is not None:
            mod._af_failed = True


@pytest.fixture
def httpd(request):
    """Factory: httpd(name, body, **kw) -> started Httpd, stopped after the test."""
    def make(name, body, **kw):
        return start_server(request, name, body, **kw)
    return make


@pytest.fixture
def workdir(request):
    d = afharness.make_root('cfg-' + request.node.name)
    yield d
    if not getattr(request.node, '_af_failed', False):
        shutil.rmtree(d, ignore_errors=True)
