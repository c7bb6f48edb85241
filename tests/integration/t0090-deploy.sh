#!/usr/bin/env bash
# t0090-deploy.sh: the production deployment files (deploy/) install, render and run.
#   - `make install DESTDIR=... PREFIX=/usr` puts bin/attest, web/static and deploy/ in place;
#   - deploy/install.sh --render-only renders the nginx site, systemd unit and config;
#   - the example config has exactly the keys `attest config` knows, and loads;
#   - the rendered unit passes `systemd-analyze verify` (when available);
#   - the rendered site passes `nginx -t`, and, run on free loopback ports in front of a
#     real `attest serve`, redirects HTTP, serves TLS 1.2+ only with HSTS, static files with
#     nosniff, FastCGI with the request id, caps bodies, and never logs a query string;
#   - as root, deploy/install.sh runs twice in a private mount namespace (copies of /etc
#     and /var/lib; nothing on the host changes) and the second run changes nothing.
# Prints TAP-style lines and "N passed, M failed"; exit 0 only if nothing failed.
set -uo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 1
NAME=attest.test.local
# Only the files under test decide the configuration: no ATTEST_* from the caller.
for v in $(compgen -e | grep '^ATTEST_'); do [ "$v" = ATTEST_BIN ] || unset "$v"; done
pass=0
fail=0
n=0
ok() { n=$((n + 1)); pass=$((pass + 1)); echo "ok $n - $1"; }
not_ok() {
	n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n - $1"
	[ -z "${2:-}" ] || printf '%s\n' "$2" | sed 's/^/#   /'
}
skip() { n=$((n + 1)); pass=$((pass + 1)); echo "ok $n - $1 # SKIP $2"; }
check() {	# check NAME CMD...: ok if CMD succeeds; its output is shown on failure
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then ok "$name"; else not_ok "$name" "$out"; fi
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/attest-t0090.XXXXXX")
chmod 0755 "$tmp"	# nginx workers (nobody) read static files and reach the socket
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do
		for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

free_port() {
	local p
	for _ in $(seq 1 200); do
		p=$((20000 + RANDOM % 40000))
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return 0; }
	done
	return 1
}

# --- make install -----------------------------------------------------------------------
D=$tmp/inst
if out=$(make -s install DESTDIR="$D" PREFIX=/usr 2>&1); then
	ok "make install DESTDIR=... PREFIX=/usr"
else
	not_ok "make install DESTDIR=... PREFIX=/usr" "$out"
fi
missing=""
for f in usr/bin/attest usr/share/attest/web/static/attest.css \
	usr/share/attest/deploy/install.sh usr/share/attest/deploy/nginx-site.conf.in \
	usr/share/attest/deploy/systemd/attest.service usr/share/attest/deploy/attest.conf.example \
	usr/share/attest/deploy/systemd/attest-sync.service usr/share/attest/web/templates/layout.html \
	usr/share/attest/deploy/README.md usr/share/attest/deploy/install-deps.sh; do
	[ -e "$D/$f" ] || missing="$missing $f"
done
[ -x "$D/usr/bin/attest" ] || missing="$missing (usr/bin/attest not executable)"
[ -x "$D/usr/share/attest/deploy/install.sh" ] || missing="$missing (install.sh not executable)"
if [ -z "$missing" ]; then ok "installed tree has bin/attest, web/static and deploy/"; else
	not_ok "installed tree has bin/attest, web/static and deploy/" "missing:$missing"; fi
