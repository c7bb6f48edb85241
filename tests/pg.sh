#!/bin/bash
# pg.sh: a throwaway PostgreSQL server for tests.
#
#   tests/pg.sh start DIR   initdb + start in DIR, create database "attest", print
#                           postgresql://USER@127.0.0.1:PORT/attest once it accepts connections
#   tests/pg.sh stop DIR    stop the server and remove DIR (fine if already stopped or gone)
#
# PostgreSQL refuses to run as root: as root the server runs as $ATTEST_PG_USER (default
# "postgres", created as a system user if missing); otherwise as the calling user. Listens on
# 127.0.0.1 only, on a free port, with its unix socket inside DIR; trust auth, fsync off.
# Needs no stdin or tty. Binaries from $ATTEST_PG_BIN (default: PostgreSQL 15, else the newest
# /usr/lib/postgresql/*/bin).
set -eu

die()
{
	echo "pg.sh: $*" >&2
	exit 1
}

usage()
{
	echo "usage: tests/pg.sh start|stop DIR" >&2
	exit 2
}

[ $# -eq 2 ] || usage
cmd=$1
dir=$2
[ -n "$dir" ] || usage
case $dir in
/*) ;;
*) dir=$(pwd)/$dir ;;
esac
marker=$dir/.attest-pg

find_bin()
{
	if [ -n "${ATTEST_PG_BIN:-}" ]; then
		echo "$ATTEST_PG_BIN"
		return
	fi
	for d in /usr/lib/postgresql/15/bin \
		$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -rV); do
		if [ -x "$d/postgres" ]; then
			echo "$d"
			return
		fi
	done
	die "no PostgreSQL server binaries (install postgresql-15 or set ATTEST_PG_BIN)"
}

# Run "$@" as the server user ($user), with no stdin.
as_user()
{
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u "$user" -- "$@" </dev/null
	else
		"$@" </dev/null
	fi
}

pick_user()
{
	if [ "$(id -u)" -ne 0 ]; then
		id -un
		return
	fi
	u=${ATTEST_PG_USER:-postgres}
	if ! id -u "$u" >/dev/null 2>&1; then
		useradd --system --no-create-home --shell /usr/sbin/nologin "$u" \
			>/dev/null 2>&1 ||
			die "cannot create user $u"
	fi
	echo "$u"
}

# A port nobody listens on now (the server start still retries if it loses a race).
free_port()
{
	i=0
	while [ $i -lt 100 ]; do
		p=$(( ($(od -An -N2 -tu2 /dev/urandom) % 30000) + 20000 ))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return
		fi
		i=$((i + 1))
	done
	die "no free port found"
}

url()
{
	echo "postgresql://$user@127.0.0.1:$(cat "$dir/port")/attest"
}

running()
{
	[ -f "$dir/data/postmaster.pid" ] &&
		as_user "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1
}

start()
{
	if [ -f "$marker" ] && [ -f "$dir/port" ] && running; then
		url
		return
	fi
	if [ -e "$dir" ] && [ ! -f "$marker" ] && [ -n "$(ls -A "$dir" 2>/dev/null)" ]; then
		die "$dir exists, is not empty and was not made by pg.sh"
	fi
	mkdir -p "$dir"
	chmod 0700 "$dir"
	if [ "$(id -u)" -eq 0 ]; then
		chown "$user" "$dir"
	fi
	touch "$marker"
	as_user test -w "$dir" ||
		die "$user cannot write $dir (a parent directory closed to it? use /tmp)"

	# The socket path must fit sockaddr_un (108 bytes with ".s.PGSQL.NNNNN").
	sock=$dir
	if [ ${#sock} -gt 80 ]; then
		sock=$(as_user mktemp -d /tmp/attest-pgsock.XXXXXX)
		echo "$sock" >"$dir/sockdir"
	fi

	if [ ! -f "$dir/data/PG_VERSION" ]; then
		rm -rf "$dir/data"
		as_user "$bin/initdb" -D "$dir/data" -U "$user" -A trust -E UTF8 \
			--locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 ||
			{ cat "$dir/initdb.log" >&2; die "initdb failed"; }
	fi

	tries=0
	while :; do
		tries=$((tries + 1))
		port=$(free_port)
		# (appending keeps the file's owner; root may write it)
		cat >>"$dir/data/postgresql.conf" <<EOF
# pg.sh: throwaway test server (later lines win)
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$sock'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 50
shared_buffers = 16MB
log_min_messages = warning
EOF
		if as_user "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
			start >/dev/null 2>&1; then
			break
		fi
		if [ $tries -ge 5 ] || ! grep -q 'could not bind\|could not create any TCP' \
			"$dir/server.log" 2>/dev/null; then
			tail -n 20 "$dir/server.log" >&2 2>/dev/null || true
			die "server did not start (log: $dir/server.log)"
		fi
	done
	echo "$port" >"$dir/port"

	i=0
	until "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -d postgres </dev/null; do
		i=$((i + 1))
		[ $i -lt 300 ] || die "server on port $port does not accept connections"
		sleep 0.1
	done
	if ! "$bin/psql" -X -q -h 127.0.0.1 -p "$port" -U "$user" -d postgres -tA </dev/null \
		-c "SELECT 1 FROM pg_database WHERE datname = 'attest'" | grep -q 1; then
		"$bin/createdb" -h 127.0.0.1 -p "$port" -U "$user" -E UTF8 attest </dev/null ||
			die "createdb attest failed"
	fi
	url
}

stop()
{
	[ -e "$dir" ] || return 0
	[ -f "$marker" ] || die "$dir was not made by pg.sh: not removing it"
	if [ -f "$dir/data/postmaster.pid" ]; then
		as_user "$bin/pg_ctl" -D "$dir/data" -m immediate -w -t 60 stop \
			>/dev/null 2>&1 || true
	fi
	if [ -f "$dir/sockdir" ]; then
		sd=$(cat "$dir/sockdir")
		case $sd in
		/tmp/attest-pgsock.*) rm -rf "$sd" ;;
		esac
	fi
	rm -rf "$dir"
}

bin=$(find_bin)
user=$(pick_user)
case $cmd in
start) start ;;
stop) stop ;;
*) usage ;;
esac
