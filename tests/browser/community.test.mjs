// Browser tests of the community pages of the web app (issue 19): channels, subscriptions,
// the feed, ratings, comments and replies, playlists and profile pictures.
//
// What they do: two users, A (a channel) and B (a viewer), made through the API. B subscribes
// on A's channel page; A uploads two short clips (through the API, to save time); B finds them
// in the Subscriptions feed, likes one (count 1, pressed), comments; A replies in another
// browser; B sees the reply, saves the video to Watch later and to a new playlist (made in the
// Save dialog), adds the second clip, reorders the playlist and plays it in order (the watch
// page goes on to the next item when a video ends). A turns comments off on a video, writes a
// post, edits the bio and uploads an avatar and a banner (PNGs made with ffmpeg); B's view of
// the channel shows them; A removes the banner again. Every new page is shot at 1280x900 and again at 390x844 (where nothing may be
// wider than the screen). Any CSP violation, page error or console error fails the test.
//
// Run (from the repository root, with a stack running and tools/webbuild done):
//   STREMORA_BASE_URL=http://127.0.0.1:8080 node --test tests/browser/community.test.mjs
// Environment: as app.test.mjs (STREMORA_BASE_URL, STREMORA_TEST_OUT, CHROMIUM).
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
const DESKTOP = { viewport: { width: 1280, height: 900 } };
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };

let browser;
let tmp;

before(async () => {
  fs.mkdirSync(OUT, { recursive: true });
  let health;
  try {
    health = await fetch(BASE + '/api/v1/health');
  } catch (e) {
    throw new Error(`the stack at ${BASE} does not answer (${e.message}); start it and set STREMORA_BASE_URL`);
  }
  assert.equal(health.status, 200, `GET ${BASE}/api/v1/health answered ${health.status}`);
  const html = await (await fetch(BASE + '/')).text();
  assert.match(html, /\/assets\/app\.[0-9a-f]+\.js/, `${BASE}/ does not serve the built app (run tools/webbuild)`);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'stremora-community-'));
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
});

