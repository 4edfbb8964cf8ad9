// Two tabs, one login (issue 5): the access cookie has expired (the browser dropped it:
// its Max-Age is the access-token lifetime) and both tabs load a protected page at the same
// moment.  Both must stay logged in: the gate refreshes inline in both requests, and the
// store's grace window hands the second one the same successor (no reuse detection, no
// logout).  Then signing out in one tab signs out the other.  Run by tests/e2e/run.sh.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const APP = process.env.E2E_APP;
const IDP = process.env.E2E_IDP;
const ART = process.env.E2E_ARTIFACTS || 'tests/artifacts/e2e';
const STEP = 45_000;
mkdirSync(ART, { recursive: true });

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const dirs = [];
after(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

const onIdp = (url) => new URL(url).origin === IDP;
const onApp = (url) => new URL(url).origin === APP;

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

test('two tabs with an expired access token refresh at once and stay logged in; logout in one '
  + 'tab logs out the other', { timeout: 240_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'af-e2e-tabs-'));
  dirs.push(dir);
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath: '/usr/bin/chromium', headless: true, args: ARGS,
  });
  ctx.setDefaultTimeout(STEP);
  ctx.setDefaultNavigationTimeout(STEP);
  try {
    const tab1 = await ctx.newPage();
    await login(tab1, 'alice');
    const tab2 = await ctx.newPage();
    const jar = async () => Object.fromEntries((await ctx.cookies(APP)).map((c) => [c.name, c]));
    const before = await jar();
    assert.ok(before['authflow-at'] && before['authflow-rt'], 'not logged in');

    // the access cookie expires: the browser drops it
    await ctx.clearCookies({ name: 'authflow-at' });
    const statuses = [];
    for (const p of [tab1, tab2]) {
      p.on('response', (r) => { if (r.url().startsWith(`${APP}/app/`)) statuses.push(r.status()); });
    }
    await Promise.all([tab1.goto(`${APP}/app/one`), tab2.goto(`${APP}/app/two`)]);
    await tab1.screenshot({ path: join(ART, 'tabs-1-one.png') });
    await tab2.screenshot({ path: join(ART, 'tabs-2-two.png') });
    assert.deepEqual(statuses, [200, 200], `statuses ${statuses}`);
    assert.equal(tab1.url(), `${APP}/app/one`);
    assert.equal(tab2.url(), `${APP}/app/two`);
    for (const p of [tab1, tab2]) {
      assert.match(await p.locator('#claims').innerText(), /AUTHFLOW_SUB\s+alice@\S+/);
    }
    const mid = await jar();
    assert.ok(mid['authflow-at'], 'no new access cookie');
    assert.notEqual(mid['authflow-rt'].value, before['authflow-rt'].value, 'not rotated');
    // still logged in on a later navigation (the jar holds the live successor)
    await ctx.clearCookies({ name: 'authflow-at' });
    const again = await tab2.goto(`${APP}/app/again`);
    assert.equal(again.status(), 200);

    // sign out in tab 1 (confirmation page -> POST)
    await tab1.goto(`${APP}/auth/logout`);
    await tab1.locator('form button[type="submit"]').click();
    await tab1.waitForURL((u) => !String(u).startsWith(`${APP}/auth/logout`) || /state=/.test(String(u)))
      .catch(() => {});
    await tab1.screenshot({ path: join(ART, 'tabs-3-logout.png') });
    const gone = await jar();
    assert.equal(gone['authflow-at'], undefined, 'access cookie left after logout');
    assert.equal(gone['authflow-rt'], undefined, 'refresh cookie left after logout');
    // tab 2 is signed out too: the protected page answers with a redirect to the login
    // (the IdP may then sign the user in again silently: its own session is not ours)
    const first = [];
    tab2.on('response', (r) => {
      if (r.url() === `${APP}/app/after-logout`) first.push(r.status());
    });
    await tab2.goto(`${APP}/app/after-logout`).catch(() => {});
    await tab2.screenshot({ path: join(ART, 'tabs-4-other-tab.png') });
    assert.equal(first[0], 302, `protected page after logout: ${first}`);
  } finally {
    await ctx.close();
  }
});
