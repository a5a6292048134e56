using System.Buffers.Binary;
using System.Text;

namespace Sidecar.TestPeers.IstioCa;

/// <summary>
/// A deliberately separate, minimal protobuf reader/writer for the two CA messages, so the client's codec is checked
/// against an independent implementation rather than against itself. Field numbers: istio/api security/v1alpha1/ca.proto.
/// </summary>
internal static class CaWire
{
    public sealed record Request(string Csr, long ValiditySeconds, string? CertSigner);

    /// <summary>Strips the 5-byte gRPC message prefix (compressed flag + big-endian length), gRPC PROTOCOL-HTTP2 "Length-Prefixed-Message".</summary>
    public static byte[]? UnframeGrpc(ReadOnlySpan<byte> body)
    {
        if (body.Length < 5 || body[0] != 0) return null;
        var length = BinaryPrimitives.ReadUInt32BigEndian(body[1..]);
        return body.Length - 5 != length ? null : body[5..].ToArray();
    }

    public static byte[] FrameGrpc(ReadOnlySpan<byte> message)
    {
        var framed = new byte[message.Length + 5];
        BinaryPrimitives.WriteUInt32BigEndian(framed.AsSpan(1), (uint)message.Length);
        message.CopyTo(framed.AsSpan(5));
        return framed;
    }

    public static Request? ParseRequest(ReadOnlySpan<byte> message)
    {
        string? csr = null;
        long validity = 0;
        string? signer = null;
        var position = 0;
        while (position < message.Length)
        {
            var tag = ReadVarint(message, ref position);
            if (tag is null) return null;
            var field = (int)(tag.Value >> 3);
            var wire = (int)(tag.Value & 7);
            if (wire == 0)
            {
                var value = ReadVarint(message, ref position);
                if (value is null) return null;
                if (field == 3) validity = (long)value.Value;
            }
            else if (wire == 2)
            {
                var bytes = ReadLengthDelimited(message, ref position);
                if (bytes is null) return null;
                if (field == 1) csr = Encoding.UTF8.GetString(bytes);
                else if (field == 4) signer = FindStructString(bytes, "CertSigner");
            }
            else
            {
                return null;
            }
        }
        return csr is null ? null : new Request(csr, validity, signer);
    }

    /// <summary>google.protobuf.Struct { map&lt;string, Value&gt; fields = 1 }, Value.string_value = 3.</summary>
    private static string? FindStructString(ReadOnlySpan<byte> structBytes, string key)
    {
        var position = 0;
        while (position < structBytes.Length)
        {
            if (ReadVarint(structBytes, ref position) != ((1 << 3) | 2)) return null;
            var entry = ReadLengthDelimited(structBytes, ref position);
            if (entry is null) return null;
            string? entryKey = null, entryValue = null;
            var p = 0;
            while (p < entry.Length)
            {
                var tag = ReadVarint(entry, ref p);
                var bytes = ReadLengthDelimited(entry, ref p);
                if (tag is null || bytes is null) return null;
                if (tag == ((1 << 3) | 2)) entryKey = Encoding.UTF8.GetString(bytes);
                else if (tag == ((2 << 3) | 2))
                {
                    var q = 0;
                    if (ReadVarint(bytes, ref q) == ((3 << 3) | 2)) entryValue = ReadLengthDelimited(bytes, ref q) is { } s ? Encoding.UTF8.GetString(s) : null;
                }
            }
            if (entryKey == key) return entryValue;
        }
        return null;
    }

    public static byte[] EncodeResponse(IReadOnlyList<string> certChain)
    {
        using var stream = new MemoryStream();
        foreach (var pem in certChain)
        {
            var bytes = Encoding.UTF8.GetBytes(pem);
            stream.WriteByte((1 << 3) | 2);
            WriteVarint(stream, (ulong)bytes.Length);
            stream.Write(bytes);
        }
        return stream.ToArray();
    }

    private static ulong? ReadVarint(ReadOnlySpan<byte> data, ref int position)
    {
        ulong value = 0;
        for (var shift = 0; shift < 64 && position < data.Length; shift += 7)
        {
            var b = data[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return value;
        }
        return null;
    }

    private static byte[]? ReadLengthDelimited(ReadOnlySpan<byte> data, ref int position)
    {
        var length = ReadVarint(data, ref position);
        if (length is null || length.Value > (ulong)(data.Length - position)) return null;
        var bytes = data.Slice(position, (int)length.Value).ToArray();
        position += (int)length.Value;
        return bytes;
    }

    private static void WriteVarint(Stream stream, ulong value)
    {
        while (value >= 0x80)
        {
            stream.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }
        stream.WriteByte((byte)value);
    }
}
