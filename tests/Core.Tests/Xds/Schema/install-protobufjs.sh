#!/usr/bin/env bash
# Installs protobufjs (pinned) into <repo>/.cache/protobufjs for the schema generator and the independent
# encoder used by the xDS decoding tests. Idempotent: does nothing when the stamp for this version exists.
# Exits non-zero when it cannot install. Usage: install-protobufjs.sh [repo-root]
set -euo pipefail
PKG="protobufjs@7.6.6"
ROOT="${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../.." && pwd)}"
DEST="$ROOT/.cache/protobufjs"
STAMP="$DEST/.installed-protobufjs-7.6.6"
if [ -f "$STAMP" ] && [ -d "$DEST/node_modules/protobufjs" ]; then
  exit 0
fi
command -v npm >/dev/null 2>&1 || { echo "install-protobufjs: npm not found" >&2; exit 1; }
mkdir -p "$DEST"
[ -f "$DEST/package.json" ] || echo '{"name":"sidecar-protobufjs","private":true}' > "$DEST/package.json"
# --ignore-scripts: protobufjs is pure JavaScript (its postinstall only prints a notice).
timeout 300 npm install --prefix "$DEST" --ignore-scripts --no-audit --no-fund --save-exact "$PKG" >&2
touch "$STAMP"
echo "install-protobufjs: $PKG installed in $DEST" >&2
