using System.Globalization;
using Sidecar.Core.Config.Model;
using Sidecar.Core.Config.Tree;

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
            ConnectionKeepalive = h2.Message("connection_keepalive") is FieldReader k ? Keepalive(k) : null,
        };
        h2.Finish();
        return model;
    }

    /// <summary>
    /// <c>connection_keepalive</c> (config.core.v3.KeepaliveSettings): <c>timeout</c> is required and above 1 ms
    /// (protocol.proto's validation); interval and connection_idle_interval may be zero (that kind of PING off);
    /// <c>interval_jitter</c> is a Percent, 0–100, default 15.
    /// </summary>
    private static Http2KeepaliveModel? Keepalive(FieldReader k)
    {
        TranslationContext ctx = k.Context;
        ConfigNode? timeoutNode = k.Take("timeout");
        TimeSpan? timeout = timeoutNode is null ? null : ctx.Duration(timeoutNode);
        TimeSpan interval = k.Duration("interval") ?? TimeSpan.Zero;
        TimeSpan idle = k.Duration("connection_idle_interval") ?? TimeSpan.Zero;
        double jitter = 15;
        if (k.Message("interval_jitter") is FieldReader percent)
        {
            ConfigNode? v = percent.Take("value");
            if (v is ConfigScalar { Kind: ScalarKind.Number or ScalarKind.String } s &&
                double.TryParse(s.Text, NumberStyles.Float, CultureInfo.InvariantCulture, out double j) && j is >= 0 and <= 100)
            {
                jitter = j;
            }
            else if (v is not null)
            {
                ctx.Error(v, "interval_jitter.value must be a number between 0 and 100");
            }
            percent.Finish();
        }
        k.Finish();
        if (timeoutNode is null)
        {
            ctx.Error(k.Node, "connection_keepalive.timeout is required");
            return null;
        }
        if (timeout is not { } t || t <= TimeSpan.FromMilliseconds(1))
        {
            if (timeout is not null) ctx.Error(timeoutNode, "connection_keepalive.timeout must be greater than 1ms");
            return null;
        }
        return new Http2KeepaliveModel { Timeout = t, Interval = interval, IntervalJitter = jitter / 100, ConnectionIdleInterval = idle };
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
