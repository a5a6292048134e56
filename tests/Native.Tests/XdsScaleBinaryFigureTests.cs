using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Sidecar.Core.Tests.Xds;
using Sidecar.E2E.Tests.Harness;
using Xunit.Abstractions;

namespace Sidecar.Native.Tests;

/// <summary>
/// Issue 6's scale figure in the shipped binary (native AOT, its own GC settings), not the JIT test host: the published
/// proxy connects over plaintext ADS to the fake istiod, which holds 10,000 Istio-shaped EDS clusters, 10,000
/// ClusterLoadAssignments × 10 endpoints, one listener and its RDS route. The fake's new streams are paused, so the
/// proxy's idle state is sampled before the first CDS response is sent; the harness then answers each subscription
/// (CDS, LDS, EDS, RDS) as istiod would, and the push ends when the last response of the four is ACKed (the client
/// ACKs a SotW response only after the version is applied and published). Then two small pushes: one endpoint set
/// changed, one cluster changed. Three fresh proxy processes. CPU is utime+stime of the proxy (/proc/PID/stat, 10 ms
/// ticks), RSS is VmRSS. Figures are printed, not asserted (performance is reported by measurement); the test asserts
/// that every push is ACKed and the proxy serves what was pushed (/clusters).
/// Run: <c>./build.sh publish &amp;&amp; dotnet test tests/Native.Tests -c Release --filter XdsScaleBinaryFigureTests
/// --logger "console;verbosity=detailed"</c>; XDS_SCALE_GCGEN0SIZE=0x4000000 passes DOTNET_GCgen0size to the proxy.
/// </summary>
[Trait("Category", "Perf")]
public sealed class XdsScaleBinaryFigureTests(ITestOutputHelper output)
{
    private const int Clusters = 10_000, EndpointsPerCluster = 10, Runs = 3;
    private static readonly string[] Kinds = ["CDS", "EDS", "LDS", "RDS"];

    private static string ClusterName(int i) => $"outbound|8080||svc-{i}.ns.svc.cluster.local";

    /// <summary>As istiod sends an outbound EDS cluster (the fields the proxy reads, and eds_config over ADS).</summary>
    private static JsonObject ClusterJson(int i, string connectTimeout = "10s") => new()
    {
        ["name"] = ClusterName(i),
        ["type"] = "EDS",
        ["connect_timeout"] = connectTimeout,
        ["eds_cluster_config"] = new JsonObject
        {
            ["service_name"] = ClusterName(i),
            ["eds_config"] = new JsonObject { ["ads"] = new JsonObject(), ["resource_api_version"] = "V3" },
        },
    };

    /// <summary>The addresses XdsScaleTests uses: 10.(i/256).(i%256).(e+1):8080 (offset moves them for a changed set).</summary>
    private static JsonObject AssignmentJson(int i, int offset = 1)
    {
        var endpoints = new JsonArray();
        for (int e = 0; e < EndpointsPerCluster; e++)
        {
            endpoints.Add((JsonNode)new JsonObject
            {
                ["endpoint"] = new JsonObject
                {
                    ["address"] = new JsonObject
                    {
                        ["socket_address"] = new JsonObject { ["address"] = $"10.{i >> 8 & 255}.{i & 255}.{e + offset}", ["port_value"] = 8080 },
                    },
                },
            });
        }
        return new JsonObject { ["cluster_name"] = ClusterName(i), ["endpoints"] = new JsonArray(new JsonObject { ["lb_endpoints"] = endpoints }) };
    }

    private static JsonObject Put(string type, string name, JsonObject json) =>
        new() { ["cmd"] = "putJson", ["type"] = type, ["name"] = name, ["json"] = json };

    private static IEnumerable<JsonObject> Resources(int listenerPort)
    {
        for (int i = 0; i < Clusters; i++)
        {
            yield return Put("CDS", ClusterName(i), ClusterJson(i));
            yield return Put("EDS", ClusterName(i), AssignmentJson(i));
        }
        yield return Put("LDS", "web", (JsonObject)JsonNode.Parse($$"""
{ "name": "web", "address": { "socket_address": { "address": "127.0.0.1", "port_value": {{listenerPort}} } },
  "filter_chains": [{ "filters": [{ "name": "envoy.filters.network.http_connection_manager", "typed_config": {
    "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager", "stat_prefix": "web",
    "rds": { "route_config_name": "web-route", "config_source": { "ads": {}, "resource_api_version": "V3" } },
    "http_filters": [{ "name": "envoy.filters.http.router", "typed_config": { "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" } }] } }] }] }
""")!);
        yield return Put("RDS", "web-route", (JsonObject)JsonNode.Parse($$"""
{ "name": "web-route", "virtual_hosts": [{ "name": "web", "domains": ["*"], "routes": [
  { "match": { "prefix": "/" }, "route": { "cluster": "{{ClusterName(1)}}" } } ] }] }
""")!);
    }

