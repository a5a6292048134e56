using System.Collections;
using System.IO.Pipelines;
using System.Text;
using Sidecar.Admin;
using Sidecar.Core.Config;
using Sidecar.Core.Tests.Identity;
using Sidecar.Core.Tests.Xds;
using Sidecar.Core.Xds;
using Sidecar.Core.Xds.Decoding;
using Sidecar.Core.Xds.Integration;
using Sidecar.Core.Xds.Secrets;
using Xunit;
using Xunit.Abstractions;

namespace Sidecar.Core.Tests.Admin;

/// <summary>
/// The admin <c>/config_dump</c> as it is streamed (<see cref="ConfigDumpWriter"/>) against the page Core's builder
/// makes whole (<see cref="XdsConfigDump.Render"/>, narrowed by <see cref="ConfigDumpFilter.Apply"/>): the same bytes
/// for every query form, with listeners, routes, clusters, endpoints, secrets, static resources and every CSDS status;
/// a large dump leaves the writer while it is still producing (backpressure holds it, nothing is built whole) and
/// allocates a fraction of what the builder did; a client that goes mid-dump stops it.
/// </summary>
public sealed class ConfigDumpStreamingTests(ITestOutputHelper output)
{
    private static readonly DateTimeOffset At = new(2026, 11, 27, 10, 11, 12, 345, TimeSpan.Zero);

    private const string Bootstrap = """
{"node":{"id":"sidecar~10.0.0.1~web-0.ns~ns.svc.cluster.local","cluster":"web.ns","metadata":{"note":"café <b>&'\"\\ \u00e9 🙂 +1"}},
 "static_resources":{"listeners":[{"name":"0.0.0.0_15090","address":{"socket_address":{"address":"0.0.0.0","port_value":15090}}}],
  "clusters":[{"name":"prometheus_stats","type":"STATIC","connect_timeout":"0.250s"},{"name":"agent","type":"STATIC","connect_timeout":"0.250s"}]},
 "admin":{"address":{"socket_address":{"address":"127.0.0.1","port_value":15000}}}}
""";

    private static readonly (string? Resource, string? Mask)[] Queries =
    [
        (null, null),
        ("dynamic_listeners", null), ("dynamic_listeners", "name,client_status"), ("dynamic_active_clusters", "cluster.name"),
        ("static_clusters", null), ("static_listeners", "listener.address"), ("dynamic_endpoint_configs", null),
        ("dynamic_active_secrets", "name,secret.name,error_state"), ("dynamic_route_configs", "route_config.virtual_hosts,error_state"),
        ("dynamic_warming_clusters", null),
        (null, "dynamic_route_configs"), (null, "bootstrap.node,static_clusters"), (null, "@type"),
        (null, "dynamic_active_clusters.cluster.name,dynamic_listeners"), (null, "bootstrap.static_resources.clusters, dynamic_endpoint_configs"),
        (null, "bootstrap.node.metadata,bootstrap"), (null, "no_such_field"),
    ];

    private static byte[] Encode(string typeUrl, string json)
    {
        XdsEncodeResult encoded = ProtoTreeEncoder.Encode(typeUrl, ConfigLoader.ReadTree(json, isJson: true).Value!);
        Assert.True(encoded.IsSuccess, encoded.ToString());
        return encoded.Bytes!;
    }

    private static byte[] Assignment(string cluster, int endpoints, int seed)
    {
        var lb = new StringBuilder();
        for (int e = 0; e < endpoints; e++)
        {
            if (e > 0) lb.Append(',');
            lb.Append("{\"endpoint\":{\"address\":{\"socket_address\":{\"address\":\"").Append($"10.{seed >> 8 & 255}.{seed & 255}.{e + 1}").Append("\",\"port_value\":8080}}}}");
        }
        return Encode(XdsTypeUrls.ClusterLoadAssignment, $$"""{"cluster_name":"{{cluster}}","endpoints":[{"locality":{"region":"r","zone":"z"},"lb_endpoints":[{{lb}}]}]}""");
    }

