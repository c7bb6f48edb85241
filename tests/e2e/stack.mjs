// stack.mjs: start the real Attest stack (deploy/stack.sh: attest workers + nginx) for e2e tests.
//
//   const stack = await Stack.start({ db: 'sqlite' | 'pg', instances: 1 | 2, env: { ATTEST_DEPLOYMENT_POLICY: 'strict' } });
//   stack.baseUrl                       // http://localhost:<port>
//   await stack.attest(['platform', 'list'])   // runs bin/attest with the stack's env -> {code, stdout, stderr}
//   await stack.stop();
//
// Each stack gets a private var dir (ATTEST_VAR) and a free port. db:'pg' starts a private
// PostgreSQL server (initdb as the postgres user when running as root) and passes
// ATTEST_DATABASE. ATTEST_E2E_KEEP=1 keeps the var dirs for post-mortem.
// ATTEST_E2E_TARGET=fake runs the JS fake tool (tests/platform/fake-tool.mjs) instead of the
// C stack: only to check the test suites themselves.

import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The binary under test: ATTEST_BIN (e.g. bin-san/attest for the sanitizer pass) or bin/attest. */
export const BIN = path.resolve(ROOT, process.env.ATTEST_BIN || 'bin/attest');

export async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function run(cmd, args, { env, cwd = ROOT, timeoutMs = 60000, input } = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env, cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => { stderr += `\n[timeout after ${timeoutMs} ms]`; child.kill('SIGKILL'); }, timeoutMs);
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', (e) => { clearTimeout(timer); resolve({ code: -1, stdout, stderr: stderr + String(e) }); });
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
    child.stdin.on('error', () => {}); // a child may exit before reading its stdin
    if (input !== undefined) child.stdin.end(input); else child.stdin.end();
  });
}

