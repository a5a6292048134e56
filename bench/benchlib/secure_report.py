"""The TLS/mTLS and HTTP/2 scenarios: what they are, their summaries (median, spread, ratio to HAProxy of the same
run, TLS overhead over the same process's plaintext figure), the goals of issues 3/4/5, and the markdown section."""
from .report import fmt, fr, label, na_rows, ratio, summarize

# name: what one request/unit is, the tool and its shape. "listener" names the proxy listener the load goes to
# (see secure.py); direct = straight to the backend, where that exists.
SECURE_SCENARIOS = {
    "plain-hello": {"title": "plaintext keep-alive, 13 B, same process as the TLS listener (baseline of tls-hello)",
                    "tool": "wrk", "listener": "plain", "scheme": "http", "conns": 50, "close": False},
    "tls-hello": {"title": "TLS termination, keep-alive, 13 B (server certificate only; wrk cannot present one)",
                  "tool": "wrk", "listener": "tls", "scheme": "https", "conns": 50, "close": False},
    "tls-handshake": {"title": "TLS termination, a full handshake per request (`Connection: close`, no resumption)",
                      "tool": "wrk", "listener": "tls", "scheme": "https", "conns": 16, "close": True},
    "mtls-origination": {"title": "plaintext in, mutual TLS to the backend (nginx `ssl_verify_client on`), keep-alive, 13 B",
                         "tool": "wrk", "listener": "orig", "scheme": "http", "conns": 50, "close": False},
    "h2-multiplexed": {"title": "HTTP/2 multiplexed, h2c prior knowledge (`h2load -c4 -m10`), 13 B",
                       "tool": "h2load", "listener": "h2", "clients": 4, "streams": 10},
    "mtls-tcp-stream": {"title": "one TCP stream (iperf3) through two proxies of the same kind joined by mutual TLS",
                        "tool": "iperf3"},
}
REQUEST_METRICS = ("rps", "cpu_us_per_req", "p50_ms", "p99_ms")
STREAM_METRICS = ("gbit_s", "cpu_s_per_gb", "cpu_s_per_gb_client", "cpu_s_per_gb_server")
STREAM_GOAL_GBIT = 8.0
H2_GOAL_RATIO = 0.8


def paired_overhead(runs, target):
    """tls-hello minus plain-hello CPU µs/request of one target, paired by repetition (the two windows run back to
    back in the same process, so the difference cancels most of what else the machine was doing)."""
    by_rep = {}
    for r in runs:
        if r["target"] == target and r["scenario"] in ("plain-hello", "tls-hello") and r.get("cpu_us_per_req") is not None:
            by_rep.setdefault(r["rep"], {})[r["scenario"]] = r["cpu_us_per_req"]
    return [p["tls-hello"] - p["plain-hello"] for _, p in sorted(by_rep.items()) if len(p) == 2]


def summarize_secure(results):
    runs = results.get("secure_runs", [])
    out = {}
    for r in runs:
        out.setdefault(r["scenario"], {}).setdefault(r["target"], []).append(r)
    s = {}
    for sc, per in out.items():
        metrics = STREAM_METRICS if SECURE_SCENARIOS[sc]["tool"] == "iperf3" else REQUEST_METRICS
        for t, rs in per.items():
            x = {m: summarize([r.get(m) for r in rs]) for m in metrics}
            x["errors"] = sum(r.get("errors", 0) for r in rs)
            s.setdefault(sc, {})[t] = x
        ha, direct = s[sc].get("haproxy"), s[sc].get("direct")
        for x in s[sc].values():
            key = "gbit_s" if "gbit_s" in x else "cpu_us_per_req"
            x["ratio_to_haproxy"] = ratio(x, ha, key)
            if "gbit_s" in x:
                x["cpu_ratio_to_haproxy"] = ratio(x, ha, "cpu_s_per_gb")
                x["ratio_to_direct"] = ratio(x, direct, "gbit_s")
    if "tls-hello" in s:
        for t, x in s["tls-hello"].items():
            x["overhead_us"] = summarize(paired_overhead(runs, t))
        ha = s["tls-hello"].get("haproxy")
        for x in s["tls-hello"].values():
            x["overhead_ratio_to_haproxy"] = ratio(x, ha, "overhead_us")
    return {"scenarios": s, "goals": goals(s)}


def _median(s, sc, t, key):
    try:
        return s[sc][t][key]["median"]
    except (KeyError, TypeError):
        return None


