using Sidecar.Core.Config.Model;
using Sidecar.Core.Config.Tree;

namespace Sidecar.Core.Config.Translation;

/// <summary>Cluster <c>typed_extension_protocol_options</c>: only <c>envoy.extensions.upstreams.http.v3.HttpProtocolOptions</c>.</summary>
internal static class ProtocolOptionsTranslator
{
    /// <summary>Upstream idle timeout and max requests per connection (Envoy defaults 1 h, unlimited), and the upstream protocol.</summary>
    public static (TimeSpan Idle, int MaxRequests, UpstreamProtocol Protocol, Http2ProtocolOptionsModel? Http2) Read(TranslationContext ctx, ConfigNode? node)
    {
        TimeSpan idle = TimeSpan.FromHours(1);
        int maxRequests = 0;
        UpstreamProtocol protocol = UpstreamProtocol.Http1;
        Http2ProtocolOptionsModel? http2 = null;
        if (node is null)
        {
            return (idle, maxRequests, protocol, http2);
        }
        if (node is not ConfigMap map)
        {
            ctx.Error(node, "expected an object keyed by extension name");
            return (idle, maxRequests, protocol, http2);
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
                if (explicitConfig.Message("http2_protocol_options") is FieldReader h2)
                {
                    protocol = UpstreamProtocol.Http2;
                    http2 = Http2OptionsTranslator.Read(h2);
                }
                explicitConfig.Unsupported("http3_protocol_options", "http3_protocol_options");
                explicitConfig.Finish();
            }
            if (any.Message("use_downstream_protocol_config") is FieldReader useDownstream)
            {
                // Each protocol's options may be given; HTTP/1.1 ones are defaults only (as for explicit_http_config).
                protocol = UpstreamProtocol.UseDownstream;
                if (useDownstream.Message("http_protocol_options") is FieldReader d1) d1.Finish();
                if (useDownstream.Message("http2_protocol_options") is FieldReader d2) http2 = Http2OptionsTranslator.Read(d2);
                useDownstream.Unsupported("http3_protocol_options", "http3_protocol_options");
                useDownstream.Finish();
            }
            any.Unsupported("auto_config", "auto_config (needs HTTP/2)");
            any.Finish();
        }
        return (idle, maxRequests, protocol, http2);
    }
}