    [Fact]
    public async Task Ten_thousand_clusters_and_a_hundred_thousand_endpoints_pushed_to_the_published_binary()
    {
        TestEnv.RequireSidecar();
        await using var fake = await FakeIstiod.StartAsync();
        int listenerPort = TestEnv.FreePort();
        var load = Stopwatch.StartNew();
        await fake.CommandsAsync(Resources(listenerPort));
        output.WriteLine($"fake istiod loaded {Clusters} clusters + {Clusters} assignments in {load.Elapsed.TotalSeconds:F1} s");
        await fake.CommandAsync(new JsonObject { ["cmd"] = "pauseNewStreams", ["value"] = true });
        string? gen0 = Environment.GetEnvironmentVariable("XDS_SCALE_GCGEN0SIZE");
        output.WriteLine($"load average before: {File.ReadAllText("/proc/loadavg").Trim()}; DOTNET_GCgen0size={gen0 ?? "(default)"}");
        for (int run = 1; run <= Runs; run++)
        {
            // Each run starts from the same state (the previous run changed svc-5's endpoints and svc-6's cluster).
            await fake.CommandsAsync([Put("EDS", ClusterName(5), AssignmentJson(5)), Put("CDS", ClusterName(6), ClusterJson(6))]);
            await RunOnce(fake, run, listenerPort, gen0);
        }
        output.WriteLine($"load average after: {File.ReadAllText("/proc/loadavg").Trim()}");
    }

    private async Task RunOnce(FakeIstiod fake, int run, int listenerPort, string? gen0)
    {
        var cfg = new SidecarConfig();
        using var dir = TestEnv.NewTempDir("xds-scale");
        string path = dir.File("envoy.yaml");
        File.WriteAllText(path, cfg.ToYaml());
        // No SERVICE_ACCOUNT: no workload certificate is fetched (the start would wait for a CA that is not there).
        var env = new Dictionary<string, string>
        {
            ["XDS_PLAINTEXT"] = "true",
            ["POD_NAMESPACE"] = "ns",
            ["POD_NAME"] = "web-0",
            ["INSTANCE_IP"] = "127.0.0.1",
        };
        if (gen0 is { Length: > 0 }) env["DOTNET_GCgen0size"] = gen0;
        int mark = fake.Mark;
        using var proxy = new BackgroundProcess("sidecar", TestEnv.RequireSidecar(), ["proxy", "--config", path, "--xds", $"127.0.0.1:{fake.Port}"], dir.Path, env);
        try
        {
            JsonElement stream = await fake.WaitForAsync(e => FakeIstiod.Is(e, "stream"), mark, TimeSpan.FromSeconds(30), "the proxy's ADS stream");
            int id = stream.GetProperty("stream").GetInt32();
            var driver = new PushDriver(fake, id) { Seen = mark };
            await fake.WaitForAsync(e => driver.IsRequest(e, "CDS"), mark, TimeSpan.FromSeconds(30), "the CDS subscription");
            await Task.Delay(1000); // let start-up settle: the "before" sample is the idle proxy
            string first = await driver.Measure(proxy.Pid, ["CDS", "LDS"]);
            long rssBeforePage = PushDriver.Sample(proxy.Pid).RssKb;
            string clusters = await Admin(cfg.AdminPort, "/clusters?format=json");
            long rssAfterPage = PushDriver.Sample(proxy.Pid).RssKb;
            AssertServes(clusters, 5, 1);
            await fake.CommandsAsync([Put("EDS", ClusterName(5), AssignmentJson(5, offset: 101))]);
            string endpoint = await driver.Measure(proxy.Pid, ["EDS"]);
            AssertServes(await Admin(cfg.AdminPort, "/clusters?format=json"), 5, 101);
            await fake.CommandsAsync([Put("CDS", ClusterName(6), ClusterJson(6, connectTimeout: "3s"))]);
            string cluster = await driver.Measure(proxy.Pid, ["CDS"]);
            string dump = await Admin(cfg.AdminPort, "/config_dump");
            Assert.Contains("\"connect_timeout\": \"3s\"", dump.Replace("\":\"", "\": \"", StringComparison.Ordinal), StringComparison.Ordinal);
            // The largest admin page: every cluster, listener, route and (include_eds) all 100,000 endpoints.
            long rssBeforeDump = PushDriver.Sample(proxy.Pid).RssKb;
            string edsDump = await Admin(cfg.AdminPort, "/config_dump?include_eds");
            long rssAfterDump = PushDriver.Sample(proxy.Pid).RssKb;
            AssertDumpHoldsEveryEndpoint(edsDump);
            string aborted = await AbortedReadsLeaveTheAdminServing(cfg.AdminPort, proxy.Pid);
            output.WriteLine($"run {run}: first push {first}\n       1 endpoint set {endpoint}\n       1 cluster {cluster}\n" +
                $"       /clusters?format=json ({clusters.Length / 1024} KiB): RSS {rssBeforePage / 1024} → {rssAfterPage / 1024} MB\n" +
                $"       /config_dump?include_eds ({edsDump.Length / 1024} KiB): RSS {rssBeforeDump / 1024} → {rssAfterDump / 1024} MB; {aborted}");
            Assert.False(proxy.HasExited, proxy.Output);
        }
        catch
        {
            output.WriteLine(ProcResult.Tail(proxy.Output, 4000));
            throw;
        }
        finally
        {
            proxy.Signal(Proc.SIGTERM);
            await proxy.WaitForExit(TimeSpan.FromSeconds(10));
        }
    }

