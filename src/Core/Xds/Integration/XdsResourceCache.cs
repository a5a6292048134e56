using System.Collections.Immutable;
using Sidecar.Core.Config;
using Sidecar.Core.Config.Model;
using Sidecar.Core.Config.Translation;
using Sidecar.Core.Config.Tree;
using Sidecar.Core.Xds.Decoding;

namespace Sidecar.Core.Xds.Integration;

/// <summary>
/// One resource as last decoded and translated. Immutable once built: a changed resource gets a new entry, so a
/// publish that fails leaves nothing half-updated that the serving version uses.
/// </summary>
internal sealed class XdsResourceEntry
{
    public required ReadOnlyMemory<byte> Bytes { get; init; }
    /// <summary>The NACK text when the bytes do not decode; everything below is then unset.</summary>
    public string? DecodeError { get; init; }
    /// <summary>LDS/RDS (and types translated whole): the tree the composer inlines each publish.</summary>
    public ConfigNode? Tree { get; init; }
    /// <summary>CDS: the model (for an EDS cluster: the STATIC cluster it becomes, with no endpoints yet).</summary>
    public ClusterModel? Cluster { get; init; }
    /// <summary>CDS of type EDS: the ClusterLoadAssignment it reads; null for other types.</summary>
    public string? EdsService { get; init; }
    /// <summary>EDS: the localities (empty when <see cref="Errors"/> is not).</summary>
    public ImmutableArray<LocalityEndpointsModel> Localities { get; init; } = [];
    /// <summary>CDS/EDS: translation errors, in document order, with the resource's path.</summary>
    public ImmutableArray<ConfigError> Errors { get; init; } = [];
    /// <summary>When these bytes were first seen (config_dump's last_updated).</summary>
    public required DateTimeOffset Since { get; init; }
}

/// <summary>
/// Per-resource decoding and translation, cached by (type, name) and the resource's bytes: a resource whose bytes did
/// not change is neither decoded nor translated again, whatever the response's version says (SotW bumps it for every
/// resource of the type). Clusters and their endpoints are separate entries: an EDS push re-reads only that
/// ClusterLoadAssignment, and the join of a cluster with its endpoints is cached too, so an unchanged cluster keeps
/// the same <see cref="ClusterModel"/> instance (SnapshotBuilder carries it over without comparing anything).
/// Not thread-safe: the translator calls it under its lock.
/// </summary>
internal sealed class XdsResourceCache
{
    private readonly Dictionary<string, Dictionary<string, XdsResourceEntry>> _byType = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (XdsResourceEntry Cluster, XdsResourceEntry Endpoints, ClusterModel Joined)> _joined = new(StringComparer.Ordinal);
    private readonly LoadAssignmentDecoder _assignments = new();
    private readonly TimeProvider _time;
    private string? _lastType;
    private Dictionary<string, XdsResourceEntry>? _lastTable;

    public XdsResourceCache(TimeProvider time) => _time = time;

    /// <summary>EDS resources read by the direct decoder / by the generic tree path since the start (for tests and figures).</summary>
    public long DirectDecodes { get; private set; }
    public long TreeDecodes { get; private set; }

    /// <summary>The entry for <paramref name="resource"/>: cached when its bytes are unchanged, else decoded and translated now.</summary>
    public XdsResourceEntry Get(XdsResource resource)
    {
        Dictionary<string, XdsResourceEntry> table = Table(resource.TypeUrl);
        if (table.TryGetValue(resource.Name, out XdsResourceEntry? cached) && SameBytes(cached.Bytes, resource.Bytes))
        {
            return cached;
        }
        XdsResourceEntry entry = resource.TypeUrl switch
        {
            XdsTypeUrls.Cluster => BuildCluster(resource),
            XdsTypeUrls.ClusterLoadAssignment => BuildEndpoints(resource),
            _ => BuildTree(resource),
        };
        table[resource.Name] = entry;
        return entry;
    }

    /// <summary>The entry last built or found for this name (after <see cref="Get"/> saw the set: the set's own).</summary>
    public XdsResourceEntry? Latest(string typeUrl, string name) => Table(typeUrl).GetValueOrDefault(name);

    /// <summary>
    /// The entries of one type. Calls come in runs of one type with the same type URL string, so the last table is
    /// kept by reference: hashing a 60-character URL for each of 20,000 resources was a visible part of a push.
    /// </summary>
    private Dictionary<string, XdsResourceEntry> Table(string typeUrl)
    {
        if (ReferenceEquals(typeUrl, _lastType)) return _lastTable!;
        if (!_byType.TryGetValue(typeUrl, out Dictionary<string, XdsResourceEntry>? table))
        {
            _byType[typeUrl] = table = new Dictionary<string, XdsResourceEntry>(StringComparer.Ordinal);
        }
        _lastType = typeUrl;
        _lastTable = table;
        return table;
    }

    /// <summary>
    /// The EDS cluster joined with its endpoints; the same instance as last time when neither changed. Without
    /// <paramref name="endpoints"/> (warming timed out) the cluster has no hosts, as in Envoy.
    /// </summary>
    public ClusterModel Join(string name, XdsResourceEntry cluster, XdsResourceEntry? endpoints)
    {
        if (endpoints is null) return cluster.Cluster!;
        if (_joined.TryGetValue(name, out var j) && ReferenceEquals(j.Cluster, cluster) && ReferenceEquals(j.Endpoints, endpoints))
        {
            return j.Joined;
        }
        ClusterModel joined = cluster.Cluster!.WithLocalities(endpoints.Localities);
        _joined[name] = (cluster, endpoints, joined);
        return joined;
    }

