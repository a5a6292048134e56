using System.Buffers.Binary;
using System.Text;

namespace Sidecar.Core.Protobuf;

/// <summary>
/// A forward-only reader of the protobuf wire format over one message's bytes. Every read returns false
/// on bad input and records the first <see cref="ProtoError"/>; nothing throws, nothing allocates except
/// <see cref="TryReadString"/>. Nested messages are read with a new reader over <see cref="TryReadBytes"/>.
/// </summary>
public ref struct ProtoReader
{
    /// <summary>protobuf.dev: field numbers are 1 .. 2^29-1.</summary>
    public const int MaxFieldNumber = (1 << 29) - 1;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly ReadOnlySpan<byte> _data;
    private int _position;

    public ProtoReader(ReadOnlySpan<byte> data)
    {
        _data = data;
        _position = 0;
        Error = ProtoError.None;
    }

    public ProtoError Error { get; private set; }
    public readonly int Position => _position;
    public readonly bool End => _position >= _data.Length;

    /// <summary>Reads the next tag; false at the end of the message (Error stays None) or on bad input.</summary>
    public bool TryReadTag(out int field, out WireType type)
    {
        field = 0;
        type = default;
        if (Error != ProtoError.None || End) return false;
        if (!TryReadVarint(out ulong tag)) return false;
        ulong number = tag >> 3;
        if (number == 0 || number > MaxFieldNumber) return Fail(ProtoError.BadFieldNumber);
        int wire = (int)(tag & 7);
        if (wire is 6 or 7) return Fail(ProtoError.BadWireType);
        if (wire is 3 or 4) return Fail(ProtoError.GroupsUnsupported);
        field = (int)number;
        type = (WireType)wire;
        return true;
    }

    /// <summary>A base-128 varint of up to 10 bytes (protobuf.dev "Base 128 Varints").</summary>
    public bool TryReadVarint(out ulong value)
    {
        value = 0;
        for (int shift = 0, i = 0; i < 10; i++, shift += 7)
        {
            if (_position >= _data.Length) return Fail(ProtoError.Truncated);
            byte b = _data[_position++];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return true;
        }
        return Fail(ProtoError.VarintTooLong);
    }

    public bool TryReadFixed32(out uint value)
    {
        value = 0;
        if (_data.Length - _position < 4) return Fail(ProtoError.Truncated);
        value = BinaryPrimitives.ReadUInt32LittleEndian(_data[_position..]);
        _position += 4;
        return true;
    }

    public bool TryReadFixed64(out ulong value)
    {
        value = 0;
        if (_data.Length - _position < 8) return Fail(ProtoError.Truncated);
        value = BinaryPrimitives.ReadUInt64LittleEndian(_data[_position..]);
        _position += 8;
        return true;
    }

    /// <summary>The payload of a length-delimited field (bytes, string, nested message, packed repeated).</summary>
    public bool TryReadBytes(out ReadOnlySpan<byte> bytes)
    {
        bytes = default;
        if (!TryReadVarint(out ulong length)) return false;
        if (length > (ulong)(_data.Length - _position)) return Fail(ProtoError.LengthOutOfRange);
        bytes = _data.Slice(_position, (int)length);
        _position += (int)length;
        return true;
    }

    /// <summary>A proto3 <c>string</c>: length-delimited and valid UTF-8.</summary>
    public bool TryReadString(out string value)
    {
        value = "";
        if (!TryReadBytes(out ReadOnlySpan<byte> bytes)) return false;
        try
        {
            value = StrictUtf8.GetString(bytes);
            return true;
        }
        catch (DecoderFallbackException)
        {
            return Fail(ProtoError.BadUtf8);
        }
    }

    /// <summary>Skips a field's value of the given wire type (unknown fields are skipped, protobuf.dev "Unknown fields").</summary>
    public bool TrySkip(WireType type) => type switch
    {
        WireType.Varint => TryReadVarint(out _),
        WireType.Fixed64 => TryReadFixed64(out _),
        WireType.Fixed32 => TryReadFixed32(out _),
        WireType.LengthDelimited => TryReadBytes(out _),
        _ => Fail(ProtoError.BadWireType),
    };

    /// <summary>Records an error found by a caller (e.g. a field with the wrong wire type for its schema).</summary>
    public bool Fail(ProtoError error)
    {
        if (Error == ProtoError.None) Error = error;
        return false;
    }

    /// <summary>ZigZag decoding for sint32/sint64.</summary>
    public static long DecodeZigZag(ulong value) => (long)(value >> 1) ^ -(long)(value & 1);
}
