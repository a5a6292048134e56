using System.Diagnostics;
using Sidecar.E2E.Tests.Harness;
using Xunit;
using Xunit.Abstractions;

namespace Sidecar.E2E.Tests;

/// <summary>SIGTERM: stop accepting, finish in-flight requests, exit 0 within the drain deadline.</summary>
public sealed class DrainTests : IClassFixture<UpstreamFixture>
{
    // --drain-time-s 5: the sidecar must be gone well within 5 s + slack once in-flight work is done
    private static readonly string[] DrainArgs = ["--drain-time-s", "5"];
    private static readonly TimeSpan ExitDeadline = TimeSpan.FromSeconds(15);
    private readonly UpstreamPeers _peers;
    private readonly ITestOutputHelper _out;
    public DrainTests(UpstreamFixture f, ITestOutputHelper output) { _peers = f.Peers; _out = output; }

    [Fact]
    public async Task Sigterm_lets_inflight_requests_finish_and_exits_zero()
    {
        var (sc, port) = await Sidecars.InFrontOf(_peers, _out, extraArgs: DrainArgs);
        using var _ = sc;
        var tag = Guid.NewGuid().ToString("N")[..8];
        var curls = Enumerable.Range(0, 5)
            .Select(i => Proc.Curl("-w", " %{http_code}", $"http://127.0.0.1:{port}/slow?ms=1500&drain={tag}-{i}"))
            .ToArray();
        // wait until all five are at the backend (it logs on arrival, then sleeps)
        var sw = Stopwatch.StartNew();
        while (_peers.BackendRequests().Count(l => l.Contains($"drain={tag}", StringComparison.Ordinal)) < 5 && sw.Elapsed < TimeSpan.FromSeconds(10))
            await Task.Delay(20);
        Assert.Equal(5, _peers.BackendRequests().Count(l => l.Contains($"drain={tag}", StringComparison.Ordinal)));
        sc.Process.Signal(Proc.SIGTERM);
        var results = await Task.WhenAll(curls);
        foreach (var r in results) Assert.True(r.StdOut == "slow done\n 200", r.ToString());
        Assert.True(await sc.Process.WaitForExit(ExitDeadline), $"sidecar still running {ExitDeadline} after SIGTERM");
        Assert.Equal(0, sc.Process.ExitCode);
    }

    [Fact]
    public async Task Sigterm_during_wrk_load_has_no_failed_inflight_requests()
    {
        var (sc, port) = await Sidecars.InFrontOf(_peers, _out, extraArgs: DrainArgs);
        using var _ = sc;
        var wrk = Load.Wrk($"http://127.0.0.1:{port}/hello", 10, 4);
        await Task.Delay(1500);
        Assert.False(wrk.IsCompleted, "wrk ended early");
        sc.Process.Signal(Proc.SIGTERM);
        var w = await wrk;
        _out.WriteLine(w.ToString());
        // After the listener closes, new connects are refused (connect errors are expected);
        // requests already sent on open connections must all get complete 2xx responses.
        // wrk keeps a request in flight on every connection, so a drain that closes "idle" keep-alive
        // connections without first serving bytes already received shows up here as read errors:
        // the proxy should answer the next request with `Connection: close` instead.
        Assert.True(w.Requests > 100, w.ToString());
        // wrk reports a refused *re*connect (our listener is closed once draining starts) as a write
        // error, not a connect error: its sockets connect non-blocking and the refusal surfaces on the
        // first write. Those requests were never sent, so they are not in flight. A request that was
        // sent and then lost shows as a read error or timeout, and a local 5xx as non-2xx.
        // The raw-socket test below checks the write side deterministically.
        Assert.True(w.Read == 0 && w.Timeout == 0 && w.Non2xx == 0, w.ToString());
        Assert.True(await sc.Process.WaitForExit(ExitDeadline), $"sidecar still running {ExitDeadline} after SIGTERM");
        Assert.Equal(0, sc.Process.ExitCode);
    }

    [Fact]
    public async Task Sigterm_busy_keepalive_connections_get_connection_close_not_a_reset()
    {
        var (sc, port) = await Sidecars.InFrontOf(_peers, _out, extraArgs: DrainArgs);
        using var _ = sc;
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var clients = Enumerable.Range(0, 10).Select(_ => KeepAliveLoop(port, stop.Token)).ToArray();
        await Task.Delay(1000);
        sc.Process.Signal(Proc.SIGTERM);
        var outcomes = await Task.WhenAll(clients);
        foreach (var o in outcomes) _out.WriteLine(o);
        Assert.All(outcomes, o => Assert.StartsWith("connection: close after", o));
        Assert.True(await sc.Process.WaitForExit(ExitDeadline), $"sidecar still running {ExitDeadline} after SIGTERM");
        Assert.Equal(0, sc.Process.ExitCode);
    }

    /// <summary>
    /// Sends GET /hello back-to-back on one connection until the proxy answers with `Connection: close`.
    /// Returns "connection: close after N" or a description of how a request in flight was lost.
    /// </summary>
    private static async Task<string> KeepAliveLoop(int port, CancellationToken ct)
    {
        using var s = await RawHttp.Connect(port);
        var req = System.Text.Encoding.ASCII.GetBytes("GET /hello HTTP/1.1\r\nHost: e2e\r\n\r\n");
        var buf = new byte[16384];
        var n = 0;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                await s.SendAsync(req, System.Net.Sockets.SocketFlags.None, ct);
                var got = new System.Text.StringBuilder();
                int headEnd;
                while ((headEnd = got.ToString().IndexOf("\r\n\r\n", StringComparison.Ordinal)) < 0)
                {
                    var r = await s.ReceiveAsync(buf, System.Net.Sockets.SocketFlags.None, ct);
                    if (r == 0) return $"EOF instead of a response to request #{n + 1} (after {n} ok)";
                    got.Append(System.Text.Encoding.Latin1.GetString(buf, 0, r));
                }
                var resp = RawHttp.Parse(System.Text.Encoding.Latin1.GetBytes(got.ToString()), false);
                if (resp.Status != 200) return $"status {resp.Status} on request #{n + 1}";
                var len = int.Parse(resp.Header("content-length") ?? "0");
                while (got.Length < headEnd + 4 + len)
                {
                    var r = await s.ReceiveAsync(buf, System.Net.Sockets.SocketFlags.None, ct);
                    if (r == 0) return $"EOF inside the body of response #{n + 1}";
                    got.Append(System.Text.Encoding.Latin1.GetString(buf, 0, r));
                }
                n++;
                if (string.Equals(resp.Header("connection"), "close", StringComparison.OrdinalIgnoreCase))
                    return $"connection: close after {n} ok";
            }
            return $"no Connection: close within the time limit ({n} ok)";
        }
        catch (System.Net.Sockets.SocketException e) { return $"socket error {e.SocketErrorCode} after {n} ok"; }
        catch (OperationCanceledException) { return $"no Connection: close within the time limit ({n} ok)"; }
    }
}
