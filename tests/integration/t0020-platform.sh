#!/usr/bin/env bash
# t0020-platform.sh: manual registration — presets, keys (issuer, client_id), deployments.
. "$(dirname "$0")/lib.sh"

ok "moodle preset derives the endpoints" sh -c "'$BIN' platform add --preset moodle --url https://m.test/ --client-id abc --deployment 1 --deployment 2 | grep -q 'platform 1 added' && '$BIN' platform show 1 | grep -q 'auth      https://m.test/mod/lti/auth.php' && '$BIN' platform show 1 | grep -q 'jwks      https://m.test/mod/lti/certs.php'"
ok "the same issuer and client id again is a conflict (6)" sh -c "'$BIN' platform add --preset moodle --url https://m.test --client-id abc 2>/dev/null; [ \$? -eq 6 ]"
ok "canvas preset: one issuer, many client ids" sh -c "'$BIN' platform add --preset canvas --client-id 10000000000001 >/dev/null && '$BIN' platform add --preset canvas --client-id 10000000000002 >/dev/null && [ \$('$BIN' platform list | grep -c 'https://canvas.instructure.com') = 2 ]"
ok "canvas preset uses the sso endpoints" sh -c "'$BIN' platform show 2 | grep -q 'https://sso.canvaslms.com/api/lti/security/jwks'"
ok "canvas beta environment" sh -c "'$BIN' platform add --preset canvas --env beta --client-id 9 | grep -q 'canvas.beta.instructure.com'"
ok "generic needs auth and jwks (2)" sh -c "'$BIN' platform add --issuer https://g.test --client-id x 2>/dev/null; [ \$? -eq 2 ]"
ok "unknown preset (2)" sh -c "'$BIN' platform add --preset blackboard --client-id x --issuer https://b 2>/dev/null; [ \$? -eq 2 ]"
ok "deployments are listed" sh -c "'$BIN' platform show 1 | grep -q 'deployment 2'"
ok "add a deployment" sh -c "'$BIN' platform deployment 1 '9:abcdef' >/dev/null && '$BIN' platform show 1 | grep -q 'deployment 9:abcdef'"
ok "duplicate deployment is a conflict (6)" sh -c "'$BIN' platform deployment 1 '9:abcdef' 2>/dev/null; [ \$? -eq 6 ]"
ok "deployment on a missing platform is not found (5)" sh -c "'$BIN' platform deployment 99 x 2>/dev/null; [ \$? -eq 5 ]"
ok "show of a missing platform is not found (5)" sh -c "'$BIN' platform show 42 2>/dev/null; [ \$? -eq 5 ]"
ok "a non-numeric id is a usage error (2)" sh -c "'$BIN' platform show one 2>/dev/null; [ \$? -eq 2 ]"
ok "remove" sh -c "'$BIN' platform remove 1 >/dev/null && ! '$BIN' platform list | grep -q m.test"
ok "remove again is not found (5)" sh -c "'$BIN' platform remove 1 2>/dev/null; [ \$? -eq 5 ]"
finish
