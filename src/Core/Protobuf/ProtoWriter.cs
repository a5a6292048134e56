using System.Buffers.Binary;
using System.Text;

namespace Sidecar.Core.Protobuf;

/// <summary>
/// Writes protobuf wire format into a growable buffer. Nested messages are written in place:
/// <see cref="BeginMessage"/> remembers where the body starts and <see cref="EndMessage"/> moves the body
/// right by the size of its (minimal) length prefix, so no size pre-pass or temporary buffer is needed.
/// Meant for control-plane messages (xDS, CA requests), not the data path.
/// </summary>
public sealed class ProtoWriter
{
    private byte[] _buffer;
    private int _length;

    public ProtoWriter(int initialCapacity = 256) => _buffer = new byte[Math.Max(16, initialCapacity)];

    public int Length => _length;
    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _length);
    public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, _length);
    public byte[] ToArray() => WrittenSpan.ToArray();
    public void Clear() => _length = 0;

    public void WriteTag(int field, WireType type) => WriteVarint(((ulong)(uint)field << 3) | (byte)type);

    public void WriteVarint(ulong value)
    {
        Ensure(10);
        while (value >= 0x80)
        {
            _buffer[_length++] = (byte)(value | 0x80);
            value >>= 7;
        }
        _buffer[_length++] = (byte)value;
    }

    /// <summary>A varint field; proto3 omits zero scalars, so callers skip defaults themselves when they want that.</summary>
    public void WriteUInt64(int field, ulong value)
    {
        WriteTag(field, WireType.Varint);
        WriteVarint(value);
    }

    /// <summary>int32/int64/enum: negative values are sign-extended to 10 bytes, as protobuf requires.</summary>
    public void WriteInt64(int field, long value) => WriteUInt64(field, (ulong)value);

    public void WriteBool(int field, bool value) => WriteUInt64(field, value ? 1u : 0u);

    public void WriteFixed32(int field, uint value)
    {
        WriteTag(field, WireType.Fixed32);
        Ensure(4);
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer.AsSpan(_length), value);
        _length += 4;
    }

    public void WriteFixed64(int field, ulong value)
    {
        WriteTag(field, WireType.Fixed64);
        Ensure(8);
        BinaryPrimitives.WriteUInt64LittleEndian(_buffer.AsSpan(_length), value);
        _length += 8;
    }

    public void WriteDouble(int field, double value) => WriteFixed64(field, BitConverter.DoubleToUInt64Bits(value));

    public void WriteBytes(int field, ReadOnlySpan<byte> value)
    {
        WriteTag(field, WireType.LengthDelimited);
        WriteVarint((ulong)value.Length);
        Ensure(value.Length);
        value.CopyTo(_buffer.AsSpan(_length));
        _length += value.Length;
    }

    public void WriteString(int field, string value)
    {
        WriteTag(field, WireType.LengthDelimited);
        int size = Encoding.UTF8.GetByteCount(value);
        WriteVarint((ulong)size);
        Ensure(size);
        _length += Encoding.UTF8.GetBytes(value, _buffer.AsSpan(_length));
    }

    /// <summary>Starts a nested message field; returns the mark to pass to <see cref="EndMessage"/>.</summary>
    public int BeginMessage(int field)
    {
        WriteTag(field, WireType.LengthDelimited);
        return _length;
    }

    /// <summary>Ends a nested message: inserts its length prefix before the body written since <paramref name="mark"/>.</summary>
    public void EndMessage(int mark)
    {
        int bodyLength = _length - mark;
        int prefix = VarintSize((ulong)bodyLength);
        Ensure(prefix);
        Buffer.BlockCopy(_buffer, mark, _buffer, mark + prefix, bodyLength);
        int p = mark;
        ulong v = (ulong)bodyLength;
        while (v >= 0x80)
        {
            _buffer[p++] = (byte)(v | 0x80);
            v >>= 7;
        }
        _buffer[p] = (byte)v;
        _length += prefix;
    }

    /// <summary>Appends bytes that are already a serialized message body (e.g. an Any's value copied through).</summary>
    public void WriteRaw(ReadOnlySpan<byte> bytes)
    {
        Ensure(bytes.Length);
        bytes.CopyTo(_buffer.AsSpan(_length));
        _length += bytes.Length;
    }

    public static int VarintSize(ulong value)
    {
        int n = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            n++;
        }
        return n;
    }

    /// <summary>ZigZag encoding for sint32/sint64.</summary>
    public static ulong EncodeZigZag(long value) => (ulong)((value << 1) ^ (value >> 63));

    private void Ensure(int extra)
    {
        if (_buffer.Length - _length >= extra) return;
        Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + extra));
    }
}
