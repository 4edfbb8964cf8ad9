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
      assert.match(text, /AUTHFLOW_SUB\s+alice/);
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
    // The module always sends the flow cookie with SameSite=Lax.  Rewrite it to Strict in
    // the browser (as a misconfigured module would send it) and check that the login then
    // fails: the IdP -> app redirect is cross-site, so the browser withholds the cookie.
    // This proves the two-site setup is real (on one site the mistake would go unnoticed).
    const ctx = await browser();
    try {
      const page = await ctx.newPage();
      let rewritten = 0;
      await page.route(`${APP}/auth/login**`, async (route) => {
        const resp = await route.fetch({ maxRedirects: 0 });
        const headers = [];
        for (const h of resp.headersArray()) {
          if (h.name.toLowerCase() === 'set-cookie' && /-flow=/.test(h.value)) {
            assert.match(h.value, /SameSite=Lax/i);
            headers.push({ name: h.name, value: h.value.replace(/SameSite=Lax/i, 'SameSite=Strict') });
            rewritten += 1;
          } else {
            headers.push(h);
          }
        }
        const obj = {};
        for (const h of headers) {
          obj[h.name] = obj[h.name] === undefined ? h.value : `${obj[h.name]}\n${h.value}`;
        }
        await route.fulfill({ status: resp.status(), headers: obj, body: await resp.body() });
      });
      const callbacks = [];
      page.on('response', (r) => {
        if (r.url().startsWith(`${APP}/auth/callback`)) callbacks.push(r.status());
      });
      await page.goto(`${APP}/app/strict`);
      await idpLogin(page, 'alice', 'strict');
      await page.waitForURL((u) => String(u).startsWith(`${APP}/auth/callback`),
        { waitUntil: 'commit' }).catch(async (e) => {
        await page.screenshot({ path: join(ART, 'strict-3-timeout.png'), fullPage: true });
        throw new Error(`${e.message}\nat ${page.url()}; callbacks ${callbacks}`);
      });
      await page.waitForLoadState();
      await page.screenshot({ path: join(ART, 'strict-3-callback.png'), fullPage: true });
      assert.ok(rewritten >= 1, 'the flow cookie was never seen');
      assert.equal(callbacks[0], 400, `callback statuses ${callbacks}`);
      const names = (await ctx.cookies(APP)).map((c) => c.name);
      assert.ok(!names.includes('authflow-at'), 'logged in although the flow cookie was Strict');
    } finally {
      await ctx.close();
    }
  });
