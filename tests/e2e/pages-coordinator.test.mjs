// pages-coordinator.test.mjs: the coordinator's pages in a real browser, Attest inside the
// emulated Moodle course page (a cross-site iframe, third-party cookies blocked, 1280 px).
//
// Seed through the API (like seeds.test.mjs): a coordinator and a certifier (instructors),
// learners (one with a hostile display name), one learner only on the course roster (never
// launched: a membership from the roster sync, written in SQL — FIXTURE below), calls scored
// on the scorecard until the rule proposes. Then, in the browser, the coordinator opens the
// course dashboard and the program dashboard, enrols learners in bulk with a start date and
// a group, assigns a group and an assessor, filters by group and by assessor, confirms one
// decision, overrides another (an empty justification is refused, then one is accepted),
// adds a note, downloads the end-of-day CSV and opens the reports whose SVG heat map and
// pass-rate chart show the numbers the API gives. A learner's session gets 403/404 on every
// coordinator page; an instructor of another course gets 404. Every page is screenshotted
// (var/test-screenshots/coord-*.png) and checked with axe-core (WCAG 2.1 AA).
//
//   make && node --test --test-concurrency=1 tests/e2e/pages-coordinator.test.mjs
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { Platform } from '../platform/platform.mjs';
import { launchBrowser } from '../platform/browser.mjs';
import { Stack } from './stack.mjs';
import { HOSTILE_NAME, PAGE } from './helpers.mjs';
import { Api, ok, sql, answersForScore, programDefinition, dayOf, dayStr } from './api-client.mjs';
import { openInLms, shot, checkA11y, VIEWPORTS } from './pages.mjs';

const CALL = programDefinition('call-certification');
const SCORECARD = CALL.checklists.find((c) => c.key === 'call');
const T = { timeout: 180000 };
const nowSec = () => Math.floor(Date.now() / 1000);
const today = () => dayStr(dayOf(nowSec()));
/** The Monday of the current UTC week, YYYY-MM-DD. */
const monday = () => { const d = dayOf(nowSec()); return dayStr(d - (((d + 3) % 7) + 7) % 7); };

/** Parse RFC 4180 CSV text into rows of cells. */
function parseCsv(text) {
  const rows = [];
  let row = [];
  let cell = '';
  let q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (q) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; } else if (c === '"') q = false; else cell += c;
    } else if (c === '"') q = true;
    else if (c === ',') { row.push(cell); cell = ''; } else if (c === '\r' && text[i + 1] === '\n') { row.push(cell); rows.push(row); row = []; cell = ''; i++; } else cell += c;
  }
  if (cell !== '' || row.length) { row.push(cell); rows.push(row); }
  return rows;
}

