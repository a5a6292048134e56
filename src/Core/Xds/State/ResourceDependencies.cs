using Sidecar.Core.Protobuf;

namespace Sidecar.Core.Xds;

/// <summary>
/// Finds what a resource makes the client subscribe to, reading only the fields on the way (everything else
/// is skipped): a Listener's RDS route names, a Cluster's EDS service name. Field numbers:
/// envoy/config/listener/v3/listener.proto (Listener filter_chains=3, default_filter_chain=25),
/// listener_components.proto (FilterChain filters=3; Filter name=1 typed_config=4), google/protobuf/any.proto
/// (type_url=1 value=2), http_connection_manager.proto (HttpConnectionManager rds=3; Rds route_config_name=2),
/// envoy/config/cluster/v3/cluster.proto (Cluster name=1 type=2 eds_cluster_config=3, DiscoveryType EDS=3;
/// EdsClusterConfig service_name=2).
/// </summary>
public static class ResourceDependencies
{
    private const string HttpConnectionManagerType =
        "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";

    private const ulong DiscoveryTypeEds = 3;

    /// <summary>The RDS names a Listener references (HCM with <c>rds</c>), added to <paramref name="routes"/>.</summary>
    public static ProtoError ListenerRoutes(ReadOnlySpan<byte> listener, List<string> routes) =>
        ProtoWalk.ForEach(listener, 3, 25, FilterChainRoutes, routes);

    private static ProtoError FilterChainRoutes(ReadOnlySpan<byte> chain, List<string> routes) =>
        ProtoWalk.ForEach(chain, 3, 3, FilterRoutes, routes);

    private static ProtoError FilterRoutes(ReadOnlySpan<byte> filter, List<string> routes) =>
        ProtoWalk.ForEach(filter, 4, 4, AnyRoutes, routes);

    private static ProtoError AnyRoutes(ReadOnlySpan<byte> any, List<string> routes)
    {
        ProtoError error = ProtoWalk.Any(any, out string typeUrl, out ReadOnlySpan<byte> value);
        if (error != ProtoError.None || typeUrl != HttpConnectionManagerType) return error;
        return ReadNested(value, 3, 2, routes);
    }

    /// <summary>Reads message field <paramref name="outer"/> then its string field <paramref name="inner"/>.</summary>
    private static ProtoError ReadNested(ReadOnlySpan<byte> message, int outer, int inner, List<string> into)
    {
        var r = new ProtoReader(message);
        while (r.TryReadTag(out int field, out WireType type))
        {
            if (field == outer && type == WireType.LengthDelimited)
            {
                if (!r.TryReadBytes(out ReadOnlySpan<byte> nested)) return r.Error;
                var n = new ProtoReader(nested);
                while (n.TryReadTag(out int f, out WireType t))
                {
                    if (f == inner && t == WireType.LengthDelimited)
                    {
                        if (!n.TryReadString(out string s)) return n.Error;
                        if (s.Length > 0) into.Add(s);
                    }
                    else if (!n.TrySkip(t)) return n.Error;
                }
                if (n.Error != ProtoError.None) return n.Error;
            }
            else if (!r.TrySkip(type)) return r.Error;
        }
        return r.Error;
    }

    /// <summary>
    /// The EDS name of a Cluster (its eds_cluster_config.service_name, else the cluster name), or null when
    /// the cluster is not of type EDS.
    /// </summary>
    public static ProtoError ClusterEndpoints(ReadOnlySpan<byte> cluster, string clusterName, out string? edsName)
    {
        edsName = null;
        bool isEds = false;
        var serviceNames = new List<string>(1);
        var r = new ProtoReader(cluster);
        while (r.TryReadTag(out int field, out WireType type))
        {
            if (field == 2 && type == WireType.Varint)
            {
                if (!r.TryReadVarint(out ulong discovery)) return r.Error;
                isEds = discovery == DiscoveryTypeEds;
            }
            else if (field == 3 && type == WireType.LengthDelimited)
            {
                if (!r.TryReadBytes(out ReadOnlySpan<byte> eds)) return r.Error;
                var n = new ProtoReader(eds);
                while (n.TryReadTag(out int f, out WireType t))
                {
                    if (f == 2 && t == WireType.LengthDelimited)
                    {
                        if (!n.TryReadString(out string s)) return n.Error;
                        serviceNames.Add(s);
                    }
                    else if (!n.TrySkip(t)) return n.Error;
                }
                if (n.Error != ProtoError.None) return n.Error;
            }
            else if (!r.TrySkip(type)) return r.Error;
        }
        if (r.Error != ProtoError.None) return r.Error;
        if (isEds) edsName = serviceNames.Count > 0 && serviceNames[^1].Length > 0 ? serviceNames[^1] : clusterName;
        return ProtoError.None;
    }
}
