namespace Sidecar.Core.Xds.Protocol;

/// <summary>A google.protobuf.Any: the resource's type URL and its serialized bytes (a slice of the response).</summary>
public readonly record struct XdsAny(string TypeUrl, ReadOnlyMemory<byte> Value);

/// <summary>envoy.service.discovery.v3.DiscoveryResponse (SotW), the fields a client reads.</summary>
public sealed class DiscoveryResponseMessage
{
    public string VersionInfo { get; set; } = "";
    public List<XdsAny> Resources { get; } = [];
    public string TypeUrl { get; set; } = "";
    public string Nonce { get; set; } = "";
}

/// <summary>One envoy.service.discovery.v3.Resource of a delta response.</summary>
public readonly record struct DeltaResourceEntry(string Name, string Version, XdsAny? Resource);

/// <summary>envoy.service.discovery.v3.DeltaDiscoveryResponse, the fields a client reads.</summary>
public sealed class DeltaDiscoveryResponseMessage
{
    public string SystemVersionInfo { get; set; } = "";
    public List<DeltaResourceEntry> Resources { get; } = [];
    public string TypeUrl { get; set; } = "";
    public string Nonce { get; set; } = "";
    /// <summary><c>removed_resources</c> plus the names of <c>removed_resource_names</c>.</summary>
    public List<string> RemovedResources { get; } = [];
}
