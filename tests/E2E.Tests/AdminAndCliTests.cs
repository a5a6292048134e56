using System.Text.RegularExpressions;
using Sidecar.E2E.Tests.Harness;
using Xunit;
using Xunit.Abstractions;

namespace Sidecar.E2E.Tests;

public sealed class AdminTests : IClassFixture<UpstreamFixture>
{
    private readonly UpstreamPeers _peers;
    private readonly ITestOutputHelper _out;
    public AdminTests(UpstreamFixture f, ITestOutputHelper output) { _peers = f.Peers; _out = output; }

    [Fact]
    public async Task Admin_ready_returns_200_LIVE()
    {
        var (sc, _) = await Sidecars.InFrontOf(_peers, _out);
        using var _s = sc;
        var r = await RawHttp.Exchange(sc.AdminPort, "GET /ready HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", TimeSpan.FromSeconds(5));
        Assert.Equal(200, r.Status);
        Assert.Contains("LIVE", r.Body);
    }

    [Theory]
    [InlineData("/server_info", "{")]
    [InlineData("/config_dump", "{")]
    [InlineData("/stats", "")]
    [InlineData("/stats/prometheus", "# TYPE")]
    public async Task Admin_endpoint_responds(string path, string expectedContent)
    {
        var (sc, port) = await Sidecars.InFrontOf(_peers, _out);
        using var _s = sc;
        await Proc.Curl("-o", "/dev/null", $"http://127.0.0.1:{port}/hello");
        var r = await RawHttp.Exchange(sc.AdminPort, $"GET {path} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", TimeSpan.FromSeconds(5));
        Assert.True(r.Status == 200, r.Head);
        Assert.Contains(expectedContent, r.Body);
    }

    [Fact]
    public async Task Listeners_and_clusters_pages_show_the_serving_version_in_text_and_json()
    {
        var (sc, port) = await Sidecars.InFrontOf(_peers, _out);
        using var _s = sc;
        async Task<string> Get(string path)
        {
            var r = await RawHttp.Exchange(sc.AdminPort, $"GET {path} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", TimeSpan.FromSeconds(5));
            Assert.True(r.Status == 200, r.Head);
            return r.Body;
        }
        Assert.Contains($"::127.0.0.1:{port}", await Get("/listeners"));
        using (var listeners = System.Text.Json.JsonDocument.Parse(await Get("/listeners?format=json")))
        {
            var first = listeners.RootElement.GetProperty("listener_statuses")[0];
            Assert.Equal(port, first.GetProperty("local_address").GetProperty("socket_address").GetProperty("port_value").GetInt32());
        }
        Assert.Contains("web::127.0.0.1:", await Get("/clusters"));
        using var clusters = System.Text.Json.JsonDocument.Parse(await Get("/clusters?format=json"));
        var web = clusters.RootElement.GetProperty("cluster_statuses").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "web");
        Assert.Equal("127.0.0.1", web.GetProperty("host_statuses")[0].GetProperty("address").GetProperty("socket_address").GetProperty("address").GetString());
    }

    [Fact]
    public async Task Stats_count_requests_per_listener_connection_manager_and_cluster()
    {
        var (sc, port) = await Sidecars.InFrontOf(_peers, _out);
        using var _s = sc;
        for (var i = 0; i < 3; i++)
            Assert.Equal("200", (await Proc.Curl("-o", "/dev/null", "-w", "%{http_code}", $"http://127.0.0.1:{port}/hello")).StdOut);
        var st = await sc.Stats();
        string Get(string k) => st.TryGetValue(k, out var v) ? v : $"<missing {k}>";
        Assert.Equal("3", Get("http.ingress_http.downstream_rq_total"));
        Assert.Equal("3", Get("http.ingress_http.downstream_rq_2xx"));
        Assert.Equal("3", Get("cluster.web.upstream_rq_total"));
        Assert.True(long.TryParse(Get("cluster.web.upstream_cx_total"), out var cx) && cx >= 1, Get("cluster.web.upstream_cx_total"));
        Assert.Equal("3", Get($"listener.127.0.0.1_{port}.downstream_cx_total"));
    }

    [Fact]
    public async Task Stats_count_upstream_connect_failures_and_5xx()
    {
        var cfg = new SidecarConfig();
        var port = cfg.AddHttpListener([new RouteSpec("/", "dead")]);
        cfg.AddCluster(new ClusterSpec("dead", TestEnv.FreePort(), "0.5s"));
        using var sc = await SidecarProcess.Start(cfg, _out);
        Assert.Equal("503", (await Proc.Curl("-o", "/dev/null", "-w", "%{http_code}", $"http://127.0.0.1:{port}/")).StdOut);
        var st = await sc.Stats();
        Assert.True(st.TryGetValue("cluster.dead.upstream_cx_connect_fail", out var f) && long.Parse(f) >= 1, $"upstream_cx_connect_fail={f}");
        Assert.True(st.TryGetValue("http.ingress_http.downstream_rq_5xx", out var x) && x == "1", $"downstream_rq_5xx={x}");
    }

    [Fact]
    public async Task Admin_quitquitquit_exits_cleanly()
    {
        var (sc, _) = await Sidecars.InFrontOf(_peers, _out);
        using var _s = sc;
        var r = await RawHttp.Exchange(sc.AdminPort, "POST /quitquitquit HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            TimeSpan.FromSeconds(5));
        Assert.True(r.Status == 200, r.Head);
        Assert.True(await sc.Process.WaitForExit(TimeSpan.FromSeconds(15)), "sidecar still running 15 s after /quitquitquit");
        Assert.Equal(0, sc.Process.ExitCode);
    }
}

