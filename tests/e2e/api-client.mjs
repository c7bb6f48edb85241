// api-client.mjs: a small client for Attest's JSON API (/api/v1/...) for the e2e suites, plus
// the scoring rule of core/observation.h in JavaScript (to work out checklist answers that
// give an exact score from a program definition) and direct SQL on a stack's database (test
// fixtures the API does not offer: back-dating an enrolment, tampering with the audit log).
//
//   const api = await Api.launch(moodle, stack.baseUrl, { role: 'instructor', user: {...}, courseId: '21' });
//   const r = await api.post('/api/v1/enrolments', { program: 'call-certification' });
//   ok(r, 201, 'self-enrol');            // asserts the status, returns r.body
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseForms, htmlText } from '../platform/platform.mjs';
import { ROOT } from './stack.mjs';

/** One request and its answer, printable: what every failed assertion shows. */
export function show(r) {
  const sent = r.sent === undefined ? '' : ` ${typeof r.sent === 'string' ? r.sent.slice(0, 300) : JSON.stringify(r.sent).slice(0, 600)}`;
  return `[${r.who || '?'}] ${r.method} ${r.path}${sent} -> ${r.status} ${String(r.text || '').slice(0, 700)}`;
}

/** Assert r.status is `status` (a number or a list) and return the JSON body. */
export function ok(r, status, label = '') {
  const want = Array.isArray(status) ? status : [status];
  assert.ok(want.includes(r.status), `${label}: expected ${want.join(' or ')}, got ${r.status}\n  ${show(r)}`);
  return r.body;
}

/** A 400 naming `field` (the API's error shape {"error","field","message","request_id"}). */
export function badField(r, field, label = '') {
  ok(r, 400, label);
  assert.equal(r.body?.field, field, `${label}: 400 names field ${JSON.stringify(r.body?.field)}, not ${field}\n  ${show(r)}`);
  assert.ok(r.body.message && r.body.request_id, `${label}: error without message or request_id\n  ${show(r)}`);
  return r.body;
}

export class Api {
  constructor(baseUrl, token, who = '') {
    this.base = baseUrl;
    this.token = token;
    this.who = who;
    this.csrf = null;
    this.me = null;
  }

  /**
   * Launch from platform `p` as {role, user, courseId, context} (Moodle: courseId is the context
   * id) and return an Api bound to the session token of the tool's 303 to /app?s=TOKEN, with
   * /api/v1/me read (me.user_id, me.csrf).
   */
  static async launch(p, baseUrl, { role = 'learner', user = {}, courseId, context = {}, who } = {}) {
    const label = who || `${role} ${user.name || user.sub || ''} @${courseId || ''}`;
    const res = await p.launch({ role, user, courseId, context, storageTarget: false });
    assert.equal(res.stage, 'launch', `${label}: launch stopped at ${res.stage} (${res.status}): ${htmlText(res.body || '').slice(0, 300)}`);
    assert.equal(res.status, 303, `${label}: launch answered ${res.status}: ${htmlText(res.body || '').slice(0, 300)}`);
    const token = new URL(res.location).searchParams.get('s');
    assert.ok(token, `${label}: no session token in ${res.location}`);
    const api = new Api(baseUrl, token, label);
    const me = ok(await api.get('/api/v1/me'), 200, `${label}: GET /api/v1/me`);
    api.me = me;
    api.userId = me.user_id;
    api.csrf = me.csrf || null;
    return api;
  }

  /** The same session seen by another client (for "no session" / "other token" checks). */
  withToken(token, who) { const a = new Api(this.base, token, who || this.who); a.csrf = this.csrf; return a; }

  async request(method, p, body, { headers = {}, raw, contentType } = {}) {
    const h = { accept: 'application/json', ...headers };
    if (this.token) h.authorization = `Bearer ${this.token}`;
    if (this.csrf && method !== 'GET' && method !== 'HEAD') h['x-csrf-token'] = this.csrf;
    let payload;
    if (raw !== undefined) {
      payload = raw;
      if (contentType) h['content-type'] = contentType;
    } else if (body !== undefined) {
      payload = JSON.stringify(body);
      h['content-type'] = 'application/json';
    }
    const res = await fetch(new URL(p, this.base), { method, headers: h, body: payload, redirect: 'manual', signal: AbortSignal.timeout(30000) });
    const buf = Buffer.from(await res.arrayBuffer());
    const text = buf.toString('utf8');
    let json;
    try { json = JSON.parse(text); } catch { json = undefined; }
    const hdrs = {};
    res.headers.forEach((v, k) => { hdrs[k] = v; });
    return { who: this.who, method, path: p, sent: raw !== undefined ? '<raw body>' : body, status: res.status, headers: hdrs, text, body: json, bytes: buf };
  }

  get(p, o) { return this.request('GET', p, undefined, o); }
  post(p, body, o) { return this.request('POST', p, body === undefined ? {} : body, o); }
  put(p, body, o) { return this.request('PUT', p, body, o); }

