#!/usr/bin/env bash
# Sidecar build/test/demo driver.
#   ./build.sh setup     install the OS packages the tests and demo need (idempotent, apt only if missing)
#   ./build.sh build     dotnet build -c Release Sidecar.sln
#   ./build.sh publish   native AOT binary -> out/sidecar
#   ./build.sh test      setup + publish + every test project; last line "N passed, N failed"
#   ./build.sh demo      setup + publish, upstream on :10001, sidecar on :10000 (DEMO_SMOKE=1: one curl, exit)
#   ./build.sh bench     side-by-side proxy benchmark (bench/run.sh; --quick < 3 min)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
export DOTNET_GENERATE_ASPNET_CERTIFICATE=false
export DEBIAN_FRONTEND=noninteractive

log() { printf '[build.sh] %s\n' "$*" >&2; }

# ---------------------------------------------------------------------------------------------
# setup
# ---------------------------------------------------------------------------------------------
# "command-or-file:package" pairs; a package is installed only when its probe is absent.
REQUIRED=(
  "nginx:nginx-light"
  "haproxy:haproxy"
  "wrk:wrk"
  "socat:socat"
  "nghttp:nghttp2-client"
  "h2load:nghttp2-client"
  "nghttpd:nghttp2-server"
  "nft:nftables"
  "file:/usr/lib/x86_64-linux-gnu/libnftables.so.1:libnftables1"
  "curl:curl"
  "openssl:openssl"
  "py:websockets:python3-websockets"
  "py:hpack:python3-hpack"
  "file:/usr/include/zlib.h:zlib1g-dev"
  # the container runtimes' default seccomp profile (RuntimeDefault), for the confinement tests
  "file:/usr/share/containers/seccomp.json:golang-github-containers-common"
  # the xDS confinement test traces failed syscalls (EPERM from the allow-list) with strace -f -Z
  "strace:strace"
  # bench peers (./build.sh bench): one TCP stream, nginx's TCP proxy
  "iperf3:iperf3"
  "file:/usr/lib/nginx/modules/ngx_stream_module.so:libnginx-mod-stream"
)

have_probe() {
  local probe="$1"
  case "$probe" in
    py:*)   /usr/bin/python3 -c "import ${probe#py:}" >/dev/null 2>&1 ;;
    file:*) [ -e "${probe#file:}" ] ;;
    *)      command -v "$probe" >/dev/null 2>&1 || [ -x "/usr/sbin/$probe" ] || [ -x "/sbin/$probe" ] ;;
  esac
}

