#!/usr/bin/env bash
# Import speed of Tempest against myloader and the mariadb client, on one generated dump and the
# same MariaDB: `bash bench/import-speed.sh [--mib 256] [--threads 2] [--dir DIR] ...`
# (options: see the head of bench/import-speed.ts). Installs myloader (Debian package mydumper)
# when it is missing, sets the project up (scripts/setup.sh), then runs the benchmark.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v myloader >/dev/null; then
  as_root=()
  [ "$(id -u)" -eq 0 ] || as_root=(sudo)
  if ! apt-cache policy mydumper 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    "${as_root[@]}" apt-get update
  fi
  DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y --no-install-recommends mydumper
fi
command -v mariadb >/dev/null || { echo "the mariadb client is needed (apt-get install mariadb-client)" >&2; exit 1; }
# npm packages, the build, the Temporal CLI and a running MariaDB, as for the tests.
bash scripts/setup.sh
exec node dist/bench/import-speed.js "$@"
