// sync-ags.test.mjs: grades and rosters back to the LMS through the outbox, end to end —
// the real stack (nginx + attest) and `attest sync` against the platform emulator's AGS and
// NRPS services (Moodle flavour: ?type_id= line item URLs, 409 on a timestamp not later at
// one-second resolution; Canvas flavour: the submission extension, $Canvas.* substitution).
//
//   make && node --test --test-concurrency=1 tests/e2e/sync-ags.test.mjs
//   ATTEST_E2E_DB=pg node --test tests/e2e/sync-ags.test.mjs
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Platform, SCOPES } from '../platform/platform.mjs';
import { Stack } from './stack.mjs';
import { ok, sql } from './api-client.mjs';
import { PROGRAM, SCORE_MT, launchApi, deepLink, submitCall, syncOnce, drain, scoresOf } from './sync-helpers.mjs';

const nowSec = () => Math.floor(Date.now() / 1000);
const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe('sync: AGS line items and scores, NRPS roster (Moodle)', () => {
  let stack;
  let moodle;
  const C = '31';
  let links;
  let program;
  let checklist;
  let teacher;
  const learners = {};

  before(async () => {
    [stack, moodle] = await Promise.all([Stack.start({ name: 'sync-ags', env: { ATTEST_SYNC_WORKER: '0' } }), Platform.start({ flavor: 'moodle' })]);
    const reg = await moodle.dynamicRegister(`${stack.baseUrl}/lti/register`);
    assert.equal(reg.registration?.status, 200, 'registration failed');
    moodle.nrpsPageSize = 2;
    moodle.setRoster(C, [
      { user_id: 't1', name: 'Tess Teacher', email: 't1@example.edu', roles: ['http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor'] },
      { user_id: 'l1', name: 'Lou One', roles: ['http://purl.imsglobal.org/vocab/lis/v2/membership#Learner'] },
      { user_id: 'l2', name: 'Lia Two', roles: ['Learner'] },
      { user_id: 'l3', name: 'Lee Three (never launched)', given_name: 'Lee', family_name: 'Three', email: 'lee@example.edu', roles: ['Learner'] },
      { user_id: 'l4', name: 'Lara Four (never launched)', roles: ['Learner'] },
    ]);
  });

  after(async () => {
    await moodle?.close();
    await stack?.stop();
  });

  test('deep linking offers the programs and checklists; each placed item gets a line item', async () => {
    const dl = await deepLink(moodle, stack, { courseId: C, choose: [/^ESP agent call certification$/, /^Certification call scorecard$/] });
    assert.ok(dl.items.some((i) => i.value === 'course'), 'the course overview is offered');
    assert.ok(dl.items.some((i) => /Level Two/i.test(i.title)), `the second seed program is offered: ${JSON.stringify(dl.items)}`);
    assert.equal(dl.contentItems.length, 2);
    for (const ci of dl.contentItems) {
      assert.equal(ci.type, 'ltiResourceLink');
      assert.ok(ci.lineItem, `no lineItem in ${JSON.stringify(ci)}`);
      assert.equal(ci.lineItem.scoreMaximum, 100);
      assert.equal(ci.lineItem.tag, 'attest');
      assert.equal(ci.lineItem.label, ci.title);
      assert.match(ci.lineItem.resourceId, /^attest-/);
      assert.equal(ci.custom.attest_placement, ci.lineItem.resourceId, 'the link is bound to its placement');
    }
    const rows = (await sql(stack, 'SELECT resource_id, title, COALESCE(checklist_id, 0), score_max FROM placement ORDER BY id')).split('\n');
    assert.equal(rows.length, 2, rows.join('\n'));
    assert.deepEqual(rows.map((r) => r.split('|')[0]).sort(), dl.contentItems.map((c) => c.lineItem.resourceId).sort());
    const gb = moodle.gradebook(C);
    assert.equal(gb.length, 2, 'one line item per placement');
    assert.deepEqual(gb.map((li) => li.resourceId).sort(), rows.map((r) => r.split('|')[0]).sort());
    links = dl.links;
    program = links.find((l) => l.title === 'ESP agent call certification');
    checklist = links.find((l) => l.title === 'Certification call scorecard');
    assert.ok(program && checklist);
  });

  test('launches through the placed links bind them to their placements and record LMS ids', async () => {
    teacher = await launchApi(moodle, stack, { role: 'instructor', user: { sub: 't1', name: 'Tess Teacher' }, courseId: C, linkId: program.linkId });
    for (const k of ['l1', 'l2']) {
      learners[k] = await launchApi(moodle, stack, { role: 'learner', user: { sub: k, name: `Learner ${k}` }, courseId: C, linkId: k === 'l1' ? program.linkId : checklist.linkId });
    }
    const placed = (await sql(stack, 'SELECT link_id, lineitem_url FROM placement ORDER BY id')).split('\n').map((r) => r.split('|'));
    const byLink = Object.fromEntries(placed.map(([l, u]) => [l, u]));
    assert.equal(byLink[program.linkId], moodle.lineItems.get(program.lineItemId).url);
    assert.equal(byLink[checklist.linkId], moodle.lineItems.get(checklist.lineItemId).url);
    assert.match(byLink[program.linkId], /\/lineitem\?type_id=\d+$/);
    assert.equal(await sql(stack, "SELECT lms_course_id FROM context WHERE context_id = '31'"), C);
    assert.equal(await sql(stack, "SELECT lms_user_id || ':' || CASE WHEN launched_at > 0 THEN 1 ELSE 0 END FROM app_user WHERE sub = 'l1'"), 'l1:1');
  });

  test('the roster comes in over NRPS, page by page: learners who never launched appear', async () => {
    const before = moodle.nrpsRequests || 0;
    assert.equal(await sql(stack, "SELECT COUNT(*) FROM outbox WHERE kind = 'roster'"), '1', 'one roster import per course and hour, however many instructor launches');
    await syncOnce(stack);
    assert.equal((moodle.nrpsRequests || 0) - before, 3, '5 members, 2 a page: 3 pages');
    const l3 = await sql(stack, "SELECT u.name, u.email, u.launched_at, m.source, m.active, m.role FROM app_user u JOIN membership m ON m.user_id = u.id WHERE u.sub = 'l3'");
    assert.equal(l3, 'Lee Three (never launched)|lee@example.edu|0|nrps|1|1');
    assert.equal(await sql(stack, "SELECT m.source || ':' || m.role FROM app_user u JOIN membership m ON m.user_id = u.id WHERE u.sub = 't1'"), 'launch:2', 'a launched member keeps its source');
    const diff = await sql(stack, "SELECT roster_diff_url FROM context WHERE context_id = '31'");
    assert.match(diff, /since=/, 'the differences link is kept');
    // changes: l4 leaves, l5 joins; an admin asks for an import now: only the differences come
    moodle.updateRosterMember(C, { user_id: 'l4', name: 'Lara Four (never launched)', roles: ['Learner'], status: 'Deleted' });
    moodle.updateRosterMember(C, { user_id: 'l5', name: 'Lev Five', roles: ['Learner'] });
    const q = await stack.attest(['sync', 'roster', C]);
    assert.equal(q.code, 0, q.stderr);
    const n = moodle.serviceLog.length;
    await syncOnce(stack);
    const got = moodle.serviceLog.slice(n).filter((x) => /memberships/.test(x.path));
    assert.equal(got.length, 1);
    assert.match(got[0].query, /since=/, 'the import used the differences link');
    assert.equal(await sql(stack, "SELECT m.active FROM app_user u JOIN membership m ON m.user_id = u.id WHERE u.sub = 'l4'"), '0');
    assert.equal(await sql(stack, "SELECT m.active FROM app_user u JOIN membership m ON m.user_id = u.id WHERE u.sub = 'l5'"), '1');
  });

  test('observations become running results: values, order, media type, strictly later seconds', async () => {
    for (const k of ['l1', 'l2']) {
      learners[k].enrolment = ok(await teacher.post('/api/v1/enrolments', { program: PROGRAM, learner_id: learners[k].userId }), 201, `enrol ${k}`).id;
    }
    const base = nowSec() - 3600;
    // three calls for l1 within a second or so: Moodle would refuse equal seconds
    for (const [i, s] of [85, 70, 95].entries()) await submitCall(teacher, learners.l1.enrolment, s, `l1-${i}`, base + i * 60);
    await submitCall(teacher, learners.l2.enrolment, 100, 'l2-0', base);
    assert.equal(await sql(stack, "SELECT COUNT(*) FROM outbox WHERE kind = 'score' AND status = 'pending'"), '8', '2 placements x 4 observations');
    await syncOnce(stack);
    assert.equal(await sql(stack, "SELECT COUNT(*) FROM outbox WHERE kind = 'score' AND status <> 'done'"), '0', (await stack.attest(['sync', 'list'])).stdout);
    for (const [link, activity] of [[program, 'InProgress'], [checklist, 'Completed']]) {
      const li = moodle.lineItems.get(link.lineItemId);
      const s1 = scoresOf(li, 'l1');
      assert.deepEqual(s1.map((s) => s.scoreGiven), [85, 70, 95], `${link.title}: l1's scores in order`);
      assert.ok(s1.every((s) => s.scoreMaximum === 100 && s.activityProgress === activity && s.gradingProgress === 'FullyGraded'), JSON.stringify(s1));
      assert.ok(s1.every((s) => ISO_MS.test(s.timestamp)), 'ISO 8601 with milliseconds');
      const secs = s1.map((s) => Math.floor(Date.parse(s.timestamp) / 1000));
      for (let i = 1; i < secs.length; i++) assert.ok(secs[i] > secs[i - 1], `timestamps strictly later by the second: ${s1.map((s) => s.timestamp)}`);
      assert.match(s1[0].comment, /^Observation \d+: 85\.00\/100\.00 \(passed\)$/);
      assert.deepEqual(scoresOf(li, 'l2').map((s) => s.scoreGiven), [100]);
      assert.equal(li.results.get('l1').resultScore, 95);
    }
    const posts = moodle.scoreLog;
    assert.ok(posts.length >= 8);
    assert.ok(posts.every((p) => p.contentType.startsWith(SCORE_MT)), 'score media type');
    assert.ok(posts.every((p) => /\/lineitem\/scores\?type_id=\d+$/.test(p.url)), `/scores joined before ?type_id=: ${posts.map((p) => p.url)}`);
    assert.equal(moodle.gradebook(C).length, 2, 'no line item was added');
    const status = await stack.attest(['sync', 'status']);
    assert.equal(status.code, 0);
    assert.match(status.stdout, /^all\s+0\s+0\s+0\s+10\s*$/m, status.stdout);
  });

  test('a confirmed decision posts the final grade: pass 100, fail 0', async () => {
    const base = nowSec() - 1800;
    await submitCall(teacher, learners.l1.enrolment, 90, 'l1-3', base);
    await submitCall(teacher, learners.l1.enrolment, 100, 'l1-4', base + 60);
    for (const [i, s] of [84, 100, 90, 70].entries()) await submitCall(teacher, learners.l2.enrolment, s, `l2-${i + 1}`, base + i * 60);
    for (const [k, outcome, grade] of [['l1', 'pass', 100], ['l2', 'fail', 0]]) {
      const p = ok(await teacher.post(`/api/v1/enrolments/${learners[k].enrolment}/evaluate`), 201, `${k} evaluate`);
      assert.equal(p.outcome, outcome);
      ok(await teacher.post(`/api/v1/decisions/${p.id}/confirm`), 200, `${k} confirm`);
      learners[k].grade = grade;
    }
    await syncOnce(stack);
    const li = moodle.lineItems.get(program.lineItemId);
    for (const k of ['l1', 'l2']) {
      const last = scoresOf(li, k).at(-1);
      assert.equal(last.scoreGiven, learners[k].grade, `${k}: final grade`);
      assert.equal(last.activityProgress, 'Completed');
      assert.equal(last.comment, `Certification decision: ${learners[k].grade ? 'pass' : 'fail'}`);
      assert.equal(li.results.get(k).resultScore, learners[k].grade);
    }
    // the checklist's column holds call scores only
    assert.deepEqual(scoresOf(moodle.lineItems.get(checklist.lineItemId), 'l1').map((s) => s.scoreGiven), [85, 70, 95, 90, 100]);
  });

  test('with Moodle REST credentials an observation also queues one rating per competency it rated', async () => {
    const pid = await sql(stack, 'SELECT id FROM platform ORDER BY id LIMIT 1');
    const set = await stack.attest(['platform', 'set', pid, 'lms_url=http://127.0.0.1:9/', 'lms_token=t0ken']);
    assert.equal(set.code, 0, set.stderr);
    const s = await submitCall(teacher, learners.l1.enrolment, 85, 'l1-rest', nowSec() - 120);
    const rated = (await sql(stack, `SELECT competency_id || ':' || value FROM rating WHERE observation_id = ${s.id} ORDER BY competency_id`)).split('\n');
    const items = (await sql(stack, `SELECT order_key || '|' || idem_key || '|' || payload FROM outbox WHERE kind = 'moodle_rating' AND idem_key LIKE 'moodle_rating:obs:${s.id}:%' ORDER BY id`)).split('\n');
    assert.equal(items.length, rated.length, `one moodle_rating per rating: ${items.join('\n')}`);
    const ctx = await sql(stack, "SELECT id FROM context WHERE context_id = '31'");
    for (const [i, line] of items.entries()) {
      const [orderKey, idem, ...rest] = line.split('|');
      const p = JSON.parse(rest.join('|'));
      const [comp, value] = rated[i].split(':').map(Number);
      assert.equal(p.competency_id, comp);
      assert.equal(p.grade, value + 1, 'Moodle scale values are 1-based');
      assert.equal(p.user_id, learners.l1.userId);
      assert.equal(p.context_id, Number(ctx));
      assert.equal(orderKey, `moodle_rating:${ctx}:${learners.l1.userId}:${comp}`);
      assert.equal(idem, `moodle_rating:obs:${s.id}:${comp}`);
      assert.equal(p.evidence_url, `/app/observations/${s.id}`);
    }
    // no REST token: nothing of the kind (and the scores go out as before)
    assert.equal((await stack.attest(['platform', 'set', pid, 'lms_url=', 'lms_token='])).code, 0);
    await sql(stack, "UPDATE outbox SET status = 'superseded' WHERE kind = 'moodle_rating'");
    await syncOnce(stack);
    assert.equal(await sql(stack, "SELECT COUNT(*) FROM outbox WHERE status = 'pending'"), '0');
  });

  test('a placement without a line item gets one through the line items service, once', async () => {
    const D = '32';
    const dl = await deepLink(moodle, stack, { courseId: D, choose: [/^Certification call scorecard$/], deepLinking: { accept_lineitem: false } });
    assert.equal(dl.contentItems[0].lineItem, undefined, 'no lineItem when the platform does not accept them');
    assert.equal(moodle.gradebook(D).length, 0);
    const t = await launchApi(moodle, stack, { role: 'instructor', user: { sub: 't1', name: 'Tess Teacher' }, courseId: D, linkId: dl.links[0].linkId });
    const l = await launchApi(moodle, stack, { role: 'learner', user: { sub: 'l9', name: 'Lu Nine' }, courseId: D, linkId: dl.links[0].linkId });
    const e = ok(await t.post('/api/v1/enrolments', { program: PROGRAM, learner_id: l.userId }), 201, 'enrol').id;
    await submitCall(t, e, 85, 'l9-0', nowSec() - 600);
    await drain(stack);
    assert.equal(moodle.gradebook(D).length, 1);
    const li = moodle.gradebook(D)[0];
    const rid = await sql(stack, "SELECT resource_id FROM placement p JOIN context c ON c.id = p.context_id WHERE c.context_id = '32'");
    assert.equal(li.resourceId, rid);
    assert.equal(li.tag, 'attest');
    assert.equal(li.scoreMaximum, 100);
    assert.equal(li.resourceLinkId, dl.links[0].linkId);
    // forgotten locally: found again by resourceId, never duplicated
    await sql(stack, `UPDATE placement SET lineitem_url = '' WHERE resource_id = '${rid}'`);
    await submitCall(t, e, 95, 'l9-1', nowSec() - 300);
    await drain(stack);
    assert.equal(moodle.gradebook(D).length, 1, 'still one line item');
    assert.deepEqual(scoresOf(li, 'l9').map((s) => s.scoreGiven), [85, 95]);
    assert.equal(await sql(stack, `SELECT lineitem_url FROM placement WHERE resource_id = '${rid}'`), li.url);
  });

  test('a granted scope narrower than asked parks the item with the reason; an admin retries it', async () => {
    const E = '33';
    const dl = await deepLink(moodle, stack, { courseId: E, choose: [/^Certification call scorecard$/], deepLinking: { accept_lineitem: false } });
    const t = await launchApi(moodle, stack, { role: 'instructor', user: { sub: 't1', name: 'Tess Teacher' }, courseId: E, linkId: dl.links[0].linkId });
    const l = await launchApi(moodle, stack, { role: 'learner', user: { sub: 'l8', name: 'Lo Eight' }, courseId: E, linkId: dl.links[0].linkId });
    const e = ok(await t.post('/api/v1/enrolments', { program: PROGRAM, learner_id: l.userId }), 201, 'enrol').id;
    await submitCall(t, e, 90, 'l8-0', nowSec() - 60);
    moodle.tokenDropScopes = [SCOPES.lineitem];
    await syncOnce(stack);
    const parked = await stack.attest(['sync', 'list', '--status', 'parked']);
    assert.match(parked.stdout, /did not grant the scope https:\/\/purl\.imsglobal\.org\/spec\/lti-ags\/scope\/lineitem /, parked.stdout);
    const id = parked.stdout.split('\n')[1].split('\t')[0];
    assert.equal(moodle.gradebook(E).length, 0);
    moodle.tokenDropScopes = [];
    const r = await stack.attest(['sync', 'retry', id]);
    assert.equal(r.code, 0, r.stderr);
    await drain(stack);
    assert.equal(moodle.gradebook(E).length, 1);
    assert.deepEqual(scoresOf(moodle.gradebook(E)[0], 'l8').map((s) => s.scoreGiven), [90]);
    assert.equal((await stack.attest(['sync', 'retry', id])).code, 6, 'a done item cannot be retried');
  });

  test('tokens: one client assertion per scope set, cached across items; aud is the token endpoint', async () => {
    const reqs = moodle.tokenRequests.filter((t) => !t.error);
    assert.ok(reqs.length > 0);
    for (const t of reqs) {
      const claims = JSON.parse(Buffer.from(t.params.client_assertion.split('.')[1], 'base64url'));
      assert.equal(claims.aud, moodle.urls.token);
      assert.ok(claims.exp - claims.iat <= 300);
      assert.ok(claims.jti);
    }
    assert.equal(new Set(reqs.map((t) => JSON.parse(Buffer.from(t.params.client_assertion.split('.')[1], 'base64url')).jti)).size, reqs.length, 'unique jti');
    assert.ok(reqs.length < moodle.scoreLog.length, `${reqs.length} token requests for ${moodle.scoreLog.length} scores`);
  });
});

