"""The TLS/mTLS and HTTP/2 part of bench/run.py: one 'front' process per proxy with a plaintext, a TLS, an
mTLS-origination and an h2c listener (bench/peers/*-tls.*), and for the stream scenario a client-side and a
server-side process of the same kind joined by mutual TLS (bench/peers/*-mtls-{client,server}.*).
Scenarios and reporting: secure_report.py."""
import os
import subprocess
import time

from .measure import run_h2load, run_iperf, run_wrk
from .procs import cpu_ticks, log, port_free, render, wait_200, wait_listening, wait_port, which
from .secure_report import SECURE_SCENARIOS

PKI_DIR = os.path.join("..", "shared", "conformance", "istio", "certs", "tests-testdata-certs")  # from the repo root
BACKEND_TLS_PORT = 18181   # backend nginx: HTTPS requiring a client certificate (mtls-origination upstream)
BACKEND_H2C_PORT = 18182   # backend nginx: h2c prior knowledge (h2-multiplexed upstream)
SLOTS = {"sidecar": 1, "haproxy": 2, "nginx": 3, "yarp": 4}
LISTENERS = {"plain": 0, "tls": 10, "orig": 20, "h2": 30, "admin": 40, "stream-client": 50, "stream-server": 60,
             "stream-client-admin": 70, "stream-server-admin": 80}
# what each proxy cannot do here, and why (reported as "not available", never as a figure)
UNSUPPORTED = {
    "yarp": {"mtls-tcp-stream": "YARP proxies HTTP only (no TCP proxy)"},
}
NOTES = {"h2-multiplexed": {"nginx": "h2c front, HTTP/1.1 upstream: nginx cannot proxy HTTP/2 upstream",
                            "yarp": "h2c front, HTTP/1.1 upstream (the peer's one cluster)",
                            "sidecar": "h2 both sides", "haproxy": "h2 both sides", "direct": "h2load → nginx h2c"},
         "plain-hello": {"direct": "wrk → backend nginx"},
         "mtls-tcp-stream": {"direct": "iperf3 → iperf3, plaintext, no proxy"}}
STREAM_MODULE = "/usr/lib/nginx/modules/ngx_stream_module.so"


def port(target, listener):
    return 18300 + LISTENERS[listener] + SLOTS[target]


def pki_paths(root, tmp):
    """Istio's test PKI (mountedcerts-{server,client}); HAProxy wants chain + key in one file."""
    base = os.path.normpath(os.path.join(root, PKI_DIR))
    p = {}
    for side in ("server", "client"):
        d = os.path.join(base, f"mountedcerts-{side}")
        p[f"{side.upper()}_CERT"] = os.path.join(d, "cert-chain.pem")
        p[f"{side.upper()}_KEY"] = os.path.join(d, "key.pem")
    p["ROOT_CERT"] = os.path.join(base, "mountedcerts-server", "root-cert.pem")
    missing = [f for f in p.values() if not os.path.exists(f)]
    if missing:
        raise FileNotFoundError(f"test PKI not found: {', '.join(missing)}")
    for side in ("SERVER", "CLIENT"):
        pem = os.path.join(tmp, f"{side.lower()}-haproxy.pem")
        with open(pem, "w") as out:
            for f in (p[f"{side}_CERT"], p[f"{side}_KEY"]):
                with open(f) as src:
                    out.write(src.read().rstrip("\n") + "\n")
        p[f"{side}_PEM"] = pem
    return p


