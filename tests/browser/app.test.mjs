// Browser tests of the Stremora web app (web/), driven through headless Chromium.
//
// What they do: each test makes its own user and walks the whole path a person takes:
// sign up, sign out, sign in (a wrong password first, shown in place), upload a generated clip
// through the page with tus (slowed so it can be paused mid-way; the test checks nothing moves
// while paused and that Resume carries on from the server's offset), processing to `ready`,
// playback with hls.js (currentTime advances, no fatal error), a quality switch with playback
// going on, account and webhook pages, editing the title, changing visibility, deleting with the
// confirmation dialog, signing out and in again, and a reload that keeps the session. The second
// test repeats it at phone size (390x844, isMobile). A screenshot of every page goes to
// STREMORA_TEST_OUT.
//
// Run (from the repository root, with a stack running and tools/webbuild done):
//   STREMORA_BASE_URL=http://127.0.0.1:8080 node --test tests/browser/
// Environment:
//   STREMORA_BASE_URL  the stack's URL (default http://127.0.0.1:8080)
//   STREMORA_TEST_OUT  folder for screenshots (default build/test-output/browser)
//   CHROMIUM           the browser binary (default /usr/bin/chromium)
// Needs: Node 20+, ffmpeg, Chromium, web/node_modules (playwright-core).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const requireWeb = createRequire(path.join(root, 'web', 'package.json'));
const { chromium } = requireWeb('playwright-core');

