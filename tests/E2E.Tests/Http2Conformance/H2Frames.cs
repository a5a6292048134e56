namespace Sidecar.E2E.Tests.Http2Conformance;

/// <summary>Frame type codes (RFC 9113 §6; 0x16 is an unassigned type used to probe §4.1/§5.5 "ignore unknown types").</summary>
public static class FrameType
{
    public const byte Data = 0x0, Headers = 0x1, Priority = 0x2, RstStream = 0x3, Settings = 0x4,
        PushPromise = 0x5, Ping = 0x6, GoAway = 0x7, WindowUpdate = 0x8, Continuation = 0x9, Unknown = 0x16;

    public static string Name(byte type) => type switch
    {
        Data => "DATA", Headers => "HEADERS", Priority => "PRIORITY", RstStream => "RST_STREAM", Settings => "SETTINGS",
        PushPromise => "PUSH_PROMISE", Ping => "PING", GoAway => "GOAWAY", WindowUpdate => "WINDOW_UPDATE",
        Continuation => "CONTINUATION", _ => $"UNKNOWN(0x{type:x2})",
    };
}

/// <summary>Frame flags (RFC 9113 §6); the meaning depends on the frame type.</summary>
public static class FrameFlags
{
    public const byte EndStream = 0x1, Ack = 0x1, EndHeaders = 0x4, Padded = 0x8, Priority = 0x20;
}

/// <summary>Error codes (RFC 9113 §7).</summary>
public enum H2Error : uint
{
    NoError = 0x0, ProtocolError = 0x1, InternalError = 0x2, FlowControlError = 0x3, SettingsTimeout = 0x4,
    StreamClosed = 0x5, FrameSizeError = 0x6, RefusedStream = 0x7, Cancel = 0x8, CompressionError = 0x9,
    ConnectError = 0xa, EnhanceYourCalm = 0xb, InadequateSecurity = 0xc, Http11Required = 0xd,
}

/// <summary>SETTINGS identifiers (RFC 9113 §6.5.2).</summary>
public static class SettingId
{
    public const ushort HeaderTableSize = 0x1, EnablePush = 0x2, MaxConcurrentStreams = 0x3,
        InitialWindowSize = 0x4, MaxFrameSize = 0x5, MaxHeaderListSize = 0x6;
}

/// <summary>One frame as read off the wire (header fields decoded, payload raw).</summary>
public sealed record H2Frame(byte Type, byte Flags, uint StreamId, byte[] Payload)
{
    public bool Has(byte flag) => (Flags & flag) != 0;

    /// <summary>Error code of a RST_STREAM (§6.4) or GOAWAY (§6.8) frame; null for other types or a short payload.</summary>
    public H2Error? ErrorCode => Type switch
    {
        FrameType.RstStream when Payload.Length >= 4 => (H2Error)ReadUInt32(Payload, 0),
        FrameType.GoAway when Payload.Length >= 8 => (H2Error)ReadUInt32(Payload, 4),
        _ => null,
    };

    internal static uint ReadUInt32(byte[] b, int at) =>
        (uint)(b[at] << 24 | b[at + 1] << 16 | b[at + 2] << 8 | b[at + 3]);

    public override string ToString()
    {
        var s = $"{FrameType.Name(Type)} frame (length:{Payload.Length}, flags:0x{Flags:x2}, stream_id:{StreamId})";
        if (ErrorCode is H2Error code) s += $" error:{code}";
        if (Type == FrameType.Headers) s += ResponseStatus.TryRead(this) is int status ? $" :status {status}" : " :status ?";
        if (Type == FrameType.GoAway && Payload.Length > 8)
            s += $" debug:\"{System.Text.Encoding.ASCII.GetString(Payload, 8, Math.Min(Payload.Length - 8, 80))}\"";
        return s;
    }
}

/// <summary>What a probe observes next: a frame, the peer closing the connection, or nothing within the wait.</summary>
public abstract record H2Event
{
    public sealed record Frame(H2Frame Value) : H2Event { public override string ToString() => Value.ToString(); }
    public sealed record Closed(string How) : H2Event { public override string ToString() => $"connection closed ({How})"; }
    public sealed record Timeout(TimeSpan After) : H2Event { public override string ToString() => $"timeout ({After.TotalSeconds:0.#} s, nothing received)"; }
}