    /// <summary>Forgets resources no longer in the published set, so the cache follows the control plane's set.</summary>
    public void Retain(XdsResourceSet set)
    {
        foreach ((string type, Dictionary<string, XdsResourceEntry> table) in _byType)
        {
            IReadOnlyDictionary<string, XdsResource>? live = type switch
            {
                XdsTypeUrls.Listener => set.Listeners,
                XdsTypeUrls.RouteConfiguration => set.Routes,
                XdsTypeUrls.Cluster => set.Clusters,
                XdsTypeUrls.ClusterLoadAssignment => set.Endpoints,
                _ => null,
            };
            // Nothing is gone when the set holds as many names as the table and all of them are in it.
            if (live is not null && live.Count == table.Count) continue;
            List<string>? gone = null;
            foreach (string name in table.Keys)
            {
                if (live is null || !live.ContainsKey(name)) (gone ??= []).Add(name);
            }
            foreach (string name in gone ?? []) table.Remove(name);
        }
        if (_joined.Count != set.Clusters.Count)
        {
            List<string>? gone = null;
            foreach (string name in _joined.Keys)
            {
                if (!set.Clusters.ContainsKey(name)) (gone ??= []).Add(name);
            }
            foreach (string name in gone ?? []) _joined.Remove(name);
        }
    }

    /// <summary>Same memory (the store hands the same bytes for an unchanged resource) or equal content.</summary>
    private static bool SameBytes(ReadOnlyMemory<byte> a, ReadOnlyMemory<byte> b) => a.Equals(b) || a.Span.SequenceEqual(b.Span);

    private static string Label(XdsResource r) => XdsTypeUrls.ShortName(r.TypeUrl) + " \"" + r.Name + "\"";

    /// <summary>The NACK text for undecodable bytes, as the check of one resource has always worded it.</summary>
    private static string DecodeFailure(XdsResource r)
    {
        XdsDecodeResult result = ProtoTreeDecoder.Decode(r.TypeUrl, r.Bytes.Span, Label(r));
        return $"{Label(r)}: {result}";
    }

    private XdsResourceEntry BuildTree(XdsResource r)
    {
        XdsDecodeResult result = ProtoTreeDecoder.Decode(r.TypeUrl, r.Bytes.Span, Label(r));
        return result.IsSuccess && result.Tree is not null
            ? new XdsResourceEntry { Bytes = r.Bytes, Tree = result.Tree, Since = _time.GetUtcNow() }
            : new XdsResourceEntry { Bytes = r.Bytes, DecodeError = $"{Label(r)}: {result}", Since = _time.GetUtcNow() };
    }

    /// <summary>
    /// A cluster decoded at the path the composed bootstrap gives it (<c>cluster "name"</c>) and translated alone; an
    /// EDS cluster as the STATIC cluster it becomes, its endpoints joined later.
    /// </summary>
    private XdsResourceEntry BuildCluster(XdsResource r)
    {
        XdsDecodeResult result = ProtoTreeDecoder.Decode(r.TypeUrl, r.Bytes.Span, $"cluster \"{r.Name}\"");
        if (!result.IsSuccess || result.Tree is null)
        {
            return new XdsResourceEntry { Bytes = r.Bytes, DecodeError = DecodeFailure(r), Since = _time.GetUtcNow() };
        }
        ConfigNode? asStatic = DynamicBootstrapComposer.EdsClusterWithoutEndpoints(result.Tree, r.Name, out string service);
        (ClusterModel? model, ImmutableArray<ConfigError> errors) = ClusterTranslator.TranslateResource(asStatic ?? result.Tree);
        return new XdsResourceEntry
        {
            Bytes = r.Bytes,
            Cluster = model,
            EdsService = asStatic is null ? null : service,
            Errors = errors,
            Since = _time.GetUtcNow(),
        };
    }

    /// <summary>A ClusterLoadAssignment: the direct decoder for the common shape, else the generic tree path (same model, or the precise error).</summary>
    private XdsResourceEntry BuildEndpoints(XdsResource r)
    {
        if (_assignments.TryDecode(r.Bytes.Span, out ImmutableArray<LocalityEndpointsModel> direct))
        {
            DirectDecodes++;
            return new XdsResourceEntry { Bytes = r.Bytes, Localities = direct, Since = _time.GetUtcNow() };
        }
        TreeDecodes++;
        XdsDecodeResult result = ProtoTreeDecoder.Decode(r.TypeUrl, r.Bytes.Span, DynamicBootstrapComposer.EndpointsPath(r.Name));
        if (!result.IsSuccess || result.Tree is null)
        {
            return new XdsResourceEntry { Bytes = r.Bytes, DecodeError = DecodeFailure(r), Since = _time.GetUtcNow() };
        }
        (ImmutableArray<LocalityEndpointsModel> localities, ImmutableArray<ConfigError> errors) = LoadAssignmentTranslator.TranslateResource(result.Tree);
        return new XdsResourceEntry { Bytes = r.Bytes, Localities = errors.IsEmpty ? localities : [], Errors = errors, Since = _time.GetUtcNow() };
    }
}
