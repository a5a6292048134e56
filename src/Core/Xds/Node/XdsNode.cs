using System.Text.Json.Nodes;

namespace Sidecar.Core.Xds;

/// <summary>envoy.config.core.v3.Locality: region=1, zone=2, sub_zone=3.</summary>
public sealed record XdsLocality(string Region, string Zone, string SubZone)
{
    public bool IsEmpty => Region.Length == 0 && Zone.Length == 0 && SubZone.Length == 0;
}

/// <summary>
/// envoy.config.core.v3.Node as istio-agent fills it for Envoy (dataplane-map §1.4): the id istiod parses,
/// the service cluster, locality and the metadata Struct istiod reads into its proxy model.
/// </summary>
public sealed class XdsNode
{
    public required string Id { get; init; }
    public required string Cluster { get; init; }
    public XdsLocality? Locality { get; init; }
    /// <summary>The Struct, as JSON: string, number, bool, object and array values map 1:1 to google.protobuf.Value.</summary>
    public JsonObject Metadata { get; init; } = [];
    /// <summary>Envoy sends "envoy"; istiod does not gate on it, we say what we are.</summary>
    public string UserAgentName { get; init; } = "sidecar";
    public (int Major, int Minor, int Patch) UserAgentVersion { get; init; } = (1, 28, 0);
}
