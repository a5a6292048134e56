"""One measurement each: wrk (closed loop, CPU per request), the open-loop generator at a fixed rate,
one iperf3 stream, idle connections held open, start-up."""
import json
import re
import resource
import socket
import subprocess
import threading
import time

from .procs import cpu_ticks, cpu_us_per_unit, rss_kb, wait_200


def parse_latency_ms(token):
    m = re.match(r"([\d.]+)(us|ms|s)$", token)
    if not m:
        return None
    v = float(m.group(1))
    return {"us": v / 1000.0, "ms": v, "s": v * 1000.0}[m.group(2)]


def parse_wrk(out):
    """requests, seconds, p50/p90/p99 (ms) and errors from `wrk --latency` output."""
    m = re.search(r"(\d+) requests in ([\d.]+)(s|ms|m)", out)
    if not m:
        raise ValueError(f"not wrk output: {out[:200]!r}")
    reqs = int(m.group(1))
    secs = float(m.group(2)) * {"s": 1, "ms": 0.001, "m": 60}[m.group(3)]
    res = {"requests": reqs, "seconds": secs, "rps": reqs / secs if secs else 0.0}
    for q in ("50", "90", "99"):
        lm = re.search(rf"^\s+{q}(?:\.000)?%\s+(\S+)", out, re.M)
        res[f"p{q}_ms"] = parse_latency_ms(lm.group(1)) if lm else None
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    res["errors"] = (int(non2xx.group(1)) if non2xx else 0) + (sum(int(x) for x in sock.groups()) if sock else 0)
    return res


class RssSampler:
    """Highest VmRSS of a process, sampled every 200 ms while a measurement runs."""

    def __init__(self, pid):
        self.pid, self.max_kb, self._stop = pid, 0, threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.wait(0.2):
            try:
                self.max_kb = max(self.max_kb, rss_kb(self.pid))
            except OSError:
                return

    def __enter__(self):
        if self.pid:
            self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        if self.pid:
            self._t.join()


def run_wrk(port, path, duration, conns, load_cpu, pid, close=False, scheme="http"):
    """Closed-loop wrk; CPU µs per request of `pid` over the window (the primary figure). scheme https: wrk does
    TLS without a client certificate and without session resumption (each new connection is a full handshake)."""
    argv = ["wrk", "-t1", f"-c{conns}", f"-d{duration}s", "--latency"]
    if close:
        argv += ["-H", "Connection: close"]
    argv.append(f"{scheme}://127.0.0.1:{port}{path}")
    if load_cpu is not None:
        argv = ["taskset", "-c", str(load_cpu)] + argv
    with RssSampler(pid) as rss:
        c0 = cpu_ticks(pid) if pid else 0
        r = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 30)
        c1 = cpu_ticks(pid) if pid else 0
    if r.returncode != 0:
        raise RuntimeError(f"wrk failed (rc={r.returncode}): {r.stdout}\n{r.stderr}")
    res = parse_wrk(r.stdout)
    res["cpu_us_per_req"] = cpu_us_per_unit(c0, c1, res["requests"]) if pid else None
    res["rss_load_kb"] = rss.max_kb
    with open("/proc/loadavg") as f:
        res["loadavg1_end"] = float(f.read().split()[0])
    return res


def run_loadgen(loadgen_argv, port, path, rate, conns, duration, warmup, load_cpu, pid):
    """Open-loop fixed-rate run; latency in µs from intended send time; CPU µs/request of `pid`."""
    argv = [*loadgen_argv, "--url", f"http://127.0.0.1:{port}{path}", "--rate", str(rate),
            "--connections", str(conns), "--duration", str(duration), "--warmup", str(warmup)]
    if load_cpu is not None:
        argv = ["taskset", "-c", str(load_cpu)] + argv
    # CPU is read over the whole generator run (warm-up included) and divided by all requests sent.
    c0 = cpu_ticks(pid) if pid else 0
    r = subprocess.run(argv, capture_output=True, text=True, timeout=duration + warmup + 60)
    c1 = cpu_ticks(pid) if pid else 0
    if r.returncode != 0:
        raise RuntimeError(f"loadgen failed (rc={r.returncode}): {r.stderr.strip()[-500:]}")
    out = json.loads(r.stdout)
    lat = out["latency_us"]
    return {"rate": rate, "conns": conns, "achieved_rps": out["achieved_rps"], "errors": out["errors"],
            "p50_us": lat["p50"], "p90_us": lat["p90"], "p99_us": lat["p99"], "p999_us": lat["p999"], "max_us": lat["max"],
            "send_lag_p99_us": out["send_lag_us"]["p99"], "loadgen_cpu_percent": out["loadgen_cpu_percent"],
            "cpu_us_per_req": cpu_us_per_unit(c0, c1, rate * (duration + warmup)) if pid else None}


