// fake-tool.mjs: a small LTI 1.3 tool written in JS that follows the same HTTP contract as
// Attest (bin/attest behind nginx). It exists only to test the test harness: the emulator's
// self-test and `ATTEST_E2E_TARGET=fake` runs of tests/e2e/ use it, so that a failing e2e
// test against the real stack points at the C server and not at the harness.
// It is NOT a reference implementation and is never deployed.

import http from 'node:http';
import crypto from 'node:crypto';
import * as jose from 'jose';
import { esc, parseForms } from './http-util.mjs';

const LTI = 'https://purl.imsglobal.org/spec/lti/claim/';
const TOOL_CONFIG = 'https://purl.imsglobal.org/spec/lti-tool-configuration';
const DL_SETTINGS = 'https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings';
const rand = (n = 16) => crypto.randomBytes(n).toString('base64url');

export class FakeTool {
  static async start({ port = 0, policy = 'learn', baseUrl } = {}) {
    const t = new FakeTool(policy);
    await t._init(port, baseUrl);
    return t;
  }

  constructor(policy) {
    this.policy = policy;
    this.platforms = [];         // {issuer, clientId, authUrl, tokenUrl, jwksUrl, deployments:Set, preset}
    this.states = new Map();     // state -> {secret, nonce, issuer, clientId, targetLinkUri, deploymentId, exp}
    this.usedNonces = new Set();
    this.sessions = new Map();   // token -> session
    this.jwksCache = new Map();  // url -> {jwks, fetchedAt, lastRefetch}
    this.keys = [];
    this.sockets = new Set();
  }

