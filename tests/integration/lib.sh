# lib.sh: helpers for integration tests. They run the real binary in CGI mode (cgit's
# trick) or as a CLI on a fixture database and assert status, headers and body.
# Each test script sources this, calls `ok`/`check` and ends with `finish`.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${ATTEST_BIN:-$root/bin/attest}
case "$BIN" in /*) ;; *) BIN=$root/$BIN ;; esac
tmp=$(mktemp -d /tmp/attest-it.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export ATTEST_DATABASE="sqlite:$tmp/attest.db"
export ATTEST_KEYS_DIR="$tmp/keys"
export ATTEST_BASE_URL="https://attest.test"
export ATTEST_LOG_LEVEL=1
unset ATTEST_CONFIG
n=0 passed=0 failed=0

ok() {	# ok NAME COMMAND...: passes when COMMAND succeeds
	local name=$1
	shift
	n=$((n + 1))
	if "$@" >/dev/null 2>&1; then
		passed=$((passed + 1))
		echo "ok $n - $name"
	else
		failed=$((failed + 1))
		echo "not ok $n - $name"
	fi
}

# cgi METHOD PATH [QUERY] [BODY] [CONTENT_TYPE]: run one request; output in $tmp/out,
# status in $status, headers in $tmp/head, body in $tmp/body.
cgi() {
	local method=$1 path=$2 query=${3:-} body=${4:-} ct=${5:-application/x-www-form-urlencoded}
	printf '%s' "$body" | env REQUEST_METHOD="$method" DOCUMENT_URI="$path" \
		QUERY_STRING="$query" CONTENT_TYPE="$ct" CONTENT_LENGTH="${#body}" \
		HTTP_COOKIE="${COOKIE:-}" REMOTE_ADDR=127.0.0.1 \
		"$BIN" cgi >"$tmp/out" 2>"$tmp/err"
	status=$(sed -n '1s/^Status: \([0-9]*\).*/\1/p' "$tmp/out")
	sed -n '1,/^\r$/p' "$tmp/out" >"$tmp/head"
	sed '1,/^\r$/d' "$tmp/out" >"$tmp/body"
}

has_header() { grep -qi "^$1" "$tmp/head"; }
body_has() { grep -q -- "$1" "$tmp/body"; }
status_is() { [ "$status" = "$1" ]; }

finish() {
	echo "$(basename "$0" .sh): $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}
