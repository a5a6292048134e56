using System.Buffers;
using Sidecar.Core.Hpack;
using Xunit;
using static Sidecar.Core.Tests.Hpack.HpackTestData;

namespace Sidecar.Core.Tests.Hpack;

/// <summary>
/// The encoder remembers, per static or prepared name, the dynamic entry the name last matched, and indexes it again
/// without a lookup once it has compared it in full. A stale or wrong hit would index an entry that is gone or holds
/// another value: the decoder would then produce a different field. These tests change values, evict and shrink the
/// table under the remembered entries and check every field decodes as sent and the bytes match a path with no memory.
/// </summary>
public sealed class HpackEncoderEntryMemoTests
{
    [Theory]
    [InlineData(4096)]
    [InlineData(256)]
    [InlineData(100)]
    public void PreparedNameGivesTheSameBytesAsTheSameNameWithoutMemory(int tableSize)
    {
        // A prepared name outside the static table has a memory slot; the same name as bytes has none.
        var prepared = new HpackFieldName("x-memo-twin");
        var withMemo = new HpackEncoder(tableSize);
        var without = new HpackEncoder(tableSize);
        using var decoder = new HpackDecoder(tableSize);
        var random = new Random(tableSize);
        string[] values = ["a", "bb", "a-longer-value-that-takes-room", "0", "1", "a"];
        for (int block = 0; block < 400; block++)
        {
            var a = new ArrayBufferWriter<byte>();
            var b = new ArrayBufferWriter<byte>();
            withMemo.BeginBlock(a);
            without.BeginBlock(b);
            var sent = new List<Field>();
            for (int i = 0; i < 3; i++)
            {
                string value = values[random.Next(values.Length)];
                withMemo.Encode(prepared, Latin1(value), false, a);
                without.Encode(Latin1("x-memo-twin"), Latin1(value), false, b);
                sent.Add(new Field("x-memo-twin", value));
                // Other fields push entries out, so remembered ones get evicted.
                string filler = "filler-" + random.Next(12).ToString(System.Globalization.CultureInfo.InvariantCulture);
                withMemo.Encode(Latin1("x-other"), Latin1(filler), false, a);
                without.Encode(Latin1("x-other"), Latin1(filler), false, b);
                sent.Add(new Field("x-other", filler));
            }
            Assert.Equal(Hex(b.WrittenSpan), Hex(a.WrittenSpan));
            Assert.Equal(sent, DecodeBlock(decoder, a.WrittenSpan.ToArray()));
            if (block % 50 == 49)
            {
                // The peer shrinks its table and lets it grow again: every remembered entry is gone.
                withMemo.SetPeerMaxTableSize(0);
                without.SetPeerMaxTableSize(0);
                withMemo.SetPeerMaxTableSize(tableSize);
                without.SetPeerMaxTableSize(tableSize);
            }
        }
    }

    [Fact]
    public void StaticNamesDecodeAsSentThroughValueChangesAndEviction()
    {
        var encoder = new HpackEncoder(200);
        using var decoder = new HpackDecoder(200);
        var random = new Random(7);
        string[] dates = ["Fri, 27 Nov 2026 20:52:22 GMT", "Fri, 27 Nov 2026 20:52:23 GMT", "Fri, 27 Nov 2026 20:52:24 GMT"];
        string[] types = ["text/plain", "text/html", "text/plaiN"];
        for (int block = 0; block < 300; block++)
        {
            var writer = new ArrayBufferWriter<byte>();
            encoder.BeginBlock(writer);
            var sent = new List<Field>();
            foreach ((string name, string value) in new[] { ("date", dates[random.Next(3)]), ("content-type", types[random.Next(3)]), ("server", "envoy") })
            {
                // Both ways in: by the decoder-reported static index, and as bytes.
                if (random.Next(2) == 0) encoder.Encode(Latin1(name), HpackStaticTable.FindName(Latin1(name)), Latin1(value), false, writer);
                else encoder.Encode(Latin1(name), Latin1(value), false, writer);
                sent.Add(new Field(name, value));
            }
            Assert.Equal(sent, DecodeBlock(decoder, writer.WrittenSpan.ToArray()));
        }
    }

    [Fact]
    public void RepeatIsOneIndexedByteAndAnEvictedEntryIsNotReferenced()
    {
        var encoder = new HpackEncoder(120); // room for two entries of this size
        var prepared = new HpackFieldName("x-memo-evict");
        string first = EncodeOne(encoder, prepared, "value-1");
        Assert.StartsWith("40", first, StringComparison.Ordinal);          // literal with incremental indexing (§6.2.1)
        Assert.Equal("be", EncodeOne(encoder, prepared, "value-1"));     // index 62
        EncodeOne(encoder, new HpackFieldName("x-memo-other"), "other-value-1");
        EncodeOne(encoder, new HpackFieldName("x-memo-other"), "other-value-2"); // evicts x-memo-evict: value-1
        Assert.StartsWith("40", EncodeOne(encoder, prepared, "value-1"), StringComparison.Ordinal);
    }

    private static string EncodeOne(HpackEncoder encoder, HpackFieldName name, string value)
    {
        var writer = new ArrayBufferWriter<byte>();
        encoder.Encode(name, Latin1(value), false, writer);
        return Hex(writer.WrittenSpan);
    }
}
