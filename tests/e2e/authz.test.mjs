// authz.test.mjs: the authorization matrix of the JSON API — every role against every
// resource of learner A (course 1), read and write, with the expected status in one table —
// and the audit tamper test (`attest audit verify` passes, then fails naming an edited row).
//
//   make && node --test --test-concurrency=1 tests/e2e/authz.test.mjs
//   ATTEST_E2E_DB=pg node --test --test-concurrency=1 tests/e2e/authz.test.mjs
//
// Roles: learner A and learner B (course 1), the instructor of course 1, the instructor of
// course 2, an admin of course 1 (Moodle's admin: site Administrator + Instructor), a site
// admin who launched from course 2, and an admin of another platform. docs/api.md: a record
// the caller may not see is a 404 (never revealing it exists); 403 only when the caller may
// see the record but not do this.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Platform } from '../platform/platform.mjs';
import { Stack, ROOT } from './stack.mjs';
import { deepLink } from './sync-helpers.mjs';
import { Api, ok, show, sql, answersForScore, programDefinition } from './api-client.mjs';

const PDF = fs.readFileSync(path.join(ROOT, 'tests', 'fixtures', 'evidence', 'report.pdf'));
const SCORECARD = programDefinition('call-certification').checklists.find((c) => c.key === 'call');

const ROLES = ['learnerA', 'learnerB', 'instr1', 'instr2', 'admin1', 'siteAdmin2', 'otherPlatformAdmin'];
const DENY = [403, 404];

/*
 * The matrix. Each row: resource, action, a label, the request (built from the fixtures by
 * req(f, role) -> [method, path, body] or {upload}), an optional fresh fixture per attempt
 * (prepare), and the expected status per role. For reports, `sees` says which roles find
 * learner A in the answer.
 */
