using System.Text;
using Sidecar.E2E.Tests.Harness;
using Xunit;
using Xunit.Abstractions;

namespace Sidecar.E2E.Tests.Tls;

/// <summary>
/// One sidecar with two STRICT listeners in front of nginx. "strict": SDS default/ROOTCA from SIDECAR_CERT_DIR
/// (the Istio test server certificate; roots = the Istio test root + a test CA of ours), URI SAN prefix
/// spiffe://cluster.local/, TLS 1.3 minimum. "exact": the same certificate inline from files with trusted_ca,
/// URI SAN exact on an identity the Istio test client does not have.
/// </summary>
public sealed class StrictListenerFixture : IAsyncLifetime
{
    public const string ReviewerId = "spiffe://cluster.local/ns/mounted-certs/sa/reviewer";
    public TestCa Extra { get; } = TestCa.Create("e2e-extra-ca");
    public TestCa Untrusted { get; } = TestCa.Create("e2e-untrusted-ca");
    public TempDir Dir { get; } = TestEnv.NewTempDir("strict");
    public UpstreamPeers Peers { get; private set; } = null!;
    public SidecarProcess Sidecar { get; private set; } = null!;
    public int StrictPort { get; private set; }
    public int ExactPort { get; private set; }
    public int PlainPort { get; private set; }
    public string StrictName => $"tls_{StrictPort}";
    public string ExactName => $"tls_{ExactPort}";

    /// <summary>Client certificates, by name.</summary>
    public Dictionary<string, CertFiles> Clients { get; } = [];

    public async Task InitializeAsync()
    {
        Peers = await UpstreamPeers.Start();
        var server = MeshPki.CopyWithRoots(MeshPki.Server, Dir.File("server"), Extra.RootPem);
        var now = DateTimeOffset.UtcNow;
        Clients["good"] = MeshPki.Client;
        Clients["extra"] = Extra.IssueValid("spiffe://cluster.local/ns/e2e/sa/extra").WriteTo(Dir.File("extra"), Extra.RootPem);
        Clients["reviewer"] = Extra.IssueValid(ReviewerId).WriteTo(Dir.File("reviewer"), Extra.RootPem);
        Clients["expired"] = Extra.Issue("spiffe://cluster.local/ns/e2e/sa/expired", now.AddDays(-2), now.AddDays(-1)).WriteTo(Dir.File("expired"), Extra.RootPem);
        Clients["not-yet-valid"] = Extra.Issue("spiffe://cluster.local/ns/e2e/sa/early", now.AddDays(1), now.AddDays(2)).WriteTo(Dir.File("early"), Extra.RootPem);
        Clients["wrong-san"] = Extra.IssueValid("spiffe://evil.example/ns/e2e/sa/intruder").WriteTo(Dir.File("evil"), Extra.RootPem);
        Clients["untrusted"] = Untrusted.IssueValid("spiffe://cluster.local/ns/e2e/sa/stranger").WriteTo(Dir.File("stranger"), Untrusted.RootPem);

        var cfg = new SidecarConfig();
        StrictPort = cfg.AddListener(new Chain(new HttpApp("strict", ("/", "web")),
            TlsSide.Sds(San.UriPrefix("spiffe://cluster.local/")) with { Alpn = ["istio-h2", "h2", "http/1.1"], MinVersion = "TLSv1_3" }));
        ExactPort = cfg.AddListener(new Chain(new HttpApp("exact", ("/", "web")),
            TlsSide.FromFiles(server, San.UriExact(ReviewerId)) with { Alpn = ["http/1.1"] }));
        PlainPort = cfg.AddListener(new Chain(new HttpApp("plain", ("/", "web"))));
        cfg.AddCluster(new ClusterSpec("web", Peers.NginxPort));
        Sidecar = await SidecarProcess.StartWithEnv(cfg, null, new Dictionary<string, string> { ["SIDECAR_CERT_DIR"] = server.Dir });
    }