BIN=${ATTEST_BIN:-$D/usr/bin/attest}	# the sanitizer stage passes its own binary
case "$BIN" in /*) ;; *) BIN=$root/$BIN ;; esac
[ -x "$BIN" ] || BIN=$root/bin/attest

# --- render -------------------------------------------------------------------------------
mkdir -p "$tmp/tls" "$tmp/render"
openssl req -x509 -newkey rsa:2048 -nodes -subj "/CN=$NAME" -addext "subjectAltName=DNS:$NAME" \
	-days 2 -keyout "$tmp/tls/key.pem" -out "$tmp/tls/cert.pem" >/dev/null 2>&1 ||
	not_ok "openssl creates a self-signed certificate"
chmod 0644 "$tmp/tls/key.pem"
R=$tmp/render
check "install.sh --render-only renders the templates" \
	"$D/usr/share/attest/deploy/install.sh" --server-name "$NAME" --prefix "$D/usr" \
	--cert "$tmp/tls/cert.pem" --key "$tmp/tls/key.pem" --render-only "$R"
check "install.sh --help documents the options" \
	bash -c "deploy/install.sh --help | grep -q -- --server-name && deploy/install.sh --help | grep -q -- --render-only"
check "install.sh refuses a server name that is not a host name" \
	bash -c "! deploy/install.sh --server-name 'a;b' --render-only '$tmp/x' 2>/dev/null"
check "no placeholder left in the rendered files" \
	bash -c "! grep -n '@[A-Z_]*@' '$R/attest.nginx.conf' '$R/attest.service' '$R/attest-sync.service' '$R/attest.conf'"

site_has() {	# every fixed string must appear in the rendered site
	local s
	for s in "$@"; do grep -qF -- "$s" "$R/attest.nginx.conf" || { echo "missing: $s"; return 1; }; done
}
check "site: TLS 1.2/1.3, HSTS, server_tokens off, 1m and 500m limits, request id" site_has \
	"ssl_protocols TLSv1.2 TLSv1.3;" "Strict-Transport-Security" "server_tokens off;" \
	"client_max_body_size 1m;" "client_max_body_size 500m;" "fastcgi_request_buffering off;" \
	"fastcgi_param HTTP_X_REQUEST_ID \$request_id;" "fastcgi_pass unix:/run/attest/attest.sock;" \
	"server_name $NAME;" "ssl_certificate $tmp/tls/cert.pem;" "alias $D/usr/share/attest/web/static/;"
check "site: the access log format has \$uri (capability paths masked), never \$request or \$args" bash -c "
	grep -q '\"\$request_method \$attest_log_uri\"' '$R/attest.nginx.conf' &&
	grep -q 'map \$uri \$attest_log_uri' '$R/attest.nginx.conf' &&
	! grep -v '^[[:space:]]*#' '$R/attest.nginx.conf' | grep -v 'return 301' |
		grep -E '\\\$(request|args|query_string|request_uri)([^_a-z]|\$)'"

# --- the configuration example --------------------------------------------------------------
keys_known=$("$BIN" config 2>/dev/null | sed -n 's/^\([a-z_]*\) =.*/\1/p' | sort)
keys_example=$(sed -n 's/^\([a-z_]*\) *=.*/\1/p' deploy/attest.conf.example | sort)
if [ -n "$keys_known" ] && [ "$keys_known" = "$keys_example" ]; then
	ok "attest.conf.example lists exactly the keys of \`attest config\`"
else
	not_ok "attest.conf.example lists exactly the keys of \`attest config\`" \
		"$(diff <(echo "$keys_known") <(echo "$keys_example"))"
fi
if out=$("$BIN" -c "$R/attest.conf" config 2>&1) &&
	grep -qx "base_url = https://$NAME" <<<"$out" &&
	grep -qx "web_dir = $D/usr/share/attest/web" <<<"$out" &&
	grep -qx "socket = /run/attest/attest.sock" <<<"$out" &&
	grep -qx "keys_dir = /var/lib/attest/keys" <<<"$out" &&
	grep -qx "database = sqlite:/var/lib/attest/attest.db" <<<"$out"; then
	ok "rendered attest.conf loads with production values"
else
	not_ok "rendered attest.conf loads with production values" "$out"
fi

# --- systemd unit -----------------------------------------------------------------------------
if command -v systemd-analyze >/dev/null 2>&1; then
	if out=$(systemd-analyze verify "$R/attest.service" 2>&1) && [ -z "$out" ]; then
		ok "systemd-analyze verify attest.service: no error, no warning"
	else
		not_ok "systemd-analyze verify attest.service: no error, no warning" "$out"
	fi
else
	skip "systemd-analyze verify attest.service" "systemd-analyze not installed"
fi
if command -v systemd-analyze >/dev/null 2>&1; then
	if out=$(systemd-analyze verify "$R/attest-sync.service" 2>&1) && [ -z "$out" ]; then
		ok "systemd-analyze verify attest-sync.service: no error, no warning"
	else
		not_ok "systemd-analyze verify attest-sync.service: no error, no warning" "$out"
	fi
