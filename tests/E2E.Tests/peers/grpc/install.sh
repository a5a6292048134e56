#!/usr/bin/env bash
# Installs the gRPC peer's npm packages (pinned) into <repo>/.cache/grpc-peer. Idempotent: does nothing
# when the stamp for these exact versions exists. Exits non-zero when it cannot install.
set -euo pipefail
GRPC_JS="@grpc/grpc-js@1.14.7"
PROTO_LOADER="@grpc/proto-loader@0.8.1"
# The repository root: the first argument (tests run a copy from their bin folder), else relative to this file.
ROOT="${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../.." && pwd)}"
DEST="$ROOT/.cache/grpc-peer"
STAMP="$DEST/.installed-grpc-js-1.14.7-proto-loader-0.8.1"
if [ -f "$STAMP" ] && [ -d "$DEST/node_modules/@grpc/grpc-js" ]; then
  exit 0
fi
command -v npm >/dev/null 2>&1 || { echo "grpc-peer: npm not found" >&2; exit 1; }
mkdir -p "$DEST"
[ -f "$DEST/package.json" ] || echo '{"name":"sidecar-e2e-grpc-peer","private":true}' > "$DEST/package.json"
# --ignore-scripts: both packages are pure JavaScript; nothing needs to run at install time.
timeout 300 npm install --prefix "$DEST" --ignore-scripts --no-audit --no-fund --save-exact "$GRPC_JS" "$PROTO_LOADER" >&2
touch "$STAMP"
echo "grpc-peer: $GRPC_JS $PROTO_LOADER installed in $DEST" >&2
