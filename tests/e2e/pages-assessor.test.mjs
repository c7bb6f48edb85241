// pages-assessor.test.mjs: the assessor's pages in headless Chromium, launched from the
// emulated Moodle (tests/platform/platform.mjs), on a phone (390x844, Attest opened
// top-level as the Moodle app does) and on a desktop inside the LMS iframe with third-party
// cookies blocked.
//
//   The assessor finds the learner on the worklist, starts a call-certification checklist,
//   rates items, loses the network half way (the page says "offline — saved on this device"
//   and keeps taking answers), closes the tab while offline, comes back online and reopens
//   it: nothing is lost and the queued draft reaches the server. The review step names the
//   item left out on purpose; the assessor answers it and submits; the stored observation
//   (read through the API) holds every answer given. Then: a resubmission with the client
//   key is harmless, the learner self-evaluates on the same page, the side-by-side page
//   shows both, evidence (a photo, a video) is reviewed inline and accepted with a comment,
//   an amendment needs a reason and starts from a copy, the plain form works without
//   JavaScript, and nobody sees what they may not (404/403). Every page passes axe-core
//   (WCAG 2.1 AA) and is photographed (var/test-screenshots/assessor-*.png).
//
//   make && node --test --test-concurrency=1 tests/e2e/pages-assessor.test.mjs
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Platform } from '../platform/platform.mjs';
import { launchBrowser } from '../platform/browser.mjs';
import { Stack, ROOT } from './stack.mjs';
import { Api, ok, programDefinition, scoreChecklist } from './api-client.mjs';
import { HOSTILE_NAME } from './helpers.mjs';
import { openTopLevel, openInLms, shot, checkA11y, VIEWPORTS } from './pages.mjs';

const CALL = programDefinition('call-certification');
const SCORECARD = CALL.checklists.find((c) => c.key === 'call');
const PNG = fs.readFileSync(path.join(ROOT, 'tests', 'fixtures', 'evidence', 'photo.png'));
const T = { timeout: 240000 };

const COURSE = { id: 'ASSESS-7', title: 'Call floor <i>B</i> & "nights"', label: 'CALL7' };
const TESS = { sub: 'tess-a', name: 'Tess Teacher', given_name: 'Tess', family_name: 'Teacher' };
const ZOE = { sub: 'zoe-h', name: HOSTILE_NAME, given_name: 'Zoe', family_name: 'Hostile' };
const BEN = { sub: 'ben-o', name: 'Ben Other', given_name: 'Ben', family_name: 'Other' };

// What the assessor answers (form values: yes/no 1/0, points in points); closing is left out
// until the review step names it.
const BEFORE_OFFLINE = { greeting: '1', verification: '1', disclosures: '1', discovery: '4' };
const WHILE_OFFLINE = { systems: '5', resolution: '4', tone: '1' };
const COMMENT = { key: 'discovery', text: 'Asked <two> good "probing" questions & waited' };
const WENT_WELL = 'Calm, clear & friendly — <script>no</script> surprises';

