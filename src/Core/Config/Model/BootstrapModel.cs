using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Net;

namespace Sidecar.Core.Config.Model;

/// <summary>
/// The immutable runtime snapshot of one loaded configuration (Envoy v3 bootstrap, static_resources subset).
/// Built once by <c>EnvoyBootstrapTranslator</c> (static files) and, later, by the xDS applier;
/// never mutated; runtime objects are compiled from it (<c>SnapshotBuilder</c>).
/// </summary>
public sealed class BootstrapModel
{
    public required AdminModel? Admin { get; init; }
    /// <summary>Envoy <c>node</c> (identity sent to xDS servers); null when absent.</summary>
    public NodeModel? Node { get; init; }
    public required ImmutableArray<ListenerModel> Listeners { get; init; }
    public required NameDictionary<ClusterModel> Clusters { get; init; }
    /// <summary>The source document, re-rendered as JSON for <c>/config_dump</c>.</summary>
    public string SourceJson { get; init; } = "{}";
}

public sealed class AdminModel
{
    public required IPEndPoint Address { get; init; }
}

/// <summary>Envoy <c>node</c>: id and cluster; metadata is accepted and kept only in <see cref="BootstrapModel.SourceJson"/>.</summary>
public sealed class NodeModel
{
    public string Id { get; init; } = "";
    public string Cluster { get; init; } = "";
}
