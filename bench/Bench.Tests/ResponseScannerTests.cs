using System.Text;
using Sidecar.Bench.LoadGen;

namespace Sidecar.Bench.Tests;

public sealed class ResponseScannerTests
{
    private static int CountResponses(string wire, int splitEvery, out int lastStatus, out bool broken)
    {
        var scanner = new ResponseScanner();
        var bytes = Encoding.ASCII.GetBytes(wire);
        var count = 0;
        for (var off = 0; off < bytes.Length; off += splitEvery)
        {
            var piece = bytes.AsSpan(off, Math.Min(splitEvery, bytes.Length - off));
            while (piece.Length > 0)
            {
                var done = scanner.Feed(piece, out var used);
                if (scanner.Broken)
                {
                    lastStatus = 0;
                    broken = true;
                    return count;
                }
                piece = piece[used..];
                count += done ? 1 : 0;
            }
        }
        lastStatus = scanner.LastStatus;
        broken = false;
        return count;
    }

    public static TheoryData<int> Splits => new() { 1, 2, 3, 7, 64, 4096 };

    [Theory]
    [MemberData(nameof(Splits))]
    public void ContentLengthResponsesAreFramedWhereverTheStreamSplits(int split)
    {
        var wire = "HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nhello, world\n" +
                   "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n" +
                   "HTTP/1.1 503 Busy\r\nContent-Length: 5\r\nX: y\r\n\r\nbusy!";
        Assert.Equal(3, CountResponses(wire, split, out var status, out var broken));
        Assert.False(broken);
        Assert.Equal(503, status);
    }

    [Theory]
    [MemberData(nameof(Splits))]
    public void ChunkedBodiesWithExtensionsAndTrailersEndAtTheLastChunk(int split)
    {
        // RFC 9112 §7.1: chunk-size [; ext] CRLF data CRLF ... 0 CRLF trailers CRLF
        var wire = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=1\r\nhello\r\nA\r\n0123456789\r\n0\r\nT: v\r\n\r\n" +
                   "HTTP/1.1 201 Created\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n";
        Assert.Equal(2, CountResponses(wire, split, out var status, out var broken));
        Assert.False(broken);
        Assert.Equal(201, status);
    }

    [Fact]
    public void BodylessStatusesAndInterimResponsesAreHandled()
    {
        // RFC 9112 §6.3: 204/304 have no body even with Content-Length; a 1xx precedes the final response.
        var wire = "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n" +
                   "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
        Assert.Equal(2, CountResponses(wire, 1, out var status, out var broken));
        Assert.False(broken);
        Assert.Equal(200, status);
    }

    [Theory]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\n\r\nbody until close")]
    [InlineData("SSH-2.0-OpenSSH\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")]
    public void MalformedOrUnframedResponsesBreakTheConnection(string wire)
    {
        CountResponses(wire, 5, out _, out var broken);
        Assert.True(broken);
    }
}
