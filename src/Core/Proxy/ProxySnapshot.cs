using Sidecar.Core.Balancing;
using Sidecar.Core.Config.Model;
using Sidecar.Core.Http1;
using Sidecar.Core.Pools;
using Sidecar.Core.Routing;
using Sidecar.Core.Telemetry;

namespace Sidecar.Core.Proxy;

/// <summary>
/// What the data path reads for one connection: the immutable config model plus the runtime objects
/// compiled from it (route tables, cluster state, pools, stats). Built once per config version; each
/// listener compiles its chains from it at start, so a connection reads one consistent version (the xDS
/// issue adds the swap: a new snapshot, new chains, one reference write).
/// </summary>
public sealed class ProxySnapshot : IDisposable
{
    public required BootstrapModel Model { get; init; }
    public required ClusterManager ClusterManager { get; init; }
    public required NameDictionary<ClusterRuntime> Clusters { get; init; }

    /// <summary>Clusters created for this snapshot (the others were carried over from the previous one).</summary>
    public System.Collections.Immutable.ImmutableArray<string> FreshClusters { get; init; } = [];

    /// <summary>The runtimes of the snapshot this one was built on (<see cref="BuiltOn"/>) that it did not carry over.</summary>
    public System.Collections.Immutable.ImmutableArray<ClusterRuntime> Dropped { get; init; } = [];

    private static long s_generations;

    /// <summary>Tells snapshots apart without keeping a reference to the previous one (which would keep every version alive).</summary>
    public long Generation { get; } = Interlocked.Increment(ref s_generations);

    /// <summary>The <see cref="Generation"/> of the snapshot this one was built from (0: none).</summary>
    public long BuiltOn { get; init; }

    /// <summary>Endpoint sets of carried-over clusters that this version changes, applied when it is published.</summary>
    public System.Collections.Immutable.ImmutableArray<PendingEndpoints> PendingEndpointUpdates { get; init; } = [];

    /// <summary>
    /// After <paramref name="next"/> is published: closes the clusters of this snapshot that <paramref name="next"/> did
    /// not carry over. Idle pooled connections close now; exchanges still running on them finish on their own.
    /// </summary>
    public void Retire(ProxySnapshot next)
    {
        if (next.BuiltOn == Generation)
        {
            // Built from this one: what it did not carry is known, no pass over every cluster.
            foreach (ClusterRuntime c in next.Dropped) Close(c);
            return;
        }
        foreach ((string name, ClusterRuntime c) in Clusters)
        {
            if (next.Clusters.TryGetValue(name, out ClusterRuntime? kept) && ReferenceEquals(kept, c)) continue;
            Close(c);
        }
    }

    /// <summary>DNS warming of the clusters created for this snapshot (carried-over ones are already resolving).</summary>
    public Task InitializeAsync(CancellationToken cancellationToken = default)
    {
        var fresh = new List<ClusterState>(FreshClusters.Length);
        foreach (string name in FreshClusters) fresh.Add(Clusters[name].State);
        return ClusterManager.WarmAsync(fresh, cancellationToken);
    }

    /// <summary>This snapshot was refused after it was built: close what it created, keep what it borrowed.</summary>
    public void DiscardFresh()
    {
        foreach (string name in FreshClusters) Close(Clusters[name]);
    }

    public void Dispose()
    {
        foreach (var c in Clusters.Values) Close(c);
    }

    private static void Close(ClusterRuntime c)
    {
        c.Pool.Dispose();
        c.Http2Pool.Dispose();
        c.State.Dispose();
    }
}

/// <summary>Structural equality of endpoint lists (models are classes without value equality).</summary>
internal sealed class LocalityComparer : IEqualityComparer<LocalityEndpointsModel>
{
    public static readonly LocalityComparer Instance = new();