const MATRIX = [
  { resource: 'enrolment of A', action: 'read', label: 'GET /enrolments/{id}', req: (f) => ['GET', `/api/v1/enrolments/${f.enrolA}`],
    expect: { learnerA: 200, learnerB: 404, instr1: 200, instr2: 404, admin1: 200, siteAdmin2: 404, otherPlatformAdmin: 404 } },
  { resource: 'enrolment of A', action: 'read', label: 'GET /enrolments (list)', req: () => ['GET', '/api/v1/enrolments'],
    expect: { learnerA: 200, learnerB: 200, instr1: 200, instr2: 200, admin1: 200, siteAdmin2: 200, otherPlatformAdmin: 200 },
    sees: { learnerA: true, learnerB: false, instr1: true, instr2: false, admin1: true, siteAdmin2: false, otherPlatformAdmin: false },
    find: (b, f) => (b?.enrolments || []).some((e) => e.id === f.enrolA) },
  { resource: 'enrolment of A', action: 'write', label: 'POST /enrolments/{id}/progress', req: (f) => ['POST', `/api/v1/enrolments/${f.enrolA}/progress`, { text: 'progress' }],
    expect: { learnerA: 201, learnerB: 404, instr1: 403, instr2: 404, admin1: 403, siteAdmin2: 404, otherPlatformAdmin: 404 } },
  { resource: 'enrolment of A', action: 'write', label: 'POST /enrolments (enrol A in level-two)', req: (f) => ['POST', '/api/v1/enrolments', { program: 'level-two-trainer', learner_id: f.userA }],
    // Fixture: A's level-two enrolment is removed before each attempt (so "already enrolled"
    // never hides the answer), and the feedback-link row below uses whichever exists after.
    prepare: async (f) => { await sql(f.stack, `DELETE FROM enrolment WHERE user_id = ${Number(f.userA)} AND program_id = (SELECT id FROM program WHERE key = 'level-two-trainer')`); },
    check: async (f) => { f.enrolA_L2 = Number(await sql(f.stack, `SELECT id FROM enrolment WHERE user_id = ${Number(f.userA)} AND program_id = (SELECT id FROM program WHERE key = 'level-two-trainer')`)) || f.enrolA_L2; },
    expect: { learnerA: 201, learnerB: 403, instr1: 201, instr2: 400, admin1: 201, siteAdmin2: 400, otherPlatformAdmin: 400 } },
  { resource: 'observation of A', action: 'read', label: 'GET /observations/{id}', req: (f) => ['GET', `/api/v1/observations/${f.obsA}`],
    expect: { learnerA: 200, learnerB: 404, instr1: 200, instr2: 404, admin1: 200, siteAdmin2: 404, otherPlatformAdmin: 404 } },
  { resource: 'observation of A', action: 'read', label: 'GET /observations/{id}/side-by-side', req: (f) => ['GET', `/api/v1/observations/${f.obsA}/side-by-side`],
    expect: { learnerA: 200, learnerB: 404, instr1: 200, instr2: 404, admin1: 200, siteAdmin2: 404, otherPlatformAdmin: 404 } },
  { resource: 'observation of A', action: 'write', label: 'POST /observations (assessor draft for A)', req: (f) => ['POST', '/api/v1/observations', { enrolment_id: f.enrolA, checklist: 'call' }],
    expect: { learnerA: 403, learnerB: 404, instr1: 201, instr2: 404, admin1: 201, siteAdmin2: 404, otherPlatformAdmin: 404 } },
  { resource: 'observation of A', action: 'write', label: 'PUT /observations/{id} (instr1\'s draft)', req: (f) => ['PUT', `/api/v1/observations/${f.draftA}`, { answers: [{ item: 'greeting', value: 1 }] }],
    expect: { learnerA: 403, learnerB: 404, instr1: 200, instr2: 404, admin1: 403, siteAdmin2: 404, otherPlatformAdmin: 404 } },
  { resource: 'observation of A', action: 'write', label: 'POST /observations/{id}/amend', req: (f) => ['POST', `/api/v1/observations/${f.amendable}/amend`, { reason: 'authz matrix' }],
    prepare: async (f) => { f.amendable = await f.submittedCall(); },
    expect: { learnerA: 403, learnerB: 404, instr1: 201, instr2: 404, admin1: 403, siteAdmin2: 404, otherPlatformAdmin: 404 } },
  { resource: 'evidence of A', action: 'read', label: 'GET /evidence?learner_id=A', req: (f) => ['GET', `/api/v1/evidence?learner_id=${f.userA}`],
    expect: { learnerA: 200, learnerB: 404, instr1: 200, instr2: 404, admin1: 200, siteAdmin2: 404, otherPlatformAdmin: 404 } },
  { resource: 'evidence of A', action: 'read', label: 'GET /evidence/{id}', req: (f) => ['GET', `/api/v1/evidence/${f.evA}`],
    expect: { learnerA: 200, learnerB: 404, instr1: 200, instr2: 404, admin1: 200, siteAdmin2: 404, otherPlatformAdmin: 404 } },
  { resource: 'evidence of A', action: 'read', label: 'GET /evidence/{id}/download', req: (f) => ['GET', `/api/v1/evidence/${f.evA}/download`],
    expect: { learnerA: 200, learnerB: 404, instr1: 200, instr2: 404, admin1: 200, siteAdmin2: 404, otherPlatformAdmin: 404 } },
  { resource: 'evidence of A', action: 'write', label: 'POST /evidence (upload for A)', req: (f) => ({ upload: { learner_id: f.userA } }),
    expect: { learnerA: 201, learnerB: 404, instr1: 201, instr2: 404, admin1: 201, siteAdmin2: 404, otherPlatformAdmin: 404 } },
  { resource: 'evidence of A', action: 'write', label: 'POST /evidence/link (for A)', req: (f) => ['POST', '/api/v1/evidence/link', { learner_id: f.userA, url: 'https://example.org/call-3' }],
    expect: { learnerA: 201, learnerB: 404, instr1: 201, instr2: 404, admin1: 201, siteAdmin2: 404, otherPlatformAdmin: 404 } },
  { resource: 'evidence of A', action: 'write', label: 'POST /evidence/{id}/review', req: (f) => ['POST', `/api/v1/evidence/${f.reviewable}/review`, { accept: true, comment: 'ok' }],
    prepare: async (f) => { f.reviewable = await f.freshEvidence(); },
    expect: { learnerA: 403, learnerB: 404, instr1: 200, instr2: 404, admin1: 200, siteAdmin2: 404, otherPlatformAdmin: 404 } },
  { resource: 'notes of A', action: 'read', label: 'GET /enrolments/{id}/notes', req: (f) => ['GET', `/api/v1/enrolments/${f.enrolA}/notes`],
    expect: { learnerA: 200, learnerB: 404, instr1: 200, instr2: 404, admin1: 200, siteAdmin2: 404, otherPlatformAdmin: 404 } },
  { resource: 'notes of A', action: 'write', label: 'POST /enrolments/{id}/notes', req: (f) => ['POST', `/api/v1/enrolments/${f.enrolA}/notes`, { text: 'authz note' }],
    expect: { learnerA: 403, learnerB: 404, instr1: 201, instr2: 404, admin1: 201, siteAdmin2: 404, otherPlatformAdmin: 404 } },
  { resource: 'decisions of A', action: 'read', label: 'GET /enrolments/{id}/record', req: (f) => ['GET', `/api/v1/enrolments/${f.enrolA}/record`],
    expect: { learnerA: 200, learnerB: 404, instr1: 200, instr2: 404, admin1: 200, siteAdmin2: 404, otherPlatformAdmin: 404 } },
  { resource: 'decisions of A', action: 'write', label: 'POST /enrolments/{id}/evaluate', req: (f) => ['POST', `/api/v1/enrolments/${f.enrolA}/evaluate`],
    expect: { learnerA: 403, learnerB: 404, instr1: 201, instr2: 404, admin1: 201, siteAdmin2: 404, otherPlatformAdmin: 404 } },
  { resource: 'decisions of A', action: 'write', label: 'POST /decisions/{id}/confirm', req: (f) => ['POST', `/api/v1/decisions/${f.proposal}/confirm`],
    prepare: async (f) => { f.proposal = await f.freshProposal(); },
    check: async (f, role, r) => { if (r.status !== 200) assert.equal(await f.decisionStatus(f.proposal), 'proposed', `${role}: a refused confirm changed the decision`); },
    expect: { learnerA: 403, learnerB: 404, instr1: 200, instr2: 404, admin1: 200, siteAdmin2: 404, otherPlatformAdmin: 404 } },
  { resource: 'decisions of A', action: 'write', label: 'POST /decisions/{id}/override', req: (f) => ['POST', `/api/v1/decisions/${f.proposal}/override`, { outcome: 'fail', justification: 'authz matrix: overriding for the test' }],
    prepare: async (f) => { f.proposal = await f.freshProposal(); },
    check: async (f, role, r) => { if (r.status !== 200) assert.equal(await f.decisionStatus(f.proposal), 'proposed', `${role}: a refused override changed the decision`); },
    expect: { learnerA: 403, learnerB: 404, instr1: 200, instr2: 404, admin1: 200, siteAdmin2: 404, otherPlatformAdmin: 404 } },
  { resource: 'reports of course 1', action: 'read', label: 'GET /reports/progress', req: () => ['GET', '/api/v1/reports/progress?program=call-certification'],
    expect: { learnerA: 403, learnerB: 403, instr1: 200, instr2: 200, admin1: 200, siteAdmin2: 200, otherPlatformAdmin: 200 },
    sees: { instr1: true, instr2: false, admin1: true, siteAdmin2: false, otherPlatformAdmin: false },
    find: (b, f) => (b?.learners || []).some((l) => l.enrolment_id === f.enrolA) },
  { resource: 'reports of course 1', action: 'read', label: 'GET /reports/progress?format=csv', req: () => ['GET', '/api/v1/reports/progress?program=call-certification&format=csv'],
    expect: { learnerA: 403, learnerB: 403, instr1: 200, instr2: 200, admin1: 200, siteAdmin2: 200, otherPlatformAdmin: 200 },
    sees: { instr1: true, instr2: false, admin1: true, siteAdmin2: false, otherPlatformAdmin: false },
    find: (b, f, r) => r.text.includes('Alice Authz') },
  { resource: 'reports of course 1', action: 'read', label: 'GET /reports/day', req: () => ['GET', '/api/v1/reports/day?program=call-certification'],
    expect: { learnerA: 403, learnerB: 403, instr1: 200, instr2: 200, admin1: 200, siteAdmin2: 200, otherPlatformAdmin: 200 },
    sees: { instr1: true, instr2: false, admin1: true, siteAdmin2: false, otherPlatformAdmin: false },
    find: (b, f) => JSON.stringify(b || {}).includes('Alice Authz') },
  { resource: 'feedback link creation', action: 'write', label: 'POST /feedback-links (A\'s level-two enrolment)', req: (f) => ['POST', '/api/v1/feedback-links', { enrolment_id: f.enrolA_L2, form: 'student-outcomes' }],
    expect: { learnerA: 403, learnerB: 404, instr1: 201, instr2: 404, admin1: 201, siteAdmin2: 404, otherPlatformAdmin: 404 } },
];