def front_argv(ctx, target, values):
    peers, tmp = ctx["peers"], ctx["tmp"]
    v = dict(values, PORT=port(target, "plain"), TLS_PORT=port(target, "tls"), ORIG_PORT=port(target, "orig"),
             H2_PORT=port(target, "h2"), ADMIN_PORT=port(target, "admin"), DIR=tmp)
    if target == "sidecar":
        return [ctx["sidecar"], "proxy", "--config", render(os.path.join(peers, "sidecar-tls.yaml"), os.path.join(tmp, "sidecar-tls.yaml"), **v)]
    if target == "haproxy":
        return [which("haproxy"), "-db", "-f", render(os.path.join(peers, "haproxy-tls.cfg"), os.path.join(tmp, "haproxy-tls.cfg"), **v)]
    if target == "nginx":
        return [which("nginx"), "-c", render(os.path.join(peers, "nginx-tls.conf"), os.path.join(tmp, "nginx-tls.conf"), **v),
                "-p", tmp, "-e", os.path.join(tmp, "nginx-tls-error.log")]
    # YARP: Kestrel endpoints from the command line (plaintext, HTTPS with the PEM pair, origination, h2c); the one
    # cluster -> backend, plus a route picked by the origination port's Host -> cluster "mtls" (client certificate and
    # mesh root set by the peer's MeshTls hook, bench/peers/yarp/Program.cs)
    ep, rp = "--Kestrel:Endpoints:", "--ReverseProxy:"
    return [os.path.join(ctx["yarp_dir"], "yarp-peer"),
            f"{ep}Plain:Url=http://127.0.0.1:{v['PORT']}",
            f"{ep}Tls:Url=https://127.0.0.1:{v['TLS_PORT']}", f"{ep}Tls:Protocols=Http1",
            f"{ep}Tls:Certificate:Path={v['SERVER_CERT']}", f"{ep}Tls:Certificate:KeyPath={v['SERVER_KEY']}",
            f"{ep}Orig:Url=http://127.0.0.1:{v['ORIG_PORT']}",
            f"{ep}H2:Url=http://127.0.0.1:{v['H2_PORT']}", f"{ep}H2:Protocols=Http2",
            f"{rp}Clusters:backend:Destinations:d1:Address=http://127.0.0.1:{v['BACKEND_PORT']}/",
            f"{rp}Routes:mtls:ClusterId=mtls", f"{rp}Routes:mtls:Order=-1", f"{rp}Routes:mtls:Match:Path={{**catch-all}}",
            f"{rp}Routes:mtls:Match:Hosts:0=127.0.0.1:{v['ORIG_PORT']}",
            f"{rp}Clusters:mtls:Destinations:d1:Address=https://127.0.0.1:{v['BACKEND_TLS_PORT']}/",
            f"{rp}Clusters:mtls:HttpRequest:Version=1.1", f"{rp}Clusters:mtls:HttpRequest:VersionPolicy=RequestVersionExact",
            "--MeshTls:ClusterId=mtls", f"--MeshTls:CertificatePath={v['CLIENT_CERT']}", f"--MeshTls:KeyPath={v['CLIENT_KEY']}",
            f"--MeshTls:RootPath={v['ROOT_CERT']}", "--MeshTls:ServerName=server.mounted-certs.svc"]


def stream_argvs(ctx, target, values):
    """(client-side argv, server-side argv): plaintext in -> client proxy =mTLS=> server proxy -> iperf3."""
    peers, tmp = ctx["peers"], ctx["tmp"]
    client = dict(values, PORT=port(target, "stream-client"), UPSTREAM_PORT=port(target, "stream-server"),
                  ADMIN_PORT=port(target, "stream-client-admin"), DIR=tmp, STREAM_MODULE=STREAM_MODULE)
    server = dict(values, PORT=port(target, "stream-server"), ADMIN_PORT=port(target, "stream-server-admin"), DIR=tmp,
                  STREAM_MODULE=STREAM_MODULE)
    out = []
    for side, v in (("client", client), ("server", server)):
        if target == "sidecar":
            cfg = render(os.path.join(peers, f"sidecar-mtls-{side}.yaml"), os.path.join(tmp, f"sidecar-mtls-{side}.yaml"), **v)
            out.append([ctx["sidecar"], "proxy", "--config", cfg])
        elif target == "haproxy":
            cfg = render(os.path.join(peers, f"haproxy-mtls-{side}.cfg"), os.path.join(tmp, f"haproxy-mtls-{side}.cfg"), **v)
            out.append([which("haproxy"), "-db", "-f", cfg])
        else:
            cfg = render(os.path.join(peers, f"nginx-mtls-{side}.conf"), os.path.join(tmp, f"nginx-mtls-{side}.conf"), **v)
            out.append([which("nginx"), "-c", cfg, "-p", tmp, "-e", os.path.join(tmp, f"nginx-mtls-{side}-error.log")])
    return out


def tls_params(port_):
    """Protocol and cipher the listener negotiates with a default OpenSSL client (the parity check)."""
    try:
        r = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port_}", "-brief"], input="", capture_output=True,
                           text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"probe failed ({e})"
    text = r.stdout + r.stderr
    fields = {}
    for line in text.splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            fields[k.strip()] = v.strip()
    if "Protocol version" not in fields:
        return "handshake failed: " + " | ".join(text.strip().splitlines()[-2:])
    return (f"{fields['Protocol version']} {fields.get('Ciphersuite', '?')}, key exchange {fields.get('Server Temp Key', '?')}, "
            f"signature {fields.get('Signature type', '?')}")


