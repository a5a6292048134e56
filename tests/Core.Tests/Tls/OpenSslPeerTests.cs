using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Xunit;
using Sidecar.Core.Identity;
using Sidecar.Core.Tests.Identity;
using Sidecar.Core.Tls;

namespace Sidecar.Core.Tests.Tls;

/// <summary>
/// Our option factories against a real, independent TLS stack: <c>openssl s_client</c> to our server and our client to
/// <c>openssl s_server -Verify</c>. openssl is a required package (build.sh); a missing binary fails the test, it does not skip.
/// </summary>
public sealed class OpenSslPeerTests
{
    private static string Pair(string name, string file) => Path.Combine(IdentityTestData.MeshPair(name), file);

    private static Process StartOpenSsl(params string[] args)
    {
        var info = new ProcessStartInfo("openssl")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args) info.ArgumentList.Add(a);
        return Process.Start(info) ?? throw new InvalidOperationException("openssl did not start");
    }

    private static async Task<(string Out, string Err)> FinishAsync(Process process)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        finally
        {
            if (!process.HasExited) process.Kill();
        }
        return (await stdout, await stderr);
    }

    [Fact]
    public async Task OpenSslClientToOurServer()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var server = new DownstreamTlsContext(new DownstreamTlsOptions(), new StaticCertificateSource(TlsTestPeers.Server.Value));

        using var client = StartOpenSsl("s_client", "-connect", $"127.0.0.1:{port}", "-servername", "server.mounted-certs.svc",
            "-cert", Pair("mountedcerts-client", "cert-chain.pem"), "-key", Pair("mountedcerts-client", "key.pem"),
            "-CAfile", Pair("mountedcerts-client", "root-cert.pem"), "-alpn", "istio-peer-exchange,istio", "-verify_return_error", "-brief", "-ign_eof");
        try
        {
            using var socket = await listener.AcceptSocketAsync().WaitAsync(TimeSpan.FromSeconds(20));
            var result = await server.AuthenticateAsync(new NetworkStream(socket, ownsSocket: false), false, default);
            Assert.Equal(TlsPeerFailure.None, result.Failure);
            await using var tls = result.Stream!;
            Assert.Equal(TlsTestPeers.ClientId, tls.PeerId.ToString());
            Assert.Equal(IstioAlpn.PeerExchange, tls.NegotiatedApplicationProtocol);

            await client.StandardInput.WriteAsync("hello\n");
            await client.StandardInput.FlushAsync();
            var buffer = new byte[6];
            await tls.ReadExactlyAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(20));
            Assert.Equal("hello\n"u8.ToArray(), buffer);
            await tls.WriteAsync("world\n"u8.ToArray());
            await tls.ShutdownAsync();
        }
        finally
        {
            client.StandardInput.Close();
        }
        var (stdout, stderr) = await FinishAsync(client);
        Assert.Contains("Verification: OK", stderr);
        Assert.Contains("world", stdout);
    }

    [Fact]
    public async Task OpenSslClientWithoutCertificateIsRefused()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var server = new DownstreamTlsContext(new DownstreamTlsOptions(), new StaticCertificateSource(TlsTestPeers.Server.Value));
        using var client = StartOpenSsl("s_client", "-connect", $"127.0.0.1:{port}", "-CAfile", Pair("mountedcerts-client", "root-cert.pem"), "-brief", "-ign_eof");
        using var socket = await listener.AcceptSocketAsync().WaitAsync(TimeSpan.FromSeconds(20));
        var result = await server.AuthenticateAsync(new NetworkStream(socket, ownsSocket: false), false, default);
        Assert.Equal(TlsPeerFailure.MissingClientCert, result.Failure);
        socket.Close();
        client.StandardInput.Close();
        await FinishAsync(client);
    }

    /// <summary>Starts <c>openssl s_server -rev</c> (echoes lines reversed) and waits until it listens.</summary>
    private static async Task<(Process Server, int Port)> StartSServerAsync(string certDir, params string[] extra)
    {
        for (var attempt = 0; ; attempt++)
        {
            var port = TlsTestPeers.FreePort();
            string[] args = ["s_server", "-accept", port.ToString(), "-cert", Pair(certDir, "cert-chain.pem"), "-key", Pair(certDir, "key.pem"),
                "-CAfile", Pair(certDir, "root-cert.pem"), "-naccept", "1", "-rev", .. extra];
            var server = StartOpenSsl(args);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            while (await server.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
            {
                if (line.Contains("ACCEPT", StringComparison.Ordinal)) return (server, port);
            }
            server.Kill();
            server.Dispose();
            Assert.True(attempt < 3, "openssl s_server did not start");
        }
    }

    [Fact]
    public async Task OurClientToOpenSslServerRequiringClientCertificate()
    {
        var (server, port) = await StartSServerAsync("mountedcerts-server", "-Verify", "1", "-verify_return_error", "-alpn", "istio-http/1.1");
        using var _ = server;
        try
        {
            var client = new UpstreamTlsContext(
                new UpstreamTlsOptions { ServerName = "server.mounted-certs.svc", MatchSubjectAltNames = [SanMatcher.UriExact(TlsTestPeers.ServerId)] },
                new StaticCertificateSource(TlsTestPeers.Client.Value));
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(IPAddress.Loopback, port);
            var result = await client.AuthenticateAsync(new NetworkStream(socket, ownsSocket: false), false, default);
            Assert.Equal(TlsPeerFailure.None, result.Failure);
            await using var tls = result.Stream!;
            Assert.Equal(TlsTestPeers.ServerId, tls.PeerId.ToString());
            Assert.Equal(IstioAlpn.IstioHttp11, tls.NegotiatedApplicationProtocol);
            // s_server only echoes after it verified our certificate (-Verify 1 -verify_return_error).
            await tls.WriteAsync("abc\n"u8.ToArray());
            var buffer = new byte[3];
            await tls.ReadExactlyAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(20));
            Assert.Equal("cba"u8.ToArray(), buffer);
        }
        finally
        {
            if (!server.HasExited) server.Kill();
        }
        var (stdout, stderr) = await FinishAsync(server);
        Assert.Contains("CN = client.mounted-certs.svc.cluster.local", stdout + stderr);
    }

    [Fact]
    public async Task OurClientRefusesOpenSslServerWithUnexpectedIdentity()
    {
        // The "default" identity is under the same root, so only the SAN check can refuse it.
        var (server, port) = await StartSServerAsync("default");
        using var _ = server;
        try
        {
            var client = new UpstreamTlsContext(
                new UpstreamTlsOptions { MatchSubjectAltNames = [SanMatcher.UriExact(TlsTestPeers.ServerId)] },
                new StaticCertificateSource(TlsTestPeers.Client.Value));
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(IPAddress.Loopback, port);
            var result = await client.AuthenticateAsync(new NetworkStream(socket, ownsSocket: false), false, default);
            Assert.Equal(TlsPeerFailure.WrongSan, result.Failure);
        }
        finally
        {
            if (!server.HasExited) server.Kill();
        }
        await FinishAsync(server);
    }

    [Fact]
    public async Task OurClientRefusesOpenSslServerFromAnotherCa()
    {
        var (server, port) = await StartSServerAsync("mountedcerts-server");
        using var _ = server;
        try
        {
            var foreign = new TestPki("foreign");
            var client = new UpstreamTlsContext(new UpstreamTlsOptions { TrustBundle = foreign.Bundle }, new StaticCertificateSource(TlsTestPeers.Client.Value));
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(IPAddress.Loopback, port);
            var result = await client.AuthenticateAsync(new NetworkStream(socket, ownsSocket: false), false, default);
            Assert.Equal(TlsPeerFailure.UntrustedCa, result.Failure);
        }
        finally
        {
            if (!server.HasExited) server.Kill();
        }
        await FinishAsync(server);
    }
}
