#!/usr/bin/env bash
# Installs myloader (Debian package mydumper) when it is missing; checks the mariadb client is there.
set -euo pipefail
if ! command -v myloader >/dev/null; then
  as_root=()
  [ "$(id -u)" -eq 0 ] || as_root=(sudo)
  if ! apt-cache policy mydumper 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    "${as_root[@]}" apt-get update
  fi
  DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y --no-install-recommends mydumper
fi
command -v mariadb >/dev/null || { echo "the mariadb client is needed (apt-get install mariadb-client)" >&2; exit 1; }