const BASE = (process.env.STREMORA_BASE_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');
const OUT = path.resolve(process.env.STREMORA_TEST_OUT || path.join(root, 'build', 'test-output', 'browser'));
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const MIB = 1024 * 1024;

let browser;

before(async () => {
  fs.mkdirSync(OUT, { recursive: true });
  let health;
  try {
    health = await fetch(BASE + '/api/v1/health');
  } catch (e) {
    throw new Error(`the stack at ${BASE} does not answer (${e.message}); start it and set STREMORA_BASE_URL`);
  }
  assert.equal(health.status, 200, `GET ${BASE}/api/v1/health answered ${health.status}`);
  const index = await fetch(BASE + '/');
  const html = await index.text();
  assert.match(html, /\/assets\/app\.[0-9a-f]+\.js/, `${BASE}/ does not serve the built app (run tools/webbuild)`);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
});

after(async () => {
  if (browser) await browser.close();
});

// ------------------------------------------------------------------------------------------
// Helpers

// Polls fn until it returns something truthy; the error names what was awaited.
async function until(what, fn, { timeout = 30000, interval = 100 } = {}) {
  const start = Date.now();
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() - start > timeout) {
      const why = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`timed out after ${timeout} ms waiting for ${what} (last: ${why})`);
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

// Checks that fn keeps returning `expected` for `ms` milliseconds (something must NOT move).
async function holds(what, ms, fn, expected) {
  const start = Date.now();
  while (Date.now() - start < ms) {
    const v = await fn();
    assert.deepEqual(v, expected, `${what}: changed to ${JSON.stringify(v)} from ${JSON.stringify(expected)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function makeClip(dir) {
  const file = path.join(dir, 'clip.mp4');
  // 12 s of 854x480 with noise, forced to ~9 Mb/s: about 14 MB, so the upload takes two tus
  // chunks (8 MiB each) and processing makes three renditions (480p, 360p, 240p).
  execFileSync('ffmpeg', [
    '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', 'testsrc2=size=854x480:rate=30',
    '-f', 'lavfi', '-i', 'sine=frequency=440',
    '-t', '12', '-vf', 'noise=alls=30:allf=t',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-b:v', '9M', '-maxrate', '9M', '-bufsize', '9M',
    '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', file,
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  const size = fs.statSync(file).size;
  assert.ok(size > 9 * MIB, `the generated clip is only ${size} bytes; the pause test needs more than one chunk`);
  return { file, size };
}

function newUser(tag) {
  const id = Date.now().toString(36) + crypto.randomBytes(3).toString('hex');
  return {
    username: `bt${tag}${id}`.slice(0, 30),
    email: `bt${tag}${id}@example.com`,
    password: `Kx${crypto.randomBytes(9).toString('base64url')}#7q`,
  };
}

async function anonGet(p) {
  const res = await fetch(BASE + p);
  return { status: res.status, body: await res.json().catch(() => null) };
}

// One browser context and the steps of the journey through it.
function journey(page, label, problems) {
  const shots = [];
  const mobile = () => page.locator('#menu-toggle').isVisible();

  async function step(name, fn) {
    try {
      return await fn();
    } catch (e) {
      const shot = path.join(OUT, `${label}-FAILED-${name.replace(/\W+/g, '-')}.png`);
      await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
      const extra = problems.length ? `\n  page problems so far:\n    ${problems.join('\n    ')}` : '';
      e.message = `[${label}] step "${name}" failed at ${page.url()}: ${e.message}\n  screenshot: ${shot}${extra}`;
      throw e;
    }
  }

  async function shot(name) {
    const file = path.join(OUT, `${label}-${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    shots.push(file);
  }

  // Uses the header's navigation (opening the phone menu first when it is folded).
  async function nav(name) {
    if (await mobile()) {
      const toggle = page.locator('#menu-toggle');
      if ((await toggle.getAttribute('aria-expanded')) !== 'true') await toggle.click();
    }
    await page.locator('#site-nav').getByRole('link', { name, exact: true }).click();
    await page.locator('main h1').first().waitFor();
  }

  async function signOutFromHeader() {
    if (await mobile()) {
      const toggle = page.locator('#menu-toggle');
      if ((await toggle.getAttribute('aria-expanded')) !== 'true') await toggle.click();
    }
    await page.locator('#signout-button').click();
  }

  async function signedInAs(user) {
    await page.locator('#nav-username').filter({ hasText: user.username }).waitFor({ state: 'attached' });
    await until('the header to show the signed-in links', async () =>
      (await page.locator('[data-auth="in"]').first().getAttribute('hidden')) === null);
  }

  async function signedOut() {
    await until('the header to show "Sign in"', async () =>
      (await page.locator('[data-auth="out"]').first().getAttribute('hidden')) === null);
  }

  return { step, shot, nav, signOutFromHeader, signedInAs, signedOut, shots };
}

// ------------------------------------------------------------------------------------------
// The journey, at one viewport

async function fullJourney(label, contextOptions) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'stremora-browser-'));
  const clip = makeClip(tmp);
  const user = newUser(label[0]);
  const context = await browser.newContext({ baseURL: BASE, ...contextOptions });
  const page = await context.newPage();
  page.setDefaultTimeout(20000);
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    const t = m.text();
    if (/Content Security Policy|Refused to/i.test(t)) problems.push(`CSP: ${t}`);
    else if (m.type() === 'error' && !/status of 40[14]/.test(t)) problems.push(`console error: ${t}`);
  });
  const j = journey(page, label, problems);
  const { step, shot, nav } = j;

  try {
    await step('home', async () => {
      await page.goto('/');
      await page.getByRole('heading', { level: 1 }).waitFor();
      await page.getByLabel('Search titles').waitFor();
      await j.signedOut();
      await shot('home');
    });

    await step('sign up', async () => {
      await nav('Sign up');
      await page.getByRole('heading', { name: 'Create an account' }).waitFor();
      await shot('signup');
      // A bad username first: the field says why, in words, beside itself.
      await page.getByLabel('Username').fill('No Spaces!');
      await page.getByLabel('Email').fill(user.email);
      await page.getByLabel('Password').fill(user.password);
      await page.getByRole('button', { name: 'Create account' }).click();
      await page.locator('[data-field="username"] .field-error').filter({ hasText: /lowercase letters/ }).waitFor();
      await page.getByLabel('Username').fill(user.username);
      await page.getByRole('button', { name: 'Create account' }).click();
      await j.signedInAs(user);
    });

    await step('sign out, then sign in', async () => {
      await j.signOutFromHeader();
      await j.signedOut();
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      await page.getByLabel('Username or email').fill(user.username);
      await page.getByLabel('Password').fill(user.password + 'x');
      await page.getByRole('button', { name: 'Sign in' }).click();
      const err = page.locator('form .form-message').filter({ hasText: /don’t match/ });
      await err.waitFor();
      await shot('signin');
      await page.getByLabel('Password').fill(user.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await j.signedInAs(user);
    });

    let videoId;
    await step('upload with pause and resume', async () => {
      await nav('Upload');
      await page.getByRole('heading', { name: 'Upload a video' }).waitFor();
      await page.locator('input[type="file"]').setInputFiles(clip.file);
      await page.getByText(/Chosen: clip\.mp4/).waitFor();
      await page.getByLabel('Title').fill(`Browser clip ${label}`);
      await page.getByLabel('Description').fill('Made by the browser test.\nSecond line.');
      await page.getByLabel('Tags').fill('browser, test');
      await page.getByLabel('Visibility').selectOption('public');
      await shot('upload');

      // Slow the upload so there is time to pause it mid-way.
      const cdp = await context.newCDPSession(page);
      await cdp.send('Network.enable');
      await cdp.send('Network.emulateNetworkConditions', {
        offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 3 * MIB,
      });
      const writes = [];
      const heads = [];
      page.on('request', (r) => {
        if (/\/api\/v1\/uploads/.test(r.url()) && (r.method() === 'PATCH' || r.method() === 'POST')) writes.push(r.method());
      });
      page.on('response', (r) => {
        if (/\/api\/v1\/uploads\//.test(r.url()) && r.request().method() === 'HEAD') {
          heads.push(Number(r.headers()['upload-offset']));
        }
      });

      await page.getByRole('button', { name: 'Upload', exact: true }).click();
      const panel = page.locator('.upload-panel');
      await panel.waitFor();
      const pct = async () => Number(await panel.getAttribute('data-percent'));
      // Past the first 8 MiB chunk (the server has it), before the end.
      await until('upload progress past the first chunk', async () => (await pct()) >= 63 && (await pct()) < 95,
        { timeout: 60000, interval: 50 });
      await page.getByRole('button', { name: 'Pause' }).click();
      await until('the upload to show paused', async () => (await panel.getAttribute('data-phase')) === 'paused');
      const pausedAt = [await panel.getAttribute('data-sent'), await page.locator('.progress-text').first().textContent()];
      assert.ok(Number(pausedAt[0]) < clip.size, 'paused only after the whole file was sent');
      const writesAtPause = writes.length;
      await holds('the paused upload', 1500, async () =>
        [await panel.getAttribute('data-sent'), await page.locator('.progress-text').first().textContent()], pausedAt);
      assert.equal(writes.length, writesAtPause, 'an upload request went out while paused');
      await shot('upload-paused');

      await page.getByRole('button', { name: 'Resume' }).click();
      await until('the resumed upload to ask the server for its offset', async () => heads.length > 0);
      assert.ok(heads[0] >= 8 * MIB, `resume restarted from offset ${heads[0]}; expected the first chunk to be kept`);
      await until('the progress bar to reach 100 %', async () =>
        (await page.locator('progress.upload-progress').evaluate((p) => p.value)) === 100 &&
        /^100 %/.test(await page.locator('.progress-text').first().textContent()), { timeout: 60000 });
      await cdp.send('Network.emulateNetworkConditions', {
        offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1,
      });
      await until('processing to finish', async () => {
        const phase = await panel.getAttribute('data-phase');
        if (phase === 'failed' || phase === 'error') throw new Error(`upload ended as ${phase}: ${await panel.textContent()}`);
        return phase === 'ready';
      }, { timeout: 180000, interval: 250 });
      await shot('upload-ready');
      const href = await page.locator('a.watch-link').getAttribute('href');
      videoId = href.split('/').pop();
      assert.match(videoId, /^[0-9a-f]{24}$/);
      const v = await anonGet(`/api/v1/videos/${videoId}`);
      assert.equal(v.status, 200);
      assert.equal(v.body.size, clip.size, 'the stored file has the clip\'s size');
      assert.ok(v.body.renditions.length >= 2, `expected at least two renditions, got ${v.body.renditions.length}`);
      assert.deepEqual(v.body.tags, ['browser', 'test']);
    });

    await step('watch and switch quality', async () => {
      await page.locator('a.watch-link').click();
      await page.getByRole('heading', { level: 1, name: `Browser clip ${label}` }).waitFor();
      const video = page.locator('video.player');
      await video.waitFor();
      const select = page.getByLabel('Quality');
      await until('the quality menu to list the levels', async () => (await select.locator('option').count()) >= 3);
      const time = () => video.evaluate((v) => v.currentTime);
      // Muted autoplay starts it; play() is only a fallback should a browser refuse autoplay.
      await video.evaluate((v) => { if (v.paused) { v.muted = true; return v.play(); } return null; });
      await until('playback to start (currentTime advancing)', async () => (await time()) > 0.5, { timeout: 30000 });
      assert.equal(await video.getAttribute('data-hls-fatal'), null, 'hls.js reported a fatal error');
      assert.equal(await video.getAttribute('data-level'), 'auto');
      const playing = await until('a playing level', () => video.getAttribute('data-playing-level'));
      const options = await select.locator('option').evaluateAll((os) => os.map((o) => [o.value, o.textContent]));
      const other = options.find(([value, text]) => value !== 'auto' && text !== `${playing}p`);
      assert.ok(other, `no level other than ${playing}p in ${JSON.stringify(options)}`);
      const wantHeight = other[1].replace('p', '');
      await select.selectOption(other[0]);
      await until(`data-level to become ${wantHeight}`, async () => (await video.getAttribute('data-level')) === wantHeight);
      await until(`hls.js to switch to ${wantHeight}p`, async () => (await video.getAttribute('data-playing-level')) === wantHeight,
        { timeout: 20000 });
      const t1 = await time();
      await until('playback to go on after the switch', async () => (await time()) > t1 + 1, { timeout: 20000 });
      assert.equal(await video.getAttribute('data-hls-fatal'), null, 'hls.js reported a fatal error after the switch');
      await shot('watch');
    });

    await step('account', async () => {
      await nav('Account');
      await page.getByRole('heading', { name: 'Account', level: 1 }).waitFor();
      await page.getByLabel('Display name').fill(`Tester ${label}`);
      await page.getByRole('button', { name: 'Save display name' }).click();
      await page.getByText('Display name saved.').waitFor();
      await page.locator('#nav-username').filter({ hasText: `Tester ${label}` }).waitFor({ state: 'attached' });
      await page.getByRole('button', { name: 'Sign out of other sessions' }).click();
      await page.getByText('Your other sessions are signed out.').waitFor();
      await shot('account');
    });

    await step('webhooks', async () => {
      await nav('Webhooks');
      await page.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();
      await page.getByLabel('Endpoint URL').fill('not a url');
      await page.getByRole('button', { name: 'Add webhook' }).click();
      await page.locator('[data-field="url"] .field-error').filter({ hasText: /http/ }).waitFor();
      await page.getByLabel('Endpoint URL').fill('http://127.0.0.1:9/stremora-hook');
      await page.getByRole('button', { name: 'Add webhook' }).click();
      const secret = await page.locator('code.secret').textContent();
      assert.match(secret, /^[0-9a-f]{64}$/);
      const row = page.locator('li.webhook').filter({ hasText: 'http://127.0.0.1:9/stremora-hook' });
      await row.waitFor();
      await row.getByRole('button', { name: 'Show deliveries' }).click();
      // A new webhook has no deliveries yet: the panel says so (a table appears once it has some).
      await row.locator('.deliveries table:visible, .deliveries .empty').first().waitFor();
      await shot('webhooks');
      await row.getByRole('button', { name: 'Delete' }).click();
      const dlg = page.getByRole('dialog', { name: 'Delete this webhook?' });
      await dlg.waitFor();
      await dlg.getByRole('button', { name: 'Delete webhook' }).click();
      await row.waitFor({ state: 'detached' });
      await page.getByText('No webhooks yet.').waitFor();
    });

    await step('my videos: edit, visibility, delete', async () => {
      await nav('My videos');
      await page.getByRole('heading', { name: 'My videos', level: 1 }).waitFor();
      const row = page.locator(`li.my-video[data-video-id="${videoId}"]`);
      await row.waitFor();
      assert.equal(await row.getAttribute('data-status'), 'ready');
      await row.getByRole('button', { name: 'Edit' }).click();
      const newTitle = `Renamed clip ${label}`;
      await row.getByLabel('Title').fill(newTitle);
      await row.getByLabel('Tags').fill('browser, renamed');
      await row.getByRole('button', { name: 'Save' }).click();
      await row.getByRole('link', { name: newTitle }).waitFor();
      await row.getByText('Changes saved.').waitFor();
      await until('the title to be saved', async () => (await anonGet(`/api/v1/videos/${videoId}`)).body.title === newTitle);

      await row.getByLabel('Visibility').selectOption('unlisted');
      await row.getByText('Visibility saved: unlisted.').waitFor();
      const seen = await anonGet(`/api/v1/videos/${videoId}`);
      assert.equal(seen.body.visibility, 'unlisted');
      const listed = await anonGet('/api/v1/videos?limit=100');
      assert.ok(!listed.body.items.some((x) => x.id === videoId), 'an unlisted video is still on the public list');
      await shot('myvideos');

      await row.getByRole('button', { name: 'Delete' }).click();
      const dlg = page.getByRole('dialog', { name: 'Delete this video?' });
      await dlg.waitFor();
      assert.ok(await page.locator('dialog[open]').evaluate((d) => d.matches(':modal')), 'the confirmation is not a modal dialog');
      await shot('myvideos-delete-dialog');
      // Cancel keeps it; then delete for real.
      await dlg.getByRole('button', { name: 'Cancel' }).click();
      await dlg.waitFor({ state: 'detached' });
      await row.getByRole('button', { name: 'Delete' }).click();
      await dlg.getByRole('button', { name: 'Delete video' }).click();
      await row.waitFor({ state: 'detached' });
      await page.getByText('You have not uploaded any videos yet.').waitFor();
      assert.equal((await anonGet(`/api/v1/videos/${videoId}`)).status, 404);
    });

    await step('sign out and in again; a reload keeps the session', async () => {
      await j.signOutFromHeader();
      await j.signedOut();
      await page.getByLabel('Username or email').fill(user.email);
      await page.getByLabel('Password').fill(user.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await j.signedInAs({ username: `Tester ${label}` });
      await nav('My videos');
      await page.reload();
      await page.getByRole('heading', { name: 'My videos', level: 1 }).waitFor();
      await j.signedInAs({ username: `Tester ${label}` });
      const stored = await page.evaluate(() => ({ keys: Object.keys(localStorage), cookie: document.cookie }));
      assert.ok(stored.keys.every((k) => k === 'stremora.quality'), `localStorage holds more than preferences: ${stored.keys}`);
      assert.ok(!/stremora_refresh/.test(stored.cookie), 'the refresh cookie is readable by scripts');
      const cookies = await context.cookies();
      const rc = cookies.find((c) => c.name === 'stremora_refresh');
      assert.ok(rc && rc.httpOnly, 'no HttpOnly refresh cookie');
    });

    assert.deepEqual(problems, [], `the page reported problems:\n${problems.join('\n')}`);
  } finally {
    await context.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

test('desktop: the whole path from sign-up to delete', { timeout: 240000 }, async () => {
  await fullJourney('desktop', { viewport: { width: 1280, height: 900 } });
});

test('phone: the same path at 390x844', { timeout: 240000 }, async () => {
  await fullJourney('phone', { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
});

test('session: renewal before expiry, one refresh on a 401, a dead session signs out', { timeout: 60000 }, async () => {
  const user = newUser('s');
  const reg = await fetch(BASE + '/api/v1/auth/register', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(user),
  });
  assert.equal(reg.status, 201, `register answered ${reg.status}: ${await reg.text()}`);
  const context = await browser.newContext({ baseURL: BASE, viewport: { width: 1024, height: 800 } });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  const j = journey(page, 'session', problems);
  const refreshes = [];
  const hookAuth = [];
  page.on('request', (r) => {
    if (r.url().endsWith('/api/v1/auth/refresh')) {
      refreshes.push(r.headers()['x-stremora-session']);
      assert.ok(!/refreshToken/.test(r.postData() || ''), 'a script sent a refresh token');
    }
    if (/\/api\/v1\/webhooks$/.test(r.url())) hookAuth.push(r.headers().authorization);
  });
  try {
    await j.step('sign in', async () => {
      await page.clock.install();
      await page.goto('/signin');
      await page.getByLabel('Username or email').fill(user.username);
      await page.getByLabel('Password').fill(user.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await j.signedInAs(user);
      assert.ok(refreshes.every((h) => h === 'cookie'), 'a refresh without X-Stremora-Session: cookie');
    });

    await j.step('renewal before the token expires', async () => {
      await j.nav('Webhooks');
      await page.getByText('No webhooks yet.').waitFor();
      const before = refreshes.length;
      await page.clock.fastForward('14:10');
      await until('the access token to be renewed', async () => refreshes.length === before + 1);
      await j.nav('Account');
      await j.nav('Webhooks');
      await page.getByText('No webhooks yet.').waitFor();
      assert.notEqual(hookAuth.at(-1), hookAuth.at(-2), 'the renewed token was not used');
    });

    await j.step('a 401 token_expired refreshes once and retries', async () => {
      let calls = 0;
      await page.route('**/api/v1/webhooks', (route) => {
        calls += 1;
        if (calls === 1) {
          return route.fulfill({
            status: 401,
            contentType: 'application/problem+json',
            body: JSON.stringify({ type: 'urn:stremora:problem:token_expired', title: 'Token expired', status: 401, detail: 'expired', code: 'token_expired' }),
          });
        }
        return route.continue();
      });
      const before = refreshes.length;
      await j.nav('Account');
      await j.nav('Webhooks');
      await page.getByText('No webhooks yet.').waitFor();
      assert.equal(calls, 2, 'the request was not retried exactly once');
      assert.equal(refreshes.length, before + 1, 'expected exactly one refresh');
      assert.notEqual(hookAuth.at(-1), hookAuth.at(-2), 'the retry did not use the new token');
      await page.unroute('**/api/v1/webhooks');
    });

    await j.step('a dead session signs out', async () => {
      const problem = (code) => ({
        status: 401,
        contentType: 'application/problem+json',
        body: JSON.stringify({ type: `urn:stremora:problem:${code}`, title: code, status: 401, detail: code, code }),
      });
      await page.route('**/api/v1/auth/refresh', (route) => route.fulfill(problem('invalid_refresh_token')));
      await page.route('**/api/v1/webhooks', (route) => route.fulfill(problem('invalid_token')));
      await j.nav('Account');
      await j.nav('Webhooks');
      await until('the sign-in page', async () => new URL(page.url()).pathname === '/signin');
      await j.signedOut();
      assert.equal(new URL(page.url()).searchParams.get('next'), '/webhooks');
    });
    assert.deepEqual(problems, [], `the page reported problems:\n${problems.join('\n')}`);
  } finally {
    await context.close();
  }
});
