using System.Text.Json;
using System.Text.Json.Nodes;

namespace Sidecar.Core.Xds;

/// <summary>
/// Builds the Node that istio-agent would put in Envoy's bootstrap (Istio pkg/bootstrap/config.go
/// GetNodeMetaData and ConvertNodeToXDSNode; dataplane-map §1.4), so istiod's proxy model of us is the
/// same as of an istio-proxy with the same pod spec:
/// <list type="bullet">
/// <item>every <c>ISTIO_META_K=v</c> becomes metadata K = "v"; every <c>ISTIO_METAJSON_*</c> JSON object
/// is merged into the top level (its variable name is ignored);</item>
/// <item>the typed keys istio-agent computes win over those: ISTIO_VERSION, INSTANCE_IPS, ports, LABELS
/// (from ISTIO_METAJSON_LABELS, then the Downward API labels file minus pod-template-hash), ANNOTATIONS,
/// NAME/NAMESPACE/SERVICE_ACCOUNT from POD_NAME/POD_NAMESPACE/SERVICE_ACCOUNT, PROXY_CONFIG, PILOT_SAN;</item>
/// <item>id <c>type~ip~pod.ns~ns.svc.cluster.local</c>, cluster = ProxyConfig serviceCluster unless it is
/// the default "istio-proxy", else <c>app-label.ns</c>, <c>WORKLOAD_NAME.ns</c>, <c>istio-proxy.ns</c>.</item>
/// </list>
/// </summary>
public static class NodeIdentityBuilder
{
    private const string MetaPrefix = "ISTIO_META_";
    private const string MetaJsonPrefix = "ISTIO_METAJSON_";
    private const string LocalityLabel = "istio-locality";
    private const string DefaultServiceCluster = "istio-proxy";

    /// <summary>Builds the node; <paramref name="warnings"/> lists inputs that were ignored and why.</summary>
    public static XdsNode Build(NodeIdentityOptions options, List<string> warnings)
    {
        var env = options.Environment;
        var meta = new JsonObject();
        var envKeys = new List<string>(env.Keys);
        envKeys.Sort(StringComparer.Ordinal);

        // 1. Untyped pass-through: ISTIO_META_* as strings, then ISTIO_METAJSON_* merged at the top level.
        foreach (string key in envKeys)
        {
            if (key.StartsWith(MetaPrefix, StringComparison.Ordinal) && key.Length > MetaPrefix.Length)
                meta[key[MetaPrefix.Length..]] = env[key];
        }
        foreach (string key in envKeys)
        {
            if (!key.StartsWith(MetaJsonPrefix, StringComparison.Ordinal)) continue;
            if (TryParseObject(env[key], out JsonObject? obj))
            {
                foreach (var kv in obj) meta[kv.Key] = kv.Value?.DeepClone();
            }
            else warnings.Add($"{key}: not a JSON object, ignored");
        }

        // 2. The typed keys istio-agent computes.
        string version = Str(meta, "ISTIO_VERSION");
        meta["ISTIO_VERSION"] = version.Length > 0 ? version : NodeIdentityOptions.ImplementedIstioVersion;

        List<string> ips = InstanceIps(options);
        if (ips.Count > 0) meta["INSTANCE_IPS"] = string.Join(',', ips);
        meta["ENVOY_STATUS_PORT"] = options.EnvoyStatusPort;
        meta["ENVOY_PROMETHEUS_PORT"] = options.EnvoyPrometheusPort;
        bool discovery = options.MetadataDiscovery ?? Str(meta, "ENABLE_HBONE") == "true";
        meta["METADATA_DISCOVERY"] = discovery ? "true" : "false";
        if (options.WorkloadIdentitySocketFile is { Length: > 0 } socket) meta["WORKLOAD_IDENTITY_SOCKET_FILE"] = socket;
        if (options.OutlierLogPath is { Length: > 0 } outlier) meta["OUTLIER_LOG_PATH"] = outlier;
        if (options.PilotSubjectAltNames.Count > 0)
        {
            var sans = new JsonArray();
            foreach (string san in options.PilotSubjectAltNames) sans.Add((JsonNode?)JsonValue.Create(san));
            meta["PILOT_SAN"] = sans;
        }

        string? proxyConfigJson = options.ProxyConfigJson ?? Get(env, "PROXY_CONFIG");
        JsonObject? proxyConfig = null;
        if (proxyConfigJson is { Length: > 0 })
        {
            if (TryParseObject(proxyConfigJson, out proxyConfig)) meta["PROXY_CONFIG"] = proxyConfig;
            else warnings.Add("PROXY_CONFIG: not a JSON object, ignored");
        }

        if (Get(env, "POD_NAME") is { Length: > 0 } pod) meta["NAME"] = pod;
        if (Get(env, "POD_NAMESPACE") is { Length: > 0 } podNs) meta["NAMESPACE"] = podNs;
        if (Get(env, "SERVICE_ACCOUNT") is { Length: > 0 } sa) meta["SERVICE_ACCOUNT"] = sa;

        // Labels: ISTIO_METAJSON_LABELS is both LABELS and STATIC_LABELS; the labels file adds to LABELS.
        var labels = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (Get(env, MetaJsonPrefix + "LABELS") is { } labelsJson && TryParseStringMap(labelsJson, out var staticLabels) && staticLabels.Count > 0)
        {
            foreach (var kv in staticLabels) labels[kv.Key] = kv.Value;
            meta["STATIC_LABELS"] = ToObject(NormalizedLocality(staticLabels));
        }
        if (ReadDownwardApi(options.LabelsFile, warnings) is { } fileLabels)
        {
            foreach (var kv in fileLabels)
            {
                if (kv.Key == "pod-template-hash") continue;
                labels[kv.Key] = kv.Value;
            }
        }
        if (ReadDownwardApi(options.AnnotationsFile, warnings) is { } annotations && annotations.Count > 0)
            meta["ANNOTATIONS"] = ToObject(new SortedDictionary<string, string>(annotations, StringComparer.Ordinal));

        XdsLocality? locality = null;
        if (labels.TryGetValue(LocalityLabel, out string? localityLabel) && localityLabel.Length > 0)
        {
            // istio-agent: "." separators become "/", and the label is overwritten with the sanitized value.
            string normalized = localityLabel.Replace('.', '/');
            labels[LocalityLabel] = normalized;
            string[] parts = normalized.Split('/');
            locality = new XdsLocality(parts[0], parts.Length > 1 ? parts[1] : "", parts.Length > 2 ? parts[2] : "");
        }
        if (labels.Count > 0) meta["LABELS"] = ToObject(labels);

        string ns = Str(meta, "NAMESPACE");
        string podName = Get(env, "POD_NAME") ?? "";
        string ip = ips.Count > 0 ? ips[0] : "";
        string domain = ns.Length > 0 ? ns + ".svc." + options.ClusterDomain : options.ClusterDomain;
        string id = $"{options.NodeType}~{ip}~{podName}.{ns}~{domain}";

        string serviceCluster = proxyConfig is not null ? Str(proxyConfig, "serviceCluster") : "";
        return new XdsNode
        {
            Id = id,
            Cluster = ServiceCluster(serviceCluster, labels, Str(meta, "WORKLOAD_NAME"), ns),
            Locality = locality,
            Metadata = meta,
        };
    }

