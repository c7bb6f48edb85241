// services.mjs: the LTI Advantage services of the platform emulator — AGS 2.0 line items,
// scores and results, NRPS 2.0 memberships with paging and differences, deep-linked links
// with their line items — and fault injection. Installed on Platform by platform.mjs.
//
// URL shapes follow the real platforms:
//   Moodle  {base}/mod/lti/services.php/{course}/lineitems?type_id={type}
//           {base}/mod/lti/services.php/{course}/lineitems/{id}/lineitem?type_id={type}
//           .../lineitem/scores?type_id=, .../lineitem/results?type_id=  (type_id required)
//           {base}/mod/lti/services.php/CourseSection/{course}/bindings/{type}/memberships
//   Canvas  {base}/api/lti/courses/{course}/line_items[/{id}[/scores|/results]]
//           {base}/api/lti/courses/{course}/names_and_roles
// Moodle quirks (mod/lti/service/gradebookservices/classes/local/resources/scores.php):
// timestamp, activityProgress and gradingProgress required (400); a score whose timestamp is
// not later than the stored one at one-second resolution is refused with 409; a score that
// is not FullyGraded clears the grade; a result carries the stored grade's "timestamp" (PHP
// date('c') in the server's time zone: p.moodleTzOffsetMin, default +60). Canvas
// (app/controllers/lti/ims/scores_controller.rb): a score whose timestamp is earlier than
// the result's (updated_at = the last score's timestamp) is refused with 400, an equal or
// later one is taken — again and again: each taken score is kept in the history
// (li.scores, with Canvas's submission "attempt", which grows with every new submission);
// the https://canvas.instructure.com/lti/submission extension is recorded with the score,
// and a result shows the last score's extension (results_serializer.rb merges it) but no
// timestamp.

import crypto from 'node:crypto';

const MT = {
  score: 'application/vnd.ims.lis.v1.score+json',
  lineitem: 'application/vnd.ims.lis.v2.lineitem+json',
  container: 'application/vnd.ims.lis.v2.lineitemcontainer+json',
  results: 'application/vnd.ims.lis.v2.resultcontainer+json',
  members: 'application/vnd.ims.lti-nrps.v2.membershipcontainer+json',
};
const SC = {
  lineitem: 'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem',
  lineitemReadonly: 'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly',
  resultReadonly: 'https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly',
  score: 'https://purl.imsglobal.org/spec/lti-ags/scope/score',
  nrps: 'https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly',
};
const CANVAS_SUBMISSION = 'https://canvas.instructure.com/lti/submission';