after(async () => {
  if (browser) await browser.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

// ------------------------------------------------------------------------------------------
// Helpers (until, newUser: as in app.test.mjs)

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

function newUser(tag) {
  const id = Date.now().toString(36) + crypto.randomBytes(3).toString('hex');
  return {
    username: `bc${tag}${id}`.slice(0, 30),
    email: `bc${tag}${id}@example.com`,
    password: `Kx${crypto.randomBytes(9).toString('base64url')}#7q`,
  };
}

// call(method, path, {token, json}) -> {status, body}
async function call(method, p, { token, json } = {}) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (json !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(BASE + p, { method, headers, body: json === undefined ? undefined : JSON.stringify(json) });
  const text = await res.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch { body = text; }
  return { status: res.status, body };
}

async function register(tag, displayName) {
  const user = { ...newUser(tag), displayName };
  const reg = await call('POST', '/api/v1/auth/register', { json: user });
  assert.equal(reg.status, 201, `register answered ${reg.status}: ${JSON.stringify(reg.body)}`);
  const login = await call('POST', '/api/v1/auth/login', { json: { login: user.username, password: user.password } });
  assert.equal(login.status, 200, `login answered ${login.status}: ${JSON.stringify(login.body)}`);
  return { ...user, id: login.body.user.id, token: login.body.accessToken };
}

function makeClip(name, seconds, colour) {
  const file = path.join(tmp, name);
  execFileSync('ffmpeg', [
    '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', `testsrc2=size=426x240:rate=25,hue=h=${colour}`,
    '-f', 'lavfi', '-i', 'sine=frequency=330',
    '-t', String(seconds), '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p',
    '-c:a', 'aac', '-shortest', file,
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  return file;
}

function makePng(name, size) {
  const file = path.join(tmp, name);
  execFileSync('ffmpeg', [
    '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=${size}`, '-frames:v', '1', file,
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  return file;
}

// Uploads a clip through the API as `user` (multipart, as the API documents) and waits for ready.
async function uploadReady(user, file, title) {
  const fd = new FormData();
  fd.append('title', title);
  fd.append('visibility', 'public');
  fd.append('video', new Blob([fs.readFileSync(file)], { type: 'video/mp4' }), path.basename(file));
  const res = await fetch(BASE + '/api/v1/videos', { method: 'POST', headers: { Authorization: `Bearer ${user.token}` }, body: fd });
  const body = await res.json();
  assert.equal(res.status, 201, `upload answered ${res.status}: ${JSON.stringify(body)}`);
  await until(`"${title}" to be ready`, async () => {
    const v = await call('GET', `/api/v1/videos/${body.id}`, { token: user.token });
    if (v.body.status === 'failed') throw new Error(`processing failed: ${v.body.failureReason}`);
    return v.body.status === 'ready';
  }, { timeout: 120000, interval: 250 });
  return body.id;
}

// A browser context with its problems recorded: page errors, CSP reports, console errors.
async function openPage(label, options) {
  const context = await browser.newContext({ baseURL: BASE, ...options });
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI}`);
    });
  });
  const page = await context.newPage();
  page.setDefaultTimeout(20000);
  const problems = [];
  page.on('pageerror', (e) => problems.push(`[${label}] page error: ${e.message}`));
  page.on('console', (m) => {
    const t = m.text();
    if (/Content Security Policy|Refused to|CSP violation/i.test(t)) problems.push(`[${label}] CSP: ${t}`);
    else if (m.type() === 'error' && !/status of 40[14]/.test(t)) problems.push(`[${label}] console error: ${t}`);
  });
  return { context, page, problems, label };
}

// Steps that leave a screenshot behind when they fail.
async function step(s, name, fn) {
  try {
    return await fn();
  } catch (e) {
    const shot = path.join(OUT, `community-${s.label}-FAILED-${name.replace(/\W+/g, '-')}.png`);
    await s.page.screenshot({ path: shot, fullPage: true }).catch(() => {});
    const extra = s.problems.length ? `\n  page problems so far:\n    ${s.problems.join('\n    ')}` : '';
    e.message = `[${s.label}] step "${name}" failed at ${s.page.url()}: ${e.message}\n  screenshot: ${shot}${extra}`;
    throw e;
  }
}

async function shot(s, name) {
  await s.page.screenshot({ path: path.join(OUT, `community-${s.label}-${name}.png`), fullPage: true });
}

// Goes to an app path the way a click on a link does (History API), so that it works
// whatever nginx serves for the path itself (the deep-link test below checks that).
async function go(s, p) {
  if (!/^https?:/.test(s.page.url()) || new URL(s.page.url()).origin !== BASE) {
    await s.page.goto('/');
    await s.page.locator('main h1').first().waitFor();
  }
  await s.page.evaluate((to) => {
    history.pushState(null, '', to);
    window.dispatchEvent(new PopStateEvent('popstate'));
  }, p);
  await s.page.locator('main h1').first().waitFor();
}

async function signIn(s, user) {
  await s.page.goto('/signin');
  await s.page.getByLabel('Username or email').fill(user.username);
  await s.page.getByLabel('Password').fill(user.password);
  await s.page.getByRole('button', { name: 'Sign in' }).click();
  await s.page.locator('#nav-username').filter({ hasText: user.displayName }).waitFor({ state: 'attached' });
}

// Nothing on the page is wider than the viewport (no sideways scrolling on a phone).
async function fitsWidth(s, what) {
  const [sw, vw] = await s.page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  assert.ok(sw <= vw, `${what}: the page is ${sw}px wide in a ${vw}px viewport`);
}

function commentLi(s, text) {
  return s.page.locator('li.comment').filter({ has: s.page.locator(':scope > .comment-main > .comment-body', { hasText: text }) });
}

// ------------------------------------------------------------------------------------------

test('community: subscribe, feed, like, comments and replies, playlists, profile', { timeout: 420000 }, async () => {
  const A = await register('a', 'Ada Channel');
  const B = await register('b', 'Ben Viewer');
  const clip1 = makeClip('first.mp4', 3, 0);
  const clip2 = makeClip('second.mp4', 3, 120);
  const png = makePng('avatar.png', '320x320');
  const bannerPng = makePng('banner.png', '1200x300');
  const titles = ['Harbour at dawn', 'Night market'];
  const b = await openPage('desktop-b', DESKTOP);
  const a = await openPage('desktop-a', DESKTOP);
  const anon = await openPage('desktop-anon', DESKTOP);
  const sessions = [a, b, anon];
  const ids = {};
  let listId;

  try {
    await step(anon, 'signed out: subscribe sends to sign in', async () => {
      await go(anon, `/c/${A.username}`);
      await anon.page.getByRole('heading', { level: 1, name: 'Ada Channel' }).waitFor();
      await anon.page.getByRole('button', { name: 'Subscribe' }).click();
      await until('the sign-in page', async () => new URL(anon.page.url()).pathname === '/signin');
      assert.equal(new URL(anon.page.url()).searchParams.get('next'), `/c/${A.username}`);
    });

    await step(b, 'B subscribes on A\'s channel', async () => {
      await signIn(b, B);
      await go(b, `/c/${A.username}`);
      await b.page.getByRole('heading', { level: 1, name: 'Ada Channel' }).waitFor();
      await b.page.getByText('No videos yet.').waitFor();
      await b.page.getByRole('button', { name: 'Subscribe', exact: true }).click();
      await b.page.getByRole('button', { name: 'Unsubscribe' }).waitFor();
      await b.page.locator('.channel-head .sub-count').filter({ hasText: /^1 subscriber$/ }).waitFor();
      const ch = await call('GET', `/api/v1/channels/${A.username}`, { token: B.token });
      assert.equal(ch.body.isSubscribed, true);
      assert.equal(ch.body.subscriberCount, 1);
    });

    await step(a, 'A uploads two clips', async () => {
      ids.v1 = await uploadReady(A, clip1, titles[0]);
      ids.v2 = await uploadReady(A, clip2, titles[1]);
    });

    await step(b, 'B sees them in the feed', async () => {
      await b.page.locator('#site-nav').getByRole('link', { name: 'Subscriptions' }).click();
      await b.page.getByRole('heading', { level: 1, name: 'Subscriptions' }).waitFor();
      await b.page.locator('.sub-strip').getByRole('link', { name: 'Ada Channel' }).waitFor();
      const cards = b.page.locator('.video-grid .card-title');
      await until('both clips in the feed', async () => (await cards.count()) === 2);
      assert.deepEqual(await cards.allTextContents(), [titles[1], titles[0]], 'the feed is not newest first');
      await shot(b, 'feed');
    });

    await step(b, 'B likes and comments', async () => {
      await b.page.getByRole('link', { name: titles[0] }).click();
      await b.page.getByRole('heading', { level: 1, name: titles[0] }).waitFor();
      await b.page.locator('.owner-row').getByRole('link', { name: 'Ada Channel' }).waitFor();
      await b.page.locator('.owner-row').getByRole('button', { name: 'Unsubscribe' }).waitFor();
      const like = b.page.getByRole('button', { name: 'Like', exact: true });
      assert.equal(await like.getAttribute('aria-pressed'), 'false');
      await like.click();
      await until('the like button to be pressed', async () => (await like.getAttribute('aria-pressed')) === 'true');
      assert.equal((await like.locator('.count').textContent()).trim(), '1');
      const v = await call('GET', `/api/v1/videos/${ids.v1}`, { token: B.token });
      assert.equal(v.body.myRating, 'like');
      assert.equal(v.body.likeCount, 1);
      await b.page.getByLabel('Add a comment').fill('Lovely light in this one.');
      await b.page.getByRole('button', { name: 'Comment', exact: true }).click();
      await commentLi(b, 'Lovely light in this one.').waitFor();
      await b.page.locator('video.player').waitFor();
      await shot(b, 'watch');
    });

    await step(a, 'A replies', async () => {
      await signIn(a, A);
      await go(a, `/watch/${ids.v1}`);
      const cm = commentLi(a, 'Lovely light in this one.');
      await cm.waitFor();
      await cm.getByRole('button', { name: 'Reply', exact: true }).click();
      await cm.getByLabel('Reply to Ben Viewer').fill('Thanks! Shot at 6 am.');
      await cm.getByRole('button', { name: 'Reply', exact: true }).last().click();
      await cm.locator('.replies .comment-body', { hasText: 'Thanks! Shot at 6 am.' }).waitFor();
      // The owner may delete B's comment, but not edit it.
      assert.equal(await cm.locator(':scope > .comment-main > .comment-actions').getByRole('button', { name: 'Edit' }).count(), 0);
      assert.equal(await cm.locator(':scope > .comment-main > .comment-actions').getByRole('button', { name: 'Delete' }).count(), 1);
    });

    await step(b, 'B sees the reply', async () => {
      await go(b, `/watch/${ids.v1}`);
      const cm = commentLi(b, 'Lovely light in this one.');
      await cm.getByRole('button', { name: 'Show 1 reply' }).click();
      const reply = cm.locator('.replies li.comment').filter({ hasText: 'Thanks! Shot at 6 am.' });
      await reply.waitFor();
      await reply.getByRole('link', { name: 'Ada Channel' }).waitFor();
      // B's own comment: edit it.
      await cm.locator(':scope > .comment-main > .comment-actions').getByRole('button', { name: 'Edit' }).click();
      await cm.getByLabel('Edit your comment').fill('Lovely light in this one. Where is it?');
      await cm.getByRole('button', { name: 'Save' }).click();
      await cm.locator(':scope > .comment-main > .comment-head').filter({ hasText: 'edited' }).waitFor();
      await shot(b, 'watch-comments');
    });

    await step(b, 'B saves to Watch later and a new playlist', async () => {
      await b.page.getByRole('button', { name: 'Save', exact: true }).click();
      const dlg = b.page.getByRole('dialog', { name: 'Save to…' });
      await dlg.waitFor();
      await dlg.getByRole('button', { name: 'Watch later' }).click();
      await dlg.locator('li').filter({ hasText: 'Watch later' }).locator('.save-state', { hasText: 'Saved' }).waitFor();
      await dlg.getByLabel('New playlist').fill('Trip ideas');
      await dlg.getByRole('button', { name: 'Create and save' }).click();
      await dlg.getByText('Saved to the new playlist “Trip ideas”.').waitFor();
      await shot(b, 'save-dialog');
      await dlg.getByRole('button', { name: 'Done' }).click();
      await dlg.waitFor({ state: 'detached' });
      const mine = await call('GET', '/api/v1/users/me/playlists', { token: B.token });
      const trip = mine.body.items.find((p) => p.title === 'Trip ideas');
      const later = mine.body.items.find((p) => p.kind === 'watch_later');
      assert.ok(trip && later, `playlists: ${JSON.stringify(mine.body)}`);
      assert.equal(trip.itemCount, 1);
      assert.equal(later.itemCount, 1);
      listId = trip.id;

      await go(b, `/watch/${ids.v2}`);
      await b.page.getByRole('heading', { level: 1, name: titles[1] }).waitFor();
      await b.page.getByRole('button', { name: 'Save', exact: true }).click();
      await dlg.getByRole('button', { name: 'Trip ideas' }).click();
      await dlg.locator('li').filter({ hasText: 'Trip ideas' }).locator('.save-state', { hasText: 'Saved' }).waitFor();
      await dlg.getByRole('button', { name: 'Done' }).click();
    });

    await step(b, 'B reorders the playlist', async () => {
      await b.page.locator('#site-nav').getByRole('link', { name: 'Playlists' }).click();
      await b.page.getByRole('heading', { level: 1, name: 'Playlists' }).waitFor();
      await b.page.locator('.playlist-card').filter({ hasText: 'Watch later' }).waitFor();
      await shot(b, 'my-playlists');
      await b.page.getByRole('link', { name: /Trip ideas/ }).click();
      await b.page.getByRole('heading', { level: 1, name: 'Trip ideas' }).waitFor();
      const rows = b.page.locator('.pl-item .row-title');
      await until('two items', async () => (await rows.count()) === 2);
      assert.deepEqual(await rows.allTextContents(), [titles[0], titles[1]]);
      await b.page.getByRole('button', { name: `Move “${titles[1]}” up` }).click();
      await until('the new order on the page', async () =>
        JSON.stringify(await rows.allTextContents()) === JSON.stringify([titles[1], titles[0]]));
      const items = await call('GET', `/api/v1/playlists/${listId}/items`, { token: B.token });
      assert.deepEqual(items.body.items.map((it) => it.video.id), [ids.v2, ids.v1], 'the server kept the old order');
      await shot(b, 'playlist');
    });

    await step(b, 'B plays the playlist in order', async () => {
      await b.page.getByRole('link', { name: 'Play all' }).click();
      await until('the first item', async () => new URL(b.page.url()).pathname === `/watch/${ids.v2}`);
      assert.equal(new URL(b.page.url()).searchParams.get('list'), listId);
      const panel = b.page.locator('.pl-panel');
      await panel.getByText(`Next: ${titles[0]}`).waitFor();
      await panel.locator('li.current', { hasText: titles[1] }).waitFor();
      const video = b.page.locator('video.player');
      await until('playback to start', async () => (await video.evaluate((v) => v.currentTime)) > 0.2);
      await shot(b, 'watch-playlist');
      // Skip to the end: the page goes on to the next item by itself.
      await video.evaluate((v) => { v.currentTime = Math.max(0, v.duration - 0.3); return v.play(); });
      await until('the next item', async () => new URL(b.page.url()).pathname === `/watch/${ids.v1}`, { timeout: 20000 });
      await b.page.getByRole('heading', { level: 1, name: titles[0] }).waitFor();
      await panel.locator('li.current', { hasText: titles[0] }).waitFor();
    });

    await step(a, 'A turns comments off on the second clip', async () => {
      const r = await call('PATCH', `/api/v1/videos/${ids.v2}`, { token: A.token, json: { commentsEnabled: false } });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      await go(b, `/watch/${ids.v2}`);
      await b.page.getByText('Comments are turned off for this video.').waitFor();
      assert.equal(await b.page.getByLabel('Add a comment').count(), 0);
    });

    await step(a, 'A edits the bio, uploads an avatar, writes a post', async () => {
      await a.page.locator('#site-nav').getByRole('link', { name: 'Account' }).click();
      await a.page.getByRole('heading', { level: 1, name: 'Account' }).waitFor();
      await a.page.getByLabel('Bio').fill('Slow films of harbours and markets.');
      await a.page.getByRole('button', { name: 'Save bio' }).click();
      await a.page.getByText('Bio saved.').waitFor();
      const form = a.page.locator('form.image-form[data-kind="avatar"]');
      await form.locator('input[type="file"]').setInputFiles(png);
      await form.getByRole('button', { name: 'Upload avatar' }).click();
      const img = a.page.locator('form.image-form[data-kind="avatar"] img.avatar');
      await img.waitFor();
      assert.match(await img.getAttribute('src'), /^\/images\/avatars\/[^/]+-256\.jpg$/);
      await until('the avatar to load', () => img.evaluate((i) => i.complete && i.naturalWidth === 256));
      await a.page.locator('form.image-form[data-kind="avatar"]').getByRole('button', { name: 'Remove avatar' }).waitFor();
      const bform = a.page.locator('form.image-form[data-kind="banner"]');
      await bform.locator('input[type="file"]').setInputFiles(bannerPng);
      await bform.getByRole('button', { name: 'Upload banner' }).click();
      await a.page.locator('form.image-form[data-kind="banner"]').getByText('Banner saved.').waitFor();
      const bimg = a.page.locator('form.image-form[data-kind="banner"] .channel-banner img');
      assert.match(await bimg.getAttribute('src'), /^\/images\/banners\/[^/]+\.jpg$/);
      await until('the banner to load', () => bimg.evaluate((i) => i.complete && i.naturalWidth === 2048));
      await shot(a, 'account');

      await a.page.locator('#nav-username').click();
      await a.page.getByRole('heading', { level: 1, name: 'Ada Channel' }).waitFor();
      assert.equal(await a.page.getByRole('button', { name: 'Subscribe' }).count(), 0, 'a subscribe button on one\'s own channel');
      await a.page.getByRole('tab', { name: 'Posts' }).click();
      await a.page.getByLabel('Write a post').fill('New clips every Sunday.');
      await a.page.getByRole('button', { name: 'Post', exact: true }).click();
      await a.page.locator('li.post', { hasText: 'New clips every Sunday.' }).waitFor();
      await shot(a, 'channel-posts-owner');
    });

    await step(b, 'B sees the new channel page', async () => {
      await go(b, `/c/${A.username}`);
      await b.page.getByRole('heading', { level: 1, name: 'Ada Channel' }).waitFor();
      await b.page.locator('.bio', { hasText: 'Slow films of harbours and markets.' }).waitFor();
      const img = b.page.locator('.channel-head img.avatar');
      await img.waitFor();
      assert.match(await img.getAttribute('src'), /^\/images\/avatars\/[^/]+-256\.jpg$/);
      await until('the avatar to load', () => img.evaluate((i) => i.complete && i.naturalWidth === 256));
      const banner = b.page.locator('.channel-banner img');
      await until('the banner to load', () => banner.evaluate((i) => i.complete && i.naturalWidth === 2048));
      const cards = b.page.locator('.video-grid .card-title');
      await until('the channel\'s two videos', async () => (await cards.count()) === 2);
      await shot(b, 'channel');
      await b.page.getByLabel('Sort by').selectOption('oldest');
      await until('oldest first', async () =>
        JSON.stringify(await cards.allTextContents()) === JSON.stringify(titles));
      await b.page.getByRole('tab', { name: 'Posts' }).click();
      const post = b.page.locator('li.post', { hasText: 'New clips every Sunday.' });
      await post.waitFor();
      const like = post.getByRole('button', { name: 'Like this post' });
      await like.click();
      await until('the post like', async () => (await like.getAttribute('aria-pressed')) === 'true');
      await post.getByRole('button', { name: /^Comments/ }).click();
      await post.getByLabel('Add a comment').fill('See you Sunday.');
      await post.getByRole('button', { name: 'Comment', exact: true }).click();
      await post.locator('.comment-body', { hasText: 'See you Sunday.' }).waitFor();
      await shot(b, 'channel-posts');
      await b.page.getByRole('tab', { name: 'Playlists' }).click();
      await b.page.getByText('No public playlists.').waitFor();
      await shot(b, 'channel-playlists');
    });

    for (const s of sessions) assert.deepEqual(s.problems, [], `the page reported problems:\n${s.problems.join('\n')}`);
  } finally {
    for (const s of sessions) await s.context.close();
  }

  // The same pages at phone size, as B (and A's account page as A).
  const pb = await openPage('phone-b', PHONE);
  const pa = await openPage('phone-a', PHONE);
  try {
    await step(pb, 'phone pages', async () => {
      await signIn(pb, B);
      const pages = [
        ['feed', '/feed', 'Subscriptions'],
        ['channel', `/c/${A.username}`, 'Ada Channel'],
        ['watch', `/watch/${ids.v1}`, titles[0]],
        ['watch-playlist', `/watch/${ids.v1}?list=${listId}`, titles[0]],
        ['my-playlists', '/me/playlists', 'Playlists'],
        ['playlist', `/p/${listId}`, 'Trip ideas'],
      ];
      for (const [name, p, h1] of pages) {
        await go(pb, p);
        await pb.page.getByRole('heading', { level: 1, name: h1 }).waitFor();
        await pb.page.locator('main .loading').first().waitFor({ state: 'detached' }).catch(() => {});
        if (name.startsWith('watch')) {
          await pb.page.locator('li.comment').first().waitFor();
          if (name === 'watch') await pb.page.getByRole('button', { name: 'Show 1 reply' }).click();
        }
        await fitsWidth(pb, name);
        await shot(pb, name);
      }
      await go(pb, `/c/${A.username}`);
      await pb.page.getByRole('tab', { name: 'Posts' }).click();
      await pb.page.locator('li.post').first().waitFor();
      await fitsWidth(pb, 'channel posts');
      await shot(pb, 'channel-posts');
      await go(pb, `/watch/${ids.v1}`);
      await pb.page.getByRole('button', { name: 'Save', exact: true }).click();
      await pb.page.getByRole('dialog', { name: 'Save to…' }).getByRole('button', { name: 'Trip ideas' }).waitFor();
      await shot(pb, 'save-dialog');
    });
    await step(pa, 'phone account', async () => {
      await signIn(pa, A);
      await go(pa, '/account');
      await pa.page.locator('form.image-form[data-kind="avatar"] img.avatar').waitFor();
      await fitsWidth(pa, 'account');
      await shot(pa, 'account');
      // Removing the banner puts the default back.
      await pa.page.getByRole('button', { name: 'Remove banner' }).click();
      await pa.page.getByText('Banner removed.').waitFor();
      assert.equal(await pa.page.locator('form.image-form[data-kind="banner"] .channel-banner img').count(), 0);
      assert.equal((await call('GET', `/api/v1/channels/${A.username}`)).body.bannerUrl, null);
    });
    for (const s of [pa, pb]) assert.deepEqual(s.problems, [], `the page reported problems:\n${s.problems.join('\n')}`);
  } finally {
    await pa.context.close();
    await pb.context.close();
  }
});

// The other half of what a viewer and a channel do: dislike and change one's mind, like a
// comment, delete comments (one with a reply stays as deleted, one without goes), empty
// Watch later, delete a playlist, and a channel deletes its post. Each click is checked
// against what the API says afterwards.
test('community: dislike, comment likes, deleting comments, posts and playlists, Watch later', { timeout: 300000 }, async () => {
  const A = await register('c', 'Cleo Channel');
  const B = await register('d', 'Dan Viewer');
  const title = 'Lighthouse keeper';
  const vid = await uploadReady(A, makeClip('third.mp4', 2, 240), title);
  const first = await call('POST', `/api/v1/videos/${vid}/comments`, { token: B.token, json: { body: 'Which coast is this?' } });
  assert.equal(first.status, 201, JSON.stringify(first.body));
  const reply = await call('POST', `/api/v1/videos/${vid}/comments`, { token: A.token, json: { body: 'The north one.', parentId: first.body.id } });
  assert.equal(reply.status, 201, JSON.stringify(reply.body));
  const second = await call('POST', `/api/v1/videos/${vid}/comments`, { token: B.token, json: { body: 'Too dark for me.' } });
  assert.equal(second.status, 201, JSON.stringify(second.body));
  const temp = await call('POST', '/api/v1/playlists', { token: B.token, json: { title: 'Maybe later', visibility: 'private' } });
  assert.equal(temp.status, 201, JSON.stringify(temp.body));
  const post = await call('POST', '/api/v1/posts', { token: A.token, json: { body: 'Off to the islands for a month.' } });
  assert.equal(post.status, 201, JSON.stringify(post.body));
  const b = await openPage('desktop-d', DESKTOP);
  const a = await openPage('desktop-c', DESKTOP);
  const rating = async () => (await call('GET', `/api/v1/videos/${vid}`, { token: B.token })).body;
  const sessions = [a, b];

  try {
    await step(b, 'B dislikes, then likes, then clears', async () => {
      await signIn(b, B);
      await go(b, `/watch/${vid}`);
      await b.page.getByRole('heading', { level: 1, name: title }).waitFor();
      const like = b.page.getByRole('button', { name: 'Like', exact: true });
      const dislike = b.page.getByRole('button', { name: 'Dislike', exact: true });
      await dislike.click();
      await until('dislike pressed', async () => (await dislike.getAttribute('aria-pressed')) === 'true');
      assert.equal((await dislike.locator('.count').textContent()).trim(), '1');
      let v = await rating();
      assert.equal(v.myRating, 'dislike');
      assert.equal(v.dislikeCount, 1);
      await like.click();
      await until('like pressed, dislike not', async () =>
        (await like.getAttribute('aria-pressed')) === 'true' && (await dislike.getAttribute('aria-pressed')) === 'false');
      assert.equal((await like.locator('.count').textContent()).trim(), '1');
      assert.equal((await dislike.locator('.count').textContent()).trim(), '0');
      v = await rating();
      assert.deepEqual([v.myRating, v.likeCount, v.dislikeCount], ['like', 1, 0]);
      await like.click();
      await until('nothing pressed', async () => (await like.getAttribute('aria-pressed')) === 'false');
      assert.equal((await like.locator('.count').textContent()).trim(), '0');
      v = await rating();
      assert.deepEqual([v.myRating, v.likeCount, v.dislikeCount], [null, 0, 0]);
    });

    await step(b, 'B likes A\'s reply', async () => {
      const cm = commentLi(b, 'Which coast is this?');
      await cm.getByRole('button', { name: 'Show 1 reply' }).click();
      const r = cm.locator('.replies li.comment').filter({ hasText: 'The north one.' });
      const like = r.getByRole('button', { name: 'Like this comment' });
      await like.click();
      await until('the reply\'s like', async () => (await like.getAttribute('aria-pressed')) === 'true');
      assert.equal((await like.locator('.count').textContent()).trim(), '1');
      const replies = await call('GET', `/api/v1/comments/${first.body.id}/replies`, { token: B.token });
      assert.equal(replies.body.items[0].likeCount, 1, JSON.stringify(replies.body));
    });

    await step(b, 'B deletes both comments', async () => {
      const withReply = commentLi(b, 'Which coast is this?');
      await withReply.locator(':scope > .comment-main > .comment-actions').getByRole('button', { name: 'Delete' }).click();
      let dlg = b.page.getByRole('dialog', { name: 'Delete this comment?' });
      await dlg.getByText('Its text goes; its replies stay.').waitFor();
      await dlg.getByRole('button', { name: 'Delete comment' }).click();
      await b.page.locator('li.comment .comment-body.deleted', { hasText: 'This comment was deleted.' }).waitFor();
      await b.page.locator('li.comment .comment-body', { hasText: 'The north one.' }).waitFor();
      assert.equal(await b.page.getByText('Deleting…').count(), 0, 'the "Deleting…" note stayed');
      const alone = commentLi(b, 'Too dark for me.');
      await alone.locator(':scope > .comment-main > .comment-actions').getByRole('button', { name: 'Delete' }).click();
      dlg = b.page.getByRole('dialog', { name: 'Delete this comment?' });
      await dlg.getByRole('button', { name: 'Delete comment' }).click();
      await alone.waitFor({ state: 'detached' });
      await shot(b, 'watch-deleted-comments');
      const list = await call('GET', `/api/v1/videos/${vid}/comments`);
      assert.equal(list.body.items.length, 1, JSON.stringify(list.body));
      assert.equal(list.body.items[0].deleted, true);
      assert.equal(list.body.items[0].body, null);
      assert.equal(list.body.items[0].replyCount, 1);
      // After a reload too: the thread keeps its shape.
      await b.page.reload();
      await b.page.locator('li.comment .comment-body.deleted').waitFor();
      assert.equal(await commentLi(b, 'Too dark for me.').count(), 0);
    });

    await step(b, 'B saves to Watch later and empties it', async () => {
      await b.page.getByRole('button', { name: 'Save', exact: true }).click();
      const dlg = b.page.getByRole('dialog', { name: 'Save to…' });
      await dlg.getByRole('button', { name: 'Watch later' }).click();
      await dlg.locator('li').filter({ hasText: 'Watch later' }).locator('.save-state', { hasText: 'Saved' }).waitFor();
      await dlg.getByRole('button', { name: 'Done' }).click();
      await go(b, '/me/playlists');
      await b.page.locator('.playlist-card').filter({ hasText: 'Watch later' }).getByRole('link').first().click();
      await b.page.getByRole('heading', { level: 1, name: 'Watch later' }).waitFor();
      await b.page.getByText('Only you see it').waitFor();
      assert.equal(await b.page.getByRole('button', { name: 'Delete playlist' }).count(), 0, 'Watch later can be deleted');
      await b.page.locator('.pl-item .row-title', { hasText: title }).waitFor();
      await shot(b, 'watch-later');
      await b.page.getByRole('button', { name: `Remove “${title}”` }).click();
      await b.page.getByText('This playlist is empty.', { exact: false }).waitFor();
      await shot(b, 'watch-later-emptied');
      const later = (await call('GET', `/api/v1/playlists/${B.id}`, { token: B.token })).body;
      assert.equal(later.itemCount, 0, JSON.stringify(later));
    });

    await step(b, 'B deletes a playlist', async () => {
      await go(b, `/p/${temp.body.id}`);
      await b.page.getByRole('heading', { level: 1, name: 'Maybe later' }).waitFor();
      await b.page.getByRole('button', { name: 'Delete playlist' }).click();
      const dlg = b.page.getByRole('dialog', { name: 'Delete this playlist?' });
      await dlg.getByRole('button', { name: 'Delete playlist' }).click();
      await until('my playlists', async () => new URL(b.page.url()).pathname === '/me/playlists');
      await b.page.getByRole('heading', { level: 1, name: 'Playlists' }).waitFor();
      assert.equal(await b.page.locator('.playlist-card').filter({ hasText: 'Maybe later' }).count(), 0);
      assert.equal((await call('GET', `/api/v1/playlists/${temp.body.id}`, { token: B.token })).status, 404);
    });

    await step(a, 'A deletes the post', async () => {
      await signIn(a, A);
      await go(a, `/c/${A.username}`);
      await a.page.getByRole('tab', { name: 'Posts' }).click();
      const li = a.page.locator('li.post', { hasText: 'Off to the islands for a month.' });
      await li.getByRole('button', { name: 'Delete' }).click();
      const dlg = a.page.getByRole('dialog', { name: 'Delete this post?' });
      await dlg.getByRole('button', { name: 'Delete post' }).click();
      await li.waitFor({ state: 'detached' });
      assert.equal((await call('GET', `/api/v1/posts/${post.body.id}`)).status, 404);
      await a.page.reload();
      await a.page.getByRole('tab', { name: 'Posts' }).click();
      await a.page.getByText('No posts yet.', { exact: false }).waitFor();
    });

    for (const s of sessions) assert.deepEqual(s.problems, [], `the page reported problems:\n${s.problems.join('\n')}`);
  } finally {
    for (const s of sessions) await s.context.close();
  }
});

// nginx answers index.html only for the app's own paths (snippets/web.conf): a reload or a
// shared link to one of the new pages must get the app, not a 404.
test('community: the new pages load from their own address', async () => {
  for (const p of ['/c/someone', '/feed', '/me/playlists', '/p/0123456789abcdef01234567']) {
    const res = await fetch(BASE + p);
    assert.equal(res.status, 200, `GET ${p} answered ${res.status}`);
    assert.match(await res.text(), /\/assets\/app\.[0-9a-f]+\.js/, `GET ${p} is not the app`);
  }
});
