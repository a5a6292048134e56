using Sidecar.Core.Config;
using Sidecar.Core.Config.Model;
using Sidecar.Core.Config.Translation;
using Sidecar.Core.Config.Tree;
using Sidecar.Core.Xds.Decoding;

namespace Sidecar.Core.Xds.Integration;

/// <summary>
/// One published resource for /config_dump: its bytes are kept (the xDS store holds them anyway) and decoded again when
/// a dump asks, instead of keeping a config tree per resource (100,000 endpoints are hundreds of MB of trees).
/// </summary>
public sealed class DecodedResource(string typeUrl, string name, string version, ReadOnlyMemory<byte> bytes, DateTimeOffset lastUpdated)
{
    public string TypeUrl { get; } = typeUrl;
    public string Name { get; } = name;
    public string Version { get; } = version;
    public ReadOnlyMemory<byte> Bytes { get; } = bytes;
    /// <summary>When these bytes were first applied (not the last publish: an unchanged resource keeps its time).</summary>
    public DateTimeOffset LastUpdated { get; } = lastUpdated;

    /// <summary>The resource as a config tree, decoded on each call (the bytes decoded when they were accepted).</summary>
    public ConfigNode Tree => ProtoTreeDecoder.Decode(TypeUrl, Bytes.Span).Tree ?? new ConfigMap("", []);
}

/// <summary>
/// The seam between the xDS client and the proxy. Each resource is decoded and translated on its own and cached by its
/// bytes (<see cref="XdsResourceCache"/>): clusters by ClusterTranslator, endpoints by the direct
/// <see cref="LoadAssignmentDecoder"/> or LoadAssignmentTranslator, listeners and routes composed with the bootstrap's
/// static part (<see cref="DynamicBootstrapComposer"/>) and translated by the SAME translators a static file goes
/// through; the clusters join that translation, which checks every reference, and the version is applied as one
/// (the apply callback, normally <c>ListenerManager.ApplyAsync</c>). Any error — undecodable bytes, an unsupported
/// field, a route naming a missing cluster, a port that cannot be bound — rejects the whole set; the reason becomes
/// the NACK's error_detail and the previous version keeps serving.
/// </summary>
public sealed class XdsConfigTranslator : IXdsResourceTranslator
{
    private const int MaxErrorsInDetail = 5;

    private readonly ConfigNode? _bootstrap;
    private readonly ClusterJoiner _joiner;
    private readonly Func<BootstrapModel, string?> _apply;
    private readonly TimeProvider _time;
    private readonly XdsResourceCache _cache;
    private readonly Lock _lock = new();
    private volatile IReadOnlyList<DecodedResource> _published = [];
    /// <summary>Per type, the serving version's resource names in order and their dump entries.</summary>
    private readonly Dictionary<string, TypeOrder> _orders = new(StringComparer.Ordinal);

    /// <param name="bootstrap">The bootstrap tree whose static resources are served beside the dynamic ones (or null).</param>
    /// <param name="apply">Applies a translated version; null when it is serving, else why not (nothing changed then).</param>
    public XdsConfigTranslator(ConfigNode? bootstrap, Func<BootstrapModel, string?> apply, TimeProvider? time = null)
    {
        _bootstrap = bootstrap;
        _apply = apply;
        _time = time ?? TimeProvider.System;
        _cache = new XdsResourceCache(_time);
        _joiner = new ClusterJoiner(_cache, StaticClusterNames(bootstrap));
    }

    /// <summary>The resources of the version now serving (for /config_dump).</summary>
    public IReadOnlyList<DecodedResource> Published => _published;

    /// <summary>The model of the version now serving (null before the first successful publish).</summary>
    public BootstrapModel? LastModel { get; private set; }

    /// <summary>Versions whose clusters went through the whole join / only their changed clusters (for tests and figures).</summary>
    public (long Whole, long Changed) ClusterJoins
    {
        get
        {
            lock (_lock) return _joiner.Joins;
        }
    }

    /// <summary>EDS resources read by the direct decoder and by the generic tree path so far.</summary>
    public (long Direct, long Tree) EndpointDecodes
    {
        get
        {
            lock (_lock) return (_cache.DirectDecodes, _cache.TreeDecodes);
        }
    }

    public string? Check(XdsResource resource)
    {
        lock (_lock)
        {
            return _cache.Get(resource).DecodeError;
        }
    }

