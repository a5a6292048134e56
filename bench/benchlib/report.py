"""Summaries (median, min-max, ratio to HAProxy of the same run) and the markdown report."""
import statistics

WRK_SCENARIOS = {  # name: (path, title, connections, Connection: close)
    "hello": ("/hello", "keep-alive, 13 B body", 50, False),
    "1k": ("/1k", "keep-alive, 1 KiB body", 50, False),
    "1m": ("/1m", "keep-alive, 1 MiB body", 8, False),
    "close": ("/hello", "new connection per request (Connection: close), 13 B", 50, True),
}
WRK_METRICS = ("rps", "cpu_us_per_req", "p50_ms", "p90_ms", "p99_ms", "rss_load_kb")
LATENCY_METRICS = ("achieved_rps", "p50_us", "p90_us", "p99_us", "p999_us", "max_us", "cpu_us_per_req", "send_lag_p99_us",
                   "loadgen_cpu_percent")


def summarize(values):
    vals = [v for v in values if v is not None]
    if not vals:
        return None
    return {"median": statistics.median(vals), "min": min(vals), "max": max(vals), "n": len(vals)}


def ratio(summary, reference, key):
    try:
        return summary[key]["median"] / reference[key]["median"]
    except (KeyError, TypeError, ZeroDivisionError):
        return None


def group(runs, key, metrics):
    """{group value: {target: {metric: summary}}} plus error totals."""
    out = {}
    for r in runs:
        out.setdefault(str(r[key]), {}).setdefault(r["target"], []).append(r)
    res = {}
    for g, per in out.items():
        for t, rs in per.items():
            s = {m: summarize([r.get(m) for r in rs]) for m in metrics}
            s["errors"] = sum(r.get("errors", 0) for r in rs)
            res.setdefault(g, {})[t] = s
    return res


def summarize_all(results):
    s = {"wrk": group(results["runs"], "scenario", WRK_METRICS),
         "latency": group(results["latency_runs"], "rate", LATENCY_METRICS),
         "tcp": group([dict(r, all="tcp") for r in results["tcp_runs"]], "all", ("gbit_s", "cpu_s_per_gb")).get("tcp", {}),
         "idle": group([dict(r, all="idle") for r in results["idle_runs"]], "all",
                       ("bytes_per_conn", "rss_before_kb", "rss_with_idle_kb", "alive")).get("idle", {})}
    for sc in s["wrk"].values():
        ha = sc.get("haproxy")
        for x in sc.values():
            x["cpu_ratio_to_haproxy"] = ratio(x, ha, "cpu_us_per_req")
            x["rps_ratio_to_haproxy"] = ratio(x, ha, "rps")
    for rate in s["latency"].values():
        ha, direct = rate.get("haproxy"), rate.get("direct")
        for x in rate.values():
            x["p99_ratio_to_haproxy"] = ratio(x, ha, "p99_us")
            for q in ("p50_us", "p90_us", "p99_us"):
                if direct and x.get(q) and direct.get(q):
                    x[f"added_{q}"] = x[q]["median"] - direct[q]["median"]
    ha = s["tcp"].get("haproxy")
    for x in s["tcp"].values():
        x["gbit_ratio_to_haproxy"] = ratio(x, ha, "gbit_s")
        x["cpu_ratio_to_haproxy"] = ratio(x, ha, "cpu_s_per_gb")
    ha = s["idle"].get("haproxy")
    for x in s["idle"].values():
        x["ratio_to_haproxy"] = ratio(x, ha, "bytes_per_conn")
    return s


def fmt(s, digits=1, scale=1.0):
    if not s:
        return "–"
    if s["n"] == 1:
        return f"{s['median'] * scale:.{digits}f}"
    return f"{s['median'] * scale:.{digits}f} ({s['min'] * scale:.{digits}f}–{s['max'] * scale:.{digits}f})"


def fr(v, digits=2):
    return "–" if v is None else f"{v:.{digits}f}"


def label(res, t):
    return res["targets"].get(t, {}).get("label", t)


def na_rows(res, scenario, columns):
    """Rows for targets that have no figure in this scenario, with the reason (never a made-up number)."""
    rows = []
    for t, why in res.get("not_available", {}).get(scenario, {}).items():
        rows.append(f"| {label(res, t)} | not available: {why} |" + " |" * (columns - 2))
    return rows


