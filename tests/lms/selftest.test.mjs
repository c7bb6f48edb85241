// selftest.test.mjs: the Moodle and Canvas emulators answer as their originals do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startMoodle, ALL_CAPS, CAPS } from './moodle.mjs';
import { startCanvas } from './canvas.mjs';

async function ws(m, token, fn, params) {
  const body = new URLSearchParams({ wstoken: token, ...params });
  const r = await fetch(`${m.url}/webservice/rest/server.php?moodlewsrestformat=json&wsfunction=${fn}`, {
    method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body,
  });
  assert.equal(r.status, 200);
  return r.json();
}

test('moodle: framework, tree, course link, rating, read back, errors', async () => {
  const m = await startMoodle({ tokens: { T: { userid: 2, caps: ALL_CAPS }, RO: { userid: 3, caps: [CAPS.rest, CAPS.view] } }, courses: [2] });
  try {
    assert.equal((await ws(m, 'nope', 'core_competency_get_scale_values', { scaleid: 2 })).errorcode, 'invalidtoken');
    assert.deepEqual(await ws(m, 'T', 'core_competency_get_scale_values', { scaleid: 2 }),
      [{ id: 1, name: 'Not yet competent' }, { id: 2, name: 'Competent' }]);
    const cfg = JSON.stringify([{ scaleid: '2' }, { id: 1, scaledefault: 1, proficient: 0 }, { id: 2, scaledefault: 0, proficient: 1 }]);
    const fwp = { 'competencyframework[shortname]': 'F', 'competencyframework[idnumber]': 'F1', 'competencyframework[scaleid]': '2',
      'competencyframework[scaleconfiguration]': cfg, 'competencyframework[contextlevel]': 'system', 'competencyframework[instanceid]': '0' };
    assert.equal((await ws(m, 'RO', 'core_competency_create_competency_framework', fwp)).errorcode, 'nopermissions');
    const fw = await ws(m, 'T', 'core_competency_create_competency_framework', fwp);
    assert.equal(fw.idnumber, 'F1');
    assert.equal((await ws(m, 'T', 'core_competency_create_competency_framework', fwp)).errorcode, 'invalidpersistent');
    assert.equal((await ws(m, 'T', 'core_competency_create_competency_framework', { ...fwp, 'competencyframework[bogus]': 1 })).errorcode, 'invalidparameter');
    const a = await ws(m, 'T', 'core_competency_create_competency', { 'competency[shortname]': 'A', 'competency[idnumber]': 'A', 'competency[competencyframeworkid]': fw.id });
    const b = await ws(m, 'T', 'core_competency_create_competency', { 'competency[shortname]': 'B', 'competency[idnumber]': 'B', 'competency[competencyframeworkid]': fw.id, 'competency[parentid]': a.id });
    assert.equal(b.path, `/0/${a.id}/`);
    assert.equal(b.sortorder, 0);
    const ok = await ws(m, 'T', 'core_competency_update_competency', { 'competency[id]': a.id, 'competency[ruletype]': 'core_competency\\competency_rule_points',
      'competency[ruleoutcome]': 1, 'competency[ruleconfig]': JSON.stringify({ base: { points: 2 }, competencies: [{ id: b.id, points: 2, required: 1 }] }) });
    assert.equal(ok, true);
    const bad = await ws(m, 'T', 'core_competency_update_competency', { 'competency[id]': a.id, 'competency[ruleconfig]': JSON.stringify({ base: { points: 9 }, competencies: [{ id: b.id, points: 2, required: 1 }] }) });
    assert.equal(bad.errorcode, 'invalidpersistent');
    const list = await ws(m, 'T', 'core_competency_list_competencies', { 'filters[0][column]': 'idnumber', 'filters[0][value]': 'B' });
    assert.deepEqual(list.map((c) => c.id), [b.id]);
    m.enrol(2, 7, { gradable: true });
    m.enrol(2, 8, { gradable: false });
    const g = { courseid: 2, userid: 7, competencyid: b.id, grade: 2, note: '<b>Good</b> https://attest.test/e/1' };
    assert.match((await ws(m, 'T', 'core_competency_grade_competency_in_course', g)).message, /does not belong to this course/);
    assert.equal(await ws(m, 'T', 'core_competency_add_competency_to_course', { courseid: 2, competencyid: b.id }), true);
    assert.equal(await ws(m, 'T', 'core_competency_add_competency_to_course', { courseid: 2, competencyid: b.id }), false);
    assert.match((await ws(m, 'T', 'core_competency_grade_competency_in_course', { ...g, userid: 8 })).message, /may not be rated/);
    assert.equal((await ws(m, 'T', 'core_competency_grade_competency_in_course', { ...g, grade: 3 })).errorcode, 'codingerror');
    const ev = await ws(m, 'T', 'core_competency_grade_competency_in_course', g);
    assert.equal(ev.note, 'Good https://attest.test/e/1');
    const sum = await ws(m, 'T', 'tool_lp_data_for_user_competency_summary_in_course', { userid: 7, competencyid: b.id, courseid: 2 });
    assert.equal(sum.usercompetencysummary.usercompetencycourse.grade, 2);
    assert.equal(sum.usercompetencysummary.usercompetencycourse.proficiency, 1);
    assert.equal(sum.usercompetencysummary.evidence[0].note, 'Good https://attest.test/e/1');
  } finally { await m.close(); }
});

