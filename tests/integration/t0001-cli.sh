#!/usr/bin/env bash
# t0001-cli.sh: the command line — help, exit codes, config errors, migrate, keys.
. "$(dirname "$0")/lib.sh"

ok "help exits 0 and lists commands" sh -c "'$BIN' help | grep -q 'platform'"
ok "no command is a usage error (2)" sh -c "'$BIN'; [ \$? -eq 2 ]"
ok "unknown command is a usage error (2)" sh -c "'$BIN' frobnicate; [ \$? -eq 2 ]"
ok "every subcommand has --help" sh -c "for c in serve migrate check urls platform keys; do '$BIN' \$c --help | grep -q usage || exit 1; done"
printf 'workers = lots\n' >"$tmp/bad.conf"
ok "bad config value exits 3 naming file:line" sh -c "'$BIN' -c '$tmp/bad.conf' check 2>&1 | grep -q 'bad.conf:1: workers'; '$BIN' -c '$tmp/bad.conf' check 2>/dev/null; [ \$? -eq 3 ]"
printf 'colour = blue\n' >"$tmp/unknown.conf"
ok "unknown config key exits 3" sh -c "'$BIN' -c '$tmp/unknown.conf' check 2>/dev/null; [ \$? -eq 3 ]"
ok "missing named config file exits 3" sh -c "'$BIN' -c '$tmp/none.conf' check 2>/dev/null; [ \$? -eq 3 ]"
ok "env override is range-checked" sh -c "ATTEST_WORKERS=0 '$BIN' check 2>/dev/null; [ \$? -eq 3 ]"
ok "bad database url exits 4" sh -c "ATTEST_DATABASE=mysql://x '$BIN' migrate 2>/dev/null; [ \$? -eq 4 ]"
ok "migrate creates the schema" sh -c "'$BIN' migrate | grep -q 'version 4 (4 migrations applied)'"
ok "migrate again applies nothing" sh -c "'$BIN' migrate | grep -q '0 migrations applied'"
ok "check passes" "$BIN" check
ok "keys init creates a 0600 key in a 0700 dir" sh -c "'$BIN' keys init >/dev/null && [ \$(stat -c %a '$tmp/keys') = 700 ] && [ \$(stat -c %a '$tmp'/keys/*.pem) = 600 ]"
ok "keys init again keeps one key" sh -c "'$BIN' keys init >/dev/null && [ \$(ls '$tmp'/keys/*.pem | wc -l) = 1 ]"
ok "keys jwks prints public keys only" sh -c "'$BIN' keys jwks | grep -q '\"kty\":\"RSA\"' && ! '$BIN' keys jwks | grep -q '\"d\"'"
ok "keys rotate publishes two keys" sh -c "'$BIN' keys rotate --activate-in 0 --retire-in 60 >/dev/null && [ \$('$BIN' keys jwks | grep -o '\"kid\"' | wc -l) = 2 ]"
ok "keys rotate rejects a bad number" sh -c "'$BIN' keys rotate --activate-in soon 2>/dev/null; [ \$? -eq 2 ]"
ok "urls prints the registration URL" sh -c "'$BIN' urls | grep -q 'https://attest.test/lti/register'"
ok "config prints every key" sh -c "'$BIN' config | grep -q '^deployment_policy = learn'"
finish
