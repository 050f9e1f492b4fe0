#!/usr/bin/env bash
# Imports the bundled sample dump into the local MariaDB (database `tempest_sample`, recreated on
# each run) through an embedded Temporal dev server, and shows the result.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
mariadb --host=127.0.0.1 --user=root -e 'DROP DATABASE IF EXISTS tempest_sample'
# A finished import of the sample is a result that `tempest import` would show again: remove its
# checkpoint (if any) so that this run imports afresh.
bin/tempest ctl -c examples/sample.toml --checkpoint-remove=all >/dev/null 2>&1 || true
bin/tempest import -c examples/sample.toml
mariadb --host=127.0.0.1 --user=root --default-character-set=utf8mb4 --table \
  -e 'SELECT * FROM tempest_sample.customers; SELECT * FROM tempest_sample.big_spenders'
