using Sidecar.Core.Config.Envoy;
using Xunit;
using Xunit.Abstractions;

namespace Sidecar.Core.Tests.Config;

/// <summary>
/// The field catalog is the contract between the static-config translators and the xDS client, which
/// decodes the same Envoy messages from protobuf. Two checks keep it honest:
/// upstream — every catalog message, field (name, number, type), enum value and type URL is exactly what
/// Envoy's .proto files declare; consistency — the translators and the catalog name the same fields.
/// Parsing ~600 .proto files allocates a lot; the class runs alone (not in parallel with other classes) so
/// it cannot disturb tests that measure process-wide allocation (ProxyAllocationTests).
/// </summary>
[Collection(EnvoyCatalogCollection.Name)]
public sealed class EnvoyCatalogTests(ITestOutputHelper output)
{
    [EnvoyProtosFact]
    public void EveryCatalogEntryMatchesUpstream()
    {
        ProtoSchema schema = EnvoyProtos.Schema;
        List<string> problems = [];
        int fields = 0, values = 0;
        foreach (EnvoyMessage m in EnvoyFieldCatalog.Messages)
        {
            if (!schema.Messages.TryGetValue(m.FullName, out ProtoMessage? upstream))
            {
                problems.Add($"message {m.FullName}: not defined upstream");
                continue;
            }
            foreach (EnvoyField f in m.Fields)
            {
                fields++;
                if (!upstream.Fields.TryGetValue(f.Name, out ProtoField? uf))
                {
                    problems.Add($"{m.FullName}.{f.Name}: no such field upstream");
                    continue;
                }
                string upstreamType = schema.Describe(upstream, uf);
                if (uf.Number != f.Number || upstreamType != f.Type)
                {
                    problems.Add($"{m.FullName}.{f.Name}: catalog {f.Type} = {f.Number}, upstream {upstreamType} = {uf.Number}");
                }
            }
        }
        foreach (EnvoyEnum e in EnvoyFieldCatalog.Enums)
        {
            if (!schema.Enums.TryGetValue(e.FullName, out ProtoEnum? upstream))
            {
                problems.Add($"enum {e.FullName}: not defined upstream");
                continue;
            }
            foreach (EnvoyEnumValue v in e.Values)
            {
                values++;
                if (!upstream.Values.TryGetValue(v.Name, out int number) || number != v.Number)
                {
                    problems.Add($"{e.FullName}.{v.Name} = {v.Number}: upstream has {(upstream.Values.ContainsKey(v.Name) ? number.ToString(System.Globalization.CultureInfo.InvariantCulture) : "no such value")}");
                }
            }
        }
        foreach (string url in EnvoyFieldCatalog.TypeUrls)
        {
            string type = url[EnvoyFieldCatalog.TypeUrlPrefix.Length..];
            if (!url.StartsWith(EnvoyFieldCatalog.TypeUrlPrefix, StringComparison.Ordinal) || !schema.Messages.ContainsKey(type))
            {
                problems.Add($"type URL {url}: no such message upstream");
            }
        }
        output.WriteLine($"catalog: {EnvoyFieldCatalog.Messages.Length} messages, {fields} fields, {values} enum values checked " +
            $"against envoy-api from {EnvoyProtos.Package} ({schema.FileCount} .proto files, {schema.Messages.Count} messages parsed)");
        Assert.True(problems.Count == 0, "catalog differs from upstream:\n" + string.Join("\n", problems));
    }

