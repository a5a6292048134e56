using Sidecar.Core.Hpack;
using Xunit;
using static Sidecar.Core.Tests.Hpack.HpackTestData;

namespace Sidecar.Core.Tests.Hpack;

/// <summary>Malformed blocks are COMPRESSION_ERROR (RFC 9113 §4.3), grouped by the RFC 7541 section they break.</summary>
public sealed class HpackDecoderErrorTests
{
    private static HpackStatus DecodeHex(string hex, HpackDecoder? decoder = null)
    {
        using var owned = decoder is null ? new HpackDecoder() : null;
        return (decoder ?? owned!).Decode(FromHex(hex), endHeaders: true, new HeaderCollector());
    }

    // §6.1: "The index value of 0 is not used. It MUST be treated as a decoding error."
    [Theory]
    [InlineData("80")]          // indexed field, index 0
    [InlineData("82 80")]       // after a valid field
    public void Section6_1_IndexZeroIsAnError(string hex) => Assert.Equal(HpackStatus.CompressionError, DecodeHex(hex));

    // §2.3.3: "Indices strictly greater than the sum of the lengths of both tables MUST be treated as a decoding error."
    [Theory]
    [InlineData("be")]                   // indexed 62, dynamic table empty
    [InlineData("ff 80 01")]             // indexed 255
    [InlineData("7e 01 61")]             // literal with incremental indexing, name index 62
    [InlineData("0f 2f 01 61")]          // literal without indexing, name index 62
    [InlineData("1f 2f 01 61")]          // literal never indexed, name index 62
    public void Section2_3_3_IndexBeyondBothTablesIsAnError(string hex) => Assert.Equal(HpackStatus.CompressionError, DecodeHex(hex));

    [Fact]
    public void Section2_3_3_IndexJustPastTheDynamicTableIsAnError()
    {
        using var decoder = new HpackDecoder();
        // Literal with incremental indexing, new name "a" = "b": one dynamic entry, index 62.
        Assert.Equal([new Field("a", "b")], DecodeBlock(decoder, FromHex("40 01 61 01 62")));
        Assert.Equal([new Field("a", "b")], DecodeBlock(decoder, FromHex("be")));
        Assert.Equal(HpackStatus.CompressionError, DecodeHex("bf", decoder));
    }

    // §5.1 integers: values over 2^31 - 1 and more than five continuation bytes are rejected (§7.4 / implementation limit).
    [Theory]
    [InlineData("ff ff ff ff ff 0f")]          // indexed: 127 + 0x7f_ffff_fff (over 2^31)
    [InlineData("ff 80 80 80 80 80 00")]       // value 127 but six continuation bytes
    [InlineData("00 7f ff ff ff ff 0f")]       // string length over 2^31
    [InlineData("3f ff ff ff ff 7f")]          // size update over 2^31
    public void Section5_1_IntegerOverflowIsAnError(string hex) => Assert.Equal(HpackStatus.CompressionError, DecodeHex(hex));

    [Fact]
    public void Section5_1_LargestIntIsAccepted()
    {
        // 2^31 - 1 as a 7-bit-prefix integer decodes (it is then an index beyond the tables, which is a different check).
        Assert.True(HpackInteger.TryEncode(int.MaxValue, 7, 0x80, new byte[8], out int n));
        Assert.Equal(System.Buffers.OperationStatus.Done, HpackInteger.TryDecode(FromHex("ff 80 ff ff ff 07"), 7, out int value, out int consumed));
        Assert.Equal(int.MaxValue, value);
        Assert.Equal(6, consumed);
        Assert.Equal(6, n);
    }

    // §5.2: "A Huffman-encoded string literal containing the EOS symbol MUST be treated as a decoding error." Padding
    // longer than 7 bits, or not the most significant bits of EOS (all ones), MUST be treated as a decoding error.
    [Theory]
    [InlineData("ff ff ff ff")]   // EOS (30 ones) + 2 padding bits
    [InlineData("1f ff")]         // 'a' (00011) then 11 bits of padding
    [InlineData("18")]            // 'a' then padding 000
    [InlineData("1e")]            // 'a' then padding 110
    [InlineData("ff")]            // 8 bits of padding, no symbol
    public void Section5_2_BadHuffmanIsAnError(string huffman)
    {
        byte[] body = FromHex(huffman);
        // Literal without indexing, name "a", value = the Huffman string.
        string hex = "00 01 61 " + (0x80 | body.Length).ToString("x2") + " " + huffman;
        Assert.Equal(HpackStatus.CompressionError, DecodeHex(hex));
        Assert.Equal(System.Buffers.OperationStatus.InvalidData, Huffman.Decode(body, new byte[16], out _));
    }

