// sync-faults.test.mjs: the outbox under a misbehaving LMS — 500s, timeouts (answered or
// not), 429 with Retry-After, dropped connections, the LMS down for a while, the worker
// killed with SIGKILL in the middle of a delivery — afterwards every score is in the
// gradebook exactly once, in order, nothing lost. And two workers over one PostgreSQL never
// deliver the same item twice. On Canvas, which takes a score with the same timestamp again
// and keeps every one in the submission history, a score the LMS took but whose answer
// never came back (the worker killed right then, or the answer lost) is read back, not sent
// again: one entry in the history.
//
//   make && node --test --test-concurrency=1 tests/e2e/sync-faults.test.mjs
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Platform, SCOPES } from '../platform/platform.mjs';
import { Stack } from './stack.mjs';
import { ok, sql } from './api-client.mjs';
import { PROGRAM, launchApi, deepLink, submitCall, syncOnce, drain, startWorker, until, scoresOf } from './sync-helpers.mjs';

const nowSec = () => Math.floor(Date.now() / 1000);

/** A course with the program placed (with its line item), a teacher and enrolled learners. */
async function course(p, stack, C, names) {
  const dl = await deepLink(p, stack, { courseId: C, choose: [/^ESP agent call certification$/] });
  const link = dl.links[0];
  const teacher = await launchApi(p, stack, { role: 'instructor', user: { sub: `${C}-t`, name: 'Tina Teacher' }, courseId: C, linkId: link.linkId });
  const learners = {};
  for (const n of names) {
    const api = await launchApi(p, stack, { role: 'learner', user: { sub: `${C}-${n}`, name: n }, courseId: C, linkId: link.linkId });
    learners[n] = { api, sub: `${C}-${n}`, sent: [] };
    learners[n].enrolment = ok(await teacher.post('/api/v1/enrolments', { program: PROGRAM, learner_id: api.userId }), 201, `enrol ${n}`).id;
  }
  return { link, teacher, learners, li: () => p.lineItems.get(link.lineItemId) };
}

async function score(c, n, target, i) {
  const l = c.learners[n];
  await submitCall(c.teacher, l.enrolment, target, `${l.sub}-${i}`, nowSec() - 3600 + i * 60);
  l.sent.push(target);
}

/** Every learner's accepted scores are exactly what was submitted, in order, once. */
function assertExactlyOnce(c, label) {
  for (const [n, l] of Object.entries(c.learners)) {
    assert.deepEqual(scoresOf(c.li(), l.sub).map((s) => s.scoreGiven), l.sent, `${label}: ${n}'s scores in the gradebook`);
  }
}

async function allDone(stack) {
  return (await sql(stack, "SELECT COUNT(*) FROM outbox WHERE status <> 'done'")) === '0';
}

