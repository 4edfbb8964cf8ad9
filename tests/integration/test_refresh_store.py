"""G10: the store fails (MDB_MAP_FULL) during rotation: 503, nothing written, no cookie.

The LMDB map (AuthFlowStoreMapSize 1M) is filled from outside with mdb_load (a junk named
database) until not even a tiny record fits; httpd's own write transactions then fail with
MDB_MAP_FULL.
"""
import os
import subprocess

import pytest

from loginhelp import get, have_node
from refreshhelp import cookies_of, login, refresh, rt_cookie, snapshot, start_site

pytestmark = pytest.mark.skipif(not have_node, reason='node or tests/idp/node_modules missing')


def mdb_load(store, name, records, mapsize):
    lines = ['VERSION=3', 'format=bytevalue', 'database=%s' % name, 'type=btree',
             'mapsize=%d' % mapsize, 'maxreaders=126', 'db_pagesize=4096', 'HEADER=END']
    for k, v in records:
        lines += [' ' + k.hex(), ' ' + v.hex()]
    lines.append('DATA=END')
    p = subprocess.run(['mdb_load', '-s', name, store], input=('\n'.join(lines) + '\n').encode(),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    return p.returncode, p.stderr.decode()


def fill(store, mapsize):
    """Fill the map: passes of ever smaller records, until a single small record fails."""
    n = 0
    for size in (8000, 2000, 500, 100, 20, 1):
        for _ in range(200):
            recs = [(b'junk-%08d' % (n + i), os.urandom(size)) for i in range(20)]
            n += 20
            rc, err = mdb_load(store, 'junk%d' % size, recs, mapsize)
            if rc != 0:
                assert 'MDB_MAP_FULL' in err, err
                break
    rc, err = mdb_load(store, 'junk-last', [(b'x', b'y')], mapsize)
    assert rc != 0 and 'MDB_MAP_FULL' in err


@pytest.mark.allow_log(r'AF09002', r'AF03\d{3}', r'MDB_MAP_FULL', r'store_full')
def test_G10_map_full_fails_closed(request, keys, echo):
    site = start_site(request, keys, echo, 'refresh-full', extra='AuthFlowStoreMapSize 1M')
    b = login(site)
    at = '%s=%s' % b.get('at')
    fill(site.store, 1024 * 1024)
    before = snapshot(site)
    # the endpoint: 503, no cookie, LMDB unchanged, the old refresh token still valid
    r = refresh(site, b.header())
    assert r.status_code == 503, (r.status_code, r.text)
    assert not cookies_of(r)
    # the gate's transparent refresh: 503 as well
    r = get(site, '/app', cookie=rt_cookie(b, b.get('rt')[1]))
    assert r.status_code == 503 and not cookies_of(r)
    after = snapshot(site)
    for db in ('tokens', 'families', 'by_sub', 'by_expiry'):
        assert after[db] == before[db], db
    # an access token already issued keeps working (the revocation check only reads)
    assert get(site, '/app', cookie=at).status_code == 200
