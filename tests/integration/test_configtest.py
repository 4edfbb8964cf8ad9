"""Issue 2: `apache2 -t` (apachectl configtest) refuses bad directive values, and the
message names the directive (CFGFAIL in SECURITY.md: C01, C02, C08 and friends)."""
import os

import pytest

import afharness
import tokens


def site(keys, server='', location='', signing=None):
    signing = signing if signing is not None else \
        'AuthFlowSigningKey "%s" kid=e256' % keys.ec256.files['pem']
    return '''
%s
AuthFlowBaseURL http://127.0.0.1:8080
%s
<Location /app>
    AuthType AuthFlow
    Require valid-user
    %s
</Location>
''' % (signing, server, location)


def run(workdir, body):
    conf = afharness.render_conf(workdir, afharness.free_port(), body)
    return afharness.configtest(workdir, conf)


def refused(workdir, body, directive):
    rc, out = run(workdir, body)
    assert 'Invalid command' not in out, 'directive unknown to the module:\n' + out
    assert rc != 0, 'configtest accepted it:\n' + out
    assert directive in out, 'message does not name %s:\n%s' % (directive, out)
    return out


def accepted(workdir, body):
    rc, out = run(workdir, body)
    assert rc == 0, out
    assert 'Syntax OK' in out
    return out


# -- positive controls (so that the refusals below mean something) --------------------
def test_valid_site_accepted(workdir, keys):
    accepted(workdir, site(keys, location='''
    AuthFlowUnauthenticated auto
    AuthFlowTokenFrom cookie bearer
    AuthFlowUserClaim sub
    AuthFlowExport header X-Auth-Email email
    AuthFlowExport header X-Auth-Groups groups join=,
    AuthFlowExport env AUTH_EMAIL email
    AuthFlowExportAll on
    AuthFlowForwardToken off'''))


@pytest.mark.parametrize('val', ['0', '60s', '300s', '5m', '300'])
def test_clock_skew_accepted_up_to_300(workdir, keys, val):
    accepted(workdir, site(keys, server='AuthFlowClockSkew %s' % val))


@pytest.mark.parametrize('keyname', ['ec256', 'ec384', 'ec521', 'rsa', 'ed'])
def test_signing_key_types_accepted(workdir, keys, keyname):
    k = getattr(keys, keyname)
    accepted(workdir, site(keys, signing='AuthFlowSigningKey "%s" kid=k1' % k.files['pem']))


def test_verify_key_and_hs256_accepted(workdir, keys):
    accepted(workdir, site(keys, signing='AuthFlowSigningKey "%s" kid=h alg=HS256'
                           % keys.hs.files['secret']))
    accepted(workdir, site(keys, server='AuthFlowVerifyKey "%s" kid=v'
                           % keys.old.files['pub']))


def test_rsa_pss_accepted(workdir, keys):
    accepted(workdir, site(keys, signing='AuthFlowSigningKey "%s" kid=p alg=PS256'
                           % keys.rsa.files['pem']))


def test_trust_issuer_file_accepted(workdir, keys):
    accepted(workdir, site(keys, server='AuthFlowTrustIssuer https://idp.example "%s" aud=api'
                           % keys.other.files['jwks']))


@pytest.mark.parametrize('mode', ['auto', 'redirect', '401', 'pass'])
def test_unauthenticated_modes_accepted(workdir, keys, mode):
    req = 'Require all granted' if mode == 'pass' else ''
    accepted(workdir, site(keys, location='AuthFlowUnauthenticated %s\n%s' % (mode, req)))


# -- C08: leeway above 300 s, and junk durations ------------------------------------
@pytest.mark.parametrize('val', ['301s', '301', '6m', '1h', '14d'])
def test_C08_clock_skew_above_300_refused(workdir, keys, val):
    refused(workdir, site(keys, server='AuthFlowClockSkew %s' % val), 'AuthFlowClockSkew')