    [EnvoyProtosFact]
    public void ProtoParserReadsNestedTypesOneofsMapsAndEnums()
    {
        ProtoSchema schema = EnvoyProtos.Schema;
        ProtoMessage cluster = schema.Messages["envoy.config.cluster.v3.Cluster"];
        // oneof member, nested enum resolved from a relative name, map<>, repeated of another package.
        Assert.Equal("envoy.config.cluster.v3.Cluster.DiscoveryType", schema.Describe(cluster, cluster.Fields["type"]));
        Assert.Equal("map<string, google.protobuf.Any>", schema.Describe(cluster, cluster.Fields["typed_extension_protocol_options"]));
        Assert.Equal("repeated envoy.config.core.v3.HealthCheck", schema.Describe(cluster, cluster.Fields["health_checks"]));
        Assert.Equal(3, schema.Enums["envoy.config.cluster.v3.Cluster.DiscoveryType"].Values["EDS"]);
        Assert.True(schema.Messages.ContainsKey("envoy.config.route.v3.RouteAction.UpgradeConfig.ConnectConfig"));
        Assert.True(schema.Messages.Count > 1000, $"only {schema.Messages.Count} messages parsed");
    }

    [Fact]
    public void TranslatorsAndCatalogNameTheSameFields()
    {
        TranslatorFieldScanner.Result scan = TranslatorFieldScanner.Scan();
        HashSet<(string, EnvoyFieldUse)> catalogUses = [.. EnvoyFieldCatalog.Messages.SelectMany(m => m.Fields).Select(f => (f.Name, f.Use))];
        HashSet<string> catalogNames = [.. catalogUses.Select(u => u.Item1)];

        List<string> problems = [];
        problems.AddRange(scan.References.Where(n => !catalogNames.Contains(n)).Select(n => $"translator reads \"{n}\": not in the catalog"));
        problems.AddRange(scan.Uses.Where(u => !catalogUses.Contains(u)).Select(u => $"translator uses \"{u.Name}\" as {u.Use}: no catalog field with that use"));
        problems.AddRange(catalogUses.Where(u => !scan.Uses.Contains(u)).Select(u => $"catalog field \"{u.Item1}\" ({u.Item2}): no translator does that"));
        output.WriteLine($"translators: {scan.References.Count} field names, catalog: {catalogNames.Count} distinct names");
        Assert.True(problems.Count == 0, string.Join("\n", problems.Order(StringComparer.Ordinal)));
    }

    [Fact]
    public void TranslatorsAndCatalogAcceptTheSameEnumValues()
    {
        HashSet<string> catalog = [.. EnvoyFieldCatalog.Enums.SelectMany(e => e.Values).Select(v => v.Name)];
        HashSet<string> translators = TranslatorFieldScanner.Scan().EnumValues;
        Assert.Empty(translators.Except(catalog));
        Assert.Empty(catalog.Except(translators));
    }

    [Fact]
    public void ExtensionsAreExactlyTheCatalogTypeUrls()
    {
        HashSet<string> catalog = [.. EnvoyFieldCatalog.TypeUrls.Select(u => u[EnvoyFieldCatalog.TypeUrlPrefix.Length..])];
        Assert.Equal(catalog.Order(StringComparer.Ordinal), TranslatorFieldScanner.ExtensionTypeNames().Order(StringComparer.Ordinal));
        // Each extension's options message is in the catalog, so the upstream check covers its fields too.
        Assert.All(catalog, t => Assert.NotNull(EnvoyFieldCatalog.FindMessage(t)));
        Assert.True(EnvoyFieldCatalog.IsAcceptedTypeUrl("type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"));
    }

    [Fact]
    public void CatalogHasNoDuplicates()
    {
        Assert.Equal(EnvoyFieldCatalog.Messages.Length, EnvoyFieldCatalog.Messages.Select(m => m.FullName).Distinct().Count());
        foreach (EnvoyMessage m in EnvoyFieldCatalog.Messages)
        {
            Assert.True(m.Fields.Select(f => f.Name).Distinct().Count() == m.Fields.Length, m.FullName + ": duplicate field name");
            Assert.True(m.Fields.Select(f => f.Number).Distinct().Count() == m.Fields.Length, m.FullName + ": duplicate field number");
        }
    }
}

/// <summary>A non-parallel collection: xunit runs it after the parallel ones, with nothing else running.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class EnvoyCatalogCollection
{
    public const string Name = "Envoy catalog (allocation-heavy)";
}
