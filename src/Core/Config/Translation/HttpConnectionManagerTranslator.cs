using Sidecar.Core.Config.Model;
using Sidecar.Core.Config.Tree;
using Sidecar.Core.Http;

namespace Sidecar.Core.Config.Translation;

/// <summary>Envoy <c>envoy.filters.network.http_connection_manager</c> to <see cref="HttpConnectionManagerModel"/>.</summary>
internal static class HttpConnectionManagerTranslator
{
    public static HttpConnectionManagerModel? Translate(FieldReader h)
    {
        TranslationContext ctx = h.Context;
        string? statPrefix = h.String("stat_prefix");
        if (statPrefix is null)
        {
            ctx.Error(h.Node, "stat_prefix is required");
        }
        CodecType codec = h.Enum("codec_type", "AUTO", "HTTP1", "HTTP2") switch
        {
            "HTTP1" => CodecType.Http1,
            "HTTP2" => CodecType.Http2,
            _ => CodecType.Auto,
        };
        // Envoy default: upgrades are refused unless the connection manager lists them; routes may override.
        UpgradeSettings upgrades = ReadUpgradeConfigs(ctx, h.Take("upgrade_configs"), allowFilters: true);
        var webSocket = new UpgradeSettings(upgrades.WebSocket ?? false, upgrades.Connect ?? false, upgrades.TerminateConnect);
        RouteConfigModel? routes = null;
        if (h.Take("route_config") is { } rc)
        {
            routes = RouteConfigTranslator.Translate(ctx, rc, webSocket);
        }
        else
        {
            h.Unsupported("rds", "rds (dynamic route discovery)");
            h.Unsupported("scoped_routes", "scoped_routes");
            ctx.Error(h.Node, "route_config is required");
        }
        long maxBody = ReadHttpFilters(ctx, h.Take("http_filters"), h.Node);
        TimeSpan idle = TimeSpan.FromHours(1);
        int maxHeaders = 100;
        if (h.Message("common_http_protocol_options") is FieldReader cp)
        {
            idle = cp.Duration("idle_timeout") ?? idle;
            maxHeaders = (int)(cp.Integer("max_headers_count", 1, int.MaxValue) ?? maxHeaders);
            cp.Finish();
        }
        // Envoy caps max_request_headers_kb at 8192.
        int maxHeadBytes = (int)(h.Integer("max_request_headers_kb", 1, 8192) ?? 60) * 1024;
        PathNormalization paths = ReadPathNormalization(h);
        (ForwardClientCert xfcc, ClientCertDetails xfccDetails) = ReadClientCertOptions(h);
        HttpConnectionManagerModel? model = statPrefix is null || routes is null ? null : new HttpConnectionManagerModel
        {
            StatPrefix = statPrefix,
            CodecType = codec,
            RouteConfig = routes,
            MaxRequestHeadersBytes = maxHeadBytes,
            MaxHeadersCount = maxHeaders,
            IdleTimeout = idle,
            StreamIdleTimeout = h.Duration("stream_idle_timeout") ?? TimeSpan.FromMinutes(5),
            RequestTimeout = h.Duration("request_timeout") ?? TimeSpan.Zero,
            RequestHeadersTimeout = h.Duration("request_headers_timeout") ?? TimeSpan.Zero,
            DrainTimeout = h.Duration("drain_timeout") ?? TimeSpan.FromSeconds(5),
            UseRemoteAddress = h.Bool("use_remote_address") ?? false,
            GenerateRequestId = h.Bool("generate_request_id") ?? true,
            ServerName = h.String("server_name") ?? "envoy",
            MaxRequestBodyBytes = maxBody,
            Http2 = h.Message("http2_protocol_options") is FieldReader h2 ? Http2OptionsTranslator.Read(h2) : Http2ProtocolOptionsModel.Default,
            PathNormalization = paths,
            ForwardClientCert = xfcc,
            ClientCertDetails = xfccDetails,
        };
        // Access logging is our telemetry's job; Envoy access_log settings are accepted and not acted on (docs/CONFIG.md).
        h.Ignore("access_log");
        ReadIstioDefaults(h);
        h.Finish();
        return model;
    }

