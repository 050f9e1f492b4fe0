#!/usr/bin/env bash
# Everything a fresh clone needs before it runs: npm packages, the compiled sources, the Temporal
# CLI, and a running MariaDB. Quick when it has all been done before.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
npx tsc -p tsconfig.json
bash scripts/ensure-temporal.sh
bash scripts/ensure-mariadb.sh
