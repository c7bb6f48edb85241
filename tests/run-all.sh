#!/usr/bin/env bash
# run-all.sh: every test suite, as `make test` runs it (and CI through .ci/run):
#   unit (cmocka, SQLite + PostgreSQL) · integration (CGI + CLI) · end-to-end (nginx,
#   PostgreSQL, platform emulator, headless Chromium) · the unit and integration suites again
#   under AddressSanitizer + UndefinedBehaviorSanitizer · the unit suites under valgrind.
# SKIP_SANITIZE=1 / SKIP_VALGRIND=1 / SKIP_E2E=1 leave a stage out (for quick local runs).
set -uo pipefail
cd "$(dirname "$0")/.."
results=()
pass=0 fail=0
stage() {
	local name=$1
	shift
	echo "=== $name"
	if "$@"; then pass=$((pass + 1)); results+=("ok   $name"); else fail=$((fail + 1)); results+=("FAIL $name"); fi
}
pgdir=$(mktemp -d /tmp/attest-pg.XXXXXX)
cleanup() { tests/pg.sh stop "$pgdir" >/dev/null 2>&1; }
trap cleanup EXIT
ATTEST_TEST_PG=$(tests/pg.sh start "$pgdir") || { echo "could not start PostgreSQL"; exit 1; }
export ATTEST_TEST_PG

stage "lint" tests/lint.sh
stage "unit" tests/run-unit.sh build/tests
stage "integration" tests/run-integration.sh
[ "${SKIP_E2E:-0}" = 1 ] || stage "end-to-end" tests/run-e2e.sh
if [ "${SKIP_SANITIZE:-0}" != 1 ]; then
	stage "sanitizers: build" make --no-print-directory SANITIZE=address,undefined all \
		$(ls tests/unit/test_*.c | sed 's|tests/unit/\(.*\)\.c|build-san/tests/\1|')
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
	export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
	stage "sanitizers: unit" tests/run-unit.sh build-san/tests
	stage "sanitizers: integration" env ATTEST_BIN=bin-san/attest tests/run-integration.sh
	stage "sanitizers: end-to-end launch, API, pages and sync" env ATTEST_BIN=bin-san/attest \
		node --test --test-concurrency=1 tests/e2e/launch.test.mjs tests/e2e/instances.test.mjs \
		tests/e2e/api-a.test.mjs tests/e2e/api-b.test.mjs tests/e2e/pages-*.test.mjs \
		tests/e2e/sync-*.test.mjs
	unset ASAN_OPTIONS UBSAN_OPTIONS
fi
if [ "${SKIP_VALGRIND:-0}" != 1 ]; then
	stage "valgrind: unit" env VALGRIND="valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=99" \
		tests/run-unit.sh build/tests
fi
echo
printf '%s\n' "${results[@]}"
echo "suites: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
