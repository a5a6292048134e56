using System.Buffers;
using Sidecar.Core.Hpack;
using Xunit;
using static Sidecar.Core.Tests.Hpack.HpackTestData;

namespace Sidecar.Core.Tests.Hpack;

/// <summary>Integers (§5.1), Huffman (§5.2, Appendix B) and the static table (Appendix A) against the RFC's examples.</summary>
public sealed class HpackPrimitiveTests
{
    // RFC 7541 C.1.1-C.1.3.
    [Theory]
    [InlineData(10, 5, "0a")]
    [InlineData(1337, 5, "1f9a0a")]
    [InlineData(42, 8, "2a")]
    [InlineData(31, 5, "1f00")]
    [InlineData(int.MaxValue, 7, "7f80ffffff07")]
    public void IntegerExamples(int value, int prefix, string hex)
    {
        byte[] buffer = new byte[8];
        Assert.True(HpackInteger.TryEncode(value, prefix, 0, buffer, out int written));
        Assert.Equal(hex, Hex(buffer.AsSpan(0, written)));
        Assert.Equal(written, HpackInteger.GetEncodedLength(value, prefix));
        Assert.Equal(OperationStatus.Done, HpackInteger.TryDecode(FromHex(hex), prefix, out int decoded, out int consumed));
        Assert.Equal(value, decoded);
        Assert.Equal(written, consumed);
        Assert.False(HpackInteger.TryEncode(value, prefix, 0, buffer.AsSpan(0, written - 1), out _));
        for (int cut = 0; cut < written; cut++)
        {
            Assert.Equal(OperationStatus.NeedMoreData, HpackInteger.TryDecode(FromHex(hex).AsSpan(0, cut), prefix, out _, out _));
        }
    }

    // RFC 7541 C.4.1-C.4.3 and C.6.1 strings.
    [Theory]
    [InlineData("www.example.com", "f1e3c2e5f23a6ba0ab90f4ff")]
    [InlineData("no-cache", "a8eb10649cbf")]
    [InlineData("custom-key", "25a849e95ba97d7f")]
    [InlineData("custom-value", "25a849e95bb8e8b4bf")]
    [InlineData("302", "6402")]
    [InlineData("private", "aec3771a4b")]
    [InlineData("Mon, 21 Oct 2013 20:13:21 GMT", "d07abe941054d444a8200595040b8166e082a62d1bff")]
    [InlineData("https://www.example.com", "9d29ad171863c78f0b97c8e9ae82ae43d3")]
    public void HuffmanExamples(string text, string hex)
    {
        byte[] raw = Latin1(text);
        byte[] encoded = new byte[Huffman.GetEncodedLength(raw)];
        Assert.Equal(hex.Length / 2, encoded.Length);
        Assert.Equal(encoded.Length, Huffman.Encode(raw, encoded));
        Assert.Equal(hex, Hex(encoded));
        byte[] decoded = new byte[Huffman.GetMaxDecodedLength(encoded.Length)];
        Assert.Equal(OperationStatus.Done, Huffman.Decode(encoded, decoded, out int written));
        Assert.Equal(text, System.Text.Encoding.Latin1.GetString(decoded, 0, written));
        Assert.Equal(OperationStatus.DestinationTooSmall, Huffman.Decode(encoded, decoded.AsSpan(0, written - 1), out _));
    }

    [Fact]
    public void HuffmanRoundTripsEveryByteValueAndLength()
    {
        var random = new Random(7541);
        for (int length = 0; length < 300; length++)
        {
            byte[] raw = new byte[length];
            random.NextBytes(raw);
            if (length == 256) for (int i = 0; i < 256; i++) raw[i] = (byte)i;
            byte[] encoded = new byte[Huffman.GetEncodedLength(raw)];
            Huffman.Encode(raw, encoded);
            byte[] decoded = new byte[Huffman.GetMaxDecodedLength(encoded.Length)];
            Assert.Equal(OperationStatus.Done, Huffman.Decode(encoded, decoded, out int written));
            Assert.Equal(raw, decoded[..written]);
        }
    }

    [Fact]
    public void StaticTableMatchesAppendixA()
    {
        Assert.Equal(":authority", System.Text.Encoding.ASCII.GetString(HpackStaticTable.GetName(1)));
        Assert.Equal("www-authenticate", System.Text.Encoding.ASCII.GetString(HpackStaticTable.GetName(61)));
        Assert.Equal("gzip, deflate", System.Text.Encoding.ASCII.GetString(HpackStaticTable.GetValue(16)));
        Assert.Equal(2, HpackStaticTable.FindName(":method"u8));
        Assert.Equal(8, HpackStaticTable.FindName(":STATUS"u8));
        Assert.Equal(31, HpackStaticTable.FindName("Content-Type"u8));
        Assert.Equal(0, HpackStaticTable.FindName("x-request-id"u8));
        Assert.Equal(13, HpackStaticTable.Find(":status"u8, "404"u8, out int nameIndex));
        Assert.Equal(8, nameIndex);
        Assert.Equal(0, HpackStaticTable.Find(":status"u8, "302"u8, out nameIndex));
        Assert.Equal(8, nameIndex);
        Assert.Equal(16, HpackStaticTable.Find("Accept-Encoding"u8, "gzip, deflate"u8, out _));
        Assert.Equal(0, HpackStaticTable.Find("accept-encoding"u8, "GZIP, deflate"u8, out _)); // values are exact
        // Every entry finds itself; every name finds its first entry.
        for (int i = 1; i <= HpackStaticTable.Count; i++)
        {
            Assert.Equal(i, HpackStaticTable.Find(HpackStaticTable.GetName(i), HpackStaticTable.GetValue(i), out int first));
            Assert.True(first <= i && HpackStaticTable.GetName(first).SequenceEqual(HpackStaticTable.GetName(i)));
        }
    }

    // RFC 7541 C.3: three requests without Huffman on one connection, checking the dynamic table size after each.
    [Fact]
    public void RequestExamplesWithoutHuffman()
    {
        using var decoder = new HpackDecoder();
        Assert.Equal(
            [new(":method", "GET"), new(":scheme", "http"), new(":path", "/"), new(":authority", "www.example.com")],
            DecodeBlock(decoder, FromHex("828684410f7777772e6578616d706c652e636f6d")));
        Assert.Equal(57, decoder.DynamicTableSize);
        Assert.Equal(
            [new(":method", "GET"), new(":scheme", "http"), new(":path", "/"), new(":authority", "www.example.com"), new("cache-control", "no-cache")],
            DecodeBlock(decoder, FromHex("828684be58086e6f2d6361636865")));
        Assert.Equal(110, decoder.DynamicTableSize);
        Assert.Equal(
            [new(":method", "GET"), new(":scheme", "https"), new(":path", "/index.html"), new(":authority", "www.example.com"), new("custom-key", "custom-value")],
            DecodeBlock(decoder, FromHex("828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565")));
        Assert.Equal(164, decoder.DynamicTableSize);
        Assert.Equal(3, decoder.DynamicTableCount);
    }
}
