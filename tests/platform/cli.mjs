#!/usr/bin/env node
// cli.mjs: start one (or both) emulated platforms and print their URLs.
//
//   node tests/platform/cli.mjs [--flavor moodle|canvas|both] [--port N] [--issuer URL]
//                               [--register TOOL_REGISTER_URL] [--log]
//
// With --register the emulator performs Dynamic Registration against the tool and prints
// course page URLs (learner and instructor) to open in a browser. Stops on Ctrl-C.
import { parseArgs } from 'node:util';
import { Platform } from './platform.mjs';

const { values } = parseArgs({
  options: {
    flavor: { type: 'string', default: 'moodle' },
    port: { type: 'string' },
    issuer: { type: 'string' },
    register: { type: 'string' },
    log: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  process.stdout.write(`usage: node tests/platform/cli.mjs [--flavor moodle|canvas|both] [--port N] [--issuer URL] [--register TOOL_REGISTER_URL] [--log]\n`);
  process.exit(0);
}

const flavors = values.flavor === 'both' ? ['moodle', 'canvas'] : [values.flavor];
if (!flavors.every((f) => f === 'moodle' || f === 'canvas')) {
  process.stderr.write(`unknown flavor ${values.flavor}\n`);
  process.exit(2);
}

const platforms = [];
for (const [i, flavor] of flavors.entries()) {
  const p = await Platform.start({
    flavor,
    port: values.port ? Number(values.port) + i : 0,
    issuer: values.issuer,
    log: values.log,
  });
  platforms.push(p);
  const out = { flavor, ...p.urls };
  if (values.register) {
    const r = await p.dynamicRegister(values.register);
    out.registration = { toolStatus: r.status, platformStatus: r.registration?.status ?? null, error: r.registration?.error ?? null };
    if (r.registration?.status === 200) {
      out.clientId = r.registration.clientId;
      out.deploymentId = r.registration.deploymentId;
      out.learnerPage = p.coursePageUrl({ role: 'learner' });
      out.instructorPage = p.coursePageUrl({ role: 'instructor' });
      out.learnerPageNewWindow = p.coursePageUrl({ role: 'learner', target: 'window' });
    }
  } else {
    out.dynamicRegistration = `open <tool>/lti/register?openid_configuration=${encodeURIComponent(p.urls.openidConfiguration)}&registration_token=<token>`;
    out.registrationToken = await p.issueRegistrationToken();
  }
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
}

const stop = async () => {
  await Promise.all(platforms.map((p) => p.close()));
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