    public bool Equals(LocalityEndpointsModel? x, LocalityEndpointsModel? y)
    {
        if (ReferenceEquals(x, y)) return true;
        if (x is null || y is null) return false;
        if (x.Region != y.Region || x.Zone != y.Zone || x.SubZone != y.SubZone || x.Weight != y.Weight || x.Priority != y.Priority
            || x.Endpoints.Length != y.Endpoints.Length) return false;
        for (int i = 0; i < x.Endpoints.Length; i++)
        {
            EndpointModel a = x.Endpoints[i], b = y.Endpoints[i];
            if (a.Host != b.Host || a.Port != b.Port || a.Weight != b.Weight || !Equals(a.Address, b.Address)) return false;
        }
        return true;
    }

    public int GetHashCode(LocalityEndpointsModel obj) => HashCode.Combine(obj.Region, obj.Zone, obj.Endpoints.Length);
}

/// <summary>A cluster's runtime: balancing/circuit-breaker state, its connection pool and stats.</summary>
public sealed class ClusterRuntime : IUpstreamConnectionOwner
{
    private ClusterStats? _stats;
    private Http2Stats? _http2Stats;

    public required ClusterModel Model { get; init; }
    public required ClusterState State { get; init; }

    /// <summary>
    /// The endpoints <see cref="State"/> holds: the model's at first, then the last set a published version gave this
    /// carried-over runtime (<see cref="SnapshotBuilder.CommitEndpoints"/>). Written only while a version is applied.
    /// </summary>
    internal System.Collections.Immutable.ImmutableArray<LocalityEndpointsModel> AppliedLocalities
    {
        get => _applied.IsDefault ? Model.Localities : _applied;
        set => _applied = value;
    }

    private System.Collections.Immutable.ImmutableArray<LocalityEndpointsModel> _applied;
    /// <summary>The store this cluster's counters are created in, on first use (<see cref="Stats"/>).</summary>
    public required StatsStore StatsStore { get; init; }
    public required Http1UpstreamPool Pool { get; init; }
    public required Http2UpstreamPool Http2Pool { get; init; }
    public required Sidecar.Core.Http2.Http2ConnectionOptions Http2Options { get; init; }

    /// <summary>
    /// The cluster's counters, created at its first use: made eagerly, 10,000 xDS clusters were 360,000 counters,
    /// ~120 MB and most of an apply's time, for clusters most of which never see a request (Istio's stats matcher keeps
    /// per-cluster stats out of Envoy's store for the same reason). The store hands out one counter per name, so two
    /// threads racing here count into the same counters.
    /// </summary>
    public ClusterStats Stats => _stats ?? CreateStats();

    /// <summary>The cluster's HTTP/2 codec counters, created at first use like <see cref="Stats"/>.</summary>
    public Http2Stats Http2Stats => _http2Stats ?? CreateHttp2Stats();

    private ClusterStats CreateStats()
    {
        Interlocked.CompareExchange(ref _stats, new ClusterStats(StatsStore, Model.Name), null);
        return _stats;
    }

    private Http2Stats CreateHttp2Stats()
    {
        Interlocked.CompareExchange(ref _http2Stats, new Http2Stats(StatsStore, "cluster." + Model.Name + "."), null);
        return _http2Stats;
    }
    /// <summary>TLS origination for this cluster's connections, or null for plaintext.</summary>
    public Transport.TlsOriginator? Tls { get; init; }

    /// <summary><c>transport_socket_matches</c> compiled: per entry, the metadata it requires and its TLS (null: plaintext).</summary>
    public (System.Collections.Immutable.ImmutableDictionary<string, string> Match, Transport.TlsOriginator? Tls)[] TransportSocketMatches { get; init; } = [];

