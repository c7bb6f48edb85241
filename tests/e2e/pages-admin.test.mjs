// pages-admin.test.mjs: the LMS admin's pages (/app/admin/...) in headless Chromium, inside the
// emulated Moodle course page (a cross-site iframe, third-party cookies blocked), desktop 1280.
//
//   make && node --test --test-concurrency=1 tests/e2e/pages-admin.test.mjs
// Screenshots: var/test-screenshots/admin-*.png
//
// An administrator (the emulator's "admin" role preset: LTI Administrator) with a hostile display
// name sees their own platform's registration and never the other platform's; adds and removes a
// deployment; imports a framework from a Moodle CSV (a renamed copy of the seed framework) and sees
// it listed with its competency count; a broken CSV names its line and imports nothing; both
// exports download byte for byte what `attest framework export` writes; an invalid program lists
// its JSON paths; a key rotation shows the new kid in /.well-known/jwks.json; a parked outbox item
// (seeded in SQL) shows its last status and body, and Retry makes it pending. Learners and
// instructors get 403 on every admin page; every page passes axe-core (WCAG 2.1 AA).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Platform } from '../platform/platform.mjs';
import { launchBrowser } from '../platform/browser.mjs';
import { Stack, ROOT } from './stack.mjs';
import { HOSTILE_NAME } from './helpers.mjs';
import { Api, sql } from './api-client.mjs';
import { openInLms, shot, checkA11y, VIEWPORTS, SHOTS } from './pages.mjs';

const T = { timeout: 120000 };
const ADMIN_PAGES = ['/app/admin', '/app/admin/keys', '/app/admin/frameworks', '/app/admin/programs',
  '/app/admin/sync', '/app/admin/audit', '/app/admin/frameworks/export?id=1&format=moodle-csv'];
const ADMIN_POSTS = ['/app/admin/deployments', '/app/admin/keys', '/app/admin/sync/retry'];
const UPLOADS = ['/app/admin/frameworks/import', '/app/admin/programs/import'];

let stack;
let moodle;
let canvas;
let browser;
let base;
let tmp;

const tag = Math.random().toString(36).slice(2, 8).toUpperCase();
const FW_ID = `CALL-ADMIN-${tag}`;

before(async () => {
  [stack, moodle, canvas] = await Promise.all([
    Stack.start({ name: 'pages-admin' }),
    Platform.start({ flavor: 'moodle' }),
    Platform.start({ flavor: 'canvas' }),
  ]);
  base = stack.baseUrl;
  for (const p of [moodle, canvas]) {
    const r = await p.dynamicRegister(`${base}/lti/register`);
    assert.equal(r.registration?.status, 200, `${p.flavor} dynamic registration failed`);
  }
  browser = await launchBrowser({ viewport: VIEWPORTS.desktop });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'attest-admin-'));
});

