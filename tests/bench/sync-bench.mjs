#!/usr/bin/env node
// sync-bench.mjs: outbox delivery throughput (AGS scores per second) against the platform
// emulator on loopback, through `attest sync once`.
//
//   node tests/bench/sync-bench.mjs [--items 2000] [--learners 100] [--batches 1,16,64]
//        [--db sqlite|pg]
//
// Starts the real stack (tests/e2e/stack.mjs) and an emulated Moodle, places the call
// certification program by deep linking (its line item comes from the platform), creates
// `learners` learners and queues `items` score items directly in the outbox (what core/lmsq.c
// writes when observations are submitted), then times `attest sync once --batch B` for each
// B on a fresh set of items. Prints items/s, the HTTP connections the emulator accepted
// (keep-alive: far fewer than items) and token requests. Figures only, asserts nothing but
// that every item was delivered.
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { Platform } from '../platform/platform.mjs';
import { Stack } from '../e2e/stack.mjs';
import { sql } from '../e2e/api-client.mjs';
import { deepLink, launchApi } from '../e2e/sync-helpers.mjs';

const { values: opt } = parseArgs({
  options: {
    items: { type: 'string', default: '2000' },
    learners: { type: 'string', default: '100' },
    batches: { type: 'string', default: '1,16,64' },
    db: { type: 'string', default: process.env.ATTEST_E2E_DB || 'sqlite' },
  },
});
/** A long SQL script on the stack's database, through stdin. */
function script(stack, text) {
  const url = stack.env.ATTEST_DATABASE;
  const r = url.startsWith('sqlite:')
    ? spawnSync('sqlite3', ['-batch', '-cmd', '.timeout 10000', url.slice(7)], { input: text, encoding: 'utf8', maxBuffer: 1 << 26 })
    : spawnSync('psql', [url, '-X', '-q', '-v', 'ON_ERROR_STOP=1'], { input: text, encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`sql script failed: ${r.stderr}`);
}

const N = Number(opt.items);
const L = Number(opt.learners);
const batches = opt.batches.split(',').map(Number);

const stack = await Stack.start({ name: 'sync-bench', db: opt.db, env: { ATTEST_LOG_LEVEL: '1', ATTEST_SYNC_WORKER: '0' } });
const moodle = await Platform.start({ flavor: 'moodle' });
let connections = 0;
moodle.server.on('connection', () => { connections++; });
try {
  const reg = await moodle.dynamicRegister(`${stack.baseUrl}/lti/register`);
  if (reg.registration?.status !== 200) throw new Error('registration failed');
  const dl = await deepLink(moodle, stack, { courseId: '90', choose: [/^ESP agent call certification$/] });
  await launchApi(moodle, stack, { role: 'learner', user: { sub: 'bench-0', name: 'Bench 0' }, courseId: '90', linkId: dl.links[0].linkId });
  const placement = await sql(stack, 'SELECT id FROM placement ORDER BY id LIMIT 1');
  const platform = await sql(stack, 'SELECT id FROM platform ORDER BY id LIMIT 1');
  const users = [];
  let q0 = 'BEGIN;';
  for (let i = 1; i <= L; i++) {
    q0 += `INSERT INTO app_user (platform_id, sub, name, created_at, updated_at) VALUES (${platform}, 'bench-${i}', 'Bench ${i}', 1, 1);`;
  }
  q0 += 'COMMIT;';
  script(stack, q0);
  for (const row of (await sql(stack, "SELECT id FROM app_user WHERE sub LIKE 'bench-%' AND sub <> 'bench-0' ORDER BY id")).split('\n')) users.push(Number(row));
  console.log(`sync bench: ${N} score items per run over ${L} learners (order kept per learner), ${opt.db}, loopback emulated Moodle`);
  console.log('batch  items    seconds   items/s  connections  token requests');
  let seq = 0;
  for (const b of batches) {
    let q = 'BEGIN;';
    const t0 = Date.now();
    for (let i = 0; i < N; i++) {
      const u = users[i % users.length];
      const ts = new Date(t0 - 3600e3 + i * 10).toISOString();
      const payload = JSON.stringify({ placement_id: Number(placement), user_id: u, lineitem: '', score_given: (i * 7) % 101, score_max: 100,
        activity_progress: 'InProgress', grading_progress: 'FullyGraded', timestamp: ts, comment: 'bench', evidence: [] });
      q += `INSERT INTO outbox (platform_id, kind, order_key, idem_key, payload, next_at_ms, created_at, updated_at) VALUES (${platform}, 'score', 'score:${placement}:${u}', 'bench:${++seq}', '${payload}', 0, 1, 1);`;
    }
    q += 'COMMIT;';
    script(stack, q);
    const c0 = connections;
    const k0 = moodle.tokenRequests.length;
    const start = process.hrtime.bigint();
    const r = await stack.attest(['sync', 'once', '--batch', String(b)], { timeoutMs: 600000 });
    const secs = Number(process.hrtime.bigint() - start) / 1e9;
    if (r.code !== 0) throw new Error(`sync once failed: ${r.stderr}`);
    const left = await sql(stack, "SELECT COUNT(*) FROM outbox WHERE status <> 'done'");
    if (left !== '0') throw new Error(`${left} items not delivered: ${(await stack.attest(['sync', 'list'])).stdout.slice(0, 2000)}`);
    console.log(`${String(b).padStart(5)}  ${String(N).padStart(5)}  ${secs.toFixed(2).padStart(9)}  ${(N / secs).toFixed(0).padStart(8)}  ${String(connections - c0).padStart(11)}  ${String(moodle.tokenRequests.length - k0).padStart(14)}`);
  }
} finally {
  await moodle.close();
  await stack.stop();
}
