#!/usr/bin/env bash
# Proxy benchmark driver (called by ./build.sh bench). See bench/README.md.
#   bench/run.sh --quick        < 3 min: 3 x 3 s per target/scenario, Sidecar env variants on /hello only
#   bench/run.sh                full: 3 x 8 s per target/scenario, variants on both scenarios
#   bench/run.sh --pin          taskset: proxy on CPU 1, wrk + backend on CPU 0
# Options after these are passed to bench/run.py (--duration N, --reps N, --no-variants, --tag X).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
if [ ! -x "$ROOT/out/sidecar" ] && [ -z "${SIDECAR_BIN:-}" ]; then
  echo "[bench] out/sidecar missing: run ./build.sh publish first" >&2
  exit 1
fi
exec timeout 3600 python3 "$HERE/run.py" "$@"
