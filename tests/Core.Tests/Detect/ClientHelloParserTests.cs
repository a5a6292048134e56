using System.Buffers;
using System.Text;
using Sidecar.Core.Detect;
using Xunit;

namespace Sidecar.Core.Tests.Detect;

public sealed class ClientHelloParserTests
{
    private static readonly string[] MultiRecordAlpn =
        ["h2", "http/1.1", .. Enumerable.Range(0, 20).Select(i => $"proto-{i:00}-padding-padding")];

    /// <summary>File, expected SNI, expected ALPN list (what the capturing tool was told to send).</summary>
    public static TheoryData<string, string?, string[]> Goldens() => new()
    {
        { "openssl_sni_alpn.hex", "foo.example.com", ["h2", "http/1.1"] },
        { "openssl_nosni_noalpn.hex", null, [] },
        { "openssl_tls12_istio_alpn.hex", "outbound_.8080_._.reviews.default.svc.cluster.local", ["istio-peer-exchange", "istio"] },
        { "openssl_multirecord.hex", "multi.example.net", MultiRecordAlpn },
        { "curl_http2.hex", "foo.example.com", ["h2", "http/1.1"] },
        { "curl_http11.hex", "api.example.org", ["http/1.1"] },
        { "python_ssl.hex", "reviews.default.svc.cluster.local", ["istio-peer-exchange", "istio"] },
    };

    private static ClientHelloStatus Parse(ReadOnlySequence<byte> data, out ClientHelloInfo info)
    {
        info = new ClientHelloInfo { ServerName = "stale" };
        ClientHelloStatus status = ClientHelloParser.TryParse(data, ref info);
        if (status != ClientHelloStatus.Ok)
        {
            // Nothing is filled (and the stale value is cleared) unless the parse succeeded.
            Assert.Null(info.ServerName);
            Assert.Empty(info.ApplicationProtocols);
        }

        return status;
    }

    private static ClientHelloStatus Parse(byte[] data, out ClientHelloInfo info) => Parse(new ReadOnlySequence<byte>(data), out info);

    private static ClientHelloStatus Parse(byte[] data) => Parse(data, out _);

    private static ClientHelloStatus Parse(ReadOnlySequence<byte> data) => Parse(data, out _);

    private static void AssertInfo(ClientHelloInfo info, string? sni, string[] alpn)
    {
        Assert.Equal(sni, info.ServerName);
        Assert.Equal(alpn, info.ApplicationProtocols);
    }

    [Theory]
    [MemberData(nameof(Goldens))]
    public void Golden_parses(string file, string? sni, string[] alpn)
    {
        byte[] data = Golden.Load(file);
        Assert.Equal(ClientHelloStatus.Ok, Parse(data, out ClientHelloInfo info));
        AssertInfo(info, sni, alpn);
        Assert.Equal(TlsBytes.HandshakePayload(data).Length, info.ClientHelloLength);
    }

    [Theory]
    [MemberData(nameof(Goldens))]
    public void Every_prefix_needs_more_data(string file, string? sni, string[] alpn)
    {
        byte[] data = Golden.Load(file);
        for (int n = 0; n < data.Length; n++)
        {
            Assert.Equal(ClientHelloStatus.NeedMoreData, Parse(data[..n]));
        }

        // Bytes after the ClientHello (e.g. early data) do not matter.
        Assert.Equal(ClientHelloStatus.Ok, Parse([.. data, 0x17, 0x03, 0x03, 0x00, 0x01, 0xAA], out ClientHelloInfo info));
        AssertInfo(info, sni, alpn);
    }

    [Theory]
    [MemberData(nameof(Goldens))]
    public void Split_at_every_byte_boundary(string file, string? sni, string[] alpn)
    {
        byte[] data = Golden.Load(file);
        for (int at = 0; at <= data.Length; at++)
        {
            Assert.Equal(ClientHelloStatus.Ok, Parse(Segments.SplitAt(data, at), out ClientHelloInfo info));
            AssertInfo(info, sni, alpn);
        }

        foreach (int size in new[] { 1, 2, 5, 7, 64 })
        {
            Assert.Equal(ClientHelloStatus.Ok, Parse(Segments.Chunked(data, size), out ClientHelloInfo info));
            AssertInfo(info, sni, alpn);
        }
    }