@pytest.mark.parametrize('val', ['bogus', '-5', '10x', '1.5m', '""'])
def test_clock_skew_junk_refused(workdir, keys, val):
    refused(workdir, site(keys, server='AuthFlowClockSkew %s' % val), 'AuthFlowClockSkew')


def test_C08_alg_none_refused(workdir, keys):
    refused(workdir, site(keys, signing='AuthFlowSigningKey "%s" kid=e alg=none'
                          % keys.ec256.files['pem']), 'AuthFlowSigningKey')
    refused(workdir, site(keys, server='AuthFlowTrustIssuer https://idp.example "%s" alg=ES256,none'
                          % keys.other.files['jwks']), 'AuthFlowTrustIssuer')


def test_C08_trust_issuer_plain_http_remote_refused(workdir, keys):
    refused(workdir, site(keys, server='AuthFlowTrustIssuer https://idp.example '
                          'http://idp.example/jwks.json'), 'AuthFlowTrustIssuer')


# -- per-directory values --------------------------------------------------------------
@pytest.mark.parametrize('val', ['maybe', '402', 'PASSS', ''])
def test_unauthenticated_bad_value_refused(workdir, keys, val):
    refused(workdir, site(keys, location='AuthFlowUnauthenticated %s' % val),
            'AuthFlowUnauthenticated')


@pytest.mark.parametrize('line', [
    'AuthFlowExport cookie X-A email',
    'AuthFlowExport HEADERS X-A email',
    'AuthFlowExport header X-A',
    'AuthFlowExport header "X A" email',
    'AuthFlowExport header X-A email join',
    'AuthFlowExport header X-A email sep=,',
])
def test_export_bad_refused(workdir, keys, line):
    refused(workdir, site(keys, location=line), 'AuthFlowExport')


@pytest.mark.parametrize('val', ['query', 'cookie form', 'header'])
def test_D13_token_from_query_refused(workdir, keys, val):
    refused(workdir, site(keys, location='AuthFlowTokenFrom %s' % val), 'AuthFlowTokenFrom')


@pytest.mark.parametrize('d', ['AuthFlowExportAll', 'AuthFlowForwardToken'])
def test_flags_refuse_junk(workdir, keys, d):
    refused(workdir, site(keys, location='%s maybe' % d), d)


# -- keys: C01, C02 and files ------------------------------------------------------------
def test_signing_key_missing_file_refused(workdir, keys):
    refused(workdir, site(keys, signing='AuthFlowSigningKey /nonexistent/key.pem kid=x'),
            'AuthFlowSigningKey')


def test_verify_key_missing_file_refused(workdir, keys):
    refused(workdir, site(keys, server='AuthFlowVerifyKey /nonexistent/key.pem kid=x'),
            'AuthFlowVerifyKey')


def test_signing_key_garbage_file_refused(workdir, keys):
    p = os.path.join(workdir, 'garbage.pem')
    with open(p, 'w') as f:
        f.write('-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n')
    refused(workdir, site(keys, signing='AuthFlowSigningKey "%s" kid=x' % p),
            'AuthFlowSigningKey')


def test_C02_rsa_1024_refused(workdir, keys):
    refused(workdir, site(keys, signing='AuthFlowSigningKey "%s" kid=r' % keys.rsa1024.files['pem']),
            'AuthFlowSigningKey')
    refused(workdir, site(keys, server='AuthFlowVerifyKey "%s" kid=r' % keys.rsa1024.files['pub']),
            'AuthFlowVerifyKey')


def test_C02_rsa_e3_refused(workdir, keys):
    k = tokens.gen_rsa(2048, kid='e3', e=3).write(workdir, 'rsae3')
    refused(workdir, site(keys, signing='AuthFlowSigningKey "%s" kid=r' % k.files['pem']),
            'AuthFlowSigningKey')


