using Sidecar.E2E.Tests.Harness;
using Xunit;
using Xunit.Abstractions;

namespace Sidecar.E2E.Tests.Tls;

/// <summary>
/// TCP over mTLS with socat: <c>socat - OPENSSL:…,cert,key,cafile</c> → sidecar tcp_proxy chain with a
/// DownstreamTlsContext → a socat echo (plain, or <c>OPENSSL-LISTEN … verify=1</c> behind an UpstreamTlsContext).
/// The echo appends a marker only after it has read EOF, so the marker proves the client's half-close crossed the proxy.
/// </summary>
public sealed class SocatTlsTests(ITestOutputHelper output)
{
    private const string Marker = "END-OF-ECHO";

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Tcp_over_mtls_echoes_and_passes_half_close(bool tlsUpstream)
    {
        using var dir = TestEnv.NewTempDir("socat-tls");
        var socat = TestEnv.Tool("socat", "socat");
        var echoPort = TestEnv.FreePort();
        var listen = tlsUpstream
            ? $"OPENSSL-LISTEN:{echoPort},bind=127.0.0.1,reuseaddr,fork,cert={MeshPki.Server.Chain},key={MeshPki.Server.Key},cafile={MeshPki.Server.Root},verify=1"
            : $"TCP-LISTEN:{echoPort},bind=127.0.0.1,reuseaddr,fork";
        using var echo = await TlsPeer.Command("socat-echo", socat, ["-T", "30", listen, $"SYSTEM:cat; printf {Marker}"], echoPort);

        var cfg = new SidecarConfig();
        var port = cfg.AddListener(new Chain(new TcpApp("tcp_mtls", "echo"),
            TlsSide.FromFiles(MeshPki.Server, San.UriExact(MeshPki.ClientId))));
        cfg.AddTlsCluster("echo", echoPort, tlsUpstream ? TlsSide.FromFiles(MeshPki.Client, San.UriExact(MeshPki.ServerId)) : null);
        using var sc = await SidecarProcess.Start(cfg, output);

        var payload = string.Concat(Enumerable.Range(0, 8000).Select(i => $"line {i:D6} {Convert.ToHexString(BitConverter.GetBytes(i * 2654435761L))}\n"));
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var r = await Proc.Run(socat, ["-t", "20", "-",
            $"OPENSSL:127.0.0.1:{port},cert={MeshPki.Client.Chain},key={MeshPki.Client.Key},cafile={MeshPki.Client.Root},commonname={MeshPki.ServerDns}"],
            TimeSpan.FromSeconds(40), payload);
        output.WriteLine($"socat client: {sw.ElapsedMilliseconds} ms, exit {r.ExitCode}, {r.StdOut.Length} bytes back; stderr: {r.StdErr}");
        string Diag() => $"{r}\n--- echo ---\n{echo.Output}\n--- sidecar ---\n{ProcResult.Tail(sc.Process.Output, 4000)}";
        Assert.True(r.StdOut.Length == payload.Length + Marker.Length, Diag());
        Assert.True(r.StdOut == payload + Marker, "echo differs\n" + Diag());
        // the echo closed after the marker and the proxy passed that on: socat returned well before its -t 20 s wait
        Assert.True(r.ExitCode == 0 && sw.Elapsed < TimeSpan.FromSeconds(15), Diag());

        var stats = await sc.Stats();
        Assert.Equal("1", stats[TlsYaml.ListenerSsl(port, "handshake")]);
        if (tlsUpstream) Assert.Equal("1", stats[TlsYaml.ClusterSsl("echo", "handshake")]);
    }
}