async function body(req, limit = 1 << 20) {
  const chunks = [];
  let size = 0;
  for await (const c of req) {
    size += c.length;
    if (size > limit) throw Object.assign(new Error('body too large'), { status: 413 });
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** State of the services; called from the Platform constructor. */
export function initServices(p) {
  p.lineItems = new Map();      // id -> {id, url, courseId, label, scoreMaximum, resourceId, tag, resourceLinkId, results: Map, scores: []}
  p.lineItemSeq = 100;
  p.scoreLog = [];              // every score POST: {at, lineItemId, url, contentType, body, status, error}
  p.serviceLog = [];            // every service request: {at, method, path, query, status, fault}
  p.placedLinks = new Map();    // link id -> {linkId, courseId, title, custom, lineItemId, assignmentId}
  p.assignmentSeq = 500;
  p.rosters = new Map();        // course -> {version, members: Map user_id -> member+{changedAt}}
  p.nrpsPageSize = 2;
  p.faults = [];                // see injectFault
  p.downUntil = 0;
  p.tokenDropScopes = [];       // scopes the token endpoint leaves out (a narrower grant)
  p.tokenAudCheck = true;
  p.moodleTzOffsetMin = 60;     // Moodle's result timestamps: date('c') in the server's zone
}

/** Methods mixed into Platform.prototype. */
export const serviceMethods = {
  /**
   * Make service requests (AGS, NRPS; token too with {token: true}) fail:
   * {kind: '500'|'429'|'timeout'|'drop', match: RegExp on path+query, times: N (default 1),
   *  retryAfter: seconds (429), delayMs: how long a 'timeout' holds the answer (default 5000),
   *  process: for 'timeout', still store the write (the LMS did it, the answer was lost),
   *  onStored: for 'timeout' and 'lose', called (and awaited) once the request was handled,
   *  before its answer would go out — e.g. to kill the worker right then}.
   * 'lose': the request is handled (a score is stored) and the connection is then closed
   * without an answer.
   */
  injectFault(f) {
    this.faults.push({ times: 1, delayMs: 5000, process: true, ...f, hits: 0 });
  },

  /** Every service request (token endpoint included) is dropped for ms milliseconds. */
  goDown(ms) { this.downUntil = Date.now() + ms; },

  /** An access token for scopes, as if a client had asked for it (for tests that call the services). */
  issueAccessToken(scopes) {
    const token = crypto.randomBytes(24).toString('base64url');
    this.accessTokens.set(token, { clientId: 'test', scopes, exp: Date.now() + 3600e3 });
    return token;
  },

  /** Forget every access token (the next service call with one answers 401). */
  revokeAccessTokens() { this.accessTokens.clear(); },

  /** Members of a course's roster ({user_id, name, given_name, family_name, email, roles, status}). */
  setRoster(courseId, members) {
    const r = this._roster(courseId);
    for (const m of members) this.updateRosterMember(courseId, m, r);
  },

  updateRosterMember(courseId, m, r = this._roster(courseId)) {
    r.version++;
    r.members.set(String(m.user_id), { status: 'Active', roles: [], ...m, user_id: String(m.user_id), changedAt: r.version });
  },

  _roster(courseId) {
    const k = String(courseId);
    if (!this.rosters.has(k)) this.rosters.set(k, { version: 0, members: new Map() });
    return this.rosters.get(k);
  },

  /** Line items of a course (gradebook columns), in creation order. */
  gradebook(courseId) {
    return [...this.lineItems.values()].filter((li) => courseId === undefined || li.courseId === String(courseId));
  },

  _lineItemUrl(li) {
    if (this.flavor === 'moodle') {
      return `${this.baseUrl}/mod/lti/services.php/${li.courseId}/lineitems/${li.id}/lineitem?type_id=${li.typeId}`;
    }
    return `${this.baseUrl}/api/lti/courses/${li.courseId}/line_items/${li.id}`;
  },

  lineItemsUrl(courseId, typeId) {
    return this.flavor === 'moodle'
      ? `${this.baseUrl}/mod/lti/services.php/${courseId}/lineitems?type_id=${typeId}`
      : `${this.baseUrl}/api/lti/courses/${courseId}/line_items`;
  },

  membershipsUrl(courseId, typeId) {
    return this.flavor === 'moodle'
      ? `${this.baseUrl}/mod/lti/services.php/CourseSection/${courseId}/bindings/${typeId}/memberships`
      : `${this.baseUrl}/api/lti/courses/${courseId}/names_and_roles`;
  },

  createLineItem({ courseId, typeId, label, scoreMaximum, resourceId, tag, resourceLinkId }) {
    const li = {
      id: ++this.lineItemSeq, courseId: String(courseId), typeId: typeId ?? 1,
      label: label ?? '', scoreMaximum: Number(scoreMaximum), resourceId: resourceId ?? '',
      tag: tag ?? '', resourceLinkId: resourceLinkId ?? '', results: new Map(), scores: [],
    };
    li.url = this._lineItemUrl(li);
    this.lineItems.set(li.id, li);
    return li;
  },

  _lineItemJson(li) {
    const o = { id: li.url, scoreMaximum: li.scoreMaximum, label: li.label };
    if (li.resourceId) o.resourceId = li.resourceId;
    if (li.tag) o.tag = li.tag;
    if (li.resourceLinkId) o.resourceLinkId = li.resourceLinkId;
    return o;
  },

  /** Deep linking: the content items the tool returned become links (+ line items). */
  _placeContentItems(rec, items) {
    const out = [];
    for (const ci of items) {
      if (!ci || ci.type !== 'ltiResourceLink') continue;
      const linkId = this.flavor === 'moodle' ? String(100 + this.placedLinks.size + 1) : crypto.randomUUID();
      const link = { linkId, courseId: String(rec.courseId), title: ci.title || '', custom: ci.custom || {}, url: ci.url, lineItemId: null, assignmentId: null };
      if (ci.lineItem && rec.dlSettings && rec.dlSettings.accept_lineitem !== false) {
        const li = this.createLineItem({
          courseId: rec.courseId, typeId: rec.client.typeId, label: ci.lineItem.label ?? ci.title,
          scoreMaximum: ci.lineItem.scoreMaximum, resourceId: ci.lineItem.resourceId, tag: ci.lineItem.tag, resourceLinkId: linkId,
        });
        link.lineItemId = li.id;
        if (this.flavor === 'canvas') link.assignmentId = String(++this.assignmentSeq);
      }
      this.placedLinks.set(linkId, link);
      out.push(link);
    }
    return out;
  },

  _checkLineItemContentItem(ci) {
    if (!ci.lineItem) return null;
    const m = ci.lineItem.scoreMaximum;
    if (typeof m !== 'number' || !(m > 0)) return 'lineItem.scoreMaximum must be a number > 0';
    return null;
  },

  /** Canvas variable substitution of custom parameters ($Canvas.course.id, ...). */
  _substitute(custom, rec) {
    if (this.flavor !== 'canvas') return custom;
    const link = this.placedLinks.get(String(rec.linkId));
    const vars = {
      '$Canvas.course.id': String(rec.courseId),
      '$Canvas.user.id': String(rec.user.canvasId ?? (10000 + (parseInt(crypto.createHash('sha1').update(String(rec.user.sub)).digest('hex').slice(0, 6), 16) % 90000))),
      '$Canvas.assignment.id': link && link.assignmentId ? link.assignmentId : undefined,
    };
    const out = {};
    for (const [k, v] of Object.entries(custom)) {
      out[k] = typeof v === 'string' && vars[v] !== undefined ? vars[v] : v; // unknown: left as is, like Canvas
    }
    return out;
  },

  _bearer(req, need) {
    const h = req.headers.authorization || '';
    const tok = h.startsWith('Bearer ') ? h.slice(7).trim() : null;
    const t = tok && this.accessTokens.get(tok);
    if (!t || t.exp < Date.now()) return { status: 401, error: 'invalid or expired access token' };
    if (!need.some((s) => t.scopes.includes(s))) return { status: 403, error: `scope ${need[0]} not granted` };
    return null;
  },

  /** Handle a service request, or return false when the path is not a service. */
  async _handleService(req, res, url) {
    const path = url.pathname;
    const full = path + url.search;
    let m;
    const isToken = path === '/token';
    const isService = /^\/mod\/lti\/services\.php\//.test(path) || /^\/api\/lti\/courses\//.test(path);
    if (!isService && !isToken) return false;
    const log = { at: Date.now(), method: req.method, path, query: url.search, status: 0, fault: null };
    this.serviceLog.push(log);
    const send = (status, obj, headers = {}) => {
      log.status = status;
      const text = obj === null ? '' : (typeof obj === 'string' ? obj : JSON.stringify(obj));
      res.writeHead(status, { 'content-type': headers['content-type'] || 'application/json', ...headers });
      res.end(text);
      return true;
    };
    // faults
    if (Date.now() < this.downUntil) { log.fault = 'down'; req.socket.destroy(); return true; }
    const f = this.faults.find((x) => x.hits < x.times && (!x.match || x.match.test(full)) && (isService || x.token));
    let delayed = null;
    if (f) {
      f.hits++;
      log.fault = f.kind;
      if (f.kind === '500') return send(500, { error: 'internal error (injected)' });
      if (f.kind === '503') return send(503, { error: 'unavailable (injected)' });
      if (f.kind === '429') return send(429, { error: 'rate limited (injected)' }, { 'retry-after': String(f.retryAfter ?? 1) });
      if (f.kind === 'drop') { req.socket.destroy(); return true; }
      if (f.kind === 'timeout') {
        if (!f.process) { await new Promise((r) => setTimeout(r, f.delayMs)); req.socket.destroy(); return true; }
        delayed = f.delayMs;
      }
    }
    if (isToken) return false; // the token endpoint itself is in platform.mjs
    const text = req.method === 'POST' || req.method === 'PUT' ? await body(req) : '';
    const reply = async (status, obj, headers) => {
      if (f && (f.kind === 'timeout' || f.kind === 'lose') && f.onStored) await f.onStored({ status, path: full });
      if (f && f.kind === 'lose') { log.status = status; req.socket.destroy(); return true; }
      if (delayed) { await new Promise((r) => setTimeout(r, delayed)); }
      if (req.socket.destroyed) { log.status = status; return true; }
      return send(status, obj, headers);
    };
    const moodle = this.flavor === 'moodle';
    if (moodle && /\/lineitems/.test(path) && !url.searchParams.get('type_id')) {
      return reply(400, 'type_id required', { 'content-type': 'text/plain' });
    }
    // line item container
    if ((m = /^\/mod\/lti\/services\.php\/([^/]+)\/lineitems$/.exec(path)) || (m = /^\/api\/lti\/courses\/([^/]+)\/line_items$/.exec(path))) {
      const courseId = decodeURIComponent(m[1]);
      if (req.method === 'GET') {
        const bad = this._bearer(req, [SC.lineitem, SC.lineitemReadonly]);
        if (bad) return reply(bad.status, { error: bad.error });
        let items = this.gradebook(courseId);
        const q = url.searchParams;
        if (q.get('resource_id') !== null) items = items.filter((li) => li.resourceId === q.get('resource_id'));
        if (q.get('resource_link_id') !== null) items = items.filter((li) => li.resourceLinkId === q.get('resource_link_id'));
        if (q.get('tag') !== null) items = items.filter((li) => li.tag === q.get('tag'));
        const limit = Number(q.get('limit') || 0) || 10;
        const from = Number(q.get('from') || 0);
        const page = items.slice(from, from + limit);
        const headers = { 'content-type': MT.container };
        if (from + limit < items.length) {
          const n = new URL(url.href.replace(url.origin, this.baseUrl));
          n.searchParams.set('from', String(from + limit));
          n.searchParams.set('limit', String(limit));
          headers.link = `<${n.href}>; rel="next"`;
        }
        return reply(200, page.map((li) => this._lineItemJson(li)), headers);
      }
      if (req.method === 'POST') {
        const bad = this._bearer(req, [SC.lineitem]);
        if (bad) return reply(bad.status, { error: bad.error });
        if (!String(req.headers['content-type'] || '').startsWith(MT.lineitem)) return reply(415, { error: `Content-Type must be ${MT.lineitem}` });
        let b;
        try { b = JSON.parse(text); } catch { return reply(400, { error: 'bad JSON' }); }
        if (typeof b.scoreMaximum !== 'number' || !(b.scoreMaximum > 0) || typeof b.label !== 'string' || !b.label) return reply(400, { error: 'scoreMaximum > 0 and label required' });
        const li = this.createLineItem({ courseId, typeId: Number(url.searchParams.get('type_id')) || 1, ...b });
        return reply(moodle ? 201 : 200, this._lineItemJson(li), { 'content-type': MT.lineitem });
      }
      return reply(405, { error: 'method not allowed' });
    }
    // one line item, its scores and results
    if ((m = /^\/mod\/lti\/services\.php\/([^/]+)\/lineitems\/(\d+)\/lineitem(\/scores|\/results)?$/.exec(path)) ||
        (m = /^\/api\/lti\/courses\/([^/]+)\/line_items\/(\d+)(\/scores|\/results)?$/.exec(path))) {
      const li = this.lineItems.get(Number(m[2]));
      if (!li || li.courseId !== decodeURIComponent(m[1])) return reply(404, { error: 'no such line item' });
      const sub = m[3] || '';
      if (sub === '' && req.method === 'GET') {
        const bad = this._bearer(req, [SC.lineitem, SC.lineitemReadonly]);
        if (bad) return reply(bad.status, { error: bad.error });
        return reply(200, this._lineItemJson(li), { 'content-type': MT.lineitem });
      }
      if (sub === '/scores' && req.method === 'POST') return this._score(req, li, text, reply);
      if (sub === '/results' && req.method === 'GET') {
        const bad = this._bearer(req, [SC.resultReadonly]);
        if (bad) return reply(bad.status, { error: bad.error });
        const uid = url.searchParams.get('user_id');
        const out = [...li.results.values()].filter((r) => uid === null || r.userId === uid).map((r) => {
          const o = {
            id: `${li.url.split('?')[0]}/results/${encodeURIComponent(r.userId)}`, scoreOf: li.url, userId: r.userId,
            resultScore: r.resultScore, resultMaximum: li.scoreMaximum, comment: r.comment ?? undefined,
          };
          if (moodle) o.timestamp = this._moodleDate(r.timestamp);
          else if (r.submission) o[CANVAS_SUBMISSION] = r.submission;
          return o;
        });
        return reply(200, out, { 'content-type': MT.results });
      }
      return reply(405, { error: 'method not allowed' });
    }
    // NRPS
    if ((m = /^\/mod\/lti\/services\.php\/CourseSection\/([^/]+)\/bindings\/([^/]+)\/memberships$/.exec(path)) ||
        (m = /^\/api\/lti\/courses\/([^/]+)\/names_and_roles$/.exec(path))) {
      const bad = this._bearer(req, [SC.nrps]);
      if (bad) return reply(bad.status, { error: bad.error });
      if (!String(req.headers.accept || '').includes(MT.members)) return reply(406, { error: `Accept must be ${MT.members}` });
      const courseId = decodeURIComponent(m[1]);
      const r = this._roster(courseId);
      const q = url.searchParams;
      const since = q.get('since');
      let members = [...r.members.values()];
      if (since !== null) members = members.filter((x) => x.changedAt > Number(since));
      else members = members.filter((x) => x.status !== 'Deleted');
      const limit = Number(q.get('limit') || this.nrpsPageSize);
      const from = Number(q.get('from') || 0);
      const page = members.slice(from, from + limit);
      const links = [];
      const base = new URL(url.pathname, this.baseUrl);
      if (from + limit < members.length) {
        const n = new URL(base);
        if (since !== null) n.searchParams.set('since', since);
        n.searchParams.set('limit', String(limit));
        n.searchParams.set('from', String(from + limit));
        links.push(`<${n.href}>; rel="next"`);
      } else {
        const d = new URL(base);
        d.searchParams.set('since', String(r.version));
        links.push(`<${d.href}>; rel="differences"`);
      }
      this.nrpsRequests = (this.nrpsRequests || 0) + 1;
      return reply(200, {
        id: url.href,
        context: { id: courseId, label: 'CERT101', title: 'Call Certification 101' },
        members: page.map(({ changedAt, ...x }) => x),
      }, { 'content-type': MT.members, link: links.join(', ') });
    }
    return reply(404, { error: 'no such service' });
  },

  /** PHP date('c') of unix ms in the Moodle server's zone: 2026-01-02T04:04:05+01:00. */
  _moodleDate(ms) {
    const off = this.moodleTzOffsetMin;
    const d = new Date(Math.floor(ms / 1000) * 1000 + off * 60000).toISOString().slice(0, 19);
    const a = Math.abs(off);
    return `${d}${off < 0 ? '-' : '+'}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
  },

  async _score(req, li, text, reply) {
    const entry = { at: Date.now(), lineItemId: li.id, url: req.url, contentType: req.headers['content-type'] || '', body: null, status: 0, error: null };
    this.scoreLog.push(entry);
    const fail = (status, error) => { entry.status = status; entry.error = error; return reply(status, { error }); };
    const bad = this._bearer(req, [SC.score]);
    if (bad) return fail(bad.status, bad.error);
    if (!entry.contentType.startsWith(MT.score)) return fail(415, `Content-Type must be ${MT.score}`);
    let b;
    try { b = JSON.parse(text); } catch { return fail(400, 'bad JSON'); }
    entry.body = b;
    if (typeof b.userId !== 'string' || !b.userId) return fail(400, 'userId required');
    if (!b.timestamp || !b.gradingProgress || !b.activityProgress) return fail(400, 'timestamp, activityProgress and gradingProgress are required');
    const ts = Date.parse(b.timestamp);
    if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(b.timestamp) || Number.isNaN(ts)) return fail(400, 'timestamp is not ISO 8601');
    if (b.scoreGiven !== undefined && typeof b.scoreMaximum !== 'number') return fail(400, 'scoreMaximum required with scoreGiven');
    const prev = li.results.get(b.userId);
    if (prev) {
      if (this.flavor === 'moodle' && Math.floor(ts / 1000) <= Math.floor(prev.timestamp / 1000)) return fail(409, 'timestamp not later than the stored grade');
      if (this.flavor === 'canvas' && ts < prev.timestamp) return fail(400, 'score timestamp is older than the last one');
    }
    const graded = b.gradingProgress === 'FullyGraded';
    const ext = b[CANVAS_SUBMISSION] ?? null;
    // Canvas: a new submission (the default unless submission_type is none) is one more attempt
    const attempt = (prev?.attempt ?? 0) + (this.flavor === 'canvas' && ext?.new_submission !== false && ext?.submission_type !== 'none' ? 1 : 0);
    const result = {
      userId: b.userId, timestamp: ts, activityProgress: b.activityProgress, gradingProgress: b.gradingProgress,
      resultScore: graded && typeof b.scoreGiven === 'number' ? b.scoreGiven / (b.scoreMaximum || 1) * li.scoreMaximum : null,
      comment: b.comment ?? null, submission: ext, attempt,
    };
    li.results.set(b.userId, result);
    li.scores.push({ ...b, acceptedAt: Date.now(), attempt });
    entry.status = this.flavor === 'moodle' ? 200 : 200;
    return reply(200, this.flavor === 'canvas' ? { resultUrl: `${li.url}/results/${encodeURIComponent(b.userId)}` } : null);
  },
};
