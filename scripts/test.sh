#!/usr/bin/env bash
# The whole test suite: unit, integration (real Temporal dev server, real MariaDB) and replay tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
mapfile -t files < <(find dist/test -name '*.test.js' | sort)
# Integration tests each start servers and workers: one file at a time keeps a 2-core machine honest.
exec node --test --test-concurrency=1 "${files[@]}"
