"""The store's growth and its failure modes inside httpd (hardening issue 10, store items).

- G07 (item 7): httpd sweeps expired logins, tokens and consumed login states itself
  (AuthFlowSweepInterval, by the module's clock); unauthenticated callbacks that will not
  exchange a code (an IdP error, no syntactically valid code) write nothing to the store.
- G10 (item 10): a full map is logged once per interval, not once per failed request; a map
  above 80 % use is warned about.
- H07 (item 12): virtual hosts naming one store directory by different spellings share one
  LMDB environment per child.

The unauthenticated-traffic tests need no IdP: a plain OAuth provider whose endpoints
point at a closed loopback port gives /auth/login its flow cookie and state.
"""
import os
import re
import time
import urllib.parse

import pytest

import afharness
import conftest
from loginhelp import (Browser, get, have_node, login_path, login_site, provider_block,
                       store_snapshot)
from refreshhelp import ALL_DBS, ctl, login, refresh, set_clock, start_site, store_records
from test_refresh_store import fill

CLOSED = 'http://127.0.0.1:9'   # discard port: nothing listens


def plain_site(request, keys, echo, name, extra=''):
    prov = provider_block('p', None, scope='read:user', extra='''
        AuthorizationEndpoint %(u)s/authorize
        TokenEndpoint %(u)s/token
        UserinfoEndpoint %(u)s/user
        SubjectClaim id
        Timeout 2s''' % dict(u=CLOSED))
    body = login_site(keys, echo, prov, apps=[('/app', 'p')], server_extra=extra)
    srv = conftest.start_server(request, name, body, mpm='event')
    srv.store = srv.root + '/store'
    return srv


def pending_state(srv):
    """GET /auth/login: (browser with the flow cookie, the state sent to the IdP)."""
    b = Browser()
    r = get(srv, login_path('p', '/app'), b)
    assert r.status_code == 302, (r.status_code, r.text[:200])
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(r.headers['Location']).query))
    return b, q['state']


# ---- item 7: the unauthenticated path writes nothing ------------------------------------------
def test_D11_idp_error_callbacks_write_nothing(request, keys, echo):
    """Item 7: login + callback(error=...) pairs (a flood needs nothing but the module)
    answer 400 and leave every LMDB database as it was; a replay is just as harmless."""
    srv = plain_site(request, keys, echo, 'growth-error-cb')
    pending_state(srv)                      # the store exists
    before = store_snapshot(srv.store, ALL_DBS)
    for i in range(40):
        b, state = pending_state(srv)
        path = '/auth/callback?error=access_denied&state=%s' % state
        for _ in range(2 if i % 10 == 0 else 1):
            r = get(srv, path, b)
            assert r.status_code == 400, (r.status_code, r.text[:200])
            assert 'access_denied' in r.text
    after = store_snapshot(srv.store, ALL_DBS)
    for db in ALL_DBS:
        assert after[db] == before[db], '%s changed' % db


@pytest.mark.parametrize('code', ['%01abc', 'a' * 5000, 'x%7Fy'], ids=['ctl', 'long', 'del'])
def test_D03_callback_without_valid_code_writes_nothing(request, keys, echo, code):
    """Item 7: a code that is not 1*VSCHAR (RFC 6749 A.11) or too long is refused (400)
    before the state is consumed: nothing is written."""
    srv = plain_site(request, keys, echo, 'growth-bad-code')
    b, state = pending_state(srv)
    before = store_snapshot(srv.store, ALL_DBS)
    r = get(srv, '/auth/callback?code=%s&state=%s' % (code, state), b)
    assert r.status_code == 400, (r.status_code, r.text[:200])
    after = store_snapshot(srv.store, ALL_DBS)
    for db in ALL_DBS:
        assert after[db] == before[db], '%s changed' % db


# ---- item 7: sweeping inside httpd ------------------------------------------------------------
def wait_stats(site, pred, timeout=40):
    end = time.time() + timeout
    stats = None
    while time.time() < end:
        stats, rc = ctl(site, 'stats')
        if rc == 0 and pred(stats):
            return stats
        time.sleep(0.3)
    raise AssertionError('store never reached the expected state: %r' % (stats,))


@pytest.mark.skipif(not have_node, reason='node or tests/idp/node_modules missing')
def test_G07_httpd_sweeps_by_its_clock(request, keys, echo):
    """Item 7: with AuthFlowSweepInterval, httpd purges logins past their absolute expiry
    (with their tokens) and consumed login states, judged by the module's clock
    (AuthFlowTestClockOffset): no cron job, no authflowctl sweep."""
    site = start_site(request, keys, echo, 'growth-sweep',
                      extra='AuthFlowSweepInterval 1s\nAuthFlowRefreshTTL 1h')
    b = login(site)
    r = refresh(site, b)
    assert r.status_code == 204
    stats, _ = ctl(site, 'stats')
    assert (stats['family_records'], stats['token_records'], stats['flow_records']) == (1, 2, 1)
    # one hour later by the module's clock: the login has expired, the flow too
    set_clock(site, 3700)
    stats = wait_stats(site, lambda s: s['family_records'] == 0)
    assert stats['token_records'] == 0 and stats['flow_records'] == 0, stats
    assert stats['swept'] >= 4, stats


