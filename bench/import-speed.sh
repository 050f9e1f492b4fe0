#!/usr/bin/env bash
# Import speed of Tempest against myloader and the mariadb client, on one generated dump and the
# same MariaDB: `bash bench/import-speed.sh [--mib 256] [--threads 2] [--dir DIR] ...`
# (options: see the head of bench/import-speed.ts). Installs myloader (Debian package mydumper)
# when it is missing, sets the project up (scripts/setup.sh), then runs the benchmark.
set -euo pipefail
cd "$(dirname "$0")/.."

bash bench/support/ensure-myloader.sh
# npm packages, the build, the Temporal CLI and a running MariaDB, as for the tests.
bash scripts/setup.sh
exec node dist/bench/import-speed.js "$@"
