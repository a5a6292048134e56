using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using Sidecar.E2E.Tests.Harness;
using Xunit;
using Xunit.Abstractions;

namespace Sidecar.E2E.Tests;

/// <summary>curl/raw sockets → sidecar → nginx (+ python backend behind nginx).</summary>
public sealed class HttpProxyTests : IClassFixture<UpstreamFixture>
{
    private const long RssLimitKb = 64 * 1024;
    private readonly UpstreamPeers _peers;
    private readonly ITestOutputHelper _out;

    public HttpProxyTests(UpstreamFixture f, ITestOutputHelper output) { _peers = f.Peers; _out = output; }

    [Fact]
    public async Task Get_two_requests_reuse_one_downstream_connection()
    {
        var (sc, port) = await Sidecars.InFrontOf(_peers, _out);
        using var _ = sc;
        var url = $"http://127.0.0.1:{port}/hello";
        var r = await Proc.Curl("-v", "-o", "/dev/null", "-o", "/dev/null", "-w", "%{http_code} %{num_connects}\n", url, url);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal(["200 1", "200 0"], r.StdOut.Trim().Split('\n'));
        Assert.Contains("Re-using existing connection", r.StdErr);
        var body = await Proc.Curl(url);
        Assert.Equal("hello\n", body.StdOut);
    }

    [Fact]
    public async Task Chunked_upload_is_echoed_back_intact()
    {
        var (sc, port) = await Sidecars.InFrontOf(_peers, _out);
        using var _ = sc;
        using var dir = TestEnv.NewTempDir("chunked-up");
        var payload = Load.Pattern(1_000_000, 3);
        File.WriteAllBytes(dir.File("in.bin"), payload);
        var r = await Proc.Curl("-H", "Transfer-Encoding: chunked", "--data-binary", "@" + dir.File("in.bin"),
            "-o", dir.File("out.bin"), "-w", "%{http_code}", $"http://127.0.0.1:{port}/echo");
        Assert.True(r.StdOut == "200", r.ToString());
        Assert.Equal(payload, File.ReadAllBytes(dir.File("out.bin")));
    }

    [Fact]
    public async Task Chunked_response_is_streamed_through()
    {
        var (sc, port) = await Sidecars.InFrontOf(_peers, _out);
        using var _ = sc;
        // HTTP/1.1 client, upstream sends no Content-Length: the downstream response must be chunked (or close-delimited) and complete.
        using var s = await RawHttp.Connect(port);
        var (data, _) = await RawHttp.SendAndRead(s, Encoding.ASCII.GetBytes(
            "GET /chunked?n=20&size=1000 HTTP/1.1\r\nHost: e2e\r\nConnection: close\r\n\r\n"), TimeSpan.FromSeconds(10));
        var resp = RawHttp.Parse(data, true);
        Assert.True(resp.Status == 200, resp.Head);
        Assert.Equal("chunked", resp.Header("transfer-encoding")?.ToLowerInvariant());
        Assert.Equal(string.Concat(Enumerable.Repeat(string.Concat(Enumerable.Repeat("0123456789", 100)), 20)), DecodeChunked(resp.Body));
    }

    internal static string DecodeChunked(string body)
    {
        var sb = new StringBuilder();
        var i = 0;
        while (true)
        {
            var eol = body.IndexOf("\r\n", i, StringComparison.Ordinal);
            Assert.True(eol > 0, "truncated chunked body");
            var size = Convert.ToInt32(body[i..eol].Split(';')[0].Trim(), 16);
            i = eol + 2;
            if (size == 0) return sb.ToString();
            sb.Append(body, i, size);
            i += size + 2;
        }
    }

    [Fact]
    public async Task Download_100MB_streams_through_with_bounded_rss()
    {
        var (sc, port) = await Sidecars.InFrontOf(_peers, _out);
        using var _ = sc;
        var (r, maxRss) = await Load.WithRssSampling(sc.RssKb,
            Proc.Curl("-o", "/dev/null", "-w", "%{http_code} %{size_download}", $"http://127.0.0.1:{port}/big"));
        _out.WriteLine($"max sidecar RSS during 100 MB download: {maxRss} KiB");
        Assert.Equal($"200 {UpstreamPeers.BigSize}", r.StdOut);
        Assert.True(maxRss < RssLimitKb, $"sidecar RSS reached {maxRss} KiB (limit {RssLimitKb})");
    }

    [Fact]
    public async Task Upload_100MB_streams_through_with_bounded_rss()
    {
        var (sc, port) = await Sidecars.InFrontOf(_peers, _out);
        using var _ = sc;
        using var dir = TestEnv.NewTempDir("upload");
        var file = dir.File("up.bin");
        var chunk = Load.Pattern(1 << 20, 5);
        using (var f = File.Create(file)) for (var i = 0; i < 100; i++) f.Write(chunk);
        string expectedSha;
        using (var f = File.OpenRead(file)) expectedSha = Convert.ToHexStringLower(await System.Security.Cryptography.SHA256.HashDataAsync(f));
        var (r, maxRss) = await Load.WithRssSampling(sc.RssKb,
            Proc.Curl("--data-binary", "@" + file, "-H", "Content-Type: application/octet-stream", "-w", " %{http_code}",
                $"http://127.0.0.1:{port}/upload"));
        _out.WriteLine($"max sidecar RSS during 100 MB upload: {maxRss} KiB");
        Assert.Equal($"{100 << 20} {expectedSha}\n 200", r.StdOut);
        Assert.True(maxRss < RssLimitKb, $"sidecar RSS reached {maxRss} KiB (limit {RssLimitKb})");
    }

