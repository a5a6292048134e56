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
        Http2UpstreamConnection? connection = cluster.Http2Pool.TryReserve(endpoint);
        if (connection is not null) return (connection, endpoint, ProxyError.None);
        var (context, error) = await ConnectAsync(cluster, endpoint, services);
        if (context is null) return (null, endpoint, error);
        connection = new Http2UpstreamConnection(context, endpoint, cluster, cluster.Http2Options, cluster.Http2Stats, services.Heartbeat);
        connection.Start();
        if (!cluster.Http2Pool.Add(connection)) return (null, endpoint, ProxyError.UpstreamOverflow);
        return (connection, endpoint, ProxyError.None);
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