    [Fact]
    public void Section5_2_ShortAllOnesPaddingIsAccepted()
    {
        // 'a' + 111 padding = 0x1f; "www.example.com" from RFC 7541 C.4.1.
        Assert.Equal([new Field("a", "a")], DecodeBlock(new HpackDecoder(), FromHex("00 01 61 81 1f")));
        Assert.Equal([new Field(":authority", "www.example.com")], DecodeBlock(new HpackDecoder(), FromHex("41 8c f1e3 c2e5 f23a 6ba0 ab90 f4ff")));
    }

    // §6.3: "The new maximum size MUST be lower than or equal to the limit" (SETTINGS_HEADER_TABLE_SIZE).
    [Fact]
    public void Section6_3_SizeUpdateAboveTheLimitIsAnError()
    {
        Assert.Equal(HpackStatus.Ok, DecodeHex("3f e1 1f 82"));                  // 4096: at the limit
        Assert.Equal(HpackStatus.CompressionError, DecodeHex("3f e2 1f 82"));    // 4097
        using var small = new HpackDecoder(maxDynamicTableSize: 100);
        Assert.Equal(HpackStatus.CompressionError, DecodeHex("3f 46 82", small)); // 101
    }

    // §4.2: the update "MUST occur at the beginning of the first header block following the change".
    [Fact]
    public void Section4_2_SizeUpdateAfterAFieldIsAnError()
    {
        Assert.Equal(HpackStatus.CompressionError, DecodeHex("82 20"));
        Assert.Equal(HpackStatus.Ok, DecodeHex("20 3f e1 1f 82")); // two updates at the start are fine (min then final)

        // Across fragments: a field in the first fragment, the update at the start of the second.
        using var decoder = new HpackDecoder();
        var sink = new HeaderCollector();
        Assert.Equal(HpackStatus.Ok, decoder.Decode(FromHex("82"), endHeaders: false, sink));
        Assert.Equal(HpackStatus.CompressionError, decoder.Decode(FromHex("20"), endHeaders: true, sink));

        // An empty first fragment does not end the block's start.
        using var other = new HpackDecoder();
        Assert.Equal(HpackStatus.Ok, other.Decode(ReadOnlySpan<byte>.Empty, endHeaders: false, sink));
        Assert.Equal(HpackStatus.Ok, other.Decode(FromHex("20 82"), endHeaders: true, sink));
    }

    [Fact]
    public void Section4_2_LoweredLimitRequiresAnUpdateFirst()
    {
        using var decoder = new HpackDecoder();
        decoder.MaxDynamicTableSize = 1024;
        Assert.Equal(HpackStatus.CompressionError, DecodeHex("82", decoder));

        using var compliant = new HpackDecoder();
        DecodeBlock(compliant, FromHex("40 01 61 01 62")); // one entry
        compliant.MaxDynamicTableSize = 0;
        Assert.Equal(0, compliant.DynamicTableCount);
        Assert.Equal([new Field(":method", "GET")], DecodeBlock(compliant, FromHex("20 82")));
        Assert.Equal(HpackStatus.CompressionError, DecodeHex("be", compliant)); // the entry is gone
    }

    // A block that ends inside a representation cannot be decoded (RFC 9113 §4.3: COMPRESSION_ERROR).
    [Theory]
    [InlineData("82 41")]              // literal, value length missing
    [InlineData("ff")]                 // integer continues
    [InlineData("ff 80")]              // integer continues after a continuation byte
    [InlineData("00 05 61 62")]        // name string shorter than its length
    [InlineData("00 01 61 03 61 62")]  // value string shorter than its length
    [InlineData("40")]                 // only the type byte
    public void TruncatedBlockIsAnError(string hex) => Assert.Equal(HpackStatus.CompressionError, DecodeHex(hex));

    [Fact]
    public void DecoderStaysFailedAfterACompressionError()
    {
        using var decoder = new HpackDecoder();
        Assert.Equal(HpackStatus.CompressionError, DecodeHex("80", decoder));
        Assert.Equal(HpackStatus.CompressionError, DecodeHex("82", decoder));
    }

    [Fact]
    public void SplitRepresentationLargerThanTheCarryOverBoundIsAnError()
    {
        // A 200-byte value split across fragments with a 64-byte list limit cannot be held: connection error.
        using var decoder = new HpackDecoder(maxHeaderListSize: 64);
        byte[] block = [0x00, 0x01, (byte)'a', 0x7f, 200 - 127, .. new byte[200]];
        var sink = new HeaderCollector();
        Assert.Equal(HpackStatus.CompressionError, decoder.Decode(block.AsSpan(0, 10), endHeaders: false, sink));

        // The same representation whole in one fragment is decoded and reported as too large instead.
        using var whole = new HpackDecoder(maxHeaderListSize: 64);
        Assert.Equal(HpackStatus.HeaderListTooLarge, whole.Decode(block, endHeaders: true, sink));
        Assert.Empty(sink.Fields);
    }
}
