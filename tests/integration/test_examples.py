"""conf/examples/*.conf pass `apache2 -t` (with test keys in place of /etc/authflow)."""
import glob
import os

import pytest

import afharness

EXAMPLES = sorted(glob.glob(os.path.join(afharness.REPO, 'conf', 'examples', '*.conf')))


@pytest.mark.parametrize('path', EXAMPLES, ids=[os.path.basename(p) for p in EXAMPLES])
def test_example_configtest(workdir, keys, path):
    text = open(path).read()
    text = text.replace('/etc/authflow/signing-2026.pem', keys.ec256.files['pem'])
    text = text.replace('/etc/authflow/signing-2025.pub.pem', keys.old.files['pub'])
    text = text.replace('<VirtualHost *:443>', '<VirtualHost *:%d>' % afharness.free_port())
    conf = afharness.render_conf(workdir, afharness.free_port(), text)
    rc, out = afharness.configtest(workdir, conf)
    assert rc == 0, out
