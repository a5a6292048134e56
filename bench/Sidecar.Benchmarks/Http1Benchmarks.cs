using System.Buffers;
using System.Text;
using BenchmarkDotNet.Attributes;
using Sidecar.Core.Http1;

namespace Sidecar.Benchmarks;

/// <summary>HTTP/1 head parsing and chunked decoding over a ReadOnlySequence, into reused state.</summary>
[MemoryDiagnoser]
public class Http1Benchmarks
{
    private static readonly byte[] RequestBytes = Encoding.ASCII.GetBytes(
        "GET /api/v1/users/12345/profile?fields=name,email HTTP/1.1\r\n" +
        "Host: service.namespace.svc.cluster.local\r\n" +
        "User-Agent: Mozilla/5.0 (X11; Linux x86_64) bench/1.0\r\n" +
        "Accept: application/json\r\n" +
        "Accept-Encoding: gzip, deflate\r\n" +
        "Connection: keep-alive\r\n" +
        "x-request-id: 9f0c1b2e-4d3a-4b5c-8e7f-0a1b2c3d4e5f\r\n" +
        "x-forwarded-for: 10.0.0.1\r\n" +
        "Cookie: session=abcdef0123456789; theme=dark\r\n\r\n");

    private static readonly byte[] ResponseBytes = Encoding.ASCII.GetBytes(
        "HTTP/1.1 200 OK\r\n" +
        "Date: Fri, 27 Nov 2026 03:00:00 GMT\r\n" +
        "Content-Type: application/json; charset=utf-8\r\n" +
        "Content-Length: 1024\r\n" +
        "Connection: keep-alive\r\n" +
        "Cache-Control: no-cache\r\n" +
        "Server: nginx/1.22.1\r\n\r\n");

    private static readonly byte[] ChunkedBytes = BuildChunked();

    private readonly ReadOnlySequence<byte> _request = new(RequestBytes);
    private readonly ReadOnlySequence<byte> _response = new(ResponseBytes);
    private readonly ReadOnlySequence<byte> _chunked = new(ChunkedBytes);
    private readonly Http1Head _head = new();
    private ChunkedDecoder _decoder;

    private static byte[] BuildChunked()
    {
        // 4 chunks of 256 B (with one chunk extension) + last-chunk + one trailer: 1 KiB of payload.
        var sb = new StringBuilder();
        for (int i = 0; i < 4; i++)
        {
            sb.Append(i == 1 ? "100;name=value\r\n" : "100\r\n").Append('x', 256).Append("\r\n");
        }
        sb.Append("0\r\nx-checksum: abc\r\n\r\n");
        return Encoding.ASCII.GetBytes(sb.ToString());
    }

    [GlobalCleanup]
    public void Cleanup() => _head.Dispose();

    [Benchmark]
    public Http1ParseStatus ParseRequestHead()
    {
        _head.Reset();
        var reader = new SequenceReader<byte>(_request);
        return Http1HeadParser.ParseRequest(ref reader, _head, Http1Limits.Default, out _);
    }

    [Benchmark]
    public Http1ParseStatus ParseResponseHead()
    {
        _head.Reset();
        var reader = new SequenceReader<byte>(_response);
        return Http1HeadParser.ParseResponse(ref reader, _head, Http1Limits.Default, out _);
    }

    [Benchmark]
    public long ChunkedDecode1KiB()
    {
        _decoder.Reset();
        var reader = new SequenceReader<byte>(_chunked);
        long payload = 0;
        while (true)
        {
            ChunkedStatus s = _decoder.Read(ref reader, out ReadOnlySequence<byte> data, out _);
            switch (s)
            {
                case ChunkedStatus.Data:
                    payload += data.Length;
                    break;
                case ChunkedStatus.Trailer:
                    break;
                case ChunkedStatus.Done:
                    return payload;
                default:
                    throw new InvalidOperationException($"chunked decode stopped with {s}");
            }
        }
    }
}
