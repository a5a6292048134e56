namespace Sidecar.Core.Telemetry;

/// <summary>
/// HTTP/2 codec stats, named as Envoy names them (<c>http2.*</c> under the connection manager's or
/// cluster's prefix), plus one of ours per attack the codec defends against (docs/HTTP2.md lists them).
/// </summary>
public sealed class Http2Stats
{
    public Http2Stats(StatsStore store, string prefix)
    {
        string p = prefix + "http2.";
        RxReset = store.Counter(p + "rx_reset");
        TxReset = store.Counter(p + "tx_reset");
        GoAwaySent = store.Counter(p + "goaway_sent");
        GoAwayReceived = store.Counter(p + "goaway_received");
        HeaderOverflow = store.Counter(p + "header_overflow");
        RxMessagingError = store.Counter(p + "rx_messaging_error");
        RxProtocolError = store.Counter(p + "rx_protocol_error");
        StreamRefusedErrors = store.Counter(p + "stream_refused_errors");
        TooManyHeaderFrames = store.Counter(p + "too_many_header_frames");
        OutboundControlFlood = store.Counter(p + "outbound_control_flood");
        InboundEmptyFramesFlood = store.Counter(p + "inbound_empty_frames_flood");
        InboundPriorityFramesFlood = store.Counter(p + "inbound_priority_frames_flood");
        RapidReset = store.Counter(p + "rapid_reset");
        SettingsTimeout = store.Counter(p + "settings_timeout");
        FlowControlStall = store.Counter(p + "flow_control_stall_timeout");
        Trailers = store.Counter(p + "trailers");
        KeepaliveTimeout = store.Counter(p + "keepalive_timeout");
        StreamsActive = store.Gauge(p + "streams_active");
    }

    public Counter RxReset { get; }
    public Counter TxReset { get; }
    public Counter GoAwaySent { get; }
    public Counter GoAwayReceived { get; }
    /// <summary>Header list over the limit (includes HPACK bombs).</summary>
    public Counter HeaderOverflow { get; }
    /// <summary>Malformed messages (RFC 9113 §8.1.1), answered with a stream reset.</summary>
    public Counter RxMessagingError { get; }
    /// <summary>Connection errors we detected (GOAWAY with an error code).</summary>
    public Counter RxProtocolError { get; }
    public Counter StreamRefusedErrors { get; }
    /// <summary>CONTINUATION flood (2024): too many or too large header frames for one block.</summary>
    public Counter TooManyHeaderFrames { get; }
    /// <summary>PING / SETTINGS floods: more control frames than the budget allows.</summary>
    public Counter OutboundControlFlood { get; }
    /// <summary>Empty DATA / CONTINUATION frames without END_STREAM/END_HEADERS, beyond the budget.</summary>
    public Counter InboundEmptyFramesFlood { get; }
    public Counter InboundPriorityFramesFlood { get; }
    /// <summary>CVE-2023-44487: streams opened and reset by the client faster than the budget refills.</summary>
    public Counter RapidReset { get; }
    public Counter SettingsTimeout { get; }
    /// <summary>A stream waited on a zero send window longer than the stall timeout.</summary>
    public Counter FlowControlStall { get; }
    public Counter Trailers { get; }
    /// <summary>Connections closed because a keepalive PING went unanswered (Envoy's name).</summary>
    public Counter KeepaliveTimeout { get; }
    public Gauge StreamsActive { get; }
}