def render_md(res):
    m = res["machine"]
    out = [f"# Sidecar proxy benchmark, {res['mode']} mode, {res['started']}", "",
           f"Machine: `{m['host']}`, nproc={m['nproc']}, CPU `{m['cpu_model']}`, kernel `{m['kernel']}`, RAM {m['mem_total']}.  ",
           f"Peers: {m['versions'].get('haproxy')}; {m['versions'].get('nginx')}; YARP 2.3.0 ({res.get('yarp', '–')}); "
           f"Envoy: {res['envoy']}; {m['versions'].get('wrk')}; {m['versions'].get('iperf3')}.  ",
           f"Repetitions: {res['reps']} (interleaved across targets); cells are median (min–max) when n > 1. "
           f"Pinning: {res['pinning']}.  ",
           "Backend: nginx, 1 worker, `/hello` = 13 B, `/1k` = 1 KiB, `/1m` = 1 MiB. Every proxy: one worker/thread where it has "
           "such a setting, keep-alive to the backend, no access log (configs in `bench/peers/`).", ""]
    if res.get("note"):
        out += [f"**{res['note']}**", ""]
    loads = [r.get("loadavg1_end") for r in res["runs"] if r.get("loadavg1_end") is not None]
    if loads:
        out += [f"1-minute load average at the end of the wrk runs: {min(loads):.1f}–{max(loads):.1f} (load generator + backend + "
                f"proxy account for ~2 on this 2-core box; more means other processes shared the cores"
                f"{' — CONTENDED RUN: compare ratios within the run, not absolutes' if max(loads) > 4 else ''}).", ""]
    s = res["summary"]
    order = list(res["targets"])
    skipped = set(res.get("skipped_parts", ()))
    if "wrk" not in skipped:
        out += wrk_section(res, s, order)
    if "latency" not in skipped:
        out += latency_section(res, s, order)
    if "tcp" not in skipped:
        out += tcp_section(res, s, order)
    if "idle" not in skipped:
        out += idle_section(res, s, order)
    from .secure_report import render_secure_md  # noqa: PLC0415 (secure_report builds on this module's helpers)
    out += render_secure_md(res)
    out += footprint_section(res, order)
    if res.get("charts"):
        out += ["## Charts", ""] + [f"![{c}]({c})" for c in res["charts"]] + [""]
    if res.get("failures"):
        out += ["## Skipped (failed to start or to measure)", ""] + [f"* {f}" for f in res["failures"]] + [""]
    return "\n".join(out) + "\n"


def wrk_section(res, s, order):
    out = ["## CPU per request (closed loop, wrk -t1)", "",
            "CPU µs/req = (utime+stime of the proxy process over the wrk window) ÷ requests completed: the primary "
            "figure (for `direct` it is the backend nginx's). wrk latency is at saturation: context only.", ""]
    for sc, (path, title, conns, close) in WRK_SCENARIOS.items():
        per = s["wrk"].get(sc, {})
        header = ' -H "Connection: close"' if close else ""
        out += [f"### {sc}: {title} (`wrk -c{conns}{header}`, {path})", "",
                "| target | req/s | CPU µs/req | CPU ×HAProxy | req/s ×HAProxy | p50 ms | p99 ms | RSS load MB | errors |",
                "|---|---|---|---|---|---|---|---|---|"]
        for t in order:
            if t in per:
                x = per[t]
                out.append(f"| {label(res, t)} | {fmt(x['rps'], 0)} | {fmt(x['cpu_us_per_req'], 2)} | {fr(x['cpu_ratio_to_haproxy'])} | "
                           f"{fr(x['rps_ratio_to_haproxy'])} | {fmt(x['p50_ms'], 2)} | {fmt(x['p99_ms'], 2)} | "
                           f"{fmt(x['rss_load_kb'], 1, 1 / 1024)} | {x['errors']} |")
        out += na_rows(res, sc, 9) + [""]
    return out


