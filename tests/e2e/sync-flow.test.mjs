// sync-flow.test.mjs: the whole of issue 5 end to end, for both LMS flavours on one stack —
// an instructor deep links the program and its checklist (the picker, the signed
// LtiDeepLinkingResponse, the lineItem), learners launch the placed links, observations are
// submitted through the API until the rule proposes a decision, the instructor confirms it,
// and the stack's OWN `attest sync run` worker (deploy/stack.sh, ATTEST_SYNC_WORKER=1)
// delivers everything. Then: the gradebook (one line item per placement), every score in
// order and the final grade; the Moodle competency ratings (Moodle web-service emulator:
// course = LTI context id, user = LTI sub) and the Canvas outcome results (Canvas API
// emulator: the $Canvas.* ids the platform emulator substitutes) against Attest's ratings
// read from Attest's API; `attest sync verify` agreeing, and finding what was changed behind
// Attest's back; and the admin sync API (/api/v1/sync/...).
//
//   make && node --test --test-concurrency=1 tests/e2e/sync-flow.test.mjs
//   ATTEST_E2E_DB=pg node --test tests/e2e/sync-flow.test.mjs   (one database only)
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Platform } from '../platform/platform.mjs';
import { startMoodle, ALL_CAPS } from '../lms/moodle.mjs';
import { startCanvas } from '../lms/canvas.mjs';
import { Stack } from './stack.mjs';
import { ok, sql } from './api-client.mjs';
import { PROGRAM, launchApi, deepLink, submitCall, until, scoresOf } from './sync-helpers.mjs';

const DBS = process.env.ATTEST_E2E_DB ? [process.env.ATTEST_E2E_DB] : ['sqlite', 'pg'];
const nowSec = () => Math.floor(Date.now() / 1000);
const PROGRAM_TITLE = 'ESP agent call certification';
const CHECKLIST_TITLE = 'Certification call scorecard';

/** Nothing pending (the stack's worker has delivered or parked everything). */
async function settled(stack) {
  return (await sql(stack, "SELECT COUNT(*) FROM outbox WHERE status = 'pending'")) === '0';
}

async function count(stack, where) {
  return Number(await sql(stack, `SELECT COUNT(*) FROM outbox WHERE ${where}`));
}

/**
 * One course of platform p, with the program and its checklist deep linked, a teacher who
 * launched both links, and learners who launched; observations per learner from `plans`
 * until the rule proposes a decision, which the teacher confirms.
 */
