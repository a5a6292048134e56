using System.Collections.Immutable;
using Sidecar.Core.Config;
using Sidecar.Core.Config.Model;
using Sidecar.Core.Config.Translation;
using Sidecar.Core.Config.Tree;
using Sidecar.Core.Protobuf;
using Sidecar.Core.Tests.Xds.Decoding;
using Sidecar.Core.Xds;
using Sidecar.Core.Xds.Decoding;
using Sidecar.Core.Xds.Integration;
using Xunit;
using Xunit.Abstractions;
using static Sidecar.Core.Tests.Xds.EdsTestResources;

namespace Sidecar.Core.Tests.Xds;

/// <summary>
/// The per-resource xDS translation (clusters and endpoints translated alone and cached; ClusterLoadAssignments read by
/// the direct <see cref="LoadAssignmentDecoder"/>) gives the same models and the same NACK text as translating one
/// composed bootstrap tree — checked on every CDS/EDS resource of istiod's real output in the conformance dumps.
/// </summary>
public sealed class XdsPerResourceTranslationTests(ITestOutputHelper output)
{
    private static readonly string[] NotReadByTheTranslator = ["policy", "health_status", "health_check_config"];

    private static IEnumerable<DumpResource> Of(string shortType) => ConformanceResources.All.Where(r => r.ShortType == shortType);

    private static byte[] Encode(string typeUrl, ConfigNode tree)
    {
        XdsEncodeResult e = ProtoTreeEncoder.Encode(typeUrl, tree);
        Assert.True(e.IsSuccess, e.ToString());
        return e.Bytes!;
    }

    /// <summary>The tree path for one ClusterLoadAssignment: generic decode, then LoadAssignmentTranslator.</summary>
    private static (ImmutableArray<LocalityEndpointsModel> Localities, ImmutableArray<ConfigError> Errors) TreePath(byte[] bytes)
    {
        XdsDecodeResult d = ProtoTreeDecoder.Decode(XdsTypeUrls.ClusterLoadAssignment, bytes, "endpoints \"x\"");
        Assert.True(d.IsSuccess, d.ToString());
        return LoadAssignmentTranslator.TranslateResource(d.Tree!);
    }

    /// <summary>The same tree without the fields istiod's dumps carry that the translator refuses, so the accepted shape is exercised too.</summary>
    private static ConfigNode Without(ConfigNode node, string[] keys) => node switch
    {
        ConfigMap m => new ConfigMap(m.Path, [.. m.Entries.Where(e => !keys.Contains(e.Key)).Select(e => new KeyValuePair<string, ConfigNode>(e.Key, Without(e.Value, keys)))]),
        ConfigList l => new ConfigList(l.Path, [.. l.Items.Select(i => Without(i, keys))]),
        _ => node,
    };

    [Fact]
    public void EveryConformanceAssignmentDecodesDirectlyToTheTreePathsModel()
    {
        int direct = 0, refused = 0, both = 0;
        foreach (DumpResource r in Of("ClusterLoadAssignment"))
        {
            foreach (ConfigNode variant in new[] { r.Tree, Without(r.Tree, NotReadByTheTranslator) })
            {
                byte[] bytes = Encode(XdsTypeUrls.ClusterLoadAssignment, variant);
                (ImmutableArray<LocalityEndpointsModel> expected, ImmutableArray<ConfigError> errors) = TreePath(bytes);
                bool fast = new LoadAssignmentDecoder().TryDecode(bytes, out ImmutableArray<LocalityEndpointsModel> actual);
                if (fast)
                {
                    direct++;
                    // Taken only where the tree path accepts the resource, and then with the same model.
                    Assert.True(errors.IsEmpty, $"{r}: direct decoder accepted what the tree path refuses: {string.Join("; ", errors)}");
                    ModelAssert.Equal(expected, actual, r.ToString());
                }
                else if (errors.IsEmpty)
                {
                    both++;
                    output.WriteLine($"{r}: accepted by the tree path only");
                }
                else
                {
                    refused++;
                }
            }
        }
        output.WriteLine($"ClusterLoadAssignments: {direct} decoded directly (equal models), {refused} refused by the tree path, {both} accepted by the tree path only");
        Assert.True(direct >= 10, $"only {direct} resources took the direct decoder");
        // Every shape istiod sent that the translator accepts is one the direct decoder reads.
        Assert.Equal(0, both);
    }

