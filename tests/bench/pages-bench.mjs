#!/usr/bin/env node
// pages-bench.mjs: the checklist page and the observation submit under concurrent load,
// through nginx.
//
//   node tests/bench/pages-bench.mjs --attest URL [--attest-var DIR] [--n 300] [--rounds 3]
//        [--levels 1,4,16] [--json FILE]
//
// Started by tests/bench/run.sh after the launch bench, against the same stack
// (deploy/stack.sh, which imports examples/programs). This script:
//   1. starts an emulated Moodle (tests/platform/platform.mjs), registers it by LTI Dynamic
//      Registration, launches an instructor and a learner and enrols the learner in
//      call-certification (setup, not measured);
//   2. at each concurrency level, in --rounds rounds:
//      - GET /app/observations/{id}: the checklist page of a draft with half its items
//        answered (the phone's first request), --n requests;
//      - observation submit, --n/4 times: POST /api/v1/observations (create the draft), PUT
//        the whole draft, POST .../submit; the submit is timed alone (and the other legs);
//   3. prints rates and p50/p99 latencies (client side), server CPU per operation (/proc)
//      and Attest's own time per request from its log (us=).
// Figures only: nothing here asserts a duration. Exit 1 only if a request fails outright.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Platform } from '../platform/platform.mjs';
import {
  count, send, CLK_TCK, MIN_TICKS, readPid, childrenOf, logOffsets as offsetsOf,
  logSince, pct, runRound,
} from './benchlib.mjs';