    public Task DisposeAsync()
    {
        Sidecar?.Dispose();
        Peers?.Dispose();
        Extra.Dispose();
        Untrusted.Dispose();
        Dir.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>openssl s_client (and raw sockets) against STRICT listeners: the good client and every refusal of issue 5.</summary>
public sealed class StrictListenerTests(StrictListenerFixture f, ITestOutputHelper output) : IClassFixture<StrictListenerFixture>
{
    private static readonly string[] SslCounters = ["handshake", "connection_error", "fail_verify_no_cert", "fail_verify_error", "fail_verify_san"];

    private string Diagnostics => "--- sidecar ---\n" + ProcResult.Tail(f.Sidecar.Process.Output, 6000);

    private async Task<Dictionary<string, long>> SslStats(int port)
    {
        var stats = await f.Sidecar.Stats();
        return SslCounters.ToDictionary(c => c, c => stats.TryGetValue(TlsYaml.ListenerSsl(port, c), out var v) ? long.Parse(v) : -1);
    }

    private async Task AssertGoodRequest(int port, CertFiles client)
    {
        var r = await TlsClients.SClient(port, client, MeshPki.Server.Root, TlsClients.GetHello, "-alpn", "http/1.1");
        Assert.True(r.StdOut.Contains("HTTP/1.1 200") && r.StdOut.Contains("\r\n\r\nhello\n"), $"good client on {port}:\n{r}\n{Diagnostics}");
    }

    [Theory]
    [InlineData("h2", "h2")]
    [InlineData("istio-h2", "istio-h2")]
    [InlineData("http/1.1", "http/1.1")]
    [InlineData("istio-h2,http/1.1", "istio-h2")]
    [InlineData(null, "")]
    public async Task Client_certificate_from_the_mesh_is_accepted_and_alpn_negotiated(string? offer, string negotiated)
    {
        var before = await SslStats(f.StrictPort);
        var extra = offer is null ? Array.Empty<string>() : ["-alpn", offer];
        var r = await TlsClients.SClient(f.StrictPort, MeshPki.Client, MeshPki.Server.Root, TlsClients.GetHello, [.. extra, "-showcerts"]);
        output.WriteLine(r.ToString());
        Assert.Equal(negotiated, TlsClients.Alpn(r));
        Assert.Contains("Protocol  : TLSv1.3", r.StdOut);
        Assert.Contains("Verify return code: 0 (ok)", r.StdOut);
        // the server presents the SDS "default" certificate: the Istio test server's
        Assert.Equal("21FD95BFD430C5326010939B19B26F1CCB612368", TlsClients.PeerSerial(r));
        if (negotiated is "" or "http/1.1")
            Assert.True(r.StdOut.Contains("HTTP/1.1 200") && r.StdOut.Contains("\r\n\r\nhello\n"), r + Diagnostics);
        var after = await SslStats(f.StrictPort);
        Assert.Equal(before["handshake"] + 1, after["handshake"]);
        foreach (var c in SslCounters.Skip(1)) Assert.Equal(before[c], after[c]);
    }

    [Fact]
    public async Task A_second_trusted_root_in_the_bundle_is_honoured()
    {
        await AssertGoodRequest(f.StrictPort, f.Clients["extra"]);
        await AssertGoodRequest(f.ExactPort, f.Clients["reviewer"]);
    }

    public static TheoryData<string, string, string, string> Refusals => new()
    {
        // case, listener, counter, logged reason
        { "missing-client-cert", "strict", "fail_verify_no_cert", "MissingClientCert" },
        { "untrusted", "strict", "fail_verify_error", "UntrustedCa" },
        { "expired", "strict", "fail_verify_error", "Expired" },
        { "not-yet-valid", "strict", "fail_verify_error", "NotYetValid" },
        { "wrong-san", "strict", "fail_verify_san", "WrongSan" },
        { "wrong-san-exact", "exact", "fail_verify_san", "WrongSan" },
        { "plaintext-http", "strict", "connection_error", "HandshakeFailed" },
        { "garbage", "strict", "connection_error", "HandshakeFailed" },
        { "tls12-client", "strict", "connection_error", "HandshakeFailed" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task Refusal_is_counted_logged_once_and_the_listener_keeps_serving(string kind, string listener, string counter, string reason)
    {
        var port = listener == "strict" ? f.StrictPort : f.ExactPort;
        var name = listener == "strict" ? f.StrictName : f.ExactName;
        var before = await SslStats(port);
        for (var i = 0; i < 2; i++)
        {
            var answer = await Attempt(kind, port);
            Assert.False(answer.Contains("HTTP/1.1 200"), $"{kind} attempt {i} was served:\n{answer}");
        }
        var after = await SslStats(port);
        Assert.True(after[counter] == before[counter] + 2, $"{counter}: {before[counter]} -> {after[counter]}\n{Diagnostics}");
        foreach (var c in SslCounters.Where(c => c != counter)) Assert.True(before[c] == after[c], $"{c} moved: {before[c]} -> {after[c]}");

        await AssertGoodRequest(port, listener == "strict" ? MeshPki.Client : f.Clients["reviewer"]);
        Assert.False(f.Sidecar.Process.HasExited);
        var lines = RefusalLog.Count(f.Sidecar.Process.Output, "listener", name, reason);
        Assert.True(lines == 1, $"expected exactly one '{reason}' line for {name}, got {lines}\n{Diagnostics}");
    }

    [Fact]
    public async Task Tls_to_a_plaintext_port_is_refused_and_the_port_keeps_serving()
    {
        var before = await f.Sidecar.Stats();
        for (var i = 0; i < 2; i++)
        {
            var r = await TlsClients.SClient(f.PlainPort, MeshPki.Client, MeshPki.Server.Root, TlsClients.GetHello, "-alpn", "http/1.1");
            output.WriteLine(r.ToString());
            Assert.True(r.ExitCode != 0 && r.StdOut.Contains("no peer certificate available") && !r.StdOut.Contains("hello"), r.ToString());
        }
        var after = await f.Sidecar.Stats();
        Assert.Equal(long.Parse(before["http.plain.downstream_cx_protocol_error"]) + 2, long.Parse(after["http.plain.downstream_cx_protocol_error"]));
        var ok = await Proc.Curl($"http://127.0.0.1:{f.PlainPort}/hello");
        Assert.Equal("hello\n", ok.StdOut);
        Assert.False(f.Sidecar.Process.HasExited);
    }

    /// <summary>One refused attempt; returns everything the client saw.</summary>
    private async Task<string> Attempt(string kind, int port)
    {
        switch (kind)
        {
            case "plaintext-http":
            {
                var r = await RawHttp.Exchange(port, TlsClients.GetHello, TimeSpan.FromSeconds(10));
                Assert.True(r.ClosedByPeer && r.Status == 0, $"plaintext got: {r.Head}");
                return Encoding.Latin1.GetString(r.Raw);
            }
            case "garbage":
            {
                using var s = await RawHttp.Connect(port);
                var junk = Encoding.ASCII.GetBytes("\x01\x02 this is not a ClientHello \xff\xfe\r\n\r\n" + new string('z', 300));
                var (data, closed) = await RawHttp.SendAndRead(s, junk, TimeSpan.FromSeconds(10));
                Assert.True(closed, "the sidecar kept a garbage connection open");
                return Encoding.Latin1.GetString(data);
            }
            default:
            {
                CertFiles? cert = kind switch
                {
                    "missing-client-cert" => null,
                    "tls12-client" => MeshPki.Client,
                    "wrong-san-exact" => MeshPki.Client,
                    _ => f.Clients[kind],
                };
                string[] extra = kind == "tls12-client" ? ["-tls1_2"] : ["-alpn", "http/1.1"];
                var r = await TlsClients.SClient(port, cert, MeshPki.Server.Root, TlsClients.GetHello, extra);
                output.WriteLine($"{kind}: {r}");
                Assert.False(r.TimedOut, r.ToString());
                return r.StdOut;
            }
        }
    }
}
