#!/usr/bin/env python3
"""Sidecar proxy benchmark: Sidecar vs HAProxy 2.6 vs nginx (vs Envoy if present) on loopback.

Primary figure: CPU microseconds of the proxy process per completed request
((utime+stime) delta from /proc/<pid>/stat over the wrk window / requests wrk completed).
Secondary: req/s, wrk p50/p90/p99 (closed loop, so latency is at saturation: context only),
VmRSS idle and under load, start-up (exec -> first proxied 200), binary size.
Every proxy is measured in the same run, repetitions interleaved, median and min-max reported.
"""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
PEERS = os.path.join(BENCH, "peers")
CLK_TCK = os.sysconf("SC_CLK_TCK")

BACKEND_PORT = 18180
PORTS = {"sidecar-reqid": 18105, "sidecar": 18101, "sidecar-c0": 18102, "sidecar-c2": 18103, "sidecar-c0-inline0": 18104,
         "haproxy": 18111, "nginx": 18112, "envoy": 18113}
SIDECAR_VARIANTS = {
    # name: (label, env, extra args)
    "sidecar": ("Sidecar (defaults: --concurrency 1)", {}, []),
    "sidecar-reqid": ("Sidecar generate_request_id: true (Envoy default)", {}, []),
    "sidecar-c2": ("Sidecar --concurrency 2 (two event loops)", {}, ["--concurrency", "2"]),
    "sidecar-c0": ("Sidecar --concurrency 0 (.NET thread pool)", {}, ["--concurrency", "0"]),
    "sidecar-c0-inline0": ("Sidecar --concurrency 0 + SIDECAR_INLINE_SCHEDULING=0", {"SIDECAR_INLINE_SCHEDULING": "0"}, ["--concurrency", "0"]),
}
SCENARIOS = {"hello": "/hello", "1k": "/1k"}


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def which(name, extra=()):
    p = shutil.which(name)
    if p:
        return p
    for d in ("/usr/sbin", "/sbin", *extra):
        c = os.path.join(d, name)
        if os.access(c, os.X_OK):
            return c
    return None


