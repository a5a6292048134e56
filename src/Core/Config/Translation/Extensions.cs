using Sidecar.Core.Config.Tree;

namespace Sidecar.Core.Config.Translation;

/// <summary>An Envoy extension we implement: its well-known name and its typed_config message type.</summary>
internal sealed record Extension(string Name, string TypeName)
{
    public static readonly Extension TlsInspector = new("envoy.filters.listener.tls_inspector", "envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector");
    public static readonly Extension HttpInspector = new("envoy.filters.listener.http_inspector", "envoy.extensions.filters.listener.http_inspector.v3.HttpInspector");
    public static readonly Extension OriginalDst = new("envoy.filters.listener.original_dst", "envoy.extensions.filters.listener.original_dst.v3.OriginalDst");
    public static readonly Extension TcpProxy = new("envoy.filters.network.tcp_proxy", "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy");
    public static readonly Extension HttpConnectionManager = new("envoy.filters.network.http_connection_manager", "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager");
    public static readonly Extension Router = new("envoy.filters.http.router", "envoy.extensions.filters.http.router.v3.Router");
    public static readonly Extension Buffer = new("envoy.filters.http.buffer", "envoy.extensions.filters.http.buffer.v3.Buffer");
    public static readonly Extension GrpcStats = new("envoy.filters.http.grpc_stats", "envoy.extensions.filters.http.grpc_stats.v3.FilterConfig");
    public static readonly Extension Compressor = new("envoy.filters.http.compressor", "envoy.extensions.filters.http.compressor.v3.Compressor");
    public static readonly Extension Cors = new("envoy.filters.http.cors", "envoy.extensions.filters.http.cors.v3.Cors");
    public static readonly Extension Fault = new("envoy.filters.http.fault", "envoy.extensions.filters.http.fault.v3.HTTPFault");
    public static readonly Extension HttpRbac = new("envoy.filters.http.rbac", "envoy.extensions.filters.http.rbac.v3.RBAC");
    public static readonly Extension NetworkRbac = new("envoy.filters.network.rbac", "envoy.extensions.filters.network.rbac.v3.RBAC");
    public static readonly Extension UuidRequestId = new("envoy.request_id.uuid", "envoy.extensions.request_id.uuid.v3.UuidRequestIdConfig");
    public static readonly Extension DownstreamTls = new("envoy.transport_sockets.tls", "envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext");
    public static readonly Extension UpstreamTls = new("envoy.transport_sockets.tls", "envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext");
    public static readonly Extension RawBuffer = new("envoy.transport_sockets.raw_buffer", "envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer");
    public static readonly Extension HttpProtocolOptions = new("envoy.extensions.upstreams.http.v3.HttpProtocolOptions", "envoy.extensions.upstreams.http.v3.HttpProtocolOptions");

    public bool Matches(string id) => id == Name || id == TypeName;
}

/// <summary>One "name + typed_config" entry (filter, listener filter, Any), with its typed_config opened.</summary>
internal sealed class ExtensionEntry
{
    private ExtensionEntry(string id, FieldReader? config, ConfigNode idNode)
    {
        Id = id;
        Config = config;
        IdNode = idNode;
    }

    /// <summary>The typed_config message type when given (Envoy selects the extension by type), else the name.</summary>
    public string Id { get; }

    /// <summary>Reader over typed_config with "@type" already consumed; null when typed_config is absent.</summary>
    public FieldReader? Config { get; }

    /// <summary>The node to blame when the extension itself is unsupported: the whole entry (e.g. <c>http_filters[0]</c>).</summary>
    public ConfigNode IdNode { get; }

    public static ExtensionEntry? Read(FieldReader entry)
    {
        TranslationContext ctx = entry.Context;
        ConfigNode? nameNode = entry.Take("name");
        string? name = nameNode is null ? null : ctx.String(nameNode);
        entry.Unsupported("config_discovery", "extension config discovery (ECDS)");
        entry.Unsupported("disabled", "disabled filters");
        entry.Unsupported("is_optional", "optional filters");
        FieldReader? config = entry.Message("typed_config");
        entry.Finish();
        if (config is { IsValid: true } && config.Take("@type") is ConfigNode typeNode && ctx.String(typeNode) is string typeUrl)
        {
            // "type.googleapis.com/pkg.Message": the part after the last '/' names the message.
            return new ExtensionEntry(typeUrl[(typeUrl.LastIndexOf('/') + 1)..], config, entry.Node);
        }
        if (config is { IsValid: true })
        {
            ctx.Error(config.Node, "typed_config needs an \"@type\"");
            return null;
        }
        if (name is null)
        {
            if (nameNode is null)
            {
                ctx.Error(entry.Node, "needs a name or a typed_config");
            }
            return null;
        }
        return new ExtensionEntry(name, null, entry.Node);
    }

    /// <summary>For extensions with no options: any typed_config field besides "@type" is unsupported.</summary>
    public void FinishEmpty() => Config?.Finish();
}