    private static async Task<string> Admin(int port, string path)
    {
        var r = await RawHttp.Exchange(port, $"GET {path} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", TimeSpan.FromSeconds(20));
        Assert.Equal(200, r.Status);
        return r.Body;
    }

    /// <summary>
    /// Five clients that read the first 64 KiB of the EDS dump and reset the connection: the proxy stays up, /ready
    /// answers, and its open descriptors come back to what they were (the aborted responses' connections are closed).
    /// </summary>
    private static async Task<string> AbortedReadsLeaveTheAdminServing(int port, int pid)
    {
        int fdsBefore = Directory.GetFiles($"/proc/{pid}/fd").Length;
        for (int i = 0; i < 5; i++)
        {
            using var s = await RawHttp.Connect(port);
            await s.SendAsync(System.Text.Encoding.ASCII.GetBytes("GET /config_dump?include_eds HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"), System.Net.Sockets.SocketFlags.None);
            var buffer = new byte[64 * 1024];
            int got = 0;
            while (got < buffer.Length)
            {
                int n = await s.ReceiveAsync(buffer.AsMemory(got), System.Net.Sockets.SocketFlags.None);
                Assert.True(n > 0, "the dump ended before 64 KiB");
                got += n;
            }
            s.LingerState = new System.Net.Sockets.LingerOption(true, 0); // close = RST, as a killed client
        }
        var ready = await RawHttp.Exchange(port, "GET /ready HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", TimeSpan.FromSeconds(20));
        Assert.Equal(200, ready.Status);
        int fdsAfter = 0;
        for (int attempt = 0; attempt < 50; attempt++)
        {
            fdsAfter = Directory.GetFiles($"/proc/{pid}/fd").Length;
            if (fdsAfter <= fdsBefore) break;
            await Task.Delay(100);
        }
        Assert.True(fdsAfter <= fdsBefore, $"open descriptors {fdsBefore} before five aborted dumps, {fdsAfter} after");
        return $"5 reads reset after 64 KiB: /ready 200, descriptors {fdsBefore} → {fdsAfter}";
    }

    /// <summary>The EDS dump parses and holds every pushed assignment (10,000 × 10 endpoints).</summary>
    private static void AssertDumpHoldsEveryEndpoint(string dumpJson)
    {
        using JsonDocument doc = JsonDocument.Parse(dumpJson);
        JsonElement eds = doc.RootElement.GetProperty("configs").EnumerateArray()
            .Single(c => c.GetProperty("@type").GetString()!.EndsWith("EndpointsConfigDump", StringComparison.Ordinal));
        int assignments = 0, endpoints = 0;
        foreach (JsonElement entry in eds.GetProperty("dynamic_endpoint_configs").EnumerateArray())
        {
            if (!entry.TryGetProperty("endpoint_config", out JsonElement config) || !config.TryGetProperty("endpoints", out JsonElement localities)) continue;
            assignments++;
            foreach (JsonElement locality in localities.EnumerateArray()) endpoints += locality.GetProperty("lb_endpoints").GetArrayLength();
        }
        Assert.Equal(Clusters, assignments);
        Assert.Equal(Clusters * EndpointsPerCluster, endpoints);
    }

