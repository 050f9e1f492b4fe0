#!/usr/bin/env bash
# Builds tidb-server, tidb-lightning and tidb-lightning-ctl from TiDB's Go module at a pinned
# version, into a cache outside the clone; does nothing when they are already there. The TiDB
# tests start tidb-server (one process, unistore storage) and the benchmark runs Lightning against
# it. No prebuilt binary is downloaded. Prints the binaries' directory on stdout.
set -euo pipefail
# One pin: TiDB's parser is its own module, published at the same commit, so its pseudo-version is
# the same timestamp and hash under v0.0.0.
version="${TIDB_VERSION:-v1.1.0-beta.0.20251126154744-e4e814fdc0af}"
parser_version="v0.0.0-${version##*.}"
cache_dir="${XDG_CACHE_HOME:-$HOME/.cache}/tempest"
tidb_dir="$cache_dir/tidb-$version"
bin_dir="$tidb_dir/bin"
binaries=(tidb-server tidb-lightning tidb-lightning-ctl)

built() { for binary in "${binaries[@]}"; do [ -x "$bin_dir/$binary" ] || return 1; done; }
if built; then
  echo "$bin_dir"
  exit 0
fi
command -v go >/dev/null || { echo "Go is needed to build TiDB (go build): install Go 1.23.6 or newer" >&2; exit 1; }
mkdir -p "$cache_dir"
# Two processes asking at once (setup in two clones) build once: the second waits for the first.
exec 9>"$cache_dir/tidb-$version.lock"
flock 9
if built; then
  echo "$bin_dir"
  exit 0
fi
echo "building tidb-server and Lightning $version into $bin_dir (once per machine; it takes minutes, up to half an hour on a busy machine)" >&2
module_dir() { GOFLAGS=-mod=mod go mod download -json "$1" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p'; }
tidb_module=$(module_dir "github.com/pingcap/tidb@$version")
parser_module=$(module_dir "github.com/pingcap/tidb/pkg/parser@$parser_version")
[ -n "$tidb_module" ] && [ -n "$parser_module" ] || { echo "go mod download did not give TiDB's module directories" >&2; exit 1; }

work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
# The module cache is read-only, and TiDB's go.mod replaces its parser with ./pkg/parser: the
# build runs in a writable copy with the parser module (its generated parser.go included) there.
cp -R "$tidb_module" "$work/tidb"
chmod -R u+w "$work/tidb"
rm -rf "$work/tidb/pkg/parser"
cp -R "$parser_module" "$work/tidb/pkg/parser"
chmod -R u+w "$work/tidb/pkg/parser"
mkdir -p "$work/bin"
(cd "$work/tidb" && GOFLAGS="-mod=mod -buildvcs=false" nice -n 10 go build -o "$work/bin/" \
  ./cmd/tidb-server ./lightning/cmd/tidb-lightning ./lightning/cmd/tidb-lightning-ctl)
# Moved in whole, so an interrupted build never leaves a directory that looks complete.
rm -rf "$bin_dir"
mkdir -p "$tidb_dir"
mv "$work/bin" "$bin_dir"
echo "$version" > "$tidb_dir/version"
echo "$bin_dir"
