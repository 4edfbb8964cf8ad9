// Browser test of Sign in with Apple (issue 13; SECURITY.md F03): response_mode=form_post in
// Debian's chromium with the default cookie settings.  The Apple-shaped IdP
// (tests/idp/apple_idp.py) on http://127.0.0.1:P answers the authorization request with an
// auto-submitting form that POSTs code, state and user to our callback on
// http://localhost:Q -- another site, so the browser does not send the SameSite=Lax flow
// cookie on that POST.  The module answers with its re-post page, whose script (under a CSP
// nonce) POSTs the same fields again from our own origin, with the flow cookie, and the
// login completes.  Run by tests/e2e/run.sh (which starts tests/e2e/apple_site.py).
//
// Environment: E2E_APPLE_APP (http://localhost:Q), E2E_APPLE_IDP (http://127.0.0.1:P),
// E2E_ARTIFACTS (screenshots).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const APP = process.env.E2E_APPLE_APP;
const IDP = process.env.E2E_APPLE_IDP;
const ART = process.env.E2E_ARTIFACTS || 'tests/artifacts/e2e';
const STEP = 45_000;
const SUB = '001234.abcdef0123456789.0042@apple';
mkdirSync(ART, { recursive: true });

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const dirs = [];

async function browser() {
  const dir = mkdtempSync(join(tmpdir(), 'af-e2e-apple-'));
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

const flowCookie = (cookieHeader) => /(^|;\s*)[^=;]*-flow=/.test(cookieHeader || '');

test('Apple form_post: cross-site POST without the Lax flow cookie -> re-post page -> '
  + 'same-origin POST with it -> signed in (F03)', { timeout: 180_000 }, async () => {
  assert.ok(APP && IDP, 'E2E_APPLE_APP / E2E_APPLE_IDP not set (run tests/e2e/run.sh)');
  assert.notEqual(new URL(APP).hostname, new URL(IDP).hostname, 'IdP and app must be two sites');
  const ctx = await browser();
  try {
    const page = await ctx.newPage();
    const posts = [];
    const csp = [];
    page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) csp.push(m.text()); });
    page.on('request', async (req) => {
      if (req.url() === `${APP}/auth/callback` && req.method() === 'POST') {
        const h = await req.allHeaders();
        posts.push({ req, cookie: h.cookie || '', site: h['sec-fetch-site'], origin: h.origin });
      }
    });
    await page.goto(`${APP}/app/hello`);
    await page.waitForURL(`${APP}/app/hello`);
    await page.screenshot({ path: join(ART, 'apple-1-app.png'), fullPage: true });

    // exactly two POSTs to the callback: Apple's (cross-site, no flow cookie) and ours
    assert.equal(posts.length, 2, JSON.stringify(posts.map((p) => p.site)));
    const [first, second] = posts;
    assert.equal(first.site, 'cross-site');
    assert.equal(first.origin, IDP);
    assert.ok(!flowCookie(first.cookie), `flow cookie sent cross-site: ${first.cookie}`);
    const r1 = await first.req.response();
    assert.equal(r1.status(), 200);
    assert.match((await r1.allHeaders())['content-security-policy'], /script-src 'nonce-/);
    assert.equal(second.site, 'same-origin');
    assert.equal(second.origin, APP);
    assert.ok(flowCookie(second.cookie), 'the re-post did not carry the flow cookie');
    assert.equal((await second.req.response()).status(), 302);
    assert.deepEqual(csp, [], 'CSP violations on the re-post page');
    // the same fields both times (code, state, user)
    assert.equal(first.req.postData(), second.req.postData());
    assert.match(first.req.postData(), /(^|&)user=/);

    // signed in: the backend got the Apple subject and the first-consent display name
    const body = await page.locator('body').innerText();
    assert.ok(body.includes(SUB), body.slice(0, 400));
    assert.match(body, /Alice Apple/);
    const cookies = await ctx.cookies(APP);
    const names = cookies.map((c) => c.name);
    assert.ok(names.some((n) => n.endsWith('-at')) && names.some((n) => n.endsWith('-rt')), names);
    for (const c of cookies.filter((x) => /-(at|rt)$/.test(x.name))) {
      assert.equal(c.httpOnly, true);
      assert.equal(c.sameSite, 'Lax');
    }
    assert.ok(!names.some((n) => n.endsWith('-flow')), 'flow cookie left behind');

    // a second navigation stays signed in without another login
    await page.goto(`${APP}/app/again`);
    assert.equal(new URL(page.url()).origin, APP);
    assert.ok((await page.locator('body').innerText()).includes(SUB));
  } finally {
    await ctx.close();
  }
});
