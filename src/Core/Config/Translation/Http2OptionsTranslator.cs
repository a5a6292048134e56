using Sidecar.Core.Config.Model;

namespace Sidecar.Core.Config.Translation;

/// <summary><c>http2_protocol_options</c> (RFC 9113 limits and our defences' budgets).</summary>
internal static class Http2OptionsTranslator
{
    public static Http2ProtocolOptionsModel Read(FieldReader h2)
    {
        TranslationContext ctx = h2.Context;
        Http2ProtocolOptionsModel d = Http2ProtocolOptionsModel.Default;
        var model = new Http2ProtocolOptionsModel
        {
            HpackTableSize = Int(ctx, h2.Take("hpack_table_size"), "hpack_table_size", d.HpackTableSize, 0, int.MaxValue),
            // Envoy's validation ranges (protocol.proto): streams 1..2^31-1, windows 65535..2^31-1.
            MaxConcurrentStreams = Int(ctx, h2.Take("max_concurrent_streams"), "max_concurrent_streams", d.MaxConcurrentStreams, 1, int.MaxValue),
            InitialStreamWindowSize = Int(ctx, h2.Take("initial_stream_window_size"), "initial_stream_window_size", d.InitialStreamWindowSize, 65_535, int.MaxValue),
            InitialConnectionWindowSize = Int(ctx, h2.Take("initial_connection_window_size"), "initial_connection_window_size", d.InitialConnectionWindowSize, 65_535, int.MaxValue),
            AllowConnect = h2.Bool("allow_connect") ?? false,
            MaxOutboundControlFrames = Int(ctx, h2.Take("max_outbound_control_frames"), "max_outbound_control_frames", d.MaxOutboundControlFrames, 1, int.MaxValue),
            MaxConsecutiveInboundFramesWithEmptyPayload = Int(ctx, h2.Take("max_consecutive_inbound_frames_with_empty_payload"), "max_consecutive_inbound_frames_with_empty_payload", d.MaxConsecutiveInboundFramesWithEmptyPayload, 0, int.MaxValue),
            MaxInboundPriorityFramesPerStream = Int(ctx, h2.Take("max_inbound_priority_frames_per_stream"), "max_inbound_priority_frames_per_stream", d.MaxInboundPriorityFramesPerStream, 0, int.MaxValue),
        };
        h2.Finish();
        return model;
    }

    private static int Int(TranslationContext ctx, Tree.ConfigNode? node, string field, int fallback, int min, int max)
    {
        if (node is null) return fallback;
        int? v = ctx.ClampedInt(node);
        if (v is null) return fallback;
        if (v < min || v > max)
        {
            ctx.Error(node, $"{field} must be between {min} and {max}");
            return fallback;
        }
        return v.Value;
    }
}
