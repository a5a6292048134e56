using System.Buffers;
using System.Text;
using Sidecar.Core.Hpack;
using Xunit;

namespace Sidecar.Core.Tests.Hpack;

/// <summary>
/// The decoder's memo of recent Huffman strings must give exactly what <see cref="Huffman.Decode"/> gives for every
/// input: a hit on a string that only looks like a stored one (same length, same first bytes, same prefix, one bit
/// off) would hand a peer's field to the wrong message. Each test feeds such near-misses and compares with the
/// memo-less decoder; each also checks that its input really contains the look-alikes it is about.
/// </summary>
public sealed class HuffmanMemoTests
{
    [Fact]
    public void SameLengthAndFirstBytesButDifferentTailDecodeToTheirOwnText()
    {
        // Long shared prefixes: the encodings agree on their first seven bytes and their length, differ at the end.
        string[] texts = ["Fri, 27 Nov 2026 20:52:22 GMT", "Fri, 27 Nov 2026 20:52:23 GMT", "Fri, 27 Nov 2026 20:52:24 GMT", "Fri, 27 Nov 2026 20:52:32 GMT"];
        byte[][] encoded = Array.ConvertAll(texts, t => Encode(t));
        Assert.All(encoded, e => Assert.Equal(encoded[0].Length, e.Length));
        Assert.All(encoded, e => Assert.True(e.AsSpan(0, 7).SequenceEqual(encoded[0].AsSpan(0, 7))));

        var memo = new HuffmanMemo();
        for (int round = 0; round < 3; round++)
        {
            for (int i = 0; i < texts.Length; i++) Assert.Equal(texts[i], DecodeText(memo, encoded[i]));
            for (int i = texts.Length - 1; i >= 0; i--) Assert.Equal(texts[i], DecodeText(memo, encoded[i]));
        }
    }

    [Fact]
    public void DifferenceOnlyInTheLastByteIsSeen()
    {
        byte[] a = Encode("nginx/1.22.1 server field");
        // Change a symbol inside the last byte while keeping valid padding: find a variant the reference accepts.
        byte[]? variant = null;
        for (int bit = 0; bit < 8 && variant is null; bit++)
        {
            byte[] candidate = (byte[])a.Clone();
            candidate[^1] ^= (byte)(1 << bit);
            if (Huffman.Decode(candidate, new byte[64], out _) == OperationStatus.Done) variant = candidate;
        }
        Assert.NotNull(variant);
        var memo = new HuffmanMemo();
        AssertSameAsReference(memo, a);
        AssertSameAsReference(memo, variant);
        AssertSameAsReference(memo, variant);
        Assert.NotEqual(Reference(a).Text, Reference(variant).Text);
    }

    [Fact]
    public void PrefixOfAStoredStringIsNotTakenForIt()
    {
        // "text/plain" and "text/plain; charset=utf-8": one encoding starts with all but the last byte of the other.
        var memo = new HuffmanMemo();
        foreach (string text in new[] { "text/plain; charset=utf-8", "text/plain", "text/plain; charset=utf-8", "text/plai", "text/plain" })
        {
            Assert.Equal(text, DecodeText(memo, Encode(text)));
        }
        byte[] full = Encode("text/plain; charset=utf-8");
        for (int length = 1; length < full.Length; length++) AssertSameAsReference(memo, full.AsSpan(0, length).ToArray());
    }

    [Fact]
    public void OneBitFlipsAnywhereAgreeWithTheReferenceIncludingErrors()
    {
        // Every single-bit variant of stored strings: many decode to other text, many are bad padding or EOS (§5.2).
        var memo = new HuffmanMemo();
        string[] texts = ["nginx/1.22.1", "text/plain", "Fri, 27 Nov 2026 20:52:22 GMT", "application/json"];
        int errors = 0;
        foreach (string text in texts)
        {
            byte[] original = Encode(text);
            for (int bit = 0; bit < original.Length * 8; bit++)
            {
                AssertSameAsReference(memo, original);
                byte[] flipped = (byte[])original.Clone();
                flipped[bit / 8] ^= (byte)(0x80 >> (bit % 8));
                if (AssertSameAsReference(memo, flipped) != OperationStatus.Done) errors++;
            }
        }
        Assert.True(errors > 0, "no flip produced an invalid string: the error path was not exercised");
    }

