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
}

/// <summary>Which protocol a cluster speaks upstream (Envoy HttpProtocolOptions' upstream_protocol_options).</summary>
public enum UpstreamProtocol : byte { Http1, Http2, UseDownstream }
