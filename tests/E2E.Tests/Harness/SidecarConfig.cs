using System.Text;

namespace Sidecar.E2E.Tests.Harness;

/// <summary>A route; <paramref name="Prefix"/> "CONNECT" makes a connect_matcher route that terminates CONNECT.</summary>
public sealed record RouteSpec(string Prefix, string Cluster, string? Timeout = null, string? IdleTimeout = null);

public sealed record ClusterSpec(string Name, int Port, string ConnectTimeout = "1s", string Type = "STATIC",
    string Host = "127.0.0.1", string LbPolicy = "ROUND_ROBIN", int Endpoints = 1, int? MaxConnections = null,
    bool Http2 = false);

/// <summary>
/// Builds an Envoy v3 bootstrap (static_resources) YAML the way Envoy users write it:
/// an admin block, HTTP listeners (http_connection_manager + router) and/or TCP listeners (tcp_proxy),
/// and STATIC clusters with load_assignment.
/// </summary>
public sealed class SidecarConfig
{
    public int AdminPort { get; } = TestEnv.FreePort();
    private readonly List<string> _listeners = [];
    private readonly List<string> _clusters = [];

    private static void L(List<string> into, int indent, string text) => into.Add(new string(' ', indent) + text);

    /// <summary>Adds an HTTP listener on a fresh free port and returns the port.</summary>
    public int AddHttpListener(IEnumerable<RouteSpec> routes, string statPrefix = "ingress_http",
        string? requestHeadersTimeout = null, int? maxRequestHeadersKb = null, bool websocket = false,
        string? drainTimeout = null, long? maxRequestBytes = null, int? http2MaxConcurrentStreams = null,
        string codecType = "AUTO", string? http2Options = null, string? idleTimeout = null)
    {
        var port = TestEnv.FreePort();
        var o = _listeners;
        L(o, 2, $"- name: http_{port}");
        L(o, 4, "address:");
        L(o, 6, $"socket_address: {{ address: 127.0.0.1, port_value: {port} }}");
        L(o, 4, "filter_chains:");
        L(o, 4, "- filters:");
        L(o, 6, "- name: envoy.filters.network.http_connection_manager");
        L(o, 8, "typed_config:");
        L(o, 10, "\"@type\": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager");
        L(o, 10, $"stat_prefix: {statPrefix}");
        L(o, 10, $"codec_type: {codecType}");
        if (http2MaxConcurrentStreams is int h2Max) L(o, 10, $"http2_protocol_options: {{ max_concurrent_streams: {h2Max} }}");
        // http2Options: the inside of an http2_protocol_options flow map, e.g. "max_outbound_control_frames: 100"
        else if (http2Options != null) L(o, 10, $"http2_protocol_options: {{ {http2Options} }}");
        if (idleTimeout != null) L(o, 10, $"common_http_protocol_options: {{ idle_timeout: {idleTimeout} }}");
        if (requestHeadersTimeout != null) L(o, 10, $"request_headers_timeout: {requestHeadersTimeout}");
        if (maxRequestHeadersKb != null) L(o, 10, $"max_request_headers_kb: {maxRequestHeadersKb}");
        if (drainTimeout != null) L(o, 10, $"drain_timeout: {drainTimeout}");
        if (websocket)
        {
            L(o, 10, "upgrade_configs:");
            L(o, 10, "- upgrade_type: websocket");
        }
        L(o, 10, "route_config:");
        L(o, 12, "name: local_route");
        L(o, 12, "virtual_hosts:");
        L(o, 12, "- name: all");
        L(o, 14, "domains: [\"*\"]");
        L(o, 14, "routes:");
        foreach (var r in routes)
        {
            if (r.Prefix == "CONNECT")
            {
                L(o, 14, "- match: { connect_matcher: {} }");
                L(o, 16, $"route: {{ cluster: {r.Cluster}, upgrade_configs: [{{ upgrade_type: CONNECT, connect_config: {{}} }}] }}");
                continue;
            }
            L(o, 14, $"- match: {{ prefix: \"{r.Prefix}\" }}");
            L(o, 16, $"route: {{ cluster: {r.Cluster}{(r.Timeout != null ? ", timeout: " + r.Timeout : "")}{(r.IdleTimeout != null ? ", idle_timeout: " + r.IdleTimeout : "")} }}");
        }
        L(o, 10, "http_filters:");
        if (maxRequestBytes is long max)
        {
            L(o, 10, "- name: envoy.filters.http.buffer");
            L(o, 12, "typed_config:");
            L(o, 14, "\"@type\": type.googleapis.com/envoy.extensions.filters.http.buffer.v3.Buffer");
            L(o, 14, $"max_request_bytes: {max}");
        }
        L(o, 10, "- name: envoy.filters.http.router");
        L(o, 12, "typed_config:");
        L(o, 14, "\"@type\": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router");
        return port;
    }