def plan_targets(ctx, wanted):
    """Proxies that take part, and the not-available rows of those that cannot (with the reason)."""
    na = ctx["results"].setdefault("not_available_secure", {})
    targets = [t for t in ("sidecar", "haproxy", "nginx", "yarp") if ctx["only"] is None or t in ctx["only"]]
    if "yarp" in targets and not os.access(os.path.join(ctx["yarp_dir"], "yarp-peer"), os.X_OK):
        targets.remove("yarp")
        for sc in wanted:
            na.setdefault(sc, {})["yarp"] = f"not built ({ctx['yarp_dir']})"
    for t, scs in UNSUPPORTED.items():
        if t in targets:
            for sc, why in scs.items():
                if sc in wanted:
                    na.setdefault(sc, {})[t] = why
    envoy_why = "no Envoy binary here (set ENVOY_BIN)" if not ctx["envoy_bin"] else "Envoy TLS/h2 configs are not in bench/peers yet"
    for sc in wanted:
        na.setdefault(sc, {})["envoy"] = envoy_why
    return targets


def run_secure(ctx):
    """ctx: results, pm, tmp, peers, root, sidecar, yarp_dir, envoy_bin, only (set or None), reps, quick, duration,
    stream_duration, load_cpu, proxy_cpu, backend_port, backend_pid, iperf_port, iperf_pid (None: no stream scenario),
    measured (run.py's failure-recording wrapper), progress (total -> object with step(text))."""
    results, pm = ctx["results"], ctx["pm"]
    results.setdefault("secure_runs", [])
    results.setdefault("secure", {"tls_params": {}, "notes": NOTES})
    try:
        values = pki_paths(ctx["root"], ctx["tmp"])
    except FileNotFoundError as e:
        results["failures"].append(f"tls scenarios: {e}")
        return
    values.update(BACKEND_PORT=ctx["backend_port"], BACKEND_TLS_PORT=BACKEND_TLS_PORT, BACKEND_H2_PORT=BACKEND_H2C_PORT,
                  IPERF_PORT=ctx["iperf_port"])
    backend = start_backend(ctx, values)
    if backend is None:
        return
    try:
        run_scenarios(ctx, values, backend)
    finally:
        pm.stop(backend)


def start_backend(ctx, values):
    """The TLS (client certificate required) + h2c backend nginx; None (and a failure line) if it cannot start."""
    results, pm = ctx["results"], ctx["pm"]
    for p_ in (BACKEND_TLS_PORT, BACKEND_H2C_PORT):
        if not port_free(p_):
            results["failures"].append(f"tls scenarios: backend port {p_} is in use")
            return None
    cfg = render(os.path.join(ctx["peers"], "backend-tls-nginx.conf"), os.path.join(ctx["tmp"], "backend-tls.conf"), DIR=ctx["tmp"],
                 TLS_PORT=BACKEND_TLS_PORT, H2C_PORT=BACKEND_H2C_PORT, **values)
    p = pm.start([which("nginx"), "-c", cfg, "-p", ctx["tmp"], "-e", os.path.join(ctx["tmp"], "backend-tls-error.log")],
                 cpu=ctx["load_cpu"])
    if not (wait_port(BACKEND_TLS_PORT, 10, p) and wait_port(BACKEND_H2C_PORT, 10, p)):
        results["failures"].append(f"tls scenarios: the TLS/h2c backend nginx did not start (exit {p.poll()})")
        pm.stop(p)
        return None
    return p


