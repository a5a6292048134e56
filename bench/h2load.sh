#!/usr/bin/env bash
# HTTP/2 side by side (issue 4's performance figure): h2load → proxy → nginx, h2c on both sides,
# for Sidecar and HAProxy in the same run. Prints CPU µs per request of the proxy process (utime+stime
# from /proc over the measured window ÷ requests), requests/s, and the ratio to HAProxy.
#   bench/h2load.sh [requests=200000] [clients=4] [streams=10] [repeats=3]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
N="${1:-200000}"; C="${2:-4}"; M="${3:-10}"; R="${4:-3}"
BIN="${SIDECAR_BIN:-$ROOT/out/sidecar}"
WORK="$(mktemp -d /tmp/h2bench.XXXXXX)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
BACK=18600; SC=18601; HA=18602
TICK=$(getconf CLK_TCK)

cat > "$WORK/nginx.conf" <<NGX
worker_processes 1; daemon off; pid $WORK/nginx.pid; error_log /dev/null crit;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000; http2_max_concurrent_streams 1000;
  server { listen 127.0.0.1:$BACK http2; location / { default_type text/plain; return 200 "hello world\n"; } } }
NGX
nginx -c "$WORK/nginx.conf" & PIDS+=($!); NGPID=$!

cat > "$WORK/sidecar.yaml" <<YAML
static_resources:
  listeners:
  - name: h2
    address: { socket_address: { address: 127.0.0.1, port_value: $SC } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: h2
          codec_type: HTTP2
          generate_request_id: false
          route_config:
            virtual_hosts: [{ name: all, domains: ["*"], routes: [{ match: { prefix: "/" }, route: { cluster: backend } }] }]
          http_filters: [{ name: envoy.filters.http.router, typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router } }]
  clusters:
  - name: backend
    type: STATIC
    connect_timeout: 1s
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: { http2_protocol_options: {} }
    load_assignment:
      cluster_name: backend
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: $BACK } } } }] }]
YAML
"$BIN" validate "$WORK/sidecar.yaml" >&2 || exit 1
"$BIN" proxy --config "$WORK/sidecar.yaml" >"$WORK/sidecar.log" 2>&1 & PIDS+=($!); SCPID=$!

cat > "$WORK/haproxy.cfg" <<HAP
global
  nbthread 1
  maxconn 4000
defaults
  mode http
  timeout connect 1s
  timeout client 30s
  timeout server 30s
frontend fe
  bind 127.0.0.1:$HA proto h2
  default_backend be
backend be
  http-reuse always
  server s1 127.0.0.1:$BACK proto h2
HAP
haproxy -f "$WORK/haproxy.cfg" -db >"$WORK/haproxy.log" 2>&1 & PIDS+=($!); HAPID=$!
sleep 1
kill -0 "$NGPID" 2>/dev/null || { echo "nginx did not start" >&2; exit 1; }
h2load -n 10 "http://127.0.0.1:$BACK/hello" 2>&1 | grep -q "10 succeeded" || { echo "backend does not answer over h2c" >&2; exit 1; }
kill -0 "$SCPID" 2>/dev/null || { echo "sidecar did not start:" >&2; cat "$WORK/sidecar.log" >&2; exit 1; }

cpu() { [ -e "/proc/$1/stat" ] || { echo "process $1 is gone; sidecar log:" >&2; tail -n 40 "$WORK/sidecar.log" >&2; exit 1; }; awk '{print $14+$15}' "/proc/$1/stat"; }
run() { # name pid port → "us_per_req rps"
  local name=$1 pid=$2 port=$3 before after out rps ok
  h2load -n 20000 -c "$C" -m "$M" "http://127.0.0.1:$port/hello" >/dev/null 2>&1 || true   # warm-up
  before=$(cpu "$pid")
  out=$(h2load -n "$N" -c "$C" -m "$M" "http://127.0.0.1:$port/hello" 2>&1)
  after=$(cpu "$pid")
  ok=$(sed -n 's/.*[^0-9]\([0-9][0-9]*\) succeeded.*/\1/p' <<<"$out")
  rps=$(sed -n 's/^finished in .*, \([0-9.]*\) req\/s.*/\1/p' <<<"$out")
  awk -v t=$((after - before)) -v hz="$TICK" -v n="$ok" -v r="$rps" -v f="$((N - ok))" 'BEGIN { printf "%.2f %s %d\n", t / hz * 1e6 / n, r, f }'
}
echo "# h2load -n $N -c $C -m $M, h2c both sides, backend nginx $(nginx -v 2>&1 | cut -d/ -f2); $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
printf '%-8s %-12s %-12s %-8s\n' proxy "cpu_us/req" "req/s" failed
for i in $(seq 1 "$R"); do
  read -r s_us s_rps s_f < <(run sidecar "$SCPID" "$SC")
  read -r h_us h_rps h_f < <(run haproxy "$HAPID" "$HA")
  printf '%-8s %-12s %-12s %-8s\n' sidecar "$s_us" "$s_rps" "$s_f" haproxy "$h_us" "$h_rps" "$h_f"
  awk -v a="$s_us" -v b="$h_us" 'BEGIN { printf "ratio sidecar/haproxy (cpu per request): %.2f\n", a / b }'
done
