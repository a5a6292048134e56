using System.Runtime.CompilerServices;
using Sidecar.Core.Hpack;
using Xunit;
using static Sidecar.Core.Tests.Hpack.HpackTestData;

namespace Sidecar.Core.Tests.Hpack;

/// <summary>Once the tables are warm, encoding and decoding a typical request allocates nothing.</summary>
public sealed class HpackAllocationTests
{
    private const int Iterations = 20_000;

    private static readonly byte[][] Names =
    [
        .. new[] { ":method", ":scheme", ":authority", ":path", "user-agent", "accept", "Accept-Encoding", "x-request-id", "content-type" }.Select(Latin1),
    ];

    private static readonly byte[][] Values =
    [
        .. new[] { "GET", "https", "backend.default.svc.cluster.local:8080", "/api/v1/items?id=42", "curl/8.5.0", "*/*", "gzip, deflate, br", "", "application/json" }.Select(Latin1),
    ];

    /// <summary>Per-request ids: literal without indexing, Huffman-coded, a new value each time.</summary>
    private static readonly byte[][] RequestIds = [.. Enumerable.Range(0, 16).Select(i => Latin1($"0f8fad5b-d9cb-469f-a165-{i:x12}"))];

    [Fact]
    public void EncodeAndDecodeOfATypicalRequestAllocateNothing()
    {
        var encoder = new HpackEncoder();
        using var decoder = new HpackDecoder();
        var sink = new CountingSink();
        byte[] block = new byte[1024];

        // Warm-up: JIT and tier-up (which allocates once), pool rental, tables filled.
        for (int i = 0; i < 5; i++) Run(encoder, decoder, sink, block, Iterations);
        long allocated = Measure(encoder, decoder, sink, block);

        Assert.Equal(0, allocated);
        Assert.Equal(6 * Iterations * Names.Length, sink.Count);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static long Measure(HpackEncoder encoder, HpackDecoder decoder, CountingSink sink, byte[] block)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        Run(encoder, decoder, sink, block, Iterations);
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    private static void Run(HpackEncoder encoder, HpackDecoder decoder, CountingSink sink, byte[] block, int count)
    {
        for (int i = 0; i < count; i++)
        {
            Span<byte> span = block;
            if (!encoder.TryBeginBlock(span, out int length)) throw new InvalidOperationException("begin");
            for (int f = 0; f < Names.Length; f++)
            {
                ReadOnlySpan<byte> value = Names[f].Length == 12 ? RequestIds[i & 15] : Values[f];
                if (!encoder.TryEncode(Names[f], value, neverIndex: false, span[length..], out int n)) throw new InvalidOperationException("encode");
                length += n;
            }
            // Split into two fragments to take the carry-over path too.
            int cut = length / 2 + (i & 7);
            if (decoder.Decode(span[..cut], endHeaders: false, sink) != HpackStatus.Ok) throw new InvalidOperationException("decode 1");
            if (decoder.Decode(span[cut..length], endHeaders: true, sink) != HpackStatus.Ok) throw new InvalidOperationException("decode 2");
        }
    }
}