const { values: opt } = parseArgs({
  options: {
    attest: { type: 'string' },
    'attest-var': { type: 'string' },
    n: { type: 'string', default: '300' },
    levels: { type: 'string', default: '1,4,16' },
    rounds: { type: 'string', default: '3' },
    json: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (opt.help || !opt.attest) {
  process.stdout.write('usage: node tests/bench/pages-bench.mjs --attest URL [--attest-var DIR] [--n 300] [--rounds 3] [--levels 1,4,16] [--json FILE]\n');
  process.exit(opt.help ? 0 : 2);
}
const N = count(opt.n, 4, 100000, '--n');
const N_SUBMIT = Math.max(4, Math.floor(N / 4));
const LEVELS = opt.levels.split(',').map((x) => count(x, 1, 256, '--levels'));
const ROUNDS = count(opt.rounds, 1, 20, '--rounds');
const ATTEST = opt.attest.replace(/\/+$/, '');
if (!['127.0.0.1', 'localhost'].includes(new URL(ATTEST).hostname)) {
  process.stderr.write(`bench: ${ATTEST} is not loopback\n`);
  process.exit(2);
}

// ------------------------------------------------------------------ HTTP client (keep-alive)

// The bench client (benchlib.mjs send) with a JSON body and a bearer token.
function request(url, { method = 'GET', json, token } = {}) {
  const headers = {};
  let body = null;
  if (json !== undefined) {
    body = JSON.stringify(json);
    headers['content-type'] = 'application/json';
    headers['content-length'] = Buffer.byteLength(body);
  }
  if (token) headers.authorization = `Bearer ${token}`;
  return send(url, { method, headers, body });
}

async function must(p, want, label) {
  const r = await p;
  if (r.status !== want) throw new Error(`${label}: ${r.status} ${r.body.slice(0, 300)}`);
  return r.body ? JSON.parse(r.body) : null;
}

// ------------------------------------------------------------------ /proc and the log

const VAR = opt['attest-var'];
const pidFiles = () => { try { return fs.readdirSync(path.join(VAR, 'run')).filter((f) => /^attest-\d+\.pid$/.test(f) || f === 'nginx.pid'); } catch { return []; } };
function serverPids() {
  if (!VAR) return [];
  const out = [];
  for (const f of pidFiles()) { const m = readPid(path.join(VAR, 'run', f)); if (m) out.push(m, ...childrenOf(m)); }
  return out;
}
const logFiles = () => (VAR ? pidFiles().filter((f) => f !== 'nginx.pid').map((f) => path.join(VAR, 'log', f.replace('.pid', '.log'))) : []);
const logOffsets = () => offsetsOf(logFiles());
/** Attest's own time per request (us=) since `from`, by method and route (ids as {id}). */
function serverTimes(from) {
  const by = {};
  for (const f of logFiles()) {
    const text = logSince(f, from);
    if (text === null) continue;
    for (const m of text.matchAll(/ method=(\S+) path=(\S+) status=(\d+) us=(\d+)/g)) {
      (by[`${m[1]} ${m[2].replace(/\/\d+/g, '/{id}')}`] ||= []).push(Number(m[4]) / 1000);
    }
    if (!Object.keys(by).length) {
      for (const m of text.matchAll(/ path=(\S+) status=(\d+) us=(\d+)/g)) (by[m[1].replace(/\/\d+/g, '/{id}')] ||= []).push(Number(m[3]) / 1000);
    }
  }
  const out = {};
  for (const [k, v] of Object.entries(by)) { const s = Float64Array.from(v).sort(); out[k] = { n: v.length, p50: pct(s, 50), p99: pct(s, 99) }; }
  return out;
}

function summarize(rounds, conc) {
  const lat = Float64Array.from(rounds.flatMap((r) => r.lat)).sort();
  const rates = rounds.map((r) => r.lat.length / r.wall).sort((a, b) => a - b);
  const legs = {};
  for (const k of new Set(rounds.flatMap((r) => Object.keys(r.legs)))) {
    const s = Float64Array.from(rounds.flatMap((r) => r.legs[k] || [])).sort();
    legs[k] = { p50: pct(s, 50), p99: pct(s, 99) };
  }
  const cpu = rounds.reduce((t, r) => t + r.serverCpu, 0);
  const ok = lat.length;
  const firstError = rounds.map((r) => r.firstError).find(Boolean);
  return {
    conc, ok, fail: rounds.reduce((t, r) => t + r.fail, 0), firstError: firstError ? String(firstError.message || firstError) : null,
    rate: rates[Math.floor(rates.length / 2)], p50: pct(lat, 50), p99: pct(lat, 99), legs,
    serverCpuMsPerOp: ok && cpu * CLK_TCK >= MIN_TICKS ? (cpu * 1000) / ok : NaN,
  };
}

// ------------------------------------------------------------------ setup

const COURSE = { id: 'BENCH-PAGES', title: 'Bench course', label: 'BENCH' };
const platform = await Platform.start({ flavor: 'moodle' });
let result;
try {
  const reg = await platform.dynamicRegister(`${ATTEST}/lti/register`);
  if (reg.registration?.status !== 200) throw new Error(`dynamic registration failed: ${reg.registration?.status} ${reg.registration?.error || ''}`);
  const launch = async (role, user) => {
    const res = await platform.launch({ role, user, courseId: COURSE.id, context: COURSE, storageTarget: false });
    if (res.status !== 303 || !res.location) throw new Error(`launch ${role}: ${res.stage} ${res.status}`);
    const token = new URL(res.location).searchParams.get('s');
    const me = await must(request(`${ATTEST}/api/v1/me`, { token }), 200, 'me');
    return { token, id: me.user_id };
  };
  const tess = await launch('instructor', { sub: 'bench-tess', name: 'Tess Bench' });
  const zoe = await launch('learner', { sub: 'bench-zoe', name: 'Zoe Bench' });
  const enr = await must(request(`${ATTEST}/api/v1/enrolments`, { method: 'POST', token: tess.token, json: { program: 'call-certification', learner_id: zoe.id } }), 201, 'enrol');
  const prog = await must(request(`${ATTEST}/api/v1/programs/call-certification`, { token: tess.token }), 200, 'program');
  const cl = prog.checklists.find((c) => c.key === 'call');
  // every required item answered (yes / full points), the feedback written: a passing call
  const full = {
    answers: cl.items.filter((it) => it.kind !== 'comment').map((it) => ({ item: it.key, value: it.kind === 'points' ? Math.round(it.max_points * 100) : 1, text: '' })),
    feedback: Object.fromEntries((cl.feedback || []).map((f) => [f.key, 'Calm and clear'])),
  };
  const half = { answers: full.answers.slice(0, Math.ceil(full.answers.length / 2)), feedback: {} };
  const page = await must(request(`${ATTEST}/api/v1/observations`, { method: 'POST', token: tess.token, json: { enrolment_id: enr.id, checklist: 'call' } }), 201, 'draft');
  await must(request(`${ATTEST}/api/v1/observations/${page.id}`, { method: 'PUT', token: tess.token, json: half }), 200, 'half');
  const pageUrl = `${ATTEST}/app/observations/${page.id}?s=${encodeURIComponent(tess.token)}`;
  const probe = await request(pageUrl);
  if (probe.status !== 200 || !probe.body.includes('id=\'cl-form\'')) throw new Error(`the checklist page does not render: ${probe.status} ${probe.body.slice(0, 200)}`);

  const getPage = async () => {
    const t0 = performance.now();
    const r = await request(pageUrl);
    const ms = performance.now() - t0;
    if (r.status !== 200) throw new Error(`GET checklist page: ${r.status}`);
    return { ms };
  };
  let serial = 0;
  const submitOne = async () => {
    const key = `bench-${process.pid}-${++serial}`;
    const t0 = performance.now();
    const d = await must(request(`${ATTEST}/api/v1/observations`, { method: 'POST', token: tess.token, json: { enrolment_id: enr.id, checklist: 'call', client_key: key } }), 201, 'create');
    const t1 = performance.now();
    await must(request(`${ATTEST}/api/v1/observations/${d.id}`, { method: 'PUT', token: tess.token, json: full }), 200, 'put');
    const t2 = performance.now();
    await must(request(`${ATTEST}/api/v1/observations/${d.id}/submit`, { method: 'POST', token: tess.token, json: { client_key: key } }), 200, 'submit');
    const t3 = performance.now();
    return { ms: t3 - t2, legs: { create: t1 - t0, put: t2 - t1, submit: t3 - t2, all: t3 - t0 } };
  };

  // warm-up
  for (let i = 0; i < 30; i++) await getPage();
  for (let i = 0; i < 5; i++) await submitOne();

  result = { started: new Date().toISOString(), attest: ATTEST, n: N, nSubmit: N_SUBMIT, rounds: ROUNDS, page: [], submit: [], server: [] };
  for (const c of LEVELS) {
    const rp = [];
    const rs = [];
    const off = logOffsets();
    for (let k = 0; k < ROUNDS; k++) {
      rp.push(await runRound(getPage, N, c, serverPids()));
      rs.push(await runRound(submitOne, N_SUBMIT, c, serverPids()));
    }
    result.page.push(summarize(rp, c));
    result.submit.push(summarize(rs, c));
    result.server.push(serverTimes(off));
  }
} finally {
  await platform.close();
}

// ------------------------------------------------------------------ report

const f1 = (x) => (Number.isFinite(x) ? x.toFixed(x >= 100 ? 0 : x >= 10 ? 1 : 2) : '-');
const pad = (s, w, left = false) => (left ? String(s).padEnd(w) : String(s).padStart(w));
const row = (cols) => cols.map((c, i) => pad(c, [40, 5, 6, 5, 9, 8, 8, 8][i], i === 0)).join(' ');
const out = [];
const p = (s = '') => out.push(s);
p(`Attest pages bench (${result.started}): ${ROUNDS} rounds per level, ${N} checklist pages and ${N_SUBMIT} submits per round, loopback through nginx, ${os.cpus().length} CPUs`);
p('page     = GET /app/observations/{id}: the checklist page of a draft (10 items, half answered)');
p('submit   = POST /api/v1/observations/{id}/submit alone, after POST (create) and PUT (whole draft) of a new draft');
p('rate     = median of the rounds (for submit: whole create + put + submit flows per second);');
p('           p50/p99 over every sample; srv cpu = nginx + FastCGI CPU per operation');
p('           (for submit: per create + put + submit)');
p();
p(row(['test', 'conc', 'n', 'fail', 'rate/s', 'p50 ms', 'p99 ms', 'srv cpu']));
for (let i = 0; i < LEVELS.length; i++) {
  for (const [name, r] of [['attest GET checklist page', result.page[i]], ['attest observation submit', result.submit[i]]]) {
    p(row([name, r.conc, r.ok + r.fail, r.fail, f1(r.rate), f1(r.p50), f1(r.p99), f1(r.serverCpuMsPerOp)]));
  }
  const s = result.submit[i].legs;
  const lg = (k) => (s[k] ? `${f1(s[k].p50)} / ${f1(s[k].p99)}` : '-');
  p(`  submit flow legs, p50 / p99 ms: create ${lg('create')}, put ${lg('put')}, submit ${lg('submit')}, all three ${lg('all')}`);
  p();
}
p('Attest\'s own time per request from its log (us=), p50 / p99 ms:');
for (let i = 0; i < LEVELS.length; i++) {
  const sv = result.server[i] || {};
  const keys = Object.keys(sv).filter((k) => /observations/.test(k)).sort();
  p(`  conc ${LEVELS[i]}: ${keys.length ? keys.map((k) => `${k} ${f1(sv[k].p50)} / ${f1(sv[k].p99)} (n ${sv[k].n})`).join('; ') : '(no log lines found)'}`);
}
const failures = [...result.page, ...result.submit].filter((r) => r.fail > 0);
for (const r of failures) p(`note: ${r.fail} failed at concurrency ${r.conc}; first error: ${r.firstError}`);
process.stdout.write(out.join('\n') + '\n');
if (opt.json) fs.writeFileSync(opt.json, JSON.stringify(result, null, 2) + '\n');
process.exit(failures.some((r) => r.ok === 0) ? 1 : 0);
