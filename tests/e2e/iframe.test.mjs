// iframe.test.mjs: launches inside an LMS iframe in headless Chromium with cross-site cookies
// blocked. The LMS page is served by the emulator on 127.0.0.1, Attest on localhost: two
// different sites, so every Attest cookie set inside the frame is a third-party cookie.
//
//   make && node --test --test-concurrency=1 tests/e2e/iframe.test.mjs
// Screenshots: var/test-screenshots/*.png
//
// Two browser profiles:
//  - "block-third-party": Chromium's "Block third-party cookies" setting. Chromium still
//    accepts Partitioned (CHIPS) cookies there, and Attest's state cookie is Partitioned, so
//    the cookie path works inside the frame for both flavours.
//  - "no-cross-site": the same plus a site exception that refuses every cookie of localhost
//    when framed by 127.0.0.1, partitioned or not (what Safari does). Canvas must still work
//    through LTI platform storage; Moodle (no platform storage) must show the tool's clear
//    "open in a new window" page, and the same Moodle launch opened top-level must work.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Platform } from '../platform/platform.mjs';
import { launchBrowser } from '../platform/browser.mjs';
import { Stack, ROOT } from './stack.mjs';
import { HOSTILE_NAME, COURSE_TITLE, PAGE } from './helpers.mjs';

const SHOTS = path.join(ROOT, 'var', 'test-screenshots');
fs.mkdirSync(SHOTS, { recursive: true });
const T = { timeout: 90000 };

let stack;
let moodle;
let canvas;      // Canvas cloud: course pages on the institution's domain (not the issuer, not sso)
let canvasSH;    // self-hosted Canvas: course pages on the same origin as the auth endpoint
let base;

before(async () => {
  [stack, moodle, canvas, canvasSH] = await Promise.all([
    Stack.start({ name: 'iframe' }),
    Platform.start({ flavor: 'moodle' }),
    Platform.start({ flavor: 'canvas' }),
    Platform.start({ flavor: 'canvas', lmsOrigin: 'sso' }),
  ]);
  base = stack.baseUrl;
  assert.equal(new URL(base).hostname, 'localhost', 'Attest must run on localhost (a different site from the LMS on 127.0.0.1)');
  for (const p of [moodle, canvas, canvasSH]) {
    const r = await p.dynamicRegister(`${base}/lti/register`);
    assert.equal(r.registration?.status, 200, `${p.flavor} dynamic registration failed: tool answered ${r.status}`);
  }
});

after(async () => {
  await Promise.all([moodle?.close(), canvas?.close(), canvasSH?.close()]);
  await stack?.stop();
});

/** Open the LMS page and wait until the tool frame reaches /app?s= or a POST /lti/launch fails. */
async function openInFrame(page, url, { expectApp = true, timeout = 30000 } = {}) {
  const launches = [];
  const failed = [];
  const onResponse = (r) => {
    if (r.url().startsWith(`${base}/lti/launch`) && r.request().method() === 'POST') launches.push(r.status());
  };
  const onFailed = (q) => failed.push(`${q.method()} ${q.url().slice(0, 160)}: ${q.failure()?.errorText}`);
  page.on('response', onResponse);
  page.on('requestfailed', onFailed);
  try {
    // Do not wait for every subframe's load event: the tool frame is watched below.
    await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 20000 });
    const out = await toolFrameOutcome(page, launches, { expectApp, timeout });
    out.failed = failed;
    return out;
  } finally {
    page.off('response', onResponse);
    page.off('requestfailed', onFailed);
  }
}

async function toolFrameOutcome(page, launches, { expectApp, timeout }) {
  const deadline = Date.now() + timeout;
  let frame = page.mainFrame();
  for (;;) {
    // Under load Playwright may keep a stale URL on the named frame after its cross-site
    // (out-of-process) navigation: look at every frame for the tool's page too.
    frame = page.frames().find((f) => /\/app\?s=/.test(f.url())) ||
      page.frame({ name: 'tool_frame' }) || page.mainFrame();	// attached late, maybe
    const u = frame.url();
    if (/\/app\?s=/.test(u)) break;
    if (!expectApp && launches.some((s) => s >= 400)) break;
    if (Date.now() > deadline) break;
    await page.waitForTimeout(200);
  }
  // Bounded waits: a flow that never arrives fails with its diagnostics, not a test timeout.
  await frame.waitForLoadState('load', { timeout: 5000 }).catch(() => {});
  const text = await frame.locator('body').innerText({ timeout: 5000 }).catch((e) => `<<no body: ${e.message}>>`);
  const injected = await bounded(frame.locator('b', { hasText: 'O\'Neil' }).count(), 5000, -1);
  return { frame, url: frame.url(), text, launches, injected };
}

/** p, or fallback after ms: a frame caught mid-navigation must not hang the test. */
function bounded(p, ms, fallback) {
  return Promise.race([p.catch(() => fallback), new Promise((r) => setTimeout(() => r(fallback), ms))]);
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true }).catch(() => {});
}

async function stateCookies(context) {
  return (await context.cookies()).filter((c) => c.name.startsWith('attest_state_'));
}

async function probe(page, emu) {
  const src = `http://localhost:${emu.port}/probe/set`;
  await page.goto(`${emu.baseUrl}/probe/frame?src=${encodeURIComponent(src)}`);
  const f = page.frame({ name: 'probe' });
  await f.waitForURL(/\/probe\/get/, { timeout: 10000 });
  return f.locator('#cookies').innerText();
}

