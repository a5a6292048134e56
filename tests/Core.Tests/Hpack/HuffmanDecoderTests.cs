using System.Buffers;
using Sidecar.Core.Hpack;
using Xunit;

namespace Sidecar.Core.Tests.Hpack;

/// <summary>
/// The table-driven Huffman decoder (RFC 7541 §5.2) against a reference that reads the code bit by bit, matching
/// against Appendix B's (code, length) pairs directly — no tree, no state machine — so a wrong transition, symbol,
/// accepting state or EOS check in the decoder's tables shows up as a disagreement.
/// </summary>
public sealed class HuffmanDecoderTests
{
    [Fact]
    public void EverySymbolRoundTripsAlone()
    {
        for (int symbol = 0; symbol < 256; symbol++)
        {
            byte[] raw = [(byte)symbol];
            byte[] encoded = Encode(raw);
            Assert.Equal((HuffmanCode.Lengths[symbol] + 7) / 8, encoded.Length);
            Assert.Equal(raw, DecodeOk(encoded));
            // The same symbol at every bit offset: after 1..7 bits of a 5-bit symbol ('0' is 00000).
            for (int shift = 1; shift <= 7; shift++)
            {
                byte[] shifted = [.. Enumerable.Repeat((byte)'0', shift), (byte)symbol];
                Assert.Equal(shifted, DecodeOk(Encode(shifted)));
            }
        }
    }

    [Fact]
    public void RandomStringsRoundTrip()
    {
        var random = new Random(20261127);
        for (int i = 0; i < 3000; i++)
        {
            byte[] raw = new byte[random.Next(0, 120)];
            if (i % 2 == 0)
            {
                random.NextBytes(raw);
            }
            else
            {
                // Header-like text: printable ASCII, where most codes are 5-8 bits and bytes complete two symbols.
                for (int k = 0; k < raw.Length; k++) raw[k] = (byte)random.Next(0x20, 0x7F);
            }
            byte[] encoded = Encode(raw);
            Assert.Equal(raw, DecodeOk(encoded));
            if (raw.Length > 0)
            {
                // One byte short of the output: never written past, reported as such.
                Assert.Equal(OperationStatus.DestinationTooSmall, Huffman.Decode(encoded, new byte[raw.Length - 1], out _));
            }
        }
    }

    [Fact]
    public void EveryOneAndTwoByteInputAgreesWithTheReference()
    {
        byte[] output = new byte[8];
        for (int a = 0; a < 256; a++)
        {
            AssertAgrees([(byte)a], output);
            for (int b = 0; b < 256; b++) AssertAgrees([(byte)a, (byte)b], output);
        }
    }

    [Fact]
    public void RandomInputsAgreeWithTheReference()
    {
        var random = new Random(7541);
        byte[] output = new byte[64];
        for (int i = 0; i < 50_000; i++)
        {
            byte[] input = new byte[random.Next(1, 12)];
            random.NextBytes(input);
            // Bias towards long runs of ones (EOS and padding territory) and towards valid text.
            if (i % 3 == 0) for (int k = random.Next(input.Length); k < input.Length; k++) input[k] = 0xFF;
            if (i % 3 == 1) input = Encode([.. input.Select(x => (byte)(0x20 + x % 0x5F))]);
            AssertAgrees(input, output);
        }
    }

