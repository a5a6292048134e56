using Sidecar.Core.Config;
using Sidecar.Core.Config.Model;
using Sidecar.Core.Config.Translation;
using Sidecar.Core.Config.Tree;
using Sidecar.Core.Xds.Decoding;

namespace Sidecar.Core.Xds.Integration;

/// <summary>One published resource as decoded, for /config_dump.</summary>
public sealed record DecodedResource(string TypeUrl, string Name, string Version, ConfigNode Tree, DateTimeOffset LastUpdated);

/// <summary>
/// The seam between the xDS client and the proxy: resources are decoded (protobuf → the config tree), composed with
/// the bootstrap's static part (<see cref="DynamicBootstrapComposer"/>), translated by the SAME translators a static
/// file goes through, and applied as one version (the apply callback, normally <c>ListenerManager.ApplyAsync</c>).
/// Any error — undecodable bytes, an unsupported field, a route naming a missing cluster, a port that cannot be bound —
/// rejects the whole set; the reason becomes the NACK's error_detail and the previous version keeps serving.
/// </summary>
public sealed class XdsConfigTranslator : IXdsResourceTranslator
{
    private const int MaxErrorsInDetail = 5;

    private readonly ConfigNode? _bootstrap;
    private readonly Func<BootstrapModel, string?> _apply;
    private readonly TimeProvider _time;
    private readonly Dictionary<(string Type, string Name), (ReadOnlyMemory<byte> Bytes, ConfigNode Tree)> _decoded = [];
    private readonly Lock _lock = new();
    private volatile IReadOnlyList<DecodedResource> _published = [];

    /// <param name="bootstrap">The bootstrap tree whose static resources are served beside the dynamic ones (or null).</param>
    /// <param name="apply">Applies a translated version; null when it is serving, else why not (nothing changed then).</param>
    public XdsConfigTranslator(ConfigNode? bootstrap, Func<BootstrapModel, string?> apply, TimeProvider? time = null)
    {
        _bootstrap = bootstrap;
        _apply = apply;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>The resources of the version now serving, as decoded (for /config_dump).</summary>
    public IReadOnlyList<DecodedResource> Published => _published;

    /// <summary>The model of the version now serving (null before the first successful publish).</summary>
    public BootstrapModel? LastModel { get; private set; }

    public string? Check(XdsResource resource)
    {
        lock (_lock)
        {
            return Decode(resource, out _);
        }
    }

    public string? Publish(XdsResourceSet set)
    {
        lock (_lock)
        {
            var listeners = new List<KeyValuePair<string, ConfigNode>>();
            var clusters = new List<KeyValuePair<string, ConfigNode>>();
            var routes = new Dictionary<string, ConfigNode>(StringComparer.Ordinal);
            var endpoints = new Dictionary<string, ConfigNode>(StringComparer.Ordinal);
            var decoded = new List<DecodedResource>();
            DateTimeOffset now = _time.GetUtcNow();
            foreach ((IReadOnlyDictionary<string, XdsResource> resources, Action<string, ConfigNode> add) in new (IReadOnlyDictionary<string, XdsResource>, Action<string, ConfigNode>)[]
            {
                (set.Listeners, (n, t) => listeners.Add(new(n, t))),
                (set.Routes, (n, t) => routes[n] = t),
                (set.Clusters, (n, t) => clusters.Add(new(n, t))),
                (set.Endpoints, (n, t) => endpoints[n] = t),
            })
            {
                foreach (XdsResource r in resources.Values.OrderBy(r => r.Name, StringComparer.Ordinal))
                {
                    if (Decode(r, out ConfigNode? tree) is string error) return error;
                    add(r.Name, tree!);
                    decoded.Add(new DecodedResource(r.TypeUrl, r.Name, r.Version, tree!, now));
                }
            }
            ConfigNode root = DynamicBootstrapComposer.Compose(_bootstrap, listeners, routes, clusters, endpoints);
            ConfigResult<BootstrapModel> translated = EnvoyBootstrapTranslator.Translate(root);
            if (!translated.IsSuccess || translated.Value is null)
            {
                IEnumerable<string> lines = translated.Errors.Take(MaxErrorsInDetail).Select(ConfigErrorFormatter.FormatOne);
                string more = translated.Errors.Length > MaxErrorsInDetail ? $" (+{translated.Errors.Length - MaxErrorsInDetail} more)" : "";
                return string.Join("; ", lines) + more;
            }
            if (_apply(translated.Value) is string refused) return refused;
            LastModel = translated.Value;
            _published = decoded;
            // Forget decoded trees of resources that are gone, so the cache follows the control plane's set.
            var live = new HashSet<(string, string)>(decoded.Select(d => (d.TypeUrl, d.Name)));
            foreach (var key in _decoded.Keys.Where(k => !live.Contains(k)).ToList()) _decoded.Remove(key);
            return null;
        }
    }

    /// <summary>Decodes (or reuses the tree of identical bytes); null when fine, else the NACK reason.</summary>
    private string? Decode(XdsResource resource, out ConfigNode? tree)
    {
        var key = (resource.TypeUrl, resource.Name);
        if (_decoded.TryGetValue(key, out var cached) && cached.Bytes.Span.SequenceEqual(resource.Bytes.Span))
        {
            tree = cached.Tree;
            return null;
        }
        XdsDecodeResult result = ProtoTreeDecoder.Decode(resource.TypeUrl, resource.Bytes.Span, XdsTypeUrls.ShortName(resource.TypeUrl) + " \"" + resource.Name + "\"");
        if (!result.IsSuccess || result.Tree is null)
        {
            tree = null;
            return $"{XdsTypeUrls.ShortName(resource.TypeUrl)} \"{resource.Name}\": {result}";
        }
        tree = result.Tree;
        _decoded[key] = (resource.Bytes.ToArray(), tree);
        return null;
    }
}
