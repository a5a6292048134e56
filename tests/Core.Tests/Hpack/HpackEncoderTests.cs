using System.Buffers;
using Sidecar.Core.Hpack;
using Xunit;
using static Sidecar.Core.Tests.Hpack.HpackTestData;

namespace Sidecar.Core.Tests.Hpack;

/// <summary>Encoder choices: indexing, case, never-indexed, size updates (§4.2, §6.3), fixed-buffer failure.</summary>
public sealed class HpackEncoderTests
{
    private static string Encode(HpackEncoder encoder, string name, string value, bool neverIndex = false)
    {
        var writer = new ArrayBufferWriter<byte>();
        encoder.Encode(Latin1(name), Latin1(value), neverIndex, writer);
        return Hex(writer.WrittenSpan);
    }

    private static string Begin(HpackEncoder encoder)
    {
        var writer = new ArrayBufferWriter<byte>();
        encoder.BeginBlock(writer);
        return Hex(writer.WrittenSpan);
    }

    [Fact]
    public void StaticFullMatchIsIndexedAndNameLookupIgnoresCase()
    {
        var encoder = new HpackEncoder();
        Assert.Equal("82", Encode(encoder, ":method", "GET"));
        Assert.Equal("90", Encode(encoder, "Accept-Encoding", "gzip, deflate")); // index 16
        Assert.Equal(0, encoder.DynamicTableCount);
    }

    [Fact]
    public void NameIsLowerCasedOnTheWireAndInTheTable()
    {
        var encoder = new HpackEncoder();
        using var decoder = new HpackDecoder();
        var writer = new ArrayBufferWriter<byte>();
        encoder.Encode(Latin1("X-Custom-Route"), Latin1("Blue"), false, writer);
        encoder.Encode(Latin1("x-custom-ROUTE"), Latin1("Blue"), false, writer); // same entry, case-insensitive
        Assert.Equal(1, encoder.DynamicTableCount);
        Assert.Equal("be", Hex(writer.WrittenSpan[^1..]));
        Assert.Equal([new("x-custom-route", "Blue"), new("x-custom-route", "Blue")], DecodeBlock(decoder, writer.WrittenSpan.ToArray()));
    }

    [Fact]
    public void RepeatIsIndexedFromTheDynamicTable()
    {
        var encoder = new HpackEncoder();
        string first = Encode(encoder, ":authority", "www.example.com");
        Assert.Equal("418cf1e3c2e5f23a6ba0ab90f4ff", first); // RFC 7541 C.4.1: literal, indexed name 1, Huffman
        Assert.Equal("be", Encode(encoder, ":authority", "www.example.com"));
    }

    [Fact]
    public void NeverIndexUsesSection6_2_3AndIsDecodedAsSuch()
    {
        var encoder = new HpackEncoder();
        using var decoder = new HpackDecoder();
        string hex = Encode(encoder, ":method", "GET", neverIndex: true); // even a static full match stays a literal
        Assert.StartsWith("12", hex, StringComparison.Ordinal);              // 0001 0010: never indexed, name index 2
        Assert.Equal([new(":method", "GET", true)], DecodeBlock(decoder, FromHex(hex)));
        Assert.Equal(0, encoder.DynamicTableCount);
    }

    [Theory]
    [InlineData(":path", "/a", "04")]                 // per request: without indexing, static name 4
    [InlineData("content-length", "1234", "0f0d")]    // without indexing, static name 28
    [InlineData("set-cookie", "id=1", "0f28")]        // without indexing, static name 55
    [InlineData("x-request-id", "abc", "00")]         // without indexing, literal name
    [InlineData("authorization", "Bearer x", "1f08")] // never indexed, static name 23
    [InlineData("cookie", "short=1", "1f11")]         // short cookie: never indexed (§7.1.3)
    [InlineData("user-agent", "curl/8", "7a")]        // incremental, static name 58
    public void IndexingPolicy(string name, string value, string prefix)
    {
        var encoder = new HpackEncoder();
        Assert.StartsWith(prefix, Encode(encoder, name, value), StringComparison.Ordinal);
        Assert.Equal(prefix.StartsWith('7') || prefix.StartsWith('4') ? 1 : 0, encoder.DynamicTableCount);
    }

    [Fact]
    public void OversizedEntryIsNotIndexed()
    {
        var encoder = new HpackEncoder();
        Encode(encoder, "x-big", new string('a', 3100)); // 3100 + 5 + 32 > 3/4 of 4096
        Assert.Equal(0, encoder.DynamicTableCount);
    }

