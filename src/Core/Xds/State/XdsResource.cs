namespace Sidecar.Core.Xds;

/// <summary>
/// One xDS resource as the control plane sent it: type, name, version (SotW: the response's version_info;
/// Delta: the resource's own version) and its serialized protobuf (the Any's value). The bytes are decoded
/// by the resource translator, not by the xDS client.
/// </summary>
public sealed record XdsResource(string TypeUrl, string Name, string Version, ReadOnlyMemory<byte> Bytes);

/// <summary>
/// A consistent set of resources to apply as one snapshot: every listener's route configurations and every
/// EDS cluster's endpoints are present, unless the warming timeout expired, in which case the names still
/// missing are listed (Envoy then serves such a listener with no routes and such a cluster with no hosts).
/// </summary>
public sealed class XdsResourceSet
{
    public required IReadOnlyDictionary<string, XdsResource> Listeners { get; init; }
    public required IReadOnlyDictionary<string, XdsResource> Routes { get; init; }
    public required IReadOnlyDictionary<string, XdsResource> Clusters { get; init; }
    public required IReadOnlyDictionary<string, XdsResource> Endpoints { get; init; }
    /// <summary>Route configuration names referenced by a listener but not received (warming timed out).</summary>
    public IReadOnlyList<string> MissingRoutes { get; init; } = [];
    /// <summary>EDS service names referenced by a cluster but not received (warming timed out).</summary>
    public IReadOnlyList<string> MissingEndpoints { get; init; } = [];
    /// <summary>SDS secrets (served over ADS) the listeners and clusters reference, by name.</summary>
    public IReadOnlyDictionary<string, XdsResource> Secrets { get; init; } = new Dictionary<string, XdsResource>();
    /// <summary>SDS secret names referenced but not received (warming timed out): those TLS contexts have no certificate.</summary>
    public IReadOnlyList<string> MissingSecrets { get; init; } = [];
    /// <summary>Counts publishes from 1, so a consumer can tell snapshots apart.</summary>
    public long Generation { get; init; }
}

/// <summary>
/// The seam between the xDS client and the config translators. Both calls return null to accept, or the
/// reason to reject, which becomes the NACK's error_detail verbatim: say what is wrong and where.
/// </summary>
public interface IXdsResourceTranslator
{
    /// <summary>One new or changed resource, checked alone (decodable, supported features).</summary>
    string? Check(XdsResource resource);

    /// <summary>
    /// A complete, warmed set: translate it and swap it in with one reference write. Returning an error
    /// (e.g. a route naming a cluster that does not exist) keeps the previous snapshot serving.
    /// </summary>
    string? Publish(XdsResourceSet set);
}
