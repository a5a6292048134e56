using System.Collections.Immutable;
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
    /// Builds the runtime for <paramref name="model"/>. With a <paramref name="previous"/> snapshot, a cluster whose
    /// definition did not change is carried over — same state, circuit breakers, pools and open connections — and only
    /// its endpoints are replaced, at <see cref="CommitEndpoints"/>, if they changed (EDS-style); everything else is new.
    /// The maps of the new snapshot are the previous ones copied and changed where the version differs, so a push that
    /// changes one cluster of 10,000 costs a copy and a pass of reference checks, not 10,000 runtimes or a rehash.
    /// Nothing in <paramref name="previous"/> is modified here.
    /// </summary>
    /// <exception cref="TlsBindingException">a cluster's TLS context names an SDS secret with no certificate source behind it.</exception>
    public static ProxySnapshot Build(BootstrapModel model, StatsStore stats, TlsBindings? tls = null, ProxySnapshot? previous = null)
    {
        tls ??= TlsBindings.None;
        NameDictionary<ClusterModel>? previousModels = previous?.Model.Clusters;
        var fresh = new List<ClusterModel>();
        var carried = new List<(ClusterRuntime Runtime, ClusterModel Model)>();
        var endpointUpdates = new List<PendingEndpoints>();
        int kept = 0;
        foreach (ClusterModel c in model.Clusters.Values)
        {
            // The model instance the serving version published: the runtime already holds exactly these endpoints
            // (xDS hands the same instance for a cluster whose CDS and EDS resources did not change). One probe.
            if (previousModels is not null && previousModels.TryGetValue(c.Name, out ClusterModel? published) && ReferenceEquals(published, c))
            {
                kept++;
                continue;
            }
            ClusterRuntime? old = null;
            if (previous is not null && previous.Clusters.TryGetValue(c.Name, out old)) kept++;
            if (old is not null && (ReferenceEquals(old.Model, c) || (c.Definition.Length > 0 && old.Model.Definition == c.Definition
                // DNS clusters resolve their load_assignment themselves: a changed host list is a new cluster.
                && (c.Type is DiscoveryType.Static or DiscoveryType.Eds || c.Localities.SequenceEqual(old.Model.Localities, LocalityComparer.Instance)))))
            {
                carried.Add((old, c));
            }
            else
            {
                fresh.Add(c);
            }
        }
        // New runtimes first: a TLS binding failure must leave the previous snapshot untouched.
        var created = new List<ClusterRuntime>(fresh.Count);
        foreach (ClusterModel c in fresh)
        {
            created.Add(new ClusterRuntime
            {
                Model = c,
                State = new ClusterState(c),
                StatsStore = stats,
                Pool = new Http1UpstreamPool(Math.Max(1, c.CircuitBreakers.MaxConnections), c.UpstreamIdleTimeout),
                Http2Pool = new Http2UpstreamPool(),
                Http2Options = Http2Options(c.Http2, maxHeaderListSize: 60 * 1024),
                Tls = c.Tls is { } t ? tls.BuildOriginator(t, c, stats) : null,
                TransportSocketMatches = [.. c.TransportSocketMatches.Select(m => (m.Match, m.Tls is { } mt ? tls.BuildOriginator(mt, c, stats) : null))],
            });
        }
        foreach ((ClusterRuntime old, ClusterModel c) in carried)
        {
            // A carried runtime keeps its first model; the endpoints its state holds are the last ones given to it.
            ImmutableArray<LocalityEndpointsModel> current = old.AppliedLocalities;
            // The same endpoint array (an unchanged EDS resource) needs no comparison either.
            // Not applied yet: the version may still be refused (a listener that cannot bind), and then the serving
            // clusters must keep their endpoints. CommitEndpoints applies them when the version is published.
            if (c.Localities != current && !c.Localities.SequenceEqual(current, LocalityComparer.Instance))
                endpointUpdates.Add(new PendingEndpoints(old, c.Localities));
        }

        // The maps: the previous ones changed where this version differs (or built whole the first time).
        Dictionary<string, ClusterRuntime> runtimes = previous?.Clusters.ToBuilder() ?? new(model.Clusters.Count, StringComparer.Ordinal);
        Dictionary<string, ClusterState> states = previous?.ClusterManager.Clusters.ToBuilder() ?? new(model.Clusters.Count, StringComparer.Ordinal);
        var dropped = new List<ClusterRuntime>();
        if (previous is not null && kept < previous.Clusters.Count)
        {
            foreach ((string name, ClusterRuntime r) in previous.Clusters)
            {
                if (model.Clusters.ContainsKey(name)) continue;
                dropped.Add(r);
                runtimes.Remove(name);
                states.Remove(name);
            }
        }
        foreach (ClusterRuntime r in created)
        {
            if (runtimes.TryGetValue(r.Model.Name, out ClusterRuntime? replaced)) dropped.Add(replaced);
            runtimes[r.Model.Name] = r;
            states[r.Model.Name] = r.State;
        }
        return new ProxySnapshot
        {
            Model = model,
            ClusterManager = new ClusterManager(new NameDictionary<ClusterState>(states)),
            Clusters = new NameDictionary<ClusterRuntime>(runtimes),
            FreshClusters = [.. fresh.Select(c => c.Name)],
            Dropped = [.. dropped],
            PendingEndpointUpdates = [.. endpointUpdates],
            BuiltOn = previous?.Generation ?? 0,
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
            update.Runtime.State.UpdateEndpoints(update.Localities);
            // The next version compares against these, so an endpoint set that changed once is not replaced again at
            // every later push.
            update.Runtime.AppliedLocalities = update.Localities;
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