    [Theory]
    [MemberData(nameof(Goldens))]
    public void Refragmented_into_small_records(string file, string? sni, string[] alpn)
    {
        // RFC 8446 §5.1 allows a handshake message to be split over any number of records,
        // down to one byte each, so the 24-bit handshake length itself may be split too.
        byte[] payload = TlsBytes.HandshakePayload(Golden.Load(file));
        foreach (int fragment in new[] { 1, 2, 3, 4, 5, 100, 16384 })
        {
            byte[] records = TlsBytes.Records(payload, fragment);
            Assert.Equal(ClientHelloStatus.Ok, Parse(records, out ClientHelloInfo info));
            AssertInfo(info, sni, alpn);
            Assert.Equal(ClientHelloStatus.Ok, Parse(Segments.Chunked(records, 3), out info));
            AssertInfo(info, sni, alpn);
            Assert.Equal(ClientHelloStatus.NeedMoreData, Parse(records[..^1]));
        }
    }

    [Fact]
    public void Sni_is_lower_cased_and_well_known_alpn_ids_are_shared()
    {
        byte[] stream = TlsBytes.Stream(TlsBytes.ClientHello([.. TlsBytes.Sni("WWW.Example.COM"), .. TlsBytes.Alpn("h2", "istio", "x-custom")]));
        Assert.Equal(ClientHelloStatus.Ok, Parse(stream, out ClientHelloInfo info));
        AssertInfo(info, "www.example.com", ["h2", "istio", "x-custom"]);
        Assert.Same("h2", info.ApplicationProtocols[0]);
        Assert.Same("istio", info.ApplicationProtocols[1]);
    }

    [Fact]
    public void Tls12_hello_without_extensions_is_ok()
    {
        Assert.Equal(ClientHelloStatus.Ok, Parse(TlsBytes.Stream(TlsBytes.ClientHello(omitExtensions: true)), out ClientHelloInfo info));
        AssertInfo(info, null, []);
    }

    [Fact]
    public void Unknown_name_types_are_skipped()
    {
        byte[] sni = TlsBytes.Extension(0, TlsBytes.Vec16([0x07, .. TlsBytes.Vec16([1, 2, 3]), 0x00, .. TlsBytes.Vec16(Encoding.ASCII.GetBytes("a.b"))]));
        Assert.Equal(ClientHelloStatus.Ok, Parse(TlsBytes.Stream(TlsBytes.ClientHello(sni)), out ClientHelloInfo info));
        Assert.Equal("a.b", info.ServerName);
    }

    [Theory]
    [InlineData("GET / HTTP/1.1\r\n")]
    [InlineData("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")]
    [InlineData("\u0016\u0003\u0003\u0000\u0040\u0002")] // ServerHello
    [InlineData("\u0016\u0002")]
    [InlineData("\u0016\u0003\u0001\u0000\u0000")]        // empty record: not a TLS start
    public void Non_tls_is_not_tls(string text) =>
        Assert.Equal(ClientHelloStatus.NotTls, Parse(Encoding.Latin1.GetBytes(text)));

