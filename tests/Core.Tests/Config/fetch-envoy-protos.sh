#!/usr/bin/env bash
# Fetches Envoy's .proto tree (as shipped in @grpc/grpc-js-xds) for EnvoyCatalogTests into <repo>/.cache/envoy-protos.
# Idempotent: does nothing when the unpacked tree is already there. Exits non-zero when it cannot fetch.
set -euo pipefail
PKG="@grpc/grpc-js-xds@1.14.1"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
DEST="$ROOT/.cache/envoy-protos"
STAMP="$DEST/.fetched-grpc-js-xds-1.14.1"
if [ -f "$STAMP" ] && [ -d "$DEST/package/deps/envoy-api/envoy" ]; then
  exit 0
fi
command -v npm >/dev/null 2>&1 || { echo "fetch-envoy-protos: npm not found" >&2; exit 1; }
mkdir -p "$DEST"
cd "$DEST"
rm -rf package ./*.tgz
# npm pack only downloads the tarball (no install scripts run); --silent prints just the file name.
TGZ="$(timeout 180 npm pack "$PKG" --silent | tail -n1)"
tar xzf "$TGZ"
[ -d package/deps/envoy-api/envoy ] || { echo "fetch-envoy-protos: $TGZ has no deps/envoy-api" >&2; exit 1; }
touch "$STAMP"
echo "fetch-envoy-protos: $PKG unpacked in $DEST" >&2
