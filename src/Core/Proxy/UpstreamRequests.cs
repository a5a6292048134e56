using System.Net;
using System.Runtime.CompilerServices;
using Sidecar.Core.Async;
using Sidecar.Core.Config.Model;
using Sidecar.Core.Pools;
using Sidecar.Core.Transport;

namespace Sidecar.Core.Proxy;

/// <summary>The steps of an upstream request every downstream protocol shares: cluster choice, circuit breaker, connection.</summary>
internal static class UpstreamRequests
{
    /// <summary>Picks the route's cluster (weighted) and takes a request slot from its circuit breaker; null with the reason otherwise.</summary>
    public static ClusterRuntime? BeginClusterRequest(HttpChainRuntime chain, RouteActionModel action, out ProxyError error)
    {
        string clusterName = action.WeightedClusters.IsDefaultOrEmpty
            ? action.Cluster
            : Routing.WeightedClusterPicker.Shared.Pick(action.WeightedClusters);
        if (!chain.Snapshot.Clusters.TryGetValue(clusterName, out ClusterRuntime? cluster))
        {
            chain.Stats.NoCluster.Increment();
            error = ProxyError.NoCluster;
            return null;
        }
        if (!cluster.State.TryAcquireRequest())
        {
            cluster.Stats.UpstreamRqPendingOverflow.Increment();
            error = ProxyError.UpstreamOverflow;
            return null;
        }
        error = ProxyError.None;
        return cluster;
    }

    /// <summary>The route's cluster when it has a single one (weighted routes are decided per request).</summary>
    public static ClusterRuntime? PeekCluster(HttpChainRuntime chain, RouteActionModel action) =>
        action.WeightedClusters.IsDefaultOrEmpty && chain.Snapshot.Clusters.TryGetValue(action.Cluster, out ClusterRuntime? c) ? c : null;

    /// <summary>An idle pooled HTTP/1.1 connection to a picked endpoint, or a new one (connect_timeout, circuit breaker).</summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    public static async ValueTask<(UpstreamConnection?, ProxyError)> GetHttp1ConnectionAsync(ClusterRuntime cluster, ProxyServices services, IPEndPoint? originalDestination, bool allowPooled = true)
    {
        var endpoint = cluster.PickEndpoint(originalDestination);
        if (endpoint is null)
        {
            cluster.Stats.UpstreamCxNoneHealthy.Increment();
            return (null, ProxyError.NoHealthyUpstream);
        }
        UpstreamConnection? pooled = allowPooled ? cluster.Pool.TryAcquire(endpoint) : null;
        if (pooled is not null) return (pooled, ProxyError.None);
        var (context, error) = await ConnectAsync(cluster, endpoint, services);
        return context is null ? (null, error) : (new UpstreamConnection(context, endpoint, cluster), ProxyError.None);
    }

