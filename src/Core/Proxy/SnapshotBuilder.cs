using System.Collections.Frozen;
using System.Text;
using Sidecar.Core.Balancing;
using Sidecar.Core.Config.Model;
using Sidecar.Core.Pools;
using Sidecar.Core.Routing;
using Sidecar.Core.Telemetry;

namespace Sidecar.Core.Proxy;

/// <summary>Compiles a validated <see cref="BootstrapModel"/> into the runtime objects the data path reads.</summary>
public static class SnapshotBuilder
{
    /// <exception cref="TlsBindingException">a cluster's TLS context names an SDS secret with no certificate source behind it.</exception>
    public static ProxySnapshot Build(BootstrapModel model, StatsStore stats, TlsBindings? tls = null)
    {
        tls ??= TlsBindings.None;
        var manager = new ClusterManager(model.Clusters.Values);
        var clusters = new Dictionary<string, ClusterRuntime>(StringComparer.Ordinal);
        foreach (ClusterModel c in model.Clusters.Values)
        {
            if (!manager.TryGet(c.Name, out ClusterState? state) || state is null) continue;
            clusters[c.Name] = new ClusterRuntime
            {
                Model = c,
                State = state,
                Stats = new ClusterStats(stats, c.Name),
                Pool = new Http1UpstreamPool(Math.Max(1, c.CircuitBreakers.MaxConnections), c.UpstreamIdleTimeout),
                Http2Pool = new Http2UpstreamPool(),
                Http2Options = Http2Options(c.Http2, maxHeaderListSize: 60 * 1024),
                Http2Stats = new Http2Stats(stats, "cluster." + c.Name + "."),
                Tls = c.Tls is { } t ? tls.BuildOriginator(t, c, stats) : null,
            };
        }
        return new ProxySnapshot { Model = model, ClusterManager = manager, Clusters = clusters.ToFrozenDictionary(StringComparer.Ordinal) };
    }

    public static HttpChainRuntime BuildHttpChain(HttpConnectionManagerModel hcm, ProxySnapshot snapshot, StatsStore stats) => new()
    {
        Model = hcm,
        Routes = RouteTable.Build(hcm.RouteConfig),
        Stats = new HttpStats(stats, hcm.StatPrefix),
        Snapshot = snapshot,
        ServerName = Encoding.ASCII.GetBytes(hcm.ServerName),
        Http2Options = Http2Options(hcm.Http2, hcm.MaxRequestHeadersBytes),
        Http2Stats = new Http2Stats(stats, "http." + hcm.StatPrefix + "."),
    };

    /// <summary>The codec's limits from Envoy's Http2ProtocolOptions (and the connection manager's header limit).</summary>
    public static Sidecar.Core.Http2.Http2ConnectionOptions Http2Options(Http2ProtocolOptionsModel m, int maxHeaderListSize) => new()
    {
        HeaderTableSize = m.HpackTableSize,
        MaxConcurrentStreams = m.MaxConcurrentStreams,
        InitialStreamWindowSize = m.InitialStreamWindowSize,
        InitialConnectionWindowSize = m.InitialConnectionWindowSize,
        AllowConnectProtocol = m.AllowConnect,
        ControlFrameBurst = m.MaxOutboundControlFrames,
        MaxConsecutiveEmptyFrames = m.MaxConsecutiveInboundFramesWithEmptyPayload,
        MaxPriorityFramesPerStream = m.MaxInboundPriorityFramesPerStream,
        MaxHeaderListSize = maxHeaderListSize,
    };

    public static TcpChainRuntime BuildTcpChain(TcpProxyModel tcp, ProxySnapshot snapshot, StatsStore stats) => new()
    {
        Model = tcp,
        Stats = new TcpProxyStats(stats, tcp.StatPrefix),
        Snapshot = snapshot,
    };
}
