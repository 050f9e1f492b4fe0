#!/usr/bin/env bash
# Installs the Temporal CLI (dev server included) from its Go module at a pinned version, into a
# cache outside the clone; does nothing when it is already there. No prebuilt binary is downloaded.
set -euo pipefail
version="${TEMPORAL_CLI_VERSION:-v1.5.1}"
bin_dir="${XDG_CACHE_HOME:-$HOME/.cache}/tempest/bin"
if [ -x "$bin_dir/temporal" ]; then
  exit 0
fi
command -v go >/dev/null || { echo "Go is needed to build the Temporal CLI (go install): install Go 1.22 or newer" >&2; exit 1; }
echo "building the Temporal CLI $version into $bin_dir (a few minutes, once)" >&2
mkdir -p "$bin_dir"
GOBIN="$bin_dir" GOFLAGS=-mod=mod go install "github.com/temporalio/cli/cmd/temporal@$version"
echo "$version" > "$bin_dir/temporal.version"
