// browser.mjs: headless Chromium (Debian's /usr/bin/chromium through playwright-core) with a
// fresh profile whose cookie settings are chosen by the test.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

export { chromium };

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

// notes/pitfalls.md: root needs --no-sandbox; quiet background networking.
// Site isolation off: the LMS iframe's cross-site hops (LMS → tool → LMS auth → tool) would
// each swap the frame into another renderer process, and on a loaded machine Playwright can
// lose track of such a swapped frame (its URL stays at the previous hop). Cookie blocking,
// partitioning and postMessage do not depend on the process model.
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-site-isolation-trials', '--disable-features=IsolateOrigins,site-per-process'];

/**
 * Start Chromium with a fresh user-data-dir.
 * cookies:
 *   'default'            Chromium defaults.
 *   'block-third-party'  "Block third-party cookies" (profile.block_third_party_cookies,
 *                        cookie_controls_mode 1). Chromium still allows Partitioned (CHIPS) cookies.
 *   'no-cross-site'      the above, plus a site exception that blocks every cookie of
 *                        `embedded` (e.g. http://localhost:*) when framed by `top`
 *                        (e.g. http://127.0.0.1:*): partitioned cookies are refused too, as
 *                        Safari does. Top-level visits to `embedded` keep their cookies.
 * Returns {context, page, userDataDir, close()}.
 */
export async function launchBrowser({ cookies = 'block-third-party', embedded = 'http://localhost:*', top = 'http://127.0.0.1:*', viewport = { width: 1200, height: 900 } } = {}) {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'attest-chromium-'));
  const profile = {};
  if (cookies !== 'default') {
    profile.block_third_party_cookies = true;
    profile.cookie_controls_mode = 1;
  }
  if (cookies === 'no-cross-site') {
    profile.content_settings = { exceptions: { cookies: { [`${embedded},${top}`]: { setting: 2 } } } };
  }
  fs.mkdirSync(path.join(userDataDir, 'Default'), { recursive: true });
  fs.writeFileSync(path.join(userDataDir, 'Default', 'Preferences'), JSON.stringify({ profile }));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport,
  });
  const page = context.pages()[0] || await context.newPage();
  return {
    context,
    page,
    userDataDir,
    async close() {
      await context.close().catch(() => {});
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
