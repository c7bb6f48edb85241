#!/usr/bin/env bash
# run-e2e.sh: end-to-end suites — the platform emulator (Node + jose) and headless Chromium
# (playwright-core) against the real nginx + attest, on SQLite and PostgreSQL.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/platform"
if [ ! -d node_modules/jose ] || [ ! -d node_modules/playwright-core ] ||
   [ package-lock.json -nt node_modules/.package-lock.json ]; then
	npm ci --no-audit --no-fund --loglevel=error || exit 1
fi
cd "$here/.."
node --test --test-concurrency=1 tests/platform/ tests/lms/ tests/e2e/
