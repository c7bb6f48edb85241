// platform.mjs: an LTI 1.3 platform emulator (Moodle 4.x or Canvas flavour) for Attest tests.
//
// One Platform = one HTTP server on 127.0.0.1:<ephemeral port> that signs real RS256
// id_tokens with `jose`, serves its OpenID configuration, a Dynamic Registration endpoint,
// a JWKS with key rotation, an OIDC authorization endpoint, a client_credentials token
// endpoint and an LMS course page (with LTI Platform Storage for the Canvas flavour).
// See README.md beside this file.

import http from 'node:http';
import crypto from 'node:crypto';
import { promisify } from 'node:util';
import * as jose from 'jose';
import { esc, parseForms, findAttr, CookieJar, httpRequest } from './http-util.mjs';
import { initServices, serviceMethods } from './services.mjs';

export { CookieJar, parseForms, findAttr, httpRequest } from './http-util.mjs';
export { esc, decodeEntities, htmlText, parseAttrs, isAutoSubmitPage } from './http-util.mjs';
// Re-exported so that tests outside this package (tests/e2e/) resolve jose from here.
export { jose };

const generateKeyPair = promisify(crypto.generateKeyPair);

export const LTI = 'https://purl.imsglobal.org/spec/lti/claim/';
export const CLAIM = {
  messageType: LTI + 'message_type',
  version: LTI + 'version',
  deploymentId: LTI + 'deployment_id',
  targetLinkUri: LTI + 'target_link_uri',
  resourceLink: LTI + 'resource_link',
  roles: LTI + 'roles',
  context: LTI + 'context',
  toolPlatform: LTI + 'tool_platform',
  launchPresentation: LTI + 'launch_presentation',
  custom: LTI + 'custom',
  lis: LTI + 'lis',
  ext: LTI + 'ext',
  roleScopeMentor: LTI + 'role_scope_mentor',
  lti11LegacyUserId: LTI + 'lti11_legacy_user_id',
  lti1p1: LTI + 'lti1p1',
  dlSettings: 'https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings',
  dlContentItems: 'https://purl.imsglobal.org/spec/lti-dl/claim/content_items',
  dlData: 'https://purl.imsglobal.org/spec/lti-dl/claim/data',
  dlMsg: 'https://purl.imsglobal.org/spec/lti-dl/claim/msg',
  ags: 'https://purl.imsglobal.org/spec/lti-ags/claim/endpoint',
  nrps: 'https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice',
};
export const TOOL_CONFIG = 'https://purl.imsglobal.org/spec/lti-tool-configuration';
export const PLATFORM_CONFIG = 'https://purl.imsglobal.org/spec/lti-platform-configuration';
export const SCOPES = {
  lineitem: 'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem',
  lineitemReadonly: 'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly',
  resultReadonly: 'https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly',
  score: 'https://purl.imsglobal.org/spec/lti-ags/scope/score',
  nrps: 'https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly',
  toolSetting: 'https://purl.imsglobal.org/spec/lti-ts/scope/toolsetting',
};
const MEMBERSHIP = 'http://purl.imsglobal.org/vocab/lis/v2/membership#';
const INSTITUTION = 'http://purl.imsglobal.org/vocab/lis/v2/institution/person#';
const SYSTEM = 'http://purl.imsglobal.org/vocab/lis/v2/system/person#';

/** Flavour-typical role lists for the `role` shortcut of launch(). */
export const ROLE_PRESETS = {
  moodle: {
    learner: [MEMBERSHIP + 'Learner'],
    instructor: [MEMBERSHIP + 'Instructor'],
    admin: [INSTITUTION + 'Administrator', MEMBERSHIP + 'Instructor', SYSTEM + 'Administrator'],
    ta: [MEMBERSHIP + 'Instructor#TeachingAssistant'],
  },
  canvas: {
    learner: [INSTITUTION + 'Student', MEMBERSHIP + 'Learner', SYSTEM + 'User'],
    instructor: [INSTITUTION + 'Instructor', MEMBERSHIP + 'Instructor', SYSTEM + 'User'],
    admin: [INSTITUTION + 'Administrator', INSTITUTION + 'Instructor', MEMBERSHIP + 'Instructor', SYSTEM + 'Administrator', SYSTEM + 'User'],
    ta: [INSTITUTION + 'Instructor', MEMBERSHIP + 'Instructor#TeachingAssistant', SYSTEM + 'User'],
  },
};

const rand = (n = 16) => crypto.randomBytes(n).toString('hex');
const alnum = (n) => {
  const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let s = '';
  for (const b of crypto.randomBytes(n)) s += abc[b % abc.length];
  return s;
};
const b64json = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
const nowSec = () => Math.floor(Date.now() / 1000);