def goals(s):
    """Each goal with our figure, HAProxy's and a verdict (None when a figure is missing: never a guess); goals of
    scenarios that were not run at all (--tls-scenarios) are left out."""
    out = []

    def versus(name, sc, key, unit):
        ours, theirs = _median(s, sc, "sidecar", key), _median(s, sc, "haproxy", key)
        met = None if ours is None or theirs is None else ours <= theirs
        out.append({"goal": name, "sidecar": ours, "haproxy": theirs, "met": met,
                    "text": f"Sidecar {fr(ours)} {unit} vs HAProxy {fr(theirs)} {unit}"})

    versus("TLS keep-alive overhead over plaintext ≤ HAProxy's (issue 5)", "tls-hello", "overhead_us", "µs/req")
    versus("CPU per full TLS handshake ≤ HAProxy's (issue 5)", "tls-handshake", "cpu_us_per_req", "µs/handshake")
    gb = _median(s, "mtls-tcp-stream", "sidecar", "gbit_s")
    direct = _median(s, "mtls-tcp-stream", "direct", "gbit_s")
    out.append({"goal": f"one TCP stream through mTLS ≥ {STREAM_GOAL_GBIT:.0f} Gb/s (issue 5)", "sidecar": gb,
                "haproxy": _median(s, "mtls-tcp-stream", "haproxy", "gbit_s"),
                "met": None if gb is None else gb >= STREAM_GOAL_GBIT,
                "text": f"Sidecar pair {fr(gb)} Gb/s = {fr(gb / STREAM_GOAL_GBIT if gb else None)}× the goal"
                        f"{'' if not (gb and direct) else f', {gb / direct:.2f}× direct plaintext loopback ({direct:.1f} Gb/s)'}"})
    h2 = s.get("h2-multiplexed", {}).get("sidecar", {}).get("ratio_to_haproxy")
    out.append({"goal": f"HTTP/2 multiplexed CPU/request ≤ {H2_GOAL_RATIO}× HAProxy (issue 4)", "sidecar": h2, "haproxy": 1.0 if h2 else None,
                "met": None if h2 is None else h2 <= H2_GOAL_RATIO, "text": f"Sidecar {fr(h2)}× HAProxy"})
    run = [sc in s for sc in ("tls-hello", "tls-handshake", "mtls-tcp-stream", "h2-multiplexed")]
    return [g for g, ran in zip(out, run) if ran]


def verdict(met):
    return "not measured" if met is None else ("**met**" if met else "**missed**")


def render_secure_md(res):
    sec = res.get("summary", {}).get("secure")
    if not sec or not (sec["scenarios"] or res.get("not_available_secure")):
        return []
    s = sec["scenarios"]
    order = list(res["targets"])
    info = res.get("secure", {})
    out = ["## TLS, mutual TLS and HTTP/2", "",
           "Certificates: Istio's test PKI (`mountedcerts-server` / `mountedcerts-client`, RSA 2048, one root, SPIFFE URI + "
           "DNS SANs). Each proxy runs ONE process holding a plaintext, a TLS, an mTLS-origination and an h2c listener "
           "(configs `bench/peers/*-tls.*`); the stream scenario starts two more processes per kind (`*-mtls-client`, "
           "`*-mtls-server`). CPU µs/req = utime+stime of the proxy process(es) over the window ÷ completed requests. "
           "TLS overhead = tls-hello − plain-hello of the same process, paired by repetition.", ""]
    loads = [r["loadavg1_end"] for r in res.get("secure_runs", []) if r.get("loadavg1_end") is not None]
    if loads:
        out += [f"1-minute load average at the end of these runs: {min(loads):.1f}–{max(loads):.1f} on {res['machine']['nproc']} "
                f"cores{' — CONTENDED: compare within the run (ratios, paired overheads), not absolutes' if max(loads) > 4 else ''}.", ""]
    params = info.get("tls_params", {})
    if params:
        out += ["Negotiated with `openssl s_client` against each TLS listener: " +
                "; ".join(f"{label(res, t)}: {p}" for t, p in params.items()) + ".", ""]
    out += ["### Goals", ""]
    for g in sec["goals"]:
        out.append(f"* {g['goal']}: {verdict(g['met'])} — {g['text']}")
    out.append("")
    notes = info.get("notes", {})
    for sc, spec in SECURE_SCENARIOS.items():
        per = s.get(sc, {})
        if not per and sc not in res.get("not_available_secure", {}):
            continue
        out += [f"### {sc}: {spec['title']}", ""]
        if spec["tool"] == "iperf3":
            out += ["| target | Gb/s | ×direct | ×HAProxy | CPU s/GB (both) | client side | server side | CPU ×HAProxy |",
                    "|---|---|---|---|---|---|---|---|"]
            for t in order:
                if t in per:
                    x = per[t]
                    note = notes.get(sc, {}).get(t)
                    out.append(f"| {label(res, t)}{f' ({note})' if note else ''} | {fmt(x['gbit_s'], 2)} | {fr(x['ratio_to_direct'])} | {fr(x['ratio_to_haproxy'])} | "
                               f"{fmt(x['cpu_s_per_gb'], 3)} | {fmt(x['cpu_s_per_gb_client'], 3)} | {fmt(x['cpu_s_per_gb_server'], 3)} | "
                               f"{fr(x['cpu_ratio_to_haproxy'])} |")
            out += na_rows_secure(res, sc, 8)
            out += ["", "`direct` = iperf3 straight to its server, plaintext (the loopback floor); its CPU is the iperf3 server's.", ""]
            continue
        tls_extra = sc == "tls-hello"
        head = "| target | req/s | CPU µs/req | CPU ×HAProxy |" + (" TLS overhead µs/req | overhead ×HAProxy |" if tls_extra else "") + \
               " p50 ms | p99 ms | errors |"
        out += [head, "|" + "---|" * (head.count("|") - 1)]
        for t in order:
            if t in per:
                x = per[t]
                extra = f" {fmt(x.get('overhead_us'), 2)} | {fr(x.get('overhead_ratio_to_haproxy'))} |" if tls_extra else ""
                note = notes.get(sc, {}).get(t)
                out.append(f"| {label(res, t)}{f' ({note})' if note else ''} | {fmt(x['rps'], 0)} | {fmt(x['cpu_us_per_req'], 2)} | "
                           f"{fr(x['ratio_to_haproxy'])} |{extra} {fmt(x.get('p50_ms'), 2)} | {fmt(x.get('p99_ms'), 2)} | {x['errors']} |")
        out += na_rows_secure(res, sc, head.count("|") - 1) + [""]
    return out


def na_rows_secure(res, scenario, columns):
    return na_rows({"targets": res["targets"], "not_available": res.get("not_available_secure", {})}, scenario, columns)