after(async () => {
  await browser?.close();
  await Promise.all([moodle?.close(), canvas?.close()]);
  await stack?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

const ADMIN = { role: 'admin', user: { sub: 'admin-1', name: HOSTILE_NAME, given_name: 'Ada', family_name: 'Admin', email: 'ada@example.edu' } };

/** Launch as the admin in the LMS frame and open an admin page in the tool frame. */
async function adminFrame(p = '/app/admin', who = ADMIN, platform = moodle) {
  const { frame, token } = await openInLms(browser.page, platform, who);
  await frame.goto(`${base}${p}${p.includes('?') ? '&' : '?'}s=${encodeURIComponent(token)}`);
  return { frame, token };
}

/** Click a submit button or link that loads a new page in frame, and wait for that page. */
async function submit(frame, selector) {
  await Promise.all([frame.waitForNavigation({ waitUntil: 'load' }), frame.click(selector)]);
}

/**
 * shot() of the LMS page, plus the whole admin page opened top-level in a second tab (the LMS
 * frame is 640 px high, so its screenshot shows the top of the page only). GET pages only.
 */
async function shots(frame, name) {
  await shot(frame, name);
  const tab = await browser.context.newPage();
  try {
    await tab.goto(frame.url());
    await tab.screenshot({ path: path.join(SHOTS, `${name}-full.png`), fullPage: true });
  } finally {
    await tab.close();
  }
}

/** The page text never shows the hostile name unescaped (the raw HTML has no <b>O'Neil). */
async function assertEscaped(frame, label) {
  const html = await frame.content();
  assert.ok(!html.includes('<b>O\'Neil'), `${label}: the display name is not escaped`);
}

async function platformId(issuer, clientId) {
  const id = await sql(stack, `SELECT id FROM platform WHERE issuer = '${issuer}' AND client_id = '${clientId}'`);
  assert.match(id, /^\d+$/, `no platform ${issuer} ${clientId}`);
  return Number(id);
}

describe('admin pages in the LMS iframe', () => {
  test('registration: own platform only, tool URLs as `attest urls`, add and remove a deployment', T, async () => {
    const { frame } = await adminFrame('/app/admin');
    const text = await frame.locator('main').innerText();
    const mc = moodle._client();
    assert.ok(text.includes(moodle.issuer), `the page shows the Moodle issuer ${moodle.issuer}:\n${text.slice(0, 600)}`);
    assert.ok(text.includes(mc.clientId), 'the page shows the client id');
    assert.ok(!text.includes(canvas.issuer), 'an admin of Moodle sees nothing of the Canvas registration');
    for (const d of mc.deploymentIds) assert.ok(text.includes(d), `deployment ${d} listed`);
    // The tool URLs: every URL `attest urls` prints is on the page.
    const urls = await stack.attest(['urls']);
    assert.equal(urls.code, 0, urls.stderr);
    const printed = [...urls.stdout.matchAll(/(https?:\/\/\S+)/g)].map((m) => m[1]);
    assert.ok(printed.length >= 6, urls.stdout);
    for (const u of printed) assert.ok(text.includes(u), `tool URL ${u} on the page`);
    await assertEscaped(frame, 'registration');
    await checkA11y(frame, 'registration page');
    await shots(frame, 'admin-registration');

    // Add a deployment; a bad id is refused with the field named and the value kept.
    await frame.fill('#dep-id', 'has a blank');
    await submit(frame, 'button:has-text("Add deployment")');
    await frame.waitForSelector('#dep-err:not(:empty)');
    assert.match(await frame.locator('#dep-err').innerText(), /deployment id/i);
    assert.equal(await frame.inputValue('#dep-id'), 'has a blank');
    assert.equal(await frame.getAttribute('#dep-id', 'aria-invalid'), 'true');
    await checkA11y(frame, 'registration page with an error');
    const dep = `dep-${tag}`;
    await frame.fill('#dep-id', dep);
    await submit(frame, 'button:has-text("Add deployment")');
    await frame.waitForSelector('.flash');
    assert.match(await frame.locator('.flash').innerText(), new RegExp(`Deployment ${dep} added`));
    const row = frame.locator('tr', { hasText: dep });
    assert.match(await row.innerText(), /declared/);
    const pid = await platformId(moodle.issuer, mc.clientId);
    assert.equal(await sql(stack, `SELECT learned FROM deployment WHERE platform_id = ${pid} AND deployment_id = '${dep}'`), '0');
    await shot(frame, 'admin-registration-added');
    await submit(frame, `button[aria-label="Remove deployment ${dep}"]`);
    await frame.waitForSelector('.flash');
    assert.match(await frame.locator('.flash').innerText(), new RegExp(`Deployment ${dep} removed`));
    assert.equal(await sql(stack, `SELECT COUNT(*) FROM deployment WHERE deployment_id = '${dep}'`), '0');
    assert.equal(await sql(stack, `SELECT COUNT(*) FROM audit WHERE action IN ('deployment.add', 'deployment.remove')`), '2');
  });

  test('framework import from a Moodle CSV, a broken CSV, exports equal to the CLI', T, async () => {
    // A renamed copy of the seed framework, with a hostile short name.
    const src = fs.readFileSync(path.join(ROOT, 'examples', 'frameworks', 'call-certification.csv'), 'utf8');
    const lines = src.split('\n');
    assert.match(lines[1], /^,CALL,"Call certification scorecard",/);
    lines[1] = lines[1].replace(/^,CALL,"Call certification scorecard",/, `,${FW_ID},"<b>O'Neil & ""Co""</b> scorecard",`);
    const good = path.join(tmp, `${FW_ID.toLowerCase()}.csv`);
    fs.writeFileSync(good, lines.join('\n'));
    // The same file with line 5's parent id number unknown, under another id number.
    const bad = lines.slice();
    bad[1] = bad[1].replace(FW_ID, `${FW_ID}-BROKEN`);
    assert.match(bad[4], /^CALL-[A-Z]+,/);
    bad[4] = bad[4].replace(/^[^,]*,/, 'NO-SUCH-PARENT,');
    const broken = path.join(tmp, 'broken.csv');
    fs.writeFileSync(broken, bad.join('\n'));
    const cliErr = await stack.attest(['framework', 'import', broken]);
    assert.notEqual(cliErr.code, 0, 'the CLI refuses the broken file too');
    const cliMsg = /: (line \d+: .*)$/m.exec(cliErr.stderr)?.[1];
    assert.ok(cliMsg, cliErr.stderr);

    const { frame } = await adminFrame('/app/admin/frameworks');
    await checkA11y(frame, 'frameworks page');
    await shot(frame, 'admin-frameworks');

    // Not text (a PNG named .csv): refused by its content, whatever its name says.
    const png = path.join(tmp, 'photo.csv');
    fs.copyFileSync(path.join(ROOT, 'tests', 'fixtures', 'evidence', 'photo.png'), png);
    await frame.setInputFiles('#fw-file', png);
    await submit(frame, 'button:has-text("Import")');
    assert.match(await frame.locator('.import-error').innerText(), /^This is not a CSV or JSON text file \(line \d+: (NUL byte|invalid UTF-8)\)/);

    // Broken: the error names line 5 exactly as the CLI does, and nothing is imported.
    await frame.setInputFiles('#fw-file', broken);
    await submit(frame, 'button:has-text("Import")');
    await frame.waitForSelector('.import-error');
    const err = await frame.locator('.import-error').innerText();
    assert.equal(err, cliMsg, 'the page shows the CLI\'s error');
    assert.match(err, /^line 5: /);
    assert.match(await frame.locator('#fw-err').innerText(), /Nothing was imported/);
    assert.equal(await sql(stack, `SELECT COUNT(*) FROM framework WHERE idnumber LIKE '${FW_ID}%'`), '0');
    await checkA11y(frame, 'frameworks page with an import error');
    await shot(frame, 'admin-frameworks-error');

    // Good: imported, listed with its competency count (as `attest framework list` counts).
    await frame.setInputFiles('#fw-file', good);
    await frame.check('input[name=format][value=moodle-csv]');
    await submit(frame, 'button:has-text("Import")');
    await frame.waitForSelector('.flash');
    const flash = await frame.locator('.flash').first().innerText();
    const list = await stack.attest(['framework', 'list']);
    const cliRow = list.stdout.split('\n').find((l) => l.split(/\s+/)[1] === FW_ID);
    assert.ok(cliRow, list.stdout);
    const [fwId, , count] = cliRow.trim().split(/\s+/);
    assert.equal(flash, `Framework ${FW_ID} imported: ${count} competencies (${count} created, 0 updated, 0 deleted).`);
    const row = frame.locator(`tr[data-idnumber="${FW_ID}"]`);
    const cells = await row.locator('td').allInnerTexts();
    assert.equal(cells[0], FW_ID);
    assert.equal(cells[1], '<b>O\'Neil & "Co"</b> scorecard', 'the hostile short name shows as text');
    assert.equal(cells[2], count);
    assert.ok(Number(count) > 10);
    await assertEscaped(frame, 'frameworks');
    await shots(frame, 'admin-frameworks-imported');

    // Importing it again without "replace" is refused; with it, it replaces.
    await frame.setInputFiles('#fw-file', good);
    await submit(frame, 'button:has-text("Import")');
    await frame.waitForSelector('.import-error');
    assert.ok(await frame.isChecked('input[name=format][value=guess]'));
    await frame.setInputFiles('#fw-file', good);
    await frame.check('input[name=replace]');
    await submit(frame, 'button:has-text("Import")');
    await frame.waitForSelector('.flash');
    assert.match(await frame.locator('.flash').first().innerText(), new RegExp(`Framework ${FW_ID} replaced: ${count} competencies \\(0 created, ${count} updated, 0 deleted\\)`));

    // Exports: both downloads equal the CLI's export byte for byte.
    for (const [fmt, label] of [['moodle-csv', 'Moodle CSV'], ['case', 'CASE JSON']]) {
      const [download] = await Promise.all([
        browser.page.waitForEvent('download'),
        frame.click(`a[aria-label="Export ${FW_ID} as ${label}"]`),
      ]);
      const file = path.join(tmp, `dl-${fmt}`);
      await download.saveAs(file);
      assert.equal(download.suggestedFilename(), `${FW_ID}${fmt === 'case' ? '.json' : '.csv'}`);
      const cli = path.join(tmp, `cli-${fmt}`);
      const r = await stack.attest(['framework', 'export', fwId, '--format', fmt, '-o', cli]);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(fs.readFileSync(file).equals(fs.readFileSync(cli)), `the ${label} download equals \`attest framework export --format ${fmt}\``);
    }
  });

  test('program import: an invalid program lists its JSON paths; a valid one imports', T, async () => {
    const { frame } = await adminFrame('/app/admin/programs');
    const text = await frame.locator('main').innerText();
    assert.match(text, /call-certification/);
    await checkA11y(frame, 'programs page');
    await shots(frame, 'admin-programs');

    const badKind = path.join(ROOT, 'tests', 'fixtures', 'programs', 'bad-kind.json');
    const cli = await stack.attest(['program', 'validate', badKind]);
    const paths = [...cli.stderr.matchAll(/: (\$\S*): /g)].map((m) => m[1]);
    assert.ok(paths.includes('$.checklists[0].items[2].kind'), cli.stderr);
    await frame.setInputFiles('#prog-file', badKind);
    await submit(frame, 'button:has-text("Import")');
    await frame.waitForSelector('.schema-errors li');
    const errs = await frame.locator('.schema-errors li').allInnerTexts();
    assert.ok(errs.some((e) => e.startsWith('$.checklists[0].items[2].kind: must be one of yesno, rating, points, comment')), errs.join('\n'));
    for (const p of paths) assert.ok(errs.some((e) => e.startsWith(`${p}: `)), `path ${p} listed`);
    assert.match(await frame.locator('#prog-err').innerText(), /Nothing was imported/);
    assert.equal(await sql(stack, "SELECT COUNT(*) FROM program WHERE key = 'bad-kind'"), '0');
    await checkA11y(frame, 'programs page with schema errors');
    await shot(frame, 'admin-programs-errors');

    // A reference to a competency that does not exist: caught at import, with its path.
    await frame.setInputFiles('#prog-file', path.join(ROOT, 'tests', 'fixtures', 'programs', 'bad-reference.json'));
    await submit(frame, 'button:has-text("Import")');
    await frame.waitForSelector('.schema-errors li');
    assert.match((await frame.locator('.schema-errors li').allInnerTexts()).join('\n'), /^\$\.checklists\[0\]\.items\[1\]\.competencies\[0\]: competency "CALL-FLY"/m);

    // A valid program under a new key: validate, then import; listed with its version.
    const def = JSON.parse(fs.readFileSync(path.join(ROOT, 'examples', 'programs', 'call-certification.json'), 'utf8'));
    def.key = `call-admin-${tag.toLowerCase()}`;
    def.title = `${HOSTILE_NAME} program`;
    const file = path.join(tmp, `${def.key}.json`);
    fs.writeFileSync(file, JSON.stringify(def, null, 2));
    await frame.setInputFiles('#prog-file', file);
    await submit(frame, 'button:has-text("Validate")');
    await frame.waitForSelector('.flash');
    assert.match(await frame.locator('.flash').first().innerText(), new RegExp(`Program ${def.key} \\(version 1\\) is valid`));
    assert.equal(await sql(stack, `SELECT COUNT(*) FROM program WHERE key = '${def.key}'`), '0', 'validate stores nothing');
    await frame.setInputFiles('#prog-file', file);
    await submit(frame, 'button:has-text("Import")');
    await frame.waitForSelector('.flash');
    assert.match(await frame.locator('.flash').first().innerText(), new RegExp(`Program ${def.key} imported: version 1, 1 checklist\\.`));
    const cells = await frame.locator(`tr[data-key="${def.key}"] td`).allInnerTexts();
    assert.deepEqual(cells.slice(0, 4), [def.key, def.title, '1', '1']);
    await assertEscaped(frame, 'programs');
  });

  test('key rotation: the new kid is in /.well-known/jwks.json; prune', T, async () => {
    const { frame } = await adminFrame('/app/admin/keys');
    const before = (await (await stack.fetch('/.well-known/jwks.json')).json()).keys.map((k) => k.kid);
    const kids = await frame.locator('code.kid').allInnerTexts();
    assert.deepEqual([...kids].sort(), [...before].sort(), 'the page lists the published keys');
    const html = await frame.content();
    assert.ok(!/PRIVATE KEY|"d"\s*:/.test(html), 'no private key material on the page');
    await checkA11y(frame, 'keys page');
    await shot(frame, 'admin-keys');

    // What the browser's number field would stop, the server refuses too (field named, value kept).
    await frame.evaluate(() => { const i = document.querySelector('#act-in'); i.type = 'text'; i.form.noValidate = true; });
    await frame.fill('#act-in', 'soon');
    await submit(frame, 'button:has-text("Rotate keys")');
    await frame.waitForSelector('#act-err:not(:empty)');
    assert.match(await frame.locator('#act-err').innerText(), /whole number of hours/);
    assert.equal(await frame.getAttribute('#act-in', 'value'), 'soon');

    await frame.fill('#act-in', '0');
    await frame.fill('#ret-in', '2');
    await submit(frame, 'button:has-text("Rotate keys")');
    await frame.waitForSelector('.flash');
    const flash = await frame.locator('.flash').first().innerText();
    const kid = /New key (\S+) published/.exec(flash)?.[1];
    assert.ok(kid, flash);
    assert.ok(!before.includes(kid));
    const after = (await (await stack.fetch('/.well-known/jwks.json')).json()).keys.map((k) => k.kid);
    assert.ok(after.includes(kid), `${kid} is published in the JWKS: ${after}`);
    for (const k of before) assert.ok(after.includes(k), 'the old key stays published for the grace period');
    assert.equal(await frame.locator('tbody tr').first().locator('code.kid').innerText(), kid, 'newest first');
    assert.match(await frame.locator('tbody tr').first().innerText(), /signing/);
    const list = await stack.attest(['keys', 'list']);
    assert.match(list.stdout, new RegExp(`^${kid}  signing `, 'm'));
    await shots(frame, 'admin-keys-rotated');

    // Retire the old keys now (SQL: time travel), then prune them from the page.
    await sql(stack, `UPDATE tool_key SET retire_at = 1 WHERE kid <> '${kid}'`);
    await submit(frame, 'button:has-text("Prune retired keys")');
    await frame.waitForSelector('.flash');
    assert.match(await frame.locator('.flash').first().innerText(), new RegExp(`${before.length} retired keys? removed`));
    assert.deepEqual(await frame.locator('code.kid').allInnerTexts(), [kid]);
  });

  test('sync status: a parked item with its last answer; Retry makes it pending', T, async () => {
    const mc = moodle._client();
    const cc = canvas._client();
    const pid = await platformId(moodle.issuer, mc.clientId);
    const other = await platformId(canvas.issuer, cc.clientId);
    const now = Date.now();
    const body = '{"errors":[{"message":"<script>alert(1)</script> lineitem is closed"}]}' + 'x'.repeat(900);
    const ins = (platform, key, status, lastStatus, lastError, attempts) => sql(stack,
      'INSERT INTO outbox (platform_id, kind, order_key, idem_key, payload, status, attempts, next_at_ms, last_status, last_error, created_at, updated_at) ' +
      `VALUES (${platform}, 'score', 'score:${key}', 'idem:${key}:${tag}', '{}', '${status}', ${attempts}, ${now + 60000}, ${lastStatus}, '${lastError}', ${Math.floor(now / 1000)}, ${Math.floor(now / 1000)}) RETURNING id`);
    const parked = Number(await ins(pid, `p1-${tag}`, 'parked', 422, body, 3));
    const failing = Number(await ins(pid, `p2-${tag}`, 'pending', 503, 'Service Unavailable', 2));
    const foreign = Number(await ins(other, `p3-${tag}`, 'parked', 401, 'canvas says no', 1));

    const { frame } = await adminFrame('/app/admin/sync');
    assert.equal(await frame.locator('.count-parked').innerText(), '1', 'only this platform\'s parked items');
    assert.equal(await frame.locator('.count-failing').innerText(), '1');
    const row = frame.locator(`table.parked tr[data-item="${parked}"]`);
    const cells = await row.locator('td').allInnerTexts();
    assert.equal(cells[3], '422');
    assert.ok(cells[4].startsWith('{"errors":[{"message":"<script>alert(1)</script> lineitem is closed"}]}'), cells[4]);
    assert.ok(cells[4].length < 520 && cells[4].endsWith('…'), 'the body is truncated');
    assert.equal(await frame.locator(`tr[data-item="${foreign}"]`).count(), 0, 'another platform\'s item is not shown');
    assert.equal(await frame.locator(`table.pending tr[data-item="${failing}"]`).count(), 1);
    const html = await frame.content();
    assert.ok(!html.includes('<script>alert(1)'), 'the response body is escaped');
    await checkA11y(frame, 'sync page');
    await shots(frame, 'admin-sync');

    await submit(frame, `button[aria-label="Retry item ${parked}"]`);
    await frame.waitForSelector('.flash');
    assert.match(await frame.locator('.flash').first().innerText(), new RegExp(`Item ${parked} \\(score\\) is pending again`));
    assert.equal(await sql(stack, `SELECT status || ' ' || attempts FROM outbox WHERE id = ${parked}`), 'pending 0');
    assert.equal(await frame.locator('.count-parked').innerText(), '0');
    assert.equal(await frame.locator(`table.pending tr[data-item="${parked}"]`).count(), 1);
    await shot(frame, 'admin-sync-retried');

    // Another platform's item: 404, untouched.
    const url = new URL(frame.url());
    const token = url.searchParams.get('s');
    const me = await (await stack.fetch('/api/v1/me', { headers: { authorization: `Bearer ${token}` } })).json();
    const r = await stack.fetch('/app/admin/sync/retry', {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ s: token, csrf: me.csrf, id: String(foreign) }).toString(),
    });
    assert.equal(r.status, 404);
    assert.equal(await sql(stack, `SELECT status FROM outbox WHERE id = ${foreign}`), 'parked');
  });

  test('audit page: the chain verifies and shows the admin\'s actions', T, async () => {
    const { frame } = await adminFrame('/app/admin/audit');
    assert.match(await frame.locator('.chain-ok').innerText(), /intact/);
    const text = await frame.locator('table.audit').innerText();
    for (const a of ['outbox.requeue', 'tool_key.rotate', 'framework.import', 'program.import', 'deployment.add']) {
      assert.ok(text.includes(a), `${a} in the audit log`);
    }
    await assertEscaped(frame, 'audit');
    await checkA11y(frame, 'audit page');
    await shots(frame, 'admin-audit');
    // Tampering shows.
    await sql(stack, "UPDATE audit SET data = '{}' WHERE action = 'tool_key.rotate'");
    await frame.goto(frame.url());
    assert.match(await frame.locator('.chain-bad').innerText(), /does not verify from entry \d+/);
  });

  test('learners and instructors get 403 on every admin page; a POST without csrf is refused', T, async () => {
    for (const role of ['learner', 'instructor']) {
      const api = await Api.launch(moodle, base, { role, user: { sub: `${role}-x`, name: HOSTILE_NAME }, courseId: '2' });
      for (const p of ADMIN_PAGES) {
        const r = await stack.fetch(`${p}${p.includes('?') ? '&' : '?'}s=${encodeURIComponent(api.token)}`);
        assert.equal(r.status, 403, `${role} GET ${p}`);
      }
      for (const p of ADMIN_POSTS) {
        const r = await stack.fetch(p, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ s: api.token, csrf: api.csrf, action: 'prune', id: '1', deployment_id: 'x' }).toString() });
        assert.equal(r.status, 403, `${role} POST ${p}`);
      }
      for (const p of UPLOADS) {
        const fd = new FormData();
        fd.append('file', new Blob(['x']), 'x.csv');
        const r = await stack.fetch(`${p}?s=${encodeURIComponent(api.token)}&csrf=${encodeURIComponent(api.csrf)}`, { method: 'POST', body: fd });
        assert.equal(r.status, 403, `${role} POST ${p}`);
      }
    }
    // In the browser too: an instructor opening the admin page sees the 403 page.
    const { frame, token } = await openInLms(browser.page, moodle, { role: 'instructor', user: { sub: 'instructor-x', name: 'Ivy' } });
    const resp = await frame.goto(`${base}/app/admin?s=${encodeURIComponent(token)}`);
    assert.equal(resp.status(), 403);
    // The admin: a POST without the csrf token, or with another one, is refused.
    const admin = await Api.launch(moodle, base, { role: 'admin', user: ADMIN.user, courseId: '2' });
    for (const csrf of [undefined, 'x'.repeat(43)]) {
      const body = new URLSearchParams({ s: admin.token, action: 'prune' });
      if (csrf) body.set('csrf', csrf);
      const r = await stack.fetch('/app/admin/keys', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString() });
      assert.equal(r.status, 403, `keys prune with csrf ${csrf}`);
    }
    const fd = new FormData();
    fd.append('file', new Blob(['x']), 'x.csv');
    const r = await stack.fetch(`/app/admin/frameworks/import?s=${encodeURIComponent(admin.token)}`, { method: 'POST', body: fd });
    assert.equal(r.status, 403, 'an upload without csrf');
  });
});
