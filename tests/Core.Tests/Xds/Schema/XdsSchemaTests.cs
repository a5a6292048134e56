using System.Text.Json;
using Sidecar.Core.Tests.Config;
using Sidecar.Core.Tests.Xds.Decoding;
using Sidecar.Core.Xds.Schema;
using Xunit;
using Xunit.Abstractions;

namespace Sidecar.Core.Tests.Xds.Schema;

/// <summary>
/// The generated schema (src/Core/Xds/Schema/EnvoySchemaText.g.cs) against its sources. To regenerate:
/// <code>
/// tests/Core.Tests/Config/fetch-envoy-protos.sh &amp;&amp; tests/Core.Tests/Xds/Schema/install-protobufjs.sh
/// NODE_PATH=.cache/protobufjs/node_modules node tests/Core.Tests/Xds/Schema/generate-schema.js \
///   .cache/envoy-protos/package/deps src/Core/Xds/Schema/EnvoySchemaText.g.cs
/// </code>
/// </summary>
[Collection(XdsDecodingCollection.Name)]
public sealed class XdsSchemaTests(ITestOutputHelper output)
{
    [EnvoyProtosFact]
    public void CheckedInSchemaIsWhatTheGeneratorProducesNow()
    {
        string fresh = Path.Combine(Path.GetTempPath(), $"EnvoySchemaText-{Environment.ProcessId}.g.cs");
        try
        {
            output.WriteLine(XdsTestTools.RunNode(Path.Combine(XdsTestTools.SchemaDir, "generate-schema.js"), EnvoyProtos.Deps, fresh));
            string expected = File.ReadAllText(fresh);
            string actual = File.ReadAllText(XdsTestTools.GeneratedSchemaFile);
            Assert.True(expected == actual, "src/Core/Xds/Schema/EnvoySchemaText.g.cs is stale: regenerate it (see this class's summary)");
        }
        finally
        {
            File.Delete(fresh);
        }
    }

    /// <summary>An independent parser (the catalog tests' own .proto reader) agrees on every field's number and name.</summary>
    [EnvoyProtosFact]
    public void EveryFieldMatchesTheProtoFilesAsReadByTheCatalogParser()
    {
        Config.ProtoSchema upstream = EnvoyProtos.Schema;
        List<string> problems = [];
        int checkedFields = 0;
        foreach (MessageDescriptor m in XdsSchema.Envoy.Messages)
        {
            if (!upstream.Messages.TryGetValue(m.FullName, out ProtoMessage? um))
            {
                // google.protobuf.* come from protobufjs's copies, the istio ones from istio-protos/.
                Assert.True(m.FullName.StartsWith("google.protobuf.", StringComparison.Ordinal) || IsIstio(m.FullName), "not upstream: " + m.FullName);
                continue;
            }
            if (um.Fields.Count != m.Fields.Length)
            {
                problems.Add($"{m.FullName}: {m.Fields.Length} fields, upstream {um.Fields.Count}");
            }
            foreach (FieldDescriptor f in m.Fields)
            {
                checkedFields++;
                if (!um.Fields.TryGetValue(f.Name, out ProtoField? uf) || uf.Number != f.Number ||
                    (uf.Label == "repeated") != (f.IsRepeated && !f.IsMap) || (uf.MapKey is not null) != f.IsMap)
                {
                    problems.Add($"{m.FullName}.{f.Name} = {f.Number}: upstream {(uf is null ? "has no such field" : uf.Label + " " + uf.TypeName + " = " + uf.Number)}");
                }
                else if (f.Message is MessageDescriptor fm && upstream.Resolve(uf.TypeName, um.Scope) != fm.FullName)
                {
                    problems.Add($"{m.FullName}.{f.Name}: type {fm.FullName}, upstream {upstream.Resolve(uf.TypeName, um.Scope)}");
                }
            }
        }
        output.WriteLine($"{XdsSchema.Envoy.MessageCount} messages, {XdsSchema.Envoy.EnumCount} enums, {checkedFields} fields checked against the catalog parser");
        Assert.True(problems.Count == 0, string.Join("\n", problems.Take(40)));
        Assert.True(checkedFields > 1800, "suspiciously few fields: " + checkedFields);
    }

