"""Processes under test and what /proc says about them."""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


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


def render(template_path, out_path, **values):
    """Copies a peer config, replacing @NAME@ placeholders; refuses to leave one unfilled."""
    with open(template_path) as f:
        text = f.read()
    for k, v in values.items():
        text = text.replace(f"@{k}@", str(v))
    left = re.findall(r"@([A-Z_]+)@", text)
    if left:
        raise ValueError(f"{template_path}: no value for {', '.join(sorted(set(left)))}")
    with open(out_path, "w") as f:
        f.write(text)
    return out_path


def parse_stat_cpu_ticks(stat_text):
    """utime + stime (fields 14 and 15 of /proc/<pid>/stat, proc(5)); the command name in field 2 may
    contain spaces and parentheses, so fields are counted from the last ')'."""
    fields = stat_text[stat_text.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12])


def cpu_ticks(pid):
    """utime+stime ticks of one process, or the sum over a list of them (a chain of proxies)."""
    if isinstance(pid, (list, tuple)):
        return sum(cpu_ticks(p) for p in pid)
    with open(f"/proc/{pid}/stat") as f:
        return parse_stat_cpu_ticks(f.read())


def cpu_us_per_unit(ticks_before, ticks_after, units):
    """CPU microseconds per request (or per byte, ...) from two tick readings; None without units."""
    if not units:
        return None
    return (ticks_after - ticks_before) / CLK_TCK * 1e6 / units


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


def wait_port(port, deadline_s, proc=None):
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return True
        except OSError:
            time.sleep(0.02)
    return False


def parse_listening(proc_net_tcp, port):
    """Whether /proc/net/tcp text has a socket in LISTEN state (0A) on local `port` (any address)."""
    for line in proc_net_tcp.splitlines()[1:]:
        f = line.split()
        if len(f) > 3 and f[3] == "0A" and int(f[1].rsplit(":", 1)[1], 16) == port:
            return True
    return False


def wait_listening(port, deadline_s, proc=None):
    """Like wait_port, without connecting: a probe connection to a chain of TCP proxies would reach the server at the
    end (iperf3 takes it for a test's control connection and refuses the real one while it lingers)."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            return False
        with open("/proc/net/tcp") as f:
            if parse_listening(f.read(), port):
                return True
        time.sleep(0.02)
    return False


def port_free(port):
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


class Procs:
    """Child processes started by the harness; all are stopped (SIGTERM, then SIGKILL) at the end."""

    def __init__(self):
        self.procs = []

    def start(self, argv, env=None, cpu=None, log_path=None, cwd=None):
        if cpu is not None:
            argv = ["taskset", "-c", str(cpu)] + argv
        out = open(log_path, "w") if log_path else subprocess.DEVNULL
        full_env = dict(os.environ)
        if env:
            full_env.update(env)
        p = subprocess.Popen(argv, env=full_env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=cwd)
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
