using System.Buffers;
using Sidecar.Core.Hpack;
using Xunit;
using static Sidecar.Core.Tests.Hpack.HpackTestData;

namespace Sidecar.Core.Tests.Hpack;

/// <summary>
/// The static name index the decoder passes along (IHpackHeaderSink's four-argument OnHeader) and the encoder's
/// overload that takes it instead of hashing and looking up the name: the index must be right whichever way the peer
/// referred to the name, 0 whenever it is not known, and encoding with it must give the bytes encoding without it gives.
/// </summary>
public sealed class HpackStaticNameTests
{
    private sealed class IndexSink : IHpackHeaderSink
    {
        public List<(string Name, string Value, int StaticName)> Fields { get; } = [];

        public void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, bool neverIndexed) => Fields.Add((Text(name), Text(value), -1));

        public void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, bool neverIndexed, int staticNameIndex) =>
            Fields.Add((Text(name), Text(value), staticNameIndex));

        private static string Text(ReadOnlySpan<byte> bytes) => System.Text.Encoding.Latin1.GetString(bytes);
    }

    [Fact]
    public void DecoderReportsTheFirstStaticIndexOfTheNameHoweverItWasReferred()
    {
        using var decoder = new HpackDecoder();
        var sink = new IndexSink();
        var block = new List<byte> { 0x8d, 0x83 };                     // :status 404 (static 13 -> 8), :method POST (3 -> 2)
        block.AddRange([0x45, 0x03, (byte)'/', (byte)'x', (byte)'y']); // incremental, name of static 5 (:path), raw "/xy"
        block.AddRange([0x40, 0x04, (byte)'h', (byte)'o', (byte)'s', (byte)'t', 0x01, (byte)'h']); // incremental, literal name "host"
        block.AddRange([0x7e, 0x01, (byte)'z']);                       // incremental, name of dynamic 62 (the literal-named host)
        block.AddRange([0x0f, 0x0b, 0x01, (byte)'t']);                 // without indexing, name of static 15 + 11 = 26 (content-encoding)
        Assert.Equal(HpackStatus.Ok, decoder.Decode(block.ToArray(), endHeaders: true, sink));
        // Now 62 = host: z, 63 = host: h, 64 = :path: /xy. Indexed 64 and 62, then incremental with the name of 64.
        Assert.Equal(HpackStatus.Ok, decoder.Decode(new byte[] { 0xc0, 0xbe, 0x7f, 0x01, 0x01, (byte)'w' }, endHeaders: true, sink));
        // 62 = :path: w, added with a name from an entry that had it from the static table.
        Assert.Equal(HpackStatus.Ok, decoder.Decode(new byte[] { 0xbe }, endHeaders: true, sink));
        Assert.Equal(
            [(":status", "404", 8), (":method", "POST", 2), (":path", "/xy", 4), ("host", "h", 0), ("host", "z", 0), ("content-encoding", "t", 26),
             (":path", "/xy", 4), ("host", "z", 0), (":path", "w", 4),
             (":path", "w", 4)],
            sink.Fields);
    }

    [Fact]
    public void SinkWithoutTheIndexGetsTheFieldsThroughTheThreeArgumentCall()
    {
        using var decoder = new HpackDecoder();
        var collector = new HeaderCollector();
        Assert.Equal(HpackStatus.Ok, decoder.Decode(new byte[] { 0x88, 0x82 }, endHeaders: true, collector));
        Assert.Equal([new(":status", "200"), new(":method", "GET")], collector.Fields);
    }

    [Fact]
    public void EncodingWithTheKnownIndexGivesTheSameBytesAsWithout()
    {
        var withIndex = new HpackEncoder();
        var without = new HpackEncoder();
        var a = new ArrayBufferWriter<byte>();
        var b = new ArrayBufferWriter<byte>();
        (string Name, string Value, bool NeverIndex)[] fields =
        [
            (":authority", "example.com", false), ("user-agent", "h2load nghttp2/1.52.0", false), ("accept", "*/*", false),
            ("accept-encoding", "gzip, deflate", false), ("date", "Fri, 27 Nov 2026 20:52:22 GMT", false), ("content-length", "13", false),
            ("authorization", "Basic x", false), ("cookie", "short", false), ("cookie", "a-cookie-long-enough-to-index=1", false),
            (":path", "/hello", false), (":status", "200", false), (":status", "299", false), ("set-cookie", "s=1", true),
            ("x-not-static", "v", false), ("date", "Fri, 27 Nov 2026 20:52:23 GMT", false), ("user-agent", "h2load nghttp2/1.52.0", true),
        ];
        for (int round = 0; round < 3; round++)
        {
            foreach ((string name, string value, bool neverIndex) in fields)
            {
                byte[] nameBytes = Latin1(name);
                withIndex.Encode(nameBytes, HpackStaticTable.FindName(nameBytes), Latin1(value), neverIndex, a);
                without.Encode(nameBytes, Latin1(value), neverIndex, b);
                Assert.Equal(Hex(b.WrittenSpan), Hex(a.WrittenSpan));
            }
        }
        Assert.Equal(without.DynamicTableCount, withIndex.DynamicTableCount);
    }

    [Fact]
    public void FirstIndexOfNameCoversEveryEntry()
    {
        for (int i = 1; i <= HpackStaticTable.Count; i++)
        {
            int first = HpackStaticTable.FirstIndexOfName(i);
            Assert.Equal(HpackStaticTable.FindName(HpackStaticTable.GetName(i)), first);
            Assert.True(HpackStaticTable.GetName(first).SequenceEqual(HpackStaticTable.GetName(i)));
        }
    }
}
