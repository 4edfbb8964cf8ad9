"""The harness checks themselves must be able to fail (TESTING.md)."""
import re

import afharness
import backends
import tokens


def test_bad_log_lines_levels_and_allow():
    text = '\n'.join([
        '[Mon Nov 23 11:00:00.000000 2026] [core:info] [pid 1] fine',
        '[Mon Nov 23 11:00:00.000000 2026] [authflow:warn] [pid 1] AF07001: expected',
        '[Mon Nov 23 11:00:00.000000 2026] [proxy:error] [pid 1] AH00957: bad',
        '[Mon Nov 23 11:00:00.000000 2026] [core:notice] [pid 1] AH00052: child pid 5 exit signal '
        'Segmentation fault (11)',
        '[Mon Nov 23 11:00:00.000000 2026] [:emerg] [pid 1] x',
    ])
    bad = afharness.bad_log_lines(text, [re.compile('AF07001')])
    assert len(bad) == 3
    assert any('AH00957' in b for b in bad) and any('exit signal' in b for b in bad)


def test_token_leaks_found():
    k = tokens.gen_ec('P-256', kid='t')
    t = tokens.mint(k, tokens.claims('i', 'a'))
    assert afharness.token_leaks('nothing here', [t]) == []
    assert afharness.token_leaks('x ' + t + ' y', [t])
    assert afharness.token_leaks('sig=' + t.split('.')[2], [t])


def test_spoof_variants_cover_spellings():
    from gatehelp import spoof_variants
    v = spoof_variants('X-Auth-Email')
    assert {'X-Auth-Email', 'x-auth-email', 'X_AUTH_EMAIL', 'x_auth_email', 'X_Auth_Email'} <= set(v)


def test_fcgi_params_roundtrip():
    enc = b''
    for k, v in (('A', 'x'), ('LONG', 'y' * 300)):
        kb, vb = k.encode(), v.encode()
        enc += bytes([len(kb)])
        enc += (len(vb) | 0x80000000).to_bytes(4, 'big') if len(vb) > 127 else bytes([len(vb)])
        enc += kb + vb
    assert backends._fcgi_params(enc) == {'A': 'x', 'LONG': 'y' * 300}
