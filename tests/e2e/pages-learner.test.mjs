// pages-learner.test.mjs: the learner's pages in a real browser, inside the emulated LMS's
// cross-site iframe with third-party cookies blocked: My programs, joining a program, one
// program with its scorecards, evidence uploads (a real PNG made here, the progress bar, a
// failed upload kept in the list and retried), links and notes, the assessor's review seen by
// the learner, a self-evaluation started from the page, the daily progress report (an error
// keeps what was typed), the record of learning (printable page + CSV download), and the
// certificate page that exists only after a certifying decision. Another learner's
// enrolment answers 404 on every page. Screenshots (desktop 1280, phone 390) and axe-core
// WCAG 2.1 AA checks on every page.
//
//   make && node --test --test-concurrency=1 tests/e2e/pages-learner.test.mjs
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { Platform } from '../platform/platform.mjs';
import { launchBrowser } from '../platform/browser.mjs';
import { Stack } from './stack.mjs';
import { HOSTILE_NAME, COURSE_TITLE, PAGE } from './helpers.mjs';
import { openInLms, shot, checkA11y, VIEWPORTS } from './pages.mjs';
import { Api, ok, answersForScore, programDefinition } from './api-client.mjs';
import { deepLink } from './sync-helpers.mjs';

const CALL = programDefinition('call-certification');
const L2 = programDefinition('level-two-trainer');
const SCORECARD = CALL.checklists.find((c) => c.key === 'call');
const COTEACH = L2.checklists.find((c) => c.key === 'co-teach-module');
const T = { timeout: 120000 };

// ------------------------------------------------------------------ a real PNG, made here

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
/** A w x h RGB PNG: a blue-to-green gradient with a white square (a "desk photo"). */
function makePng(w, h) {
  const raw = Buffer.alloc((w * 3 + 1) * h);
  for (let y = 0; y < h; y++) {
    raw[y * (w * 3 + 1)] = 0;
    for (let x = 0; x < w; x++) {
      const o = y * (w * 3 + 1) + 1 + x * 3;
      const sq = x > w / 3 && x < (2 * w) / 3 && y > h / 3 && y < (2 * h) / 3;
      raw[o] = sq ? 255 : 20;
      raw[o + 1] = sq ? 255 : Math.floor((255 * x) / w);
      raw[o + 2] = sq ? 255 : Math.floor((255 * y) / h);
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; ihdr[9] = 2; ihdr[10] = 0; ihdr[11] = 0; ihdr[12] = 0;
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw, { level: 0 })), chunk('IEND', Buffer.alloc(0))]);
}

// ------------------------------------------------------------------ the suite

