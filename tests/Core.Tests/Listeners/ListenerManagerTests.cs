using System.Net;
using System.Net.Sockets;
using System.Text;
using Sidecar.Core.Config;
using Sidecar.Core.Config.Model;
using Sidecar.Core.Listeners;
using Sidecar.Core.Proxy;
using Sidecar.Core.Tests.Proxy;
using Sidecar.Core.Tests.Tls;
using Xunit;

namespace Sidecar.Core.Tests.Listeners;

/// <summary>Config versions applied whole: published at once, refused whole, connections keep their version, clusters carried over.</summary>
public sealed class ListenerManagerTests : IAsyncLifetime
{
    private readonly ManagedProxy _proxy = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _proxy.DisposeAsync();

    private static BootstrapModel Config(int port, string body, int backendPort, string listenerName = "l", string clusterTimeout = "1s")
    {
        string yaml = $$"""
static_resources:
  listeners:
  - name: {{listenerName}}
    address: { socket_address: { address: 127.0.0.1, port_value: {{port}} } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: in
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - { match: { prefix: "/direct" }, direct_response: { status: 200, body: { inline_string: "{{body}}" } } }
              - { match: { prefix: "/" }, route: { cluster: backend } }
          http_filters: [{ name: envoy.filters.http.router, typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router } }]
  clusters:
  - name: backend
    connect_timeout: {{clusterTimeout}}
    load_assignment: { cluster_name: backend, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: {{backendPort}} } } } }] }] }
""";
        ConfigResult<BootstrapModel> r = ConfigLoader.LoadText(yaml, isJson: false);
        Assert.True(r.IsSuccess, string.Join("\n", r.Errors.Select(ConfigErrorFormatter.FormatOne)));
        return r.Value!;
    }

