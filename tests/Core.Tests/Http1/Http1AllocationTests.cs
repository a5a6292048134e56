using System.Buffers;
using System.Text;
using Sidecar.Core.Http1;
using Xunit;

namespace Sidecar.Core.Tests.Http1;

/// <summary>The codec's steady state must not allocate: one reused head and decoder per connection.</summary>
public sealed class Http1AllocationTests
{
    private const int Messages = 10_000;

    private static readonly byte[] CurlHead = Encoding.ASCII.GetBytes(
        "GET /api/v1/items?id=42 HTTP/1.1\r\n" +
        "Host: backend.default.svc.cluster.local:8080\r\n" +
        "User-Agent: curl/8.5.0\r\n" +
        "Accept: */*\r\n" +
        "Accept-Encoding: gzip, deflate, br\r\n" +
        "Accept-Language: en-US,en;q=0.9\r\n" +
        "Connection: keep-alive\r\n" +
        "X-Request-Id: 0f8fad5b-d9cb-469f-a165-70867728950e\r\n" +
        "Cookie: session=abc123; theme=dark\r\n\r\n");

    private static readonly byte[] ChunkedBody = Encoding.ASCII.GetBytes(
        "5\r\nhello\r\n6;ext=1\r\n world\r\n1a\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Trailer: t\r\n\r\n");

    [Fact]
    public void PipelinedHeadsAndChunkedBodiesAllocateNothing()
    {
        // Pipelined: many heads back to back, split over segments at an awkward boundary.
        byte[] heads = Repeat(CurlHead, 64);
        byte[] bodies = Repeat(ChunkedBody, 64);
        ReadOnlySequence<byte> headSeq = TestSequence.Split(heads, heads.Length / 3 + 7, heads.Length / 2 + 1);
        ReadOnlySequence<byte> bodySeq = TestSequence.Split(bodies, bodies.Length / 3 + 5, bodies.Length / 2 + 3);
        using var head = new Http1Head();
        var decoder = new ChunkedDecoder();

        // Warm-up: JIT, tier-up (the rejit of hot methods allocates once), pool rental.
        for (int i = 0; i < 5; i++) Run(headSeq, bodySeq, head, ref decoder, Messages);
        long before = GC.GetAllocatedBytesForCurrentThread();
        long parsed = Run(headSeq, bodySeq, head, ref decoder, Messages);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(2L * Messages, parsed);
        Assert.Equal(0, allocated);
    }

    private static long Run(ReadOnlySequence<byte> heads, ReadOnlySequence<byte> bodies, Http1Head head, ref ChunkedDecoder decoder, int count)
    {
        long done = 0;
        var hr = new SequenceReader<byte>(heads);
        var br = new SequenceReader<byte>(bodies);
        long payload = 0;
        for (int i = 0; i < count; i++)
        {
            if (hr.End) hr = new SequenceReader<byte>(heads);
            head.Reset();
            if (Http1HeadParser.ParseRequest(ref hr, head, Http1Limits.Default, out _) != Http1ParseStatus.Complete) return -1;
            if (!head.KeepAlive || head.HeaderCount != 8) return -1;
            done++;

            if (br.End) br = new SequenceReader<byte>(bodies);
            decoder.Reset();
            while (true)
            {
                ChunkedStatus s = decoder.Read(ref br, out ReadOnlySequence<byte> data, out _);
                if (s == ChunkedStatus.Data) payload += data.Length;
                else if (s == ChunkedStatus.Done) break;
                else if (s != ChunkedStatus.Trailer) return -1;
            }
            done++;
        }
        return payload > 0 ? done : -1;
    }

    private static byte[] Repeat(byte[] unit, int times)
    {
        byte[] all = new byte[unit.Length * times];
        for (int i = 0; i < times; i++) unit.CopyTo(all, i * unit.Length);
        return all;
    }
}
