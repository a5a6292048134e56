using Sidecar.Core.Config;
using Sidecar.Core.Config.Model;
using Sidecar.Core.Http;
using Xunit;

namespace Sidecar.Core.Tests.Config;

/// <summary>
/// What istiod routinely sends to a sidecar (docs/CONFIG.md "Istio sidecar configuration"): telemetry filters are
/// accepted and recorded as not enforced; enforcement filters only when they provably do nothing; the rest is
/// refused with a sentence naming what it would have done.
/// </summary>
public sealed class IstioSidecarConfigTests
{
    private const string Chain = "static_resources.listeners[0].filter_chains[0]";
    private const string Hcm = Chain + ".filters[1].typed_config";

    /// <summary>One listener: [network filter before the HCM], HCM with [http filters before the router]; one cluster.</summary>
    private static string Sidecar(string listener = "", string network = "{ name: istio.stats, typed_config: { \"@type\": type.googleapis.com/stats.PluginConfig } }",
        string http = "", string hcm = "", string match = "", string cluster = "") => $$"""
        {
          static_resources: {
            listeners: [{ name: virtualOutbound, address: { socket_address: { address: 0.0.0.0, port_value: 15001 } }{{listener}},
              filter_chains: [{ filter_chain_match: { destination_port: 80{{match}} }, filters: [{{network}}, { name: envoy.filters.network.http_connection_manager, typed_config: {
                "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager,
                stat_prefix: outbound_0.0.0.0_80{{hcm}},
                route_config: { name: "80", virtual_hosts: [{ name: any, domains: ["*"], routes: [{ match: { prefix: / }, route: { cluster: backend } }] }] },
                http_filters: [{{http}}{ name: envoy.filters.http.router, typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router } }] } }] }] }],
            clusters: [{ name: backend, type: STATIC{{cluster}},
              load_assignment: { cluster_name: backend, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 10.0.0.1, port_value: 80 } } } }] }] } }]
          }
        }
        """;

    private static BootstrapModel Accepted(string yaml)
    {
        ConfigResult<BootstrapModel> r = ConfigLoader.LoadText(yaml, isJson: false);
        Assert.True(r.IsSuccess, ConfigErrorFormatter.Format(r.Errors));
        return r.Value!;
    }

    private static void Refused(string yaml, string path, string message)
    {
        ConfigResult<BootstrapModel> r = ConfigLoader.LoadText(yaml, isJson: false);
        Assert.False(r.IsSuccess, "expected the config to be refused");
        Assert.Contains(r.Errors, e => e.Path == path && e.Message.Contains(message, StringComparison.Ordinal));
    }

    [Fact]
    public void TelemetryHttpFiltersAreAcceptedAndRecordedAsNotEnforced()
    {
        BootstrapModel m = Accepted(Sidecar(http: """
            { name: istio.metadata_exchange, typed_config: { "@type": type.googleapis.com/udpa.type.v1.TypedStruct, type_url: type.googleapis.com/io.istio.http.peer_metadata.Config, value: { upstream_discovery: [{ istio_headers: {} }] } } },
            { name: istio.alpn, typed_config: { "@type": type.googleapis.com/istio.envoy.config.filter.http.alpn.v2alpha1.FilterConfig, alpn_override: [{ alpn_override: [istio-peer-exchange, istio] }] } },
            { name: envoy.filters.http.grpc_stats, typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.grpc_stats.v3.FilterConfig, emit_filter_state: true } },
            { name: envoy.filters.http.compressor, typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.compressor.v3.Compressor, response_direction_config: {} } },
            { name: istio.stats, typed_config: { "@type": type.googleapis.com/stats.PluginConfig, disable_host_header_fallback: true } },
            """));
        ListenerModel l = m.Listeners[0];
        Assert.Equal(6, l.NotEnforced.Length); // five HTTP filters and the istio.stats network filter
        Assert.Contains(l.NotEnforced, n => n.StartsWith(Chain + ".filters[0]: stats.PluginConfig: not implemented: telemetry", StringComparison.Ordinal));
        Assert.Contains(l.NotEnforced, n => n.StartsWith(Hcm + ".http_filters[0]: io.istio.http.peer_metadata.Config: not implemented", StringComparison.Ordinal));
        Assert.Contains(l.NotEnforced, n => n.Contains("ALPN override is not applied", StringComparison.Ordinal));
        Assert.Contains(l.NotEnforced, n => n.Contains("responses are sent uncompressed", StringComparison.Ordinal));
        Assert.Contains(l.NotEnforced, n => n.StartsWith(Hcm + ".http_filters[2]: envoy.extensions.filters.http.grpc_stats", StringComparison.Ordinal));
    }

