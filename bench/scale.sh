#!/usr/bin/env bash
# Scale: many tiny tables and a table of many files, Tempest against myloader:
# `bash bench/scale.sh [--tables 2000] [--files 1000] [--threads 2]` (options: the head of bench/scale.ts).
# Installs myloader (Debian package mydumper)
# when it is missing, sets the project up (scripts/setup.sh), then runs the benchmark.
set -euo pipefail
cd "$(dirname "$0")/.."

bash bench/support/ensure-myloader.sh
# npm packages, the build, the Temporal CLI and a running MariaDB, as for the tests.
bash scripts/setup.sh
exec node dist/bench/scale.js "$@"
