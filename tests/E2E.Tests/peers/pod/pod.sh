#!/usr/bin/env bash
# A pod built from network namespaces: "pod" (app nginx + sidecar as UID 1337 + capture rules) and
# "remote" (an echo service), joined by a veth pair with IPv4 and IPv6 addresses.
#
# Capture rules: `sidecar istio-iptables` (nftables) inside the pod namespace.
#   pod   10.77.0.1/24 fd77::1/64  nginx :8080 (answers "app saw $remote_addr"), sidecar 15001/15006/15000
#   remote 10.77.0.2/24 fd77::2/64 echo_peer.py :9090 (answers "remote saw <peer>")
#
# Usage: pod.sh SIDECAR_BIN MODE(redirect|tproxy) WORKDIR
# Prints "RESULT <name> <value>" lines for the test to assert, then diagnostics. Everything it
# starts runs inside the two namespaces and is killed, and the namespaces deleted, on any exit.
set -euo pipefail
BIN="$1"; MODE="$2"; WORK="$3"
HERE="$(cd "$(dirname "$0")" && pwd)"
POD="scpod-$$"; REM="screm-$$"
APP_PORT=8080; REMOTE_PORT=9090
PROXY_UID=1337

cleanup() {
  for ns in "$POD" "$REM"; do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
  done
}
trap cleanup EXIT
result() { echo "RESULT $1 $2"; }
in_pod() { ip netns exec "$POD" "$@"; }
in_rem() { ip netns exec "$REM" "$@"; }
AS_PROXY_UID=(setpriv --reuid=$PROXY_UID --regid=$PROXY_UID --clear-groups)
fetch() { "$@" curl -sS --max-time 5 -g "$URL" 2>&1 | tr -d '\n' || true; }
stat_of() { in_pod curl -s --max-time 5 http://127.0.0.1:15000/stats | awk -v k="$1:" '$1==k {print $2}' | head -1 || true; }

# --- network: two namespaces and a veth pair created directly inside them (no names in the root ns)
ip netns add "$POD"; ip netns add "$REM"
ip link add vpod netns "$POD" type veth peer name vrem netns "$REM"
for ns in "$POD" "$REM"; do ip -n "$ns" link set lo up; done
ip -n "$POD" addr add 10.77.0.1/24 dev vpod; ip -n "$POD" addr add fd77::1/64 dev vpod nodad
ip -n "$REM" addr add 10.77.0.2/24 dev vrem; ip -n "$REM" addr add fd77::2/64 dev vrem nodad
ip -n "$POD" link set vpod up; ip -n "$REM" link set vrem up

# --- peers
mkdir -p "$WORK/tmp"; chmod 755 "$WORK"
sed -e "s#{{DIR}}#$WORK#g" -e "s#{{PORT}}#$APP_PORT#g" "$HERE/nginx.conf.template" > "$WORK/nginx.conf"
in_pod nginx -c "$WORK/nginx.conf" -e "$WORK/nginx-error.log" >"$WORK/nginx.out" 2>&1 &
in_rem python3 "$HERE/echo_peer.py" $REMOTE_PORT >"$WORK/remote.log" 2>&1 &
for _ in $(seq 1 100); do
  in_pod ss -ltnH | grep -q ":$APP_PORT " && in_rem ss -ltnH | grep -q ":$REMOTE_PORT " && break
  sleep 0.05
done

# Control, before capture: the app sees the remote's own address.
URL="http://10.77.0.1:$APP_PORT/"; result precapture_inbound_v4 "$(fetch in_rem)"

# --- capture rules in the pod, installed the way istio-init does it: `sidecar istio-iptables` with
# the injector's flags (capture all outbound and inbound ports but Istio's own), dual-stack pod.
TRANSPARENT=false; INTERCEPT=REDIRECT
[ "$MODE" = tproxy ] && { TRANSPARENT=true; INTERCEPT=TPROXY; }
CAPTURE_FLAGS=(-p 15001 -z 15006 -u $PROXY_UID -g $PROXY_UID -m $INTERCEPT -i '*' -x '' -b '*' -d 15090,15021,15020 --dual-stack)
in_pod "$BIN" istio-iptables "${CAPTURE_FLAGS[@]}" > "$WORK/capture.out" 2>&1 || { cat "$WORK/capture.out"; exit 1; }
in_pod "$BIN" istio-iptables "${CAPTURE_FLAGS[@]}" --dry-run > "$WORK/capture.nft" 2>&1 || true
# TPROXY's policy routing (marked packets delivered locally) is installed by `sidecar istio-iptables`
# itself, as istio-iptables does; check it is there for both families.
if [ "$MODE" = tproxy ]; then
  for fam in inet inet6; do
    ip -n "$POD" -f $fam rule show | grep -q "fwmark 0x539 lookup 133" || { echo "no $fam fwmark rule after istio-iptables"; exit 1; }
    ip -n "$POD" -f $fam route show table 133 | grep -q "local default dev lo" || { echo "no $fam local route in table 133"; exit 1; }
  done
fi
# ::6, the IPv6 inbound passthrough source, on lo (IPv6 has no loopback range like 127.0.0.0/8): the
# sidecar's injector sets it up in Istio; `sidecar istio-iptables` does not.
ip -n "$POD" -6 addr add ::6/128 dev lo

# --- the sidecar, as UID/GID 1337 (TPROXY's transparent listener needs CAP_NET_ADMIN, as istio-proxy has then)
sed -e "s#{{TRANSPARENT}}#$TRANSPARENT#g" "$HERE/envoy.yaml.template" > "$WORK/envoy.yaml"
chmod 644 "$WORK/envoy.yaml"
CAPS=()
[ "$MODE" = tproxy ] && CAPS=(--inh-caps=+net_admin --ambient-caps=+net_admin)
in_pod "${AS_PROXY_UID[@]}" "${CAPS[@]}" \
  env DOTNET_EnableDiagnostics=0 "$BIN" proxy --config "$WORK/envoy.yaml" >"$WORK/sidecar.log" 2>&1 &
for _ in $(seq 1 200); do
  in_pod curl -s -o /dev/null --max-time 1 http://127.0.0.1:15000/ready 2>/dev/null && break
  sleep 0.05
done
result sidecar_uid "$(in_pod ss -ltneH "sport = :15001" 2>/dev/null | grep -o 'uid:[0-9]*' | head -1)"
# Effective capabilities of the proxy: none in REDIRECT mode, CAP_NET_ADMIN (bit 12 = 0x1000) for TPROXY.
SIDECAR_PID=$(ip netns pids "$POD" | while read -r p; do [ "$(readlink /proc/$p/exe 2>/dev/null)" = "$(readlink -f "$BIN")" ] && echo $p; done | head -1)
result sidecar_capeff "$(awk '/^CapEff/ {print $2}' /proc/${SIDECAR_PID:-0}/status 2>/dev/null)"

OUT=tcp.PassthroughCluster.downstream_cx_total
IN=tcp.InboundPassthroughCluster.downstream_cx_total

# --- outbound from the app (root, not 1337): captured on 15001, sent on to where it was going.
for fam in v4 v6; do
  if [ $fam = v4 ]; then URL="http://10.77.0.2:$REMOTE_PORT/"; else URL="http://[fd77::2]:$REMOTE_PORT/"; fi
  before=$(stat_of $OUT); body=$(fetch in_pod); after=$(stat_of $OUT)
  result outbound_$fam "$body"
  result outbound_${fam}_captured $(( ${after:-0} - ${before:-0} ))
  # The proxy's own UID is not captured (no loop): same request, the 15001 counter does not move.
  before=$(stat_of $OUT); body=$(fetch in_pod "${AS_PROXY_UID[@]}"); after=$(stat_of $OUT)
  result uid1337_$fam "$body"
  result uid1337_${fam}_captured $(( ${after:-0} - ${before:-0} ))
done

# --- inbound from the remote to the app port: captured on 15006, reaches nginx from 127.0.0.6 / ::6.
for fam in v4 v6; do
  if [ $fam = v4 ]; then URL="http://10.77.0.1:$APP_PORT/"; else URL="http://[fd77::1]:$APP_PORT/"; fi
  before=$(stat_of $IN); body=$(fetch in_rem); after=$(stat_of $IN)
  result inbound_$fam "$body"
  result inbound_${fam}_captured $(( ${after:-0} - ${before:-0} ))
done
result upstream_cx_outbound "$(stat_of cluster.PassthroughCluster.upstream_cx_total)"
result upstream_cx_inbound "$(stat_of cluster.InboundPassthroughCluster.upstream_cx_total)"

# TPROXY has no NAT on the inbound path: the tproxy rule itself must have steered the packets.
if [ "$MODE" = tproxy ]; then
  result tproxy_rule_used "$(in_pod nft list chain inet istio-proxy-mangle istio-tproxy | grep -o 'packets [0-9]*' | awk '$2>0 {n++} END {print (n>=2) ? "yes" : "no"}')"
fi

# --- clean removal: istio-clean-iptables leaves the namespace's ruleset empty.
result capture_tables "$(in_pod nft list tables | awk '{print $3}' | sort | tr '\n' ' ' | sed 's/ $//')"
in_pod "$BIN" istio-clean-iptables "${CAPTURE_FLAGS[@]}" >> "$WORK/capture.out" 2>&1 || true
result ruleset_after_cleanup "$( [ -z "$(in_pod nft list ruleset)" ] && echo empty || echo not-empty)"

echo "--- stats"; in_pod curl -s http://127.0.0.1:15000/stats | grep -E "^(tcp|cluster|listener)\." || true
echo "--- ruleset (dry run)"; cat "$WORK/capture.nft"; echo "--- istio-iptables"; cat "$WORK/capture.out"
echo "--- sidecar log"; cat "$WORK/sidecar.log"
echo "--- nginx"; cat "$WORK/nginx-access.log" 2>/dev/null || true; cat "$WORK/nginx-error.log" 2>/dev/null || true
echo "--- remote"; cat "$WORK/remote.log"
