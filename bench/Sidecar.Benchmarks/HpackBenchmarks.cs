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

    [GlobalSetup(Targets = [nameof(Encode), nameof(EncodePreparedNames), nameof(Decode), nameof(EncodeAndDecode), nameof(HuffmanRoundTrip)])]
    public void Setup()
    {
        _encoder = new HpackEncoder();
        _decoder = new HpackDecoder();
        for (int i = 0; i < 4; i++) EncodeAndDecode();
        _encoded = _block.AsSpan(0, Encode()).ToArray();
        _decoder.Decode(_encoded, endHeaders: true, _sink);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _decoder?.Dispose();
        _literalDecoder?.Dispose();
        _nginxDecoder?.Dispose();
        _head.Dispose();
    }

    /// <summary>Encodes the request into a fixed buffer (warm table: mostly indexed, :path and x-request-id literal).</summary>
    [Benchmark]
    public int Encode() => EncodeInto(_encoder, Request);

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

    // A response as a proxy writes it back to its client: its own fields plus the upstream's, with
    // x-envoy-upstream-service-time taking a new small value per response (each one an indexed entry with the same
    // name, the case that fills the dynamic table with one name and makes a scan of it long).
    private static readonly (byte[] Name, byte[] Value)[] Response =
    [
        (A(":status"), A("200")),
        (A("server"), A("envoy")),
        (A("date"), A("Fri, 27 Nov 2026 16:52:22 GMT")),
        (A("content-type"), A("application/json; charset=utf-8")),
        (A("content-length"), A("1024")),
        (A("last-modified"), A("Thu, 26 Nov 2026 20:13:21 GMT")),
        (A("etag"), A("\"6566-5e1d2c6f8b7a0\"")),
        (A("cache-control"), A("private, max-age=0")),
        (A("x-envoy-upstream-service-time"), A("0")),
    ];

    private static readonly byte[][] ServiceTimes = [.. Enumerable.Range(0, 64).Select(i => A(i.ToString(System.Globalization.CultureInfo.InvariantCulture)))];
    private int _responseNumber;

    private byte[] _requestLiterals = [];
    private byte[] _responseLiterals = [];
    private HpackDecoder _literalDecoder = null!;
    private byte[] _huffmanDate = [];
    private byte[] _huffmanUserAgent = [];
    private byte[] _huffmanPath = [];
    private readonly byte[] _decoded = new byte[256];

    [GlobalSetup(Targets = [nameof(DecodeRequestLiterals), nameof(DecodeResponseLiterals), nameof(HuffmanDecodeDate), nameof(HuffmanDecodeUserAgent), nameof(HuffmanDecodePath), nameof(EncodeResponse)])]
    public void SetupLiterals()
    {
        Setup();
        // A zero-size table on the encoder: every field a literal without indexing, Huffman-coded where shorter —
        // what nginx sends, and what a peer sends for per-request values.
        var literalEncoder = new HpackEncoder(0);
        _requestLiterals = EncodeAll(literalEncoder, Request);
        _responseLiterals = EncodeAll(literalEncoder, Response);
        _literalDecoder = new HpackDecoder(0);
        _huffmanDate = HuffmanOf(Response[2].Value);
        _huffmanUserAgent = HuffmanOf(Request[4].Value);
        _huffmanPath = HuffmanOf(Request[3].Value);
        for (int i = 0; i < 256; i++) EncodeResponse();
    }

    /// <summary>Decodes a request block of Huffman-coded literals (no table use).</summary>
    [Benchmark]
    public int DecodeRequestLiterals()
    {
        _literalDecoder.Decode(_requestLiterals, endHeaders: true, _sink);
        return _sink.Count;
    }

    /// <summary>Decodes an nginx-style response block of Huffman-coded literals (no table use).</summary>
    [Benchmark]
    public int DecodeResponseLiterals()
    {
        _literalDecoder.Decode(_responseLiterals, endHeaders: true, _sink);
        return _sink.Count;
    }

    /// <summary>Encodes the proxy's response on a warm table; the service time changes per response (0..63).</summary>
    [Benchmark]
    public int EncodeResponse()
    {
        Span<byte> span = _block;
        _encoder.TryBeginBlock(span, out int length);
        int last = Response.Length - 1;
        for (int i = 0; i < last; i++)
        {
            _encoder.TryEncode(Response[i].Name, Response[i].Value, neverIndex: false, span[length..], out int n);
            length += n;
        }
        _encoder.TryEncode(Response[last].Name, ServiceTimes[_responseNumber++ & 63], neverIndex: false, span[length..], out int m);
        return length + m;
    }

    /// <summary>Huffman decode of a 29-byte HTTP date (22 bytes coded).</summary>
    [Benchmark]
    public int HuffmanDecodeDate()
    {
        Huffman.Decode(_huffmanDate, _decoded, out int written);
        return written;
    }

    /// <summary>Huffman decode of a 41-byte user-agent.</summary>
    [Benchmark]
    public int HuffmanDecodeUserAgent()
    {
        Huffman.Decode(_huffmanUserAgent, _decoded, out int written);
        return written;
    }

    /// <summary>Huffman decode of a 45-byte path with a query.</summary>
    [Benchmark]
    public int HuffmanDecodePath()
    {
        Huffman.Decode(_huffmanPath, _decoded, out int written);
        return written;
    }

    // nginx 1.22's response to the h2 profile's GET /hello as captured: :status indexed, then every field a literal
    // with incremental indexing by static name with a Huffman value, never referred to later — the same bytes on every
    // response of the connection, and four table entries added (and as many evicted) per response.
    private static readonly (int StaticName, byte[] Value)[] NginxResponse =
    [
        (54, A("nginx/1.22.1")), (33, A("Fri, 27 Nov 2026 20:52:22 GMT")), (31, A("text/plain")), (28, A("13")),
    ];

    // h2load's request as the proxy forwards it: pseudo-headers by prepared name, the client's fields by the static
    // index the decoder reported, then the proxy's own.
    private static readonly (int StaticName, byte[] Name, byte[] Value)[] H2loadFields =
    [
        (19, A("accept"), A("*/*")), (16, A("accept-encoding"), A("gzip, deflate")), (58, A("user-agent"), A("h2load nghttp2/1.52.0")),
    ];

    private static readonly HpackFieldName ForwardedProto = new("x-forwarded-proto");
    private static readonly HpackFieldName ExpectedTimeout = new("x-envoy-expected-rq-timeout-ms");
    private static readonly HpackFieldName UpstreamServiceTime = new("x-envoy-upstream-service-time");

    private byte[] _nginxBlock = [];
    private HpackDecoder _nginxDecoder = null!;
    private readonly Sidecar.Core.Http2.Http2Head _head = new();
    private HpackEncoder _proxyEncoder = null!;

    [GlobalSetup(Targets = [nameof(DecodeNginxResponse), nameof(EncodeProxiedRequest), nameof(EncodeProxiedResponse)])]
    public void SetupProxied()
    {
        var block = new List<byte> { 0x88 };
        foreach ((int index, byte[] value) in NginxResponse)
        {
            block.Add((byte)(0x40 | index));  // §6.2.1, 6-bit name index
            byte[] huffman = HuffmanOf(value);
            block.Add((byte)(0x80 | huffman.Length));
            block.AddRange(huffman);
        }
        _nginxBlock = [.. block];
        _nginxDecoder = new HpackDecoder();
        _proxyEncoder = new HpackEncoder();
        for (int i = 0; i < 4; i++)
        {
            DecodeNginxResponse();
            EncodeProxiedRequest();
            EncodeProxiedResponse();
        }
    }

    /// <summary>nginx's response block decoded into the stream's head, as the upstream connection does per response.</summary>
    [Benchmark]
    public int DecodeNginxResponse()
    {
        _head.Reset(Sidecar.Core.Http2.Http2HeadKind.Response);
        _nginxDecoder.Decode(_nginxBlock, endHeaders: true, _head);
        return _head.HeaderCount;
    }

    /// <summary>What Http2Fields.RequestToHttp2 asks of the upstream encoder for h2load's GET /hello (warm table).</summary>
    [Benchmark]
    public int EncodeProxiedRequest()
    {
        _writer.ResetWrittenCount();
        HpackEncoder e = _proxyEncoder;
        e.BeginBlock(_writer);
        e.Encode(HpackFieldName.Method, "GET"u8, false, _writer);
        e.Encode(HpackFieldName.Scheme, "http"u8, false, _writer);
        e.Encode(HpackFieldName.Path, "/hello"u8, false, _writer);
        e.Encode(HpackFieldName.Authority, "127.0.0.1:29340"u8, false, _writer);
        foreach ((int index, byte[] name, byte[] value) in H2loadFields) e.Encode(name, index, value, false, _writer);
        e.Encode(ForwardedProto, "http"u8, false, _writer);
        e.Encode(ExpectedTimeout, "15000"u8, false, _writer);
        return _writer.WrittenCount;
    }

    /// <summary>What Http2Fields.ResponseFromHttp2 asks of the downstream encoder for nginx's response (warm table).</summary>
    [Benchmark]
    public int EncodeProxiedResponse()
    {
        _writer.ResetWrittenCount();
        HpackEncoder e = _proxyEncoder;
        e.BeginBlock(_writer);
        e.EncodeStatus(200, _writer);
        for (int i = 1; i < NginxResponse.Length; i++)
        {
            (int index, byte[] value) = NginxResponse[i];
            e.Encode(HpackStaticTable.GetName(index), index, value, false, _writer);
        }
        e.Encode(HpackFieldName.Server, "envoy"u8, false, _writer);
        e.Encode(UpstreamServiceTime, (_responseNumber++ & 1) == 0 ? "0"u8 : "1"u8, false, _writer);
        return _writer.WrittenCount;
    }

    private byte[] EncodeAll(HpackEncoder encoder, (byte[] Name, byte[] Value)[] fields) => _block.AsSpan(0, EncodeInto(encoder, fields)).ToArray();

    /// <summary>One block of <paramref name="fields"/> into <see cref="_block"/>; returns its length.</summary>
    private int EncodeInto(HpackEncoder encoder, (byte[] Name, byte[] Value)[] fields)
    {
        Span<byte> span = _block;
        encoder.TryBeginBlock(span, out int length);
        foreach ((byte[] name, byte[] value) in fields)
        {
            encoder.TryEncode(name, value, neverIndex: false, span[length..], out int n);
            length += n;
        }
        return length;
    }

    private static byte[] HuffmanOf(byte[] raw)
    {
        byte[] encoded = new byte[Huffman.GetEncodedLength(raw)];
        Huffman.Encode(raw, encoded);
        return encoded;
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
