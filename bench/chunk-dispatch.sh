#!/usr/bin/env bash
# Chunk dispatch on a Temporal cluster of one's own, four partitions per task queue against one, with
# 1 and 3 workers: `bash bench/chunk-dispatch.sh [--files 300] [--tables 3] [--rows 5] [--workers 1,3] [--partitions 4,1] [--rounds 1]`
# (see the head of bench/chunk-dispatch.ts). Needs the local PostgreSQL (127.0.0.1:5432) and MariaDB.
set -euo pipefail
cd "$(dirname "$0")/.."
# npm packages, the build, the Temporal CLI and server, and a running MariaDB, as for the tests.
bash scripts/setup.sh
exec node dist/bench/chunk-dispatch.js "$@"
