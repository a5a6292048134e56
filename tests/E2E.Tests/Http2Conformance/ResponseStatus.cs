namespace Sidecar.E2E.Tests.Http2Conformance;

/// <summary>
/// Reads :status from a response HEADERS frame without a full HPACK decoder. RFC 9113 §8.3.2 puts :status
/// first, and every :status entry in the static table is 8–14 (RFC 7541 Appendix A), so the first field is
/// either an indexed field 8–14 or a literal with name index 8–14 whose value is three digits, raw or
/// Huffman-coded (digits have 5- or 6-bit codes, Appendix B). Anything else (e.g. a dynamic-table
/// reference) yields null: the status is then reported as unknown, never guessed.
/// </summary>
public static class ResponseStatus
{
    private static readonly int[] StaticStatus = [200, 204, 206, 304, 400, 404, 500]; // static indices 8..14

    public static int? TryRead(H2Frame headers)
    {
        ReadOnlySpan<byte> p = headers.Payload;
        if (headers.Has(FrameFlags.Padded)) { if (p.Length < 1) return null; p = p[1..(p.Length - Math.Min(p[0], p.Length - 1))]; }
        if (headers.Has(FrameFlags.Priority)) { if (p.Length < 5) return null; p = p[5..]; }
        while (p.Length > 0 && (p[0] & 0xe0) == 0x20) p = SkipInteger(p, 5); // §6.3 size updates may come first
        if (p.Length == 0) return null;

        byte b = p[0];
        if ((b & 0x80) != 0) // §6.1 indexed
        {
            int index = b & 0x7f;
            return index is >= 8 and <= 14 ? StaticStatus[index - 8] : null;
        }
        int nameIndex = (b & 0x40) != 0 ? b & 0x3f : b & 0x0f; // §6.2.1 (6-bit) or §6.2.2/§6.2.3 (4-bit)
        if (nameIndex is < 8 or > 14 || p.Length < 2) return null;
        bool huffman = (p[1] & 0x80) != 0;
        int length = p[1] & 0x7f;
        if (p.Length < 2 + length) return null;
        var value = p.Slice(2, length);
        return huffman ? HuffmanDigits(value) : RawDigits(value);
    }

    private static ReadOnlySpan<byte> SkipInteger(ReadOnlySpan<byte> p, int prefixBits)
    {
        int max = (1 << prefixBits) - 1, i = 1;
        if ((p[0] & max) == max) while (i < p.Length && (p[i++] & 0x80) != 0) { }
        return p[Math.Min(i, p.Length)..];
    }

    private static int? RawDigits(ReadOnlySpan<byte> v) =>
        v.Length == 3 && char.IsAsciiDigit((char)v[0]) && char.IsAsciiDigit((char)v[1]) && char.IsAsciiDigit((char)v[2])
            ? (v[0] - '0') * 100 + (v[1] - '0') * 10 + (v[2] - '0') : null;

    /// <summary>Appendix B: '0'–'2' are 00000–00010 (5 bits), '3'–'9' are 011001–011111 (6 bits); padding is 1s.</summary>
    private static int? HuffmanDigits(ReadOnlySpan<byte> v)
    {
        ulong bits = 0;
        foreach (var x in v) bits = bits << 8 | x;
        int left = v.Length * 8, status = 0, digits = 0;
        while (digits < 3)
        {
            if (left < 5) return null;
            var five = (int)(bits >> (left - 5)) & 0x1f;
            if (five <= 2) { status = status * 10 + five; left -= 5; }
            else
            {
                if (left < 6) return null;
                var six = (int)(bits >> (left - 6)) & 0x3f;
                if (six is < 0x19 or > 0x1f) return null;
                status = status * 10 + (six - 0x19 + 3); left -= 6;
            }
            digits++;
        }
        return status;
    }
}