fi
check "the sync unit runs attest sync run as the attest user" \
	bash -c "grep -qx 'ExecStart=/.*/bin/attest -c /etc/attest/attest.conf sync run' '$R/attest-sync.service' && grep -qxF 'User=attest' '$R/attest-sync.service'"
unit_has() {
	local s
	for s in "$@"; do grep -qxF -- "$s" "$R/attest.service" || { echo "missing: $s"; return 1; }; done
}
check "unit: user, serve/migrate/keys init, runtime and state dirs, hardening" unit_has \
	"User=attest" "Type=simple" "Restart=on-failure" "RuntimeDirectory=attest" \
	"RuntimeDirectoryMode=0755" "StateDirectory=attest" "NoNewPrivileges=yes" \
	"ProtectSystem=strict" "ProtectHome=yes" "PrivateTmp=yes" "ReadWritePaths=/var/lib/attest" \
	"ExecStart=$D/usr/bin/attest -c /etc/attest/attest.conf serve" \
	"ExecStartPre=$D/usr/bin/attest -c /etc/attest/attest.conf migrate" \
	"ExecStartPre=$D/usr/bin/attest -c /etc/attest/attest.conf keys init"

# --- nginx -t on the site as rendered -------------------------------------------------------------
N=$tmp/nginx
mkdir -p "$N/log" "$N/body" "$N/fastcgi" "$N/proxy" "$N/uwsgi" "$N/scgi"
[ "$(id -u)" -eq 0 ] && chown -R nobody:nogroup "$N/body" "$N/fastcgi" "$N/proxy" "$N/uwsgi" "$N/scgi"
# Logs go to the temp dir: nothing is written under /var/log.
sed -e "s|/var/log/nginx/|$N/log/|g" "$R/attest.nginx.conf" >"$N/site.conf"
wrap() {	# wrap SITE: a whole nginx.conf around a site file, everything inside $N
	cat <<EOF
worker_processes 1;
pid $N/nginx.pid;
error_log $N/log/error.log warn;
daemon off;
events { worker_connections 64; }
http {
	include /etc/nginx/mime.types;
	default_type application/octet-stream;
	client_body_temp_path $N/body;
	fastcgi_temp_path $N/fastcgi;
	proxy_temp_path $N/proxy;
	uwsgi_temp_path $N/uwsgi;
	scgi_temp_path $N/scgi;
	include $1;
}
EOF
}
if ! command -v nginx >/dev/null 2>&1; then
	skip "nginx -t on the rendered site" "nginx not installed"