    [Fact]
    public void SizeUpdatesSignalTheMinimumThenTheFinalSize()
    {
        var encoder = new HpackEncoder();
        Assert.Equal("", Begin(encoder));                      // nothing changed
        encoder.SetPeerMaxTableSize(4096);
        Assert.Equal("", Begin(encoder));                      // same size: no update
        encoder.SetPeerMaxTableSize(0);
        encoder.SetPeerMaxTableSize(4096);
        Assert.Equal("203fe11f", Begin(encoder));              // 0 then 4096
        Assert.Equal("", Begin(encoder));
        encoder.SetPeerMaxTableSize(2048);
        encoder.SetPeerMaxTableSize(1024);
        Assert.Equal("3fe107", Begin(encoder));                // only the final 1024 (it is also the minimum)
        encoder.SetPeerMaxTableSize(65536);
        Assert.Equal("3fe11f", Begin(encoder));                // capped at our own 4096
        Assert.Equal(4096, encoder.DynamicTableMaxSize);
    }

    [Fact]
    public void SmallOwnLimitIsAnnouncedInTheFirstBlock()
    {
        var encoder = new HpackEncoder(maxDynamicTableSize: 256);
        Assert.Equal("3fe101", Begin(encoder));                // 256 < the peer's initial 4096
        using var decoder = new HpackDecoder();
        Assert.Equal(HpackStatus.Ok, decoder.Decode(FromHex("3fe101"), endHeaders: true, new HeaderCollector()));
    }

    [Fact]
    public void ShrinkingEvictsAndTheDecoderFollows()
    {
        var encoder = new HpackEncoder();
        using var decoder = new HpackDecoder();
        var writer = new ArrayBufferWriter<byte>();
        encoder.BeginBlock(writer);
        encoder.Encode(Latin1("x-a"), Latin1("1"), false, writer);
        encoder.Encode(Latin1("x-b"), Latin1("2"), false, writer);
        DecodeBlock(decoder, writer.WrittenSpan.ToArray());
        Assert.Equal(2, encoder.DynamicTableCount);

        encoder.SetPeerMaxTableSize(40); // room for one 36-byte entry
        decoder.MaxDynamicTableSize = 40;
        Assert.Equal(1, encoder.DynamicTableCount);
        writer.ResetWrittenCount();
        encoder.BeginBlock(writer);
        encoder.Encode(Latin1("x-b"), Latin1("2"), false, writer);
        Assert.Equal([new("x-b", "2")], DecodeBlock(decoder, writer.WrittenSpan.ToArray()));
        Assert.Equal(1, decoder.DynamicTableCount);
    }

    [Fact]
    public void TryEncodeTooSmallLeavesTheTableUnchanged()
    {
        var encoder = new HpackEncoder();
        byte[] small = new byte[10];
        Assert.False(encoder.TryEncode(Latin1("user-agent"), Latin1("a fairly long user agent value"), false, small, out _));
        Assert.Equal(0, encoder.DynamicTableCount);
        byte[] big = new byte[64];
        Assert.True(encoder.TryEncode(Latin1("user-agent"), Latin1("a fairly long user agent value"), false, big, out int written));
        Assert.True(written > 10);
        Assert.Equal(1, encoder.DynamicTableCount);
    }

    [Theory]
    [InlineData(64)]
    [InlineData(200)]
    [InlineData(1000)]
    [InlineData(4096)]
    public void RandomFieldsRoundTripThroughSmallWrappingTables(int tableSize)
    {
        // Random names/values from small pools so entries repeat, are evicted and wrap around both rings.
        var random = new Random(tableSize);
        var encoder = new HpackEncoder(tableSize);
        using var decoder = new HpackDecoder(tableSize, 1 << 20);
        string[] names = ["x-a", "x-bb", "X-Ccc", "user-agent", ":authority", "content-type", "x-long-header-name-for-wrapping"];
        for (int block = 0; block < 400; block++)
        {
            var expected = new List<Field>();
            var writer = new ArrayBufferWriter<byte>();
            encoder.BeginBlock(writer);
            for (int f = random.Next(1, 12); f > 0; f--)
            {
                string name = names[random.Next(names.Length)];
                string value = new string((char)('a' + random.Next(5)), random.Next(0, tableSize / 3 + 2));
                encoder.Encode(Latin1(name), Latin1(value), random.Next(10) == 0, writer);
                expected.Add(new Field(name.ToLowerInvariant(), value));
            }
            Assert.Equal(expected, WithoutFlags(DecodeBlock(decoder, writer.WrittenSpan.ToArray())));
        }
    }
}