    [Fact]
    public void DirectDecoderGivesUpOnWhatItDoesNotReadAndThePublishedErrorIsTheTreePaths()
    {
        byte[] ok = Assignment(w => Endpoint(w, "10.0.0.1", 80));
        Assert.True(new LoadAssignmentDecoder().TryDecode(ok, out ImmutableArray<LocalityEndpointsModel> l));
        Assert.Equal("10.0.0.1", l[0].Endpoints[0].Host);

        (string What, byte[] Bytes)[] bad =
        [
            ("host name in a STATIC cluster", Assignment(w => Endpoint(w, "web.local", 80))),
            ("port 0", Assignment(w => Endpoint(w, "10.0.0.1", 0))),
            ("port out of range", Assignment(w => Endpoint(w, "10.0.0.1", 70000))),
            ("policy", Concat(ok, w => { int p = w.BeginMessage(4); w.WriteBool(6, true); w.EndMessage(p); })),
            ("health_status HEALTHY", Assignment(w => { Endpoint(w, "10.0.0.1", 80); w.WriteUInt64(2, 1); })),
            ("priority above 128", Assignment(w => Endpoint(w, "10.0.0.1", 80), priority: 200)),
            ("weight 0", Assignment(w => { Endpoint(w, "10.0.0.1", 80); int m = w.BeginMessage(4); w.WriteUInt64(1, 0); w.EndMessage(m); })),
            ("no endpoint", Assignment(w => { int m = w.BeginMessage(4); w.WriteUInt64(1, 2); w.EndMessage(m); })),
            ("transport socket match with a number", Assignment(w => { Endpoint(w, "10.0.0.1", 80); Metadata(w, "envoy.transport_socket_match", v => v.WriteDouble(2, 1.5)); })),
            ("truncated", ok[..^2]),
        ];
        // Given up on, yet accepted by the tree path: the same model comes out of it.
        byte[] unknownField = Concat(ok, w => w.WriteUInt64(99, 1));
        Assert.False(new LoadAssignmentDecoder().TryDecode(unknownField, out _));
        Assert.Null(ComposedPath(unknownField, out BootstrapModel? viaTree));
        Assert.Null(PerResourcePath(unknownField, out BootstrapModel? viaCache));
        ModelAssert.Equal(viaTree!.Clusters["web"], viaCache!.Clusters["web"]);

        foreach ((string what, byte[] bytes) in bad)
        {
            Assert.False(new LoadAssignmentDecoder().TryDecode(bytes, out _), what);
            string? oldError = ComposedPath(bytes, out _);
            string? newError = PerResourcePath(bytes, out _);
            Assert.True(oldError is not null, what + ": the composed path accepted it");
            Assert.Equal(oldError, newError);
            output.WriteLine($"{what}: {newError}");
        }
    }

    [Fact]
    public void EndpointMetadataIsReadAsTheTreePathReadsIt()
    {
        byte[] bytes = Assignment(w =>
        {
            Endpoint(w, "10.0.0.1", 80);
            int md = w.BeginMessage(3);
            MetadataEntry(w, "envoy.transport_socket_match", "tlsMode", v => v.WriteString(3, "istio"));
            MetadataEntry(w, "istio", "workload", v => v.WriteString(3, "reviews-v1;default;reviews;v1;Kubernetes"));
            MetadataEntry(w, "other", "flag", v => v.WriteBool(4, true));
            w.EndMessage(md);
        });
        Assert.True(new LoadAssignmentDecoder().TryDecode(bytes, out ImmutableArray<LocalityEndpointsModel> direct));
        (ImmutableArray<LocalityEndpointsModel> tree, ImmutableArray<ConfigError> errors) = TreePath(bytes);
        Assert.Empty(errors);
        ModelAssert.Equal(tree, direct);
        Assert.Equal("istio", direct[0].Endpoints[0].TransportSocketMatch["tlsMode"]);
    }

