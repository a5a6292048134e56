using System.Collections.Immutable;
using System.Text.Json;
using Sidecar.Core.Config.Tree;
using Sidecar.Core.Tests.Xds.Schema;
using Sidecar.Core.Xds.Schema;
using Xunit;

namespace Sidecar.Core.Tests.Xds.Decoding;

/// <summary>One xDS resource as found in a real config dump or bootstrap: its message type, proto3 JSON text and tree (without "@type").</summary>
internal sealed record DumpResource(string Source, string TypeName, string Json, ConfigNode Tree)
{
    public string ShortType => TypeName[(TypeName.LastIndexOf('.') + 1)..];

    public override string ToString() => $"{Source} {ShortType} {Name}";

    public string Name => (Tree as ConfigMap)?.Get("name") is ConfigScalar s ? s.Text : "";
}

/// <summary>
/// Every resource in ../shared/conformance/istio/envoy-config-dumps (Listener, Cluster, RouteConfiguration,
/// ClusterLoadAssignment, Secret, ScopedRouteConfiguration, ECDS TypedExtensionConfig, the dumped Bootstrap)
/// and every bootstrap golden in ../shared/conformance/istio/bootstrap. Takes what it finds (some dumps are
/// held back for independent checks), never a fixed list.
/// </summary>
internal static class ConformanceResources
{
    public static readonly ImmutableHashSet<string> ResourceTypes = ImmutableHashSet.Create(StringComparer.Ordinal,
        "envoy.config.listener.v3.Listener",
        "envoy.config.cluster.v3.Cluster",
        "envoy.config.route.v3.RouteConfiguration",
        "envoy.config.route.v3.ScopedRouteConfiguration",
        "envoy.config.endpoint.v3.ClusterLoadAssignment",
        "envoy.extensions.transport_sockets.tls.v3.Secret",
        "envoy.config.core.v3.TypedExtensionConfig",
        "envoy.config.bootstrap.v3.Bootstrap");

    private static readonly Lazy<ImmutableArray<DumpResource>> LazyAll = new(Load);

    public static ImmutableArray<DumpResource> All => LazyAll.Value;

    public static string DumpsDir => Path.Combine(XdsTestTools.IstioConformance, "envoy-config-dumps");

    public static string BootstrapsDir => Path.Combine(XdsTestTools.IstioConformance, "bootstrap");

    /// <summary>The dump files themselves (JSON, whatever the extension says: authz/configdump.yaml is JSON).</summary>
    public static IEnumerable<string> DumpFiles =>
        Directory.EnumerateFiles(DumpsDir, "*", SearchOption.AllDirectories)
            .Where(f => Path.GetFileName(f).Contains("dump", StringComparison.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal);

    public static IEnumerable<string> BootstrapFiles =>
        Directory.EnumerateFiles(BootstrapsDir, "*_golden.json").Order(StringComparer.Ordinal);

    private static ImmutableArray<DumpResource> Load()
    {
        Assert.True(Directory.Exists(DumpsDir), "conformance dumps not found at " + DumpsDir);
        ImmutableArray<DumpResource>.Builder all = ImmutableArray.CreateBuilder<DumpResource>();
        foreach (string file in DumpFiles)
        {
            string source = Path.GetRelativePath(XdsTestTools.IstioConformance, file);
            using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(file));
            Collect(source, doc.RootElement, all);
        }
        foreach (string file in BootstrapFiles)
        {
            string source = Path.GetRelativePath(XdsTestTools.IstioConformance, file);
            using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(file));
            all.Add(Make(source, "envoy.config.bootstrap.v3.Bootstrap", doc.RootElement));
        }
        return all.ToImmutable();
    }

    /// <summary>Walks a dump; an object whose "@type" is a resource type is one resource (not searched further).</summary>
    private static void Collect(string source, JsonElement e, ImmutableArray<DumpResource>.Builder into)
    {
        if (e.ValueKind == JsonValueKind.Object)
        {
            if (e.TryGetProperty("@type", out JsonElement t) && t.ValueKind == JsonValueKind.String)
            {
                string type = t.GetString()!;
                type = type[(type.LastIndexOf('/') + 1)..];
                if (ResourceTypes.Contains(type))
                {
                    into.Add(Make(source, type, e));
                    return;
                }
                // BootstrapConfigDump.bootstrap is a plain Bootstrap field, not an Any: it has no "@type".
                if (type == "envoy.admin.v3.BootstrapConfigDump" && e.TryGetProperty("bootstrap", out JsonElement b))
                {
                    into.Add(Make(source, "envoy.config.bootstrap.v3.Bootstrap", b));
                    return;
                }
            }
            foreach (JsonProperty p in e.EnumerateObject())
            {
                Collect(source, p.Value, into);
            }
        }
        else if (e.ValueKind == JsonValueKind.Array)
        {
            foreach (JsonElement item in e.EnumerateArray())
            {
                Collect(source, item, into);
            }
        }
    }

    private static DumpResource Make(string source, string type, JsonElement e)
    {
        // The resource itself, as a DiscoveryResponse carries it inside an Any: its fields without "@type".
        using MemoryStream ms = new();
        using (Utf8JsonWriter w = new(ms))
        {
            w.WriteStartObject();
            foreach (JsonProperty p in e.EnumerateObject())
            {
                if (p.Name != "@type")
                {
                    p.WriteTo(w);
                }
            }
            w.WriteEndObject();
        }
        string json = System.Text.Encoding.UTF8.GetString(ms.ToArray());
        ConfigNode tree = JsonTreeReader.Read(json).Value ?? throw new InvalidOperationException(source + ": not JSON");
        List<string> removed = [];
        tree = SchemaGaps.Strip(XdsSchema.Envoy, XdsSchema.Envoy.FindMessage(type)!, tree, removed);
        foreach (string field in removed)
        {
            Assert.True(SchemaGaps.NewerThanSchema.Contains(field), $"{source}: {field} is not in the schema (and not a known gap)");
        }
        if (removed.Count > 0)
        {
            int order = 0;
            tree = tree.Rebase("", ref order);
            json = ConfigJsonWriter.Write(tree, indented: false);
        }
        return new DumpResource(source, type, json, tree);
    }
}
