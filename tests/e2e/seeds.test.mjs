// seeds.test.mjs: both seed programs end to end through the HTTP API only, on SQLite and on
// PostgreSQL, with sessions from an emulated Moodle course.
//
//   The call certification (../shared/seeds/call-certification.txt): a coordinator and a
//   certifier (instructors) and agents (learners); 5 observed calls per agent, scored on the
//   scorecard so the computed scores are exactly 85/84/100/90/95 (pass at 80 %),
//   85/84/100/90/70 (fail at 60 %) and four 100s plus a call that misses a critical item (that
//   call fails; 4/5 pass at 80 %); confirm one decision, override another; daily progress
//   self-reports, coordinator notes ("Date - Name - Note"), the end-of-day report (JSON, CSV);
//   deadlines and the escalation ladder on business days.
//
//   The Level Two trainer pathway (../shared/seeds/level-two-trainer-pathway.txt): an
//   experienced Lead (qualified first: the program requires its assessors to be Leads) and a
//   trainee co-teach and both rate the same session; the students answer one-time feedback
//   links; a second module; evaluate -> lead, professional and not_yet.
//
//   make && node --test --test-concurrency=1 tests/e2e/seeds.test.mjs           # SQLite and PostgreSQL
//   ATTEST_E2E_DB=sqlite node --test --test-concurrency=1 tests/e2e/seeds.test.mjs   # one database only
//
// Checklist answers are worked out from examples/programs/*.json with the scoring rule of
// core/observation.h (api-client.mjs answersForScore), never hard-coded. Two fixtures go
// around the API, in SQL, because the API has no way to do them (see FIXTURE below).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Platform } from '../platform/platform.mjs';
import { Stack, ROOT } from './stack.mjs';
import { deepLink } from './sync-helpers.mjs';
import {
  Api, ok, badField, show, sql, answerFeedbackForm, answersForScore, scoreChecklist, programDefinition,
  hundredths, dayOf, dayStr, bizAdd, bizBetween, bizStartFor,
} from './api-client.mjs';

const CALL = programDefinition('call-certification');
const L2 = programDefinition('level-two-trainer');
const SCORECARD = CALL.checklists.find((c) => c.key === 'call');
const COTEACH = L2.checklists.find((c) => c.key === 'co-teach-module');
const PDF = fs.readFileSync(path.join(ROOT, 'tests', 'fixtures', 'evidence', 'report.pdf'));
const LINE = /^(\d{4}-\d{2}-\d{2}) - (.+?) - (.+)$/;

const havePg = fs.existsSync('/usr/lib/postgresql') &&
  fs.readdirSync('/usr/lib/postgresql').some((v) => fs.existsSync(path.join('/usr/lib/postgresql', v, 'bin', 'initdb')));
const DBS = process.env.ATTEST_E2E_DB ? [process.env.ATTEST_E2E_DB] : ['sqlite', 'pg'];

const nowSec = () => Math.floor(Date.now() / 1000);
const today = () => dayStr(dayOf(nowSec()));

