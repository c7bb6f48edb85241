// sync-faults-lms.test.mjs: the outbox under a misbehaving LMS REST API — Canvas outcome
// results (rubric assessments) and Moodle competency ratings (web services), where
// sync-faults.test.mjs covers AGS scores. The LMS answers 500s, times out (answering too
// late after doing the write, or never), answers 429 with Retry-After, drops connections,
// is down for a while, and the worker is killed with SIGKILL in the middle of a delivery:
// afterwards every value is in the LMS exactly once, in order, nothing lost.
//
// Exactly once: Moodle's evidence log of each learner and competency holds one entry per
// rating Attest made, in order (a rating whose answer was lost is not written twice);
// Canvas's successive rubric assessments of each submission, with repeats of the same
// assessment (a write whose answer was lost, sent again) taken as one, are exactly the
// states Attest sent, in order, and the outcome results are the newest ratings.
//
//   make && node --test --test-concurrency=1 tests/e2e/sync-faults-lms.test.mjs
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Platform } from '../platform/platform.mjs';
import { startMoodle, ALL_CAPS } from '../lms/moodle.mjs';
import { startCanvas } from '../lms/canvas.mjs';
import { Stack } from './stack.mjs';
import { ok, sql } from './api-client.mjs';
import { PROGRAM, launchApi, deepLink, submitCall, startWorker, until, scoresOf } from './sync-helpers.mjs';

const nowSec = () => Math.floor(Date.now() / 1000);
const GRADE_FN = 'core_competency_grade_competency_in_course';

async function allDone(stack) {
  return (await sql(stack, "SELECT COUNT(*) FROM outbox WHERE status <> 'done'")) === '0';
}

async function withWorker(stack, args, fn) {
  const w = startWorker(stack, args);
  try {
    return await fn(w);
  } finally {
    if (w.exitCode === null && w.signalCode === null) w.kill('SIGTERM');
    const ex = await w.exited;
    assert.ok(ex.code === 0 || ex.signal === 'SIGKILL', `the worker exits cleanly: ${w.out.slice(-1500)}`);
  }
}

