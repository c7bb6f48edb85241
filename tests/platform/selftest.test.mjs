// selftest.test.mjs: the emulator tested against itself and the JS fake tool (no C server needed).
// Run: node --test tests/platform/
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as jose from 'jose';
import { Platform, CLAIM, TOOL_CONFIG, CookieJar, parseForms, httpRequest, moodleDomain, htmlText } from './platform.mjs';
import { FakeTool } from './fake-tool.mjs';

let tool, moodle, canvas;

before(async () => {
  tool = await FakeTool.start();
  moodle = await Platform.start({ flavor: 'moodle' });
  canvas = await Platform.start({ flavor: 'canvas' });
});
after(async () => {
  await Promise.all([tool?.close(), moodle?.close(), canvas?.close()]);
});

test('cookie jar honours Path, Max-Age and Secure on loopback', () => {
  const j = new CookieJar();
  j.store('http://localhost:9/lti/login', ['a=1; Path=/lti/; Secure; HttpOnly; SameSite=None; Partitioned', 'b=2; Max-Age=0', 'c=3']);
  assert.equal(j.header('http://localhost:9/lti/launch'), 'a=1; c=3');
  assert.equal(j.header('http://localhost:9/app'), '');
  assert.equal(j.get('a').partitioned, true);
  j.store('http://example.test/x', ['s=1; Secure']);
  assert.equal(j.get('s'), undefined, 'Secure cookie from plain http on a non-loopback host is refused');
});

test('form parser reads hidden inputs, radios, selects and entity-encoded values', () => {
  const f = parseForms(`<form action="/go?x=1&amp;y=2" method=post><input type=hidden name=a value="&lt;b&gt;&quot;">
    <input type=radio name=r value=1><input type=radio name=r value=2 checked><select name=s><option value=o1>1<option value=o2 selected>2</select>
    <textarea name=t>hi &amp; bye</textarea><button name=go value=yes>Go</button></form>`, 'http://h/p')[0];
  assert.equal(f.action, 'http://h/go?x=1&y=2');
  assert.equal(f.method, 'POST');
  assert.deepEqual(f.fields, [['a', '<b>"'], ['r', '2'], ['s', 'o2'], ['t', 'hi & bye']]);
});

test('moodleDomain matches mod_lti domain rules', () => {
  assert.equal(moodleDomain('https://www.Example.org:8443/x'), 'example.org:8443');
  assert.equal(moodleDomain('localhost:1234'), 'localhost:1234');
});

test('openid configuration: Moodle public, Canvas needs the registration token', async () => {
  const m = await httpRequest(moodle.urls.openidConfiguration);
  assert.equal(m.status, 200);
  const cfg = JSON.parse(m.body);
  assert.equal(cfg.issuer, moodle.baseUrl);
  assert.equal(cfg['https://purl.imsglobal.org/spec/lti-platform-configuration'].product_family_code, 'moodle');
  assert.equal((await httpRequest(canvas.urls.openidConfiguration)).status, 401);
  const tok = await canvas.issueRegistrationToken();
  const c = await httpRequest(canvas.urls.openidConfiguration, { headers: { authorization: 'Bearer ' + tok } });
  assert.equal(c.status, 200);
  assert.notEqual(JSON.parse(c.body).issuer, canvas.baseUrl);
});

test('dynamic registration against the fake tool (Moodle and Canvas)', async () => {
  const r = await moodle.dynamicRegister(tool.baseUrl + '/lti/register');
  assert.equal(r.status, 200, r.html);
  assert.match(r.html, /org\.imsglobal\.lti\.close/);
  assert.equal(r.registration.status, 200);
  assert.equal(r.registration.response[TOOL_CONFIG].deployment_id, '1');
  assert.deepEqual(r.registration.response.application_type, ['web']);
  // Moodle registration tokens are single use.
  const again = await httpRequest(moodle.urls.registration, { method: 'POST', json: r.registration.body, headers: { authorization: 'Bearer ' + r.token } });
  assert.equal(again.status, 401);
  assert.equal(again.body, 'token_already_used');
  const c = await canvas.dynamicRegister(tool.baseUrl + '/lti/register');
  assert.equal(c.status, 200, c.html);
  assert.equal(c.registration.response[TOOL_CONFIG].deployment_id, undefined);
  assert.equal(canvas.configFetches.at(-1).authorization, 'Bearer ' + c.token);
});

test('registration validation rejects a domain that does not match target_link_uri', async () => {
  const tok = await moodle.issueRegistrationToken();
  const body = structuredClone(moodle.registrations.find((x) => x.status === 200).body);
  body[TOOL_CONFIG].domain = 'evil.example';
  const r = await httpRequest(moodle.urls.registration, { method: 'POST', json: body, headers: { authorization: 'Bearer ' + tok } });
  assert.equal(r.status, 400);
  assert.equal(r.body, 'domain_targetlinkuri_mismatch');
});

