using System.Text.Json;
using System.Text.Json.Nodes;
using Sidecar.Core.Tests.Xds;
using Sidecar.E2E.Tests.Harness;
using Sidecar.Native.Tests.Support;
using Sidecar.TestPeers.IstioCa;
using Xunit.Abstractions;

namespace Sidecar.Native.Tests.Confinement;

/// <summary>
/// The published proxy under <c>--seccomp</c> with its control-plane clients running: the workload certificate from the
/// test Istio CA (gRPC over TLS, 10-second certificates, so it rotates every ~5 s) and ADS over TLS to the fake istiod
/// (its serving certificate signed by the CA's root, verified with SAN istiod.istio-system.svc, the workload
/// certificate presented). The listener, route, cluster and endpoints arrive over xDS after the filter is loaded; the
/// proxy must serve them, keep rotating, apply a later push, and answer /config_dump and /clusters?format=json the way
/// istioctl reads them. It runs under <c>strace -f -Z</c> (failed syscalls only): a syscall missing from the allow-list
/// fails with EPERM, which the runtime may tolerate silently (a missed stat() in a chain build did), so any EPERM in
/// the trace fails the test with the calls listed.
/// </summary>
public sealed class XdsConfinementTests(ITestOutputHelper output) : IAsyncLifetime
{
    private UpstreamPeers? _peers;

    public async Task InitializeAsync() => _peers = await UpstreamPeers.Start();

    public Task DisposeAsync()
    {
        _peers?.Dispose();
        return Task.CompletedTask;
    }

    private static JsonObject Json(string text) => (JsonObject)JsonNode.Parse(text)!;

    private static Task PutJson(FakeIstiod fake, string type, string name, JsonObject json) =>
        fake.CommandAsync(new JsonObject { ["cmd"] = "putJson", ["type"] = type, ["name"] = name, ["json"] = json });

    private static JsonObject Route(string directBody) => Json($$"""
{ "name": "web-route", "virtual_hosts": [{ "name": "web", "domains": ["*"], "routes": [
  { "match": { "prefix": "/xds" }, "direct_response": { "status": 200, "body": { "inline_string": "{{directBody}}" } } },
  { "match": { "prefix": "/" }, "route": { "cluster": "outbound|80||web.default.svc.cluster.local" } } ] }] }
""");

