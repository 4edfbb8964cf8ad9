// A slow request must not log the other tab out (issue 10, hardening item 2; SECURITY.md G06).
// The access cookie has expired; tab 1 starts a slow XHR (the backend answers after 6 s), which
// makes the gate rotate the refresh token inline -- the new cookies travel with that slow
// answer.  Tab 2 navigates 3 s later (after the 1 s reuse grace of this instance) still holding
// the old refresh token.  Before the fix the store took tab 2 for a thief: the login was
// revoked, tab 2 went to the IdP, and the slow answer then set the revoked cookies.  Now tab 2
// gets the same successor, both tabs stay logged in, and a later navigation works.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const APP = process.env.E2E_SLOW_APP;
const IDP = process.env.E2E_SLOW_IDP;
const ART = process.env.E2E_ARTIFACTS || 'tests/artifacts/e2e';
const STEP = 45_000;
mkdirSync(ART, { recursive: true });

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const dirs = [];
after(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

const onIdp = (url) => new URL(url).origin === IDP;
const onApp = (url) => new URL(url).origin === APP;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function login(page, user) {
  await page.goto(`${APP}/app/start`);
  await page.waitForURL(onIdp);
  await page.locator('input[name="login"]').fill(user);
  await page.locator('input[name="password"]').fill('any-password');
  await page.locator('form button[type="submit"], form input[type="submit"]').first().click();
  await page.waitForURL((u) => onApp(u) || /consent|interaction/.test(String(u)));
  if (onIdp(page.url())) {
    await page.locator('form button[type="submit"], form input[type="submit"]').first().click();
  }
  await page.waitForURL(`${APP}/app/start`);
}

test('a slow XHR with an expired access token does not log the other tab out (G06)',
  { timeout: 240_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'af-e2e-slow-'));
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
      await ctx.clearCookies({ name: 'authflow-at' }); // the access cookie expired
      const slow = tab1.evaluate(async () => {
        const r = await fetch('/app/report?sleep=6', { credentials: 'same-origin' });
        return { status: r.status, text: await r.text() };
      });
      slow.catch(() => {}); // a failure below closes the page: report that one, not this

      await sleep(3000); // past AuthFlowReuseGrace (1 s), before the slow answer
      const first = [];
      tab2.on('response', (r) => { if (r.url() === `${APP}/app/two`) first.push(r.status()); });
      await tab2.goto(`${APP}/app/two`);
      await tab2.screenshot({ path: join(ART, 'slow-1-other-tab.png') });
      assert.equal(first[0], 200, `the other tab: ${first} (sent to log in again?)`);
      assert.equal(tab2.url(), `${APP}/app/two`);
      assert.match(await tab2.locator('#claims').innerText(), /AUTHFLOW_SUB\s+alice@\S+/);
      const done = await slow;
      assert.equal(done.status, 200, 'the slow request');
      assert.match(done.text, /AUTHFLOW_SUB/);
      // the jar now holds the live successor: a later navigation is still signed in
      await ctx.clearCookies({ name: 'authflow-at' });
      const later = [];
      tab1.on('response', (r) => { if (r.url() === `${APP}/app/later`) later.push(r.status()); });
      await tab1.goto(`${APP}/app/later`);
      await tab1.screenshot({ path: join(ART, 'slow-2-later.png') });
      assert.equal(later[0], 200, `later navigation: ${later}`);
      assert.match(await tab1.locator('#claims').innerText(), /AUTHFLOW_SUB\s+alice@\S+/);
    } finally {
      await ctx.close();
    }
  });
