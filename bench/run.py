#!/usr/bin/env python3
"""Sidecar proxy benchmark: Sidecar vs HAProxy 2.6, nginx 1.22, YARP 2.3 (and Envoy if present), same run.

Primary figure: CPU microseconds of the proxy process per completed request ((utime+stime) delta from
/proc/<pid>/stat over the window / requests completed). Also: latency at a fixed rate from the open-loop
generator (bench/LoadGen), one TCP stream (iperf3), RSS per idle connection, start-up, binary size.
Every target is measured in the same run, repetitions interleaved, median and min-max reported, ratios to
HAProxy of the same run. See bench/README.md.
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib.measure import (idle_connections, raise_fd_limit, run_iperf, run_loadgen, run_wrk,  # noqa: E402
                              startup_time)
from benchlib.procs import Procs, log, port_free, render, rss_kb, wait_200, wait_port, which  # noqa: E402
from benchlib.report import WRK_SCENARIOS, render_md, summarize, summarize_all  # noqa: E402
from benchlib.secure import run_secure  # noqa: E402
from benchlib.secure_report import SECURE_SCENARIOS, summarize_secure  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
PEERS = os.path.join(BENCH, "peers")
TOOLS = os.path.join(ROOT, "out", "bench")

BACKEND_PORT = 18180
IPERF_PORT = 18190
PORTS = {"sidecar": 18101, "sidecar-c0": 18102, "sidecar-c2": 18103, "sidecar-reqid": 18105, "sidecar-kestrel": 18106,
         "haproxy": 18111, "nginx": 18112, "envoy": 18113, "yarp": 18114}
TCP_OFFSET = 50          # tcp_proxy listener = HTTP port + 50
NGINX_STREAM_PORT = 18162
SIDECAR_VARIANTS = {  # --variants: name -> (label, env, extra args); /hello only
    "sidecar-reqid": ("Sidecar generate_request_id: true (Envoy default)", {}, []),
    "sidecar-c2": ("Sidecar --concurrency 2 (two event loops)", {}, ["--concurrency", "2"]),
    "sidecar-c0": ("Sidecar --concurrency 0 (.NET thread pool)", {}, ["--concurrency", "0"]),
    "sidecar-kestrel": ("Sidecar on Kestrel's socket transport (SIDECAR_TRANSPORT=kestrel)", {"SIDECAR_TRANSPORT": "kestrel"}, []),
}
RATES = ((1000, 4), (5000, 16))  # fixed-rate points: (req/s, connections), Istio-style many connections
STREAM_MODULE = "/usr/lib/nginx/modules/ngx_stream_module.so"
CLASSIC_PARTS = {"wrk", "latency", "tcp", "idle", "startup", "check"}  # everything but "tls" (bench/benchlib/secure.py)


def machine_info():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem = f.readline().split(":", 1)[1].strip()

    def ver(argv):
        try:
            r = subprocess.run(argv, capture_output=True, text=True, timeout=5)
            return (r.stdout + r.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return None

    return {"host": platform.node(), "nproc": os.cpu_count(), "cpu_model": model, "kernel": platform.release(),
            "mem_total": mem,
            "versions": {"haproxy": ver([which("haproxy") or "haproxy", "-v"]), "nginx": ver([which("nginx") or "nginx", "-v"]),
                         "wrk": ver(["wrk", "-v"]), "iperf3": ver(["iperf3", "--version"]),
                         "dotnet_runtime_in_binary": "native AOT (see src/*.csproj)"}}


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="short run (< 3 min): 1 repetition, 2 s windows")
    ap.add_argument("--pin", action="store_true", help="taskset: proxy on CPU 0, load generator + backend on CPU 1")
    ap.add_argument("--duration", type=int, help="seconds per wrk / loadgen / iperf3 window")
    ap.add_argument("--reps", type=int, help="repetitions (full mode: >= 3)")
    ap.add_argument("--variants", action="store_true", help="also Sidecar scheduling variants (on /hello)")
    ap.add_argument("--only", help="comma-separated targets (default: all)")
    ap.add_argument("--skip", default="", help="comma-separated parts to skip: wrk,latency,tcp,idle,startup,check,tls")
    ap.add_argument("--tls-only", action="store_true",
                    help="only the TLS/mTLS/HTTP/2 scenarios (= --skip wrk,latency,tcp,idle,startup,check); results *-tls.*")
    ap.add_argument("--tls-scenarios", help="comma-separated subset of the TLS/h2 scenarios (default: all; see bench/README.md)")
    ap.add_argument("--idle-count", type=int, default=10000)
    ap.add_argument("--sidecar", default=os.environ.get("SIDECAR_BIN", os.path.join(ROOT, "out", "sidecar")))
    ap.add_argument("--loadgen", default=os.path.join(TOOLS, "loadgen", "loadgen"))
    ap.add_argument("--yarp-dir", default=os.path.join(TOOLS, "yarp"))
    ap.add_argument("--charts", default=os.path.join(TOOLS, "charts", "charts"))
    ap.add_argument("--note", default="", help="sentence printed at the top of the report (e.g. machine was busy)")
    ap.add_argument("--ci", action="store_true", help="exit non-zero if any target or scenario was skipped")
    ap.add_argument("--tag", default="", help="suffix for the result file names")
    return ap.parse_args()


def build_specs(args, tmp, envoy_bin):
    """target -> dict(label, argv, env, port, tcp_port, cwd); 'direct' has no process of its own."""
    nginx, haproxy = which("nginx"), which("haproxy")
    specs = {"direct": {"label": "direct to backend (nginx, floor)", "argv": None, "port": BACKEND_PORT, "tcp_port": IPERF_PORT}}
    names = ["sidecar"] + (list(SIDECAR_VARIANTS) if args.variants else [])
    for name in names:
        label, env, extra = SIDECAR_VARIANTS.get(name, ("Sidecar (defaults: --concurrency 1)", {}, []))
        cfg = render(os.path.join(PEERS, "sidecar.yaml"), os.path.join(tmp, f"{name}.yaml"), PORT=PORTS[name],
                     ADMIN_PORT=PORTS[name] + 100, TCP_PORT=PORTS[name] + TCP_OFFSET, IPERF_PORT=IPERF_PORT,
                     BACKEND_PORT=BACKEND_PORT, GENERATE_REQUEST_ID="true" if name == "sidecar-reqid" else "false")
        specs[name] = {"label": label, "argv": [args.sidecar, "proxy", "--config", cfg, *extra], "env": env,
                       "port": PORTS[name], "tcp_port": PORTS[name] + TCP_OFFSET if name == "sidecar" else None}
    specs["haproxy"] = {"label": "HAProxy 2.6 (nbthread 1)", "port": PORTS["haproxy"], "tcp_port": PORTS["haproxy"] + TCP_OFFSET,
                        "argv": [haproxy, "-db", "-f", render(os.path.join(PEERS, "haproxy.cfg"), os.path.join(tmp, "haproxy.cfg"),
                                                              PORT=PORTS["haproxy"], TCP_PORT=PORTS["haproxy"] + TCP_OFFSET,
                                                              MAXCONN=args.idle_count + 50, ULIMIT_N=args.fd_limit,
                                                              BACKEND_PORT=BACKEND_PORT, IPERF_PORT=IPERF_PORT)]}
    specs["nginx"] = {"label": "nginx 1.22 proxy (1 worker)", "port": PORTS["nginx"], "tcp_port": None,
                      "argv": [nginx, "-c", render(os.path.join(PEERS, "nginx-proxy.conf"), os.path.join(tmp, "nginx-proxy.conf"),
                                                   DIR=tmp, PORT=PORTS["nginx"], BACKEND_PORT=BACKEND_PORT),
                               "-p", tmp, "-e", os.path.join(tmp, "nginx-proxy-error.log")]}
    yarp_exe = os.path.join(args.yarp_dir, "yarp-peer")
    if os.access(yarp_exe, os.X_OK):
        specs["yarp"] = {"label": "YARP 2.3 (Kestrel defaults, framework-dependent)", "port": PORTS["yarp"], "tcp_port": None,
                         "cwd": args.yarp_dir, "binary": os.path.join(args.yarp_dir, "yarp-peer.dll"),
                         "argv": [yarp_exe, "--urls", f"http://127.0.0.1:{PORTS['yarp']}",
                                  f"--ReverseProxy:Clusters:backend:Destinations:d1:Address=http://127.0.0.1:{BACKEND_PORT}/"]}
    if envoy_bin:
        cfg = render(os.path.join(PEERS, "envoy.yaml"), os.path.join(tmp, "envoy.yaml"), PORT=PORTS["envoy"],
                     ADMIN_PORT=PORTS["envoy"] + 100, TCP_PORT=PORTS["envoy"] + TCP_OFFSET, IPERF_PORT=IPERF_PORT,
                     BACKEND_PORT=BACKEND_PORT)
        specs["envoy"] = {"label": "Envoy (--concurrency 1)", "port": PORTS["envoy"], "tcp_port": PORTS["envoy"] + TCP_OFFSET,
                          "argv": [envoy_bin, "-c", cfg, "--concurrency", "1", "-l", "error"]}
    if args.only:
        keep = set(args.only.split(",")) | {"direct"}
        specs = {k: v for k, v in specs.items() if k in keep}
    return specs


class Progress:
    def __init__(self, total):
        self.total, self.done, self.t0 = total, 0, time.monotonic()

    def step(self, text):
        self.done += 1
        el = time.monotonic() - self.t0
        eta = el / self.done * (self.total - self.done)
        log(f"[{self.done}/{self.total} ~{eta:.0f}s left] {text}")


def main():
    args = parse_args()
    quick = args.quick
    duration = args.duration or (2 if quick else 8)
    reps = args.reps or (1 if quick else 3)
    if not quick and reps < 3:
        sys.exit("full mode needs --reps >= 3")
    warmup = 1 if quick else 2
    lat_duration = args.duration or (2 if quick else 10)
    tcp_duration = args.duration or (2 if quick else 5)
    skip = set(filter(None, args.skip.split(",")))
    unknown = set(args.tls_scenarios.split(",")) - set(SECURE_SCENARIOS) if args.tls_scenarios else set()
    if unknown:
        sys.exit(f"--tls-scenarios: unknown {', '.join(sorted(unknown))} (known: {', '.join(SECURE_SCENARIOS)})")
    if args.tls_only:
        skip |= CLASSIC_PARTS
        if "tls" in skip:
            sys.exit("--tls-only and --skip tls leave nothing to run")
    proxy_cpu, load_cpu = (0, 1) if args.pin else (None, None)

    if not os.access(args.sidecar, os.X_OK):
        sys.exit(f"sidecar binary not found: {args.sidecar} (run ./build.sh publish)")
    for tool in ("wrk", "haproxy", "nginx"):
        if not which(tool):
            sys.exit(f"{tool} not found (run ./build.sh setup)")
    loadgen = [args.loadgen] if os.access(args.loadgen, os.X_OK) else None
    envoy_bin = os.environ.get("ENVOY_BIN") or which("envoy")
    iperf3 = which("iperf3")
    fd_limit = raise_fd_limit(args.idle_count * 2 + 1000)
    # HAProxy needs 2 descriptors per connection within the hard limit (no CAP_SYS_RESOURCE to raise it here)
    wanted_idle = args.idle_count
    args.idle_count = min(args.idle_count, (fd_limit - 200) // 2)
    args.fd_limit = fd_limit
    if args.idle_count < wanted_idle:
        log(f"idle connections: {args.idle_count} instead of {wanted_idle} (fd hard limit {fd_limit})")

    info = machine_info()
    mode = ("tls-quick" if quick else "tls") if args.tls_only else ("quick" if quick else "full")
    log(f"machine: {info['host']} nproc={info['nproc']} cpu='{info['cpu_model']}' kernel={info['kernel']} fd limit {fd_limit}")
    log(f"mode={mode} duration={duration}s reps={reps} pinning={'proxy CPU0, load+backend CPU1' if args.pin else 'none'}")
    results = {"machine": info, "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
               "mode": mode, "duration_s": duration, "latency_duration_s": lat_duration, "tcp_duration_s": tcp_duration,
               "reps": reps, "note": args.note, "idle_count": args.idle_count, "skipped_parts": sorted(skip),
               "pinning": "proxy on CPU 0, load generator + backend on CPU 1 (taskset)" if args.pin else "unpinned",
               "envoy": envoy_bin or "not available here", "yarp": "publish of bench/peers/yarp" if os.path.isdir(args.yarp_dir) else "not built",
               "targets": {}, "runs": [], "latency_runs": [], "tcp_runs": [], "idle_runs": [], "failures": [], "not_available": {}}
    na = results["not_available"]
    if not envoy_bin:
        log("envoy: not available here (set ENVOY_BIN)")
        for part in list(WRK_SCENARIOS) + ["latency", "tcp", "idle"]:
            na.setdefault(part, {})["envoy"] = "no Envoy binary here (set ENVOY_BIN)"
        results["targets"]["envoy"] = {"label": "Envoy"}

    tmp = tempfile.mkdtemp(prefix="sidecar-bench.")
    pm = Procs()
    try:
        run_all(args, results, pm, tmp, envoy_bin, iperf3, loadgen, duration, reps, warmup, lat_duration, tcp_duration,
                skip, proxy_cpu, load_cpu)
    finally:
        pm.stop_all()
        shutil.rmtree(tmp, ignore_errors=True)

    results["summary"] = summarize_all(results)
    results["summary"]["secure"] = summarize_secure(results)
    results["finished"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d-%H%M")
    name = f"{stamp}-{info['host']}-{mode}{'-pinned' if args.pin else ''}{args.tag}"
    base = os.path.join(BENCH, "results", name)
    with open(base + ".json", "w") as f:
        json.dump(results, f, indent=2)
    results["charts"] = draw_charts(args.charts, base)
    with open(base + ".json", "w") as f:
        json.dump(results, f, indent=2)
    md = render_md(results)
    with open(base + ".md", "w") as f:
        f.write(md)
    print(md)
    log(f"wrote {base}.json and {base}.md" + (f" and {len(results['charts'])} charts" if results["charts"] else ""))
    if results["failures"]:
        log("skipped: " + "; ".join(results["failures"]))
        if args.ci:
            sys.exit(1)


def draw_charts(charts_exe, base):
    if not os.access(charts_exe, os.X_OK):
        log(f"charts: {charts_exe} not built (./build.sh bench builds it): no PNGs")
        return []
    r = subprocess.run([charts_exe, base + ".json", base], capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        log(f"charts failed: {r.stderr.strip()[-500:]}")
        return []
    return [os.path.basename(p) for p in r.stdout.split() if p.endswith(".png")]


def start_targets(results, specs, pm, tmp, proxy_cpu, only=None):
    """Starts each target (or those in `only`); returns name -> Popen. A failure skips that target."""
    procs = {}
    for name, sp in list(specs.items()):
        if sp["argv"] is None or (only is not None and name not in only):
            continue
        if not port_free(sp["port"]):
            fail(results, specs, name, f"port {sp['port']} is in use")
            continue
        log_path = os.path.join(tmp, f"{name}.log")
        p = pm.start(sp["argv"], env=sp.get("env"), cpu=proxy_cpu, log_path=log_path, cwd=sp.get("cwd"))
        if not wait_200(sp["port"], "/hello", 20, p):
            with open(log_path) as f:
                tail = f.read()[-400:].strip().replace("\n", " | ")
            pm.stop(p)
            fail(results, specs, name, f"did not serve /hello within 20 s (exit {p.poll()}): {tail}")
            continue
        procs[name] = p
    return procs


def fail(results, specs, name, why):
    log(f"SKIP {name}: {why}")
    results["failures"].append(f"{name}: {why}")
    specs.pop(name, None)


def run_all(args, results, pm, tmp, envoy_bin, iperf3, loadgen, duration, reps, warmup, lat_duration, tcp_duration, skip,
            proxy_cpu, load_cpu):
    na = results["not_available"]
    os.makedirs(os.path.join(tmp, "www"))
    for fname, size in (("1k", 1024), ("1m", 1024 * 1024)):
        with open(os.path.join(tmp, "www", fname), "wb") as f:
            f.write(bytes((i * 7 + 65) % 26 + 65 for i in range(size)))
    for port in (BACKEND_PORT, IPERF_PORT):
        if not port_free(port):
            raise SystemExit(f"port {port} (backend/iperf3) is in use: another bench running?")
    nginx = which("nginx")
    backend = pm.start([nginx, "-c", render(os.path.join(PEERS, "backend-nginx.conf"), os.path.join(tmp, "backend.conf"),
                                            DIR=tmp, PORT=BACKEND_PORT), "-p", tmp, "-e", os.path.join(tmp, "backend-error.log")],
                       cpu=load_cpu)
    if not wait_200(BACKEND_PORT, "/hello", 10, backend):
        raise SystemExit("backend nginx did not start")
    iperf_srv = None
    if iperf3 and not {"tcp", "tls"} <= skip:
        iperf_srv = pm.start([iperf3, "-s", "-p", str(IPERF_PORT)], cpu=load_cpu)
        if not wait_port(IPERF_PORT, 5, iperf_srv):
            results["failures"].append("iperf3 server did not start")
            iperf_srv = None

    specs = build_specs(args, tmp, envoy_bin)
    for name, sp in specs.items():
        t = results["targets"].setdefault(name, {})
        t["label"] = sp["label"]
        if sp["argv"]:
            t["binary"] = sp.get("binary", sp["argv"][0])
            t["binary_bytes"] = os.path.getsize(t["binary"])
    if "envoy" in results["targets"] and "envoy" not in specs:  # keep the not-available row last
        results["targets"]["envoy"] = results["targets"].pop("envoy")
    if "yarp" not in specs:
        results["targets"]["yarp"] = {"label": "YARP 2.3"}
        for part in list(WRK_SCENARIOS) + ["latency", "idle"]:
            na.setdefault(part, {})["yarp"] = f"not built ({args.yarp_dir}; ./build.sh bench publishes it)"
    na.setdefault("tcp", {})["yarp"] = "YARP proxies HTTP only (no TCP proxy)"

    if "startup" not in skip:
        for name, sp in specs.items():
            if sp["argv"] is None or name.startswith("sidecar-"):
                continue
            times = [startup_time(pm, sp["argv"], sp.get("env"), sp["port"], "/hello", proxy_cpu, sp.get("cwd")) for _ in range(reps)]
            results["targets"][name]["startup_ms"] = summarize(times)
            results["targets"][name]["startup_ms_raw"] = times
            log(f"start-up {name}: {['%.1f' % t if t else 'FAIL' for t in times]} ms")

    running = start_targets(results, specs, pm, tmp, proxy_cpu)
    pids = {"direct": backend.pid, **{n: p.pid for n, p in running.items()}}
    time.sleep(1.0)
    for name in specs:
        results["targets"][name]["rss_idle_kb"] = rss_kb(pids[name])
    log("idle RSS (kB): " + ", ".join(f"{n}={results['targets'][n]['rss_idle_kb']}" for n in specs))

    wrk_plan = [] if "wrk" in skip else [(n, sc) for n in specs for sc in WRK_SCENARIOS
                                         if not (n.startswith("sidecar-") and sc != "hello")]
    lat_plan = [] if "latency" in skip or not loadgen else [(n, rate, conns) for rate, conns in RATES for n in specs
                                                            if not n.startswith("sidecar-")]
    if loadgen is None:
        na.setdefault("latency", {})["all"] = f"loadgen not built ({args.loadgen})"
    tcp_targets = [] if "tcp" in skip or not iperf_srv else [n for n in specs if specs[n].get("tcp_port")]
    nginx_stream = None
    if tcp_targets and "nginx" in specs:
        if os.path.exists(STREAM_MODULE):
            cfg = render(os.path.join(PEERS, "nginx-stream.conf"), os.path.join(tmp, "nginx-stream.conf"), DIR=tmp,
                         STREAM_MODULE=STREAM_MODULE, TCP_PORT=NGINX_STREAM_PORT, IPERF_PORT=IPERF_PORT)
            nginx_stream = pm.start([nginx, "-c", cfg, "-p", tmp, "-e", os.path.join(tmp, "nginx-stream-error.log")], cpu=proxy_cpu)
            if wait_port(NGINX_STREAM_PORT, 5, nginx_stream):
                tcp_targets.append("nginx")
                pids["nginx-stream"] = nginx_stream.pid
            else:
                results["failures"].append("nginx stream proxy did not start")
        else:
            na.setdefault("tcp", {})["nginx"] = f"nginx stream module not installed ({STREAM_MODULE}; Debian libnginx-mod-stream)"
    if not iperf3:
        na.setdefault("tcp", {})["all"] = "iperf3 not installed"
    idle_targets = [] if "idle" in skip else [n for n in specs if n != "direct" and not n.startswith("sidecar-")]

    total = len(wrk_plan) * (reps + 1) + len(lat_plan) * reps + len(tcp_targets) * reps + len(idle_targets) * reps
    total += 0 if "check" in skip or not loadgen else 2
    prog = Progress(total)
    log(f"{total} measurements planned")

    # warm-up (JIT peers, connection pools), not recorded; quick mode warms each target once
    warm_plan = [(n, sc) for n, sc in wrk_plan if not args.quick or sc == "hello"]
    total += len(warm_plan) - len(wrk_plan)
    prog.total = total
    for name, sc in warm_plan:
        path, _, conns, close = WRK_SCENARIOS[sc]
        run_wrk(specs[name]["port"], path, warmup, conns, load_cpu, None, close)
        prog.step(f"warm-up {name} {sc}")
    for rep in range(reps):
        order = wrk_plan[rep % max(1, len(wrk_plan)):] + wrk_plan[:rep % max(1, len(wrk_plan))]
        for name, sc in order:
            path, _, conns, close = WRK_SCENARIOS[sc]
            r = measured(results, f"wrk {name} {sc}", run_wrk, specs[name]["port"], path, duration, conns, load_cpu, pids[name], close)
            if r:
                r.update({"target": name, "scenario": sc, "rep": rep})
                results["runs"].append(r)
                prog.step(f"rep{rep} {name:<14} {sc:<6} {r['rps']:>9.0f} req/s {r['cpu_us_per_req'] or 0:7.2f} µs/req errors {r['errors']}")

    for rep in range(reps):
        for name, rate, conns in lat_plan:
            r = measured(results, f"loadgen {name} {rate}", run_loadgen, loadgen, specs[name]["port"], "/1k", rate, conns,
                         lat_duration, 0.5, load_cpu, pids[name])
            if r:
                r.update({"target": name, "rep": rep})
                results["latency_runs"].append(r)
                prog.step(f"rep{rep} {name:<14} {rate} req/s: achieved {r['achieved_rps']:.0f}, p50 {r['p50_us']} p99 {r['p99_us']} "
                          f"max {r['max_us']} µs, errors {r['errors']}")

    if lat_plan and "check" not in skip:
        w = measured(results, "check wrk", run_wrk, BACKEND_PORT, "/1k", lat_duration, 1, load_cpu, None)
        prog.step("check: wrk -c1 direct")
        g = measured(results, "check loadgen", run_loadgen, loadgen, BACKEND_PORT, "/1k", 1000, 1, lat_duration, 0.5, load_cpu, None)
        prog.step("check: loadgen 1000 req/s -c1 direct")
        if w and g:
            results["loadgen_check"] = {"wrk": w, "loadgen": g}

    for rep in range(reps):
        for name in tcp_targets:
            port = NGINX_STREAM_PORT if name == "nginx" else specs[name]["tcp_port"]
            pid = pids["nginx-stream"] if name == "nginx" else (iperf_srv.pid if name == "direct" else pids[name])
            r = measured(results, f"iperf3 {name}", run_iperf, port, tcp_duration, load_cpu, pid)
            if r:
                r.update({"target": name, "rep": rep})
                results["tcp_runs"].append(r)
                prog.step(f"rep{rep} {name:<14} tcp {r['gbit_s']:.2f} Gb/s, {r['cpu_s_per_gb'] or 0:.3f} CPU s/GB")
    if nginx_stream:
        pm.stop(nginx_stream)

    for name in specs:
        if os.path.exists(f"/proc/{pids[name]}"):
            results["targets"][name]["rss_after_kb"] = rss_kb(pids[name])

    # Idle connections on a FRESH process each time: after load (or an earlier repetition) the allocator
    # keeps freed pages, and the RSS growth would read as ~0 per connection.
    for rep in range(reps):
        for name in idle_targets:
            if name in running:
                pm.stop(running.pop(name))
            fresh = start_targets(results, specs, pm, tmp, proxy_cpu, only={name})
            if name not in fresh:
                continue
            time.sleep(1.0)
            r = measured(results, f"idle {name}", idle_connections, specs[name]["port"], args.idle_count, fresh[name].pid)
            pm.stop(fresh[name])
            if r:
                r.update({"target": name, "rep": rep})
                results["idle_runs"].append(r)
                prog.step(f"rep{rep} {name:<14} {r['alive']}/{args.idle_count} idle open, "
                          f"{(r['bytes_per_conn'] or 0):.0f} B/conn")

    if "tls" not in skip:
        # the classic targets' processes are idle from here on; stop them so they take no memory or wake-ups
        for name in list(running):
            pm.stop(running.pop(name))
        run_secure({"results": results, "pm": pm, "tmp": tmp, "peers": PEERS, "root": ROOT, "sidecar": args.sidecar,
                    "yarp_dir": args.yarp_dir, "envoy_bin": envoy_bin, "only": set(args.only.split(",")) if args.only else None,
                    "scenarios": set(args.tls_scenarios.split(",")) if args.tls_scenarios else None,
                    "reps": reps, "quick": args.quick, "duration": 1 if args.quick and not args.duration else duration,
                    "stream_duration": 1 if args.quick and not args.duration else tcp_duration, "load_cpu": load_cpu,
                    "proxy_cpu": proxy_cpu, "backend_port": BACKEND_PORT, "backend_pid": backend.pid, "iperf_port": IPERF_PORT,
                    "iperf_pid": iperf_srv.pid if iperf_srv else None, "measured": measured, "progress": Progress})


def measured(results, what, fn, *a):
    """Runs one measurement; a failure is logged and reported, never turned into a figure."""
    try:
        return fn(*a)
    except (RuntimeError, OSError, ValueError, subprocess.TimeoutExpired) as e:
        msg = f"{what}: {str(e).strip()[:300]}"
        log(f"FAILED {msg}")
        results["failures"].append(msg)
        return None


if __name__ == "__main__":
    main()