    public static TheoryData<string, byte[]> MalformedStreams()
    {
        byte[] sni = TlsBytes.Sni("a.example");
        byte[] good = TlsBytes.ClientHello(sni);
        byte[] goodStream = TlsBytes.Stream(good);
        var data = new TheoryData<string, byte[]>
        {
            { "handshake length zero", [0x16, 0x03, 0x01, 0x00, 0x04, 0x01, 0x00, 0x00, 0x00] },
            { "handshake length over 64 KiB", [0x16, 0x03, 0x01, 0x00, 0x04, 0x01, 0x01, 0x00, 0x00] },
            { "legacy_version major not 3", TlsBytes.Stream([.. good[..4], 0x02, .. good[5..]]) },
            { "session id longer than 32", TlsBytes.Stream(TlsBytes.ClientHello(sni, sessionId: new byte[33])) },
            { "odd cipher_suites length", TlsBytes.Stream(TlsBytes.ClientHello(sni, cipherSuites: [0x13, 0x01, 0x13])) },
            { "empty cipher_suites", TlsBytes.Stream(TlsBytes.ClientHello(sni, cipherSuites: [])) },
            { "empty compression methods", TlsBytes.Stream(TlsBytes.ClientHello(sni, compression: [])) },
            { "bytes after extensions", TlsBytes.Stream(TlsBytes.ClientHello(sni, trailer: [0x00])) },
            { "extension header cut", TlsBytes.Stream(TlsBytes.ClientHello([0x00])) },
            { "extension length past block", TlsBytes.Stream(TlsBytes.ClientHello([0x00, 0x00, 0x00, 0x09, 0x00])) },
            { "duplicate server_name", TlsBytes.Stream(TlsBytes.ClientHello([.. sni, .. sni])) },
            { "two host_names", TlsBytes.Stream(TlsBytes.ClientHello(TlsBytes.Extension(0, TlsBytes.Vec16([0, .. TlsBytes.Vec16([(byte)'a']), 0, .. TlsBytes.Vec16([(byte)'b'])])))) },
            { "empty server_name extension", TlsBytes.Stream(TlsBytes.ClientHello(TlsBytes.Extension(0, []))) },
            { "empty server_name list", TlsBytes.Stream(TlsBytes.ClientHello(TlsBytes.Extension(0, TlsBytes.Vec16()))) },
            { "server_name list length short", TlsBytes.Stream(TlsBytes.ClientHello(TlsBytes.Extension(0, [0x00, 0x03, 0x00, 0x00, 0x01, (byte)'a']))) },
            { "host_name length past list", TlsBytes.Stream(TlsBytes.ClientHello(TlsBytes.Extension(0, TlsBytes.Vec16([0x00, 0x00, 0x05, (byte)'a'])))) },
            { "empty host_name", TlsBytes.Stream(TlsBytes.ClientHello(TlsBytes.Sni(""))) },
            { "host_name with NUL", TlsBytes.Stream(TlsBytes.ClientHello(TlsBytes.Sni("a\0b"))) },
            { "host_name with space", TlsBytes.Stream(TlsBytes.ClientHello(TlsBytes.Sni("a b"))) },
            { "host_name over 255", TlsBytes.Stream(TlsBytes.ClientHello(TlsBytes.Sni(new string('a', 256)))) },
            { "empty ALPN name", TlsBytes.Stream(TlsBytes.ClientHello(TlsBytes.Alpn("h2", ""))) },
            { "empty ALPN list", TlsBytes.Stream(TlsBytes.ClientHello(TlsBytes.Extension(16, TlsBytes.Vec16()))) },
            { "ALPN name past list", TlsBytes.Stream(TlsBytes.ClientHello(TlsBytes.Extension(16, TlsBytes.Vec16([0x05, (byte)'h', (byte)'2'])))) },
            { "ALPN list length short", TlsBytes.Stream(TlsBytes.ClientHello(TlsBytes.Extension(16, [0x00, 0x02, 0x02, (byte)'h', (byte)'2']))) },
            { "duplicate ALPN", TlsBytes.Stream(TlsBytes.ClientHello([.. TlsBytes.Alpn("h2"), .. TlsBytes.Alpn("h2")])) },
            { "handshake body shorter than fields", TlsBytes.Stream([0x01, 0x00, 0x00, 0x02, 0x03, 0x03]) },
            { "alert record between fragments", [.. goodStream[..5].Select((b, i) => i == 4 ? (byte)10 : b), .. good[..10], 0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28] },
            { "zero-length continuation record", [0x16, 0x03, 0x01, 0x00, 0x0A, .. good[..10], 0x16, 0x03, 0x01, 0x00, 0x00] },
            { "oversized continuation record", [0x16, 0x03, 0x01, 0x00, 0x0A, .. good[..10], 0x16, 0x03, 0x01, 0x40, 0x01] },
        };
        return data;
    }