    private static byte[] EdsCluster(string name) => Encode(XdsTypeUrls.Cluster, $$$$"""
{"name":"{{{{name}}}}","type":"EDS","connect_timeout":"1s","eds_cluster_config":{"service_name":"{{{{name}}}}","eds_config":{"ads":{},"resource_api_version":"V3"}}}
""");

    private static byte[] Route(string name, string cluster) => Encode(XdsTypeUrls.RouteConfiguration, $$$$"""
{"name":"{{{{name}}}}","virtual_hosts":[{"name":"vh <{{{{name}}}}> ü","domains":["*","a.example"],"routes":[{"match":{"prefix":"/"},"route":{"cluster":"{{{{cluster}}}}","timeout":"1.5s"}}]}]}
""");

    /// <summary>Several of every kind, with every CSDS status (refused while serving, refused never served, undecodable, requested, missing).</summary>
    private static ConfigDumpSource RichSource(bool includeEds, bool withStatus)
    {
        var resources = new List<DecodedResource>();
        for (int i = 0; i < 3; i++)
        {
            string c = $"outbound|80||svc-{i}.ns.svc.cluster.local";
            resources.Add(new DecodedResource(XdsTypeUrls.Cluster, c, $"c{i}", EdsCluster(c), At.AddSeconds(i)));
            resources.Add(new DecodedResource(XdsTypeUrls.ClusterLoadAssignment, c, $"e{i}", Assignment(c, 3, i), At.AddSeconds(10 + i)));
        }
        resources.Add(new DecodedResource(XdsTypeUrls.Listener, "0.0.0.0_80", "l1", XdsTestResources.Listener("0.0.0.0_80", "80"), At));
        resources.Add(new DecodedResource(XdsTypeUrls.Listener, "10.0.0.1_443", "l1", XdsTestResources.Listener("10.0.0.1_443", "443", "444"), At));
        resources.Add(new DecodedResource(XdsTypeUrls.RouteConfiguration, "80", "r1", Route("80", "outbound|80||svc-0.ns.svc.cluster.local"), At));
        resources.Add(new DecodedResource(XdsTypeUrls.RouteConfiguration, "443", "r1", Route("443", "outbound|80||svc-1.ns.svc.cluster.local"), At));
        if (!withStatus) return new ConfigDumpSource(Bootstrap, resources, includeEds);

        var pki = new TestPki("dump-test-root");
        IReadOnlyList<ActiveSecret> secrets =
        [
            new ActiveSecret("kubernetes://cert", "s1", At, new SdsSecretValue(pki.Workload(null, dns: "a.example"), null)),
            new ActiveSecret("kubernetes://ca", "s2", At, new SdsSecretValue(null, pki.Bundle)),
            new ActiveSecret("default", "s3", At, new SdsSecretValue(pki.Workload(null, dns: "b.example"), pki.Bundle)),
        ];
        var failures = new Dictionary<(string, string), XdsUpdateFailure>
        {
            [(XdsTypeUrls.Listener, "0.0.0.0_9090")] = new(XdsTypeUrls.Listener, "0.0.0.0_9090", XdsTestResources.Listener("0.0.0.0_9090", "9090"), At, "port \"9090\" in use", "l2"),
            [(XdsTypeUrls.RouteConfiguration, "443")] = new(XdsTypeUrls.RouteConfiguration, "443", Route("443", "nowhere"), At, "no cluster 'nowhere'", "r2"),
            [(XdsTypeUrls.Cluster, "garbage")] = new(XdsTypeUrls.Cluster, "garbage", new byte[] { 0xff, 0xff, 0xff }, At, "undecodable", "c9"),
            [(XdsTypeUrls.Secret, "kubernetes://cert")] = new(XdsTypeUrls.Secret, "kubernetes://cert", new byte[] { 1 }, At, "KeyMismatch", "s9"),
            [(XdsTypeUrls.Secret, "kubernetes://refused")] = new(XdsTypeUrls.Secret, "kubernetes://refused", new byte[] { 1 }, At, "ChainUnparsable", "s8"),
        };
        var requested = new Dictionary<string, string[]>
        {
            [XdsTypeUrls.ClusterLoadAssignment] = ["outbound|80||missing.ns.svc.cluster.local"],
            [XdsTypeUrls.RouteConfiguration] = ["8080"],
            [XdsTypeUrls.Secret] = ["kubernetes://wanted"],
        };
        var doesNotExist = new Dictionary<string, string[]>
        {
            [XdsTypeUrls.ClusterLoadAssignment] = ["outbound|80||gone.ns.svc.cluster.local"],
            [XdsTypeUrls.Secret] = ["kubernetes://gone"],
        };
        return new ConfigDumpSource(Bootstrap, resources, includeEds, new XdsStatusView(failures, requested, doesNotExist), secrets);
    }

