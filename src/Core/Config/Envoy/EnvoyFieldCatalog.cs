using System.Collections.Frozen;
using System.Collections.Immutable;

namespace Sidecar.Core.Config.Envoy;

/// <summary>
/// Every Envoy v3 message, field, enum value and typed_config type URL that the static-config translators
/// (src/Core/Config/Translation) accept, with upstream's field numbers and types. The xDS client decodes the
/// same messages from protobuf, so names and numbers must be exactly upstream's: EnvoyCatalogTests checks
/// each entry against Envoy's own .proto files and checks that the translators and this table name the same
/// fields. Plain data, no reflection (native AOT).
/// </summary>
public static partial class EnvoyFieldCatalog
{
    /// <summary>Prefix of every type URL in an <c>Any</c>.</summary>
    public const string TypeUrlPrefix = "type.googleapis.com/";

    // Shorthands for the types that repeat on every other line; spelled exactly as upstream resolves them.
    private const string Str = "string";
    private const string U32 = "uint32";
    private const string Bool = "bool";
    private const string Bytes = "bytes";
    private const string U32V = "google.protobuf.UInt32Value";
    private const string BoolV = "google.protobuf.BoolValue";
    private const string Dur = "google.protobuf.Duration";
    private const string AnyMap = "map<string, google.protobuf.Any>";
    private const string Core = "envoy.config.core.v3.";
    private const string Route = "envoy.config.route.v3.";
    private const string Matcher = "envoy.type.matcher.v3.";
    private const string AccessLogs = "repeated envoy.config.accesslog.v3.AccessLog";

    /// <summary>Every message we read, Bootstrap first.</summary>
    public static readonly ImmutableArray<EnvoyMessage> Messages =
        [.. BootstrapAndListenerMessages(), .. HttpMessages(), .. RouteMessages(), .. ClusterMessages(), .. TlsMessages()];

    /// <summary>Every enum we read, with the values we accept.</summary>
    public static readonly ImmutableArray<EnvoyEnum> Enums = AcceptedEnums();

    /// <summary>The typed_config / typed_extension_protocol_options types we accept (see Translation/Extensions.cs).</summary>
    public static readonly ImmutableArray<string> TypeUrls =
    [
        TypeUrlPrefix + "envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector",
        TypeUrlPrefix + "envoy.extensions.filters.listener.http_inspector.v3.HttpInspector",
        TypeUrlPrefix + "envoy.extensions.filters.listener.original_dst.v3.OriginalDst",
        TypeUrlPrefix + "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy",
        TypeUrlPrefix + "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
        TypeUrlPrefix + "envoy.extensions.filters.http.router.v3.Router",
        TypeUrlPrefix + "envoy.extensions.filters.http.buffer.v3.Buffer",
        TypeUrlPrefix + "envoy.extensions.filters.http.grpc_stats.v3.FilterConfig",
        TypeUrlPrefix + "envoy.extensions.filters.http.compressor.v3.Compressor",
        TypeUrlPrefix + "envoy.extensions.filters.http.cors.v3.Cors",
        TypeUrlPrefix + "envoy.extensions.filters.http.fault.v3.HTTPFault",
        TypeUrlPrefix + "envoy.extensions.filters.http.rbac.v3.RBAC",
        TypeUrlPrefix + "envoy.extensions.filters.network.rbac.v3.RBAC",
        TypeUrlPrefix + "envoy.extensions.request_id.uuid.v3.UuidRequestIdConfig",
        TypeUrlPrefix + "envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
        TypeUrlPrefix + "envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext",
        TypeUrlPrefix + "envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
        TypeUrlPrefix + "envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer",
    ];

    private static readonly FrozenDictionary<string, EnvoyMessage> ByName =
        Messages.ToFrozenDictionary(m => m.FullName, StringComparer.Ordinal);

    private static readonly FrozenSet<string> TypeUrlSet = TypeUrls.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>The catalog entry for a fully qualified message name, or null when we do not read that message.</summary>
    public static EnvoyMessage? FindMessage(string fullName) => ByName.GetValueOrDefault(fullName);

    /// <summary>Whether an <c>Any</c> with this type URL is one we can translate.</summary>
    public static bool IsAcceptedTypeUrl(string typeUrl) => TypeUrlSet.Contains(typeUrl);

    private static EnvoyMessage M(string fullName, params EnvoyField[] fields) => new(fullName, [.. fields]);

    private static EnvoyField F(string name, int number, string type) => new(name, number, type, EnvoyFieldUse.Read);

    private static EnvoyField Ignored(string name, int number, string type) => new(name, number, type, EnvoyFieldUse.Ignored);

    private static EnvoyField Refused(string name, int number, string type) => new(name, number, type, EnvoyFieldUse.Refused);

    private static EnvoyEnum E(string fullName, params (string Name, int Number)[] values) =>
        new(fullName, [.. values.Select(v => new EnvoyEnumValue(v.Name, v.Number))]);

    private static ImmutableArray<EnvoyEnum> AcceptedEnums() =>
    [
        E("envoy.config.cluster.v3.Cluster.DiscoveryType", ("STATIC", 0), ("STRICT_DNS", 1), ("LOGICAL_DNS", 2), ("ORIGINAL_DST", 4)),
        E("envoy.config.cluster.v3.Cluster.LbPolicy", ("ROUND_ROBIN", 0), ("LEAST_REQUEST", 1), ("RANDOM", 3), ("CLUSTER_PROVIDED", 6)),
        E("envoy.config.cluster.v3.Cluster.DnsLookupFamily", ("AUTO", 0), ("V4_ONLY", 1), ("V6_ONLY", 2), ("V4_PREFERRED", 3), ("ALL", 4)),
        E(Core + "SocketAddress.Protocol", ("TCP", 0)),
        E(Core + "RoutingPriority", ("DEFAULT", 0), ("HIGH", 1)),
        E(Core + "TrafficDirection", ("UNSPECIFIED", 0), ("INBOUND", 1), ("OUTBOUND", 2)),
        E(HcmPackage + "HttpConnectionManager.PathWithEscapedSlashesAction", ("IMPLEMENTATION_SPECIFIC_DEFAULT", 0), ("KEEP_UNCHANGED", 1),
            ("REJECT_REQUEST", 2), ("UNESCAPE_AND_REDIRECT", 3), ("UNESCAPE_AND_FORWARD", 4)),
        E(HcmPackage + "HttpConnectionManager.ForwardClientCertDetails",
            ("SANITIZE", 0), ("FORWARD_ONLY", 1), ("APPEND_FORWARD", 2), ("SANITIZE_SET", 3), ("ALWAYS_FORWARD_ONLY", 4)),
        E("envoy.extensions.transport_sockets.tls.v3.TlsParameters.TlsProtocol", ("TLS_AUTO", 0), ("TLSv1_2", 3), ("TLSv1_3", 4)),
        E("envoy.extensions.transport_sockets.tls.v3.SubjectAltNameMatcher.SanType", ("DNS", 2), ("URI", 3)),
        E(Core + "HeaderValueOption.HeaderAppendAction", ("APPEND_IF_EXISTS_OR_ADD", 0), ("ADD_IF_ABSENT", 1), ("OVERWRITE_IF_EXISTS_OR_ADD", 2)),
        E(Route + "RedirectAction.RedirectResponseCode",
            ("MOVED_PERMANENTLY", 0), ("FOUND", 1), ("SEE_OTHER", 2), ("TEMPORARY_REDIRECT", 3), ("PERMANENT_REDIRECT", 4)),
        E(Hcm + ".CodecType", ("AUTO", 0), ("HTTP1", 1), ("HTTP2", 2)),
    ];
}
