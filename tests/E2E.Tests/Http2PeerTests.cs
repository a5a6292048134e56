using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Sidecar.E2E.Tests.Harness;
using Xunit;
using Xunit.Abstractions;

namespace Sidecar.E2E.Tests;

/// <summary>
/// nghttpd (h2-only, private docroot) plus nginx/python (HTTP/1.1) and a small python server that sends
/// response trailers and hop-by-hop headers, shared by one class.
/// </summary>
public sealed class Http2PeersFixture : IAsyncLifetime
{
    public const int FiveMb = 5 * 1024 * 1024;
    private UpstreamPeers? _h1;
    private BackgroundProcess? _nghttpd, _trailers;
    public TempDir Dir { get; } = TestEnv.NewTempDir("h2peers");
    public UpstreamPeers H1 => _h1 ?? throw new InvalidOperationException("peers not started");
    public int NghttpdPort { get; } = TestEnv.FreePort();
    public int TrailersPort { get; } = TestEnv.FreePort();
    public string NghttpdOutput => _nghttpd?.Output ?? "";
    public string TrailersOutput => _trailers?.Output ?? "";
    public byte[] FiveMbFile { get; } = RandomNumberGenerator.GetBytes(FiveMb);

    /// <summary>An HTTP/1.1 origin written for these tests: /trailers answers chunked with trailers
    /// (and says whether the request carried "te: trailers"), /hop answers with hop-by-hop headers,
    /// /headers echoes the request head.</summary>
    private const string TrailersServer = """
import hashlib, http.server, socketserver, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_GET(self):
        if self.path == "/trailers":
            body = b"trailer body\n"
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Trailer", "x-checksum, x-te-seen")
            self.end_headers()
            self.wfile.write(b"%x\r\n%s\r\n0\r\n" % (len(body), body))
            te = (self.headers.get("TE") or "none").replace(" ", "")
            self.wfile.write(b"x-checksum: " + hashlib.sha256(body).hexdigest().encode() + b"\r\nx-te-seen: " + te.encode() + b"\r\n\r\n")
        elif self.path == "/hop":
            body = b"hop\n"
            self.send_response(200)
            self.send_header("Connection", "keep-alive, x-hop-custom")
            self.send_header("Keep-Alive", "timeout=30")
            self.send_header("X-Hop-Custom", "1")
            self.send_header("Proxy-Connection", "keep-alive")
            self.send_header("X-End-To-End", "kept")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            head = (self.requestline + "\r\n" + "".join(f"{k}: {v}\r\n" for k, v in self.headers.items())).encode("latin-1")
            self.send_response(200)
            self.send_header("Content-Length", str(len(head)))
            self.end_headers()
            self.wfile.write(head)
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
S(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
""";

    public async Task InitializeAsync()
    {
        _h1 = await UpstreamPeers.Start();
        var www = Dir.File("www");
        Directory.CreateDirectory(www);
        File.WriteAllText(Path.Combine(www, "index.html"), "nghttpd index\n");
        File.WriteAllBytes(Path.Combine(www, "five"), FiveMbFile);
        _nghttpd = new BackgroundProcess("nghttpd", TestEnv.Tool("nghttpd", "nghttp2-server"),
            ["--no-tls", "-a", "127.0.0.1", "-d", www, NghttpdPort.ToString()]);
        File.WriteAllText(Dir.File("trailers.py"), TrailersServer);
        _trailers = new BackgroundProcess("trailers", TestEnv.Python, [Dir.File("trailers.py"), TrailersPort.ToString()]);
        if (!await TestEnv.WaitForPort(NghttpdPort, TimeSpan.FromSeconds(15), () => _nghttpd.HasExited))
            throw new InvalidOperationException("nghttpd did not start:\n" + _nghttpd.Output);
        if (!await TestEnv.WaitForPort(TrailersPort, TimeSpan.FromSeconds(15), () => _trailers.HasExited))
            throw new InvalidOperationException("trailers server did not start:\n" + _trailers.Output);
    }