describe('authorization matrix and audit tamper', () => {
  let stack;
  let moodle;
  let moodle2;
  const u = {};
  const f = {};
  const results = []; // {resource, action, label, role, expected, got}

  before(async () => {
    [stack, moodle, moodle2] = await Promise.all([Stack.start({ name: 'authz' }), Platform.start({ flavor: 'moodle' }), Platform.start({ flavor: 'moodle' })]);
    for (const p of [moodle, moodle2]) {
      const reg = await p.dynamicRegister(`${stack.baseUrl}/lti/register`);
      assert.equal(reg.registration?.status, 200, `registration failed: ${reg.registration?.error}`);
    }
    const c1 = { id: 'AZ-C1', title: 'Course one', label: 'C1' };
    const c2 = { id: 'AZ-C2', title: 'Course two', label: 'C2' };
    const L = (p, role, sub, name, c, who) => Api.launch(p, stack.baseUrl, { role, user: { sub, name }, courseId: c.id, context: c, who });
    u.learnerA = await L(moodle, 'learner', 'az-a', 'Alice Authz', c1, 'learnerA');
    u.learnerB = await L(moodle, 'learner', 'az-b', 'Bert Other', c1, 'learnerB');
    u.instr1 = await L(moodle, 'instructor', 'az-i1', 'Ines One', c1, 'instr1');
    u.instr2 = await L(moodle, 'instructor', 'az-i2', 'Ivo Two', c2, 'instr2');
    u.learnerC = await L(moodle, 'learner', 'az-c', 'Cleo Two', c2, 'learnerC');
    u.admin1 = await L(moodle, 'admin', 'az-adm1', 'Ada Admin', c1, 'admin1');
    u.siteAdmin2 = await L(moodle, 'admin', 'az-adm2', 'Sam Siteadmin', c2, 'siteAdmin2');
    u.otherPlatformAdmin = await L(moodle2, 'admin', 'az-adm1', 'Otto Elsewhere', c1, 'otherPlatformAdmin');
    assert.ok(u.admin1.me.roles.includes('admin'), `admin1 roles: ${u.admin1.me.roles}`);
    assert.notEqual(u.otherPlatformAdmin.userId, u.admin1.userId, 'the same sub on another platform is another user');

    f.stack = stack;
    f.userA = u.learnerA.userId;
    f.enrolA = ok(await u.instr1.post('/api/v1/enrolments', { program: 'call-certification', learner_id: f.userA }), 201, 'enrol A').id;
    f.enrolA_L2 = ok(await u.instr1.post('/api/v1/enrolments', { program: 'level-two-trainer', learner_id: f.userA }), 201, 'enrol A L2').id;
    // a learner joins only a program placed in the course (deep linking by the instructor)
    ok(await u.learnerB.post('/api/v1/enrolments', { program: 'call-certification' }), 403, 'B self-enrols in a program not placed');
    await deepLink(moodle, stack, { courseId: c1.id, context: c1, choose: [/ESP agent call certification/, /Level Two trainer pathway/], user: { sub: 'az-i1', name: 'Ines One' } });
    f.enrolB = ok(await u.learnerB.post('/api/v1/enrolments', { program: 'call-certification' }), 201, 'B self-enrols').id;
    ok(await u.instr2.post('/api/v1/enrolments', { program: 'call-certification', learner_id: u.learnerC.userId }), 201, 'enrol C in course 2');
    ok(await u.learnerA.post(`/api/v1/enrolments/${f.enrolA}/progress`, { text: 'Alice reports' }), 201, 'A reports');
    ok(await u.instr1.post(`/api/v1/enrolments/${f.enrolA}/notes`, { text: 'Note on Alice' }), 201, 'note on A');

    let n = 0;
    f.submittedCall = async () => {
      n++;
      const id = ok(await u.instr1.post('/api/v1/observations', { enrolment_id: f.enrolA, checklist: 'call', observed_at: Math.floor(Date.now() / 1000) - 3600 + n }), 201, 'call').id;
      ok(await u.instr1.put(`/api/v1/observations/${id}`, { answers: answersForScore(SCORECARD, n % 2 ? 90 : 80).list, feedback: { went_well: 'Good opening.' } }), 200, 'answers');
      ok(await u.instr1.post(`/api/v1/observations/${id}/submit`), 200, 'submit');
      return id;
    };
    for (let i = 0; i < 5; i++) f.obsA = await f.submittedCall();
    f.draftA = ok(await u.instr1.post('/api/v1/observations', { enrolment_id: f.enrolA, checklist: 'call' }), 201, 'draft').id;
    f.freshProposal = async () => {
      const p = ok(await u.instr1.post(`/api/v1/enrolments/${f.enrolA}/evaluate`), 201, 'evaluate');
      assert.ok(p.id, `evaluate recorded no proposal: ${JSON.stringify(p)}`);
      return p.id;
    };
    f.decisionStatus = async (id) => sql(stack, `SELECT status FROM decision WHERE id = ${Number(id)}`);
    let m = 0;
    f.freshEvidence = async () => {
      m++;
      const r = await u.learnerA.upload('/api/v1/evidence', { learner_id: f.userA, note: `evidence ${m}` },
        [{ filename: `scorecard-${m}.pdf`, type: 'application/pdf', data: Buffer.concat([PDF, Buffer.from(`\n% ${m}\n`)]) }]);
      return ok(r, 201, 'A uploads').id;
    };
    f.evA = await f.freshEvidence();
  });

  after(async () => {
    await Promise.all([moodle?.close(), moodle2?.close()]);
    await stack?.stop();
  });

  for (const row of MATRIX) {
    test(`${row.resource} / ${row.action}: ${row.label}`, async () => {
      const failures = [];
      // Refused roles first, so a role that succeeds never changes what the next one sees.
      const order = [...ROLES].sort((a, b) => (row.expect[a] < 300 ? 1 : 0) - (row.expect[b] < 300 ? 1 : 0));
      for (const role of order) {
        if (row.prepare) await row.prepare(f);
        const q = row.req(f, role);
        const api = u[role];
        const r = q.upload
          ? await api.upload('/api/v1/evidence', q.upload, [{ filename: `by-${role}.pdf`, type: 'application/pdf', data: Buffer.concat([PDF, Buffer.from(`\n% ${role}\n`)]) }])
          : await api.request(q[0], q[1], q[0] === 'GET' ? undefined : (q[2] ?? {}));
        const want = row.expect[role];
        const good = want === 404 || want === 403 ? (r.status === want || (DENY.includes(r.status) && DENY.includes(want))) : r.status === want;
        results.push({ resource: row.resource, action: row.action, label: row.label, role, expected: want, got: r.status });
        if (!good) failures.push(`${role}: expected ${want}, got ${r.status}\n    ${show(r)}`);
        else if (want === 404 || want === 403) {
          if (r.status !== want) failures.push(`${role}: refused with ${r.status}, docs/api.md says ${want}\n    ${show(r)}`);
          // A refusal never leaks A's data.
          assert.ok(!r.text.includes('Alice Authz'), `${role}: the refusal shows A's name: ${show(r)}`);
        }
        if (good && row.sees && role in row.sees) {
          const seen = row.find(r.body, f, r);
          if (seen !== row.sees[role]) failures.push(`${role}: ${row.sees[role] ? 'does not see' : 'sees'} learner A in the answer\n    ${show(r)}`);
        }
        if (row.check) await row.check(f, role, r);
      }
      assert.equal(failures.length, 0, `\n${failures.join('\n')}`);
    });
  }

  test('no session, or a forged token: 401 everywhere', async () => {
    const anon = new Api(stack.baseUrl, null, 'anonymous');
    const forged = new Api(stack.baseUrl, 'x'.repeat(43), 'forged');
    for (const c of [anon, forged]) {
      for (const [m, p] of [['GET', `/api/v1/enrolments/${f.enrolA}`], ['GET', `/api/v1/observations/${f.obsA}`], ['GET', `/api/v1/evidence/${f.evA}/download`],
        ['POST', `/api/v1/enrolments/${f.enrolA}/notes`], ['GET', '/api/v1/reports/progress?program=call-certification'], ['POST', '/api/v1/feedback-links']]) {
        const r = await c.request(m, p, m === 'POST' ? {} : undefined);
        assert.equal(r.status, 401, show(r));
      }
    }
  });

  test('the matrix as a table', () => {
    const rows = MATRIX.map((m) => `${`${m.resource} ${m.action} ${m.label}`.padEnd(80)} ${ROLES.map((role) => {
      const x = results.find((y) => y.label === m.label && y.role === role);
      return `${x ? x.got : '-'}${x && x.got !== x.expected ? `(!${x.expected})` : ''}`.padEnd(10);
    }).join('')}`);
    console.log(`\n${''.padEnd(81)}${ROLES.map((r) => r.slice(0, 9).padEnd(10)).join('')}\n${rows.join('\n')}`);
  });

  describe('audit tamper', () => {
    test('after the flows the audit chain verifies', async () => {
      const r = await stack.attest(['audit', 'verify']);
      assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
      const m = /audit log intact: (\d+) entr/.exec(r.stdout);
      assert.ok(m && Number(m[1]) > 20, r.stdout);
      const actions = (await sql(stack, 'SELECT DISTINCT action FROM audit')).split('\n');
      for (const a of ['enrolment.create', 'observation.submit', 'decision.confirm', 'decision.override', 'note.add']) {
        assert.ok(actions.some((x) => x === a), `no ${a} in the audit log: ${actions}`);
      }
      assert.ok(actions.some((x) => /^evidence\.review/.test(x)), `no evidence review in the audit log: ${actions}`);
    });

    test('an edited row (time) is named by verify; restoring it makes the chain whole again', async () => {
      const id = Number(await sql(stack, "SELECT MIN(id) FROM audit WHERE action = 'decision.confirm'"));
      assert.ok(id > 1, 'a decision.confirm row');
      await sql(stack, `UPDATE audit SET at = at + 1 WHERE id = ${id}`);
      let r = await stack.attest(['audit', 'verify']);
      assert.equal(r.code, 1, `${r.stdout}${r.stderr}`);
      assert.match(r.stdout, new RegExp(`audit log broken at entry ${id}\\b`), r.stdout);
      await sql(stack, `UPDATE audit SET at = at - 1 WHERE id = ${id}`);
      r = await stack.attest(['audit', 'verify']);
      assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
    });

    test('an edited score in an observation.submit row is named by verify', async () => {
      const id = Number(await sql(stack, "SELECT MIN(id) FROM audit WHERE action = 'observation.submit'"));
      const data = await sql(stack, `SELECT data FROM audit WHERE id = ${id}`);
      assert.match(data, /"score":\s*\d+/, data);
      await sql(stack, `UPDATE audit SET data = REPLACE(data, '"score":', '"score":1') WHERE id = ${id}`);
      assert.notEqual(await sql(stack, `SELECT data FROM audit WHERE id = ${id}`), data, 'the row was not changed');
      const r = await stack.attest(['audit', 'verify']);
      assert.equal(r.code, 1, `${r.stdout}${r.stderr}`);
      assert.match(r.stdout, new RegExp(`audit log broken at entry ${id}\\b`), r.stdout);
    });
  });
});
