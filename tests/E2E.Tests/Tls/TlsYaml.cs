using System.Text;
using Sidecar.E2E.Tests.Harness;

namespace Sidecar.E2E.Tests.Tls;

/// <summary>A <c>match_typed_subject_alt_names</c> entry: <paramref name="Type"/> URI/DNS, <paramref name="Kind"/> exact/prefix/suffix.</summary>
public sealed record San(string Type, string Kind, string Value)
{
    public static San UriExact(string v) => new("URI", "exact", v);
    public static San UriPrefix(string v) => new("URI", "prefix", v);
    public static San DnsExact(string v) => new("DNS", "exact", v);
}

/// <summary>
/// One side's <c>envoy.transport_sockets.tls</c> in the forms Istio writes: the certificate inline from files
/// (<see cref="Files"/>) or the SDS secret <c>default</c> (<see cref="Files"/> null), roots from <c>trusted_ca</c>
/// (<see cref="TrustedCa"/>) or the SDS secret <c>ROOTCA</c> (<see cref="SdsRoots"/>).
/// </summary>
public sealed record TlsSide
{
    public CertFiles? Files { get; init; }
    public bool PresentCertificate { get; init; } = true;
    public string? TrustedCa { get; init; }
    public bool SdsRoots { get; init; }
    public bool RequireClientCertificate { get; init; } = true;
    public string[] Alpn { get; init; } = [];
    public string? MinVersion { get; init; }
    public string? MaxVersion { get; init; }
    public San[] Sans { get; init; } = [];
    public string? Sni { get; init; }

    /// <summary>Istio's form: SDS <c>default</c> + <c>ROOTCA</c> (the sidecar's workload certificate source).</summary>
    public static TlsSide Sds(params San[] sans) => new() { SdsRoots = true, Sans = sans };

    /// <summary>Certificate and roots from files (inline DataSource <c>filename</c>).</summary>
    public static TlsSide FromFiles(CertFiles files, params San[] sans) => new() { Files = files, TrustedCa = files.Root, Sans = sans };

    public string Downstream(int indent) => Socket(indent, "DownstreamTlsContext", downstream: true);

    public string Upstream(int indent) => Socket(indent, "UpstreamTlsContext", downstream: false);

    private string Socket(int indent, string type, bool downstream)
    {
        var sb = new StringBuilder();
        void L(int i, string s) => sb.Append(' ', indent + i).Append(s).Append('\n');
        L(0, "transport_socket:");
        L(2, "name: envoy.transport_sockets.tls");
        L(2, "typed_config:");
        L(4, $"\"@type\": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.{type}");
        if (downstream) L(4, $"require_client_certificate: {(RequireClientCertificate ? "true" : "false")}");
        if (!downstream && Sni != null) L(4, $"sni: {Sni}");
        L(4, "common_tls_context:");
        if (Alpn.Length > 0) L(6, $"alpn_protocols: [{string.Join(", ", Alpn.Select(a => $"\"{a}\""))}]");
        if (MinVersion != null || MaxVersion != null)
        {
            L(6, "tls_params:");
            if (MinVersion != null) L(8, $"tls_minimum_protocol_version: {MinVersion}");
            if (MaxVersion != null) L(8, $"tls_maximum_protocol_version: {MaxVersion}");
        }
        if (PresentCertificate)
        {
            if (Files != null)
                L(6, $"tls_certificates: [{{ certificate_chain: {{ filename: \"{Files.Chain}\" }}, private_key: {{ filename: \"{Files.Key}\" }} }}]");
            else
                L(6, "tls_certificate_sds_secret_configs: [{ name: default, sds_config: { ads: {} } }]");
        }
        if (SdsRoots)
        {
            L(6, "combined_validation_context:");
            L(8, "default_validation_context:");
            SanLines(10);
            L(8, "validation_context_sds_secret_config: { name: ROOTCA, sds_config: { ads: {} } }");
        }
        else if (TrustedCa != null || Sans.Length > 0)
        {
            L(6, "validation_context:");
            if (TrustedCa != null) L(8, $"trusted_ca: {{ filename: \"{TrustedCa}\" }}");
            SanLines(8);
        }
        return sb.ToString();

        void SanLines(int i)
        {
            L(i, Sans.Length == 0 ? "match_typed_subject_alt_names: []" : "match_typed_subject_alt_names:");
            foreach (var s in Sans) L(i, $"- {{ san_type: {s.Type}, matcher: {{ {s.Kind}: \"{s.Value}\" }} }}");
        }
    }
}

/// <summary>What a filter chain runs: HTTP (connection manager with prefix routes) or tcp_proxy.</summary>
public abstract record ChainApp(string StatPrefix);

public sealed record HttpApp(string StatPrefix, params (string Prefix, string Cluster)[] Routes) : ChainApp(StatPrefix)
{
    public string Codec { get; init; } = "AUTO";
}

public sealed record TcpApp(string StatPrefix, string Cluster) : ChainApp(StatPrefix);

/// <summary>A filter chain: optional <c>filter_chain_match.transport_protocol</c>, optional TLS, one app.</summary>
public sealed record Chain(ChainApp App, TlsSide? Tls = null, string? TransportProtocol = null);

