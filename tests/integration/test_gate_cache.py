"""Issue 3: the verified-token cache (AuthFlowTokenCache, on by default) never widens what
the gate accepts: not past exp, not for a tampered signature, not across virtual hosts."""
import time

import pytest

import sites
import tokens
from conftest import start_server
from gatehelp import accept, deny, good_claims

L = 60


@pytest.fixture(scope='module')
def two(request, keys, echo):
    """One httpd, two vhosts (ports) with their own base URL, sharing the signing key."""
    site = sites.standard_site(keys, echo)
    a = site.replace('AuthFlowBaseURL @BASE@', 'AuthFlowBaseURL http://127.0.0.1:@PORT@')
    b = site.replace('AuthFlowBaseURL @BASE@', 'AuthFlowBaseURL http://127.0.0.1:@PORT2@')
    body = ('<VirtualHost 127.0.0.1:@PORT@>\n%s\n</VirtualHost>\n'
            '<VirtualHost 127.0.0.1:@PORT2@>\n%s\n</VirtualHost>\n' % (a, b))
    srv = start_server(request, 'cache', body, mpm='event', ports=2)
    return srv


class _Port2:
    """View of the second vhost with the Httpd interface the helpers use."""

    def __init__(self, srv):
        self.srv = srv
        self.port = srv.ports[1]
        self.base = 'http://127.0.0.1:%d' % self.port

    def url(self, path):
        return self.srv.url(path, 1)


def test_cache_not_shared_across_vhosts(two, keys, echo):
    b = _Port2(two)
    ta = tokens.mint(keys.ec256, good_claims(two))
    for _ in range(3):
        accept(two, echo, ta)          # cached in vhost A
    deny(b, echo, ta)                  # same process, other vhost: other audience
    tb = tokens.mint(keys.ec256, good_claims(b))
    accept(b, echo, tb)
    deny(two, echo, tb)


def test_cache_tampered_signature(two, keys, echo):
    t = tokens.mint(keys.ec256, good_claims(two))
    accept(two, echo, t)
    accept(two, echo, t)
    h, p, s = t.split('.')
    other = tokens.mint(keys.attacker, good_claims(two)).split('.')[2]
    deny(two, echo, tokens.remember(h + '.' + p + '.' + other))
    deny(two, echo, tokens.remember(h + '.' + p + '.' + s[:-2] + ('AA' if s[-2:] != 'AA' else 'BA')))


@pytest.mark.slow
def test_cache_respects_exp(two, keys, echo):
    now = int(time.time())
    t = tokens.mint(keys.ec256, good_claims(two, exp=now - L + 3, iat=now - 100, nbf=now - 100))
    accept(two, echo, t)
    accept(two, echo, t)
    time.sleep(5)
    deny(two, echo, t)