else
	wrap "$N/site.conf" >"$N/nginx-t.conf"
	check "nginx -t on the rendered site (443/80, IPv6, http2)" \
		nginx -t -q -e "$N/log/error.log" -p "$N" -c "$N/nginx-t.conf"

	# --- the site running, on free ports, in front of a real attest ---------------------------
	sock=$tmp/run/attest.sock
	mkdir -p "$tmp/run" "$tmp/var"
	chmod 0755 "$tmp/run"
	export ATTEST_SOCKET=$sock ATTEST_DATABASE=sqlite:$tmp/var/attest.db ATTEST_KEYS_DIR=$tmp/var/keys
	"$BIN" -c "$R/attest.conf" keys init >/dev/null 2>&1
	"$BIN" -c "$R/attest.conf" serve >>"$tmp/attest.log" 2>&1 &
	pids+=($!)
	# A free port can be taken by someone else before nginx binds it: try fresh ones.
	for _ in 1 2 3; do
		p80=$(free_port)
		p443=$(free_port)
		sed -e "/listen \[::\]/d" -e "s|listen 80;|listen 127.0.0.1:$p80;|" \
			-e "s|listen 443 ssl http2;|listen 127.0.0.1:$p443 ssl http2;|" \
			-e "s|unix:/run/attest/attest.sock|unix:$sock|g" "$N/site.conf" >"$N/site-run.conf"
		wrap "$N/site-run.conf" >"$N/nginx-run.conf"
		nginx -e "$N/log/error.log" -p "$N" -c "$N/nginx-run.conf" 2>>"$N/log/error.log" &
		npid=$!
		sleep 0.5
		kill -0 "$npid" 2>/dev/null && break
		wait "$npid" 2>/dev/null
	done
	pids+=("$npid")
	c=(curl -sS --max-time 5 --resolve "$NAME:$p443:127.0.0.1" --cacert "$tmp/tls/cert.pem")
	up=0
	for _ in $(seq 1 100); do
		if [ -S "$sock" ] && "${c[@]}" -fo /dev/null "https://$NAME:$p443/healthz" 2>/dev/null; then
			up=1
			break
		fi
		sleep 0.1
	done
	if [ "$up" = 1 ]; then
		ok "rendered site serves attest /healthz over HTTPS"
	else
		not_ok "rendered site serves attest /healthz over HTTPS" \
			"$(tail -n 20 "$tmp/attest.log" "$N/log/"*.log 2>&1)"
	fi
	h=$(curl -sS --max-time 5 -o /dev/null -D - "http://127.0.0.1:$p80/lti/login?x=1" 2>&1 | tr -d '\r')
	if grep -q '^HTTP/1.1 301' <<<"$h" && grep -qx "Location: https://$NAME/lti/login?x=1" <<<"$h"; then
		ok "HTTP redirects to https://NAME with path and query"
	else
		not_ok "HTTP redirects to https://NAME with path and query" "$h"
	fi
	h=$("${c[@]}" -o /dev/null -D - "https://$NAME:$p443/healthz?s=SECRETTOKEN" 2>&1 | tr -d '\r')
	if grep -q '^HTTP/2 200' <<<"$h" && grep -qi '^strict-transport-security: max-age=' <<<"$h" &&
		grep -qix 'server: nginx' <<<"$h"; then
		ok "HTTPS (HTTP/2): 200, HSTS, Server without version"
	else
		not_ok "HTTPS (HTTP/2): 200, HSTS, Server without version" "$h"
	fi
	h=$("${c[@]}" -o /dev/null -D - "https://$NAME:$p443/static/attest.css" 2>&1 | tr -d '\r')
	if grep -q '^HTTP/2 200' <<<"$h" && grep -qix 'x-content-type-options: nosniff' <<<"$h" &&
		grep -qi '^strict-transport-security:' <<<"$h" && grep -qi '^cache-control: max-age=3600' <<<"$h" &&
		grep -qi '^content-type: text/css' <<<"$h"; then
		ok "static files: 200 text/css, nosniff, HSTS, cached"
	else
		not_ok "static files: 200 text/css, nosniff, HSTS, cached" "$h"
	fi
	if "${c[@]}" --tls-max 1.1 -o /dev/null "https://$NAME:$p443/healthz" 2>/dev/null; then
		not_ok "TLS 1.1 is refused"
	else
		ok "TLS 1.1 is refused"
	fi
	code=$(head -c 1100000 /dev/zero | "${c[@]}" -o /dev/null -w '%{http_code}' \
		-H 'Content-Type: application/octet-stream' --data-binary @- "https://$NAME:$p443/lti/launch")
	if [ "$code" = 413 ]; then ok "a body over 1m is refused by nginx (413)"; else
		not_ok "a body over 1m is refused by nginx (413)" "status $code"; fi
	# Whatever Attest answers (it has no upload handler yet), the body must reach it.
	code=$(head -c 1100000 /dev/zero | "${c[@]}" -o /dev/null -w '%{http_code}' \
		-H 'Content-Type: application/octet-stream' --data-binary @- "https://$NAME:$p443/api/v1/evidence")
	sleep 0.2
	if grep -q 'path=/api/v1/evidence ' "$tmp/attest.log"; then
		ok "/api/v1/evidence passes a body over 1m on to Attest (answered $code)"
	else
		not_ok "/api/v1/evidence passes a body over 1m on to Attest" "status $code; $(tail -n 5 "$tmp/attest.log")"
	fi
	sleep 0.2	# the access log is written after the response
	alog=$N/log/attest-access.log
	if grep -q '"GET /healthz" 200' "$alog" 2>/dev/null && ! grep -q SECRETTOKEN "$alog" &&
		grep -q 'rid=[0-9a-f]\{32\}' "$alog"; then
		ok "access log: path and request id, never the query string"
	else
		not_ok "access log: path and request id, never the query string" "$(cat "$alog" 2>&1)"
	fi
	rid=$(grep '"GET /healthz" 200' "$alog" 2>/dev/null | tail -n 1 | sed -n 's/.*rid=\([0-9a-f]*\).*/\1/p')
	if [ -n "$rid" ] && grep -q "rid=$rid " "$tmp/attest.log"; then
		ok "attest logs the same request id as nginx"
	else
		not_ok "attest logs the same request id as nginx" "rid=$rid; $(tail -n 5 "$tmp/attest.log")"
	fi
	unset ATTEST_SOCKET ATTEST_DATABASE ATTEST_KEYS_DIR
