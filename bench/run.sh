#!/usr/bin/env bash
# Proxy benchmark driver (called by ./build.sh bench). See bench/README.md.
#   bench/run.sh --quick        < 3 min: 1 repetition, 2 s windows
#   bench/run.sh                full: 3 repetitions, 8 s wrk / 10 s fixed-rate / 5 s iperf3 windows (~15 min)
#   bench/run.sh --pin          taskset: proxy on CPU 0, load generator + backend on CPU 1
# Other options are passed to bench/run.py (--duration N, --reps N, --variants, --only a,b, --skip x,y, --tag X, --ci).
# Builds the bench tools it needs into out/bench/ when missing or older than their sources:
# the open-loop generator (bench/LoadGen), the chart renderer (bench/Charts) and the YARP peer (bench/peers/yarp).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
if [ ! -x "$ROOT/out/sidecar" ] && [ -z "${SIDECAR_BIN:-}" ]; then
  echo "[bench] out/sidecar missing: run ./build.sh publish first" >&2
  exit 1
fi

# publish_tool <project dir> <output name> <exe>: framework-dependent Release publish, skipped when up to date
publish_tool() {
  local src="$HERE/$1" out="$ROOT/out/bench/$2" exe="$3"
  if [ -x "$out/$exe" ] && [ -z "$(find "$src" -newer "$out/$exe" \( -name '*.cs' -o -name '*.csproj' -o -name '*.json' \) -not -path '*/obj/*' -not -path '*/bin/*' | head -n1)" ]; then
    return 0
  fi
  echo "[bench] publishing $1 -> out/bench/$2" >&2
  dotnet publish "$src" -c Release -o "$out" --nologo -v quiet >&2 || { echo "[bench] publish of $1 failed" >&2; return 1; }
  touch "$out/$exe"
}
publish_tool LoadGen loadgen loadgen || echo "[bench] no open-loop generator: the fixed-rate latency part will be marked not available" >&2
publish_tool Charts charts charts || echo "[bench] no chart renderer: no PNGs" >&2
publish_tool peers/yarp yarp yarp-peer || echo "[bench] no YARP peer: YARP will be marked not available" >&2
exec timeout 3600 python3 "$HERE/run.py" "$@"
