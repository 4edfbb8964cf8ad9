// Browser test of the password form (issue 14: Type password through httpd's authn
// providers), run by tests/e2e/run.sh with node's built-in test runner.
//
// Environment (set by run.sh):
//   E2E_PW_APP   http://localhost:Q   Apache + mod_authflow with <AuthFlowProvider staff>
//                                     (Type password, AuthnProvider file; alice's password
//                                     in an htpasswd -B file) and the demo backend at /app
//   E2E_ARTIFACTS                     where screenshots go
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const APP = process.env.E2E_PW_APP;
const ART = process.env.E2E_ARTIFACTS || 'tests/artifacts/e2e';
const STEP = 45_000;
mkdirSync(ART, { recursive: true });

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const dirs = [];

after(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

test('password form: wrong password, then fill, submit, land on the return_to page logged in',
  { timeout: 180_000, skip: !APP && 'E2E_PW_APP not set (run tests/e2e/run.sh)' }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'af-e2e-pw-'));
    dirs.push(dir);
    const ctx = await chromium.launchPersistentContext(dir, {
      executablePath: '/usr/bin/chromium', headless: true, args: ARGS,
      viewport: { width: 1000, height: 760 },
    });
    ctx.setDefaultTimeout(STEP);
    ctx.setDefaultNavigationTimeout(STEP);
    try {
      const page = await ctx.newPage();
      const posts = [];
      page.on('response', (r) => {
        if (r.request().method() === 'POST' && r.url() === `${APP}/auth/login`) {
          posts.push(r.status());
        }
      });
      const target = '/app/hello?pw=1';
      const r0 = await page.goto(
        `${APP}/auth/login?provider=staff&return_to=${encodeURIComponent(target)}`);
      assert.equal(r0.status(), 200);
      // labelled fields with the autocomplete hints password managers use
      const user = page.getByLabel('Username');
      const pass = page.getByLabel('Password');
      assert.equal(await user.getAttribute('autocomplete'), 'username');
      assert.equal(await pass.getAttribute('autocomplete'), 'current-password');
      assert.equal(await pass.getAttribute('type'), 'password');
      await page.screenshot({ path: join(ART, 'password-1-form.png') });

      // a wrong password: the form again, with the message, no login cookie
      await user.fill('alice');
      await pass.fill('not-the-password');
      await Promise.all([page.waitForLoadState('load'),
        page.getByRole('button', { name: 'Sign in' }).click()]);
      await page.locator('.error').waitFor();
      assert.match(await page.locator('.error').innerText(), /not correct/);
      await page.screenshot({ path: join(ART, 'password-2-wrong.png') });
      let names = (await ctx.cookies(APP)).map((c) => c.name);
      assert.ok(!names.includes('authflow-at') && !names.includes('authflow-rt'), names.join());

      // the right one: 303 to the return_to page, which the gate lets through
      await page.getByLabel('Username').fill('alice');
      await page.getByLabel('Password').fill('Alice-Staff-Pass-1');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(`${APP}${target}`);
      await page.locator('#claims').waitFor();
      await page.screenshot({ path: join(ART, 'password-3-app.png'), fullPage: true });
      assert.deepEqual(posts, [403, 303]);
      const text = await page.locator('#claims').innerText();
      assert.match(text, /AUTHFLOW_SUB\s+alice@staff/);
      assert.match(text, /AUTHFLOW_PROVIDER\s+staff/);
      const cookies = await ctx.cookies(APP);
      const byName = Object.fromEntries(cookies.map((c) => [c.name, c]));
      for (const n of ['authflow-at', 'authflow-rt']) {
        assert.ok(byName[n], `${n} missing`);
        assert.equal(byName[n].httpOnly, true);
      }
      names = cookies.map((c) => c.name);
      assert.ok(!names.includes('authflow-flow'), 'flow cookie left behind');
    } finally {
      await ctx.close();
    }
  });
