using System.Text.Json;
using System.Text.Json.Nodes;
using Sidecar.Core.Tests.Config;
using Sidecar.Core.Xds;
using Xunit;

namespace Sidecar.Core.Tests.Xds;

/// <summary>
/// The node we build against the node sections of istio-agent's real bootstraps
/// (../shared/conformance/istio/bootstrap, pkg/bootstrap/testdata). Inputs are what Istio's TestGolden gives
/// istio-agent: node IPs 10.3.3.3,10.4.4.4,10.5.5.5,10.6.6.6,10.4.4.4, istiod SAN, outlier log path,
/// socket file "test.sock"; pod annotations both as ISTIO_METAJSON_ANNOTATIONS and as the Downward API file;
/// "running*" add the env of that test case. Raw ISTIO_META_* pass-through keys and the ProxyConfig are
/// taken from the golden (we pass them through, not compute them); every typed key (ports, INSTANCE_IPS,
/// METADATA_DISCOVERY, LABELS/STATIC_LABELS, NAME, NAMESPACE, ANNOTATIONS, PILOT_SAN, locality, cluster)
/// is ours. Omitted on purpose: ENVOY_SECURE_METRICS_PORT / ENVOY_SECURE_MERGED_METRICS_PORT (secure
/// metrics listeners are not built), and ISTIO_VERSION is fed in because the goldens carry the test
/// binary's version ("binary-1.0"); ours defaults to the 1.28 line.
/// </summary>
public sealed class NodeIdentityGoldenTests
{
    private static readonly string[] TypedKeys =
    [
        "ENVOY_PROMETHEUS_PORT", "ENVOY_STATUS_PORT", "INSTANCE_IPS", "ISTIO_VERSION", "METADATA_DISCOVERY", "OUTLIER_LOG_PATH",
        "PILOT_SAN", "PROXY_CONFIG", "WORKLOAD_IDENTITY_SOCKET_FILE", "ANNOTATIONS", "LABELS", "STATIC_LABELS", "NAME", "NAMESPACE",
    ];

    private static readonly string[] NotBuilt = ["ENVOY_SECURE_METRICS_PORT", "ENVOY_SECURE_MERGED_METRICS_PORT"];

    private static string BootstrapDir => Path.GetFullPath(Path.Combine(RepoPaths.RepoRoot, "..", "shared", "conformance", "istio", "bootstrap"));

    public static TheoryData<string> Goldens()
    {
        var data = new TheoryData<string>();
        foreach (string f in Directory.GetFiles(BootstrapDir, "*_golden.json").Order(StringComparer.Ordinal)) data.Add(Path.GetFileName(f));
        return data;
    }

