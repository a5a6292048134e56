using System.Text;

namespace Sidecar.E2E.Tests.Http2Conformance;

/// <summary>
/// The smallest HPACK encoder that probes need (RFC 7541): every field as a "literal header field without
/// indexing — new name" (§6.2.2) with raw, non-Huffman strings (§5.2). It keeps no dynamic table, so a
/// block can be resent, reordered or spliced with hand-made representations without desynchronising the
/// peer's decoder. Names are sent exactly as given (probes need uppercase names and odd pseudo-headers).
/// </summary>
public static class ProbeHpack
{
    public static byte[] Encode(IEnumerable<(string Name, string Value)> fields)
    {
        var o = new List<byte>();
        foreach (var (name, value) in fields)
        {
            o.Add(0x00); // §6.2.2: 0000 0000 = without indexing, literal name follows
            AppendString(o, name);
            AppendString(o, value);
        }
        return o.ToArray();
    }

    /// <summary>§5.2: H bit clear, length as a 7-bit-prefix integer, then the octets.</summary>
    public static void AppendString(List<byte> o, string s)
    {
        var bytes = Encoding.Latin1.GetBytes(s);
        AppendInteger(o, 0x00, 7, bytes.Length);
        o.AddRange(bytes);
    }

    /// <summary>§5.1: an integer with an N-bit prefix; <paramref name="firstByteBits"/> are the representation's pattern bits.</summary>
    public static void AppendInteger(List<byte> o, byte firstByteBits, int prefixBits, long value)
    {
        long max = (1L << prefixBits) - 1;
        if (value < max) { o.Add((byte)(firstByteBits | value)); return; }
        o.Add((byte)(firstByteBits | max));
        value -= max;
        while (value >= 128) { o.Add((byte)(0x80 | (value & 0x7f))); value >>= 7; }
        o.Add((byte)value);
    }

    /// <summary>§6.3: dynamic table size update to <paramref name="size"/> (pattern 001, 5-bit prefix).</summary>
    public static byte[] TableSizeUpdate(long size)
    {
        var o = new List<byte>();
        AppendInteger(o, 0x20, 5, size);
        return o.ToArray();
    }
}