describe('LMS REST faults: Canvas outcome results and Moodle ratings', () => {
  let stack, moodle, canvas, mws, cws;
  const comps = new Map();	// Attest competency id -> idnumber

  before(async () => {
    [stack, moodle, canvas, mws, cws] = await Promise.all([
      Stack.start({ name: 'sync-faults-lms', env: { ATTEST_SYNC_WORKER: '0', ATTEST_LMS_TOTAL_MS: '1500', ATTEST_LMS_CONNECT_MS: '1000' } }),
      Platform.start({ flavor: 'moodle' }),
      Platform.start({ flavor: 'canvas' }),
      startMoodle({ tokens: { MWS: { userid: 2, caps: ALL_CAPS } } }),
      startCanvas({ tokens: { CWS: { userid: 1 } } }),
    ]);
    for (const p of [moodle, canvas]) {
      const reg = await p.dynamicRegister(`${stack.baseUrl}/lti/register`);
      assert.equal(reg.registration?.status, 200, `${p.flavor} registration failed`);
    }
    const mp = await sql(stack, "SELECT id FROM platform WHERE flavor = 'moodle'");
    const cp = await sql(stack, "SELECT id FROM platform WHERE flavor = 'canvas'");
    assert.equal((await stack.attest(['platform', 'set', mp, `lms_url=${mws.url}`, 'lms_token=MWS', 'moodle_scale=2'])).code, 0);
    assert.equal((await stack.attest(['platform', 'set', cp, `lms_url=${cws.url}`, 'lms_token=CWS'])).code, 0);
    for (const row of (await sql(stack, 'SELECT id, idnumber FROM competency')).split('\n')) {
      const [id, idn] = row.split('|');
      comps.set(Number(id), idn);
    }
  });

  after(async () => {
    await Promise.all([moodle?.close(), canvas?.close(), mws?.close(), cws?.close()]);
    await stack?.stop();
  });

  /** A course of platform p with the program placed, a teacher and enrolled learners (numeric ids). */
  async function course(p, C, ids) {
    const canvasFlavor = p.flavor === 'canvas';
    const dl = await deepLink(p, stack, { courseId: C, choose: [/^ESP agent call certification$/] });
    const link = dl.links[0];
    if (canvasFlavor) cws.addCourse(Number(C), { students: ids, assignments: [Number(link.assignmentId)] });
    const teacher = await launchApi(p, stack, { role: 'instructor', user: { sub: `${C}-t`, name: 'Tina Teacher', canvasId: 9000 + Number(C) }, courseId: C, linkId: link.linkId });
    const learners = {};
    for (const id of ids) {
      const sub = canvasFlavor ? `c-${id}` : String(id);
      if (!canvasFlavor) mws.enrol(Number(C), id, { gradable: true });
      const api = await launchApi(p, stack, { role: 'learner', user: { sub, name: `Learner ${id}`, canvasId: id }, courseId: C, linkId: link.linkId });
      const enrolment = ok(await teacher.post('/api/v1/enrolments', { program: PROGRAM, learner_id: api.userId }), 201, `enrol ${id}`).id;
      learners[id] = { id, sub, api, enrolment, sent: [] };
    }
    return { C: Number(C), p, link, teacher, learners, li: () => p.lineItems.get(link.lineItemId) };
  }

  let obsSeq = 0;
  async function observe(c, id, target) {
    const l = c.learners[id];
    await submitCall(c.teacher, l.enrolment, target, `${c.C}-${id}-${obsSeq++}`, nowSec() - 3600 + obsSeq * 30);
    l.sent.push(target);
  }

  /** The canvas_result items of a learner, in id order: {ratings: {competency idnumber: value}, comment}. */
  async function canvasItems(l) {
    const rows = (await sql(stack, `SELECT payload FROM outbox WHERE kind = 'canvas_result' AND payload LIKE '%"user_id":${l.api.userId},%' ORDER BY id`)).split('\n').filter(Boolean);
    return rows.map((r) => JSON.parse(r)).map((p) => ({ ratings: Object.fromEntries(p.ratings.map((x) => [comps.get(x.competency_id), x.value])), comment: p.comment }));
  }

  /** An assessment as comparable text: {competency: [points, comments]}, sorted. */
  const stateKey = (o) => JSON.stringify(Object.entries(o).sort());

  /** Canvas: assessments of the learner's submission, repeats taken as one, = the cumulative states sent; results = newest. */
  async function assertCanvasExactlyOnce(c, label) {
    const st = cws.state;
    const oc = (oid) => st.outcomes.find((o) => o.id === oid)?.vendor_guid;
    for (const l of Object.values(c.learners)) {
      const items = await canvasItems(l);
      // each item's assessment: every value sent so far, the item's comment on its own criteria
      const want = [];
      let acc = {};
      for (const it of items) {
        acc = { ...acc, ...it.ratings };
        want.push(stateKey(Object.fromEntries(Object.entries(acc).map(([k, v]) => [k, [v, k in it.ratings ? it.comment : '']]))));
      }
      const sub = st.submissions.get(`${c.link.assignmentId}:${l.id}`);
      assert.ok(sub, `${label}: ${l.id} has a submission`);
      const seen = st.assessments.filter((a) => a.submission === sub.id)
        .map((a) => stateKey(Object.fromEntries(a.data.filter((d) => d.points !== null).map((d) => [oc(d.learning_outcome_id), [d.points, d.comments]]))));
      const collapsed = seen.filter((s, i) => i === 0 || s !== seen[i - 1]);
      assert.deepEqual(collapsed, want, `${label}: ${l.id}'s rubric assessments, in order, once each (${seen.length} PUTs for ${items.length} items)`);
      const last = Object.fromEntries(Object.entries(acc).sort());
      const results = st.results.filter((r) => r.user === l.id && r.alignment === `assignment_${c.link.assignmentId}`);
      assert.deepEqual(Object.fromEntries(results.map((r) => [oc(r.outcome), r.score]).sort()), last, `${label}: ${l.id}'s outcome results are the newest ratings`);
      // and they are Attest's: the newest rating of each competency in the record
      const rec = ok(await c.teacher.get(`/api/v1/enrolments/${l.enrolment}/record`), 200, 'record');
      const newest = {};
      for (const r of rec.ratings) newest[r.competency] = r.value;
      assert.deepEqual(Object.fromEntries(Object.entries(newest).sort()), last, `${label}: ${l.id}: Canvas = Attest`);
      // AGS on Canvas: a score sent again with its own timestamp (its answer was lost) is
      // the same write; Canvas's result is the same
      const scores = scoresOf(c.li(), l.sub).filter((s, i, all) => i === 0 || s.timestamp !== all[i - 1].timestamp);
      assert.deepEqual(scores.map((s) => s.scoreGiven), l.sent, `${label}: ${l.id}'s scores`);
    }
  }

  /** Moodle: one evidence entry per rating Attest made, in order; the course rating is the newest. */
  async function assertMoodleExactlyOnce(c, label) {
    const st = mws.state;
    const fw = st.frameworks.find((f) => f.idnumber === 'CALL');
    for (const l of Object.values(c.learners)) {
      const rec = ok(await c.teacher.get(`/api/v1/enrolments/${l.enrolment}/record`), 200, 'record');
      const byComp = {};
      for (const r of rec.ratings) (byComp[r.competency] ||= []).push(r);
      assert.ok(Object.keys(byComp).length > 0);
      for (const [idn, list] of Object.entries(byComp)) {
        const mc = st.competencies.find((x) => x.competencyframeworkid === fw.id && x.idnumber === idn);
        const ev = st.evidence.filter((e) => e.userid === l.id && e.competencyid === mc.id && e.courseid === c.C).sort((a, b) => a.id - b.id);
        assert.deepEqual(ev.map((e) => [e.grade, /^Observation (\d+):/.exec(e.note)?.[1]]), list.map((r) => [r.value + 1, String(r.observation_id)]),
          `${label}: ${l.id} ${idn}: one Moodle evidence entry per rating, in order`);
        assert.equal(st.ucc.find((u) => u.userid === l.id && u.courseid === c.C && u.competencyid === mc.id).grade, list.at(-1).value + 1);
      }
      assert.deepEqual(scoresOf(c.li(), l.sub).map((s) => s.scoreGiven), l.sent, `${label}: ${l.id}'s scores`);
    }
  }

  test('Canvas: 500s, 429 + Retry-After, a dropped connection, answers too late or never — each result once, in order', async () => {
    const c = await course(canvas, '801', [5101, 5102]);
    const faults = [
      cws.fault({ mode: '500', path: /\/rubrics$/, count: 1 }),
      cws.fault({ mode: '500', path: /\/submissions\//, count: 2 }),
      cws.fault({ mode: '429', path: /\/submissions\//, retryAfter: 2 }),
      cws.fault({ mode: 'drop', path: /\/submissions\// }),
      cws.fault({ mode: 'slow', path: /\/submissions\//, delayMs: 2500 }),
      cws.fault({ mode: 'timeout', path: /\/submissions\// }),
    ];
    for (let i = 0; i < 3; i++) for (const id of [5101, 5102]) await observe(c, id, [85, 70, 100][(i + id) % 3]);
    await withWorker(stack, ['--batch', '4'], () => until(() => allDone(stack), 90000, 'every item delivered'));
    assert.ok(faults.every((f) => f.count === 0), `every fault was hit: ${JSON.stringify(faults.map((f) => [f.mode, f.hits]))}`);
    await assertCanvasExactlyOnce(c, 'faults');
    // Retry-After: the submission that got the 429 was not tried again before 2 s
    const f429 = faults[2];
    const hit = cws.state.requests.find((r) => r.fault === '429');
    const next = cws.state.requests.find((r) => r.at > hit.at && r.method === 'PUT' && r.path === hit.path);
    assert.ok(next, 'retried after the 429');
    assert.ok(next.at - f429.hitAt >= 1900, `retried ${next.at - f429.hitAt} ms after a 429 with Retry-After: 2`);
    const failed = Number(await sql(stack, "SELECT SUM(attempts - 1) FROM outbox WHERE kind = 'canvas_result'"));
    // (curl itself sends a request again once when a kept-alive connection is dropped)
    assert.ok(failed >= 6, `${failed} failed attempts for 7 faults`);
    const verify = await stack.attest(['sync', 'verify']);
    assert.equal(verify.code, 0, verify.stdout);
  });

  test('Canvas is down for a while: results wait and go out when it is back', async () => {
    const c = await course(canvas, '802', [5201, 5202]);
    await withWorker(stack, [], async () => {
      await until(() => allDone(stack), 30000, 'the course set up');
      cws.down(4000);
      const t0 = Date.now();
      for (let i = 0; i < 2; i++) for (const id of [5201, 5202]) await observe(c, id, [90, 70][i]);
      await new Promise((r) => setTimeout(r, 1200));
      assert.ok(!cws.state.requests.some((r) => r.at >= t0 && r.method === 'PUT' && r.status), 'nothing was taken while down');
      assert.ok(cws.state.requests.some((r) => r.at >= t0 && r.fault === 'down'), 'the worker tried');
      const failing = (await stack.attest(['sync', 'status'])).stdout;
      assert.match(failing, /^all\s+[1-9]\d*\s+[1-9]\d*\s+0\s+\d+/m, `pending and failing while down: ${failing}`);
      await until(() => allDone(stack), 60000, 'delivery after the outage');
    });
    await assertCanvasExactlyOnce(c, 'outage');
  });

  test('Canvas: the worker is killed (SIGKILL) in the middle of a delivery — nothing lost, nothing doubled', async () => {
    const c = await course(canvas, '803', [5301, 5302]);
    await withWorker(stack, [], () => until(() => allDone(stack), 30000, 'the course set up'));
    for (const id of [5301, 5302]) await observe(c, id, 85);
    cws.fault({ mode: 'slow', path: /\/submissions\//, count: 2, delayMs: 1200 });
    const n = cws.state.requests.length;
    await withWorker(stack, ['--lease', '3'], async (w) => {
      await until(() => cws.state.requests.slice(n).some((r) => r.fault === 'slow'), 20000, 'an assessment in flight');
      w.kill('SIGKILL');
      assert.equal((await w.exited).signal, 'SIGKILL');
    });
    assert.ok(Number(await sql(stack, "SELECT COUNT(*) FROM outbox WHERE kind = 'canvas_result' AND status = 'pending' AND lease_owner <> ''")) > 0, 'the killed worker left leased items');
    for (const id of [5301, 5302]) await observe(c, id, 100);
    await withWorker(stack, [], () => until(() => allDone(stack), 60000, 'delivery after the lease ran out'));
    await assertCanvasExactlyOnce(c, 'SIGKILL');
  });

  test('Moodle: 500s, 429 + Retry-After, maintenance, a dropped connection, answers too late or never — each rating once, in order', async () => {
    const c = await course(moodle, '81', [601, 602]);
    const faults = [
      mws.fault({ fn: GRADE_FN, status: 500, count: 2 }),
      mws.fault({ fn: GRADE_FN, status: 429, retryAfter: 2 }),
      mws.fault({ fn: GRADE_FN, errorcode: 'sitemaintenance', message: 'Site is undergoing maintenance' }),
      mws.fault({ fn: GRADE_FN, drop: true }),
      mws.fault({ fn: GRADE_FN, timeout: true, process: true, delayMs: 2500 }),
      mws.fault({ fn: GRADE_FN, timeout: true, process: false }),
      mws.fault({ fn: 'core_competency_add_competency_to_course', status: 503 }),
    ];
    for (let i = 0; i < 2; i++) for (const id of [601, 602]) await observe(c, id, [85, 70][(i + id) % 2]);
    await withWorker(stack, ['--batch', '8'], () => until(() => allDone(stack), 90000, 'every item delivered'));
    assert.ok(faults.every((f) => f.count === 0), `every fault was hit: ${JSON.stringify(faults.map((f) => [f.status || f.errorcode || (f.drop ? 'drop' : 'timeout'), f.hits]))}`);
    await assertMoodleExactlyOnce(c, 'faults');
    const hit = mws.state.requests.find((r) => r.fault === 429);
    assert.ok(hit, 'the 429 was answered');
    const verify = await stack.attest(['sync', 'verify']);
    assert.equal(verify.code, 0, verify.stdout);
  });

  test('Moodle is down for a while, then the worker is killed mid-delivery: nothing lost, nothing doubled', async () => {
    const c = await course(moodle, '82', [701, 702]);
    await withWorker(stack, [], async () => {
      await until(() => allDone(stack), 30000, 'the course set up');
      mws.down(4000);
      for (const id of [701, 702]) await observe(c, id, 90);
      await new Promise((r) => setTimeout(r, 1200));
      assert.ok(Number(await sql(stack, "SELECT COUNT(*) FROM outbox WHERE kind = 'moodle_rating' AND status = 'pending' AND attempts > 0")) > 0, 'ratings failing while down');
      await until(() => allDone(stack), 60000, 'delivery after the outage');
    });
    for (const id of [701, 702]) await observe(c, id, 70);
    mws.fault({ fn: GRADE_FN, timeout: true, process: true, delayMs: 1200, count: 3 });
    const n = mws.state.requests.length;
    await withWorker(stack, ['--lease', '3'], async (w) => {
      await until(() => mws.state.requests.slice(n).some((r) => r.fault === 'timeout'), 20000, 'a rating in flight');
      w.kill('SIGKILL');
      assert.equal((await w.exited).signal, 'SIGKILL');
    });
    for (const id of [701, 702]) await observe(c, id, 100);
    await withWorker(stack, [], () => until(() => allDone(stack), 60000, 'delivery after the lease ran out'));
    await assertMoodleExactlyOnce(c, 'outage + SIGKILL');
  });
});
