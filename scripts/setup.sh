#!/usr/bin/env bash
# What a fresh clone needs before it imports: npm packages, the compiled sources, the Temporal CLI
# (its dev server) and a running MariaDB. Quick when it has all been done before. The tests need
# more (scripts/test.sh).
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
bash scripts/ensure-mariadb.sh