    [Fact]
    public void EveryConformanceClusterTranslatesPerResourceAsInOneBootstrap()
    {
        int same = 0, refused = 0;
        ImmutableArray<DumpResource> assignments = [.. Of("ClusterLoadAssignment")];
        foreach (DumpResource c in ClustersInDumpsAndBootstraps())
        {
            foreach (ConfigNode variant in new[] { c.Tree, Without(c.Tree, NotReadByTheTranslator) })
            {
                var clusters = new Dictionary<string, XdsResource> { [c.Name] = new(XdsTypeUrls.Cluster, c.Name, "1", Encode(XdsTypeUrls.Cluster, variant)) };
                var endpoints = new Dictionary<string, XdsResource>();
                foreach (DumpResource a in assignments.Where(a => a.Source == c.Source))
                {
                    string service = (a.Tree as ConfigMap)?.Get("cluster_name") is ConfigScalar s ? s.Text : "";
                    endpoints[service] = new(XdsTypeUrls.ClusterLoadAssignment, service, "1", Encode(XdsTypeUrls.ClusterLoadAssignment, Without(a.Tree, NotReadByTheTranslator)));
                }
                var set = new XdsResourceSet { Listeners = new Dictionary<string, XdsResource>(), Routes = new Dictionary<string, XdsResource>(), Clusters = clusters, Endpoints = endpoints };
                string? oldError = ComposedPath(set, out BootstrapModel? oldModel);
                string? newError = PerResourcePath(set, out BootstrapModel? newModel);
                Assert.Equal(oldError, newError);
                if (oldError is null)
                {
                    same++;
                    ModelAssert.Equal(oldModel!.Clusters[c.Name], newModel!.Clusters[c.Name], c.ToString());
                }
                else
                {
                    refused++;
                }
            }
        }
        output.WriteLine($"Clusters: {same} translated to equal models, {refused} refused with the same error_detail");
        Assert.True(same >= 40 && refused >= 1, $"only {same} clusters were accepted, {refused} refused");
    }

    /// <summary>The CDS resources of the dumps, and the static clusters of the dumped and golden bootstraps (sent as CDS here).</summary>
    private static IEnumerable<DumpResource> ClustersInDumpsAndBootstraps()
    {
        foreach (DumpResource c in Of("Cluster")) yield return c;
        foreach (DumpResource b in Of("Bootstrap"))
        {
            if ((b.Tree as ConfigMap)?.Get("static_resources") is not ConfigMap sr || sr.Get("clusters") is not ConfigList list) continue;
            foreach (ConfigNode c in list.Items) yield return new DumpResource(b.Source, "envoy.config.cluster.v3.Cluster", "", c);
        }
    }

    [Fact]
    public void WithLocalitiesKeepsEveryOtherProperty()
    {
        foreach (DumpResource c in ClustersInDumpsAndBootstraps())
        {
            ConfigNode tree = DynamicBootstrapComposer.EdsClusterWithoutEndpoints(c.Tree, c.Name, out _) ?? c.Tree;
            if (ClusterTranslator.TranslateResource(tree).Model is not ClusterModel model) continue;
            ClusterModel joined = model.WithLocalities([new LocalityEndpointsModel { Endpoints = [] }]);
            ModelAssert.Equal(model, joined, c.ToString(), new HashSet<string> { nameof(ClusterModel.Localities) });
            Assert.Single(joined.Localities);
        }
    }

    [Fact]
    public void UnchangedResourcesAreNotTranslatedAgainAndKeepTheirModel()
    {
        BootstrapModel? applied = null;
        var translator = new XdsConfigTranslator(null, m => { applied = m; return null; });
        var clusters = new Dictionary<string, XdsResource>();
        var endpoints = new Dictionary<string, XdsResource>();
        foreach (string name in new[] { "a", "b" })
        {
            clusters[name] = new(XdsTypeUrls.Cluster, name, "1", XdsTestResources.Cluster(name));
            endpoints[name] = new(XdsTypeUrls.ClusterLoadAssignment, name, "1", Assignment(w => Endpoint(w, "10.0.0.1", 80), name));
        }
        XdsResourceSet Set() => new() { Listeners = new Dictionary<string, XdsResource>(), Routes = new Dictionary<string, XdsResource>(), Clusters = new Dictionary<string, XdsResource>(clusters), Endpoints = new Dictionary<string, XdsResource>(endpoints) };
        Assert.Null(translator.Publish(Set()));
        BootstrapModel first = applied!;
        Assert.Equal((2L, 0L), translator.EndpointDecodes);

        // SotW re-sends everything with a new version: same bytes, nothing decoded again, same model instances.
        clusters["a"] = clusters["a"] with { Version = "2", Bytes = clusters["a"].Bytes.ToArray() };
        Assert.Null(translator.Publish(Set()));
        Assert.Equal((2L, 0L), translator.EndpointDecodes);
        Assert.Same(first.Clusters["a"], applied!.Clusters["a"]);
        Assert.Same(first.Clusters["b"], applied.Clusters["b"]);
        Assert.Equal("2", translator.Published.Single(r => r.Name == "a" && r.TypeUrl == XdsTypeUrls.Cluster).Version);

        // One endpoint set changes: only it is decoded; the other cluster keeps its instance.
        endpoints["b"] = new(XdsTypeUrls.ClusterLoadAssignment, "b", "3", Assignment(w => Endpoint(w, "10.0.0.2", 81), "b"));
        Assert.Null(translator.Publish(Set()));
        Assert.Equal((3L, 0L), translator.EndpointDecodes);
        Assert.Same(first.Clusters["a"], applied.Clusters["a"]);
        Assert.Equal(81, applied.Clusters["b"].Localities[0].Endpoints[0].Port);
        Assert.Same(first.Clusters["b"].Definition, applied.Clusters["b"].Definition);

        // /config_dump decodes the retained bytes on demand.
        DecodedResource dumped = translator.Published.Single(r => r.Name == "b" && r.TypeUrl == XdsTypeUrls.ClusterLoadAssignment);
        Assert.Contains("10.0.0.2", ConfigJsonWriter.Write(dumped.Tree), StringComparison.Ordinal);
    }