test('canvas: groups, outcomes, rubric, assessment, results, pagination, errors, faults', async () => {
  const cv = await startCanvas({ tokens: { T: { userid: 1 }, S: { userid: 2, perms: ['read_outcomes'] } } });
  cv.addCourse(5, { students: [7], assignments: [9] });
  const call = async (method, path, body, token = 'T') => {
    const r = await fetch(cv.url + path, { method, redirect: 'manual', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: body ? JSON.stringify(body) : undefined });
    return { status: r.status, headers: r.headers, body: r.status === 302 ? null : await r.json() };
  };
  try {
    assert.deepEqual((await call('GET', '/api/v1/courses/5/root_outcome_group', null, 'bad')).body, { errors: [{ message: 'Invalid access token.' }] });
    const root = await call('GET', '/api/v1/courses/5/root_outcome_group');
    assert.equal(root.status, 302);
    const gid = root.headers.get('location').split('/').pop();
    assert.equal((await call('POST', `/api/v1/courses/5/outcome_groups/${gid}/subgroups`, { title: 'X' }, 'S')).status, 401);
    assert.equal((await call('GET', '/api/v1/courses/6/outcome_groups')).status, 404);
    const sg = (await call('POST', `/api/v1/courses/5/outcome_groups/${gid}/subgroups`, { title: 'F', vendor_guid: 'F1' })).body;
    const ids = [];
    for (let i = 0; i < 12; i++) {
      const l = (await call('POST', `/api/v1/courses/5/outcome_groups/${sg.id}/outcomes`, { title: `O${String(i).padStart(2, '0')}`, vendor_guid: `C${i}`,
        mastery_points: 1, calculation_method: 'latest', ratings: [{ description: 'Competent', points: 1 }, { description: 'Not yet', points: 0 }] })).body;
      ids.push(l.outcome.id);
    }
    const p1 = await call('GET', `/api/v1/courses/5/outcome_groups/${sg.id}/outcomes?outcome_style=full`);
    assert.equal(p1.body.length, 10);
    assert.match(p1.headers.get('link'), /rel="next"/);
    assert.equal(p1.body[0].outcome.vendor_guid, 'C0');
    assert.equal((await call('POST', `/api/v1/courses/5/outcome_groups/${sg.id}/outcomes`, { title: '' })).status, 400);
    const rub = (await call('POST', '/api/v1/courses/5/rubrics', {
      rubric: { title: 'R', criteria: { 0: { description: 'O0', points: 1, learning_outcome_id: ids[0], ratings: { 0: { description: 'Competent', points: 1 }, 1: { description: 'Not yet', points: 0 } } } } },
      rubric_association: { association_type: 'Assignment', association_id: 9, purpose: 'grading' },
    })).body;
    const crit = rub.rubric.criteria[0].id;
    assert.equal((await call('PUT', '/api/v1/courses/5/assignments/9/submissions/7', { rubric_assessment: { nope: { points: 1 } } })).status, 400);
    assert.equal((await call('PUT', '/api/v1/courses/5/assignments/9/submissions/7', { rubric_assessment: { [crit]: { points: 1 } } })).status, 200);
    const res = (await call('GET', `/api/v1/courses/5/outcome_results?user_ids[]=7&outcome_ids[]=${ids[0]}`)).body;
    assert.equal(res.outcome_results.length, 1);
    assert.equal(res.outcome_results[0].score, 1);
    assert.equal(res.outcome_results[0].links.learning_outcome, String(ids[0]));
    cv.fault({ mode: '429', retryAfter: 3 });
    const t = await call('GET', '/api/v1/courses/5/outcome_groups');
    assert.equal(t.status, 429);
    assert.equal(t.headers.get('retry-after'), '3');
    cv.fault({ mode: 'drop' });
    await assert.rejects(fetch(`${cv.url}/api/v1/courses/5/outcome_groups`, { headers: { Authorization: 'Bearer T' } }));
  } finally { await cv.close(); }
});
