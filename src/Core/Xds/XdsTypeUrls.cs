namespace Sidecar.Core.Xds;

/// <summary>
/// The resource type URLs istiod serves to a sidecar (Istio pkg/model/xds.go; dataplane-map §1.5) and the
/// subset this client subscribes to. Everything else that arrives is NACKed as an unknown type.
/// </summary>
public static class XdsTypeUrls
{
    public const string Listener = "type.googleapis.com/envoy.config.listener.v3.Listener";
    public const string RouteConfiguration = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";
    public const string Cluster = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
    public const string ClusterLoadAssignment = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";
    public const string Secret = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret";

    /// <summary>
    /// Envoy's ADS order: CDS before EDS, LDS before RDS (xDS protocol, "eventual consistency considerations"); SDS
    /// names come from both listeners and clusters, so they follow.
    /// </summary>
    public static readonly string[] Subscribed = [Cluster, ClusterLoadAssignment, Listener, RouteConfiguration, Secret];

    public static bool IsKnown(string typeUrl) =>
        typeUrl is Listener or RouteConfiguration or Cluster or ClusterLoadAssignment or Secret;

    /// <summary>LDS and CDS are wildcard subscriptions: every SotW response carries the full set.</summary>
    public static bool IsWildcard(string typeUrl) => typeUrl is Listener or Cluster;

    /// <summary>Envoy's short names, used in logs, stats and NACK messages.</summary>
    public static string ShortName(string typeUrl) => typeUrl switch
    {
        Listener => "LDS",
        RouteConfiguration => "RDS",
        Cluster => "CDS",
        ClusterLoadAssignment => "EDS",
        Secret => "SDS",
        _ => typeUrl,
    };
}