    [Fact]
    public void EosInsideTheStringIsRejected()
    {
        // §5.2: "A Huffman-encoded string literal containing the EOS symbol MUST be treated as a decoding error."
        // EOS alone (30 ones) padded with two ones is four 0xFF bytes.
        Assert.Equal(OperationStatus.InvalidData, Huffman.Decode([0xFF, 0xFF, 0xFF, 0xFF], new byte[8], out _));
        foreach (string text in new[] { "a", "ab", "www.example.com", "\u00ff" })
        {
            byte[] raw = HpackTestData.Latin1(text);
            var bits = new BitWriter();
            foreach (byte b in raw) bits.Write(HuffmanCode.Codes[b], HuffmanCode.Lengths[b]);
            bits.Write(HuffmanCode.Codes[HuffmanCode.EndOfString], HuffmanCode.Lengths[HuffmanCode.EndOfString]);
            Assert.Equal(OperationStatus.InvalidData, Huffman.Decode(bits.ToPaddedBytes(), new byte[64], out _));
            // EOS followed by more symbols is rejected just the same.
            foreach (byte b in raw) bits.Write(HuffmanCode.Codes[b], HuffmanCode.Lengths[b]);
            Assert.Equal(OperationStatus.InvalidData, Huffman.Decode(bits.ToPaddedBytes(), new byte[64], out _));
        }
    }

    [Theory]
    [InlineData("a")]          // 5 bits + 3 of padding
    [InlineData("0a")]         // 10 bits + 6
    [InlineData("www.example.com")]
    [InlineData("custom-key")]
    public void PaddingLongerThanSevenBitsIsRejected(string text)
    {
        // §5.2: "A padding strictly longer than 7 bits MUST be treated as a decoding error."
        byte[] encoded = Encode(HpackTestData.Latin1(text));
        Assert.Equal(HpackTestData.Latin1(text), DecodeOk(encoded));
        for (int extra = 1; extra <= 4; extra++)
        {
            byte[] longer = [.. encoded, .. Enumerable.Repeat((byte)0xFF, extra)];
            Assert.Equal(OperationStatus.InvalidData, Huffman.Decode(longer, new byte[64], out _));
        }
        Assert.Equal(OperationStatus.InvalidData, Huffman.Decode([0xFF], new byte[8], out _));
    }

    [Fact]
    public void PaddingThatIsNotTheEosPrefixIsRejected()
    {
        // §5.2: padding "corresponding to the most significant bits of the code for the EOS symbol" (all ones); any
        // other padding is a decoding error — unless the changed bits happen to spell one more whole symbol, which the
        // reference decides. Every zero pattern over every padding length is tried.
        int rejected = 0;
        for (int symbol = 0; symbol < 256; symbol++)
        {
            byte[] raw = [(byte)symbol];
            byte[] encoded = Encode(raw);
            int padding = encoded.Length * 8 - HuffmanCode.Lengths[symbol];
            for (int mask = 1; mask < 1 << padding; mask++)
            {
                byte[] changed = [.. encoded];
                changed[^1] ^= (byte)mask;
                AssertAgrees(changed, new byte[8]);
                if (Reference(changed, out _) == OperationStatus.InvalidData) rejected++;
            }
        }
        Assert.True(rejected > 1000, $"only {rejected} padding variants were invalid");
    }

    [Fact]
    public void StringsCutAtEveryBitAreAcceptedExactlyAtSymbolBoundaries()
    {
        var random = new Random(5);
        for (int i = 0; i < 200; i++)
        {
            byte[] raw = new byte[random.Next(1, 12)];
            for (int k = 0; k < raw.Length; k++) raw[k] = (byte)(i % 2 == 0 ? random.Next(0x20, 0x7F) : random.Next(256));
            var boundaries = new Dictionary<int, int>(); // bit position → symbols before it
            var bits = new BitWriter();
            for (int k = 0; k < raw.Length; k++)
            {
                boundaries[bits.Count] = k;
                bits.Write(HuffmanCode.Codes[raw[k]], HuffmanCode.Lengths[raw[k]]);
            }
            boundaries[bits.Count] = raw.Length;
            for (int cut = 0; cut <= bits.Count; cut++)
            {
                byte[] prefix = bits.ToPaddedBytes(cut);
                AssertAgrees(prefix, new byte[32]);
                if (boundaries.TryGetValue(cut, out int symbols))
                {
                    Assert.Equal(raw[..symbols], DecodeOk(prefix));
                }
            }
        }
    }

