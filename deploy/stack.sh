#!/usr/bin/env bash
# stack.sh: start, stop or run Attest (FastCGI workers + nginx) exactly as `make run` and
# the tests do.
#   deploy/stack.sh start   start in the background; prints "ready BASE_URL"
#   deploy/stack.sh stop    stop what start started
#   deploy/stack.sh run     start, print the URLs an LMS admin needs, wait for Ctrl-C
# Environment: PORT (8080), ATTEST_VAR (./var), ATTEST_INSTANCES (1), LISTEN (127.0.0.1),
# ATTEST_BIN (bin/attest) and any ATTEST_<KEY> configuration override.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cmd=${1:-}
PORT=${PORT:-8080}
VAR=${ATTEST_VAR:-$root/var}
mkdir -p "$VAR"
VAR=$(cd "$VAR" && pwd)
LISTEN=${LISTEN:-127.0.0.1}
INSTANCES=${ATTEST_INSTANCES:-1}
BIN=${ATTEST_BIN:-$root/bin/attest}
case "$BIN" in /*) ;; *) BIN=$root/$BIN ;; esac

export ATTEST_BASE_URL=${ATTEST_BASE_URL:-http://localhost:$PORT}
# A plain-http base URL means a local development setup: let it talk to a local http LMS.
case "$ATTEST_BASE_URL" in http://*) export ATTEST_LMS_ALLOW_HTTP=${ATTEST_LMS_ALLOW_HTTP:-1} ;; esac
export ATTEST_DATABASE=${ATTEST_DATABASE:-sqlite:$VAR/attest.db}
export ATTEST_KEYS_DIR=${ATTEST_KEYS_DIR:-$VAR/keys}
export ATTEST_EVIDENCE_DIR=${ATTEST_EVIDENCE_DIR:-$VAR/evidence}
export ATTEST_WEB_DIR=${ATTEST_WEB_DIR:-$root/web}
[ -f "$root/attest.conf" ] && export ATTEST_CONFIG=${ATTEST_CONFIG:-$root/attest.conf}

stop() {
	local f pid
	for f in "$VAR"/run/*.pid; do
		[ -e "$f" ] || continue
		pid=$(cat "$f" 2>/dev/null || true)
		[ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null || true
	done
	for f in "$VAR"/run/*.pid; do
		[ -e "$f" ] || continue
		pid=$(cat "$f" 2>/dev/null || true)
		for _ in $(seq 1 50); do
			[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true
		rm -f "$f"
	done
}

# Import the example frameworks and programs (the two seed programs) once; "already there"
# (exit 6) is fine, anything else is reported.
seed_examples() {
	local f rc kind
	for f in "$root"/examples/frameworks/*.csv "$root"/examples/programs/*.json; do
		[ -e "$f" ] || continue
		case "$f" in *.csv) kind=framework ;; *) kind=program ;; esac
		"$BIN" help | grep -q "^  $kind " || continue
		rc=0
		"$BIN" "$kind" import "$f" >/dev/null 2>"$VAR/log/seed.err" || rc=$?
		if [ "$rc" -ne 0 ] && [ "$rc" -ne 6 ]; then
			echo "stack: could not import $f:" >&2
			cat "$VAR/log/seed.err" >&2
		fi
	done
	rm -f "$VAR/log/seed.err"
}

start() {
	local i upstreams=""
	[ -x "$BIN" ] || { echo "stack: $BIN is not built (run make)" >&2; exit 1; }
	mkdir -p "$VAR/run" "$VAR/log" "$VAR/nginx"
	chmod 0755 "$VAR" "$VAR/run"
	umask 077
	"$BIN" migrate >/dev/null
	"$BIN" keys init >/dev/null
	umask 022
	seed_examples
	for i in $(seq 1 "$INSTANCES"); do
		ATTEST_SOCKET="$VAR/run/attest-$i.sock" "$BIN" serve \
			>>"$VAR/log/attest-$i.log" 2>&1 &
		echo $! >"$VAR/run/attest-$i.pid"
		upstreams="$upstreams		server unix:$VAR/run/attest-$i.sock;\n"
	done
	# The LMS sync worker (attest sync run): delivers grades, ratings and rosters.
	if [ "${ATTEST_SYNC_WORKER:-1}" = 1 ]; then
		"$BIN" sync run >>"$VAR/log/attest-sync.log" 2>&1 &
		echo $! >"$VAR/run/attest-sync.pid"
	fi
	for d in body fastcgi proxy uwsgi scgi; do mkdir -p "$VAR/nginx/$d"; done
	# nginx started by root would run its workers as nobody, who may not reach a socket or
	# the web/ files under a private directory: this local, loopback-only nginx keeps the
	# invoking user (the production site in deploy/ runs as www-data).
	local user_line=""
	if [ "$(id -u)" -eq 0 ]; then user_line="user root root;"; fi
	sed -e "s|@USER@|$user_line|" -e "s|@VAR@|$VAR|g" -e "s|@ROOT@|$root|g" -e "s|@PORT@|$PORT|g" \
		-e "s|@LISTEN@|$LISTEN|g" -e "s|@UPSTREAMS@|$upstreams|" \
		"$root/deploy/nginx-dev.conf.in" >"$VAR/nginx.conf"
	nginx -q -t -p "$VAR/nginx" -c "$VAR/nginx.conf" 2>"$VAR/log/nginx-check.log" || {
		cat "$VAR/log/nginx-check.log" >&2; stop; exit 1; }
	nginx -p "$VAR/nginx" -c "$VAR/nginx.conf" 2>>"$VAR/log/nginx-error.log" &
	echo $! >"$VAR/run/nginx.pid.stack"
	for _ in $(seq 1 100); do
		if curl -fsS -o /dev/null "http://$LISTEN:$PORT/healthz" 2>/dev/null; then
			echo "ready $ATTEST_BASE_URL"
			return 0
		fi
		sleep 0.1
	done
	echo "stack: Attest did not answer /healthz; see $VAR/log/" >&2
	tail -n 20 "$VAR"/log/*.log >&2 || true
	stop
	exit 1
}

case "$cmd" in
start) start ;;
stop) stop ;;
run)
	start
	echo
	"$BIN" urls
	echo
	echo "Attest is running at $ATTEST_BASE_URL (database $ATTEST_DATABASE)."
	echo "Logs: $VAR/log/. Press Ctrl-C to stop."
	trap 'echo; echo "stopping"; stop; exit 0' INT TERM
	while :; do
		for f in "$VAR"/run/attest-*.pid; do
			kill -0 "$(cat "$f")" 2>/dev/null || { echo "attest exited; see $VAR/log/" >&2; stop; exit 1; }
		done
		sleep 1 &
		wait $! || true
	done
	;;
*) echo "usage: deploy/stack.sh start|stop|run" >&2; exit 2 ;;
esac