    [Fact]
    public void RandomLookAlikesAgreeWithTheReference()
    {
        // A small alphabet and few lengths: the same length and first bytes come up constantly, and more distinct
        // strings than the memo has slots, so slots are replaced while look-alikes are still asked for.
        var random = new Random(20261127);
        var memo = new HuffmanMemo();
        var pool = new List<byte[]>();
        for (int i = 0; i < 40; i++)
        {
            var text = new StringBuilder("x-common-prefix-");
            int tail = random.Next(1, 6);
            for (int k = 0; k < tail; k++) text.Append("ab"[random.Next(2)]);
            pool.Add(Encode(text.ToString()));
        }
        int lookAlikes = 0;
        for (int i = 0; i < 20_000; i++)
        {
            byte[] pick = pool[random.Next(pool.Count)];
            if (pool.Exists(other => other != pick && other.Length == pick.Length && other.AsSpan(0, 7).SequenceEqual(pick.AsSpan(0, 7))
                && !other.AsSpan().SequenceEqual(pick))) lookAlikes++;
            AssertSameAsReference(memo, pick);
        }
        Assert.True(lookAlikes > 1000, $"only {lookAlikes} picks had a look-alike");
    }

    [Fact]
    public void HitIntoASmallDestinationIsReportedAsTooSmall()
    {
        var memo = new HuffmanMemo();
        byte[] encoded = Encode("nginx/1.22.1");
        Assert.Equal("nginx/1.22.1", DecodeText(memo, encoded));
        Assert.Equal(OperationStatus.DestinationTooSmall, memo.Decode(encoded, new byte[11], out int written));
        Assert.Equal(0, written);
        Assert.Equal("nginx/1.22.1", DecodeText(memo, encoded));
    }

    [Fact]
    public void LongAndEmptyStringsPassThrough()
    {
        var memo = new HuffmanMemo();
        string longText = new('q', 200);
        Assert.True(Encode(longText).Length > HuffmanMemo.MaxEncodedLength);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(longText, DecodeText(memo, Encode(longText)));
            Assert.Equal("", DecodeText(memo, []));
        }
    }

    /// <summary>
    /// Through the decoder, as nginx 1.22 sends a response: the same literals (incrementally indexed, never referred
    /// to, so the table churns underneath), with a date that changes
    /// in its last digits; each block must decode to its own fields.
    /// </summary>
    [Fact]
    public void DecoderGivesEachBlockItsOwnFields()
    {
        using var decoder = new HpackDecoder();
        for (int second = 0; second < 30; second++)
        {
            string date = $"Fri, 27 Nov 2026 20:52:{second % 20:D2} GMT";
            string type = second % 3 == 0 ? "text/plain" : second % 3 == 1 ? "text/plaim" : "text/html";
            byte[] block = NginxBlock(("server", "nginx/1.22.1"), ("date", date), ("content-type", type), ("content-length", (second % 13).ToString(System.Globalization.CultureInfo.InvariantCulture)));
            List<Field> fields = HpackTestData.DecodeBlock(decoder, block);
            Assert.Equal(
                [new(":status", "200"), new("server", "nginx/1.22.1"), new("date", date), new("content-type", type), new("content-length", (second % 13).ToString(System.Globalization.CultureInfo.InvariantCulture))],
                fields);
        }
    }

    /// <summary>:status 200 indexed, then literals with incremental indexing by static name with Huffman values (nginx 1.22).</summary>
    private static byte[] NginxBlock(params (string Name, string Value)[] fields)
    {
        var block = new List<byte> { 0x88 };
        foreach ((string name, string value) in fields)
        {
            int index = HpackStaticTable.FindName(Encoding.ASCII.GetBytes(name));
            Assert.InRange(index, 1, 62);
            block.Add((byte)(0x40 | index)); // §6.2.1, 6-bit prefix
            byte[] encoded = Encode(value);
            block.Add((byte)(0x80 | encoded.Length));
            block.AddRange(encoded);
        }
        return [.. block];
    }

    private static byte[] Encode(string text)
    {
        byte[] raw = Encoding.Latin1.GetBytes(text);
        byte[] encoded = new byte[Huffman.GetEncodedLength(raw)];
        Huffman.Encode(raw, encoded);
        return encoded;
    }

    private static string DecodeText(HuffmanMemo memo, byte[] encoded)
    {
        byte[] output = new byte[Huffman.GetMaxDecodedLength(encoded.Length)];
        Assert.Equal(OperationStatus.Done, memo.Decode(encoded, output, out int written));
        return Encoding.Latin1.GetString(output, 0, written);
    }

    private static (OperationStatus Status, string Text) Reference(byte[] encoded)
    {
        byte[] output = new byte[Huffman.GetMaxDecodedLength(encoded.Length)];
        OperationStatus status = Huffman.Decode(encoded, output, out int written);
        return (status, Encoding.Latin1.GetString(output, 0, written));
    }

    private static OperationStatus AssertSameAsReference(HuffmanMemo memo, byte[] encoded)
    {
        (OperationStatus expectedStatus, string expectedText) = Reference(encoded);
        byte[] output = new byte[Huffman.GetMaxDecodedLength(encoded.Length)];
        OperationStatus status = memo.Decode(encoded, output, out int written);
        Assert.Equal(expectedStatus, status);
        if (status == OperationStatus.Done) Assert.Equal(expectedText, Encoding.Latin1.GetString(output, 0, written));
        return status;
    }
}
