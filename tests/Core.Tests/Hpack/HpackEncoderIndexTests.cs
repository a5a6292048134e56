using System.Buffers;
using System.Text;
using Sidecar.Core.Hpack;
using Xunit;

namespace Sidecar.Core.Tests.Hpack;

/// <summary>
/// The encoder's dynamic-table lookups (a hash index) against a model of the table kept by this test: a plain list,
/// newest first, filled from what the encoder actually wrote (§6.2.1 literals) and evicted by the §4.4 rules. For
/// every field the encoder must find exactly what a newest-first scan of that list finds: a full match is the one
/// indexed byte of the newest matching entry (§6.1); otherwise the name reference is the static one, else the newest
/// dynamic entry with that name. Evictions, table size changes (down to 0 and up past the initial allocation) and many
/// entries under one name are all in the mix.
/// </summary>
public sealed class HpackEncoderIndexTests
{
    private static readonly string[] Names =
    [
        "x-envoy-upstream-service-time", "X-Envoy-Upstream-Service-Time", "content-type", "server", "x-custom",
        "X-CUSTOM", "date", "accept", "x-tenant", "cache-control", ":authority", "x-a", "x-b",
    ];

    private static readonly string[] Values =
    [
        "0", "1", "2", "3", "17", "application/json", "text/html", "envoy", "", "no-cache",
        "Fri, 27 Nov 2026 16:52:22 GMT", "backend.default.svc.cluster.local", new string('v', 300), new string('w', 1500),
    ];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void LookupsMatchANewestFirstScanOfTheTable(int seed)
    {
        var random = new Random(seed);
        var encoder = new HpackEncoder(maxDynamicTableSize: 8192);
        using var decoder = new HpackDecoder(maxDynamicTableSize: 8192, maxHeaderListSize: 1 << 20);
        var model = new List<(string Name, string Value)>(); // newest first, names lower-cased as the encoder stores them
        int[] sizes = [4096, 256, 0, 8192, 1024, 100, 4096, 6000];
        int fullMatches = 0, nameReferences = 0;
        for (int block = 0; block < 1500; block++)
        {
            if (block % 97 == 96)
            {
                int size = sizes[random.Next(sizes.Length)];
                encoder.SetPeerMaxTableSize(size);
                Evict(model, encoder.DynamicTableMaxSize, 0);
            }
            var output = new ArrayBufferWriter<byte>();
            encoder.BeginBlock(output);
            var sent = new List<Field>();
            for (int f = random.Next(1, 12); f > 0; f--)
            {
                string name = Names[random.Next(Names.Length)];
                string value = Values[random.Next(random.Next(2) == 0 ? 5 : Values.Length)];
                bool neverIndex = random.Next(20) == 0;
                int start = output.WrittenCount;
                encoder.Encode(Encoding.ASCII.GetBytes(name), Encoding.ASCII.GetBytes(value), neverIndex, output);
                ReadOnlySpan<byte> written = output.WrittenSpan[start..];
                (bool full, bool name2) = Check(model, name.ToLowerInvariant(), value, neverIndex, written, encoder.DynamicTableMaxSize);
                if (full) fullMatches++;
                if (name2) nameReferences++;
                sent.Add(new Field(name.ToLowerInvariant(), value, neverIndex));
                Assert.Equal(model.Count, encoder.DynamicTableCount);
            }
            // And the decoder, whose table follows the representations alone, agrees on every field.
            var sink = new HeaderCollector();
            Assert.Equal(HpackStatus.Ok, decoder.Decode(output.WrittenSpan, endHeaders: true, sink));
            Assert.Equal(HpackTestData.WithoutFlags(sent), HpackTestData.WithoutFlags(sink.Fields));
        }
        Assert.True(fullMatches > 500, $"{fullMatches} full dynamic matches");
        Assert.True(nameReferences > 100, $"{nameReferences} dynamic name references");
    }

