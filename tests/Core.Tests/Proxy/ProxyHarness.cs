using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Net;
using Sidecar.Core.Config.Model;
using Sidecar.Core.Lifecycle;
using Sidecar.Core.Listeners;
using Sidecar.Core.Proxy;
using Sidecar.Core.Telemetry;
using Sidecar.Core.Transport;

namespace Sidecar.Core.Tests.Proxy;

/// <summary>The whole proxy in-process on loopback: one HTTP listener on an ephemeral port → one STATIC cluster.</summary>
internal sealed class ProxyHarness : IAsyncDisposable
{
    private readonly ListenerRuntime _listener;
    private readonly ProxySnapshot _snapshot;
    private readonly UpstreamConnector _connector;

    public Drain Drain { get; } = new();
    public Heartbeat Heartbeat { get; } = new();
    public StatsStore Stats { get; } = new();
    public IPEndPoint EndPoint => (IPEndPoint)_listener.BoundEndPoint!;

    private ProxyHarness(BootstrapModel model, TlsBindings? tls)
    {
        var transport = new TransportSettings();
        _connector = new UpstreamConnector(transport);
        _snapshot = SnapshotBuilder.Build(model, Stats, tls);
        var services = new ProxyServices { Drain = Drain, Heartbeat = Heartbeat, Connector = _connector, Transport = transport, Tls = tls ?? TlsBindings.None };
        _listener = new ListenerRuntime(model.Listeners[0], _snapshot, services, Stats);
    }

    /// <param name="tls">SDS bindings (the workload certificate source) for configs with TLS contexts.</param>
    public static async Task<ProxyHarness> StartAsync(BootstrapModel model, TlsBindings? tls = null)
    {
        var h = new ProxyHarness(model, tls);
        await h._listener.StartAsync(CancellationToken.None);
        return h;
    }

    public static BootstrapModel HttpModel(int upstreamPort, Func<RouteActionModel, RouteActionModel>? action = null, HttpConnectionManagerModel? hcmOverride = null)
    {
        var route = new RouteModel
        {
            Match = new RouteMatchModel { Kind = PathMatchKind.Prefix, Value = "/" },
            Action = action?.Invoke(new RouteActionModel { Cluster = "backend" }) ?? new RouteActionModel { Cluster = "backend" },
        };
        var hcm = hcmOverride ?? new HttpConnectionManagerModel
        {
            StatPrefix = "ingress_http",
            RouteConfig = new RouteConfigModel
            {
                VirtualHosts = [new VirtualHostModel { Name = "all", Domains = ["*"], Routes = [route] }],
            },
        };
        var cluster = new ClusterModel
        {
            Name = "backend",
            Type = DiscoveryType.Static,
            ConnectTimeout = TimeSpan.FromSeconds(1),
            Localities = [new LocalityEndpointsModel { Endpoints = [new EndpointModel { Host = "127.0.0.1", Port = upstreamPort, Address = IPAddress.Loopback }] }],
        };
        return new BootstrapModel
        {
            Admin = null,
            Listeners =
            [
                new ListenerModel
                {
                    Name = "l0",
                    Address = new IPEndPoint(IPAddress.Loopback, 0),
                    FilterChains = [new FilterChainModel { Match = FilterChainMatchModel.Any, Http = hcm }],
                },
            ],
            Clusters = new Dictionary<string, ClusterModel> { ["backend"] = cluster }.ToFrozenDictionary(),
        };
    }

    /// <summary>The value of the first stat whose name ends with <paramref name="suffix"/>, or -1.</summary>
    public long Stat(string suffix)
    {
        foreach (string line in Stats.RenderText().Split('\n'))
        {
            int colon = line.LastIndexOf(':');
            if (colon > 0 && line[..colon].EndsWith(suffix, StringComparison.Ordinal)) return long.Parse(line[(colon + 1)..].Trim());
        }
        return -1;
    }

    public async ValueTask DisposeAsync()
    {
        await _listener.StopAcceptingAsync();
        await Drain.DrainAsync(TimeSpan.FromSeconds(2));
        await _listener.DisposeAsync();
        _snapshot.Dispose();
        Heartbeat.Dispose();
        _connector.Dispose();
        Drain.Dispose();
    }
}
