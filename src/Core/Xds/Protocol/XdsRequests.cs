namespace Sidecar.Core.Xds.Protocol;

/// <summary>
/// google.rpc.Status as carried in a NACK's <c>error_detail</c>. Envoy sets code 13 (INTERNAL) on every
/// rejected update; istiod only logs the message, so the message is what an operator reads.
/// </summary>
public readonly record struct XdsErrorDetail(int Code, string Message)
{
    /// <summary>google.rpc.Code INTERNAL, the code Envoy uses for a rejected config.</summary>
    public const int Internal = 13;

    public static XdsErrorDetail Rejected(string message) => new(Internal, message);
}

/// <summary>envoy.service.discovery.v3.DiscoveryRequest (SotW), the fields a client sends.</summary>
public sealed class DiscoveryRequestMessage
{
    public string VersionInfo { get; init; } = "";
    /// <summary>Only on the first request of a stream (bootstrap <c>set_node_on_first_message_only: true</c>).</summary>
    public XdsNode? Node { get; init; }
    public IReadOnlyList<string> ResourceNames { get; init; } = [];
    public required string TypeUrl { get; init; }
    public string ResponseNonce { get; init; } = "";
    public XdsErrorDetail? ErrorDetail { get; init; }
}

/// <summary>envoy.service.discovery.v3.DeltaDiscoveryRequest, the fields a client sends.</summary>
public sealed class DeltaDiscoveryRequestMessage
{
    public XdsNode? Node { get; init; }
    public required string TypeUrl { get; init; }
    public IReadOnlyList<string> Subscribe { get; init; } = [];
    public IReadOnlyList<string> Unsubscribe { get; init; } = [];
    /// <summary>Resources the client already holds, sent on the first request of a new stream only.</summary>
    public IReadOnlyDictionary<string, string> InitialResourceVersions { get; init; } = EmptyVersions;
    public string ResponseNonce { get; init; } = "";
    public XdsErrorDetail? ErrorDetail { get; init; }

    public static readonly IReadOnlyDictionary<string, string> EmptyVersions = new Dictionary<string, string>();
}