    [Fact]
    public void FaultAndCorsWithoutPoliciesAreAcceptedAsNoOps()
    {
        BootstrapModel m = Accepted(Sidecar(http: """
            { name: envoy.filters.http.fault, typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault } },
            { name: envoy.filters.http.cors, typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors } },
            """));
        Assert.Contains(m.Listeners[0].NotEnforced, n => n == Hcm + ".http_filters[0]: envoy.extensions.filters.http.fault.v3.HTTPFault: no delay or abort configured, nothing to inject");
        Assert.Contains(m.Listeners[0].NotEnforced, n => n.StartsWith(Hcm + ".http_filters[1]: envoy.extensions.filters.http.cors.v3.Cors: no CORS policy", StringComparison.Ordinal));
    }

    [Fact]
    public void FaultWithAnAbortIsRefused() =>
        Refused(Sidecar(http: """{ name: envoy.filters.http.fault, typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault, abort: { http_status: 503, percentage: { numerator: 100 } } } },"""),
            Hcm + ".http_filters[0].typed_config.abort", "fault injection (abort) is not implemented");

    [Fact]
    public void RbacWithShadowRulesOnlyIsAcceptedAndEnforcedRulesAreRefused()
    {
        const string Shadow = """{ name: envoy.filters.http.rbac, typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC, shadow_rules: { action: DENY, policies: { p: { permissions: [{ any: true }], principals: [{ any: true }] } } }, shadow_rules_stat_prefix: istio_ext_authz_ } },""";
        BootstrapModel m = Accepted(Sidecar(http: Shadow));
        Assert.Contains(m.Listeners[0].NotEnforced, n => n.Contains("shadow rules (dry-run statistics only)", StringComparison.Ordinal));
        // Empty ALLOW rules deny everything: refusing is the only honest answer.
        Refused(Sidecar(http: """{ name: envoy.filters.http.rbac, typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC, rules: {} } },"""),
            Hcm + ".http_filters[0].typed_config.rules", "even empty rules deny all");
        Refused(Sidecar(network: """{ name: envoy.filters.network.rbac, typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC, rules: {}, stat_prefix: tcp. } }"""),
            Chain + ".filters[0].typed_config.rules", "allow or deny each connection");
    }

    [Fact]
    public void EnforcementFiltersWeDoNotRunAreRefusedWithWhatTheyWouldDo()
    {
        Refused(Sidecar(http: """{ name: envoy.filters.http.jwt_authn, typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication } },"""),
            Hcm + ".http_filters[0]", "requests with invalid tokens would be rejected");
        Refused(Sidecar(http: """{ name: istio.connect_authority, typed_config: { "@type": type.googleapis.com/udpa.type.v1.TypedStruct, type_url: type.googleapis.com/io.istio.http.connect_authority.Config } },"""),
            Hcm + ".http_filters[0]", "http filter io.istio.http.connect_authority.Config");
        Refused(Sidecar(network: """{ name: envoy.filters.network.set_filter_state, typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.network.set_filter_state.v3.Config } }"""),
            Chain + ".filters[0]", "filter state for upstream selection");
    }

    [Fact]
    public void MetadataExchangeAndIstioAuthnNetworkFiltersAreTelemetry()
    {
        BootstrapModel m = Accepted(Sidecar(network: """
            { name: istio.metadata_exchange, typed_config: { "@type": type.googleapis.com/envoy.tcp.metadataexchange.config.MetadataExchange, protocol: istio-peer-exchange } },
            { name: istio_authn, typed_config: { "@type": type.googleapis.com/udpa.type.v1.TypedStruct, type_url: type.googleapis.com/io.istio.network.authn.Config } }
            """));
        Assert.Equal(2, m.Listeners[0].NotEnforced.Length);
        Assert.Contains(m.Listeners[0].NotEnforced, n => n.StartsWith(Chain + ".filters[1]: io.istio.network.authn.Config: not implemented", StringComparison.Ordinal));
    }

