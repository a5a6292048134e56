using System.Buffers;

namespace Sidecar.Core.Hpack;

/// <summary>
/// The HPACK static Huffman code (RFC 7541 §5.2, Appendix B). Decoding walks a 4-bit-at-a-time state machine built
/// once from the code table: one lookup per nibble, no per-bit branching, no allocation.
/// </summary>
public static class Huffman
{
    // Transition word layout: bits 0-7 next state, 8-15 emitted symbol, then flags.
    private const uint EmitFlag = 1u << 16;
    private const uint FailFlag = 1u << 17;
    private const uint AcceptFlag = 1u << 18;
    private const int StateCount = 256;

    /// <summary>[state * 16 + nibble] → transition word (see the flag constants).</summary>
    private static readonly uint[] Transitions = BuildTransitions();

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
        uint[] table = Transitions;
        int state = 0;
        bool accept = true;
        int pos = 0;
        written = 0;
        foreach (byte b in source)
        {
            uint t = table[(state << 4) | (b >> 4)];
            if ((t & FailFlag) != 0) return OperationStatus.InvalidData;
            if ((t & EmitFlag) != 0)
            {
                if (pos >= destination.Length) return OperationStatus.DestinationTooSmall;
                destination[pos++] = (byte)(t >> 8);
            }
            t = table[((int)(t & 0xFF) << 4) | (b & 0xF)];
            if ((t & FailFlag) != 0) return OperationStatus.InvalidData;
            if ((t & EmitFlag) != 0)
            {
                if (pos >= destination.Length) return OperationStatus.DestinationTooSmall;
                destination[pos++] = (byte)(t >> 8);
            }
            state = (int)(t & 0xFF);
            accept = (t & AcceptFlag) != 0;
        }
        if (!accept) return OperationStatus.InvalidData;
        written = pos;
        return OperationStatus.Done;
    }

    private static byte AsciiLower(byte b) => (uint)(b - 'A') <= 'Z' - 'A' ? (byte)(b | 0x20) : b;

    /// <summary>
    /// Builds the code tree (256 internal nodes for 257 leaves; node 0 is the root) and then, for every node and nibble,
    /// where four more bits lead. A state is accepting at the end of a string when the bits since the last symbol are
    /// at most seven ones: a prefix of EOS that is shorter than a byte (§5.2).
    /// </summary>
    private static uint[] BuildTransitions()
    {
        ReadOnlySpan<uint> codes = HuffmanCode.Codes;
        ReadOnlySpan<byte> lengths = HuffmanCode.Lengths;
        // children[node * 2 + bit]: > 0 internal node id, < 0 leaf -(symbol + 1), 0 unset (the root is never a child).
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
                    children[slot] = -(symbol + 1);
                }
                else
                {
                    if (children[slot] == 0) children[slot] = nodeCount++;
                    node = children[slot];
                }
            }
        }
        if (nodeCount != StateCount) throw new InvalidOperationException("HPACK Huffman table is not a complete code");

        var accepting = new bool[StateCount];
        accepting[0] = true;
        for (int node = 0, depth = 0; depth < 7; depth++)
        {
            node = children[node * 2 + 1];
            accepting[node] = true;
        }

        var table = new uint[StateCount * 16];
        for (int state = 0; state < StateCount; state++)
        {
            for (int nibble = 0; nibble < 16; nibble++)
            {
                int node = state;
                uint word = 0;
                for (int bit = 3; bit >= 0; bit--)
                {
                    int child = children[node * 2 + ((nibble >> bit) & 1)];
                    if (child >= 0)
                    {
                        node = child;
                        continue;
                    }
                    int symbol = -child - 1;
                    if (symbol == HuffmanCode.EndOfString)
                    {
                        word |= FailFlag;
                        break;
                    }
                    // At most one symbol per nibble: every code is at least 5 bits long.
                    word |= EmitFlag | ((uint)symbol << 8);
                    node = 0;
                }
                word |= (uint)node;
                if (accepting[node]) word |= AcceptFlag;
                table[(state << 4) | nibble] = word;
            }
        }
        return table;
    }
}
