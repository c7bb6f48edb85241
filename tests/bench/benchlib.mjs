// benchlib.mjs: what the benches (launch-bench.mjs, pages-bench.mjs) share: argument
// checks, a lean keep-alive HTTP client, server CPU from /proc, Attest's log since an
// offset, percentiles, and one measured round of concurrent loops.
import fs from 'node:fs';
import http from 'node:http';
import { spawnSync } from 'node:child_process';

/** s as an integer in lo..hi, else exit 2 naming the option. */
export const count = (s, lo, hi, name) => {
  const v = Number(s);
  if (!Number.isInteger(v) || v < lo || v > hi) { process.stderr.write(`bench: ${name} must be ${lo}..${hi}\n`); process.exit(2); }
  return v;
};

// ------------------------------------------------------------------ HTTP client

// A lean keep-alive client (node:http) for every measured request: fetch() costs this process
// several times more CPU per request, and on a 2-core machine the client shares the CPUs with
// nginx and the workers. Redirects are not followed.
export const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

/** One request (30 s timeout): resolves {status, headers, body (text)}. */
export function send(url, { method = 'GET', headers = {}, body = null } = {}) {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({
      agent, method, headers: { 'user-agent': 'attest-bench/1', ...headers }, host: u.hostname,
      port: u.port || 80, path: u.pathname + u.search,
      family: u.hostname === 'localhost' ? 4 : undefined, timeout: 30000,
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url}: timeout`)));
    req.on('error', reject);
    req.end(body);
  });
}

// ------------------------------------------------------------------ /proc

export const CLK_TCK = (() => {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const v = Number(String(r.stdout).trim());
  return Number.isFinite(v) && v > 0 ? v : 100;
})();

// /proc counts CPU time in clock ticks (10 ms): below this many the figure is noise.
export const MIN_TICKS = 20;

export function readPid(file) {
  try { return Number(fs.readFileSync(file, 'utf8').trim()) || null; } catch { return null; }
}

export function procStat(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' '); // fields from 3 (state) on
    return { ppid: Number(f[1]), cpuTicks: Number(f[11]) + Number(f[12]) };
  } catch { return null; }
}

export function childrenOf(pid) {
  const kids = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const st = procStat(d);
    if (st && st.ppid === pid) kids.push(Number(d));
  }
  return kids;
}

export function cpuTicks(pids) {
  let t = 0;
  for (const p of pids) { const st = procStat(p); if (st) t += st.cpuTicks; }
  return t;
}

// ------------------------------------------------------------------ Attest's log

/** The size of each log file now (where serverTimes-style readers start later). */
export function logOffsets(logFiles) {
  const o = {};
  for (const f of logFiles) { try { o[f] = fs.statSync(f).size; } catch { o[f] = 0; } }
  return o;
}

/** What file gained since byte offset from[file], as text; null when it cannot be read. */
export function logSince(file, from) {
  try {
    const fd = fs.openSync(file, 'r');
    const size = fs.fstatSync(fd).size;
    const start = from[file] || 0;
    const buf = Buffer.alloc(Math.max(0, size - start));
    fs.readSync(fd, buf, 0, buf.length, start);
    fs.closeSync(fd);
    return buf.toString('utf8');
  } catch { return null; }
}

// ------------------------------------------------------------------ measuring

export const pct = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] : NaN);
export const sortNum = (a) => Float64Array.from(a).sort();

/**
 * Run `fn` n times with `conc` concurrent loops. fn returns {ms, legs?} or throws.
 * Returns the raw samples of one round: latencies, per-leg latencies, wall time, failures
 * (first error kept), server CPU seconds (pids) and this process's CPU seconds.
 */
export async function runRound(fn, n, conc, pids) {
  let next = 0;
  const lat = [];
  const legs = {};
  let fail = 0;
  let firstError = null;
  const cpu0 = cpuTicks(pids);
  const client0 = process.cpuUsage();
  const t0 = performance.now();
  const loop = async () => {
    while (next < n) {
      next++;
      try {
        const r = await fn();
        lat.push(r.ms);
        for (const [k, v] of Object.entries(r.legs || {})) (legs[k] ||= []).push(v);
      } catch (e) {
        fail++;
        if (!firstError) firstError = e;
      }
    }
  };
  await Promise.all(Array.from({ length: conc }, loop));
  const wall = (performance.now() - t0) / 1000;
  const client = process.cpuUsage(client0);
  return {
    lat, legs, fail, firstError, wall,
    serverCpu: (cpuTicks(pids) - cpu0) / CLK_TCK,
    clientCpu: (client.user + client.system) / 1e6,
  };
}