function pgBinDir() {
  const base = '/usr/lib/postgresql';
  if (!fs.existsSync(base)) return null;
  const v = fs.readdirSync(base).filter((d) => fs.existsSync(path.join(base, d, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
  return v.length ? path.join(base, v[0], 'bin') : null;
}

/** A private PostgreSQL server in `dir` (PostgreSQL refuses to run as root: use the postgres user). */
export async function startPostgres(dir) {
  const bin = pgBinDir();
  if (!bin) throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql (apt-get install postgresql)');
  const asRoot = process.getuid && process.getuid() === 0;
  const data = path.join(dir, 'pgdata');
  const sock = path.join(dir, 'pgsock');
  fs.mkdirSync(sock, { recursive: true });
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    fs.chownSync(sock, uid, gid);
    fs.mkdirSync(data, { recursive: true });
    fs.chownSync(data, uid, gid);
  }
  const as = (args) => (asRoot ? ['runuser', ['-u', 'postgres', '--', ...args]] : [args[0], args.slice(1)]);
  const port = await freePort();
  let r = await run(...as([path.join(bin, 'initdb'), '-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-locale']), { timeoutMs: 120000 });
  if (r.code !== 0) throw new Error(`initdb failed: ${r.stderr}`);
  r = await run(...as([path.join(bin, 'pg_ctl'), '-D', data, '-l', path.join(sock, 'postgres.log'), '-w', '-t', '60',
    '-o', `-p ${port} -k ${sock} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100`, 'start']), { timeoutMs: 90000 });
  if (r.code !== 0) throw new Error(`pg_ctl start failed: ${r.stderr}${r.stdout}`);
  r = await run(path.join(bin, 'createdb'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', 'attest']);
  if (r.code !== 0) throw new Error(`createdb failed: ${r.stderr}`);
  return {
    url: `postgresql://postgres@127.0.0.1:${port}/attest`,
    port,
    async stop() {
      await run(...as([path.join(bin, 'pg_ctl'), '-D', data, '-m', 'fast', '-w', 'stop']), { timeoutMs: 60000 });
    },
  };
}

export class Stack {
  /**
   * @param {object} o
   * @param {'sqlite'|'pg'} [o.db]  default: $ATTEST_E2E_DB or 'sqlite'
   * @param {number} [o.instances=1]
   * @param {object} [o.env]        extra ATTEST_* settings
   * @param {string} [o.name='e2e'] prefix of the var dir
   */
  static async start(o = {}) {
    const s = new Stack(o);
    try {
      await s._start();
    } catch (e) {
      await s.stop({ keep: true }).catch(() => {});
      e.message += `\n(var dir kept: ${s.varDir})`;
      throw e;
    }
    return s;
  }

  constructor({ db = process.env.ATTEST_E2E_DB || 'sqlite', instances = 1, env = {}, name = 'e2e' } = {}) {
    this.db = db;
    this.instances = instances;
    this.extraEnv = env;
    this.name = name;
    this.target = process.env.ATTEST_E2E_TARGET === 'fake' ? 'fake' : 'real';
  }

  async _start() {
    this.varDir = fs.mkdtempSync(path.join(os.tmpdir(), `attest-${this.name}-`));
    fs.chmodSync(this.varDir, 0o755); // nginx workers (nobody) must reach the FastCGI socket
    this.port = await freePort();
    if (this.target === 'fake') return this._startFake();
    const stackSh = path.join(ROOT, 'deploy', 'stack.sh');
    const bin = BIN;
    if (!fs.existsSync(stackSh)) throw new Error(`${stackSh} does not exist yet`);
    if (!fs.existsSync(bin)) throw new Error(`${bin} does not exist: run make first`);
    if (this.db === 'pg') this.pg = await startPostgres(this.varDir);
    this.env = {
      ...process.env,
      ATTEST_VAR: this.varDir,
      PORT: String(this.port),
      ATTEST_BASE_URL: `http://localhost:${this.port}`,
      ATTEST_LMS_ALLOW_HTTP: '1',
      ATTEST_INSTANCES: String(this.instances),
      // The same derived settings deploy/stack.sh exports, so that bin/attest run by attest()
      // below uses this stack's database and keys (never the repository's var/).
      ATTEST_DATABASE: this.pg ? this.pg.url : `sqlite:${path.join(this.varDir, 'attest.db')}`,
      ATTEST_KEYS_DIR: path.join(this.varDir, 'keys'),
      ATTEST_EVIDENCE_DIR: path.join(this.varDir, 'evidence'),
      ATTEST_WEB_DIR: path.join(ROOT, 'web'),
      ATTEST_BIN: bin,
      ...this.extraEnv,
    };
    this.baseUrl = this.env.ATTEST_BASE_URL;
    const child = spawn('bash', [stackSh, 'start'], { env: this.env, cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let out = '';
    let err = '';
    const ready = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`stack did not print "ready" within 120 s\nstdout:\n${out}\nstderr:\n${err}`)), 120000);
      child.stdout.on('data', (d) => {
        out += d;
        const m = /^ready (\S+)/m.exec(out);
        if (m) { clearTimeout(timer); resolve(m[1]); }
      });
      child.stderr.on('data', (d) => { err += d; });
      child.on('exit', (code) => {
        if (!/^ready /m.test(out)) {
          clearTimeout(timer);
          reject(new Error(`deploy/stack.sh start exited with ${code} before ready\nstdout:\n${out}\nstderr:\n${err}`));
        }
      });
    });
    this.startOutput = { stdout: out, stderr: err };
    child.stdout.on('data', () => {});
    child.stderr.on('data', () => {});
    this.printedBaseUrl = ready;
    // ATTEST_BASE_URL is the tool's own idea of where it lives (localhost: a different site from
    // the emulators on 127.0.0.1); stack.sh prints the address it checked /healthz on.
    return this;
  }

  async _startFake() {
    const { FakeTool } = await import('../platform/fake-tool.mjs');
    this.fake = await FakeTool.start({ policy: this.extraEnv.ATTEST_DEPLOYMENT_POLICY || 'learn' });
    this.baseUrl = this.fake.baseUrl;
    this.env = { ...process.env };
    return this;
  }

  /** GET/POST a path on the stack (no cookies, redirects not followed). */
  async fetch(p, init = {}) {
    return fetch(new URL(p, this.baseUrl), { redirect: 'manual', ...init });
  }

  /** Run bin/attest with this stack's environment. Returns {code, stdout, stderr}. */
  async attest(args, { timeoutMs = 60000, input } = {}) {
    if (this.fake) return this._fakeAttest(args);
    return run(BIN, args, { env: this.env, cwd: this.varDir, timeoutMs, input });
  }

  async _fakeAttest(args) {
    const [a, b, ...rest] = args;
    const opt = (name) => { const i = rest.indexOf('--' + name); return i >= 0 ? rest[i + 1] : undefined; };
    const all = (name) => rest.flatMap((x, i) => (x === '--' + name ? [rest[i + 1]] : []));
    const call = async (p, body) => {
      const r = await fetch(new URL(p, this.baseUrl), body ? { method: 'POST', body: JSON.stringify(body) } : {});
      return { code: r.ok ? 0 : 1, stdout: await r.text(), stderr: '' };
    };
    if (a === 'platform' && b === 'add') {
      return call('/__admin/platform', { issuer: opt('issuer'), clientId: opt('client-id'), authUrl: opt('auth'), tokenUrl: opt('token'),
        jwksUrl: opt('jwks'), deployments: all('deployment'), preset: opt('preset') });
    }
    if (a === 'platform' && (b === 'list' || b === 'show')) {
      const r = await call('/__admin/platforms');
      const all = JSON.parse(r.stdout).map((x, i) => ({ id: i + 1, ...x }));
      if (b === 'list') {
        return { code: 0, stderr: '', stdout: ['ID FLAVOR SOURCE ISSUER CLIENT_ID DEPLOYMENTS',
          ...all.map((x) => `${x.id} ${x.preset} fake ${x.issuer} ${x.clientId} ${x.deployments.length}`)].join('\n') + '\n' };
      }
      const x = all.find((y) => String(y.id) === rest[0]);
      if (!x) return { code: 1, stdout: '', stderr: 'no such platform' };
      return { code: 0, stderr: '', stdout: `platform ${x.id}\n  issuer ${x.issuer}\n  client id ${x.clientId}\n${x.deployments.map((d) => `  deployment ${d}`).join('\n')}\n` };
    }
    if (a === 'keys' && b === 'rotate') return call('/__admin/keys/rotate', {});
    return { code: 2, stdout: '', stderr: `fake attest: unsupported ${args.join(' ')}` };
  }

  async stop({ keep = false } = {}) {
    if (this.stopped) return;
    this.stopped = true;
    if (this.fake) {
      await this.fake.close();
    } else if (this.env) {
      const r = await run('bash', [path.join(ROOT, 'deploy', 'stack.sh'), 'stop'], { env: this.env, timeoutMs: 60000 });
      this.stopOutput = r;
      if (this.child && this.child.exitCode === null && this.child.signalCode === null) {
        try { process.kill(-this.child.pid, 'SIGTERM'); } catch { /* already gone */ }
      }
    }
    if (this.pg) await this.pg.stop().catch(() => {});
    if (!keep && !process.env.ATTEST_E2E_KEEP && this.varDir) {
      fs.rmSync(this.varDir, { recursive: true, force: true });
    }
  }
}
