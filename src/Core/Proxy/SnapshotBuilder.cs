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
    public static ProxySnapshot Build(BootstrapModel model, StatsStore stats)
    {
        var manager = new ClusterManager(model.Clusters.Values);
        var clusters = new Dictionary<string, ClusterRuntime>(StringComparer.Ordinal);
        foreach (ClusterModel c in model.Clusters.Values)
        {
            if (!manager.TryGet(c.Name, out ClusterState? state)) continue;
            clusters[c.Name] = new ClusterRuntime
            {
                Model = c,
                State = state,
                Stats = new ClusterStats(stats, c.Name),
                Pool = new Http1UpstreamPool(Math.Max(1, c.CircuitBreakers.MaxConnections), c.UpstreamIdleTimeout),
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
    };

    public static TcpChainRuntime BuildTcpChain(TcpProxyModel tcp, ProxySnapshot snapshot, StatsStore stats) => new()
    {
        Model = tcp,
        Stats = new TcpProxyStats(stats, tcp.StatPrefix),
        Snapshot = snapshot,
    };
}