function assertLearnerPage(out, label) {
  assert.match(out.url, /\/app\?s=/, `${label}: the tool frame did not reach /app (at ${out.url}; POST /lti/launch statuses ${JSON.stringify(out.launches)}; failed requests ${JSON.stringify(out.failed || [])}): ${out.text.slice(0, 400)}`);
  assert.ok(out.text.includes(HOSTILE_NAME), `${label}: the learner page does not show the name: ${out.text.slice(0, 300)}`);
  assert.ok(out.text.includes(COURSE_TITLE), `${label}: the learner page does not show the course title`);
  assert.match(out.text, PAGE.learner, `${label}: not the learner page`);
  assert.equal(out.injected, 0, `${label}: the name was rendered as HTML`);
}

const launchOpts = { role: 'learner', user: { name: HOSTILE_NAME }, context: { title: COURSE_TITLE } };

describe('Chromium with "block third-party cookies" (CHIPS still allowed)', () => {
  let b;
  before(async () => { b = await launchBrowser({ cookies: 'block-third-party' }); });
  after(async () => { await b?.close(); });

  test('the blocking is effective: a plain cross-site cookie set in a frame does not come back', T, async () => {
    const seen = await probe(b.page, moodle);
    assert.ok(!seen.includes('probe_plain'), `third-party cookies are not blocked: ${seen}`);
    assert.ok(seen.includes('probe_partitioned'), `Chromium dropped the Partitioned cookie as well (${seen}); the expectations of this profile assume CHIPS`);
  });

  test('Canvas (cloud: course page on the institution domain) in the iframe lands on the learner page', T, async () => {
    const out = await openInFrame(b.page, canvas.coursePageUrl(launchOpts));
    await shot(b.page, 'chips-canvas-iframe');
    assertLearnerPage(out, 'canvas iframe');
  });

  test('Canvas (self-hosted: course page on the auth origin) in the iframe lands on the learner page', T, async () => {
    const out = await openInFrame(b.page, canvasSH.coursePageUrl(launchOpts));
    await shot(b.page, 'chips-canvas-selfhosted-iframe');
    assertLearnerPage(out, 'self-hosted canvas iframe');
  });

  test('Moodle in the iframe lands on the learner page through the Partitioned state cookie', T, async () => {
    const out = await openInFrame(b.page, moodle.coursePageUrl(launchOpts));
    await shot(b.page, 'chips-moodle-iframe');
    assertLearnerPage(out, 'moodle iframe (CHIPS)');
  });
});

describe('Chromium with no cross-site cookies at all (Safari-like)', () => {
  let b;
  before(async () => { b = await launchBrowser({ cookies: 'no-cross-site' }); });
  after(async () => { await b?.close(); });

  test('the blocking is effective: neither a plain nor a Partitioned cookie comes back', T, async () => {
    const seen = await probe(b.page, moodle);
    assert.ok(!seen.includes('probe_plain') && !seen.includes('probe_partitioned'), `cross-site cookies still reach the frame: ${seen}`);
  });

  for (const [label, which] of [['cloud: course page on the institution domain', () => canvas], ['self-hosted: course page on the auth origin', () => canvasSH]]) {
  test(`Canvas (${label}) in the iframe lands on the learner page through platform storage`, T, async () => {
    const emu = which();
    const out = await openInFrame(b.page, emu.coursePageUrl(launchOpts));
    await shot(b.page, emu === canvas ? 'nocookies-canvas-iframe' : 'nocookies-canvas-selfhosted-iframe');
    const storageFrame = b.page.frame({ name: 'post_message_forwarding' });
    assert.ok(storageFrame, 'the LMS page has no post_message_forwarding frame');
    const log = [...await bounded(b.page.evaluate(() => window.__ltiMessages || []), 5000, []),
      ...await bounded(storageFrame.evaluate(() => window.__ltiMessages || []), 5000, [])];
    assertLearnerPage(out, 'canvas iframe (platform storage)');
    const toolOrigin = new URL(base).origin;
    const subjects = log.filter((m) => m.origin === toolOrigin).map((m) => m.request.subject.replace(/^org\.imsglobal\./, ''));
    assert.ok(subjects.includes('lti.put_data'), `the tool never stored its state through lti.put_data: ${JSON.stringify(subjects)}`);
    assert.ok(subjects.includes('lti.get_data'), `the tool never read its state back through lti.get_data: ${JSON.stringify(subjects)}`);
    assert.equal((await stateCookies(b.context)).length, 0, 'a state cookie of the framed tool was stored although cross-site cookies are blocked');
  });
  }

  test('Moodle in the iframe shows the clear "open in a new window" page', T, async () => {
    const out = await openInFrame(b.page, moodle.coursePageUrl(launchOpts), { expectApp: false });
    await shot(b.page, 'nocookies-moodle-iframe');
    assert.doesNotMatch(out.url, /\/app\?s=/, 'launched although the state cookie cannot have come back');
    assert.ok(out.launches.some((s) => s >= 400 && s < 500), `POST /lti/launch statuses: ${JSON.stringify(out.launches)}`);
    assert.match(out.text, /new (window|tab)/i, `the error page does not tell the user to open Attest in a new window: ${out.text.slice(0, 400)}`);
    assert.ok(!out.text.includes('eyJ'), 'the error page shows a JWT');
    assert.equal((await stateCookies(b.context)).length, 0, 'the framed tool managed to store its state cookie');
  });

  test('the same Moodle launch opened top-level (new window) lands on the learner page', T, async () => {
    const page = await b.context.newPage();
    try {
      await page.goto(moodle.coursePageUrl({ ...launchOpts, target: 'window' }));
      await page.waitForURL(/\/app\?s=/, { timeout: 30000 }).catch(() => {});
      const text = await page.locator('body').innerText();
      await shot(page, 'nocookies-moodle-window');
      assertLearnerPage({ url: page.url(), text, launches: [], injected: await page.locator('b', { hasText: 'O\'Neil' }).count() }, 'moodle new window');
    } finally {
      await page.close();
    }
  });
});
