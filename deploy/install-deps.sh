#!/usr/bin/env bash
# install-deps.sh: install the Debian packages Attest needs, only those missing.
# Idempotent and non-interactive. `install-deps.sh` = build + run; `--test` adds what the
# test suites need (cmocka, PostgreSQL 15, Node, Chromium, valgrind).
set -euo pipefail

run_pkgs=(build-essential pkg-config ca-certificates curl libfcgi-dev libjson-c-dev
	libcurl4-openssl-dev libssl-dev libsqlite3-dev sqlite3 libpq-dev libcjose-dev
	libjansson-dev libmagic-dev nginx)
test_pkgs=(libcmocka-dev postgresql-15 valgrind chromium wrk libfcgi-bin)

want=("${run_pkgs[@]}")
if [ "${1:-}" = "--test" ]; then
	want+=("${test_pkgs[@]}")
	# Node: keep one that is already there (another source may provide it with npm).
	command -v node >/dev/null 2>&1 || want+=(nodejs)
	command -v npm >/dev/null 2>&1 || want+=(npm)
fi

missing=()
for p in "${want[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$status" = "install ok installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null 2>&1 || {
		echo "install-deps: missing packages: ${missing[*]} (run as root or install sudo)" >&2
		exit 1
	}
	sudo="sudo"
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian's nginx package starts a system nginx on port 80; Attest runs its own.
if printf '%s\n' "${missing[@]}" | grep -qx nginx; then
	$sudo service nginx stop >/dev/null 2>&1 || true
fi
