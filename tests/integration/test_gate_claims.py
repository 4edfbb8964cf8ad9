"""Issue 3: JWT claim checks through the real gate (SECURITY.md group B), event MPM.
Tokens are validly signed by the configured key; only the claim under test is wrong.
L (leeway) is the default 60 s; the clock is the real one (boundaries +-1 s)."""
import time

import pytest

import sites
import tokens
from conftest import start_server
from gatehelp import accept, deny, good_claims

L = 60


@pytest.fixture(scope='module')
def site(request, keys, echo):
    srv = start_server(request, 'claims', sites.standard_site(keys, echo), mpm='event')
    return srv


@pytest.fixture(scope='module')
def site_b(request, keys, echo):
    """A second site sharing the signing key, with its own base URL (B05 replay)."""
    srv = start_server(request, 'claims-b', sites.standard_site(keys, echo), mpm='event')
    return srv


def tok(keys, site, **kw):
    return tokens.mint(keys.ec256, good_claims(site, **kw))


def test_sanity(site, keys, echo):
    accept(site, echo, tok(keys, site))


def test_iss_mismatch(site, keys, echo):
    for iss in ('https://evil.example', site.base + '/', site.base.upper(), '', None):
        deny(site, echo, tok(keys, site, iss=iss) if iss is not None else
             tokens.mint(keys.ec256, good_claims(site, iss=None)))


# -- B01 exp missing ------------------------------------------------------------------------
def test_B01_exp_missing(site, keys, echo):
    deny(site, echo, tok(keys, site, exp=None))


# -- B02 time boundaries and types -------------------------------------------------------------
def test_B02_exp_boundaries(site, keys, echo):
    now = int(time.time())
    deny(site, echo, tok(keys, site, exp=now - L - 1, iat=now - 300, nbf=now - 300))
    now = int(time.time())
    accept(site, echo, tok(keys, site, exp=now - L + 2, iat=now - 300, nbf=now - 300))


def test_B02_nbf_boundaries(site, keys, echo):
    now = int(time.time())
    deny(site, echo, tok(keys, site, nbf=now + L + 2))
    now = int(time.time())
    accept(site, echo, tok(keys, site, nbf=now + L - 1))


def test_B02_fractional_exp_accepted(site, keys, echo):
    accept(site, echo, tok(keys, site, exp=time.time() + 300.5))
    accept(site, echo, tok(keys, site, nbf=time.time() - 10.25, iat=time.time() - 10.75))


@pytest.mark.parametrize('val', ['"9999999999"', 'true', 'null', '-1', '9007199254740993',
                                 '1e300', '[9999999999]', '{}', '"now"'])
@pytest.mark.parametrize('claim', ['exp', 'nbf', 'iat'])
def test_B02_wrong_types(site, keys, echo, claim, val):
    import json
    c = good_claims(site)
    c[claim] = json.loads(val)
    deny(site, echo, tokens.mint(keys.ec256, c), both=False)


# -- B03 iat in the future; lifetime above the maximum --------------------------------------------
def test_B03_iat_future(site, keys, echo):
    now = int(time.time())
    deny(site, echo, tok(keys, site, iat=now + L + 5, nbf=now - 1, exp=now + 600))
    now = int(time.time())
    accept(site, echo, tok(keys, site, iat=now + L - 5, nbf=now - 1, exp=now + 600))


def test_B03_lifetime_above_maximum(site, keys, echo):
    """exp - iat far above AuthFlowAccessTTL (default 10m): refused."""
    now = int(time.time())
    deny(site, echo, tok(keys, site, iat=now - 10, exp=now + 30 * 86400))
    deny(site, echo, tok(keys, site, iat=now - 10, exp=now + 86400))


# -- B05 aud ---------------------------------------------------------------------------------------
def test_B05_aud(site, keys, echo):
    deny(site, echo, tok(keys, site, aud=None))
    deny(site, echo, tok(keys, site, aud='https://other.example'))
    deny(site, echo, tok(keys, site, aud=['https://other.example', 'x']))
    deny(site, echo, tok(keys, site, aud=[]))
    deny(site, echo, tok(keys, site, aud=''))
    deny(site, echo, tok(keys, site, aud=site.base + '/'))
    deny(site, echo, tok(keys, site, aud=[[site.base]]))
    deny(site, echo, tok(keys, site, aud={'aud': site.base}))
    accept(site, echo, tok(keys, site, aud=['https://other.example', site.base]))


def test_B05_replay_across_vhosts_sharing_a_key(site, site_b, keys, echo):
    a = tok(keys, site)
    accept(site, echo, a)
    deny(site_b, echo, a)
    b = tokens.mint(keys.ec256, good_claims(site_b))
    accept(site_b, echo, b)
    deny(site, echo, b)


# -- B06 sub ---------------------------------------------------------------------------------------
@pytest.mark.parametrize('sub', ['<missing>', '', 42, None, ['alice'], {'a': 1}, True, 'a' * 256,
                                 'al\rice', 'al\nice', 'al\x00ice', 'al\tice', 'al\x7fice'])
def test_B06_sub(site, keys, echo, sub):
    c = good_claims(site)
    if sub == '<missing>':
        del c['sub']
    else:
        c['sub'] = sub
    deny(site, echo, tokens.mint(keys.ec256, c), both=False)


def test_B06_sub_255_accepted(site, keys, echo):
    accept(site, echo, tok(keys, site, sub='a' * 255), expect_sub='a' * 255)


# -- B07 jti -----------------------------------------------------------------------------------------
@pytest.mark.parametrize('jti', ['<missing>', '', 7, None, ['x']])
def test_B07_jti_missing(site, keys, echo, jti):
    c = good_claims(site)
    if jti == '<missing>':
        del c['jti']
    else:
        c['jti'] = jti
    deny(site, echo, tokens.mint(keys.ec256, c), both=False)


# -- RFC 9068 profile of our own access tokens --------------------------------------------------
def test_rfc9068_typ_at_jwt_required(site, keys, echo):
    """Our access tokens carry typ at+jwt; a JWT of another type signed by the same key (an
    ID token, a logout token) is not an access token."""
    c = good_claims(site)
    for typ in (None, 'JWT', 'jwt', 'id_token+jwt', 'logout+jwt', 'at+jwt ', ''):
        deny(site, echo, tokens.mint(keys.ec256, good_claims(site), typ=typ))
    accept(site, echo, tokens.mint(keys.ec256, c, typ='application/at+jwt'))


def test_rfc9068_iat_required(site, keys, echo):
    deny(site, echo, tok(keys, site, iat=None))


def test_B03_lifetime_boundary(site, keys, echo):
    """AuthFlowAccessTTL (10m) is the longest lifetime a token of ours may claim."""
    now = int(time.time())
    accept(site, echo, tok(keys, site, iat=now, exp=now + 600))
    deny(site, echo, tok(keys, site, iat=now, exp=now + 3600))