for (const flavor of ['moodle', 'canvas']) {
  test(`${flavor}: full launch lands on the app page, GET and POST login`, async () => {
    const p = flavor === 'moodle' ? moodle : canvas;
    for (const loginMethod of ['GET', 'POST']) {
      const r = await p.launch({ role: 'instructor', loginMethod, user: { name: '<b>O\'Neil & "Co"</b>' }, storageTarget: false });
      assert.equal(r.stage, 'launch');
      assert.equal(r.status, 303, r.body);
      const page = await httpRequest(new URL(r.location, r.login.url).href);
      assert.equal(page.status, 200);
      assert.ok(htmlText(page.body).includes('<b>O\'Neil & "Co"</b>'));
      assert.ok(!page.body.includes('<b>O'));
      const a = r.authRequest.params;
      assert.equal(a.lti_message_hint, r.record.messageHint);
      assert.equal(r.authRequest.error, null);
    }
  });
}

test('canvas: platform storage login page is reported and the auth URL followed', async () => {
  const r = await canvas.launch({ role: 'learner' });
  assert.ok(r.storagePage);
  assert.equal(r.storagePage.target, 'post_message_forwarding');
  assert.equal(r.storagePage.origin, canvas.origin);
  assert.equal(r.launchFields.lti_storage_target, 'post_message_forwarding');
  assert.equal(r.status, 303);
});

test('mutations are rejected by the fake tool', async () => {
  const cases = {
    none: { signWith: 'none' },
    other: { signWith: 'otherKey' },
    hs: { signWith: 'hs256-with-public-key' },
    exp: { mutatePayload: (p) => { p.iat -= 600; p.exp = p.iat + 60; } },
    aud: { mutatePayload: (p) => { p.aud = 'x'; } },
    ver: { mutatePayload: (p) => { p[CLAIM.version] = '1.1'; } },
    sub: { mutatePayload: (p) => { p.sub = ''; } },
    state: { overrideState: 'nope' },
    cookie: { dropCookies: true },
  };
  for (const [name, o] of Object.entries(cases)) {
    const r = await moodle.launch(o);
    assert.ok(r.status >= 400 && r.status < 500, `${name}: ${r.status}`);
    assert.ok(!r.body.includes(r.idToken), name);
  }
  const ok = await moodle.launch({});
  assert.equal(ok.status, 303);
  const replay = await moodle.launch({ replayIdToken: true });
  assert.equal(replay.status, 400);
});

test('key rotation: one refetch on unknown kid, none for a second unknown kid', async () => {
  await moodle.launch({});
  const f0 = moodle.jwksFetches;
  await moodle.rotateKey();
  assert.equal((await moodle.launch({})).status, 303);
  assert.equal(moodle.jwksFetches, f0 + 1);
  assert.equal((await moodle.launch({ signWith: 'unknownKid' })).status, 401);
  assert.equal(moodle.jwksFetches, f0 + 1);
});

test('token endpoint verifies the client assertion against the tool JWKS', async () => {
  const client = [...moodle.clients.values()][0];
  const key = tool.keys.at(-1);
  const assertion = await new jose.SignJWT({ jti: crypto.randomUUID() }).setProtectedHeader({ alg: 'RS256', kid: key.kid })
    .setIssuer(client.clientId).setSubject(client.clientId).setAudience(moodle.urls.token).setIssuedAt().setExpirationTime('1m').sign(key.privateKey);
  const form = { grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion,
    scope: 'https://purl.imsglobal.org/spec/lti-ags/scope/score' };
  const r = await httpRequest(moodle.urls.token, { method: 'POST', form });
  assert.equal(r.status, 200, r.body);
  assert.equal(JSON.parse(r.body).scope, 'https://purl.imsglobal.org/spec/lti-ags/scope/score');
  const again = await httpRequest(moodle.urls.token, { method: 'POST', form });
  assert.equal(again.status, 401, 'jti replay refused');
});

test('deep linking round trip through the emulator return URL', async () => {
  const r = await moodle.launch({ role: 'instructor', messageType: 'LtiDeepLinkingRequest' });
  assert.equal(r.status, 303);
  const page = await httpRequest(new URL(r.location, r.login.url).href);
  const f = parseForms(page.body, new URL(r.location, r.login.url).href)[0];
  const back = await httpRequest(f.action, { method: 'POST', form: Object.fromEntries(f.fields) });
  const ret = parseForms(back.body, f.action)[0];
  assert.equal(ret.action, r.payload[CLAIM.dlSettings].deep_link_return_url);
  const done = await httpRequest(ret.action, { method: 'POST', form: Object.fromEntries(ret.fields) });
  assert.equal(done.status, 200, done.body);
  assert.equal(moodle.deepLinkResponses.at(-1).ok, true);
});