    /// <summary>All 10,000 pushed clusters are served, and cluster <paramref name="index"/> has its 10 endpoints from
    /// host number <paramref name="firstHost"/> on.</summary>
    private static void AssertServes(string clustersJson, int index, int firstHost)
    {
        using JsonDocument doc = JsonDocument.Parse(clustersJson);
        var statuses = doc.RootElement.GetProperty("cluster_statuses").EnumerateArray().ToList();
        Assert.Equal(Clusters, statuses.Count(c => c.GetProperty("name").GetString()!.StartsWith("outbound|8080||svc-", StringComparison.Ordinal)));
        JsonElement status = statuses.Single(c => c.GetProperty("name").GetString() == ClusterName(index));
        var hosts = status.GetProperty("host_statuses").EnumerateArray()
            .Select(h => h.GetProperty("address").GetProperty("socket_address").GetProperty("address").GetString()!).Order().ToList();
        var expected = Enumerable.Range(firstHost, EndpointsPerCluster).Select(h => $"10.0.{index}.{h}").Order().ToList();
        Assert.Equal(expected, hosts);
    }

    /// <summary>
    /// Answers the proxy's SotW subscriptions as istiod does (a first request or new names → a push of that kind) and
    /// measures one push: the proxy's CPU and RSS before the first response is sent and once every response sent is ACKed.
    /// </summary>
    private sealed class PushDriver(FakeIstiod fake, int stream)
    {
        private readonly Dictionary<string, string> _lastNonce = [];
        private readonly Dictionary<string, List<string>> _lastNames = [];
        private int _seen;

        /// <summary>Requests before this event position were already read (set once the stream is known).</summary>
        public int Seen
        {
            set => _seen = value;
        }

        public bool IsRequest(JsonElement e, string kind) =>
            FakeIstiod.Is(e, "request") && e.GetProperty("stream").GetInt32() == stream && FakeIstiod.Str(e, "type") == kind;

        public async Task<string> Measure(int pid, string[] firstKinds)
        {
            var pending = new HashSet<string>(StringComparer.Ordinal);
            (long cpu0, long rss0) = Sample(pid);
            var wall = Stopwatch.StartNew();
            await Push(firstKinds, pending);
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
            while (pending.Count > 0)
            {
                if (DateTime.UtcNow > deadline) Assert.Fail($"no ACK for {string.Join(',', pending)} within 120 s");
                (JsonElement request, int index) = await fake.WaitForIndexedAsync(
                    e => FakeIstiod.Is(e, "request") && e.GetProperty("stream").GetInt32() == stream, _seen, TimeSpan.FromSeconds(120), "the proxy's next request");
                _seen = index + 1;
                string kind = FakeIstiod.Str(request, "type");
                if (request.TryGetProperty("error", out JsonElement error) && error.ValueKind == JsonValueKind.Object)
                    Assert.Fail($"{kind} NACKed: {error}");
                string nonce = FakeIstiod.Str(request, "nonce");
                List<string> names = FakeIstiod.Strings(request, "names");
                bool namesAdded = names.Except(_lastNames.GetValueOrDefault(kind) ?? []).Any();
                _lastNames[kind] = names;
                // A first subscription not yet answered, or new names on the last response's nonce → a push (istiod's ShouldRespond).
                if (nonce.Length == 0 && !_lastNonce.ContainsKey(kind) || nonce.Length > 0 && nonce == _lastNonce.GetValueOrDefault(kind) && namesAdded)
                {
                    await Push([kind], pending);
                }
                else if (nonce == _lastNonce.GetValueOrDefault(kind))
                {
                    pending.Remove(kind); // the ACK of the last response of this kind
                }
            }
            wall.Stop();
            (long cpu1, long rss1) = Sample(pid);
            // Whatever the proxy still does once the version is ACKed (a collection, dump entries) shows in the next second.
            await Task.Delay(1000);
            (long cpu2, long rss2) = Sample(pid);
            return $"{wall.Elapsed.TotalMilliseconds:F0} ms wall, {(cpu1 - cpu0) * 10} ms CPU (100 Hz ticks), RSS {rss0 / 1024} → {rss1 / 1024} MB; " +
                $"the next second: +{(cpu2 - cpu1) * 10} ms CPU, RSS {rss2 / 1024} MB";
        }

        private async Task Push(string[] kinds, HashSet<string> pending)
        {
            foreach (string kind in kinds)
            {
                if (!Kinds.Contains(kind)) continue;
                // Only a subscribed kind is pushed (the fake skips the others).
                JsonElement result = await fake.PushAsync(kind);
                foreach (JsonElement n in result.GetProperty("nonces").EnumerateArray())
                {
                    _lastNonce[kind] = n.GetString()!;
                    pending.Add(kind);
                }
            }
        }

        /// <summary>utime+stime in clock ticks (fields 14 and 15 of /proc/PID/stat, after the parenthesised name) and VmRSS in KiB.</summary>
        internal static (long Ticks, long RssKb) Sample(int pid)
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            string[] f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            long ticks = long.Parse(f[11], CultureInfo.InvariantCulture) + long.Parse(f[12], CultureInfo.InvariantCulture);
            string line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            long rss = long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
            return (ticks, rss);
        }
    }
}
