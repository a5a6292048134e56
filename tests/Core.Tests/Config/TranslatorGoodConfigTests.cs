using System.Net;
using Sidecar.Core.Config;
using Sidecar.Core.Config.Model;
using Xunit;

namespace Sidecar.Core.Tests.Config;

public sealed class TranslatorGoodConfigTests
{
    internal const string Full = """
        admin:
          access_log_path: /dev/null
          address: { socket_address: { address: 127.0.0.1, port_value: 9901 } }
        node: { id: sidecar~10.0.0.1, cluster: demo, metadata: { ISTIO_VERSION: "1.28" } }
        static_resources:
          listeners:
          - name: http
            address: { socket_address: { address: 0.0.0.0, port_value: 8080, protocol: TCP } }
            use_original_dst: true
            listener_filters_timeout: 0.5s
            per_connection_buffer_limit_bytes: 32768
            listener_filters:
            - name: envoy.filters.listener.tls_inspector
            - typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.listener.original_dst.v3.OriginalDst }
            filter_chains:
            - filter_chain_match: { destination_port: 8080, transport_protocol: raw_buffer, application_protocols: [http/1.1] }
              filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: ingress
                  codec_type: HTTP1
                  max_request_headers_kb: 32
                  stream_idle_timeout: 30s
                  request_timeout: 10s
                  request_headers_timeout: 2s
                  drain_timeout: 1s
                  use_remote_address: true
                  generate_request_id: false
                  server_name: sidecar
                  common_http_protocol_options: { idle_timeout: 60s, max_headers_count: 50 }
                  upgrade_configs: [{ upgrade_type: websocket }]
                  access_log: [{ name: envoy.access_loggers.stdout }]
                  route_config:
                    name: local
                    response_headers_to_add: [{ header: { key: X-Proxy, value: sidecar } }]
                    virtual_hosts:
                    - name: api
                      domains: [api.example.com, "*.API.example.com"]
                      retry_policy: { retry_on: "5xx,reset", num_retries: 2 }
                      request_headers_to_remove: [x-debug]
                      routes:
                      - name: exact
                        match: { path: /health, case_sensitive: false }
                        direct_response: { status: 200, body: { inline_string: ok } }
                      - match:
                          safe_regex: { google_re2: {}, regex: "/v[0-9]+/.*" }
                          headers:
                          - { name: X-Env, string_match: { exact: prod, ignore_case: true } }
                          - { name: x-canary, present_match: true, invert_match: true }
                          - { name: x-old, prefix_match: a }
                          query_parameters:
                          - { name: debug, string_match: { exact: "1" } }
                          - { name: trace }
                        route:
                          weighted_clusters: { clusters: [{ name: a, weight: 90 }, { name: b, weight: 10 }] }
                          timeout: 0.25s
                          idle_timeout: 5s
                          prefix_rewrite: /
                          host_rewrite_literal: backend.local
                          retry_policy: { retry_on: "retriable-status-codes,connect-failure", retriable_status_codes: [503], per_try_timeout: 1.5s, num_retries: 3 }
                          upgrade_configs: [{ upgrade_type: websocket, enabled: false }]
                        request_headers_to_add:
                        - { header: { key: x-a, value: "1" }, append_action: OVERWRITE_IF_EXISTS_OR_ADD }
                        - { header: { key: x-b, value: "2" }, append: false }
                    - name: redirect
                      domains: ["*"]
                      routes:
                      - match: { prefix: / }
                        redirect: { https_redirect: true, strip_query: true, response_code: PERMANENT_REDIRECT }
                  http_filters:
                  - name: envoy.filters.http.router
          - name: tcp
            address: { socket_address: { address: "::", port_value: 9000 } }
            filter_chains:
            - filter_chain_match: { server_names: [Db.Example.com], transport_protocol: tls }
              filters:
              - name: envoy.filters.network.tcp_proxy
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
                  stat_prefix: db
                  cluster: a
                  idle_timeout: 0s
                  max_connect_attempts: 3
            default_filter_chain:
              filters:
              - name: envoy.filters.network.tcp_proxy
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
                  stat_prefix: other
                  weighted_clusters: { clusters: [{ name: a, weight: 1 }, { name: b, weight: 3 }] }
          clusters:
          - name: a
            type: STATIC
            connect_timeout: 0.25s
            lb_policy: LEAST_REQUEST
            least_request_lb_config: { choice_count: 3 }
            per_connection_buffer_limit_bytes: 65536
            circuit_breakers: { thresholds: [{ priority: DEFAULT, max_connections: 4294967295, max_pending_requests: 10, max_requests: 20, max_retries: 1 }] }
            typed_extension_protocol_options:
              envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
                "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
                common_http_protocol_options: { idle_timeout: 30s, max_requests_per_connection: 100 }
                explicit_http_config: { http_protocol_options: {} }
            load_assignment:
              cluster_name: a
              endpoints:
              - locality: { region: eu, zone: eu-1, sub_zone: r1 }
                load_balancing_weight: 2
                priority: 1
                lb_endpoints:
                - endpoint: { address: { socket_address: { address: 10.0.0.1, port_value: 80 } } }
                  load_balancing_weight: 5
          - name: b
            type: STRICT_DNS
            lb_policy: RANDOM
            dns_refresh_rate: 10s
            dns_lookup_family: V4_ONLY
            load_assignment:
              cluster_name: b
              endpoints:
              - lb_endpoints:
                - endpoint: { address: { socket_address: { address: backend.local, port_value: 8080 } }, hostname: backend }
          - name: passthrough
            type: ORIGINAL_DST
            lb_policy: CLUSTER_PROVIDED
        """;