async function runCourse(p, stack, { courseId, teacher: tUser, learners: lUsers, plans, onPlaced = () => {} }) {
  const dl = await deepLink(p, stack, { courseId, user: tUser, choose: [new RegExp(`^${PROGRAM_TITLE}$`), new RegExp(`^${CHECKLIST_TITLE}$`)] });
  onPlaced(dl);
  assert.equal(dl.contentItems.length, 2, 'two placed items');
  for (const ci of dl.contentItems) {
    assert.equal(ci.type, 'ltiResourceLink');
    assert.ok(ci.lineItem, `the content item has a lineItem: ${JSON.stringify(ci)}`);
    assert.equal(ci.lineItem.scoreMaximum, 100);
    assert.equal(ci.lineItem.label, ci.title);
    assert.equal(ci.lineItem.tag, 'attest');
    assert.equal(ci.custom.attest_placement, ci.lineItem.resourceId);
  }
  const program = dl.links.find((l) => l.title === PROGRAM_TITLE);
  const checklist = dl.links.find((l) => l.title === CHECKLIST_TITLE);
  assert.ok(program?.lineItemId && checklist?.lineItemId, 'the platform made a line item per placed link');
  const teacher = await launchApi(p, stack, { role: 'instructor', user: tUser, courseId, linkId: program.linkId });
  await launchApi(p, stack, { role: 'instructor', user: tUser, courseId, linkId: checklist.linkId });
  const learners = {};
  for (const [i, u] of lUsers.entries()) {
    const api = await launchApi(p, stack, { role: 'learner', user: u, courseId, linkId: i % 2 ? checklist.linkId : program.linkId });
    const enrolment = ok(await teacher.post('/api/v1/enrolments', { program: PROGRAM, learner_id: api.userId }), 201, `enrol ${u.sub}`).id;
    learners[u.sub] = { api, user: u, enrolment, sent: [], observations: [] };
  }
  for (const [sub, plan] of Object.entries(plans)) {
    const l = learners[sub];
    let proposal = null;
    for (const [i, target] of plan.entries()) {
      const s = await submitCall(teacher, l.enrolment, target, `${courseId}-${sub}-${i}`, nowSec() - 7200 + i * 60);
      l.sent.push(target);
      l.observations.push(s.id);
      const ev = await teacher.post(`/api/v1/enrolments/${l.enrolment}/evaluate`);
      if (ev.status === 200 && ev.body?.status === 'pending') continue;
      proposal = ok(ev, 201, `${sub}: evaluate after ${i + 1} calls`);
      break;
    }
    assert.ok(proposal, `${sub}: the rule proposed a decision within ${plan.length} calls`);
    ok(await teacher.post(`/api/v1/decisions/${proposal.id}/confirm`), 200, `${sub}: confirm`);
    l.outcome = proposal.outcome;
    l.final = ['fail', 'not_yet', 'pending'].includes(proposal.outcome) ? 0 : 100;
  }
  for (const l of Object.values(learners)) {
    l.current = ok(await teacher.get(`/api/v1/enrolments/${l.enrolment}`), 200, 'enrolment').ratings.filter((r) => r.value !== null);
    l.record = ok(await teacher.get(`/api/v1/enrolments/${l.enrolment}/record`), 200, 'record');
    assert.ok(l.current.length > 0, 'the observations rated competencies');
  }
  const context = await sql(stack, `SELECT c.id FROM context c JOIN placement p ON p.context_id = c.id WHERE p.link_id = '${program.linkId}'`);
  return { dl, program, checklist, teacher, learners, context };
}

/** The gradebook: one line item per placement, each learner's scores in order, the final grade. */
async function assertGradebook(p, stack, c, courseId) {
  const gb = p.gradebook(courseId);
  assert.equal(gb.length, 2, `exactly one line item per placement: ${JSON.stringify(gb.map((li) => li.label))}`);
  const placements = (await sql(stack, `SELECT p.resource_id, p.title, p.score_max FROM placement p WHERE p.context_id = ${c.context} ORDER BY p.id`)).split('\n').map((r) => r.split('|'));
  assert.equal(placements.length, 2);
  assert.deepEqual(gb.map((li) => li.resourceId).sort(), placements.map((r) => r[0]).sort(), 'line items found by resourceId');
  for (const [rid, title, max] of placements) {
    const li = gb.find((x) => x.resourceId === rid);
    assert.equal(li.label, title);
    assert.equal(li.tag, 'attest');
    assert.equal(li.scoreMaximum, Number(max) / 100);
  }
  const prog = p.lineItems.get(c.program.lineItemId);
  const chk = p.lineItems.get(c.checklist.lineItemId);
  for (const [sub, l] of Object.entries(c.learners)) {
    const ps = scoresOf(prog, sub);
    assert.deepEqual(ps.map((s) => s.scoreGiven), [...l.sent, l.final], `${sub}: running results, then the final grade, in order, once each`);
    assert.ok(ps.slice(0, -1).every((s) => s.activityProgress === 'InProgress' && s.gradingProgress === 'FullyGraded' && s.scoreMaximum === 100));
    assert.equal(ps.at(-1).activityProgress, 'Completed');
    assert.equal(ps.at(-1).comment, `Certification decision: ${l.outcome}`);
    assert.equal(prog.results.get(sub).resultScore, l.final, `${sub}: the final grade stands`);
    assert.deepEqual(scoresOf(chk, sub).map((s) => s.scoreGiven), l.sent, `${sub}: the checklist column holds the calls`);
    assert.ok(scoresOf(chk, sub).every((s) => s.activityProgress === 'Completed'));
    assert.equal(chk.results.get(sub).resultScore, l.sent.at(-1));
    for (const li of [prog, chk]) {
      const secs = scoresOf(li, sub).map((s) => Math.floor(Date.parse(s.timestamp) / 1000));
      for (let i = 1; i < secs.length; i++) assert.ok(secs[i] > secs[i - 1], `${sub}: strictly later seconds`);
    }
  }
}

