using System.Buffers;
using System.Buffers.Binary;

namespace Sidecar.Core.Http2;

/// <summary>The 9-byte frame header (RFC 9113 §4.1): 24-bit length, type, flags, R bit + 31-bit stream id.</summary>
public readonly struct Http2FrameHeader
{
    public Http2FrameHeader(int length, Http2FrameType type, byte flags, int streamId)
    {
        Length = length;
        Type = type;
        Flags = flags;
        StreamId = streamId;
    }

    public int Length { get; }
    public Http2FrameType Type { get; }
    public byte Flags { get; }
    /// <summary>Stream identifier with the reserved bit cleared (§4.1: "MUST be ignored when receiving").</summary>
    public int StreamId { get; }

    public bool HasFlag(byte flag) => (Flags & flag) != 0;

    public static Http2FrameHeader Read(ReadOnlySpan<byte> nine) => new(
        (nine[0] << 16) | (nine[1] << 8) | nine[2],
        (Http2FrameType)nine[3],
        nine[4],
        (int)(BinaryPrimitives.ReadUInt32BigEndian(nine[5..]) & 0x7FFF_FFFF));

    public static void Write(Span<byte> destination, int length, Http2FrameType type, byte flags, int streamId)
    {
        destination[0] = (byte)(length >> 16);
        destination[1] = (byte)(length >> 8);
        destination[2] = (byte)length;
        destination[3] = (byte)type;
        destination[4] = flags;
        BinaryPrimitives.WriteUInt32BigEndian(destination[5..], (uint)streamId & 0x7FFF_FFFF);
    }

    public override string ToString() => $"{Type} len={Length} flags=0x{Flags:x2} stream={StreamId}";
}

/// <summary>A protocol violation found in a frame: a connection error (GOAWAY) or a stream error (RST_STREAM), RFC 9113 §5.4.</summary>
public readonly record struct Http2FrameError(Http2ErrorCode Code, bool IsStreamError, string Reason)
{
    public bool IsError => Reason is not null;
    public static Http2FrameError None => default;
    public static Http2FrameError Connection(Http2ErrorCode code, string reason) => new(code, false, reason);
    public static Http2FrameError Stream(Http2ErrorCode code, string reason) => new(code, true, reason);
}

public enum Http2ReadStatus : byte { Incomplete, Complete, FrameTooLarge }

/// <summary>
/// Splits frames off a byte sequence and applies the checks that need no connection state
/// (RFC 9113 §4.2 sizes, §6 per-type stream-id, length and padding rules). Pure: no I/O, no allocation.
/// </summary>
public static class Http2FrameReader
{
    /// <summary>Takes one whole frame off the front of <paramref name="buffer"/> when it is all there.</summary>
    public static Http2ReadStatus TryRead(ref ReadOnlySequence<byte> buffer, int maxFrameSize, out Http2FrameHeader header, out ReadOnlySequence<byte> payload)
    {
        payload = default;
        header = default;
        if (buffer.Length < Http2Constants.FrameHeaderSize) return Http2ReadStatus.Incomplete;
        Span<byte> nine = stackalloc byte[Http2Constants.FrameHeaderSize];
        buffer.Slice(0, Http2Constants.FrameHeaderSize).CopyTo(nine);
        header = Http2FrameHeader.Read(nine);
        // §4.2: a frame larger than SETTINGS_MAX_FRAME_SIZE is a FRAME_SIZE_ERROR; we decide before buffering it.
        if (header.Length > maxFrameSize) return Http2ReadStatus.FrameTooLarge;
        if (buffer.Length < Http2Constants.FrameHeaderSize + header.Length) return Http2ReadStatus.Incomplete;
        payload = buffer.Slice(Http2Constants.FrameHeaderSize, header.Length);
        buffer = buffer.Slice(payload.End);
        return Http2ReadStatus.Complete;
    }