    /// <summary>The page the builder made: Render, then the filter when the query narrows it.</summary>
    private static (int Status, string Body) Oracle(ConfigDumpSource source, string? resource, string? mask)
    {
        string whole = source.Resources is null
            ? "{\n \"configs\": [\n  {\n   \"@type\": \"type.googleapis.com/envoy.admin.v3.BootstrapConfigDump\",\n   \"bootstrap\": " + source.BootstrapJson + "\n  }\n ]\n}\n"
            : XdsConfigDump.Render(source.BootstrapJson, source.Resources, source.IncludeEds, source.Status, source.Secrets);
        return ConfigDumpFilter.Apply(whole, resource, mask);
    }

    /// <summary>The streamed page, read from a pipe as the transport reads it (concurrently, with backpressure).</summary>
    private static async Task<string> StreamAsync(ConfigDumpSource source, string? resource, string? mask)
    {
        (int status, string? error, string[]? paths) = ConfigDumpFilter.Check(resource, mask);
        Assert.True(error is null, $"{status} {error}");
        var pipe = new Pipe();
        Task writing = Task.Run(async () =>
        {
            await ConfigDumpWriter.WriteAsync(pipe.Writer, source, resource, paths);
            await pipe.Writer.CompleteAsync();
        });
        var received = new MemoryStream();
        await ReadToEndAsync(pipe.Reader, received);
        await writing;
        return Encoding.UTF8.GetString(received.ToArray());
    }

    private static async Task ReadToEndAsync(PipeReader reader, MemoryStream into)
    {
        while (true)
        {
            ReadResult r = await reader.ReadAsync();
            foreach (ReadOnlyMemory<byte> segment in r.Buffer) into.Write(segment.Span);
            reader.AdvanceTo(r.Buffer.End);
            if (r.IsCompleted) return;
        }
    }

    private static void AssertSameBytes(string expected, string actual, string what)
    {
        if (expected == actual) return;
        int i = 0;
        while (i < expected.Length && i < actual.Length && expected[i] == actual[i]) i++;
        int from = Math.Max(0, i - 80);
        Assert.Fail($"{what}: first difference at char {i} (expected {expected.Length} chars, got {actual.Length})\n" +
            $"expected …{expected[from..Math.Min(expected.Length, i + 80)]}…\nactual   …{actual[from..Math.Min(actual.Length, i + 80)]}…");
    }

