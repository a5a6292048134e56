using System.Text.RegularExpressions;
using Sidecar.E2E.Tests.Harness;
using Sidecar.TestPeers.IstioCa;
using Xunit;
using Xunit.Abstractions;

namespace Sidecar.E2E.Tests.Tls;

/// <summary>
/// Rotation with Istio's CA under load: both sidecars get their certificates from a test CA (CreateCertificate over
/// gRPC/TLS, 20-second certificates, so each side rotates every ~10 s), while wrk (keep-alive and one handshake per
/// request) and h2load run through client sidecar → server sidecar for ~40 s. Nothing may fail, each side must have
/// rotated several times, and new handshakes must see a new serial.
/// </summary>
public sealed partial class CaRotationUnderLoadTests(ITestOutputHelper output)
{
    private const int LoadSeconds = 40;

    [GeneratedRegex(@"issued serial ([0-9A-F]+)")]
    private static partial Regex Issued();

    [Fact]
    public async Task Certificates_from_the_Istio_CA_rotate_under_load_without_a_failed_request()
    {
        await using var ca = await TestIstioCa.StartAsync(new TestIstioCaOptions { Lifetime = TimeSpan.FromSeconds(20) });
        using var dir = TestEnv.NewTempDir("ca-rotation");
        string root = dir.File("ca-root.pem");
        ca.WriteRootCert(root);
        string token = dir.File("istio-token");
        File.WriteAllText(token, "test-token\n");
        Dictionary<string, string> Env(string serviceAccount) => new()
        {
            ["POD_NAMESPACE"] = "mounted-certs",
            ["SERVICE_ACCOUNT"] = serviceAccount,
            ["CA_ADDR"] = ca.Address,
            ["CA_ROOT_CA"] = root,
            ["ISTIOD_SAN"] = "istiod.istio-system.svc",
            ["SIDECAR_TOKEN_FILE"] = token,
        };
        using var mesh = await MeshPair.StartWithEnv(Env("server"), Env("client"), output);
        string firstSerial = await ServedSerial(mesh.StrictPort, root);

        var keepAlive = Load.Wrk(mesh.Url("/ka/"), 8, LoadSeconds);
        var newHandshakes = Load.Wrk(mesh.Url("/new/"), 2, LoadSeconds);
        var h2 = H2LoadResult.Run(["-D", LoadSeconds.ToString(), "-c", "2", "-m", "4", mesh.Url("/h2/")], TimeSpan.FromSeconds(LoadSeconds + 60));
        await Task.WhenAll(keepAlive, newHandshakes, h2);
        string lastSerial = await ServedSerial(mesh.StrictPort, root);

        var (ka, fresh, mux) = (await keepAlive, await newHandshakes, await h2);
        output.WriteLine($"keep-alive wrk:\n{ka}\nnew-handshake wrk:\n{fresh}\nh2load:\n{mux.Raw.StdOut}");
        int serverIssued = Issued().Matches(mesh.Server.Process.Output).Select(m => m.Groups[1].Value).Distinct().Count();
        int clientIssued = Issued().Matches(mesh.Client.Process.Output).Select(m => m.Groups[1].Value).Distinct().Count();
        output.WriteLine($"certificates: server {serverIssued}, client {clientIssued}, CA issued {ca.IssuedCount}; served serial {firstSerial} → {lastSerial}");

        Assert.True(serverIssued >= 4 && clientIssued >= 4, $"too few rotations: server {serverIssued}, client {clientIssued}\n{mesh.Diagnostics()}");
        Assert.NotEqual(firstSerial, lastSerial);
        Assert.True(ka.Requests > 1000 && ka.SocketErrors == 0 && ka.Non2xx == 0, "keep-alive load: " + ka + mesh.Diagnostics());
        Assert.True(fresh.Requests > 50 && fresh.SocketErrors == 0 && fresh.Non2xx == 0, "new-handshake load: " + fresh + mesh.Diagnostics());
        Assert.True(mux.Clean && mux.Succeeded > 500, "h2load: " + mux + mesh.Diagnostics());
        var server = await mesh.Server.Stats();
        foreach (var counter in new[] { "connection_error", "fail_verify_error", "fail_verify_san", "no_certificate" })
            Assert.True(server[TlsYaml.ListenerSsl(mesh.StrictPort, counter)] == "0", $"server {counter}\n{mesh.Diagnostics()}");
        // The two serial probes present no client certificate (they only read the server's): exactly those are refused.
        Assert.Equal("2", server[TlsYaml.ListenerSsl(mesh.StrictPort, "fail_verify_no_cert")]);
    }

    /// <summary>
    /// The serial a new handshake gets. Without a client certificate: the server sends its own before it judges the
    /// client's (TLS 1.3), and only the CA's workload certificates would be trusted here.
    /// </summary>
    private static async Task<string> ServedSerial(int port, string caFile)
    {
        var r = await TlsClients.SClient(port, null, caFile, "", "-showcerts", "-alpn", "http/1.1");
        return TlsClients.PeerSerial(r);
    }
}