cmd_setup() {
  local missing=() entry probe pkg
  for entry in "${REQUIRED[@]}"; do
    pkg="${entry##*:}"
    probe="${entry%:*}"
    have_probe "$probe" || missing+=("$pkg")
  done
  # a C compiler/linker for native AOT: gcc is on the base image; clang only if neither is there
  if ! command -v gcc >/dev/null 2>&1 && ! command -v clang >/dev/null 2>&1 && ! command -v clang-14 >/dev/null 2>&1; then
    missing+=(clang)
  fi
  if [ ! -x /usr/bin/python3 ]; then missing+=(python3); fi
  if [ "${#missing[@]}" -eq 0 ]; then
    log "setup: all packages present"
    return 0
  fi
  # de-duplicate
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  log "setup: installing ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  timeout 300 $sudo apt-get update -qq || log "setup: apt-get update failed (continuing)"
  # keep package postinst scripts from starting system nginx/haproxy services (tests use private configs)
  local policy_created=0
  if [ ! -e /usr/sbin/policy-rc.d ] && [ -z "$sudo" ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && policy_created=1
  fi
  local apt_rc=0
  timeout 900 $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || apt_rc=$?
  [ "$policy_created" -eq 1 ] && rm -f /usr/sbin/policy-rc.d
  [ "$apt_rc" -eq 0 ] || { log "setup: apt-get install failed ($apt_rc)"; return "$apt_rc"; }
  # nginx packages start a system service on install; we never use it (tests use private configs)
  if command -v systemctl >/dev/null 2>&1; then $sudo systemctl stop nginx haproxy >/dev/null 2>&1 || true; fi
  log "setup: done"
}

# ---------------------------------------------------------------------------------------------
# build / publish
# ---------------------------------------------------------------------------------------------
restore() {
  # tolerate transient restore failures (mirror hiccups, a project half-written by someone else)
  local i
  for i in 1 2 3; do
    if timeout 600 dotnet restore Sidecar.sln --nologo -v q; then return 0; fi
    log "restore attempt $i failed; retrying"
    sleep 3
  done
  return 1
}

cmd_build() {
  restore || return 1
  timeout 900 dotnet build Sidecar.sln -c Release --nologo --no-restore
}

cmd_publish() {
  mkdir -p out
  # explicit `|| return`: callers use `if ! cmd_publish`, where set -e does not apply
  rm -f out/sidecar
  # SIDECAR_PIE=1: a position-independent image (ASLR for the executable too, ~11 ms slower start; see Sidecar.csproj)
  timeout 1200 dotnet publish src/Sidecar/Sidecar.csproj -c Release -r linux-x64 -o out --nologo ${SIDECAR_PIE:+-p:SidecarPie=true} || { log "publish: dotnet publish failed"; return 1; }
  rm -f out/*.dbg
  [ -x out/sidecar ] || { log "publish: out/sidecar missing"; return 1; }
  log "publish: $(stat -c %s out/sidecar) bytes out/sidecar"
}

# ---------------------------------------------------------------------------------------------
# test
# ---------------------------------------------------------------------------------------------
cmd_test() {
  local rc=0
  cmd_setup || { log "setup failed"; rc=1; }
  restore || log "restore failed (continuing; dotnet test will report)"
  if ! cmd_publish; then
    log "publish FAILED: E2E tests will fail because out/sidecar is missing or stale"
    rc=1
  fi
  export SIDECAR_BIN="${SIDECAR_BIN:-$ROOT/out/sidecar}"
  tests/Core.Tests/Config/fetch-envoy-protos.sh || log "fetch-envoy-protos FAILED: the upstream catalog check will fail in CI (skips locally)"
  tests/E2E.Tests/peers/grpc/install.sh || log "grpc peer install FAILED: the gRPC E2E tests will fail"

  local results="$ROOT/TestResults"
  rm -rf "$results"; mkdir -p "$results"
  local projects=() p name
  # tests/TestPeers holds peers other tests start (the test Istio CA), not test projects.
  mapfile -t projects < <({ find tests -name '*.csproj' -not -path '*/bin/*' -not -path '*/obj/*' -not -path 'tests/TestPeers/*'; echo bench/Bench.Tests/Bench.Tests.csproj; } | sort)
  if [ "${#projects[@]}" -eq 0 ]; then log "no test projects found"; echo "0 passed, 0 failed"; return 1; fi

  local crashed=0
  for p in "${projects[@]}"; do
    name="$(basename "$p" .csproj)"
    log "test: $p"
    if ! timeout 1200 dotnet test "$p" -c Release --nologo \
          --logger "trx;LogFileName=$name.trx" --logger "console;verbosity=normal" \
          --results-directory "$results" --blame-hang-timeout 8m; then
      log "test: $name reported failures (or did not run)"
    fi
    if [ ! -s "$results/$name.trx" ]; then
      log "test: $name produced no TRX (build failure or crash): counted as 1 failed"
      crashed=$((crashed + 1))
    fi
  done

  local passed=0 failed=0 total=0 f counters v
  for f in "$results"/*.trx; do
    [ -e "$f" ] || continue
    counters="$(grep -o '<Counters [^>]*>' "$f" | head -n1 || true)"
    v="$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")"; passed=$((passed + ${v:-0}))
    v="$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")"; failed=$((failed + ${v:-0}))
    v="$(sed -n 's/.* total="\([0-9]*\)".*/\1/p' <<<"$counters")"; total=$((total + ${v:-0}))
  done
  # the bench harness's python accounting (bench/benchlib) has unit tests of its own
  local pyout pyran pyfailed
  pyout="$(cd bench && /usr/bin/python3 -m unittest discover -s tests 2>&1)" || true
  printf '%s\n' "$pyout" | tail -n 3 >&2
  pyran="$({ sed -n 's/^Ran \([0-9]*\) tests\?.*/\1/p' <<<"$pyout" || true; } | head -n1)"
  pyfailed="$({ grep -o '\(failures\|errors\)=[0-9]*' <<<"$pyout" || true; } | cut -d= -f2 | awk '{s+=$1} END {print s+0}')"
  if [ -z "$pyran" ]; then pyran=0; pyfailed=1; log "test: bench python unit tests did not run"; fi
  pyfailed="${pyfailed:-0}"
  passed=$((passed + pyran - pyfailed)); failed=$((failed + pyfailed))

  failed=$((failed + crashed))
  if [ "$failed" -gt 0 ] || [ "$passed" -eq 0 ]; then rc=1; fi
  [ "$passed" -eq 0 ] && log "no test passed / no tests ran"
  echo "$passed passed, $failed failed"
  return "$rc"
}

# ---------------------------------------------------------------------------------------------
# demo
# ---------------------------------------------------------------------------------------------
DEMO_PIDS=()
DEMO_DIR=""
demo_cleanup() {
  local pid
  for pid in "${DEMO_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  sleep 0.3
  for pid in "${DEMO_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  [ -n "$DEMO_DIR" ] && rm -rf "$DEMO_DIR"
  DEMO_PIDS=()
}

wait_http() { # url seconds [pid that must stay alive]
  local url="$1" deadline=$((SECONDS + $2)) pid="${3:-}"
  while [ "$SECONDS" -lt "$deadline" ]; do
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then return 1; fi
    if curl -fsS -o /dev/null --max-time 1 "$url" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  return 1
}

cmd_demo() {
  cmd_setup
  cmd_publish
  DEMO_DIR="$(mktemp -d /tmp/sidecar-demo.XXXXXX)"
  trap demo_cleanup EXIT
  trap 'exit 130' INT TERM
  mkdir -p "$DEMO_DIR/logs"
  cat >"$DEMO_DIR/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
error_log $DEMO_DIR/logs/error.log;
pid $DEMO_DIR/nginx.pid;
events { worker_connections 256; }
http {
  access_log $DEMO_DIR/logs/access.log;
  client_body_temp_path $DEMO_DIR/cbt; proxy_temp_path $DEMO_DIR/pt; fastcgi_temp_path $DEMO_DIR/ft;
  uwsgi_temp_path $DEMO_DIR/ut; scgi_temp_path $DEMO_DIR/st;
  server {
    listen 127.0.0.1:10001;
    location / { default_type text/plain; return 200 "hello from upstream\n"; }
  }
}
EOF
  local nginx_bin; nginx_bin="$(command -v nginx || echo /usr/sbin/nginx)"
  "$nginx_bin" -e "$DEMO_DIR/logs/error.log" -c "$DEMO_DIR/nginx.conf" -p "$DEMO_DIR" &
  DEMO_PIDS+=($!)
  wait_http http://127.0.0.1:10001/ 10 "${DEMO_PIDS[0]}" || { log "demo: upstream nginx did not start"; cat "$DEMO_DIR/logs/error.log" >&2 || true; return 1; }

  ./out/sidecar proxy &
  DEMO_PIDS+=($!)
  if ! wait_http http://127.0.0.1:15000/ready 15 "${DEMO_PIDS[1]}"; then
    log "demo: sidecar did not become ready on admin 127.0.0.1:15000"
    return 1
  fi
  echo "sidecar listening on 127.0.0.1:10000 -> upstream 127.0.0.1:10001; admin on 127.0.0.1:15000"
  echo "try:  curl -s http://127.0.0.1:10000/"
  if [ "${DEMO_SMOKE:-0}" = "1" ]; then
    local body
    if body="$(curl -sS --max-time 5 http://127.0.0.1:10000/)"; then
      echo "$body"
      [ "$body" = "hello from upstream" ] && return 0
    fi
    log "demo smoke: unexpected response"
    return 1
  fi
  echo "Ctrl-C to stop."
  wait "${DEMO_PIDS[1]}"
}

# ---------------------------------------------------------------------------------------------
# bench
# ---------------------------------------------------------------------------------------------
cmd_bench() {
  # ./build.sh bench [--quick] [--pin] [...]: packages (iperf3, nginx stream module, ...), the AOT binary,
  # then bench/run.sh, which builds the load generator, chart renderer and YARP peer into out/bench/
  # and measures every peer in the same run. Results: bench/results/<date>-<host>-<mode>.{json,md,*.png}
  cmd_setup
  cmd_publish
  "$ROOT/bench/run.sh" "$@"
}

# ---------------------------------------------------------------------------------------------
case "${1:-}" in
  setup)   cmd_setup ;;
  build)   cmd_build ;;
  publish) cmd_publish ;;
  test)    cmd_test ;;
  demo)    cmd_demo ;;
  bench)   shift; cmd_bench "$@" ;;
  *) echo "usage: $0 {setup|build|publish|test|demo|bench}" >&2; exit 2 ;;
esac