describe('sync faults (SQLite)', () => {
  let stack;
  let moodle;

  before(async () => {
    [stack, moodle] = await Promise.all([
      Stack.start({ name: 'sync-faults', env: { ATTEST_SYNC_WORKER: '0', ATTEST_LMS_TOTAL_MS: '1500', ATTEST_LMS_CONNECT_MS: '1000' } }),
      Platform.start({ flavor: 'moodle' }),
    ]);
    const reg = await moodle.dynamicRegister(`${stack.baseUrl}/lti/register`);
    assert.equal(reg.registration?.status, 200, 'registration failed');
  });

  after(async () => {
    await moodle?.close();
    await stack?.stop();
  });

  test('429 with Retry-After: the item waits at least that long', async () => {
    const c = await course(moodle, stack, '40', ['ann']);
    await syncOnce(stack);	// the roster of the instructor launch
    await score(c, 'ann', 85, 0);
    moodle.injectFault({ kind: '429', match: /\/scores/, retryAfter: 4 });
    const t0 = Date.now();
    await syncOnce(stack);
    const line = (await stack.attest(['sync', 'list'])).stdout.split('\n').find((x) => /\tscore\t/.test(x));
    assert.ok(line, 'the score waits');
    const [, , , status, attempts, nextAt, last] = line.split('\t');
    assert.equal(status, 'pending');
    assert.equal(attempts, '1');
    assert.equal(last, '429');
    assert.ok(Number(nextAt) >= t0 + 3900, `next attempt ${Number(nextAt) - t0} ms after, Retry-After said 4 s`);
    await syncOnce(stack);
    assert.equal(scoresOf(c.li(), c.learners.ann.sub).length, 0, 'not retried before Retry-After');
    await until(async () => { await syncOnce(stack); return allDone(stack); }, 20000, 'the 429 item');
    assertExactlyOnce(c, '429');
    assert.match((await stack.attest(['sync', 'status'])).stdout, /^all\s+0\s+0\s+0\s+\d+/m);
  });

  test('500s, timeouts (answered late or never), dropped connections, lost answers read back: each score once, in order', async () => {
    const c = await course(moodle, stack, '41', ['bo', 'cy', 'di']);
    const worker = startWorker(stack, ['--batch', '4']);
    try {
      moodle.injectFault({ kind: '500', match: /\/scores/, times: 3 });
      moodle.injectFault({ kind: 'drop', match: /\/scores/, times: 2 });
      moodle.injectFault({ kind: 'timeout', match: /\/scores/, times: 1, process: true, delayMs: 2500 });
      moodle.injectFault({ kind: 'timeout', match: /\/scores/, times: 1, process: false, delayMs: 2500 });
      moodle.injectFault({ kind: '503', match: /\/token/, token: true, times: 1 });
      const plan = { bo: [85, 70, 95, 100], cy: [60, 90, 88], di: [100, 99] };
      for (let i = 0; i < 4; i++) {
        for (const [n, list] of Object.entries(plan)) if (list[i] !== undefined) await score(c, n, list[i], i);
      }
      await until(() => allDone(stack), 60000, 'every item delivered');
    } finally {
      worker.kill('SIGTERM');
      const ex = await worker.exited;
      assert.equal(ex.code, 0, `the worker exits cleanly on SIGTERM: ${worker.out.slice(-2000)}`);
    }
    assertExactlyOnce(c, 'faults');
    assert.ok(moodle.faults.every((f) => f.hits === f.times), `every fault was hit: ${JSON.stringify(moodle.faults.map((f) => [f.kind, f.hits]))}`);
    const retried = Number(await sql(stack, "SELECT COUNT(*) FROM outbox WHERE kind = 'score' AND attempts > 1"));
    assert.ok(retried >= 3, `${retried} items needed more than one attempt`);
    // the score answered too late was taken: read back before a second attempt, so never
    // sent again (which Moodle would have refused with 409)
    const li = c.li();
    const readBacks = moodle.serviceLog.filter((l) => l.method === 'GET' && l.path.endsWith('/lineitem/results') && l.status === 200);
    assert.ok(readBacks.length >= 1, 'results read back before a retry');
    assert.deepEqual(moodle.scoreLog.filter((s) => s.lineItemId === li.id && s.status === 409), [], 'no score sent twice (a 409)');
    assert.equal(moodle.scoreLog.filter((s) => s.lineItemId === li.id && s.status === 200).length, li.scores.length, 'each taken POST once');
  });

  test('the LMS is down for a while: items wait and go out when it is back', async () => {
    const c = await course(moodle, stack, '42', ['ed', 'fy']);
    await syncOnce(stack);
    moodle.goDown(4000);
    const worker = startWorker(stack);
    try {
      for (let i = 0; i < 3; i++) for (const n of ['ed', 'fy']) await score(c, n, [85, 90, 95][i], i);
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(scoresOf(c.li(), c.learners.ed.sub).length, 0, 'nothing arrived while down');
      const failing = (await stack.attest(['sync', 'status'])).stdout;
      assert.match(failing, /^all\s+[1-9]\d*\s+[1-9]\d*\s+0\s+\d+/m, `pending and failing while down: ${failing}`);
      await until(() => allDone(stack), 60000, 'delivery after the outage');
    } finally {
      worker.kill('SIGTERM');
      await worker.exited;
    }
    assertExactlyOnce(c, 'outage');
  });

  test('the worker is killed (SIGKILL) in the middle of a delivery: nothing lost, nothing doubled', async () => {
    const c = await course(moodle, stack, '43', ['gil', 'hal']);
    await syncOnce(stack);
    for (let i = 0; i < 2; i++) for (const n of ['gil', 'hal']) await score(c, n, [80, 100][i], i);
    // the LMS takes the first writes but answers slowly: the worker is killed meanwhile
    moodle.injectFault({ kind: 'timeout', match: /\/scores/, times: 2, process: true, delayMs: 1200 });
    const first = startWorker(stack, ['--lease', '3']);
    const n = moodle.scoreLog.length;
    await until(() => moodle.scoreLog.length > n, 20000, 'a score in flight');
    first.kill('SIGKILL');
    const ex = await first.exited;
    assert.equal(ex.signal, 'SIGKILL');
    assert.ok(!(await allDone(stack)), 'the killed worker left items leased');
    const leased = Number(await sql(stack, "SELECT COUNT(*) FROM outbox WHERE lease_owner <> '' AND status = 'pending'"));
    assert.ok(leased > 0, 'its leases are still held');
    for (const nm of ['gil', 'hal']) await score(c, nm, 90, 2);
    const second = startWorker(stack);
    try {
      await until(() => allDone(stack), 60000, 'delivery by the second worker after the lease ran out');
    } finally {
      second.kill('SIGTERM');
      await second.exited;
    }
    assertExactlyOnce(c, 'SIGKILL');
  });
});

