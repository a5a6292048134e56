using System.Buffers;
using System.Text;
using Sidecar.Core.Detect;
using Xunit;

namespace Sidecar.Core.Tests.Detect;

public sealed class ProtocolDetectorTests
{
    public static TheoryData<string> TlsGoldens() => new(Golden.TlsClientHellos);

    private static (DetectStatus Status, DetectedProtocol Protocol) Run(byte[] data) => Run(new ReadOnlySequence<byte>(data));

    private static (DetectStatus Status, DetectedProtocol Protocol) Run(ReadOnlySequence<byte> data)
    {
        DetectStatus status = ProtocolDetector.Detect(data, out DetectedProtocol protocol);
        if (status == DetectStatus.NeedMoreData)
        {
            Assert.Equal(DetectedProtocol.Unknown, protocol);
        }

        return (status, protocol);
    }

    private static byte[] Ascii(string s) => Encoding.ASCII.GetBytes(s);

    /// <summary>
    /// Every prefix gives NeedMoreData or the final answer, never a different one; and the answer
    /// is reached at exactly <paramref name="decidedAt"/> bytes.
    /// </summary>
    private static void AssertPrefixes(byte[] data, DetectedProtocol expected, int decidedAt)
    {
        for (int n = 0; n <= data.Length; n++)
        {
            var (status, protocol) = Run(data[..n]);
            if (n < decidedAt)
            {
                Assert.Equal(DetectStatus.NeedMoreData, status);
            }
            else
            {
                Assert.Equal(DetectStatus.Detected, status);
                Assert.Equal(expected, protocol);
            }
        }
    }

    [Fact]
    public void Empty_needs_more_data() => Assert.Equal(DetectStatus.NeedMoreData, Run([]).Status);

    [Theory]
    [MemberData(nameof(TlsGoldens))]
    public void Golden_client_hello_is_tls_after_six_bytes(string file) =>
        AssertPrefixes(Golden.Load(file), DetectedProtocol.Tls, decidedAt: 6);

    [Theory]
    [MemberData(nameof(TlsGoldens))]
    public void Golden_client_hello_split_at_every_byte_and_per_byte(string file)
    {
        byte[] data = Golden.Load(file)[..64];
        for (int at = 0; at <= data.Length; at++)
        {
            Assert.Equal((DetectStatus.Detected, DetectedProtocol.Tls), Run(Segments.SplitAt(data, at)));
        }

        Assert.Equal((DetectStatus.Detected, DetectedProtocol.Tls), Run(Segments.Chunked(data, 1)));
    }

    [Fact]
    public void Curl_prior_knowledge_is_http2_at_24_bytes()
    {
        byte[] data = Golden.Load("curl_h2_prior_knowledge.hex");
        AssertPrefixes(data, DetectedProtocol.Http2, decidedAt: 24);
        for (int at = 0; at <= data.Length; at++)
        {
            Assert.Equal((DetectStatus.Detected, DetectedProtocol.Http2), Run(Segments.SplitAt(data, at)));
        }
    }

    [Fact]
    public void Curl_plain_request_is_http1_after_get_space() =>
        AssertPrefixes(Golden.Load("curl_http1_plain.hex"), DetectedProtocol.Http1, decidedAt: 4);

    [Theory]
    [InlineData("GET")]
    [InlineData("HEAD")]
    [InlineData("POST")]
    [InlineData("PUT")]
    [InlineData("DELETE")]
    [InlineData("CONNECT")]
    [InlineData("OPTIONS")]
    [InlineData("TRACE")]
    [InlineData("PATCH")]
    [InlineData("PROPFIND")]
    [InlineData("PROPPATCH")]
    [InlineData("MKCOL")]
    [InlineData("COPY")]
    [InlineData("MOVE")]
    [InlineData("LOCK")]
    [InlineData("UNLOCK")]
    public void Known_method_decides_at_the_space(string method) =>
        AssertPrefixes(Ascii(method + " /index.html HTTP/1.1\r\nHost: a\r\n\r\n"), DetectedProtocol.Http1, method.Length + 1);

    [Theory]
    [InlineData("PURGE /cache/x HTTP/1.1\r\n", 23)]
    [InlineData("M-SEARCH * HTTP/1.1\r\n", 19)]
    [InlineData("UPDATEREDIRECTREF /a HTTP/1.0\r\n", 29)]
    [InlineData("PRI * HTTP/1.1\r\n", 14)] // leaves the HTTP/2 preface at the "1", then needs the version digit
    public void Extension_method_decides_at_the_version_digit(string line, int decidedAt) =>
        AssertPrefixes(Ascii(line), DetectedProtocol.Http1, decidedAt);

    [Theory]
    [InlineData("set key value\r\n", 9)]      // Redis inline command: "value" is not HTTP/1.
    [InlineData("SSH-2.0-OpenSSH_9.6\r\n", 20)]
    [InlineData("*1\r\n$4\r\nPING\r\n", 3)]   // Redis RESP
    [InlineData("get / HTTP/2.0\r\n", 12)]    // lower-case method: not known, and not HTTP/1.x
    [InlineData("GET\r\n", 4)]
    [InlineData(" GET / HTTP/1.1\r\n", 1)]
    [InlineData("FOO  / HTTP/1.1\r\n", 5)]    // empty request-target
    [InlineData("QUIT\r\n", 5)]
    [InlineData("\u0000\u0000\u0000\u0008\u0004\u00d2\u0016\u002f", 1)] // PostgreSQL SSLRequest
    public void Non_http_bytes_are_opaque(string text, int decidedAt) =>
        AssertPrefixes(Encoding.Latin1.GetBytes(text), DetectedProtocol.Opaque, decidedAt);