    /// <summary>Every typed_config / Any type in the real dumps and bootstraps can be decoded (none left opaque).</summary>
    [Fact]
    public void EveryAnyTypeInTheConformanceDumpsIsInTheSchema()
    {
        SortedSet<string> types = new(StringComparer.Ordinal);
        foreach (string file in ConformanceResources.DumpFiles.Concat(ConformanceResources.BootstrapFiles))
        {
            using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(file));
            CollectTypes(doc.RootElement, types);
        }
        Assert.NotEmpty(types);
        // The admin ConfigDump wrappers are the dump format itself, not something a control plane sends.
        string[] missing = [.. types.Where(t => !t.StartsWith("envoy.admin.v3.", StringComparison.Ordinal) && XdsSchema.Envoy.FindMessage(t) is null)];
        output.WriteLine($"{types.Count} distinct @type values");
        Assert.True(missing.Length == 0, "not in the schema: " + string.Join(", ", missing));
    }

    [Fact]
    public void SchemaHasTheResourceTypesWithTheirKnownFieldNumbers()
    {
        XdsSchema s = XdsSchema.Envoy;
        MessageDescriptor listener = s.FindByTypeUrl("type.googleapis.com/envoy.config.listener.v3.Listener")!;
        FieldDescriptor chains = listener.Fields[listener.IndexOf(3)];
        Assert.Equal("filter_chains", chains.Name);
        Assert.True(chains.IsRepeated);
        Assert.Equal("envoy.config.listener.v3.FilterChain", chains.Message!.FullName);
        Assert.Equal("filterChains", chains.JsonName);
        MessageDescriptor cluster = s.FindMessage("envoy.config.cluster.v3.Cluster")!;
        FieldDescriptor type = cluster.FindByName("type")!;
        Assert.Equal(2, type.Number);
        Assert.True(type.OneofIndex >= 0);
        Assert.Equal("cluster_discovery_type", cluster.Oneofs[type.OneofIndex]);
        Assert.Equal("EDS", type.Enum!.NameOf(3));
        FieldDescriptor tepo = cluster.FindByName("typed_extension_protocol_options")!;
        Assert.True(tepo.IsMap);
        Assert.Equal(FieldType.String, tepo.MapKeyType);
        Assert.Equal(WellKnownType.Any, tepo.Message!.WellKnown);
        Assert.Equal(WellKnownType.Duration, cluster.FindByName("connect_timeout")!.Message!.WellKnown);
        foreach (string root in new[] { "envoy.config.route.v3.RouteConfiguration", "envoy.config.endpoint.v3.ClusterLoadAssignment",
            "envoy.extensions.transport_sockets.tls.v3.Secret", "envoy.config.bootstrap.v3.Bootstrap", "udpa.type.v1.TypedStruct", "xds.type.v3.TypedStruct" })
        {
            Assert.NotNull(s.FindMessage(root));
        }
    }

    private static bool IsIstio(string name) =>
        name.StartsWith("stats.", StringComparison.Ordinal) || name.StartsWith("istio.", StringComparison.Ordinal) ||
        name.StartsWith("envoy.tcp.metadataexchange.", StringComparison.Ordinal);

    private static void CollectTypes(JsonElement e, SortedSet<string> into)
    {
        if (e.ValueKind == JsonValueKind.Object)
        {
            foreach (JsonProperty p in e.EnumerateObject())
            {
                if (p.Name == "@type" && p.Value.ValueKind == JsonValueKind.String)
                {
                    string t = p.Value.GetString()!;
                    into.Add(t[(t.LastIndexOf('/') + 1)..]);
                }
                CollectTypes(p.Value, into);
            }
        }
        else if (e.ValueKind == JsonValueKind.Array)
        {
            foreach (JsonElement item in e.EnumerateArray())
            {
                CollectTypes(item, into);
            }
        }
    }
}