describe('coordinator pages in the LMS iframe', () => {
  let stack; let moodle; let browser; let page;
  const course = { id: 'COORD-1', title: 'ESP certification <i>&</i> "Leads"', label: 'ESP' };
  const other = { id: 'COORD-2', title: 'Another course', label: 'OTHER' };
  const U = {
    coord: { sub: 'pc-coord', name: 'Cora Coordinator', given_name: 'Cora', family_name: 'Coordinator' },
    cert: { sub: 'pc-cert', name: 'Cedric Certifier', given_name: 'Cedric', family_name: 'Certifier' },
    ada: { sub: 'pc-ada', name: HOSTILE_NAME, given_name: 'Ada', family_name: 'Hostile' },
    ben: { sub: 'pc-ben', name: 'Ben Okafor', given_name: 'Ben', family_name: 'Okafor' },
    cat: { sub: 'pc-cat', name: 'Cat Nguyen', given_name: 'Cat', family_name: 'Nguyen' },
    dan: { sub: 'pc-dan', name: 'Dan Later', given_name: 'Dan', family_name: 'Later' },
    olga: { sub: 'pc-olga', name: 'Olga Other', given_name: 'Olga', family_name: 'Other' },
  };
  const api = {};
  const enr = {};
  let frame;
  let ritaId;
  let programId;

  const launch = (role, who, c = course) => Api.launch(moodle, stack.baseUrl, { role, user: U[who], courseId: c.id, context: c, who });

  /** Score one call on the scorecard exactly `target` and submit it (as the certifier). */
  async function call(enrolment, target, key) {
    const { list } = answersForScore(SCORECARD, target);
    const c = ok(await api.cert.post('/api/v1/observations', {
      enrolment_id: enrolment, checklist: 'call', client_key: key, observed_at: nowSec() - 600,
    }), 201, `${key}: create`);
    ok(await api.cert.put(`/api/v1/observations/${c.id}`, { answers: list, feedback: { went_well: 'Warm greeting.' } }), 200, `${key}: save`);
    ok(await api.cert.post(`/api/v1/observations/${c.id}/submit`), 200, `${key}: submit`);
  }

  /** Run action (a click) and wait for the tool frame to load a URL matching re. */
  async function go(re, action) {
    await Promise.all([frame.waitForURL(re, { waitUntil: 'load', timeout: 20000 }), action()]);
  }

  /** The learner names of the roster table, in order. */
  async function rosterNames() {
    return (await frame.locator('table.roster tbody th[scope=row]').allInnerTexts())
      .map((t) => t.replace(/\s*(not launched yet|left the course)\s*/g, '').trim());
  }

  const rowOf = (name) => frame.locator('table.roster tbody tr').filter({ has: frame.locator('th[scope=row]', { hasText: name }) });

  before(async () => {
    [stack, moodle] = await Promise.all([Stack.start({ db: 'sqlite', name: 'pages-coord' }), Platform.start({ flavor: 'moodle' })]);
    const reg = await moodle.dynamicRegister(`${stack.baseUrl}/lti/register`);
    assert.equal(reg.registration?.status, 200, `dynamic registration failed: ${reg.registration?.error}`);
    api.coord = await launch('instructor', 'coord');
    api.cert = await launch('instructor', 'cert');
    for (const k of ['ada', 'ben', 'cat', 'dan']) api[k] = await launch('learner', k);
    api.olga = await launch('instructor', 'olga', other);
    // FIXTURE: a learner known only from the course roster (NRPS), who never launched. The
    // roster sync writes such rows (membership.source 'nrps', app_user.launched_at 0); the
    // API has no way to create one, so the test writes them in SQL.
    await sql(stack, `INSERT INTO app_user (platform_id, sub, name, given_name, family_name, created_at, updated_at, launched_at)
      SELECT platform_id, 'pc-rita', 'Rita Roster', 'Rita', 'Roster', 1, 1, 0 FROM app_user WHERE id = ${api.coord.userId};
      INSERT INTO membership (user_id, context_id, roles, role, updated_at, source, active)
      SELECT u.id, c.id, 'Learner', 1, 1, 'nrps', 1 FROM app_user u, context c WHERE u.sub = 'pc-rita' AND c.context_id = '${course.id}';`);
    ritaId = Number(await sql(stack, `SELECT id FROM app_user WHERE sub = 'pc-rita'`));
    assert.ok(ritaId > 0, 'roster-only learner not written');

    for (const k of ['ada', 'ben', 'cat']) {
      enr[k] = ok(await api.coord.post('/api/v1/enrolments', { program: 'call-certification', learner_id: api[k].userId }), 201, `enrol ${k}`).id;
    }
    programId = ok(await api.coord.get('/api/v1/programs/call-certification'), 200, 'program').id;
    // Ada: 85, 84, 100, 90, 95 -> 4 of 5 pass (80 %): pass. Ben: 85, 84, 100, 90, 70 -> 3 of 5: fail.
    const scores = { ada: [85, 84, 100, 90, 95], ben: [85, 84, 100, 90, 70] };
    for (const [k, list] of Object.entries(scores)) {
      for (let i = 0; i < list.length; i++) await call(enr[k], list[i], `pc-${k}-${i}`);
    }
    const ev = ok(await api.coord.post(`/api/v1/enrolments/${enr.ada}/evaluate`), 201, 'evaluate ada');
    assert.equal(ev.outcome, 'pass');

    browser = await launchBrowser({ viewport: VIEWPORTS.desktop });
    page = browser.page;
  });

  after(async () => {
    await browser?.close();
    await moodle?.close();
    await stack?.stop();
  });

  test('the course dashboard: the instructor lands on it from the LMS and finds the program', T, async () => {
    ({ frame } = await openInLms(page, moodle, { role: 'instructor', user: U.coord, courseId: course.id, context: course }));
    const text = await frame.locator('body').innerText();
    assert.match(text, PAGE.instructor, 'the landing does not say instructor');
    assert.ok(text.includes(course.title), 'course title not shown (escaped)');
    assert.match(text, /Learners on the roster\s+5/, `roster count: ${text.slice(0, 600)}`);
    await shot(page, 'coord-course-dashboard');
    await checkA11y(frame, 'course dashboard');
    await go(/\/app\/programs\/\d+\?/, () => frame.getByRole('link', { name: 'ESP agent call certification' }).first().click());
  });

  test('the program dashboard lists every learner: enrolled, not enrolled, and never launched', T, async () => {
    const names = await rosterNames();
    assert.deepEqual(names.slice().sort(), [HOSTILE_NAME, 'Ben Okafor', 'Cat Nguyen', 'Dan Later', 'Rita Roster'].sort());
    const html = await frame.content();
    assert.ok(!html.includes('<b>O'), 'the hostile name is not escaped');
    assert.match(await rowOf('Rita Roster').innerText(), /not launched yet/);
    assert.match(await rowOf('Rita Roster').innerText(), /Not enrolled/);
    assert.match(await rowOf('Dan Later').innerText(), /Not enrolled/);
    const ada = await rowOf(HOSTILE_NAME).innerText();
    assert.match(ada, /Proposed: pass/, `Ada's row: ${ada}`);
    assert.match(ada, /5 \(4 passed\)/, `Ada's attempts: ${ada}`);
    assert.match(await rowOf('Ben Okafor').innerText(), /5 \(3 passed\)/);
    assert.match(await frame.locator('dl.summary').innerText(), /Decisions waiting for confirmation\s+1/);
    await shot(page, 'coord-program-dashboard');
    await frame.locator('table.roster').scrollIntoViewIfNeeded();
    await shot(page, 'coord-program-roster');
    await checkA11y(frame, 'program dashboard');
  });

  test('bulk enrol with a start date and a group; nothing chosen is refused, naming the field', T, async () => {
    await go(/\/enrol$/, () => frame.getByRole('button', { name: 'Enrol selected' }).click());
    assert.match(await frame.locator('.flash.bad').innerText(), /Choose at least one learner/);
    const started = dayStr(dayOf(nowSec()) - 3);
    await frame.getByLabel('Select Dan Later').check();
    await frame.getByLabel('Select Rita Roster').check();
    await frame.getByLabel('Start date (optional)').fill(started);
    await frame.getByLabel('Group (optional)').fill('Night shift');
    await go(/\/app\/programs\/\d+\?.*done=enrolled/, () => frame.getByRole('button', { name: 'Enrol selected' }).click());
    assert.match(await frame.locator('.flash').innerText(), /learners are enrolled/);
    for (const n of ['Dan Later', 'Rita Roster']) {
      const t = await rowOf(n).innerText();
      assert.match(t, /Active/, `${n}: ${t}`);
      assert.ok(t.includes(`since ${started}`), `${n} start date: ${t}`);
      assert.match(t, /Night shift/, `${n} group: ${t}`);
    }
    const list = ok(await api.coord.get('/api/v1/enrolments'), 200, 'list');
    const rita = list.enrolments.find((e) => e.learner.id === ritaId);
    assert.ok(rita, 'the roster-only learner is not enrolled');
    assert.equal(rita.started_on, started);
    enr.rita = rita.id;
    enr.dan = list.enrolments.find((e) => e.learner.id === api.dan.userId).id;
  });

  test('group and assessor on the learner page; the dashboard filters by group and by assessor', T, async () => {
    await go(/\/app\/coord\/enrolments\/\d+/, () => rowOf(HOSTILE_NAME).locator('th[scope=row] a').click());
    await frame.getByLabel('Group', { exact: true }).fill('Day shift');
    await go(/done=group/, () => frame.getByRole('button', { name: 'Save group' }).click());
    assert.equal(await frame.getByLabel('Group', { exact: true }).inputValue(), 'Day shift');
    await go(/\/app\/programs\/\d+\?/, () => frame.locator('.crumbs a').click());
    await go(/\/app\/coord\/enrolments\/\d+/, () => rowOf('Ben Okafor').locator('th[scope=row] a').click());
    await frame.getByLabel('Assign an assessor').selectOption({ label: 'Cedric Certifier' });
    await go(/done=assessor/, () => frame.getByRole('button', { name: 'Assign', exact: true }).click());
    assert.match(await frame.locator('section', { hasText: 'Assigned assessors' }).innerText(), /Cedric Certifier/);
    await go(/\/app\/programs\/\d+\?/, () => frame.locator('.crumbs a').click());

    await frame.getByLabel('Group').selectOption({ label: 'Night shift' });
    await go(/group=Night/, () => frame.getByRole('button', { name: 'Apply filters' }).click());
    assert.deepEqual((await rosterNames()).sort(), ['Dan Later', 'Rita Roster']);
    await frame.getByLabel('Group').selectOption({ label: 'Day shift' });
    await go(/group=Day/, () => frame.getByRole('button', { name: 'Apply filters' }).click());
    assert.deepEqual(await rosterNames(), [HOSTILE_NAME]);
    await frame.getByLabel('Group').selectOption({ label: 'All groups' });
    await frame.getByLabel('Assessor').selectOption({ label: 'Cedric Certifier' });
    await go(/assessor=\d+/, () => frame.getByRole('button', { name: 'Apply filters' }).click());
    assert.deepEqual(await rosterNames(), ['Ben Okafor']);
    await shot(page, 'coord-program-dashboard-filtered');
    await checkA11y(frame, 'filtered dashboard');
    await go(/\/app\/programs\/\d+\?s=[^&]+&course=\d+$/, () => frame.getByRole('link', { name: 'Show everyone' }).click());
    assert.equal((await rosterNames()).length, 5);
  });

  test('the coordinator confirms the decision the rule proposed', T, async () => {
    await go(/\/app\/coord\/enrolments\/\d+/, () => rowOf(HOSTILE_NAME).locator('th[scope=row] a').click());
    const sec = frame.locator('#decision');
    assert.match(await sec.innerText(), /The rule proposes pass.*4 of 5 counted observations passed/s);
    await shot(page, 'coord-learner-proposal');
    await checkA11y(frame, 'learner page with a proposal');
    await go(/done=confirmed/, () => frame.getByRole('button', { name: 'Confirm pass' }).click());
    assert.match(await frame.locator('.flash').innerText(), /decision is confirmed/);
    assert.match(await frame.locator('dl.facts').innerText(), /Decision in force\s+pass/);
    const e = ok(await api.coord.get(`/api/v1/enrolments/${enr.ada}`), 200, 'ada');
    assert.equal(e.decision?.status, 'confirmed');
    assert.equal(e.decision?.final_outcome, 'pass');
    assert.equal(e.status, 'completed');
    assert.equal(e.pending_decision, null);
  });

  test('override: an empty justification is refused with a clear error, then one is accepted', T, async () => {
    await go(/\/app\/programs\/\d+\?/, () => frame.locator('.crumbs a').click());
    await go(/\/app\/coord\/enrolments\/\d+/, () => rowOf('Ben Okafor').locator('th[scope=row] a').click());
    await go(/done=evaluated/, () => frame.getByRole('button', { name: 'Evaluate the rule now' }).click());
    assert.match(await frame.locator('#decision').innerText(), /The rule proposes fail/);
    await frame.getByLabel('Outcome that stands').selectOption('pass');
    const [resp] = await Promise.all([
      page.waitForResponse((r) => /\/override$/.test(r.url()) && r.request().method() === 'POST'),
      go(/\/override$/, () => frame.getByRole('button', { name: 'Override' }).click()),
    ]);
    assert.equal(resp.status(), 400, 'an override without justification must be refused');
    assert.match(await frame.locator('.flash.bad').innerText(), /Justification: an override needs a justification/);
    assert.match(await frame.locator('#o-just-err').innerText(), /needs a justification/);
    assert.equal(await frame.getByLabel('Outcome that stands').inputValue(), 'pass', 'the chosen outcome is kept');
    assert.equal(await frame.locator('#o-just').getAttribute('aria-invalid'), 'true');
    await shot(page, 'coord-override-refused');
    await checkA11y(frame, 'override refused');
    let e = ok(await api.coord.get(`/api/v1/enrolments/${enr.ben}`), 200, 'ben');
    assert.equal(e.pending_decision?.status, 'proposed', 'the refused override changed the decision');
    const why = 'Re-scored call 5 after the calibration session: it passes.';
    await frame.getByLabel('Justification (required)').fill(why);
    await go(/done=overridden/, () => frame.getByRole('button', { name: 'Override' }).click());
    assert.match(await frame.locator('.flash').innerText(), /overridden/);
    e = ok(await api.coord.get(`/api/v1/enrolments/${enr.ben}`), 200, 'ben');
    assert.equal(e.decision?.status, 'overridden');
    assert.equal(e.decision?.proposed_outcome, 'fail');
    assert.equal(e.decision?.final_outcome, 'pass');
    assert.equal(e.decision?.justification, why);
  });

  test('a note ("Date - Name - Note") and the end-of-day report with its CSV download', T, async () => {
    const text = 'Called in sick; re-test on Friday';
    await frame.getByLabel('Note', { exact: true }).fill(text);
    await go(/done=note/, () => frame.getByRole('button', { name: 'Add note' }).click());
    const line = `${today()} - Cora Coordinator - ${text}`;
    assert.ok((await frame.locator('ul.lines').allInnerTexts()).some((t) => t.includes(line)), `note line ${line} not shown`);
    const notes = ok(await api.coord.get(`/api/v1/enrolments/${enr.ben}/notes`), 200, 'notes');
    assert.ok(notes.lines.some((l) => l.kind === 'note' && l.text === text));

    await go(/\/app\/programs\/\d+\?/, () => frame.locator('.crumbs a').click());
    await go(/\/day\?/, () => frame.getByRole('link', { name: 'End-of-day report' }).click());
    assert.match(await frame.locator('body').innerText(), /Called in sick; re-test on Friday/);
    await shot(page, 'coord-day-report');
    await checkA11y(frame, 'day report');
    const [dl] = await Promise.all([
      page.waitForEvent('download', { timeout: 20000 }),
      frame.getByRole('link', { name: 'Download the day report (CSV)' }).click(),
    ]);
    const csv = fs.readFileSync(await dl.path(), 'utf8');
    const rows = parseCsv(csv);
    assert.deepEqual(rows[0], ['kind', 'day', 'enrolment_id', 'learner', 'author', 'text']);
    assert.ok(csv.includes('\r\n'), 'CSV lines must end in CRLF');
    assert.ok(rows.some((r) => r[0] === 'note' && r[2] === String(enr.ben) && r[4] === 'Cora Coordinator' && r[5] === text), `note row missing:\n${csv}`);
    // everyone active without a report today is listed as missing (Ada is completed)
    const missing = rows.filter((r) => r[0] === 'missing').map((r) => r[3]).sort();
    assert.deepEqual(missing, ['Cat Nguyen', 'Dan Later', 'Rita Roster'].sort(), csv);
  });

  test('reports: the SVG heat map and pass-rate chart show the numbers of the API and the CSV', T, async () => {
    await go(/\/app\/reports\?/, () => frame.getByRole('link', { name: 'Reports', exact: true }).click());
    // Expected proficiency per group from the API's current ratings of each learner.
    const groups = { 'Day shift': ['ada'], 'Night shift': ['dan', 'rita'], 'No group': ['ben', 'cat'] };
    const prof = {};
    const comps = [];
    for (const k of ['ada', 'ben', 'cat', 'dan', 'rita']) {
      const e = ok(await api.coord.get(`/api/v1/enrolments/${enr[k]}`), 200, k);
      prof[k] = new Set(e.ratings.filter((x) => x.proficient).map((x) => x.competency));
      if (comps.length === 0) for (const x of e.ratings) comps.push({ id: x.competency, name: x.shortname });
    }
    const svg = frame.locator('svg.heatmap');
    await svg.waitFor();
    const titles = await svg.locator('g.cell > title').allTextContents();
    const texts = await svg.locator('g.cell > text').allTextContents();
    assert.equal(titles.length, Object.keys(groups).length * comps.length, 'one cell per group and competency');
    let checked = 0;
    for (const [g, members] of Object.entries(groups)) {
      for (const c of comps) {
        const n = members.filter((k) => prof[k].has(c.id)).length;
        const share = Math.floor((n * 10000) / members.length);
        const pct = share % 100 === 0 ? `${share / 100}%` : `${Math.floor(share / 100)}.${String(share % 100).padStart(2, '0')}%`;
        const want = `${g}, ${c.name} (${c.id}): ${n} of ${members.length} learners proficient (${pct})`;
        const i = titles.findIndex((t) => t.startsWith(want));
        assert.ok(i >= 0, `no heat map cell titled ${JSON.stringify(want)}; cells:\n${titles.join('\n')}`);
        assert.equal(texts[i], pct, `the cell of ${g} / ${c.id} must show its number`);
        checked++;
      }
    }
    assert.ok(checked > 0);
    // Ada proficient on greeting (yes on every call) while Dan and Rita have no rating at all
    assert.ok(prof.ada.size > 0, 'Ada should be proficient somewhere after 5 scored calls');

    // This week's bar: 10 calls, 7 passed (Ada 4, Ben 3) = 70 %.
    const bars = await frame.locator('svg.passrates g.bar > title').allTextContents();
    assert.equal(bars.length, 12);
    assert.equal(bars[11], `Week of ${monday()}: 7 of 10 observations passed (70%)`);
    assert.deepEqual(await frame.locator('svg.passrates g.bar').last().locator('text').allTextContents(), ['70%', monday().slice(5), 'n=10']);
    await shot(page, 'coord-reports');
    await svg.scrollIntoViewIfNeeded();
    await shot(page, 'coord-reports-heatmap');
    await frame.locator('svg.passrates').scrollIntoViewIfNeeded();
    await shot(page, 'coord-reports-passrates');
    await checkA11y(frame, 'reports');

    // The same numbers as CSV.
    const href = await frame.getByRole('link', { name: 'Download proficiency by group (CSV)' }).getAttribute('href');
    const heat = await api.coord.get(href);
    assert.equal(heat.status, 200);
    assert.match(heat.headers['content-type'], /^text\/csv/);
    assert.match(heat.headers['content-disposition'], /^attachment; filename="proficiency-call-certification.csv"/);
    const hr = parseCsv(heat.text);
    assert.deepEqual(hr[0], ['group', 'competency', 'shortname', 'learners', 'rated', 'proficient', 'share_proficient']);
    for (const [g, members] of Object.entries(groups)) {
      for (const c of comps) {
        const row = hr.find((r) => r[0] === (g === 'No group' ? '' : g) && r[1] === c.id);
        assert.ok(row, `CSV row ${g}/${c.id} missing`);
        assert.equal(row[3], String(members.length));
        assert.equal(row[5], String(members.filter((k) => prof[k].has(c.id)).length), `${g}/${c.id}`);
      }
    }
    const rhref = await frame.getByRole('link', { name: 'Download pass rates (CSV)' }).getAttribute('href');
    const rates = parseCsv((await api.coord.get(rhref)).text);
    assert.deepEqual(rates[0], ['period_start', 'week_of', 'observations', 'passed', 'pass_rate']);
    assert.deepEqual(rates[rates.length - 1], [monday(), monday(), '10', '7', '70']);

    // Monthly: the same calls in this month's bar.
    await frame.getByLabel('Pass rates per', { exact: true }).selectOption('month');
    await go(/period=month/, () => frame.getByRole('button', { name: 'Show' }).click());
    const mbars = await frame.locator('svg.passrates g.bar > title').allTextContents();
    assert.equal(mbars[11], `${today().slice(0, 7)}: 7 of 10 observations passed (70%)`);
    await shot(page, 'coord-reports-monthly');
  });

  test('a learner gets 403 on every coordinator page; an instructor of another course 404', T, async () => {
    const ada = api.ada;
    const gets = [`/app/programs/${programId}`, `/app/programs/${programId}/day`, `/app/programs/${programId}/day?format=csv`,
      `/app/coord/enrolments/${enr.ada}`, '/app/reports', '/app/reports?format=csv&table=heatmap'];
    for (const p of gets) {
      const r = await ada.get(`${p}${p.includes('?') ? '&' : '?'}s=${ada.token}`);
      assert.equal(r.status, 403, `learner GET ${p}: ${r.status}`);
    }
    const posts = [`/app/programs/${programId}/enrol`, `/app/coord/enrolments/${enr.ada}/note`,
      `/app/coord/enrolments/${enr.ada}/group`, `/app/coord/enrolments/${enr.ada}/assessors`,
      `/app/coord/enrolments/${enr.ada}/evaluate`, `/app/coord/enrolments/${enr.ada}/feedback`,
      '/app/coord/decisions/1/confirm', '/app/coord/decisions/1/override'];
    for (const p of posts) {
      const body = new URLSearchParams({ s: ada.token, csrf: ada.csrf, learner: String(api.ada.userId), text: 'x', group: 'x', add: '1', outcome: 'pass', justification: 'long enough text' });
      const r = await ada.request('POST', p, undefined, { raw: body.toString(), contentType: 'application/x-www-form-urlencoded' });
      assert.equal(r.status, 403, `learner POST ${p}: ${r.status}`);
    }
    // The learner's own landing is the learner page, not the dashboard.
    const home = await ada.get(`/app?s=${ada.token}`);
    assert.match(home.text, PAGE.learner);
    assert.doesNotMatch(home.text, /Learners on the roster/);

    const olga = api.olga;
    const ctx = await sql(stack, `SELECT id FROM context WHERE context_id = '${course.id}'`);
    for (const p of [`/app/programs/${programId}?course=${ctx}`, `/app/coord/enrolments/${enr.ada}`,
      `/app/reports?course=${ctx}`, `/app/programs/${programId}/day?course=${ctx}&format=csv`]) {
      const r = await olga.get(`${p}&s=${olga.token}`.replace(/^([^?]*)&/, '$1?'));
      assert.equal(r.status, 404, `other course's instructor GET ${p}: ${r.status}`);
    }
    const body = new URLSearchParams({ s: olga.token, csrf: olga.csrf });
    const r = await olga.request('POST', '/app/coord/decisions/1/confirm', undefined, { raw: body.toString(), contentType: 'application/x-www-form-urlencoded' });
    assert.equal(r.status, 404, 'another course\'s instructor confirming a decision');
    // Without the CSRF token a coordinator's form is refused.
    const nocsrf = new URLSearchParams({ s: api.coord.token, text: 'no token' });
    const r2 = await api.coord.request('POST', `/app/coord/enrolments/${enr.cat}/note`, undefined, { raw: nocsrf.toString(), contentType: 'application/x-www-form-urlencoded', headers: { 'x-csrf-token': '' } });
    assert.equal(r2.status, 403, 'a form without the csrf token');
  });
});
