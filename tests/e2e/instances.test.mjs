// instances.test.mjs: two attest instances behind one nginx, sharing one PostgreSQL.
// Login state, nonces, sessions and the JWKS cache live in the database, so a launch can
// start on one instance and finish on the other, and an id_token used through one
// instance is refused through the other.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { Platform } from '../platform/platform.mjs';
import { Stack } from './stack.mjs';
import { assertRejected, followToApp } from './helpers.mjs';

describe('two instances on one PostgreSQL', () => {
  let stack;
  let moodle;

  before(async () => {
    [stack, moodle] = await Promise.all([
      Stack.start({ name: 'instances', db: 'pg', instances: 2 }),
      Platform.start({ flavor: 'moodle' }),
    ]);
    const reg = await moodle.dynamicRegister(`${stack.baseUrl}/lti/register`);
    assert.equal(reg.status, 200, `registration failed: ${reg.html}`);
  });

  after(async () => {
    await moodle?.close();
    await stack?.stop();
  });

  const upstream = (res) => res.headers['x-attest-upstream'] || '';

  test('a login answered by one instance is completed by the other', async () => {
    const pairs = [];
    for (let i = 0; i < 6; i++) {
      const res = await moodle.launch({ role: i % 2 ? 'learner' : 'instructor' });
      await followToApp(res, `launch ${i}`);
      pairs.push([upstream(res.login), upstream(res)]);
    }
    assert.ok(pairs.every(([a, b]) => a && b), 'responses do not say which instance answered');
    assert.ok(pairs.some(([a, b]) => a !== b), `login and launch always hit the same instance: ${JSON.stringify(pairs)}`);
  });

  test('an id_token used through one instance is refused through the other', async () => {
    const first = await moodle.launch({ role: 'learner' });
    await followToApp(first, 'first launch');
    const used = upstream(first).replace(/^unix:/, '');
    const other = used.replace(/attest-(\d)\.sock$/, (_, n) => `attest-${n === '1' ? 2 : 1}.sock`);
    assert.notEqual(other, used);
    // Replay the very same launch POST (form and state cookie) straight into the other
    // instance's FastCGI socket, bypassing nginx's balancing.
    const body = new URLSearchParams(first.launchFields).toString();
    const cookie = (first.login.setCookies || []).map((c) => c.split(';')[0]).join('; ');
    const r = spawnSync('cgi-fcgi', ['-bind', '-connect', other], {
      input: body,
      env: { ...process.env, REQUEST_METHOD: 'POST', DOCUMENT_URI: '/lti/launch', REQUEST_URI: '/lti/launch',
        QUERY_STRING: '', CONTENT_TYPE: 'application/x-www-form-urlencoded', CONTENT_LENGTH: String(Buffer.byteLength(body)),
        HTTP_COOKIE: cookie, SERVER_PROTOCOL: 'HTTP/1.1', REMOTE_ADDR: '127.0.0.1' },
      encoding: 'utf8', timeout: 20000,
    });
    assert.equal(r.status, 0, `cgi-fcgi failed: ${r.stderr}`);
    const status = Number((r.stdout.match(/^Status: (\d+)/m) || [])[1]);
    assert.equal(status, 401, `replay through the other instance answered ${status}: ${r.stdout.slice(0, 300)}`);
    assert.match(r.stdout, /expired|already used|unknown/i);
    assert.ok(!r.stdout.includes(first.idToken.split('.')[2]), 'the error page echoes the token');
  });

  test('the platform JWKS is fetched once for both instances', async () => {
    const before = moodle.jwksFetches;
    for (let i = 0; i < 6; i++) await followToApp(await moodle.launch({ role: 'learner' }), `launch ${i}`);
    assert.equal(moodle.jwksFetches, before, 'a cached key set was fetched again');
  });
});