describe('assessor pages (phone, offline, review, submit, evidence, side by side, amend)', () => {
  let stack;
  let moodle;
  let coord;     // Api of the assessor
  let zoeApi;    // Api of the learner
  let benApi;    // another learner of the course
  let enrolment;
  let obsId;     // the observation made on the phone
  let amendId;
  let selfId;
  let photoId;
  let videoId;
  let phone;     // {context, page, close}

  before(async () => {
    [stack, moodle] = await Promise.all([Stack.start({ name: 'pages-assessor' }), Platform.start({ flavor: 'moodle' })]);
    const reg = await moodle.dynamicRegister(`${stack.baseUrl}/lti/register`);
    assert.equal(reg.registration?.status, 200, `dynamic registration failed: ${reg.registration?.error}`);
    const launch = (role, user) => Api.launch(moodle, stack.baseUrl, { role, user, courseId: COURSE.id, context: COURSE, who: `${user.given_name} (${role})` });
    coord = await launch('instructor', TESS);
    zoeApi = await launch('learner', ZOE);
    benApi = await launch('learner', BEN);
    enrolment = ok(await coord.post('/api/v1/enrolments', { program: 'call-certification', learner_id: zoeApi.userId }), 201, 'enrol Zoe');
    ok(await coord.post('/api/v1/enrolments', { program: 'call-certification', learner_id: benApi.userId }), 201, 'enrol Ben');
    const up = ok(await zoeApi.upload('/api/v1/evidence', { learner_id: zoeApi.userId, note: 'My desk <setup>' }, [{ filename: 'desk.png', type: 'image/png', data: PNG }]), 201, 'photo');
    photoId = up.id;
    phone = await launchBrowser({ viewport: VIEWPORTS.phone });
  });

  after(async () => {
    await phone?.close();
    await moodle?.close();
    await stack?.stop();
  });

  const url = (p, token) => `${stack.baseUrl}${p}${p.includes('?') ? '&' : '?'}s=${encodeURIComponent(token)}`;
  /** Pick a radio by its label (the visible tap target). */
  const pick = (page, key, value) => page.locator(`label[for="o-${key}-${value}"]`).click();
  const syncText = (page) => page.locator('#sync').innerText();

  async function ready(page) {
    await page.waitForSelector('#obs[data-ready="1"]', { timeout: 15000 });
  }

  async function answersOf(api, id) {
    const o = ok(await api.get(`/api/v1/observations/${id}`), 200, `GET observation ${id}`);
    return { o, by: Object.fromEntries(o.answers.map((a) => [a.item, a])) };
  }

  test('worklist: the learner, escaped, with what waits; learners are refused', T, async () => {
    const { page } = phone;
    const l = await openTopLevel(page, moodle, { role: 'instructor', user: TESS, courseId: COURSE.id, context: COURSE });
    phone.token = l.token;
    phone.csrf = ok(await coord.withToken(l.token, 'Tess (phone)').get('/api/v1/me'), 200, 'me').csrf;
    await page.goto(url('/app/assess', l.token));
    const card = page.locator(`#enrolment-${enrolment.id}`);
    await card.waitFor();
    assert.equal(await card.locator('h2').innerText(), HOSTILE_NAME, 'the hostile name shows as text');
    const html = await page.content();
    assert.ok(!html.includes('<b>O\'Neil'), 'the learner name is escaped');
    assert.match(await card.innerText(), /Review evidence/, 'the photo waits for review');
    assert.match(await card.innerText(), /1 waiting/);
    await checkA11y(page, 'worklist (phone)');
    await shot(page, 'assessor-worklist-phone');
    // a learner has no worklist
    const r = await zoeApi.get(`/app/assess?s=${encodeURIComponent(zoeApi.token)}`, { headers: { accept: 'text/html' } });
    assert.equal(r.status, 403, 'a learner may not open the worklist');
  });

  test('checklist on a phone: offline half way, tab closed, nothing lost, review names the missing item, submit', T, async () => {
    const { page, context } = phone;
    await page.locator(`#enrolment-${enrolment.id} a.button`).click();
    await page.waitForURL(/\/observe\?s=/);
    await page.locator('#session_key').waitFor();
    await checkA11y(page, 'start an observation');
    await shot(page, 'assessor-observe-phone');
    await page.getByRole('button', { name: 'Start the checklist' }).click();
    await page.waitForURL(/\/app\/observations\/\d+\?s=/);
    obsId = Number(new URL(page.url()).pathname.split('/').pop());
    await ready(page);
    const obsUrl = page.url();

    // tap targets on the phone: every choice label at least 44 px high
    const small = await page.$$eval('.choices label, details.cmt summary, #cl-form button', (els) => els.filter((e) => e.offsetParent !== null && e.getBoundingClientRect().height < 44).map((e) => e.textContent));
    assert.deepEqual(small, [], 'tap targets under 44 px');
    assert.match(await page.locator('.item.critical').first().innerText(), /Critical/, 'critical items say so in text');
    assert.match(await page.locator('#scorebar').innerText(), /Pass mark 85/);
    const t0 = await page.locator('#timer').innerText();
    assert.match(t0, /^\d\d:\d\d$/, `timer ${t0}`);

    for (const [k, v] of Object.entries(BEFORE_OFFLINE)) await pick(page, k, v);
    await page.waitForFunction(() => /All changes saved/.test(document.getElementById('sync').textContent), null, { timeout: 10000 });
    let stored = await answersOf(coord, obsId);
    assert.equal(stored.by.greeting?.value, 1, 'autosaved before going offline');
    assert.equal(stored.by.discovery?.value, 400);
    // the running score follows core/observation.h
    const expectA = scoreChecklist(SCORECARD, { greeting: 1, verification: 1, disclosures: 1, discovery: 400 });
    assert.equal(await page.locator('#score').innerText(), String(expectA.score / 100), 'running score');
    await checkA11y(page, 'checklist (phone)');
    await shot(page, 'assessor-checklist-phone');

    // --- the network goes away
    await context.setOffline(true);
    for (const [k, v] of Object.entries(WHILE_OFFLINE)) await pick(page, k, v);
    await page.locator(`#item-${COMMENT.key} details.cmt summary`).click();
    await page.locator(`#t-${COMMENT.key}`).fill(COMMENT.text);
    await page.locator('#f-went_well').fill(WENT_WELL);
    await page.waitForFunction(() => /offline — saved on this device/i.test(document.getElementById('sync').textContent), null, { timeout: 10000 });
    assert.match(await syncText(page), /offline — saved on this device/i);
    await shot(page, 'assessor-checklist-offline-phone');
    stored = await answersOf(coord, obsId);
    assert.equal(stored.by.systems, undefined, 'nothing reached the server while offline');

    // --- the tab is closed while offline; the network comes back; the tab is opened again
    await page.close();
    await context.setOffline(false);
    const page2 = await context.newPage();
    phone.page = page2;
    await page2.goto(obsUrl);
    await ready(page2);
    for (const [k, v] of Object.entries({ ...BEFORE_OFFLINE, ...WHILE_OFFLINE })) {
      assert.ok(await page2.locator(`#o-${k}-${v}`).isChecked(), `${k}=${v} is still checked after reopening`);
    }
    assert.equal(await page2.locator(`#t-${COMMENT.key}`).inputValue(), COMMENT.text);
    assert.equal(await page2.locator('#f-went_well').inputValue(), WENT_WELL);
    await page2.waitForFunction(() => /All changes saved/.test(document.getElementById('sync').textContent), null, { timeout: 15000 });
    stored = await answersOf(coord, obsId);
    assert.equal(stored.by.systems?.value, 500, 'the queued draft was sent');
    assert.equal(stored.by.tone?.value, 1);
    assert.equal(stored.by.discovery?.text, COMMENT.text);
    assert.equal(stored.o.feedback.went_well, WENT_WELL);
    // a plain reload shows the same
    await page2.reload();
    await ready(page2);
    assert.ok(await page2.locator('#o-systems-5').isChecked());

    // --- review names the missing item; fix it; submit
    await page2.getByRole('button', { name: 'Review and submit' }).click();
    const review = page2.locator('#review');
    await review.waitFor({ state: 'visible' });
    const missing = await page2.locator('#review-body').innerText();
    const closing = SCORECARD.items.find((i) => i.key === 'closing');
    assert.match(missing, new RegExp(`Item \\d+: ${closing.label}`), `review names the closing item: ${missing}`);
    assert.doesNotMatch(missing, /greeting|Used the approved greeting/i);
    assert.ok(await page2.locator('#item-closing.missing').count(), 'the missing item is marked');
    await checkA11y(page2, 'review step (phone)');
    await shot(page2, 'assessor-review-phone');
    await page2.locator('#review-body a').first().click();
    await pick(page2, 'closing', '1');
    await page2.getByRole('button', { name: 'Review and submit' }).click();
    assert.match(await page2.locator('#review-body').innerText(), /Every required item is answered/);
    await page2.getByRole('button', { name: 'Submit observation' }).click();
    await page2.waitForSelector('.result', { timeout: 15000 });

    const want = { greeting: 1, verification: 1, disclosures: 1, discovery: 400, systems: 500, resolution: 400, tone: 1, closing: 1 };
    stored = await answersOf(coord, obsId);
    assert.equal(stored.o.status, 'submitted');
    for (const [k, v] of Object.entries(want)) assert.equal(stored.by[k]?.value, v, `stored ${k}`);
    assert.equal(stored.by.discovery.text, COMMENT.text);
    assert.equal(stored.by.hold, undefined, 'the optional item left alone stays unanswered');
    assert.equal(stored.o.feedback.went_well, WENT_WELL);
    const expect = scoreChecklist(SCORECARD, want);
    assert.equal(stored.o.score, expect.score, 'score as core/observation.h computes it');
    assert.equal(stored.o.passed, expect.passed);
    const result = await page2.locator('.result').innerText();
    assert.match(result, new RegExp(`Score ${expect.score / 100} of 100`));
    assert.match(result, expect.passed ? /Passed/ : /Not passed/);
    await checkA11y(page2, 'scorecard (phone)');
    await shot(page2, 'assessor-scorecard-phone');
    // a submitted observation has no editable form and no script
    assert.equal(await page2.locator('#cl-form').count(), 0);
    // localStorage no longer holds the draft
    assert.equal(await page2.evaluate((id) => localStorage.getItem(`attest:obs:${id}`), obsId), null);
  });

  test('a resubmission after a lost reply does not submit twice', T, async () => {
    const o = ok(await coord.get(`/api/v1/observations/${obsId}`), 200);
    assert.ok(o.client_key, 'the page created the draft with a client key');
    const again = ok(await coord.post(`/api/v1/observations/${obsId}/submit`, { client_key: o.client_key }), 200, 'resubmit with the key');
    assert.equal(again.submitted_at, o.submitted_at, 'the stored submission, not a new one');
    ok(await coord.post(`/api/v1/observations/${obsId}/submit`, { client_key: 'someone-else' }), 409, 'another key');
    ok(await coord.post(`/api/v1/observations/${obsId}/submit`), 409, 'no key');
    const rec = ok(await coord.get(`/api/v1/enrolments/${enrolment.id}/record`), 200);
    assert.equal(rec.observations.filter((x) => x.id === obsId).length, 1);
  });

  test('the learner self-evaluates on the same page; side by side', T, async () => {
    const self = ok(await zoeApi.post('/api/v1/observations', { enrolment_id: enrolment.id, checklist: 'call', rater_role: 'self' }), 201, 'self draft');
    selfId = self.id;
    // another learner and the assessor's draft stay hidden
    for (const [who, api, id] of [['Ben', benApi, selfId], ['Ben', benApi, obsId]]) {
      const r = await api.get(`/app/observations/${id}?s=${encodeURIComponent(api.token)}`, { headers: { accept: 'text/html' } });
      assert.equal(r.status, 404, `${who} may not see observation ${id}`);
    }
    const lb = await launchBrowser({ viewport: VIEWPORTS.phone });
    try {
      const l = await openTopLevel(lb.page, moodle, { role: 'learner', user: ZOE, courseId: COURSE.id, context: COURSE });
      await lb.page.goto(url(`/app/observations/${selfId}`, l.token));
      await ready(lb.page);
      assert.match(await lb.page.locator('h1').innerText(), /self-evaluation/);
      const mine = { greeting: '1', verification: '1', disclosures: '1', discovery: '5', systems: '3', resolution: '5', tone: '0', closing: '1' };
      for (const [k, v] of Object.entries(mine)) await pick(lb.page, k, v);
      await checkA11y(lb.page, 'self-evaluation (phone)');
      await shot(lb.page, 'learner-self-evaluation-phone');
      await lb.page.getByRole('button', { name: 'Review and submit' }).click();
      await lb.page.getByRole('button', { name: 'Submit self-evaluation' }).click();
      await lb.page.waitForSelector('.result', { timeout: 15000 });
      assert.match(await lb.page.locator('.result').innerText(), /not graded/);
      // the learner sees the assessor's submitted scorecard, not the compare link
      await lb.page.goto(url(`/app/observations/${obsId}`, l.token));
      assert.match(await lb.page.locator('.result').innerText(), /Score/);
      assert.equal(await lb.page.locator('.amend').count(), 0, 'the learner may not amend');
    } finally {
      await lb.close();
    }
    const s = ok(await zoeApi.get(`/api/v1/observations/${selfId}`), 200);
    assert.equal(s.status, 'submitted');
    assert.equal(s.answers.find((a) => a.item === 'tone').value, 0);

    const page = phone.page;
    await page.goto(url(`/app/observations/${obsId}/compare`, phone.token));
    const heads = await page.locator('table.compare thead th').allInnerTexts();
    assert.match(heads[1], /Self-evaluation/);
    assert.match(heads[2], /Assessor/);
    const tone = page.locator('table.compare tbody tr', { hasText: 'courteous' });
    assert.match(await tone.innerText(), /No\s+Yes\s+Differs/);
    const greet = page.locator('table.compare tbody tr', { hasText: 'approved greeting' });
    assert.match(await greet.innerText(), /Yes\s+Yes\s+Same/);
    const side = ok(await coord.get(`/api/v1/observations/${obsId}/side-by-side`), 200);
    assert.equal(await page.locator('table.compare tbody tr').count(), side.items.length);
    await checkA11y(page, 'side by side (phone)');
    await shot(page, 'assessor-compare-phone');
  });

  test('evidence review: photo inline, accepted with a comment; a video plays inline', T, async () => {
    const page = phone.page;
    // a short webm recorded by the browser itself (no video fixture in the repository)
    const webm = await page.evaluate(async () => {
      const c = document.createElement('canvas');
      c.width = 64; c.height = 48;
      const g = c.getContext('2d');
      const rec = new MediaRecorder(c.captureStream(10), { mimeType: 'video/webm' });
      const parts = [];
      rec.ondataavailable = (e) => parts.push(e.data);
      rec.start(100);
      for (let i = 0; i < 8; i++) { g.fillStyle = i % 2 ? '#0b5cad' : '#f0b400'; g.fillRect(0, 0, 64, 48); await new Promise((r) => setTimeout(r, 60)); }
      await new Promise((r) => { rec.onstop = r; rec.stop(); });
      const buf = new Uint8Array(await new Blob(parts, { type: 'video/webm' }).arrayBuffer());
      let s = '';
      for (const b of buf) s += String.fromCharCode(b);
      return btoa(s);
    });
    const vid = ok(await zoeApi.upload('/api/v1/evidence', { learner_id: zoeApi.userId, note: 'Role play' }, [{ filename: 'call.webm', type: 'video/webm', data: Buffer.from(webm, 'base64') }]), 201, 'video');
    videoId = vid.id;
    assert.equal(vid.media_type, 'video/webm');

    await page.goto(url('/app/assess', phone.token));
    await page.locator(`#enrolment-${enrolment.id}`).getByRole('link', { name: /Review evidence/ }).click();
    await page.waitForURL(new RegExp(`/app/evidence/${photoId}\\?`));
    const img = page.locator('img.ev-media');
    await img.waitFor();
    await page.waitForFunction(() => { const i = document.querySelector('img.ev-media'); return i && i.complete && i.naturalWidth > 0; }, null, { timeout: 10000 });
    assert.equal(await img.evaluate((i) => i.naturalWidth), 4, 'the 4x4 PNG is drawn inline');
    assert.match(await page.locator('main').innerText(), /My desk <setup>/);
    await checkA11y(page, 'evidence (phone)');
    await shot(page, 'assessor-evidence-phone');
    // rejecting needs a comment
    await page.locator('label[for="d-reject"]').click();
    await page.getByRole('button', { name: 'Record the review' }).click();
    assert.match(await page.locator('.flash.bad').innerText(), /comment is required/);
    await page.locator('label[for="d-accept"]').click();
    await page.locator('#comment').fill('Clear photo of the headset & desk');
    await page.getByRole('button', { name: 'Record the review' }).click();
    await page.waitForSelector('.flash');
    assert.match(await page.locator('.flash').innerText(), /Review recorded/);
    const ev = ok(await coord.get(`/api/v1/evidence/${photoId}`), 200);
    assert.equal(ev.status, 'accepted');
    assert.equal(ev.review_comment, 'Clear photo of the headset & desk');
    assert.equal(ev.reviewer_id, coord.userId);

    await page.goto(url(`/app/evidence/${videoId}`, phone.token));
    const ok1 = await page.waitForFunction(() => { const v = document.querySelector('video.ev-media'); return v && v.readyState >= 1; }, null, { timeout: 15000 }).then(() => true, () => false);
    assert.ok(ok1, 'the video loads its metadata inline (played from the download URL)');
    await checkA11y(page, 'video evidence (phone)');
    await shot(page, 'assessor-evidence-video-phone');
    // the learner sees their evidence but no review form, and Ben sees nothing
    const lr = await zoeApi.get(`/app/evidence/${videoId}?s=${encodeURIComponent(zoeApi.token)}`, { headers: { accept: 'text/html' } });
    assert.equal(lr.status, 200);
    assert.ok(!lr.text.includes('Record the review'));
    const br = await benApi.get(`/app/evidence/${videoId}?s=${encodeURIComponent(benApi.token)}`, { headers: { accept: 'text/html' } });
    assert.equal(br.status, 404);
  });

  test('amendment with a reason: a new draft from a copy, submitted, standing for the original', T, async () => {
    const page = phone.page;
    await page.goto(url(`/app/observations/${obsId}`, phone.token));
    await page.getByRole('button', { name: 'Amend this observation' }).click();
    // the browser refuses an empty required reason; the server does too (plain POST)
    assert.match(page.url(), new RegExp(`/app/observations/${obsId}\\?`));
    const blank = await fetch(`${stack.baseUrl}/app/observations/${obsId}/amend`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ s: phone.token, csrf: phone.csrf, reason: '   ' }), redirect: 'manual',
    });
    assert.equal(blank.status, 400);
    assert.match(await blank.text(), /Give the reason/);
    await page.locator('#reason').fill('Scored the wrong call: discovery was full marks');
    await page.getByRole('button', { name: 'Amend this observation' }).click();
    await page.waitForURL((u) => /\/app\/observations\/\d+\?/.test(u.href) && !u.href.includes(`/observations/${obsId}?`));
    amendId = Number(new URL(page.url()).pathname.split('/').pop());
    await ready(page);
    assert.match(await page.locator('.obs-head').innerText(), /Scored the wrong call/);
    assert.ok(await page.locator('#o-systems-5').isChecked(), 'the amendment starts from a copy');
    await pick(page, 'discovery', '5');
    await page.getByRole('button', { name: 'Review and submit' }).click();
    await page.getByRole('button', { name: 'Submit observation' }).click();
    await page.waitForSelector('.result', { timeout: 15000 });
    const a = ok(await coord.get(`/api/v1/observations/${amendId}`), 200);
    assert.equal(a.amends_id, obsId);
    assert.equal(a.amend_reason, 'Scored the wrong call: discovery was full marks');
    assert.equal(a.answers.find((x) => x.item === 'discovery').value, 500);
    const e = ok(await coord.get(`/api/v1/enrolments/${enrolment.id}`), 200);
    assert.deepEqual(e.observations.filter((o) => o.rater_role !== 'self').map((o) => o.id), [amendId], 'the amendment stands for the original');
    await checkA11y(page, 'amended scorecard (phone)');
  });

  test('without JavaScript: the plain form saves, reviews and submits; csrf is required', T, async () => {
    const r0 = await fetch(`${stack.baseUrl}/app/enrolments/${enrolment.id}/observe?s=${encodeURIComponent(phone.token)}`);
    const form = await r0.text();
    const ck = /name='client_key' value='([^']+)'/.exec(form)[1];
    const cl = /name='checklist' id='cl-\d+' value='(\d+)'/.exec(form)[1];
    const post = (p, fields) => fetch(`${stack.baseUrl}${p}`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, redirect: 'manual',
      body: new URLSearchParams({ s: phone.token, csrf: phone.csrf, ...fields }),
    });
    const c1 = await post(`/app/enrolments/${enrolment.id}/observe`, { checklist: cl, client_key: ck });
    assert.equal(c1.status, 303);
    const c2 = await post(`/app/enrolments/${enrolment.id}/observe`, { checklist: cl, client_key: ck });
    assert.equal(c2.headers.get('location'), c1.headers.get('location'), 'the same form twice opens the same draft');
    const id = Number(/\/observations\/(\d+)/.exec(c1.headers.get('location'))[1]);
    const noCsrf = await fetch(`${stack.baseUrl}/app/observations/${id}`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, redirect: 'manual',
      body: new URLSearchParams({ s: phone.token, 'v.greeting': '1', action: 'save' }),
    });
    assert.equal(noCsrf.status, 403, 'no csrf, no save');
    const rv = await post(`/app/observations/${id}`, { 'v.greeting': '1', 'v.discovery': '2.5', action: 'review' });
    assert.equal(rv.status, 303);
    assert.match(rv.headers.get('location'), /review=1/);
    const page = await (await fetch(new URL(rv.headers.get('location'), stack.baseUrl))).text();
    assert.match(page, /Missing before you can submit/);
    assert.match(page, /Item 2: Verified the caller/);
    assert.match(page, /Feedback: What went well/);
    const bad = await post(`/app/observations/${id}`, { 'v.greeting': '1', 'v.discovery': '9', action: 'save' });
    assert.equal(bad.status, 400, 'points over the maximum');
    assert.match(await bad.text(), /discovery/);
    const full = { 'v.greeting': '1', 'v.verification': '1', 'v.disclosures': '0', 'v.discovery': '2.5', 'v.systems': '3', 'v.resolution': '3', 'v.tone': '1', 'v.closing': '1', 'f.went_well': 'Good pace' };
    const sub = await post(`/app/observations/${id}`, { ...full, action: 'submit' });
    assert.equal(sub.status, 303);
    const o = ok(await coord.get(`/api/v1/observations/${id}`), 200);
    assert.equal(o.status, 'submitted');
    assert.equal(o.answers.find((x) => x.item === 'discovery').value, 250);
    assert.equal(o.passed, false, 'disclosures is critical');
    assert.equal(o.critical_missed, true);
  });

  test('desktop, inside the LMS iframe: worklist, scorecard and side by side', T, async () => {
    const desk = await launchBrowser({ viewport: VIEWPORTS.desktop });
    try {
      const { frame, token } = await openInLms(desk.page, moodle, { role: 'instructor', user: TESS, courseId: COURSE.id, context: COURSE });
      for (const [p, name, sel] of [
        ['/app/assess', 'worklist', `#enrolment-${enrolment.id}`],
        [`/app/observations/${amendId}`, 'scorecard', '.result'],
        [`/app/observations/${obsId}/compare`, 'compare', 'table.compare'],
        [`/app/evidence/${photoId}`, 'evidence', 'img.ev-media'],
      ]) {
        await frame.goto(url(p, token));
        await frame.locator(sel).first().waitFor();
        await checkA11y(frame, `${name} (desktop, LMS frame)`);
        await shot(desk.page, `assessor-${name}-desktop`);
      }
      // a checklist opened in the frame works too (storage may be blocked there)
      const r = await fetch(`${stack.baseUrl}/api/v1/observations`, {
        method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ enrolment_id: enrolment.id, checklist: 'call' }),
      });
      const d = await r.json();
      await frame.goto(url(`/app/observations/${d.id}`, token));
      await frame.waitForSelector('#obs[data-ready="1"]');
      await frame.locator('label[for="o-greeting-1"]').click();
      await frame.waitForFunction(() => /All changes saved/.test(document.getElementById('sync').textContent), null, { timeout: 10000 });
      const o = ok(await coord.get(`/api/v1/observations/${d.id}`), 200);
      assert.equal(o.answers.find((x) => x.item === 'greeting').value, 1);
      await checkA11y(frame, 'checklist (desktop, LMS frame)');
      await shot(desk.page, 'assessor-checklist-desktop');
    } finally {
      await desk.close();
    }
  });
});
