// launch.test.mjs: LTI 1.3 launches against the real stack (nginx + attest) from emulated
// Moodle and Canvas platforms: dynamic registration, landing pages, id_token validation
// (every item of the Security Framework checklist), deployment policies, platform key
// rotation and deep linking.
//
//   make && node --test --test-concurrency=1 tests/e2e/launch.test.mjs
//   ATTEST_E2E_DB=pg node --test tests/e2e/launch.test.mjs     # same suite on PostgreSQL
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { jose, Platform, CLAIM, TOOL_CONFIG, httpRequest, parseForms, htmlText, findAttr } from '../platform/platform.mjs';
import { Stack } from './stack.mjs';
import { HOSTILE_NAME, COURSE_TITLE, followToApp, assertLandedOn, assertRejected, pageOrScriptsMatch } from './helpers.mjs';

const CLOSE = /org\.imsglobal\.lti\.close/;

const now = () => Math.floor(Date.now() / 1000);

describe('launch (default deployment policy: learn)', () => {
  let stack;
  let moodle;
  let canvas;
  let base;

  before(async () => {
    [stack, moodle, canvas] = await Promise.all([
      Stack.start({ name: 'launch' }),
      Platform.start({ flavor: 'moodle' }),
      Platform.start({ flavor: 'canvas' }),
    ]);
    base = stack.baseUrl;
  });

  after(async () => {
    await Promise.all([moodle?.close(), canvas?.close()]);
    await stack?.stop();
  });

  test('healthz answers JSON', async () => {
    const r = await stack.fetch('/healthz');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') || '', /json/);
    await r.json();
  });

  describe('dynamic registration', () => {
    test('Moodle: registers, sends the right tool configuration, closes the window', async () => {
      const r = await moodle.dynamicRegister(`${base}/lti/register`);
      assert.ok(r.registration, `the tool never POSTed to the registration endpoint (tool answered ${r.status}: ${htmlText(r.html).slice(0, 300)})`);
      assert.equal(r.registration.status, 200, `Moodle refused the registration: ${r.registration.error}`);
      assert.equal(r.status, 200, htmlText(r.html).slice(0, 300));
      assert.ok(await pageOrScriptsMatch(r.html, r.url, CLOSE), 'the registration page never posts org.imsglobal.lti.close');
      const b = r.registration.body;
      assert.equal(r.registration.authorization, `Bearer ${r.token}`);
      assert.equal(b.initiate_login_uri, `${base}/lti/login`);
      assert.deepEqual(b.redirect_uris, [`${base}/lti/launch`]);
      assert.equal(b.jwks_uri, `${base}/.well-known/jwks.json`);
      assert.equal(b[TOOL_CONFIG].target_link_uri, `${base}/lti/launch`);
      assert.equal(b[TOOL_CONFIG].domain, new URL(base).host);
      assert.ok(moodle.configFetches.length >= 1, 'the tool did not read the OpenID configuration');
    });

    test('Moodle: a used registration token is refused and the tool does not claim success', async () => {
      const first = moodle.registrations.find((x) => x.status === 200);
      assert.ok(first, 'needs the Moodle registration above');
      const r = await moodle.dynamicRegister(`${base}/lti/register`, { token: first.token });
      assert.equal(r.registration?.error ?? 'token_already_used', 'token_already_used');
      assert.ok(r.status >= 400 || !(await pageOrScriptsMatch(r.html, r.url, CLOSE)),
        `the tool answered ${r.status} and posted lti.close although Moodle refused the token`);
    });

    test('Canvas: reads the configuration with the Bearer token, registers without a deployment id', async () => {
      const r = await canvas.dynamicRegister(`${base}/lti/register`);
      const fetches = canvas.configFetches.filter((f) => f.authorization === `Bearer ${r.token}`);
      assert.ok(fetches.length >= 1, `the tool fetched the Canvas configuration without "Authorization: Bearer <registration_token>" (${JSON.stringify(canvas.configFetches.map((f) => f.authorization))})`);
      assert.ok(r.registration, `the tool never POSTed to the registration endpoint (tool answered ${r.status}: ${htmlText(r.html).slice(0, 300)})`);
      assert.equal(r.registration.status, 200, `Canvas refused the registration: ${JSON.stringify(r.registration.error)}`);
      assert.equal(r.status, 200);
      assert.ok(await pageOrScriptsMatch(r.html, r.url, CLOSE), 'the registration page never posts org.imsglobal.lti.close');
      assert.equal(r.registration.response[TOOL_CONFIG].deployment_id, undefined);
    });

    test('Canvas: without the registration token the configuration is refused and the tool says so', async () => {
      const r = await canvas.dynamicRegister(`${base}/lti/register`, { omitToken: true });
      assert.equal(r.registration, null);
      assert.ok(r.status >= 400 || !(await pageOrScriptsMatch(r.html, r.url, CLOSE)), 'tool claims success without a token');
    });

    test('both platforms are listed by `attest platform list`', async () => {
      const r = await stack.attest(['platform', 'list']);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(r.stdout.includes(moodle.issuer), r.stdout);
      assert.ok(r.stdout.includes(canvas.issuer), r.stdout);
    });
  });

  describe('landing pages', () => {
    for (const flavor of ['moodle', 'canvas']) {
      for (const role of ['learner', 'instructor']) {
        for (const loginMethod of ['POST', 'GET']) {
          test(`${flavor} ${role} (login by ${loginMethod}) lands on the ${role} page`, async () => {
            const p = flavor === 'moodle' ? moodle : canvas;
            const res = await p.launch({ role, loginMethod, user: { name: HOSTILE_NAME }, context: { title: COURSE_TITLE }, storageTarget: false });
            const page = await followToApp(res, `${flavor} ${role}`);
            assertLandedOn(page, { name: HOSTILE_NAME, course: COURSE_TITLE, role }, `${flavor} ${role}`);
          });
        }
      }
    }

    test('login sets a hardened state cookie and sends a correct auth request', async () => {
      const res = await moodle.launch({ role: 'learner' });
      const setCookie = res.login.setCookies.find((c) => /^attest_state_/.test(c));
      assert.ok(setCookie, `no attest_state_ cookie on the login response: ${JSON.stringify(res.login.setCookies)}`);
      for (const attr of [/;\s*SameSite=None/i, /;\s*Secure/i, /;\s*Partitioned/i, /;\s*HttpOnly/i, /;\s*Path=\/lti\//i]) {
        assert.match(setCookie, attr);
      }
      const a = res.authRequest;
      assert.ok(a, 'the tool did not send the browser to the platform auth endpoint');
      assert.equal(a.error, null, `the platform refused the auth request: ${a.error}`);
      const q = a.params;
      assert.equal(q.scope, 'openid');
      assert.equal(q.response_type, 'id_token');
      assert.equal(q.response_mode, 'form_post');
      assert.equal(q.prompt, 'none');
      assert.equal(q.client_id, res.record.clientId);
      assert.equal(q.redirect_uri, `${base}/lti/launch`);
      assert.equal(q.login_hint, res.record.loginParams.login_hint);
      assert.equal(q.lti_message_hint, res.record.messageHint, 'lti_message_hint not echoed unaltered');
      assert.ok(q.nonce && q.nonce.length >= 16, 'nonce missing or short');
      assert.ok(q.state && q.state.length >= 16, 'state missing or short');
      const cookieName = setCookie.slice(0, setCookie.indexOf('='));
      const named = cookieName.slice('attest_state_'.length);
      assert.ok(named.length >= 16 && q.state.startsWith(named), `state cookie ${cookieName} is not named after the state ${q.state}`);
      await followToApp(res, 'moodle learner');
    });

    test('Canvas aud as an array with azp = our client id is accepted', async () => {
      const res = await canvas.launch({ role: 'learner', audArray: true, storageTarget: false, user: { name: HOSTILE_NAME } });
      assertLandedOn(await followToApp(res, 'canvas aud array'), { name: HOSTILE_NAME, role: 'learner' }, 'canvas aud array');
    });

    test('short role names ("Learner", "Instructor") are accepted', async () => {
      const res = await moodle.launch({ roles: ['Instructor'], user: { name: HOSTILE_NAME } });
      assertLandedOn(await followToApp(res, 'short role'), { name: HOSTILE_NAME, role: 'instructor' }, 'short role');
      const res2 = await moodle.launch({ roles: ['Learner', 'http://purl.imsglobal.org/vocab/lis/v2/unknown#Role'], user: { name: HOSTILE_NAME } });
      assertLandedOn(await followToApp(res2, 'short learner'), { name: HOSTILE_NAME, role: 'learner' }, 'short learner');
    });

    test('Canvas with platform storage: the login page carries auth URL, target and platform origin', async () => {
      const res = await canvas.launch({ role: 'learner', onStoragePage: 'stop' });
      assert.equal(res.login.status, 200, `expected the platform-storage page, got ${res.login.status} ${res.login.location || ''}`);
      const sp = res.storagePage;
      assert.ok(sp, 'no data-auth-url on the login page');
      assert.ok(sp.authUrl.startsWith(canvas.urls.auth + '?'), `data-auth-url ${sp.authUrl}`);
      assert.equal(sp.target, 'post_message_forwarding');
      assert.equal(sp.origin, canvas.origin, 'data-origin must be the origin of the platform auth endpoint (where the storage frame lives), not the issuer');
      const q = new URL(sp.authUrl).searchParams;
      assert.equal(q.get('lti_message_hint'), res.record.messageHint);
    });

    test('Canvas with platform storage and no cookie: the launch answers the lti.get_data page, a forged secret is refused', async () => {
      const res = await canvas.launch({ role: 'learner', dropCookies: true });
      assert.equal(res.stage, 'launch');
      assert.equal(res.launchFields.lti_storage_target, 'post_message_forwarding');
      assert.equal(res.status, 200, `expected the storage check page, got ${res.status}: ${htmlText(res.body).slice(0, 300)}`);
      // The page's script reads the secret with lti.get_data (exercised for real in iframe.test.mjs);
      // here: it knows where to ask and re-posts the launch with a state_secret field.
      assert.equal(findAttr(res.body, 'data-target'), 'post_message_forwarding');
      assert.equal(findAttr(res.body, 'data-origin'), canvas.origin, 'storage check page asks the wrong origin');
      const repost = parseForms(res.body, res.url).find((f) => f.controls.some((c) => c.name === 'state_secret'));
      assert.ok(repost, 'no form with a state_secret field');
      assert.equal(repost.action, `${base}/lti/launch`);
      assert.equal(repost.method, 'POST');
      const forged = await canvas.launch({ role: 'learner', dropCookies: true, extraLaunchFields: { state_secret: 'forged-secret-value' } });
      assertRejected(forged, 'forged state_secret');
    });
  });

  describe('id_token validation: each of these is rejected', () => {
    const cases = [
      ['alg none', () => ({ signWith: 'none' })],
      ['signed by another key under the platform kid', () => ({ signWith: 'otherKey' })],
      ['HS256 keyed with the platform public key', () => ({ signWith: 'hs256-with-public-key' })],
      ['no kid in the header', () => ({ mutateHeader: (h) => { delete h.kid; } })],
      ['expired', () => ({ mutatePayload: (p) => { p.iat = now() - 600; p.exp = now() - 300; } })],
      ['iat in the future', () => ({ mutatePayload: (p) => { p.iat = now() + 600; p.exp = now() + 660; } })],
      ['wrong aud', () => ({ mutatePayload: (p) => { p.aud = 'some-other-tool'; } })],
      ['aud array without azp', () => ({ mutatePayload: (p) => { p.aud = [].concat(p.aud, 'some-other-tool'); delete p.azp; } })],
      ['azp not ours', () => ({ mutatePayload: (p) => { p.aud = [].concat(p.aud, 'some-other-tool'); p.azp = 'some-other-tool'; } })],
      ['wrong nonce', () => ({ mutatePayload: (p) => { p.nonce = 'not-the-nonce-we-issued-000000'; } })],
      ['missing nonce', () => ({ mutatePayload: (p) => { delete p.nonce; } })],
      ['iss differs from the login iss', () => ({ mutatePayload: (p) => { p.iss = 'https://evil.example'; } })],
      ['wrong version', () => ({ mutatePayload: (p) => { p[CLAIM.version] = '1.2.0'; } })],
      ['missing version', () => ({ mutatePayload: (p) => { delete p[CLAIM.version]; } })],
      ['missing message type', () => ({ mutatePayload: (p) => { delete p[CLAIM.messageType]; } })],
      ['unknown message type', () => ({ mutatePayload: (p) => { p[CLAIM.messageType] = 'LtiNoSuchRequest'; } })],
      ['missing roles', () => ({ roles: null })],
      ['empty sub', () => ({ mutatePayload: (p) => { p.sub = ''; } })],
      ['missing resource_link id', () => ({ mutatePayload: (p) => { delete p[CLAIM.resourceLink].id; } })],
      ['missing deployment_id', () => ({ mutatePayload: (p) => { delete p[CLAIM.deploymentId]; } })],
      ['deployment_id differs from the login lti_deployment_id', () => ({ mutatePayload: (p) => { p[CLAIM.deploymentId] = 'another-deployment'; } })],
      ['target_link_uri mismatch', () => ({ mutatePayload: (p) => { p[CLAIM.targetLinkUri] = `${base}/app`; } })],
      ['login target_link_uri elsewhere', () => ({ targetLinkUri: 'https://evil.example/lti/launch' })],
      ['state mismatch', () => ({ overrideState: 'forged-state-0123456789abcdef' })],
      ['missing state', () => ({ overrideState: null })],
      ['missing state cookie', () => ({ dropCookies: true })],
      ['unknown client_id at login', () => ({ loginParams: { client_id: 'no-such-client' } })],
    ];
    for (const flavor of ['moodle', 'canvas']) {
      for (const [name, make] of cases) {
        test(`${flavor}: ${name}`, async () => {
          const p = flavor === 'moodle' ? moodle : canvas;
          const res = await p.launch({ role: 'learner', storageTarget: false, ...make() });
          assertRejected(res, `${flavor}: ${name}`);
        });
      }
    }

    test('replayed id_token (same state, same cookies)', async () => {
      const ok = await moodle.launch({ role: 'learner' });
      await followToApp(ok, 'first launch');
      const replay = await moodle.launch({ replayIdToken: true });
      assertRejected(replay, 'replay');
    });

    test('unknown issuer', async () => {
      const stranger = await Platform.start({ flavor: 'moodle' });
      try {
        stranger.addManualRegistration({ tool: { loginUrl: `${base}/lti/login`, launchUrl: `${base}/lti/launch`, jwksUrl: `${base}/.well-known/jwks.json` } });
        assertRejected(await stranger.launch({ role: 'learner' }), 'unknown issuer');
      } finally {
        await stranger.close();
      }
    });
  });

  describe('deployments (learn policy)', () => {
    test('Canvas: a new deployment for a known issuer + client id is learned on its first valid launch', async () => {
      const client = [...canvas.clients.values()].find((c) => c.source === 'dynamic');
      assert.ok(client, 'needs the Canvas registration');
      const dep = canvas.addDeployment(client.clientId);
      const res = await canvas.launch({ clientId: client.clientId, deploymentId: dep, storageTarget: false, user: { name: HOSTILE_NAME } });
      assertLandedOn(await followToApp(res, 'learned deployment'), { name: HOSTILE_NAME, role: 'learner' }, 'learned deployment');
      const list = await stack.attest(['platform', 'list']);
      const row = list.stdout.split('\n').find((l) => l.includes(canvas.issuer) && l.includes(client.clientId));
      assert.ok(row, `Canvas registration not in platform list:\n${list.stdout}`);
      const id = row.trim().split(/\s+/)[0];
      const show = await stack.attest(['platform', 'show', id]);
      assert.equal(show.code, 0, show.stderr);
      assert.ok(show.stdout.includes(dep), `learned deployment ${dep} not shown:\n${show.stdout}`);
    });
  });

  describe('platform key rotation', () => {
    // A platform of its own, so that a rotation failure cannot break the other tests.
    let rot;
    before(async () => {
      rot = await Platform.start({ flavor: 'moodle' });
      const r = await rot.dynamicRegister(`${base}/lti/register`);
      assert.equal(r.registration?.status, 200, 'registration of the rotation platform failed');
    });
    after(async () => { await rot?.close(); });

    test('cached JWKS: consecutive launches do not refetch', async () => {
      await followToApp(await rot.launch({}), 'warm-up');
      const f0 = rot.jwksFetches;
      await followToApp(await rot.launch({}), 'second');
      await followToApp(await rot.launch({}), 'third');
      assert.equal(rot.jwksFetches, f0, 'the tool fetched the platform JWKS again although max-age=300 has not passed');
    });

    test('after rotation the tool refetches once and accepts the new kid; a second unknown kid causes no fetch storm', async () => {
      await followToApp(await rot.launch({}), 'before rotation');
      const f0 = rot.jwksFetches;
      const kid = await rot.rotateKey();
      const res = await rot.launch({ user: { name: HOSTILE_NAME } });
      const fetched = rot.jwksFetches - f0;
      assert.equal(res.status, 303, `launch signed with the new kid ${kid} answered ${res.status} (the tool fetched the JWKS ${fetched} time(s) since the rotation): ${htmlText(res.body).slice(0, 200)}`);
      assertLandedOn(await followToApp(res, 'after rotation'), { name: HOSTILE_NAME, role: 'learner' }, 'after rotation');
      assert.equal(fetched, 1, 'expected exactly one JWKS refetch for the new kid');
      for (let i = 0; i < 5; i++) {
        assertRejected(await rot.launch({ signWith: 'unknownKid' }), `unknown kid #${i + 1}`);
      }
      assert.ok(rot.jwksFetches <= f0 + 2, `unknown kids made the tool fetch the JWKS ${rot.jwksFetches - f0 - 1} more times (allowed: at most 1)`);
      // The previous key is still published (overlap): tokens signed with it still pass.
      await followToApp(await rot.launch({ signWith: 'previous' }), 'old key during overlap');
    });
  });

  describe('deep linking', () => {
    test('Moodle instructor: picker -> signed LtiDeepLinkingResponse to deep_link_return_url', async () => {
      const data = 'opaque-platform-data-<&>"\'';
      const res = await moodle.launch({ role: 'instructor', messageType: 'LtiDeepLinkingRequest', deepLinking: { data } });
      assert.equal(res.status, 303, `deep linking launch answered ${res.status}: ${htmlText(res.body).slice(0, 300)}`);
      let page = await httpRequest(res.location);
      for (let i = 0; i < 3 && page.status >= 300 && page.status < 400; i++) page = await httpRequest(page.location);
      assert.equal(page.status, 200, htmlText(page.body).slice(0, 300));
      const forms = parseForms(page.body, page.url).filter((f) => f.method === 'POST');
      assert.ok(forms.length >= 1, `no POST form on the picker page: ${htmlText(page.body).slice(0, 300)}`);
      const picker = forms[0];
      const fields = [...picker.fields];
      for (const c of picker.controls) {
        if (c.type === 'radio' && c.name && !fields.some(([n]) => n === c.name)) fields.push([c.name, c.value]);
      }
      const submitter = picker.controls.find((c) => (c.tag === 'button' || c.type === 'submit') && c.name);
      if (submitter) fields.push([submitter.name, submitter.value]);
      let back = await httpRequest(picker.action, { method: 'POST', form: new URLSearchParams(fields) });
      for (let i = 0; i < 3 && back.status >= 300 && back.status < 400; i++) back = await httpRequest(back.location);
      assert.equal(back.status, 200, `picker submit answered ${back.status}: ${htmlText(back.body).slice(0, 300)}`);
      const ret = parseForms(back.body, back.url).find((f) => f.field('JWT') !== undefined);
      assert.ok(ret, `no form with a JWT field: ${htmlText(back.body).slice(0, 300)}`);
      const settings = res.payload[CLAIM.dlSettings];
      assert.equal(ret.action, settings.deep_link_return_url);
      assert.equal(ret.method, 'POST');
      assert.ok(await pageOrScriptsMatch(back.body, back.url, /\.submit\(\)/), 'the return form does not submit itself');
      const jwt = ret.field('JWT');
      const client = res.record.client;
      const jwks = jose.createRemoteJWKSet(new URL(`${base}/.well-known/jwks.json`));
      const { payload, protectedHeader } = await jose.jwtVerify(jwt, jwks, { algorithms: ['RS256'], issuer: client.clientId, audience: moodle.issuer });
      assert.ok(protectedHeader.kid);
      assert.ok(payload.nonce && typeof payload.nonce === 'string');
      assert.ok(typeof payload.iat === 'number' && typeof payload.exp === 'number' && payload.exp > payload.iat);
      assert.equal(payload[CLAIM.messageType], 'LtiDeepLinkingResponse');
      assert.equal(payload[CLAIM.version], '1.3.0');
      assert.equal(payload[CLAIM.deploymentId], res.payload[CLAIM.deploymentId]);
      assert.equal(payload[CLAIM.dlData], data);
      const items = payload[CLAIM.dlContentItems];
      assert.ok(Array.isArray(items) && items.length >= 1, 'no content_items');
      for (const it of items) {
        assert.equal(it.type, 'ltiResourceLink');
        assert.ok(it.title);
        if (it.lineItem) assert.ok(it.lineItem.scoreMaximum > 0);
      }
      // What the browser does next: the platform accepts it.
      const done = await httpRequest(ret.action, { method: 'POST', form: Object.fromEntries(ret.fields) });
      assert.equal(done.status, 200, `the emulated Moodle refused the deep linking response: ${htmlText(done.body)}`);
    });

    test('a learner cannot deep link', async () => {
      const res = await moodle.launch({ role: 'learner', messageType: 'LtiDeepLinkingRequest' });
      if (res.status === 303) {
        const page = await httpRequest(res.location);
        assert.ok(!parseForms(page.body, page.url).some((f) => f.method === 'POST' && /deep/i.test(f.action)),
          'a learner got the deep linking picker');
      } else {
        assertRejected(res, 'learner deep linking');
      }
    });
  });

  test('GET /lti/canvas.json describes the tool', async () => {
    const r = await stack.fetch('/lti/canvas.json');
    assert.equal(r.status, 200);
    const j = await r.json();
    assert.equal(j.oidc_initiation_url, `${base}/lti/login`);
    assert.equal(j.target_link_uri, `${base}/lti/launch`);
    assert.ok(j.public_jwk_url === `${base}/.well-known/jwks.json` || j.public_jwk, 'no public_jwk_url / public_jwk');
  });

  test('GET /.well-known/jwks.json publishes RS256 keys with kids', async () => {
    const r = await stack.fetch('/.well-known/jwks.json');
    assert.equal(r.status, 200);
    const j = await r.json();
    assert.ok(Array.isArray(j.keys) && j.keys.length >= 1);
    for (const k of j.keys) {
      assert.equal(k.kty, 'RSA');
      assert.ok(k.kid && k.n && k.e);
      assert.ok(!k.d, 'private key material published');
    }
  });
});

describe('launch (strict deployment policy)', () => {
  let stack;
  let moodle;
  let canvas;
  let base;

  before(async () => {
    [stack, moodle, canvas] = await Promise.all([
      Stack.start({ name: 'strict', env: { ATTEST_DEPLOYMENT_POLICY: 'strict' } }),
      Platform.start({ flavor: 'moodle' }),
      Platform.start({ flavor: 'canvas' }),
    ]);
    base = stack.baseUrl;
  });

  after(async () => {
    await Promise.all([moodle?.close(), canvas?.close()]);
    await stack?.stop();
  });

  test('Moodle via dynamic registration: deployment "1" is known, another is refused', async () => {
    const r = await moodle.dynamicRegister(`${base}/lti/register`);
    assert.equal(r.registration?.status, 200, `registration failed: tool ${r.status} ${htmlText(r.html).slice(0, 200)}`);
    const ok = await moodle.launch({ user: { name: HOSTILE_NAME } });
    assertLandedOn(await followToApp(ok, 'strict known deployment'), { name: HOSTILE_NAME, role: 'learner' }, 'strict known');
    const client = [...moodle.clients.values()][0];
    const dep = moodle.addDeployment(client.clientId, '99');
    assertRejected(await moodle.launch({ deploymentId: dep }), 'strict unknown deployment');
  });

  test('Canvas registered by hand with `attest platform add`: its deployment works, an unknown one is refused', async () => {
    const client = canvas.addManualRegistration({ tool: { loginUrl: `${base}/lti/login`, launchUrl: `${base}/lti/launch`, jwksUrl: `${base}/.well-known/jwks.json` } });
    const add = await stack.attest(['platform', 'add', '--preset', 'canvas', '--issuer', canvas.issuer, '--client-id', client.clientId,
      '--auth', canvas.urls.auth, '--token', canvas.urls.token, '--jwks', canvas.urls.jwks, '--deployment', client.deploymentIds[0]]);
    assert.equal(add.code, 0, `attest platform add failed: ${add.stderr}${add.stdout}`);
    const ok = await canvas.launch({ clientId: client.clientId, storageTarget: false, user: { name: HOSTILE_NAME } });
    assertLandedOn(await followToApp(ok, 'manual canvas'), { name: HOSTILE_NAME, role: 'learner' }, 'manual canvas');
    const dep = canvas.addDeployment(client.clientId);
    assertRejected(await canvas.launch({ clientId: client.clientId, deploymentId: dep, storageTarget: false }), 'strict unknown canvas deployment');
  });

  test('same Canvas issuer, two client ids: each launch uses its own registration', async () => {
    const a = [...canvas.clients.values()][0];
    const b = canvas.addManualRegistration({ tool: { loginUrl: `${base}/lti/login`, launchUrl: `${base}/lti/launch`, jwksUrl: `${base}/.well-known/jwks.json` } });
    const add = await stack.attest(['platform', 'add', '--preset', 'canvas', '--issuer', canvas.issuer, '--client-id', b.clientId,
      '--auth', canvas.urls.auth, '--token', canvas.urls.token, '--jwks', canvas.urls.jwks, '--deployment', b.deploymentIds[0]]);
    assert.equal(add.code, 0, `attest platform add failed: ${add.stderr}${add.stdout}`);
    await followToApp(await canvas.launch({ clientId: b.clientId, storageTarget: false }), 'second client id');
    await followToApp(await canvas.launch({ clientId: a.clientId, storageTarget: false }), 'first client id');
    // a's deployment is not one of b's: with strict policy a launch claiming b with a's deployment fails.
    assertRejected(await canvas.launch({ clientId: b.clientId, deploymentId: a.deploymentIds[0], storageTarget: false }), 'cross-client deployment');
  });
});
