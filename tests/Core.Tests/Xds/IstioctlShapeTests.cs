using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Sidecar.Core.Config;
using Sidecar.Core.Config.Model;
using Sidecar.Core.Grpc;
using Sidecar.Core.Tests.Config;
using Sidecar.Core.Tests.Listeners;
using Sidecar.Core.Tests.Tls;
using Sidecar.Core.Xds;
using Sidecar.Core.Xds.Decoding;
using Sidecar.Core.Xds.Integration;
using Xunit;

namespace Sidecar.Core.Tests.Xds;

/// <summary>
/// istioctl cannot run here, so this reads our /config_dump the way <c>istioctl proxy-config listeners|clusters|routes|
/// endpoints -f</c> does (istio istioctl/pkg/writer/envoy/configdump/{listener,cluster,route}.go, util/configdump): the
/// dump's <c>configs[]</c> picked by <c>@type</c>, <c>dynamic_listeners[].active_state.listener</c>,
/// <c>dynamic_active_clusters[].cluster</c>, <c>dynamic_route_configs[].route_config</c>,
/// <c>dynamic_endpoint_configs[].endpoint_config</c>, each resource typed by its <c>@type</c>; and checks it finds the
/// names and ports of our model. The same reader is first run on a real istio-proxy dump (istioctl's own test data), so
/// it walks the shape Envoy produces, and every entry of ours may only use fields the envoy.admin.v3 messages have.
/// </summary>
public sealed class IstioctlShapeTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    private const string Admin = "type.googleapis.com/envoy.admin.v3.";
    private readonly ManagedProxy _proxy = new();
    private readonly CancellationTokenSource _stop = new();
    private FakeIstiod _fake = null!;
    private XdsConfigTranslator _translator = null!;
    private XdsClient _client = null!;
    private Task? _run;

    /// <summary>The fields of each dump entry message (envoy/admin/v3/config_dump_shared.proto, config_dump.proto).</summary>
    private static readonly Dictionary<string, string[]> EntryFields = new()
    {
        ["dynamic_listeners"] = ["name", "active_state", "warming_state", "draining_state", "error_state", "client_status"],
        ["dynamic_active_clusters"] = ["version_info", "cluster", "last_updated", "error_state", "client_status"],
        ["dynamic_route_configs"] = ["version_info", "route_config", "last_updated", "error_state", "client_status"],
        ["dynamic_endpoint_configs"] = ["version_info", "endpoint_config", "last_updated", "error_state", "client_status"],
        ["dynamic_active_secrets"] = ["name", "version_info", "last_updated", "secret", "error_state", "client_status"],
    };

    public async Task InitializeAsync()
    {
        _fake = await FakeIstiod.StartAsync();
        _translator = new XdsConfigTranslator(null, model => _proxy.Manager.ApplyAsync(model).GetAwaiter().GetResult());
    }

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_run is not null) await _run.WaitAsync(TimeSpan.FromSeconds(10));
        await _fake.DisposeAsync();
        await _proxy.DisposeAsync();
    }

    /// <summary>What istioctl's summaries print, read as istioctl reads the dump.</summary>
    private sealed record IstioctlView(
        List<(string Name, string Address, int Port, string Type, List<string> Destinations)> Listeners,
        List<(string Name, string Type)> Clusters,
        List<(string Name, List<string> Domains, List<string> Matches)> Routes,
        List<(string Cluster, string Address, int Port)> Endpoints);

    private static IstioctlView Read(JsonElement dump)
    {
        var view = new IstioctlView([], [], [], []);
        foreach (JsonElement config in dump.GetProperty("configs").EnumerateArray())
        {
            switch (config.GetProperty("@type").GetString())
            {
                case Admin + "ListenersConfigDump":
                    foreach (JsonElement l in Items(config, "dynamic_listeners"))
                    {
                        if (!l.TryGetProperty("active_state", out JsonElement active) || !active.TryGetProperty("listener", out JsonElement listener)) continue;
                        Assert.Equal(XdsTypeUrls.Listener, listener.GetProperty("@type").GetString());
                        view.Listeners.Add(Listener(listener));
                    }
                    foreach (JsonElement l in Items(config, "static_listeners")) view.Listeners.Add(Listener(l.GetProperty("listener")));
                    break;
                case Admin + "ClustersConfigDump":
                    foreach (JsonElement c in Items(config, "dynamic_active_clusters").Concat(Items(config, "static_clusters")))
                    {
                        JsonElement cluster = c.GetProperty("cluster");
                        Assert.Equal(XdsTypeUrls.Cluster, cluster.GetProperty("@type").GetString());
                        // istioctl prints the discovery type; EDS clusters have type EDS (the default STATIC is omitted).
                        string type = cluster.TryGetProperty("type", out JsonElement t) ? t.GetString()! : cluster.TryGetProperty("cluster_type", out _) ? "CUSTOM" : "STATIC";
                        view.Clusters.Add((cluster.GetProperty("name").GetString()!, type));
                    }
                    break;
                case Admin + "RoutesConfigDump":
                    foreach (JsonElement r in Items(config, "dynamic_route_configs").Concat(Items(config, "static_route_configs")))
                    {
                        JsonElement route = r.GetProperty("route_config");
                        Assert.Equal(XdsTypeUrls.RouteConfiguration, route.GetProperty("@type").GetString());
                        var domains = new List<string>();
                        var matches = new List<string>();
                        foreach (JsonElement vh in Items(route, "virtual_hosts"))
                        {
                            domains.AddRange(Items(vh, "domains").Select(d => d.GetString()!));
                            foreach (JsonElement rt in Items(vh, "routes"))
                            {
                                JsonElement match = rt.GetProperty("match");
                                matches.Add(match.TryGetProperty("prefix", out JsonElement p) ? p.GetString() + "*" : match.TryGetProperty("path", out JsonElement x) ? x.GetString()! : "regex");
                            }
                        }
                        view.Routes.Add((route.GetProperty("name").GetString()!, domains, matches));
                    }
                    break;
                case Admin + "EndpointsConfigDump":
                    foreach (JsonElement e in Items(config, "dynamic_endpoint_configs").Concat(Items(config, "static_endpoint_configs")))
                    {
                        JsonElement cla = e.GetProperty("endpoint_config");
                        foreach (JsonElement locality in Items(cla, "endpoints"))
                        {
                            foreach (JsonElement lb in Items(locality, "lb_endpoints"))
                            {
                                if (!lb.TryGetProperty("endpoint", out JsonElement endpoint) || !endpoint.TryGetProperty("address", out JsonElement address)
                                    || !address.TryGetProperty("socket_address", out JsonElement socket)) continue; // e.g. internal/pipe addresses
                                view.Endpoints.Add((cla.GetProperty("cluster_name").GetString()!, socket.GetProperty("address").GetString()!, socket.GetProperty("port_value").GetInt32()));
                            }
                        }
                    }
                    break;
            }
        }
        return view;
    }

    /// <summary>istioctl's listener summary: address, port, HTTP/TCP by filter names, destination per chain.</summary>
    private static (string, string, int, string, List<string>) Listener(JsonElement listener)
    {
        // istioctl: l.Address.GetSocketAddress() — empty for internal listeners (no socket address).
        JsonElement socket = listener.TryGetProperty("address", out JsonElement a) && a.TryGetProperty("socket_address", out JsonElement sa) ? sa : default;
        int port = socket.ValueKind == JsonValueKind.Object && socket.TryGetProperty("port_value", out JsonElement p) ? p.GetInt32() : 0;
        string address = socket.ValueKind == JsonValueKind.Object && socket.TryGetProperty("address", out JsonElement ad) ? ad.GetString()! : "";
        int http = 0, tcp = 0;
        var destinations = new List<string>();
        var chains = Items(listener, "filter_chains").ToList();
        if (listener.TryGetProperty("default_filter_chain", out JsonElement dfc)) chains.Add(dfc);
        foreach (JsonElement chain in chains)
        {
            foreach (JsonElement filter in Items(chain, "filters"))
            {
                string name = filter.GetProperty("name").GetString()!;
                JsonElement typed = filter.TryGetProperty("typed_config", out JsonElement tc) ? tc : default;
                if (name == "envoy.filters.network.http_connection_manager")
                {
                    http++;
                    destinations.Add(typed.TryGetProperty("rds", out JsonElement rds) ? "Route: " + rds.GetProperty("route_config_name").GetString() : "Inline Route");
                }
                else if (name == "envoy.filters.network.tcp_proxy")
                {
                    // istioctl does not count a tcp_proxy to the BlackHoleCluster as TCP.
                    if (!typed.ToString().Contains("BlackHoleCluster", StringComparison.Ordinal)) tcp++;
                    destinations.Add(typed.TryGetProperty("cluster", out JsonElement cluster) ? "Cluster: " + cluster.GetString() : "weighted clusters");
                }
            }
        }
        string type = http > 0 ? (tcp == 0 ? "HTTP" : "HTTP+TCP") : tcp > 0 ? "TCP" : "UNKNOWN";
        return (listener.TryGetProperty("name", out JsonElement n) ? n.GetString()! : "", address, port, type, destinations);
    }

    private static IEnumerable<JsonElement> Items(JsonElement e, string property) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(property, out JsonElement a) && a.ValueKind == JsonValueKind.Array ? a.EnumerateArray() : [];

    [Fact]
    public void TheReaderWalksARealIstioProxyDump()
    {
        string dumps = Path.Combine(RepoPaths.RepoRoot, "..", "shared", "conformance", "istio", "envoy-config-dumps");
        // A 2023 sidecar's listeners (27 dynamic): virtualInbound and HTTP listeners on RDS.
        using JsonDocument sidecar = JsonDocument.Parse(File.ReadAllText(Path.Combine(dumps, "authz", "configdump.yaml")));
        IstioctlView listeners = Read(sidecar.RootElement);
        Assert.Equal(29, listeners.Listeners.Count);
        Assert.Contains(listeners.Listeners, l => l.Port == 15006 && l.Name == "virtualInbound");
        Assert.Contains(listeners.Listeners, l => l.Type.StartsWith("HTTP", StringComparison.Ordinal) && l.Destinations.Contains("Route: 9080"));
        Assert.Contains(listeners.Listeners, l => l.Type == "TCP");
        // istioctl proxyconfig's full dump: clusters (EDS), routes, endpoints.
        using JsonDocument full = JsonDocument.Parse(File.ReadAllText(Path.Combine(dumps, "proxyconfig", "config_dump.json")));
        IstioctlView view = Read(full.RootElement);
        Assert.Equal(3, view.Clusters.Count);
        Assert.NotEmpty(view.Routes);
        Assert.NotEmpty(view.Endpoints);
    }

    [Fact]
    public void TheBootstrapsStaticResourcesAreListedWhereIstioctlLooks()
    {
        const string bootstrap = """
{ "static_resources": {
  "listeners": [{ "name": "0.0.0.0_15090", "address": { "socket_address": { "address": "0.0.0.0", "port_value": 15090 } },
    "filter_chains": [{ "filters": [{ "name": "envoy.filters.network.http_connection_manager", "typed_config": {
      "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager", "stat_prefix": "stats",
      "route_config": { "virtual_hosts": [{ "name": "backend", "domains": ["*"], "routes": [{ "match": { "prefix": "/stats/prometheus" }, "route": { "cluster": "prometheus_stats" } }] }] } } }] }] }],
  "clusters": [{ "name": "prometheus_stats", "type": "STATIC", "connect_timeout": "0.250s" }] } }
""";
        using JsonDocument doc = JsonDocument.Parse(XdsConfigDump.Render(bootstrap, [], includeEds: false, XdsStatusView.Empty));
        IstioctlView view = Read(doc.RootElement);
        var listener = Assert.Single(view.Listeners);
        Assert.Equal(("0.0.0.0_15090", "0.0.0.0", 15090, "HTTP"), (listener.Name, listener.Address, listener.Port, listener.Type));
        Assert.Equal(("prometheus_stats", "STATIC"), Assert.Single(view.Clusters));
        // A bootstrap without static resources (or "{}") adds no static lists.
        Assert.DoesNotContain("static_listeners", XdsConfigDump.Render("{}", [], includeEds: false));
    }

    private async Task PutAsync(string type, string name, string typeUrl, string json)
    {
        XdsEncodeResult encoded = ProtoTreeEncoder.Encode(typeUrl, ConfigLoader.ReadTree(json, isJson: true).Value!);
        Assert.True(encoded.IsSuccess, encoded.ToString());
        await _fake.CommandAsync(new JsonObject { ["cmd"] = "putRaw", ["type"] = type, ["name"] = name, ["base64"] = Convert.ToBase64String(encoded.Bytes!) });
    }

    [Fact]
    public async Task OurDumpReadAsIstioctlReadsItShowsTheModel()
    {
        int httpPort = TlsTestPeers.FreePort();
        int tcpPort = TlsTestPeers.FreePort();
        await PutAsync("CDS", "outbound|8080||backend.default.svc.cluster.local", XdsTypeUrls.Cluster, """
{ "name": "outbound|8080||backend.default.svc.cluster.local", "type": "EDS", "connect_timeout": "1s",
  "eds_cluster_config": { "service_name": "outbound|8080||backend.default.svc.cluster.local", "eds_config": { "ads": {}, "resource_api_version": "V3" } } }
""");
        await PutAsync("EDS", "outbound|8080||backend.default.svc.cluster.local", XdsTypeUrls.ClusterLoadAssignment, """
{ "cluster_name": "outbound|8080||backend.default.svc.cluster.local",
  "endpoints": [{ "lb_endpoints": [
    { "endpoint": { "address": { "socket_address": { "address": "127.0.0.1", "port_value": 18081 } } } },
    { "endpoint": { "address": { "socket_address": { "address": "127.0.0.2", "port_value": 18082 } } } } ] }] }
""");
        await PutAsync("LDS", $"0.0.0.0_{httpPort}", XdsTypeUrls.Listener, $$"""
{ "name": "0.0.0.0_{{httpPort}}", "address": { "socket_address": { "address": "127.0.0.1", "port_value": {{httpPort}} } },
  "filter_chains": [{ "filters": [{ "name": "envoy.filters.network.http_connection_manager", "typed_config": {
    "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager", "stat_prefix": "outbound_0.0.0.0_8080",
    "rds": { "route_config_name": "8080", "config_source": { "ads": {}, "resource_api_version": "V3" } },
    "http_filters": [{ "name": "envoy.filters.http.router", "typed_config": { "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" } }] } }] }] }
""");
        await PutAsync("LDS", $"127.0.0.1_{tcpPort}", XdsTypeUrls.Listener, $$"""
{ "name": "127.0.0.1_{{tcpPort}}", "address": { "socket_address": { "address": "127.0.0.1", "port_value": {{tcpPort}} } },
  "filter_chains": [{ "filters": [{ "name": "envoy.filters.network.tcp_proxy", "typed_config": {
    "@type": "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy", "stat_prefix": "tcp",
    "cluster": "outbound|8080||backend.default.svc.cluster.local" } }] }] }
""");
        await PutAsync("RDS", "8080", XdsTypeUrls.RouteConfiguration, """
{ "name": "8080", "virtual_hosts": [{ "name": "backend.default.svc.cluster.local:8080", "domains": ["backend.default.svc.cluster.local", "backend"],
  "routes": [{ "match": { "prefix": "/" }, "route": { "cluster": "outbound|8080||backend.default.svc.cluster.local" } }] }] }
""");

        Assert.Equal(GrpcTargetError.None, GrpcChannelFactory.TryCreate(new GrpcTargetOptions($"127.0.0.1:{_fake.Port}") { Plaintext = true }, out GrpcConnection? connection));
        var options = new XdsClientOptions { BackoffBase = TimeSpan.FromMilliseconds(50), TickInterval = TimeSpan.FromMilliseconds(100) };
        _client = new XdsClient(XdsTestResources.Node(), new GrpcXdsTransport(connection!), _translator, options, _proxy.Stats, NullLogger.Instance);
        _run = _client.RunAsync(_stop.Token);
        var deadline = DateTime.UtcNow + Wait;
        while (_translator.LastModel is null && DateTime.UtcNow < deadline) await Task.Delay(50);
        BootstrapModel model = Assert.IsType<BootstrapModel>(_translator.LastModel);

        string dump = XdsConfigDump.Render("{}", _translator.Published, includeEds: true, _client.Status);
        using JsonDocument doc = JsonDocument.Parse(dump);
        IstioctlView view = Read(doc.RootElement);

        // proxy-config listeners: every model listener, at its address and port, of the right type and destination.
        Assert.Equal(model.Listeners.Select(l => l.Name).Order(), view.Listeners.Select(l => l.Name).Order());
        foreach (ListenerModel l in model.Listeners)
        {
            var shown = view.Listeners.Single(v => v.Name == l.Name);
            Assert.Equal((l.Address.Address.ToString(), l.Address.Port), (shown.Address, shown.Port));
        }
        var httpListener = view.Listeners.Single(l => l.Port == httpPort);
        Assert.Equal("HTTP", httpListener.Type);
        Assert.Equal(["Route: 8080"], httpListener.Destinations);
        var tcpListener = view.Listeners.Single(l => l.Port == tcpPort);
        Assert.Equal("TCP", tcpListener.Type);
        Assert.Equal(["Cluster: outbound|8080||backend.default.svc.cluster.local"], tcpListener.Destinations);

        // proxy-config clusters: the model's clusters (istioctl splits the name into direction|port|subset|FQDN).
        Assert.Equal(model.Clusters.Keys.Order(), view.Clusters.Select(c => c.Name).Order());
        Assert.Equal("EDS", view.Clusters.Single().Type);

        // proxy-config routes: name, domains, match.
        var route = Assert.Single(view.Routes);
        Assert.Equal("8080", route.Name);
        Assert.Equal(["backend.default.svc.cluster.local", "backend"], route.Domains);
        Assert.Equal(["/*"], route.Matches);

        // Endpoints (EndpointsConfigDump; istioctl's endpoint command reads /clusters?format=json, checked by the binary's test).
        var modelEndpoints = model.Clusters.Values.SelectMany(c => c.Localities.SelectMany(l => l.Endpoints.Select(e => (c.Name, e.Host, e.Port)))).Order().ToList();
        Assert.Equal(modelEndpoints, view.Endpoints.Order().ToList());
        Assert.Equal(2, modelEndpoints.Count);

        // Every entry uses only fields of its envoy.admin.v3 message, with CSDS status on each.
        foreach (JsonElement config in doc.RootElement.GetProperty("configs").EnumerateArray())
        {
            foreach (JsonProperty list in config.EnumerateObject())
            {
                if (!EntryFields.TryGetValue(list.Name, out string[]? allowed)) continue;
                foreach (JsonElement entry in list.Value.EnumerateArray())
                {
                    Assert.All(entry.EnumerateObject(), p => Assert.Contains(p.Name, allowed));
                    Assert.Equal("ACKED", entry.GetProperty("client_status").GetString());
                }
            }
        }
    }
}
