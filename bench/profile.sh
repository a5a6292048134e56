#!/usr/bin/env bash
# Profile one Sidecar under wrk load: syscall mix (strace -c -f) and/or CPU samples (perf record -g).
#   bench/profile.sh [strace|perf] [seconds] [sidecar binary]      (extra env vars pass through, e.g.
#   DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 bench/profile.sh strace 3)
# For symbols, publish an unstripped copy: dotnet publish src/Sidecar/Sidecar.csproj -c Release -r linux-x64
#   -p:StripSymbols=false -o /tmp/sidecar-sym   and pass /tmp/sidecar-sym/sidecar.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"; ROOT="$(dirname "$HERE")"
MODE="${1:-strace}"; SECS="${2:-3}"; BIN="${3:-$ROOT/out/sidecar}"
D="$(mktemp -d /tmp/sidecar-prof.XXXXXX)"; PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$D"; }
trap cleanup EXIT
mkdir -p "$D/www"; head -c 1024 /dev/zero | tr '\0' 'a' > "$D/www/1k"
sed -e "s|@DIR@|$D|g" -e "s|@PORT@|18380|g" "$HERE/peers/backend-nginx.conf" > "$D/backend.conf"
sed -e "s|@PORT@|18301|g" -e "s|@ADMIN_PORT@|18302|g" -e "s|@BACKEND_PORT@|18380|g" \
  -e "s|@TCP_PORT@|18351|g" -e "s|@IPERF_PORT@|18390|g" \
  -e "s|@GENERATE_REQUEST_ID@|${GENERATE_REQUEST_ID:-true}|g" "$HERE/peers/sidecar.yaml" > "$D/sidecar.yaml"
nginx -c "$D/backend.conf" -p "$D" -e "$D/err.log" & PIDS+=($!)
"$BIN" proxy --config "$D/sidecar.yaml" > "$D/sidecar.log" 2>&1 & SPID=$!; PIDS+=($SPID)
for _ in $(seq 100); do curl -fs -o /dev/null http://127.0.0.1:18301/hello && break; sleep 0.05; done
timeout 10 wrk -t1 -c50 -d2s http://127.0.0.1:18301/hello > /dev/null   # warm-up
case "$MODE" in
  strace)
    timeout $((SECS + 20)) wrk -t1 -c50 -d$((SECS + 2))s http://127.0.0.1:18301/hello > "$D/wrk.txt" &
    W=$!; sleep 1
    timeout "$SECS" strace -c -f -p "$SPID" -o "$D/strace.txt" || true
    [ -n "${TRACE_SAMPLE:-}" ] && { timeout 0.3 strace -f -tt -e trace=read,recvfrom,sendto,epoll_wait -p "$SPID" 2>&1 | grep -v resumed | head -40; ls -l /proc/$SPID/fd | tail -n +2 | awk "{print \$9, \$10, \$11}" | head -30; } || true
    wait "$W"; grep -E "requests in" "$D/wrk.txt"; cat "$D/strace.txt" ;;
  perf)
    timeout $((SECS + 20)) wrk -t1 -c50 -d$((SECS + 2))s http://127.0.0.1:18301/hello > "$D/wrk.txt" &
    W=$!; sleep 1
    perf record -F 2999 -g -p "$SPID" -o "$D/perf.data" -- sleep "$SECS" 2> /dev/null
    wait "$W"; grep -E "requests in" "$D/wrk.txt"
    perf report -i "$D/perf.data" --no-children --sort dso,symbol --stdio 2>/dev/null | grep -v '^#' | grep -v '^$' | grep '%' | head -60 ;;
esac
