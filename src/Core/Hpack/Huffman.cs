using System.Buffers;

namespace Sidecar.Core.Hpack;

/// <summary>
/// The HPACK static Huffman code (RFC 7541 §5.2, Appendix B). Decoding is one table lookup per input byte: a state
/// machine over the code tree's 256 internal nodes, built once from the code table, whose transitions for a whole byte
/// say which symbols (at most two: every code is at least 5 bits long) it completes and where it leaves the walk. No
/// per-bit branching, no allocation.
/// </summary>
public static class Huffman
{
    // Byte transition word: bits 0-7 next state (tree node), 8-15 first symbol, 16-23 second symbol, 24-25 how many
    // symbols the byte completes (3 = the byte reaches EOS: a decoding error), bit 26 the state may end a string.
    private const uint StateMask = 0xFF;
    private const int FirstSymbolShift = 8;
    private const int SecondSymbolShift = 16;
    private const int CountShift = 24;
    private const uint CountMask = 3;
    private const uint FailCount = 3;
    private const uint AcceptFlag = 1u << 26;
    private const int StateCount = 256;

    /// <summary>[state * 256 + input byte] → transition word (256 KiB; the states real text visits stay cached).</summary>
    private static readonly uint[] ByteTransitions = BuildByteTransitions();

    /// <summary>Encoded size in bytes of <paramref name="source"/> (padded to a whole byte).</summary>
    public static int GetEncodedLength(ReadOnlySpan<byte> source) => GetEncodedLength(source, lowerCase: false);

    /// <summary>An upper bound on the decoded size: the shortest code is 5 bits.</summary>
    public static int GetMaxDecodedLength(int encodedLength) => (int)Math.Min(int.MaxValue, (long)encodedLength * 8 / 5);

    /// <summary>Huffman-encodes <paramref name="source"/>; returns the bytes written. Throws if the destination is too small (size it with <see cref="GetEncodedLength(ReadOnlySpan{byte})"/>).</summary>
    public static int Encode(ReadOnlySpan<byte> source, Span<byte> destination) => Encode(source, destination, lowerCase: false);

    internal static int GetEncodedLength(ReadOnlySpan<byte> source, bool lowerCase)
    {
        ReadOnlySpan<byte> lengths = HuffmanCode.Lengths;
        long bits = 0;
        foreach (byte b in source) bits += lengths[lowerCase ? AsciiLower(b) : b];
        return (int)Math.Min(int.MaxValue, (bits + 7) >> 3);
    }

    /// <summary>Encodes, optionally lower-casing ASCII letters on the way (field names, RFC 9113 §8.2.1).</summary>
    internal static int Encode(ReadOnlySpan<byte> source, Span<byte> destination, bool lowerCase)
    {
        ReadOnlySpan<uint> codes = HuffmanCode.Codes;
        ReadOnlySpan<byte> lengths = HuffmanCode.Lengths;
        ulong buffer = 0;
        int bitCount = 0;
        int pos = 0;
        foreach (byte raw in source)
        {
            byte b = lowerCase ? AsciiLower(raw) : raw;
            buffer = (buffer << lengths[b]) | codes[b];
            bitCount += lengths[b];
            while (bitCount >= 8)
            {
                bitCount -= 8;
                destination[pos++] = (byte)(buffer >> bitCount);
            }
        }
        if (bitCount > 0)
        {
            // §5.2: pad with the most significant bits of EOS, i.e. ones.
            destination[pos++] = (byte)((buffer << (8 - bitCount)) | (0xFFu >> bitCount));
        }
        return pos;
    }

