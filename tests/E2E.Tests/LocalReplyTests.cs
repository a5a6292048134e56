using System.Diagnostics;
using System.Text;
using Sidecar.E2E.Tests.Harness;
using Xunit;
using Xunit.Abstractions;

namespace Sidecar.E2E.Tests;

/// <summary>Errors the proxy itself generates: status code + x-sidecar-response-flags, and what reaches the backend.</summary>
public sealed class LocalReplyTests : IClassFixture<UpstreamFixture>
{
    private readonly UpstreamPeers _peers;
    private readonly ITestOutputHelper _out;
    public LocalReplyTests(UpstreamFixture f, ITestOutputHelper output) { _peers = f.Peers; _out = output; }

    private static async Task<RawHttp.Response> Get(int port, string path, TimeSpan? idle = null) =>
        await RawHttp.Exchange(port, $"GET {path} HTTP/1.1\r\nHost: e2e\r\nConnection: close\r\n\r\n", idle ?? TimeSpan.FromSeconds(10));

    [Fact]
    public async Task Upstream_down_returns_503_with_flag_UF()
    {
        var cfg = new SidecarConfig();
        var port = cfg.AddHttpListener([new RouteSpec("/", "dead")]);
        cfg.AddCluster(new ClusterSpec("dead", TestEnv.FreePort(), "0.5s"));
        using var sc = await SidecarProcess.Start(cfg, _out);
        var r = await Get(port, "/anything");
        Assert.True(r.Status == 503, r.Head);
        Assert.Equal("UF", r.Header("x-sidecar-response-flags"));
    }

    [Fact]
    public async Task Slow_upstream_past_route_timeout_returns_504_with_flag_UT()
    {
        var (sc, port) = await Sidecars.InFrontOf(_peers, _out, routeTimeout: "0.5s");
        using var _ = sc;
        var sw = Stopwatch.StartNew();
        var r = await Get(port, "/slow?ms=2000");
        sw.Stop();
        Assert.True(r.Status == 504, r.Head);
        Assert.Equal("UT", r.Header("x-sidecar-response-flags"));
        Assert.InRange(sw.ElapsedMilliseconds, 400, 1800);
    }