    [RootFact]
    public async Task Confined_proxy_serves_pushed_config_over_tls_xds_and_survives_ca_rotations()
    {
        Privileges.RequireRoot();
        await using var ca = await TestIstioCa.StartAsync(new TestIstioCaOptions { Lifetime = TimeSpan.FromSeconds(10) });
        using var dir = TestEnv.NewTempDir("xds-seccomp");
        string root = dir.File("root-cert.pem");
        ca.WriteRootCert(root);
        string token = dir.File("istio-token");
        File.WriteAllText(token, "test-token\n");
        (string certPem, string keyPem) = ca.IssueServerPem("istiod.istio-system.svc");
        File.WriteAllText(dir.File("istiod.pem"), certPem);
        File.WriteAllText(dir.File("istiod.key"), keyPem);
        await using var fake = await FakeIstiod.StartAsync(new Dictionary<string, string>
        {
            ["FAKE_ISTIOD_CERT"] = dir.File("istiod.pem"),
            ["FAKE_ISTIOD_KEY"] = dir.File("istiod.key"),
        });

        const string Cluster = "outbound|80||web.default.svc.cluster.local";
        int port = TestEnv.FreePort();
        await PutJson(fake, "CDS", Cluster, Json($$"""
{ "name": "{{Cluster}}", "type": "EDS", "connect_timeout": "2s", "eds_cluster_config": { "service_name": "{{Cluster}}", "eds_config": { "ads": {}, "resource_api_version": "V3" } } }
"""));
        await PutJson(fake, "EDS", Cluster, Json($$"""
{ "cluster_name": "{{Cluster}}", "endpoints": [{ "lb_endpoints": [{ "endpoint": { "address": { "socket_address": { "address": "127.0.0.1", "port_value": {{_peers!.NginxPort}} } } } }] }] }
"""));
        await PutJson(fake, "LDS", $"0.0.0.0_{port}", Json($$"""
{ "name": "0.0.0.0_{{port}}", "address": { "socket_address": { "address": "127.0.0.1", "port_value": {{port}} } },
  "filter_chains": [{ "filters": [{ "name": "envoy.filters.network.http_connection_manager", "typed_config": {
    "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager", "stat_prefix": "web",
    "rds": { "route_config_name": "web-route", "config_source": { "ads": {}, "resource_api_version": "V3" } },
    "http_filters": [{ "name": "envoy.filters.http.router", "typed_config": { "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" } }] } }] }] }
"""));
        await PutJson(fake, "RDS", "web-route", Route("v1"));

        var env = new Dictionary<string, string>
        {
            ["POD_NAMESPACE"] = "default",
            ["SERVICE_ACCOUNT"] = "web",
            ["POD_NAME"] = "web-0",
            ["INSTANCE_IP"] = "127.0.0.1",
            ["CA_ADDR"] = ca.Address,
            ["CA_ROOT_CA"] = root,
            ["ISTIOD_SAN"] = "istiod.istio-system.svc",
            ["SIDECAR_TOKEN_FILE"] = token,
        };
        var cfg = new SidecarConfig();
        string trace = dir.File("strace.txt");
        using var sc = await ConfinedSidecar.Start(cfg, output, ["--xds", $"127.0.0.1:{fake.Port}", "--seccomp"],
            ("strace", ["-f", "-Z", "-qq", "-o", trace]), env);
        Assert.Contains("confinement: seccomp allow-list loaded on all threads", sc.Process.Output);

        // The pushed listener serves (bound after the filter was loaded), through the EDS cluster to nginx.
        await Eventually(async () => (await Proc.Curl("-s", $"http://127.0.0.1:{port}/xds")).StdOut == "v1", "the pushed listener", sc);
        Assert.Equal("hello\n", (await Proc.Curl("-s", $"http://127.0.0.1:{port}/hello")).StdOut);

        // Rotations: at least two more certificates while confined; the xDS stream (TLS, client certificate) lives on.
        int issued = ca.IssuedCount;
        await Eventually(() => Task.FromResult(ca.IssuedCount >= issued + 2), "two CA rotations", sc, TimeSpan.FromSeconds(40));
        await PutJson(fake, "RDS", "web-route", Route("v2"));
        await fake.PushAsync("RDS");
        await Eventually(async () => (await Proc.Curl("-s", $"http://127.0.0.1:{port}/xds")).StdOut == "v2", "the push after the rotations", sc);
        Assert.Equal("hello\n", (await Proc.Curl("-s", $"http://127.0.0.1:{port}/hello")).StdOut);

        // istioctl's reads: /config_dump (listeners, clusters, routes with their status) and /clusters?format=json.
        var dump = await RawHttp.Exchange(cfg.AdminPort, "GET /config_dump?include_eds HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", TimeSpan.FromSeconds(5));
        using (JsonDocument doc = JsonDocument.Parse(dump.Body))
        {
            JsonElement listeners = doc.RootElement.GetProperty("configs").EnumerateArray()
                .Single(c => c.GetProperty("@type").GetString() == "type.googleapis.com/envoy.admin.v3.ListenersConfigDump").GetProperty("dynamic_listeners");
            JsonElement listener = Assert.Single(listeners.EnumerateArray());
            Assert.Equal("ACKED", listener.GetProperty("client_status").GetString());
            Assert.Equal(port, listener.GetProperty("active_state").GetProperty("listener").GetProperty("address").GetProperty("socket_address").GetProperty("port_value").GetInt32());
        }
        var clusters = await RawHttp.Exchange(cfg.AdminPort, "GET /clusters?format=json HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", TimeSpan.FromSeconds(5));
        using (JsonDocument doc = JsonDocument.Parse(clusters.Body))
        {
            // istioctl proxy-config endpoint: cluster_statuses[].host_statuses[].address.socket_address.
            JsonElement status = doc.RootElement.GetProperty("cluster_statuses").EnumerateArray().Single(c => c.GetProperty("name").GetString() == Cluster);
            JsonElement socket = Assert.Single(status.GetProperty("host_statuses").EnumerateArray()).GetProperty("address").GetProperty("socket_address");
            Assert.Equal(("127.0.0.1", _peers.NginxPort), (socket.GetProperty("address").GetString(), socket.GetProperty("port_value").GetInt32()));
        }
        Assert.False(sc.Process.HasExited);
        Assert.DoesNotContain("Operation not permitted", sc.Process.Output);
        // Nothing refused by the filter (before it loads, nothing here fails with EPERM either).
        var refused = File.ReadLines(trace).Where(l => l.Contains("EPERM", StringComparison.Ordinal)).ToList();
        Assert.True(refused.Count == 0, $"{refused.Count} syscall(s) refused by the filter:\n{string.Join('\n', refused.Take(20))}");
        output.WriteLine($"CA issued {ca.IssuedCount} certificates; fake istiod saw {fake.Events("stream").Count} stream(s)");
    }

    private static async Task Eventually(Func<Task<bool>> condition, string what, ConfinedSidecar sc, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (DateTime.UtcNow < deadline)
        {
            if (sc.Process.HasExited) Assert.Fail($"sidecar exited ({sc.Process.ExitCode}) waiting for {what}\n{sc.Process.Output}");
            if (await condition()) return;
            await Task.Delay(200);
        }
        Assert.Fail($"timed out waiting for {what}\n{ProcResult.Tail(sc.Process.Output, 4000)}");
    }
}