    /// <summary>
    /// The TLS (or none) for connections to <paramref name="endpoint"/>: the first <c>transport_socket_matches</c> entry
    /// whose key/values the endpoint's <c>envoy.transport_socket_match</c> metadata contains (Istio: <c>tlsMode: istio</c>
    /// → mTLS), else the cluster's <c>transport_socket</c>. Pools are per endpoint, so a pooled connection never mixes them.
    /// </summary>
    public Transport.TlsOriginator? TlsFor(EndpointState endpoint)
    {
        if (TransportSocketMatches.Length == 0) return Tls;
        System.Collections.Immutable.ImmutableDictionary<string, string>? metadata = endpoint.Source?.TransportSocketMatch;
        foreach ((System.Collections.Immutable.ImmutableDictionary<string, string> match, Transport.TlsOriginator? tls) in TransportSocketMatches)
        {
            bool all = true;
            foreach (KeyValuePair<string, string> kv in match)
            {
                if (metadata is null || !metadata.TryGetValue(kv.Key, out string? v) || v != kv.Value)
                {
                    all = false;
                    break;
                }
            }
            if (all) return tls;
        }
        return Tls;
    }

    /// <summary>Whether a request goes upstream over HTTP/2 (explicit h2, or use_downstream_protocol with an h2 client).</summary>
    public bool UsesHttp2(bool downstreamIsHttp2) => Model.UpstreamProtocol switch
    {
        UpstreamProtocol.Http2 => true,
        UpstreamProtocol.UseDownstream => downstreamIsHttp2,
        _ => false,
    };

    /// <summary>
    /// The endpoint for one request: the balancer's pick, or for ORIGINAL_DST the address the client
    /// dialled before capture (null when there is none: Envoy answers 503 UH).
    /// </summary>
    public EndpointState? PickEndpoint(System.Net.IPEndPoint? originalDestination) => Model.Type == DiscoveryType.OriginalDst
        ? (originalDestination is null ? null : State.ForOriginalDestination(originalDestination))
        : State.Pick();

    /// <summary>Every destroyed upstream connection, from the exchange or the pool, is accounted here once.</summary>
    public void OnConnectionDestroyed()
    {
        Stats.UpstreamCxDestroy.Increment();
        Stats.UpstreamCxActive.Decrement();
        State.ReleaseConnection();
    }
}

/// <summary>An http_connection_manager filter chain compiled for the data path.</summary>
public sealed class HttpChainRuntime
{
    public required HttpConnectionManagerModel Model { get; init; }
    public required RouteTable Routes { get; init; }
    public required HttpStats Stats { get; init; }
    public required ProxySnapshot Snapshot { get; init; }
    public Http1Limits Limits => new(Model.MaxRequestHeadersBytes, Model.MaxHeadersCount);
    public required byte[] ServerName { get; init; }
    public required Sidecar.Core.Http2.Http2ConnectionOptions Http2Options { get; init; }
    public required Http2Stats Http2Stats { get; init; }

    private volatile HttpChainRuntime? _successor;

    /// <summary>
    /// The newest version of this chain. A config update (an RDS push, a cluster change) compiles new chains and
    /// links each old one to its successor, so a long-lived connection takes the new routes at its next request —
    /// Envoy applies RDS to open connections the same way — while a request already running keeps its version.
    /// One volatile read when nothing changed.
    /// </summary>
    public HttpChainRuntime Latest
    {
        get
        {
            HttpChainRuntime chain = this;
            while (chain._successor is { } next) chain = next;
            return chain;
        }
    }

    /// <summary>Called when the version holding <paramref name="next"/> is published (never for a refused version).</summary>
    internal void SupersedeBy(HttpChainRuntime next)
    {
        if (!ReferenceEquals(next, this)) _successor = next;
    }
}

/// <summary>A tcp_proxy filter chain compiled for the data path.</summary>
public sealed class TcpChainRuntime
{
    public required TcpProxyModel Model { get; init; }
    public required TcpProxyStats Stats { get; init; }
    public required ProxySnapshot Snapshot { get; init; }
}

/// <summary>A carried-over cluster's new endpoint set, waiting for its version to be published.</summary>
public sealed record PendingEndpoints(ClusterRuntime Runtime, System.Collections.Immutable.ImmutableArray<LocalityEndpointsModel> Localities);