    /// <summary>Istio serviceClusterOrDefault: an explicit non-default name wins, else app label, workload, namespace.</summary>
    public static string ServiceCluster(string configured, IReadOnlyDictionary<string, string> labels, string workloadName, string ns)
    {
        if (configured.Length > 0 && configured != DefaultServiceCluster) return configured;
        if (labels.TryGetValue("app", out string? app)) return app + "." + ns;
        if (workloadName.Length > 0) return workloadName + "." + ns;
        if (ns.Length > 0) return DefaultServiceCluster + "." + ns;
        return DefaultServiceCluster;
    }

    private static List<string> InstanceIps(NodeIdentityOptions options)
    {
        IEnumerable<string> source = options.InstanceIps.Count > 0
            ? options.InstanceIps
            : (Get(options.Environment, "INSTANCE_IPS") ?? Get(options.Environment, "INSTANCE_IP") ?? "")
                .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var result = new List<string>();
        foreach (string ip in source)
        {
            if (!result.Contains(ip)) result.Add(ip); // istio-agent removes duplicates, keeping order
        }
        return result;
    }

    private static SortedDictionary<string, string> NormalizedLocality(Dictionary<string, string> labels)
    {
        var copy = new SortedDictionary<string, string>(labels, StringComparer.Ordinal);
        if (copy.TryGetValue(LocalityLabel, out string? l)) copy[LocalityLabel] = l.Replace('.', '/');
        return copy;
    }

    private static Dictionary<string, string>? ReadDownwardApi(string path, List<string> warnings)
    {
        string text;
        try
        {
            if (!File.Exists(path)) return null;
            text = File.ReadAllText(path);
        }
        catch (IOException e)
        {
            warnings.Add($"{path}: {e.Message}");
            return null;
        }
        catch (UnauthorizedAccessException e)
        {
            warnings.Add($"{path}: {e.Message}");
            return null;
        }
        if (DownwardApiFile.TryParse(text, out var values, out string error)) return values;
        warnings.Add($"{path}: {error}; ignored");
        return null;
    }

    private static JsonObject ToObject(SortedDictionary<string, string> map)
    {
        var obj = new JsonObject();
        foreach (var kv in map) obj[kv.Key] = kv.Value;
        return obj;
    }

    private static bool TryParseObject(string json, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out JsonObject? obj)
    {
        obj = null;
        try
        {
            obj = JsonNode.Parse(json) as JsonObject;
        }
        catch (JsonException)
        {
            return false;
        }
        return obj is not null;
    }

    private static bool TryParseStringMap(string json, out Dictionary<string, string> map)
    {
        map = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!TryParseObject(json, out JsonObject? obj)) return false;
        foreach (var kv in obj)
        {
            if (kv.Value is JsonValue v && v.GetValueKind() == JsonValueKind.String) map[kv.Key] = v.GetValue<string>();
        }
        return true;
    }

    private static string Str(JsonObject obj, string key) =>
        obj[key] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : "";

    private static string? Get(IReadOnlyDictionary<string, string> env, string key) =>
        env.TryGetValue(key, out string? v) ? v : null;
}