    [Fact]
    public void DecodeAllocatesNothing()
    {
        byte[] encoded = Encode("Mozilla/5.0 (X11; Linux x86_64) bench/1.0"u8.ToArray());
        byte[] output = new byte[64];
        for (int i = 0; i < 100; i++) Huffman.Decode(encoded, output, out _);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++) Huffman.Decode(encoded, output, out _);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private static byte[] Encode(byte[] raw)
    {
        byte[] encoded = new byte[Huffman.GetEncodedLength(raw)];
        Assert.Equal(encoded.Length, Huffman.Encode(raw, encoded));
        return encoded;
    }

    private static byte[] DecodeOk(byte[] encoded)
    {
        byte[] output = new byte[Huffman.GetMaxDecodedLength(encoded.Length)];
        Assert.Equal(OperationStatus.Done, Huffman.Decode(encoded, output, out int written));
        return output[..written];
    }

    private static void AssertAgrees(byte[] input, byte[] output)
    {
        OperationStatus expected = Reference(input, out byte[] expectedBytes);
        OperationStatus actual = Huffman.Decode(input, output, out int written);
        Assert.True(expected == actual, $"{HpackTestData.Hex(input)}: reference {expected}, decoder {actual}");
        if (actual == OperationStatus.Done) Assert.Equal(expectedBytes, output[..written]);
    }

    /// <summary>
    /// RFC 7541 §5.2 read literally: take bits until they equal some symbol's code of that length; EOS is an error;
    /// what is left at the end must be fewer than 8 bits, all ones.
    /// </summary>
    private static OperationStatus Reference(ReadOnlySpan<byte> input, out byte[] decoded)
    {
        var output = new List<byte>();
        decoded = [];
        uint code = 0;
        int length = 0;
        for (int i = 0; i < input.Length * 8; i++)
        {
            code = (code << 1) | (uint)((input[i / 8] >> (7 - i % 8)) & 1);
            length++;
            int symbol = SymbolOf(code, length);
            if (symbol == HuffmanCode.EndOfString) return OperationStatus.InvalidData;
            if (symbol < 0) continue;
            output.Add((byte)symbol);
            code = 0;
            length = 0;
        }
        if (length > 7 || code != (1u << length) - 1) return OperationStatus.InvalidData;
        decoded = [.. output];
        return OperationStatus.Done;
    }

    /// <summary>(length, code) → symbol, straight from Appendix B.</summary>
    private static readonly Dictionary<long, int> Symbols = BuildSymbols();

    private static Dictionary<long, int> BuildSymbols()
    {
        var symbols = new Dictionary<long, int>();
        for (int symbol = 0; symbol <= HuffmanCode.EndOfString; symbol++) symbols.Add(((long)HuffmanCode.Lengths[symbol] << 32) | HuffmanCode.Codes[symbol], symbol);
        return symbols;
    }

    private static int SymbolOf(uint code, int length) => Symbols.TryGetValue(((long)length << 32) | code, out int symbol) ? symbol : -1;

    /// <summary>Bits MSB first, for building inputs the encoder would never produce.</summary>
    private sealed class BitWriter
    {
        private readonly List<bool> _bits = [];

        public int Count => _bits.Count;

        public void Write(uint code, int length)
        {
            for (int bit = length - 1; bit >= 0; bit--) _bits.Add(((code >> bit) & 1) != 0);
        }

        /// <summary>The first <paramref name="count"/> bits (all by default), padded with ones to a whole byte.</summary>
        public byte[] ToPaddedBytes(int count = -1)
        {
            if (count < 0) count = _bits.Count;
            byte[] bytes = new byte[(count + 7) / 8];
            for (int i = 0; i < bytes.Length * 8; i++)
            {
                if (i >= count || _bits[i]) bytes[i / 8] |= (byte)(0x80 >> (i % 8));
            }
            return bytes;
        }
    }
}