describe('sync: two workers over one PostgreSQL', () => {
  let stack;
  let moodle;

  before(async () => {
    [stack, moodle] = await Promise.all([Stack.start({ name: 'sync-pg', db: 'pg', env: { ATTEST_SYNC_WORKER: '0' } }), Platform.start({ flavor: 'moodle' })]);
    const reg = await moodle.dynamicRegister(`${stack.baseUrl}/lti/register`);
    assert.equal(reg.registration?.status, 200, 'registration failed');
  });

  after(async () => {
    await moodle?.close();
    await stack?.stop();
  });

  test('never deliver the same item twice, keep each learner\'s order', async () => {
    const names = ['ia', 'jo', 'ka', 'lu', 'mo'];
    const c = await course(moodle, stack, '51', names);
    for (let i = 0; i < 4; i++) for (const n of names) await score(c, n, [70, 85, 90, 100][(i + n.length) % 4], i);
    const items = Number(await sql(stack, "SELECT COUNT(*) FROM outbox WHERE kind = 'score'"));
    assert.equal(items, 20);
    const n0 = moodle.scoreLog.length;
    const workers = [startWorker(stack, ['--batch', '3']), startWorker(stack, ['--batch', '3'])];
    try {
      await until(() => allDone(stack), 60000, 'both workers done');
    } finally {
      for (const w of workers) w.kill('SIGTERM');
      await Promise.all(workers.map((w) => w.exited));
    }
    const posts = moodle.scoreLog.slice(n0);
    assert.equal(posts.length, 20, `each score POSTed once: ${posts.length} POSTs for 20 items`);
    assert.ok(posts.every((p) => p.status === 200));
    const keys = posts.map((p) => `${p.body.userId}|${p.body.timestamp}`);
    assert.equal(new Set(keys).size, 20, 'no item delivered twice');
    assertExactlyOnce(c, 'two workers');
    const owners = Number(await sql(stack, "SELECT COUNT(*) FROM outbox WHERE lease_owner <> ''"));
    assert.equal(owners, 0, 'no lease left behind');
  });
});

