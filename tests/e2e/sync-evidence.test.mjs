// sync-evidence.test.mjs: evidence files reach Canvas SpeedGrader through capability links.
// A learner uploads files linked to an observation; the observation is submitted; `attest
// sync` sends the score with the Canvas submission extension, whose content_items name
// base_url/evidence-share/TOKEN links; the test then fetches them WITHOUT any session, as
// Canvas does server-side, and gets the exact bytes. Unknown, malformed and expired tokens
// answer the same 404; a token reaches its own file and nothing else; only the token's hash
// is stored (never in the outbox); a refused delivery's links are revoked, a retried
// delivery sends fresh ones; the token never reaches Attest's log.
//
//   make && node --test --test-concurrency=1 tests/e2e/sync-evidence.test.mjs
//   ATTEST_E2E_DB=pg node --test tests/e2e/sync-evidence.test.mjs
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Platform } from '../platform/platform.mjs';
import { Stack, ROOT } from './stack.mjs';
import { ok, sql, answersForScore } from './api-client.mjs';
import { PROGRAM, SCORECARD, launchApi, deepLink, drain, scoresOf, startWorker, until } from './sync-helpers.mjs';

const FIX = path.join(ROOT, 'tests', 'fixtures', 'evidence');
const EXT = 'https://canvas.instructure.com/lti/submission';
const nowSec = () => Math.floor(Date.now() / 1000);
const sha256 = (b) => crypto.createHash('sha256').update(b).digest('hex');
const TOKEN = /\/evidence-share\/([A-Za-z0-9_-]{43})$/;

/** GET url as Canvas would: no cookie, no Authorization, no session parameter. */
async function fetchBare(url, opts = {}) {
  const res = await fetch(url, { redirect: 'manual', ...opts });
  const bytes = Buffer.from(await res.arrayBuffer());
  const headers = {};
  res.headers.forEach((v, k) => { headers[k] = v; });
  return { status: res.status, headers, bytes, text: bytes.toString('utf8') };
}

