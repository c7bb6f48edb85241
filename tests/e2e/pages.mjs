// pages.mjs: shared helpers for the browser tests of Attest's pages — open Attest inside the
// emulated LMS course page (a cross-site iframe, third-party cookies blocked), take
// screenshots a reviewer can look at, and check accessibility with axe-core (WCAG 2.1 AA).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { ROOT } from './stack.mjs';

export const SHOTS = path.join(ROOT, 'var', 'test-screenshots');
fs.mkdirSync(SHOTS, { recursive: true });

/** Desktop LMS page and a phone (Attest opened on its own, as the Moodle app does). */
export const VIEWPORTS = { desktop: { width: 1280, height: 900 }, phone: { width: 390, height: 844 } };

/**
 * Open emu's course page launching Attest with launchOpts (role, user, context, ...) in the
 * browser page `page`; wait for the tool frame to reach /app?s=. Returns
 * {frame, url, token, base} where token is the session token of this launch.
 */
export async function openInLms(page, emu, launchOpts, { timeout = 30000 } = {}) {
  await page.goto(emu.coursePageUrl(launchOpts), { waitUntil: 'domcontentloaded', timeout: 20000 });
  const deadline = Date.now() + timeout;
  for (;;) {
    // Under load Playwright may keep a stale URL on the named frame after its cross-site
    // (out-of-process) navigation: look at every frame for the tool's page too.
    const frame = page.frames().find((f) => /\/app\?s=/.test(f.url())) || page.frame({ name: 'tool_frame' });
    const u = frame?.url() || '';
    if (/\/app\?s=/.test(u)) {
      await frame.waitForLoadState('load', { timeout: 10000 }).catch(() => {});
      const url = new URL(u);
      return { frame, url: u, token: url.searchParams.get('s'), base: url.origin };
    }
    if (Date.now() > deadline) {
      const text = frame ? await frame.locator('body').innerText().catch(() => '') : '';
      throw new Error(`the tool frame did not reach /app (at ${u || 'no frame'}): ${text.slice(0, 300)}`);
    }
    await page.waitForTimeout(150);
  }
}

/**
 * Launch without the LMS frame (top-level, as on a phone): the platform's launch through
 * the given browser page; returns {url, token, base} once the page is at /app?s=.
 */
export async function openTopLevel(page, emu, launchOpts, { timeout = 30000 } = {}) {
  await page.goto(emu.coursePageUrl({ ...launchOpts, target: 'window' }), { waitUntil: 'domcontentloaded' });
  await page.waitForURL(/\/app\?s=/, { timeout });
  const url = new URL(page.url());
  return { url: page.url(), token: url.searchParams.get('s'), base: url.origin };
}

/** Screenshot of a page (or of the page holding a frame): var/test-screenshots/<name>.png */
export async function shot(pageOrFrame, name) {
  const page = typeof pageOrFrame.page === 'function' ? pageOrFrame.page() : pageOrFrame;
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

const require = createRequire(path.join(ROOT, 'tests', 'platform', 'package.json'));
let axeSource;

/**
 * Run axe-core (WCAG 2.0/2.1 A and AA rules) in pageOrFrame and fail on any violation,
 * naming the rule, the impact and the first offending nodes. opts.disable: rule ids to skip
 * (each must carry a reason in the calling test).
 */
export async function checkA11y(pageOrFrame, label, { disable = [] } = {}) {
  axeSource ??= fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  // evaluate() is not subject to the page's CSP (script-src 'self'), a script tag would be.
  await pageOrFrame.evaluate(axeSource);
  const res = await pageOrFrame.evaluate(async (rules) => {
    const r = await window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
      rules: Object.fromEntries(rules.map((id) => [id, { enabled: false }])),
    });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ') + ': ' + n.failureSummary) }));
  }, disable);
  assert.deepEqual(res, [], `${label}: accessibility violations:\n${JSON.stringify(res, null, 2)}`);
}