    // ---- the two paths ----

    private static string? ComposedPath(byte[] assignment, out BootstrapModel? model) => ComposedPath(OneEdsCluster(assignment), out model);

    private static string? PerResourcePath(byte[] assignment, out BootstrapModel? model) => PerResourcePath(OneEdsCluster(assignment), out model);

    private static XdsResourceSet OneEdsCluster(byte[] assignment) => new()
    {
        Listeners = new Dictionary<string, XdsResource>(),
        Routes = new Dictionary<string, XdsResource>(),
        Clusters = new Dictionary<string, XdsResource> { ["web"] = new(XdsTypeUrls.Cluster, "web", "1", XdsTestResources.Cluster("web")) },
        Endpoints = new Dictionary<string, XdsResource> { ["web"] = new(XdsTypeUrls.ClusterLoadAssignment, "web", "1", assignment) },
    };

    private static string? PerResourcePath(XdsResourceSet set, out BootstrapModel? model)
    {
        BootstrapModel? applied = null;
        var translator = new XdsConfigTranslator(null, m => { applied = m; return null; });
        foreach (XdsResource r in set.Clusters.Values.Concat(set.Endpoints.Values))
        {
            if (translator.Check(r) is string checkError)
            {
                model = null;
                return checkError;
            }
        }
        string? error = translator.Publish(set);
        model = applied;
        return error;
    }

    /// <summary>What the translator did before per-resource translation: decode every resource, compose one bootstrap, translate it.</summary>
    private static string? ComposedPath(XdsResourceSet set, out BootstrapModel? model)
    {
        model = null;
        var clusters = new List<KeyValuePair<string, ConfigNode>>();
        var endpoints = new Dictionary<string, ConfigNode>();
        foreach (XdsResource r in set.Clusters.Values.OrderBy(r => r.Name, StringComparer.Ordinal).Concat(set.Endpoints.Values.OrderBy(r => r.Name, StringComparer.Ordinal)))
        {
            string label = XdsTypeUrls.ShortName(r.TypeUrl) + " \"" + r.Name + "\"";
            XdsDecodeResult d = ProtoTreeDecoder.Decode(r.TypeUrl, r.Bytes.Span, label);
            if (!d.IsSuccess) return $"{label}: {d}";
            if (r.TypeUrl == XdsTypeUrls.Cluster) clusters.Add(new(r.Name, d.Tree!));
            else endpoints[r.Name] = d.Tree!;
        }
        ConfigNode root = DynamicBootstrapComposer.Compose(null, [], new Dictionary<string, ConfigNode>(), clusters, endpoints);
        ConfigResult<BootstrapModel> t = EnvoyBootstrapTranslator.Translate(root);
        if (t.IsSuccess)
        {
            model = t.Value;
            return null;
        }
        string more = t.Errors.Length > 5 ? $" (+{t.Errors.Length - 5} more)" : "";
        return string.Join("; ", t.Errors.Take(5).Select(ConfigErrorFormatter.FormatOne)) + more;
    }

    // ---- protobuf builders (field numbers: envoy/config/endpoint/v3/endpoint_components.proto, core/v3/address.proto) ----

    private static byte[] Assignment(Action<ProtoWriter> lbEndpoint, string name = "web", int priority = 0)
    {
        var w = new ProtoWriter();
        w.WriteString(1, name);
        int locality = w.BeginMessage(2);
        int lb = w.BeginMessage(2);
        lbEndpoint(w);
        w.EndMessage(lb);
        if (priority != 0) w.WriteUInt64(5, (ulong)priority);
        w.EndMessage(locality);
        return w.ToArray();
    }

    private static byte[] Concat(byte[] message, Action<ProtoWriter> more)
    {
        var w = new ProtoWriter();
        more(w);
        return [.. message, .. w.ToArray()];
    }

    private static void Metadata(ProtoWriter w, string ns, Action<ProtoWriter> value)
    {
        int md = w.BeginMessage(3);
        MetadataEntry(w, ns, "key", value);
        w.EndMessage(md);
    }
}