    [Fact]
    public async Task Head_returns_headers_without_body_and_connection_stays_usable()
    {
        var (sc, port) = await Sidecars.InFrontOf(_peers, _out);
        using var _ = sc;
        using var s = await RawHttp.Connect(port);
        var (head, _) = await RawHttp.SendAndRead(s, Encoding.ASCII.GetBytes("HEAD /hello HTTP/1.1\r\nHost: e2e\r\n\r\n"), TimeSpan.FromSeconds(1.5));
        var h = RawHttp.Parse(head, false);
        Assert.True(h.Status == 200, h.Head);
        Assert.Equal("6", h.Header("content-length"));
        Assert.Equal("", h.Body); // nothing after the head, even after waiting
        var (data, _) = await RawHttp.SendAndRead(s, Encoding.ASCII.GetBytes("GET /hello HTTP/1.1\r\nHost: e2e\r\nConnection: close\r\n\r\n"), TimeSpan.FromSeconds(5));
        var g = RawHttp.Parse(data, true);
        Assert.True(g.Status == 200, g.Head);
        Assert.Equal("hello\n", g.Body);
    }

    [Theory]
    [InlineData(204)]
    [InlineData(304)]
    public async Task Bodyless_status_passes_through_without_body(int status)
    {
        var (sc, port) = await Sidecars.InFrontOf(_peers, _out);
        using var _ = sc;
        var url = $"http://127.0.0.1:{port}/status/{status}";
        var r = await Proc.Curl("-o", "/dev/null", "-o", "/dev/null", "-w", "%{http_code} %{size_download} %{num_connects}\n", url, url);
        Assert.Equal([$"{status} 0 1", $"{status} 0 0"], r.StdOut.Trim().Split('\n'));
    }

    [Fact]
    public async Task WebSocket_upgrade_echoes_messages()
    {
        using var ws = await WsEchoPeer.Start();
        var cfg = new SidecarConfig();
        var port = cfg.AddHttpListener([new RouteSpec("/", "ws")], websocket: true);
        cfg.AddCluster(new ClusterSpec("ws", ws.Port));
        using var sc = await SidecarProcess.Start(cfg, _out);
        using var client = new ClientWebSocket();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await client.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/chat"), cts.Token);
        var buf = new byte[70_000];
        foreach (var msg in new[] { "hello ws", new string('x', 65_000) })
        {
            await client.SendAsync(Encoding.UTF8.GetBytes(msg), WebSocketMessageType.Text, true, cts.Token);
            var got = new MemoryStream();
            WebSocketReceiveResult res;
            do { res = await client.ReceiveAsync(buf, cts.Token); got.Write(buf, 0, res.Count); } while (!res.EndOfMessage);
            Assert.Equal(msg, Encoding.UTF8.GetString(got.ToArray()));
        }
        await client.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", cts.Token);
    }

    [Fact]
    public async Task Wrk_smoke_has_no_errors_and_no_non2xx()
    {
        var (sc, port) = await Sidecars.InFrontOf(_peers, _out);
        using var _ = sc;
        var w = await Load.Wrk($"http://127.0.0.1:{port}/hello", 10, 2);
        _out.WriteLine(w.ToString());
        Assert.True(w.Requests > 100, w.ToString());
        Assert.True(w.SocketErrors == 0 && w.Non2xx == 0, w.ToString());
        Assert.False(sc.Process.HasExited);
    }
}

/// <summary>tcp_proxy listener → socat echo.</summary>
public sealed class TcpProxyTests
{
    private readonly ITestOutputHelper _out;
    public TcpProxyTests(ITestOutputHelper output) => _out = output;

    [Fact]
    public async Task Tcp_proxy_echoes_and_propagates_half_close()
    {
        using var socat = await SocatEchoPeer.Start();
        var cfg = new SidecarConfig();
        var port = cfg.AddTcpListener("echo", "tcp_echo");
        cfg.AddCluster(new ClusterSpec("echo", socat.Port));
        using var sc = await SidecarProcess.Start(cfg, _out);
        var payload = Load.Pattern(512_000, 11);
        var (echoed, eof) = await Load.EchoWithHalfClose(port, payload, TimeSpan.FromSeconds(10));
        Assert.Equal(payload.Length, echoed.Length);
        Assert.Equal(payload, echoed);
        Assert.True(eof, "expected EOF from the proxy after the upstream closed");
    }

    [Fact]
    public async Task Tcp_proxy_closes_downstream_when_upstream_is_down()
    {
        var deadPort = TestEnv.FreePort();
        var cfg = new SidecarConfig();
        var port = cfg.AddTcpListener("dead", "tcp_dead");
        cfg.AddCluster(new ClusterSpec("dead", deadPort));
        using var sc = await SidecarProcess.Start(cfg, _out);
        using var s = await RawHttp.Connect(port);
        var (data, closed) = await RawHttp.SendAndRead(s, Encoding.ASCII.GetBytes("hello"), TimeSpan.FromSeconds(5));
        Assert.True(closed, "downstream should be closed when the upstream connect fails");
        Assert.Empty(data);
    }
}
