"""G04 at scale: N parallel refreshes with the same refresh token (N = 8 and 32), under prefork
(separate processes) and event (threads of a few processes).  Every round: all answers 204,
every answer carries the same successor or none, the family's generation grows by exactly
one, the successor works, and the family is never revoked.  50 rounds per (MPM, N): 200
rounds in total, without a single spurious revocation.  Grace: the default 10 s.
"""
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

import afharness
from loginhelp import have_node
from refreshhelp import (check_store_invariants, ctl, family, login, new_rt, rt_cookie, sid_of,
                         start_site)

pytestmark = pytest.mark.skipif(not have_node, reason='node or tests/idp/node_modules missing')

ROUNDS = 50


def storm(site, cookie, n, pool):
    barrier = threading.Barrier(n)

    def one(_):
        barrier.wait(timeout=30)
        return afharness.http('POST', site.url('/auth/refresh'),
                              headers={'Origin': site.base, 'Cookie': cookie})
    return list(pool.map(one, range(n)))


@pytest.mark.parametrize('mpm', ['prefork', 'event'])
def test_G04_parallel_refresh_rounds(request, keys, echo, mpm):
    # prefork: one child per parallel request (40 for storms of 32), so every storm really
    # runs in separate processes and never waits for a free worker.
    site = start_site(request, keys, echo, 'rotation-' + mpm, mpm=mpm, grace='10s',
                      testing=False, workers=40 if mpm == 'prefork' else None)
    b = login(site)
    sid = sid_of(b)
    rt = b.get('rt')[1]
    gen = family(site, sid)['generation']
    rounds = 0
    with ThreadPoolExecutor(max_workers=32) as pool:
        for n in (8, 32):
            for i in range(ROUNDS):
                res = storm(site, rt_cookie(b, rt), n, pool)
                codes = [r.status_code for r in res]
                assert codes == [204] * n, (mpm, n, i, codes)
                succ = {new_rt(r) for r in res} - {None}
                assert len(succ) == 1, (mpm, n, i, 'successors: %d' % len(succ))
                nxt = succ.pop()
                assert nxt != rt
                f = family(site, sid)
                assert not f['revoked'], (mpm, n, i, 'spurious revocation')
                gen += 1
                assert f['generation'] == gen, (mpm, n, i, 'more than one rotation')
                rt = nxt
                rounds += 1
    assert not check_store_invariants(site.store, [sid])
    stats, rc = ctl(site, 'stats')
    assert rc == 0
    assert stats['reuse_detections'] == 0 and stats['revocations'] == 0, stats
    assert rounds == 2 * ROUNDS
