// Two tabs on two hosts (issue 12): the two-tabs scenario of two_tabs.test.mjs against the
// shared-store instance of run.sh -- Apache hosts A and B on one PostgreSQL store (same
// AuthFlowSecretFile and AuthFlowSigningKey, AuthFlowRevocationDelay 1s) behind a round-robin
// mod_proxy_balancer without stickiness, which is the origin the browser sees.
//
// The access cookie has expired and both tabs load a protected page at the same moment; the
// balancer hands the two requests to different hosts, which both rotate the same refresh token
// inline: the store's grace window (in PostgreSQL) must give the second the same successor, so
// both tabs stay logged in.  Each page says which host served it (#served-by, the host's port;
// every answer of A and B also carries X-Served-By).  Then signing out in one tab signs out
// the other, and the login is refused by both hosts, also to a copy of the old cookies (the
// revocation reaches the other host through the store within the revocation delay: polled,
// never timed).  Run by tests/e2e/run.sh.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const APP = process.env.E2E_SHARED_APP;
const IDP = process.env.E2E_SHARED_IDP;
const HOSTS = [process.env.E2E_SHARED_PORT_A, process.env.E2E_SHARED_PORT_B];
const ART = process.env.E2E_ARTIFACTS || 'tests/artifacts/e2e';
const STEP = 45_000;
const ROUNDS = 5; // concurrent rounds until one is split over both hosts
const POLLS = 60; // requests with the revoked login until both hosts refused it
mkdirSync(ART, { recursive: true });

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const dirs = [];
after(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

const onIdp = (url) => new URL(url).origin === IDP;
const onApp = (url) => new URL(url).origin === APP;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function login(page, user) {
  await page.goto(`${APP}/app/tabs`);
  await page.waitForURL(onIdp);
  await page.locator('input[name="login"]').fill(user);
  await page.locator('input[name="password"]').fill('any-password');
  await page.locator('form button[type="submit"], form input[type="submit"]').first().click();
  await page.waitForURL((u) => onApp(u) || /consent|interaction/.test(String(u)));
  if (onIdp(page.url())) {
    await page.locator('form button[type="submit"], form input[type="submit"]').first().click();
  }
  await page.waitForURL(`${APP}/app/tabs`);
}

test('two tabs on two hosts (shared PostgreSQL store, round-robin balancer) with an expired '
  + 'access token refresh at once and stay logged in; logout in one tab logs out the other on '
  + 'both hosts', { timeout: 240_000 }, async (t) => {
  assert.ok(APP && IDP && HOSTS[0] && HOSTS[1] && HOSTS[0] !== HOSTS[1],
    'E2E_SHARED_APP / _IDP / _PORT_A / _PORT_B not set (run by tests/e2e/run.sh)');
  const dir = mkdtempSync(join(tmpdir(), 'af-e2e-hosts-'));
  dirs.push(dir);
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath: '/usr/bin/chromium', headless: true, args: ARGS,
  });
  ctx.setDefaultTimeout(STEP);
  ctx.setDefaultNavigationTimeout(STEP);
  // the browser's own favicon requests would also go through the balancer and shift its
  // round robin: answer them in the browser
  await ctx.route(`${APP}/favicon.ico`, (r) => r.fulfill({ status: 404, body: '' }));
  // every answer of the app hosts: [path, status, host]
  const log = [];
  ctx.on('response', (r) => {
    if (onApp(r.url())) {
      log.push([new URL(r.url()).pathname, r.status(), r.headers()['x-served-by']]);
    }
  });
  const servedBy = new Set(); // hosts named by the pages (#served-by)
  const page200 = async (p, path) => {
    assert.equal(p.url(), `${APP}${path}`);
    assert.match(await p.locator('#claims').innerText(), /AUTHFLOW_SUB\s+alice@\S+/);
    const host = await p.locator('#served-by').innerText();
    assert.ok(HOSTS.includes(host), `served by ${host}, not one of ${HOSTS}`);
    servedBy.add(host);
    return host;
  };
  try {
    const tab1 = await ctx.newPage();
    await login(tab1, 'alice');
    await page200(tab1, '/app/tabs');
    t.diagnostic(`login walk: ${log.map(([p, s, h]) => `${p} ${s} @${h}`).join(', ')}`);
    const tab2 = await ctx.newPage();
    const jar = async () => Object.fromEntries((await ctx.cookies(APP)).map((c) => [c.name, c]));

    // rounds: the access cookie expires (the browser drops it) and both tabs load a
    // protected page at once; until one round went to both hosts
    let split = 0;
    for (let round = 1; round <= ROUNDS && !split; round++) {
      const before = await jar();
      assert.ok(before['authflow-at'] && before['authflow-rt'], `round ${round}: not logged in`);
      await ctx.clearCookies({ name: 'authflow-at' });
      const statuses = [];
      const listen = (r) => { if (r.url().startsWith(`${APP}/app/`)) statuses.push(r.status()); };
      ctx.on('response', listen);
      const [one, two] = [`/app/one-${round}`, `/app/two-${round}`];
      await Promise.all([tab1.goto(`${APP}${one}`), tab2.goto(`${APP}${two}`)]);
      ctx.off('response', listen);
      await tab1.screenshot({ path: join(ART, 'hosts-1-one.png') });
      await tab2.screenshot({ path: join(ART, 'hosts-2-two.png') });
      assert.deepEqual(statuses, [200, 200], `round ${round}: statuses ${statuses}`);
      const h1 = await page200(tab1, one);
      const h2 = await page200(tab2, two);
      const mid = await jar();
      assert.ok(mid['authflow-at'], `round ${round}: no new access cookie`);
      assert.ok(mid['authflow-rt'], `round ${round}: refresh cookie gone`);
      assert.notEqual(mid['authflow-rt'].value, before['authflow-rt'].value,
        `round ${round}: refresh cookie not rotated`);
      t.diagnostic(`round ${round}: tab 1 on host :${h1}, tab 2 on host :${h2}`);
      if (h1 !== h2) split = round;
    }
    assert.ok(split, `no round of ${ROUNDS} sent the two tabs to different hosts`);

    // still logged in on later navigations, on both hosts (the jar holds the live successor)
    await ctx.clearCookies({ name: 'authflow-at' });
    const again = await tab2.goto(`${APP}/app/again`);
    assert.equal(again.status(), 200);
    await page200(tab2, '/app/again');
    const next = await tab1.goto(`${APP}/app/next`);
    assert.equal(next.status(), 200);
    await page200(tab1, '/app/next');
    assert.deepEqual([...servedBy].sort(), [...HOSTS].sort(), 'the tabs were not served by both hosts');

    // a copy of the login as the other tab holds it before the logout
    const held = Object.values(await jar()).filter((c) => /^authflow-(at|rt)$/.test(c.name));
    assert.equal(held.length, 2);

    // sign out in tab 1 (confirmation page -> POST)
    await tab1.goto(`${APP}/auth/logout`);
    await tab1.locator('form button[type="submit"]').click();
    await tab1.waitForURL((u) => !String(u).startsWith(`${APP}/auth/logout`) || /state=/.test(String(u)))
      .catch(() => {});
    await tab1.screenshot({ path: join(ART, 'hosts-3-logout.png') });
    const out = log.filter(([p]) => p === '/auth/logout');
    t.diagnostic(`logout: ${out.map(([p, s, h]) => `${s} @${h}`).join(', ')}`);
    const gone = await jar();
    assert.equal(gone['authflow-at'], undefined, 'access cookie left after logout');
    assert.equal(gone['authflow-rt'], undefined, 'refresh cookie left after logout');

    // tab 2 is signed out too: its protected page answers with a redirect to the login (the
    // IdP's own session is dropped first, so the tab stops at its login form instead of
    // signing the user in again)
    await ctx.clearCookies({ domain: new URL(IDP).hostname });
    const first = [];
    tab2.on('response', (r) => {
      if (r.url() === `${APP}/app/after-logout`) {
        first.push([r.status(), r.headers()['x-served-by'], r.headers().location || '']);
      }
    });
    await tab2.goto(`${APP}/app/after-logout`).catch(() => {});
    await tab2.screenshot({ path: join(ART, 'hosts-4-other-tab.png') });
    assert.equal(first.length, 1, JSON.stringify(first));
    assert.equal(first[0][0], 302, `protected page after logout: ${first[0]}`);
    assert.ok(first[0][2].startsWith(`${APP}/auth/login`), `redirect to ${first[0][2]}`);
    t.diagnostic(`other tab after logout: ${first[0][0]} @${first[0][1]}`);

    // and the login itself is over on both hosts: the cookies the other tab held before the
    // logout are refused by each host once the revocation reached it (AuthFlowRevocationDelay
    // 1s: polled, never timed).  Each poll is one navigation-like request of this browser
    // context (its cookie jar; Sec-Fetch-Mode: navigate) that does not follow the redirect --
    // the browser would follow it to the login start, a second request through the balancer,
    // and every poll would then reach the same host.
    const refused = new Set();
    const trail = [];
    for (let i = 0; i < POLLS && refused.size < 2; i++) {
      await ctx.clearCookies();
      await ctx.addCookies(held);
      const r = await ctx.request.get(`${APP}/app/revoked-${i}`, {
        maxRedirects: 0,
        headers: { Accept: 'text/html', 'Sec-Fetch-Mode': 'navigate', 'Sec-Fetch-Dest': 'document',
          'Sec-Fetch-Site': 'none' },
      });
      const [s, h, l] = [r.status(), r.headers()['x-served-by'], r.headers().location || ''];
      trail.push(`${s}@${h}`);
      assert.ok(HOSTS.includes(h), `answer from ${h}`);
      if (s === 302) {
        assert.ok(l.startsWith(`${APP}/auth/login`), `redirect to ${l}`);
        refused.add(h);
      } else {
        // not yet seen by this host (within the delay): the old login still works there
        assert.equal(s, 200, `revoked login: ${s} @${h}`);
        assert.match(await r.text(), /AUTHFLOW_SUB/);
        await sleep(200);
      }
    }
    t.diagnostic(`old cookies after logout: ${trail.join(' ')}`);
    assert.deepEqual([...refused].sort(), [...HOSTS].sort(),
      `the revoked login was not refused by both hosts: ${trail.join(' ')}`);
  } finally {
    await ctx.close();
  }
});
