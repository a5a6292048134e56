using System.Collections.Immutable;
using Sidecar.Core.Config.Tree;
using Sidecar.Core.Xds.Schema;

namespace Sidecar.Core.Tests.Xds.Decoding;

/// <summary>
/// Fields that istio 1.28's Envoy writes but the Envoy API copy in @grpc/grpc-js-xds@1.14.1 (our schema's
/// source) does not declare yet. Over the wire they would arrive as unknown field numbers (reported by the
/// decoder); in JSON they have no number, so the round-trip tests take them out first — and only these.
/// </summary>
internal static class SchemaGaps
{
    public static readonly ImmutableHashSet<string> NewerThanSchema = ImmutableHashSet.Create(StringComparer.Ordinal,
        "envoy.config.bootstrap.v3.Bootstrap.stats_eviction_interval");

    /// <summary>The tree without JSON keys the schema does not know; <paramref name="removed"/> gets "message.key" for each.</summary>
    public static ConfigNode Strip(XdsSchema schema, MessageDescriptor md, ConfigNode node, List<string> removed)
    {
        switch (md.WellKnown)
        {
            case WellKnownType.None:
                return StripPlain(schema, md, node, removed, skipType: false);
            case WellKnownType.Any when node is ConfigMap m && m.Get("@type") is ConfigScalar t && schema.FindByTypeUrl(t.Text) is { WellKnown: WellKnownType.None } inner:
                return StripPlain(schema, inner, node, removed, skipType: true);
            default:
                return node;
        }
    }

    private static ConfigNode StripPlain(XdsSchema schema, MessageDescriptor md, ConfigNode node, List<string> removed, bool skipType)
    {
        if (node is not ConfigMap map)
        {
            return node;
        }
        ImmutableArray<KeyValuePair<string, ConfigNode>>.Builder entries = ImmutableArray.CreateBuilder<KeyValuePair<string, ConfigNode>>();
        foreach (KeyValuePair<string, ConfigNode> e in map.Entries)
        {
            if (skipType && e.Key == "@type")
            {
                entries.Add(e);
                continue;
            }
            if (md.FindByName(e.Key) is not FieldDescriptor f)
            {
                removed.Add(md.FullName + "." + e.Key);
                continue;
            }
            entries.Add(new(e.Key, f.Message is not MessageDescriptor fm ? e.Value : e.Value switch
            {
                ConfigList l when f.IsRepeated => new ConfigList(l.Path, [.. l.Items.Select(i => Strip(schema, fm, i, removed))]),
                ConfigMap m when f.IsMap => new ConfigMap(m.Path, [.. m.Entries.Select(x => new KeyValuePair<string, ConfigNode>(x.Key, Strip(schema, fm, x.Value, removed)))]),
                _ => Strip(schema, fm, e.Value, removed),
            }));
        }
        return new ConfigMap(map.Path, entries.ToImmutable());
    }
}