  async _init(port, baseUrl) {
    await this.rotateKeys();
    this.server = http.createServer((req, res) => this._handle(req, res).catch((e) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('internal error: ' + e.message);
    }));
    this.server.on('connection', (s) => { this.sockets.add(s); s.on('close', () => this.sockets.delete(s)); });
    await new Promise((r) => this.server.listen(port, '127.0.0.1', r));
    this.port = this.server.address().port;
    this.baseUrl = baseUrl || `http://localhost:${this.port}`;
  }

  async close() {
    await new Promise((r) => { this.server.close(() => r()); for (const s of this.sockets) s.destroy(); });
  }

  async rotateKeys() {
    const { privateKey, publicKey } = await jose.generateKeyPair('RS256', { extractable: true });
    const kid = 'fake-' + rand(6);
    const jwk = { ...(await jose.exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
    this.keys.push({ kid, privateKey, jwk });
    return kid;
  }

  addPlatform({ issuer, clientId, authUrl, tokenUrl, jwksUrl, deployments = [], preset = 'generic' }) {
    let p = this.platforms.find((x) => x.issuer === issuer && x.clientId === clientId);
    if (!p) { p = { issuer, clientId, authUrl, tokenUrl, jwksUrl, deployments: new Set(), preset }; this.platforms.push(p); }
    Object.assign(p, Object.fromEntries(Object.entries({ authUrl, tokenUrl, jwksUrl }).filter(([, v]) => v)));
    for (const d of deployments) p.deployments.add(d);
    return p;
  }

  _find(issuer, clientId) {
    const c = this.platforms.filter((p) => p.issuer === issuer && (clientId === undefined || clientId === null || clientId === '' || p.clientId === clientId));
    return c.length === 1 ? c[0] : null;
  }

  async _jwks(url, { refetch = false } = {}) {
    const now = Date.now();
    let c = this.jwksCache.get(url);
    if (c && !refetch && now - c.fetchedAt < c.maxAge * 1000) return c;
    if (c && refetch && c.lastRefetch && now - c.lastRefetch < 30000) return c; // rate limit unknown-kid refetches
    const r = await fetch(url, { signal: AbortSignal.timeout(5000) });
    if (!r.ok) throw new Error('jwks fetch failed');
    const m = /max-age=(\d+)/.exec(r.headers.get('cache-control') || '');
    c = { jwks: await r.json(), fetchedAt: now, maxAge: m ? Number(m[1]) : 300, lastRefetch: refetch ? now : (c && c.lastRefetch) };
    this.jwksCache.set(url, c);
    return c;
  }

  _page(res, status, title, body, headers = {}) {
    res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...headers });
    res.end(`<!DOCTYPE html><html><head><meta charset="utf-8"><title>${esc(title)}</title></head><body>${body}</body></html>`);
  }

  _error(res, status, msg, { newWindow = false } = {}) {
    this._page(res, status, 'Launch failed', `<h1>Launch failed</h1><p>${esc(msg)}</p>${newWindow ? '<p>Your browser blocked the cookie this launch needs. <a href="#" target="_blank">Open in a new window</a> to continue.</p>' : ''}`);
  }

  async _handle(req, res) {
    const url = new URL(req.url, this.baseUrl);
    const body = req.method === 'POST' ? await new Promise((r) => { let d = ''; req.on('data', (c) => { d += c; }); req.on('end', () => r(d)); }) : '';
    const form = Object.fromEntries(new URLSearchParams(body));
    const json = (s, o) => { res.writeHead(s, { 'content-type': 'application/json' }); res.end(JSON.stringify(o)); };
    const cookies = Object.fromEntries((req.headers.cookie || '').split(/;\s*/).filter(Boolean).map((c) => [c.slice(0, c.indexOf('=')), c.slice(c.indexOf('=') + 1)]));
    const p = url.pathname;

    if (p === '/healthz') return json(200, { ok: true });
    if (p === '/.well-known/jwks.json') return json(200, { keys: this.keys.map((k) => k.jwk) });
    if (p === '/lti/canvas.json') return json(200, { title: 'Attest (fake)', oidc_initiation_url: this.baseUrl + '/lti/login', target_link_uri: this.baseUrl + '/lti/launch', public_jwk_url: this.baseUrl + '/.well-known/jwks.json' });

    if (p === '/__admin/platform' && req.method === 'POST') {
      const o = JSON.parse(body);
      const pl = this.addPlatform(o);
      return json(200, { ...pl, deployments: [...pl.deployments] });
    }
    if (p === '/__admin/platforms') return json(200, this.platforms.map((x) => ({ ...x, deployments: [...x.deployments] })));
    if (p === '/__admin/keys/rotate' && req.method === 'POST') return json(200, { kid: await this.rotateKeys() });

    if (p === '/lti/register') {
      const cfgUrl = url.searchParams.get('openid_configuration');
      const tok = url.searchParams.get('registration_token');
      try {
        const h = tok ? { authorization: 'Bearer ' + tok } : {};
        const cr = await fetch(cfgUrl, { headers: h });
        if (!cr.ok) throw new Error('openid configuration answered ' + cr.status);
        const cfg = await cr.json();
        const b = this.baseUrl;
        const reg = {
          application_type: 'web', response_types: ['id_token'], grant_types: ['implicit', 'client_credentials'],
          initiate_login_uri: b + '/lti/login', redirect_uris: [b + '/lti/launch'], client_name: 'Attest',
          jwks_uri: b + '/.well-known/jwks.json', token_endpoint_auth_method: 'private_key_jwt',
          scope: 'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem https://purl.imsglobal.org/spec/lti-ags/scope/score https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly',
          [TOOL_CONFIG]: { domain: new URL(b).host, target_link_uri: b + '/lti/launch', claims: ['iss', 'sub', 'name', 'email'],
            messages: [{ type: 'LtiResourceLinkRequest' }, { type: 'LtiDeepLinkingRequest', target_link_uri: b + '/lti/launch' }] },
        };
        const rr = await fetch(cfg.registration_endpoint, { method: 'POST', headers: { ...h, 'content-type': 'application/json' }, body: JSON.stringify(reg) });
        if (!rr.ok) throw new Error('registration answered ' + rr.status + ' ' + await rr.text());
        const out = await rr.json();
        const dep = out[TOOL_CONFIG] && out[TOOL_CONFIG].deployment_id;
        this.addPlatform({ issuer: cfg.issuer, clientId: out.client_id, authUrl: cfg.authorization_endpoint, tokenUrl: cfg.token_endpoint,
          jwksUrl: cfg.jwks_uri, deployments: dep ? [dep] : [], preset: cfg['https://purl.imsglobal.org/spec/lti-platform-configuration']?.product_family_code });
        return this._page(res, 200, 'Registered', `<p>Attest is registered.</p><script>(window.opener||window.parent).postMessage({subject:'org.imsglobal.lti.close'},'*');</script>`);
      } catch (e) {
        return this._page(res, 400, 'Registration failed', `<h1>Registration failed</h1><p>${esc(e.message)}</p>`);
      }
    }

    if (p === '/lti/login') {
      const q = req.method === 'POST' ? form : Object.fromEntries(url.searchParams);
      if (!q.iss || !q.login_hint || !q.target_link_uri) return this._error(res, 400, 'missing login parameters');
      const pl = this._find(q.iss, q.client_id);
      if (!pl) return this._error(res, 400, 'unknown platform');
      if (new URL(q.target_link_uri).origin !== new URL(this.baseUrl).origin) return this._error(res, 400, 'target_link_uri not ours');
      const state = rand(24);
      const secret = rand(24);
      const nonce = rand(24);
      this.states.set(state, { secret, nonce, issuer: q.iss, clientId: pl.clientId, targetLinkUri: q.target_link_uri,
        deploymentId: q.lti_deployment_id, exp: Date.now() + 600e3 });
      const a = new URL(pl.authUrl);
      const ap = { scope: 'openid', response_type: 'id_token', response_mode: 'form_post', prompt: 'none', client_id: pl.clientId,
        redirect_uri: this.baseUrl + '/lti/launch', login_hint: q.login_hint, state, nonce };
      if (q.lti_message_hint !== undefined) ap.lti_message_hint = q.lti_message_hint;
      for (const [k, v] of Object.entries(ap)) a.searchParams.set(k, v);
      const cookie = `attest_state_${state}=${secret}; Max-Age=600; Path=/lti/; HttpOnly; Secure; SameSite=None; Partitioned`;
      if (q.lti_storage_target) {
        return this._page(res, 200, 'Launching', `<div id="s" data-auth-url="${esc(a.href)}" data-target="${esc(q.lti_storage_target)}" data-origin="${esc(a.origin)}" data-key="attest_state_${esc(state)}" data-value="${esc(secret)}"></div>
<script>(function(){var d=document.getElementById('s').dataset;var id='m'+Math.random();var done=false;
function go(){if(!done){done=true;location.href=d.authUrl;}}
window.addEventListener('message',function(e){if(e.origin===d.origin&&e.data&&e.data.message_id===id&&/put_data\\.response$/.test(e.data.subject))go();});
var t=d.target==='_parent'?window.parent:window.parent.frames[d.target];
try{t.postMessage({subject:'lti.put_data',message_id:id,key:d.key,value:d.value},d.origin);}catch(e){}
setTimeout(go,3000);})();</script>`, { 'set-cookie': cookie });
      }
      res.writeHead(302, { location: a.href, 'set-cookie': cookie, 'cache-control': 'no-store' });
      return res.end();
    }

    if (p === '/lti/launch' && req.method === 'POST') return this._launch(req, res, form, cookies);

    if (p === '/app') {
      const s = this.sessions.get(url.searchParams.get('s') || '');
      if (!s) return this._error(res, 401, 'session expired');
      if (s.messageType === 'LtiDeepLinkingRequest') {
        return this._page(res, 200, 'Choose content', `<h1>Choose what to add to ${esc(s.course)}</h1>
<form method="post" action="/lti/deeplink"><input type="hidden" name="s" value="${esc(url.searchParams.get('s'))}">
<label><input type="radio" name="item" value="program-call">Call certification</label>
<label><input type="radio" name="item" value="checklist-scorecard">Call scorecard</label>
<button type="submit">Add</button></form>`);
      }
      const instr = s.roles.some((r) => /Instructor|Administrator|ContentDeveloper/.test(r));
      return this._page(res, 200, instr ? 'Instructor' : 'Learner', `<h1>${instr ? 'Instructor' : 'Learner'} dashboard</h1><p>Welcome, ${esc(s.name)}</p><p>Course: ${esc(s.course)}</p>`);
    }

    if (p === '/lti/deeplink' && req.method === 'POST') {
      const s = this.sessions.get(form.s || '');
      if (!s || !s.dl) return this._error(res, 401, 'no deep linking session');
      const key = this.keys.at(-1);
      const item = form.item || 'program-call';
      const payload = {
        nonce: rand(16), [LTI + 'message_type']: 'LtiDeepLinkingResponse', [LTI + 'version']: '1.3.0',
        [LTI + 'deployment_id']: s.deploymentId,
        'https://purl.imsglobal.org/spec/lti-dl/claim/content_items': [{ type: 'ltiResourceLink', title: item, url: this.baseUrl + '/lti/launch', custom: { item }, lineItem: { scoreMaximum: 100, label: item } }],
      };
      if (s.dl.data !== undefined) payload['https://purl.imsglobal.org/spec/lti-dl/claim/data'] = s.dl.data;
      const jwt = await new jose.SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' })
        .setIssuer(s.clientId).setAudience(s.issuer).setIssuedAt().setExpirationTime('5m').sign(key.privateKey);
      return this._page(res, 200, 'Returning', `<form id="f" method="post" action="${esc(s.dl.deep_link_return_url)}"><input type="hidden" name="JWT" value="${esc(jwt)}"></form><script>document.getElementById('f').submit()</script>`);
    }

    return this._error(res, 404, 'not found');
  }

  async _launch(req, res, form, cookies) {
    const fail = (status, msg, o) => this._error(res, status, msg, o);
    if (!form.id_token) return fail(400, 'missing id_token');
    if (!form.state) return fail(400, 'missing state');
    const st = this.states.get(form.state);
    if (!st || st.exp < Date.now()) return fail(400, 'unknown or expired state');
    const cookie = cookies['attest_state_' + form.state];
    if (cookie === undefined && form.state_secret === undefined) {
      if (form.lti_storage_target) {
        const fields = parseForms(`<form>${Object.entries(form).map(([k, v]) => `<input name="${esc(k)}" value="${esc(v)}">`).join('')}</form>`)[0].fields;
        const pl = this._find(st.issuer, st.clientId);
        return this._page(res, 200, 'Launching', `<form id="f" method="post" action="/lti/launch">${fields.map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v)}">`).join('')}<input type="hidden" name="state_secret" value=""></form>
<div id="s" data-target="${esc(form.lti_storage_target)}" data-origin="${esc(new URL(pl.authUrl).origin)}" data-key="attest_state_${esc(form.state)}"></div>
<script>(function(){var d=document.getElementById('s').dataset;var id='g'+Math.random();
window.addEventListener('message',function(e){if(e.origin===d.origin&&e.data&&e.data.message_id===id&&/get_data\\.response$/.test(e.data.subject)){var f=document.getElementById('f');f.state_secret.value=e.data.value||'';f.submit();}});
var t=d.target==='_parent'?window.parent:window.parent.frames[d.target];t.postMessage({subject:'lti.get_data',message_id:id,key:d.key},d.origin);})();</script>`);
      }
      return fail(401, 'state cookie missing', { newWindow: true });
    }
    const secret = cookie !== undefined ? cookie : form.state_secret;
    if (secret !== st.secret) return fail(401, 'state mismatch');
    this.states.delete(form.state);
    let header;
    try { header = jose.decodeProtectedHeader(form.id_token); } catch { return fail(400, 'malformed id_token'); }
    if (header.alg !== 'RS256' || !header.kid) return fail(401, 'bad alg or kid');
    let claims;
    try { claims = jose.decodeJwt(form.id_token); } catch { return fail(400, 'malformed id_token'); }
    if (claims.iss !== st.issuer) return fail(401, 'iss differs from login');
    const pl = this._find(st.issuer, st.clientId);
    if (!pl) return fail(401, 'unknown platform');
    let c = await this._jwks(pl.jwksUrl);
    if (!c.jwks.keys.some((k) => k.kid === header.kid)) c = await this._jwks(pl.jwksUrl, { refetch: true });
    if (!c.jwks.keys.some((k) => k.kid === header.kid)) return fail(401, 'unknown kid');
    let p;
    try {
      ({ payload: p } = await jose.jwtVerify(form.id_token, jose.createLocalJWKSet(c.jwks), { algorithms: ['RS256'], issuer: pl.issuer, audience: pl.clientId, clockTolerance: 30 }));
    } catch (e) {
      return fail(401, 'id_token rejected: ' + e.code);
    }
    const aud = [].concat(p.aud);
    if (aud.length > 1 && !p.azp) return fail(401, 'multiple audiences without azp');
    if (p.azp !== undefined && p.azp !== pl.clientId) return fail(401, 'azp is not us');
    if (p.iat > Date.now() / 1000 + 30) return fail(401, 'iat in the future');
    if (p.nonce !== st.nonce || this.usedNonces.has(p.nonce)) return fail(401, 'bad nonce');
    this.usedNonces.add(p.nonce);
    if (p[LTI + 'version'] !== '1.3.0') return fail(400, 'bad version');
    const mt = p[LTI + 'message_type'];
    if (mt !== 'LtiResourceLinkRequest' && mt !== 'LtiDeepLinkingRequest') return fail(400, 'bad message type');
    const dep = p[LTI + 'deployment_id'];
    if (typeof dep !== 'string' || !dep) return fail(400, 'missing deployment');
    if (st.deploymentId !== undefined && st.deploymentId !== dep) return fail(400, 'deployment differs from login');
    if (p[LTI + 'target_link_uri'] !== st.targetLinkUri) return fail(400, 'target_link_uri mismatch');
    if (mt === 'LtiResourceLinkRequest' && !(p[LTI + 'resource_link'] && p[LTI + 'resource_link'].id)) return fail(400, 'missing resource link');
    if (!Array.isArray(p[LTI + 'roles'])) return fail(400, 'missing roles');
    if (typeof p.sub !== 'string' || p.sub === '') return fail(400, 'empty sub');
    if (!pl.deployments.has(dep)) {
      if (this.policy === 'strict') return fail(403, 'unknown deployment');
      pl.deployments.add(dep);
    }
    if (mt === 'LtiDeepLinkingRequest' && !p[LTI + 'roles'].some((r) => /Instructor|Administrator|ContentDeveloper/.test(r))) return fail(403, 'only instructors can add content');
    const token = rand(32);
    this.sessions.set(token, { name: p.name || p.sub, roles: p[LTI + 'roles'], course: (p[LTI + 'context'] || {}).title || '',
      messageType: mt, dl: p[DL_SETTINGS], deploymentId: dep, clientId: pl.clientId, issuer: pl.issuer });
    res.writeHead(303, { location: '/app?s=' + token, 'cache-control': 'no-store' });
    return res.end();
  }
}
