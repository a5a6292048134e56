using Sidecar.E2E.Tests.Harness;
using Xunit;
using Xunit.Abstractions;

namespace Sidecar.E2E.Tests.Tls;

/// <summary>
/// The sidecar as an mTLS client (cluster UpstreamTlsContext) of <c>openssl s_server -Verify 1 -verify_return_error</c>:
/// success with the Istio test client certificate, and each refusal of the server: wrong SAN, untrusted CA,
/// a TLS 1.3-only server against a client capped at TLS 1.2. A refused upstream is a 503 and an ssl.* counter.
/// </summary>
public sealed class UpstreamTlsTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Sidecar_originates_mtls_to_openssl_s_server_and_refuses_bad_servers()
    {
        using var untrustedCa = TestCa.Create("e2e-upstream-untrusted");
        using var dir = TestEnv.NewTempDir("up-tls");
        var stranger = untrustedCa.IssueValid(MeshPki.ServerId).WriteTo(dir.File("stranger"), untrustedCa.RootPem);
        int okPort = TestEnv.FreePort(), strangerPort = TestEnv.FreePort(), tls13Port = TestEnv.FreePort();
        using var ok = await TlsPeer.OpenSslServer(MeshPki.Server, okPort, "-Verify", "1", "-verify_return_error");
        using var untrusted = await TlsPeer.OpenSslServer(stranger, strangerPort, "-Verify", "1", "-verify_return_error");
        using var tls13 = await TlsPeer.OpenSslServer(MeshPki.Server, tls13Port, "-Verify", "1", "-verify_return_error", "-tls1_3");

        var client = TlsSide.FromFiles(MeshPki.Client, San.UriExact(MeshPki.ServerId)) with { Alpn = ["http/1.1"] };
        var cfg = new SidecarConfig();
        var port = cfg.AddListener(new Chain(new HttpApp("out", ("/ok", "c_ok"), ("/wrong-san", "c_san"),
            ("/untrusted", "c_untrusted"), ("/tls12", "c_tls12"))));
        cfg.AddTlsCluster("c_ok", okPort, client);
        cfg.AddTlsCluster("c_san", okPort, client with { Sans = [San.UriExact("spiffe://cluster.local/ns/mounted-certs/sa/someone-else")] });
        cfg.AddTlsCluster("c_untrusted", strangerPort, client);
        cfg.AddTlsCluster("c_tls12", tls13Port, client with { MaxVersion = "TLSv1_2" });
        using var sc = await SidecarProcess.Start(cfg, output);

        // success: s_server verified our client certificate and answered its status page
        var r = await Proc.Curl("-w", "\n%{http_code}", $"http://127.0.0.1:{port}/ok");
        Assert.True(r.StdOut.EndsWith("\n200") && r.StdOut.Contains("s_server"), r + ok.Output);
        Assert.Contains("CN = client.mounted-certs.svc.cluster.local", ok.Output);
        Assert.Contains("verify return:1", ok.Output);

        foreach (var (path, cluster, counter) in new[]
                 {
                     ("/wrong-san", "c_san", "fail_verify_san"),
                     ("/untrusted", "c_untrusted", "fail_verify_error"),
                     ("/tls12", "c_tls12", "connection_error"),
                 })
        {
            var refused = await Proc.Curl("-o", "/dev/null", "-w", "%{http_code}", $"http://127.0.0.1:{port}{path}");
            Assert.True(refused.StdOut == "503", $"{path}: {refused}");
            var stats = await sc.Stats();
            Assert.True(long.Parse(stats[TlsYaml.ClusterSsl(cluster, counter)]) >= 1, $"{cluster} {counter}: {stats[TlsYaml.ClusterSsl(cluster, counter)]}\n{sc.Process.Output}");
            Assert.Equal("0", stats[TlsYaml.ClusterSsl(cluster, "handshake")]);
        }
        var final = await sc.Stats();
        Assert.True(long.Parse(final[TlsYaml.ClusterSsl("c_ok", "handshake")]) >= 1);
        foreach (var reason in new[] { "WrongSan", "UntrustedCa", "HandshakeFailed" })
            Assert.True(RefusalLog.Count(sc.Process.Output, "cluster", reason switch { "WrongSan" => "c_san", "UntrustedCa" => "c_untrusted", _ => "c_tls12" }, reason) == 1,
                $"one {reason} line expected:\n{sc.Process.Output}");

        // the good upstream still works after the refusals
        var again = await Proc.Curl("-o", "/dev/null", "-w", "%{http_code}", $"http://127.0.0.1:{port}/ok");
        Assert.Equal("200", again.StdOut);
    }
}