    [Fact]
    public void IstioListenerFieldsReachTheModel()
    {
        ListenerModel l = Accepted(Sidecar(listener: ", traffic_direction: OUTBOUND, bind_to_port: false, continue_on_listener_filters_timeout: true, metadata: { filter_metadata: { istio: { config: x } } }")).Listeners[0];
        Assert.False(l.BindToPort);
        Assert.Equal(TrafficDirection.Outbound, l.TrafficDirection);
        Assert.True(l.ContinueOnListenerFiltersTimeout);
        ListenerModel d = Accepted(Sidecar(listener: ", traffic_direction: INBOUND")).Listeners[0];
        Assert.True(d.BindToPort);
        Assert.Equal(TrafficDirection.Inbound, d.TrafficDirection);
        Assert.False(d.ContinueOnListenerFiltersTimeout);
    }

    [Fact]
    public void OnlyCatchAllDestinationPrefixRangesAreAccepted()
    {
        Accepted(Sidecar(match: ", prefix_ranges: [{ address_prefix: 0.0.0.0, prefix_len: 0 }, { address_prefix: \"::\", prefix_len: 0 }]"));
        Refused(Sidecar(match: ", prefix_ranges: [{ address_prefix: 10.0.0.0, prefix_len: 8 }]"),
            Chain + ".filter_chain_match.prefix_ranges[0]", "10.0.0.0/8: matching chains on destination address ranges is not implemented");
        Refused(Sidecar(match: ", prefix_ranges: [{ address_prefix: tenten, prefix_len: 0 }]"),
            Chain + ".filter_chain_match.prefix_ranges[0]", "is not an IP address");
    }

    [Fact]
    public void IstioClusterFieldsAreAcceptedAndHighPriorityThresholdsKept()
    {
        ClusterModel c = Accepted(Sidecar(cluster: """
            , alt_stat_name: "outbound_.80_._.backend", metadata: { filter_metadata: { istio: { services: [] } } }, common_lb_config: {},
            circuit_breakers: { thresholds: [{ max_connections: 4294967295, max_pending_requests: 4294967295, max_requests: 4294967295, max_retries: 4294967295 },
                                              { priority: HIGH, max_connections: 1024, max_pending_requests: 1024, max_requests: 1024, max_retries: 3 }] }
            """)).Clusters["backend"];
        Assert.Equal(int.MaxValue, c.CircuitBreakers.MaxConnections);
        Assert.Equal(int.MaxValue, c.CircuitBreakers.MaxRetries);
        Assert.Equal(1024, c.HighPriorityCircuitBreakers.MaxConnections);
        Assert.Equal(3, c.HighPriorityCircuitBreakers.MaxRetries);
        Refused(Sidecar(cluster: ", common_lb_config: { healthy_panic_threshold: { value: 50 } }"), "static_resources.clusters[0].common_lb_config.healthy_panic_threshold", "unsupported field");
    }

