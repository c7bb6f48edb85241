#!/usr/bin/env bash
# run.sh: `make bench` -- LTI launch throughput and latency through nginx, against the floor.
#
# Starts, in a private temp dir and on free loopback ports:
#   - the real stack, exactly as `make run` does (deploy/stack.sh start);
#   - the floor: the same nginx template in front of build/tools/fcgi_hello, with as many
#     FastCGI workers as Attest has;
# then runs tests/bench/launch-bench.mjs (complete launches, /healthz, the floor, wrk) and
# prints the memory of the FastCGI worker processes. Prints figures only, asserts none.
# Everything it started is stopped and its temp dir removed on exit, Ctrl-C included.
#
# Environment: BENCH_N (launches per level and round, 300), BENCH_N_HTTP (GETs per level
# and round, 2000), BENCH_ROUNDS (3), BENCH_LEVELS (1,4,16), BENCH_WRK_SECONDS (5; 0 skips
# wrk), BENCH_FLAVOR (moodle|canvas), BENCH_JSON (also write the figures as JSON to this
# file), BENCH_KEEP=1 (keep the temp dir), ATTEST_WORKERS and other ATTEST_* (the stack).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
BIN=${ATTEST_BIN:-$root/bin/attest}
HELLO=$root/build/tools/fcgi_hello
N=${BENCH_N:-300}
N_HTTP=${BENCH_N_HTTP:-2000}
ROUNDS=${BENCH_ROUNDS:-3}
LEVELS=${BENCH_LEVELS:-1,4,16}
WRK_SECONDS=${BENCH_WRK_SECONDS:-5}
FLAVOR=${BENCH_FLAVOR:-moodle}

die() { echo "bench: $*" >&2; exit 1; }
[ -x "$BIN" ] || die "$BIN is not built (run make)"
[ -x "$HELLO" ] || die "$HELLO is not built (make bench builds it)"
command -v nginx >/dev/null || die "nginx is not installed (deploy/install-deps.sh)"
command -v node >/dev/null || die "node is not installed (deploy/install-deps.sh --test)"
command -v curl >/dev/null || die "curl is not installed (deploy/install-deps.sh)"
if [ ! -d "$root/tests/platform/node_modules/jose" ]; then
	echo "bench: installing the platform emulator's npm modules"
	(cd "$root/tests/platform" && npm ci --no-audit --no-fund --silent) ||
		die "npm ci in tests/platform failed"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/attest-bench.XXXXXX")
chmod 0755 "$tmp"	# nginx workers (nobody when started by root) reach the sockets
svar=$tmp/stack
fvar=$tmp/floor
mkdir -p "$svar" "$fvar/run" "$fvar/log" "$fvar/nginx"

# Stop a process by pid file: TERM, up to 5 s, then KILL it and any child left.
stop_pidfile() {
	local f=$1 pid kids
	[ -f "$f" ] || return 0
	pid=$(cat "$f" 2>/dev/null || true)
	[ -n "$pid" ] || return 0
	kids=$(pgrep -P "$pid" 2>/dev/null || true)
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" $kids 2>/dev/null || true
	rm -f "$f"
}

stack_started=0
bench_pid=""
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [ -n "$bench_pid" ]; then
		kill -TERM "$bench_pid" 2>/dev/null || true
		wait "$bench_pid" 2>/dev/null || true
	fi
	if [ "$stack_started" = 1 ]; then
		ATTEST_VAR=$svar PORT=${sport:-0} ATTEST_BIN=$BIN "$root/deploy/stack.sh" stop \
			>/dev/null 2>&1 || true
	fi
	stop_pidfile "$fvar/run/nginx.pid.bench"
	stop_pidfile "$fvar/run/hello.pid"
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		echo "bench: kept $tmp"
	else
		rm -rf "$tmp"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
	node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# --- the stack -----------------------------------------------------------------------
sport=$(free_port)
stack_started=1
ATTEST_VAR=$svar PORT=$sport ATTEST_LMS_ALLOW_HTTP=1 ATTEST_BIN=$BIN \
	"$root/deploy/stack.sh" start >"$tmp/stack.out" 2>&1 || {
	cat "$tmp/stack.out" >&2
	die "deploy/stack.sh start failed"
}
base=$(sed -n 's/^ready \(.*\)$/\1/p' "$tmp/stack.out" | head -n 1)
[ -n "$base" ] || { cat "$tmp/stack.out" >&2; die "deploy/stack.sh did not print ready"; }

# Same worker count for the floor as Attest uses (the stack's configuration and environment).
workers=$(ATTEST_VAR=$svar "$BIN" config 2>/dev/null | sed -n 's/^workers = \([0-9]*\)$/\1/p')
workers=${workers:-2}

# --- the floor: nginx-dev.conf.in with fcgi_hello as the only upstream ----------------
fport=$(free_port)
"$HELLO" "$fvar/run/hello.sock" "$workers" >>"$fvar/log/hello.log" 2>&1 &
echo $! >"$fvar/run/hello.pid"
for _ in $(seq 1 50); do
	[ -S "$fvar/run/hello.sock" ] && break
	sleep 0.1