def run_scenarios(ctx, values, backend):
    results, pm = ctx["results"], ctx["pm"]
    info = results["secure"]
    wanted = ctx.get("scenarios") or set(SECURE_SCENARIOS)
    if "tls-hello" in wanted:
        wanted = wanted | {"plain-hello"}  # its overhead is over the same process's plaintext figure
    targets = plan_targets(ctx, wanted)
    unsupported = lambda t, sc: sc in UNSUPPORTED.get(t, {})  # noqa: E731
    started = {}
    for t in targets:  # all at once: YARP alone takes seconds to come up
        busy = [p for p in (port(t, "plain"), port(t, "tls"), port(t, "orig"), port(t, "h2")) if not port_free(p)]
        if busy:
            results["failures"].append(f"{t} (tls): port {busy[0]} is in use")
            continue
        started[t] = pm.start(front_argv(ctx, t, values), cpu=ctx["proxy_cpu"], log_path=os.path.join(ctx["tmp"], f"{t}-tls.log"),
                              cwd=ctx["yarp_dir"] if t == "yarp" else None)
    fronts = {}
    for t, p in started.items():
        log_path = os.path.join(ctx["tmp"], f"{t}-tls.log")
        if not wait_200(port(t, "plain"), "/hello", 20, p):
            with open(log_path) as f:
                tail = f.read()[-400:].strip().replace("\n", " | ")
            pm.stop(p)
            results["failures"].append(f"{t} (tls front): did not serve /hello within 20 s (exit {p.poll()}): {tail}")
            continue
        fronts[t] = p
        info["tls_params"][t] = tls_params(port(t, "tls"))
        log(f"tls {t}: {info['tls_params'][t]}")

    req_scenarios = [sc for sc, spec in SECURE_SCENARIOS.items() if spec["tool"] != "iperf3" and sc in wanted]
    # one block per target, so plain-hello and tls-hello of a target always run back to back (their difference is
    # the TLS overhead); the order of the blocks rotates with the repetition
    blocks = [[(t, sc) for sc in req_scenarios if not unsupported(t, sc)] for t in fronts]
    # the floors; quick mode leaves out the plaintext one (the plaintext part of the run measures it already)
    blocks.append([("direct", sc) for sc in ("plain-hello", "h2-multiplexed") if sc in wanted and not (ctx["quick"] and sc == "plain-hello")])
    blocks = [b for b in blocks if b]
    plan = [x for b in blocks for x in b]
    stream_targets = [t for t in ("sidecar", "haproxy", "nginx") if t in targets] if ctx["iperf_pid"] and "mtls-tcp-stream" in wanted else []
    if "nginx" in stream_targets and not os.path.exists(STREAM_MODULE):
        stream_targets.remove("nginx")
        results["not_available_secure"].setdefault("mtls-tcp-stream", {})["nginx"] = f"nginx stream module not installed ({STREAM_MODULE})"
    if "mtls-tcp-stream" not in wanted:
        pass
    elif not ctx["iperf_pid"]:
        results["not_available_secure"].setdefault("mtls-tcp-stream", {})["all"] = "no iperf3 server (iperf3 missing or failed)"
    else:
        stream_targets.append("direct")
    # warm-up (not recorded): every pair in full mode; quick mode only YARP's plaintext and TLS-client paths (its JIT:
    # a cold TLS client path made ~60 requests in its first 2 s; the others are native code already)
    quick_warm = {("yarp", "plain-hello"), ("yarp", "mtls-origination")}
    warm = [(t, sc) for t, sc in plan if t != "direct" and (not ctx["quick"] or (t, sc) in quick_warm)]
    prog = ctx["progress"](max(1, len(warm) + len(plan) * ctx["reps"] + len(stream_targets) * ctx["reps"]))
    pids = {"direct": ctx["backend_pid"], "direct-h2": backend.pid, **{t: p.pid for t, p in fronts.items()}}

    rate_seen = {}  # h2load has a request count, not a window: size it from the warm-up's rate (nginx's h2c front is slow)

    def one(t, sc, window, pid):
        spec = SECURE_SCENARIOS[sc]
        lport = direct_port(sc, ctx) if t == "direct" else port(t, spec["listener"])
        if spec["tool"] == "h2load":
            n = h2load_requests(rate_seen.get(t), window, ctx["quick"])
            r = ctx["measured"](results, f"h2load {t} {sc}", run_h2load, lport, "/hello", n, spec["clients"], spec["streams"],
                                ctx["load_cpu"], pid)
            if r and t not in rate_seen:
                rate_seen[t] = r["rps"]
            return r
        return ctx["measured"](results, f"wrk {t} {sc}", run_wrk, lport, "/hello", window, spec["conns"], ctx["load_cpu"], pid,
                               spec["close"], spec["scheme"])

    for t, sc in warm:
        one(t, sc, 1 if ctx["quick"] else 2, None)
        prog.step(f"warm-up {t} {sc}")
    for rep in range(ctx["reps"]):
        shift = rep % max(1, len(blocks))
        for t, sc in [x for b in blocks[shift:] + blocks[:shift] for x in b]:
            r = one(t, sc, ctx["duration"], pids["direct-h2" if (t, sc) == ("direct", "h2-multiplexed") else t])
            if r:
                r.update({"target": t, "scenario": sc, "rep": rep, "loadavg1_end": loadavg1()})
                results["secure_runs"].append(r)
                prog.step(f"rep{rep} {t:<8} {sc:<16} {r['rps']:>9.0f} req/s {r['cpu_us_per_req'] or 0:8.2f} µs/req errors {r['errors']}")

    for rep in range(ctx["reps"]):
        for t in stream_targets:
            r = stream_once(ctx, t, values)
            if r:
                r.update({"target": t, "scenario": "mtls-tcp-stream", "rep": rep, "loadavg1_end": loadavg1()})
                results["secure_runs"].append(r)
                prog.step(f"rep{rep} {t:<8} mtls-tcp-stream {r['gbit_s']:.2f} Gb/s, {r['cpu_s_per_gb'] or 0:.3f} CPU s/GB")
    for p in fronts.values():
        pm.stop(p)


