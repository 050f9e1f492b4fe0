#!/usr/bin/env bash
# The whole test suite: unit, integration (real Temporal dev server, real MariaDB) and replay tests,
# then the integration files that run on TiDB (test/run-on-tidb.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
mapfile -t files < <(find dist/test -name '*.test.js' | sort)
# Integration tests each start servers and workers: one file at a time keeps a 2-core machine honest.
status=0
node --test --test-concurrency=1 "${files[@]}" || status=$?
# Then the integration files that must behave the same on TiDB, on a tidb-server of their own.
node dist/test/run-on-tidb.js || status=$?
exit "$status"