fi

# --- install.sh for real, in a private mount namespace --------------------------------------------
if [ "$(id -u)" -ne 0 ] || ! command -v unshare >/dev/null || ! unshare -m --propagation private true 2>/dev/null ||
	! command -v nginx >/dev/null || ! command -v useradd >/dev/null; then
	skip "install.sh as root, twice, idempotent" "needs root, unshare -m, nginx and useradd"
else
	S=$tmp/ns
	mkdir -p "$S/varlib" "$S/nginxlog"
	cp -a /etc "$S/etc"
	[ -d /var/lib/nginx ] && cp -a /var/lib/nginx "$S/varlib/"
	cat >"$S/run.sh" <<EOF
set -e
mount --bind "$S/etc" /etc
mount --bind "$S/varlib" /var/lib
mount --bind "$S/nginxlog" /var/log/nginx
inst="$D/usr/share/attest/deploy/install.sh"
args=(--server-name $NAME --prefix "$D/usr" --cert "$tmp/tls/cert.pem" --key "$tmp/tls/key.pem")
"\$inst" "\${args[@]}" >"$S/first.out" 2>&1
echo "# local edit" >>/etc/attest/attest.conf
"\$inst" "\${args[@]}" >"$S/second.out" 2>&1
getent passwd attest | cut -d: -f1,6,7 >"$S/user"
stat -c '%U:%G %a %n' /etc/attest /etc/attest/attest.conf /var/lib/attest >"$S/stat"
readlink /etc/nginx/sites-enabled/attest >"$S/link"
tail -n 1 /etc/attest/attest.conf >"$S/conf-tail"
grep -c . /etc/systemd/system/attest.service >"$S/unit-lines"
ls /etc/nginx/sites-available /etc/systemd/system >"$S/ls"
EOF
	if out=$(unshare -m --propagation private bash "$S/run.sh" 2>&1); then
		ok "install.sh as root: two runs succeed"
	else
		not_ok "install.sh as root: two runs succeed" "$out$(cat "$S"/*.out 2>/dev/null)"
	fi
	want_stat="root:attest 750 /etc/attest
root:attest 640 /etc/attest/attest.conf
attest:attest 750 /var/lib/attest"
	if [ "$(cat "$S/user" 2>/dev/null)" = "attest:/var/lib/attest:/usr/sbin/nologin" ] &&
		[ "$(cat "$S/stat" 2>/dev/null)" = "$want_stat" ] &&
		[ "$(cat "$S/link" 2>/dev/null)" = "../sites-available/attest" ] &&
		grep -q "nginx -t: configuration ok" "$S/first.out" &&
		grep -q "https://$NAME/lti/register" "$S/first.out"; then
		ok "install.sh: user, /etc/attest, state dir, enabled site, URLs printed"
	else
		not_ok "install.sh: user, /etc/attest, state dir, enabled site, URLs printed" \
			"$(cat "$S/user" "$S/stat" "$S/link" "$S/first.out" 2>&1)"
	fi
	if [ "$(cat "$S/conf-tail" 2>/dev/null)" = "# local edit" ] &&
		grep -q "attest.conf exists: kept" "$S/second.out" &&
		grep -q "attest.service unchanged" "$S/second.out" &&
		grep -q "sites-available/attest unchanged" "$S/second.out" &&
		! grep -q '\.bak-' "$S/ls"; then
		ok "install.sh again: config kept, unit and site unchanged, no backups"
	else
		not_ok "install.sh again: config kept, unit and site unchanged, no backups" \
			"$(cat "$S/conf-tail" "$S/second.out" "$S/ls" 2>&1)"
	fi
fi

echo "$(basename "$0" .sh): $pass passed, $fail failed"
[ "$fail" -eq 0 ]
