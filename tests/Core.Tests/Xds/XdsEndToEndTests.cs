using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Sidecar.Core.Config;
using Sidecar.Core.Config.Tree;
using Sidecar.Core.Grpc;
using Sidecar.Core.Tests.Listeners;
using Sidecar.Core.Tests.Proxy;
using Sidecar.Core.Tests.Tls;
using Sidecar.Core.Xds;
using Sidecar.Core.Xds.Decoding;
using Sidecar.Core.Xds.Integration;
using Xunit;
using static Sidecar.Core.Tests.Xds.FakeIstiod;

namespace Sidecar.Core.Tests.Xds;

/// <summary>
/// istiod (the fake) → ADS client → decoder → composer → the static-config translators → ListenerManager → traffic:
/// a pushed listener serves, an update is visible to new connections, a bad push is NACKed and the old version serves.
/// </summary>
public sealed class XdsEndToEndTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    private readonly ManagedProxy _proxy = new();
    private readonly CancellationTokenSource _stop = new();
    private FakeIstiod _fake = null!;
    private XdsConfigTranslator _translator = null!;
    private Task? _run;

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

    private static ConfigNode Yaml(string yaml) => ConfigLoader.ReadTree(yaml, isJson: false).Value!;

    private async Task PutAsync(string type, string name, string typeUrl, string yaml)
    {
        XdsEncodeResult encoded = ProtoTreeEncoder.Encode(typeUrl, Yaml(yaml));
        Assert.True(encoded.IsSuccess, encoded.ToString());
        await _fake.CommandAsync(new JsonObject { ["cmd"] = "putRaw", ["type"] = type, ["name"] = name, ["base64"] = Convert.ToBase64String(encoded.Bytes!) });
    }

    private static string Listener(int port) => $$"""
name: http_{{port}}
address: { socket_address: { address: 127.0.0.1, port_value: {{port}} } }
filter_chains:
- filters:
  - name: envoy.filters.network.http_connection_manager
    typed_config:
      "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
      stat_prefix: xds
      rds: { route_config_name: web, config_source: { ads: {}, resource_api_version: V3 } }
      http_filters: [{ name: envoy.filters.http.router, typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router } }]
""";

    private static string Route(string body) => $$"""
name: web
virtual_hosts:
- name: all
  domains: ["*"]
  routes:
  - { match: { prefix: "/direct" }, direct_response: { status: 200, body: { inline_string: "{{body}}" } } }
  - { match: { prefix: "/" }, route: { cluster: backend } }
""";

    private const string Cluster = """
name: backend
type: EDS
connect_timeout: 1s
eds_cluster_config: { service_name: backend-eds, eds_config: { ads: {}, resource_api_version: V3 } }
""";

    private static string Endpoints(int port) => $$"""
cluster_name: backend-eds
endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: {{port}} } } } }] }]
""";

    private void StartClient()
    {
        Assert.Equal(GrpcTargetError.None, GrpcChannelFactory.TryCreate(new GrpcTargetOptions($"127.0.0.1:{_fake.Port}") { Plaintext = true }, out GrpcConnection? connection));
        var options = new XdsClientOptions { BackoffBase = TimeSpan.FromMilliseconds(50), BackoffMax = TimeSpan.FromMilliseconds(400), TickInterval = TimeSpan.FromMilliseconds(100) };
        var client = new XdsClient(XdsTestResources.Node(), new GrpcXdsTransport(connection!), _translator, options, _proxy.Stats, NullLogger.Instance);
        _run = client.RunAsync(_stop.Token);
    }

    private static async Task<string> GetAsync(int port, string path)
    {
        return await Task.Run(() =>
        {
            using var c = new BlockingClient(new IPEndPoint(IPAddress.Loopback, port));
            c.Send(Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n"));
            int status = c.ReadResponse(out int head, out int body);
            return status + " " + Encoding.ASCII.GetString(c.Buffer.Slice(head, body));
        });
    }

    private static async Task EventuallyAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + Wait;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                if (await condition()) return;
            }
            catch (Exception ex) when (ex is System.Net.Sockets.SocketException or IOException)
            {
            }
            await Task.Delay(50);
        }
        Assert.Fail("timed out waiting for " + what);
    }

    [Fact]
    public async Task PushedConfigServesUpdatesAndBadPushesAreNackedWhileTheOldVersionServes()
    {
        using var backend = new FixedResponseBackend("from backend");
        int port = TlsTestPeers.FreePort();
        await PutAsync("CDS", "backend", XdsTypeUrls.Cluster, Cluster);
        await PutAsync("EDS", "backend-eds", XdsTypeUrls.ClusterLoadAssignment, Endpoints(backend.Port));
        await PutAsync("LDS", $"http_{port}", XdsTypeUrls.Listener, Listener(port));
        await PutAsync("RDS", "web", XdsTypeUrls.RouteConfiguration, Route("v1"));
        StartClient();

        await EventuallyAsync(async () => await GetAsync(port, "/direct") == "200 v1", "the pushed listener to serve");
        Assert.Equal("200 from backend", await GetAsync(port, "/"));

        // An RDS update: new connections see it.
        await PutAsync("RDS", "web", XdsTypeUrls.RouteConfiguration, Route("v2"));
        await _fake.PushAsync("RDS");
        await EventuallyAsync(async () => await GetAsync(port, "/direct") == "200 v2", "the route update");

        // A route naming a cluster that does not exist: NACKed with the reason, v2 keeps serving.
        int mark = _fake.Mark;
        await PutAsync("RDS", "web", XdsTypeUrls.RouteConfiguration, Route("v3").Replace("cluster: backend", "cluster: missing"));
        await _fake.PushAsync("RDS");
        var nack = await _fake.WaitForAsync(e => Is(e, "request") && Str(e, "type") == "RDS" && e.TryGetProperty("error", out _), mark, Wait, "the NACK");
        string reason = Str(nack.GetProperty("error"), "message");
        Assert.Contains("missing", reason);
        Assert.Equal("200 v2", await GetAsync(port, "/direct"));

        // /config_dump carries what serves, with real type URLs.
        string dump = XdsConfigDump.Render("{}", _translator.Published, includeEds: true);
        Assert.Contains("\"@type\": \"type.googleapis.com/envoy.admin.v3.ListenersConfigDump\"", dump);
        Assert.Contains("\"@type\":\"type.googleapis.com/envoy.config.listener.v3.Listener\"", dump);
        Assert.Contains("\"name\": \"http_" + port + "\"", dump);
        Assert.Contains("v2", dump);
        Assert.Contains("backend-eds", dump);
        System.Text.Json.JsonDocument.Parse(dump).Dispose(); // valid JSON
    }
}