/** Moodle's lti_get_domain_from_url(): lower-case host[:port] without scheme, path or www. */
export function moodleDomain(s) {
  return String(s ?? '').trim().toLowerCase()
    .replace(/^[a-z][a-z0-9+.-]*:\/\//, '')
    .split(/[/?#]/)[0]
    .replace(/^www\./, '');
}

async function newRsaKey(kid) {
  const { publicKey, privateKey } = await generateKeyPair('rsa', { modulusLength: 2048, publicExponent: 0x10001 });
  const jwk = publicKey.export({ format: 'jwk' });
  return {
    kid,
    privateKey,
    publicKey,
    publicJwk: { kty: 'RSA', alg: 'RS256', use: 'sig', kid, n: jwk.n, e: jwk.e },
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }),
  };
}

async function readBody(req, limit = 1 << 20) {
  const chunks = [];
  let size = 0;
  for await (const c of req) {
    size += c.length;
    if (size > limit) throw Object.assign(new Error('body too large'), { status: 413 });
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function formObject(text) {
  const o = {};
  for (const [k, v] of new URLSearchParams(text)) if (!(k in o)) o[k] = v;
  return o;
}

function autoPostPage(action, fields, title = 'Redirecting') {
  const inputs = Object.entries(fields)
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([k, v]) => `  <input type="hidden" name="${esc(k)}" value="${esc(v)}"/>`).join('\n');
  return `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>${esc(title)}</title></head>
<body>
<form action="${esc(action)}" name="ltiAuthForm" id="ltiAuthForm" method="post" enctype="application/x-www-form-urlencoded">
${inputs}
  <noscript><button type="submit">Continue</button></noscript>
</form>
<script>document.ltiAuthForm.submit();</script>
</body></html>
`;
}

/**
 * The LTI platform emulator. Create with `await Platform.start({flavor})`.
 */
export class Platform {
  /**
   * @param {object} o
   * @param {'moodle'|'canvas'} [o.flavor='moodle']
   * @param {string} [o.issuer]  Moodle default: the base URL (wwwroot). Canvas default: the URL of a
   *                             second listener (issuerBase, playing canvas.instructure.com) that
   *                             serves the OpenID configuration and registration endpoint, while
   *                             auth/JWKS/token/LMS pages are on baseUrl (playing sso.canvaslms.com).
   *                             Any string may be given (e.g. 'https://canvas.instructure.com' for
   *                             manual registrations); it is only a label in tokens then.
   * @param {string} [o.host='127.0.0.1']
   * @param {number} [o.port=0]
   * @param {string} [o.name]
   * @param {number} [o.jwksMaxAge=300]
   * @param {boolean} [o.legacyMessagesSupported] Moodle < 4.1 style strings in messages_supported
   * @param {boolean} [o.log] print every request on stderr
   */
  static async start(o = {}) {
    const p = new Platform(o);
    await p._init();
    return p;
  }

  constructor(o = {}) {
    this.flavor = o.flavor === 'canvas' ? 'canvas' : 'moodle';
    this.options = o;
    this.host = o.host || '127.0.0.1';
    this.name = o.name || (this.flavor === 'canvas' ? 'Emulated Canvas' : 'Emulated Moodle');
    this.jwksMaxAge = o.jwksMaxAge ?? 300;
    this.keys = [];            // published keys (the last is the signing key unless signingKid says otherwise)
    this.keyHistory = [];      // every key ever generated, for signWith:'previous'
    this.signingKid = null;
    this.otherKey = null;      // never published
    this.jwksFetches = 0;
    this.jwksStatus = 200;     // set to e.g. 500 to make the JWKS endpoint fail
    this.clients = new Map();  // client_id -> client record
    this.typeSeq = 0;          // Moodle tool type ids (= deployment ids)
    this.canvasSeq = 10;
    this.regTokens = new Map(); // Canvas opaque registration tokens
    this.registrations = [];   // every POST /register, with what was received and answered
    this.configFetches = [];   // every GET of the OpenID configuration
    this.authRequests = [];    // every /auth request with its verdict
    this.tokenRequests = [];   // every /token request with its verdict
    this.deepLinkResponses = []; // every POST to the deep link return URL, verified
    this.storageLog = [];      // postMessage traffic reported by LMS pages (browser tests)
    this.requests = [];        // every request: {method, path, at}
    this.launches = new Map(); // launch id -> record
    this.launchesByHint = new Map();
    this.accessTokens = new Map();
    this.usedJti = new Set();
    this.usedDlNonces = new Set();
    this.lastLaunch = null;
    this.sockets = new Set();
    initServices(this);
  }

  async _init() {
    await this._addKey();
    this.otherKey = await newRsaKey('other-' + rand(4));
    this.server = http.createServer((req, res) => {
      this._handle(req, res).catch((e) => {
        if (!res.headersSent) {
          res.writeHead(e.status || 500, { 'content-type': 'text/plain; charset=utf-8' });
        }
        res.end(String(e.stack || e));
      });
    });
    this.server.on('connection', (s) => { this.sockets.add(s); s.on('close', () => this.sockets.delete(s)); });
    await new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port || 0, this.host, resolve);
    });
    this.port = this.server.address().port;
    this.baseUrl = `http://${this.host}:${this.port}`;
    this.origin = this.baseUrl;
    if (this.flavor === 'canvas') {
      // Canvas cloud: the issuer (https://canvas.instructure.com) serves the OpenID
      // configuration and the registration endpoint; the OIDC auth endpoint, JWKS, token
      // endpoint and the platform storage frame live elsewhere (https://sso.canvaslms.com).
      // The emulator models that with a second listener: issuerBase plays canvas.instructure.com,
      // baseUrl plays sso.canvaslms.com (and the LMS pages).
      this.issuerServer = http.createServer(this.server.listeners('request')[0]);
      this.issuerServer.on('connection', (s) => { this.sockets.add(s); s.on('close', () => this.sockets.delete(s)); });
      await new Promise((resolve, reject) => {
        this.issuerServer.once('error', reject);
        this.issuerServer.listen(this.options.issuerPort || 0, this.host, resolve);
      });
      this.issuerBase = `http://${this.host}:${this.issuerServer.address().port}`;
      // And the course pages are on the institution's own domain (school.instructure.com),
      // which is neither the issuer nor the sso host. lmsOrigin:'sso' puts them on baseUrl.
      if (this.options.lmsOrigin === 'sso') {
        this.lmsBase = this.baseUrl;
      } else {
        this.lmsServer = http.createServer(this.server.listeners('request')[0]);
        this.lmsServer.on('connection', (s) => { this.sockets.add(s); s.on('close', () => this.sockets.delete(s)); });
        await new Promise((resolve, reject) => {
          this.lmsServer.once('error', reject);
          this.lmsServer.listen(this.options.lmsPort || 0, this.host, resolve);
        });
        this.lmsBase = `http://${this.host}:${this.lmsServer.address().port}`;
      }
    } else {
      this.issuerBase = this.baseUrl;
      this.lmsBase = this.baseUrl;
    }
    this.issuer = this.options.issuer || this.issuerBase;
    this.guid = this.flavor === 'canvas' ? `${alnum(40)}:canvas-lms` : `${this.host}`;
  }

  async close() {
    if (!this.server) return;
    const servers = [this.server, this.issuerServer, this.lmsServer].filter(Boolean);
    this.server = null;
    this.issuerServer = null;
    this.lmsServer = null;
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(() => resolve()))).concat(
      Promise.resolve().then(() => { for (const sock of this.sockets) sock.destroy(); })));
  }

  // ------------------------------------------------------------------ URLs

  get urls() {
    const b = this.baseUrl;
    const i = this.issuerBase;
    return {
      base: b,
      issuer: this.issuer,
      issuerBase: i,
      lms: this.lmsBase,
      openidConfiguration: this.flavor === 'canvas' ? `${i}/api/lti/security/openid-configuration` : `${b}/.well-known/openid-configuration`,
      registration: this.flavor === 'canvas' ? `${i}/api/lti/registrations` : `${b}/register`,
      jwks: `${b}/jwks`,
      auth: `${b}/auth`,
      token: `${b}/token`,
      deepLinkReturn: `${b}/deep_link_return`,
      storageFrame: `${b}/post_message_forwarding`,
    };
  }

  // ------------------------------------------------------------------ keys

  async _addKey() {
    const kid = `${this.flavor}-${new Date().toISOString().replace(/[:.]/g, '')}-${rand(3)}`;
    const k = await newRsaKey(kid);
    this.keys.push(k);
    this.keyHistory.push(k);
    this.signingKid = kid;
    return k;
  }

  get signingKey() { return this.keyHistory.find((k) => k.kid === this.signingKid); }

  /** Publish a new key under a new kid and sign with it from now on. */
  async rotateKey({ dropOld = false } = {}) {
    const k = await this._addKey();
    if (dropOld) this.keys = [k];
    return k.kid;
  }

  get jwks() { return { keys: this.keys.map((k) => k.publicJwk) }; }

  /**
   * Sign a JWT. mode: 'platform' (current key), 'previous' (the key before the current one),
   * 'otherKey' (an unpublished key under the current kid), 'unknownKid' (unpublished key,
   * fresh kid), 'none' (alg none, empty signature), 'hs256-with-public-key' (HMAC-SHA256 keyed
   * with the current public key's PEM text: the alg-confusion attack).
   */
  async sign(payload, { mode = 'platform', mutateHeader, kid } = {}) {
    let key = this.signingKey;
    if (mode === 'previous') {
      const i = this.keyHistory.indexOf(key);
      key = this.keyHistory[Math.max(0, i - 1)];
    }
    let header = { typ: 'JWT', alg: 'RS256', kid: key.kid };
    let signer = key.privateKey;
    if (mode === 'otherKey') signer = this.otherKey.privateKey;
    if (mode === 'unknownKid') { signer = this.otherKey.privateKey; header.kid = 'unknown-' + rand(6); }
    if (mode === 'none') header = { typ: 'JWT', alg: 'none' };
    if (mode === 'hs256-with-public-key') { header = { typ: 'JWT', alg: 'HS256', kid: key.kid }; signer = new TextEncoder().encode(key.publicPem); }
    if (kid !== undefined) header.kid = kid;
    if (mutateHeader) header = (await mutateHeader(header)) || header;
    const body = new TextEncoder().encode(JSON.stringify(payload));
    if (mode === 'none' || header.alg === 'none') {
      return `${b64json(header)}.${Buffer.from(body).toString('base64url')}.`;
    }
    try {
      return await new jose.CompactSign(body).setProtectedHeader(header).sign(signer);
    } catch {
      // A mutated header jose refuses (no alg, odd alg): sign by hand so the tool still sees it.
      const input = `${b64json(header)}.${Buffer.from(body).toString('base64url')}`;
      const sig = signer instanceof Uint8Array
        ? crypto.createHmac('sha256', signer).update(input).digest()
        : crypto.sign('sha256', Buffer.from(input), signer);
      return `${input}.${sig.toString('base64url')}`;
    }
  }

  // ------------------------------------------------------------------ registration

  /** The OpenID configuration document of this platform (§2 of notes/lti.md). */
  openidConfiguration() {
    const u = this.urls;
    const scopes = [SCOPES.score, SCOPES.resultReadonly, SCOPES.lineitemReadonly, SCOPES.lineitem, SCOPES.nrps];
    if (this.flavor === 'moodle') {
      return {
        issuer: this.issuer,
        token_endpoint: u.token,
        token_endpoint_auth_methods_supported: ['private_key_jwt'],
        token_endpoint_auth_signing_alg_values_supported: ['RS256'],
        jwks_uri: u.jwks,
        authorization_endpoint: u.auth,
        registration_endpoint: u.registration,
        scopes_supported: [...scopes, SCOPES.toolSetting, 'openid'],
        response_types_supported: ['id_token'],
        subject_types_supported: ['public', 'pairwise'],
        id_token_signing_alg_values_supported: ['RS256'],
        claims_supported: ['sub', 'iss', 'name', 'given_name', 'family_name', 'email'],
        [PLATFORM_CONFIG]: {
          product_family_code: 'moodle',
          version: '4.5.1+ (Build: 20250110)',
          messages_supported: this.options.legacyMessagesSupported
            ? ['LtiResourceLinkRequest', 'LtiDeepLinkingRequest']
            : [{ type: 'LtiResourceLinkRequest' }, { type: 'LtiDeepLinkingRequest', placements: ['ContentArea'] }],
          variables: ['basic-lti-launch-request', 'Context.id', 'Context.title', 'ResourceLink.id', 'ResourceLink.title',
            'User.id', 'User.username', 'Person.name.full', 'Person.email.primary'],
        },
      };
    }
    return {
      issuer: this.issuer,
      authorization_endpoint: u.auth,
      registration_endpoint: u.registration,
      jwks_uri: u.jwks,
      token_endpoint: u.token,
      token_endpoint_auth_methods_supported: ['private_key_jwt'],
      token_endpoint_auth_signing_alg_values_supported: ['RS256'],
      scopes_supported: [...scopes,
        'https://canvas.instructure.com/lti/public_jwk/scope/update',
        'https://canvas.instructure.com/lti/account_lookup/scope/show',
        'https://canvas.instructure.com/lti-ags/progress/scope/show'],
      response_types_supported: ['id_token'],
      id_token_signing_alg_values_supported: ['RS256'],
      claims_supported: ['sub', 'picture', 'email', 'name', 'given_name', 'family_name', 'locale'],
      subject_types_supported: ['public'],
      authorization_server: new URL(this.baseUrl).host,
      [PLATFORM_CONFIG]: {
        product_family_code: 'canvas',
        version: 'vCloud',
        messages_supported: [
          { type: 'LtiResourceLinkRequest', placements: ['course_navigation', 'assignment_menu', 'link_selection', 'module_menu'] },
          { type: 'LtiDeepLinkingRequest', placements: ['assignment_selection', 'link_selection', 'editor_button', 'module_index_menu_modal'] },
        ],
        variables: ['ResourceLink.id', 'Context.id', 'Canvas.user.id', 'Canvas.course.id', 'Person.name.full', 'Canvas.environment.test'],
        'https://canvas.instructure.com/lti/account_name': 'Emulated University',
        'https://canvas.instructure.com/lti/account_lti_guid': this.guid,
      },
    };
  }

  /** Mint a registration token the way this LMS would (Moodle: RS256 JWT whose sub is the new client id). */
  async issueRegistrationToken({ ttl = 3600 } = {}) {
    if (this.flavor === 'moodle') {
      const iat = nowSec();
      return this.sign({ sub: alnum(15), scope: 'reg', iat, exp: iat + ttl });
    }
    const token = b64json({ uuid: crypto.randomUUID(), n: rand(24) });
    this.regTokens.set(token, { used: false, exp: Date.now() + ttl * 1000, clientId: null });
    return token;
  }

  async _checkMoodleRegToken(token) {
    const jwks = jose.createLocalJWKSet(this.jwks);
    try {
      const { payload } = await jose.jwtVerify(token, jwks, { algorithms: ['RS256'] });
      return { ok: true, clientId: payload.sub };
    } catch {
      return { ok: false };
    }
  }

  /**
   * What an LMS admin's browser does for Dynamic Registration: open the tool's registration
   * URL with ?openid_configuration=...&registration_token=... . Returns {status, html, headers,
   * registration (what the platform received and answered, or null), token, url}.
   */
  async dynamicRegister(toolRegisterUrl, { token, omitToken = false, query = {} } = {}) {
    const tok = token ?? await this.issueRegistrationToken();
    const u = new URL(toolRegisterUrl);
    u.searchParams.set('openid_configuration', this.urls.openidConfiguration);
    if (!omitToken) u.searchParams.set('registration_token', tok);
    for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v);
    const before = this.registrations.length;
    const r = await httpRequest(u.href, { jar: new CookieJar() });
    const mine = this.registrations.slice(before).filter((x) => x.token === tok);
    const registration = mine.at(-1) || null;
    return { status: r.status, html: r.body, headers: r.headers, registration, token: tok, url: u.href };
  }

  _validateRegistration(body) {
    const errs = [];
    const need = (cond, code) => { if (!cond) errs.push(code); };
    if (!body || typeof body !== 'object') return ['invalid_json'];
    const tc = body[TOOL_CONFIG];
    need(Array.isArray(body.response_types) && body.response_types.includes('id_token'), 'invalid_response_types');
    need(typeof body.initiate_login_uri === 'string' && /^https?:\/\//.test(body.initiate_login_uri), 'missing required attribute initiate_login_uri');
    need(Array.isArray(body.redirect_uris) && body.redirect_uris.length > 0 && body.redirect_uris.every((x) => typeof x === 'string'), 'invalid_redirect_uris');
    need(typeof body.jwks_uri === 'string' && /^https?:\/\//.test(body.jwks_uri), 'missing required attribute jwks_uri');
    need(body.token_endpoint_auth_method === 'private_key_jwt', 'invalid_token_endpoint_auth_method');
    need(body.application_type === 'web', 'invalid_application_type');
    need(Array.isArray(body.grant_types) && body.grant_types.includes('implicit') && body.grant_types.includes('client_credentials'), 'invalid_grant_types');
    need(typeof body.client_name === 'string' && body.client_name.length > 0, 'missing required attribute client_name');
    if (!tc || typeof tc !== 'object') {
      errs.push('missing required attribute ' + TOOL_CONFIG);
    } else {
      if (!tc.domain) errs.push('missing_domain');
      else {
        const tlu = tc.target_link_uri || 'https://' + tc.domain;
        if (moodleDomain(tc.domain) !== moodleDomain(tlu)) errs.push('domain_targetlinkuri_mismatch');
      }
      need(typeof tc.target_link_uri === 'string' && /^https?:\/\//.test(tc.target_link_uri), 'missing required attribute target_link_uri');
      if (tc.messages !== undefined) need(Array.isArray(tc.messages), 'invalid_messages');
      if (this.flavor === 'canvas') {
        need(Array.isArray(tc.messages), 'messages is required');
        need(Array.isArray(tc.claims), 'claims is required');
        need(typeof body.scope === 'string', 'scope is required');
      }
    }
    return errs;
  }

  _grantScopes(requested) {
    const asked = String(requested || '').split(/\s+/).filter(Boolean);
    const supported = new Set(this.openidConfiguration().scopes_supported);
    let granted;
    if (this.flavor === 'moodle') {
      // Moodle maps scopes to settings and back: any AGS scope grants score+result+lineitem.readonly.
      granted = [];
      const ags = [SCOPES.score, SCOPES.resultReadonly, SCOPES.lineitemReadonly, SCOPES.lineitem];
      if (asked.some((s) => ags.includes(s))) granted.push(SCOPES.score, SCOPES.resultReadonly, SCOPES.lineitemReadonly);
      if (asked.includes(SCOPES.lineitem)) granted.push(SCOPES.lineitem);
      if (asked.includes(SCOPES.nrps)) granted.push(SCOPES.nrps);
      if (asked.includes(SCOPES.toolSetting)) granted.push(SCOPES.toolSetting);
    } else {
      const drop = new Set(this.options.canvasDropScopes || []);
      granted = asked.filter((s) => supported.has(s) && !drop.has(s));
    }
    return granted;
  }

  _registerClient({ clientId, body, source }) {
    const tc = body[TOOL_CONFIG] || {};
    const dl = (tc.messages || []).find((m) => m && m.type === 'LtiDeepLinkingRequest');
    const rl = (tc.messages || []).find((m) => m && m.type === 'LtiResourceLinkRequest');
    const typeId = ++this.typeSeq;
    const deploymentIds = this.flavor === 'moodle'
      ? [String(typeId)]
      : [`${++this.canvasSeq}:${rand(20)}`];
    const client = {
      clientId,
      typeId,
      source,
      name: body.client_name,
      loginUrl: body.initiate_login_uri,
      redirectUris: body.redirect_uris,
      launchUrl: (rl && rl.target_link_uri) || tc.target_link_uri,
      deepLinkUrl: (dl && dl.target_link_uri) || tc.target_link_uri,
      jwksUrl: body.jwks_uri,
      domain: tc.domain,
      scopes: this._grantScopes(body.scope),
      customParameters: tc.custom_parameters || {},
      deploymentIds,
      body,
    };
    this.clients.set(clientId, client);
    return client;
  }

  /**
   * Configure a tool by hand, as an admin pasting URLs would.
   * tool: {loginUrl, launchUrl, jwksUrl, redirectUris?, deepLinkUrl?}
   */
  addManualRegistration({ clientId, deploymentId, deploymentIds, tool, scopes, customParameters } = {}) {
    const id = clientId || this._newClientId();
    const typeId = ++this.typeSeq;
    const deps = deploymentIds || [deploymentId || (this.flavor === 'moodle' ? String(typeId) : `${++this.canvasSeq}:${rand(20)}`)];
    const client = {
      clientId: id,
      typeId,
      source: 'manual',
      name: 'Attest (manual)',
      loginUrl: tool.loginUrl,
      redirectUris: tool.redirectUris || [tool.launchUrl],
      launchUrl: tool.launchUrl,
      deepLinkUrl: tool.deepLinkUrl || tool.launchUrl,
      jwksUrl: tool.jwksUrl,
      domain: new URL(tool.launchUrl).host,
      scopes: scopes || [SCOPES.score, SCOPES.resultReadonly, SCOPES.lineitemReadonly, SCOPES.lineitem, SCOPES.nrps],
      customParameters: customParameters || {},
      deploymentIds: deps,
      body: null,
    };
    this.clients.set(id, client);
    return client;
  }

  /** A client id as this LMS makes them (Moodle: 15 random characters; Canvas: developer key id). */
  _newClientId() {
    if (this.flavor === 'moodle') return alnum(15);
    return String(10000000000000 + crypto.randomInt(1, 99999) * 100 + (++this.canvasSeq % 100));
  }

  /** A new deployment of an existing client (Canvas: the tool installed in another account/course). */
  addDeployment(clientId, deploymentId) {
    const c = this._client(clientId);
    const id = deploymentId || (this.flavor === 'moodle' ? String(++this.typeSeq) : `${++this.canvasSeq}:${rand(20)}`);
    c.deploymentIds.push(id);
    return id;
  }

  _client(clientId) {
    if (clientId) {
      const c = this.clients.get(clientId);
      if (!c) throw new Error(`unknown client_id ${clientId}`);
      return c;
    }
    const all = [...this.clients.values()];
    if (all.length === 0) throw new Error('no tool registered with this platform (dynamicRegister or addManualRegistration first)');
    return all.at(-1);
  }

  // ------------------------------------------------------------------ launches

  _user(role, u = {}) {
    const isInstr = /instructor|admin|ta/i.test(role || '');
    const base = this.flavor === 'moodle'
      ? (isInstr
        ? { sub: '3', given_name: 'Ian', family_name: 'Instructor', email: 'ian.instructor@example.edu', username: 'ian' }
        : { sub: '5', given_name: 'Lea', family_name: 'Learner', email: 'lea.learner@example.edu', username: 'lea' })
      : (isInstr
        ? { sub: this._stableUuid('instructor'), given_name: 'Ian', family_name: 'Instructor', email: 'ian.instructor@example.edu' }
        : { sub: this._stableUuid('learner'), given_name: 'Lea', family_name: 'Learner', email: 'lea.learner@example.edu' });
    const user = { ...base, ...u };
    if (u.name === undefined) user.name = `${user.given_name} ${user.family_name}`;
    if (user.loginHint === undefined) {
      user.loginHint = this.flavor === 'moodle'
        ? String(user.sub)
        : crypto.createHash('sha1').update(String(user.sub) + this.guid).digest('hex');
    }
    return user;
  }

  _stableUuid(label) {
    const h = crypto.createHash('sha256').update(this.guid + label).digest('hex');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }

  /**
   * Create a pending launch (what the LMS keeps in its session between the login initiation
   * and the auth request). Returns the record; record.loginParams is what goes to the tool.
   */
  createLaunch(opts = {}) {
    const client = this._client(opts.clientId);
    const id = rand(8);
    const role = opts.role || 'learner';
    const user = this._user(role, opts.user || {});
    const messageType = opts.messageType || 'LtiResourceLinkRequest';
    const isDl = messageType === 'LtiDeepLinkingRequest';
    const deploymentId = opts.deploymentId ?? client.deploymentIds[0];
    const targetLinkUri = opts.targetLinkUri || (isDl ? client.deepLinkUrl : client.launchUrl);
    const courseId = opts.courseId || (this.flavor === 'moodle' ? '2' : '101');
    const linkId = opts.linkId || (this.flavor === 'moodle' ? '7' : this._stableUuid('link-' + courseId));
    const context = {
      id: this.flavor === 'moodle' ? courseId : crypto.createHash('sha1').update('ctx' + courseId + this.guid).digest('hex'),
      label: 'CERT101',
      title: 'Call Certification 101',
      type: ['http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering'],
      ...(opts.context || {}),
    };
    const placedLink = this.placedLinks.get(String(linkId));
    const resourceLink = {
      id: this.flavor === 'moodle' ? linkId : linkId,
      title: placedLink ? placedLink.title : 'Observed calls',
      description: 'Five observed calls, each scored on the call scorecard',
      ...(opts.resourceLink || {}),
    };
    const storageTarget = opts.storageTarget === undefined
      ? (this.flavor === 'canvas' ? 'post_message_forwarding' : null)
      : (opts.storageTarget || null);
    const messageHint = this.flavor === 'moodle'
      ? JSON.stringify({ cmid: isDl ? 0 : Number(linkId) || linkId, launchid: `ltilaunch${client.typeId}_${id}` })
      : `eyJ${b64json({ typ: 'JWT', alg: 'HS256' }).slice(3)}.${b64json({ verifier: rand(64), canvas_domain: 'emulated.instructure.test', context_type: 'Course', context_id: courseId, canvas_locale: 'en', include_storage_target: !!storageTarget, exp: nowSec() + 600 })}.${rand(32)}`;
    const rec = {
      id, client, clientId: client.clientId, role, user, messageType, deploymentId, targetLinkUri,
      courseId, linkId, context, resourceLink, storageTarget, messageHint, opts, authCount: 0,
      created: Date.now(),
    };
    const lp = {
      iss: this.issuer,
      login_hint: user.loginHint,
      target_link_uri: targetLinkUri,
      lti_message_hint: messageHint,
      client_id: client.clientId,
      lti_deployment_id: deploymentId,
    };
    if (this.flavor === 'canvas') {
      lp.canvas_environment = 'prod';
      lp.canvas_region = 'us-east-1';
      lp.deployment_id = deploymentId;
      if (storageTarget) lp.lti_storage_target = storageTarget;
    }
    if (opts.loginDeploymentId !== undefined) {
      lp.lti_deployment_id = opts.loginDeploymentId;
      if (this.flavor === 'canvas') lp.deployment_id = opts.loginDeploymentId;
    }
    for (const [k, v] of Object.entries(opts.loginParams || {})) lp[k] = v;
    for (const k of Object.keys(lp)) if (lp[k] === null || lp[k] === undefined) delete lp[k];
    rec.loginParams = lp;
    rec.loginUrl = opts.loginUrl || client.loginUrl;
    this.launches.set(id, rec);
    this.launchesByHint.set(messageHint, rec);
    return rec;
  }

  /** The claims of the id_token for a pending launch (before mutatePayload). */
  buildClaims(rec, nonce) {
    const o = rec.opts;
    const iat = nowSec();
    const client = rec.client;
    const isDl = rec.messageType === 'LtiDeepLinkingRequest';
    const audArray = o.audArray ?? false;
    const p = {
      nonce,
      iat,
      exp: iat + (o.ttl ?? (this.flavor === 'moodle' ? 60 : 3600)),
      iss: this.issuer,
      aud: o.aud ?? (audArray ? [client.clientId] : client.clientId),
      sub: String(rec.user.sub),
    };
    if (o.azp !== undefined) { if (o.azp !== null) p.azp = o.azp; } else if (audArray || this.flavor === 'canvas') p.azp = client.clientId;
    p[CLAIM.deploymentId] = rec.deploymentId;
    p[CLAIM.targetLinkUri] = rec.targetLinkUri;
    p[CLAIM.messageType] = rec.messageType;
    p[CLAIM.version] = '1.3.0';
    if (!isDl) p[CLAIM.resourceLink] = rec.resourceLink;
    const roles = o.roles !== undefined ? o.roles : (ROLE_PRESETS[this.flavor][rec.role] || ROLE_PRESETS[this.flavor].learner);
    if (roles !== null) p[CLAIM.roles] = roles;
    if (rec.context !== null && o.context !== null) p[CLAIM.context] = rec.context;
    const u = rec.user;
    for (const k of ['name', 'given_name', 'family_name', 'email']) if (u[k] !== undefined && u[k] !== null) p[k] = u[k];
    p[CLAIM.toolPlatform] = {
      guid: this.guid, name: this.name, product_family_code: this.flavor,
      version: this.flavor === 'moodle' ? '2024100701' : 'cloud',
      ...(this.flavor === 'moodle' ? { description: 'Emulated Moodle site' } : {}),
    };
    p[CLAIM.launchPresentation] = {
      locale: 'en', document_target: 'iframe',
      return_url: this.flavor === 'moodle'
        ? `${this.baseUrl}/mod/lti/return.php?course=${rec.courseId}&launch_container=3&instanceid=${rec.linkId}&sesskey=${rand(5)}`
        : `${this.lmsBase}/courses/${rec.courseId}/external_content/success/external_tool_redirect`,
    };
    const placed = this.placedLinks.get(String(rec.linkId));
    const custom = this._substitute({ ...client.customParameters, ...(placed ? placed.custom : {}), ...(o.custom || {}) }, rec);
    if (Object.keys(custom).length || this.flavor === 'canvas') p[CLAIM.custom] = custom;
    if (this.flavor === 'moodle') {
      p[CLAIM.lis] = { person_sourcedid: '', course_section_sourcedid: '' };
      p[CLAIM.ext] = { user_username: u.username || 'user' + u.sub, lms: 'moodle-2' };
    } else {
      p.picture = `${this.baseUrl}/images/messages/avatar-50.png`;
      p.locale = 'en';
      p[CLAIM.lis] = { person_sourcedid: null, course_offering_sourcedid: null };
      p[CLAIM.lti11LegacyUserId] = crypto.createHash('sha1').update(String(u.sub)).digest('hex');
      p['https://www.instructure.com/placement'] = isDl ? 'link_selection' : 'course_navigation';
      p['https://purl.imsglobal.org/spec/lti/claim/lti1p1'] = { user_id: p[CLAIM.lti11LegacyUserId] };
    }
    const scopes = client.scopes || [];
    const agsScopes = scopes.filter((s) => s.includes('/lti-ags/'));
    const wantAgs = o.ags === undefined ? agsScopes.length > 0 : !!o.ags;
    if (wantAgs) {
      // lineitem only for a link with a gradebook column (a deep-linked item with a lineItem)
      const li = !isDl && placed && placed.lineItemId ? this.lineItems.get(placed.lineItemId) : null;
      const ags = {
        scope: agsScopes.length ? agsScopes : [SCOPES.lineitem, SCOPES.lineitemReadonly, SCOPES.resultReadonly, SCOPES.score],
        lineitems: this.lineItemsUrl(rec.courseId, client.typeId),
        ...(li ? { lineitem: li.url } : {}),
      };
      p[CLAIM.ags] = typeof o.ags === 'object' ? { ...ags, ...o.ags } : ags;
    }
    const wantNrps = o.nrps === undefined ? scopes.includes(SCOPES.nrps) : !!o.nrps;
    if (wantNrps) {
      const nrps = {
        context_memberships_url: this.membershipsUrl(rec.courseId, client.typeId),
        service_versions: ['2.0'],
      };
      p[CLAIM.nrps] = typeof o.nrps === 'object' ? { ...nrps, ...o.nrps } : nrps;
    }
    if (isDl) {
      p[CLAIM.dlSettings] = {
        deep_link_return_url: `${this.lmsBase}/deep_link_return?course=${rec.courseId}&id=${client.typeId}&sesskey=${rand(5)}&launch=${rec.id}`,
        accept_types: ['ltiResourceLink'],
        accept_presentation_document_targets: ['frame', 'iframe', 'window'],
        accept_copy_advice: false,
        accept_multiple: true,
        accept_unsigned: false,
        accept_lineitem: true,
        auto_create: false,
        can_confirm: false,
        title: '',
        text: '',
        data: `dl-${rec.id}-${rand(4)}`,
        ...(o.deepLinking || {}),
      };
    }
    return p;
  }

  async _buildIdToken(rec, nonce) {
    let payload = this.buildClaims(rec, nonce);
    const o = rec.opts;
    if (o.mutatePayload) payload = (await o.mutatePayload(payload, rec)) || payload;
    const idToken = await this.sign(payload, { mode: o.signWith || 'platform', mutateHeader: o.mutateHeader, kid: o.kid });
    const [h] = idToken.split('.');
    const header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
    rec.idToken = idToken;
    rec.payload = payload;
    rec.header = header;
    if (rec.messageType === 'LtiDeepLinkingRequest') rec.dlSettings = payload[CLAIM.dlSettings];
    return { idToken, payload, header };
  }

  /**
   * Drive the whole login -> auth -> launch flow over HTTP with a cookie jar, like a browser.
   * See README.md for `opts`. Returns {stage, status, headers, body, location, cookies,
   * setCookies, login, auth, authRequest, authError, storagePage, idToken, payload, header,
   * state, launchFields, record, jar}.
   */
  async launch(opts = {}) {
    if (opts.replayIdToken) return this._replay(opts);
    const rec = this.createLaunch(opts);
    const jar = opts.jar || new CookieJar();
    const method = (opts.loginMethod || 'POST').toUpperCase();
    const out = { record: rec, jar, storagePage: null };
    let login;
    if (method === 'GET') {
      const u = new URL(rec.loginUrl);
      for (const [k, v] of Object.entries(rec.loginParams)) u.searchParams.set(k, v);
      login = await httpRequest(u.href, { jar });
    } else {
      login = await httpRequest(rec.loginUrl, { method: 'POST', form: rec.loginParams, jar });
    }
    out.login = login;
    const finish = (stage, r, extra = {}) => ({
      ...out, stage, status: r.status, headers: r.headers, body: r.body, location: r.location, url: r.url,
      setCookies: r.setCookies, cookies: jar.list(), ...extra,
    });
    let authUrl = null;
    if ([301, 302, 303, 307, 308].includes(login.status) && login.location) {
      authUrl = login.location;
    } else if (login.status === 200 && findAttr(login.body, 'data-auth-url')) {
      out.storagePage = {
        authUrl: new URL(findAttr(login.body, 'data-auth-url'), rec.loginUrl).href,
        target: findAttr(login.body, 'data-target'),
        origin: findAttr(login.body, 'data-origin'),
        html: login.body,
      };
      if (opts.onStoragePage === 'stop') return finish('login', login);
      authUrl = out.storagePage.authUrl; // what the page's script does after lti.put_data
    } else {
      return finish('login', login);
    }
    if (!authUrl.startsWith(this.urls.auth)) {
      return finish('login', login, { error: `login did not lead to the platform auth endpoint: ${authUrl}` });
    }
    const nAuth = this.authRequests.length;
    const auth = await httpRequest(authUrl, { jar });
    out.auth = auth;
    out.authRequest = this.authRequests[nAuth] || null;
    if (auth.status !== 200) return finish('auth', auth);
    const form = parseForms(auth.body, authUrl)[0];
    if (!form) return finish('auth', auth, { error: 'no form in auth response' });
    const fields = Object.fromEntries(form.fields);
    if (fields.error) out.authError = { error: fields.error, error_description: fields.error_description };
    if (opts.overrideState !== undefined) {
      if (opts.overrideState === null) delete fields.state; else fields.state = opts.overrideState;
    }
    if (opts.overrideIdToken !== undefined) fields.id_token = opts.overrideIdToken;
    for (const [k, v] of Object.entries(opts.extraLaunchFields || {})) {
      if (v === null) delete fields[k]; else fields[k] = v;
    }
    if (opts.dropCookies) jar.clear();
    const cookieHeader = jar.header(form.action);
    const launch = await httpRequest(form.action, { method: 'POST', form: fields, jar });
    this.lastLaunch = { redirectUri: form.action, fields: { ...fields }, cookieHeader, record: rec };
    return finish('launch', launch, {
      idToken: fields.id_token, state: fields.state, launchFields: fields,
      payload: rec.payload, header: rec.header,
    });
  }

  async _replay(opts) {
    const last = this.lastLaunch;
    if (!last) throw new Error('replayIdToken: no previous launch');
    const fields = { ...last.fields };
    if (opts.overrideState !== undefined) fields.state = opts.overrideState;
    const headers = last.cookieHeader && !opts.dropCookies ? { cookie: last.cookieHeader } : {};
    const r = await httpRequest(last.redirectUri, { method: 'POST', form: fields, headers });
    return {
      stage: 'launch', status: r.status, headers: r.headers, body: r.body, location: r.location, url: r.url,
      setCookies: r.setCookies, cookies: [], idToken: fields.id_token, state: fields.state,
      launchFields: fields, payload: last.record.payload, header: last.record.header, record: last.record, replay: true,
    };
  }

  /** URL of the LMS course page that launches the tool in an iframe (browser tests). */
  coursePageUrl(opts = {}) {
    const rec = this.createLaunch(opts);
    const q = new URLSearchParams({ launch: rec.id });
    if (opts.target) q.set('target', opts.target);
    if (opts.loginMethod) q.set('method', opts.loginMethod.toUpperCase());
    return `${this.lmsBase}/course/${encodeURIComponent(rec.courseId)}/launch/${encodeURIComponent(rec.linkId)}?${q}`;
  }

  // ------------------------------------------------------------------ HTTP handlers

  async _handle(req, res) {
    const url = new URL(req.url, this.baseUrl);
    const path = url.pathname;
    this.requests.push({ method: req.method, path, query: url.search, at: Date.now() });
    if (this.options.log) process.stderr.write(`[${this.flavor}:${this.port}] ${req.method} ${req.url}\n`);
    if (await this._handleService(req, res, url)) return;
    const send = (status, body, headers = {}) => {
      const isJson = typeof body === 'object' && body !== null;
      res.writeHead(status, {
        'content-type': isJson ? 'application/json; charset=utf-8' : 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        ...headers,
      });
      res.end(isJson ? JSON.stringify(body, null, 2) : body);
    };
    const bearer = () => {
      const h = req.headers.authorization || '';
      return h.startsWith('Bearer ') ? h.slice(7).trim() : null;
    };

    if ((path === '/.well-known/openid-configuration' || path === '/api/lti/security/openid-configuration') && req.method === 'GET') {
      const tok = bearer();
      this.configFetches.push({ at: Date.now(), authorization: req.headers.authorization || null });
      if (this.flavor === 'canvas') {
        const t = tok && this.regTokens.get(tok);
        if (!t || t.exp < Date.now()) return send(401, { errors: [{ message: 'Invalid or missing registration token' }] });
      }
      return send(200, this.openidConfiguration());
    }

    if ((path === '/register' || path === '/api/lti/registrations') && req.method === 'POST') return this._handleRegister(req, res, send, bearer());

    if (path === '/jwks' && req.method === 'GET') {
      this.jwksFetches++;
      if (this.jwksStatus !== 200) return send(this.jwksStatus, { error: 'unavailable' });
      return send(200, this.jwks, { 'cache-control': `max-age=${this.jwksMaxAge}` });
    }

    if (path === '/auth' && (req.method === 'GET' || req.method === 'POST')) {
      const params = req.method === 'POST' ? formObject(await readBody(req)) : Object.fromEntries(url.searchParams);
      return this._handleAuth(params, req.method, send);
    }

    if (path === '/token' && req.method === 'POST') {
      const params = formObject(await readBody(req));
      return this._handleToken(params, send);
    }

    if (path === '/deep_link_return' && req.method === 'POST') {
      const params = formObject(await readBody(req));
      return this._handleDeepLinkReturn(url, params, send);
    }

    let m;
    if ((m = /^\/course\/([^/]+)\/launch\/([^/]+)$/.exec(path)) && req.method === 'GET') {
      return this._handleCoursePage(decodeURIComponent(m[1]), decodeURIComponent(m[2]), url, send);
    }
    if (path === '/post_message_forwarding' && req.method === 'GET') {
      return send(200, STORAGE_FRAME_HTML);
    }
    if (path === '/storage-log' && req.method === 'POST') {
      try { this.storageLog.push(JSON.parse(await readBody(req))); } catch { /* ignore */ }
      return send(204, '');
    }
    // Cookie probes for browser tests: an LMS page framing /probe/set on another host name
    // (http://localhost:<this port>), which sets a plain and a Partitioned SameSite=None cookie
    // and then shows which cookies came back to /probe/get.
    if (path === '/probe/frame' && req.method === 'GET') {
      const src = url.searchParams.get('src') || '';
      return send(200, `<!DOCTYPE html><title>probe</title><iframe name="probe" id="probe" src="${esc(src)}"></iframe>`);
    }
    if (path === '/probe/set' && req.method === 'GET') {
      return send(200, '<!DOCTYPE html><title>probe</title><script>location.replace("/probe/get")</script>', {
        'set-cookie': ['probe_plain=1; Path=/; SameSite=None; Secure', 'probe_partitioned=1; Path=/; SameSite=None; Secure; Partitioned'],
      });
    }
    if (path === '/probe/get' && req.method === 'GET') {
      return send(200, `<!DOCTYPE html><title>probe</title><pre id="cookies">${esc(req.headers.cookie || '')}</pre>`);
    }
    if (path === '/' && req.method === 'GET') {
      return send(200, `<!DOCTYPE html><title>${esc(this.name)}</title><h1>${esc(this.name)}</h1><pre>${esc(JSON.stringify(this.urls, null, 2))}</pre>`);
    }
    return send(404, `<!DOCTYPE html><title>Not found</title><h1>404 Not found</h1><p>${esc(path)}</p>`);
  }

  async _handleRegister(req, res, send, token) {
    const text = await readBody(req);
    const entry = { at: Date.now(), token, authorization: req.headers.authorization || null,
      contentType: req.headers['content-type'] || null, raw: text, body: null, status: 0, response: null, error: null };
    this.registrations.push(entry);
    const fail = (status, error) => {
      entry.status = status;
      entry.error = error;
      if (this.flavor === 'moodle') return send(status, error, { 'content-type': 'text/plain; charset=utf-8' });
      return send(status, { errors: [].concat(error).map((message) => ({ message })) });
    };
    if (!token) return fail(401, 'missing_registration_token');
    let clientId;
    if (this.flavor === 'moodle') {
      const v = await this._checkMoodleRegToken(token);
      if (!v.ok) return fail(401, 'invalid_registration_token');
      clientId = v.clientId;
      if (this.clients.has(clientId)) return fail(401, 'token_already_used');
    } else {
      const t = this.regTokens.get(token);
      if (!t || t.exp < Date.now()) return fail(401, 'invalid_registration_token');
      if (t.used) return fail(401, 'token_already_used');
      clientId = this._newClientId();
    }
    let body;
    try { body = JSON.parse(text); } catch { return fail(400, 'invalid_json'); }
    entry.body = body;
    const errs = this._validateRegistration(body);
    if (errs.length) return fail(this.flavor === 'moodle' ? 400 : 422, this.flavor === 'moodle' ? errs[0] : errs);
    if (this.flavor === 'canvas') this.regTokens.get(token).used = true;
    const client = this._registerClient({ clientId, body, source: 'dynamic' });
    entry.clientId = clientId;
    entry.deploymentId = client.deploymentIds[0];
    const tc = body[TOOL_CONFIG];
    let response;
    if (this.flavor === 'moodle') {
      // Shape of mod_lti registration_helper::config_to_registration(), quirks included
      // (application_type comes back as an array).
      const dl = (tc.messages || []).find((x) => x.type === 'LtiDeepLinkingRequest');
      response = {
        client_id: clientId,
        token_endpoint_auth_method: 'private_key_jwt',
        response_types: ['id_token'],
        jwks_uri: body.jwks_uri,
        initiate_login_uri: body.initiate_login_uri,
        grant_types: ['client_credentials', 'implicit'],
        redirect_uris: body.redirect_uris,
        application_type: ['web'],
        client_name: body.client_name,
        logo_uri: body.logo_uri || '',
        scope: client.scopes.join(' '),
        [TOOL_CONFIG]: {
          deployment_id: String(client.typeId),
          target_link_uri: tc.target_link_uri,
          domain: tc.domain,
          description: tc.description || '',
          ...(dl ? { messages: [{ type: 'LtiDeepLinkingRequest', ...(dl.target_link_uri ? { target_link_uri: dl.target_link_uri } : {}) }] } : {}),
          ...(tc.custom_parameters ? { custom_parameters: tc.custom_parameters } : {}),
          claims: ['sub', 'iss', 'name', 'family_name', 'middle_name', 'email'],
        },
      };
    } else {
      response = {
        client_id: clientId,
        application_type: 'web',
        grant_types: body.grant_types,
        initiate_login_uri: body.initiate_login_uri,
        redirect_uris: body.redirect_uris,
        response_types: body.response_types,
        client_name: body.client_name,
        jwks_uri: body.jwks_uri,
        logo_uri: body.logo_uri,
        token_endpoint_auth_method: 'private_key_jwt',
        scope: client.scopes.join(' '),
        [TOOL_CONFIG]: { ...tc },
        'https://canvas.instructure.com/lti/registration_config_url': `${this.baseUrl}/api/lti/registrations/${client.typeId}/view`,
      };
    }
    entry.status = 200;
    entry.response = response;
    return send(200, response);
  }

  async _handleAuth(params, method, send) {
    const entry = { at: Date.now(), method, params, error: null, launchId: null };
    this.authRequests.push(entry);
    const client = this.clients.get(params.client_id);
    if (!client) {
      entry.error = 'unauthorized_client';
      return send(400, `<!DOCTYPE html><title>Error</title><h1>Invalid request</h1><p>unknown client_id</p>`);
    }
    if (!params.redirect_uri || !client.redirectUris.includes(params.redirect_uri)) {
      entry.error = 'invalid_redirect_uri';
      return send(400, `<!DOCTYPE html><title>Error</title><h1>Invalid request</h1><p>redirect_uri is not registered for this tool</p>`);
    }
    let error = null;
    let desc = null;
    const rec = params.lti_message_hint !== undefined ? this.launchesByHint.get(params.lti_message_hint) : undefined;
    if (!params.scope || !params.response_type || !params.login_hint || !params.nonce) { error = 'invalid_request'; desc = 'Missing required parameter'; }
    else if (params.scope !== 'openid') error = 'invalid_scope';
    else if (params.response_type !== 'id_token') error = 'unsupported_response_type';
    else if (!rec) { error = 'invalid_request'; desc = 'lti_message_hint missing or not the one sent at login'; }
    else if (rec.clientId !== params.client_id) error = 'unauthorized_client';
    else if (params.login_hint !== rec.user.loginHint) error = 'access_denied';
    else if (params.response_mode !== 'form_post') { error = 'invalid_request'; desc = params.response_mode ? 'Invalid response_mode' : 'Missing response_mode'; }
    else if (params.prompt !== 'none') { error = 'invalid_request'; desc = 'Invalid prompt'; }
    const fields = {};
    if (error) {
      entry.error = error;
      fields.error = error;
      if (desc) fields.error_description = desc;
    } else {
      entry.launchId = rec.id;
      rec.authCount++;
      rec.nonce = params.nonce;
      rec.state = params.state;
      const { idToken } = await this._buildIdToken(rec, params.nonce);
      fields.id_token = idToken;
    }
    if (params.state !== undefined) fields.state = params.state;
    if (!error && rec.storageTarget && this.flavor === 'canvas') fields.lti_storage_target = rec.storageTarget;
    return send(200, autoPostPage(params.redirect_uri, fields));
  }

  async _fetchToolJwks(client) {
    const r = await fetch(client.jwksUrl, { signal: AbortSignal.timeout(10000) });
    if (!r.ok) throw new Error(`tool JWKS ${client.jwksUrl} answered ${r.status}`);
    return jose.createLocalJWKSet(await r.json());
  }

  async _handleToken(params, send) {
    const entry = { at: Date.now(), params, error: null, clientId: null, scope: null };
    this.tokenRequests.push(entry);
    const fail = (status, error, description) => {
      entry.error = error;
      entry.description = description;
      return send(status, { error, error_description: description });
    };
    if (params.grant_type !== 'client_credentials') return fail(400, 'unsupported_grant_type', 'grant_type must be client_credentials');
    if (params.client_assertion_type !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') return fail(400, 'invalid_request', 'bad client_assertion_type');
    if (!params.client_assertion) return fail(400, 'invalid_request', 'missing client_assertion');
    let claims;
    try { claims = jose.decodeJwt(params.client_assertion); } catch { return fail(400, 'invalid_request', 'client_assertion is not a JWT'); }
    const client = this.clients.get(claims.sub) || this.clients.get(claims.iss);
    if (!client) return fail(401, 'invalid_client', 'unknown client');
    entry.clientId = client.clientId;
    let verified;
    try {
      const keys = await this._fetchToolJwks(client);
      verified = await jose.jwtVerify(params.client_assertion, keys, {
        algorithms: ['RS256'],
        issuer: client.clientId,
        subject: client.clientId,
        audience: this.tokenAudCheck ? this.urls.token : undefined,
        maxTokenAge: '10 minutes',
        requiredClaims: ['iat', 'exp', 'jti'],
      });
    } catch (e) {
      return fail(401, 'invalid_client', `client_assertion rejected: ${e.code || e.message}`);
    }
    if (!verified.protectedHeader.kid) return fail(401, 'invalid_client', 'client_assertion has no kid');
    const jti = verified.payload.jti;
    if (this.usedJti.has(jti)) return fail(401, 'invalid_client', 'jti already used');
    this.usedJti.add(jti);
    const asked = String(params.scope || '').split(/\s+/).filter(Boolean);
    const granted = asked.filter((s) => client.scopes.includes(s) && !this.tokenDropScopes.includes(s));
    if (asked.length && granted.length === 0) return fail(400, 'invalid_scope', 'none of the requested scopes is granted');
    const token = rand(24);
    this.accessTokens.set(token, { clientId: client.clientId, scopes: granted, exp: Date.now() + 3600e3 });
    entry.scope = granted.join(' ');
    return send(200, { access_token: token, token_type: 'Bearer', expires_in: 3600, scope: granted.join(' ') });
  }

  async _handleDeepLinkReturn(url, params, send) {
    const entry = { at: Date.now(), jwt: params.JWT, errors: [], payload: null, header: null, launchId: url.searchParams.get('launch') };
    this.deepLinkResponses.push(entry);
    const rec = this.launches.get(entry.launchId);
    const err = (e) => entry.errors.push(e);
    if (!params.JWT) err('missing JWT form field');
    if (!rec) err('unknown launch');
    if (entry.errors.length) return send(400, `<!DOCTYPE html><title>Deep linking failed</title><h1>Deep linking failed</h1><ul>${entry.errors.map((e) => `<li>${esc(e)}</li>`).join('')}</ul>`);
    try {
      const keys = await this._fetchToolJwks(rec.client);
      const v = await jose.jwtVerify(params.JWT, keys, { algorithms: ['RS256'], issuer: rec.clientId, audience: this.issuer });
      entry.payload = v.payload;
      entry.header = v.protectedHeader;
      const p = v.payload;
      if (!v.protectedHeader.kid) err('no kid in header');
      if (!p.nonce) err('no nonce');
      else if (this.usedDlNonces.has(p.nonce)) err('nonce replayed'); else this.usedDlNonces.add(p.nonce);
      if (typeof p.exp !== 'number' || typeof p.iat !== 'number') err('iat/exp missing');
      if (p[CLAIM.messageType] !== 'LtiDeepLinkingResponse') err('message_type is not LtiDeepLinkingResponse');
      if (p[CLAIM.version] !== '1.3.0') err('version is not 1.3.0');
      if (p[CLAIM.deploymentId] !== rec.deploymentId) err('deployment_id differs from the request');
      const want = rec.dlSettings && rec.dlSettings.data;
      if (want !== undefined && want !== null && p[CLAIM.dlData] !== want) err('data not echoed');
      if (!Array.isArray(p[CLAIM.dlContentItems])) err('content_items missing');
      else for (const ci of p[CLAIM.dlContentItems]) { const e = this._checkLineItemContentItem(ci || {}); if (e) err(e); }
    } catch (e) {
      err(`JWT rejected: ${e.code || ''} ${e.message}`);
    }
    entry.ok = entry.errors.length === 0;
    if (!entry.ok) return send(400, `<!DOCTYPE html><title>Deep linking failed</title><h1>Deep linking failed</h1><ul>${entry.errors.map((e) => `<li>${esc(e)}</li>`).join('')}</ul>`);
    const items = entry.payload[CLAIM.dlContentItems];
    entry.links = this._placeContentItems(rec, items);
    return send(200, `<!DOCTYPE html><title>Content added</title><h1>Content added</h1><p>${items.length} item(s) added to the course.</p><ul>${items.map((i) => `<li>${esc(i.title || i.type)}</li>`).join('')}</ul>`);
  }

  _handleCoursePage(courseId, linkId, url, send) {
    let rec = this.launches.get(url.searchParams.get('launch') || '');
    if (!rec) {
      const q = url.searchParams;
      rec = this.createLaunch({
        courseId, linkId,
        clientId: q.get('client_id') || undefined,
        role: q.get('role') || 'learner',
        messageType: q.get('message_type') || undefined,
        user: q.get('name') ? { name: q.get('name') } : undefined,
      });
    }
    const method = (url.searchParams.get('method') || 'POST').toUpperCase();
    const top = url.searchParams.get('target') === 'window';
    const storage = this.flavor === 'canvas' && !top;
    const frameName = 'tool_frame';
    const lp = { ...rec.loginParams };
    if (top) delete lp.lti_storage_target;
    let starter;
    if (method === 'GET') {
      const u = new URL(rec.loginUrl);
      for (const [k, v] of Object.entries(lp)) u.searchParams.set(k, v);
      starter = `<form id="ltiLoginForm" action="${esc(u.href)}" method="get" target="${top ? '_self' : frameName}">${Object.entries(lp).map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v)}">`).join('')}</form>`;
    } else {
      starter = `<form id="ltiLoginForm" action="${esc(rec.loginUrl)}" method="post" target="${top ? '_self' : frameName}">${Object.entries(lp).map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v)}">`).join('')}</form>`;
    }
    const html = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(rec.context.title)} - ${esc(this.name)}</title>
<style>body{font-family:sans-serif;margin:0}header{background:${this.flavor === 'canvas' ? '#2d3b45' : '#f98012'};color:#fff;padding:8px 16px}
iframe#tool_frame{border:0;width:100%;height:640px}</style></head>
<body data-flavor="${esc(this.flavor)}" data-launch="${esc(rec.id)}">
<header><strong>${esc(this.name)}</strong> &rsaquo; ${esc(rec.context.title)} &rsaquo; ${esc(rec.resourceLink.title)}</header>
${storage ? `<iframe name="post_message_forwarding" id="post_message_forwarding" title="platform storage" src="${esc(this.urls.storageFrame)}" style="display:none" aria-hidden="true"></iframe>` : ''}
${starter}
${top ? '' : `<iframe name="${frameName}" id="${frameName}" title="${esc(rec.resourceLink.title)}" src="about:blank" allow="camera *; microphone *; clipboard-write *; fullscreen *"></iframe>`}
<script>
${storage ? STORAGE_TOP_SCRIPT : 'window.__ltiMessages = [];'}
(function(){
  var f = document.getElementById('ltiLoginForm');
  var started = false;
  function start() { if (!started) { started = true; f.submit(); } }
  if (document.getElementById('post_message_forwarding')) {
    // The storage frame (on the sso origin) says when it listens; do not wait for ever.
    window.addEventListener('message', function (ev) {
      if (ev.data && ev.data.subject === 'emulator.storage_ready') start();
    });
    setTimeout(start, 10000);
  } else start();
})();
</script>
</body></html>`;
    return send(200, html);
  }
}

// Platform storage (LTI postMessage Storage, lti-pm-s v0.1 + the org.imsglobal.* early names).
// The store lives in the top LMS window; the hidden post_message_forwarding frame and the
// top window both answer, so tools that target either work. Scoped by the sender's origin.
const STORAGE_CORE = `
function __ltiHandle(ev, where, store, log) {
  var d = ev.data;
  if (typeof d === 'string') { try { d = JSON.parse(d); } catch (e) { return; } }
  if (!d || typeof d !== 'object' || typeof d.subject !== 'string') return;
  var subject = d.subject;
  var prefix = subject.indexOf('org.imsglobal.') === 0 ? 'org.imsglobal.' : '';
  var base = subject.slice(prefix.length);
  if (!/^lti\\.(put_data|get_data|capabilities)$/.test(base)) return;
  var reply = { subject: subject + '.response', message_id: d.message_id };
  var bucket = store[ev.origin] || (store[ev.origin] = {});
  if (base === 'lti.capabilities') {
    reply.supported_messages = [
      { subject: 'lti.capabilities' },
      { subject: 'lti.put_data', frame: 'post_message_forwarding' },
      { subject: 'lti.get_data', frame: 'post_message_forwarding' },
      { subject: 'org.imsglobal.lti.capabilities' },
      { subject: 'org.imsglobal.lti.put_data', frame: 'post_message_forwarding' },
      { subject: 'org.imsglobal.lti.get_data', frame: 'post_message_forwarding' }
    ];
  } else if (typeof d.key !== 'string' || d.key === '') {
    reply.error = { code: 'bad_request', message: 'key is required' };
  } else if (base === 'lti.put_data') {
    reply.key = d.key;
    if (d.value === undefined || d.value === null) { delete bucket[d.key]; reply.value = d.value; }
    else { bucket[d.key] = String(d.value); reply.value = String(d.value); }
  } else {
    reply.key = d.key;
    if (Object.prototype.hasOwnProperty.call(bucket, d.key)) reply.value = bucket[d.key];
    else reply.error = { code: 'bad_request', message: 'could not find key ' + d.key };
  }
  var entry = { where: where, origin: ev.origin, request: d, response: reply, at: Date.now() };
  log.push(entry);
  try { navigator.sendBeacon('/storage-log', JSON.stringify(entry)); } catch (e) {}
  if (ev.source) ev.source.postMessage(reply, ev.origin === 'null' ? '*' : ev.origin);
}
`;

const STORAGE_TOP_SCRIPT = `${STORAGE_CORE}
window.__ltiStore = window.__ltiStore || {};
window.__ltiMessages = window.__ltiMessages || [];
window.addEventListener('message', function (ev) { __ltiHandle(ev, 'top', window.__ltiStore, window.__ltiMessages); });
`;

const STORAGE_FRAME_HTML = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>post_message_forwarding</title></head><body>
<script>${STORAGE_CORE}
var store = window.__ltiStore = {};
var log = window.__ltiMessages = [];
window.addEventListener('message', function (ev) { __ltiHandle(ev, 'post_message_forwarding', store, log); });
if (window.parent && window.parent !== window) window.parent.postMessage({ subject: 'emulator.storage_ready' }, '*');
</script></body></html>`;

Object.assign(Platform.prototype, serviceMethods);
