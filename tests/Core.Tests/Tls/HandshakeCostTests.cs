using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Xunit;
using Xunit.Abstractions;
using Sidecar.Core.Identity;
using Sidecar.Core.Tests.Identity;
using Sidecar.Core.Tls;

namespace Sidecar.Core.Tests.Tls;

/// <summary>
/// CPU per full mTLS handshake, for the performance note. Filter with <c>Category=Perf</c>; the asserts are sanity
/// bounds only (a 2-core shared machine), the figures go to the test output.
/// </summary>
[Trait("Category", "Perf")]
[Collection(nameof(HandshakeCostTests))]
public sealed class HandshakeCostTests(ITestOutputHelper output)
{
    private static TimeSpan Cpu() => Process.GetCurrentProcess().TotalProcessorTime;

    [Theory]
    [InlineData(false, 150)]
    [InlineData(true, 300)]
    public async Task InProcessFullHandshakeCpu(bool ecdsa, int count)
    {
        var pki = new TestPki(ecdsa ? "ec-root" : "rsa-root", ecdsa);
        var server = new DownstreamTlsContext(new DownstreamTlsOptions(), new StaticCertificateSource(pki.Workload(TlsTestPeers.ServerId, ecdsa: ecdsa)));
        // No SNI: .NET keys client-side session reuse by target host, so this measures full handshakes only.
        var client = new UpstreamTlsContext(new UpstreamTlsOptions(), new StaticCertificateSource(pki.Workload(TlsTestPeers.ClientId, ecdsa: ecdsa)));
        for (var i = 0; i < 10; i++) await OneAsync(server, client); // warm-up: JIT, context cache, OpenSSL init

        var cpu0 = Cpu();
        var wall = Stopwatch.StartNew();
        for (var i = 0; i < count; i++) await OneAsync(server, client);
        wall.Stop();
        var perHandshakeUs = (Cpu() - cpu0).TotalMicroseconds / count;
        output.WriteLine($"{(ecdsa ? "ECDSA P-256" : "RSA 2048")}: {count} mTLS handshakes (TLS 1.3), client+server CPU {perHandshakeUs:F0} µs/handshake, wall {wall.Elapsed.TotalMicroseconds / count:F0} µs");
        Assert.InRange(perHandshakeUs, 1, 100_000);
    }

    /// <summary>The pieces of a handshake's CPU that are ours to choose: chain building with the mesh policy, and one signature.</summary>
    [Fact]
    public void ChainBuildAndSignatureCpu()
    {
        var leaf = TlsTestPeers.Client.Value;
        var policy = PeerCertificateVerifier.MeshChainPolicy(leaf.TrustBundle);
        var peer = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificate(leaf.Leaf.RawData);
        for (var i = 0; i < 20; i++) Build(peer, policy);
        const int n = 300;
        var cpu0 = Cpu();
        for (var i = 0; i < n; i++) Build(peer, policy);
        var chainUs = (Cpu() - cpu0).TotalMicroseconds / n;

        using var rsa = System.Security.Cryptography.X509Certificates.RSACertificateExtensions.GetRSAPrivateKey(leaf.Leaf)!;
        var data = new byte[32];
        cpu0 = Cpu();
        for (var i = 0; i < n; i++) rsa.SignHash(data, System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pss);
        var signUs = (Cpu() - cpu0).TotalMicroseconds / n;
        output.WriteLine($"X509Chain.Build (mesh policy, 1 root): {chainUs:F0} µs; RSA-2048 PSS sign: {signUs:F0} µs");
        Assert.True(Build(peer, policy));
    }

    private static bool Build(System.Security.Cryptography.X509Certificates.X509Certificate2 peer, System.Security.Cryptography.X509Certificates.X509ChainPolicy policy)
    {
        using var chain = new System.Security.Cryptography.X509Certificates.X509Chain { ChainPolicy = policy.Clone() };
        var ok = chain.Build(peer);
        foreach (var element in chain.ChainElements) element.Certificate.Dispose();
        return ok;
    }

