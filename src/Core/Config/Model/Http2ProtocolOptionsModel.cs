namespace Sidecar.Core.Config.Model;

/// <summary>Envoy <c>config.core.v3.Http2ProtocolOptions</c>, for a connection manager (downstream) or a cluster (upstream).</summary>
public sealed class Http2ProtocolOptionsModel
{
    public static readonly Http2ProtocolOptionsModel Default = new();

    public int HpackTableSize { get; init; } = 4096;
    /// <summary>Envoy's default is 2^31-1; we advertise 1024 unless configured (memory per stream is bounded by its window).</summary>
    public int MaxConcurrentStreams { get; init; } = 1024;
    /// <summary>Envoy's default is 256 MiB; ours 1 MiB (bytes a stream may have in flight towards us).</summary>
    public int InitialStreamWindowSize { get; init; } = 1 << 20;
    public int InitialConnectionWindowSize { get; init; } = 16 << 20;
    /// <summary>Extended CONNECT (RFC 8441) for WebSocket over HTTP/2.</summary>
    public bool AllowConnect { get; init; }
    public int MaxOutboundControlFrames { get; init; } = 1000;
    public int MaxConsecutiveInboundFramesWithEmptyPayload { get; init; } = 1;
    public int MaxInboundPriorityFramesPerStream { get; init; } = 100;
    /// <summary><c>connection_keepalive</c>: PINGs that detect a dead peer; null when not configured.</summary>
    public Http2KeepaliveModel? ConnectionKeepalive { get; init; }
}

/// <summary>Envoy <c>config.core.v3.KeepaliveSettings</c> (HTTP/2 PING keepalive).</summary>
public sealed class Http2KeepaliveModel
{
    /// <summary>PING period; zero sends no interval PINGs.</summary>
    public TimeSpan Interval { get; init; }
    /// <summary>Time for a PING's ACK (extended by any frame received) before the connection is closed.</summary>
    public required TimeSpan Timeout { get; init; }
    /// <summary>Random extra per interval, as a fraction of it (Envoy's default 15%).</summary>
    public double IntervalJitter { get; init; } = 0.15;
    /// <summary>Idle this long before a new stream: a PING goes first. Zero: never.</summary>
    public TimeSpan ConnectionIdleInterval { get; init; }
}

/// <summary>Which protocol a cluster speaks upstream (Envoy HttpProtocolOptions' upstream_protocol_options).</summary>
public enum UpstreamProtocol : byte { Http1, Http2, UseDownstream }
