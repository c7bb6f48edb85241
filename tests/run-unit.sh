#!/usr/bin/env bash
# run-unit.sh DIR: run every cmocka binary in DIR (build/tests). The storage suite runs on
# SQLite and on a throwaway PostgreSQL 15 (tests/pg.sh) unless ATTEST_TEST_PG is set.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:-build/tests}
pgdir=""
cleanup() { [ -n "$pgdir" ] && "$here/pg.sh" stop "$pgdir" >/dev/null 2>&1; }
trap cleanup EXIT
if [ -z "${ATTEST_TEST_PG:-}" ]; then
	pgdir=$(mktemp -d /tmp/attest-pg.XXXXXX)
	ATTEST_TEST_PG=$("$here/pg.sh" start "$pgdir") || { echo "could not start PostgreSQL" >&2; exit 1; }
	export ATTEST_TEST_PG
fi
pass=0 fail=0
for t in "$dir"/test_*; do
	[ -x "$t" ] || continue
	if ${VALGRIND:-} "$t"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAILED: $t"; fi
done
echo "unit: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
