#!/usr/bin/python3
"""The Sign in with Apple site of the browser test (apple.test.mjs), run by tests/e2e/run.sh.

    /usr/bin/python3 tests/e2e/apple_site.py STATE_DIR

Starts, in the foreground until SIGTERM:
  - tests/idp/apple_idp.py on http://127.0.0.1:P (Apple-shaped: its /auth/authorize page
    form_posts code, state and user back; its token endpoint verifies the client-secret JWT);
  - Apache + mod_authflow on http://localhost:Q (another site than 127.0.0.1, so the IdP's
    POST is really cross-site and the SameSite=Lax flow cookie is not sent on it) with
    `Preset apple` and a fresh .p8 key, /app proxied to an echo backend that answers with the
    headers and environment it received (JSON);
and writes STATE_DIR/state.json {"app", "idp", "pid"} when both listen.  Every server is
stopped by its own pid.
"""
import json
import os
import signal
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, 'tests', 'integration'))

import afharness  # noqa: E402
import backends  # noqa: E402
import tokens  # noqa: E402
from loginhelp import FixedHttpd, protected  # noqa: E402

TEAM, KEYID, CLIENT = 'TEAM123456', 'KEY1234567', 'com.example.authflow'


def main():
    state_dir = sys.argv[1]
    os.makedirs(state_dir, exist_ok=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    started = []
    try:
        key = tokens.gen_ec('P-256', kid=KEYID)
        p8 = os.path.join(state_dir, 'AuthKey_%s.p8' % KEYID)
        with open(p8, 'wb') as f:
            f.write(key.priv_pem())
        os.chmod(p8, 0o600)
        with open(p8 + '.pub.pem', 'wb') as f:
            f.write(key.pub_pem())
        signing = tokens.gen_ec('P-256', kid='e256').write(state_dir, 'signing')

        sys.path.insert(0, os.path.join(REPO, 'tests', 'integration'))
        from test_login_apple import AppleIdp  # the same IdP as the integration tests
        idp = AppleIdp(p8 + '.pub.pem')
        started.append(idp)
        echo = backends.EchoServer().start()
        started.append(echo)
        port = afharness.free_port()
        app = 'http://localhost:%d' % port
        body = '\n'.join([
            'AuthFlowBaseURL %s' % app,
            'AuthFlowStore "@ROOT@/store"',
            'AuthFlowSigningKey "%s" kid=e256' % signing.files['pem'],
            'AuthFlowTokenClaims sub email email_verified name given_name family_name',
            '<AuthFlowProvider apple>\n    Preset apple\n    Issuer %s\n    ClientID %s\n'
            '    TeamID %s\n    KeyID %s\n    PrivateKeyFile "%s"\n</AuthFlowProvider>'
            % (idp.issuer, CLIENT, TEAM, KEYID, p8),
            '<Location /auth>\n    SetHandler authflow\n</Location>',
            protected('/app', echo, 'apple')]) + '\n'
        srv = FixedHttpd('e2e-apple', body, port)
        started.append(srv)
        srv.start()
        with open(os.path.join(state_dir, 'state.json'), 'w') as f:
            json.dump({'app': app, 'idp': idp.url, 'pid': os.getpid(),
                       'error_log': srv.error_log}, f)
        print('READY', flush=True)
        stop.wait()
    finally:
        for s in reversed(started):
            try:
                s.stop()
                if isinstance(s, FixedHttpd) and not os.environ.get('E2E_KEEP'):
                    s.cleanup_dir()
            except Exception:
                pass
    return 0


if __name__ == '__main__':
    sys.exit(main())
