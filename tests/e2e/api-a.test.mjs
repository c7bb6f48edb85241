// api-a.test.mjs: the JSON API's block A through the real stack (nginx + attest) with
// sessions from emulated Moodle launches — programs, frameworks, enrolments, decisions,
// progress reports, notes, reports (JSON and CSV) and the record of learning, including
// every authorization failure (403 for a role that may not act, 404 for a record the caller
// may not see).
//
//   make && node --test --test-concurrency=1 tests/e2e/api-a.test.mjs
//   ATTEST_E2E_DB=pg node --test tests/e2e/api-a.test.mjs
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Platform } from '../platform/platform.mjs';
import { Stack } from './stack.mjs';
import { deepLink } from './sync-helpers.mjs';

const PROGRAM = 'call-certification';
const HOSTILE = '=HYPERLINK("http://x.test","y"), "Jr"';

describe('api block A: programs, enrolments, decisions, notes, reports', () => {
  let stack;
  let moodle;
  const s = {};	// name -> {token, id}

  async function session(name, role, sub, courseId, extra = {}) {
    const res = await moodle.launch({ role, courseId, user: { sub, name: extra.name || `User ${sub}` },
      context: { title: `Course ${courseId}` } });
    assert.equal(res.stage, 'launch', `launch of ${name} stopped at ${res.stage}`);
    const loc = res.location || '';
    const m = /[?&]s=([^&]+)/.exec(loc);
    assert.ok(m, `launch of ${name} gave no session (${res.status} ${loc})`);
    const token = decodeURIComponent(m[1]);
    const me = await (await api(token, 'GET', '/api/v1/me')).json();
    s[name] = { token, id: me.user_id, me };
  }

  async function api(token, method, path, body, headers = {}) {
    const init = { method, headers: { ...headers } };
    if (token) init.headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) {
      init.headers['Content-Type'] ??= 'application/json';
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
    }
    return stack.fetch(path, init);
  }

  async function as(name, method, path, body) {
    const r = await api(s[name].token, method, path, body);
    const text = await r.text();
    let json = null;
    try { json = JSON.parse(text); } catch { /* CSV or empty */ }
    return { status: r.status, headers: r.headers, text, json };
  }

  function assertError(r, status, field) {
    assert.equal(r.status, status, r.text);
    assert.ok(r.json, `not JSON: ${r.text}`);
    assert.equal(typeof r.json.error, 'string');
    assert.equal(typeof r.json.message, 'string');
    assert.equal(typeof r.json.request_id, 'string');
    if (field !== undefined) assert.equal(r.json.field, field, r.text);
  }

  const ids = {};

  before(async () => {
    [stack, moodle] = await Promise.all([Stack.start({ name: 'api-a' }), Platform.start({ flavor: 'moodle' })]);
    const reg = await moodle.dynamicRegister(`${stack.baseUrl}/lti/register`);
    assert.equal(reg.registration?.status, 200, 'registration failed');
    await session('teacher', 'instructor', 'a-t1', '21');
    await session('l1', 'learner', 'a-l1', '21');
    await session('l2', 'learner', 'a-l2', '21', { name: HOSTILE });
    await session('other', 'learner', 'a-l3', '22');
    await session('teacher2', 'instructor', 'a-t2', '22');
  });

  after(async () => {
    await moodle?.close();
    await stack?.stop();
  });

  test('no session: 401 JSON', async () => {
    const r = await api(null, 'GET', '/api/v1/programs');
    assert.equal(r.status, 401);
    const bad = await api('nonsense', 'GET', '/api/v1/enrolments');
    assert.equal(bad.status, 401);
  });

  test('programs: list and one, with checklists a client can render', async () => {
    const r = await as('l1', 'GET', '/api/v1/programs');
    assert.equal(r.status, 200, r.text);
    const p = r.json.programs.find((x) => x.key === PROGRAM);
    assert.ok(p, 'the example program is listed');
    assert.equal(p.checklists[0].key, 'call');
    const one = await as('l1', 'GET', `/api/v1/programs/${PROGRAM}`);
    assert.equal(one.status, 200);
    const c = one.json.checklists[0];
    assert.equal(c.pass_mark, 85);
    assert.equal(c.max_score, 100);
    const v = c.items.find((i) => i.key === 'verification');
    assert.equal(v.kind, 'yesno');
    assert.equal(v.critical, true);
    assert.deepEqual(v.competencies, ['CALL-OPEN-VERIFY']);
    assert.equal(v.weight, 10);
    assert.equal(c.items.find((i) => i.key === 'discovery').max_points, 5);
    assert.equal(c.feedback.find((f) => f.key === 'went_well').required, true);
    assert.equal(one.json.rule.type, 'k_of_last_n');
    assert.equal(one.json.deadlines.escalation.length, 4);
    assertError(await as('l1', 'GET', '/api/v1/programs/no-such-program'), 404);
  });

  test('frameworks: list and tree with scale', async () => {
    const r = await as('l1', 'GET', '/api/v1/frameworks');
    assert.equal(r.status, 200, r.text);
    const f = r.json.frameworks.find((x) => x.idnumber === 'CALL');
    assert.ok(f);
    assert.ok(f.scale.some((v) => v.proficient));
    for (const ref of ['CALL', String(f.id)]) {
      const t = await as('l1', 'GET', `/api/v1/frameworks/${ref}`);
      assert.equal(t.status, 200, t.text);
      assert.equal(t.json.idnumber, 'CALL');
      assert.ok(t.json.competencies.length > 0);
      const flat = [];
      const walk = (n) => { flat.push(n.idnumber); n.children.forEach(walk); };
      t.json.competencies.forEach(walk);
      assert.ok(flat.includes('CALL-OPEN-VERIFY'));
    }
    assertError(await as('l1', 'GET', '/api/v1/frameworks/NOPE'), 404);
  });

  test('enrol: assessor enrols a member; bad input names the field; duplicates conflict', async () => {
    const r = await as('teacher', 'POST', '/api/v1/enrolments', { program: PROGRAM, learner_id: s.l1.id });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.program, PROGRAM);
    assert.equal(r.json.learner.id, s.l1.id);
    assert.equal(r.json.status, 'active');
    ids.e1 = r.json.id;
    assertError(await as('teacher', 'POST', '/api/v1/enrolments', { program: PROGRAM, learner_id: s.l1.id }), 409);
    assertError(await as('teacher', 'POST', '/api/v1/enrolments', { program: PROGRAM, learner_id: s.other.id }), 400, 'learner_id');
    assertError(await as('teacher', 'POST', '/api/v1/enrolments', { program: 'nope', learner_id: s.l2.id }), 400, 'program');
    assertError(await as('teacher', 'POST', '/api/v1/enrolments', { learner_id: s.l2.id }), 400, 'program');
    assertError(await as('teacher', 'POST', '/api/v1/enrolments', { program: PROGRAM, learner_id: 'x' }), 400, 'learner_id');
    assertError(await as('teacher', 'POST', '/api/v1/enrolments', '{"program": '), 400);
    const form = await api(s.teacher.token, 'POST', '/api/v1/enrolments', 'program=x', { 'Content-Type': 'application/x-www-form-urlencoded' });
    assert.equal(form.status, 415);
  });

  test('enrol: a learner enrols themself, only in a program placed in the course, and nobody else', async () => {
    assertError(await as('l1', 'POST', '/api/v1/enrolments', { program: PROGRAM, learner_id: s.l2.id }), 403, 'learner_id');
    // not placed in course 21 yet: refused; the instructor places it by deep linking
    assertError(await as('l2', 'POST', '/api/v1/enrolments', { program: PROGRAM }), 403, 'program');
    assertError(await as('l2', 'POST', '/api/v1/enrolments', { program: 'nope' }), 403, 'program');
    await deepLink(moodle, stack, { courseId: '21', choose: [/ESP agent call certification/], user: { sub: 'a-t1', name: 'User a-t1' }, context: { title: 'Course 21' } });
    assertError(await as('l2', 'POST', '/api/v1/enrolments', { program: 'level-two-trainer' }), 403, 'program');
    const r = await as('l2', 'POST', '/api/v1/enrolments', { program: PROGRAM });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.learner.id, s.l2.id);
    assert.equal(r.json.learner.name, HOSTILE);
    ids.e2 = r.json.id;
  });

  test('list: learners see their own, assessors their course', async () => {
    const l1 = await as('l1', 'GET', '/api/v1/enrolments');
    assert.deepEqual(l1.json.enrolments.map((e) => e.id), [ids.e1]);
    const t = await as('teacher', 'GET', '/api/v1/enrolments');
    assert.deepEqual(t.json.enrolments.map((e) => e.id).sort(), [ids.e1, ids.e2].sort());
    const t2 = await as('teacher2', 'GET', '/api/v1/enrolments');
    assert.deepEqual(t2.json.enrolments, []);
  });

  test('one enrolment: standing for its learner and assessor, 404 for anyone else', async () => {
    for (const who of ['l1', 'teacher']) {
      const r = await as(who, 'GET', `/api/v1/enrolments/${ids.e1}`);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.learner.id, s.l1.id);
      assert.deepEqual(r.json.observations, []);
      assert.ok(Array.isArray(r.json.ratings));
      assert.ok(r.json.ratings.some((x) => x.competency === 'CALL-OPEN-VERIFY'));
      assert.equal(r.json.decision, null);
      assert.equal(typeof r.json.escalation.overdue, 'boolean');
      assert.equal(r.json.feedback.responses, 0);
    }
    assertError(await as('l2', 'GET', `/api/v1/enrolments/${ids.e1}`), 404);
    assertError(await as('teacher2', 'GET', `/api/v1/enrolments/${ids.e1}`), 404);
    assertError(await as('other', 'GET', `/api/v1/enrolments/${ids.e1}`), 404);
    assertError(await as('teacher', 'GET', '/api/v1/enrolments/999999'), 404);
    assertError(await as('teacher', 'GET', '/api/v1/enrolments/abc'), 404);
  });

  test('progress: the learner themself only', async () => {
    const r = await as('l1', 'POST', `/api/v1/enrolments/${ids.e1}/progress`, { text: 'Did two practice calls', day: '2026-03-02' });
    assert.equal(r.status, 201, r.text);
    assertError(await as('teacher', 'POST', `/api/v1/enrolments/${ids.e1}/progress`, { text: 'x' }), 403);
    assertError(await as('l2', 'POST', `/api/v1/enrolments/${ids.e1}/progress`, { text: 'x' }), 404);
    assertError(await as('l1', 'POST', `/api/v1/enrolments/${ids.e1}/progress`, { text: 'x', day: '2026-02-30' }), 400, 'day');
    assertError(await as('l1', 'POST', `/api/v1/enrolments/${ids.e1}/progress`, { text: '   ' }), 400, 'text');
    assertError(await as('l1', 'POST', `/api/v1/enrolments/${ids.e1}/progress`, { day: '2026-03-02' }), 400, 'text');
  });

  test('notes: assessors write, learner and assessor read "Date - Name - Note"', async () => {
    const r = await as('teacher', 'POST', `/api/v1/enrolments/${ids.e1}/notes`, { text: 'Call 1 booked', day: '2026-03-02' });
    assert.equal(r.status, 201, r.text);
    assertError(await as('l1', 'POST', `/api/v1/enrolments/${ids.e1}/notes`, { text: 'mine' }), 403);
    assertError(await as('teacher2', 'POST', `/api/v1/enrolments/${ids.e1}/notes`, { text: 'x' }), 404);
    for (const who of ['l1', 'teacher']) {
      const l = await as(who, 'GET', `/api/v1/enrolments/${ids.e1}/notes`);
      assert.equal(l.status, 200, l.text);
      const kinds = l.json.lines.map((x) => x.kind);
      assert.deepEqual(kinds, ['report', 'note']);
      assert.equal(l.json.lines[0].line, '2026-03-02 - User a-l1 - Did two practice calls');
      assert.match(l.json.lines[1].line, /^2026-03-02 - User a-l1 - Call 1 booked$/);
      assert.equal(l.json.lines[1].author, 'User a-t1');
    }
    assertError(await as('l2', 'GET', `/api/v1/enrolments/${ids.e1}/notes`), 404);
  });

  /* A call with every item met (yes, full points) and the required positive feedback. */
  async function submitPerfectCall(enrolmentId) {
    const prog = await as('teacher', 'GET', `/api/v1/programs/${PROGRAM}`);
    const items = prog.json.checklists.find((c) => c.key === 'call').items;
    const answers = items.filter((i) => i.kind === 'yesno' || i.kind === 'points')
      .map((i) => ({ item: i.key, value: i.kind === 'yesno' ? 1 : Math.round(i.max_points * 100) }));
    const c = await as('teacher', 'POST', '/api/v1/observations', { enrolment_id: enrolmentId, checklist: 'call' });
    assert.equal(c.status, 201, c.text);
    const put = await as('teacher', 'PUT', `/api/v1/observations/${c.json.id}`,
      { answers, feedback: { went_well: 'A clear, friendly greeting' } });
    assert.equal(put.status, 200, put.text);
    const sub = await as('teacher', 'POST', `/api/v1/observations/${c.json.id}/submit`);
    assert.equal(sub.status, 200, sub.text);
    assert.equal(sub.json.passed, true, sub.text);
  }

  test('evaluate, confirm, override: assessors of the course only', async () => {
    assertError(await as('l1', 'POST', `/api/v1/enrolments/${ids.e1}/evaluate`), 403);
    assertError(await as('teacher2', 'POST', `/api/v1/enrolments/${ids.e1}/evaluate`), 404);
    // No calls yet: the rule says pending, and nothing is recorded to confirm.
    const early = await as('teacher', 'POST', `/api/v1/enrolments/${ids.e1}/evaluate`);
    assert.equal(early.status, 200, early.text);
    assert.equal(early.json.outcome, 'pending');
    assert.equal(early.json.id, null);
    assert.equal((await as('teacher', 'GET', `/api/v1/enrolments/${ids.e1}`)).json.pending_decision, null);
    for (let i = 0; i < 5; i++) await submitPerfectCall(ids.e1);
    const ev = await as('teacher', 'POST', `/api/v1/enrolments/${ids.e1}/evaluate`);
    assert.equal(ev.json.outcome, 'pass', ev.text);
    assert.equal(ev.json.percent, 100, ev.text);
    assert.equal(ev.status, 201, ev.text);
    assert.equal(typeof ev.json.outcome, 'string');
    assert.equal(typeof ev.json.review, 'boolean');
    assert.equal(typeof ev.json.basis, 'object');
    const d = ev.json.id;
    assertError(await as('l1', 'POST', `/api/v1/decisions/${d}/confirm`), 403);
    assertError(await as('l2', 'POST', `/api/v1/decisions/${d}/confirm`), 404);
    assertError(await as('teacher2', 'POST', `/api/v1/decisions/${d}/confirm`), 404);
    assertError(await as('teacher', 'POST', '/api/v1/decisions/999999/confirm'), 404);
    const c = await as('teacher', 'POST', `/api/v1/decisions/${d}/confirm`);
    assert.equal(c.status, 200, c.text);
    assert.equal(c.json.status, 'confirmed');
    assert.equal(c.json.final_outcome, ev.json.outcome);
    assertError(await as('teacher', 'POST', `/api/v1/decisions/${d}/confirm`), 409);

    const ev2 = await as('teacher', 'POST', `/api/v1/enrolments/${ids.e1}/evaluate`);
    assert.equal(ev2.status, 201, ev2.text);
    const d2 = ev2.json.id;
    assertError(await as('teacher', 'POST', `/api/v1/decisions/${d2}/override`, { outcome: 'pass' }), 400, 'justification');
    assertError(await as('teacher', 'POST', `/api/v1/decisions/${d2}/override`, { outcome: 'pass', justification: 'short' }), 400, 'justification');
    assertError(await as('teacher', 'POST', `/api/v1/decisions/${d2}/override`, { justification: 'Passed the live calls on review' }), 400, 'outcome');
    assertError(await as('l1', 'POST', `/api/v1/decisions/${d2}/override`, { outcome: 'pass', justification: 'Passed the live calls on review' }), 403);
    const o = await as('teacher', 'POST', `/api/v1/decisions/${d2}/override`, { outcome: 'pass', justification: 'Passed the live calls on review' });
    assert.equal(o.status, 200, o.text);
    assert.equal(o.json.status, 'overridden');
    assert.equal(o.json.final_outcome, 'pass');
    const show = await as('l1', 'GET', `/api/v1/enrolments/${ids.e1}`);
    assert.equal(show.json.decision.final_outcome, 'pass');
  });

  test('progress report: assessors only; JSON and CSV (RFC 4180, no formulas)', async () => {
    assert.equal((await as('l1', 'GET', `/api/v1/reports/progress?program=${PROGRAM}`)).status, 403);
    assertError(await as('teacher', 'GET', '/api/v1/reports/progress'), 400, 'program');
    assertError(await as('teacher', 'GET', '/api/v1/reports/progress?program=nope'), 404, 'program');
    assertError(await as('teacher', 'GET', `/api/v1/reports/progress?program=${PROGRAM}&format=xml`), 400, 'format');
    const r = await as('teacher', 'GET', `/api/v1/reports/progress?program=${PROGRAM}`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.learners.length, 2);
    const row = r.json.learners.find((x) => x.enrolment_id === ids.e1);
    assert.equal(row.observations_total, 5);
    assert.equal(row.decision, 'pass');
    assert.ok(r.json.competencies.length > 0);
    assert.equal(typeof r.json.summary.overdue, 'number');
    const other = await as('teacher2', 'GET', `/api/v1/reports/progress?program=${PROGRAM}`);
    assert.equal(other.json.learners.length, 0, 'another course sees none of these learners');

    const csv = await as('teacher', 'GET', `/api/v1/reports/progress?program=${PROGRAM}&format=csv`);
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-type'), /^text\/csv; charset=utf-8/);
    assert.match(csv.headers.get('content-disposition'), /^attachment; filename="progress-call-certification\.csv"/);
    assert.equal(csv.headers.get('x-content-type-options'), 'nosniff');
    const lines = csv.text.split('\r\n');
    assert.match(lines[0], /^enrolment_id,learner_id,learner,status,/);
    assert.ok(csv.text.includes(`"'=HYPERLINK(""http://x.test"",""y""), ""Jr"""`), csv.text);
  });

  test('day report: reports, notes and who has not reported', async () => {
    const r = await as('teacher', 'GET', `/api/v1/reports/day?program=${PROGRAM}&day=2026-03-02`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.reports.length, 1);
    assert.equal(r.json.notes.length, 1);
    assert.deepEqual(r.json.missing.map((m) => m.enrolment_id), [ids.e2]);
    assertError(await as('teacher', 'GET', `/api/v1/reports/day?program=${PROGRAM}&day=2026-3-2`), 400, 'day');
    assert.equal((await as('l1', 'GET', `/api/v1/reports/day?program=${PROGRAM}`)).status, 403);
    const csv = await as('teacher', 'GET', `/api/v1/reports/day?program=${PROGRAM}&day=2026-03-02&format=csv`);
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-type'), /^text\/csv/);
    const lines = csv.text.trim().split('\r\n');
    assert.equal(lines[0], 'kind,day,enrolment_id,learner,author,text');
    assert.equal(lines.length, 4);
  });

  test('record of learning: own learner and course assessors; JSON and CSV', async () => {
    for (const who of ['l1', 'teacher']) {
      const r = await as(who, 'GET', `/api/v1/enrolments/${ids.e1}/record`);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.decisions.length, 2);
      assert.deepEqual(r.json.decisions.map((d) => d.status), ['confirmed', 'overridden']);
      assert.ok(Array.isArray(r.json.observations));
      assert.ok(Array.isArray(r.json.ratings));
      assert.ok(Array.isArray(r.json.evidence));
    }
    assertError(await as('l2', 'GET', `/api/v1/enrolments/${ids.e1}/record`), 404);
    assertError(await as('teacher2', 'GET', `/api/v1/enrolments/${ids.e1}/record?format=csv`), 404);
    const csv = await as('l1', 'GET', `/api/v1/enrolments/${ids.e1}/record?format=csv`);
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-disposition'), /^attachment;/);
    const lines = csv.text.trim().split('\r\n');
    assert.equal(lines[0], 'type,id,date,subject,by,value,outcome,detail');
    assert.equal(lines.filter((l) => l.startsWith('decision,')).length, 2);
  });
});