describe('learner pages in the LMS iframe (third-party cookies blocked)', () => {
  let stack;
  let moodle;
  let browser;
  let page;
  let base;
  let tmp;
  const course = { id: 'LRN-PAGES-1', title: COURSE_TITLE, label: 'LRN1' };
  const learnerUser = { sub: 'lp-lena', name: HOSTILE_NAME, given_name: 'Lena', family_name: 'Learner' };
  let lena;          // {token, api, frame}
  let coord;         // Api of an instructor of the course
  let other;         // Api of another learner
  const ids = {};    // enrolment ids

  before(async () => {
    [stack, moodle] = await Promise.all([Stack.start({ name: 'pages-learner' }), Platform.start({ flavor: 'moodle' })]);
    base = stack.baseUrl;
    const reg = await moodle.dynamicRegister(`${base}/lti/register`);
    assert.equal(reg.registration?.status, 200, `dynamic registration failed: ${reg.registration?.error}`);
    browser = await launchBrowser({ cookies: 'block-third-party', viewport: VIEWPORTS.desktop });
    page = browser.page;
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'attest-learner-'));
    coord = await Api.launch(moodle, base, { role: 'instructor', user: { sub: 'lp-cora', name: 'Cora Coordinator' }, courseId: course.id, context: course });
    other = await Api.launch(moodle, base, { role: 'learner', user: { sub: 'lp-olly', name: 'Olly Other' }, courseId: course.id, context: course });
    // the coordinator places the call certification in the course (deep linking); the Level
    // Two pathway is placed later, in the join test
    await deepLink(moodle, stack, { courseId: course.id, context: course, choose: [/ESP agent call certification/], user: { sub: 'lp-cora', name: 'Cora Coordinator' } });
  });

  after(async () => {
    await browser?.close();
    await moodle?.close();
    await stack?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  /** The tool frame (inside the LMS page). */
  const frame = () => page.frame({ name: 'tool_frame' });
  /** Navigate the tool frame to an Attest page of Lena's session. */
  async function go(p, { status = 200 } = {}) {
    const f = frame();
    const url = `${base}${p}${p.includes('?') ? '&' : '?'}s=${encodeURIComponent(lena.token)}`;
    const res = await f.goto(url, { waitUntil: 'load' });
    assert.equal(res.status(), status, `GET ${p}: ${res.status()} ${(await f.locator('body').innerText()).slice(0, 300)}`);
    return f;
  }
  /** The page's HTML must not echo the hostile name unescaped. */
  async function assertEscaped(f, label) {
    const html = await f.content();
    for (const bad of ['<b>O', '"Co"</b>', '<i>&</i>']) assert.ok(!html.includes(bad), `${label}: ${bad} echoed unescaped`);
  }
  /** Desktop (in the frame) and phone (top level, 390 px) screenshots and axe checks. */
  async function review(p, name) {
    const f = frame();
    await checkA11y(f, `${name} (desktop, in the LMS frame)`);
    await shot(page, `learner-${name}-desktop`);
    const phone = await browser.context.newPage();
    try {
      await phone.setViewportSize(VIEWPORTS.phone);
      const res = await phone.goto(`${base}${p}${p.includes('?') ? '&' : '?'}s=${encodeURIComponent(lena.token)}`, { waitUntil: 'load' });
      assert.equal(res.status(), 200, `${name} on a phone: ${res.status()}`);
      await checkA11y(phone, `${name} (phone)`);
      const wide = await phone.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(wide <= 390 + 1, `${name}: the phone page scrolls sideways (${wide} px wide)`);
      await shot(phone, `learner-${name}-phone`);
    } finally {
      await phone.close();
      await page.bringToFront(); // the LMS page is the visible tab again (else its frame gets no input)
    }
  }
  const text = async (f) => f.locator('main').innerText();

  test('launch in the LMS frame; My programs says learner, shows no course page; join two programs from the page', T, async () => {
    const r = await openInLms(page, moodle, { role: 'learner', user: learnerUser, courseId: course.id, context: course });
    lena = { token: r.token };
    lena.api = new Api(base, r.token, 'lena');
    const me = ok(await lena.api.get('/api/v1/me'), 200, 'me');
    lena.api.csrf = me.csrf;
    lena.api.userId = me.user_id;
    let f = await go('/app');
    let t = await f.locator('body').innerText();
    assert.match(t, PAGE.learner);
    assert.doesNotMatch(t, /Learners seen/i);
    assert.match(t, /not enrolled/i);
    await assertEscaped(f, 'home (empty)');
    // the form offers only the programs placed in this course; the server refuses any other
    assert.deepEqual(await f.locator('#join-program option').evaluateAll((os) => os.map((o) => o.value)), ['call-certification']);
    const notPlaced = await fetch(`${base}/app/enrolments`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ s: lena.token, csrf: lena.api.csrf, program: 'level-two-trainer' }) });
    assert.equal(notPlaced.status, 403, 'joining a program not placed in the course is refused');
    assert.match(await notPlaced.text(), /not offered in this course/);
    ok(await lena.api.post('/api/v1/enrolments', { program: 'level-two-trainer' }), 403, 'the API refuses it too');
    // join the call certification through the page form
    await f.selectOption('#join-program', 'call-certification');
    await Promise.all([f.waitForNavigation({ waitUntil: 'load' }), f.click('text=Join this program')]);
    assert.match(f.url(), /\/app\/enrolments\/\d+\?s=/);
    ids.call = Number(f.url().match(/enrolments\/(\d+)/)[1]);
    assert.match(await text(f), /You are enrolled/);
    // and the Level Two pathway, once placed in the course
    f = await go('/app');
    assert.equal(await f.locator('#join-program').count(), 0, 'nothing else is offered yet');
    await deepLink(moodle, stack, { courseId: course.id, context: course, choose: [/Level Two trainer pathway/], user: { sub: 'lp-cora', name: 'Cora Coordinator' } });
    f = await go('/app');
    await f.selectOption('#join-program', 'level-two-trainer');
    await Promise.all([f.waitForNavigation({ waitUntil: 'load' }), f.click('text=Join this program')]);
    ids.l2 = Number(f.url().match(/enrolments\/(\d+)/)[1]);
    const mine = ok(await lena.api.get('/api/v1/enrolments'), 200, 'list').enrolments.map((e) => e.id).sort();
    assert.deepEqual(mine, [ids.call, ids.l2].sort());
    // the other learner enrols too (their enrolment is the one Lena must never see)
    ids.other = ok(await other.post('/api/v1/enrolments', { program: 'call-certification' }), 201, 'olly enrols').id;
    // every program is joined: the form is gone; enrolling twice through the form is a clear 409
    f = await go('/app');
    t = await text(f);
    assert.match(t, /ESP agent call certification/);
    assert.match(t, /Level Two trainer pathway/);
    assert.match(t, /Complete by \d{4}-\d{2}-\d{2}/, 'the deadline of the call certification is shown');
    assert.match(t, /Observations on Certification call scorecard: 0 of 5/);
    assert.match(t, /not rated yet/);
    assert.equal(await f.locator('#join-program').count(), 0);
    const dup = await fetch(`${base}/app/enrolments`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ s: lena.token, csrf: lena.api.csrf, program: 'call-certification' }) });
    assert.equal(dup.status, 409);
    assert.match(await dup.text(), /enrolled in this program already/);
    const forged = await fetch(`${base}/app/enrolments`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ s: lena.token, csrf: 'forged', program: 'call-certification' }) });
    assert.equal(forged.status, 403, 'a form without the session CSRF token is refused');
    await review('/app', 'home');
  });

  test('evidence: a photo uploads with a progress bar; a failed upload stays listed and is retried; links and notes', T, async () => {
    const png = makePng(240, 160);
    const photo = path.join(tmp, 'desk-photo.png');
    fs.writeFileSync(photo, png);
    let f = await go(`/app/enrolments/${ids.call}/evidence`);
    // attach to the first competency of the program
    const firstComp = f.locator('#attach input[name=competency_ids]').first();
    const compId = Number(await firstComp.getAttribute('value'));
    await firstComp.check();
    await f.fill('#upload-note', 'My desk & headset');
    // watch the upload's progress events from inside the page
    await f.evaluate(() => {
      window.__progress = [];
      new MutationObserver(() => {
        for (const b of document.querySelectorAll('#queue progress')) window.__progress.push(Number(b.value));
      }).observe(document.getElementById('queue'), { subtree: true, attributes: true, childList: true, characterData: true });
    });
    // the first attempt loses the connection: the row stays, with the reason and a Retry button
    let blocked = 0;
    await page.route('**/api/v1/evidence', (route) => { blocked++; return route.abort('internetdisconnected'); });
    await f.setInputFiles('#file-pick', photo);
    const row = f.locator('#queue li').first();
    await row.locator('button.retry').waitFor({ state: 'visible', timeout: 15000 });
    assert.equal(await row.getAttribute('data-state'), 'failed');
    assert.match(await row.innerText(), /connection failed/i);
    assert.match(await row.innerText(), /desk-photo\.png/);
    assert.equal(blocked, 1, 'the upload went through the network (and was cut)');
    await page.unroute('**/api/v1/evidence');
    await shot(page, 'learner-evidence-failed-desktop');
    await checkA11y(f, 'evidence with a failed upload');
    await row.locator('button.retry').press('Enter'); // keyboard: the Retry button is reachable without a mouse
    await f.waitForFunction(() => document.querySelector('#queue li')?.dataset.state === 'done', null, { timeout: 20000, polling: 250 })
      .catch(async (e) => { throw new Error(`the retry did not upload the photo: ${await row.innerText()} (${e.message})`); });
    assert.equal(await f.locator('#queue li').count(), 1, 'the retried file is the same row, not a new one');
    assert.equal(Number(await row.locator('progress').evaluate((b) => b.value)), 100);
    assert.match(await row.innerText(), /Uploaded/);
    const seen = await f.evaluate(() => window.__progress);
    assert.ok(seen.includes(100), `the progress bar reached 100 (saw ${seen.join(',')})`);
    // stored as the learner's evidence: a PNG found from the content, attached to the competency
    const list = ok(await lena.api.get(`/api/v1/evidence?learner_id=${lena.api.userId}`), 200, 'evidence list').evidence;
    const rec = list.find((e) => e.filename === 'desk-photo.png');
    assert.ok(rec, 'the photo is stored');
    assert.equal(rec.media_type, 'image/png');
    assert.equal(rec.size, png.length);
    assert.equal(rec.note, 'My desk & headset');
    assert.deepEqual(rec.competency_ids, [compId]);
    ids.photo = rec.id;
    // it is in the list at once, and after a reload (with its thumbnail)
    assert.equal(await f.locator(`#evidence-${rec.id}`).count(), 1);
    f = await go(`/app/enrolments/${ids.call}/evidence`);
    const item = f.locator(`#evidence-${rec.id}`);
    assert.match(await item.innerText(), /Waiting for review/);
    assert.match(await item.innerText(), /My desk & headset/);
    const w = await item.locator('img.thumb').evaluate((img) => (img.complete ? img.naturalWidth : new Promise((res) => {
      img.addEventListener('load', () => res(img.naturalWidth));
      img.addEventListener('error', () => res(-1));
      setTimeout(() => res(-2), 10000);
    })));
    assert.equal(w, 240, 'the thumbnail shows the uploaded photo');
    // a type the site refuses: a clear message and a Retry button, nothing lost from the list
    const script = path.join(tmp, 'photo.jpg');
    fs.writeFileSync(script, '#!/bin/sh\necho pwned\n');
    await f.setInputFiles('#file-pick', script);
    const bad = f.locator('#queue li').first();
    await bad.locator('button.retry').waitFor({ state: 'visible', timeout: 15000 });
    assert.match(await bad.innerText(), /not accepted/i);
    // a link needs a real URL: the error names the field and keeps what was typed
    await f.fill('#ev-url', 'javascript:alert(1)');
    await f.fill('#ev-note', 'Recording of call 3');
    await Promise.all([f.waitForNavigation({ waitUntil: 'load' }), f.click('text=Add to my evidence')]);
    assert.match(await f.locator('#evidence-error').innerText(), /link/i);
    assert.equal(await f.inputValue('#ev-note'), 'Recording of call 3');
    assert.equal(await f.getAttribute('#ev-url', 'aria-invalid'), 'true');
    await checkA11y(f, 'evidence form with an error');
    await f.fill('#ev-url', 'https://example.org/recordings/call-3');
    await Promise.all([f.waitForNavigation({ waitUntil: 'load' }), f.click('text=Add to my evidence')]);
    assert.match(await text(f), /link is added/);
    assert.match(await text(f), /example\.org\/recordings\/call-3/);
    await f.fill('#ev-note', 'Shadowed two calls with Sam on Monday.');
    await Promise.all([f.waitForNavigation({ waitUntil: 'load' }), f.click('text=Add to my evidence')]);
    assert.match(await text(f), /note is added/);
    await assertEscaped(f, 'evidence');
  });

  test('the assessor reviews the evidence (API); the learner sees the review and the comment', T, async () => {
    const list = ok(await coord.get(`/api/v1/evidence?learner_id=${lena.api.userId}`), 200, 'coord lists').evidence;
    const link = list.find((e) => e.kind === 'link');
    ok(await coord.post(`/api/v1/evidence/${ids.photo}/review`, { accept: false, comment: 'The photo does not show the headset <clearly>.' }), 200, 'reject photo');
    ok(await coord.post(`/api/v1/evidence/${link.id}/review`, { accept: true }), 200, 'accept link');
    const f = await go(`/app/enrolments/${ids.call}/evidence`);
    const photo = await f.locator(`#evidence-${ids.photo}`).innerText();
    assert.match(photo, /Not accepted by Cora Coordinator/);
    assert.match(photo, /Assessor's comment: The photo does not show the headset <clearly>\./);
    assert.match(await f.locator(`#evidence-${link.id}`).innerText(), /Accepted/);
    await review(`/app/enrolments/${ids.call}/evidence`, 'evidence');
  });

  test('self-evaluation: started from the program page (rater role self), continued, filled in, shown as a scorecard', T, async () => {
    let f = await go(`/app/enrolments/${ids.l2}`);
    const start = f.locator('#self button[type=submit]');
    assert.match(await start.innerText(), /Start a self-evaluation: Co-taught Level Two module/);
    await Promise.all([f.waitForNavigation({ waitUntil: 'commit' }), start.press('Enter')]);
    const m = f.url().match(/\/app\/observations\/(\d+)\?s=/);
    assert.ok(m, `the self-evaluation opens on the observation page, not ${f.url()}`);
    const oid = Number(m[1]);
    const obs = ok(await lena.api.get(`/api/v1/observations/${oid}`), 200, 'the new observation');
    assert.equal(obs.rater_role, 'self');
    assert.equal(obs.status, 'draft');
    assert.equal(obs.enrolment_id, ids.l2);
    assert.equal(obs.checklist, 'co-teach-module');
    // the page offers to continue the same draft, not a second one
    f = await go(`/app/enrolments/${ids.l2}`);
    assert.match(await f.locator('#self').innerText(), /Continue your self-evaluation/);
    await Promise.all([f.waitForNavigation({ waitUntil: 'commit' }), f.locator('#self button[type=submit]').press('Enter')]);
    assert.equal(Number(f.url().match(/\/app\/observations\/(\d+)/)[1]), oid);
    // Filled in through the API here: the observation page is the assessor engineer's.
    const answers = COTEACH.items.map((it) => (it.kind === 'yesno' ? { item: it.key, value: 1 }
      : it.kind === 'rating' ? { item: it.key, value: 2 }
        : it.kind === 'comment' ? { item: it.key, text: 'We split the days; I led the afternoons.' } : { item: it.key, value: 100 }));
    ok(await lena.api.put(`/api/v1/observations/${oid}`, { answers }), 200, 'self answers');
    ok(await lena.api.post(`/api/v1/observations/${oid}/submit`, {}), 200, 'self submit');
    f = await go(`/app/enrolments/${ids.l2}`);
    const card = f.locator('article.scorecard').first();
    const t = await card.innerText();
    assert.match(t, /Your self-evaluation/);
    assert.match(t, /Both trainers were present for 100 % of the module/);
    assert.match(t, /Competent \(level 3 of 5\)/);
    assert.match(t, /We split the days; I led the afternoons\./);
    assert.match(await f.locator('#self').innerText(), /Start a self-evaluation.*\n?.*1 submitted/s);
    // the competencies now show self-rated levels
    assert.match(await text(f), /self-rated only/);
    await review(`/app/enrolments/${ids.l2}`, 'enrolment-l2');
  });

  test('daily progress report: an empty report names the field and keeps the day; a report is saved and listed with notes', T, async () => {
    let f = await go(`/app/enrolments/${ids.call}`);
    await f.fill('#progress-text', '   ');
    await Promise.all([f.waitForNavigation({ waitUntil: 'load' }), f.click('text=Send the report')]);
    assert.match(await f.locator('#progress-error').innerText(), /Write what you did/);
    assert.equal(await f.getAttribute('#progress-text', 'aria-invalid'), 'true');
    await checkA11y(f, 'progress report error');
    await f.fill('#progress-text', 'Two practice calls with Sam; call 1 booked for Tuesday.');
    await Promise.all([f.waitForNavigation({ waitUntil: 'load' }), f.click('text=Send the report')]);
    assert.match(await text(f), /progress report is saved/);
    assert.match(await f.locator('#notes').innerText(), /Two practice calls with Sam/);
    assert.match(await text(f), /Today's progress report is sent/);
    ok(await coord.post(`/api/v1/enrolments/${ids.call}/notes`, { text: 'Call 1 booked with Sam' }), 201, 'note');
    f = await go(`/app/enrolments/${ids.call}`);
    assert.match(await f.locator('#notes').innerText(), /Cora Coordinator · coordinator's note\s*Call 1 booked with Sam/);
  });

  test('observations with scorecards and feedback; the certificate exists only after a certifying decision', T, async () => {
    // no decision yet: no certificate
    let r = await fetch(`${base}/app/enrolments/${ids.call}/certificate?s=${encodeURIComponent(lena.token)}`);
    assert.equal(r.status, 404, 'no certificate before a decision');
    const scores = [90, 100, 95, 85, 84];
    for (const [i, score] of scores.entries()) {
      const o = ok(await coord.post('/api/v1/observations', { enrolment_id: ids.call, checklist: 'call', client_key: `lp-call-${i}` }), 201, `create ${i}`);
      const { list } = answersForScore(SCORECARD, score);
      const feedback = Object.fromEntries(SCORECARD.feedback.map((fb) => [fb.key, fb.key === 'went_well' ? `Calm and clear on call ${i + 1}` : `Keep practising the hold script (${i + 1})`]));
      ok(await coord.put(`/api/v1/observations/${o.id}`, { answers: list, feedback }), 200, `save ${i}`);
      ok(await coord.post(`/api/v1/observations/${o.id}/submit`, {}), 200, `submit ${i}`);
    }
    const prop = ok(await coord.post(`/api/v1/enrolments/${ids.call}/evaluate`), 201, 'evaluate');
    assert.equal(prop.outcome, 'pass');
    // proposed, not decided: still no certificate; the learner sees the proposal
    r = await fetch(`${base}/app/enrolments/${ids.call}/certificate?s=${encodeURIComponent(lena.token)}`);
    assert.equal(r.status, 404, 'no certificate for a proposal');
    let f = await go(`/app/enrolments/${ids.call}`);
    assert.match(await text(f), /rule proposes Passed/);
    const cards = f.locator('article.scorecard');
    assert.equal(await cards.count(), 5);
    const newest = await cards.first().innerText();
    assert.match(newest, /Observed by Cora Coordinator/);
    assert.match(newest, /Score 84 of 100, pass mark 85: not passed/);
    assert.match(newest, /What went well\s*Calm and clear on call 5/);
    for (const it of SCORECARD.items) assert.ok(newest.includes(it.label), `the scorecard lists item ${it.key}`);
    assert.match(newest, /critical/);
    ok(await coord.post(`/api/v1/decisions/${prop.id}/confirm`), 200, 'confirm');
    f = await go(`/app/enrolments/${ids.call}`);
    assert.match(await text(f), /Decision: Passed \(confirmed on \d{4}-\d{2}-\d{2} by Cora Coordinator\)/);
    await review(`/app/enrolments/${ids.call}`, 'enrolment');
    await Promise.all([f.waitForNavigation({ waitUntil: 'load' }), f.locator('nav.subnav a', { hasText: 'Certificate' }).press('Enter')]);
    const cert = await text(f);
    assert.match(cert, /This certifies that\s*<b>O'Neil & "Co"<\/b>\s*is certified as\s*ESP agent call certification/);
    await assertEscaped(f, 'certificate');
    await review(`/app/enrolments/${ids.call}/certificate`, 'certificate');
    // My programs shows the decision and links the certificate
    f = await go('/app');
    assert.equal(await f.locator(`a[href^="/app/enrolments/${ids.call}/certificate"]`).count(), 1);
    assert.equal(await f.locator(`a[href^="/app/enrolments/${ids.l2}/certificate"]`).count(), 0);
    await review('/app', 'home-certified');
    // the Level Two pathway has no certifying decision: 404
    r = await fetch(`${base}/app/enrolments/${ids.l2}/certificate?s=${encodeURIComponent(lena.token)}`);
    assert.equal(r.status, 404);
  });

  test('record of learning: printable page and CSV download', T, async () => {
    const f = await go(`/app/enrolments/${ids.call}/record`);
    const t = await text(f);
    assert.match(t, /Record of learning/);
    assert.match(t, /Certification call scorecard/);
    assert.match(t, /desk-photo\.png/);
    assert.match(t, /confirmed/);
    await assertEscaped(f, 'record');
    const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 15000 }), f.click('text=Download as CSV')]);
    const file = path.join(tmp, 'record.csv');
    await dl.saveAs(file);
    const csv = fs.readFileSync(file, 'utf8');
    assert.match(dl.suggestedFilename(), /^record-\d+-call-certification\.csv$/);
    const lines = csv.trim().split(/\r\n/);
    assert.equal(lines[0], 'type,id,date,subject,by,value,outcome,detail');
    assert.equal(lines.filter((l) => l.startsWith('observation,')).length, 5);
    assert.ok(lines.some((l) => l.startsWith('evidence,') && l.includes('desk-photo.png')));
    assert.ok(lines.some((l) => l.startsWith('decision,') && l.includes('confirmed')));
    await review(`/app/enrolments/${ids.call}/record`, 'record');
  });

  test("another learner's enrolment answers 404 on every page; the course's coordinator sees the learner's page", T, async () => {
    const q = `s=${encodeURIComponent(lena.token)}`;
    for (const p of ['', '/evidence', '/record', '/certificate']) {
      const r = await fetch(`${base}/app/enrolments/${ids.other}${p}?${q}`);
      assert.equal(r.status, 404, `GET /app/enrolments/{other}${p}`);
      const none = await fetch(`${base}/app/enrolments/99999${p}?${q}`);
      assert.equal(none.status, 404, `GET /app/enrolments/99999${p}`);
    }
    for (const [p, body] of [['/progress', { text: 'not mine' }], ['/evidence', { note: 'not mine' }], ['/self-evaluation', { checklist: 'call' }]]) {
      const r = await fetch(`${base}/app/enrolments/${ids.other}${p}`, { method: 'POST', redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ s: lena.token, csrf: lena.api.csrf, ...body }) });
      assert.equal(r.status, 404, `POST /app/enrolments/{other}${p}`);
    }
    const notes = ok(await other.get(`/api/v1/evidence?learner_id=${other.userId}`), 200, 'olly evidence').evidence;
    assert.equal(notes.length, 0, "nothing was added to the other learner's evidence");
    // the coordinator of the course sees Lena's program page (escaped), but cannot write her report
    const r = await fetch(`${base}/app/enrolments/${ids.call}?s=${encodeURIComponent(coord.token)}`);
    assert.equal(r.status, 200);
    const html = await r.text();
    assert.ok(html.includes('&lt;b&gt;O&#39;Neil') || html.includes('&lt;b&gt;O&#x27;Neil'), 'the learner name is shown escaped');
    assert.ok(!html.includes('<b>O'));
    const w = await fetch(`${base}/app/enrolments/${ids.call}/progress`, { method: 'POST', redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ s: coord.token, csrf: coord.csrf, text: 'x' }) });
    assert.equal(w.status, 403);
  });
});
