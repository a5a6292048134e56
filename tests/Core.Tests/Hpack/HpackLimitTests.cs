using Sidecar.Core.Hpack;
using Xunit;
using static Sidecar.Core.Tests.Hpack.HpackTestData;

namespace Sidecar.Core.Tests.Hpack;

/// <summary>MaxHeaderListSize (RFC 9113 §6.5.2) bounds what a block can expand to, including HPACK bombs (RFC 7541 §7.3).</summary>
public sealed class HpackLimitTests
{
    [Fact]
    public void BombReferencingOneLargeEntryIsStoppedByTheListLimitNotMemory()
    {
        using var decoder = new HpackDecoder(maxHeaderListSize: 16 * 1024);
        // Block 1: one ~4 KB entry ("x" = 4000 × 'a') inserted with incremental indexing.
        byte[] entry = [0x40, 0x01, (byte)'x', 0x7f, .. Int7Continuation(4000 - 127), .. Enumerable.Repeat((byte)'a', 4000)];
        Assert.Single(DecodeBlock(decoder, entry));
        Assert.Equal(1, decoder.DynamicTableCount);

        // Block 2: 20,000 one-byte references to it would expand to 80 MB.
        byte[] bomb = Enumerable.Repeat((byte)0xbe, 20_000).ToArray();
        // Warm-up on another decoder (JIT, pool rental) so only the bomb itself is measured.
        using (var warm = new HpackDecoder(maxHeaderListSize: 16 * 1024))
        {
            DecodeBlock(warm, entry);
            DecodeBlock(warm, bomb, HpackStatus.HeaderListTooLarge);
        }
        var sink = new CountingSink();
        long before = GC.GetAllocatedBytesForCurrentThread();
        HpackStatus status = decoder.Decode(bomb, endHeaders: true, sink);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(HpackStatus.HeaderListTooLarge, status);
        Assert.Equal(4, sink.Count);                // 4 × 4033 fits under 16 KiB, the 5th does not
        Assert.True(allocated < 64 * 1024, $"decoding the bomb allocated {allocated} bytes");
        Assert.Equal(1, decoder.DynamicTableCount); // the table is intact: the connection can go on
        Assert.Equal([new Field("x", new string('a', 4000))], DecodeBlock(decoder, [0xbe]));
    }

    [Fact]
    public void ListTooLargeKeepsTheTableInSyncAndStopsTheSink()
    {
        using var decoder = new HpackDecoder(maxHeaderListSize: 100);
        // A 63-byte field (over the limit with the one before it), then an indexing literal after the limit was crossed.
        byte[] block =
        [
            0x82,                                                        // :method GET (42)
            0x00, 0x01, (byte)'b', 0x1e, .. Enumerable.Repeat((byte)'v', 30), // b: 30 × v (63) => 105 > 100
            0x40, 0x01, (byte)'c', 0x01, (byte)'d',                      // c: d, incremental indexing
        ];
        var sink = new HeaderCollector();
        Assert.Equal(HpackStatus.Ok, decoder.Decode(block.AsSpan(0, 3), endHeaders: false, sink));
        Assert.Equal(HpackStatus.HeaderListTooLarge, decoder.Decode(block.AsSpan(3), endHeaders: true, sink));
        Assert.Equal([new Field(":method", "GET")], sink.Fields);
        // The entry added after the limit was crossed is there; the next block starts afresh.
        Assert.Equal([new Field("c", "d")], DecodeBlock(decoder, [0xbe]));
    }

    [Fact]
    public void HeaderListTooLargeIsReportedForEveryLaterFragmentOfTheBlock()
    {
        using var decoder = new HpackDecoder(maxHeaderListSize: 50); // one static field is 42, two are over
        var sink = new HeaderCollector();
        Assert.Equal(HpackStatus.HeaderListTooLarge, decoder.Decode(FromHex("82 86"), endHeaders: false, sink));
        Assert.Equal(HpackStatus.HeaderListTooLarge, decoder.Decode(FromHex("84"), endHeaders: false, sink));
        Assert.Equal(HpackStatus.HeaderListTooLarge, decoder.Decode(ReadOnlySpan<byte>.Empty, endHeaders: true, sink));
        Assert.Equal(HpackStatus.Ok, decoder.Decode(FromHex("82"), endHeaders: true, sink));
    }

    private static byte[] Int7Continuation(int rest)
    {
        var bytes = new List<byte>();
        while (rest >= 0x80)
        {
            bytes.Add((byte)(rest | 0x80));
            rest >>= 7;
        }
        bytes.Add((byte)rest);
        return [.. bytes];
    }
}