    /// <summary>
    /// Decodes <paramref name="source"/> into <paramref name="destination"/>. <see cref="OperationStatus.InvalidData"/>
    /// when the string contains EOS, or its padding is longer than 7 bits or not all ones (RFC 7541 §5.2);
    /// <see cref="OperationStatus.DestinationTooSmall"/> when it does not fit (size with <see cref="GetMaxDecodedLength"/>).
    /// </summary>
    public static OperationStatus Decode(ReadOnlySpan<byte> source, Span<byte> destination, out int written)
    {
        uint[] table = ByteTransitions;
        // An empty string is complete; otherwise the last transition says whether its state may end a string.
        uint t = AcceptFlag;
        int pos = 0;
        written = 0;
        foreach (byte b in source)
        {
            t = table[(int)((t & StateMask) << 8) | b];
            uint count = (t >> CountShift) & CountMask;
            if (count == 0) continue;
            if (count == FailCount) return OperationStatus.InvalidData;
            if (destination.Length - pos < (int)count) return OperationStatus.DestinationTooSmall;
            destination[pos] = (byte)(t >> FirstSymbolShift);
            if (count == 2) destination[pos + 1] = (byte)(t >> SecondSymbolShift);
            pos += (int)count;
        }
        if ((t & AcceptFlag) == 0) return OperationStatus.InvalidData;
        written = pos;
        return OperationStatus.Done;
    }

    private static byte AsciiLower(byte b) => (uint)(b - 'A') <= 'Z' - 'A' ? (byte)(b | 0x20) : b;

    /// <summary>
    /// Builds the code tree (256 internal nodes for 257 leaves; node 0 is the root), walks every (node, byte) pair
    /// through it bit by bit, and records the symbols completed and the node reached. A state is accepting at the end
    /// of a string when the bits since the last symbol are at most seven ones: a prefix of EOS shorter than a byte
    /// (§5.2). Reaching the EOS leaf inside a string is an error (§5.2) whatever follows.
    /// </summary>
    private static uint[] BuildByteTransitions()
    {
        int[] children = BuildTree();
        var accepting = new bool[StateCount];
        accepting[0] = true;
        for (int node = 0, depth = 0; depth < 7; depth++)
        {
            node = children[node * 2 + 1];
            accepting[node] = true;
        }

        var table = new uint[StateCount * 256];
        for (int state = 0; state < StateCount; state++)
        {
            for (int input = 0; input < 256; input++)
            {
                int node = state;
                uint count = 0;
                uint symbols = 0;
                for (int bit = 7; bit >= 0 && count != FailCount; bit--)
                {
                    int child = children[node * 2 + ((input >> bit) & 1)];
                    if (child >= 0)
                    {
                        node = child;
                        continue;
                    }
                    int symbol = -child - 1;
                    if (symbol == HuffmanCode.EndOfString)
                    {
                        count = FailCount;
                        break;
                    }
                    // Two at most: a third would need 1 + 5 + 5 bits of the eight.
                    if (count == 2) throw new InvalidOperationException("HPACK Huffman code shorter than 5 bits");
                    symbols |= (uint)symbol << (count == 0 ? FirstSymbolShift : SecondSymbolShift);
                    count++;
                    node = 0;
                }
                uint word = count == FailCount ? FailCount << CountShift : (uint)node | symbols | (count << CountShift);
                if (count != FailCount && accepting[node]) word |= AcceptFlag;
                table[(state << 8) | input] = word;
            }
        }
        return table;
    }

    /// <summary>children[node * 2 + bit]: &gt; 0 internal node id, &lt; 0 leaf -(symbol + 1); the root (0) is never a child.</summary>
    private static int[] BuildTree()
    {
        ReadOnlySpan<uint> codes = HuffmanCode.Codes;
        ReadOnlySpan<byte> lengths = HuffmanCode.Lengths;
        var children = new int[StateCount * 2];
        int nodeCount = 1;
        for (int symbol = 0; symbol <= HuffmanCode.EndOfString; symbol++)
        {
            int node = 0;
            for (int bit = lengths[symbol] - 1; bit >= 0; bit--)
            {
                int slot = node * 2 + (int)((codes[symbol] >> bit) & 1);
                if (bit == 0)
                {
                    if (children[slot] != 0) throw new InvalidOperationException("HPACK Huffman table is not a prefix code");
                    children[slot] = -(symbol + 1);
                }
                else
                {
                    if (children[slot] == 0) children[slot] = nodeCount++;
                    else if (children[slot] < 0) throw new InvalidOperationException("HPACK Huffman table is not a prefix code");
                    node = children[slot];
                }
            }
        }
        // 257 leaves of a complete binary tree need exactly 256 internal nodes; with fewer a slot is left empty.
        if (nodeCount != StateCount) throw new InvalidOperationException("HPACK Huffman table is not a complete code");
        return children;
    }
}
