// api-b.test.mjs: observations, evidence and third-party feedback through the real stack
// (nginx + attest) with sessions from an emulated Moodle.
//
//   make && node --test --test-concurrency=1 tests/e2e/api-b.test.mjs
//   ATTEST_E2E_DB=pg node --test tests/e2e/api-b.test.mjs
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { Platform, htmlText } from '../platform/platform.mjs';
import { Stack, ROOT } from './stack.mjs';
import { Api, ok, badField, show, sql, answerFeedbackForm, answersForScore, programDefinition } from './api-client.mjs';

const FIX = path.join(ROOT, 'tests', 'fixtures', 'evidence');
const HOSTILE = '<b>O\'Neil & "Co"</b>';

/** Enrol learner in program within the instructor's course: the API, or SQL before it exists. */
async function enrol(stack, instructor, learnerId, program) {
  const r = await instructor.post('/api/v1/enrolments', { program, learner_id: learnerId });
  if (r.status === 201 || r.status === 200) return r.body.id;
  assert.ok([404, 405].includes(r.status), `enrol: ${show(r)}`);
  const ctx = instructor.me.course.id;
  await sql(stack, `INSERT INTO enrolment (program_id, user_id, context_id, started_at)
    SELECT id, ${Number(learnerId)}, ${Number(ctx)}, 1 FROM program WHERE key = '${program}'`);
  return Number(await sql(stack, `SELECT id FROM enrolment WHERE user_id = ${Number(learnerId)} AND program_id = (SELECT id FROM program WHERE key = '${program}')`));
}

