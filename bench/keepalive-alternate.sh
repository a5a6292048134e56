#!/usr/bin/env bash
# HTTP/1.1 keep-alive CPU per request, Sidecar and HAProxy in ALTERNATING windows against one nginx backend:
#   bench/keepalive-alternate.sh [WINDOWS=8] [SECONDS=8] [SIDECAR_BINARY=out/sidecar]
# Each window is `wrk -t1 -c50 -dSECONDS /hello` against one proxy; CPU µs/request = the proxy process's
# utime+stime over the window ÷ requests. Windows alternate Sidecar, HAProxy, Sidecar, ... so both see the
# same machine minute after minute: on this 2-vCPU VM a process's cost per request drifts by up to 1.6× from
# one window to the next (HAProxy as much as Sidecar), which sequential scenario blocks turn into false ratios.
# Prints each pair's ratio and the median of the ratios.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"; ROOT="$(dirname "$HERE")"
WINDOWS="${1:-8}"; SECS="${2:-8}"; BIN="${3:-$ROOT/out/sidecar}"
D="$(mktemp -d /tmp/sidecar-kaalt.XXXXXX)"; PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$D"; }
trap cleanup EXIT
BACKEND=28580; SC=28501; ADMIN=28502; HP=28511
sed -e "s|@DIR@|$D|g" -e "s|@PORT@|$BACKEND|g" "$HERE/peers/backend-nginx.conf" > "$D/backend.conf"
sed -e "s|@ADMIN_PORT@|$ADMIN|; s|@BACKEND_PORT@|$BACKEND|; s|@GENERATE_REQUEST_ID@|false|; s|@IPERF_PORT@|28590|; s|@TCP_PORT@|28503|; s|@PORT@|$SC|" \
  "$HERE/peers/sidecar.yaml" > "$D/sidecar.yaml"
sed -e "s|@MAXCONN@|1000|; s|@ULIMIT_N@|4096|; s|@BACKEND_PORT@|$BACKEND|; s|@IPERF_PORT@|28590|; s|@TCP_PORT@|28513|; s|@PORT@|$HP|" \
  "$HERE/peers/haproxy.cfg" > "$D/haproxy.cfg"
nginx -c "$D/backend.conf" -p "$D" -e "$D/err.log" & PIDS+=($!)
"$BIN" proxy --config "$D/sidecar.yaml" > "$D/sidecar.log" 2>&1 & SPID=$!; PIDS+=($SPID)
haproxy -f "$D/haproxy.cfg" > "$D/haproxy.log" 2>&1 & HPID=$!; PIDS+=($HPID)
for port in $SC $HP; do
  for _ in $(seq 100); do curl -fs -o /dev/null "http://127.0.0.1:$port/hello" && break; sleep 0.05; done
  wrk -t1 -c50 -d2s "http://127.0.0.1:$port/hello" > /dev/null   # warm-up
done
TCK="$(getconf CLK_TCK)"
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# window PID PORT -> CPU µs per request
window() {
  local c0 c1 n
  c0="$(cpu "$1")"
  n="$(wrk -t1 -c50 -d"${SECS}s" "http://127.0.0.1:$2/hello" | awk '/requests in/ {print $1}')"
  c1="$(cpu "$1")"
  awk -v a="$c0" -v b="$c1" -v t="$TCK" -v n="$n" 'BEGIN { printf "%.2f", (b - a) / t * 1e6 / n }'
}
echo "wrk -t1 -c50 -d${SECS}s /hello, keep-alive, windows alternating; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| window | Sidecar µs/req | HAProxy µs/req | Sidecar ÷ HAProxy |"
echo "|---|---|---|---|"
RATIOS=()
for w in $(seq "$WINDOWS"); do
  s="$(window "$SPID" $SC)"; h="$(window "$HPID" $HP)"
  r="$(awk -v s="$s" -v h="$h" 'BEGIN { printf "%.2f", s / h }')"; RATIOS+=("$r")
  echo "| $w | $s | $h | $r |"
done
printf '%s\n' "${RATIOS[@]}" | sort -n | awk '{ a[NR] = $1 } END { m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "median Sidecar ÷ HAProxy: %.2f (min %.2f, max %.2f)\n", m, a[1], a[NR] }'
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
