#!/usr/bin/env bash
# Traffic capture end to end in a throwaway network namespace:
#   client -> 127.0.0.2:9000 --(nft REDIRECT)--> sidecar :15001 (use_original_dst) -> ORIGINAL_DST cluster
#   -> 127.0.0.2:9000 (the sidecar's own socket carries SO_MARK 0x539, which the rule lets through).
# Usage: original_dst.sh SIDECAR_BIN MODE(tcp|http) WORKDIR   — prints "BODY=<response>" and the stats.
set -euo pipefail
BIN="$1"; MODE="$2"; WORK="$3"
NS="sc-odst-$$"
cleanup() { ip netns pids "$NS" 2>/dev/null | xargs -r kill -9 2>/dev/null || true; ip netns del "$NS" 2>/dev/null || true; }
trap cleanup EXIT
ip netns add "$NS"
ip -n "$NS" link set lo up
cat > "$WORK/capture.nft" <<'NFT'
table ip sidecar_capture {
  chain output {
    type nat hook output priority -100; policy accept;
    meta mark 0x539 return
    ip daddr 127.0.0.2 tcp dport 9000 redirect to :15001
  }
}
NFT
ip netns exec "$NS" nft -f "$WORK/capture.nft"
mkdir -p "$WORK/www"; echo "hello from the original destination" > "$WORK/www/index.html"
ip netns exec "$NS" timeout 60 python3 -m http.server 9000 --bind 127.0.0.2 --directory "$WORK/www" >"$WORK/upstream.log" 2>&1 &

if [ "$MODE" = tcp ]; then
  FILTER='      - name: envoy.filters.network.tcp_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: capture
          cluster: original_dst'
else
  FILTER='      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: capture
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: { prefix: "/" }
                route: { cluster: original_dst }
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router'
fi
cat > "$WORK/envoy.yaml" <<YAML
admin:
  address: { socket_address: { address: 127.0.0.1, port_value: 15000 } }
static_resources:
  listeners:
  - name: virtualOutbound
    address: { socket_address: { address: 127.0.0.1, port_value: 15001 } }
    use_original_dst: true
    filter_chains:
    - filters:
$FILTER
  clusters:
  - name: original_dst
    type: ORIGINAL_DST
    lb_policy: CLUSTER_PROVIDED
    connect_timeout: 1s
YAML
SIDECAR_UPSTREAM_MARK=0x539 ip netns exec "$NS" timeout 60 "$BIN" proxy --config "$WORK/envoy.yaml" >"$WORK/sidecar.log" 2>&1 &
for _ in $(seq 1 100); do
  ip netns exec "$NS" curl -s -o /dev/null http://127.0.0.1:15000/ready 2>/dev/null && \
  ip netns exec "$NS" ss -ltnH 2>/dev/null | grep -q '127.0.0.2:9000' && break
  sleep 0.05
done
BODY=$(ip netns exec "$NS" curl -sS --max-time 10 http://127.0.0.2:9000/index.html || true)
echo "BODY=$BODY"
ip netns exec "$NS" curl -s http://127.0.0.1:15000/stats | grep -E "^(tcp|http)\.capture\.|cluster\.original_dst\.upstream_cx_total|listener\." || true
echo "--- sidecar log"; cat "$WORK/sidecar.log"