done
for d in body fastcgi proxy uwsgi scgi; do mkdir -p "$fvar/nginx/$d"; done
# Render the template as deploy/stack.sh does (same user line), only the upstream differs.
user_line=""
if [ "$(id -u)" -eq 0 ]; then user_line="user root root;"; fi
sed -e "s|@USER@|$user_line|" -e "s|@VAR@|$fvar|g" -e "s|@ROOT@|$root|g" -e "s|@PORT@|$fport|g" \
	-e "s|@LISTEN@|127.0.0.1|g" -e "s|@UPSTREAMS@|		server unix:$fvar/run/hello.sock;|" \
	"$root/deploy/nginx-dev.conf.in" >"$fvar/nginx.conf"
if grep -n '@[A-Z_]*@' "$fvar/nginx.conf" | grep -v '^[0-9]*:[[:space:]]*#' >&2; then
	die "deploy/nginx-dev.conf.in has a placeholder this script does not know (see deploy/stack.sh)"
fi
nginx -q -t -p "$fvar/nginx" -c "$fvar/nginx.conf" 2>"$fvar/log/nginx-check.log" || {
	cat "$fvar/log/nginx-check.log" >&2
	die "floor nginx configuration does not load"
}
nginx -p "$fvar/nginx" -c "$fvar/nginx.conf" 2>>"$fvar/log/nginx-error.log" &
echo $! >"$fvar/run/nginx.pid.bench"
floor=http://127.0.0.1:$fport
for _ in $(seq 1 100); do
	curl -fsS "$floor/hello" 2>/dev/null | grep -q hello && break
	sleep 0.1
done
curl -fsS "$floor/hello" 2>/dev/null | grep -q hello || {
	tail -n 20 "$fvar"/log/*.log >&2 || true
	die "the floor (nginx + fcgi_hello) does not answer"
}

echo "bench: attest at $base ($workers workers), floor at $floor ($workers workers)," \
	"$(nproc) CPUs, $(nginx -v 2>&1 | sed 's/.*: //')"
echo

# --- measure ---------------------------------------------------------------------------
rc=0
json=()
[ -n "${BENCH_JSON:-}" ] && json=(--json "$BENCH_JSON")
# In the background so that a TERM or INT sent to this script runs cleanup at once
# (bash defers traps until a foreground child ends); timeout bounds a hung run.
timeout 900 node "$root/tests/bench/launch-bench.mjs" --attest "$base" --floor "$floor" \
	--attest-var "$svar" --floor-var "$fvar" --n "$N" --n-http "$N_HTTP" --rounds "$ROUNDS" \
	--levels "$LEVELS" --flavor "$FLAVOR" --wrk-seconds "$WRK_SECONDS" "${json[@]}" &
bench_pid=$!
wait "$bench_pid" || rc=$?
bench_pid=""
echo
# The checklist page and an observation submit under concurrent load (tests/bench/pages-bench.mjs).
timeout 900 node "$root/tests/bench/pages-bench.mjs" --attest "$base" --attest-var "$svar" \
	--n "${BENCH_N_PAGES:-300}" --rounds "$ROUNDS" --levels "$LEVELS" &
bench_pid=$!
wait "$bench_pid" || rc=$?
bench_pid=""

echo
# LMS sync throughput against the emulated platform on loopback (tests/bench/sync-bench.mjs).
timeout 900 node "$root/tests/bench/sync-bench.mjs" &
bench_pid=$!
wait "$bench_pid" || rc=$?
bench_pid=""

# --- worker memory, after the run ------------------------------------------------------
kib() { sed -n "s/^$2:[[:space:]]*\([0-9]*\) kB$/\1/p" "/proc/$1/status" 2>/dev/null; }
mem_of() {
	local label=$1 master=$2 pid rss hwm total=0 n=0
	[ -n "$master" ] && [ -d "/proc/$master" ] || { echo "$label: not running"; return; }
	printf '%-30s pid %-7s RSS %6s KiB (master)\n' "$label" "$master" "$(kib "$master" VmRSS)"
	for pid in $(pgrep -P "$master"); do
		rss=$(kib "$pid" VmRSS)
		hwm=$(kib "$pid" VmHWM)
		[ -n "$rss" ] || continue
		printf '%-30s pid %-7s RSS %6s KiB, peak %6s KiB\n' "  worker" "$pid" "$rss" "$hwm"
		total=$((total + rss))
		n=$((n + 1))
	done
	if [ "$n" -gt 0 ]; then printf '%-30s %d workers, %d KiB total, %d KiB each on average\n' \
		"" "$n" "$total" $((total / n)); fi
}
echo "Worker memory after the run (from /proc; RSS counts shared library pages in each):"
for f in "$svar"/run/attest-*.pid; do
	[ -e "$f" ] && mem_of "attest ($(basename "$f" .pid))" "$(cat "$f")"
done
mem_of "fcgi_hello (floor)" "$(cat "$fvar/run/hello.pid" 2>/dev/null || true)"
exit "$rc"
