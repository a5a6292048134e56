using System.Text;
using Sidecar.E2E.Tests.Harness;
using Xunit;
using Xunit.Abstractions;

namespace Sidecar.E2E.Tests;

/// <summary>Upstreams that do what they should not: unrequested 101s, early closes, HTTP/1.0 clients with chunked answers.</summary>
public sealed class UpstreamMisbehaviourTests : IClassFixture<UpstreamFixture>
{
    private readonly UpstreamPeers _peers;
    private readonly ITestOutputHelper _out;
    public UpstreamMisbehaviourTests(UpstreamFixture f, ITestOutputHelper output) { _peers = f.Peers; _out = output; }

    private async Task<(SidecarProcess, int)> Start(int? maxConnections = null)
    {
        var cfg = new SidecarConfig();
        int port = cfg.AddHttpListener([new RouteSpec("/", "backend")]);
        cfg.AddCluster(new ClusterSpec("backend", _peers.BackendPort, MaxConnections: maxConnections));
        return (await SidecarProcess.Start(cfg, _out), port);
    }

    [Fact]
    public async Task Unrequested_101_is_a_502_and_the_next_request_is_routed_not_tunnelled()
    {
        var (sc, port) = await Start();
        using var _ = sc;
        var r = await RawHttp.Exchange(port,
            "GET /switch HTTP/1.1\r\nHost: e2e\r\n\r\nGET /after-switch HTTP/1.1\r\nHost: e2e\r\nConnection: close\r\n\r\n",
            TimeSpan.FromSeconds(5));
        Assert.True(r.Status == 502, r.Head);
        Assert.Contains("x-sidecar-response-flags: UPE", r.Head, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(_peers.BackendRequests(), l => l.Contains("RAW-AFTER-SWITCH", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Http10_client_gets_a_chunked_answer_unframed_and_closed_without_trailer_bytes()
    {
        var (sc, port) = await Start();
        using var _ = sc;
        var r = await RawHttp.Exchange(port, "GET /chunked?n=3&size=10 HTTP/1.0\r\nHost: e2e\r\nConnection: keep-alive\r\n\r\n", TimeSpan.FromSeconds(5));
        Assert.True(r.Status == 200, r.Head);
        Assert.True(r.ClosedByPeer, "without chunked framing the body can only end with the connection");
        Assert.Contains("connection: close", r.Head, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("012345678901234567890123456789", r.Body);
    }

    [Fact]
    public async Task Pooled_connections_the_upstream_closed_release_their_circuit_breaker_slots()
    {
        var (sc, port) = await Start(maxConnections: 2);
        using var _ = sc;
        for (int i = 0; i < 6; i++)
        {
            var r = await Proc.Curl("-w", " %{http_code}", $"http://127.0.0.1:{port}/answer-then-close");
            Assert.True(r.StdOut == "answered\n 200", $"request {i}: {r}");
            await Task.Delay(200);   // the upstream closes the idle pooled connection meanwhile
        }
        var stats = await sc.Stats();
        Assert.Equal("0", stats["cluster.backend.upstream_cx_overflow"]);
        Assert.Equal("6", stats["cluster.backend.upstream_rq_2xx"]);
    }
}
