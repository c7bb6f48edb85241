// canvas.mjs: an emulated Canvas REST API for outcomes, written from Canvas's controllers
// (outcome_groups_api_controller.rb, outcomes_api_controller.rb, rubrics_controller.rb,
// submissions_api_controller.rb, outcome_results_controller.rb): the same paths and
// parameters (JSON bodies or Rails-style form parameters), the same answers (OutcomeGroup,
// OutcomeLink, {rubric, rubric_association}, Submission, {outcome_results}), pagination
// with Link headers (per_page, default 10, at most 100), Canvas's error shapes
// ({"errors":[{"message"}]} with 401/404, {"message"} with 400) and fault injection
// (500, timeouts, 429 with Retry-After, 403 "Rate Limit Exceeded", dropped connections;
// 'slow': carried out but answered after delayMs; down(ms): everything dropped for a while).
// st.requests logs every request ({method, path, at, fault, status}).
//
//   const cv = await startCanvas({ tokens: { T: { userid: 1 } } });
//   cv.addCourse(5, { students: [7], assignments: [9] });
//   cv.fault({ mode: '500', count: 2, path: /submissions/ });
import http from 'node:http';
import { parsePhpParams } from './moodle.mjs';

export const PERMS = ['read_outcomes', 'manage_outcomes', 'manage_rubrics', 'manage_grades', 'view_all_grades'];

class ApiError extends Error {
  constructor(status, body, headers = {}) { super(String(status)); this.status = status; this.body = body; this.headers = headers; }
}
const notFound = () => new ApiError(404, { errors: [{ message: 'The specified resource does not exist.' }] });
const unauthorized = () => new ApiError(401, { status: 'unauthorized', errors: [{ message: 'user not authorized to perform that action' }] });
const badRequest = (body) => new ApiError(400, body);

// Rails-ish params: nested objects whose keys are all digits become arrays where Canvas
// iterates them as arrays ("ratings[][points]"); rubric criteria stay indexed hashes.
const values = (o) => (o && typeof o === 'object' ? (Array.isArray(o) ? o : Object.keys(o).sort((a, b) => a - b).map((k) => o[k])) : []);