    /// <summary>Accepts until cancelled; each connection is handshaken by <paramref name="server"/> on its own task.</summary>
    private static Task AcceptLoop(TcpListener listener, DownstreamTlsContext server, Func<TlsHandshakeResult, Task> onHandshake, CancellationToken stop) =>
        Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                Socket socket;
                try { socket = await listener.AcceptSocketAsync(stop); }
                catch (OperationCanceledException) { break; }
                _ = Task.Run(async () =>
                {
                    using (socket) await onHandshake(await server.AuthenticateAsync(new NetworkStream(socket, ownsSocket: false), false, default));
                });
            }
        });

    private static async Task OneAsync(DownstreamTlsContext server, UpstreamTlsContext client)
    {
        var (s, c) = await TlsTestPeers.HandshakeAsync(server, client);
        Assert.True(s.Succeeded && c.Succeeded, $"{s.Failure}/{c.Failure}");
        await s.Stream!.DisposeAsync();
        await c.Stream!.DisposeAsync();
    }

    /// <summary>
    /// Server-side CPU only: openssl s_time (another process) drives handshakes against our server; our process CPU
    /// is then the server's share. With <c>-reuse</c> s_time resumes sessions, which measures TLS 1.3 ticket resumption.
    /// </summary>
    [Theory]
    [InlineData("-new")]
    [InlineData("-reuse")]
    public async Task ServerSideCpuAgainstOpenSslSTime(string mode)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start(512);
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var server = new DownstreamTlsContext(new DownstreamTlsOptions(), new StaticCertificateSource(TlsTestPeers.Server.Value));
        using var stop = new CancellationTokenSource();
        var handshakes = 0;
        var failures = 0;
        var loop = AcceptLoop(listener, server, async r =>
        {
            if (r.Succeeded) { Interlocked.Increment(ref handshakes); await r.Stream!.DisposeAsync(); }
            else Interlocked.Increment(ref failures);
        }, stop.Token);

        var client = Path.Combine(IdentityTestData.MeshPair("mountedcerts-client"));
        var info = new ProcessStartInfo("openssl") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in (string[])["s_time", "-connect", $"127.0.0.1:{port}", mode, "-time", "4",
                     "-cert", Path.Combine(client, "cert-chain.pem"), "-key", Path.Combine(client, "key.pem"), "-CAfile", Path.Combine(client, "root-cert.pem")])
            info.ArgumentList.Add(a);
        var cpu0 = Cpu();
        using var sTime = Process.Start(info)!;
        var stdout = sTime.StandardOutput.ReadToEndAsync();
        var stderr = sTime.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try { await sTime.WaitForExitAsync(timeout.Token); }
        finally { if (!sTime.HasExited) sTime.Kill(); }
        var cpu = Cpu() - cpu0;
        await stop.CancelAsync();
        await loop;
        var n = Volatile.Read(ref handshakes);
        var text = await stdout;
        output.WriteLine(text.Trim());
        output.WriteLine((await stderr).Trim());
        // s_time closes right after its side of the handshake; the server then often sees the close before it has
        // finished (counted as failed), but it did the full handshake work for those too, so CPU is divided by both.
        var total = n + Volatile.Read(ref failures);
        output.WriteLine($"s_time {mode}: {total} server handshakes ({n} seen complete), server CPU {cpu.TotalMicroseconds / Math.Max(total, 1):F0} µs/handshake");
        Assert.True(n > 10, $"only {n} handshakes completed");
    }

    /// <summary>Whether our server resumes TLS 1.3 sessions (tickets): a second openssl s_client offering the first one's session reports "Reused".</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ResumptionWithOpenSslReconnect(bool mutual)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var server = new DownstreamTlsContext(new DownstreamTlsOptions { RequireClientCertificate = mutual }, new StaticCertificateSource(TlsTestPeers.Server.Value));
        using var stop = new CancellationTokenSource();
        var peers = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var loop = AcceptLoop(listener, server, async r =>
        {
            peers.Enqueue(r.Succeeded ? r.Stream!.PeerId.ToString() : r.Failure.ToString());
            if (!r.Succeeded) return;
            var buffer = new byte[16];
            try { while (await r.Stream!.ReadAsync(buffer) > 0) { } } catch (IOException) { }
            await r.Stream!.DisposeAsync();
        }, stop.Token);
        // TLS 1.3 tickets arrive after the handshake, so each s_client stays connected for a second before leaving;
        // the first saves its session (-sess_out), the second offers it (-sess_in) and prints "Reused" if accepted.
        var client = IdentityTestData.MeshPair("mountedcerts-client");
        var session = Path.Combine(Path.GetTempPath(), $"sidecar-tls-session-{Environment.ProcessId}-{mutual}.pem");
        var text = "";
        foreach (var sessionArgs in (string[][])[["-sess_out", session], ["-sess_in", session]])
        {
            var info = new ProcessStartInfo("openssl") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            string[] args = mutual
                ? ["s_client", "-connect", $"127.0.0.1:{port}", "-cert", Path.Combine(client, "cert-chain.pem"), "-key", Path.Combine(client, "key.pem"), "-CAfile", Path.Combine(client, "root-cert.pem"), .. sessionArgs]
                : ["s_client", "-connect", $"127.0.0.1:{port}", "-CAfile", Path.Combine(client, "root-cert.pem"), .. sessionArgs];
            foreach (var a in args) info.ArgumentList.Add(a);
            using var sClient = Process.Start(info)!;
            var stdout = sClient.StandardOutput.ReadToEndAsync();
            var stderr = sClient.StandardError.ReadToEndAsync();
            await Task.Delay(1000);
            sClient.StandardInput.Close();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try { await sClient.WaitForExitAsync(timeout.Token); }
            finally { if (!sClient.HasExited) sClient.Kill(); }
            text += await stdout + await stderr;
        }
        File.Delete(session);
        await stop.CancelAsync();
        await loop;
        var reused = text.Split('\n').Count(l => l.StartsWith("Reused,", StringComparison.Ordinal));
        var fresh = text.Split('\n').Count(l => l.StartsWith("New,", StringComparison.Ordinal));
        output.WriteLine($"s_client session resumption ({(mutual ? "mTLS" : "server-only TLS")}): {fresh} new, {reused} reused");
        output.WriteLine("server saw: " + string.Join(", ", peers));
        Assert.True(fresh == 1 && reused == 1, text);
        // A resumed mTLS session must still yield the client's identity (the ticket carries the client certificate).
        Assert.Equal(mutual ? [TlsTestPeers.ClientId, TlsTestPeers.ClientId] : ["", ""], peers.ToArray());
    }
}

/// <summary>CPU figures are per process, so these tests must not share the process with other running tests.</summary>
[CollectionDefinition(nameof(HandshakeCostTests), DisableParallelization = true)]
public sealed class HandshakeCostCollection;