    /// <summary>Checks one field's representation against the model and updates the model; returns which dynamic lookups it exercised.</summary>
    private static (bool Full, bool Name) Check(List<(string Name, string Value)> model, string name, string value, bool neverIndex, ReadOnlySpan<byte> written, int maxSize)
    {
        int staticFull = neverIndex ? 0 : HpackStaticTable.Find(Encoding.ASCII.GetBytes(name), Encoding.ASCII.GetBytes(value), out _);
        int staticName = HpackStaticTable.FindName(Encoding.ASCII.GetBytes(name));
        int dynamicFull = neverIndex ? 0 : model.FindIndex(e => e.Name == name && e.Value == value) + 1;
        int dynamicName = model.FindIndex(e => e.Name == name) + 1;
        byte first = written[0];
        if (staticFull != 0 || dynamicFull != 0)
        {
            int expected = staticFull != 0 ? staticFull : HpackStaticTable.Count + dynamicFull;
            Assert.True((first & 0x80) != 0, $"{name}: {value} should be indexed ({expected})");
            Assert.Equal(OperationStatus.Done, HpackInteger.TryDecode(written, 7, out int index, out int consumed));
            Assert.Equal(expected, index);
            Assert.Equal(consumed, written.Length);
            return (staticFull == 0, false);
        }
        Assert.True((first & 0x80) == 0, $"{name}: {value} is in no table but was sent indexed");
        int prefix = (first & 0x40) != 0 ? 6 : 4;
        Assert.Equal(OperationStatus.Done, HpackInteger.TryDecode(written, prefix, out int nameIndex, out _));
        int expectedName = staticName != 0 ? staticName : dynamicName != 0 ? HpackStaticTable.Count + dynamicName : 0;
        Assert.Equal(expectedName, nameIndex);
        if (neverIndex) Assert.Equal(0x10, first & 0xF0);
        if ((first & 0x40) != 0)
        {
            // §4.4: evict until the new entry fits; one larger than the table empties it and is not added.
            int size = name.Length + value.Length + 32;
            if (size > maxSize)
            {
                model.Clear();
            }
            else
            {
                Evict(model, maxSize, size);
                model.Insert(0, (name, value));
            }
        }
        return (false, staticName == 0 && dynamicName != 0);
    }

    private static void Evict(List<(string Name, string Value)> model, int maxSize, int incoming)
    {
        while (model.Count > 0 && model.Sum(e => e.Name.Length + e.Value.Length + 32) + incoming > maxSize) model.RemoveAt(model.Count - 1);
    }
}

/// <summary>The hash index of the table itself, through a resize that reallocates (the encoder's own limit never forces one).</summary>
public sealed class HpackDynamicTableIndexTests
{
    [Fact]
    public void LookupsSurviveGrowthAndEviction()
    {
        var table = new HpackDynamicTable(capacity: 200, maxSize: 200, hashed: true);
        for (int i = 0; i < 10; i++) table.Add(Encoding.ASCII.GetBytes($"Name-{i % 3}"), Encoding.ASCII.GetBytes($"value-{i}"), lowerCaseName: true);
        // 200 bytes hold four 46-byte entries: values 6..9 remain, newest first.
        Assert.Equal(4, table.Count);
        Assert.Equal(1, Find(table, "name-0", "value-9"));
        Assert.Equal(4, Find(table, "NAME-0", "value-6"));
        Assert.Equal(0, Find(table, "name-2", "value-5"));
        Assert.Equal(2, FindName(table, "name-2"));
        table.SetMaxSize(1000); // past the capacity: buffers reallocated, the index rebuilt
        Assert.Equal(4, Find(table, "name-0", "value-6"));
        Assert.Equal(3, FindName(table, "name-1"));
        for (int i = 10; i < 30; i++) table.Add(Encoding.ASCII.GetBytes($"name-{i % 3}"), Encoding.ASCII.GetBytes($"value-{i}"), lowerCaseName: true);
        Assert.Equal(1, Find(table, "name-2", "value-29"));
        Assert.Equal(0, Find(table, "name-0", "value-6"));
        Assert.Equal(1, FindName(table, "name-2"));
        table.SetMaxSize(0);
        Assert.Equal(0, FindName(table, "name-2"));
        table.SetMaxSize(100);
        table.Add("x"u8, "y"u8, lowerCaseName: false);
        Assert.Equal(1, Find(table, "x", "y"));
        Assert.Equal(0, FindName(table, "name-2"));
    }

    private static int Find(HpackDynamicTable table, string name, string value) =>
        table.FindField(Encoding.ASCII.GetBytes(name), HpackHash.OfLowerCase(Encoding.ASCII.GetBytes(name)), Encoding.ASCII.GetBytes(value), HpackHash.Of(Encoding.ASCII.GetBytes(value)));

    private static int FindName(HpackDynamicTable table, string name) =>
        table.FindName(Encoding.ASCII.GetBytes(name), HpackHash.OfLowerCase(Encoding.ASCII.GetBytes(name)));
}