describe('sync: Canvas — submission extension and $Canvas.* ids', () => {
  let stack;
  let canvas;

  before(async () => {
    [stack, canvas] = await Promise.all([Stack.start({ name: 'sync-canvas', env: { ATTEST_SYNC_WORKER: '0' } }), Platform.start({ flavor: 'canvas' })]);
    const reg = await canvas.dynamicRegister(`${stack.baseUrl}/lti/register`);
    assert.equal(reg.registration?.status, 200, 'registration failed');
  });

  after(async () => {
    await canvas?.close();
    await stack?.stop();
  });

  test('scores carry the submission extension; launches record the Canvas REST ids', async () => {
    const C = '701';
    const reg = canvas.registrations.at(-1).body;
    assert.equal(reg['https://purl.imsglobal.org/spec/lti-tool-configuration'].custom_parameters.canvas_course_id, '$Canvas.course.id');
    const dl = await deepLink(canvas, stack, { courseId: C, choose: [/^Certification call scorecard$/] });
    const link = dl.links[0];
    assert.ok(link.assignmentId, 'Canvas made an assignment for the line item');
    const t = await launchApi(canvas, stack, { role: 'instructor', user: { sub: 'c-t1', name: 'Cam Teacher' }, courseId: C, linkId: link.linkId });
    const l = await launchApi(canvas, stack, { role: 'learner', user: { sub: 'c-l1', name: 'Cal Learner', canvasId: 4242 }, courseId: C, linkId: link.linkId });
    assert.equal(await sql(stack, "SELECT lms_user_id FROM app_user WHERE sub = 'c-l1'"), '4242');
    assert.equal(await sql(stack, `SELECT lms_course_id FROM context WHERE lms_course_id = '${C}'`), C);
    assert.equal(await sql(stack, `SELECT lms_assignment_id FROM resource_link WHERE link_id = '${link.linkId}'`), link.assignmentId);
    const e = ok(await t.post('/api/v1/enrolments', { program: PROGRAM, learner_id: l.userId }), 201, 'enrol').id;
    await submitCall(t, e, 85, 'c-0', nowSec() - 60);
    await drain(stack);
    const li = canvas.lineItems.get(link.lineItemId);
    const [s] = scoresOf(li, 'c-l1');
    assert.equal(s.scoreGiven, 85);
    const ext = s['https://canvas.instructure.com/lti/submission'];
    assert.ok(ext, `no submission extension: ${JSON.stringify(s)}`);
    assert.equal(ext.new_submission, true);
    assert.equal(ext.submitted_at, s.timestamp);
    assert.ok(/\/api\/lti\/courses\/701\/line_items\/\d+\/scores$/.test(canvas.scoreLog.at(-1).url));
  });
});
