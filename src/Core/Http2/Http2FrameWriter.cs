using System.Buffers;
using System.Buffers.Binary;

namespace Sidecar.Core.Http2;

/// <summary>Writes frames into a buffer writer (RFC 9113 §4.1, §6). Pure: the caller owns ordering and flushing.</summary>
public static class Http2FrameWriter
{
    /// <summary>
    /// Payloads up to this size are reserved together with their frame header: one GetSpan/Advance per frame instead
    /// of two (a transport pipe takes its lock on every Advance). Well under a pipe segment, so the reservation never
    /// makes the pipe allocate an oversized segment.
    /// </summary>
    private const int CombinedWriteLimit = 2048;

    public static void WriteHeader(IBufferWriter<byte> output, int length, Http2FrameType type, byte flags, int streamId)
    {
        Span<byte> span = output.GetSpan(Http2Constants.FrameHeaderSize);
        Http2FrameHeader.Write(span, length, type, flags, streamId);
        output.Advance(Http2Constants.FrameHeaderSize);
    }

    /// <summary>SETTINGS carrying only the values that differ from the defaults we must state (ours are always sent explicitly).</summary>
    public static void WriteSettings(IBufferWriter<byte> output, ReadOnlySpan<(Http2SettingId Id, uint Value)> settings)
    {
        int length = settings.Length * 6;
        Span<byte> span = output.GetSpan(Http2Constants.FrameHeaderSize + length);
        Http2FrameHeader.Write(span, length, Http2FrameType.Settings, Http2Flags.None, 0);
        int o = Http2Constants.FrameHeaderSize;
        foreach (var (id, value) in settings)
        {
            BinaryPrimitives.WriteUInt16BigEndian(span[o..], (ushort)id);
            BinaryPrimitives.WriteUInt32BigEndian(span[(o + 2)..], value);
            o += 6;
        }
        output.Advance(o);
    }

    public static void WriteSettingsAck(IBufferWriter<byte> output) =>
        WriteHeader(output, 0, Http2FrameType.Settings, Http2Flags.Ack, 0);

    public static void WritePing(IBufferWriter<byte> output, bool ack, ulong opaque)
    {
        Span<byte> span = output.GetSpan(17);
        Http2FrameHeader.Write(span, 8, Http2FrameType.Ping, ack ? Http2Flags.Ack : Http2Flags.None, 0);
        BinaryPrimitives.WriteUInt64BigEndian(span[9..], opaque);
        output.Advance(17);
    }

    public static void WriteGoAway(IBufferWriter<byte> output, int lastStreamId, Http2ErrorCode code)
    {
        Span<byte> span = output.GetSpan(17);
        Http2FrameHeader.Write(span, 8, Http2FrameType.GoAway, Http2Flags.None, 0);
        BinaryPrimitives.WriteUInt32BigEndian(span[9..], (uint)lastStreamId & 0x7FFF_FFFF);
        BinaryPrimitives.WriteUInt32BigEndian(span[13..], (uint)code);
        output.Advance(17);
    }

    public static void WriteRstStream(IBufferWriter<byte> output, int streamId, Http2ErrorCode code)
    {
        Span<byte> span = output.GetSpan(13);
        Http2FrameHeader.Write(span, 4, Http2FrameType.RstStream, Http2Flags.None, streamId);
        BinaryPrimitives.WriteUInt32BigEndian(span[9..], (uint)code);
        output.Advance(13);
    }

    public static void WriteWindowUpdate(IBufferWriter<byte> output, int streamId, int increment)
    {
        Span<byte> span = output.GetSpan(13);
        Http2FrameHeader.Write(span, 4, Http2FrameType.WindowUpdate, Http2Flags.None, streamId);
        BinaryPrimitives.WriteUInt32BigEndian(span[9..], (uint)increment & 0x7FFF_FFFF);
        output.Advance(13);
    }

    /// <summary>One DATA frame; <paramref name="data"/> must fit the peer's max frame size.</summary>
    public static void WriteData(IBufferWriter<byte> output, int streamId, in ReadOnlySequence<byte> data, bool endStream)
    {
        if (data.Length <= CombinedWriteLimit)
        {
            int length = (int)data.Length;
            Span<byte> span = output.GetSpan(Http2Constants.FrameHeaderSize + length);
            Http2FrameHeader.Write(span, length, Http2FrameType.Data, endStream ? Http2Flags.EndStream : Http2Flags.None, streamId);
            data.CopyTo(span[Http2Constants.FrameHeaderSize..]);
            output.Advance(Http2Constants.FrameHeaderSize + length);
            return;
        }
        WriteHeader(output, (int)data.Length, Http2FrameType.Data, endStream ? Http2Flags.EndStream : Http2Flags.None, streamId);
        foreach (ReadOnlyMemory<byte> segment in data) output.Write(segment.Span);
    }

    public static void WriteData(IBufferWriter<byte> output, int streamId, ReadOnlySpan<byte> data, bool endStream) =>
        WriteFrame(output, Http2FrameType.Data, endStream ? Http2Flags.EndStream : Http2Flags.None, streamId, data);

    /// <summary>One frame: header and payload, reserved together when the payload is short.</summary>
    private static void WriteFrame(IBufferWriter<byte> output, Http2FrameType type, byte flags, int streamId, ReadOnlySpan<byte> payload)
    {
        if (payload.Length <= CombinedWriteLimit)
        {
            Span<byte> span = output.GetSpan(Http2Constants.FrameHeaderSize + payload.Length);
            Http2FrameHeader.Write(span, payload.Length, type, flags, streamId);
            payload.CopyTo(span[Http2Constants.FrameHeaderSize..]);
            output.Advance(Http2Constants.FrameHeaderSize + payload.Length);
            return;
        }
        WriteHeader(output, payload.Length, type, flags, streamId);
        output.Write(payload);
    }

    /// <summary>
    /// A header block as HEADERS followed by as many CONTINUATION frames as the peer's max frame size
    /// requires (§4.3: they must be contiguous, so the caller holds the output for the whole block).
    /// </summary>
    public static void WriteHeaderBlock(IBufferWriter<byte> output, int streamId, ReadOnlySpan<byte> block, bool endStream, int maxFrameSize)
    {
        int first = Math.Min(block.Length, maxFrameSize);
        byte flags = (byte)((endStream ? Http2Flags.EndStream : 0) | (first == block.Length ? Http2Flags.EndHeaders : 0));
        WriteFrame(output, Http2FrameType.Headers, flags, streamId, block[..first]);
        block = block[first..];
        while (!block.IsEmpty)
        {
            int n = Math.Min(block.Length, maxFrameSize);
            WriteFrame(output, Http2FrameType.Continuation, n == block.Length ? Http2Flags.EndHeaders : Http2Flags.None, streamId, block[..n]);
            block = block[n..];
        }
    }
}
