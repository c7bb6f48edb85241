// moodle.mjs: an emulated Moodle web service server (REST protocol, JSON format) with the
// competency functions Attest calls, written from Moodle's sources (competency/classes/
// external.php, api.php, competency.php, competency_framework.php, lib/external,
// webservice/rest/locallib.php): the same function and parameter names (PHP-style array
// parameters), parameter validation, capabilities checked per token, errors as HTTP 200
// with {"exception","errorcode","message"}, and Moodle's data model (frameworks,
// competencies with path/sortorder/parentid and rules, course competencies, per-course
// user competencies with grade/proficiency, an append-only evidence log).
//
//   const m = await startMoodle({ tokens: { T: { userid: 2, caps: ALL_CAPS } } });
//   m.url  -> http://127.0.0.1:PORT   (POST m.url + '/webservice/rest/server.php')
//   m.state, m.addCourse(id), m.enrol(courseid, userid, { gradable }), m.fault({...}), m.down(ms)
// Faults (per function or any): {status (+ retryAfter)}, {drop}, {errorcode, message},
// {timeout, process, delayMs} (never answered; or carried out and answered too late).
//   await m.close()
import http from 'node:http';

export const CAPS = {
  view: 'moodle/competency:competencyview',
  manage: 'moodle/competency:competencymanage',
  courseManage: 'moodle/competency:coursecompetencymanage',
  courseView: 'moodle/competency:coursecompetencyview',
  grade: 'moodle/competency:competencygrade',
  userView: 'moodle/competency:usercompetencyview',
  rest: 'webservice/rest:use',
};
export const ALL_CAPS = Object.values(CAPS);

class MoodleError extends Error {
  constructor(exception, errorcode, message, debuginfo) {
    super(message);
    this.exception = exception;
    this.errorcode = errorcode;
    this.debuginfo = debuginfo;
  }
}
const invalidParam = (debuginfo) =>
  new MoodleError('invalid_parameter_exception', 'invalidparameter', 'Invalid parameter value detected', debuginfo);
const missingRecord = (table) =>
  new MoodleError('dml_missing_record_exception', 'invalidrecord', `Can't find data record in database table ${table}.`);
const codingError = (msg) =>
  new MoodleError('coding_exception', 'codingerror', `Coding error detected, it must be fixed by a programmer: ${msg}`);
const invalidPersistent = (errors) =>
  new MoodleError('core\\invalid_persistent_exception', 'invalidpersistent', 'Invalid persistent', errors.join(', '));
const noPermission = (cap, what) =>
  new MoodleError('required_capability_exception', 'nopermissions',
    `Sorry, but you do not currently have permissions to do that (${what}).`, cap);

// ---- PHP-style parameters: a[b][0][c]=v -> {a:{b:{0:{c:v}}}} ----
export function parsePhpParams(search) {
  const out = {};
  for (const [k, v] of search) {
    const m = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(k);
    if (!m) continue;
    const keys = [m[1], ...[...m[2].matchAll(/\[([^[\]]*)\]/g)].map((x) => x[1])];
    let o = out;
    keys.forEach((key, i) => {
      if (key === '') key = String(Object.keys(o).length);
      if (i === keys.length - 1) o[key] = v;
      else o = (o[key] && typeof o[key] === 'object') ? o[key] : (o[key] = {});
    });
  }
  return out;
}

// ---- parameter descriptions (external_value / single / multiple structures) ----
const V = (type, req = 'required', def) => ({ kind: 'value', type, req, def });
const S = (keys, req = 'required') => ({ kind: 'single', keys, req });
const M = (content, req = 'required') => ({ kind: 'multiple', content, req });
const OPT = 'optional';
const DEF = 'default';

function cleanValue(type, v, path) {
  const s = String(v);
  switch (type) {
    case 'int':
      if (!/^-?\d+$/.test(s.trim())) throw invalidParam(`${path} => Invalid parameter value detected (Invalid external api parameter: the value is "${s}", the server was expecting "int" type)`);
      return parseInt(s, 10);
    case 'bool':
      if (!/^(0|1|true|false)$/i.test(s)) throw invalidParam(`${path} => Invalid parameter value detected (Invalid external api parameter: the value is "${s}", the server was expecting "bool" type)`);
      return /^(1|true)$/i.test(s);
    case 'alpha': return s.replace(/[^a-zA-Z]/g, '');
    case 'alphanumext': return s.replace(/[^a-zA-Z0-9_-]/g, '');
    case 'notags': return s.replace(/<[^>]*>/g, '');
    case 'text': return s.replace(/<[^>]*>/g, '');
    default: return s;	// raw
  }
}