def run_iperf(port, duration, load_cpu, pid):
    """One iperf3 TCP stream client -> port (server behind it); Gb/s received and proxy CPU s per GB.
    `pid` may be a list (a chain of proxies): their CPU is summed."""
    argv = ["iperf3", "-c", "127.0.0.1", "-p", str(port), "-t", str(duration), "-J"]
    if load_cpu is not None:
        argv = ["taskset", "-c", str(load_cpu)] + argv
    c0 = cpu_ticks(pid) if pid else 0
    r = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 30)
    c1 = cpu_ticks(pid) if pid else 0
    try:
        out = json.loads(r.stdout)
    except json.JSONDecodeError:
        raise RuntimeError(f"iperf3 failed (rc={r.returncode}): {r.stdout[-300:]} {r.stderr[-300:]}") from None
    if "error" in out:
        raise RuntimeError(f"iperf3: {out['error']}")
    recv = out["end"]["sum_received"]
    gb = recv["bytes"] / 1e9
    return {"gbit_s": recv["bits_per_second"] / 1e9, "bytes": recv["bytes"],
            "cpu_s_per_gb": (cpu_us_per_unit(c0, c1, gb) / 1e6) if pid and gb else None}


def parse_h2load(out):
    """Requests succeeded/failed/errored and req/s from h2load's summary; refuses anything else."""
    fin = re.search(r"^finished in ([\d.]+)(s|ms), ([\d.]+) req/s", out, re.M)
    req = re.search(r"^requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, "
                    r"(\d+) timeout", out, re.M)
    if not fin or not req:
        raise ValueError(f"not h2load output: {out[-300:]!r}")
    total, _, done, ok, failed, _errored, _timeout = (int(x) for x in req.groups())
    secs = float(fin.group(1)) * (0.001 if fin.group(2) == "ms" else 1.0)
    # "errored" and "timeout" are subsets of "failed"; requests never done count too
    status = re.search(r"^status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", out, re.M)
    bad_status = int(status.group(3)) + int(status.group(4)) if status else 0
    return {"requests": ok, "seconds": secs, "rps": float(fin.group(3)),
            "errors": max(failed, bad_status) + (total - done)}


def run_h2load(port, path, requests, clients, streams, load_cpu, pid):
    """h2load over h2c (prior knowledge): CPU µs per succeeded request of `pid` over the run."""
    argv = ["h2load", "-n", str(requests), "-c", str(clients), "-m", str(streams), f"http://127.0.0.1:{port}{path}"]
    if load_cpu is not None:
        argv = ["taskset", "-c", str(load_cpu)] + argv
    c0 = cpu_ticks(pid) if pid else 0
    r = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    c1 = cpu_ticks(pid) if pid else 0
    res = parse_h2load(r.stdout)
    if res["requests"] == 0:
        raise RuntimeError(f"h2load: no request succeeded: {r.stdout[-300:]} {r.stderr[-300:]}")
    res["cpu_us_per_req"] = cpu_us_per_unit(c0, c1, res["requests"]) if pid else None
    return res


def raise_fd_limit(wanted):
    """The 10,000-idle scenario needs ~10k descriptors here and in each proxy (children inherit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= wanted:
        return soft
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(wanted, hard), max(wanted, hard)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def idle_connections(port, count, pid, settle=1.0):
    """Opens `count` TCP connections to `port` that send nothing; RSS per idle connection in bytes =
    (RSS with them open - RSS before) / count. Returns the figures and how many were really open."""
    before = rss_kb(pid)
    socks = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.settimeout(5)
            try:
                s.connect(("127.0.0.1", port))
            except OSError:
                s.close()
                break
            socks.append(s)
        time.sleep(settle)
        # a proxy that closed connections (limit, timeout) would flatter itself: count the survivors
        alive = 0
        for s in socks:
            s.setblocking(False)
            try:
                alive += 1 if s.recv(1, socket.MSG_PEEK) else 0
            except BlockingIOError:
                alive += 1
            except OSError:
                pass
        during = rss_kb(pid)
    finally:
        for s in socks:
            s.close()
    return {"opened": len(socks), "alive": alive, "rss_before_kb": before, "rss_with_idle_kb": during,
            "bytes_per_conn": (during - before) * 1024 / alive if alive else None}


def startup_time(proc_mgr, argv, env, port, path, cpu, cwd=None):
    """exec -> first 200 on `path` through the proxy, in ms (polling every ~2 ms)."""
    t0 = time.monotonic()
    p = proc_mgr.start(argv, env=env, cpu=cpu, cwd=cwd)
    ok = wait_200(port, path, 20, proc=p, interval=0.002)
    dt = (time.monotonic() - t0) * 1000.0
    proc_mgr.stop(p)
    time.sleep(0.2)
    return dt if ok else None
