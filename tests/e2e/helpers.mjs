// helpers.mjs: assertions shared by the e2e suites.
import assert from 'node:assert/strict';
import { httpRequest, htmlText } from '../platform/platform.mjs';

/** A display name that breaks any page that forgets to escape. */
export const HOSTILE_NAME = '<b>O\'Neil & "Co"</b>';
export const COURSE_TITLE = 'Call Certification 101 <i>&</i> "Leads"';

/** What tells the learner page from the instructor/course page (fcgi/page_app.c). */
export const PAGE = {
  learner: /\blearner\b/i,
  instructor: /\b(instructor|administrator)\b/i,
};

/**
 * Follow the tool's 303 to /app?s=... with a cookie-less client (the session must not depend
 * on any cookie) and return the page {status, body, text, url}.
 */
export async function followToApp(res, label = '') {
  assert.equal(res.stage, 'launch', `${label}: the flow stopped at the ${res.stage} step (status ${res.status}): ${htmlText(res.body).slice(0, 300)}`);
  assert.equal(res.status, 303, `${label}: launch answered ${res.status}, not 303: ${htmlText(res.body).slice(0, 400)}`);
  assert.ok(res.location, `${label}: 303 without Location`);
  const url = new URL(res.location);
  assert.equal(url.pathname, '/app', `${label}: 303 goes to ${url.pathname}, not /app`);
  assert.ok(url.searchParams.get('s'), `${label}: no s= session token in ${res.location}`);
  const page = await httpRequest(url.href);
  return { ...page, text: htmlText(page.body) };
}

/** The page shows the user's name and the course title, escaped, and is the page for `role`. */
export function assertLandedOn(page, { name, course, role }, label = '') {
  assert.equal(page.status, 200, `${label}: /app answered ${page.status}: ${page.text?.slice(0, 300)}`);
  assert.ok(page.text.includes(name), `${label}: page does not show the user's name ${JSON.stringify(name)}: ${page.text.slice(0, 400)}`);
  if (course) assert.ok(page.text.includes(course), `${label}: page does not show the course title ${JSON.stringify(course)}`);
  const raw = page.body;
  for (const bad of ['<b>O', '<i>&</i>', '"Co"</b>']) {
    assert.ok(!raw.includes(bad), `${label}: page echoes ${JSON.stringify(bad)} unescaped`);
  }
  if (role === 'learner') {
    assert.match(page.text, PAGE.learner, `${label}: not the learner page`);
    assert.doesNotMatch(page.text, /Learners seen/i, `${label}: a learner sees the course (instructor) page`);
  } else if (role === 'instructor') {
    assert.match(page.text, PAGE.instructor, `${label}: not the instructor page`);
  }
}

/** A rejected launch: a 4xx HTML page that does not echo the id_token. */
export function assertRejected(res, label = '') {
  assert.ok(['login', 'launch'].includes(res.stage),
    `${label}: the tool was expected to reject at login or launch, the flow stopped at ${res.stage} (status ${res.status}${res.authError ? ', auth error ' + res.authError.error : ''})`);
  assert.ok(res.status >= 400 && res.status < 500,
    `${label}: expected a 4xx rejection at ${res.stage}, got ${res.status}${res.location ? ' -> ' + res.location : ''}: ${htmlText(res.body).slice(0, 300)}`);
  assert.match(res.headers['content-type'] || '', /text\/html/, `${label}: rejection is not an HTML page`);
  if (res.idToken) {
    const [h, p, s] = res.idToken.split('.');
    for (const part of [res.idToken, p, s, h + '.' + p].filter((x) => x && x.length > 16)) {
      assert.ok(!res.body.includes(part), `${label}: the error page echoes the id_token`);
    }
  }
  return res;
}

/**
 * True when `re` matches the page or one of its same-origin <script src> files (pages that keep
 * their JavaScript in /static files under a strict CSP).
 */
export async function pageOrScriptsMatch(html, pageUrl, re) {
  if (re.test(html)) return true;
  const srcs = [...String(html).matchAll(/<script\b[^>]*\bsrc\s*=\s*["']?([^"'\s>]+)/gi)].map((m) => new URL(m[1], pageUrl));
  for (const u of srcs) {
    if (u.origin !== new URL(pageUrl).origin) continue;
    const r = await httpRequest(u.href);
    if (r.status === 200 && re.test(r.body)) return true;
  }
  return false;
}
