using System.Buffers;
using System.Buffers.Binary;

namespace Sidecar.Core.Http2;

/// <summary>One side's SETTINGS values (RFC 9113 §6.5.2), starting from the protocol defaults.</summary>
public struct Http2Settings
{
    public int HeaderTableSize;
    public bool EnablePush;
    /// <summary>Unlimited until said otherwise (§6.5.2 "initially, there is no limit").</summary>
    public int MaxConcurrentStreams;
    public int InitialWindowSize;
    public int MaxFrameSize;
    /// <summary>Unlimited until said otherwise.</summary>
    public int MaxHeaderListSize;
    public bool EnableConnectProtocol;

    public static Http2Settings Default => new()
    {
        HeaderTableSize = 4096,
        EnablePush = true,
        MaxConcurrentStreams = int.MaxValue,
        InitialWindowSize = Http2Constants.DefaultWindowSize,
        MaxFrameSize = Http2Constants.MinMaxFrameSize,
        MaxHeaderListSize = int.MaxValue,
    };

    /// <summary>
    /// Applies a received SETTINGS payload in order (§6.5.3 "processed in the order in which they appear").
    /// Unknown identifiers are ignored (§6.5.2). Returns an error for out-of-range values.
    /// </summary>
    public Http2FrameError Apply(in ReadOnlySequence<byte> payload, out int windowDelta)
    {
        windowDelta = 0;
        Span<byte> six = stackalloc byte[6];
        var reader = new SequenceReader<byte>(payload);
        while (reader.Remaining >= 6)
        {
            reader.TryCopyTo(six);
            reader.Advance(6);
            ushort id = BinaryPrimitives.ReadUInt16BigEndian(six);
            uint value = BinaryPrimitives.ReadUInt32BigEndian(six[2..]);
            switch ((Http2SettingId)id)
            {
                case Http2SettingId.HeaderTableSize:
                    HeaderTableSize = (int)Math.Min(value, int.MaxValue);
                    break;
                case Http2SettingId.EnablePush:
                    if (value > 1) return Http2FrameError.Connection(Http2ErrorCode.ProtocolError, "SETTINGS_ENABLE_PUSH is not 0 or 1");
                    EnablePush = value == 1;
                    break;
                case Http2SettingId.MaxConcurrentStreams:
                    MaxConcurrentStreams = (int)Math.Min(value, int.MaxValue);
                    break;
                case Http2SettingId.InitialWindowSize:
                    if (value > Http2Constants.MaxWindowSize) return Http2FrameError.Connection(Http2ErrorCode.FlowControlError, "SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1");
                    // §6.9.2: the change applies to every open stream's send window, by difference.
                    windowDelta += (int)value - InitialWindowSize;
                    InitialWindowSize = (int)value;
                    break;
                case Http2SettingId.MaxFrameSize:
                    if (value < Http2Constants.MinMaxFrameSize || value > Http2Constants.MaxMaxFrameSize)
                        return Http2FrameError.Connection(Http2ErrorCode.ProtocolError, "SETTINGS_MAX_FRAME_SIZE out of range");
                    MaxFrameSize = (int)value;
                    break;
                case Http2SettingId.MaxHeaderListSize:
                    MaxHeaderListSize = (int)Math.Min(value, int.MaxValue);
                    break;
                case Http2SettingId.EnableConnectProtocol:
                    // RFC 8441 §3: only 0 or 1.
                    if (value > 1) return Http2FrameError.Connection(Http2ErrorCode.ProtocolError, "SETTINGS_ENABLE_CONNECT_PROTOCOL is not 0 or 1");
                    EnableConnectProtocol = value == 1;
                    break;
            }
        }
        return default;
    }
}
