// Browser tests of the login (issue 4; SECURITY.md F03), run by tests/e2e/run.sh with
// node's built-in test runner.  Debian's chromium, driven by playwright-core (no download).
//
// Environment (set by run.sh):
//   E2E_APP     http://localhost:Q   Apache + mod_authflow + demo backend (AuthFlowCookieSameSite Lax)
//   E2E_IDP     http://127.0.0.1:P   the real OpenID provider: another site than the app
//   E2E_ARTIFACTS                    where screenshots go (tests/artifacts/e2e, gitignored)
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const APP = process.env.E2E_APP;
const IDP = process.env.E2E_IDP;
const ART = process.env.E2E_ARTIFACTS || 'tests/artifacts/e2e';
const STEP = 45_000; // one navigation; a loaded machine can take 15 s per login walk
mkdirSync(ART, { recursive: true });

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const dirs = [];

async function browser() {
  const dir = mkdtempSync(join(tmpdir(), 'af-e2e-'));
  dirs.push(dir);
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath: '/usr/bin/chromium', headless: true, args: ARGS,
    viewport: { width: 1000, height: 760 },
  });
  ctx.setDefaultTimeout(STEP);
  ctx.setDefaultNavigationTimeout(STEP);
  return ctx;
}

after(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

const onIdp = (url) => new URL(url).origin === IDP;
const onApp = (url) => new URL(url).origin === APP;

// Fill the IdP's login form (oidc-provider dev interactions) and its consent form.
async function idpLogin(page, user, shot) {
  await page.waitForURL(onIdp);
  await page.locator('input[name="login"]').fill(user);
  await page.locator('input[name="password"]').fill('any-password');
  if (shot) await page.screenshot({ path: join(ART, `${shot}-1-idp-login.png`) });
  await page.locator('form button[type="submit"], form input[type="submit"]').first().click();
  // consent (first login of this browser), then back to the app
  await page.waitForURL((u) => onApp(u) || /consent|interaction/.test(String(u)));
  if (onIdp(page.url())) {
    if (shot) await page.screenshot({ path: join(ART, `${shot}-2-idp-consent.png`) });
    await page.locator('form button[type="submit"], form input[type="submit"]').first().click();
  }
}

test('login: protected page -> IdP login form -> back on the page with the claims (F03 Lax)',
  { timeout: 180_000 }, async () => {
    const ctx = await browser();
    try {
      const page = await ctx.newPage();
      const callbacks = [];
      page.on('response', (r) => {
        if (r.url().startsWith(`${APP}/auth/callback`)) callbacks.push(r.status());
      });
      await page.goto(`${APP}/app/hello?x=1`);
      await idpLogin(page, 'alice', 'lax');
      await page.waitForURL(`${APP}/app/hello?x=1`);
      await page.locator('#claims').waitFor();
      await page.screenshot({ path: join(ART, 'lax-3-app.png'), fullPage: true });
      // the callback was a cross-site top-level GET from the IdP and completed
      assert.deepEqual(callbacks, [302]);
      const text = await page.locator('#claims').innerText();
      assert.match(text, /AUTHFLOW_SUB\s+alice@\S+/);
      assert.match(text, /alice@example\.com/);
      assert.match(text, /AUTHFLOW_PROVIDER\s+demo/);
      assert.match(await page.locator('h1').innerText(), /Alice Example/);
      // the login cookies: HttpOnly, SameSite=Lax, Path=/, host-only; no flow cookie left
      const cookies = await ctx.cookies(APP);
      const byName = Object.fromEntries(cookies.map((c) => [c.name, c]));
      for (const n of ['authflow-at', 'authflow-rt']) {
        assert.ok(byName[n], `${n} missing: ${cookies.map((c) => c.name)}`);
        assert.equal(byName[n].httpOnly, true);
        assert.equal(byName[n].sameSite, 'Lax');
        assert.equal(byName[n].path, '/');
        assert.equal(byName[n].domain, 'localhost');
      }
      assert.equal(byName['authflow-flow'], undefined, 'flow cookie left behind');
      // JavaScript on the page cannot read them
      assert.equal(await page.evaluate(() => document.cookie), '');
      // the session endpoint shows the login, without tokens
      const s = await page.goto(`${APP}/auth/session`);
      assert.equal(s.status(), 200);
      const body = await s.text();
      assert.match(body, /alice/);
      assert.ok(!body.includes(byName['authflow-at'].value), 'access token in /auth/session');
      assert.ok(!body.includes(byName['authflow-rt'].value), 'refresh token in /auth/session');
    } finally {
      await ctx.close();
    }
  });

test('F03 regression: a SameSite=Strict flow cookie is not sent on the cross-site callback',
  { timeout: 180_000 }, async () => {
    // The module always sends the flow cookie with SameSite=Lax (AuthFlowCookieSameSite
    // applies to the login cookies only).  Turn it into a Strict cookie in the browser's jar
    // (as a module sending Strict would) and check that the login then fails: the IdP -> app
    // redirect is cross-site, so the browser withholds the cookie.  This also proves the
    // two-site setup is real (on one site the mistake would go unnoticed).
    const ctx = await browser();
    try {
      const page = await ctx.newPage();
      const callbacks = [];
      page.on('response', (r) => {
        if (r.url().startsWith(`${APP}/auth/callback`)) callbacks.push(r.status());
      });
      await page.goto(`${APP}/app/strict`);
      await page.waitForURL(onIdp);
      const flow = (await ctx.cookies(APP)).filter((c) => c.name.endsWith('-flow'));
      assert.equal(flow.length, 1, 'no flow cookie in the browser');
      assert.equal(flow[0].sameSite, 'Lax');
      assert.equal(flow[0].httpOnly, true);
      await ctx.addCookies([{ ...flow[0], sameSite: 'Strict' }]);
      const now = (await ctx.cookies(APP)).filter((c) => c.name.endsWith('-flow'));
      assert.equal(now.length, 1);
      assert.equal(now[0].sameSite, 'Strict', 'the cookie could not be made Strict');
      await idpLogin(page, 'alice', 'strict');
      await page.waitForURL((u) => String(u).startsWith(`${APP}/auth/callback`))
        .catch(async (e) => {
          await page.screenshot({ path: join(ART, 'strict-3-timeout.png'), fullPage: true });
          throw new Error(`${e.message}\nat ${page.url()}; callbacks ${callbacks}`);
        });
      await page.screenshot({ path: join(ART, 'strict-3-callback.png'), fullPage: true });
      assert.equal(callbacks[0], 400, `callback statuses ${callbacks}`);
      const names = (await ctx.cookies(APP)).map((c) => c.name);
      assert.ok(!names.includes('authflow-at'), 'logged in although the flow cookie was Strict');
    } finally {
      await ctx.close();
    }
  });

test('AuthFlowCookieSameSite Strict: the login still completes without a loop (F01, F03)',
  { timeout: 180_000, skip: !process.env.E2E_STRICT_APP && 'no Strict instance' }, async () => {
    // With Strict login cookies, the redirect after the cross-site callback must not lead
    // back to the IdP: the user lands on the page (at most one extra hop), never a loop.
    const app = process.env.E2E_STRICT_APP;
    const idp = process.env.E2E_STRICT_IDP;
    const ctx = await browser();
    try {
      const page = await ctx.newPage();
      const authorize = [];
      page.on('request', (r) => {
        if (r.url().startsWith(`${idp}/auth?`)) authorize.push(r.url());
      });
      await page.goto(`${app}/app/strict-cookies`);
      await page.waitForURL((u) => new URL(u).origin === idp);
      await page.locator('input[name="login"]').fill('alice');
      await page.locator('input[name="password"]').fill('any-password');
      await page.locator('form button[type="submit"], form input[type="submit"]').first().click();
      await page.waitForURL((u) => new URL(u).origin === app || /consent|interaction/.test(String(u)));
      if (new URL(page.url()).origin === idp) {
        await page.locator('form button[type="submit"], form input[type="submit"]').first().click();
      }
      const landed = await page.waitForURL(`${app}/app/strict-cookies`, { timeout: 30_000 })
        .then(() => true, () => false);
      await page.screenshot({ path: join(ART, 'strict-cookies-app.png'), fullPage: true });
      const cookies = await ctx.cookies(app);
      const at = cookies.find((c) => c.name === 'authflow-at');
      assert.ok(at, `no access cookie: ${cookies.map((c) => c.name)}`);
      assert.equal(at.sameSite, 'Strict');
      assert.ok(landed, `did not land on the page (at ${page.url()})`);
      assert.ok(authorize.length <= 1, `login loop: ${authorize.length} authorization requests`);
      await page.locator('#claims').waitFor({ timeout: 10_000 });
      assert.match(await page.locator('#claims').innerText(), /AUTHFLOW_SUB\s+alice@\S+/);
    } finally {
      await ctx.close();
    }
  });
