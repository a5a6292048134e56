namespace Sidecar.Core.Config.Envoy;

/// <summary>The HTTP connection manager and its http filters (HttpConnectionManagerTranslator).</summary>
public static partial class EnvoyFieldCatalog
{
    private const string Hcm = "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";
    private const string HcmPackage = "envoy.extensions.filters.network.http_connection_manager.v3.";

    private static EnvoyMessage[] HttpMessages() =>
    [
        M(Hcm,
            F("codec_type", 1, Hcm + ".CodecType"),
            F("stat_prefix", 2, Str),
            Refused("rds", 3, HcmPackage + "Rds"),
            F("route_config", 4, Route + "RouteConfiguration"),
            F("http_filters", 5, "repeated " + HcmPackage + "HttpFilter"),
            Ignored("tracing", 7, Hcm + ".Tracing"),
            F("http2_protocol_options", 9, Core + "Http2ProtocolOptions"),
            F("server_name", 10, Str),
            F("drain_timeout", 12, Dur),
            Ignored("access_log", 13, AccessLogs),
            F("use_remote_address", 14, BoolV),
            F("generate_request_id", 15, BoolV),
            F("forward_client_cert_details", 16, Hcm + ".ForwardClientCertDetails"),
            F("set_current_client_cert_details", 17, Hcm + ".SetCurrentClientCertDetails"),
            F("upgrade_configs", 23, "repeated " + Hcm + ".UpgradeConfig"),
            F("stream_idle_timeout", 24, Dur),
            F("request_timeout", 28, Dur),
            F("max_request_headers_kb", 29, U32V),
            F("normalize_path", 30, BoolV),
            Refused("scoped_routes", 31, HcmPackage + "ScopedRoutes"),
            F("merge_slashes", 33, Bool),
            F("common_http_protocol_options", 35, Core + "HttpProtocolOptions"),
            F("request_id_extension", 36, HcmPackage + "RequestIDExtension"),
            F("request_headers_timeout", 41, Dur),
            F("path_with_escaped_slashes_action", 45, Hcm + ".PathWithEscapedSlashesAction")),
        // x-forwarded-client-cert details (ClientCertHeader): cert / chain (the PEM itself) are refused when true.
        M(Hcm + ".SetCurrentClientCertDetails",
            F("subject", 1, BoolV),
            F("cert", 3, Bool),
            F("dns", 4, Bool),
            F("uri", 5, Bool),
            F("chain", 6, Bool)),
        M(HcmPackage + "RequestIDExtension",
            F("typed_config", 1, "google.protobuf.Any")),
        // Trace-sampling options only: the x-request-id we generate is a random UUID either way.
        M("envoy.extensions.request_id.uuid.v3.UuidRequestIdConfig",
            Ignored("pack_trace_reason", 1, BoolV),
            Ignored("use_request_id_for_trace_sampling", 2, BoolV)),
        M(Hcm + ".UpgradeConfig",
            F("upgrade_type", 1, Str),
            Refused("filters", 2, "repeated " + HcmPackage + "HttpFilter"),
            F("enabled", 3, BoolV)),
        M(HcmPackage + "HttpFilter",
            F("name", 1, Str),
            F("typed_config", 4, "google.protobuf.Any"),
            Refused("config_discovery", 5, Core + "ExtensionConfigSource"),
            Refused("is_optional", 6, Bool),
            Refused("disabled", 7, Bool)),
        // Downstream (connection manager) and upstream (cluster) HTTP/2 settings.
        M(Core + "Http2ProtocolOptions",
            F("hpack_table_size", 1, U32V),
            F("max_concurrent_streams", 2, U32V),
            F("initial_stream_window_size", 3, U32V),
            F("initial_connection_window_size", 4, U32V),
            F("allow_connect", 5, Bool),
            F("max_outbound_control_frames", 8, U32V),
            F("max_consecutive_inbound_frames_with_empty_payload", 9, U32V),
            F("max_inbound_priority_frames_per_stream", 10, U32V)),
        // Shared by the connection manager and upstream HttpProtocolOptions.
        M(Core + "HttpProtocolOptions",
            F("idle_timeout", 1, Dur),
            F("max_headers_count", 2, U32V),
            F("max_requests_per_connection", 6, U32V)),
        M("envoy.extensions.filters.http.router.v3.Router"),
        M("envoy.extensions.filters.http.buffer.v3.Buffer",
            F("max_request_bytes", 1, U32V)),
        // PassiveFilterTranslator: telemetry filters (options not read, recorded as not enforced) and enforcement
        // filters accepted only when they provably do nothing (no fault, no CORS policy, no enforced RBAC rules).
        M("envoy.extensions.filters.http.grpc_stats.v3.FilterConfig"),
        M("envoy.extensions.filters.http.compressor.v3.Compressor"),
        M("envoy.extensions.filters.http.cors.v3.Cors"),
        M("envoy.extensions.filters.http.fault.v3.HTTPFault",
            Refused("delay", 1, "envoy.extensions.filters.common.fault.v3.FaultDelay"),
            Refused("abort", 2, "envoy.extensions.filters.http.fault.v3.FaultAbort")),
        M("envoy.extensions.filters.http.rbac.v3.RBAC",
            Refused("rules", 1, "envoy.config.rbac.v3.RBAC"),
            Ignored("shadow_rules", 2, "envoy.config.rbac.v3.RBAC"),
            Ignored("shadow_rules_stat_prefix", 3, Str),
            Refused("matcher", 4, "xds.type.matcher.v3.Matcher"),
            Ignored("shadow_matcher", 5, "xds.type.matcher.v3.Matcher"),
            Ignored("rules_stat_prefix", 6, Str)),
    ];
}