def test_C01_hs256_short_secret_refused(workdir, keys):
    refused(workdir, site(keys, signing='AuthFlowSigningKey "%s" kid=h alg=HS256'
                          % keys.hs_short.files['secret']), 'AuthFlowSigningKey')


def test_C01_hs256_empty_secret_refused(workdir, keys):
    refused(workdir, site(keys, signing='AuthFlowSigningKey "%s" kid=h alg=HS256'
                          % keys.hs_empty.files['secret']), 'AuthFlowSigningKey')


@pytest.mark.parametrize('alg,n', [('HS384', 47), ('HS512', 63)])
def test_C01_hs384_hs512_short_secret_refused(workdir, keys, alg, n):
    k = tokens.gen_oct(n, kid='h', alg=alg).write(workdir, 'short%s' % alg)
    refused(workdir, site(keys, signing='AuthFlowSigningKey "%s" kid=h alg=%s'
                          % (k.files['secret'], alg)), 'AuthFlowSigningKey')


def test_C01_hs_verify_key_short_refused(workdir, keys):
    refused(workdir, site(keys, server='AuthFlowVerifyKey "%s" kid=h alg=HS256'
                          % keys.hs_short.files['secret']), 'AuthFlowVerifyKey')


def test_signing_key_alg_mismatch_refused(workdir, keys):
    refused(workdir, site(keys, signing='AuthFlowSigningKey "%s" kid=e alg=RS256'
                          % keys.ec256.files['pem']), 'AuthFlowSigningKey')
    refused(workdir, site(keys, signing='AuthFlowSigningKey "%s" kid=e alg=ES384'
                          % keys.ec256.files['pem']), 'AuthFlowSigningKey')


def test_signing_key_public_only_refused(workdir, keys):
    """A public key cannot sign: refused as AuthFlowSigningKey."""
    refused(workdir, site(keys, signing='AuthFlowSigningKey "%s" kid=e' % keys.ec256.files['pub']),
            'AuthFlowSigningKey')


def test_signing_key_unknown_option_refused(workdir, keys):
    refused(workdir, site(keys, signing='AuthFlowSigningKey "%s" kid=e colour=blue'
                          % keys.ec256.files['pem']), 'AuthFlowSigningKey')


def test_base_url_junk_refused(workdir, keys):
    body = site(keys).replace('AuthFlowBaseURL http://127.0.0.1:8080',
                              'AuthFlowBaseURL not-a-url')
    refused(workdir, body, 'AuthFlowBaseURL')


@pytest.mark.parametrize('val', ['"a;b"', '"a b"', 'a=b'])
def test_cookie_prefix_junk_refused(workdir, keys, val):
    refused(workdir, site(keys, server='AuthFlowCookiePrefix %s' % val), 'AuthFlowCookiePrefix')


# -- issue 14: step-up and CORS preflight directives ----------------------------------------
def test_stepup_preflight_directives_accepted(workdir, keys):
    accepted(workdir, site(keys, location='''
    AuthFlowMaxAge 15m
    AuthFlowACR urn:mace:incommon:iap:silver mfa
    AuthFlowPreflight deny
    </Location>
    <Location /app/sub>
    AuthFlowMaxAge off
    AuthFlowACR off
    AuthFlowPreflight pass'''))


@pytest.mark.parametrize('line,directive', [
    ('AuthFlowMaxAge 0', 'AuthFlowMaxAge'),
    ('AuthFlowMaxAge soon', 'AuthFlowMaxAge'),
    ('AuthFlowMaxAge -5s', 'AuthFlowMaxAge'),
    ('AuthFlowACR', 'AuthFlowACR'),
    ('AuthFlowACR "a\\"b"', 'AuthFlowACR'),
    ('AuthFlowACR "a b"', 'AuthFlowACR'),
    ('AuthFlowPreflight allow', 'AuthFlowPreflight'),
])
def test_stepup_preflight_directives_refused(workdir, keys, line, directive):
    refused(workdir, site(keys, location=line), directive)
