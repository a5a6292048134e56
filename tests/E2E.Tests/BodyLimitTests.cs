using System.Text;
using Sidecar.E2E.Tests.Harness;
using Xunit;
using Xunit.Abstractions;

namespace Sidecar.E2E.Tests;

/// <summary>The buffer filter's max_request_bytes: bodies over the limit get 413, whether framed by Content-Length or chunked.</summary>
public sealed class BodyLimitTests : IClassFixture<UpstreamFixture>
{
    private readonly UpstreamPeers _peers;
    private readonly ITestOutputHelper _out;
    public BodyLimitTests(UpstreamFixture f, ITestOutputHelper output) { _peers = f.Peers; _out = output; }

    private async Task<(SidecarProcess, int)> Start()
    {
        var cfg = new SidecarConfig();
        int port = cfg.AddHttpListener([new RouteSpec("/", "backend")], maxRequestBytes: 1024);
        cfg.AddCluster(new ClusterSpec("backend", _peers.BackendPort));
        return (await SidecarProcess.Start(cfg, _out), port);
    }

    [Fact]
    public async Task Content_length_over_the_limit_gets_413_and_never_reaches_the_backend()
    {
        var (sc, port) = await Start();
        using var _ = sc;
        string small = new('s', 100);
        var ok = await RawHttp.Exchange(port, $"POST /echo HTTP/1.1\r\nHost: e2e\r\nContent-Length: 100\r\nConnection: close\r\n\r\n{small}", TimeSpan.FromSeconds(10));
        Assert.True(ok.Status == 200, ok.Head);
        var r = await RawHttp.Exchange(port, $"POST /echo?too-big-cl HTTP/1.1\r\nHost: e2e\r\nContent-Length: 5000\r\n\r\n{new string('b', 5000)}", TimeSpan.FromSeconds(10));
        Assert.True(r.Status == 413, r.Head);
        Assert.DoesNotContain(_peers.BackendRequests(), l => l.Contains("too-big-cl", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Chunked_body_growing_past_the_limit_gets_413()
    {
        var (sc, port) = await Start();
        using var _ = sc;
        var sb = new StringBuilder("POST /echo?too-big-chunked HTTP/1.1\r\nHost: e2e\r\nTransfer-Encoding: chunked\r\n\r\n");
        for (int i = 0; i < 8; i++) sb.Append("100\r\n").Append('c', 256).Append("\r\n");
        sb.Append("0\r\n\r\n");
        var r = await RawHttp.Exchange(port, sb.ToString(), TimeSpan.FromSeconds(10));
        Assert.True(r.Status == 413, r.Head);
    }
}