def latency_section(res, s, order):
    out = ["## Latency at a fixed rate (open loop, `bench/LoadGen`)", "",
            "Requests sent on a fixed schedule over keep-alive connections (one in flight per connection), latency measured "
            "from the INTENDED send time (coordinated-omission corrected), HdrHistogram, µs. Body: /1k. 'added p50/p99' = "
            "target minus direct-to-backend in the same run. CPU µs/req of the proxy at that rate. Send lag p99 = how late "
            "the generator itself sent (scheduler wake-up + queueing), which bounds what the figures can resolve.", ""]
    for rate, per in sorted(s["latency"].items(), key=lambda kv: float(kv[0])):
        conns = next((r["conns"] for r in res["latency_runs"] if str(r["rate"]) == rate), "?")
        out += [f"### {rate} req/s, {conns} connections", "",
                "| target | achieved req/s | p50 µs | p90 µs | p99 µs | p99.9 µs | max µs | added p50 | added p99 | p99 ×HAProxy | "
                "CPU µs/req | send lag p99 µs | errors |", "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for t in order:
            if t in per:
                x = per[t]
                out.append(f"| {label(res, t)} | {fmt(x['achieved_rps'], 0)} | {fmt(x['p50_us'], 0)} | {fmt(x['p90_us'], 0)} | "
                           f"{fmt(x['p99_us'], 0)} | {fmt(x['p999_us'], 0)} | {fmt(x['max_us'], 0)} | {fr(x.get('added_p50_us'), 0)} | "
                           f"{fr(x.get('added_p99_us'), 0)} | {fr(x['p99_ratio_to_haproxy'])} | {fmt(x['cpu_us_per_req'], 2)} | "
                           f"{fmt(x['send_lag_p99_us'], 0)} | {x['errors']} |")
        out += na_rows(res, "latency", 13) + [""]

    chk = res.get("loadgen_check")
    if chk:
        out += ["### Generator check against wrk (direct to backend, /1k, 1 connection)", "",
                "| tool | mode | req/s | p50 µs | p90 µs | p99 µs |", "|---|---|---|---|---|---|",
                f"| wrk -t1 -c1 | closed loop, as fast as it can | {chk['wrk']['rps']:.0f} | {chk['wrk']['p50_ms'] * 1000:.0f} | "
                f"{chk['wrk']['p90_ms'] * 1000:.0f} | {chk['wrk']['p99_ms'] * 1000:.0f} |",
                f"| loadgen | open loop, {chk['loadgen']['rate']} req/s | {chk['loadgen']['achieved_rps']:.0f} | "
                f"{chk['loadgen']['p50_us']} | {chk['loadgen']['p90_us']} | {chk['loadgen']['p99_us']} |", "",
                "At a low rate nothing queues, so both should see the backend's service time; the generator adds its own "
                "wake-up lag (send lag above).", ""]
    return out


def tcp_section(res, s, order):
    out = ["## One TCP stream (iperf3, tcp_proxy / mode tcp / stream)", "",
            "| target | Gb/s | Gb/s ×HAProxy | proxy CPU s per GB | CPU ×HAProxy |", "|---|---|---|---|---|"]
    for t in order:
        if t in s["tcp"]:
            x = s["tcp"][t]
            out.append(f"| {label(res, t)} | {fmt(x['gbit_s'], 2)} | {fr(x['gbit_ratio_to_haproxy'])} | {fmt(x['cpu_s_per_gb'], 3)} | "
                       f"{fr(x['cpu_ratio_to_haproxy'])} |")
    out += na_rows(res, "tcp", 5) + ["", "`direct` = iperf3 client straight to the iperf3 server (loopback floor); its CPU column "
                                     "is the iperf3 server's.", ""]
    return out


def idle_section(res, s, order):
    out = [f"## {res.get('idle_count', 10000):,} idle connections held open", "",
            "Plain TCP connections that send nothing; bytes per connection = (RSS with them open − RSS before) ÷ the "
            "number still open after 1 s. The count is capped by the descriptor hard limit (HAProxy needs two per "
            "connection): 10,000 where the limit allows.", "",
            "| target | bytes per idle connection | ×HAProxy | RSS before MB | RSS with idle MB | still open |", "|---|---|---|---|---|---|"]
    for t in order:
        if t in s["idle"]:
            x = s["idle"][t]
            out.append(f"| {label(res, t)} | {fmt(x['bytes_per_conn'], 0)} | {fr(x['ratio_to_haproxy'])} | "
                       f"{fmt(x['rss_before_kb'], 1, 1 / 1024)} | {fmt(x['rss_with_idle_kb'], 1, 1 / 1024)} | {fmt(x['alive'], 0)} |")
    out += na_rows(res, "idle", 6) + [""]
    return out


def footprint_section(res, order):
    out = ["## Footprint and start-up", "", "| target | binary bytes | RSS idle MB | RSS after load MB | exec → first proxied 200, ms |",
            "|---|---|---|---|---|"]
    for t in order:
        x = res["targets"][t]
        if "rss_idle_kb" not in x:
            out.append(f"| {x['label']} | not measured (not available or failed to start: see below) | | | |")
            continue
        out.append(f"| {x['label']} | {x.get('binary_bytes', '–')} | {x.get('rss_idle_kb', 0) / 1024:.1f} | "
                   f"{x.get('rss_after_kb', 0) / 1024:.1f} | {fmt(x.get('startup_ms'), 1)} |")
    out += ["", "Binary bytes: Sidecar is one self-contained native-AOT file; haproxy/nginx are dynamically linked "
            "(shared libraries not counted); YARP is framework-dependent (its own files, runtime not counted). "
            "Start-up: fresh process, polled with a raw HTTP GET every ~2 ms.", ""]
    return out