    /// <summary>The per-type checks of RFC 9113 §6 that depend on the frame alone.</summary>
    public static Http2FrameError Validate(in Http2FrameHeader h, in ReadOnlySequence<byte> payload)
    {
        switch (h.Type)
        {
            case Http2FrameType.Data:
                // §6.1: DATA on stream 0 is a connection error; padding must leave room.
                if (h.StreamId == 0) return Http2FrameError.Connection(Http2ErrorCode.ProtocolError, "DATA on stream 0");
                return CheckPadding(h, payload, 0);
            case Http2FrameType.Headers:
                if (h.StreamId == 0) return Http2FrameError.Connection(Http2ErrorCode.ProtocolError, "HEADERS on stream 0");
                return CheckPadding(h, payload, h.HasFlag(Http2Flags.Priority) ? 5 : 0);
            case Http2FrameType.Priority:
                // §6.3: stream 0 is a connection error; a wrong length a stream error.
                if (h.StreamId == 0) return Http2FrameError.Connection(Http2ErrorCode.ProtocolError, "PRIORITY on stream 0");
                if (h.Length != 5) return Http2FrameError.Stream(Http2ErrorCode.FrameSizeError, "PRIORITY length is not 5");
                return default;
            case Http2FrameType.RstStream:
                // §6.4
                if (h.StreamId == 0) return Http2FrameError.Connection(Http2ErrorCode.ProtocolError, "RST_STREAM on stream 0");
                if (h.Length != 4) return Http2FrameError.Connection(Http2ErrorCode.FrameSizeError, "RST_STREAM length is not 4");
                return default;
            case Http2FrameType.Settings:
                // §6.5
                if (h.StreamId != 0) return Http2FrameError.Connection(Http2ErrorCode.ProtocolError, "SETTINGS on a stream");
                if (h.HasFlag(Http2Flags.Ack) && h.Length != 0) return Http2FrameError.Connection(Http2ErrorCode.FrameSizeError, "SETTINGS ACK with a payload");
                if (h.Length % 6 != 0) return Http2FrameError.Connection(Http2ErrorCode.FrameSizeError, "SETTINGS length is not a multiple of 6");
                return default;
            case Http2FrameType.PushPromise:
                // §6.6
                if (h.StreamId == 0) return Http2FrameError.Connection(Http2ErrorCode.ProtocolError, "PUSH_PROMISE on stream 0");
                Http2FrameError pad = CheckPadding(h, payload, 4);
                if (pad.IsError) return pad;
                int promised = ReadPromisedStreamId(h, payload);
                if (promised == 0 || (promised & 1) == 1) return Http2FrameError.Connection(Http2ErrorCode.ProtocolError, "PUSH_PROMISE promises an invalid stream id");
                return default;
            case Http2FrameType.Ping:
                // §6.7
                if (h.StreamId != 0) return Http2FrameError.Connection(Http2ErrorCode.ProtocolError, "PING on a stream");
                if (h.Length != 8) return Http2FrameError.Connection(Http2ErrorCode.FrameSizeError, "PING length is not 8");
                return default;
            case Http2FrameType.GoAway:
                // §6.8
                if (h.StreamId != 0) return Http2FrameError.Connection(Http2ErrorCode.ProtocolError, "GOAWAY on a stream");
                if (h.Length < 8) return Http2FrameError.Connection(Http2ErrorCode.FrameSizeError, "GOAWAY shorter than 8");
                return default;
            case Http2FrameType.WindowUpdate:
                // §6.9: length errors are connection errors; a zero increment is an error of the frame's scope.
                if (h.Length != 4) return Http2FrameError.Connection(Http2ErrorCode.FrameSizeError, "WINDOW_UPDATE length is not 4");
                if (ReadUInt31(payload) == 0)
                {
                    return h.StreamId == 0
                        ? Http2FrameError.Connection(Http2ErrorCode.ProtocolError, "WINDOW_UPDATE increment of 0")
                        : Http2FrameError.Stream(Http2ErrorCode.ProtocolError, "WINDOW_UPDATE increment of 0");
                }
                return default;
            case Http2FrameType.Continuation:
                if (h.StreamId == 0) return Http2FrameError.Connection(Http2ErrorCode.ProtocolError, "CONTINUATION on stream 0");
                return default;
            default:
                return default;
        }
    }

    /// <summary>§6.1/§6.2/§6.6: "If the length of the padding is the length of the frame payload or greater, the recipient MUST treat this as a connection error".</summary>
    private static Http2FrameError CheckPadding(in Http2FrameHeader h, in ReadOnlySequence<byte> payload, int fixedFields)
    {
        int padField = h.HasFlag(Http2Flags.Padded) ? 1 : 0;
        if (h.Length < padField + fixedFields) return Http2FrameError.Connection(Http2ErrorCode.FrameSizeError, "frame too short for its fields");
        if (padField == 1)
        {
            int padLength = payload.FirstSpan.Length > 0 ? payload.FirstSpan[0] : 0;
            if (padLength >= h.Length - fixedFields) return Http2FrameError.Connection(Http2ErrorCode.ProtocolError, "padding exceeds the payload");
        }
        return default;
    }

    public static int PadLength(in Http2FrameHeader h, in ReadOnlySequence<byte> payload) =>
        h.HasFlag(Http2Flags.Padded) ? payload.FirstSpan[0] : 0;

    /// <summary>DATA payload without the pad-length byte and the padding. Call after <see cref="Validate"/>.</summary>
    public static ReadOnlySequence<byte> DataContent(in Http2FrameHeader h, in ReadOnlySequence<byte> payload)
    {
        if (!h.HasFlag(Http2Flags.Padded)) return payload;
        int pad = payload.FirstSpan[0];
        return payload.Slice(1, h.Length - 1 - pad);
    }

    /// <summary>HEADERS fragment without padding and priority fields (which we parse and ignore, §5.3.2).</summary>
    public static ReadOnlySequence<byte> HeadersFragment(in Http2FrameHeader h, in ReadOnlySequence<byte> payload, out int dependsOn)
    {
        int offset = 0;
        int pad = 0;
        if (h.HasFlag(Http2Flags.Padded))
        {
            pad = payload.FirstSpan[0];
            offset = 1;
        }
        dependsOn = 0;
        if (h.HasFlag(Http2Flags.Priority))
        {
            dependsOn = ReadUInt31(payload.Slice(offset, 4));
            offset += 5;
        }
        return payload.Slice(offset, h.Length - offset - pad);
    }

    public static int ReadPromisedStreamId(in Http2FrameHeader h, in ReadOnlySequence<byte> payload)
    {
        int offset = h.HasFlag(Http2Flags.Padded) ? 1 : 0;
        return ReadUInt31(payload.Slice(offset, 4));
    }

    /// <summary>PRIORITY payload: the stream it depends on (§6.3).</summary>
    public static int PriorityDependency(in ReadOnlySequence<byte> payload) => ReadUInt31(payload);

    public static uint ReadUInt32(in ReadOnlySequence<byte> payload)
    {
        Span<byte> four = stackalloc byte[4];
        payload.Slice(0, 4).CopyTo(four);
        return BinaryPrimitives.ReadUInt32BigEndian(four);
    }

    public static int ReadUInt31(in ReadOnlySequence<byte> payload) => (int)(ReadUInt32(payload) & 0x7FFF_FFFF);

    /// <summary>GOAWAY: last stream id and error code (§6.8).</summary>
    public static (int LastStreamId, Http2ErrorCode Code) ReadGoAway(in ReadOnlySequence<byte> payload) =>
        (ReadUInt31(payload), (Http2ErrorCode)ReadUInt32(payload.Slice(4)));
}