    /// <summary>A multiplexed HTTP/2 connection with a reserved stream slot: one with room, or a new one.</summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    public static async ValueTask<(Http2UpstreamConnection?, Balancing.EndpointState?, ProxyError)> GetHttp2ConnectionAsync(ClusterRuntime cluster, ProxyServices services, IPEndPoint? originalDestination)
    {
        Balancing.EndpointState? endpoint = cluster.PickEndpoint(originalDestination);
        if (endpoint is null)
        {
            cluster.Stats.UpstreamCxNoneHealthy.Increment();
            return (null, null, ProxyError.NoHealthyUpstream);
        }
        Http2UpstreamPool pool = cluster.Http2Pool;
        Http2UpstreamConnection? connection = pool.TryReserve(endpoint);
        if (connection is not null) return (connection, endpoint, ProxyError.None);
        while (true)
        {
            // No room: share a connection already being opened if it has room, as Envoy's pool does (a burst of requests
            // to a cold cluster opens one connection, not one each); else open one that later requests can share.
            PendingHttp2Connection pending = pool.JoinOrOpen(endpoint, cluster.Http2Options.MaxConcurrentStreams, out bool opener);
            if (opener) return await OpenHttp2ConnectionAsync(cluster, services, endpoint, pending);
            Http2UpstreamConnection? opened = await pending.Task;
            if (opened is null) return (null, endpoint, pending.Overflowed ? ProxyError.UpstreamOverflow : ProxyError.UpstreamConnectFailure);
            if (opened.TryReserve()) return (opened, endpoint, ProxyError.None);
            // It filled up (the peer allows fewer streams than we assumed): any connection with room, else round again.
            connection = pool.TryReserve(endpoint);
            if (connection is not null) return (connection, endpoint, ProxyError.None);
        }
    }

    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private static async ValueTask<(Http2UpstreamConnection?, Balancing.EndpointState?, ProxyError)> OpenHttp2ConnectionAsync(
        ClusterRuntime cluster, ProxyServices services, Balancing.EndpointState endpoint, PendingHttp2Connection pending)
    {
        Http2UpstreamPool pool = cluster.Http2Pool;
        try
        {
            var (context, error) = await ConnectAsync(cluster, endpoint, services);
            if (context is null)
            {
                pool.CompleteConnect(endpoint, pending, null, overflowed: error == ProxyError.UpstreamOverflow);
                return (null, endpoint, error);
            }
            var connection = new Http2UpstreamConnection(context, endpoint, cluster, cluster.Http2Options, cluster.Http2Stats, services.Heartbeat);
            connection.Start();
            if (!pool.Add(connection))
            {
                pool.CompleteConnect(endpoint, pending, null, overflowed: true);
                return (null, endpoint, ProxyError.UpstreamOverflow);
            }
            pool.CompleteConnect(endpoint, pending, connection, overflowed: false);
            return (connection, endpoint, ProxyError.None);
        }
        catch
        {
            // The requests sharing this connect must not wait forever (a second completion is ignored).
            pool.CompleteConnect(endpoint, pending, null, overflowed: false);
            throw;
        }
    }

    /// <summary>Opens a transport connection to <paramref name="endpoint"/> under the cluster's connection breaker, counting as Envoy does.</summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    public static async ValueTask<(Microsoft.AspNetCore.Connections.ConnectionContext?, ProxyError)> ConnectAsync(ClusterRuntime cluster, Balancing.EndpointState endpoint, ProxyServices services)
    {
        if (!cluster.State.TryAcquireConnection())
        {
            cluster.Stats.UpstreamCxOverflow.Increment();
            return (null, ProxyError.UpstreamOverflow);
        }
        cluster.Stats.UpstreamCxTotal.Increment();
        var (result, context) = await services.Connector.ConnectAsync(endpoint.Address, cluster.Model.ConnectTimeout, cluster.Model.UpstreamBind, services.Drain.Force);
        if (result != ConnectResult.Connected)
        {
            cluster.State.ReleaseConnection();
            cluster.State.ReportConnectFailure(endpoint);
            cluster.Stats.UpstreamCxConnectFail.Increment();
            if (result == ConnectResult.TimedOut) cluster.Stats.UpstreamCxConnectTimeout.Increment();
            return (null, ProxyError.UpstreamConnectFailure);
        }
        if (cluster.TlsFor(endpoint) is { } tls)
        {
            // transport_socket: a refused or failed handshake is a connect failure (503 UF), counted in ssl.*.
            var (secured, _) = await tls.HandshakeAsync(context!, services.Drain.Force);
            if (secured is null)
            {
                await context!.DisposeAsync();
                cluster.State.ReleaseConnection();
                cluster.State.ReportConnectFailure(endpoint);
                cluster.Stats.UpstreamCxConnectFail.Increment();
                return (null, ProxyError.UpstreamConnectFailure);
            }
            context = secured;
        }
        Balancing.ClusterState.ReportConnectSuccess(endpoint);
        cluster.Stats.UpstreamCxActive.Increment();
        return (context, ProxyError.None);
    }
}