    public string? Publish(XdsResourceSet set)
    {
        lock (_lock)
        {
            if (Entries(set.Listeners, XdsTypeUrls.Listener, out TypeOrder listeners, out XdsResourceEntry[] listenerEntries) is string e1) return e1;
            if (Entries(set.Routes, XdsTypeUrls.RouteConfiguration, out TypeOrder routes, out XdsResourceEntry[] routeEntries) is string e2) return e2;
            if (Entries(set.Clusters, XdsTypeUrls.Cluster, out TypeOrder clusters, out XdsResourceEntry[] clusterEntries) is string e3) return e3;
            if (Entries(set.Endpoints, XdsTypeUrls.ClusterLoadAssignment, out TypeOrder endpoints, out XdsResourceEntry[] endpointEntries) is string e4) return e4;

            // Listeners and routes: one composed tree, translated as a static file is.
            var routeTrees = new Dictionary<string, ConfigNode>(routes.Names.Length, StringComparer.Ordinal);
            for (int i = 0; i < routes.Names.Length; i++) routeTrees[routes.Names[i]] = routeEntries[i].Tree!;
            var listenerTrees = new List<KeyValuePair<string, ConfigNode>>(listeners.Names.Length);
            for (int i = 0; i < listeners.Names.Length; i++) listenerTrees.Add(new(listeners.Names[i], listenerEntries[i].Tree!));
            ConfigNode root = DynamicBootstrapComposer.Compose(_bootstrap, listenerTrees, routeTrees, [], new Dictionary<string, ConfigNode>());

            // Clusters: translated per resource (cached), joined with their endpoints, errors in the composed order.
            var errors = new List<ConfigError>();
            Dictionary<string, ClusterModel> dynamic = _joiner.Join(set.Endpoints, clusters.Names, clusterEntries, endpoints.Names, endpointEntries, errors);
            ConfigResult<BootstrapModel> translated = EnvoyBootstrapTranslator.Translate(root, dynamic);
            if (!translated.IsSuccess || translated.Value is null || errors.Count > 0)
            {
                List<ConfigError> all = [.. translated.Errors, .. errors];
                IEnumerable<string> lines = all.Take(MaxErrorsInDetail).Select(ConfigErrorFormatter.FormatOne);
                string more = all.Count > MaxErrorsInDetail ? $" (+{all.Count - MaxErrorsInDetail} more)" : "";
                return string.Join("; ", lines) + more;
            }
            if (_apply(translated.Value) is string refused) return refused;
            LastModel = translated.Value;
            _published = [.. listeners.Dumps, .. routes.Dumps, .. clusters.Dumps, .. endpoints.Dumps];
            _orders[XdsTypeUrls.Listener] = listeners;
            _orders[XdsTypeUrls.RouteConfiguration] = routes;
            _orders[XdsTypeUrls.Cluster] = clusters;
            _orders[XdsTypeUrls.ClusterLoadAssignment] = endpoints;
            _joiner.Published();
            _cache.Retain(set);
            return null;
        }
    }

    /// <summary>
    /// The resources of one type in name order (the composed bootstrap's order), their cache entries and their dump
    /// entries; the first decode error, if any. While the names are those of the serving version — most pushes change
    /// resources, not which ones exist — its order is reused instead of sorting 10,000 names again, and its dump entries
    /// are matched by position.
    /// </summary>
    private string? Entries(IReadOnlyDictionary<string, XdsResource> resources, string typeUrl, out TypeOrder order, out XdsResourceEntry[] entries)
    {
        TypeOrder serving = _orders.GetValueOrDefault(typeUrl) ?? TypeOrder.Empty;
        XdsResource[]? ordered = InOrder(resources, serving.Names);
        bool aligned = ordered is not null;
        if (ordered is null)
        {
            ordered = [.. resources.Values];
            Array.Sort(ordered, static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        }
        Dictionary<string, DecodedResource>? servingByName = null;
        if (!aligned && serving.Names.Length > 0)
        {
            servingByName = new Dictionary<string, DecodedResource>(serving.Names.Length, StringComparer.Ordinal);
            for (int i = 0; i < serving.Names.Length; i++) servingByName[serving.Names[i]] = serving.Dumps[i];
        }
        string[] names = aligned ? serving.Names : new string[ordered.Length];
        var dumps = new DecodedResource[ordered.Length];
        entries = new XdsResourceEntry[ordered.Length];
        order = TypeOrder.Empty;
        for (int i = 0; i < ordered.Length; i++)
        {
            XdsResource r = ordered[i];
            XdsResourceEntry e = _cache.Get(r);
            if (e.DecodeError is string error) return error;
            entries[i] = e;
            if (!aligned) names[i] = r.Name;
            // The dump entry of the serving version is reused while bytes and version are the same.
            DecodedResource? d = aligned ? serving.Dumps[i] : servingByName?.GetValueOrDefault(r.Name);
            dumps[i] = d is not null && d.Version == r.Version && d.Bytes.Equals(e.Bytes) ? d : new DecodedResource(r.TypeUrl, r.Name, r.Version, e.Bytes, e.Since);
        }
        order = new TypeOrder(names, dumps);
        return null;
    }

    /// <summary>The resources in the order of <paramref name="names"/> when they are exactly those names, else null.</summary>
    private static XdsResource[]? InOrder(IReadOnlyDictionary<string, XdsResource> resources, string[] names)
    {
        if (resources.Count != names.Length) return null;
        var ordered = new XdsResource[names.Length];
        for (int i = 0; i < names.Length; i++)
        {
            if (!resources.TryGetValue(names[i], out XdsResource? r)) return null;
            ordered[i] = r;
        }
        return ordered;
    }

    /// <summary>One type's resource names in order and their dump entries, aligned by index.</summary>
    private sealed class TypeOrder(string[] names, DecodedResource[] dumps)
    {
        public static readonly TypeOrder Empty = new([], []);
        public string[] Names { get; } = names;
        public DecodedResource[] Dumps { get; } = dumps;
    }

    /// <summary>Names of the bootstrap's static clusters: a CDS cluster may not take one (as in one bootstrap file).</summary>
    private static HashSet<string> StaticClusterNames(ConfigNode? bootstrap)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        if (bootstrap is ConfigMap b && b.Get("static_resources") is ConfigMap sr && sr.Get("clusters") is ConfigList list)
        {
            foreach (ConfigNode c in list.Items)
            {
                if (c is ConfigMap m && m.Get("name") is ConfigScalar { Kind: ScalarKind.String } n) names.Add(n.Text);
            }
        }
        return names;
    }
}
