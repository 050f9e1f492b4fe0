#!/usr/bin/env bash
# Everything a fresh clone needs before it runs: npm packages, the compiled sources, the Temporal
# CLI and server, and a running MariaDB. Quick when it has all been done before.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # `npm install`, not `npm ci`: this npm leaves other platforms' optional packages (of @swc/core)
  # out of the lock file it writes, and then `npm ci` refuses that very lock file.
  npm install --no-audit --no-fund --loglevel=error
fi
# tsc, then the workflow code bundled once, not at every worker start (worker/workflow-bundle.ts).
npm run --silent build
bash scripts/ensure-temporal.sh
# The Temporal server (on PostgreSQL) that test/integration/temporal-cluster.test.ts runs.
bash scripts/ensure-temporal-server.sh
bash scripts/ensure-mariadb.sh
# The tests write zstd files with the zstd tool (Node 20 has no zstd compressor).
command -v zstd >/dev/null || { apt-get install -y -qq zstd >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq zstd); }