describe('api block B: observations, evidence, feedback', () => {
  let stack;
  let moodle;
  let teacher;
  let alice;
  let bob;
  let outsider;       // an instructor of another course
  let aliceCall;      // alice's call-certification enrolment
  let bobCall;
  let aliceL2;        // alice's level-two-trainer enrolment
  const call = programDefinition('call-certification').checklists.find((c) => c.key === 'call');

  before(async () => {
    [stack, moodle] = await Promise.all([Stack.start({ name: 'api-b' }), Platform.start({ flavor: 'moodle' })]);
    const reg = await moodle.dynamicRegister(`${stack.baseUrl}/lti/register`);
    assert.equal(reg.registration?.status, 200, 'registration failed');
    const course = { id: 'B-101', title: 'Calls <i>&</i> "B"' };
    teacher = await Api.launch(moodle, stack.baseUrl, { role: 'instructor', user: { sub: 't1', name: 'Tess Teacher' }, courseId: course.id, context: course, who: 'teacher' });
    alice = await Api.launch(moodle, stack.baseUrl, { role: 'learner', user: { sub: 'a1', name: HOSTILE }, courseId: course.id, context: course, who: 'alice' });
    bob = await Api.launch(moodle, stack.baseUrl, { role: 'learner', user: { sub: 'b1', name: 'Bob' }, courseId: course.id, context: course, who: 'bob' });
    outsider = await Api.launch(moodle, stack.baseUrl, { role: 'instructor', user: { sub: 'o1', name: 'Otto' }, courseId: 'OTHER-9', context: { id: 'OTHER-9', title: 'Other' }, who: 'outsider' });
    aliceCall = await enrol(stack, teacher, alice.userId, 'call-certification');
    bobCall = await enrol(stack, teacher, bob.userId, 'call-certification');
    aliceL2 = await enrol(stack, teacher, alice.userId, 'level-two-trainer');
  });

  after(async () => {
    await moodle?.close();
    await stack?.stop();
  });

  describe('observations', () => {
    let obsId;

    test('an assessor creates a draft; a client_key makes it idempotent', async () => {
      const b = ok(await teacher.post('/api/v1/observations', { enrolment_id: aliceCall, checklist: 'call', client_key: 'tablet-1:call-1' }), 201, 'create');
      assert.equal(b.existed, false);
      obsId = b.id;
      const again = ok(await teacher.post('/api/v1/observations', { enrolment_id: aliceCall, checklist: 'call', client_key: 'tablet-1:call-1' }), [200, 201], 'create again');
      assert.deepEqual(again, { id: obsId, existed: true });
    });

    test('wrong input is a 400 naming the field; strangers get 404, learners 403', async () => {
      badField(await teacher.post('/api/v1/observations', { checklist: 'call' }), 'enrolment_id');
      badField(await teacher.post('/api/v1/observations', { enrolment_id: aliceCall, checklist: 'nope' }), 'checklist');
      badField(await teacher.post('/api/v1/observations', { enrolment_id: aliceCall, checklist: 'call', rater_role: 'boss' }), 'rater_role');
      ok(await outsider.post('/api/v1/observations', { enrolment_id: aliceCall, checklist: 'call' }), 404, 'outsider');
      ok(await bob.post('/api/v1/observations', { enrolment_id: aliceCall, checklist: 'call' }), 404, 'another learner');
      ok(await alice.post('/api/v1/observations', { enrolment_id: aliceCall, checklist: 'call' }), 403, 'the learner as assessor');
    });

    test('autosave, a submit that names the missing field, then the scored submit', async () => {
      const { list } = answersForScore(call, 90);
      const partial = list.filter((a) => a.item !== 'tone');
      let o = ok(await teacher.put(`/api/v1/observations/${obsId}`, { answers: partial }), 200, 'autosave');
      assert.equal(o.status, 'draft');
      assert.equal(o.answers.length, partial.length);
      const miss = await teacher.post(`/api/v1/observations/${obsId}/submit`);
      badField(miss, 'tone', 'submit without tone');
      badField(await teacher.put(`/api/v1/observations/${obsId}`, { answers: [{ item: 'greeting', value: 7 }] }), 'greeting');
      badField(await teacher.put(`/api/v1/observations/${obsId}`, { answers: [{ item: 'greeting', value: 'yes' }] }), 'answers[0].value');
      ok(await alice.put(`/api/v1/observations/${obsId}`, { answers: list }), 403, 'the learner autosaves');
      o = ok(await teacher.put(`/api/v1/observations/${obsId}`, { answers: list.filter((a) => a.item === 'tone') }), 200, 'autosave tone');
      badField(await teacher.post(`/api/v1/observations/${obsId}/submit`), 'went_well', 'submit without feedback');
      ok(await teacher.put(`/api/v1/observations/${obsId}`, { feedback: { went_well: 'Calm & <clear>' } }), 200, 'feedback');
      o = ok(await teacher.post(`/api/v1/observations/${obsId}/submit`), 200, 'submit');
      assert.equal(o.status, 'submitted');
      assert.equal(o.score, 9000);
      assert.equal(o.passed, true);
      assert.equal(o.feedback.went_well, 'Calm & <clear>');
      ok(await teacher.post(`/api/v1/observations/${obsId}/submit`), 409, 'second submit');
      ok(await teacher.put(`/api/v1/observations/${obsId}`, { answers: list }), 409, 'autosave after submit');
    });

    test('the learner sees their own observation; another learner and another course do not', async () => {
      const o = ok(await alice.get(`/api/v1/observations/${obsId}`), 200, 'own');
      assert.equal(o.learner_id, alice.userId);
      ok(await bob.get(`/api/v1/observations/${obsId}`), 404, 'bob reads alice');
      ok(await outsider.get(`/api/v1/observations/${obsId}`), 404, 'outsider');
      ok(await bob.get('/api/v1/observations/999999'), 404, 'unknown');
      ok(await bob.get('/api/v1/observations/abc'), 404, 'not an id');
    });

    test('amend makes a new draft with the reason', async () => {
      badField(await teacher.post(`/api/v1/observations/${obsId}/amend`, {}), 'reason');
      const a = ok(await teacher.post(`/api/v1/observations/${obsId}/amend`, { reason: 'wrong call scored' }), 201, 'amend');
      assert.equal(a.amends_id, obsId);
      assert.equal(a.status, 'draft');
      assert.equal(a.amend_reason, 'wrong call scored');
    });

    test('side by side: the self-evaluation beside the assessor', async () => {
      // call-certification only lets assessors rate: a self-evaluation is refused by the core
      const s = await alice.post('/api/v1/observations', { enrolment_id: aliceCall, checklist: 'call', rater_role: 'self' });
      if (s.status === 201) {
        const { list } = answersForScore(call, 100);
        ok(await alice.put(`/api/v1/observations/${s.body.id}`, { answers: list }), 200, 'self autosave');
        ok(await alice.post(`/api/v1/observations/${s.body.id}/submit`), 200, 'self submit');
      } else {
        assert.equal(s.status, 400, show(s));
      }
      const v = ok(await teacher.get(`/api/v1/observations/${obsId}/side-by-side?view=self`), 200, 'side by side');
      assert.ok(v.observations.length >= 1);
      const row = v.items.find((x) => x.item === 'greeting');
      assert.equal(row.answers.length, v.observations.length);
      ok(await bob.get(`/api/v1/observations/${obsId}/side-by-side`), 404, 'bob');
    });

    test('bob\'s observation stays invisible to alice', async () => {
      const b = ok(await teacher.post('/api/v1/observations', { enrolment_id: bobCall, checklist: 'call' }), 201, 'bob obs');
      ok(await alice.get(`/api/v1/observations/${b.id}`), 404, 'alice reads bob');
      ok(await bob.get(`/api/v1/observations/${b.id}`), 200, 'bob reads his own draft');
    });
  });

  describe('evidence', () => {
    let evId;
    const png = fs.readFileSync(path.join(FIX, 'photo.png'));

    test('the learner uploads a PNG (multipart, streamed) and downloads it as an attachment', async () => {
      const r = await alice.upload('/api/v1/evidence', { learner_id: alice.userId, note: 'my <desk>' },
        [{ name: 'file', filename: 'Desk photo ü.png', type: 'image/jpeg', data: png }]);
      const e = ok(r, 201, 'upload');
      assert.equal(e.sha256, crypto.createHash('sha256').update(png).digest('hex'));
      assert.equal(e.size, png.length);
      assert.equal(e.media_type, 'image/png'); // from the content, not the part's header
      evId = e.id;
      const d = await alice.get(`/api/v1/evidence/${evId}/download`);
      assert.equal(d.status, 200, show(d));
      assert.ok(Buffer.compare(d.bytes, png) === 0, 'downloaded bytes differ');
      assert.equal(d.headers['content-type'], 'image/png');
      assert.equal(d.headers['x-content-type-options'], 'nosniff');
      assert.match(d.headers['content-disposition'], /^attachment; filename="Desk photo __.png"; /);
      assert.match(d.headers['content-disposition'], /filename\*=UTF-8''Desk%20photo%20%C3%BC\.png/);
      assert.match(d.headers['content-security-policy'], /default-src 'none'; sandbox/);
      const t = ok(await teacher.get(`/api/v1/evidence/${evId}/download`), 200, 'teacher downloads');
      void t;
      ok(await bob.get(`/api/v1/evidence/${evId}/download`), 404, 'bob downloads alice\'s');
      ok(await outsider.get(`/api/v1/evidence/${evId}/download`), 404, 'outsider downloads');
    });

    test('a 40 MB file goes up streamed and comes back whole (bigger than any response buffer)', async () => {
      const line = 'Observation notes line after line for a large evidence file\n';
      const big = Buffer.from(line.repeat(Math.ceil((40 << 20) / line.length)));
      const r = await alice.upload('/api/v1/evidence', { learner_id: alice.userId },
        [{ filename: 'notes.txt', type: 'text/plain', data: big }]);
      const e = ok(r, 201, 'big upload');
      assert.equal(e.size, big.length);
      const d = await alice.get(`/api/v1/evidence/${e.id}/download`);
      assert.equal(d.status, 200);
      assert.equal(Number(d.headers['content-length']), big.length);
      assert.ok(Buffer.compare(d.bytes, big) === 0, 'the downloaded file differs');
    });

    test('a disguised file and a refused type: 415 with the store\'s message; nothing listed', async () => {
      const before = ok(await alice.get(`/api/v1/evidence?learner_id=${alice.userId}`), 200, 'list').evidence.length;
      const sh = await alice.upload('/api/v1/evidence', { learner_id: alice.userId },
        [{ filename: 'photo.jpg', type: 'image/jpeg', data: fs.readFileSync(path.join(FIX, 'photo.jpg')) }]);
      assert.equal(sh.status, 415, show(sh));
      assert.equal(sh.body.message, 'type text/x-shellscript is not allowed');
      const avi = await alice.upload('/api/v1/evidence', { learner_id: alice.userId },
        [{ filename: 'clip.avi', type: 'video/x-msvideo', data: fs.readFileSync(path.join(FIX, 'clip.avi')) }]);
      assert.equal(avi.status, 415, show(avi));
      const after = ok(await alice.get(`/api/v1/evidence?learner_id=${alice.userId}`), 200, 'list').evidence.length;
      assert.equal(after, before);
    });

    test('uploads for someone else are refused; bad fields are named', async () => {
      ok(await bob.upload('/api/v1/evidence', { learner_id: alice.userId }, [{ filename: 'p.png', data: png }]), 404, 'bob for alice');
      badField(await alice.upload('/api/v1/evidence', {}, [{ filename: 'p.png', data: png }]), 'learner_id');
      badField(await alice.upload('/api/v1/evidence', { learner_id: alice.userId }), 'file');
      badField(await alice.upload('/api/v1/evidence', { learner_id: alice.userId, competency_ids: 'x,1' }, [{ filename: 'p.png', data: png }]), 'competency_ids');
      ok(await teacher.upload('/api/v1/evidence', { learner_id: alice.userId }, [{ filename: 'by-teacher.png', data: png }]), 201, 'the assessor for alice');
    });

    test('links and notes; the list is authorized', async () => {
      ok(await alice.post('/api/v1/evidence/link', { learner_id: alice.userId, url: 'https://example.org/recording' }), 201, 'link');
      badField(await alice.post('/api/v1/evidence/link', { learner_id: alice.userId, url: 'javascript:alert(1)' }), 'url');
      ok(await alice.post('/api/v1/evidence/note', { learner_id: alice.userId, note: 'Shadowed two calls.' }), 201, 'note');
      badField(await alice.post('/api/v1/evidence/note', { learner_id: alice.userId }), 'note');
      const l = ok(await teacher.get(`/api/v1/evidence?learner_id=${alice.userId}`), 200, 'teacher lists');
      assert.ok(l.evidence.length >= 4);
      ok(await bob.get(`/api/v1/evidence?learner_id=${alice.userId}`), 404, 'bob lists alice');
      badField(await bob.get('/api/v1/evidence'), 'learner_id');
    });

    test('review: the assessor, never the learner', async () => {
      ok(await alice.post(`/api/v1/evidence/${evId}/review`, { accept: true }), 403, 'learner reviews own');
      ok(await outsider.post(`/api/v1/evidence/${evId}/review`, { accept: true }), 404, 'outsider');
      badField(await teacher.post(`/api/v1/evidence/${evId}/review`, {}), 'accept');
      badField(await teacher.post(`/api/v1/evidence/${evId}/review`, { accept: false }), 'comment');
      const e = ok(await teacher.post(`/api/v1/evidence/${evId}/review`, { accept: true, comment: 'Good' }), 200, 'review');
      assert.equal(e.status, 'accepted');
      ok(await teacher.post(`/api/v1/evidence/${evId}/review`, { accept: false, comment: 'x' }), 409, 'again');
    });
  });

  describe('third-party feedback', () => {
    let url;

    test('an assessor makes a link; learners and strangers cannot', async () => {
      badField(await teacher.post('/api/v1/feedback-links', { enrolment_id: aliceL2, form: 'nope' }), 'form');
      ok(await alice.post('/api/v1/feedback-links', { enrolment_id: aliceL2, form: 'student-outcomes' }), 403, 'learner');
      ok(await outsider.post('/api/v1/feedback-links', { enrolment_id: aliceL2, form: 'student-outcomes' }), 404, 'outsider');
      const l = ok(await teacher.post('/api/v1/feedback-links', { enrolment_id: aliceL2, form: 'student-outcomes' }), 201, 'link');
      assert.match(l.url, new RegExp(`^${stack.baseUrl}/feedback/[A-Za-z0-9_-]{20,}$`));
      assert.ok(l.expires_at > Date.now() / 1000 + 13 * 86400);
      url = l.url;
    });

    test('the public form: escaped, CSP, used once', async () => {
      const bad = await fetch(`${stack.baseUrl}/feedback/not-a-token`);
      assert.equal(bad.status, 404);
      const page = await fetch(url);
      const html = await page.text();
      assert.equal(page.status, 200, htmlText(html).slice(0, 300));
      assert.match(page.headers.get('content-security-policy') || '', /default-src 'self'/);
      assert.ok(!html.includes('<b>O'), 'the learner name is not escaped');
      assert.match(html, /name='overall'/);
      const missing = await fetch(url, { method: 'POST', body: 'learned=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      assert.equal(missing.status, 400);
      const r = await answerFeedbackForm(url, { overall: 4, learned: 'A lot <script>', recommend: true });
      assert.equal(r.post?.status, 200, r.post ? htmlText(r.post.body).slice(0, 300) : 'no form');
      assert.match(htmlText(r.post.body), /Thank you/);
      const again = await fetch(url, { method: 'POST', body: r.sent, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      assert.equal(again.status, 409);
      const get2 = await fetch(url);
      assert.equal(get2.status, 409);
      const row = await sql(stack, 'SELECT score, answers FROM feedback_response ORDER BY id DESC LIMIT 1');
      assert.match(row, /^400\|/);
      assert.match(row, /"recommend":true/);
    });

    test('an expired link is a 410 page', async () => {
      const l = ok(await teacher.post('/api/v1/feedback-links', { enrolment_id: aliceL2, form: 'student-outcomes', ttl_days: 1 }), 201, 'link');
      await sql(stack, `UPDATE feedback_link SET expires_at = 1 WHERE id = ${Number(l.id)}`);
      const g = await fetch(l.url);
      assert.equal(g.status, 410);
      assert.match(htmlText(await g.text()), /expired/);
      const p = await fetch(l.url, { method: 'POST', body: 'overall=5', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      assert.equal(p.status, 410);
    });
  });
});