    public Task DisposeAsync()
    {
        _nghttpd?.Dispose();
        _trailers?.Dispose();
        _h1?.Dispose();
        Dir.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>One h2c listener: /h2/* → nghttpd over h2 (prefix rewritten away is not needed: nghttpd serves
    /// the docroot under /h2 via a symlink), /t/* → the trailers server, everything else → nginx.</summary>
    public async Task<(SidecarProcess Sidecar, int Port)> Sidecar(ITestOutputHelper output, string codec = "AUTO")
    {
        var h2Root = Path.Combine(Dir.File("www"), "h2");
        if (!Directory.Exists(h2Root)) Directory.CreateSymbolicLink(h2Root, Dir.File("www"));
        var cfg = new SidecarConfig();
        var port = cfg.AddHttpListener([new RouteSpec("/h2/", "nghttpd"), new RouteSpec("/trailers", "origin"),
            new RouteSpec("/hop", "origin"), new RouteSpec("/origin-headers", "origin"), new RouteSpec("/", "web")],
            statPrefix: "h2e2e", codecType: codec);
        cfg.AddCluster(new ClusterSpec("nghttpd", NghttpdPort, Http2: true));
        cfg.AddCluster(new ClusterSpec("origin", TrailersPort));
        cfg.AddCluster(new ClusterSpec("web", H1.NginxPort));
        return (await global::Sidecar.E2E.Tests.Harness.SidecarProcess.Start(cfg, output), port);
    }
}

/// <summary>nghttp, curl --http2-prior-knowledge and h2load through the sidecar to an h2 and an HTTP/1.1 upstream.</summary>
public sealed partial class Http2PeerTests(Http2PeersFixture f, ITestOutputHelper output) : IClassFixture<Http2PeersFixture>
{
    private static Task<ProcResult> Nghttp(params string[] args) =>
        Proc.Run(TestEnv.Tool("nghttp", "nghttp2-client"), ["-t", "30", .. args], TimeSpan.FromSeconds(60));

    private static Task<ProcResult> CurlH2(params string[] args) => Proc.Curl(["--http2-prior-knowledge", .. args]);

    private static string Sha(byte[] b) => Convert.ToHexStringLower(SHA256.HashData(b));

    [Theory]
    [InlineData("/h2/index.html", "nghttpd index\n")]
    [InlineData("/hello", "hello\n")]
    public async Task Get_and_head_with_nghttp_and_curl(string path, string body)
    {
        var (sc, port) = await f.Sidecar(output);
        using var _ = sc;
        var url = $"http://127.0.0.1:{port}{path}";
        var n = await Nghttp(url);
        Assert.True(n.ExitCode == 0 && n.StdOut == body, n.ToString());
        var c = await CurlH2("-i", url);
        Assert.True(c.ExitCode == 0, c.ToString());
        Assert.StartsWith("HTTP/2 200", c.StdOut);
        Assert.EndsWith("\r\n\r\n" + body, c.StdOut);
        var head = await CurlH2("-I", "-w", "%{http_version} %{size_download}", url);
        Assert.True(head.ExitCode == 0 && head.StdOut.StartsWith("HTTP/2 200") && head.StdOut.EndsWith("2 0"), head.ToString());
        Assert.Contains($"content-length: {body.Length}", head.StdOut, StringComparison.OrdinalIgnoreCase);
        var stats = await sc.Stats();
        Assert.True(long.Parse(stats["http.h2e2e.downstream_rq_http2_total"]) >= 3, "downstream_rq_http2_total " + stats["http.h2e2e.downstream_rq_http2_total"]);
    }

    /// <summary>An HTTP/1.1 client routed to a cluster configured for HTTP/2 only (Envoy speaks h2 upstream
    /// whatever the downstream protocol).</summary>
    [Fact]
    public async Task Http11_client_to_an_h2_only_upstream_is_translated()
    {
        var (sc, port) = await f.Sidecar(output);
        using var _ = sc;
        var r = await Proc.Curl("--http1.1", "-w", " %{http_code}", $"http://127.0.0.1:{port}/h2/index.html");
        Assert.True(r.StdOut == "nghttpd index\n 200", r.ToString() + "\n" + ProcResult.Tail(f.NghttpdOutput, 2000));
    }

    [Fact]
    public async Task Post_with_and_without_content_length_reaches_h1_and_h2_upstreams()
    {
        var (sc, port) = await f.Sidecar(output);
        using var _ = sc;
        using var dir = TestEnv.NewTempDir("h2post");
        var payload = Load.Pattern(300_000, 7);
        File.WriteAllBytes(dir.File("in"), payload);
        // H1 upstream: /echo returns the body; with a known length and with none (curl -T - sends no content-length over h2)
        var withLength = await CurlH2("--data-binary", "@" + dir.File("in"), "-o", dir.File("out1"), "-w", "%{http_code}",
            $"http://127.0.0.1:{port}/echo");
        Assert.True(withLength.StdOut == "200", withLength.ToString());
        Assert.Equal(payload, File.ReadAllBytes(dir.File("out1")));
        var noLength = await Proc.Run("/bin/sh", ["-c",
            $"cat {dir.File("in")} | curl -sS --http2-prior-knowledge -X POST -T - -o {dir.File("out2")} -w %{{http_code}} http://127.0.0.1:{port}/echo"],
            TimeSpan.FromSeconds(60));
        Assert.True(noLength.StdOut == "200", noLength.ToString());
        Assert.Equal(payload, File.ReadAllBytes(dir.File("out2")));
        var log = f.H1.BackendRequests();
        Assert.Contains(log, l => l.StartsWith("POST /echo") && l.EndsWith("body=300000"));
        // h2 upstream: nghttpd answers a POST to a file with the file
        var n = await Nghttp("-d", dir.File("in"), $"http://127.0.0.1:{port}/h2/index.html");
        Assert.True(n.ExitCode == 0 && n.StdOut == "nghttpd index\n", n.ToString() + f.NghttpdOutput);
    }

    [Fact]
    public async Task Five_megabyte_download_and_upload_keep_their_checksums()
    {
        var (sc, port) = await f.Sidecar(output);
        using var _ = sc;
        using var dir = TestEnv.NewTempDir("h2five");
        var down = await CurlH2("-o", dir.File("down"), "-w", "%{http_code} %{http_version}", $"http://127.0.0.1:{port}/h2/five");
        Assert.True(down.StdOut == "200 2", down.ToString());
        Assert.Equal(Sha(f.FiveMbFile), Sha(File.ReadAllBytes(dir.File("down"))));
        var nDown = await Nghttp($"http://127.0.0.1:{port}/h2/five");
        Assert.True(nDown.ExitCode == 0, nDown.ToString()[..Math.Min(2000, nDown.ToString().Length)]);
        // upload through the h1 path: the backend hashes what it received
        var up = Load.Pattern(Http2PeersFixture.FiveMb, 11);
        File.WriteAllBytes(dir.File("up"), up);
        var r = await CurlH2("--data-binary", "@" + dir.File("up"), $"http://127.0.0.1:{port}/upload");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal($"{up.Length} {Sha(up)}\n", r.StdOut);
        var n = await Nghttp("-d", dir.File("up"), $"http://127.0.0.1:{port}/upload");
        Assert.True(n.ExitCode == 0 && n.StdOut == $"{up.Length} {Sha(up)}\n", n.ToString());
    }

    [Theory]
    [InlineData("/h2/index.html")]
    [InlineData("/hello")]
    public async Task Fifty_concurrent_streams_on_one_connection_all_succeed(string path)
    {
        var (sc, port) = await f.Sidecar(output);
        using var _ = sc;
        var r = await Nghttp("-n", "-s", "-m", "50", $"http://127.0.0.1:{port}{path}");
        Assert.True(r.ExitCode == 0, r.ToString());
        var ok = StatLine200().Count(r.StdOut);
        Assert.True(ok == 50, $"{ok} of 50 streams answered 200\n{r}");
        var stats = await sc.Stats();
        Assert.Equal("1", stats["http.h2e2e.downstream_cx_http2_total"]);
    }

    [GeneratedRegex(@"^\s*\d+\s+\+\S+\s+\+\S+\s+\S+\s+200\s", RegexOptions.Multiline)]
    private static partial Regex StatLine200();

    [Fact]
    public async Task Response_trailers_are_forwarded_and_te_trailers_passes()
    {
        var (sc, port) = await f.Sidecar(output);
        using var _ = sc;
        var r = await Nghttp("-v", "-H", "te: trailers", $"http://127.0.0.1:{port}/trailers");
        Assert.True(r.ExitCode == 0, r.ToString() + f.TrailersOutput);
        var sha = Sha("trailer body\n"u8.ToArray());
        Assert.Contains("x-checksum: " + sha, r.StdOut);
        Assert.Contains("x-te-seen: trailers", r.StdOut);
        // the trailers arrive as a second HEADERS frame that ends the stream
        Assert.Matches(@"recv HEADERS frame <[^>]*flags=0x05", r.StdOut);
    }

    [Fact]
    public async Task Request_headers_are_translated_for_an_h1_upstream()
    {
        var (sc, port) = await f.Sidecar(output);
        using var _ = sc;
        var r = await Nghttp("-H", ":authority: svc.example:8080", "-H", "cookie: a=1", "-H", "cookie: b=2",
            "-H", "x-custom: yes", $"http://127.0.0.1:{port}/origin-headers");
        Assert.True(r.ExitCode == 0, r.ToString());
        var head = r.StdOut.Split("\r\n");
        Assert.Equal("GET /origin-headers HTTP/1.1", head[0]);
        string? H(string n) => head.Skip(1).Where(l => l.StartsWith(n + ":", StringComparison.OrdinalIgnoreCase))
            .Select(l => l[(n.Length + 1)..].Trim()).SingleOrDefault();
        Assert.Equal("svc.example:8080", H("host"));
        Assert.Equal("a=1; b=2", H("cookie"));
        Assert.Equal("yes", H("x-custom"));
        Assert.Equal("http", H("x-forwarded-proto"));
        Assert.Matches("^[0-9a-f-]{36}$", H("x-request-id") ?? "");
        Assert.DoesNotContain(head, l => l.StartsWith(':'));
    }

    [Fact]
    public async Task Response_hop_by_hop_headers_are_removed()
    {
        var (sc, port) = await f.Sidecar(output);
        using var _ = sc;
        var r = await CurlH2("-i", $"http://127.0.0.1:{port}/hop");
        Assert.True(r.ExitCode == 0, r.ToString());
        var lower = r.StdOut.ToLowerInvariant();
        Assert.Contains("x-end-to-end: kept", lower);
        Assert.EndsWith("hop\n", r.StdOut);
        foreach (var hop in new[] { "connection:", "keep-alive:", "proxy-connection:", "transfer-encoding:", "x-hop-custom:" })
            Assert.DoesNotContain("\n" + hop, lower);
    }

    [Theory]
    [InlineData("/h2/index.html")]
    [InlineData("/hello")]
    public async Task H2load_multiplexed_has_no_failures(string path)
    {
        var (sc, port) = await f.Sidecar(output);
        using var _ = sc;
        var r = await Proc.Run(TestEnv.Tool("h2load", "nghttp2-client"), ["-n", "4000", "-c", "4", "-m", "20", $"http://127.0.0.1:{port}{path}"],
            TimeSpan.FromSeconds(120));
        output.WriteLine(r.StdOut);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("requests: 4000 total, 4000 started, 4000 done, 4000 succeeded, 0 failed, 0 errored, 0 timeout", r.StdOut);
        Assert.Contains("status codes: 4000 2xx", r.StdOut);
    }
}
