#!/usr/bin/env node
// launch-bench.mjs: complete LTI 1.3 launches per second through nginx, against the floor.
//
//   node tests/bench/launch-bench.mjs --attest URL --floor URL [--attest-var DIR]
//        [--floor-var DIR] [--n 300] [--n-http 2000] [--rounds 3] [--levels 1,4,16]
//        [--flavor moodle] [--wrk-seconds 5] [--json FILE]
//
// Started by tests/bench/run.sh, which brings up the real stack (deploy/stack.sh) and the
// floor (nginx + build/tools/fcgi_hello) and cleans up after. This script:
//   1. starts an emulated platform (tests/platform/platform.mjs) on 127.0.0.1 and registers
//      it with Attest by LTI Dynamic Registration;
//   2. at each concurrency level, in --rounds rounds, runs a fixed number of complete
//      launches, each as a browser would: GET /lti/login -> platform /auth (id_token
//      signed RS256 by the platform) -> POST /lti/launch -> 303 to the app, interleaved
//      with a fixed number of plain GETs against the floor and against Attest's /healthz
//      (same HTTP client); then `wrk` (if installed) against both;
//   4. prints one table: rates, p50/p99 latencies, server CPU per operation (from /proc),
//      server-side request times (from Attest's log) and the ratio attest/floor.
// Figures only: nothing here asserts a duration. Exit 1 only if a launch does not work.
// Everything is loopback and bounded (fixed counts, per-request timeouts, wrk -d).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { Platform, CookieJar, parseForms } from '../platform/platform.mjs';
import {
  count, send, CLK_TCK, MIN_TICKS, readPid, childrenOf, cpuTicks, logOffsets, logSince, pct,
  sortNum, runRound,
} from './benchlib.mjs';

