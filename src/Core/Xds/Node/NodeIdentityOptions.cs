namespace Sidecar.Core.Xds;

/// <summary>
/// What the node identity is built from: the proxy container's environment and the Downward API files,
/// plus the values istio-agent passes itself (ports, istiod SANs, log paths). Defaults are the injected
/// sidecar's (dataplane-map §1.2).
/// </summary>
public sealed class NodeIdentityOptions
{
    /// <summary>The 1.28 line we implement; istiod gates generated config on it (dataplane-map §0 fact 3).</summary>
    public const string ImplementedIstioVersion = "1.28.0";

    public required IReadOnlyDictionary<string, string> Environment { get; init; }
    public string NodeType { get; init; } = "sidecar";
    public string LabelsFile { get; init; } = "/etc/istio/pod/labels";
    public string AnnotationsFile { get; init; } = "/etc/istio/pod/annotations";
    /// <summary>Pod IPs; when empty, <c>INSTANCE_IPS</c> (comma list) then <c>INSTANCE_IP</c> from the environment.</summary>
    public IReadOnlyList<string> InstanceIps { get; init; } = [];
    /// <summary>istiod's expected identities (metadata PILOT_SAN), as istio-agent reports them.</summary>
    public IReadOnlyList<string> PilotSubjectAltNames { get; init; } = [];
    public string? OutlierLogPath { get; init; }
    public string? WorkloadIdentitySocketFile { get; init; }
    public int EnvoyStatusPort { get; init; } = 15021;
    public int EnvoyPrometheusPort { get; init; } = 15090;
    /// <summary>METADATA_DISCOVERY; null means "as ENABLE_HBONE" (istio-agent's default).</summary>
    public bool? MetadataDiscovery { get; init; }
    /// <summary>ProxyConfig as JSON (camelCase, as istio-agent reports it); null means the PROXY_CONFIG env var.</summary>
    public string? ProxyConfigJson { get; init; }
    public string ClusterDomain { get; init; } = "cluster.local";
}