describe('sync faults on Canvas: a score the LMS took is never taken twice', () => {
  let stack;
  let canvas;

  before(async () => {
    [stack, canvas] = await Promise.all([
      Stack.start({ name: 'sync-faults-cv', env: { ATTEST_SYNC_WORKER: '0', ATTEST_LMS_TOTAL_MS: '1500', ATTEST_LMS_CONNECT_MS: '1000' } }),
      Platform.start({ flavor: 'canvas' }),
    ]);
    const reg = await canvas.dynamicRegister(`${stack.baseUrl}/lti/register`);
    assert.equal(reg.registration?.status, 200, 'registration failed');
  });

  after(async () => {
    await canvas?.close();
    await stack?.stop();
  });

  /** Score POSTs of sub that Canvas took. */
  const taken = (c, sub) => canvas.scoreLog.filter((s) => s.lineItemId === c.link.lineItemId && s.body?.userId === sub && s.status === 200);
  const readBacks = (sub) => canvas.serviceLog.filter((l) => l.method === 'GET' && l.path.endsWith('/results') && l.query.includes(`user_id=${encodeURIComponent(sub)}`));

  test('the emulator behaves like Canvas: an equal timestamp is taken again (history grows), an earlier one is refused with 400', async () => {
    const c = await course(canvas, stack, '60', ['qa']);
    await syncOnce(stack);
    await score(c, 'qa', 75, 0);
    await syncOnce(stack);
    const [s] = scoresOf(c.li(), c.learners.qa.sub);
    const tok = canvas.issueAccessToken([SCOPES.score]);
    const post = (body) => fetch(`${c.li().url}/scores`, { method: 'POST', headers: { authorization: `Bearer ${tok}`, 'content-type': 'application/vnd.ims.lis.v1.score+json' }, body: JSON.stringify(body) });
    const { acceptedAt, attempt, ...again } = s;
    assert.equal((await post(again)).status, 200, 'the same score again');
    const earlier = { ...again, timestamp: new Date(Date.parse(s.timestamp) - 1000).toISOString() };
    assert.equal((await post(earlier)).status, 400, 'an earlier timestamp');
    const h = scoresOf(c.li(), c.learners.qa.sub);
    assert.equal(h.length, 2, 'both equal ones are in the history');
    assert.deepEqual(h.map((x) => x.attempt), [1, 2], 'each a new submission attempt');
  });

  test('the worker is killed right after Canvas took a score: after recovery it is in the history once', async () => {
    const c = await course(canvas, stack, '61', ['na', 'ot']);
    await syncOnce(stack);	// the roster of the instructor launch
    await score(c, 'na', 80, 0);
    let first = null;
    let killed = 0;
    // Canvas stores the score; before its answer leaves, the worker dies
    canvas.injectFault({
      kind: 'lose', match: /\/scores/, times: 1,
      onStored: async () => { first.kill('SIGKILL'); await first.exited; killed = Date.now(); },
    });
    first = startWorker(stack, ['--lease', '3']);
    await until(() => killed > 0, 20000, 'the score taken and the worker killed');
    assert.equal((await first.exited).signal, 'SIGKILL');
    assert.deepEqual(scoresOf(c.li(), c.learners.na.sub).map((s) => s.scoreGiven), [80], 'Canvas took the score');
    assert.equal(await sql(stack, "SELECT status FROM outbox WHERE kind = 'score' ORDER BY id DESC LIMIT 1"), 'pending', 'the item is not done');
    assert.equal(await sql(stack, "SELECT COUNT(*) FROM lms_map WHERE kind = 'ags_sent'"), '1', 'its sent marker was recorded before the send');
    // newer scores queue behind it (same learner) and beside it (another learner)
    await score(c, 'na', 90, 1);
    await score(c, 'ot', 70, 0);
    const second = startWorker(stack);
    try {
      await until(() => allDone(stack), 60000, 'delivery by the second worker after the lease ran out');
    } finally {
      second.kill('SIGTERM');
      await second.exited;
    }
    assertExactlyOnce(c, 'Canvas SIGKILL');
    const h = scoresOf(c.li(), c.learners.na.sub);
    assert.deepEqual(h.map((s) => s.attempt), [1, 2], 'one submission attempt per score');
    assert.equal(taken(c, c.learners.na.sub).length, 2, 'two POSTs taken for two scores');
    assert.ok(readBacks(c.learners.na.sub).length >= 1, 'the second worker read the result back');
    assert.equal(await sql(stack, "SELECT COUNT(*) FROM lms_map WHERE kind = 'ags_sent'"), '0', 'no marker left');
    // what Canvas holds is what Attest sent last
    const v = await stack.attest(['sync', 'verify']);
    assert.equal(v.code, 0, v.stdout + v.stderr);
  });

  test('answers lost (connection closed, answered too late) and a failing read back: each score once', async () => {
    const c = await course(canvas, stack, '62', ['pa', 'ra']);
    await syncOnce(stack);
    const n0 = canvas.serviceLog.length;
    canvas.injectFault({ kind: 'lose', match: /\/scores/, times: 1 });
    canvas.injectFault({ kind: 'timeout', match: /\/scores/, times: 1, process: true, delayMs: 2500 });
    canvas.injectFault({ kind: '500', match: /\/results/, times: 1 });
    const worker = startWorker(stack, ['--batch', '1']);
    try {
      for (let i = 0; i < 3; i++) for (const n of ['pa', 'ra']) await score(c, n, [65, 85, 95][(i + n.length) % 3], i);
      await until(() => allDone(stack), 60000, 'every item delivered');
    } finally {
      worker.kill('SIGTERM');
      await worker.exited;
    }
    assert.ok(canvas.faults.every((f) => f.hits === f.times), `every fault was hit: ${JSON.stringify(canvas.faults.map((f) => [f.kind, f.hits]))}`);
    assertExactlyOnce(c, 'lost answers');
    for (const n of ['pa', 'ra']) {
      assert.equal(taken(c, c.learners[n].sub).length, 3, `${n}: three POSTs taken for three scores`);
      assert.deepEqual(scoresOf(c.li(), c.learners[n].sub).map((s) => s.attempt), [1, 2, 3], `${n}: one attempt each`);
    }
    const log = canvas.serviceLog.slice(n0);
    assert.ok(log.some((l) => l.fault === '500' && l.path.endsWith('/results')), 'a read back failed: that item waited');
    assert.ok(log.filter((l) => l.method === 'GET' && l.path.endsWith('/results') && l.status === 200).length >= 2, 'the lost answers were read back');
  });

  test('without result.readonly the read back is impossible: a lost answer is sent again (at least once, documented)', async () => {
    const c = await course(canvas, stack, '63', ['sy']);
    await syncOnce(stack);
    canvas.tokenDropScopes = [SCOPES.resultReadonly];
    try {
      await score(c, 'sy', 88, 0);
      canvas.injectFault({ kind: 'lose', match: /\/scores/, times: 1 });
      await drain(stack);
    } finally {
      canvas.tokenDropScopes = [];
    }
    assert.equal(await sql(stack, "SELECT status FROM outbox WHERE kind = 'score' ORDER BY id DESC LIMIT 1"), 'done');
    assert.deepEqual(scoresOf(c.li(), c.learners.sy.sub).map((s) => s.scoreGiven), [88, 88], 'taken twice: no way to see the first');
    assert.ok(canvas.tokenRequests.some((t) => t.params?.scope === SCOPES.resultReadonly && t.error), 'the read back asked for result.readonly and was refused');
  });
});