    [Fact]
    public async Task EveryQueryFormStreamsTheBytesTheBuilderMade()
    {
        int compared = 0;
        foreach (bool includeEds in new[] { true, false })
        {
            foreach (bool withStatus in new[] { true, false })
            {
                ConfigDumpSource source = RichSource(includeEds, withStatus);
                foreach ((string? resource, string? mask) in Queries)
                {
                    (int status, string expected) = Oracle(source, resource, mask);
                    Assert.Equal(200, status);
                    string actual = await StreamAsync(source, resource, mask);
                    AssertSameBytes(expected, actual, $"include_eds={includeEds} status={withStatus} resource={resource} mask={mask}");
                    compared++;
                }
            }
        }
        // The rich source really has each kind (a dump missing a section would compare equal to nothing useful).
        string dump = await StreamAsync(RichSource(includeEds: true, withStatus: true), null, null);
        foreach (string expected in new[] { "\"static_clusters\"", "\"static_listeners\"", "\"dynamic_endpoint_configs\"", "\"NACKED\"", "\"REQUESTED\"",
            "\"DOES_NOT_EXIST\"", "\"failed_configuration\"", "\"tls_certificate\"", "\"trusted_ca\"", "W3JlZGFjdGVkXQ==", "vh \\u003C80\\u003E" })
        {
            Assert.Contains(expected, dump, StringComparison.Ordinal);
        }
        Assert.Equal(Queries.Length * 4, compared);
    }

    [Fact]
    public async Task AStaticConfigDumpIsItsBootstrapAndALargeOneStreamsInPiecesWithoutSplittingACharacter()
    {
        // ~200 KB of bootstrap with four-byte characters everywhere: pieces of 16 Ki chars must not split a surrogate pair.
        var big = new StringBuilder("{\"node\":{\"id\":\"x\"},\"static_resources\":{\"clusters\":[");
        for (int i = 0; i < 3000; i++) big.Append(i == 0 ? "" : ",").Append($$"""{"name":"c-{{i}}-🙂é","type":"STATIC"}""");
        big.Append("]}}");
        foreach (string bootstrap in new[] { Bootstrap, big.ToString() })
        {
            var source = new ConfigDumpSource(bootstrap, null, IncludeEds: true);
            foreach ((string? resource, string? mask) in Queries)
            {
                AssertSameBytes(Oracle(source, resource, mask).Body, await StreamAsync(source, resource, mask), $"static resource={resource} mask={mask}");
            }
        }
    }

    /// <summary>2,000 EDS clusters × 10 endpoints, a listener and its route (the list order of the translator: by type).</summary>
    private static List<DecodedResource> LargeResources(int clusters)
    {
        var resources = new List<DecodedResource>(2 * clusters + 2);
        for (int i = 0; i < clusters; i++)
        {
            string c = $"outbound|8080||svc-{i}.ns.svc.cluster.local";
            resources.Add(new DecodedResource(XdsTypeUrls.Cluster, c, "1", EdsCluster(c), At));
        }
        for (int i = 0; i < clusters; i++)
        {
            string c = $"outbound|8080||svc-{i}.ns.svc.cluster.local";
            resources.Add(new DecodedResource(XdsTypeUrls.ClusterLoadAssignment, c, "1", Assignment(c, 10, i), At));
        }
        resources.Add(new DecodedResource(XdsTypeUrls.Listener, "web", "1", XdsTestResources.Listener("web", "web-route"), At));
        resources.Add(new DecodedResource(XdsTypeUrls.RouteConfiguration, "web-route", "1", Route("web-route", "outbound|8080||svc-1.ns.svc.cluster.local"), At));
        return resources;
    }

