// sync-helpers.mjs: what the sync suites share — deep linking a program through the real
// picker, launching through a placed link, scoring calls through the API, running
// `attest sync` (once or as a worker process) against the platform emulator.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { parseForms, httpRequest, htmlText, CLAIM } from '../platform/platform.mjs';
import { Api, ok, answersForScore, programDefinition, sql } from './api-client.mjs';
import { BIN } from './stack.mjs';

export const PROGRAM = 'call-certification';
export const SCORECARD = programDefinition(PROGRAM).checklists.find((c) => c.key === 'call');
export const SCORE_MT = 'application/vnd.ims.lis.v1.score+json';

/** A launch through platform p; returns an Api on the session (me read). */
export async function launchApi(p, stack, { role = 'learner', user, courseId, linkId, who } = {}) {
  const res = await p.launch({ role, user, courseId, linkId, storageTarget: false });
  const label = who || `${role} ${user?.sub} @${courseId}`;
  assert.equal(res.stage, 'launch', `${label}: stopped at ${res.stage} (${res.status}) ${htmlText(res.body || '').slice(0, 200)}`);
  assert.equal(res.status, 303, `${label}: launch answered ${res.status}: ${htmlText(res.body || '').slice(0, 300)}`);
  const token = new URL(res.location).searchParams.get('s');
  const api = new Api(stack.baseUrl, token, label);
  const me = ok(await api.get('/api/v1/me'), 200, `${label}: me`);
  api.me = me;
  api.userId = me.user_id;
  api.csrf = me.csrf || null;
  api.launch = res;
  return api;
}

/**
 * Deep link as an instructor of courseId: open the picker, choose the items whose titles
 * match `choose` (regexps), post it, hand the signed response to the platform's return URL.
 * Returns {picker, items (offered [{value,title}]), response (the platform's verdict entry)}.
 */
export async function deepLink(p, stack, { courseId, choose, user = { sub: 'dl-teacher', name: 'Dee Linker' }, deepLinking, context } = {}) {
  const res = await p.launch({ role: 'instructor', messageType: 'LtiDeepLinkingRequest', courseId, user, storageTarget: false, deepLinking, ...(context ? { context } : {}) });
  assert.equal(res.status, 303, `deep linking launch answered ${res.status}: ${htmlText(res.body || '').slice(0, 300)}`);
  const url = new URL(res.location);
  assert.equal(url.pathname, '/lti/deeplink');
  const picker = await httpRequest(url.href);
  assert.equal(picker.status, 200, `picker: ${picker.status} ${htmlText(picker.body).slice(0, 300)}`);
  const items = [...picker.body.matchAll(/name='item' value='([^']+)'(?: checked)?> <strong>([^<]*)<\/strong>/g)].map((m) => ({ value: m[1], title: m[2] }));
  const form = parseForms(picker.body, url.href)[0];
  const fields = new URLSearchParams();
  for (const [k, v] of form.fields) if (k !== 'item') fields.append(k, v);
  for (const re of choose) {
    const it = items.find((x) => re.test(x.title) && x.value !== 'course');
    assert.ok(it, `the picker offers nothing matching ${re}: ${JSON.stringify(items)}`);
    fields.append('item', it.value);
  }
  const post = await httpRequest(new URL(form.action, url).href, { method: 'POST', form: fields });
  assert.equal(post.status, 200, `deep linking POST: ${post.status} ${htmlText(post.body).slice(0, 300)}`);
  const back = parseForms(post.body, url.href)[0];
  const n = p.deepLinkResponses.length;
  const ret = await httpRequest(back.action, { method: 'POST', form: Object.fromEntries(back.fields) });
  const entry = p.deepLinkResponses[n];
  assert.ok(entry?.ok, `the platform refused the deep linking response (${ret.status}): ${JSON.stringify(entry?.errors)}`);
  return { picker, items, response: entry, contentItems: entry.payload[CLAIM.dlContentItems], links: entry.links };
}

/** Create, fill and submit one call observation scoring exactly `target`. */
export async function submitCall(certifier, enrolment, target, key, observedAt) {
  const { list } = answersForScore(SCORECARD, target);
  const c = ok(await certifier.post('/api/v1/observations', { enrolment_id: enrolment, checklist: 'call', observed_at: observedAt, client_key: key }), 201, `${key}: create`);
  ok(await certifier.put(`/api/v1/observations/${c.id}`, { answers: list, feedback: { went_well: 'Clear greeting.', marked_down: target < 100 ? 'Probe more.' : '' } }), 200, `${key}: save`);
  const s = ok(await certifier.post(`/api/v1/observations/${c.id}/submit`), 200, `${key}: submit`);
  return s;
}

/** `attest sync once` on the stack; asserts it exits 0. */
export async function syncOnce(stack, label = 'sync once') {
  const r = await stack.attest(['sync', 'once'], { timeoutMs: 120000 });
  assert.equal(r.code, 0, `${label}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** Run `attest sync once` until nothing is pending (retries included), at most deadlineMs. */
export async function drain(stack, deadlineMs = 90000) {
  const end = Date.now() + deadlineMs;
  for (;;) {
    await syncOnce(stack);
    const pending = Number(await sql(stack, "SELECT COUNT(*) FROM outbox WHERE status = 'pending'"));
    if (pending === 0) return;
    if (Date.now() > end) throw new Error(`${pending} items still pending after ${deadlineMs} ms:\n${(await stack.attest(['sync', 'list'])).stdout}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** A long-running `attest sync` worker process with the stack's environment. */
export function startWorker(stack, args = [], extraEnv = {}) {
  const child = spawn(BIN, ['sync', 'run', '--idle-ms', '100', ...args], { env: { ...stack.env, ...extraEnv }, cwd: stack.varDir, stdio: ['ignore', 'pipe', 'pipe'] });
  child.out = '';
  child.stdout.on('data', (d) => { child.out += d; });
  child.stderr.on('data', (d) => { child.out += d; });
  child.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return child;
}

/** Wait until cond() (async) is true, polling; throws with label after ms. */
export async function until(cond, ms, label) {
  const end = Date.now() + ms;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${label}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Accepted scores of a user on a line item, oldest first. */
export function scoresOf(li, sub) {
  return li.scores.filter((s) => s.userId === sub);
}
