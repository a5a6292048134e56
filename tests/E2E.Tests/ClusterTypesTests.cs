using Sidecar.E2E.Tests.Harness;
using Xunit;
using Xunit.Abstractions;

namespace Sidecar.E2E.Tests;

/// <summary>Cluster discovery types and load-balancing policies through the published binary.</summary>
public sealed class ClusterTypesTests : IClassFixture<UpstreamFixture>
{
    private readonly UpstreamPeers _peers;
    private readonly ITestOutputHelper _out;

    public ClusterTypesTests(UpstreamFixture f, ITestOutputHelper output) { _peers = f.Peers; _out = output; }

    [Theory]
    [InlineData("STRICT_DNS", "localhost", "ROUND_ROBIN")]
    [InlineData("LOGICAL_DNS", "localhost", "ROUND_ROBIN")]
    [InlineData("STATIC", "127.0.0.1", "LEAST_REQUEST")]
    [InlineData("STATIC", "127.0.0.1", "RANDOM")]
    public async Task Cluster_type_and_lb_policy_serve_requests(string type, string host, string lbPolicy)
    {
        var cfg = new SidecarConfig();
        var port = cfg.AddHttpListener([new RouteSpec("/", "web")]);
        // Two identical endpoints so the balancer really chooses (STRICT_DNS resolves each one).
        cfg.AddCluster(new ClusterSpec("web", _peers.NginxPort, Type: type, Host: host, LbPolicy: lbPolicy, Endpoints: type == "LOGICAL_DNS" ? 1 : 2));
        using var sc = await SidecarProcess.Start(cfg, _out);
        for (int i = 0; i < 4; i++)
        {
            var r = await Proc.Curl("-w", " %{http_code}", $"http://127.0.0.1:{port}/hello");
            Assert.True(r.StdOut == "hello\n 200", r.ToString());
        }
        var stats = await sc.Stats();
        Assert.Equal("4", stats["cluster.web.upstream_rq_2xx"]);
    }
}