    [Fact]
    public async Task ALargeDumpIsSentWhileItIsProducedAndAllocatesAFractionOfTheWholePage()
    {
        var source = new ConfigDumpSource(Bootstrap, LargeResources(2000), IncludeEds: true, XdsStatusView.Empty, []);
        string expected = Oracle(source, null, null).Body;

        // Backpressure: the reader takes one piece and stops; the writer must be holding the rest unproduced.
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 256 * 1024, resumeWriterThreshold: 128 * 1024));
        Task writing = Task.Run(() => ConfigDumpWriter.WriteAsync(pipe.Writer, source, null, null));
        ReadResult first = await pipe.Reader.ReadAsync();
        long firstBytes = first.Buffer.Length;
        pipe.Reader.AdvanceTo(first.Buffer.End);
        await Task.Delay(300);
        Assert.False(writing.IsCompleted, "the writer finished while the reader had taken one piece: the page was built whole");
        Assert.True(firstBytes < expected.Length / 10, $"first read {firstBytes} bytes of {expected.Length}");
        var received = new MemoryStream();
        Task rest = Task.Run(() => ReadToEndAsync(pipe.Reader, received));
        await writing;
        await pipe.Writer.CompleteAsync();
        await rest;
        Assert.Equal(Encoding.UTF8.GetByteCount(expected) - firstBytes, received.Length);

        // Allocation: the writer over a sink that completes every flush at once runs on this thread start to end.
        long before = GC.GetAllocatedBytesForCurrentThread();
        Task sync = ConfigDumpWriter.WriteAsync(PipeWriter.Create(Stream.Null), source, null, null);
        long streamed = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(sync.IsCompleted);
        await sync;
        before = GC.GetAllocatedBytesForCurrentThread();
        string whole = XdsConfigDump.Render(source.BootstrapJson, source.Resources!, includeEds: true, source.Status, source.Secrets);
        byte[] body = Encoding.UTF8.GetBytes(whole);
        long built = GC.GetAllocatedBytesForCurrentThread() - before;
        // Both decode each resource's tree (the bytes are what is kept); the page itself is what the builder added.
        int trees = 0;
        before = GC.GetAllocatedBytesForCurrentThread();
        foreach (DecodedResource r in source.Resources!)
        {
            _ = r.Tree;
            trees++;
        }
        long treeBytes = GC.GetAllocatedBytesForCurrentThread() - before;
        output.WriteLine($"page {body.Length / 1024} KiB; allocated: streamed {streamed / 1024} KiB, built whole {built / 1024} KiB, " +
            $"of which decoding the {trees} trees {treeBytes / 1024} KiB");
        Assert.True(streamed - treeBytes < body.Length / 4,
            $"the streamed page allocated {(streamed - treeBytes) / 1024} KiB beyond its trees for a {body.Length / 1024} KiB page");
        Assert.True(built - treeBytes > body.Length, "the builder's own allocation was expected to exceed the page (the oracle changed?)");
    }

    [Fact]
    public async Task AClientGoneMidDumpStopsTheWriter()
    {
        var resources = new CountingList(LargeResources(2000));
        var source = new ConfigDumpSource(Bootstrap, resources, IncludeEds: true, XdsStatusView.Empty, []);
        foreach ((string? resource, string? mask) in new[] { ((string?)null, (string?)null), ("dynamic_active_clusters", null), (null, "dynamic_active_clusters") })
        {
            resources.Visited = 0;
            (_, _, string[]? paths) = ConfigDumpFilter.Check(resource, mask);
            var pipe = new Pipe();
            Task writing = Task.Run(() => ConfigDumpWriter.WriteAsync(pipe.Writer, source, resource, paths));
            ReadResult first = await pipe.Reader.ReadAsync();
            Assert.False(first.Buffer.IsEmpty);
            pipe.Reader.AdvanceTo(first.Buffer.End);
            await pipe.Reader.CompleteAsync();
            await writing.WaitAsync(TimeSpan.FromSeconds(10));
            // Stopped inside the clusters, the first list: the list was not walked even once to its end.
            Assert.True(resources.Visited < resources.Count, $"resource={resource} mask={mask}: {resources.Visited} resources visited after the client left");
        }
    }

    /// <summary>A resource list that counts how far it was walked.</summary>
    private sealed class CountingList(List<DecodedResource> items) : IReadOnlyList<DecodedResource>
    {
        public int Visited { get; set; }

        public DecodedResource this[int index] => items[index];

        public int Count => items.Count;

        public IEnumerator<DecodedResource> GetEnumerator()
        {
            foreach (DecodedResource r in items)
            {
                Visited++;
                yield return r;
            }
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