const { values: opt } = parseArgs({
  options: {
    attest: { type: 'string' },
    floor: { type: 'string' },
    'attest-var': { type: 'string' },
    'floor-var': { type: 'string' },
    n: { type: 'string', default: '300' },
    'n-http': { type: 'string', default: '2000' },
    levels: { type: 'string', default: '1,4,16' },
    flavor: { type: 'string', default: 'moodle' },
    'wrk-seconds': { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    json: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (opt.help || !opt.attest || !opt.floor) {
  process.stdout.write('usage: node tests/bench/launch-bench.mjs --attest URL --floor URL [--attest-var DIR] [--floor-var DIR]\n'
    + '       [--n LAUNCHES] [--n-http REQUESTS] [--rounds 3] [--levels 1,4,16] [--flavor moodle|canvas] [--wrk-seconds S] [--json FILE]\n');
  process.exit(opt.help ? 0 : 2);
}

const N_LAUNCH = count(opt.n, 1, 100000, '--n');
const N_HTTP = count(opt['n-http'], 1, 1000000, '--n-http');
const LEVELS = opt.levels.split(',').map((x) => count(x, 1, 256, '--levels'));
const WRK_SECS = count(opt['wrk-seconds'], 0, 60, '--wrk-seconds');
const ROUNDS = count(opt.rounds, 1, 20, '--rounds');
const ATTEST = opt.attest.replace(/\/+$/, '');
const FLOOR = opt.floor.replace(/\/+$/, '');
for (const u of [ATTEST, FLOOR]) {
  const h = new URL(u).hostname;
  if (!['127.0.0.1', 'localhost'].includes(h)) { process.stderr.write(`bench: ${u} is not loopback\n`); process.exit(2); }
}

// ------------------------------------------------------------------ HTTP client

// The bench client (benchlib.mjs send) with forms and cookies through the emulator's jar.
async function request(url, { method = 'GET', form, jar } = {}) {
  const headers = {};
  let body = null;
  if (form) {
    body = new URLSearchParams(form).toString();
    headers['content-type'] = 'application/x-www-form-urlencoded';
    headers['content-length'] = Buffer.byteLength(body);
  }
  if (jar) { const c = jar.header(url); if (c) headers.cookie = c; }
  const res = await send(url, { method, headers, body });
  if (jar) jar.store(url, res.headers['set-cookie'] || []);
  const loc = res.headers.location;
  return { ...res, location: loc ? new URL(loc, url).href : null };
}

// ------------------------------------------------------------------ /proc helpers

/** The server processes whose CPU time we charge to a test: FastCGI workers and nginx workers. */
function serverPids(varDir, fcgiPidFiles) {
  if (!varDir) return [];
  const pids = [];
  for (const f of fcgiPidFiles) {
    const master = readPid(path.join(varDir, 'run', f));
    if (master) pids.push(master, ...childrenOf(master));
  }
  const nginx = readPid(path.join(varDir, 'run', 'nginx.pid'));
  if (nginx) pids.push(nginx, ...childrenOf(nginx));
  return pids;
}

function attestPidFiles(varDir) {
  try { return fs.readdirSync(path.join(varDir, 'run')).filter((f) => /^attest-\d+\.pid$/.test(f)); } catch { return []; }
}

// ------------------------------------------------------------------ measuring

/**
 * Figures of one test at one concurrency over several rounds: rate = median of the rounds'
 * rates (the machine is shared: one round can be hit by a neighbour); latency percentiles
 * over every sample of every round; CPU per operation over all rounds.
 */
function summarize(rounds, n, conc) {
  const lat = rounds.flatMap((r) => r.lat);
  const ok = lat.length;
  const rates = rounds.map((r) => r.lat.length / r.wall).sort((x, y) => x - y);
  const s = sortNum(lat);
  const legs = {};
  for (const k of new Set(rounds.flatMap((r) => Object.keys(r.legs)))) {
    const sv = sortNum(rounds.flatMap((r) => r.legs[k] || []));
    legs[k] = { p50: pct(sv, 50), p99: pct(sv, 99) };
  }
  const fail = rounds.reduce((t, r) => t + r.fail, 0);
  const firstError = rounds.map((r) => r.firstError).find(Boolean);
  const sum = (k) => rounds.reduce((t, r) => t + r[k], 0);
  return {
    conc, n: n * rounds.length, ok, fail, firstError: firstError ? String(firstError.message || firstError) : null,
    rates, rate: rates[Math.floor(rates.length / 2)], p50: pct(s, 50), p99: pct(s, 99),
    serverCpuMsPerOp: ok && sum('serverCpu') * CLK_TCK >= MIN_TICKS ? (sum('serverCpu') * 1000) / ok : NaN,
    clientCpuMsPerOp: ok ? (sum('clientCpu') * 1000) / ok : NaN,
    legs,
  };
}

async function getOk(url, want) {
  const t0 = performance.now();
  const r = await request(url);
  const ms = performance.now() - t0;
  if (r.status !== 200) throw new Error(`GET ${url}: ${r.status}`);
  if (want && !r.body.includes(want)) throw new Error(`GET ${url}: unexpected body`);
  return { ms };
}

/** One complete launch, as a browser inside the LMS does it. */
async function oneLaunch(p) {
  const rec = p.createLaunch({ role: 'learner', storageTarget: false });
  const jar = new CookieJar();
  const u = new URL(rec.loginUrl);
  for (const [k, v] of Object.entries(rec.loginParams)) u.searchParams.set(k, v);
  const t0 = performance.now();
  const login = await request(u.href, { jar });
  const t1 = performance.now();
  if (![302, 303].includes(login.status) || !login.location || !login.location.startsWith(p.urls.auth)) {
    throw new Error(`login: ${login.status} ${login.location || login.body.slice(0, 200)}`);
  }
  const auth = await request(login.location, { jar });
  const t2 = performance.now();
  const form = auth.status === 200 ? parseForms(auth.body, login.location)[0] : null;
  const fields = form ? Object.fromEntries(form.fields) : {};
  if (!form || !fields.id_token) throw new Error(`auth: ${auth.status} ${fields.error || ''} ${fields.error_description || ''}`);
  const launch = await request(form.action, { method: 'POST', form: fields, jar });
  const t3 = performance.now();
  if (launch.status !== 303 || !launch.location) throw new Error(`launch: ${launch.status} ${launch.body.slice(0, 300)}`);
  return { ms: t3 - t0, legs: { login: t1 - t0, auth: t2 - t1, launch: t3 - t2 } };
}

/** Server-side request times Attest logged (us=) since byte offset `from`, by path. */
function attestLogTimes(logFiles, from) {
  const by = {};
  for (const f of logFiles) {
    const text = logSince(f, from);
    if (text === null) continue;
    for (const m of text.matchAll(/ path=(\S+) status=(\d+) us=(\d+)/g)) (by[m[1]] ||= []).push(Number(m[3]) / 1000);
  }
  const out = {};
  for (const [k, v] of Object.entries(by)) { const s = sortNum(v); out[k] = { n: v.length, p50: pct(s, 50), p99: pct(s, 99) }; }
  return out;
}

function wrk(url, pids) {
  if (WRK_SECS === 0) return null;
  const which = spawnSync('sh', ['-c', 'command -v wrk'], { encoding: 'utf8' });
  if (which.status !== 0) return { error: 'wrk is not installed (deploy/install-deps.sh --test)' };
  const cpu0 = cpuTicks(pids);
  const r = spawnSync('wrk', ['-t2', '-c16', `-d${WRK_SECS}s`, '--latency', url], { encoding: 'utf8', timeout: (WRK_SECS + 30) * 1000 });
  const cpu = (cpuTicks(pids) - cpu0) / CLK_TCK;
  if (r.status !== 0) return { error: `wrk failed: ${r.stderr || r.error}` };
  const out = r.stdout;
  const unit = (v, u) => Number(v) * ({ us: 0.001, ms: 1, s: 1000, m: 60000 }[u] ?? NaN);
  const lat = (p) => { const m = new RegExp(`^\\s*${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(out); return m ? unit(m[1], m[2]) : NaN; };
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out);
  const errs = /Socket errors: (.*)/.exec(out);
  const total = /^\s*(\d+) requests in/m.exec(out);
  return { serverCpuMsPerOp: total && cpu * CLK_TCK >= MIN_TICKS ? (cpu * 1000) / Number(total[1]) : NaN, rate: rps ? Number(rps[1]) : NaN, p50: lat(50), p99: lat(99), non2xx: non2xx ? Number(non2xx[1]) : 0, socketErrors: errs ? errs[1] : null };
}

// ------------------------------------------------------------------ printing

const f1 = (x) => (Number.isFinite(x) ? x.toFixed(x >= 100 ? 0 : x >= 10 ? 1 : 2) : '-');
const fr = (x) => (Number.isFinite(x) ? x.toFixed(2) : '-');
const pad = (s, w, left = false) => (left ? String(s).padEnd(w) : String(s).padStart(w));

const NCPU = os.cpus().length;
const cap = (cpuMs) => (Number.isFinite(cpuMs) && cpuMs > 0 ? (NCPU * 1000) / cpuMs : NaN);

function row(cols) {
  const widths = [34, 5, 6, 5, 9, 8, 8, 8, 8, 9, 9];
  return cols.map((c, i) => pad(c, widths[i], i === 0)).join(' ');
}

// ------------------------------------------------------------------ main

const result = { started: new Date().toISOString(), attest: ATTEST, floor: FLOOR, levels: LEVELS, nLaunch: N_LAUNCH, nHttp: N_HTTP, rounds: ROUNDS };
const attestVar = opt['attest-var'];
const floorVar = opt['floor-var'];
const attestPids = () => serverPids(attestVar, attestVar ? attestPidFiles(attestVar) : []);
const floorPids = () => serverPids(floorVar, ['hello.pid']);
const attestLogs = attestVar ? attestPidFiles(attestVar).map((f) => path.join(attestVar, 'log', f.replace('.pid', '.log'))) : [];

let launchBroken = null;
const platform = await Platform.start({ flavor: opt.flavor === 'canvas' ? 'canvas' : 'moodle' });
try {
  // Registration (once) and warm-up.
  const reg = await platform.dynamicRegister(`${ATTEST}/lti/register`);
  if (reg.status !== 200 || !reg.registration || reg.registration.status !== 200) {
    launchBroken = `dynamic registration failed: tool page ${reg.status}, platform ${reg.registration ? reg.registration.status + ' ' + (reg.registration.error || '') : 'never called'}`;
  } else {
    try {
      for (let i = 0; i < 20; i++) await oneLaunch(platform);
    } catch (e) {
      launchBroken = `warm-up launch failed: ${e.message}`;
    }
  }
  for (let i = 0; i < 200; i++) {
    await getOk(`${FLOOR}/hello`, 'hello');
    await getOk(`${ATTEST}/healthz`);
  }

  result.floor = [];
  result.healthz = [];
  result.launch = [];
  result.launchServer = [];
  for (const c of LEVELS) {
    // Rounds interleave the three tests so that a noisy neighbour spreads over all of them.
    const rounds = { floor: [], healthz: [], launch: [] };
    const off = logOffsets(attestLogs);
    for (let k = 0; k < ROUNDS; k++) {
      rounds.floor.push(await runRound(() => getOk(`${FLOOR}/hello`, 'hello'), N_HTTP, c, floorPids()));
      rounds.healthz.push(await runRound(() => getOk(`${ATTEST}/healthz`), N_HTTP, c, attestPids()));
      if (!launchBroken) {
        const r = await runRound(() => oneLaunch(platform), N_LAUNCH, c, attestPids());
        rounds.launch.push(r);
        if (r.lat.length === 0) launchBroken = `every launch failed at concurrency ${c}: ${r.firstError && r.firstError.message}`;
      }
    }
    result.floor.push(summarize(rounds.floor, N_HTTP, c));
    result.healthz.push(summarize(rounds.healthz, N_HTTP, c));
    if (rounds.launch.length) {
      result.launch.push(summarize(rounds.launch, N_LAUNCH, c));
      result.launchServer.push(attestLogTimes(attestLogs, off));
    }
  }
  result.wrk = { floor: wrk(`${FLOOR}/hello`, floorPids()), healthz: wrk(`${ATTEST}/healthz`, attestPids()) };
} finally {
  await platform.close();
}

// ------------------------------------------------------------------ report

const out = [];
const p = (s = '') => out.push(s);
p(`Attest bench (${result.started}): ${ROUNDS} rounds of ${N_LAUNCH} launches and ${N_HTTP} GETs per level, loopback, ${opt.flavor} platform emulator, ${NCPU} CPUs`);
p('rate     = median of the rounds; p50/p99 over every sample of every round');
p('floor    = nginx + build/tools/fcgi_hello, same nginx template and worker count as the stack');
p('launch   = GET /lti/login -> platform /auth (RS256 id_token) -> POST /lti/launch -> 303, one new browser each');
p('srv cpu  = CPU time of nginx + FastCGI processes per operation (from /proc); cpu cap = CPUs / srv cpu,');
p('           the rate the server side could reach if it had every CPU to itself ("-": too little CPU to measure)');
p('cli cpu  = CPU time of this Node process per operation (HTTP client, and for launches the emulated');
p('           platform signing id_tokens): it shares the same CPUs, so it bounds the measured rates');
p('vs floor = rate / floor rate at the same concurrency');
p();
p(row(['test', 'conc', 'n', 'fail', 'rate/s', 'p50 ms', 'p99 ms', 'srv cpu', 'cli cpu', 'cpu cap/s', 'vs floor']));
for (let i = 0; i < LEVELS.length; i++) {
  const fl = result.floor[i];
  const hz = result.healthz[i];
  const la = result.launch[i];
  const line = (name, r, ratio) => p(row([name, r.conc, r.n, r.fail, f1(r.rate), f1(r.p50), f1(r.p99),
    f1(r.serverCpuMsPerOp), f1(r.clientCpuMsPerOp), f1(cap(r.serverCpuMsPerOp)), ratio]));
  line('floor  GET /hello', fl, '1.00');
  line('attest GET /healthz', hz, fr(hz.rate / fl.rate));
  if (la) {
    line('attest launch', la, fr(la.rate / fl.rate));
    p(row(['  = attest requests/s (2 a launch)', '', 2 * la.ok, '', f1(2 * la.rate), '', '', '', '', '', fr((2 * la.rate) / fl.rate)]));
  }
  p();
}
if (result.launch.length) {
  p('Launch legs: client-seen p50 / p99 ms, and Attest\'s own time per request from its log (us=):');
  p(`${pad('conc', 5)} ${pad('GET /lti/login', 17)} ${pad('platform /auth', 17)} ${pad('POST /lti/launch', 17)}   ${pad('attest login', 15)} ${pad('attest launch', 15)}`);
  for (let i = 0; i < result.launch.length; i++) {
    const la = result.launch[i];
    const sv = result.launchServer[i] || {};
    const lg = (k) => (la.legs[k] ? `${f1(la.legs[k].p50)} / ${f1(la.legs[k].p99)}` : '-');
    const sl = (k) => (sv[k] ? `${f1(sv[k].p50)} / ${f1(sv[k].p99)}` : '-');
    p(`${pad(la.conc, 5)} ${pad(lg('login'), 17)} ${pad(lg('auth'), 17)} ${pad(lg('launch'), 17)}   ${pad(sl('/lti/login'), 15)} ${pad(sl('/lti/launch'), 15)}`);
  }
  p();
}
if (result.wrk.floor || result.wrk.healthz) {
  p(`wrk -t2 -c16 -d${WRK_SECS}s --latency (the HTTP ceiling; wrk shares the CPUs too):`);
  p(`${pad('test', 22, true)} ${pad('req/s', 9)} ${pad('p50 ms', 8)} ${pad('p99 ms', 8)} ${pad('srv cpu', 8)} ${pad('cpu cap/s', 9)} ${pad('vs floor', 9)}  notes`);
  const w = result.wrk;
  for (const [name, r] of [['floor  GET /hello', w.floor], ['attest GET /healthz', w.healthz]]) {
    if (!r) continue;
    if (r.error) { p(`${pad(name, 22, true)} ${r.error}`); continue; }
    const note = [r.non2xx ? `${r.non2xx} non-2xx` : '', r.socketErrors ? `socket errors: ${r.socketErrors}` : ''].filter(Boolean).join('; ');
    const ratio = name.startsWith('floor') ? '1.00' : fr(r.rate / (w.floor && w.floor.rate));
    p(`${pad(name, 22, true)} ${pad(f1(r.rate), 9)} ${pad(f1(r.p50), 8)} ${pad(f1(r.p99), 8)} ${pad(f1(r.serverCpuMsPerOp), 8)} ${pad(f1(cap(r.serverCpuMsPerOp)), 9)} ${pad(ratio, 9)}  ${note}`);
  }
  if (result.launch.length && w.floor && Number.isFinite(w.floor.rate)) {
    const best = Math.max(...result.launch.map((r) => r.rate));
    p(`${pad('best launch rate', 22, true)} ${pad(f1(best), 9)} ${pad('', 8)} ${pad('', 8)} ${pad('', 8)} ${pad('', 9)} ${pad(fr(best / w.floor.rate), 9)}  launches/s vs wrk floor req/s`);
  }
  p();
}
const failures = [...result.floor, ...result.healthz, ...result.launch].filter((r) => r.fail > 0);
for (const r of failures) p(`note: ${r.fail}/${r.n} failed at concurrency ${r.conc}; first error: ${r.firstError}`);
if (launchBroken) p(`LAUNCH NOT MEASURED: ${launchBroken}`);
process.stdout.write(out.join('\n') + '\n');
if (opt.json) fs.writeFileSync(opt.json, JSON.stringify(result, null, 2) + '\n');
process.exit(launchBroken ? 1 : 0);
