using System.Collections.Frozen;
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
    public required FrozenDictionary<string, ClusterRuntime> Clusters { get; init; }

    public void Dispose()
    {
        foreach (var c in Clusters.Values)
        {
            c.Pool.Dispose();
            c.Http2Pool.Dispose();
        }
        ClusterManager.Dispose();
    }
}

/// <summary>A cluster's runtime: balancing/circuit-breaker state, its connection pool and stats.</summary>
public sealed class ClusterRuntime : IUpstreamConnectionOwner
{
    public required ClusterModel Model { get; init; }
    public required ClusterState State { get; init; }
    public required ClusterStats Stats { get; init; }
    public required Http1UpstreamPool Pool { get; init; }
    public required Http2UpstreamPool Http2Pool { get; init; }
    public required Sidecar.Core.Http2.Http2ConnectionOptions Http2Options { get; init; }
    public required Http2Stats Http2Stats { get; init; }
    /// <summary>TLS origination for this cluster's connections, or null for plaintext.</summary>
    public Transport.TlsOriginator? Tls { get; init; }

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
}

/// <summary>A tcp_proxy filter chain compiled for the data path.</summary>
public sealed class TcpChainRuntime
{
    public required TcpProxyModel Model { get; init; }
    public required TcpProxyStats Stats { get; init; }
    public required ProxySnapshot Snapshot { get; init; }
}
