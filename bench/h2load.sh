#!/usr/bin/env bash
# HTTP/2 side by side, now a scenario of bench/run.py (h2-multiplexed: h2load -c4 -m10, h2c prior knowledge,
# h2 on both sides for Sidecar and HAProxy, h2c front + HTTP/1.1 upstream for nginx and YARP; CPU µs per request
# of the proxy process, ratios to HAProxy). This wrapper runs only that scenario.
#   bench/h2load.sh [repeats=3] [run.py options...]
#   bench/h2load.sh REQUESTS CLIENTS STREAMS REPEATS   (the old form: only REPEATS is used; -c4 -m10 are fixed,
#                                                      the request count follows the window, --duration N)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
num='^[0-9]+$'
if [[ "${1:-}" =~ $num && "${2:-}" =~ $num ]]; then
  REPS="${4:-3}"; shift $(( $# < 4 ? $# : 4 ))
else
  REPS="${1:-3}"; [ "$#" -gt 0 ] && shift
fi
exec "$HERE/run.sh" --tls-only --tls-scenarios h2-multiplexed --reps "$REPS" --tag=-h2load "$@"