    [Theory]
    [MemberData(nameof(MalformedStreams))]
    public void Malformed_is_reported_without_throwing(string because, byte[] stream)
    {
        Assert.True(Parse(stream) == ClientHelloStatus.Malformed, because);
        Assert.True(Parse(Segments.Chunked(stream, 1)) == ClientHelloStatus.Malformed, because);
    }

    [Fact]
    public void Hello_at_the_64_KiB_cap_is_accepted_and_one_byte_more_is_not()
    {
        static byte[] WithPadding(int extensionsLength)
        {
            // A padding extension (RFC 7685, type 21) sized so the handshake message totals the target.
            byte[] probe = TlsBytes.ClientHello([]);
            int paddingData = extensionsLength - probe.Length - 4;
            return TlsBytes.Records(TlsBytes.ClientHello(TlsBytes.Extension(21, new byte[paddingData])), 16384);
        }

        Assert.Equal(ClientHelloStatus.Ok, Parse(WithPadding(ClientHelloParser.MaxClientHelloBytes)));
        Assert.Equal(ClientHelloStatus.Malformed, Parse(WithPadding(ClientHelloParser.MaxClientHelloBytes + 1)));
    }

    [Fact]
    public void Random_mutations_never_throw()
    {
        var random = new Random(4321);
        byte[][] seeds = Golden.TlsClientHellos.Select(Golden.Load).ToArray();
        var seen = new HashSet<ClientHelloStatus>();
        for (int iteration = 0; iteration < 20000; iteration++)
        {
            byte[] data = (byte[])seeds[random.Next(seeds.Length)].Clone();
            int flips = random.Next(1, 6);
            for (int i = 0; i < flips; i++)
            {
                // Bias towards the first 200 bytes, where the record, handshake and vector lengths live.
                int at = random.Next(2) == 0 ? random.Next(Math.Min(200, data.Length)) : random.Next(data.Length);
                data[at] = (byte)random.Next(256);
            }

            if (random.Next(4) == 0)
            {
                data = data[..random.Next(data.Length)];
            }

            ReadOnlySequence<byte> sequence = random.Next(2) == 0
                ? new ReadOnlySequence<byte>(data)
                : Segments.Chunked(data, random.Next(1, 50));
            var info = default(ClientHelloInfo);
            ClientHelloStatus status = ClientHelloParser.TryParse(sequence, ref info);
            seen.Add(status);
            if (status == ClientHelloStatus.Ok && info.ServerName is { } name)
            {
                Assert.Equal(name.ToLowerInvariant(), name);
            }
        }

        Assert.Contains(ClientHelloStatus.Malformed, seen);
        Assert.Contains(ClientHelloStatus.Ok, seen);
    }

    [Fact]
    public void Parsing_without_sni_or_alpn_allocates_nothing_once_warm()
    {
        ReadOnlySequence<byte> contiguous = new(Golden.Load("openssl_nosni_noalpn.hex"));
        ReadOnlySequence<byte> split = Segments.Chunked(Golden.Load("openssl_nosni_noalpn.hex"), 7);
        // Warm-up runs first (tier-up and on-stack replacement of the loop allocate once on this thread);
        // an allocation in the parser itself would show in every run, so the smaller of two is kept.
        ParseAll(contiguous, split, out _);
        ParseAll(contiguous, split, out _);
        long allocated = Math.Min(ParseAll(contiguous, split, out int ok), ParseAll(contiguous, split, out _));
        Assert.Equal(2000, ok);
        Assert.Equal(0, allocated);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static long ParseAll(ReadOnlySequence<byte> contiguous, ReadOnlySequence<byte> split, out int ok)
    {
        var info = default(ClientHelloInfo);
        ok = 0;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            ok += ClientHelloParser.TryParse(contiguous, ref info) == ClientHelloStatus.Ok ? 1 : 0;
            ok += ClientHelloParser.TryParse(split, ref info) == ClientHelloStatus.Ok ? 1 : 0;
        }
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }
}