function validate(desc, value, path) {
  if (desc.kind === 'value') {
    if (value !== null && typeof value === 'object') throw invalidParam(`${path} => Invalid parameter value detected (Scalar type expected, array or object received.)`);
    return cleanValue(desc.type, value, path);
  }
  if (desc.kind === 'single') {
    if (value === null || typeof value !== 'object') throw invalidParam(`${path} => Invalid parameter value detected (Only arrays accepted. The bad value is: '${value}')`);
    const out = {};
    for (const [k, d] of Object.entries(desc.keys)) {
      if (!(k in value)) {
        if (d.req === 'required') throw invalidParam(`${path ? path + ' => ' : ''}Invalid parameter value detected (Missing required key in single structure: ${k})`);
        if (d.req === DEF) out[k] = d.kind === 'value' ? d.def : (d.kind === 'multiple' ? [] : {});
        continue;
      }
      out[k] = validate(d, value[k], path ? `${path} => ${k}` : k);
    }
    const extra = Object.keys(value).filter((k) => !(k in desc.keys));
    if (extra.length) throw invalidParam(`Unexpected keys (${extra.join(', ')}) detected in parameter array.`);
    return out;
  }
  // multiple: an object with numeric keys
  if (value === null || typeof value !== 'object') throw invalidParam(`${path} => Invalid parameter value detected (Only arrays accepted. The bad value is: '${value}')`);
  return Object.keys(value).map((k) => validate(desc.content, value[k], path));
}

const contextParams = { contextid: V('int', OPT), contextlevel: V('alpha', OPT), instanceid: V('int', OPT) };
const frameworkCreate = S({
  shortname: V('text'), idnumber: V('raw'), description: V('raw', DEF, ''), descriptionformat: V('int', DEF, 1),
  visible: V('bool', DEF, true), scaleid: V('int'), scaleconfiguration: V('raw'), ...contextParams,
  taxonomies: V('raw', DEF, ''), timecreated: V('int', DEF, 0), timemodified: V('int', DEF, 0), usermodified: V('int', DEF, 0),
});
const competencyFields = {
  shortname: V('text'), idnumber: V('raw'), description: V('raw', DEF, ''), descriptionformat: V('int', DEF, 1),
  sortorder: V('int', DEF, null), parentid: V('int', DEF, 0), path: V('raw', DEF, '/0/'), ruleoutcome: V('int', DEF, 0),
  ruletype: V('raw', DEF, null), ruleconfig: V('raw', DEF, null), scaleid: V('int', DEF, null), scaleconfiguration: V('raw', DEF, null),
  competencyframeworkid: V('int', DEF, 0), timecreated: V('int', DEF, 0), timemodified: V('int', DEF, 0), usermodified: V('int', DEF, 0),
};
const competencyUpdate = S(Object.fromEntries([['id', V('int')], ...Object.entries(competencyFields).map(([k, d]) => [k, { ...d, req: OPT }])]));

const FUNCTIONS = {
  core_competency_get_scale_values: { scaleid: V('int') },
  core_competency_list_competency_frameworks: {
    sort: V('alphanumext', DEF, 'shortname'), order: V('alpha', DEF, ''), skip: V('int', DEF, 0), limit: V('int', DEF, 0),
    context: S(contextParams), includes: V('alpha', DEF, 'children'), onlyvisible: V('bool', DEF, false), query: V('raw', DEF, ''),
  },
  core_competency_create_competency_framework: { competencyframework: frameworkCreate },
  core_competency_read_competency_framework: { id: V('int') },
  core_competency_create_competency: { competency: S(competencyFields) },
  core_competency_update_competency: { competency: competencyUpdate },
  core_competency_read_competency: { id: V('int') },
  core_competency_list_competencies: {
    filters: M(S({ column: V('alphanumext'), value: V('text') })), sort: V('alphanumext', DEF, ''), order: V('alpha', DEF, ''),
    skip: V('int', DEF, 0), limit: V('int', DEF, 0),
  },
  core_competency_add_competency_to_course: { courseid: V('int'), competencyid: V('int') },
  core_competency_list_course_competencies: { id: V('int') },
  core_competency_grade_competency_in_course: {
    courseid: V('int'), userid: V('int'), competencyid: V('int'), grade: V('int'), note: V('notags', DEF, null),
  },
  tool_lp_data_for_user_competency_summary_in_course: { userid: V('int'), competencyid: V('int'), courseid: V('int') },
  core_webservice_get_site_info: {},
};