/// <summary>
/// An upstream HTTP protocol for a cluster: HTTP/1.1 (optionally one request per connection) or explicit h2. The connect
/// timeout (which the TLS handshake shares) is Istio's default, 10 s: a process's first client handshake took 0.3-1.2 s on
/// this loaded 2-core machine (strace shows all of /etc/ssl/certs being read during it; later handshakes take ~10 ms).
/// </summary>
public sealed record ClusterOptions(bool Http2 = false, int MaxRequestsPerConnection = 0, string ConnectTimeout = "10s");

public static class TlsYaml
{
    /// <summary>Adds a listener with <paramref name="chains"/> (tls_inspector when any chain matches on transport) and returns its port.</summary>
    public static int AddListener(this SidecarConfig cfg, params Chain[] chains) => cfg.AddListenerYaml(port =>
    {
        var sb = new StringBuilder();
        sb.Append($"  - name: tls_{port}\n");
        sb.Append($"    address: {{ socket_address: {{ address: 127.0.0.1, port_value: {port} }} }}\n");
        if (chains.Any(c => c.TransportProtocol != null))
        {
            sb.Append("    listener_filters:\n");
            sb.Append("    - name: envoy.filters.listener.tls_inspector\n");
            sb.Append("      typed_config: { \"@type\": type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector }\n");
        }
        sb.Append("    filter_chains:\n");
        foreach (var c in chains)
        {
            sb.Append("    - name: ").Append(c.App.StatPrefix).Append('\n');
            if (c.TransportProtocol != null) sb.Append($"      filter_chain_match: {{ transport_protocol: {c.TransportProtocol} }}\n");
            if (c.Tls != null) sb.Append(c.Tls.Downstream(6));
            sb.Append("      filters:\n");
            sb.Append(c.App switch
            {
                HttpApp h => Hcm(h),
                TcpApp t => "      - name: envoy.filters.network.tcp_proxy\n" +
                            "        typed_config: { \"@type\": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, " +
                            $"stat_prefix: {t.StatPrefix}, cluster: {t.Cluster} }}\n",
                _ => throw new ArgumentException("unknown app"),
            });
        }
        return sb.ToString();
    });

    private static string Hcm(HttpApp h)
    {
        var sb = new StringBuilder();
        sb.Append("      - name: envoy.filters.network.http_connection_manager\n");
        sb.Append("        typed_config:\n");
        sb.Append("          \"@type\": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager\n");
        sb.Append($"          stat_prefix: {h.StatPrefix}\n");
        sb.Append($"          codec_type: {h.Codec}\n");
        sb.Append("          http_filters: [{ name: envoy.filters.http.router, typed_config: { \"@type\": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router } }]\n");
        sb.Append("          route_config:\n");
        sb.Append("            virtual_hosts:\n");
        sb.Append("            - { name: all, domains: [\"*\"], routes: [");
        sb.AppendJoin(", ", h.Routes.Select(r => $"{{ match: {{ prefix: \"{r.Prefix}\" }}, route: {{ cluster: {r.Cluster} }} }}"));
        sb.Append("] }\n");
        return sb.ToString();
    }

    /// <summary>Adds a STATIC cluster to 127.0.0.1:<paramref name="port"/>, over TLS when <paramref name="tls"/> is given.</summary>
    public static SidecarConfig AddTlsCluster(this SidecarConfig cfg, string name, int port, TlsSide? tls, ClusterOptions? options = null)
    {
        var o = options ?? new ClusterOptions();
        var sb = new StringBuilder();
        sb.Append($"  - name: {name}\n");
        sb.Append($"    type: STATIC\n    connect_timeout: {o.ConnectTimeout}\n");
        if (o.Http2 || o.MaxRequestsPerConnection > 0)
        {
            sb.Append("    typed_extension_protocol_options:\n");
            sb.Append("      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:\n");
            sb.Append("        \"@type\": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions\n");
            if (o.MaxRequestsPerConnection > 0)
                sb.Append($"        common_http_protocol_options: {{ max_requests_per_connection: {o.MaxRequestsPerConnection} }}\n");
            sb.Append(o.Http2 ? "        explicit_http_config: { http2_protocol_options: {} }\n" : "        explicit_http_config: { http_protocol_options: {} }\n");
        }
        if (tls != null) sb.Append(tls.Upstream(4));
        sb.Append($"    load_assignment: {{ cluster_name: {name}, endpoints: [{{ lb_endpoints: [{{ endpoint: {{ address: {{ socket_address: {{ address: 127.0.0.1, port_value: {port} }} }} }} }}] }}] }}\n");
        return cfg.AddClusterYaml(sb.ToString());
    }

    /// <summary>Envoy's listener stat prefix for TLS counters: <c>listener.127.0.0.1_PORT.</c></summary>
    public static string ListenerSsl(int port, string counter) => $"listener.127.0.0.1_{port}.ssl.{counter}";

    public static string ClusterSsl(string cluster, string counter) => $"cluster.{cluster}.ssl.{counter}";
}
