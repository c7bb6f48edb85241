// http-util.mjs: small helpers shared by the platform emulator and the e2e suites:
// a browser-like cookie jar, an HTML form parser and entity decoding.

/** Escape text for HTML text nodes and double/single quoted attributes. */
export function esc(s) {
  return String(s ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const NAMED = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0', '#39': "'" };

/** Decode the HTML character references a server is likely to emit. */
export function decodeEntities(s) {
  return String(s ?? '').replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (m, e) => {
    if (e[0] === '#') {
      const n = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return Number.isFinite(n) ? String.fromCodePoint(n) : m;
    }
    const v = NAMED[e.toLowerCase()];
    return v === undefined ? m : v;
  });
}

/** Text content of an HTML document: tags removed, scripts/styles dropped, entities decoded. */
export function htmlText(html) {
  return decodeEntities(String(html ?? '')
    .replace(/<script\b[\s\S]*?<\/script>/gi, ' ')
    .replace(/<style\b[\s\S]*?<\/style>/gi, ' ')
    .replace(/<[^>]*>/g, ' '))
    .replace(/\s+/g, ' ')
    .trim();
}

/** Parse the attributes of a start tag's inside ("a=1 b='2' c"). Values are entity-decoded. */
export function parseAttrs(s) {
  const attrs = {};
  const re = /([^\s=\/>"']+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g;
  let m;
  while ((m = re.exec(s || '')) !== null) {
    const name = m[1].toLowerCase();
    if (name in attrs) continue;
    const raw = m[2] ?? m[3] ?? m[4];
    attrs[name] = raw === undefined ? '' : decodeEntities(raw);
  }
  return attrs;
}

/** Attribute value of the first element carrying attribute `name` (e.g. data-auth-url). */
export function findAttr(html, name) {
  const re = new RegExp(`<[a-z][^>]*\\s${name.replace(/[-]/g, '\\-')}\\s*=\\s*("([^"]*)"|'([^']*)')`, 'i');
  const m = re.exec(html || '');
  return m ? decodeEntities(m[2] ?? m[3]) : null;
}

/**
 * Parse every <form> of a page into {attrs, action, method, fields, controls}.
 * `fields` is what a browser would submit without user interaction ([name, value] pairs,
 * unchecked radios/checkboxes left out, first <option> of a select when none is selected).
 * `controls` lists every named control with its type so a test can pick values.
 */
export function parseForms(html, baseUrl) {
  const forms = [];
  const reForm = /<form\b([^>]*)>([\s\S]*?)(?:<\/form\s*>|$)/gi;
  let fm;
  while ((fm = reForm.exec(html || '')) !== null) {
    const attrs = parseAttrs(fm[1]);
    const inner = fm[2];
    const controls = [];
    const reCtl = /<input\b([^>]*)>|<textarea\b([^>]*)>([\s\S]*?)<\/textarea\s*>|<select\b([^>]*)>([\s\S]*?)<\/select\s*>|<button\b([^>]*)>([\s\S]*?)<\/button\s*>/gi;
    let cm;
    while ((cm = reCtl.exec(inner)) !== null) {
      if (cm[1] !== undefined) {
        const a = parseAttrs(cm[1]);
        const type = (a.type || 'text').toLowerCase();
        controls.push({ tag: 'input', type, name: a.name, value: a.value ?? (type === 'checkbox' || type === 'radio' ? 'on' : ''),
          checked: 'checked' in a, disabled: 'disabled' in a, attrs: a });
      } else if (cm[2] !== undefined) {
        const a = parseAttrs(cm[2]);
        controls.push({ tag: 'textarea', type: 'textarea', name: a.name, value: decodeEntities(cm[3]).replace(/^\n/, ''), disabled: 'disabled' in a, attrs: a });
      } else if (cm[4] !== undefined) {
        const a = parseAttrs(cm[4]);
        const options = [];
        const reOpt = /<option\b([^>]*)>([\s\S]*?)(?=<option\b|<\/select|$)/gi;
        let om;
        while ((om = reOpt.exec(cm[5])) !== null) {
          const oa = parseAttrs(om[1]);
          const text = htmlText(om[2].replace(/<\/option\s*>[\s\S]*$/i, ''));
          options.push({ value: oa.value ?? text, text, selected: 'selected' in oa });
        }
        const sel = options.find((o) => o.selected) || options[0];
        controls.push({ tag: 'select', type: 'select', name: a.name, value: sel ? sel.value : '', options, disabled: 'disabled' in a, attrs: a });
      } else {
        const a = parseAttrs(cm[6]);
        controls.push({ tag: 'button', type: (a.type || 'submit').toLowerCase(), name: a.name, value: a.value ?? '', text: htmlText(cm[7]), disabled: 'disabled' in a, attrs: a });
      }
    }
    const fields = [];
    for (const c of controls) {
      if (!c.name || c.disabled) continue;
      if (c.tag === 'button' || ['submit', 'image', 'reset', 'button', 'file'].includes(c.type)) continue;
      if ((c.type === 'checkbox' || c.type === 'radio') && !c.checked) continue;
      fields.push([c.name, c.value]);
    }
    const action = attrs.action !== undefined && attrs.action !== '' ? attrs.action : (baseUrl || '');
    forms.push({
      attrs,
      id: attrs.id,
      name: attrs.name,
      method: (attrs.method || 'GET').toUpperCase(),
      action: baseUrl ? new URL(action, baseUrl).href : action,
      fields,
      controls,
      field(name) { const f = fields.find(([n]) => n === name); return f ? f[1] : undefined; },
    });
  }
  return forms;
}

/** True when a form is an auto-submitting one (a script calls .submit()). */
export function isAutoSubmitPage(html) {
  return /\.submit\(\s*\)/.test(html || '');
}

function isPotentiallyTrustworthy(u) {
  return u.protocol === 'https:' || u.hostname === 'localhost' || u.hostname === '127.0.0.1' || u.hostname === '[::1]';
}

/**
 * A browser-like cookie jar (RFC 6265 subset): host-only and Domain cookies, Path matching,
 * Secure (sent to https and to loopback hosts, as Chromium does), Max-Age/Expires deletion.
 * Partitioned and SameSite are recorded; the HTTP launcher acts as a top-level browser
 * for which they do not restrict sending.
 */
export class CookieJar {
  constructor() { this.cookies = []; }

  /** Store the Set-Cookie header values of a response to `url`. */
  store(url, setCookies) {
    const u = new URL(url);
    for (const line of setCookies || []) {
      const parts = line.split(';');
      const first = parts.shift();
      const eq = first.indexOf('=');
      if (eq <= 0) continue;
      const c = { name: first.slice(0, eq).trim(), value: first.slice(eq + 1).trim(), hostOnly: true,
        domain: u.hostname, path: null, secure: false, httpOnly: false, sameSite: null, partitioned: false,
        expires: null, raw: line };
      for (const p of parts) {
        const i = p.indexOf('=');
        const k = (i < 0 ? p : p.slice(0, i)).trim().toLowerCase();
        const v = i < 0 ? '' : p.slice(i + 1).trim();
        if (k === 'path') c.path = v.startsWith('/') ? v : null;
        else if (k === 'domain' && v) { c.domain = v.replace(/^\./, '').toLowerCase(); c.hostOnly = false; }
        else if (k === 'secure') c.secure = true;
        else if (k === 'httponly') c.httpOnly = true;
        else if (k === 'samesite') c.sameSite = v;
        else if (k === 'partitioned') c.partitioned = true;
        else if (k === 'max-age') c.expires = Date.now() + Number(v) * 1000;
        else if (k === 'expires' && c.expires === null) { const t = Date.parse(v); if (!Number.isNaN(t)) c.expires = t; }
      }
      if (c.path === null) {
        const dir = u.pathname.slice(0, u.pathname.lastIndexOf('/'));
        c.path = dir || '/';
      }
      if (c.secure && !isPotentiallyTrustworthy(u)) continue;
      this.cookies = this.cookies.filter((o) => !(o.name === c.name && o.domain === c.domain && o.path === c.path));
      if (c.expires === null || c.expires > Date.now()) this.cookies.push(c);
    }
  }

  /** The cookies a browser would send to `url`, in RFC 6265 order. */
  matching(url) {
    const u = new URL(url);
    const now = Date.now();
    this.cookies = this.cookies.filter((c) => c.expires === null || c.expires > now);
    return this.cookies.filter((c) => {
      const host = u.hostname.toLowerCase();
      if (c.hostOnly ? host !== c.domain : !(host === c.domain || host.endsWith('.' + c.domain))) return false;
      const p = u.pathname;
      if (!(p === c.path || (p.startsWith(c.path) && (c.path.endsWith('/') || p[c.path.length] === '/')))) return false;
      if (c.secure && !isPotentiallyTrustworthy(u)) return false;
      return true;
    }).sort((a, b) => b.path.length - a.path.length);
  }

  header(url) {
    return this.matching(url).map((c) => `${c.name}=${c.value}`).join('; ');
  }

  get(name) { return this.cookies.find((c) => c.name === name); }
  list() { return this.cookies.map((c) => ({ ...c })); }
  clear() { this.cookies = []; }
  clone() { const j = new CookieJar(); j.cookies = this.cookies.map((c) => ({ ...c })); return j; }
}

/**
 * fetch() that never follows redirects and keeps cookies in `jar`.
 * Returns {status, headers (plain object, lower-case), setCookies, body, location, url}.
 */
export async function httpRequest(url, { method = 'GET', form, json, headers = {}, jar, body, signal } = {}) {
  const h = { 'user-agent': 'attest-platform-emulator/1 (like a browser)', ...headers };
  let payload = body;
  if (form) {
    payload = new URLSearchParams(form instanceof URLSearchParams ? form : Object.entries(form).filter(([, v]) => v !== undefined && v !== null)).toString();
    h['content-type'] = 'application/x-www-form-urlencoded';
  } else if (json !== undefined) {
    payload = JSON.stringify(json);
    h['content-type'] = 'application/json';
  }
  if (jar) {
    const c = jar.header(url);
    if (c) h.cookie = c;
  }
  const res = await fetch(url, { method, headers: h, body: payload, redirect: 'manual', signal: signal ?? AbortSignal.timeout(30000) });
  const setCookies = typeof res.headers.getSetCookie === 'function' ? res.headers.getSetCookie() : [];
  if (jar) jar.store(url, setCookies);
  const text = await res.text();
  const hdrs = {};
  res.headers.forEach((v, k) => { hdrs[k] = v; });
  const location = res.headers.get('location');
  return { status: res.status, headers: hdrs, setCookies, body: text, location: location ? new URL(location, url).href : null, url };
}
