using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Runtime.CompilerServices;
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
    /// <summary>
    /// Endpoints given to a carried-over cluster state after its runtime was built (the runtime's model keeps the first
    /// ones): the next version compares against these, so an endpoint set that changed once is not replaced again at
    /// every later push. Weak: it goes with the state.
    /// </summary>
    private static readonly ConditionalWeakTable<ClusterState, AppliedLocalities> AppliedEndpoints = new();

    private sealed record AppliedLocalities(ImmutableArray<LocalityEndpointsModel> Localities);

    /// <summary>
    /// Builds the runtime for <paramref name="model"/>. With a <paramref name="previous"/> snapshot, a cluster whose
    /// definition did not change is carried over — same state, circuit breakers, pools and open connections — and only
    /// its endpoints are replaced, at <see cref="CommitEndpoints"/>, if they changed (EDS-style); everything else is new.
    /// Nothing in <paramref name="previous"/> is modified here.
    /// </summary>
    /// <exception cref="TlsBindingException">a cluster's TLS context names an SDS secret with no certificate source behind it.</exception>
    public static ProxySnapshot Build(BootstrapModel model, StatsStore stats, TlsBindings? tls = null, ProxySnapshot? previous = null)
    {
        tls ??= TlsBindings.None;
        var states = new Dictionary<string, ClusterState>(StringComparer.Ordinal);
        var clusters = new Dictionary<string, ClusterRuntime>(StringComparer.Ordinal);
        var fresh = new List<ClusterModel>();
        var carried = new List<(ClusterRuntime Runtime, ClusterModel Model)>();
        var endpointUpdates = new List<PendingEndpoints>();
        foreach (ClusterModel c in model.Clusters.Values)
        {
            // xDS hands the same model instance for a cluster whose CDS and EDS resources did not change: nothing to compare.
            if (previous is not null && previous.Clusters.TryGetValue(c.Name, out ClusterRuntime? same) && ReferenceEquals(same.Model, c))
            {
                carried.Add((same, c));
            }
            else if (previous is not null && c.Definition.Length > 0
                && previous.Clusters.TryGetValue(c.Name, out ClusterRuntime? old) && old.Model.Definition == c.Definition
                // DNS clusters resolve their load_assignment themselves: a changed host list is a new cluster.
                && (c.Type is DiscoveryType.Static or DiscoveryType.Eds || c.Localities.SequenceEqual(old.Model.Localities, LocalityComparer.Instance)))
            {
                carried.Add((old, c));
            }
            else
            {
                fresh.Add(c);
            }
        }
        // New runtimes first: a TLS binding failure must leave the previous snapshot untouched.
        var manager = new ClusterManager(fresh);
        foreach (ClusterModel c in fresh)
        {
            ClusterState state = manager.Clusters[c.Name];
            states[c.Name] = state;
            clusters[c.Name] = new ClusterRuntime
            {
                Model = c,
                State = state,
                StatsStore = stats,
                Pool = new Http1UpstreamPool(Math.Max(1, c.CircuitBreakers.MaxConnections), c.UpstreamIdleTimeout),
                Http2Pool = new Http2UpstreamPool(),
                Http2Options = Http2Options(c.Http2, maxHeaderListSize: 60 * 1024),
                Tls = c.Tls is { } t ? tls.BuildOriginator(t, c, stats) : null,
                TransportSocketMatches = [.. c.TransportSocketMatches.Select(m => (m.Match, m.Tls is { } mt ? tls.BuildOriginator(mt, c, stats) : null))],
            };
        }
        foreach ((ClusterRuntime old, ClusterModel c) in carried)
        {
            // A carried runtime keeps its first model; the endpoints its state holds are the last ones given to it.
            ImmutableArray<LocalityEndpointsModel> current = AppliedEndpoints.TryGetValue(old.State, out AppliedLocalities? applied) ? applied.Localities : old.Model.Localities;
            // The same endpoint array (an unchanged EDS resource) needs no comparison either.
            // Not applied yet: the version may still be refused (a listener that cannot bind), and then the serving
            // clusters must keep their endpoints. CommitEndpoints applies them when the version is published.
            if (c.Localities != current && !c.Localities.SequenceEqual(current, LocalityComparer.Instance))
                endpointUpdates.Add(new PendingEndpoints(old.State, c.Localities));
            states[c.Name] = old.State;
            clusters[c.Name] = old;
        }
        return new ProxySnapshot
        {
            Model = model,
            ClusterManager = new ClusterManager(states),
            Clusters = clusters.ToFrozenDictionary(StringComparer.Ordinal),
            FreshClusters = [.. fresh.Select(c => c.Name)],
            PendingEndpointUpdates = [.. endpointUpdates],
        };
    }

    /// <summary>
    /// At publish: gives the carried-over clusters of <paramref name="next"/> the endpoint sets that changed in this
    /// version (EDS). Until then the serving version's clusters keep theirs, so a refused version changes nothing.
    /// </summary>
    public static void CommitEndpoints(ProxySnapshot next)
    {
        foreach (PendingEndpoints update in next.PendingEndpointUpdates)
        {
            update.State.UpdateEndpoints(update.Localities);
            AppliedEndpoints.AddOrUpdate(update.State, new AppliedLocalities(update.Localities));
        }
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
        KeepaliveTimeout = m.ConnectionKeepalive?.Timeout ?? TimeSpan.Zero,
        KeepaliveInterval = m.ConnectionKeepalive?.Interval ?? TimeSpan.Zero,
        KeepaliveIntervalJitter = m.ConnectionKeepalive?.IntervalJitter ?? 0.15,
        KeepaliveIdleInterval = m.ConnectionKeepalive?.ConnectionIdleInterval ?? TimeSpan.Zero,
    };

    public static TcpChainRuntime BuildTcpChain(TcpProxyModel tcp, ProxySnapshot snapshot, StatsStore stats) => new()
    {
        Model = tcp,
        Stats = new TcpProxyStats(stats, tcp.StatPrefix),
        Snapshot = snapshot,
    };
}
