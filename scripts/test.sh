#!/usr/bin/env bash
# The whole test suite: unit, integration (a real Temporal dev server and a Temporal server on
# PostgreSQL, real MariaDB) and replay tests, then the integration files that run on TiDB
# (test/run-on-tidb.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# The Temporal server (on PostgreSQL) that test/integration/temporal-cluster.test.ts runs.
bash scripts/ensure-temporal-server.sh
bash scripts/ensure-postgres.sh
# tidb-server for the TiDB tests (and Lightning, for bench/): built from source once per machine.
bash scripts/ensure-tidb.sh >/dev/null
# The tests write zstd files with the zstd tool (Node 20 has no zstd compressor).
command -v zstd >/dev/null || { apt-get install -y -qq zstd >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq zstd); }
mapfile -t files < <(find dist/test -name '*.test.js' | sort)
# Integration tests each start servers and workers: one file at a time keeps a 2-core machine honest.
status=0
node --test --test-concurrency=1 "${files[@]}" || status=$?
# Then the integration files that must behave the same on TiDB, on a tidb-server of their own.
node dist/test/run-on-tidb.js || status=$?
exit "$status"
