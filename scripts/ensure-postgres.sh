#!/usr/bin/env bash
# The local PostgreSQL (127.0.0.1:5432, trust auth) that the Temporal server of the cluster tests
# keeps its histories in: started when it is installed but not running.
set -euo pipefail
ready() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
ready && exit 0
if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
  for version in $(ls /etc/postgresql); do pg_ctlcluster --skip-systemctl-redirect "$version" main start || true; done
  for _ in $(seq 1 30); do ready && exit 0; sleep 1; done
fi
echo "PostgreSQL is not reachable on 127.0.0.1:5432: start it, or install it with apt-get install postgresql" >&2
exit 1