    [Fact]
    public void Overlong_method_is_opaque()
    {
        byte[] data = Ascii(new string('A', 25) + " / HTTP/1.1\r\n");
        AssertPrefixes(data, DetectedProtocol.Opaque, decidedAt: 25);
    }

    [Fact]
    public void Extension_method_with_endless_target_stops_at_the_probe_limit()
    {
        byte[] data = Ascii("FOO /" + new string('a', ProtocolDetector.MaxProbeBytes));
        Assert.Equal(DetectStatus.NeedMoreData, Run(data[..(ProtocolDetector.MaxProbeBytes - 1)]).Status);
        Assert.Equal((DetectStatus.Detected, DetectedProtocol.Opaque), Run(data));
        Assert.Equal((DetectStatus.Detected, DetectedProtocol.Opaque), Run(Segments.Chunked(data, 100)));
    }

    [Theory]
    [InlineData(new byte[] { 0x16, 0x02 })]                         // wrong record major version
    [InlineData(new byte[] { 0x16, 0x03, 0x05 })]                   // unknown minor
    [InlineData(new byte[] { 0x16, 0x03, 0x01, 0x00, 0x00 })]       // zero-length record
    [InlineData(new byte[] { 0x16, 0x03, 0x01, 0x40, 0x01 })]       // record longer than 2^14
    [InlineData(new byte[] { 0x16, 0x03, 0x03, 0x00, 0x40, 0x02 })] // ServerHello, not ClientHello
    [InlineData(new byte[] { 0x17, 0x03, 0x03, 0x00, 0x40 })]       // application data
    [InlineData(new byte[] { 0x80, 0x2e, 0x01, 0x03, 0x01 })]       // SSLv2-compatible hello: unsupported
    public void Tls_lookalikes_are_opaque(byte[] data)
    {
        var (status, protocol) = Run(data);
        Assert.Equal((DetectStatus.Detected, DetectedProtocol.Opaque), (status, protocol));
    }

    [Fact]
    public void Span_overload_agrees()
    {
        Assert.Equal(DetectStatus.Detected, ProtocolDetector.Detect(Ascii("GET "), out DetectedProtocol p));
        Assert.Equal(DetectedProtocol.Http1, p);
        Assert.Equal(DetectStatus.NeedMoreData, ProtocolDetector.Detect(Ascii("PRI * HTTP/2.0\r\n"), out p));
    }

    [Fact]
    public void Random_bytes_never_throw_and_longer_input_never_changes_a_decision()
    {
        var random = new Random(1234);
        byte[][] seeds = [.. Golden.TlsClientHellos.Select(Golden.Load), Golden.Load("curl_h2_prior_knowledge.hex"), Golden.Load("curl_http1_plain.hex")];
        for (int iteration = 0; iteration < 3000; iteration++)
        {
            byte[] data;
            if (iteration % 3 == 0)
            {
                data = new byte[random.Next(0, 64)];
                random.NextBytes(data);
            }
            else
            {
                data = (byte[])seeds[random.Next(seeds.Length)].Clone();
                for (int flips = random.Next(1, 4); flips > 0; flips--)
                {
                    data[random.Next(Math.Min(data.Length, 40))] = (byte)random.Next(256);
                }
            }

            var full = Run(data);
            int cut = random.Next(data.Length + 1);
            var prefix = Run(Segments.SplitAt(data[..cut], cut / 2));
            if (prefix.Status == DetectStatus.Detected)
            {
                Assert.Equal(prefix, full);
            }
        }
    }

    [Fact]
    public void Detecting_a_warm_client_hello_allocates_nothing()
    {
        byte[] hello = Golden.Load("openssl_sni_alpn.hex");
        ReadOnlySequence<byte> single = new(hello);
        ReadOnlySequence<byte> split = Segments.Chunked(hello, 3);
        ReadOnlySequence<byte> h1 = Segments.Chunked(Ascii("PURGE /x HTTP/1.1\r\n"), 2);
        // The measured loop lives in its own method, run twice as warm-up: tier-up and on-stack
        // replacement of a hot loop allocate on this thread once (the runtime, not Detect). An
        // allocation in Detect itself would show in every run, so the smaller of two runs is kept.
        DetectAll(single, split, h1);
        DetectAll(single, split, h1);
        long allocated = Math.Min(DetectAll(single, split, h1), DetectAll(single, split, h1));
        Assert.Equal(0, allocated);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static long DetectAll(ReadOnlySequence<byte> single, ReadOnlySequence<byte> split, ReadOnlySequence<byte> h1)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            ProtocolDetector.Detect(single, out _);
            ProtocolDetector.Detect(split, out _);
            ProtocolDetector.Detect(h1, out _);
        }
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }
}
