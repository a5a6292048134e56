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
#   bench/h2load.sh paired [REPS=5] [REQUESTS=100000] [NAME=BINARY[:VAR=VALUE] ...]
#                                                      several Sidecar binaries (default: out/sidecar on both transports),
#                                                      HAProxy and direct, h2load -c4 -m10 against each in turn per
#                                                      repetition; CPU µs/req of each process, then the median over the
#                                                      repetitions of each ÷ HAProxy of the same one. CONCURRENT=1: the proxies
#                                                      are loaded at the same time instead (same machine conditions for
#                                                      all: much steadier ratios on a busy machine). H2LOAD_EXTRA adds
#                                                      h2load options (e.g. --rps=2500 for a fixed rate). SYSCALLS=1
#                                                      (sequential only): perf stat counts system calls and context
#                                                      switches of each process, printed per request.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# sidecar_yaml LISTEN_PORT BACKEND_PORT [ROUTE_TIMEOUT]: h2c listener -> explicit-h2 cluster, no request id (route timeout: the
# default 15 s unless given; the long stream passes 0s).
sidecar_yaml() {
  cat <<SIDECAR
static_resources:
  listeners:
  - name: h2
    address: { socket_address: { address: 127.0.0.1, port_value: $1 } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: h2
          generate_request_id: false
          codec_type: HTTP2
          route_config: { virtual_hosts: [{ name: all, domains: ["*"], routes: [{ match: { prefix: "/" }, route: { cluster: b${3:+, timeout: $3} } }] }] }
          http_filters: [{ name: envoy.filters.http.router, typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router } }]
  clusters:
  - name: b
    type: STATIC
    connect_timeout: 1s
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: { http2_protocol_options: {} }
    load_assignment: { cluster_name: b, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: $2 } } } }] }] }
SIDECAR
}

# haproxy_cfg LISTEN_PORT BACKEND_PORT: one thread, h2 both sides.
haproxy_cfg() {
  cat <<HAPROXY
global
  nbthread 1
defaults
  mode http
  timeout connect 5s
  timeout client 120s
  timeout server 120s
frontend h2
  bind 127.0.0.1:$1 proto h2
  default_backend b
backend b
  server s1 127.0.0.1:$2 proto h2
HAPROXY
}

# CPU ticks (utime + stime) of a process.
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }

if [ "${1:-}" = paired ]; then
  REPS="${2:-5}"; N="${3:-100000}"; shift $(( $# < 3 ? $# : 3 ))
  ROOT="$(dirname "$HERE")"; BIN="${SIDECAR_BIN:-$ROOT/out/sidecar}"
  [ "$#" -gt 0 ] || set -- "sidecar=$BIN" "sidecar-kestrel=$BIN:SIDECAR_TRANSPORT=kestrel"
  D="$(mktemp -d /tmp/sidecar-h2paired.XXXXXX)"; PIDS=()
  cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$D"; }
  trap cleanup EXIT
  cat > "$D/nginx.conf" <<NGINX
daemon off; master_process off; worker_processes 1; error_log $D/err.log error; pid $D/nginx.pid;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000; keepalive_timeout 120s; http2_max_concurrent_streams 1000;
  client_body_temp_path $D/t1; proxy_temp_path $D/t2; fastcgi_temp_path $D/t3; uwsgi_temp_path $D/t4; scgi_temp_path $D/t5;
  server { listen 127.0.0.1:28282 http2 backlog=4096; location = /hello { default_type text/plain; return 200 "hello, world\n"; } } }
NGINX
  nginx -c "$D/nginx.conf" -p "$D" & NGINX_PID=$!; PIDS+=($NGINX_PID)
  NAMES=(); PORTS=(); TPIDS=(); port=28240
  for spec in "$@"; do
    name="${spec%%=*}"; rest="${spec#*=}"; bin="${rest%%:*}"; vars=""; [[ "$rest" == *:* ]] && vars="${rest#*:}"
    sidecar_yaml "$port" 28282 > "$D/sidecar-$port.yaml"
    # shellcheck disable=SC2086  # VAR=VALUE words for env
    env $vars "$bin" proxy --config "$D/sidecar-$port.yaml" > "$D/sidecar-$port.log" 2>&1 & p=$!; PIDS+=($p)
    NAMES+=("$name"); PORTS+=("$port"); TPIDS+=("$p"); port=$((port + 1))
  done
  haproxy_cfg 28231 28282 > "$D/haproxy.cfg"
  haproxy -f "$D/haproxy.cfg" > "$D/haproxy.log" 2>&1 & p=$!; PIDS+=($p)
  NAMES+=(haproxy); PORTS+=(28231); TPIDS+=("$p")
  [ -n "${CONCURRENT:-}" ] || { NAMES+=(direct); PORTS+=(28282); TPIDS+=("$NGINX_PID"); }
  for port in "${PORTS[@]}" 28282; do
    for _ in $(seq 200); do curl -s --http2-prior-knowledge -o /dev/null "http://127.0.0.1:$port/hello" && break; sleep 0.05; done
  done
  TCK="$(getconf CLK_TCK)"
  SYSCALL_EVENTS="raw_syscalls:sys_enter,syscalls:sys_enter_recvfrom,syscalls:sys_enter_sendto,syscalls:sys_enter_epoll_wait,context-switches"
  # shellcheck disable=SC2086
  for port in "${PORTS[@]}"; do h2load -n 20000 -c 4 -m 10 ${H2LOAD_EXTRA:-} "http://127.0.0.1:$port/hello" > /dev/null; done  # warm-up
  echo "h2load -n $N -c 4 -m 10 ${H2LOAD_EXTRA:-}, ${CONCURRENT:+proxies loaded at the same time, }CPU µs per request; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  printf "| rep |"; for n in "${NAMES[@]}"; do printf " %s |" "$n"; done; printf " load |\n|---|"
  for _ in "${NAMES[@]}"; do printf -- "---|"; done; printf -- "---|\n"
  for r in $(seq "$REPS"); do
    c0=(); hp=()
    if [ -n "${CONCURRENT:-}" ]; then
      for i in "${!PORTS[@]}"; do c0+=("$(cpu "${TPIDS[$i]}")"); done
      # shellcheck disable=SC2086
      for i in "${!PORTS[@]}"; do h2load -n "$N" -c 4 -m 10 ${H2LOAD_EXTRA:-} "http://127.0.0.1:${PORTS[$i]}/hello" > "$D/h2-$i.txt" & hp+=($!); done
      for i in "${!PORTS[@]}"; do wait "${hp[$i]}"; c1[$i]="$(cpu "${TPIDS[$i]}")"; done
    else
      for i in "${!PORTS[@]}"; do
        c0[$i]="$(cpu "${TPIDS[$i]}")"
        [ -z "${SYSCALLS:-}" ] || { perf stat -x, -e "$SYSCALL_EVENTS" -p "${TPIDS[$i]}" -o "$D/st-$i.txt" & sp=$!; sleep 0.2; }
        # shellcheck disable=SC2086
        h2load -n "$N" -c 4 -m 10 ${H2LOAD_EXTRA:-} "http://127.0.0.1:${PORTS[$i]}/hello" > "$D/h2-$i.txt"
        c1[$i]="$(cpu "${TPIDS[$i]}")"
        [ -z "${SYSCALLS:-}" ] || { kill -INT "$sp"; wait "$sp" || true
          awk -F, -v n="$N" -v who="${NAMES[$i]}" '$1 ~ /^[0-9]+$/ { sub(/^(raw_)?syscalls:sys_enter_?/, "", $3); l = l sprintf(" %s %.2f", ($3 == "" ? "all" : $3), $1 / n) }
            END { print "  " who " per request:" l }' "$D/st-$i.txt" >> "$D/syscalls.txt"; }
      done
    fi
    printf "| %s |" "$r"
    for i in "${!PORTS[@]}"; do
      ok="$(awk '/^requests:/ {print $8}' "$D/h2-$i.txt")"
      [ "$ok" = "$N" ] || echo "  (${NAMES[$i]}: $ok of $N succeeded)" >&2
      awk -v a="${c0[$i]}" -v b="${c1[$i]}" -v t="$TCK" -v n="$N" 'BEGIN { printf " %.2f |", (b - a) / t * 1e6 / n }'
      awk -v r="$r" -v who="${NAMES[$i]}" -v a="${c0[$i]}" -v b="${c1[$i]}" -v t="$TCK" -v n="$N" \
        'BEGIN { printf "%s %s %.4f\n", r, who, (b - a) / t * 1e6 / n }' >> "$D/values.txt"
    done
    printf " %s |\n" "$(cut -d' ' -f1 /proc/loadavg)"
  done
  echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
  # Per repetition: each target ÷ HAProxy of the same repetition; then the median of those ratios.
  for w in "${NAMES[@]}"; do
    [ "$w" != haproxy ] || continue
    awk -v w="$w" '{ v[$1, $2] = $3; reps[$1] = 1 } END { for (r in reps) if (v[r, "haproxy"] > 0) print v[r, w] / v[r, "haproxy"] }' \
      "$D/values.txt" | sort -n | awk -v w="$w" '{ x[NR] = $1 } END { m = (NR % 2) ? x[(NR + 1) / 2] : (x[NR / 2] + x[NR / 2 + 1]) / 2
        printf "median %s ÷ HAProxy of the same repetition: %.2f (min %.2f, max %.2f, %d repetitions)\n", w, m, x[1], x[NR], NR }'
  done
  [ ! -f "$D/syscalls.txt" ] || { echo "system calls and context switches per request (perf stat on each process):"; cat "$D/syscalls.txt"; }
  exit 0
fi

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
  sidecar_yaml 28130 28182 0s > "$D/sidecar.yaml"
  haproxy_cfg 28131 28182 > "$D/haproxy.cfg"
  nginx -c "$D/nginx.conf" -p "$D" & PIDS+=($!)
  "$BIN" proxy --config "$D/sidecar.yaml" > "$D/sidecar.log" 2>&1 & PIDS+=($!)
  haproxy -f "$D/haproxy.cfg" > "$D/haproxy.log" 2>&1 & PIDS+=($!)
  for port in 28182 28130 28131; do
    for _ in $(seq 100); do curl -s --http2-prior-knowledge -o /dev/null -r 0-0 "http://127.0.0.1:$port/big" && break; sleep 0.05; done
  done
  echo "one ${MB} MiB download over one h2 stream; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
  # CPU seconds (utime+stime) of each proxy process over its download, per GiB: steadier than GB/s on a shared machine.
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