def loadavg1():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def h2load_requests(rate, window, quick):
    """Requests for one h2load run of about `window` seconds: from a rate seen earlier in this run (the warm-up),
    else a fixed count (10,000 in quick mode, 25,000 per second of window otherwise); at least 2,000."""
    if rate:
        return max(2000, int(rate * window))
    return 10000 if quick else 25000 * window


def direct_port(sc, ctx):
    """The floor: the backend's h2c server for h2-multiplexed, its plaintext one otherwise."""
    return BACKEND_H2C_PORT if sc == "h2-multiplexed" else ctx["backend_port"]


def stream_once(ctx, t, values):
    """One iperf3 window through a fresh client/server pair (direct: straight to the iperf3 server)."""
    results, pm = ctx["results"], ctx["pm"]
    if t == "direct":
        r = ctx["measured"](results, "iperf3 direct (tls)", run_iperf, ctx["iperf_port"], ctx["stream_duration"], ctx["load_cpu"],
                            ctx["iperf_pid"])
        if r:
            r.update(cpu_s_per_gb_client=None, cpu_s_per_gb_server=None)
        return r
    client_argv, server_argv = stream_argvs(ctx, t, values)
    procs = []
    try:
        for side, argv, p_ in (("server", server_argv, port(t, "stream-server")), ("client", client_argv, port(t, "stream-client"))):
            if not port_free(p_):
                raise RuntimeError(f"port {p_} is in use")
            proc = pm.start(argv, cpu=ctx["proxy_cpu"], log_path=os.path.join(ctx["tmp"], f"{t}-mtls-{side}.log"))
            procs.append(proc)
            if not wait_listening(p_, 20, proc):
                raise RuntimeError(f"{side} side did not listen on {p_} (exit {proc.poll()})")
        server_pid, client_pid = procs[0].pid, procs[1].pid
        s0, c0 = cpu_ticks(server_pid), cpu_ticks(client_pid)
        r = run_iperf(port(t, "stream-client"), ctx["stream_duration"], ctx["load_cpu"], [server_pid, client_pid])
        s1, c1 = cpu_ticks(server_pid), cpu_ticks(client_pid)
        gb = r["bytes"] / 1e9
        clk = os.sysconf("SC_CLK_TCK")
        r["cpu_s_per_gb_client"] = (c1 - c0) / clk / gb if gb else None
        r["cpu_s_per_gb_server"] = (s1 - s0) / clk / gb if gb else None
        return r
    except (RuntimeError, OSError, ValueError, subprocess.TimeoutExpired) as e:
        tails = []
        for side in ("server", "client"):
            path = os.path.join(ctx["tmp"], f"{t}-mtls-{side}.log")
            if os.path.exists(path):
                with open(path) as f:
                    tails.append(f"{side}: " + f.read()[-200:].strip().replace("\n", " | "))
        msg = f"mtls-tcp-stream {t}: {str(e).strip()[:300]} {' '.join(tails)}"
        log(f"FAILED {msg}")
        results["failures"].append(msg)
        return None
    finally:
        for proc in procs:
            pm.stop(proc)
        time.sleep(0.2)