    [Fact]
    public void IstioConnectionManagerFieldsAreAcceptedWhereWeBehaveAsAsked()
    {
        BootstrapModel m = Accepted(Sidecar(hcm: """
            , path_with_escaped_slashes_action: KEEP_UNCHANGED, normalize_path: false, merge_slashes: false,
            request_id_extension: { typed_config: { "@type": type.googleapis.com/envoy.extensions.request_id.uuid.v3.UuidRequestIdConfig, use_request_id_for_trace_sampling: true } },
            tracing: { client_sampling: { value: 100 }, random_sampling: { value: 1 } }
            """));
        Assert.Contains(m.Listeners[0].NotEnforced, n => n.StartsWith(Hcm + ": tracing: not implemented", StringComparison.Ordinal));
        Assert.Equal(PathNormalization.None, m.Listeners[0].FilterChains[0].Http!.PathNormalization);
        Assert.Equal(ForwardClientCert.Sanitize, m.Listeners[0].FilterChains[0].Http!.ForwardClientCert);
        // Istio's pathNormalization DECODE_AND_MERGE_SLASHES and inbound XFCC settings.
        HttpConnectionManagerModel hcm = Accepted(Sidecar(hcm: """
            , normalize_path: true, merge_slashes: true, path_with_escaped_slashes_action: UNESCAPE_AND_FORWARD,
            forward_client_cert_details: APPEND_FORWARD, set_current_client_cert_details: { subject: true, dns: true, uri: true }
            """)).Listeners[0].FilterChains[0].Http!;
        Assert.Equal(new PathNormalization(true, true, EscapedSlashesAction.UnescapeAndForward), hcm.PathNormalization);
        Assert.Equal(ForwardClientCert.AppendForward, hcm.ForwardClientCert);
        Assert.Equal(ClientCertDetails.Subject | ClientCertDetails.Dns | ClientCertDetails.Uri, hcm.ClientCertDetails);
        Refused(Sidecar(hcm: ", set_current_client_cert_details: { uri: true, cert: true }"), Hcm + ".set_current_client_cert_details", "PEM");
        Refused(Sidecar(hcm: ", path_with_escaped_slashes_action: SOMETIMES"), Hcm + ".path_with_escaped_slashes_action", "SOMETIMES");
        Refused(Sidecar(hcm: ", request_id_extension: { typed_config: { \"@type\": type.googleapis.com/example.OtherId } }"),
            Hcm + ".request_id_extension.typed_config.@type", "only the UUID request id");
    }

    [Fact]
    public void AutoMtlsTransportSocketMatchesAndEndpointMetadataReachTheModel()
    {
        const string Matches = """
            , transport_socket_matches: [
                { name: tlsMode-istio, match: { tlsMode: istio }, transport_socket: { name: envoy.transport_sockets.tls, typed_config: {
                    "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext, sni: outbound_.80_._.backend.default.svc.cluster.local } } },
                { name: tlsMode-disabled, match: {}, transport_socket: { name: envoy.transport_sockets.raw_buffer, typed_config: {
                    "@type": type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer } } }]
            """;
        string yaml = Sidecar(cluster: Matches).Replace(
            "port_value: 80 } } } }] }] } }]",
            "port_value: 80 } } }, metadata: { filter_metadata: { envoy.transport_socket_match: { tlsMode: istio }, istio: { workload: backend } } } }] }] } }]",
            StringComparison.Ordinal);
        ClusterModel c = Accepted(yaml).Clusters["backend"];
        Assert.Equal(2, c.TransportSocketMatches.Length);
        Assert.Equal("tlsMode-istio", c.TransportSocketMatches[0].Name);
        Assert.Equal("istio", c.TransportSocketMatches[0].Match["tlsMode"]);
        Assert.Equal("outbound_.80_._.backend.default.svc.cluster.local", c.TransportSocketMatches[0].Tls!.Options.ServerName);
        Assert.Empty(c.TransportSocketMatches[1].Match);
        Assert.Null(c.TransportSocketMatches[1].Tls);
        EndpointModel e = c.Localities[0].Endpoints[0];
        Assert.Equal("istio", e.TransportSocketMatch["tlsMode"]);
        Assert.Single(e.TransportSocketMatch);
        Refused(Sidecar(cluster: ", transport_socket_matches: [{ name: m, match: { tlsMode: 1 } }]"),
            "static_resources.clusters[0].transport_socket_matches[0].match.tlsMode", "other than strings");
    }

    [Fact]
    public void OutlierDetectionIsAcceptedIntoTheModelAndRecordedAsNotEnforced()
    {
        ClusterModel c = Accepted(Sidecar(cluster: ", outlier_detection: { consecutive_5xx: 7, interval: 5s, base_ejection_time: 60s, max_ejection_percent: 50 }")).Clusters["backend"];
        Assert.Equal(7, c.OutlierDetection!.Consecutive5xx);
        Assert.Equal(TimeSpan.FromSeconds(5), c.OutlierDetection.Interval);
        Assert.Equal(TimeSpan.FromSeconds(60), c.OutlierDetection.BaseEjectionTime);
        Assert.Equal(50, c.OutlierDetection.MaxEjectionPercent);
        Assert.Equal(5, c.OutlierDetection.ConsecutiveGatewayFailure);
        Assert.Equal("static_resources.clusters[0].outlier_detection: outlier_detection: not enforced yet (no host is ejected)", Assert.Single(c.NotEnforced));
        Assert.Null(Accepted(Sidecar()).Clusters["backend"].OutlierDetection);
    }