    private static string Get(BlockingClient client, string path)
    {
        client.Send(Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n"));
        int status = client.ReadResponse(out int head, out int body);
        return status + " " + Encoding.ASCII.GetString(client.Buffer.Slice(head, body));
    }

    [Fact]
    public async Task NewConnectionsAndTheNextRequestOfOpenOnesSeeTheNewVersion()
    {
        int port = TlsTestPeers.FreePort();
        Assert.Null(await _proxy.Manager.ApplyAsync(Config(port, "v1", 1)));
        var ep = new IPEndPoint(IPAddress.Loopback, port);
        using var early = new BlockingClient(ep);
        Assert.Equal("200 v1", Get(early, "/direct"));

        ListenerRuntime before = Assert.Single(_proxy.Manager.Listeners);
        Assert.Null(await _proxy.Manager.ApplyAsync(Config(port, "v2", 1)));
        Assert.Same(before, Assert.Single(_proxy.Manager.Listeners)); // same socket, new chains

        using var late = new BlockingClient(ep);
        Assert.Equal("200 v2", Get(late, "/direct"));
        // The open keep-alive connection takes the new routes at its next request (Envoy applies RDS this way).
        Assert.Equal("200 v2", Get(early, "/direct"));
    }

    [Fact]
    public async Task UnchangedClustersAreCarriedOverAndOnlyTheirEndpointsMove()
    {
        using var a = new FixedResponseBackend("from a");
        using var b = new FixedResponseBackend("from b");
        int port = TlsTestPeers.FreePort();
        var ep = new IPEndPoint(IPAddress.Loopback, port);
        Assert.Null(await _proxy.Manager.ApplyAsync(Config(port, "x", a.Port)));
        ClusterRuntime first = _proxy.Manager.Current!.Clusters["backend"];
        using (var c = new BlockingClient(ep)) Assert.Equal("200 from a", Get(c, "/"));

        // Endpoints only: the same runtime (state, pools) with the new endpoint set.
        Assert.Null(await _proxy.Manager.ApplyAsync(Config(port, "x", b.Port)));
        Assert.Same(first, _proxy.Manager.Current!.Clusters["backend"]);
        using (var c = new BlockingClient(ep)) Assert.Equal("200 from b", Get(c, "/"));

        // A changed definition is a new cluster.
        Assert.Null(await _proxy.Manager.ApplyAsync(Config(port, "x", b.Port, clusterTimeout: "2s")));
        Assert.NotSame(first, _proxy.Manager.Current!.Clusters["backend"]);
        using (var c = new BlockingClient(ep)) Assert.Equal("200 from b", Get(c, "/"));
    }

    [Fact]
    public async Task AVersionThatCannotBindIsRefusedWholeAndTheOldOneKeepsServing()
    {
        int port = TlsTestPeers.FreePort();
        Assert.Null(await _proxy.Manager.ApplyAsync(Config(port, "good", 1)));
        using var squatter = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        squatter.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        squatter.Listen();
        int taken = ((IPEndPoint)squatter.LocalEndPoint!).Port;
        ProxySnapshot before = _proxy.Manager.Current!;

        string? error = await _proxy.Manager.ApplyAsync(Config(taken, "bad", 1, listenerName: "other"));
        Assert.NotNull(error);
        Assert.Contains("cannot bind", error);
        Assert.Same(before, _proxy.Manager.Current);
        using var c = new BlockingClient(new IPEndPoint(IPAddress.Loopback, port));
        Assert.Equal("200 good", Get(c, "/direct"));
    }

    [Fact]
    public async Task ARefusedVersionLeavesTheServingClustersEndpointsAsTheyWere()
    {
        using var a = new FixedResponseBackend("from a");
        using var b = new FixedResponseBackend("from b");
        int port = TlsTestPeers.FreePort();
        Assert.Null(await _proxy.Manager.ApplyAsync(Config(port, "x", a.Port)));
        using var squatter = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        squatter.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        squatter.Listen();
        int taken = ((IPEndPoint)squatter.LocalEndPoint!).Port;

        // The carried-over cluster gets new endpoints in this version, but the version cannot bind its listener.
        string? error = await _proxy.Manager.ApplyAsync(Config(taken, "x", b.Port, listenerName: "other"));
        Assert.NotNull(error);
        using (var c = new BlockingClient(new IPEndPoint(IPAddress.Loopback, port))) Assert.Equal("200 from a", Get(c, "/"));

        // The next good version that changes them does move them.
        Assert.Null(await _proxy.Manager.ApplyAsync(Config(port, "x", b.Port)));
        using (var c = new BlockingClient(new IPEndPoint(IPAddress.Loopback, port))) Assert.Equal("200 from b", Get(c, "/"));
    }

    [Fact]
    public async Task ARemovedListenerStopsAcceptingWhileItsOpenConnectionsFinish()
    {
        int port1 = TlsTestPeers.FreePort();
        int port2 = TlsTestPeers.FreePort();
        Assert.Null(await _proxy.Manager.ApplyAsync(Config(port1, "one", 1, listenerName: "one")));
        using var open = new BlockingClient(new IPEndPoint(IPAddress.Loopback, port1));
        Assert.Equal("200 one", Get(open, "/direct"));

        Assert.Null(await _proxy.Manager.ApplyAsync(Config(port2, "two", 1, listenerName: "two")));
        Assert.Equal("two", Assert.Single(_proxy.Manager.Listeners).Model.Name);
        Assert.Throws<SocketException>(() => new BlockingClient(new IPEndPoint(IPAddress.Loopback, port1)).Dispose());
        Assert.Equal("200 one", Get(open, "/direct"));
        using var fresh = new BlockingClient(new IPEndPoint(IPAddress.Loopback, port2));
        Assert.Equal("200 two", Get(fresh, "/direct"));
    }

    [Fact]
    public async Task AListenerWithBindToPortFalseIsRegisteredButNotBound()
    {
        int port = TlsTestPeers.FreePort();
        string yaml = $$"""
static_resources:
  listeners:
  - name: virtual_{{port}}
    address: { socket_address: { address: 127.0.0.1, port_value: {{port}} } }
    bind_to_port: false
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: in
          route_config: { virtual_hosts: [{ name: all, domains: ["*"], routes: [{ match: { prefix: "/" }, direct_response: { status: 200 } }] }] }
          http_filters: [{ name: envoy.filters.http.router, typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router } }]
""";
        ConfigResult<BootstrapModel> r = ConfigLoader.LoadText(yaml, isJson: false);
        Assert.True(r.IsSuccess, string.Join("\n", r.Errors.Select(ConfigErrorFormatter.FormatOne)));
        Assert.Null(await _proxy.Manager.ApplyAsync(r.Value!));
        ListenerRuntime l = Assert.Single(_proxy.Manager.Listeners);
        Assert.Null(l.BoundEndPoint);
        Assert.Throws<SocketException>(() => new BlockingClient(new IPEndPoint(IPAddress.Loopback, port)).Dispose());
    }
}