  /** POST multipart/form-data: fields {name: value}, files [{name, filename, type, data}]. */
  async upload(p, fields = {}, files = []) {
    const fd = new FormData();
    for (const [k, v] of Object.entries(fields)) if (v !== undefined && v !== null) fd.append(k, String(v));
    for (const f of files) fd.append(f.name || 'file', new Blob([f.data], { type: f.type || 'application/octet-stream' }), f.filename);
    const r = await this.request('POST', p, undefined, { raw: fd });
    r.sent = { multipart: { ...fields, files: files.map((f) => f.filename) } };
    return r;
  }
}

// ---------------------------------------------------------------- the public feedback form

/**
 * Answer a one-time feedback link like a student with no account: GET the form, fill in
 * `answers` ({field key: value}), POST it back as the browser would. Returns {get, post, form}.
 */
export async function answerFeedbackForm(url, answers) {
  const get = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(30000) });
  const html = await get.text();
  const g = { status: get.status, headers: Object.fromEntries(get.headers), body: html };
  if (get.status !== 200) return { get: g, post: null, form: null };
  const forms = parseForms(html, url).filter((f) => f.method === 'POST');
  const form = forms[0];
  if (!form) return { get: g, post: null, form: null };
  const names = new Set(form.controls.map((c) => c.name).filter(Boolean));
  const out = new URLSearchParams();
  for (const [k, v] of form.fields) if (!(k in answers)) out.append(k, v);
  for (const [k, v] of Object.entries(answers)) {
    const c = form.controls.filter((x) => x.name === k);
    if (c.length === 0 && !names.has(k)) continue; // the form does not ask for it
    let val = String(v);
    // A radio/select yes-no: use the control's own value for yes/no.
    if (typeof v === 'boolean') {
      const opts = c.flatMap((x) => (x.options ? x.options.map((o) => o.value) : [x.value]));
      val = opts.find((o) => (v ? /^(1|yes|true|on)$/i : /^(0|no|false)$/i).test(o)) ?? (v ? '1' : '0');
    }
    out.append(k, val);
  }
  const post = await fetch(form.action, {
    method: 'POST', redirect: 'manual', body: out.toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' }, signal: AbortSignal.timeout(30000),
  });
  const ptext = await post.text();
  return { get: g, form, sent: out.toString(), post: { status: post.status, headers: Object.fromEntries(post.headers), body: ptext, location: post.headers.get('location') } };
}

// ---------------------------------------------------------------- scoring (core/observation.h)

const FRAC_ONE = 10000;
/** A decimal with at most two decimals as hundredths (85 -> 8500). */
export const hundredths = (x) => Math.round(Number(x) * 100);

/** The program definition as shipped (examples/programs/KEY.json). */
export function programDefinition(key) {
  return JSON.parse(fs.readFileSync(path.join(ROOT, 'examples', 'programs', `${key}.json`), 'utf8'));
}

/**
 * Score answers ({item key: value}; undefined = unanswered) on checklist `cl` of a program
 * definition exactly as core/observation.c does. Values: yesno 0/1, points in hundredths,
 * rating = 0-based scale index (scaleSize(item) gives the size of the item's scale).
 * Returns {score (hundredths), passed, criticalMissed, missed}.
 */
export function scoreChecklist(cl, answers, { scaleSize = () => { throw new Error('rating items need scaleSize'); }, proficientFrom = () => 0, self = false } = {}) {
  const maxScore = cl.max_score === undefined || cl.max_score === 0 ? 10000 : hundredths(cl.max_score);
  const passMark = cl.pass_mark === undefined ? 0 : hundredths(cl.pass_mark);
  let num = 0;
  let den = 0;
  let critical = false;
  let missed = null;
  for (const it of cl.items) {
    if (it.kind === 'comment') continue;
    const v = answers[it.key];
    const w = hundredths(it.weight ?? 1);
    if (v === undefined || v === null) {
      if (it.critical) { critical = true; missed ??= it.key; }
      continue;
    }
    let n = 0;
    let d = 1;
    let miss = false;
    if (it.kind === 'yesno') { n = v; miss = v === 0; } else if (it.kind === 'points') { n = v; d = hundredths(it.max_points); miss = v === 0; } else {
      const size = scaleSize(it);
      n = size > 1 ? v : 1;
      d = size > 1 ? size - 1 : 1;
      miss = v < proficientFrom(it);
    }
    if (it.critical && miss) { critical = true; missed ??= it.key; }
    num += Math.floor((w * n * FRAC_ONE) / d);
    den += w;
  }
  const score = den > 0 ? Math.floor((maxScore * num) / (den * FRAC_ONE)) : 0;
  return { score, passed: !self && !critical && score >= passMark, criticalMissed: self ? false : critical, missed };
}

