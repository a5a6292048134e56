namespace Sidecar.Core.Http2;

/// <summary>
/// Limits and windows of one HTTP/2 connection (what we advertise and what we tolerate). Built from
/// Envoy's <c>Http2ProtocolOptions</c>; defaults are chosen for a sidecar, noted where they differ from Envoy.
/// </summary>
public sealed record Http2ConnectionOptions
{
    /// <summary>SETTINGS_MAX_CONCURRENT_STREAMS we advertise (Envoy default 2147483647; nghttp2/Go use 100–250; we bound it).</summary>
    public int MaxConcurrentStreams { get; init; } = 1024;
    /// <summary>SETTINGS_INITIAL_WINDOW_SIZE we advertise. Envoy's default is 256 MiB; we buffer what a window lets in, so 1 MiB.</summary>
    public int InitialStreamWindowSize { get; init; } = 1 << 20;
    /// <summary>The connection-level receive window (raised from 65,535 with a WINDOW_UPDATE right after SETTINGS).</summary>
    public int InitialConnectionWindowSize { get; init; } = 16 << 20;
    /// <summary>SETTINGS_MAX_FRAME_SIZE we advertise as a server (16 KiB, what every peer must accept: a client's
    /// frame is buffered whole before it is handled, so an untrusted peer gets the smallest).</summary>
    public int MaxFrameSize { get; init; } = Http2Constants.MinMaxFrameSize;
    /// <summary>
    /// SETTINGS_MAX_FRAME_SIZE we advertise as a client (upstream connections). Responses are the bulk direction:
    /// larger frames let an upstream that honours it (another Sidecar, most h2 servers) send a long body in a
    /// quarter of the frames; it stays well under the stream window so several frames are in flight at once.
    /// </summary>
    public int ClientMaxFrameSize { get; init; } = 64 * 1024;
    public int HeaderTableSize { get; init; } = 4096;
    /// <summary>SETTINGS_MAX_HEADER_LIST_SIZE (Envoy: max_request_headers_kb, default 60 KiB).</summary>
    public int MaxHeaderListSize { get; init; } = 60 * 1024;
    /// <summary>RFC 8441 extended CONNECT (WebSocket over HTTP/2).</summary>
    public bool AllowConnectProtocol { get; init; } = true;

    // ---- defences ----
    /// <summary>CONTINUATION flood: frames allowed for one header block (HEADERS + CONTINUATIONs).</summary>
    public int MaxHeaderFramesPerBlock { get; init; } = 32;
    /// <summary>Rapid reset (CVE-2023-44487): streams the client may reset in a burst, refilled per second below.</summary>
    public int StreamResetBurst { get; init; } = 1000;
    public int StreamResetsPerSecond { get; init; } = 33;
    /// <summary>PING/SETTINGS floods: control frames that need an answer, burst and per-second refill.</summary>
    public int ControlFrameBurst { get; init; } = 1000;
    public int ControlFramesPerSecond { get; init; } = 100;
    /// <summary>Empty DATA/CONTINUATION frames without END flags (Envoy: max_consecutive_inbound_frames_with_empty_payload = 1).</summary>
    public int MaxConsecutiveEmptyFrames { get; init; } = 1;
    /// <summary>PRIORITY frames per stream opened (Envoy: max_inbound_priority_frames_per_stream = 100).</summary>
    public int MaxPriorityFramesPerStream { get; init; } = 100;
    /// <summary>Time for the peer to acknowledge our SETTINGS (§6.5.3 SETTINGS_TIMEOUT).</summary>
    public TimeSpan SettingsTimeout { get; init; } = TimeSpan.FromSeconds(10);

    // ---- keepalive (Envoy connection_keepalive; off unless configured) ----
    /// <summary>A PING (§6.7) every interval (plus jitter) to prove the peer is alive; zero sends none.</summary>
    public TimeSpan KeepaliveInterval { get; init; }
    /// <summary>How long a keepalive PING may go unanswered (any frame received extends it) before the connection is closed; zero disables keepalive.</summary>
    public TimeSpan KeepaliveTimeout { get; init; }
    /// <summary>Up to this share of the interval is added at random to each interval, so pools do not ping in lockstep.</summary>
    public double KeepaliveIntervalJitter { get; init; } = 0.15;
    /// <summary>A connection that received nothing for this long sends a PING before its next new stream; zero: never.</summary>
    public TimeSpan KeepaliveIdleInterval { get; init; }
}

/// <summary>A token bucket for the flood defences: a burst, refilled at a steady rate. Not thread-safe (read loop only).</summary>
public struct Http2Budget
{
    private readonly int _burst;
    private readonly int _perSecond;
    private double _tokens;
    private long _lastMs;

    public Http2Budget(int burst, int perSecond)
    {
        _burst = burst;
        _perSecond = perSecond;
        _tokens = burst;
        _lastMs = Environment.TickCount64;
    }

    /// <summary>Takes one token; false when the budget is spent (the caller treats the peer as abusive).</summary>
    public bool TryTake()
    {
        long now = Environment.TickCount64;
        if (now != _lastMs)
        {
            _tokens = Math.Min(_burst, _tokens + (now - _lastMs) * _perSecond / 1000.0);
            _lastMs = now;
        }
        if (_tokens < 1) return false;
        _tokens -= 1;
        return true;
    }
}
