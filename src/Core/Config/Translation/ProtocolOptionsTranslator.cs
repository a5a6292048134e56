using Sidecar.Core.Config.Tree;

namespace Sidecar.Core.Config.Translation;

/// <summary>Cluster <c>typed_extension_protocol_options</c>: only <c>envoy.extensions.upstreams.http.v3.HttpProtocolOptions</c>.</summary>
internal static class ProtocolOptionsTranslator
{
    /// <summary>Returns (upstream idle timeout, max requests per connection) with Envoy defaults (1 h, unlimited).</summary>
    public static (TimeSpan Idle, int MaxRequests) Read(TranslationContext ctx, ConfigNode? node)
    {
        TimeSpan idle = TimeSpan.FromHours(1);
        int maxRequests = 0;
        if (node is null)
        {
            return (idle, maxRequests);
        }
        if (node is not ConfigMap map)
        {
            ctx.Error(node, "expected an object keyed by extension name");
            return (idle, maxRequests);
        }
        foreach (KeyValuePair<string, ConfigNode> e in map.Entries)
        {
            FieldReader any = new(ctx, e.Value);
            if (!any.IsValid)
            {
                continue;
            }
            ConfigNode? typeNode = any.Take("@type");
            string? typeUrl = typeNode is null ? null : ctx.String(typeNode);
            string id = typeUrl is null ? e.Key : typeUrl[(typeUrl.LastIndexOf('/') + 1)..];
            if (!Extension.HttpProtocolOptions.Matches(id))
            {
                ctx.Unsupported(typeNode ?? e.Value, $"protocol options {id}");
                continue;
            }
            if (any.Message("common_http_protocol_options") is FieldReader common)
            {
                idle = common.Duration("idle_timeout") ?? idle;
                maxRequests = common.Take("max_requests_per_connection") is { } mr ? ctx.ClampedInt(mr) ?? 0 : 0;
                common.Finish();
            }
            if (any.Message("explicit_http_config") is FieldReader explicitConfig)
            {
                if (explicitConfig.Message("http_protocol_options") is FieldReader h1)
                {
                    h1.Finish(); // HTTP/1.1 with defaults; any tuning field is reported as unsupported.
                }
                explicitConfig.Unsupported("http2_protocol_options", "http2_protocol_options (unsupported until HTTP/2 lands)");
                explicitConfig.Unsupported("http3_protocol_options", "http3_protocol_options");
                explicitConfig.Finish();
            }
            any.Unsupported("use_downstream_protocol_config", "use_downstream_protocol_config (needs HTTP/2)");
            any.Unsupported("auto_config", "auto_config (needs HTTP/2)");
            any.Finish();
        }
        return (idle, maxRequests);
    }
}
