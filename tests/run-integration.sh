#!/usr/bin/env bash
# run-integration.sh: every tests/integration/tNNNN-*.sh against $ATTEST_BIN (bin/attest).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
pass=0 fail=0
for t in "$here"/integration/t[0-9]*.sh; do
	if bash "$t" >"/tmp/attest-it-$$.log" 2>&1; then
		pass=$((pass + 1))
		tail -n 1 "/tmp/attest-it-$$.log"
	else
		fail=$((fail + 1))
		grep -v '^ok ' "/tmp/attest-it-$$.log"
	fi
done
rm -f "/tmp/attest-it-$$.log"
echo "integration: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
