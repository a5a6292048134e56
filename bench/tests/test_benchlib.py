"""Unit tests of bench/run.py's accounting and reporting: python3 -m unittest discover -s bench/tests"""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchlib.measure import parse_wrk  # noqa: E402
from benchlib.procs import CLK_TCK, cpu_us_per_unit, parse_stat_cpu_ticks, render  # noqa: E402
from benchlib.report import render_md, summarize, summarize_all  # noqa: E402

WRK_OUT = """Running 3s test @ http://127.0.0.1:18111/hello
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     3.21ms    1.02ms  20.00ms   90.00%
  Latency Distribution
     50%    3.00ms
     75%    3.50ms
     90%  812.00us
     99%    1.20s
  45000 requests in 3.00s, 5.00MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:  15000.00
"""


class CpuAccounting(unittest.TestCase):
    def test_utime_and_stime_are_fields_14_and_15_even_when_the_name_has_spaces_and_parens(self):
        stat = "4242 (we ird) (x)) S 1 2 3 4 5 6 7 8 9 10 111 222 13 14 20 0 3 0 100 0 0"
        self.assertEqual(parse_stat_cpu_ticks(stat), 333)

    def test_cpu_per_request_is_the_tick_delta_in_microseconds_over_requests(self):
        self.assertAlmostEqual(cpu_us_per_unit(100, 100 + CLK_TCK, 1_000_000), 1.0)
        self.assertAlmostEqual(cpu_us_per_unit(0, CLK_TCK // 2, 25_000), 20.0)
        self.assertIsNone(cpu_us_per_unit(0, 10, 0))


class WrkParsing(unittest.TestCase):
    def test_requests_rate_percentiles_and_errors(self):
        r = parse_wrk(WRK_OUT)
        self.assertEqual(r["requests"], 45000)
        self.assertAlmostEqual(r["rps"], 15000.0)
        self.assertEqual(r["p50_ms"], 3.0)
        self.assertAlmostEqual(r["p90_ms"], 0.812)
        self.assertEqual(r["p99_ms"], 1200.0)
        self.assertEqual(r["errors"], 7)

    def test_garbage_is_an_error_not_a_zero(self):
        with self.assertRaises(ValueError):
            parse_wrk("unable to connect to 127.0.0.1:1 Connection refused")


class Rendering(unittest.TestCase):
    def test_unfilled_placeholders_are_refused(self):
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            src = os.path.join(d, "t.conf")
            with open(src, "w") as f:
                f.write("listen @PORT@; upstream @BACKEND@;")
            with self.assertRaises(ValueError):
                render(src, os.path.join(d, "o.conf"), PORT=1)
            render(src, os.path.join(d, "o.conf"), PORT=1, BACKEND=2)
            with open(os.path.join(d, "o.conf")) as f:
                self.assertEqual(f.read(), "listen 1; upstream 2;")


class Summaries(unittest.TestCase):
    @staticmethod
    def tiny_result():
        runs = []
        for rep, (s_cpu, h_cpu) in enumerate([(10.0, 20.0), (12.0, 20.0), (11.0, 22.0)]):
            runs.append({"target": "sidecar", "scenario": "hello", "rep": rep, "rps": 1000, "cpu_us_per_req": s_cpu, "errors": 0})
            runs.append({"target": "haproxy", "scenario": "hello", "rep": rep, "rps": 500, "cpu_us_per_req": h_cpu, "errors": 1})
        lat = [{"target": t, "rate": 1000, "conns": 4, "rep": 0, "p50_us": p, "p90_us": p, "p99_us": p * 2, "errors": 0}
               for t, p in (("direct", 100), ("sidecar", 150), ("haproxy", 130))]
        return {"machine": {"host": "h", "nproc": 2, "cpu_model": "c", "kernel": "k", "mem_total": "m",
                            "versions": {"haproxy": "HA-Proxy 2.6", "nginx": "nginx/1.22"}},
                "started": "now", "mode": "quick", "reps": 3, "pinning": "unpinned", "envoy": "not available here",
                "targets": {"direct": {"label": "direct"}, "sidecar": {"label": "Sidecar", "rss_idle_kb": 2048},
                            "haproxy": {"label": "HAProxy", "rss_idle_kb": 4096}, "envoy": {"label": "Envoy"}},
                "runs": runs, "latency_runs": lat,
                "tcp_runs": [{"target": "sidecar", "rep": 0, "gbit_s": 10.0, "cpu_s_per_gb": 0.5},
                             {"target": "haproxy", "rep": 0, "gbit_s": 20.0, "cpu_s_per_gb": 0.25}],
                "idle_runs": [{"target": "sidecar", "rep": 0, "bytes_per_conn": 3000, "alive": 10000}],
                "failures": ["nginx: did not serve /hello"],
                "not_available": {"hello": {"envoy": "no Envoy binary here"}}}

    def test_median_and_spread(self):
        self.assertEqual(summarize([3, None, 1, 2]), {"median": 2, "min": 1, "max": 3, "n": 3})
        self.assertIsNone(summarize([None]))

    def test_ratios_to_haproxy_and_added_latency_come_from_the_same_run(self):
        s = summarize_all(self.tiny_result())
        sc = s["wrk"]["hello"]
        self.assertAlmostEqual(sc["sidecar"]["cpu_ratio_to_haproxy"], 11.0 / 20.0)
        self.assertAlmostEqual(sc["sidecar"]["rps_ratio_to_haproxy"], 2.0)
        self.assertEqual(sc["haproxy"]["errors"], 3)
        lat = s["latency"]["1000"]
        self.assertEqual(lat["sidecar"]["added_p50_us"], 50)
        self.assertEqual(lat["sidecar"]["added_p99_us"], 100)
        self.assertAlmostEqual(s["tcp"]["sidecar"]["gbit_ratio_to_haproxy"], 0.5)
        self.assertIsNone(s["idle"]["sidecar"]["ratio_to_haproxy"])  # no HAProxy figure: no ratio, no guess

    def test_markdown_marks_missing_peers_and_skipped_targets(self):
        res = self.tiny_result()
        res["summary"] = summarize_all(res)
        md = render_md(res)
        self.assertIn("| Sidecar | 1000 (1000–1000) | 11.00 (10.00–12.00) | 0.55 |", md)
        self.assertIn("| Envoy | not available: no Envoy binary here |", md)
        self.assertIn("nginx: did not serve /hello", md)
        self.assertIn("## One TCP stream", md)


if __name__ == "__main__":
    unittest.main()