def render(template, out_path, **values):
    with open(os.path.join(PEERS, template)) as f:
        text = f.read()
    for k, v in values.items():
        text = text.replace(f"@{k}@", str(v))
    with open(out_path, "w") as f:
        f.write(text)
    return out_path


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        data = f.read()
    fields = data[data.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15 of stat)


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def http_get(port, path, timeout=1.0):
    """Minimal HTTP/1.1 GET; returns the status code or None."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n".encode())
            data = b""
            while b"\r\n" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            m = re.match(rb"HTTP/1\.[01] (\d{3})", data)
            return int(m.group(1)) if m else None
    except OSError:
        return None


def wait_200(port, path, deadline_s, proc=None, interval=0.002):
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            return False
        if http_get(port, path, timeout=0.5) == 200:
            return True
        time.sleep(interval)
    return False


class Procs:
    def __init__(self):
        self.procs = []

    def start(self, argv, env=None, cpu=None, log_path=None):
        if cpu is not None:
            argv = ["taskset", "-c", str(cpu)] + argv
        out = open(log_path, "w") if log_path else subprocess.DEVNULL
        full_env = dict(os.environ)
        if env:
            full_env.update(env)
        p = subprocess.Popen(argv, env=full_env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.procs.append(p)
        return p

    def stop(self, p):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(3)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if p in self.procs:
            self.procs.remove(p)

    def stop_all(self):
        for p in list(self.procs):
            self.stop(p)


def parse_latency(token):
    m = re.match(r"([\d.]+)(us|ms|s)$", token)
    if not m:
        return None
    v = float(m.group(1))
    return {"us": v / 1000.0, "ms": v, "s": v * 1000.0}[m.group(2)]


PERF_EVENTS = "context-switches,cpu-migrations,raw_syscalls:sys_enter"


def start_perf(pid, duration):
    """perf stat on the proxy process (all threads) for the wrk window; counts only, no sampling."""
    return subprocess.Popen(["perf", "stat", "-x,", "-e", PERF_EVENTS, "-p", str(pid), "--", "sleep", str(duration)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def finish_perf(p, reqs):
    _, err = p.communicate(timeout=30)
    out = {}
    for line in err.splitlines():
        parts = line.split(",")
        if len(parts) >= 3 and parts[0].replace(".", "").isdigit():
            name = {"context-switches": "ctx_switches", "cpu-migrations": "migrations",
                    "raw_syscalls:sys_enter": "syscalls"}.get(parts[2])
            if name:
                out[f"{name}_per_req"] = float(parts[0]) / reqs if reqs else None
    return out


def run_wrk(port, path, duration, conns, wrk_cpu, pid, perf=False):
    argv = ["wrk", "-t1", f"-c{conns}", f"-d{duration}s", "--latency", f"http://127.0.0.1:{port}{path}"]
    if wrk_cpu is not None:
        argv = ["taskset", "-c", str(wrk_cpu)] + argv
    rss_max = [0]
    stop = threading.Event()

    def sample():
        while not stop.wait(0.2):
            try:
                rss_max[0] = max(rss_max[0], rss_kb(pid))
            except OSError:
                return

    t = threading.Thread(target=sample, daemon=True)
    c0 = cpu_ticks(pid) if pid else 0
    t.start()
    perf_proc = start_perf(pid, duration) if perf and pid else None
    r = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 30)
    c1 = cpu_ticks(pid) if pid else 0
    stop.set()
    t.join()
    out = r.stdout
    m = re.search(r"(\d+) requests in ([\d.]+)(s|ms|m)", out)
    if r.returncode != 0 or not m:
        raise RuntimeError(f"wrk failed (rc={r.returncode}): {out}\n{r.stderr}")
    reqs = int(m.group(1))
    secs = float(m.group(2)) * {"s": 1, "ms": 0.001, "m": 60}[m.group(3)]
    lat = {}
    for q in ("50", "90", "99"):
        lm = re.search(rf"^\s+{q}(?:\.000)?%\s+(\S+)", out, re.M)
        lat[f"p{q}_ms"] = parse_latency(lm.group(1)) if lm else None
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(non2xx.group(1)) if non2xx else 0) + (sum(int(x) for x in sock.groups()) if sock else 0)
    cpu_s = (c1 - c0) / CLK_TCK
    perf_counts = finish_perf(perf_proc, reqs) if perf_proc else {}
    try:
        threads = int(re.search(r"^Threads:\s+(\d+)", open(f"/proc/{pid}/status").read(), re.M).group(1)) if pid else None
    except (OSError, AttributeError):
        threads = None
    with open("/proc/loadavg") as f:
        load1 = float(f.read().split()[0])
    return {
        "loadavg1_end": load1,
        **perf_counts,
        "threads": threads,
        "requests": reqs,
        "seconds": secs,
        "rps": reqs / secs,
        "cpu_s": cpu_s,
        "cpu_us_per_req": cpu_s * 1e6 / reqs if reqs else None,
        "errors": errors,
        "rss_load_kb": rss_max[0],
        **lat,
    }


def summarize(values):
    vals = [v for v in values if v is not None]
    if not vals:
        return None
    return {"median": statistics.median(vals), "min": min(vals), "max": max(vals), "n": len(vals)}


def machine_info():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem = "?"
    with open("/proc/meminfo") as f:
        mem = f.readline().split(":", 1)[1].strip()

    def ver(argv):
        try:
            r = subprocess.run(argv, capture_output=True, text=True, timeout=5)
            return (r.stdout + r.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return None

    return {
        "host": platform.node(),
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "kernel": platform.release(),
        "mem_total": mem,
        "versions": {
            "haproxy": ver([which("haproxy") or "haproxy", "-v"]),
            "nginx": ver([which("nginx") or "nginx", "-v"]),
            "wrk": ver(["wrk", "-v"]),
            "dotnet_runtime_in_binary": "native AOT (see src/*.csproj)",
        },
    }


def startup_time(proc_mgr, argv, env, port, path, cpu):
    """exec -> first 200 on `path` through the proxy, in ms (polling every ~2 ms)."""
    t0 = time.monotonic()
    p = proc_mgr.start(argv, env=env, cpu=cpu)
    ok = wait_200(port, path, 15, proc=p, interval=0.002)
    dt = (time.monotonic() - t0) * 1000.0
    proc_mgr.stop(p)
    time.sleep(0.2)
    return dt if ok else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="short run (< 3 min)")
    ap.add_argument("--pin", action="store_true", help="taskset: proxy on CPU 1, wrk + backend on CPU 0")
    ap.add_argument("--duration", type=int, help="seconds per wrk run")
    ap.add_argument("--reps", type=int, help="repetitions (>= 3)")
    ap.add_argument("--conns", type=int, default=50)
    ap.add_argument("--no-variants", action="store_true", help="skip the Sidecar env-variable variants")
    ap.add_argument("--sidecar", default=os.environ.get("SIDECAR_BIN", os.path.join(ROOT, "out", "sidecar")))
    ap.add_argument("--perf-stat", action="store_true",
                    help="also count context switches, migrations and syscalls per request (perf stat; adds overhead)")
    ap.add_argument("--only", help="comma-separated targets to run (default: all)")
    ap.add_argument("--tag", default="", help="suffix for the result file names")
    args = ap.parse_args()

    duration = args.duration or (3 if args.quick else 8)
    reps = max(3, args.reps or 3)
    warmup = 1 if args.quick else 2
    proxy_cpu = 1 if args.pin else None
    load_cpu = 0 if args.pin else None
    # quick mode: variants only on /hello to stay under 3 minutes
    variant_scenarios = ["hello"] if args.quick else list(SCENARIOS)

    if not os.access(args.sidecar, os.X_OK):
        sys.exit(f"sidecar binary not found: {args.sidecar} (run ./build.sh publish)")
    for tool in ("wrk", "haproxy", "nginx"):
        if not which(tool):
            sys.exit(f"{tool} not found (run ./build.sh setup)")
    envoy_bin = os.environ.get("ENVOY_BIN") or which("envoy")

    info = machine_info()
    log(f"machine: {info['host']} nproc={info['nproc']} cpu='{info['cpu_model']}' kernel={info['kernel']}")
    log(f"mode={'quick' if args.quick else 'full'} duration={duration}s reps={reps} conns={args.conns} "
        f"pinning={'proxy CPU1, wrk+backend CPU0' if args.pin else 'none'}")

    tmp = tempfile.mkdtemp(prefix="sidecar-bench.")
    pm = Procs()
    results = {"machine": info, "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
               "mode": "quick" if args.quick else "full", "duration_s": duration, "reps": reps, "conns": args.conns,
               "wrk": f"wrk -t1 -c{args.conns} -d{duration}s --latency",
               "perf_stat": args.perf_stat,
               "pinning": "proxy on CPU 1, wrk + backend on CPU 0 (taskset)" if args.pin else "unpinned",
               "envoy": envoy_bin or "not available here", "targets": {}, "runs": []}
    try:
        os.makedirs(os.path.join(tmp, "www"))
        with open(os.path.join(tmp, "www", "1k"), "wb") as f:
            f.write(bytes((i * 7 + 65) % 26 + 65 for i in range(1024)))
        nginx = which("nginx")
        haproxy = which("haproxy")

        backend = pm.start([nginx, "-c", render("backend-nginx.conf", os.path.join(tmp, "backend.conf"), DIR=tmp, PORT=BACKEND_PORT),
                            "-p", tmp, "-e", os.path.join(tmp, "backend-error.log")], cpu=load_cpu)
        if not wait_200(BACKEND_PORT, "/hello", 10, backend):
            raise RuntimeError("backend nginx did not start")

        # target name -> (label, argv, env, port)
        specs = {"direct": ("direct to backend (nginx, floor)", None, None, BACKEND_PORT)}
        variants = SIDECAR_VARIANTS if not args.no_variants else {"sidecar": SIDECAR_VARIANTS["sidecar"]}
        for name, (label, env, extra) in variants.items():
            cfg = render("sidecar.yaml", os.path.join(tmp, f"{name}.yaml"), PORT=PORTS[name], ADMIN_PORT=PORTS[name] + 100,
                         BACKEND_PORT=BACKEND_PORT, GENERATE_REQUEST_ID="true" if name == "sidecar-reqid" else "false")
            specs[name] = (label, [args.sidecar, "proxy", "--config", cfg, *extra], env, PORTS[name])
        specs["haproxy"] = ("HAProxy 2.6 (nbthread 1)", [haproxy, "-db", "-f", render(
            "haproxy.cfg", os.path.join(tmp, "haproxy.cfg"), PORT=PORTS["haproxy"], BACKEND_PORT=BACKEND_PORT)], None, PORTS["haproxy"])
        specs["nginx"] = ("nginx 1.22 proxy (1 worker)", [nginx, "-c", render(
            "nginx-proxy.conf", os.path.join(tmp, "nginx-proxy.conf"), DIR=tmp, PORT=PORTS["nginx"], BACKEND_PORT=BACKEND_PORT),
            "-p", tmp, "-e", os.path.join(tmp, "nginx-proxy-error.log")], None, PORTS["nginx"])
        if envoy_bin:
            cfg = render("envoy.yaml", os.path.join(tmp, "envoy.yaml"), PORT=PORTS["envoy"], ADMIN_PORT=PORTS["envoy"] + 100,
                         BACKEND_PORT=BACKEND_PORT)
            specs["envoy"] = ("Envoy (--concurrency 1)", [envoy_bin, "-c", cfg, "--concurrency", "1", "-l", "error"], None, PORTS["envoy"])
        else:
            log("envoy: not available here (set ENVOY_BIN)")

        # start-up: exec -> first proxied 200, fresh process each time (before the long-running copies start)
        for name in ["sidecar", "haproxy", "nginx"] + (["envoy"] if envoy_bin else []):
            label, argv, env, port = specs[name]
            times = [startup_time(pm, argv, env, port, "/hello", proxy_cpu) for _ in range(reps)]
            results["targets"].setdefault(name, {})["startup_ms"] = summarize(times)
            results["targets"][name]["startup_ms_raw"] = times
            log(f"start-up {name}: {['%.1f' % t if t else 'FAIL' for t in times]} ms")

        pids = {"direct": backend.pid}
        for name, (label, argv, env, port) in specs.items():
            if argv is None:
                continue
            p = pm.start(argv, env=env, cpu=proxy_cpu, log_path=os.path.join(tmp, f"{name}.log"))
            if not wait_200(port, "/hello", 15, p):
                raise RuntimeError(f"{name} did not serve /hello; log: {open(os.path.join(tmp, name + '.log')).read()[-2000:]}")
            pids[name] = p.pid
        time.sleep(1.0)
        for name, (label, argv, env, port) in specs.items():
            t = results["targets"].setdefault(name, {})
            t["label"] = label
            t["env"] = env or {}
            t["rss_idle_kb"] = rss_kb(pids[name])
            if argv:
                exe = argv[0]
                t["binary"] = exe
                t["binary_bytes"] = os.path.getsize(exe)
        log("idle RSS (kB): " + ", ".join(f"{n}={results['targets'][n]['rss_idle_kb']}" for n in specs))

        plan = []
        for name in specs:
            if args.only and name not in args.only.split(","):
                continue
            for sc in SCENARIOS:
                if name.startswith("sidecar-") and sc not in variant_scenarios:
                    continue
                plan.append((name, sc))
        total = len(plan) * reps
        log(f"warm-up {warmup}s per target/scenario; then {total} measured runs of {duration}s "
            f"(~{(total * (duration + 0.6) + len(plan) * (warmup + 0.3)) / 60:.1f} min)")
        for name, sc in plan:
            run_wrk(specs[name][3], SCENARIOS[sc], warmup, args.conns, load_cpu, None)

        done = 0
        for rep in range(reps):
            order = plan[rep % len(plan):] + plan[:rep % len(plan)]  # rotate so no target always goes first
            for name, sc in order:
                r = run_wrk(specs[name][3], SCENARIOS[sc], duration, args.conns, load_cpu, pids[name], args.perf_stat)
                r.update({"target": name, "scenario": sc, "rep": rep})
                results["runs"].append(r)
                done += 1
                log(f"[{done}/{total}] rep{rep} {name:<28} {sc:<5} {r['rps']:>9.0f} req/s  {r['cpu_us_per_req']:6.2f} µs/req  "
                    f"p50 {r['p50_ms']} ms p99 {r['p99_ms']} ms  errors {r['errors']}")
        for name in specs:
            if pm.procs and pids[name] and os.path.exists(f"/proc/{pids[name]}"):
                results["targets"][name]["rss_after_kb"] = rss_kb(pids[name])
    finally:
        pm.stop_all()
        shutil.rmtree(tmp, ignore_errors=True)

    # summaries and ratios to HAProxy
    summary = {}
    for sc in SCENARIOS:
        for name in results["targets"]:
            runs = [r for r in results["runs"] if r["target"] == name and r["scenario"] == sc]
            if not runs:
                continue
            summary.setdefault(sc, {})[name] = {k: summarize([r.get(k) for r in runs]) for k in
                                                ("rps", "cpu_us_per_req", "p50_ms", "p90_ms", "p99_ms", "rss_load_kb",
                                                 "ctx_switches_per_req", "migrations_per_req", "syscalls_per_req", "threads")}
            summary[sc][name]["errors"] = sum(r["errors"] for r in runs)
        ha = summary.get(sc, {}).get("haproxy")
        for name, s in summary.get(sc, {}).items():
            if ha:
                s["cpu_ratio_to_haproxy"] = s["cpu_us_per_req"]["median"] / ha["cpu_us_per_req"]["median"]
                s["rps_ratio_to_haproxy"] = s["rps"]["median"] / ha["rps"]["median"]
    results["summary"] = summary
    results["finished"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")

    stamp = datetime.datetime.now().strftime("%Y-%m-%d-%H%M")
    base = os.path.join(BENCH, "results", f"{stamp}-{info['host']}-{results['mode']}{'-pinned' if args.pin else ''}"
                                          f"{'-perfstat' if args.perf_stat else ''}{args.tag}")
    with open(base + ".json", "w") as f:
        json.dump(results, f, indent=2)
    md = render_md(results)
    with open(base + ".md", "w") as f:
        f.write(md)
    print(md)
    log(f"wrote {base}.json and {base}.md")


def fmt(s, digits=1, scale=1.0):
    if not s:
        return "–"
    return f"{s['median'] * scale:.{digits}f} ({s['min'] * scale:.{digits}f}–{s['max'] * scale:.{digits}f})"


def render_md(res):
    m = res["machine"]
    out = [f"# Sidecar proxy benchmark, {res['mode']} mode, {res['started']}", "",
           f"Machine: `{m['host']}`, nproc={m['nproc']}, CPU `{m['cpu_model']}`, kernel `{m['kernel']}`, RAM {m['mem_total']}.  ",
           f"Peers: {m['versions']['haproxy']}; {m['versions']['nginx']}; {m['versions']['wrk']}; Envoy: {res['envoy']}.  ",
           f"Load: `{res['wrk']}` per run (closed loop), {res['reps']} repetitions interleaved across targets; "
           f"pinning: {res['pinning']}. Backend: nginx, 1 worker, /hello = 13 B, /1k = 1024 B.  ",
           "CPU µs/req = (utime+stime of the proxy process over the wrk window) ÷ requests completed (the primary figure; "
           "for 'direct' it is the backend nginx). Cells: median (min–max). Latency is wrk's at saturation on 2 shared cores: "
           "context, not an anchor.", ""]
    loads = [r.get("loadavg1_end") for r in res["runs"] if r.get("loadavg1_end") is not None]
    if loads:
        out += [f"1-minute load average at the end of the runs: {min(loads):.1f}–{max(loads):.1f} "
                f"(wrk + backend + proxy account for ~2; more means other processes shared the 2 cores during the run"
                f"{' — THIS RUN WAS CONTENDED: compare ratios within the run, not absolutes' if max(loads) > 4 else ''}).", ""]
    main_targets = [t for t in res["targets"] if not t.startswith("sidecar-")]
    for sc, title in (("hello", "/hello (13 B)"), ("1k", "/1k (1 KiB)")):
        s = res["summary"].get(sc, {})
        out += [f"## {title}", "",
                "| target | req/s | CPU µs/req | CPU ×HAProxy | req/s ×HAProxy | p50 ms | p90 ms | p99 ms | RSS load MB | errors |",
                "|---|---|---|---|---|---|---|---|---|---|"]
        for t in main_targets + [t for t in res["targets"] if t.startswith("sidecar-")]:
            if t not in s:
                continue
            x = s[t]
            out.append(f"| {res['targets'][t]['label']} | {fmt(x['rps'], 0)} | {fmt(x['cpu_us_per_req'], 2)} | "
                       f"{x.get('cpu_ratio_to_haproxy', float('nan')):.2f} | {x.get('rps_ratio_to_haproxy', float('nan')):.2f} | "
                       f"{fmt(x['p50_ms'], 2)} | {fmt(x['p90_ms'], 2)} | {fmt(x['p99_ms'], 2)} | {fmt(x['rss_load_kb'], 1, 1 / 1024)} | {x['errors']} |")
        out.append("")
    if any(x.get("syscalls_per_req") for sc in res["summary"].values() for x in sc.values()):
        out += ["## Scheduler and syscall counts per request (perf stat -p, all threads of the process)", "",
                "| scenario | target | context switches/req | CPU migrations/req | syscalls/req | threads |", "|---|---|---|---|---|---|"]
        for sc, per in res["summary"].items():
            for t, x in per.items():
                out.append(f"| {sc} | {res['targets'][t]['label']} | {fmt(x['ctx_switches_per_req'], 3)} | "
                           f"{fmt(x['migrations_per_req'], 3)} | {fmt(x['syscalls_per_req'], 2)} | {fmt(x['threads'], 0)} |")
        out.append("")
    out += ["## Footprint and start-up", "", "| target | binary bytes | RSS idle MB | RSS after runs MB | exec → first proxied 200, ms |",
            "|---|---|---|---|---|"]
    for t in res["targets"]:
        x = res["targets"][t]
        out.append(f"| {x['label']} | {x.get('binary_bytes', '–')} | {x['rss_idle_kb'] / 1024:.1f} | "
                   f"{x.get('rss_after_kb', 0) / 1024:.1f} | {fmt(x.get('startup_ms'), 1)} |")
    out += ["", "Binary bytes: Sidecar is one self-contained native-AOT file; haproxy/nginx are dynamically linked "
            "(shared libraries not counted). Start-up: fresh process, polled with a raw HTTP GET every ~2 ms.", ""]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    main()
