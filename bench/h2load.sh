#!/usr/bin/env bash
# HTTP/2 side by side, now a scenario of bench/run.py (h2-multiplexed: h2load -c4 -m10, h2c prior knowledge,
# h2 on both sides for Sidecar and HAProxy, h2c front + HTTP/1.1 upstream for nginx and YARP; CPU µs per request
# of the proxy process, ratios to HAProxy). This wrapper runs only that scenario.
#   bench/h2load.sh [repeats=3] [run.py options...]
#   bench/h2load.sh REQUESTS CLIENTS STREAMS REPEATS   (the old form: only REPEATS is used; -c4 -m10 are fixed,
#                                                      the request count follows the window, --duration N)
#   bench/h2load.sh stream [REPEATS=3] [SIZE_MB=1024]   one long download over one h2 stream: curl
#                                                      --http2-prior-knowledge straight to nginx (h2c, sendfile) and
#                                                      through out/sidecar and HAProxy (h2 both sides), same run, GB/s
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ "${1:-}" = stream ]; then
  REPS="${2:-3}"; MB="${3:-1024}"; ROOT="$(dirname "$HERE")"; BIN="${SIDECAR_BIN:-$ROOT/out/sidecar}"
  D="$(mktemp -d /tmp/sidecar-h2stream.XXXXXX)"; PIDS=()
  cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$D"; }
  trap cleanup EXIT
  mkdir -p "$D/www"; head -c $((MB * 1048576)) /dev/zero > "$D/www/big"
  cat > "$D/nginx.conf" <<NGINX
daemon off; master_process off; worker_processes 1; error_log $D/err.log error; pid $D/nginx.pid;
events { worker_connections 1024; }
http { access_log off; sendfile on; client_body_temp_path $D/t1; proxy_temp_path $D/t2; fastcgi_temp_path $D/t3;
  uwsgi_temp_path $D/t4; scgi_temp_path $D/t5;
  server { listen 127.0.0.1:28182 http2; root $D/www; } }
NGINX
  cat > "$D/sidecar.yaml" <<SIDECAR
static_resources:
  listeners:
  - name: h2
    address: { socket_address: { address: 127.0.0.1, port_value: 28130 } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: h2
          generate_request_id: false
          codec_type: HTTP2
          route_config: { virtual_hosts: [{ name: all, domains: ["*"], routes: [{ match: { prefix: "/" }, route: { cluster: b, timeout: 0s } }] }] }
          http_filters: [{ name: envoy.filters.http.router, typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router } }]
  clusters:
  - name: b
    type: STATIC
    connect_timeout: 1s
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: { http2_protocol_options: {} }
    load_assignment: { cluster_name: b, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 28182 } } } }] }] }
SIDECAR
  cat > "$D/haproxy.cfg" <<HAPROXY
global
  nbthread 1
defaults
  mode http
  timeout connect 5s
  timeout client 120s
  timeout server 120s
frontend h2
  bind 127.0.0.1:28131 proto h2
  default_backend b
backend b
  server s1 127.0.0.1:28182 proto h2
HAPROXY
  nginx -c "$D/nginx.conf" -p "$D" & PIDS+=($!)
  "$BIN" proxy --config "$D/sidecar.yaml" > "$D/sidecar.log" 2>&1 & PIDS+=($!)
  haproxy -f "$D/haproxy.cfg" > "$D/haproxy.log" 2>&1 & PIDS+=($!)
  for port in 28182 28130 28131; do
    for _ in $(seq 100); do curl -s --http2-prior-knowledge -o /dev/null -r 0-0 "http://127.0.0.1:$port/big" && break; sleep 0.05; done
  done
  echo "one ${MB} MiB download over one h2 stream; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
  # CPU seconds (utime+stime) of each proxy process over its download, per GiB: steadier than GB/s on a shared machine.
  cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
  TCK="$(getconf CLK_TCK)"
  echo "| rep | direct GB/s | Sidecar GB/s | HAProxy GB/s | Sidecar ÷ direct | HAProxy ÷ direct | Sidecar CPU s/GiB | HAProxy CPU s/GiB |"
  echo "|---|---|---|---|---|---|---|---|"
  for r in $(seq "$REPS"); do
    row=(); cpus=()
    for i in 0 1 2; do
      port=$((i == 0 ? 28182 : i == 1 ? 28130 : 28131)); pid="${PIDS[$i]}"
      c0="$(cpu "$pid")"
      row+=("$(curl -s --http2-prior-knowledge -o /dev/null -w '%{speed_download}' "http://127.0.0.1:$port/big" | awk '{printf "%.3f", $1/1e9}')")
      cpus+=("$(awk -v a="$c0" -v b="$(cpu "$pid")" -v t="$TCK" -v mb="$MB" 'BEGIN { printf "%.2f", (b - a) / t * 1024 / mb }')")
    done
    awk -v r="$r" -v d="${row[0]}" -v s="${row[1]}" -v h="${row[2]}" -v cs="${cpus[1]}" -v ch="${cpus[2]}" \
      'BEGIN { printf "| %s | %s | %s | %s | %.2f | %.2f | %s | %s |\n", r, d, s, h, s/d, h/d, cs, ch }'
  done
  echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
  exit 0
fi
num='^[0-9]+$'
if [[ "${1:-}" =~ $num && "${2:-}" =~ $num ]]; then
  REPS="${4:-3}"; shift $(( $# < 4 ? $# : 4 ))
else
  REPS="${1:-3}"; [ "$#" -gt 0 ] && shift
fi
exec "$HERE/run.sh" --tls-only --tls-scenarios h2-multiplexed --reps "$REPS" --tag=-h2load "$@"