for (const db of DBS) {
  describe(`seed programs end to end through the API (${db})`, { skip: db === 'pg' && !havePg ? 'PostgreSQL server binaries not installed' : false }, () => {
    let stack;
    let moodle;

    before(async () => {
      [stack, moodle] = await Promise.all([Stack.start({ db, name: `seeds-${db}` }), Platform.start({ flavor: 'moodle' })]);
      const reg = await moodle.dynamicRegister(`${stack.baseUrl}/lti/register`);
      assert.equal(reg.registration?.status, 200, `dynamic registration failed: ${reg.registration?.error}`);
    });

    after(async () => {
      await moodle?.close();
      await stack?.stop();
    });

    const launch = (role, sub, name, course) => Api.launch(moodle, stack.baseUrl, {
      role, user: { sub, name, given_name: name.split(' ')[0], family_name: name.split(' ').slice(1).join(' ') },
      courseId: course.id, context: course, who: `${name} (${role})`,
    });

    // ------------------------------------------------------------------ call certification
    describe('call certification', () => {
      const course = { id: 'ESP-CALL-1', title: 'ESP call certification, cohort 12', label: 'ESP12' };
      let coord; let certifier;
      const agents = {}; // key -> {api, enrolment, name, scores, missCritical}
      const PLAN = {
        ada: { name: 'Ada Lovelace', scores: [85, 84, 100, 90, 95], outcome: 'pass', percent: 80 },
        ben: { name: 'Ben Okafor', scores: [85, 84, 100, 90, 70], outcome: 'fail', percent: 60 },
        cat: { name: 'Cat Nguyen', scores: [100, 100, 100, 100, 100], missCriticalOn: 4, outcome: 'pass', percent: 80 },
      };
      const decisions = {};

      before(async () => {
        coord = await launch('instructor', 'cc-coord', 'Cora Coordinator', course);
        certifier = await launch('instructor', 'cc-cert', 'Cedric Certifier', course);
        for (const [k, p] of Object.entries(PLAN)) agents[k] = { ...p, api: await launch('learner', `cc-${k}`, p.name, course) };
        // the coordinator places the program in the course (deep linking): agents may join it
        await deepLink(moodle, stack, { courseId: course.id, context: course, choose: [/ESP agent call certification/], user: { sub: 'cc-coord', name: 'Cora Coordinator', given_name: 'Cora', family_name: 'Coordinator' } });
      });

      test('the seed program is served as imported: the scorecard matches examples/programs/call-certification.json', async () => {
        const list = ok(await coord.get('/api/v1/programs'), 200, 'programs');
        const keys = list.programs.map((p) => p.key);
        assert.ok(keys.includes('call-certification') && keys.includes('level-two-trainer'), `seed programs not imported at start: ${keys}`);
        const p = ok(await agents.ada.api.get('/api/v1/programs/call-certification'), 200, 'program');
        const cl = p.checklists.find((c) => c.key === 'call');
        assert.equal(cl.pass_mark, SCORECARD.pass_mark);
        assert.equal(cl.max_score, SCORECARD.max_score);
        for (const it of SCORECARD.items) {
          const got = cl.items.find((x) => x.key === it.key);
          assert.ok(got, `item ${it.key} missing from the API's program`);
          assert.equal(got.kind, it.kind, it.key);
          if (it.kind !== 'comment') assert.equal(got.weight, it.weight ?? 1, `${it.key} weight`);
          assert.equal(!!got.critical, !!it.critical, `${it.key} critical`);
          if (it.kind === 'points') assert.equal(got.max_points, it.max_points, `${it.key} max_points`);
        }
        assert.deepEqual(p.rule, CALL.rule);
      });

      test('agents enrol themselves or are enrolled by the coordinator; a second enrolment is a 409', async () => {
        const a = ok(await agents.ada.api.post('/api/v1/enrolments', { program: 'call-certification' }), 201, 'ada self-enrols');
        assert.equal(a.learner.id, agents.ada.api.userId);
        assert.equal(a.status, 'active');
        assert.equal(a.started_on, today());
        agents.ada.enrolment = a.id;
        for (const k of ['ben', 'cat']) {
          const e = ok(await coord.post('/api/v1/enrolments', { program: 'call-certification', learner_id: agents[k].api.userId }), 201, `enrol ${k}`);
          assert.equal(e.learner.name, agents[k].name);
          agents[k].enrolment = e.id;
        }
        ok(await coord.post('/api/v1/enrolments', { program: 'call-certification', learner_id: agents.ada.api.userId }), 409, 'ada again');
        ok(await agents.ben.api.post('/api/v1/enrolments', { program: 'call-certification', learner_id: agents.cat.api.userId }), 403, 'a learner enrolling someone else');
        badField(await coord.post('/api/v1/enrolments', { program: 'no-such-program', learner_id: agents.ada.api.userId }), 'program');
        const mine = ok(await agents.ben.api.get('/api/v1/enrolments'), 200, 'ben lists');
        assert.deepEqual(mine.enrolments.map((e) => e.id), [agents.ben.enrolment]);
        const all = ok(await coord.get('/api/v1/enrolments'), 200, 'coordinator lists');
        for (const k of Object.keys(PLAN)) assert.ok(all.enrolments.some((e) => e.id === agents[k].enrolment), `${k} not in the course list`);
      });

      test('the certifier scores 5 calls per agent; each submit computes exactly the planned score', async () => {
        const base = nowSec() - 6 * 3600;
        for (const [k, ag] of Object.entries(agents)) {
          ag.calls = [];
          for (let i = 0; i < 5; i++) {
            const miss = ag.missCriticalOn === i;
            // A call that misses a critical item cannot score 100 on this scorecard (the missed
            // yes/no item carries weight): the best it can do is 90 — still >= 85.
            const target = miss ? 90 : ag.scores[i];
            const { answers, list } = answersForScore(SCORECARD, target, { missCritical: miss });
            const expect = scoreChecklist(SCORECARD, answers);
            assert.equal(expect.score, hundredths(target));
            const c = ok(await certifier.post('/api/v1/observations', {
              enrolment_id: ag.enrolment, checklist: 'call', observed_at: base + (i + 1) * 1800, client_key: `cert-${k}-call-${i + 1}`,
            }), 201, `${k} call ${i + 1}: create`);
            const id = c.id;
            ok(await certifier.put(`/api/v1/observations/${id}`, {
              answers: [...list, { item: 'notes', text: `Call ${i + 1}: headset fine.` }],
              feedback: { marked_down: target < 100 ? 'Missed some probing questions.' : '' },
            }), 200, `${k} call ${i + 1}: autosave`);
            if (i === 0) {
              // Certifiers must always give some positive feedback: "What went well" is required.
              badField(await certifier.post(`/api/v1/observations/${id}/submit`), 'went_well', `${k} call 1 without positive feedback`);
            }
            ok(await certifier.put(`/api/v1/observations/${id}`, { feedback: { went_well: `Warm greeting on call ${i + 1}.` } }), 200, `${k} call ${i + 1}: feedback`);
            const s = ok(await certifier.post(`/api/v1/observations/${id}/submit`), 200, `${k} call ${i + 1}: submit`);
            assert.equal(s.status, 'submitted');
            assert.equal(s.score, hundredths(target), `${k} call ${i + 1}: score ${s.score}, planned ${hundredths(target)}`);
            assert.equal(s.max_score, 10000);
            assert.equal(s.critical_missed, miss, `${k} call ${i + 1}: critical_missed`);
            assert.equal(s.passed, !miss && target >= 85, `${k} call ${i + 1}: passed`);
            ag.calls.push(id);
            if (k === 'ada' && i === 3) {
              const pending = ok(await coord.post(`/api/v1/enrolments/${ag.enrolment}/evaluate`), 200, 'evaluate after 4 calls');
              assert.equal(pending.outcome, 'pending');
              assert.equal(pending.id, null, 'a pending evaluation records no proposal');
            }
          }
        }
      });

      test('a submitted call is immutable; an amendment with a reason stands for it', async () => {
        const ada = agents.ada;
        const third = ada.calls[2];
        ok(await certifier.put(`/api/v1/observations/${third}`, { answers: [{ item: 'greeting', value: 0 }] }), 409, 'edit after submit');
        ok(await agents.ada.api.post(`/api/v1/observations/${third}/amend`, { reason: 'I disagree' }), [403, 404], 'the agent amends');
        const a = ok(await certifier.post(`/api/v1/observations/${third}/amend`, { reason: 'Wrong call recording attached; same scores.' }), 201, 'amend');
        assert.equal(a.amends_id, third);
        const s = ok(await certifier.post(`/api/v1/observations/${a.id}/submit`), 200, 'submit amendment');
        assert.equal(s.score, 10000);
        ada.calls[2] = a.id;
        const e = ok(await coord.get(`/api/v1/enrolments/${ada.enrolment}`), 200, 'enrolment');
        const ids = e.observations.map((o) => o.id);
        assert.ok(ids.includes(a.id) && !ids.includes(third), `effective observations should hold the amendment ${a.id}, not ${third}: ${ids}`);
        assert.equal(e.observations.length, 5);
        const rec = ok(await coord.get(`/api/v1/enrolments/${ada.enrolment}/record`), 200, 'record');
        const orig = rec.observations.find((o) => o.id === third);
        assert.equal(orig?.superseded_by, a.id, 'the record of learning keeps the original, superseded by the amendment');
      });

      test('the agent sees the scores and feedback of their calls (shared after each call); other agents do not', async () => {
        const o = ok(await agents.ben.api.get(`/api/v1/observations/${agents.ben.calls[4]}`), 200, 'ben reads his call 5');
        assert.equal(o.score, 7000);
        assert.match(o.feedback.went_well, /Warm greeting/);
        ok(await agents.ada.api.get(`/api/v1/observations/${agents.ben.calls[4]}`), 404, 'ada reads ben\'s call');
      });

      test('evaluate: 85/84/100/90/95 passes at 80 %, 85/84/100/90/70 fails at 60 %, a critical miss fails its call (4/5, 80 %)', async () => {
        for (const [k, ag] of Object.entries(agents)) {
          ok(await ag.api.post(`/api/v1/enrolments/${ag.enrolment}/evaluate`), 403, `${k} evaluates themself`);
          const p = ok(await coord.post(`/api/v1/enrolments/${ag.enrolment}/evaluate`), 201, `${k} evaluate`);
          assert.equal(p.outcome, ag.outcome, `${k}: outcome ${p.outcome}, basis ${JSON.stringify(p.basis)}`);
          assert.equal(p.percent, ag.percent, `${k}: percent`);
          assert.equal(p.status, 'proposed');
          assert.ok(Number.isInteger(p.id) && p.id > 0);
          assert.equal(p.basis?.passed, ag.percent / 20, `${k}: basis.passed`);
          assert.equal(p.basis?.observations ?? p.basis?.counted?.length, 5, `${k}: basis counts 5 calls`);
          if (k === 'cat') {
            const counted = p.basis.counted || [];
            const missed = counted.filter((c) => c.critical_missed || c.critical_miss);
            assert.equal(missed.length, 1, `cat: one counted call with a critical miss: ${JSON.stringify(counted)}`);
            assert.equal(missed[0].passed, false);
            assert.equal(missed[0].score, 90, `the critical call scored 90 (>= 85) and still failed: ${JSON.stringify(missed[0])}`);
          }
          decisions[k] = p;
        }
      });

      test('the coordinator confirms one decision and overrides another with a justification', async () => {
        const ada = decisions.ada;
        ok(await agents.ada.api.post(`/api/v1/decisions/${ada.id}/confirm`), 403, 'the agent confirms');
        ok(await agents.ben.api.post(`/api/v1/decisions/${ada.id}/confirm`), 404, 'another agent confirms');
        const c = ok(await coord.post(`/api/v1/decisions/${ada.id}/confirm`), 200, 'confirm');
        assert.equal(c.status, 'confirmed');
        assert.equal(c.final_outcome, 'pass');
        assert.equal(c.decided_by, coord.userId);
        ok(await coord.post(`/api/v1/decisions/${ada.id}/confirm`), 409, 'confirm twice');

        const ben = decisions.ben;
        badField(await coord.post(`/api/v1/decisions/${ben.id}/override`, { outcome: 'pass' }), 'justification', 'override without justification');
        badField(await coord.post(`/api/v1/decisions/${ben.id}/override`, { outcome: 'pass', justification: 'ok' }), 'justification', 'too short');
        badField(await coord.post(`/api/v1/decisions/${ben.id}/override`, { justification: 'Call 5 was dropped by the telephony outage.' }), 'outcome');
        const why = 'Call 5 was cut off by the telephony outage of 14:10; the certifier judged the agent competent on a replacement call.';
        const o = ok(await coord.post(`/api/v1/decisions/${ben.id}/override`, { outcome: 'pass', justification: why }), 200, 'override');
        assert.equal(o.status, 'overridden');
        assert.equal(o.proposed_outcome, 'fail');
        assert.equal(o.final_outcome, 'pass');
        assert.equal(o.justification, why);
        ok(await coord.post(`/api/v1/decisions/${ben.id}/confirm`), 409, 'confirm after override');

        const e = ok(await agents.ben.api.get(`/api/v1/enrolments/${agents.ben.enrolment}`), 200, 'ben reads his enrolment');
        assert.equal(e.decision?.final_outcome, 'pass');
        assert.equal(e.decision?.justification, why);
        assert.equal(e.pending_decision, null);
        const rec = ok(await coord.get(`/api/v1/enrolments/${agents.ben.enrolment}/record`), 200, 'ben record');
        assert.ok(rec.decisions.some((d) => d.status === 'overridden' && d.proposed_outcome === 'fail' && d.final_outcome === 'pass'));
      });

      test('the coordinator uploads the scorecard spreadsheet (LastName_FirstName_[Pass Rate]) as evidence', async () => {
        const r = await coord.upload('/api/v1/evidence', { learner_id: agents.ada.api.userId, note: 'All 5 calls' },
          [{ filename: 'Lovelace_Ada_80.pdf', type: 'application/pdf', data: PDF }]);
        const ev = ok(r, 201, 'upload scorecard');
        assert.equal(ev.media_type, 'application/pdf');
        const rec = ok(await agents.ada.api.get(`/api/v1/enrolments/${agents.ada.enrolment}/record`), 200, 'ada record');
        assert.ok(rec.evidence.some((x) => x.id === ev.id && x.filename === 'Lovelace_Ada_80.pdf'), 'the scorecard is in the record of learning');
        const dl = await agents.ada.api.get(`/api/v1/evidence/${ev.id}/download`);
        assert.equal(dl.status, 200, show(dl));
        assert.ok(dl.bytes.equals(PDF), 'download returns the uploaded bytes');
        assert.match(dl.headers['content-disposition'] || '', /attachment/);
      });

      test('agents self-report daily progress; the coordinator keeps notes as "Date - Name - Note"', async () => {
        const day = today();
        for (const k of ['ada', 'ben']) {
          const r = ok(await agents[k].api.post(`/api/v1/enrolments/${agents[k].enrolment}/progress`, { text: `Finished my 5 calls; TBT ${k === 'ada' ? 4 : 3} done.` }), 201, `${k} reports`);
          assert.equal(r.day, day);
          assert.equal(r.kind, 'report');
        }
        ok(await agents.ada.api.post(`/api/v1/enrolments/${agents.ada.enrolment}/progress`, { text: 'Logged off at 17:00.' }), 201, 'ada reports again');
        ok(await agents.ada.api.post(`/api/v1/enrolments/${agents.ben.enrolment}/progress`, { text: 'for ben' }), 404, 'ada reports for ben');
        ok(await coord.post(`/api/v1/enrolments/${agents.ada.enrolment}/progress`, { text: 'for ada' }), 403, 'the coordinator writes a self-report');
        badField(await agents.ada.api.post(`/api/v1/enrolments/${agents.ada.enrolment}/progress`, { text: '   ' }), 'text');
        badField(await agents.ada.api.post(`/api/v1/enrolments/${agents.ada.enrolment}/progress`, { text: 'x', day: '2026-02-30' }), 'day');

        const n = ok(await coord.post(`/api/v1/enrolments/${agents.ada.enrolment}/notes`, { text: 'Headset replaced by IT; certified, scorecard uploaded.' }), 201, 'note');
        assert.equal(n.kind, 'note');
        ok(await coord.post(`/api/v1/enrolments/${agents.ben.enrolment}/notes`, { text: 'Outage on call 5 - see override.' }), 201, 'note ben');
        ok(await agents.ada.api.post(`/api/v1/enrolments/${agents.ada.enrolment}/notes`, { text: 'me' }), 403, 'the agent writes a note');

        const l = ok(await coord.get(`/api/v1/enrolments/${agents.ada.enrolment}/notes`), 200, 'notes');
        assert.equal(l.lines.length, 2, JSON.stringify(l.lines));
        const [rep, note] = l.lines;
        assert.equal(rep.kind, 'report');
        assert.equal(note.kind, 'note');
        for (const x of l.lines) {
          const m = LINE.exec(x.line);
          assert.ok(m, `not "Date - Name - Note": ${JSON.stringify(x.line)}`);
          assert.equal(m[1], day);
          assert.equal(m[2], 'Ada Lovelace');
        }
        assert.equal(rep.line, `${day} - Ada Lovelace - Finished my 5 calls; TBT 4 done. Logged off at 17:00.`, 'a second report the same day is appended');
        assert.equal(note.line, `${day} - Ada Lovelace - Headset replaced by IT; certified, scorecard uploaded.`);
        assert.equal(note.author, 'Cora Coordinator');
        const own = ok(await agents.ada.api.get(`/api/v1/enrolments/${agents.ada.enrolment}/notes`), 200, 'the agent reads her lines');
        assert.equal(own.lines.length, 2);
      });

      test('the end-of-day report: reports, notes, who has not reported — JSON and CSV', async () => {
        const day = today();
        ok(await agents.ada.api.get(`/api/v1/reports/day?program=call-certification&day=${day}`), 403, 'an agent reads the report');
        const r = ok(await coord.get(`/api/v1/reports/day?program=call-certification&day=${day}`), 200, 'day report');
        assert.equal(r.day, day);
        assert.deepEqual(r.reports.map((x) => x.name).sort(), ['Ada Lovelace', 'Ben Okafor']);
        assert.ok(r.missing.some((x) => x.name === 'Cat Nguyen'), `Cat has not reported: ${JSON.stringify(r.missing)}`);
        assert.equal(r.notes.length, 2);
        for (const x of [...r.reports, ...r.notes]) assert.match(x.line, LINE);
        badField(await coord.get('/api/v1/reports/day?program=call-certification&day=2026-13-01'), 'day');
        badField(await coord.get('/api/v1/reports/day?program=call-certification&format=xml'), 'format');

        const csv = await coord.get(`/api/v1/reports/day?program=call-certification&day=${day}&format=csv`);
        assert.equal(csv.status, 200, show(csv));
        assert.match(csv.headers['content-type'], /^text\/csv/);
        assert.match(csv.headers['content-disposition'] || '', /attachment/);
        const rows = csv.text.split('\r\n').filter(Boolean);
        assert.equal(rows[0], 'kind,day,enrolment_id,learner,author,text');
        assert.ok(rows.some((x) => x.startsWith(`report,${day},${agents.ada.enrolment},Ada Lovelace,Ada Lovelace,`)), csv.text);
        assert.ok(rows.some((x) => x.startsWith(`note,${day},${agents.ben.enrolment},Ben Okafor,Cora Coordinator,`)), csv.text);
        // "Outage on call 5 - see override." starts with O: no formula guard; the CSV keeps the text.
        assert.ok(rows.some((x) => x.startsWith(`missing,${day},${agents.cat.enrolment},Cat Nguyen`)), csv.text);

        const p = ok(await coord.get('/api/v1/reports/progress?program=call-certification'), 200, 'progress report');
        const ada = p.learners.find((x) => x.enrolment_id === agents.ada.enrolment);
        assert.equal(ada.pass_rate, 80);
        assert.equal(ada.observations_passed, 4);
        assert.equal(ada.observations_total, 5);
        assert.equal(ada.decision, 'pass');
        const ben = p.learners.find((x) => x.enrolment_id === agents.ben.enrolment);
        assert.equal(ben.pass_rate, 60);
        assert.equal(ben.decision, 'pass', 'the override is the decision in force');
        const pc = await coord.get('/api/v1/reports/progress?program=call-certification&format=csv');
        assert.equal(pc.status, 200, show(pc));
        const prow = pc.text.split('\r\n').filter(Boolean);
        assert.ok(prow[0].startsWith('enrolment_id,learner_id,learner,status,started_on,observations_passed,observations_total,pass_rate,overdue,deadline,escalation_step,escalation_due_today,decision'), prow[0]);
        assert.ok(prow.some((x) => x.startsWith(`${agents.ada.enrolment},${agents.ada.api.userId},Ada Lovelace,completed,${day},4,5,80,`)), pc.text);
        assert.match(prow.at(-1), /share proficient/);
      });

      test('deadlines and escalations on business days (weekends and the program\'s holidays skipped)', async () => {
        const H = CALL.deadlines.holidays;
        const ladder = CALL.deadlines.escalation;
        const t = dayOf(nowSec());
        // A fresh enrolment: day 0, nothing due.
        const fresh = await launch('learner', 'cc-fay', 'Fay Fresh', course);
        const f = ok(await coord.post('/api/v1/enrolments', { program: 'call-certification', learner_id: fresh.userId }), 201, 'enrol fay');
        const fe = ok(await coord.get(`/api/v1/enrolments/${f.id}`), 200, 'fay');
        for (const k of ['start', 'today', 'elapsed_business_days', 'deadline', 'overdue', 'step', 'due_today', 'next', 'next_day']) {
          assert.ok(fe.escalation && k in fe.escalation, `escalation.${k} missing: ${JSON.stringify(fe.escalation)}`);
        }
        assert.equal(fe.escalation.start, dayStr(t));
        assert.equal(fe.escalation.elapsed_business_days, 0);
        assert.equal(fe.escalation.deadline, dayStr(bizAdd(t, CALL.deadlines.complete_within_business_days, H)));
        assert.equal(fe.escalation.overdue, false);
        assert.equal(fe.escalation.step, null);

        // Coordinators enter agents who started earlier with started_on: the ladder counts
        // business days from it.
        const cases = [
          { sub: 'cc-otto', name: 'Otto Overdue', elapsed: 3 },
          { sub: 'cc-wanda', name: 'Wanda Written', elapsed: 4 },
          { sub: 'cc-tom', name: 'Tom Termination', elapsed: 7 },
        ];
        for (const c of cases) {
          const api = await launch('learner', c.sub, c.name, course);
          const start = bizStartFor(t, c.elapsed, H);
          const e = ok(await coord.post('/api/v1/enrolments', { program: 'call-certification', learner_id: api.userId,
            started_on: dayStr(start) }), 201, `enrol ${c.name}`);
          c.id = e.id;
          c.start = start;
        }
        for (const c of cases) {
          const e = ok(await coord.get(`/api/v1/enrolments/${c.id}`), 200, c.name);
          const x = e.escalation;
          assert.equal(x.start, dayStr(c.start), `${c.name}: start`);
          assert.equal(x.elapsed_business_days, bizBetween(c.start, t, H), `${c.name}: elapsed`);
          const deadline = bizAdd(c.start, CALL.deadlines.complete_within_business_days, H);
          assert.equal(x.deadline, dayStr(deadline), `${c.name}: deadline`);
          assert.equal(x.overdue, t > deadline, `${c.name}: overdue`);
          let cum = 0; let step = -1; let stepDay = null;
          for (let i = 0; i < ladder.length; i++) {
            cum += ladder[i].after_business_days;
            const d = bizAdd(c.start, cum, H);
            if (d <= t) { step = i; stepDay = d; }
          }
          assert.ok(step >= 0, 'test setup: a step must be due');
          assert.equal(x.step?.key, ladder[step].key, `${c.name}: step ${JSON.stringify(x)}`);
          assert.equal(x.step?.day, dayStr(stepDay), `${c.name}: step day`);
          assert.equal(x.due_today, stepDay === t, `${c.name}: due_today`);
        }
        const p = ok(await coord.get('/api/v1/reports/progress?program=call-certification'), 200, 'progress');
        for (const c of cases) {
          const row = p.learners.find((l) => l.enrolment_id === c.id);
          assert.equal(row.overdue, true, `${c.name} overdue in the report`);
          assert.ok(row.escalation_step, `${c.name}: escalation_step in the report: ${JSON.stringify(row)}`);
        }
        assert.ok(p.summary.overdue >= cases.length, JSON.stringify(p.summary));
      });

      test('a certified agent (confirmed pass) is complete: never overdue, no escalation step', async () => {
        // docs/programs.md: "A completed enrolment has no step due." Ada's pass was confirmed
        // above; back-date her start (FIXTURE, as above) past the whole ladder.
        const H = CALL.deadlines.holidays;
        const t = dayOf(nowSec());
        await sql(stack, `UPDATE enrolment SET started_at = ${bizStartFor(t, 7, H) * 86400 + 12 * 3600} WHERE id = ${Number(agents.ada.enrolment)}`);
        const e = ok(await coord.get(`/api/v1/enrolments/${agents.ada.enrolment}`), 200, 'ada');
        assert.equal(e.decision?.final_outcome, 'pass');
        assert.equal(e.escalation.overdue, false, `a certified agent is reported overdue: status ${e.status}, escalation ${JSON.stringify(e.escalation)}`);
        assert.equal(e.escalation.step, null, `a certified agent is due "${e.escalation.step?.label}"`);
      });
    });

    // ------------------------------------------------------------------ Level Two pathway
    describe('Level Two trainer pathway', () => {
      const staff = { id: 'L2-STAFF', title: 'Level Two trainers (staff)', label: 'L2STAFF' };
      const module1 = { id: 'L2-MOD-2027', title: 'Level Two module, spring 2027', label: 'L2M' };
      let coordStaff; let coord; let leadAsLearner; let lead;
      // level = 1-based position on the 1..5 scale; the API wants value = level - 1.
      const RATED = COTEACH.items.filter((i) => i.kind === 'rating').map((i) => i.key);
      const T = {
        tara: { name: 'Tara Trainee', assessor: { group: 4 }, assessorDefault: 5, self: {}, selfDefault: 4, students: [5, 4, 5, 4, 4], outcome: 'lead' },
        theo: { name: 'Theo Trainee', assessor: { depth: 3, space: 3 }, assessorDefault: 4, self: { depth: 3, space: 3 }, selfDefault: 4, students: [4, 4, 4, 4, 4], outcome: 'professional' },
        // Nia: group at 2 (below Professional); mentor: assessor 4, self 1 -> more than one level apart: flagged.
        nia: { name: 'Nia Trainee', assessor: { group: 2, mentor: 4 }, assessorDefault: 3, self: { mentor: 1 }, selfDefault: 3, students: [3, 3, 4, 3, 3], outcome: 'not_yet', review: true },
      };
      let firstDraft;

      const answers = (levels, dflt) => [
        { item: 'present', value: 1 },
        { item: 'discussed_before', value: 1 },
        { item: 'discussed_after', value: 1 },
        ...RATED.map((k) => ({ item: k, value: (levels[k] ?? dflt) - 1 })),
        { item: 'unique', text: 'Holding an experienced group over several days; depth of the advanced content.' },
      ];

      before(async () => {
        coordStaff = await launch('instructor', 'l2-kri', 'Kim Coordinator', staff);
        coord = await launch('instructor', 'l2-kri', 'Kim Coordinator', module1);
        leadAsLearner = await launch('learner', 'l2-lead', 'Lena Lead', staff);
        lead = await launch('instructor', 'l2-lead', 'Lena Lead', module1);
        // KRI places the pathway in both courses (deep linking): trainees and the Lead may join it
        for (const c of [staff, module1]) {
          await deepLink(moodle, stack, { courseId: c.id, context: c, choose: [/Level Two trainer pathway/], user: { sub: 'l2-kri', name: 'Kim Coordinator', given_name: 'Kim', family_name: 'Coordinator' } });
        }
        for (const [k, t] of Object.entries(T)) {
          t.api = await launch('learner', `l2-${k}`, t.name, module1);
          t.enrolment = ok(await t.api.post('/api/v1/enrolments', { program: 'level-two-trainer' }), 201, `${k} self-enrols`).id;
        }
      });

      test('an assessor without a Lead certification cannot submit a co-teaching observation', async () => {
        const c = ok(await lead.post('/api/v1/observations', { enrolment_id: T.tara.enrolment, checklist: 'co-teach-module', session_key: 'tara-module-1' }), 201, 'create');
        firstDraft = c.id;
        ok(await lead.put(`/api/v1/observations/${c.id}`, {
          answers: answers(T.tara.assessor, T.tara.assessorDefault),
          feedback: { went_well: 'Held the group well on day 2.', to_develop: 'Pace the advanced content.' },
        }), 200, 'autosave');
        const s = await lead.post(`/api/v1/observations/${c.id}/submit`);
        ok(s, 403, 'unqualified assessor submits');
      });

      test('the experienced Lead holds a confirmed "lead" decision (train-the-assessor)', async () => {
        const e = ok(await leadAsLearner.post('/api/v1/enrolments', { program: 'level-two-trainer' }), 201, 'lead self-enrols in the staff course');
        const ev = ok(await coordStaff.post(`/api/v1/enrolments/${e.id}/evaluate`), 200, 'evaluate the Lead');
        assert.equal(ev.outcome, 'pending');
        assert.equal(ev.id, null);
        // The first Lead cannot earn it here (her own pathway needs a qualified Lead): the
        // coordinator records the certification she holds already, with a justification.
        const short = await coordStaff.post(`/api/v1/enrolments/${e.id}/grant`, { outcome: 'lead', justification: 'legacy' });
        assert.equal(short.status, 400);
        assert.equal(short.body.field, 'justification');
        const o = ok(await coordStaff.post(`/api/v1/enrolments/${e.id}/grant`, {
          outcome: 'lead', justification: 'Certified Level Two Lead Trainer since 2014 under the previous pathway (KRI register).',
        }), 201, 'grant lead');
        assert.equal(o.final_outcome, 'lead');
        assert.equal(o.status, 'overridden');
        ok(await lead.post(`/api/v1/observations/${firstDraft}/submit`), 200, 'the qualified Lead submits');
      });

      test('two co-taught modules: the Lead and the trainee rate the same session; side by side', async () => {
        for (const [k, t] of Object.entries(T)) {
          t.obs = [];
          for (const m of [1, 2]) {
            const sk = `${k}-module-${m}`;
            let id;
            if (k === 'tara' && m === 1) {
              id = firstDraft;
            } else {
              id = ok(await lead.post('/api/v1/observations', { enrolment_id: t.enrolment, checklist: 'co-teach-module', session_key: sk }), 201, `${k} m${m} lead`).id;
              ok(await lead.put(`/api/v1/observations/${id}`, {
                answers: answers(t.assessor, t.assessorDefault),
                feedback: { went_well: `Module ${m}: clear co-planning.`, to_develop: 'Give the students more feedback rounds.', second_module_role: 'lead the afternoons' },
              }), 200, `${k} m${m} lead autosave`);
              const s = ok(await lead.post(`/api/v1/observations/${id}/submit`), 200, `${k} m${m} lead submit`);
              assert.equal(s.critical_missed, false);
            }
            const self = ok(await t.api.post('/api/v1/observations', { enrolment_id: t.enrolment, checklist: 'co-teach-module', rater_role: 'self', session_key: sk }), 201, `${k} m${m} self`).id;
            ok(await t.api.put(`/api/v1/observations/${self}`, { answers: answers(t.self, t.selfDefault) }), 200, `${k} m${m} self autosave`);
            const ss = ok(await t.api.post(`/api/v1/observations/${self}/submit`), 200, `${k} m${m} self submit`);
            assert.equal(ss.rater_role, 'self');
            assert.equal(ss.passed, false, 'a self-evaluation never passes');
            t.obs.push({ lead: id, self });
            const sbs = ok(await t.api.get(`/api/v1/observations/${self}/side-by-side?view=session`), 200, `${k} m${m} side by side`);
            const roles = sbs.observations.map((o) => o.rater_role).sort();
            assert.deepEqual(roles, ['assessor', 'self'], `${k} m${m}: both raters of the session: ${JSON.stringify(sbs.observations)}`);
            const group = sbs.items.find((i) => i.item === 'group');
            const col = (role) => sbs.observations.findIndex((o) => o.rater_role === role);
            assert.equal(group.answers[col('assessor')].value, (t.assessor.group ?? t.assessorDefault) - 1);
            assert.equal(group.answers[col('self')].value, (t.self.group ?? t.selfDefault) - 1);
          }
          // Before any student answered, the feedback requirement is pending.
          const p = ok(await coord.post(`/api/v1/enrolments/${t.enrolment}/evaluate`), 200, `${k} evaluate before feedback`);
          assert.equal(p.outcome, 'pending', `${k}: ${JSON.stringify(p.basis)}`);
        }
      });

      test('students answer one-time feedback links with no account; a used link is refused', async () => {
        ok(await T.tara.api.post('/api/v1/feedback-links', { enrolment_id: T.tara.enrolment, form: 'student-outcomes' }), 403, 'the trainee makes a link');
        for (const [k, t] of Object.entries(T)) {
          for (const [i, score] of t.students.entries()) {
            const l = ok(await coord.post('/api/v1/feedback-links', { enrolment_id: t.enrolment, form: 'student-outcomes' }), 201, `${k} link ${i}`);
            const r = await answerFeedbackForm(l.url, { overall: score, learned: `Student ${i + 1}: how to hold space for a group.`, trainer: 'Clear & kind', recommend: true });
            assert.equal(r.get.status, 200, `${k} student ${i}: GET form ${r.get.status}`);
            assert.ok(r.post, `${k} student ${i}: no POST form on the page: ${r.get.body.slice(0, 300)}`);
            assert.equal(r.post.status, 200, `${k} student ${i}: POST ${r.post.status} ${r.post.body.slice(0, 300)}`);
            if (k === 'tara' && i === 0) {
              const again = await answerFeedbackForm(l.url, { overall: 1 });
              const st = again.post ? again.post.status : again.get.status;
              assert.equal(st, 409, 'a used link takes no second answer');
            }
          }
          const e = ok(await coord.get(`/api/v1/enrolments/${t.enrolment}`), 200, `${k} enrolment`);
          assert.equal(e.feedback.responses, t.students.length);
          const avg = t.students.reduce((a, b) => a + b, 0) / t.students.length;
          assert.ok(Math.abs(e.feedback.average - avg) < 0.01 || Math.abs(e.feedback.average - avg * 100) < 1, `${k}: average ${e.feedback.average}, expected ${avg}`);
        }
      });

      test('evaluate: Lead, Professional and not yet; the coordinator confirms', async () => {
        for (const [k, t] of Object.entries(T)) {
          const p = ok(await coord.post(`/api/v1/enrolments/${t.enrolment}/evaluate`), 201, `${k} evaluate`);
          assert.equal(p.outcome, t.outcome, `${k}: ${p.outcome}, basis ${JSON.stringify(p.basis)}`);
          assert.equal(!!p.review, !!t.review, `${k}: review flag`);
          t.decision = p;
        }
        for (const k of ['tara', 'theo', 'nia']) {
          const c = ok(await coord.post(`/api/v1/decisions/${T[k].decision.id}/confirm`), 200, `confirm ${k}`);
          assert.equal(c.final_outcome, T[k].outcome);
        }
        // agree_within_one (docs/programs.md): raters more than one level apart -> the lower level, flagged.
        const b = T.nia.decision.basis?.competencies?.['L2T-PRO-MENTOR'];
        assert.ok(b, `no mentor entry in Nia's basis: ${JSON.stringify(T.nia.decision.basis)}`);
        assert.equal(b.flagged, true, `mentor: ${JSON.stringify(b)}`);
        assert.equal(b.level, 1, `the rule proposes on the lower level: ${JSON.stringify(b)}`);
        assert.ok(T.nia.decision.basis.flagged.includes('L2T-PRO-MENTOR'));
        const rec = ok(await T.tara.api.get(`/api/v1/enrolments/${T.tara.enrolment}/record`), 200, 'tara record');
        assert.ok(rec.decisions.some((d) => d.status === 'confirmed' && d.final_outcome === 'lead'));
        assert.equal(rec.observations.filter((o) => o.rater_role === 'self').length, 2);
        assert.equal(rec.observations.filter((o) => o.rater_role !== 'self').length, 2);
      });

      test('the enrolment view shows the same reconciled level the rule decided on', async () => {
        const e = ok(await T.nia.api.get(`/api/v1/enrolments/${T.nia.enrolment}`), 200, 'nia');
        const mentor = e.ratings.find((r) => r.competency === 'L2T-PRO-MENTOR');
        assert.ok(mentor?.flags?.includes('review'), `mentor rated 4 by the Lead and 1 by Nia is flagged: ${JSON.stringify(mentor)}`);
        assert.equal(mentor.level, T.nia.decision.basis.competencies['L2T-PRO-MENTOR'].level,
          `GET /enrolments/{id} ratings and the decision basis disagree under agree_within_one: ${JSON.stringify(mentor)} vs basis ${JSON.stringify(T.nia.decision.basis.competencies['L2T-PRO-MENTOR'])}`);
        assert.equal(mentor.proficient, false, 'level 1 is not proficient');
      });

      test('the newly certified Lead may now assess (train-the-assessor)', async () => {
        const taraAssessor = await launch('instructor', 'l2-tara', 'Tara Trainee', module1);
        const id = ok(await taraAssessor.post('/api/v1/observations', { enrolment_id: T.theo.enrolment, checklist: 'co-teach-module', session_key: 'theo-module-3' }), 201, 'tara observes theo').id;
        ok(await taraAssessor.put(`/api/v1/observations/${id}`, {
          answers: answers(T.theo.assessor, T.theo.assessorDefault),
          feedback: { went_well: 'Good.', to_develop: 'More.' },
        }), 200, 'autosave');
        ok(await taraAssessor.post(`/api/v1/observations/${id}/submit`), 200, 'a confirmed Lead submits');
      });

      test('the audit log of all of this verifies', async () => {
        const r = await stack.attest(['audit', 'verify']);
        assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
        assert.match(r.stdout, /audit log intact: \d+ entries/);
      });
    });
  });
}
