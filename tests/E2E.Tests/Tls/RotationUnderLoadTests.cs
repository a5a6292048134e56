using System.Diagnostics;
using Sidecar.E2E.Tests.Harness;
using Xunit;
using Xunit.Abstractions;

namespace Sidecar.E2E.Tests.Tls;

/// <summary>
/// File-mounted rotation under load. The server sidecar's SIDECAR_CERT_DIR starts in Kubernetes' secret-volume
/// layout (files → ..data → ..&lt;timestamp&gt;/) with a 20-second certificate from a test CA; while wrk and h2load run
/// through client sidecar → server sidecar for ~40 s, the test rotates every ~8 s: once by swapping the ..data
/// symlink (as the kubelet does), then by writing each file to a temp name and renaming it over the old one.
/// Every request must succeed, and new handshakes must see each new serial.
/// </summary>
public sealed class RotationUnderLoadTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan Every = TimeSpan.FromSeconds(8);
    private const int LoadSeconds = 40;

    [Fact]
    public async Task Rotating_mounted_files_under_load_drops_nothing_and_new_handshakes_see_the_new_serial()
    {
        using var ca = TestCa.Create("e2e-rotation-ca");
        using var dir = TestEnv.NewTempDir("rotation");
        var serverDir = dir.File("server");
        var serverRoots = ca.RootPem + MeshPki.RootPem; // trusts the client (Istio test root) and itself
        var bundle = dir.File("bundle.pem");
        File.WriteAllText(bundle, serverRoots);
        // the schedule counts from the first certificate's issue, so no certificate outlives its 20 s however slow the setup
        var clock = Stopwatch.StartNew();
        var first = ca.IssueValid(MeshPki.ServerId, Lifetime, MeshPki.ServerDns);
        await KubeletLayout(serverDir, first, serverRoots, initial: true);
        var clientFiles = MeshPki.CopyWithRoots(MeshPki.Client, dir.File("client"), ca.RootPem);

        using var mesh = await MeshPair.Start(serverDir, clientFiles.Dir, output);
        Assert.Equal(first.SerialHex, await ServedSerial(mesh.StrictPort, bundle));

        var keepAlive = Load.Wrk(mesh.Url("/ka/"), 8, LoadSeconds);
        var newHandshakes = Load.Wrk(mesh.Url("/new/"), 2, LoadSeconds);
        var h2 = H2LoadResult.Run(["-D", LoadSeconds.ToString(), "-c", "2", "-m", "4", mesh.Url("/h2/")], TimeSpan.FromSeconds(LoadSeconds + 60));
        var load = Task.WhenAll(keepAlive, newHandshakes, h2);
        var lastRotation = clock.Elapsed + TimeSpan.FromSeconds(LoadSeconds - 3);

        var serials = new List<string> { first.SerialHex };
        for (var i = 1; Every * i <= lastRotation; i++)
        {
            var wait = Every * i - clock.Elapsed;
            if (wait > TimeSpan.Zero) await Task.WhenAny(load, Task.Delay(wait));
            Assert.False(load.IsCompleted, "the load ended before the rotations");
            var next = ca.IssueValid(MeshPki.ServerId, Lifetime, MeshPki.ServerDns);
            var how = i == 1 ? "..data symlink swap" : "temp file + rename";
            var rotatedAt = clock.Elapsed;
            if (i == 1) await KubeletLayout(serverDir, next, serverRoots, initial: false);
            else RenameOver(serverDir, next, serverRoots);
            // a new handshake sees the new certificate (the source watches the directory and re-checks every 5 s)
            string seen = "";
            while (clock.Elapsed - rotatedAt < TimeSpan.FromSeconds(7) && (seen = await ServedSerial(mesh.StrictPort, bundle)) != next.SerialHex)
                await Task.Delay(100);
            output.WriteLine($"rotation {i} ({how}) at {rotatedAt.TotalSeconds:F1} s: new serial served after {(clock.Elapsed - rotatedAt).TotalMilliseconds:F0} ms");
            Assert.True(seen == next.SerialHex, $"rotation {i} ({how}): still serving {seen}, expected {next.SerialHex}\n{mesh.Diagnostics()}");
            serials.Add(next.SerialHex);
        }
        await load;

        var (ka, fresh, mux) = (await keepAlive, await newHandshakes, await h2);
        output.WriteLine($"keep-alive wrk:\n{ka}\nnew-handshake wrk:\n{fresh}\nh2load:\n{mux.Raw.StdOut}");
        Assert.True(serials.Count >= 5, $"only {serials.Count - 1} rotations");
        Assert.True(ka.Requests > 1000 && ka.SocketErrors == 0 && ka.Non2xx == 0, "keep-alive load: " + ka + mesh.Diagnostics());
        Assert.True(fresh.Requests > 50 && fresh.SocketErrors == 0 && fresh.Non2xx == 0, "new-handshake load: " + fresh + mesh.Diagnostics());
        Assert.True(mux.Clean && mux.Succeeded > 500, "h2load: " + mux + mesh.Diagnostics());

        var server = await mesh.Server.Stats();
        var client = await mesh.Client.Stats();
        // every /new/ request was its own handshake, so the rotations were crossed by fresh handshakes, not only by pooled connections
        Assert.True(long.Parse(client[TlsYaml.ClusterSsl("mesh_new", "handshake")]) >= fresh.Requests);
        foreach (var counter in new[] { "connection_error", "fail_verify_no_cert", "fail_verify_error", "fail_verify_san" })
        {
            Assert.True(server[TlsYaml.ListenerSsl(mesh.StrictPort, counter)] == "0", $"server {counter}: {server[TlsYaml.ListenerSsl(mesh.StrictPort, counter)]}\n{mesh.Diagnostics()}");
            foreach (var c in new[] { "mesh_h1", "mesh_h2", "mesh_new" })
                Assert.True(client[TlsYaml.ClusterSsl(c, counter)] == "0", $"client {c} {counter}\n{mesh.Diagnostics()}");
        }
        foreach (var serial in serials)
            Assert.Contains($"loaded serial {serial}", mesh.Server.Process.Output);
    }

    /// <summary>The serial of the certificate a new handshake with the STRICT listener gets.</summary>
    private static async Task<string> ServedSerial(int port, string caFile)
    {
        // one request with Connection: close, so the server ends the connection and s_client (-ign_eof) returns
        var r = await TlsClients.SClient(port, MeshPki.Client, caFile, TlsClients.GetHello, "-showcerts", "-alpn", "http/1.1");
        return TlsClients.PeerSerial(r);
    }

    /// <summary>
    /// Kubernetes' atomic writer: the files live in ..&lt;timestamp&gt;/, ..data points there, and the visible names are
    /// symlinks through ..data. A rotation writes a new timestamped dir and renames a fresh ..data link over the old one.
    /// </summary>
    private static async Task KubeletLayout(string dir, IssuedCert cert, string roots, bool initial)
    {
        Directory.CreateDirectory(dir);
        var stamp = $"..{DateTime.UtcNow:yyyy_MM_dd_HH_mm_ss.fffffff}";
        cert.WriteTo(Path.Combine(dir, stamp), roots);
        var tmp = Path.Combine(dir, "..data_tmp");
        File.CreateSymbolicLink(tmp, stamp);
        // rename(2) of the link itself (mv -T), never into the directory it points to
        var mv = await Proc.Run("/bin/mv", ["-T", "-f", tmp, Path.Combine(dir, "..data")], TimeSpan.FromSeconds(10));
        Assert.True(mv.ExitCode == 0, mv.ToString());
        if (!initial) return;
        foreach (var name in new[] { "cert-chain.pem", "key.pem", "root-cert.pem" })
            File.CreateSymbolicLink(Path.Combine(dir, name), Path.Combine("..data", name));
    }

    /// <summary>Each file written under a temp name, then renamed over the visible name (rename(2) is atomic).</summary>
    private static void RenameOver(string dir, IssuedCert cert, string roots)
    {
        foreach (var (name, text) in new[] { ("key.pem", cert.KeyPem), ("cert-chain.pem", cert.ChainPem), ("root-cert.pem", roots) })
        {
            var tmp = Path.Combine(dir, $".{name}.tmp");
            File.WriteAllText(tmp, text);
            File.Move(tmp, Path.Combine(dir, name), overwrite: true);
        }
    }
}
