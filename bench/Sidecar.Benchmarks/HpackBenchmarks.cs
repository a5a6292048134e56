using System.Buffers;
using System.Text;
using BenchmarkDotNet.Attributes;
using Sidecar.Core.Hpack;

namespace Sidecar.Benchmarks;

/// <summary>HPACK encode and decode of a typical 8-header request on warm tables (one connection's steady state).</summary>
[MemoryDiagnoser]
public class HpackBenchmarks
{
    private static readonly (byte[] Name, byte[] Value)[] Request =
    [
        (A(":method"), A("GET")),
        (A(":scheme"), A("https")),
        (A(":authority"), A("backend.default.svc.cluster.local:8080")),
        (A(":path"), A("/api/v1/users/12345/profile?fields=name,email")),
        (A("user-agent"), A("Mozilla/5.0 (X11; Linux x86_64) bench/1.0")),
        (A("accept"), A("application/json")),
        (A("accept-encoding"), A("gzip, deflate, br")),
        (A("x-request-id"), A("9f0c1b2e-4d3a-4b5c-8e7f-0a1b2c3d4e5f")),
    ];

    private readonly byte[] _block = new byte[1024];
    private readonly HeaderCounter _sink = new();
    private HpackEncoder _encoder = null!;
    private HpackDecoder _decoder = null!;
    private byte[] _encoded = [];

    [GlobalSetup]
    public void Setup()
    {
        _encoder = new HpackEncoder();
        _decoder = new HpackDecoder();
        for (int i = 0; i < 4; i++) EncodeAndDecode();
        _encoded = _block.AsSpan(0, Encode()).ToArray();
        _decoder.Decode(_encoded, endHeaders: true, _sink);
    }

    [GlobalCleanup]
    public void Cleanup() => _decoder.Dispose();

    /// <summary>Encodes the request into a fixed buffer (warm table: mostly indexed, :path and x-request-id literal).</summary>
    [Benchmark]
    public int Encode()
    {
        Span<byte> span = _block;
        _encoder.TryBeginBlock(span, out int length);
        foreach ((byte[] name, byte[] value) in Request)
        {
            _encoder.TryEncode(name, value, neverIndex: false, span[length..], out int n);
            length += n;
        }
        return length;
    }

    // The proxy's way since the second HTTP/2 pass: its pseudo-headers through names prepared once (HpackFieldName).
    private static readonly HpackFieldName[] PreparedNames = [HpackFieldName.Method, HpackFieldName.Scheme, HpackFieldName.Authority, HpackFieldName.Path];
    private readonly ArrayBufferWriter<byte> _writer = new(1024);

    /// <summary><see cref="Encode"/> with the four pseudo-headers by prepared name (no name hash or static probe for them).</summary>
    [Benchmark]
    public int EncodePreparedNames()
    {
        _writer.ResetWrittenCount();
        _encoder.BeginBlock(_writer);
        for (int i = 0; i < Request.Length; i++)
        {
            if (i < PreparedNames.Length) _encoder.Encode(PreparedNames[i], Request[i].Value, neverIndex: false, _writer);
            else _encoder.Encode(Request[i].Name, Request[i].Value, neverIndex: false, _writer);
        }
        return _writer.WrittenCount;
    }

    /// <summary>Decodes the warm-table encoding of the request.</summary>
    [Benchmark]
    public int Decode()
    {
        _decoder.Decode(_encoded, endHeaders: true, _sink);
        return _sink.Count;
    }

    /// <summary>Both, as a proxy does per request: decode from one side, encode to the other.</summary>
    [Benchmark]
    public int EncodeAndDecode()
    {
        int length = Encode();
        _decoder.Decode(_block.AsSpan(0, length), endHeaders: true, _sink);
        return _sink.Count;
    }

    /// <summary>Huffman decode of a 40-byte value on its own.</summary>
    [Benchmark]
    public int HuffmanRoundTrip()
    {
        Span<byte> encoded = stackalloc byte[64];
        Span<byte> decoded = stackalloc byte[64];
        int n = Huffman.Encode(Request[4].Value, encoded);
        Huffman.Decode(encoded[..n], decoded, out int written);
        return written;
    }

    private static byte[] A(string s) => Encoding.ASCII.GetBytes(s);

    private sealed class HeaderCounter : IHpackHeaderSink
    {
        public int Count;

        public void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, bool neverIndexed) => Count += name.Length + value.Length;
    }
}
