"""G11: kill -9 httpd children in the middle of a refresh storm (prefork: every child is a
process that may die inside a write transaction), then restart httpd.

Each family is refreshed in a loop by its own client; a client whose request died keeps its
old token and retries (the lost-response case).  Afterwards: `mdb_stat` reads the whole
environment cleanly; no reuse was ever detected and no family revoked; every family's last
known token still refreshes (either it was never consumed, or its rotation committed and
the retry inside AuthFlowReuseGrace gets the committed successor) - never "consumed without
successor", never two successors.
"""
import os
import signal
import threading
import time

import pytest
import requests

import afharness
from loginhelp import have_node
from refreshhelp import (check_store_invariants, ctl, family, login, mdb_stat_ok, new_rt,
                         rt_cookie, sid_of, start_site)

pytestmark = pytest.mark.skipif(not have_node, reason='node or tests/idp/node_modules missing')

FAMILIES = 10
STORM_SECONDS = 4
KILLS = 6


@pytest.mark.slow
@pytest.mark.allow_log(r'exit signal', r'AF08005', r'AH00052', r'AH00169')
def test_G11_kill_children_during_refresh_storm(request, keys, echo):
    site = start_site(request, keys, echo, 'rotation-crash', mpm='prefork', grace='30s',
                      testing=False)
    browsers = [login(site, 'user%d' % i) for i in range(FAMILIES)]
    state = [{'b': b, 'sid': sid_of(b), 'rt': b.get('rt')[1], 'ok': 0, 'lost': 0, 'bad': []}
             for b in browsers]
    stop = threading.Event()

    def client(s):
        while not stop.is_set():
            try:
                r = afharness.http('POST', site.url('/auth/refresh'), timeout=10,
                                   headers={'Origin': site.base,
                                            'Cookie': rt_cookie(s['b'], s['rt'])})
            except requests.RequestException:
                s['lost'] += 1                 # the child died: keep the old token, retry
                continue
            if r.status_code == 204:
                s['rt'] = new_rt(r)
                s['ok'] += 1
            elif r.status_code in (500, 502, 503):
                s['lost'] += 1                 # a dying child may answer like this
            else:
                s['bad'].append(r.status_code)
    threads = [threading.Thread(target=client, args=(s,)) for s in state]
    [t.start() for t in threads]
    killed = 0
    try:
        for _ in range(KILLS):
            time.sleep(STORM_SECONDS / KILLS)
            for pid in site._children():
                try:
                    os.kill(pid, signal.SIGKILL)
                    killed += 1
                except OSError:
                    pass
    finally:
        stop.set()
        [t.join(30) for t in threads]
    assert killed > 0
    assert sum(s['ok'] for s in state) > FAMILIES, 'the storm did not rotate'
    assert all(not s['bad'] for s in state), [s['bad'] for s in state]

    # restart httpd (same port, same store)
    site.stop()
    ok, text = mdb_stat_ok(site.store)
    assert ok, text
    problems = check_store_invariants(site.store, [s['sid'] for s in state])
    assert not problems, problems
    site.start()
    ok, text = mdb_stat_ok(site.store)
    assert ok, text
    for s in state:
        f = family(site, s['sid'])
        assert not f['revoked'], s['sid']
        r = afharness.http('POST', site.url('/auth/refresh'),
                           headers={'Origin': site.base, 'Cookie': rt_cookie(s['b'], s['rt'])})
        assert r.status_code == 204, (s['sid'], r.status_code, r.text)
        assert not family(site, s['sid'])['revoked']
    stats, rc = ctl(site, 'stats')
    assert stats['reuse_detections'] == 0 and stats['revocations'] == 0, stats
    print('rotations ok %d, lost answers %d, children killed %d' % (
        sum(s['ok'] for s in state), sum(s['lost'] for s in state), killed))