/**
 * Answers for checklist `cl` (yesno and points items only, like the call scorecard) that score
 * exactly `target` (a score like 85, not hundredths). With missCritical, the first critical
 * yesno item is answered "no" (a miss); every other critical item is a yes / non-zero.
 * Prefers whole points and "yes" answers. Returns {answers: {key: value}, list: [{item,value}]}
 * or throws when no combination gives the score.
 */
export function answersForScore(cl, target, { missCritical = false } = {}) {
  const want = hundredths(target);
  const scored = cl.items.filter((it) => it.kind !== 'comment');
  for (const it of scored) if (!['yesno', 'points'].includes(it.kind)) throw new Error(`answersForScore: item ${it.key} is ${it.kind}`);
  const firstCritical = scored.find((it) => it.critical && it.kind === 'yesno');
  if (missCritical && !firstCritical) throw new Error('no critical yesno item to miss');
  const choices = scored.map((it) => {
    if (it.kind === 'yesno') {
      if (it.critical) return [missCritical && it === firstCritical ? 0 : 1];
      return it.required === false ? [1, 0, undefined] : [1, 0];
    }
    return null; // points: filled per pass below
  });
  for (const step of [100, 50, 25]) {
    const ch = scored.map((it, i) => {
      if (choices[i]) return choices[i];
      const max = hundredths(it.max_points);
      const vals = [];
      for (let v = max; v >= (it.critical ? step : 0); v -= step) vals.push(v);
      return vals;
    });
    const pick = new Array(scored.length);
    const found = (function rec(i) {
      if (i === scored.length) {
        const a = Object.fromEntries(scored.map((it, j) => [it.key, pick[j]]));
        return scoreChecklist(cl, a).score === want ? a : null;
      }
      for (const v of ch[i]) { pick[i] = v; const r = rec(i + 1); if (r) return r; }
      return null;
    })(0);
    if (found) {
      const list = Object.entries(found).filter(([, v]) => v !== undefined).map(([item, value]) => ({ item, value }));
      return { answers: found, list };
    }
  }
  throw new Error(`no answers score exactly ${target} on checklist ${cl.key}`);
}

// ---------------------------------------------------------------- business days (core/bizdays.h)

const DAY = 86400;
export const dayOf = (t) => Math.floor(t / DAY);
export const dayStr = (d) => new Date(d * DAY * 1000).toISOString().slice(0, 10);
export const parseDay = (s) => Math.floor(Date.parse(`${s}T00:00:00Z`) / 1000 / DAY);
export function isBusiness(d, holidays = []) {
  const wd = (((d + 3) % 7) + 7) % 7; // 0 = Monday (1970-01-01 was a Thursday)
  return wd < 5 && !holidays.includes(dayStr(d));
}
/** Business days in (from, to]. */
export function bizBetween(from, to, holidays = []) {
  let n = 0;
  for (let d = from + 1; d <= to; d++) if (isBusiness(d, holidays)) n++;
  return n;
}
export function bizAdd(d, n, holidays = []) {
  let x = d;
  while (n > 0) { x++; if (isBusiness(x, holidays)) n--; }
  return x;
}
/** The latest business day `d` before `today` with exactly n business days in (d, today]. */
export function bizStartFor(today, n, holidays = []) {
  for (let d = today - 1; d > today - 60; d--) {
    if (isBusiness(d, holidays) && bizBetween(d, today, holidays) === n) return d;
  }
  throw new Error(`no start ${n} business days before ${dayStr(today)}`);
}

// ---------------------------------------------------------------- direct SQL on a stack's database

function run(cmd, args, { env, input } = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', (e) => resolve({ code: -1, stdout, stderr: stderr + String(e) }));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    // The child may exit before reading its stdin: that is not an error of the test.
    child.stdin.on('error', () => {});
    child.stdin.end(input ?? '');
  });
}

/**
 * Run SQL directly on the stack's database (sqlite3 CLI on ATTEST_VAR/attest.db, or psql on
 * the private PostgreSQL server). Test fixtures only. Returns stdout (rows as a|b|c lines).
 */
export async function sql(stack, query) {
  const url = stack.env.ATTEST_DATABASE;
  let r;
  if (url.startsWith('sqlite:')) {
    r = await run('sqlite3', ['-batch', '-cmd', '.timeout 10000', url.slice('sqlite:'.length), query]);
  } else {
    r = await run('psql', [url, '-X', '-q', '-t', '-A', '-F', '|', '-v', 'ON_ERROR_STOP=1', '-c', query]);
  }
  if (r.code !== 0) throw new Error(`sql failed (${r.code}): ${query}\n${r.stderr}`);
  return r.stdout.trim();
}

/** The first value of an object path like 'escalation.step_key' among candidates. */
export function pick(o, ...paths) {
  for (const p of paths) {
    let v = o;
    for (const k of p.split('.')) { v = v == null ? undefined : v[k]; }
    if (v !== undefined) return v;
  }
  return undefined;
}
