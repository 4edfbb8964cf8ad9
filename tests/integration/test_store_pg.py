"""The shared store from the operator's side: `authflowctl --store URI` on a real PostgreSQL
15 (pghelp.py): migrate (twice: a no-op), list / show / revoke / sweep / stats, `check` reports
a reachable store with its schema version and an unreachable one as a failure, a password in
the URI is never printed (G01)."""
import json
import subprocess

from pghelp import CTL, pg_cluster, pg_store  # noqa: F401  (fixtures)


def run(*args):
    p = subprocess.run([CTL] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def test_G10_migrate_twice_is_a_noop(pg_cluster):
    uri = pg_cluster.new_store('mig', migrate=False)
    rc, out, _ = run('--store', uri, 'migrate')
    assert rc == 0 and out.strip() == 'schema version 3'
    rc, out, _ = run('--store', uri, '--json', 'migrate')
    assert rc == 0 and json.loads(out) == {'backend': 'postgresql', 'schema_version': 3}
    assert pg_cluster.query('SELECT count(*) FROM af_schema_version', uri) == [['3']]
    rc, out, _ = run('--store', '/nonexistent/lmdb', 'migrate')
    assert rc == 0 and 'nothing to migrate' in out


def test_G09_list_show_revoke_sweep_stats(pg_store):
    # logins written the way the module writes them: through the store (here: SQL of a login
    # made by the unit-tested code would need the C API; the CLI reads what is there)
    sid = 'A' * 22
    pg_store.query("INSERT INTO af_families (sid, sub, provider, claims, created, last_used, "
                   "expires, idle, generation, cur) VALUES ('%s', 'alice', 'idp', "
                   "'{\"email\":\"a@b.c\"}', 1700000000, 1700000000, 4000000000, 0, 1, "
                   "'\\x%s')" % (sid, '11' * 32))
    rc, out, _ = run('--store', pg_store.uri, 'list')
    assert rc == 0 and sid in out and 'active' in out and 'alice' in out
    rc, out, _ = run('--store', pg_store.uri, '--json', 'show', sid)
    assert rc == 0 and json.loads(out)['claims'] == {'email': 'a@b.c'}
    rc, out, _ = run('--store', pg_store.uri, 'revoke', '--user', 'alice')
    assert rc == 0 and '1 login of alice revoked' in out
    rc, out, _ = run('--store', pg_store.uri, '--json', 'list', '--user', 'alice')
    assert json.loads(out)[0]['state'] == 'revoked'
    # the revocation is in the log the other hosts' views read
    assert pg_store.query('SELECT sid FROM af_revlog') == [[sid]]
    rc, out, _ = run('--store', pg_store.uri, 'revoke', '--sid', 'B' * 22)
    assert rc == 1
    rc, out, _ = run('--store', pg_store.uri, '--json', 'stats')
    st = json.loads(out)
    assert rc == 0 and st['revocations'] == 1 and st['family_records'] == 1
    rc, out, _ = run('--store', pg_store.uri, 'sweep')
    assert rc == 0 and 'purged 0' in out


def test_G10_check_reports_reachable_and_schema(pg_cluster, tmp_path):
    uri = pg_cluster.new_store('chk')
    dead = 'postgresql://authflow:s3cr3t@127.0.0.1:%d/postgres?connect_timeout=2' % (
        pg_cluster.port + 1)
    conf = tmp_path / 'site.conf'
    conf.write_text('AuthFlowStore "%s"\n<VirtualHost *:80>\nAuthFlowStore "%s"\n'
                    '</VirtualHost>\n' % (uri, dead))
    rc, out, err = run('--json', 'check', str(conf))
    assert rc == 4, out + err
    checks = [c for c in json.loads(out)['checks'] if c['check'] == 'store']
    assert checks[0]['ok'] and 'reachable, schema version 3' in checks[0]['reason']
    assert not checks[1]['ok'] and 'store_io_error' in checks[1]['reason']
    assert 's3cr3t' not in out + err and 'authflow:***@' in out


def test_G01_password_never_printed(pg_cluster):
    dead = 'postgresql://authflow:s3cr3t@127.0.0.1:%d/postgres?connect_timeout=2' % (
        pg_cluster.port + 1)
    for args in (['stats'], ['list'], ['migrate'], ['revoke', '--user', 'x']):
        rc, out, err = run('--store', dead, *args)
        assert rc == 3, (args, out, err)
        assert 's3cr3t' not in out + err, (args, out, err)


def test_pghelp_dump_shows_bytea_as_hex(pg_store):
    # the dump the two-host tests search for tokens (G01 itself: test_store on PostgreSQL)
    pg_store.query("INSERT INTO af_flows VALUES ('\\x%s', 1)" % ('ab' * 32))
    assert 'ab' * 32 in pg_store.cluster.dump(pg_store.uri)