const SYSTEM_CONTEXT = 1;
const RULES = ['core_competency\\competency_rule_all', 'core_competency\\competency_rule_points'];

export function createMoodle(opts = {}) {
  const now = () => Math.floor(Date.now() / 1000);
  const st = {
    enabled: opts.enabled ?? true,
    tokens: new Map(Object.entries(opts.tokens || {})),
    scales: new Map(Object.entries(opts.scales || {
      1: ['Disagrees with the statement', 'Neither agrees nor disagrees', 'Agrees with the statement'],
      2: ['Not yet competent', 'Competent'],
    }).map(([k, v]) => [Number(k), v])),
    courses: new Map(),	// id -> Map(userid -> {gradable})
    frameworks: [], competencies: [], coursecomps: [], ucc: [], evidence: [],
    seq: { fw: 0, comp: 0, cc: 0, ucc: 0, ev: 0 },
    calls: [],	// [{fn, params}] for tests
    requests: [],	// every request: {fn, at, fault}
    faults: [],	// [{fn?, count, errorcode? | status? (+ retryAfter) | drop? | timeout? (+ process, delayMs)}]
    downUntil: 0,	// every request dropped until then (down(ms))
  };
  for (const c of opts.courses || []) st.courses.set(Number(c), new Map());

  const cap = (tok, c, what) => { if (!tok.caps.includes(c)) throw noPermission(c, what); };
  const fwById = (id) => { const f = st.frameworks.find((x) => x.id === id); if (!f) throw missingRecord('competency_framework'); return f; };
  const compById = (id) => { const c = st.competencies.find((x) => x.id === id); if (!c) throw missingRecord('competency'); return c; };
  const courseById = (id) => { const c = st.courses.get(id); if (!c) throw missingRecord('course'); return c; };
  const scaleOf = (comp) => {
    const f = fwById(comp.competencyframeworkid);
    return comp.scaleid ? { id: comp.scaleid, cfg: comp.scaleconfiguration } : { id: f.scaleid, cfg: f.scaleconfiguration };
  };

  const exportFramework = (f) => ({
    ...f, canmanage: true, competenciescount: st.competencies.filter((c) => c.competencyframeworkid === f.id).length,
    contextname: 'System', contextnamenoprefix: 'System',
  });
  const exportCompetency = (c) => ({ ...c });

  function validateScaleConfig(scaleid, cfg) {
    let arr;
    try { arr = JSON.parse(cfg); } catch { return false; }
    if (!Array.isArray(arr) || !arr.length || String(arr[0]?.scaleid) !== String(scaleid)) return false;
    const items = arr.slice(1);
    return items.some((x) => x.scaledefault) && items.some((x) => x.proficient);
  }

  function contextFrom(p) {
    if (p.contextid) { if (p.contextid !== SYSTEM_CONTEXT) throw invalidParam('Invalid context'); return SYSTEM_CONTEXT; }
    if (p.contextlevel && p.instanceid !== undefined) {
      if (p.contextlevel !== 'system') throw invalidParam(`Invalid context level = ${p.contextlevel}`);
      return SYSTEM_CONTEXT;
    }
    throw invalidParam('Missing parameters, please provide either context level with instance id or contextid');
  }

  function validateRule(comp) {
    if (comp.ruletype === null || comp.ruletype === undefined) return comp.ruleconfig === null || comp.ruleconfig === undefined;
    if (!RULES.includes(comp.ruletype)) return false;
    if (comp.ruletype === RULES[0]) return !comp.ruleconfig;
    let cfg;
    try { cfg = JSON.parse(comp.ruleconfig); } catch { return false; }
    const children = st.competencies.filter((c) => c.parentid === comp.id).map((c) => c.id);
    const comps = cfg?.competencies;
    if (!cfg?.base?.points || !Array.isArray(comps) || !comps.length) return false;
    let total = 0;
    for (const e of comps) {
      if (!children.includes(Number(e.id))) return false;
      total += Number(e.points);
    }
    return cfg.base.points <= total;
  }

  const impl = {
    core_webservice_get_site_info: (tok) => ({ sitename: 'Emulated Moodle', userid: tok.userid, release: '4.4 (emulated)', functions: [] }),

    core_competency_get_scale_values: (tok, p) => {
      cap(tok, CAPS.manage, 'Manage competency frameworks');
      const s = st.scales.get(p.scaleid);
      if (!s) throw missingRecord('scale');
      return s.map((name, i) => ({ id: i + 1, name }));
    },

    core_competency_list_competency_frameworks: (tok, p) => {
      contextFrom(p.context);
      if (!tok.caps.includes(CAPS.view) && !tok.caps.includes(CAPS.manage)) throw noPermission(CAPS.view, 'View competency frameworks');
      if (p.order !== '' && p.order !== 'ASC' && p.order !== 'DESC') throw invalidParam('Invalid order param. Must be ASC, DESC or empty.');
      let list = st.frameworks.filter((f) => !p.onlyvisible || f.visible);
      if (p.query) list = list.filter((f) => f.shortname.includes(p.query) || f.idnumber.includes(p.query));
      list.sort((a, b) => String(a[p.sort] ?? '').localeCompare(String(b[p.sort] ?? '')) * (p.order === 'DESC' ? -1 : 1));
      list = list.slice(p.skip, p.limit ? p.skip + p.limit : undefined);
      return list.map(exportFramework);
    },

    core_competency_create_competency_framework: (tok, p) => {
      const r = p.competencyframework;
      const contextid = contextFrom(r);
      cap(tok, CAPS.manage, 'Manage competency frameworks');
      const errors = [];
      if (st.frameworks.some((f) => f.idnumber === r.idnumber)) errors.push('idnumber: This ID number is already taken');
      if (!st.scales.has(r.scaleid)) errors.push('scaleid: Invalid scale ID');
      else if (!validateScaleConfig(r.scaleid, r.scaleconfiguration)) errors.push('scaleconfiguration: The scale configuration is invalid');
      for (const t of String(r.taxonomies || '').split(',')) {
        if (t && !['behaviour', 'competency', 'concept', 'domain', 'indicator', 'level', 'outcome', 'practice', 'proficiency', 'skill', 'value'].includes(t)) errors.push(`taxonomies: Invalid taxonomy: ${t}`);
      }
      if (errors.length) throw invalidPersistent(errors);
      const f = {
        id: ++st.seq.fw, shortname: r.shortname, idnumber: r.idnumber, description: r.description,
        descriptionformat: r.descriptionformat, visible: r.visible, scaleid: r.scaleid, scaleconfiguration: r.scaleconfiguration,
        contextid, taxonomies: r.taxonomies, timecreated: now(), timemodified: now(), usermodified: tok.userid,
      };
      st.frameworks.push(f);
      return exportFramework(f);
    },

    core_competency_read_competency_framework: (tok, p) => {
      cap(tok, CAPS.view, 'View competency frameworks');
      return exportFramework(fwById(p.id));
    },

    core_competency_create_competency: (tok, p) => {
      const r = p.competency;
      const f = fwById(r.competencyframeworkid);
      cap(tok, CAPS.manage, 'Manage competency frameworks');
      const errors = [];
      let path = '/0/';
      if (r.parentid) {
        const parent = st.competencies.find((c) => c.id === r.parentid);
        if (!parent || parent.competencyframeworkid !== f.id) errors.push('parentid: Invalid data');
        else path = `${parent.path}${parent.id}/`;
      }
      if (st.competencies.some((c) => c.competencyframeworkid === f.id && c.idnumber === r.idnumber)) errors.push('idnumber: This ID number is already taken');
      if (r.ruletype !== null && !RULES.includes(r.ruletype)) errors.push('ruletype: Invalid data');
      if (errors.length) throw invalidPersistent(errors);
      const c = {
        id: ++st.seq.comp, shortname: r.shortname, idnumber: r.idnumber, description: r.description,
        descriptionformat: r.descriptionformat, parentid: r.parentid, path,
        sortorder: st.competencies.filter((x) => x.competencyframeworkid === f.id && x.parentid === r.parentid).length,
        ruleoutcome: r.ruleoutcome, ruletype: r.ruletype, ruleconfig: r.ruleconfig, scaleid: r.scaleid,
        scaleconfiguration: r.scaleconfiguration, competencyframeworkid: f.id, timecreated: now(), timemodified: now(), usermodified: tok.userid,
      };
      if (r.ruletype === RULES[1]) throw invalidPersistent(['ruleconfig: Invalid data']);	// no children yet
      st.competencies.push(c);
      return exportCompetency(c);
    },

    core_competency_update_competency: (tok, p) => {
      const r = p.competency;
      const c = compById(r.id);
      cap(tok, CAPS.manage, 'Manage competency frameworks');
      const next = { ...c };
      for (const [k, v] of Object.entries(r)) if (!['sortorder', 'parentid', 'competencyframeworkid', 'id'].includes(k)) next[k] = v;
      const errors = [];
      if (next.parentid && !next.path.endsWith(`/${next.parentid}/`)) errors.push('path: Invalid data');
      if (st.competencies.some((x) => x.id !== c.id && x.competencyframeworkid === c.competencyframeworkid && x.idnumber === next.idnumber)) errors.push('idnumber: This ID number is already taken');
      if (next.ruletype !== null && next.ruletype !== undefined && !RULES.includes(next.ruletype)) errors.push('ruletype: Invalid data');
      else if (!validateRule(next)) errors.push('ruleconfig: Invalid data');
      if (![0, 1, 2, 3].includes(next.ruleoutcome)) errors.push('ruleoutcome: Invalid data');
      if (errors.length) throw invalidPersistent(errors);
      Object.assign(c, next, { timemodified: now() });
      return true;
    },

    core_competency_read_competency: (tok, p) => {
      cap(tok, CAPS.view, 'View competency frameworks');
      return exportCompetency(compById(p.id));
    },

    core_competency_list_competencies: (tok, p) => {
      if (p.order !== '' && p.order !== 'ASC' && p.order !== 'DESC') throw invalidParam('Invalid order param. Must be ASC, DESC or empty.');
      const valid = ['id', 'shortname', 'description', 'sortorder', 'idnumber', 'parentid', 'competencyframeworkid'];
      const filters = {};
      for (const f of p.filters) {
        if (!valid.includes(f.column)) throw invalidParam('Filter column was invalid');
        filters[f.column] = f.value;
      }
      if (filters.competencyframeworkid !== undefined) fwById(Number(filters.competencyframeworkid));
      if (!tok.caps.includes(CAPS.view) && !tok.caps.includes(CAPS.manage)) throw noPermission(CAPS.view, 'View competency frameworks');
      let list = st.competencies.filter((c) => Object.entries(filters).every(([k, v]) => String(c[k]) === String(v)));
      if (p.sort) list.sort((a, b) => String(a[p.sort]).localeCompare(String(b[p.sort])) * (p.order === 'DESC' ? -1 : 1));
      list = list.slice(p.skip, p.limit ? p.skip + p.limit : undefined);
      return list.map(exportCompetency);
    },

    core_competency_add_competency_to_course: (tok, p) => {
      courseById(p.courseid);
      cap(tok, CAPS.courseManage, 'Manage competencies in courses');
      const c = compById(p.competencyid);
      if (!fwById(c.competencyframeworkid).visible) throw codingError('A competency belonging to hidden framework can not be linked to course');
      if (st.coursecomps.some((x) => x.courseid === p.courseid && x.competencyid === c.id)) return false;
      st.coursecomps.push({
        id: ++st.seq.cc, courseid: p.courseid, competencyid: c.id, ruleoutcome: 1,
        sortorder: st.coursecomps.filter((x) => x.courseid === p.courseid).length, timecreated: now(), timemodified: now(), usermodified: tok.userid,
      });
      return true;
    },

    core_competency_list_course_competencies: (tok, p) => {
      courseById(p.id);
      cap(tok, CAPS.courseView, 'View course competencies');
      return st.coursecomps.filter((x) => x.courseid === p.id)
        .map((cc) => ({ competency: exportCompetency(compById(cc.competencyid)), coursecompetency: { ...cc } }));
    },

    core_competency_grade_competency_in_course: (tok, p) => {
      const course = courseById(p.courseid);
      if (!st.enabled) throw new MoodleError('moodle_exception', 'competenciesarenotenabled', 'Competencies are not enabled.');
      cap(tok, CAPS.userView, 'View user competencies');
      cap(tok, CAPS.grade, 'Set competency rating');
      const cc = st.coursecomps.find((x) => x.courseid === p.courseid && x.competencyid === p.competencyid);
      if (!cc) throw codingError(`The competency does not belong to this course: ${p.competencyid}, ${p.courseid}`);
      const comp = compById(p.competencyid);
      if (!tok.caps.includes(CAPS.view) && !tok.caps.includes(CAPS.manage)) throw noPermission(CAPS.view, 'View competency frameworks');
      if (!course.get(p.userid)?.gradable) throw codingError('The competency may not be rated at this time.');
      const sc = scaleOf(comp);
      const items = st.scales.get(sc.id) || [];
      if (p.grade < 1 || p.grade > items.length) throw codingError(`The grade ${p.grade} is not valid for scale ${sc.id}`);
      const cfg = JSON.parse(sc.cfg).slice(1);
      const proficient = cfg.some((x) => Number(x.id) === p.grade && x.proficient) ? 1 : 0;
      let u = st.ucc.find((x) => x.userid === p.userid && x.courseid === p.courseid && x.competencyid === comp.id);
      if (!u) {
        u = { id: ++st.seq.ucc, userid: p.userid, courseid: p.courseid, competencyid: comp.id, timecreated: now(), usermodified: tok.userid };
        st.ucc.push(u);
      }
      Object.assign(u, { grade: p.grade, proficiency: proficient, timemodified: now() });
      const ev = {
        id: ++st.seq.ev, usercompetencyid: u.id, contextid: 1000 + p.courseid, action: 3, actionuserid: tok.userid,
        descidentifier: 'evidence_manualoverrideincourse', desccomponent: 'core_competency', desca: JSON.stringify(`Course ${p.courseid}`),
        url: null, grade: p.grade, note: p.note, timecreated: now(), timemodified: now(), usermodified: tok.userid,
        userid: p.userid, competencyid: comp.id, courseid: p.courseid,
      };
      st.evidence.push(ev);
      return {
        ...ev, actionuser: { id: tok.userid, fullname: 'Web service user' }, description: `The rating was manually set in the course 'Course ${p.courseid}'.`,
        gradename: items[p.grade - 1], userdate: new Date(ev.timecreated * 1000).toUTCString(), candelete: false,
      };
    },

    tool_lp_data_for_user_competency_summary_in_course: (tok, p) => {
      courseById(p.courseid);
      cap(tok, CAPS.courseView, 'View course competencies');
      cap(tok, CAPS.userView, 'View user competencies');
      const comp = compById(p.competencyid);
      if (!st.coursecomps.some((x) => x.courseid === p.courseid && x.competencyid === comp.id)) {
        throw codingError(`The competency does not belong to this course: ${comp.id}, ${p.courseid}`);
      }
      const sc = scaleOf(comp);
      const items = st.scales.get(sc.id) || [];
      const u = st.ucc.find((x) => x.userid === p.userid && x.courseid === p.courseid && x.competencyid === comp.id) ||
        { id: 0, userid: p.userid, courseid: p.courseid, competencyid: comp.id, grade: null, proficiency: null };
      const evidence = st.evidence.filter((e) => e.userid === p.userid && e.competencyid === comp.id)
        .sort((a, b) => b.id - a.id)
        .map((e) => ({ ...e, gradename: e.grade ? items[e.grade - 1] : '-', actionuser: { id: e.actionuserid } }));
      return {
        usercompetencysummary: {
          showrelatedcompetencies: true, cangrade: tok.caps.includes(CAPS.grade),
          competency: { competency: exportCompetency(comp), framework: exportFramework(fwById(comp.competencyframeworkid)) },
          user: { id: p.userid },
          usercompetencycourse: { ...u, gradename: u.grade ? items[u.grade - 1] : '-', proficiencyname: u.proficiency ? 'Yes' : 'No' },
          evidence,
        },
        course: { id: p.courseid }, coursemodules: [], plans: [], pluginbaseurl: '/admin/tool/lp',
      };
    },
  };

  function dispatch(params) {
    const token = params.wstoken;
    const fn = params.wsfunction;
    delete params.wstoken;
    delete params.wsfunction;
    delete params.moodlewsrestformat;
    const tok = token ? st.tokens.get(token) : undefined;
    if (!tok) throw new MoodleError('moodle_exception', 'invalidtoken', 'Invalid token - token not found');
    if (!tok.caps.includes(CAPS.rest)) {
      throw new MoodleError('webservice_access_exception', 'accessexception', 'Access control exception',
        'You are not allowed to use the {$a} protocol (missing capability: webservice/rest:use)');
    }
    if (!fn || !FUNCTIONS[fn]) throw missingRecord('external_functions');
    if (tok.functions && !tok.functions.includes(fn)) {
      throw new MoodleError('webservice_access_exception', 'accessexception', 'Access control exception',
        `Access to the function ${fn}() is not allowed. There could be multiple reasons for this: 1. The service linked to the user token does not contain the function.`);
    }
    const p = validate(S(FUNCTIONS[fn]), params, '');
    if (!st.enabled && fn.startsWith('core_competency')) {
      throw new MoodleError('moodle_exception', 'competenciesarenotenabled', 'Competencies are not enabled.');
    }
    st.calls.push({ fn, params: p });
    return impl[fn](tok, p);
  }

  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url, 'http://x');
      if (url.pathname !== '/webservice/rest/server.php') {
        res.writeHead(404, { 'Content-Type': 'text/html' });
        res.end('<h1>Not found</h1>');
        return;
      }
      const all = new URLSearchParams(url.search);
      const body = Buffer.concat(chunks).toString('utf8');
      if (body && /x-www-form-urlencoded/.test(req.headers['content-type'] || '')) {
        for (const [k, v] of new URLSearchParams(body)) all.append(k, v);
      }
      const params = parsePhpParams(all);
      const logged = { fn: params.wsfunction, at: Date.now(), fault: null };
      st.requests.push(logged);
      if (Date.now() < st.downUntil) { logged.fault = 'down'; req.socket.destroy(); return; }
      const fault = st.faults.find((f) => f.count > 0 && (!f.fn || f.fn === params.wsfunction));
      let late = 0;
      if (fault) {
        fault.count--;
        fault.hits = (fault.hits || 0) + 1;
        fault.hitAt = Date.now();
        logged.fault = fault.timeout ? 'timeout' : fault.status || (fault.drop ? 'drop' : fault.errorcode);
      }
      if (fault && fault.timeout) {
        // no answer within the client's time: {timeout: true, process: false} never answers and
        // does nothing; process: true carries the call out and answers after delayMs
        if (!fault.process) return;
        late = fault.delayMs ?? 5000;
      } else if (fault) {
        if (fault.status) {
          const h = { 'Content-Type': 'text/html' };
          if (fault.retryAfter !== undefined) h['Retry-After'] = String(fault.retryAfter);
          res.writeHead(fault.status, h);
          res.end('<h1>Server error</h1>');
          return;
        }
        if (fault.drop) { req.socket.destroy(); return; }
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ exception: 'moodle_exception', errorcode: fault.errorcode, message: fault.message || fault.errorcode }));
        return;
      }
      let out;
      try {
        out = JSON.stringify(dispatch(params));
      } catch (e) {
        if (!(e instanceof MoodleError)) throw e;
        const err = { exception: e.exception, errorcode: e.errorcode, message: e.message };
        if (opts.debug && e.debuginfo) err.debuginfo = e.debuginfo;
        out = JSON.stringify(err);
      }
      const answer = () => {
        if (req.socket.destroyed) return;
        res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'private, must-revalidate, pre-check=0, post-check=0, max-age=0' });
        res.end(out);
      };
      if (late) setTimeout(answer, late); else answer();
    });
  });

  return {
    server, state: st,
    addCourse(id) { if (!st.courses.has(id)) st.courses.set(id, new Map()); },
    enrol(courseid, userid, { gradable = true } = {}) { this.addCourse(courseid); st.courses.get(courseid).set(userid, { gradable }); },
    fault(f) { const x = { count: 1, hits: 0, ...f }; st.faults.push(x); return x; },
    /** Every request is dropped (connection closed, no answer) for ms milliseconds. */
    down(ms) { st.downUntil = Date.now() + ms; },
  };
}

export async function startMoodle(opts = {}) {
  const m = createMoodle(opts);
  await new Promise((resolve) => m.server.listen(opts.port || 0, '127.0.0.1', resolve));
  m.url = `http://127.0.0.1:${m.server.address().port}`;
  m.close = () => new Promise((resolve) => { m.server.closeAllConnections?.(); m.server.close(() => resolve()); });
  return m;
}

// Run alone: node tests/lms/moodle.mjs [port] (token "moodle-token", all capabilities, course 2)
if (import.meta.url === `file://${process.argv[1]}`) {
  const m = await startMoodle({ port: Number(process.argv[2] || 0), tokens: { 'moodle-token': { userid: 2, caps: ALL_CAPS } }, courses: [2], debug: true });
  console.log(`moodle emulator on ${m.url}`);
}