public sealed partial class CliTests
{
    private static async Task<ProcResult> Sidecar(params string[] args) =>
        await Proc.Run(TestEnv.RequireSidecar(), args, TimeSpan.FromSeconds(30));

    [Fact]
    public async Task Version_prints_a_semantic_version()
    {
        var r = await Sidecar("version");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Matches(SemVer(), r.StdOut);
    }

    [Fact]
    public async Task Validate_accepts_a_good_envoy_config()
    {
        using var dir = TestEnv.NewTempDir("validate");
        var cfg = new SidecarConfig();
        cfg.AddHttpListener([new RouteSpec("/", "web", "2s")], requestHeadersTimeout: "5s", maxRequestHeadersKb: 60, websocket: true);
        cfg.AddTcpListener("web");
        cfg.AddCluster(new ClusterSpec("web", 8080));
        File.WriteAllText(dir.File("good.yaml"), cfg.ToYaml());
        var r = await Sidecar("validate", dir.File("good.yaml"));
        Assert.True(r.ExitCode == 0, r + "\n--- config ---\n" + cfg.ToYaml());
    }

    [Fact]
    public async Task Validate_rejects_bad_field_with_its_path_and_nonzero_exit()
    {
        using var dir = TestEnv.NewTempDir("validate");
        var cfg = new SidecarConfig();
        cfg.AddHttpListener([new RouteSpec("/", "web")]);
        cfg.AddCluster(new ClusterSpec("web", 8080, ConnectTimeout: "banana"));
        File.WriteAllText(dir.File("bad.yaml"), cfg.ToYaml());
        var r = await Sidecar("validate", dir.File("bad.yaml"));
        Assert.True(r.ExitCode != 0, r.ToString());
        var text = r.StdOut + r.StdErr;
        Assert.Contains("clusters", text);
        Assert.Contains("connect_timeout", text);
    }

    [Fact]
    public async Task Validate_rejects_unparseable_yaml()
    {
        using var dir = TestEnv.NewTempDir("validate");
        File.WriteAllText(dir.File("broken.yaml"), "static_resources:\n  listeners: [\n    - name: x\n");
        var r = await Sidecar("validate", dir.File("broken.yaml"));
        Assert.True(r.ExitCode != 0, r.ToString());
        Assert.False(string.IsNullOrWhiteSpace(r.StdOut + r.StdErr), "expected an error message");
    }

    [GeneratedRegex(@"\d+\.\d+\.\d+")] private static partial Regex SemVer();
}
