using System.Buffers;

namespace Sidecar.Core.Hpack;

/// <summary>The kinds of header field representation (RFC 7541 §6).</summary>
internal enum HpackRepresentationKind : byte
{
    Indexed,              // §6.1
    LiteralIncremental,   // §6.2.1
    LiteralWithoutIndex,  // §6.2.2
    LiteralNeverIndexed,  // §6.2.3
    SizeUpdate,           // §6.3
}

/// <summary>
/// Where the parts of one representation sit in its bytes. Parsing only measures and validates the framing, it
/// changes nothing, so an incomplete representation can be retried once more bytes arrive.
/// </summary>
internal struct HpackRepresentation
{
    public HpackRepresentationKind Kind;
    /// <summary>Indexed: the field index; literals: the name index (0 = literal name); size update: the new size.</summary>
    public int Index;
    public int NameOffset;
    public int NameLength;
    public bool NameHuffman;
    public int ValueOffset;
    public int ValueLength;
    public bool ValueHuffman;
    /// <summary>Total encoded length.</summary>
    public int Length;

    /// <summary>
    /// Parses the representation at the start of <paramref name="source"/>. NeedMoreData sets <paramref name="needed"/>
    /// to a lower bound on its total length (grows as more of it is seen); InvalidData means integer overflow.
    /// </summary>
    public static OperationStatus TryParse(ReadOnlySpan<byte> source, out HpackRepresentation rep, out int needed)
    {
        rep = default;
        needed = 1;
        if (source.IsEmpty) return OperationStatus.NeedMoreData;
        byte first = source[0];
        int prefixBits;
        if ((first & 0x80) != 0)
        {
            rep.Kind = HpackRepresentationKind.Indexed;
            prefixBits = 7;
        }
        else if ((first & 0x40) != 0)
        {
            rep.Kind = HpackRepresentationKind.LiteralIncremental;
            prefixBits = 6;
        }
        else if ((first & 0x20) != 0)
        {
            rep.Kind = HpackRepresentationKind.SizeUpdate;
            prefixBits = 5;
        }
        else
        {
            rep.Kind = (first & 0x10) != 0 ? HpackRepresentationKind.LiteralNeverIndexed : HpackRepresentationKind.LiteralWithoutIndex;
            prefixBits = 4;
        }

        OperationStatus status = HpackInteger.TryDecode(source, prefixBits, out rep.Index, out int pos);
        if (status != OperationStatus.Done) return NeedOrFail(status, source.Length + 1, out needed);
        if (rep.Kind is HpackRepresentationKind.Indexed or HpackRepresentationKind.SizeUpdate)
        {
            rep.Length = pos;
            return OperationStatus.Done;
        }
        if (rep.Index == 0)
        {
            status = ParseString(source, ref pos, out rep.NameOffset, out rep.NameLength, out rep.NameHuffman, out needed);
            if (status != OperationStatus.Done) return status;
        }
        status = ParseString(source, ref pos, out rep.ValueOffset, out rep.ValueLength, out rep.ValueHuffman, out needed);
        if (status != OperationStatus.Done) return status;
        rep.Length = pos;
        return OperationStatus.Done;
    }

    /// <summary>A string literal (§5.2): H bit, 7-bit-prefix length, then the octets.</summary>
    private static OperationStatus ParseString(ReadOnlySpan<byte> source, ref int pos, out int offset, out int length, out bool huffman, out int needed)
    {
        offset = 0;
        huffman = false;
        ReadOnlySpan<byte> rest = source[pos..];
        OperationStatus status = HpackInteger.TryDecode(rest, 7, out length, out int lengthBytes);
        if (status != OperationStatus.Done) return NeedOrFail(status, source.Length + 1, out needed);
        huffman = (rest[0] & 0x80) != 0;
        offset = pos + lengthBytes;
        long end = (long)offset + length;
        if (end > source.Length)
        {
            needed = (int)Math.Min(int.MaxValue, end);
            return OperationStatus.NeedMoreData;
        }
        pos = (int)end;
        needed = pos;
        return OperationStatus.Done;
    }

    private static OperationStatus NeedOrFail(OperationStatus status, int nextLength, out int needed)
    {
        needed = nextLength;
        return status == OperationStatus.NeedMoreData ? OperationStatus.NeedMoreData : OperationStatus.InvalidData;
    }
}
