// sync-lms.test.mjs: `attest sync once` delivers Moodle competency ratings and Canvas outcome
// results through the real worker and handlers (lti/sync.c, lti/lms_moodle.c,
// lti/lms_canvas.c) to the emulated Moodle web services and Canvas API (tests/lms/).
// The courses, learners, placements and outbox items are written straight into a SQLite
// database here (the launch and observation paths that normally create them have their own
// suites); everything after that — framework push, scale, tree, rules, course link,
// ratings, rubric, assessments, errors, retries — is the product's.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startMoodle, ALL_CAPS, CAPS } from '../lms/moodle.mjs';
import { startCanvas } from '../lms/canvas.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = process.env.ATTEST_BIN || path.join(root, 'bin/attest');
let dir, env, moodle, canvas;

const attest = (...args) => execFileSync(BIN, args, { env, encoding: 'utf8' });
const sql = (q) => execFileSync('sqlite3', [path.join(dir, 'attest.db'), q], { encoding: 'utf8' }).trim();
// async: the emulators live in this process, so the worker must not block its event loop
const syncOnce = () => new Promise((resolve, reject) => {
  const ch = spawn(BIN, ['sync', 'once'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  ch.stderr.on('data', (d) => { err += d; });
  const timer = setTimeout(() => ch.kill(), 60000);
  ch.on('error', reject);
  ch.on('close', (code) => { clearTimeout(timer); code === 0 ? resolve() : reject(new Error(`attest sync once: ${code}: ${err}`)); });
});
const item = (id) => {
  const [status, attempts, lastStatus, nextAt, ...err] = sql(`SELECT status, attempts, last_status, next_at_ms, last_error FROM outbox WHERE id = ${id}`).split('|');
  return { status, attempts: Number(attempts), lastStatus: Number(lastStatus), nextAt: Number(nextAt), error: err.join('|') };
};
const now = () => Date.now();
function enqueue(platform, kind, orderKey, payload) {
  const t = now();
  const q = `INSERT INTO outbox (platform_id, kind, order_key, idem_key, payload, next_at_ms, created_at, updated_at)
    VALUES (${platform}, '${kind}', '${orderKey}', '${kind}:${t}:${Math.random()}', '${JSON.stringify(payload).replace(/'/g, "''")}', 0, ${Math.floor(t / 1000)}, ${Math.floor(t / 1000)}) RETURNING id`;
  return Number(sql(q));
}
const dueNow = (id) => sql(`UPDATE outbox SET next_at_ms = 0 WHERE id = ${id}`);
const compId = (idn) => Number(sql(`SELECT c.id FROM competency c JOIN framework f ON f.id = c.framework_id WHERE f.idnumber = 'CALL' AND c.idnumber = '${idn}'`));
const fwId = () => Number(sql("SELECT id FROM framework WHERE idnumber = 'CALL'"));

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'attest-sync-lms-'));
  env = {
    ...process.env, ATTEST_DATABASE: `sqlite:${dir}/attest.db`, ATTEST_KEYS_DIR: `${dir}/keys`,
    ATTEST_BASE_URL: 'https://attest.test', ATTEST_LMS_ALLOW_HTTP: '1', ATTEST_LMS_TOTAL_MS: '2000', ATTEST_LOG_LEVEL: '1',
  };
  delete env.ATTEST_CONFIG;
  moodle = await startMoodle({ tokens: { MT: { userid: 2, caps: ALL_CAPS }, WEAK: { userid: 3, caps: [CAPS.rest, CAPS.view] } }, courses: [2] });
  moodle.enrol(2, 7, { gradable: true });
  moodle.enrol(2, 8, { gradable: false });
  canvas = await startCanvas({ tokens: { CT: { userid: 1 } } });
  canvas.addCourse(5, { students: [7], assignments: [9] });

  attest('platform', 'add', '--preset', 'moodle', '--url', moodle.url, '--client-id', 'moodle-client');
  attest('platform', 'set', '1', `lms_url=${moodle.url}`, 'lms_token=MT', 'moodle_scale=2');
  attest('platform', 'add', '--preset', 'canvas', '--client-id', 'canvas-client');
  attest('platform', 'set', '2', `lms_url=${canvas.url}`, 'lms_token=CT');
  attest('framework', 'import', path.join(root, 'examples/frameworks/call-certification.csv'));
  attest('program', 'import', path.join(root, 'examples/programs/call-certification.json'));
  const t = Math.floor(now() / 1000);
  sql(`INSERT INTO context (id, platform_id, context_id, lms_course_id, created_at, updated_at) VALUES (1, 1, '2', '2', ${t}, ${t}), (2, 2, 'ctx-canvas', '5', ${t}, ${t});
    INSERT INTO app_user (id, platform_id, sub, lms_user_id, created_at, updated_at) VALUES (1, 1, '7', '', ${t}, ${t}), (2, 1, '8', '', ${t}, ${t}), (3, 2, 'c0ffee', '7', ${t}, ${t}), (4, 2, 'dead', '', ${t}, ${t});
    INSERT INTO resource_link (id, context_id, link_id, lms_assignment_id, created_at, updated_at) VALUES (1, 2, 'rl-1', '9', ${t}, ${t});
    INSERT INTO placement (id, context_id, program_id, resource_id, link_id, created_at) VALUES (1, 2, (SELECT MIN(id) FROM program), 'res-1', 'rl-1', ${t});`);
});