    [Theory]
    [MemberData(nameof(Goldens))]
    public void NodeMatchesIstioAgentsBootstrap(string golden)
    {
        JsonObject node = JsonNode.Parse(File.ReadAllText(Path.Combine(BootstrapDir, golden)))!["node"]!.AsObject();
        JsonObject expected = node["metadata"]!.AsObject();
        var env = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["ISTIO_META_ISTIO_VERSION"] = expected["ISTIO_VERSION"]!.GetValue<string>(),
        };
        JsonObject annotations = expected["ANNOTATIONS"]?.AsObject() ?? [];
        if (golden.StartsWith("running", StringComparison.Ordinal))
        {
            env["ISTIO_META_ISTIO_PROXY_SHA"] = "istio-proxy:sha";
            env["ISTIO_META_INTERCEPTION_MODE"] = "REDIRECT";
            env["ISTIO_META_ISTIO_VERSION"] = "release-3.1";
            env["ISTIO_META_POD_NAME"] = "svc-0-0-0-6944fb884d-4pgx8";
            env["POD_NAME"] = "svc-0-0-0-6944fb884d-4pgx8";
            env["POD_NAMESPACE"] = "test";
            env["INSTANCE_IP"] = "10.10.10.1";
            env["ISTIO_METAJSON_LABELS"] = """{"version": "v1alpha1", "app": "test", "istio-locality":"regionA.zoneB.sub_zoneC"}""";
        }
        else
        {
            foreach (var kv in expected)
            {
                if (TypedKeys.Contains(kv.Key) || NotBuilt.Contains(kv.Key) || annotations.ContainsKey(kv.Key)) continue;
                env["ISTIO_META_" + kv.Key] = kv.Value!.GetValue<string>();
            }
        }
        string annotationsFile = Path.GetTempFileName();
        try
        {
            if (annotations.Count > 0)
            {
                env["ISTIO_METAJSON_ANNOTATIONS"] = annotations.ToJsonString();
                File.WriteAllLines(annotationsFile, annotations.Select(kv => kv.Key + "=" + JsonValue.Create(kv.Value!.GetValue<string>()).ToJsonString()));
            }
            var warnings = new List<string>();
            XdsNode built = NodeIdentityBuilder.Build(new NodeIdentityOptions
            {
                Environment = env,
                InstanceIps = ["10.3.3.3", "10.4.4.4", "10.5.5.5", "10.6.6.6", "10.4.4.4"],
                PilotSubjectAltNames = ["spiffe://cluster.local/ns/istio-system/sa/istio-pilot-service-account"],
                OutlierLogPath = "/dev/stdout",
                WorkloadIdentitySocketFile = "test.sock",
                ProxyConfigJson = expected["PROXY_CONFIG"]!.ToJsonString(),
                LabelsFile = "/nonexistent/labels",
                AnnotationsFile = annotations.Count > 0 ? annotationsFile : "/nonexistent/annotations",
            }, warnings);
            Assert.Empty(warnings);

            foreach (string key in NotBuilt) expected.Remove(key);
            var keys = expected.Select(kv => kv.Key).Union(built.Metadata.Select(kv => kv.Key)).Order(StringComparer.Ordinal);
            foreach (string key in keys)
                Assert.True(Canonical(expected[key]) == Canonical(built.Metadata[key]), $"{golden} metadata {key}: want {Canonical(expected[key])}, got {Canonical(built.Metadata[key])}");
            Assert.Equal(node["cluster"]!.GetValue<string>(), built.Cluster);
            JsonObject locality = node["locality"]!.AsObject();
            Assert.Equal(Str(locality, "region"), built.Locality?.Region ?? "");
            Assert.Equal(Str(locality, "zone"), built.Locality?.Zone ?? "");
            Assert.Equal(Str(locality, "sub_zone"), built.Locality?.SubZone ?? "");
        }
        finally
        {
            File.Delete(annotationsFile);
        }
    }

    [Fact]
    public void SidecarIdClusterVersionAndLabelsFromThePod()
    {
        string labels = Path.GetTempFileName();
        File.WriteAllText(labels, "app=\"reviews\"\npod-template-hash=\"5d7b\"\nservice.istio.io/canonical-name=\"reviews\"\nversion=\"v2\"\ntopology.istio.io/note=\"a \\\"quoted\\\" \\u00e9\"\n");
        try
        {
            var warnings = new List<string>();
            XdsNode node = NodeIdentityBuilder.Build(new NodeIdentityOptions
            {
                Environment = new Dictionary<string, string>
                {
                    ["POD_NAME"] = "reviews-v2-5d7b-xyz",
                    ["POD_NAMESPACE"] = "bookinfo",
                    ["INSTANCE_IP"] = "10.1.2.3",
                    ["SERVICE_ACCOUNT"] = "bookinfo-reviews",
                    ["ISTIO_META_CLUSTER_ID"] = "Kubernetes",
                    ["ISTIO_META_MESH_ID"] = "cluster.local",
                    ["ISTIO_META_POD_PORTS"] = """[{"name":"http","containerPort":9080,"protocol":"TCP"}]""",
                },
                LabelsFile = labels,
                AnnotationsFile = "/nonexistent",
            }, warnings);
            Assert.Empty(warnings);
            Assert.Equal("sidecar~10.1.2.3~reviews-v2-5d7b-xyz.bookinfo~bookinfo.svc.cluster.local", node.Id);
            Assert.Equal("reviews.bookinfo", node.Cluster);
            Assert.Equal("1.28.0", node.Metadata["ISTIO_VERSION"]!.GetValue<string>());
            Assert.Equal("bookinfo", node.Metadata["NAMESPACE"]!.GetValue<string>());
            Assert.Equal("bookinfo-reviews", node.Metadata["SERVICE_ACCOUNT"]!.GetValue<string>());
            Assert.Equal("Kubernetes", node.Metadata["CLUSTER_ID"]!.GetValue<string>());
            Assert.Equal("10.1.2.3", node.Metadata["INSTANCE_IPS"]!.GetValue<string>());
            // POD_PORTS stays the JSON string istio-agent passes through (istiod parses it).
            Assert.Equal(JsonValueKind.String, node.Metadata["POD_PORTS"]!.GetValueKind());
            JsonObject podLabels = node.Metadata["LABELS"]!.AsObject();
            Assert.False(podLabels.ContainsKey("pod-template-hash"));
            Assert.Equal("v2", podLabels["version"]!.GetValue<string>());
            Assert.Equal("a \"quoted\" é", podLabels["topology.istio.io/note"]!.GetValue<string>());
        }
        finally
        {
            File.Delete(labels);
        }
    }

    [Fact]
    public void BadDownwardApiFileIsIgnoredWithAWarning()
    {
        string labels = Path.GetTempFileName();
        File.WriteAllText(labels, "app=unquoted\n");
        try
        {
            var warnings = new List<string>();
            XdsNode node = NodeIdentityBuilder.Build(new NodeIdentityOptions
            {
                Environment = new Dictionary<string, string> { ["POD_NAMESPACE"] = "ns", ["ISTIO_METAJSON_X"] = "[1" },
                LabelsFile = labels,
                AnnotationsFile = "/nonexistent",
            }, warnings);
            Assert.Equal(2, warnings.Count);
            Assert.Contains(warnings, w => w.Contains("not a quoted string", StringComparison.Ordinal));
            Assert.Contains(warnings, w => w.Contains("ISTIO_METAJSON_X", StringComparison.Ordinal));
            Assert.False(node.Metadata.ContainsKey("LABELS"));
            Assert.Equal("istio-proxy.ns", node.Cluster);
        }
        finally
        {
            File.Delete(labels);
        }
    }

    private static string Str(JsonObject o, string key) => o[key]?.GetValue<string>() ?? "";

    /// <summary>JSON with object keys sorted, so two equal values compare equal as text.</summary>
    internal static string Canonical(JsonNode? node) => node switch
    {
        null => "null",
        JsonObject o => "{" + string.Join(",", o.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => JsonValue.Create(kv.Key).ToJsonString() + ":" + Canonical(kv.Value))) + "}",
        JsonArray a => "[" + string.Join(",", a.Select(Canonical)) + "]",
        JsonValue v when v.GetValueKind() == JsonValueKind.Number => v.ToJsonString() is var s && double.TryParse(s, System.Globalization.CultureInfo.InvariantCulture, out double d) ? d.ToString(System.Globalization.CultureInfo.InvariantCulture) : v.ToJsonString(),
        _ => node.ToJsonString(),
    };
}