    [Fact]
    public async Task No_matching_route_returns_404_with_flag_NR()
    {
        var cfg = new SidecarConfig();
        var port = cfg.AddHttpListener([new RouteSpec("/only", "web")]);
        cfg.AddCluster(new ClusterSpec("web", _peers.NginxPort));
        using var sc = await SidecarProcess.Start(cfg, _out);
        var ok = await Get(port, "/only-this");
        Assert.True(ok.Status == 200, ok.Head); // proves the route itself works
        var r = await Get(port, "/elsewhere-nr");
        Assert.True(r.Status == 404, r.Head);
        Assert.Equal("NR", r.Header("x-sidecar-response-flags"));
        Assert.DoesNotContain(_peers.BackendRequests(), l => l.Contains("/elsewhere-nr", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Slowloris_partial_head_is_cut_by_request_headers_timeout()
    {
        var (sc, port) = await Sidecars.InFrontOf(_peers, _out, requestHeadersTimeout: "1s");
        using var _ = sc;
        using var s = await RawHttp.Connect(port);
        var sw = Stopwatch.StartNew();
        var (data, closed) = await RawHttp.SendAndRead(s, Encoding.ASCII.GetBytes("GET /slowloris HTTP/1.1\r\nHost: e2e\r\nX-Slow: a"),
            TimeSpan.FromSeconds(8));
        sw.Stop();
        Assert.True(closed, $"connection still open after {sw.Elapsed}");
        Assert.InRange(sw.ElapsedMilliseconds, 800, 5000);
        if (data.Length > 0)
        {
            var r = RawHttp.Parse(data, closed);
            Assert.True(r.Status == 408, r.Head);
        }
        Assert.DoesNotContain(_peers.BackendRequests(), l => l.Contains("/slowloris", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Stalled_request_body_gets_408_at_the_route_idle_timeout_not_504_and_the_connection_closes()
    {
        // As in Envoy, the route timeout starts only once the request is complete, so a body that stops coming never
        // starts it; the route's idle_timeout (else the connection manager's stream_idle_timeout) bounds the silence.
        var cfg = new SidecarConfig();
        int port = cfg.AddHttpListener([new RouteSpec("/", "backend", Timeout: "1s", IdleTimeout: "2s")]);
        cfg.AddCluster(new ClusterSpec("backend", _peers.BackendPort));
        using var sc = await SidecarProcess.Start(cfg, _out);
        var sw = Stopwatch.StartNew();
        // Promise 1000 bytes, send 10, then go quiet: the backend waits for the rest, so does the pump.
        var r = await RawHttp.Exchange(port, "POST /echo HTTP/1.1\r\nHost: e2e\r\nContent-Length: 1000\r\n\r\n0123456789", TimeSpan.FromSeconds(8));
        Assert.True(r.Status == 408, r.Head);
        Assert.Equal("SI", r.Header("x-sidecar-response-flags"));
        Assert.True(r.ClosedByPeer, "the connection must close: the rest of the request body will never be read");
        Assert.InRange(sw.Elapsed, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(7));
    }

    [Fact]
    public async Task Headers_over_max_request_headers_kb_return_431()
    {
        var (sc, port) = await Sidecars.InFrontOf(_peers, _out, maxRequestHeadersKb: 8);
        using var _ = sc;
        var ok = await RawHttp.Exchange(port, $"GET /small-headers HTTP/1.1\r\nHost: e2e\r\nX-Pad: {new string('a', 4000)}\r\nConnection: close\r\n\r\n",
            TimeSpan.FromSeconds(10));
        Assert.True(ok.Status == 200, ok.Head);
        var r = await RawHttp.Exchange(port, $"GET /big-headers HTTP/1.1\r\nHost: e2e\r\nX-Pad: {new string('a', 16_000)}\r\nConnection: close\r\n\r\n",
            TimeSpan.FromSeconds(10));
        Assert.True(r.Status == 431, r.Head);
        Assert.DoesNotContain(_peers.BackendRequests(), l => l.Contains("/big-headers", StringComparison.Ordinal));
    }

    public static TheoryData<string, string> SmugglingCases => new()
    {
        // Content-Length and Transfer-Encoding together (CL.TE / TE.CL desync)
        { "clte", "POST /smuggle-clte HTTP/1.1\r\nHost: e2e\r\nContent-Length: 40\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggle-clte-2nd HTTP/1.1\r\nHost: e2e\r\n\r\n" },
        // two different Content-Length values
        { "dupcl", "POST /smuggle-dupcl HTTP/1.1\r\nHost: e2e\r\nContent-Length: 0\r\nContent-Length: 44\r\n\r\nGET /smuggle-dupcl-2nd HTTP/1.1\r\nHost: e2e\r\n\r\n" },
        // obs-fold (line folding) in a header
        { "obsfold", "GET /smuggle-obsfold HTTP/1.1\r\nHost: e2e\r\nX-Folded: a\r\n b\r\nConnection: close\r\n\r\n" },
        // invalid chunk size
        { "badchunk", "POST /smuggle-badchunk HTTP/1.1\r\nHost: e2e\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\nGET /smuggle-badchunk-2nd HTTP/1.1\r\nHost: e2e\r\n\r\n" },
        // bare LF as a header line terminator
        { "barelf", "GET /smuggle-barelf HTTP/1.1\r\nHost: e2e\r\nX-A: a\nX-B: b\r\nConnection: close\r\n\r\n" },
        // whitespace between field name and colon
        { "spacecolon", "POST /smuggle-spacecolon HTTP/1.1\r\nHost: e2e\r\nContent-Length : 47\r\n\r\nGET /smuggle-spacecolon-2nd HTTP/1.1\r\nHost: e2e\r\n\r\n" },
    };

    [Theory]
    [MemberData(nameof(SmugglingCases))]
    public async Task Smuggling_attempt_gets_400_and_nothing_reaches_the_backend(string name, string request)
    {
        // straight to the (lenient) python backend: nginx would otherwise reject some of these itself
        var (sc, port) = await Sidecars.InFrontOfBackend(_peers, _out);
        using var _ = sc;
        using var s = await RawHttp.Connect(port);
        var (data, closed) = await RawHttp.SendAndRead(s, Encoding.Latin1.GetBytes(request), TimeSpan.FromSeconds(5));
        var r = RawHttp.Parse(data, closed);
        _out.WriteLine($"--- response ---\n{Encoding.Latin1.GetString(data)}");
        Assert.True(r.Status == 400, $"[{name}] expected 400, got: {r.Head}");
        Assert.False(string.IsNullOrEmpty(r.Header("x-sidecar-response-flags")),
            $"[{name}] the 400 must be the proxy's own local reply (x-sidecar-response-flags, e.g. DPE): {r.Head}");
        Assert.DoesNotContain("HTTP/1.1 200", Encoding.Latin1.GetString(data));
        Assert.True(closed, "connection must be closed after a framing error");
        await Task.Delay(300);
        var seen = _peers.BackendRequests().Where(l => l.Contains($"/smuggle-{name}", StringComparison.Ordinal)).ToArray();
        Assert.True(seen.Length == 0, $"backend received: {string.Join(" | ", seen)}");
    }
}
