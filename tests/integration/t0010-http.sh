#!/usr/bin/env bash
# t0010-http.sh: the HTTP front in CGI mode — routing, errors, limits, headers, escaping.
. "$(dirname "$0")/lib.sh"
"$BIN" migrate >/dev/null
"$BIN" keys init >/dev/null

cgi GET /healthz
ok "healthz is 200 JSON" sh -c "[ '$status' = 200 ] && grep -q '\"database\":\"ok\"' '$tmp/body'"
cgi GET /nope
ok "unknown path is 404 with a page" sh -c "[ '$status' = 404 ] && grep -q 'There is no page' '$tmp/body'"
cgi POST /healthz
ok "wrong method is 405" status_is 405
cgi GET /lti/launch
ok "GET on the launch endpoint is 405" status_is 405
cgi GET /lti/login 'iss=%zz&login_hint=1'
ok "bad percent-encoding is 400" sh -c "[ '$status' = 400 ] && grep -q 'malformed query' '$tmp/body'"
cgi POST /lti/launch '' "$(head -c 2000000 /dev/zero | tr '\0' a)"
ok "a body over max_body is 413" status_is 413
cgi POST /lti/launch '' 'id_token=%G0'
ok "a broken form body is 400" status_is 400
cgi POST /lti/launch '' '{"id_token":"abc"}' application/json
ok "a JSON body where a form is expected is 415" status_is 415
cgi POST /lti/launch '' 'id_token=abc&state=def'
ok "a non-JWT id_token is 400" sh -c "[ '$status' = 400 ] && grep -q 'not a well-formed JWT' '$tmp/body'"
ok "the error page never echoes the token" sh -c "! grep -q 'abc' '$tmp/body'"
ok "HTML responses carry CSP with frame-ancestors" sh -c "grep -qi '^Content-Security-Policy:.*frame-ancestors' '$tmp/head'"
ok "HTML responses carry nosniff" has_header 'X-Content-Type-Options: nosniff'
ok "HTML responses carry a referrer policy" has_header 'Referrer-Policy: no-referrer'
cgi GET /lti/login 'iss=https%3A%2F%2Fnot.registered&login_hint=1&target_link_uri=https%3A%2F%2Fattest.test%2Flti%2Flaunch'
ok "login from an unknown platform is 400" sh -c "[ '$status' = 400 ] && grep -q 'not registered' '$tmp/body'"
cgi GET /lti/login 'iss=x&login_hint=1&target_link_uri=https%3A%2F%2Fevil.example%2F'
ok "login to a foreign target_link_uri is refused (no open redirect)" sh -c "[ '$status' = 400 ] && ! grep -qi '^Location' '$tmp/head'"
"$BIN" platform add --preset moodle --url 'https://moodle.test' --client-id 'c<1>' --deployment 1 >/dev/null
cgi GET /lti/login 'iss=https%3A%2F%2Fmoodle.test&login_hint=7&target_link_uri=https%3A%2F%2Fattest.test%2Flti%2Flaunch&lti_message_hint=%7B%22cmid%22%3A3%7D&client_id=c%3C1%3E&lti_deployment_id=1'
ok "login redirects to the platform auth endpoint" sh -c "[ '$status' = 302 ] && grep -q '^Location: https://moodle.test/mod/lti/auth.php?scope=openid&response_type=id_token&response_mode=form_post&prompt=none&client_id=c%3C1%3E&redirect_uri=https%3A%2F%2Fattest.test%2Flti%2Flaunch&login_hint=7&lti_message_hint=%7B%22cmid%22%3A3%7D&state=' '$tmp/head'"
ok "login sets a partitioned SameSite=None state cookie" sh -c "grep -q '^Set-Cookie: attest_state_.*HttpOnly; Secure; SameSite=None; Partitioned' '$tmp/head'"
cgi POST /lti/login '' 'iss=https%3A%2F%2Fmoodle.test&login_hint=7&target_link_uri=https%3A%2F%2Fattest.test%2Flti%2Flaunch&client_id=c%3C1%3E&lti_storage_target=_parent'
ok "POST login with platform storage answers the storage page" sh -c "[ '$status' = 200 ] && grep -q \"data-target='_parent'\" '$tmp/body' && grep -q 'lti-login.js' '$tmp/body'"
cgi GET /lti/login 'iss=https%3A%2F%2Fmoodle.test&login_hint=7&target_link_uri=https%3A%2F%2Fattest.test%2Flti%2Flaunch&client_id=c%3C1%3E&lti_storage_target=%22%3E%3Cscript%3E'
ok "a hostile storage target falls back to the cookie flow" status_is 302
cgi GET /app
ok "the app without a session is 401" status_is 401
cgi GET /app 's=forged-token-forged-token'
ok "the app with a forged session is 401" status_is 401
cgi GET /lti/register 'openid_configuration=ftp%3A%2F%2Fx'
ok "registration without an https configuration URL is 400" status_is 400
cgi GET /lti/canvas.json
ok "canvas.json names our login URL" sh -c "[ '$status' = 200 ] && grep -q 'https:\\\\/\\\\/attest.test\\\\/lti\\\\/login' '$tmp/body'"
cgi GET /.well-known/jwks.json
ok "jwks is public JSON" sh -c "[ '$status' = 200 ] && grep -q '\"keys\"' '$tmp/body' && ! grep -q '\"d\"' '$tmp/body'"
cgi GET /
ok "frame-ancestors allows the registered platform's origin" sh -c "grep -qi \"^Content-Security-Policy:.*frame-ancestors 'self' https://moodle.test\" '$tmp/head'"
ok "frame-ancestors allows no other origin" sh -c "! grep -qi '^Content-Security-Policy:.*frame-ancestors.*evil' '$tmp/head'"
finish