    /// <summary>
    /// Fields istiod sets on every connection manager: accepted when we behave as they ask, refused (with what they
    /// would change) when we do not.
    /// </summary>
    private static void ReadIstioDefaults(FieldReader h)
    {
        TranslationContext ctx = h.Context;
        if (h.Has("tracing"))
        {
            ctx.NotEnforced(h.Node, "tracing: not implemented: telemetry (no spans are emitted; trace headers pass through unchanged)");
        }
        h.Ignore("tracing");
        if (h.Message("request_id_extension") is FieldReader rid)
        {
            if (rid.Message("typed_config") is FieldReader tc && tc.Take("@type") is ConfigNode typeNode && ctx.String(typeNode) is string type)
            {
                if (Extension.UuidRequestId.Matches(type[(type.LastIndexOf('/') + 1)..]))
                {
                    // Both options concern trace sampling only; the x-request-id we generate is a random UUID either way.
                    tc.Ignore("pack_trace_reason");
                    tc.Ignore("use_request_id_for_trace_sampling");
                    tc.Finish();
                }
                else
                {
                    ctx.Unsupported(typeNode, $"request_id_extension {type} (only the UUID request id)");
                }
            }
            rid.Finish();
        }
    }

    /// <summary>
    /// normalize_path, merge_slashes and path_with_escaped_slashes_action (Istio's meshConfig pathNormalization:
    /// BASE = normalize_path, MERGE_SLASHES adds merge_slashes, DECODE_AND_MERGE_SLASHES adds UNESCAPE_AND_FORWARD).
    /// IMPLEMENTATION_SPECIFIC_DEFAULT is KEEP_UNCHANGED in Envoy.
    /// </summary>
    private static PathNormalization ReadPathNormalization(FieldReader h)
    {
        EscapedSlashesAction escaped = h.Enum("path_with_escaped_slashes_action",
            "IMPLEMENTATION_SPECIFIC_DEFAULT", "KEEP_UNCHANGED", "REJECT_REQUEST", "UNESCAPE_AND_REDIRECT", "UNESCAPE_AND_FORWARD") switch
        {
            "REJECT_REQUEST" => EscapedSlashesAction.RejectRequest,
            "UNESCAPE_AND_REDIRECT" => EscapedSlashesAction.UnescapeAndRedirect,
            "UNESCAPE_AND_FORWARD" => EscapedSlashesAction.UnescapeAndForward,
            _ => EscapedSlashesAction.KeepUnchanged,
        };
        return new PathNormalization(h.Bool("normalize_path") ?? false, h.Bool("merge_slashes") ?? false, escaped);
    }

    /// <summary>
    /// forward_client_cert_details (default SANITIZE: an x-forwarded-client-cert from the client is never forwarded) and
    /// set_current_client_cert_details. Our element always carries By (our URI SANs) and Hash (SHA-256 of the peer
    /// certificate); cert and chain (the PEM itself) are refused by the field catalog.
    /// </summary>
    private static (ForwardClientCert Mode, ClientCertDetails Details) ReadClientCertOptions(FieldReader h)
    {
        ForwardClientCert mode = h.Enum("forward_client_cert_details",
            "SANITIZE", "FORWARD_ONLY", "APPEND_FORWARD", "SANITIZE_SET", "ALWAYS_FORWARD_ONLY") switch
        {
            "FORWARD_ONLY" => ForwardClientCert.ForwardOnly,
            "APPEND_FORWARD" => ForwardClientCert.AppendForward,
            "SANITIZE_SET" => ForwardClientCert.SanitizeSet,
            "ALWAYS_FORWARD_ONLY" => ForwardClientCert.AlwaysForwardOnly,
            _ => ForwardClientCert.Sanitize,
        };
        ClientCertDetails details = ClientCertDetails.None;
        if (h.Message("set_current_client_cert_details") is FieldReader d)
        {
            if (d.Bool("subject") == true) details |= ClientCertDetails.Subject;
            if (d.Bool("uri") == true) details |= ClientCertDetails.Uri;
            if (d.Bool("dns") == true) details |= ClientCertDetails.Dns;
            // The peer certificate's (or chain's) PEM in the element is not implemented; false is what we do.
            if (d.Bool("cert") == true)
            {
                h.Context.Unsupported(d.Node, "set_current_client_cert_details.cert: the peer certificate's PEM in x-forwarded-client-cert is not implemented");
            }
            if (d.Bool("chain") == true)
            {
                h.Context.Unsupported(d.Node, "set_current_client_cert_details.chain: the peer chain's PEM in x-forwarded-client-cert is not implemented");
            }
            d.Finish();
        }
        return (mode, details);
    }

