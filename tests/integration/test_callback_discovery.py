"""Discovery (SECURITY.md E15, D06): a provider whose discovery document is wrong is refused
and no authorization request is sent (the browser is not sent to the IdP, 502/504); a
correct one is used.  Discovery is cached per process, so each case has its own bad IdP
(mode set on its command line) and its own <AuthFlowProvider> in one httpd.
"""
import pytest

import conftest
from loginhelp import (BadIdp, Browser, describe, family_count, full_login, get, login_path,
                       login_site, provider_block, session_cookies, store_snapshot)

REFUSED = {
    'issmismatch': (['discovery_issuer_mismatch'], 502),
    'issslash': (['discovery_issuer_slash'], 502),
    'notjson': (['discovery_not_json'], 502),
    'httpendpoint': (['discovery_http_endpoint'], 502),
    'hang': (['hang_discovery'], 504),
}
ACCEPTED = {
    'good': [],
    'noissparam': ['no_iss_param_supported'],   # RFC 9207 not announced: no iss needed
}


@pytest.fixture(scope='module')
def idps():
    started = {}
    try:
        for name, (modes, _st) in REFUSED.items():
            started[name] = BadIdp(modes=modes, hang_seconds=6)
        for name, modes in ACCEPTED.items():
            started[name] = BadIdp(modes=modes)
        yield started
    finally:
        for s in started.values():
            s.stop()


@pytest.fixture(scope='module')
def site(request, keys, echo, idps):
    providers = '\n'.join(provider_block(n, i.url, extra='Timeout 2s') for n, i in idps.items())
    body = login_site(keys, echo, providers, apps=[('/app', 'good')])
    srv = conftest.start_server(request, 'callback-discovery', body, allow=[r'AF0\d{4}'])
    srv.store = srv.root + '/store'
    return srv


@pytest.mark.parametrize('name', sorted(REFUSED))
def test_E15_discovery_refused(site, idps, name):
    before = store_snapshot(site.store)
    r = get(site, login_path(name, '/app'), Browser())
    assert r.status_code == REFUSED[name][1], describe(r)
    assert not r.headers.get('Location'), r.headers.get('Location')
    assert not session_cookies(r)
    assert '/authorize' not in idps[name].paths()
    assert store_snapshot(site.store) == before


@pytest.mark.parametrize('name', sorted(ACCEPTED))
def test_E15_discovery_used(site, idps, name):
    n = family_count(site.store)
    lg = full_login(site, name, '/app')
    assert lg.auth_url.startswith(idps[name].url + '/authorize?')
    assert lg.cb_resp.status_code in (302, 303), describe(lg.cb_resp)
    assert family_count(site.store) == n + 1
    paths = idps[name].paths()
    assert '/.well-known/openid-configuration' in paths and '/token' in paths