export function createCanvas(opts = {}) {
  const st = {
    tokens: new Map(Object.entries(opts.tokens || {})),
    courses: new Map(), groups: [], outcomes: [], links: [], rubrics: [], associations: [],
    submissions: new Map(), results: [], assessments: [],
    seq: 100, requests: [], faults: [], downUntil: 0,
  };
  const next = () => ++st.seq;

  function addCourse(id, { students = [], assignments = [] } = {}) {
    let c = st.courses.get(id);
    if (!c) {
      const root = { id: next(), context_id: id, context_type: 'Course', parent: null, title: `Course ${id}`, description: '', vendor_guid: null, workflow_state: 'active' };
      st.groups.push(root);
      c = { id, root: root.id, students: new Set(), assignments: new Map() };
      st.courses.set(id, c);
    }
    for (const s of students) c.students.add(Number(s));
    for (const a of assignments) if (!c.assignments.has(Number(a))) c.assignments.set(Number(a), { id: Number(a), rubric_association: null });
    return c;
  }
  for (const c of opts.courses || []) addCourse(c.id, c);

  const groupJson = (g, style = 'full', base) => {
    const path = `/api/v1/courses/${g.context_id}/outcome_groups/${g.id}`;
    const j = {
      id: g.id, title: g.title, vendor_guid: g.vendor_guid, url: path, subgroups_url: `${path}/subgroups`,
      outcomes_url: `${path}/outcomes`, can_edit: true,
    };
    if (style === 'full') {
      Object.assign(j, { context_id: g.context_id, context_type: 'Course', description: g.description, import_url: `${path}/import` });
      if (g.parent) j.parent_outcome_group = groupJson(st.groups.find((x) => x.id === g.parent), 'abbrev', base);
    }
    return j;
  };
  const outcomeJson = (o, style = 'abbrev') => {
    const j = { id: o.id, url: `/api/v1/outcomes/${o.id}`, context_id: o.context_id, context_type: 'Course', title: o.title, display_name: o.display_name, can_edit: true };
    if (style === 'full') {
      Object.assign(j, {
        vendor_guid: o.vendor_guid, description: o.description, points_possible: o.points_possible, mastery_points: o.mastery_points,
        ratings: o.ratings, calculation_method: o.calculation_method, calculation_int: o.calculation_int, assessed: false,
      });
    }
    return j;
  };
  const linkJson = (l, style) => {
    const g = st.groups.find((x) => x.id === l.group);
    return {
      url: `/api/v1/courses/${g.context_id}/outcome_groups/${g.id}/outcomes/${l.outcome}`, context_id: g.context_id, context_type: 'Course',
      outcome_group: groupJson(g, 'abbrev'), outcome: outcomeJson(st.outcomes.find((o) => o.id === l.outcome), style), assessed: false, can_unlink: true,
    };
  };

  function paginate(req, url, list, res) {
    const perPage = Math.min(Math.max(parseInt(url.searchParams.get('per_page') || '10', 10) || 10, 1), 100);
    const page = Math.max(parseInt(url.searchParams.get('page') || '1', 10) || 1, 1);
    const last = Math.max(Math.ceil(list.length / perPage), 1);
    const link = (p, rel) => {
      const u = new URL(url);
      u.searchParams.set('page', String(p));
      u.searchParams.set('per_page', String(perPage));
      return `<${u.href}>; rel="${rel}"`;
    };
    const links = [link(page, 'current')];
    if (page < last) links.push(link(page + 1, 'next'));
    if (page > 1) links.push(link(page - 1, 'prev'));
    links.push(link(1, 'first'), link(last, 'last'));
    res.setHeader('Link', links.join(','));
    return list.slice((page - 1) * perPage, page * perPage);
  }

  function course(id, tok, perm) {
    const c = st.courses.get(Number(id));
    if (!c) throw notFound();
    if (perm && !(tok.perms || PERMS).includes(perm)) throw unauthorized();
    return c;
  }
  const group = (c, gid) => {
    const g = st.groups.find((x) => x.id === Number(gid) && x.context_id === c.id && x.workflow_state === 'active');
    if (!g) throw notFound();
    return g;
  };

  function createOutcome(c, g, p) {
    const errors = {};
    if (!p.title || !String(p.title).trim()) errors.title = [{ attribute: 'title', type: 'blank', message: "can't be blank" }];
    const methods = ['weighted_average', 'decaying_average', 'n_mastery', 'latest', 'highest', 'average'];
    if (p.calculation_method && !methods.includes(p.calculation_method)) {
      errors.calculation_method = [{ attribute: 'calculation_method', type: 'calculation_method', message: `${p.calculation_method} is not a valid calculation_method` }];
    }
    if (Object.keys(errors).length) throw badRequest({ errors });
    const ratings = values(p.ratings).map((r) => ({ description: r.description || 'No description', points: Number(r.points || 0) }))
      .sort((a, b) => b.points - a.points);
    const o = {
      id: next(), context_id: c.id, title: String(p.title), display_name: p.display_name || null, description: p.description || '',
      vendor_guid: p.vendor_guid || null, ratings, points_possible: ratings.length ? ratings[0].points : null,
      mastery_points: ratings.length ? Number(p.mastery_points ?? ratings[0].points) : null,
      calculation_method: p.calculation_method || 'decaying_average',
      calculation_int: ['weighted_average', 'decaying_average', 'n_mastery'].includes(p.calculation_method || 'decaying_average') ? Number(p.calculation_int || 65) : null,
    };
    st.outcomes.push(o);
    const l = { group: g.id, outcome: o.id };
    st.links.push(l);
    return linkJson(l, 'abbrev');
  }

  function createRubric(c, tok, p, base) {
    const ra = p.rubric_association || {};
    let assignment = null;
    if (ra.association_type === 'Assignment') {
      assignment = c.assignments.get(Number(ra.association_id));
      if (!assignment) throw notFound();
    }
    if (!(tok.perms || PERMS).includes('manage_rubrics')) throw unauthorized();
    const r = p.rubric || {};
    const used = new Set();
    const uid = (id, rid) => { let v = id; while (!v || used.has(v)) v = `${rid}_${Math.floor(Math.random() * 10000)}`; used.add(v); return v; };
    const rubric = { id: next(), title: r.title || `Course ${c.id} Rubric`, context_id: c.id, context_type: 'Course', free_form_criterion_comments: !!r.free_form_criterion_comments };
    const crit = [];
    for (const [idx, cd] of Object.entries(r.criteria || {})) {
      const cr = { description: (cd.description || 'No Description').trim(), long_description: cd.long_description || '', points: Number(cd.points || 0) };
      cr.id = uid(cd.id && String(cd.id).trim(), rubric.id);
      if (cd.learning_outcome_id) {
        const o = st.outcomes.find((x) => x.id === Number(cd.learning_outcome_id));
        if (o) {
          cr.learning_outcome_id = o.id;
          cr.long_description = o.description;
          cr.mastery_points = Number(cd.mastery_points ?? o.mastery_points);
          cr.ignore_for_scoring = cd.ignore_for_scoring === '1';
        }
      }
      cr.ratings = values(cd.ratings).map((rd) => ({ description: rd.description || 'No Description', points: Number(rd.points || 0), criterion_id: cr.id, id: uid(rd.id, rubric.id) }));
      crit[Number(idx)] = cr;
    }
    rubric.data = crit.filter(Boolean);
    rubric.points_possible = rubric.data.reduce((s, x) => s + (x.ignore_for_scoring ? 0 : x.points), 0);
    st.rubrics.push(rubric);
    const assoc = {
      id: next(), rubric_id: rubric.id, association_id: assignment ? assignment.id : c.id, association_type: ra.association_type || 'Course',
      use_for_grading: !!ra.use_for_grading && ra.use_for_grading !== 'false', purpose: ra.purpose || 'bookmark', hide_score_total: !!ra.hide_score_total,
      title: rubric.title, context_id: c.id, context_type: 'Course',
    };
    st.associations.push(assoc);
    if (assignment && assoc.purpose === 'grading') assignment.rubric_association = assoc.id;
    return { rubric: { ...rubric, criteria: rubric.data }, rubric_association: { ...assoc, assessment_requests: [] } };
  }

  function assess(c, tok, aid, uid, p) {
    if (!(tok.perms || PERMS).includes('manage_grades')) throw unauthorized();
    const a = c.assignments.get(Number(aid));
    if (!a) throw notFound();
    const user = Number(uid);
    if (!c.students.has(user)) throw notFound();
    const key = `${a.id}:${user}`;
    const sub = st.submissions.get(key) || { id: next(), assignment_id: a.id, user_id: user, workflow_state: 'unsubmitted', rubric_assessment: null };
    st.submissions.set(key, sub);
    const ra = p.rubric_assessment;
    if (ra && typeof ra === 'object' && a.rubric_association) {
      const assoc = st.associations.find((x) => x.id === a.rubric_association);
      const rubric = st.rubrics.find((x) => x.id === assoc.rubric_id);
      if (!Object.keys(ra).some((k) => rubric.data.some((cr) => cr.id === k))) throw badRequest({ message: 'invalid rubric_assessment' });
      const data = rubric.data.map((cr) => {
        const v = ra[cr.id] || {};
        const pts = v.points === undefined || v.points === null || v.points === '' ? null : Number(v.points);
        return { criterion_id: cr.id, points: pts, comments: v.comments || '', learning_outcome_id: cr.learning_outcome_id };
      });
      const when = new Date().toISOString();
      sub.rubric_assessment = Object.fromEntries(data.map((d) => [d.criterion_id, { points: d.points, comments: d.comments }]));
      st.assessments.push({ submission: sub.id, assessor: tok.userid, data, at: when });
      for (const d of data) {
        if (!d.learning_outcome_id) continue;
        const cr = rubric.data.find((x) => x.id === d.criterion_id);
        let r = st.results.find((x) => x.user === user && x.outcome === d.learning_outcome_id && x.alignment === `assignment_${a.id}`);
        if (d.points === null) {
          if (r) st.results.splice(st.results.indexOf(r), 1);
          continue;
        }
        if (!r) { r = { id: next(), user, outcome: d.learning_outcome_id, alignment: `assignment_${a.id}`, course: c.id }; st.results.push(r); }
        Object.assign(r, {
          score: d.points, possible: cr.points, mastery: d.points >= cr.mastery_points,
          percent: cr.points ? d.points / cr.points : 0, submitted_or_assessed_at: when,
        });
      }
    }
    return {
      id: sub.id, assignment_id: a.id, user_id: user, workflow_state: sub.rubric_assessment ? 'graded' : sub.workflow_state,
      grade: null, score: null, submission_comments: [], rubric_assessment: sub.rubric_assessment,
    };
  }

  function route(method, url, tok, p, res) {
    const parts = url.pathname.replace(/\.json$/, '').split('/').filter(Boolean);	// api v1 ...
    if (parts[0] !== 'api' || parts[1] !== 'v1') throw notFound();
    const r = parts.slice(2);
    if (r[0] === 'courses' && r.length >= 3) {
      const c = course(r[1], tok);
      if (r[2] === 'root_outcome_group' && r.length === 3 && method === 'GET') {
        course(r[1], tok, 'read_outcomes');
        throw new ApiError(302, null, { Location: `${url.origin}/api/v1/courses/${c.id}/outcome_groups/${c.root}` });
      }
      if (r[2] === 'outcome_groups') {
        if (r.length === 3 && method === 'GET') {
          course(r[1], tok, 'read_outcomes');
          return paginate(null, url, st.groups.filter((g) => g.context_id === c.id && g.workflow_state === 'active'), res).map((g) => groupJson(g));
        }
        const g = group(c, r[3]);
        if (r.length === 4 && method === 'GET') { course(r[1], tok, 'read_outcomes'); return groupJson(g); }
        if (r[4] === 'subgroups' && r.length === 5) {
          if (method === 'GET') {
            course(r[1], tok, 'read_outcomes');
            const subs = st.groups.filter((x) => x.parent === g.id && x.workflow_state === 'active').sort((a, b) => a.title.localeCompare(b.title));
            return paginate(null, url, subs, res).map((x) => groupJson(x, 'abbrev'));
          }
          if (method === 'POST') {
            course(r[1], tok, 'manage_outcomes');
            if (!p.title) throw badRequest('error');
            const ng = { id: next(), context_id: c.id, context_type: 'Course', parent: g.id, title: String(p.title), description: p.description || '', vendor_guid: p.vendor_guid || null, workflow_state: 'active' };
            st.groups.push(ng);
            return groupJson(ng);
          }
        }
        if (r[4] === 'outcomes' && r.length === 5) {
          if (method === 'GET') {
            course(r[1], tok, 'read_outcomes');
            const ls = st.links.filter((l) => l.group === g.id)
              .sort((a, b) => st.outcomes.find((o) => o.id === a.outcome).title.localeCompare(st.outcomes.find((o) => o.id === b.outcome).title));
            return paginate(null, url, ls, res).map((l) => linkJson(l, url.searchParams.get('outcome_style') || 'abbrev'));
          }
          if (method === 'POST') { course(r[1], tok, 'manage_outcomes'); return createOutcome(c, g, p); }
        }
      }
      if (r[2] === 'rubrics' && r.length === 3 && method === 'POST') return createRubric(c, tok, p);
      if (r[2] === 'assignments' && r[4] === 'submissions' && r.length === 6 && method === 'PUT') return assess(c, tok, r[3], r[5], p);
      if (r[2] === 'outcome_results' && r.length === 3 && method === 'GET') {
        course(r[1], tok, 'view_all_grades');
        const users = url.searchParams.getAll('user_ids[]').map(Number);
        const outs = url.searchParams.getAll('outcome_ids[]').map(Number);
        for (const u of users) if (!c.students.has(u)) throw badRequest({ errors: [{ message: 'users specified must be students in the context' }] });
        const linked = new Set(st.links.filter((l) => st.groups.find((g) => g.id === l.group).context_id === c.id).map((l) => l.outcome));
        for (const o of outs) if (!linked.has(o)) throw badRequest({ errors: [{ message: 'can only include id\'s of outcomes in the outcome context' }] });
        const list = st.results.filter((x) => x.course === c.id && (!users.length || users.includes(x.user)) && (!outs.length || outs.includes(x.outcome)))
          .sort((a, b) => a.id - b.id);
        return {
          outcome_results: paginate(null, url, list, res).map((x) => ({
            id: x.id, score: x.score, possible: x.possible, mastery: x.mastery, percent: x.percent, hide_points: false, hidden: false,
            submitted_or_assessed_at: x.submitted_or_assessed_at, links: { user: String(x.user), learning_outcome: String(x.outcome), alignment: x.alignment },
          })),
        };
      }
    }
    if (r[0] === 'outcomes' && r.length === 2 && method === 'GET') {
      const o = st.outcomes.find((x) => x.id === Number(r[1]));
      if (!o) throw notFound();
      return outcomeJson(o, 'full');
    }
    throw notFound();
  }

  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url, `http://${req.headers.host}`);
      const logged = { method: req.method, path: url.pathname + url.search, at: Date.now(), fault: null };
      st.requests.push(logged);
      if (Date.now() < st.downUntil) { logged.fault = 'down'; req.socket.destroy(); return; }
      const fault = st.faults.find((f) => f.count > 0 && (!f.path || f.path.test(url.pathname)) && (!f.method || f.method === req.method));
      let slow = 0;
      if (fault && fault.mode === 'slow') {
        // the request is carried out, the answer comes after delayMs (a client that gave up
        // earlier never sees it): "the LMS did it, the answer was lost"
        fault.count--;
        fault.hits = (fault.hits || 0) + 1;
        logged.fault = 'slow';
        slow = fault.delayMs ?? 5000;
      } else if (fault) {
        fault.count--;
        fault.hits = (fault.hits || 0) + 1;
        fault.hitAt = Date.now();
        logged.fault = fault.mode;
        if (fault.mode === 'timeout') return;	// never answer
        if (fault.mode === 'drop') { req.socket.destroy(); return; }
        if (fault.mode === '429') {
          res.writeHead(429, { 'Content-Type': 'application/json', 'Retry-After': String(fault.retryAfter ?? 1) });
          res.end(JSON.stringify({ errors: [{ message: 'Too Many Requests' }] }));
          return;
        }
        if (fault.mode === 'ratelimit') {
          res.writeHead(403, { 'Content-Type': 'text/plain' });
          res.end('403 Forbidden (Rate Limit Exceeded)\n');
          return;
        }
        res.writeHead(Number(fault.mode) || 500, { 'Content-Type': 'text/html' });
        res.end('<html><body>Internal Server Error</body></html>');
        return;
      }
      const send = (status, body, headers = {}) => {
        logged.status = status;
        const out = () => {
          if (req.socket.destroyed) return;
          res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', ...headers });
          res.end(body === null ? '' : JSON.stringify(body));
        };
        if (slow) setTimeout(out, slow); else out();
      };
      const auth = /^Bearer (.+)$/.exec(req.headers.authorization || '');
      const tok = auth ? st.tokens.get(auth[1]) : undefined;
      if (!tok) {
        send(401, { errors: [{ message: auth ? 'Invalid access token.' : 'user authorization required' }] }, { 'WWW-Authenticate': 'Bearer realm="canvas-lms"' });
        return;
      }
      const raw = Buffer.concat(chunks).toString('utf8');
      let p = {};
      try {
        if (/json/.test(req.headers['content-type'] || '') && raw) p = JSON.parse(raw);
        else if (raw) p = parsePhpParams(new URLSearchParams(raw));
      } catch {
        send(400, { errors: [{ message: 'invalid JSON' }] });
        return;
      }
      try {
        send(200, route(req.method, url, tok, p, res));
      } catch (e) {
        if (!(e instanceof ApiError)) throw e;
        send(e.status, e.body, e.headers);
      }
    });
  });

  return {
    server, state: st, addCourse,
    fault(f) { const x = { count: 1, hits: 0, ...f }; st.faults.push(x); return x; },
    /** Every request is dropped (connection closed, no answer) for ms milliseconds. */
    down(ms) { st.downUntil = Date.now() + ms; },
  };
}

export async function startCanvas(opts = {}) {
  const cv = createCanvas(opts);
  await new Promise((resolve) => cv.server.listen(opts.port || 0, '127.0.0.1', resolve));
  cv.url = `http://127.0.0.1:${cv.server.address().port}`;
  cv.close = () => new Promise((resolve) => { cv.server.closeAllConnections?.(); cv.server.close(() => resolve()); });
  return cv;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const cv = await startCanvas({ port: Number(process.argv[2] || 0), tokens: { 'canvas-token': { userid: 1 } } });
  cv.addCourse(5, { students: [7], assignments: [9] });
  console.log(`canvas emulator on ${cv.url}`);
}