    /// <summary>
    /// upgrade_configs[]: "websocket" and "CONNECT" (with optional connect_config, which makes the proxy
    /// terminate CONNECT). Each setting is null when the list does not mention it, so a route-level list
    /// inherits the connection manager's value.
    /// </summary>
    public static UpgradeSettings ReadUpgradeConfigs(TranslationContext ctx, ConfigNode? node, bool allowFilters)
    {
        bool? webSocket = null;
        bool? connect = null;
        bool terminate = false;
        foreach (ConfigNode item in ctx.Items(node))
        {
            FieldReader u = new(ctx, item);
            if (!u.IsValid)
            {
                continue;
            }
            ConfigNode? typeNode = u.Take("upgrade_type");
            string? type = typeNode is null ? null : ctx.String(typeNode);
            bool enabled = u.Bool("enabled") ?? true;
            if (allowFilters)
            {
                u.Unsupported("filters", "per-upgrade filter chains");
            }
            else if (u.Message("connect_config") is FieldReader cc)
            {
                // An empty ConnectConfig: terminate CONNECT. Its options (proxy protocol, POST) are not implemented.
                terminate = true;
                cc.Finish();
            }
            u.Finish();
            if (typeNode is null)
            {
                ctx.Error(item, "upgrade_type is required");
            }
            else if (type is not null && type.Equals("websocket", StringComparison.OrdinalIgnoreCase))
            {
                webSocket = enabled;
            }
            else if (type is not null && type.Equals("CONNECT", StringComparison.Ordinal))
            {
                connect = enabled;
            }
            else if (type is not null)
            {
                ctx.Unsupported(typeNode, $"upgrade type \"{type}\" (only websocket and CONNECT)");
            }
        }
        return new UpgradeSettings(webSocket, connect, terminate);
    }

    /// <summary>
    /// http_filters: the router (required, last) and the buffer filter; everything else is refused because
    /// silently skipping e.g. an auth filter would open a hole. Returns the buffer limit (0 = none).
    /// </summary>
    private static long ReadHttpFilters(TranslationContext ctx, ConfigNode? node, ConfigNode hcm)
    {
        long maxBody = 0;
        bool sawRouter = false;
        System.Collections.Immutable.ImmutableArray<ConfigNode> items = ctx.Items(node);
        for (int i = 0; i < items.Length; i++)
        {
            FieldReader f = new(ctx, items[i]);
            if (!f.IsValid || ExtensionEntry.Read(f) is not ExtensionEntry e)
            {
                continue;
            }
            if (Extension.Router.Matches(e.Id))
            {
                sawRouter = true;
                if (i != items.Length - 1)
                {
                    ctx.Error(items[i], "the router filter must be the last http filter");
                }
                e.FinishEmpty();
            }
            else if (Extension.Buffer.Matches(e.Id) && e.Config is FieldReader b)
            {
                maxBody = b.Integer("max_request_bytes", 1, uint.MaxValue) ?? 0;
                b.Finish();
            }
            else if (!PassiveFilterTranslator.TryHttp(ctx, e))
            {
                ctx.Unsupported(e.IdNode, PassiveFilterTranslator.RefusalReason("http filter", PassiveFilterTranslator.Unwrap(e, out _)));
            }
        }
        if (!sawRouter)
        {
            ctx.Error(node ?? hcm, "http_filters must end with envoy.filters.http.router");
        }
        return maxBody;
    }
}

/// <summary>What upgrade_configs enable; null = not mentioned (inherit).</summary>
internal readonly record struct UpgradeSettings(bool? WebSocket, bool? Connect, bool TerminateConnect);
