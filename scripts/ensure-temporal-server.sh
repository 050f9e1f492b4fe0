#!/usr/bin/env bash
# Installs the Temporal server and its schema tool from the server's Go module at a pinned version,
# into a cache outside the clone; does nothing when they are already there. No prebuilt binary is
# downloaded. scripts/temporal-cluster.sh runs them, with persistence and visibility on PostgreSQL.
set -euo pipefail
version="${TEMPORAL_SERVER_VERSION:-v1.29.1}"
bin_dir="${XDG_CACHE_HOME:-$HOME/.cache}/tempest/temporal-server-$version"
if [ -x "$bin_dir/temporal-server" ] && [ -x "$bin_dir/temporal-sql-tool" ]; then
  exit 0
fi
command -v go >/dev/null || { echo "Go is needed to build the Temporal server (go install): install Go 1.22 or newer" >&2; exit 1; }
echo "building the Temporal server $version into $bin_dir (several minutes, once)" >&2
mkdir -p "$bin_dir"
# Built apart and then moved: a half-built cache is never taken for a whole one. `go install` names
# the binaries after their packages (server, sql); they get the names Temporal's docs use.
build_dir="$(mktemp -d "$bin_dir/.build.XXXXXX")"
trap 'rm -rf "$build_dir"' EXIT
GOBIN="$build_dir" GOFLAGS=-mod=mod nice -n 10 go install \
  "go.temporal.io/server/cmd/server@$version" \
  "go.temporal.io/server/cmd/tools/sql@$version"
mv "$build_dir/sql" "$bin_dir/temporal-sql-tool"
mv "$build_dir/server" "$bin_dir/temporal-server"