@pytest.mark.skipif(not have_node, reason='node or tests/idp/node_modules missing')
@pytest.mark.parametrize('mpm', ['prefork', 'event'])
def test_H07_sweeping_children_restart_cleanly(request, keys, echo, mpm):
    """Item 7: the sweep thread (mod_watchdog) lives in the children: graceful restarts
    while it sweeps every second and refreshes go on crash nothing (the harness fails the
    test on any child crash) and lose no rotation."""
    site = start_site(request, keys, echo, 'growth-sweep-restart', mpm=mpm,
                      extra='AuthFlowSweepInterval 1s')
    b = login(site)
    for i in range(12):
        r = refresh(site, b)
        assert r.status_code == 204, (i, r.status_code, r.text[:200])
        if i % 3 == 2:
            site.graceful()
        time.sleep(0.4)
    assert len(re.findall(r'(?i)graceful restart', site.read_log())) >= 3, 'no restart'
    assert 'AF08050' in site.read_log(), 'the sweep never ran'
    assert refresh(site, b).status_code == 204
    toks, fams = store_records(site.store)
    assert len(fams) == 1 and not list(fams.values())[0]['revoked']


# ---- item 10: a full map is logged once per interval ------------------------------------------
@pytest.mark.skipif(not have_node, reason='node or tests/idp/node_modules missing')
@pytest.mark.allow_log(r'AF09002', r'AF03\d{3}', r'MDB_MAP_FULL', r'store_full')
def test_G10_map_full_flood_is_logged_once(request, keys, echo):
    """Item 10: a flood of refreshes against a full map answers 503 every time but writes a
    handful of error lines, not two per request."""
    site = start_site(request, keys, echo, 'growth-full-log', extra='AuthFlowStoreMapSize 1M')
    b = login(site)
    fill(site.store, 1024 * 1024)
    mark = len(site.read_log())
    for _ in range(300):
        r = refresh(site, b.header())
        assert r.status_code == 503, (r.status_code, r.text[:200])
    text = site.read_log()[mark:]
    errors = [ln for ln in text.splitlines() if re.search(r'\[[a-z_]*:error\]', ln)]
    print('%d error lines for 300 failed refreshes' % len(errors))
    # event MPM: at most 3 children, each may log the first failure of the interval
    assert 1 <= len(errors) <= 3, errors[:10]


@pytest.mark.skipif(not have_node, reason='node or tests/idp/node_modules missing')
@pytest.mark.allow_log(r'AF08052', r'AF03\d{3}', r'MDB_MAP_FULL', r'store_full')
def test_G10_map_use_above_80_percent_is_warned(request, keys, echo):
    """Item 10: the sweep warns when the map is more than 80 % used (once per interval)."""
    site = start_site(request, keys, echo, 'growth-map-warn',
                      extra='AuthFlowStoreMapSize 1M\nAuthFlowSweepInterval 1s')
    login(site)
    fill(site.store, 1024 * 1024)
    end = time.time() + 30
    while time.time() < end and not re.search(r'AF08052: .* map \d+% used', site.read_log()):
        time.sleep(0.3)
    warn = [ln for ln in site.read_log().splitlines()
            if re.search(r'AF08052: .* map \d+% used', ln)]
    assert warn, 'no map-use warning'
    assert re.search(r'\[[a-z_]*:warn\]', warn[0]), warn[0]


# ---- item 12: one environment per store directory ----------------------------------------------
def data_mdb_maps(pid):
    with open('/proc/%d/maps' % pid) as f:
        return [ln for ln in f if ln.rstrip().endswith('/data.mdb')]


def test_H07_one_environment_per_store_directory(request, keys, echo):
    """Item 12: three virtual hosts name the same AuthFlowStore as DIR, DIR/./ and a symlink
    to DIR: each child maps data.mdb once (one LMDB environment, one set of locks)."""
    k = keys.ec256
    vhost = '''
<VirtualHost 127.0.0.1:@PORT@>
    ServerName %(name)s
    AuthFlowBaseURL @BASE@
    AuthFlowStore "%(store)s"
    AuthFlowSigningKey "%(pem)s" kid=%(kid)s
</VirtualHost>'''
    body = ''.join(vhost % dict(name=n, store=s, pem=k.files['pem'], kid=k.kid)
                   for n, s in (('a.example', '@ROOT@/store'),
                                ('b.example', '@ROOT@/./store/'),
                                ('c.example', '@ROOT@/store-link')))
    srv = afharness.Httpd('growth-one-env', body, mpm='event')
    os.makedirs(srv.root + '/store', mode=0o700)
    os.symlink(srv.root + '/store', srv.root + '/store-link')

    def fin():
        srv.stop()
        if not getattr(request.node, '_af_failed', False):
            srv.cleanup_dir()
    request.addfinalizer(fin)
    srv.start()
    kids = srv._children()
    end = time.time() + 20
    while time.time() < end and not all(data_mdb_maps(p) for p in kids):
        time.sleep(0.2)
        kids = srv._children()
    assert kids
    for pid in kids:
        maps = data_mdb_maps(pid)
        assert len(maps) == 1, (pid, maps)
    # and the records of all three hosts are the same ones
    assert store_records(srv.root + '/store') == store_records(srv.root + '/store-link')


# ---- configuration --------------------------------------------------------------------------
@pytest.mark.parametrize('val', ['0', '1s', '10m', '7d'])
def test_C08_sweep_interval_accepted(workdir, keys, val):
    """Item 7: AuthFlowSweepInterval takes 0 (off) or a duration up to 7d."""
    from test_configtest import accepted, site
    accepted(workdir, site(keys, server='AuthFlowStore "%s/store"\nAuthFlowSweepInterval %s'
                           % (workdir, val)))


@pytest.mark.parametrize('val', ['-1', 'soon', '8d', '10 m'])
def test_C08_sweep_interval_refused(workdir, keys, val):
    """Item 7: a bad AuthFlowSweepInterval stops `apachectl -t`, naming the directive."""
    from test_configtest import refused, site
    refused(workdir, site(keys, server='AuthFlowStore "%s/store"\nAuthFlowSweepInterval %s'
                          % (workdir, val)), 'AuthFlowSweepInterval')