    private static BootstrapModel Load(string yaml)
    {
        ConfigResult<BootstrapModel> r = ConfigLoader.LoadText(yaml, isJson: false);
        Assert.True(r.IsSuccess, ConfigErrorFormatter.Format(r.Errors));
        return r.Value!;
    }

    [Fact]
    public void AdminAndNode()
    {
        BootstrapModel m = Load(Full);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 9901), m.Admin!.Address);
        Assert.Equal("sidecar~10.0.0.1", m.Node!.Id);
        Assert.Equal("demo", m.Node.Cluster);
    }

    [Fact]
    public void Listeners()
    {
        BootstrapModel m = Load(Full);
        Assert.Equal(2, m.Listeners.Length);
        ListenerModel http = m.Listeners[0];
        Assert.Equal("http", http.Name);
        Assert.Equal(new IPEndPoint(IPAddress.Any, 8080), http.Address);
        Assert.True(http.UseOriginalDst);
        Assert.True(http.OriginalDstFilter);
        Assert.Equal(TimeSpan.FromMilliseconds(500), http.DetectTimeout);
        Assert.Equal(32768, http.PerConnectionBufferLimitBytes);
        FilterChainMatchModel match = http.FilterChains[0].Match;
        Assert.Equal(8080, match.DestinationPort);
        Assert.Equal("raw_buffer", match.TransportProtocol);
        Assert.Equal(["http/1.1"], match.ApplicationProtocols.ToArray());

        ListenerModel tcp = m.Listeners[1];
        Assert.Equal(IPAddress.IPv6Any, tcp.Address.Address);
        Assert.Equal(["db.example.com"], tcp.FilterChains[0].Match.ServerNames.ToArray());
        TcpProxyModel proxy = tcp.FilterChains[0].TcpProxy!;
        Assert.Equal("a", proxy.Cluster);
        Assert.Equal(TimeSpan.Zero, proxy.IdleTimeout);
        Assert.Equal(3, proxy.MaxConnectAttempts);
        Assert.Equal(3, tcp.DefaultFilterChain!.TcpProxy!.WeightedClusters[1].Weight);
        Assert.Equal(FilterChainMatchModel.Any, tcp.DefaultFilterChain.Match);
    }

    [Fact]
    public void HttpConnectionManager()
    {
        HttpConnectionManagerModel h = Load(Full).Listeners[0].FilterChains[0].Http!;
        Assert.Equal("ingress", h.StatPrefix);
        Assert.Equal(CodecType.Http1, h.CodecType);
        Assert.Equal(32 * 1024, h.MaxRequestHeadersBytes);
        Assert.Equal(50, h.MaxHeadersCount);
        Assert.Equal(TimeSpan.FromSeconds(60), h.IdleTimeout);
        Assert.Equal(TimeSpan.FromSeconds(30), h.StreamIdleTimeout);
        Assert.Equal(TimeSpan.FromSeconds(10), h.RequestTimeout);
        Assert.Equal(TimeSpan.FromSeconds(2), h.RequestHeadersTimeout);
        Assert.Equal(TimeSpan.FromSeconds(1), h.DrainTimeout);
        Assert.True(h.UseRemoteAddress);
        Assert.False(h.GenerateRequestId);
        Assert.Equal("sidecar", h.ServerName);
        Assert.Equal("local", h.RouteConfig.Name);
        Assert.Equal("x-proxy", h.RouteConfig.ResponseHeaders.Add[0].Name);
    }

    [Fact]
    public void VirtualHostsAndRoutes()
    {
        RouteConfigModel rc = Load(Full).Listeners[0].FilterChains[0].Http!.RouteConfig;
        VirtualHostModel api = rc.VirtualHosts[0];
        Assert.Equal(["api.example.com", "*.api.example.com"], api.Domains.ToArray());
        Assert.Equal(RetryOn.FiveXx | RetryOn.Reset, api.RetryPolicy!.RetryOn);
        Assert.Equal(["x-debug"], api.RequestHeaders.Remove.ToArray());

        RouteModel health = api.Routes[0];
        Assert.Equal("exact", health.Name);
        Assert.Equal(PathMatchKind.Path, health.Match.Kind);
        Assert.False(health.Match.CaseSensitive);
        Assert.Equal(200, health.DirectResponse!.Status);
        Assert.Equal("ok"u8.ToArray(), health.DirectResponse.Body);

        RouteModel regex = api.Routes[1];
        Assert.Equal(PathMatchKind.SafeRegex, regex.Match.Kind);
        Assert.Matches(regex.Match.Regex!, "/v2/users");
        Assert.DoesNotMatch(regex.Match.Regex!, "/x/v2/users"); // whole-string semantics
        Assert.Equal("x-env", regex.Match.Headers[0].Name);
        Assert.True(regex.Match.Headers[0].Matcher!.IgnoreCase);
        Assert.True(regex.Match.Headers[1].PresentMatch);
        Assert.True(regex.Match.Headers[1].InvertMatch);
        Assert.Equal(StringMatchKind.Prefix, regex.Match.Headers[2].Matcher!.Kind);
        Assert.Equal("1", regex.Match.QueryParameters[0].Matcher!.Value);
        Assert.True(regex.Match.QueryParameters[1].PresentMatch);

        RouteActionModel a = regex.Action!;
        Assert.Equal("", a.Cluster);
        Assert.Equal(90, a.WeightedClusters[0].Weight);
        Assert.Equal(TimeSpan.FromMilliseconds(250), a.Timeout);
        Assert.Equal(TimeSpan.FromSeconds(5), a.IdleTimeout);
        Assert.Equal("/", a.PrefixRewrite);
        Assert.Equal("backend.local", a.HostRewriteLiteral);
        Assert.Equal(RetryOn.RetriableStatusCodes | RetryOn.ConnectFailure, a.RetryPolicy!.RetryOn);
        Assert.Equal([503], a.RetryPolicy.RetriableStatusCodes.ToArray());
        Assert.Equal(TimeSpan.FromSeconds(1.5), a.RetryPolicy.PerTryTimeout);
        Assert.Equal(3, a.RetryPolicy.NumRetries);
        Assert.False(a.AllowWebSocket); // route override beats the HCM-level websocket upgrade
        Assert.Equal(HeaderAppendAction.OverwriteIfExistsOrAdd, regex.RequestHeaders.Add[0].Action);
        Assert.Equal(HeaderAppendAction.OverwriteIfExistsOrAdd, regex.RequestHeaders.Add[1].Action);

        RedirectModel r = rc.VirtualHosts[1].Routes[0].Redirect!;
        Assert.True(r.HttpsRedirect);
        Assert.True(r.StripQuery);
        Assert.Equal(308, r.ResponseCode);
    }

    [Fact]
    public void Clusters()
    {
        BootstrapModel m = Load(Full);
        ClusterModel a = m.Clusters["a"];
        Assert.Equal(DiscoveryType.Static, a.Type);
        Assert.Equal(TimeSpan.FromMilliseconds(250), a.ConnectTimeout);
        Assert.Equal(LbPolicy.LeastRequest, a.LbPolicy);
        Assert.Equal(3, a.LeastRequestChoiceCount);
        Assert.Equal(65536, a.PerConnectionBufferLimitBytes);
        Assert.Equal(int.MaxValue, a.CircuitBreakers.MaxConnections);
        Assert.Equal(10, a.CircuitBreakers.MaxPendingRequests);
        Assert.Equal(20, a.CircuitBreakers.MaxRequests);
        Assert.Equal(1, a.CircuitBreakers.MaxRetries);
        Assert.Equal(TimeSpan.FromSeconds(30), a.UpstreamIdleTimeout);
        Assert.Equal(100, a.MaxRequestsPerConnection);
        LocalityEndpointsModel loc = a.Localities[0];
        Assert.Equal(("eu", "eu-1", "r1", 2, 1), (loc.Region, loc.Zone, loc.SubZone, loc.Weight, loc.Priority));
        Assert.Equal(IPAddress.Parse("10.0.0.1"), loc.Endpoints[0].Address);
        Assert.Equal(5, loc.Endpoints[0].Weight);

        ClusterModel b = m.Clusters["b"];
        Assert.Equal(DiscoveryType.StrictDns, b.Type);
        Assert.Equal(LbPolicy.Random, b.LbPolicy);
        Assert.Equal(TimeSpan.FromSeconds(10), b.DnsRefreshRate);
        Assert.Equal(DnsLookupFamily.V4Only, b.DnsLookupFamily);
        Assert.Equal("backend.local", b.Localities[0].Endpoints[0].Host);
        Assert.Null(b.Localities[0].Endpoints[0].Address);
        Assert.Equal(CircuitBreakerModel.Default, b.CircuitBreakers);

        Assert.Equal(DiscoveryType.OriginalDst, m.Clusters["passthrough"].Type);
    }

    [Fact]
    public void DefaultsAreEnvoyDefaults()
    {
        BootstrapModel m = Load("""
            static_resources:
              listeners:
              - address: { socket_address: { address: 0.0.0.0, port_value: 80 } }
                filter_chains:
                - filters:
                  - name: envoy.filters.network.http_connection_manager
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                      stat_prefix: s
                      route_config: { virtual_hosts: [{ name: v, domains: ["*"], routes: [{ match: { prefix: / }, route: { cluster: c } }] }] }
                      http_filters: [{ name: envoy.filters.http.router }]
              clusters:
              - name: c
                load_assignment: { endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 1 } } } }] }] }
            """);
        Assert.Null(m.Admin);
        Assert.Equal("static_resources.listeners[0]", m.Listeners[0].Name);
        HttpConnectionManagerModel h = m.Listeners[0].FilterChains[0].Http!;
        Assert.Equal(60 * 1024, h.MaxRequestHeadersBytes);
        Assert.True(h.GenerateRequestId);
        RouteActionModel a = h.RouteConfig.VirtualHosts[0].Routes[0].Action!;
        Assert.Equal(TimeSpan.FromSeconds(15), a.Timeout);
        Assert.False(a.AllowWebSocket); // Envoy refuses upgrades unless upgrade_configs enables them
        Assert.Null(a.RetryPolicy);
        ClusterModel c = m.Clusters["c"];
        Assert.Equal(DiscoveryType.Static, c.Type);
        Assert.Equal(TimeSpan.FromSeconds(5), c.ConnectTimeout);
        Assert.Equal(TimeSpan.FromHours(1), c.UpstreamIdleTimeout);
    }

    [Fact]
    public void LowerCamelCaseJsonGivesTheSameModel()
    {
        string json = """
            {"staticResources": {
              "listeners": [{"name": "l", "address": {"socketAddress": {"address": "127.0.0.1", "portValue": 81}},
                "filterChains": [{"filters": [{"name": "tcp", "typedConfig": {
                  "@type": "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy",
                  "statPrefix": "p", "cluster": "c", "maxConnectAttempts": "2"}}]}]}],
              "clusters": [{"name": "c", "connectTimeout": "1s", "type": "STATIC",
                "loadAssignment": {"endpoints": [{"lbEndpoints": [{"endpoint": {"address": {"socketAddress": {"address": "::1", "portValue": 5}}}}]}]}}]}}
            """;
        ConfigResult<BootstrapModel> r = ConfigLoader.LoadText(json);
        Assert.True(r.IsSuccess, ConfigErrorFormatter.Format(r.Errors));
        TcpProxyModel t = r.Value!.Listeners[0].FilterChains[0].TcpProxy!;
        Assert.Equal(("p", "c", 2), (t.StatPrefix, t.Cluster, t.MaxConnectAttempts));
        Assert.Equal(IPAddress.IPv6Loopback, r.Value.Clusters["c"].Localities[0].Endpoints[0].Address);
        Assert.Contains("\"statPrefix\": \"p\"", r.Value.SourceJson, StringComparison.Ordinal);
    }

    [Fact]
    public void SourceJsonIsTheDocumentAsJson()
    {
        BootstrapModel m = Load(Full);
        ConfigResult<BootstrapModel> again = ConfigLoader.LoadText(m.SourceJson, isJson: true);
        Assert.True(again.IsSuccess, ConfigErrorFormatter.Format(again.Errors));
        Assert.Equal(m.SourceJson, again.Value!.SourceJson);
    }

    [Fact]
    public void EmbeddedDefaultConfigLoads()
    {
        ConfigResult<BootstrapModel> r = ConfigLoader.LoadFile(Path.Combine(RepoPaths.RepoRoot, "src", "Sidecar", "default-config.yaml"));
        Assert.True(r.IsSuccess, ConfigErrorFormatter.Format(r.Errors));
        Assert.Equal(15000, r.Value!.Admin!.Address.Port);
        Assert.Equal("local_upstream", r.Value.Listeners[0].FilterChains[0].Http!.RouteConfig.VirtualHosts[0].Routes[0].Action!.Cluster);
    }
}