describe('sync: evidence files to Canvas through capability links', () => {
  let stack;
  let canvas;
  let link;
  let teacher;
  let learner;
  let enrolment;
  const C = '801';
  const png = fs.readFileSync(path.join(FIX, 'photo.png'));
  const pdf = fs.readFileSync(path.join(FIX, 'report.pdf'));
  const jpg = fs.readFileSync(path.join(FIX, 'photo-real.jpg'));
  const files = {}; // evidence id -> {bytes, name, type}
  let items; // content_items of the first score
  let obs1;

  before(async () => {
    [stack, canvas] = await Promise.all([Stack.start({ name: 'sync-evidence', env: { ATTEST_SYNC_WORKER: '0' } }), Platform.start({ flavor: 'canvas' })]);
    const reg = await canvas.dynamicRegister(`${stack.baseUrl}/lti/register`);
    assert.equal(reg.registration?.status, 200, 'registration failed');
    const dl = await deepLink(canvas, stack, { courseId: C, choose: [/^Certification call scorecard$/] });
    link = dl.links[0];
    teacher = await launchApi(canvas, stack, { role: 'instructor', user: { sub: 'ev-t1', name: 'Eve Teacher' }, courseId: C, linkId: link.linkId });
    learner = await launchApi(canvas, stack, { role: 'learner', user: { sub: 'ev-l1', name: 'Lenny Learner', canvasId: 5151 }, courseId: C, linkId: link.linkId });
    enrolment = ok(await teacher.post('/api/v1/enrolments', { program: PROGRAM, learner_id: learner.userId }), 201, 'enrol').id;
  });

  after(async () => {
    await canvas?.close();
    await stack?.stop();
  });

  /** A draft call observation by the teacher; the learner attaches uploads to it; then it is
   *  filled and submitted. Returns the observation id. */
  async function observeWith(key, uploads, { link = false } = {}) {
    const o = ok(await teacher.post('/api/v1/observations', { enrolment_id: enrolment, checklist: 'call', observed_at: nowSec() - 60, client_key: key }), 201, `${key}: create`);
    // a link on the observation is no file: never in content_items
    if (link) ok(await learner.post('/api/v1/evidence/link', { learner_id: learner.userId, observation_id: o.id, url: 'https://example.org/recording' }), 201, `${key}: link`);
    for (const u of uploads) {
      const e = ok(await learner.upload('/api/v1/evidence', { learner_id: learner.userId, observation_id: o.id },
        [{ name: 'file', filename: u.name, type: 'application/octet-stream', data: u.bytes }]), 201, `${key}: upload ${u.name}`);
      assert.equal(e.observation_id, o.id);
      files[e.id] = { ...u, id: e.id };
      u.id = e.id;
    }
    const { list } = answersForScore(SCORECARD, 90);
    ok(await teacher.put(`/api/v1/observations/${o.id}`, { answers: list, feedback: { went_well: 'Clear.', marked_down: 'Probe more.' } }), 200, `${key}: save`);
    ok(await teacher.post(`/api/v1/observations/${o.id}/submit`), 200, `${key}: submit`);
    return o.id;
  }

  function lastExt() {
    const li = canvas.lineItems.get(link.lineItemId);
    const s = scoresOf(li, 'ev-l1').at(-1);
    assert.ok(s, 'no score for the learner');
    assert.ok(s[EXT], `no submission extension: ${JSON.stringify(s)}`);
    return s[EXT];
  }

  test('the score names each evidence file by a capability link; fetched with no session, it gives the exact bytes', async () => {
    const up = [
      { name: 'Call desk ü.png', bytes: png, type: 'image/png' },
      { name: 'Call report.pdf', bytes: pdf, type: 'application/pdf' },
    ];
    obs1 = await observeWith('ev-1', up, { link: true });
    // the outbox holds evidence ids, no links and no tokens
    const payload = await sql(stack, `SELECT payload FROM outbox WHERE kind = 'score' AND idem_key LIKE 'score:obs:${obs1}:%'`);
    assert.ok(payload, 'the score was queued');
    const pl = JSON.parse(payload.split('\n')[0]);
    assert.deepEqual(pl.evidence.map((e) => e.evidence_id).sort(), up.map((u) => u.id).sort());
    assert.ok(!/evidence-share|\/download/.test(payload), `no link in the outbox: ${payload}`);
    assert.equal(await sql(stack, 'SELECT COUNT(*) FROM evidence_share'), '0', 'no share before delivery');

    await drain(stack);
    const ext = lastExt();
    assert.equal(ext.new_submission, true);
    assert.equal(ext.submission_type, 'online_upload');
    items = ext.content_items;
    assert.equal(items.length, 2, JSON.stringify(ext));
    for (const [i, it] of items.entries()) {
      assert.equal(it.type, 'file');
      assert.equal(it.title, up[i].name);
      assert.ok(it.url.startsWith(`${stack.baseUrl}/evidence-share/`), it.url);
      assert.match(it.url, TOKEN);
    }
    assert.notEqual(items[0].url, items[1].url);

    for (const [i, it] of items.entries()) {
      const r = await fetchBare(it.url);
      assert.equal(r.status, 200, `${it.url}: ${r.status} ${r.text.slice(0, 200)}`);
      assert.ok(Buffer.compare(r.bytes, up[i].bytes) === 0, `bytes of ${it.title} differ`);
      assert.equal(r.headers['content-type'], up[i].type); // the stored (sniffed) type, not the upload's header
      assert.match(r.headers['content-disposition'], /^attachment; filename="[^"]+"; filename\*=UTF-8''/);
      assert.equal(r.headers['x-content-type-options'], 'nosniff');
      assert.match(r.headers['content-security-policy'], /default-src 'none'; sandbox/);
      assert.match(r.headers['cache-control'], /private/);
      assert.match(r.headers['cache-control'], /no-store/);
      assert.ok(!('set-cookie' in r.headers), 'no cookie');
    }
    const first = await fetchBare(items[0].url);
    assert.match(first.headers['content-disposition'], /filename="Call desk __.png"; filename\*=UTF-8''Call%20desk%20%C3%BC\.png/);

    // stored: only the hash, bound to the platform, counted, expiring in 14 days
    const rows = (await sql(stack, 'SELECT token_hash, evidence_id, platform_id, expires_at - created_at, fetches FROM evidence_share ORDER BY evidence_id')).split('\n').map((l) => l.split('|'));
    assert.equal(rows.length, 2);
    const platformId = await sql(stack, "SELECT platform_id FROM context WHERE lms_course_id = '801'");
    for (const [i, it] of items.entries()) {
      const tok = TOKEN.exec(it.url)[1];
      const row = rows.find((r) => r[0] === sha256(tok));
      assert.ok(row, `the hash of ${it.title}'s token is stored`);
      assert.equal(Number(row[1]), up[i].id);
      assert.equal(row[2], platformId);
      assert.equal(Number(row[3]), 14 * 86400);
      assert.equal(Number(row[4]), i === 0 ? 2 : 1, 'fetches counted');
      assert.equal(await sql(stack, `SELECT COUNT(*) FROM evidence_share WHERE token_hash = '${tok}'`), '0');
      assert.equal(await sql(stack, `SELECT COUNT(*) FROM outbox WHERE payload LIKE '%${tok}%'`), '0', 'no token in the outbox');
    }
  });

  test('a token reaches its own file only; the session routes do not take it', async () => {
    // a third file of the learner, not on any observation: never shared
    const other = ok(await learner.upload('/api/v1/evidence', { learner_id: learner.userId },
      [{ name: 'file', filename: 'private.jpg', data: jpg }]), 201, 'private upload');
    const [a, b] = items.map((it) => TOKEN.exec(it.url)[1]);
    const ids = Object.keys(files).map(Number).sort((x, y) => x - y);
    // whatever is added to the URL, token a gives file a's bytes or nothing
    for (const u of [
      `${stack.baseUrl}/evidence-share/${a}?evidence_id=${ids[1]}`,
      `${stack.baseUrl}/evidence-share/${a}?id=${other.id}`,
    ]) {
      const r = await fetchBare(u);
      assert.equal(r.status, 200, u);
      assert.ok(Buffer.compare(r.bytes, png) === 0, `${u} gave other bytes`);
    }
    for (const u of [
      `${stack.baseUrl}/evidence-share/${a}/${other.id}`,
      `${stack.baseUrl}/evidence-share/${other.id}`,
      `${stack.baseUrl}/evidence-share/${ids[1]}`,
      `${stack.baseUrl}/evidence-share/${a.slice(0, 42)}`,
      `${stack.baseUrl}/evidence-share/${a}${b}`,
    ]) {
      const r = await fetchBare(u);
      assert.equal(r.status, 404, `${u}: ${r.status}`);
      assert.ok(Buffer.compare(r.bytes, png) !== 0 && Buffer.compare(r.bytes, jpg) !== 0);
    }
    // the share token is no session: the session download refuses it
    for (const id of [ids[0], other.id]) {
      const r1 = await fetchBare(`${stack.baseUrl}/api/v1/evidence/${id}/download`, { headers: { authorization: `Bearer ${a}` } });
      assert.equal(r1.status, 401, `bearer share token on ${id}`);
      const r2 = await fetchBare(`${stack.baseUrl}/api/v1/evidence/${id}/download?s=${a}`);
      assert.equal(r2.status, 401, `s=share token on ${id}`);
      const r3 = await fetchBare(`${stack.baseUrl}/api/v1/evidence/${id}/download`);
      assert.equal(r3.status, 401, `no session on ${id}`);
    }
    // GET and HEAD only: a POST is refused
    const p = await fetchBare(items[0].url, { method: 'POST', body: 'x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(p.status, 405);
    // HEAD tells the size without the body
    const h = await fetchBare(items[1].url, { method: 'HEAD' });
    assert.equal(h.status, 200);
    assert.equal(Number(h.headers['content-length']), pdf.length);
  });

  test('unknown, malformed and expired tokens all answer the same 404', async () => {
    const [a, b] = items.map((it) => TOKEN.exec(it.url)[1]);
    const forged = (a[0] === 'A' ? 'B' : 'A') + a.slice(1);
    const unknown = await fetchBare(`${stack.baseUrl}/evidence-share/${forged}`);
    assert.equal(unknown.status, 404);
    const malformed = await fetchBare(`${stack.baseUrl}/evidence-share/x'%20OR%20'1'='1`);
    assert.equal(malformed.status, 404);
    const hashAsToken = await fetchBare(`${stack.baseUrl}/evidence-share/${sha256(a)}`);
    assert.equal(hashAsToken.status, 404);
    // expire b's share
    assert.equal((await fetchBare(items[1].url)).status, 200, 'b works before it expires');
    await sql(stack, `UPDATE evidence_share SET expires_at = ${nowSec() - 1} WHERE token_hash = '${sha256(b)}'`);
    const expired = await fetchBare(items[1].url);
    assert.equal(expired.status, 404, 'expired');
    const strip = (t) => t.replace(/[0-9a-f]+-[0-9a-f]+|[0-9a-f]{16,}/g, 'RID');
    assert.equal(strip(expired.text), strip(unknown.text), 'expired and unknown look alike');
    assert.equal(expired.headers['content-type'], unknown.headers['content-type']);
    // a is untouched
    const r = await fetchBare(items[0].url);
    assert.equal(r.status, 200);
    assert.ok(Buffer.compare(r.bytes, png) === 0);
    // a deleted evidence file takes its links with it
    await sql(stack, `DELETE FROM evidence_share WHERE evidence_id = ${files[Object.keys(files)[0]].id}`);
    assert.equal((await fetchBare(items[0].url)).status, 404, 'revoked by deleting the row');
  });

  test('a refused delivery revokes its links; a retried one sends fresh links', async () => {
    // a long-running worker keeps its access token: revoked at the platform, the next
    // score is refused with 401, and the worker sends it again with a new token
    const worker = startWorker(stack);
    try {
      const warm = [{ name: 'warm.png', bytes: png, type: 'image/png' }];
      const obsWarm = await observeWith('ev-warm', warm);
      await until(async () => (await sql(stack, `SELECT status FROM outbox WHERE idem_key LIKE 'score:obs:${obsWarm}:%'`)) === 'done', 30000, 'the warm-up score');
      canvas.revokeAccessTokens();
      const before = Number(await sql(stack, 'SELECT COUNT(*) FROM evidence_share'));
      const n = canvas.scoreLog.length;
      const up = [{ name: 'second.pdf', bytes: pdf, type: 'application/pdf' }];
      const obs2 = await observeWith('ev-2', up);
      await until(async () => (await sql(stack, `SELECT status FROM outbox WHERE idem_key LIKE 'score:obs:${obs2}:%'`)) === 'done', 30000, 'the second score');
      assert.deepEqual(canvas.scoreLog.slice(n).map((s) => s.status), [401, 200], 'refused once, then taken');
      const ext = lastExt();
      assert.equal(ext.content_items.length, 1);
      // the refused attempt's share is gone: one live share for the one file
      assert.equal(Number(await sql(stack, 'SELECT COUNT(*) FROM evidence_share')), before + 1);
      assert.equal(await sql(stack, `SELECT COUNT(*) FROM evidence_share WHERE evidence_id = ${up[0].id}`), '1');
      const r = await fetchBare(ext.content_items[0].url);
      assert.equal(r.status, 200);
      assert.ok(Buffer.compare(r.bytes, pdf) === 0);
    } finally {
      worker.kill('SIGTERM');
      await worker.exited;
    }

    // a 500: the LMS may have taken it, so that attempt's link stays (until it expires);
    // the retry carries a fresh one, and both work
    const n3 = canvas.scoreLog.length;
    canvas.injectFault({ kind: '500', match: /\/scores/ });
    const up3 = [{ name: 'third.png', bytes: png, type: 'image/png' }];
    await observeWith('ev-3', up3);
    await drain(stack);
    assert.ok(canvas.serviceLog.some((l) => l.fault === '500'), 'the fault was hit');
    assert.equal(canvas.scoreLog.length, n3 + 1, 'one score taken');
    const ext3 = lastExt();
    assert.equal(await sql(stack, `SELECT COUNT(*) FROM evidence_share WHERE evidence_id = ${up3[0].id}`), '2');
    const r3 = await fetchBare(ext3.content_items[0].url);
    assert.equal(r3.status, 200);
    assert.ok(Buffer.compare(r3.bytes, png) === 0);
  });

  test('fetches are logged, the tokens never (attest and nginx logs)', async () => {
    const lines = fs.readdirSync(path.join(stack.varDir, 'log')).filter((f) => /^(attest|nginx-access)/.test(f))
      .flatMap((f) => fs.readFileSync(path.join(stack.varDir, 'log', f), 'utf8').split('\n'));
    assert.ok(lines.some((l) => /op=evidence_share evidence=\d+ platform=\d+ fetch=\d+/.test(l)), 'fetches are logged');
    const li = canvas.lineItems.get(link.lineItemId);
    const tokens = scoresOf(li, 'ev-l1').flatMap((s) => (s[EXT]?.content_items || []).map((it) => TOKEN.exec(it.url)[1]));
    assert.ok(tokens.length >= 4);
    assert.ok(lines.some((l) => l.includes('/evidence-share/-')), 'share requests are logged with the token masked');
    for (const tok of tokens) {
      // fcgi/loop.c and nginx's log format mask the path, routed or not (404, 405 included).
      const hits = lines.filter((l) => l.includes(tok));
      assert.deepEqual(hits, [], 'a share token is in a log');
    }
  });
});
