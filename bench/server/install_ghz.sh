#!/bin/sh
# Installs the ghz gRPC load generator (a Go module) into build/tools/ghz unless it is there.
# Used by bench/server/ (bench/README.md, "Server group"). Needs Go and the Go module proxy.
#   bench/server/install_ghz.sh [VERSION]
set -eu
VERSION=${1:-v0.120.0}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DEST="$ROOT/build/tools"
if [ -x "$DEST/ghz" ] && [ "$(cat "$DEST/ghz.version" 2>/dev/null)" = "$VERSION" ]; then
    exit 0
fi
command -v go >/dev/null || { echo "install_ghz: go not found (install Go to run the server group's load)" >&2; exit 1; }
mkdir -p "$DEST"
echo "install_ghz: go install github.com/bojand/ghz/cmd/ghz@$VERSION -> build/tools (a few minutes once)" >&2
GOFLAGS=-mod=mod GOBIN="$DEST" go install "github.com/bojand/ghz/cmd/ghz@$VERSION"
echo "$VERSION" > "$DEST/ghz.version"