    /// <summary>Adds a TCP listener (tcp_proxy) on a fresh free port and returns the port.</summary>
    public int AddTcpListener(string cluster, string statPrefix = "tcp")
    {
        var port = TestEnv.FreePort();
        var o = _listeners;
        L(o, 2, $"- name: tcp_{port}");
        L(o, 4, "address:");
        L(o, 6, $"socket_address: {{ address: 127.0.0.1, port_value: {port} }}");
        L(o, 4, "filter_chains:");
        L(o, 4, "- filters:");
        L(o, 6, "- name: envoy.filters.network.tcp_proxy");
        L(o, 8, "typed_config:");
        L(o, 10, "\"@type\": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy");
        L(o, 10, $"stat_prefix: {statPrefix}");
        L(o, 10, $"cluster: {cluster}");
        return port;
    }

    public SidecarConfig AddCluster(ClusterSpec c)
    {
        var o = _clusters;
        L(o, 2, $"- name: {c.Name}");
        L(o, 4, $"type: {c.Type}");
        L(o, 4, $"connect_timeout: {c.ConnectTimeout}");
        L(o, 4, $"lb_policy: {c.LbPolicy}");
        if (c.Http2)
        {
            L(o, 4, "typed_extension_protocol_options:");
            L(o, 6, "envoy.extensions.upstreams.http.v3.HttpProtocolOptions:");
            L(o, 8, "\"@type\": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions");
            L(o, 8, "explicit_http_config: { http2_protocol_options: {} }");
        }
        if (c.MaxConnections is int maxCx)
        {
            L(o, 4, "circuit_breakers:");
            L(o, 6, $"thresholds: [{{ max_connections: {maxCx} }}]");
        }
        L(o, 4, "load_assignment:");
        L(o, 6, $"cluster_name: {c.Name}");
        L(o, 6, "endpoints:");
        L(o, 6, "- lb_endpoints:");
        for (int i = 0; i < c.Endpoints; i++)
        {
            L(o, 8, "- endpoint:");
            L(o, 12, "address:");
            L(o, 14, $"socket_address: {{ address: {c.Host}, port_value: {c.Port} }}");
        }
        return this;
    }

    /// <summary>Adds a listener written by the caller: <paramref name="yamlForPort"/> gets a fresh free port and returns
    /// the whole list item (indented two spaces, starting "  - name:"). Returns the port.</summary>
    public int AddListenerYaml(Func<int, string> yamlForPort)
    {
        var port = TestEnv.FreePort();
        _listeners.Add(yamlForPort(port).TrimEnd('\n'));
        return port;
    }

    /// <summary>Adds a cluster written by the caller (the whole list item, indented two spaces, starting "  - name:").</summary>
    public SidecarConfig AddClusterYaml(string yaml)
    {
        _clusters.Add(yaml.TrimEnd('\n'));
        return this;
    }

    public string ToYaml()
    {
        var sb = new StringBuilder();
        sb.Append("admin:\n  address:\n    socket_address: { address: 127.0.0.1, port_value: ").Append(AdminPort).Append(" }\n");
        sb.Append("static_resources:\n");
        sb.Append("  listeners:").Append(_listeners.Count == 0 ? " []\n" : "\n");
        foreach (var l in _listeners) sb.Append(l).Append('\n');
        sb.Append("  clusters:").Append(_clusters.Count == 0 ? " []\n" : "\n");
        foreach (var l in _clusters) sb.Append(l).Append('\n');
        return sb.ToString();
    }
}