after(async () => {
  await moodle?.close();
  await canvas?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('a Moodle rating pushes the framework first, then rates the learner with the evidence URL', async () => {
  const greet = compId('CALL-OPEN-GREET');
  const id = enqueue(1, 'moodle_rating', 'moodle_rating:1:1:greet', {
    framework_id: fwId(), competency_id: greet, context_id: 1, user_id: 1, grade: 2,
    note: 'Observed call 3: greeting by the script.', evidence_url: 'https://attest.test/app/evidence/41',
  });
  await syncOnce();
  assert.equal(item(id).status, 'done', item(id).error);
  const st = moodle.state;
  const fw = st.frameworks.find((f) => f.idnumber === 'CALL');
  assert.ok(fw, 'framework created');
  assert.equal(fw.scaleid, 2);
  assert.deepEqual(JSON.parse(fw.scaleconfiguration), [{ scaleid: '2' }, { id: 1, scaledefault: 0, proficient: 0 }, { id: 2, scaledefault: 1, proficient: 1 }]);
  const comps = st.competencies.filter((c) => c.competencyframeworkid === fw.id);
  assert.equal(comps.length, Number(sql(`SELECT COUNT(*) FROM competency WHERE framework_id = ${fwId()}`)));
  const byIdn = Object.fromEntries(comps.map((c) => [c.idnumber, c]));
  // the tree: every parent's Moodle id is in its children's paths
  for (const row of sql(`SELECT c.idnumber, COALESCE(p.idnumber, '') FROM competency c LEFT JOIN competency p ON p.id = c.parent_id WHERE c.framework_id = ${fwId()}`).split('\n')) {
    const [idn, parent] = row.split('|');
    assert.equal(byIdn[idn].parentid, parent ? byIdn[parent].id : 0, idn);
    assert.ok(byIdn[idn].path.endsWith(`/${parent ? byIdn[parent].id : 0}/`), `${idn} path ${byIdn[idn].path}`);
  }
  assert.equal(byIdn['CALL-OPEN'].ruletype, 'core_competency\\competency_rule_all');
  assert.equal(byIdn['CALL-OPEN'].ruleoutcome, 2);
  assert.equal(st.coursecomps.filter((x) => x.courseid === 2).length, comps.length, 'every competency linked to the course');
  const ucc = st.ucc.find((u) => u.userid === 7 && u.competencyid === byIdn['CALL-OPEN-GREET'].id);
  assert.equal(ucc.grade, 2);
  assert.equal(ucc.proficiency, 1);
  const ev = st.evidence.at(-1);
  assert.equal(ev.note, 'Observed call 3: greeting by the script.\nEvidence: https://attest.test/app/evidence/41');
  assert.equal(ev.descidentifier, 'evidence_manualoverrideincourse');
});

test('pushing again creates nothing twice; a second rating overrides the first', async () => {
  const before = moodle.state.competencies.length;
  const creates = moodle.state.calls.filter((c) => c.fn === 'core_competency_create_competency').length;
  const id = enqueue(1, 'moodle_framework', 'moodle_framework:1', { framework_id: fwId(), context_id: 1 });
  const r = enqueue(1, 'moodle_rating', 'moodle_rating:1:1:greet', {
    framework_id: fwId(), competency_id: compId('CALL-OPEN-GREET'), context_id: 1, user_id: 1, grade: 1, note: 'Call 4: skipped the name.', evidence_url: '',
  });
  await syncOnce();
  assert.equal(item(id).status, 'done', item(id).error);
  assert.equal(item(r).status, 'done', item(r).error);
  assert.equal(moodle.state.competencies.length, before);
  assert.equal(moodle.state.calls.filter((c) => c.fn === 'core_competency_create_competency').length, creates);
  const ucc = moodle.state.ucc.find((u) => u.userid === 7);
  assert.equal(ucc.grade, 1);
  assert.equal(ucc.proficiency, 0);
});

test("Moodle's errors are parked with their errorcode and message; maintenance is retried", async () => {
  const notGradable = enqueue(1, 'moodle_rating', 'moodle_rating:1:2:greet', {
    framework_id: fwId(), competency_id: compId('CALL-OPEN-GREET'), context_id: 1, user_id: 2, grade: 2, note: 'x', evidence_url: '',
  });
  await syncOnce();
  const p = item(notGradable);
  assert.equal(p.status, 'parked');
  assert.match(p.error, /codingerror: .*may not be rated at this time/);
  moodle.fault({ fn: 'core_competency_grade_competency_in_course', errorcode: 'sitemaintenance', message: 'Site is undergoing maintenance' });
  const maint = enqueue(1, 'moodle_rating', 'moodle_rating:1:1:open', {
    framework_id: fwId(), competency_id: compId('CALL-OPEN'), context_id: 1, user_id: 1, grade: 2, note: 'x', evidence_url: '',
  });
  await syncOnce();
  const m = item(maint);
  assert.equal(m.status, 'pending');
  assert.match(m.error, /sitemaintenance/);
  dueNow(maint);
  await syncOnce();
  assert.equal(item(maint).status, 'done', item(maint).error);

  attest('platform', 'set', '1', 'lms_token=WEAK');
  const weak = enqueue(1, 'moodle_rating', 'moodle_rating:1:1:greet', {
    framework_id: fwId(), competency_id: compId('CALL-OPEN-GREET'), context_id: 1, user_id: 1, grade: 2, note: 'x', evidence_url: '',
  });
  await syncOnce();
  assert.equal(item(weak).status, 'parked');
  assert.match(item(weak).error, /nopermissions: Sorry, but you do not currently have permissions/);
  attest('platform', 'set', '1', 'lms_token=bogus');
  const bad = enqueue(1, 'moodle_rating', 'moodle_rating:1:1:greet2', {
    framework_id: fwId(), competency_id: compId('CALL-OPEN-GREET'), context_id: 1, user_id: 1, grade: 2, note: 'x', evidence_url: '',
  });
  await syncOnce();
  assert.match(item(bad).error, /invalidtoken: Invalid token - token not found/);
  assert.equal(item(bad).status, 'parked');
  attest('platform', 'set', '1', 'lms_token=MT');
});

test('Canvas: outcome groups and outcomes, a rubric on the assignment, and assessments become outcome results', async () => {
  const fw = fwId();
  const greet = compId('CALL-OPEN-GREET');
  const open = compId('CALL-OPEN');
  const a = enqueue(2, 'canvas_result', 'canvas_result:1:3', { framework_id: fw, placement_id: 1, context_id: 2, user_id: 3, ratings: [{ competency_id: greet, value: 1 }], comment: 'Call 3' });
  const b = enqueue(2, 'canvas_result', 'canvas_result:1:3', { framework_id: fw, placement_id: 1, context_id: 2, user_id: 3, ratings: [{ competency_id: open, value: 0 }], comment: 'Call 4' });
  await syncOnce();
  await syncOnce();	// b waits for a (same order key)
  assert.equal(item(a).status, 'done', item(a).error);
  assert.equal(item(b).status, 'done', item(b).error);
  const st = canvas.state;
  const fwGroup = st.groups.find((g) => g.vendor_guid === 'CALL');
  assert.ok(fwGroup, 'framework group');
  assert.equal(fwGroup.parent, st.courses.get(5).root);
  const n = Number(sql(`SELECT COUNT(*) FROM competency WHERE framework_id = ${fw}`));
  assert.equal(st.outcomes.length, n);
  const o = st.outcomes.find((x) => x.vendor_guid === 'CALL-OPEN-GREET');
  assert.deepEqual(o.ratings, [{ description: 'Competent', points: 1 }, { description: 'Not yet competent', points: 0 }]);
  assert.equal(o.mastery_points, 1);
  assert.equal(o.calculation_method, 'latest');
  // the outcome of a parent sits in the parent's own subgroup; its children's too
  const openGroup = st.groups.find((g) => g.vendor_guid === 'CALL-OPEN');
  assert.ok(st.links.some((l) => l.group === openGroup.id && l.outcome === o.id));
  const assoc = st.associations.find((x) => x.association_type === 'Assignment' && x.association_id === 9);
  const rubric = st.rubrics.find((r) => r.id === assoc.rubric_id);
  assert.equal(rubric.data.length, n);
  assert.ok(rubric.data.every((c) => c.learning_outcome_id));
  // both ratings survive: the second assessment carried the first one's value along
  const res = st.results.filter((x) => x.user === 7);
  const score = (idn) => res.find((x) => x.outcome === st.outcomes.find((q) => q.vendor_guid === idn).id)?.score;
  assert.equal(score('CALL-OPEN-GREET'), 1);
  assert.equal(score('CALL-OPEN'), 0);
  assert.equal(res.length, 2);
});

test('Canvas faults: 500 and 429 are retried (Retry-After honoured), a dropped connection too; 404 is parked with its message', async () => {
  const fw = fwId();
  const greet = compId('CALL-OPEN-GREET');
  canvas.fault({ mode: '500', path: /submissions/, count: 1 });
  const x = enqueue(2, 'canvas_result', 'canvas_result:1:3', { framework_id: fw, placement_id: 1, context_id: 2, user_id: 3, ratings: [{ competency_id: greet, value: 0 }], comment: '' });
  await syncOnce();
  assert.equal(item(x).status, 'pending');
  assert.equal(item(x).lastStatus, 500);
  canvas.fault({ mode: '429', path: /submissions/, retryAfter: 30 });
  dueNow(x);
  const t0 = now();
  await syncOnce();
  assert.equal(item(x).lastStatus, 429);
  assert.ok(item(x).nextAt >= t0 + 29000, 'Retry-After: 30 honoured');
  canvas.fault({ mode: 'drop', path: /submissions/ });
  dueNow(x);
  await syncOnce();
  assert.equal(item(x).status, 'pending');
  assert.equal(item(x).lastStatus, 0);
  dueNow(x);
  await syncOnce();
  assert.equal(item(x).status, 'done', item(x).error);
  assert.equal(canvas.state.results.find((r) => r.user === 7 && r.outcome === canvas.state.outcomes.find((q) => q.vendor_guid === 'CALL-OPEN-GREET').id).score, 0);

  sql("UPDATE app_user SET lms_user_id = '99' WHERE id = 4");
  const y = enqueue(2, 'canvas_result', 'canvas_result:1:4', { framework_id: fw, placement_id: 1, context_id: 2, user_id: 4, ratings: [{ competency_id: greet, value: 1 }], comment: '' });
  await syncOnce();
  assert.equal(item(y).status, 'parked');
  assert.equal(item(y).lastStatus, 404);
  assert.match(item(y).error, /The specified resource does not exist/);
});