/** Attest's ratings per competency idnumber: {current (reconciled), latest by an observation, history}. */
function attestRatings(l) {
  const byComp = {};
  for (const r of l.record.ratings) {
    if (r.observation_id === null || r.observation_id === undefined) continue;
    (byComp[r.competency] ||= []).push(r);
  }
  for (const h of Object.values(byComp)) h.sort((a, b) => l.observations.indexOf(a.observation_id) - l.observations.indexOf(b.observation_id) || a.id - b.id);
  return byComp;
}

/** `attest sync verify ...args`: {code, stdout, lines (mismatch/unreadable), summary}. */
async function verify(stack, args = []) {
  const r = await stack.attest(['sync', 'verify', ...args], { timeoutMs: 120000 });
  const lines = r.stdout.split('\n').filter((x) => /^(mismatch|unreadable)\t/.test(x));
  const m = /^verify: (\d+) checked, (\d+) match, (\d+) differ, (\d+) could not be read back; (\d+) items/m.exec(r.stdout);
  assert.ok(m, `verify printed no summary (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  const [checked, match, differ, unreadable, undelivered] = m.slice(1).map(Number);
  return { ...r, lines, checked, match, differ, unreadable, undelivered };
}

for (const db of DBS) {
  describe(`sync flow end to end: Moodle and Canvas on one stack (${db})`, () => {
    let stack, moodle, canvas, mws, cws;
    let moodlePid, canvasPid;
    let M, K;	// the two courses' results
    const MC = '61';
    const CC = '702';
    const mUsers = { teacher: { sub: '300', name: 'Tess Teacher' }, learners: [{ sub: '301', name: 'Lou One' }, { sub: '302', name: 'Lia Two' }] };
    const cUsers = { teacher: { sub: 'c-teacher', name: 'Cam Teacher', canvasId: 4100 }, learners: [{ sub: 'c-l1', name: 'Cal One', canvasId: 4101 }, { sub: 'c-l2', name: 'Cy Two', canvasId: 4102 }] };
    const plans = (a, b) => ({ [a]: [90, 85, 70, 95, 100, 100], [b]: [84, 100, 60, 70, 90, 88] });

    before(async () => {
      [stack, moodle, canvas, mws, cws] = await Promise.all([
        Stack.start({ name: `sync-flow-${db}`, db, env: { ATTEST_SYNC_WORKER: '1' } }),
        Platform.start({ flavor: 'moodle' }),
        Platform.start({ flavor: 'canvas' }),
        startMoodle({ tokens: { MWS: { userid: 2, caps: ALL_CAPS } }, courses: [Number(MC)] }),
        startCanvas({ tokens: { CWS: { userid: 1 } } }),
      ]);
      for (const p of [moodle, canvas]) {
        const reg = await p.dynamicRegister(`${stack.baseUrl}/lti/register`);
        assert.equal(reg.registration?.status, 200, `${p.flavor} registration failed`);
      }
      moodlePid = await sql(stack, "SELECT id FROM platform WHERE flavor = 'moodle'");
      canvasPid = await sql(stack, "SELECT id FROM platform WHERE flavor = 'canvas'");
      // Moodle: the course is the LTI context id, users are the LTI subs; learners gradable
      for (const u of mUsers.learners) mws.enrol(Number(MC), Number(u.sub), { gradable: true });
      let r = await stack.attest(['platform', 'set', moodlePid, `lms_url=${mws.url}`, 'lms_token=MWS', 'moodle_scale=2']);
      assert.equal(r.code, 0, r.stderr);
      r = await stack.attest(['platform', 'set', canvasPid, `lms_url=${cws.url}`, 'lms_token=CWS']);
      assert.equal(r.code, 0, r.stderr);
      // the stack runs its own worker (deploy/stack.sh): nobody runs `attest sync once` here
      assert.ok(fs.existsSync(path.join(stack.varDir, 'run', 'attest-sync.pid')), 'the stack started attest sync run');
    });

    after(async () => {
      await Promise.all([moodle?.close(), canvas?.close(), mws?.close(), cws?.close()]);
      await stack?.stop();
    });

    test('Moodle: deep link, launches, observations, a confirmed decision — the stack\'s worker delivers it all', async () => {
      M = await runCourse(moodle, stack, { courseId: MC, teacher: mUsers.teacher, learners: mUsers.learners, plans: plans('301', '302') });
      assert.equal(M.learners['301'].outcome, 'pass');
      assert.equal(M.learners['302'].outcome, 'fail');
      await until(() => settled(stack), 120000, 'the stack\'s worker to deliver the Moodle course');
      assert.equal(await count(stack, `platform_id = ${moodlePid} AND status <> 'done'`), 0, (await stack.attest(['sync', 'list', '--status', 'all'])).stdout);
      assert.ok(await count(stack, `platform_id = ${moodlePid} AND kind = 'moodle_rating'`) > 0, 'ratings were queued');
      await assertGradebook(moodle, stack, M, MC);
    });

    test('Moodle: competency ratings are Attest\'s ratings (scale value + 1), with notes linking the observation', async () => {
      const fw = mws.state.frameworks.find((f) => f.idnumber === 'CALL');
      assert.ok(fw, 'the framework was pushed');
      const mcomp = (idn) => mws.state.competencies.find((c) => c.competencyframeworkid === fw.id && c.idnumber === idn);
      for (const [sub, l] of Object.entries(M.learners)) {
        const history = attestRatings(l);
        for (const r of l.current) {
          const mc = mcomp(r.competency);
          assert.ok(mc, `${r.competency} is in Moodle`);
          assert.ok(mws.state.coursecomps.some((x) => x.courseid === Number(MC) && x.competencyid === mc.id), `${r.competency} linked to the course`);
          const ucc = mws.state.ucc.find((u) => u.userid === Number(sub) && u.courseid === Number(MC) && u.competencyid === mc.id);
          assert.ok(ucc, `${sub} ${r.competency}: rated in Moodle`);
          assert.equal(ucc.grade, r.value + 1, `${sub} ${r.competency}: Moodle grade = Attest's rating ${r.value} + 1`);
          // the evidence log: one entry per observation that rated it, in order, then the decision's
          const ev = mws.state.evidence.filter((e) => e.userid === Number(sub) && e.competencyid === mc.id && e.courseid === Number(MC)).sort((a, b) => a.id - b.id);
          const hist = history[r.competency] || [];
          assert.equal(ev.length, hist.length + 1, `${sub} ${r.competency}: ${hist.length} observation ratings + the decision: ${JSON.stringify(ev.map((e) => e.note))}`);
          for (const [i, h] of hist.entries()) {
            assert.equal(ev[i].grade, h.value + 1, `${sub} ${r.competency}: rating ${i + 1}`);
            assert.ok(ev[i].note.includes(`Evidence: ${stack.baseUrl}/app/observations/${h.observation_id}`), `note links the observation: ${ev[i].note}`);
            assert.match(ev[i].note, new RegExp(`^Observation ${h.observation_id}: `));
          }
          assert.equal(ev.at(-1).grade, r.value + 1);
          assert.ok(ev.at(-1).note.startsWith(`Certification decision: ${l.outcome}`), ev.at(-1).note);
          assert.ok(ev.at(-1).note.includes(`${stack.baseUrl}/api/v1/enrolments/${l.enrolment}/record`));
        }
        // nothing rated in Moodle that Attest did not rate
        const rated = new Set(l.current.map((r) => mcomp(r.competency).id));
        assert.ok(mws.state.ucc.filter((u) => u.userid === Number(sub)).every((u) => rated.has(u.competencyid)));
      }
    });

    test('Canvas: deep link, launches with $Canvas.* ids, observations, a confirmed decision — delivered', async () => {
      // the Canvas API knows the same ids the platform substitutes: course, users, assignments
      // (the assignments are the ones Canvas made for the deep-linked line items)
      K = await runCourse(canvas, stack, {
        courseId: CC, teacher: cUsers.teacher, learners: cUsers.learners, plans: plans('c-l1', 'c-l2'),
        onPlaced: (dl) => cws.addCourse(Number(CC), { students: cUsers.learners.map((u) => u.canvasId), assignments: dl.links.map((l) => Number(l.assignmentId)) }),
      });
      assert.equal(await sql(stack, `SELECT lms_course_id FROM context WHERE id = ${K.context}`), CC);
      for (const l of Object.values(K.learners)) {
        assert.equal(await sql(stack, `SELECT lms_user_id FROM app_user WHERE id = ${l.api.userId}`), String(l.user.canvasId));
      }
      for (const link of [K.program, K.checklist]) {
        assert.equal(await sql(stack, `SELECT lms_assignment_id FROM resource_link WHERE link_id = '${link.linkId}'`), link.assignmentId);
      }
      await until(() => settled(stack), 120000, 'the stack\'s worker to deliver the Canvas course');
      assert.equal(await count(stack, `platform_id = ${canvasPid} AND status <> 'done'`), 0, (await stack.attest(['sync', 'list', '--status', 'all'])).stdout);
      await assertGradebook(canvas, stack, K, CC);
      const prog = canvas.lineItems.get(K.program.lineItemId);
      for (const sub of Object.keys(K.learners)) {
        for (const s of scoresOf(prog, sub)) assert.ok(s['https://canvas.instructure.com/lti/submission'], 'the Canvas submission extension');
      }
    });

    test('Canvas: outcome results (rubric assessments on each placed assignment) are Attest\'s ratings', async () => {
      const st = cws.state;
      const fwGroup = st.groups.find((g) => g.vendor_guid === 'CALL' && g.context_id === Number(CC));
      assert.ok(fwGroup, 'the framework became an outcome group');
      const outcome = (idn) => st.outcomes.find((o) => o.vendor_guid === idn && o.context_id === Number(CC));
      for (const link of [K.program, K.checklist]) {
        const assoc = st.associations.filter((a) => a.association_type === 'Assignment' && a.association_id === Number(link.assignmentId));
        assert.equal(assoc.length, 1, `one rubric on ${link.title}'s assignment`);
      }
      for (const [sub, l] of Object.entries(K.learners)) {
        const history = attestRatings(l);
        const cid = l.user.canvasId;
        const results = st.results.filter((r) => r.user === cid && r.course === Number(CC));
        // the program's assignment: the reconciled ratings the decision sent
        for (const r of l.current) {
          const o = outcome(r.competency);
          assert.ok(o, `${r.competency} is a Canvas outcome`);
          const res = results.find((x) => x.outcome === o.id && x.alignment === `assignment_${K.program.assignmentId}`);
          assert.ok(res, `${sub} ${r.competency}: an outcome result on the program's assignment`);
          assert.equal(res.score, r.value, `${sub} ${r.competency}: Canvas score = Attest's rating`);
          assert.equal(res.mastery, r.proficient, `${sub} ${r.competency}: mastery = proficient`);
        }
        // the checklist's assignment: the newest observation rating of each competency
        for (const [idn, hist] of Object.entries(history)) {
          const res = results.find((x) => x.outcome === outcome(idn).id && x.alignment === `assignment_${K.checklist.assignmentId}`);
          assert.ok(res, `${sub} ${idn}: an outcome result on the checklist's assignment`);
          assert.equal(res.score, hist.at(-1).value, `${sub} ${idn}: the newest observation's rating`);
        }
        assert.equal(results.length, l.current.length + Object.keys(history).length, `${sub}: no other outcome results`);
        // each canvas_result item became exactly one rubric assessment, in order
        const items = await count(stack, `kind = 'canvas_result' AND payload LIKE '%"user_id":${l.api.userId},%'`);
        const subs = [...st.submissions.values()].filter((s) => s.user_id === cid).map((s) => s.id);
        assert.equal(st.assessments.filter((a) => subs.includes(a.submission)).length, items, `${sub}: one assessment per item`);
      }
    });

    test('attest sync verify reads everything back and agrees; --platform and --course narrow it', async (t) => {
      const all = await verify(stack);
      t.diagnostic(all.stdout.trim().split('\n').at(-1));
      t.diagnostic(`outbox: ${(await sql(stack, "SELECT kind || ' ' || status || ' ' || COUNT(*) FROM outbox GROUP BY kind, status ORDER BY kind")).split('\n').join(', ')}`);
      for (const c of [M, K]) for (const [sub, l] of Object.entries(c.learners)) t.diagnostic(`${sub}: calls ${l.sent.join(' ')} -> ${l.outcome}; ${l.current.length} competencies rated`);
      assert.equal(all.code, 0, all.stdout + all.stderr);
      assert.deepEqual(all.lines, []);
      assert.equal(all.differ, 0);
      assert.equal(all.unreadable, 0);
      assert.equal(all.undelivered, 0);
      // scores: one per learner and placement; Moodle: one per learner and rated competency;
      // Canvas: one per learner, placement and competency it sent
      let want = 0;
      for (const c of [M, K]) for (const l of Object.values(c.learners)) want += 2;
      for (const l of Object.values(M.learners)) want += l.current.length;
      for (const l of Object.values(K.learners)) want += l.current.length + Object.keys(attestRatings(l)).length;
      assert.equal(all.checked, want, all.stdout);
      assert.equal(all.match, want);
      const m = await verify(stack, ['--platform', moodlePid, '--verbose']);
      assert.equal(m.code, 0, m.stdout);
      assert.ok(m.stdout.split('\n').filter((x) => x.startsWith('ok\t')).every((x) => /\tplatform (\d+)\t/.exec(x)[1] === moodlePid));
      assert.ok(/^ok\tmoodle_rating\t/m.test(m.stdout) && /^ok\tscore\t/m.test(m.stdout), m.stdout);
      const k = await verify(stack, ['--course', K.context]);
      assert.equal(k.code, 0, k.stdout);
      assert.equal(m.checked + k.checked, all.checked, 'the two platforms make up the whole');
      assert.equal((await stack.attest(['sync', 'verify', '--platform', '999'])).code, 5);
      assert.equal((await stack.attest(['sync', 'verify', '--course', '999'])).code, 5);
      assert.equal((await stack.attest(['sync', 'verify', '--bogus'])).code, 2);
    });

    test('the admin sync API: counts and items of the admin\'s own platform, retry of a parked item', async () => {
      // a learner Moodle does not allow to be rated: the ratings of the call park
      const extra = { sub: '303', name: 'Lee Three' };
      mws.enrol(Number(MC), 303, { gradable: false });
      const l3 = await launchApi(moodle, stack, { role: 'learner', user: extra, courseId: MC, linkId: M.program.linkId });
      const e3 = ok(await M.teacher.post('/api/v1/enrolments', { program: PROGRAM, learner_id: l3.userId }), 201, 'enrol 303').id;
      await submitCall(M.teacher, e3, 95, 'l3-0', nowSec() - 60);
      await until(async () => (await settled(stack)) && (await count(stack, "status = 'parked'")) > 0, 60000, 'the parked ratings');
      const parked = (await sql(stack, "SELECT id FROM outbox WHERE status = 'parked' ORDER BY id")).split('\n').map(Number);
      assert.ok(parked.length > 0);

      const admin = await launchApi(moodle, stack, { role: 'admin', user: { sub: '2', name: 'Ada Admin' }, courseId: MC });
      const cadmin = await launchApi(canvas, stack, { role: 'admin', user: { sub: 'c-admin', name: 'Cy Admin', canvasId: 1 }, courseId: CC });
      const learner = await launchApi(moodle, stack, { role: 'learner', user: mUsers.learners[0], courseId: MC });
      for (const [who, api] of [['learner', learner], ['instructor', M.teacher], ['canvas learner', K.learners['c-l1'].api], ['canvas instructor', K.teacher]]) {
        ok(await api.get('/api/v1/sync/status'), 403, `${who}: status`);
        ok(await api.get('/api/v1/sync/items?status=parked'), 403, `${who}: items`);
        ok(await api.post(`/api/v1/sync/items/${parked[0]}/retry`, {}), 403, `${who}: retry`);
      }
      const noSession = admin.withToken(null, 'nobody');
      ok(await noSession.get('/api/v1/sync/status'), 401, 'no session');

      const st = ok(await admin.get('/api/v1/sync/status'), 200, 'status');
      assert.equal(st.platforms.length, 1, 'only the admin\'s own platform');
      const mine = st.platforms[0];
      assert.equal(String(mine.id), moodlePid);
      assert.equal(mine.flavor, 'moodle');
      assert.equal(mine.parked, parked.length);
      assert.equal(mine.pending, 0);
      assert.equal(mine.done, await count(stack, `platform_id = ${moodlePid} AND status = 'done'`));
      const cst = ok(await cadmin.get('/api/v1/sync/status'), 200, 'canvas status');
      assert.equal(String(cst.platforms[0].id), canvasPid);
      assert.equal(cst.platforms[0].parked, 0);
      assert.equal(cst.platforms[0].done, await count(stack, `platform_id = ${canvasPid} AND status = 'done'`));

      const items = ok(await admin.get('/api/v1/sync/items?status=parked'), 200, 'parked items').items;
      assert.deepEqual(items.map((i) => i.id).sort((a, b) => a - b), parked);
      for (const it of items) {
        assert.equal(it.kind, 'moodle_rating');
        assert.equal(it.status, 'parked');
        assert.match(it.last_error, /codingerror: .*may not be rated at this time/);
        assert.equal(it.payload.user_id, l3.userId);
      }
      assert.deepEqual(ok(await cadmin.get('/api/v1/sync/items?status=parked'), 200, 'canvas parked').items, [], 'a Canvas admin sees none of Moodle\'s items');
      const done = ok(await admin.get('/api/v1/sync/items?status=done&limit=3'), 200, 'done items').items;
      assert.equal(done.length, 3);
      assert.ok(done.every((i) => i.status === 'done' && i.delivered_at > 0 && String(i.platform_id) === moodlePid));
      ok(await admin.get('/api/v1/sync/items?status=bogus'), 400, 'bad status');
      ok(await admin.get('/api/v1/sync/items?limit=0'), 400, 'bad limit');

      // another platform's item: as if it did not exist; a done item: nothing to retry
      const canvasItem = await sql(stack, `SELECT MIN(id) FROM outbox WHERE platform_id = ${canvasPid}`);
      ok(await admin.post(`/api/v1/sync/items/${canvasItem}/retry`, {}), 404, 'another platform\'s item');
      ok(await admin.post('/api/v1/sync/items/99999999/retry', {}), 404, 'no such item');
      ok(await admin.post(`/api/v1/sync/items/${done[0].id}/retry`, {}), 409, 'a done item');
      ok(await admin.post(`/api/v1/sync/items/${parked[0]}/retry`, undefined, { raw: '[1]', contentType: 'application/json' }), 400, 'a body that is not an object');

      // the LMS admin fixes Moodle; the Attest admin retries every parked item
      mws.enrol(Number(MC), 303, { gradable: true });
      for (const id of parked) {
        const it = ok(await admin.post(`/api/v1/sync/items/${id}/retry`, {}), 200, `retry ${id}`);
        assert.equal(it.status, 'pending');
        assert.equal(it.attempts, 0);
      }
      assert.ok(Number(await sql(stack, "SELECT COUNT(*) FROM audit WHERE action = 'outbox.requeue'")) >= parked.length, 'retries are audited');
      await until(async () => (await count(stack, "status <> 'done'")) === 0, 60000, 'the retried items');
      const l3r = ok(await M.teacher.get(`/api/v1/enrolments/${e3}`), 200, 'l3').ratings.filter((r) => r.value !== null);
      const fw = mws.state.frameworks.find((f) => f.idnumber === 'CALL');
      for (const r of l3r) {
        const mc = mws.state.competencies.find((c) => c.competencyframeworkid === fw.id && c.idnumber === r.competency);
        assert.equal(mws.state.ucc.find((u) => u.userid === 303 && u.competencyid === mc.id)?.grade, r.value + 1, `303 ${r.competency}`);
      }
      const after = ok(await admin.get('/api/v1/sync/status'), 200, 'status after').platforms[0];
      assert.equal(after.parked, 0);
      assert.equal((await verify(stack)).code, 0);
    });

    test('attest sync verify finds what changed in the LMS behind Attest\'s back', async () => {
      // a teacher regrades in each LMS
      const l1 = M.learners['301'];
      const r0 = l1.current[0];
      const fw = mws.state.frameworks.find((f) => f.idnumber === 'CALL');
      const mc = mws.state.competencies.find((c) => c.competencyframeworkid === fw.id && c.idnumber === r0.competency);
      const ucc = mws.state.ucc.find((u) => u.userid === 301 && u.competencyid === mc.id);
      ucc.grade = ucc.grade === 1 ? 2 : 1;
      moodle.lineItems.get(M.program.lineItemId).results.get('302').resultScore = 42;
      const cres = cws.state.results.find((x) => x.user === 4101 && x.alignment === `assignment_${K.checklist.assignmentId}`);
      cres.score = cres.score ? 0 : 1;
      const v = await verify(stack);
      assert.equal(v.code, 1, v.stdout);
      assert.equal(v.differ, 3, v.stdout);
      assert.equal(v.lines.length, 3);
      assert.ok(v.lines.some((x) => /^mismatch\tmoodle_rating\t/.test(x) && x.includes(`(${r0.competency})`) && /Attest delivered grade \d, Moodle has \d/.test(x)), v.stdout);
      assert.ok(v.lines.some((x) => /^mismatch\tscore\t/.test(x) && x.includes('(302)') && /Attest delivered 0\.00\/100\.00, the LMS has 42\.00\/100\.00/.test(x)), v.stdout);
      assert.ok(v.lines.some((x) => /^mismatch\tcanvas_result\t/.test(x) && x.includes(`assignment_${K.checklist.assignmentId}`)), v.stdout);
      assert.equal((await verify(stack, ['--platform', canvasPid])).differ, 1);
      // the LMS is unreachable: reported, not taken for a match
      await mws.close();
      const down = await verify(stack, ['--platform', moodlePid]);
      assert.equal(down.code, 1);
      assert.ok(down.unreadable > 0, down.stdout);
      assert.ok(down.lines.some((x) => /^unreadable\tmoodle_rating\t/.test(x)), down.stdout);
    });
  });
}
