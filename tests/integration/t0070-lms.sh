#!/usr/bin/env bash
# t0070-lms.sh: `attest platform set` — the LMS REST URL and token of a platform (the token
# is never printed back), the Moodle scale, and bad input refused.
. "$(dirname "$0")/lib.sh"
A=$BIN
"$A" platform add --preset moodle --url https://moodle.example --client-id c1 >/dev/null 2>&1

ok "set url, token and scale" sh -c "'$A' platform set 1 lms_url=https://moodle.example/ lms_token=s3cr3t-token moodle_scale=2 | grep -q 'lms_url lms_token moodle_scale'"
ok "show says the token is set, never prints it" sh -c "'$A' platform show 1 > '$tmp/show' && grep -q 'lms token set' '$tmp/show' && grep -q 'lms url   https://moodle.example\$' '$tmp/show' && grep -q 'moodle scale 2' '$tmp/show' && ! grep -q s3cr3t '$tmp/show'"
ok "the token can come from standard input" sh -c "echo from-stdin | '$A' platform set 1 lms_token=- >/dev/null && ! '$A' platform show 1 | grep -q from-stdin"
ok "an empty token clears it" sh -c "'$A' platform set 1 lms_token= >/dev/null && '$A' platform show 1 | grep -q 'lms token not set'"
ok "an unknown key is a usage error (2)" sh -c "'$A' platform set 1 colour=blue 2>/dev/null; [ \$? -eq 2 ]"
ok "a non-http URL is refused (2)" sh -c "'$A' platform set 1 lms_url=ftp://x 2>/dev/null; [ \$? -eq 2 ]"
ok "a scale that is not a number is refused (2)" sh -c "'$A' platform set 1 moodle_scale=two 2>/dev/null; [ \$? -eq 2 ]"
ok "a missing platform is not found (5)" sh -c "'$A' platform set 9 lms_url=https://x 2>/dev/null; [ \$? -eq 5 ]"
ok "help names set" sh -c "'$A' platform --help | grep -q 'platform set ID'"
finish