    [Fact]
    public void BootstrapClusterAndListenerFieldsIstioAgentWrites()
    {
        BootstrapModel m = Accepted(Sidecar(listener: ", bypass_overload_manager: true, ignore_global_conn_limit: true", cluster: ", max_requests_per_connection: 1"));
        Assert.Equal(1, m.Clusters["backend"].MaxRequestsPerConnection);
        Refused(Sidecar(cluster: ", respect_dns_ttl: true"), "static_resources.clusters[0].respect_dns_ttl", "TTL is not implemented");
        Refused(Sidecar(cluster: ", upstream_connection_options: { tcp_keepalive: { keepalive_time: 300 } }"), "static_resources.clusters[0].upstream_connection_options", "TCP keepalive");
    }

    [Fact]
    public void RouteTracingDecorationIsAcceptedAndStreamDurationOnlyWhenDisabled()
    {
        string Route(string extra) => Sidecar().Replace("route: { cluster: backend }", "route: { cluster: backend" + extra + " }", StringComparison.Ordinal);
        const string R = Hcm + ".route_config.virtual_hosts[0].routes[0]";
        Accepted(Sidecar().Replace("route: { cluster: backend }", "route: { cluster: backend }, decorator: { operation: \"backend:80/*\" }, metadata: { filter_metadata: { istio: { config: x } } }", StringComparison.Ordinal));
        Accepted(Route(", max_stream_duration: { max_stream_duration: 0s }"));
        Refused(Route(", max_stream_duration: { max_stream_duration: 30s }"), R + ".route.max_stream_duration", "total duration is not implemented");
        RouteActionModel Action(BootstrapModel m) => m.Listeners[0].FilterChains[0].Http!.RouteConfig.VirtualHosts[0].Routes[0].Action!;
        Assert.Equal(new GrpcTimeoutRule(GrpcTimeoutKind.StreamDuration, TimeSpan.Zero, TimeSpan.FromMilliseconds(50)),
            Action(Accepted(Route(", max_stream_duration: { max_stream_duration: 0s, grpc_timeout_header_max: 0s, grpc_timeout_header_offset: 0.05s }"))).GrpcTimeout);
        Assert.Equal(new GrpcTimeoutRule(GrpcTimeoutKind.RouteTimeout, TimeSpan.FromSeconds(2), TimeSpan.FromMilliseconds(100)),
            Action(Accepted(Route(", max_grpc_timeout: 2s, grpc_timeout_offset: 0.1s"))).GrpcTimeout);
        // Envoy ignores the older pair once max_stream_duration is set.
        Assert.Equal(GrpcTimeoutKind.StreamDuration, Action(Accepted(Route(", max_grpc_timeout: 0s, max_stream_duration: { grpc_timeout_header_max: 1s }"))).GrpcTimeout.Kind);
        Assert.Equal(GrpcTimeoutRule.None, Action(Accepted(Route(", max_stream_duration: { max_stream_duration: 0s }"))).GrpcTimeout);
    }

    [Fact]
    public void DefaultChainAcceptsOnlyAnEmptyMatch()
    {
        const string Default = """
            , default_filter_chain: { filter_chain_match: {MATCH}, filters: [{ name: envoy.filters.network.tcp_proxy, typed_config: {
                "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: PassthroughCluster, cluster: backend } }] }
            """;
        Assert.NotNull(Accepted(Sidecar(listener: Default.Replace("{MATCH}", "{}", StringComparison.Ordinal))).Listeners[0].DefaultFilterChain);
        Refused(Sidecar(listener: Default.Replace("{MATCH}", "{ destination_port: 80 }", StringComparison.Ordinal)),
            "static_resources.listeners[0].default_filter_chain.filter_chain_match", "takes no filter_chain_match conditions");
    }
}
