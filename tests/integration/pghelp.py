"""pghelp.py -- a throw-away PostgreSQL 15 for integration tests (the shared store).

Starts a cluster with tools/pg-test.sh (initdb as the postgres user in a temp dir, a free
127.0.0.1 port, socket dir in the temp dir) and stops it by its own data dir on every exit,
failures included.  Each test gets its own schema in it (search_path in the URI), so one
cluster serves a whole module.

    from pghelp import pg_cluster, pg_store   # fixtures (noqa: F401)

    def test_x(pg_store):          # a fresh, migrated schema: pg_store.uri
        ...
    def test_two_hosts(pg_cluster, httpd):
        uri = pg_cluster.new_store('hosts')   # two httpd with AuthFlowStore uri share it
        pg_cluster.halt(); ...; pg_cluster.resume()    # the database down and back

Queries go through psql (Debian postgresql-client-15).
"""
import os
import subprocess
import tempfile

import pytest

import afharness

SCRIPT = os.path.join(afharness.REPO, 'tools', 'pg-test.sh')
CTL = os.path.join(afharness.REPO, 'build', 'authflowctl')
INITDB = '/usr/lib/postgresql/15/bin/initdb'


class PgCluster:
    """One cluster: base URI (database postgres, user authflow, trust auth on 127.0.0.1)."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix='af_pg.', dir='/tmp')
        self.uri = None
        self._n = 0

    def start(self):
        out = subprocess.run([SCRIPT, 'start', self.dir], stdout=subprocess.PIPE, text=True,
                             timeout=120, check=True).stdout
        self.uri = out.strip().splitlines()[-1]
        return self.uri

    def stop(self):
        subprocess.run([SCRIPT, 'stop', self.dir], timeout=120)

    def halt(self):
        """Stop the server (fast shutdown), keep the data: the database is down."""
        subprocess.run([SCRIPT, 'halt', self.dir], timeout=120, check=True)

    def resume(self):
        subprocess.run([SCRIPT, 'resume', self.dir], timeout=120, check=True)

    @property
    def port(self):
        with open(os.path.join(self.dir, 'port')) as f:
            return int(f.read().strip())

    def query(self, sql, uri=None):
        """Run sql; the rows as lists of strings."""
        out = subprocess.run(['psql', uri or self.uri, '-XAtq', '-F', '\t', '-c', sql],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             timeout=60, check=True).stdout
        return [line.split('\t') for line in out.splitlines() if line]

    def new_store(self, name=None, migrate=True):
        """A URI naming a new empty schema (its tables created unless migrate is False)."""
        self._n += 1
        schema = 't_%s_%d_%d' % (name or 'store', os.getpid(), self._n)
        self.query('CREATE SCHEMA %s' % schema)
        sep = '&' if '?' in self.uri else '?'
        uri = '%s%soptions=-csearch_path%%3D%s' % (self.uri, sep, schema)
        if migrate:
            subprocess.run([CTL, '--store', uri, 'migrate'], stdout=subprocess.PIPE,
                           timeout=60, check=True)
        return uri

    def dump(self, uri):
        """Every af_* table as text (bytea as \\x hex): what a database leak would show."""
        out = []
        for t in ('af_families', 'af_tokens', 'af_flows', 'af_counters', 'af_leases',
                  'af_revlog', 'af_throttle'):
            out += [r[0] for r in self.query('SELECT row_to_json(t)::text FROM %s t' % t, uri)]
        return '\n'.join(out)


@pytest.fixture(scope='module')
def pg_cluster():
    if not os.access(INITDB, os.X_OK):
        pytest.fail('PostgreSQL 15 is not installed (make deps)')
    c = PgCluster()
    try:
        c.start()
        yield c
    finally:
        c.stop()


class PgStore:
    def __init__(self, cluster, uri):
        self.cluster = cluster
        self.uri = uri

    def query(self, sql):
        return self.cluster.query(sql, self.uri)


@pytest.fixture
def pg_store(pg_cluster):
    return PgStore(pg_cluster, pg_cluster.new_store())
