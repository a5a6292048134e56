using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Xunit;
using Sidecar.Core.Identity;
using Sidecar.Core.Tests.Identity;
using Sidecar.Core.Tls;

namespace Sidecar.Core.Tests.Tls;

/// <summary>Real SslStream handshakes over loopback sockets, built from our option factories and the Istio test PKI.</summary>
public sealed class TlsHandshakeTests
{
    private static DownstreamTlsContext ServerContext(ICertificateSource? source = null, DownstreamTlsOptions? options = null) =>
        new(options ?? new DownstreamTlsOptions(), source ?? new StaticCertificateSource(TlsTestPeers.Server.Value));

    private static UpstreamTlsContext ClientContext(ICertificateSource? source = null, UpstreamTlsOptions? options = null) =>
        new(options ?? new UpstreamTlsOptions { ServerName = "server.mounted-certs.svc", MatchSubjectAltNames = [SanMatcher.UriExact(TlsTestPeers.ServerId)] },
            source ?? new StaticCertificateSource(TlsTestPeers.Client.Value));

    [Fact]
    public async Task MutualTlsSucceedsWithIdentitiesAndIstioAlpn()
    {
        var (server, client) = await TlsTestPeers.HandshakeAsync(ServerContext(), ClientContext());
        Assert.Equal(TlsPeerFailure.None, server.Failure);
        Assert.Equal(TlsPeerFailure.None, client.Failure);
        await using var s = server.Stream!;
        await using var c = client.Stream!;
        Assert.Equal(TlsTestPeers.ClientId, s.PeerId.ToString());
        Assert.Equal(TlsTestPeers.ServerId, c.PeerId.ToString());
        Assert.Equal(IstioAlpn.IstioHttp11, s.NegotiatedApplicationProtocol);
        Assert.Equal(IstioAlpn.IstioHttp11, c.NegotiatedApplicationProtocol);
        Assert.Equal("server.mounted-certs.svc", s.TargetHostName); // SNI reached the server

        await c.WriteAsync("ping"u8.ToArray());
        var buffer = new byte[4];
        await s.ReadExactlyAsync(buffer);
        Assert.Equal("ping"u8.ToArray(), buffer);
    }

    [Theory]
    [InlineData("istio-peer-exchange")]
    [InlineData("istio")]
    [InlineData("istio-h2")]
    [InlineData("istio-http/1.0")]
    [InlineData("h2")]
    [InlineData("http/1.1")]
    public async Task EveryIstioAlpnIsAccepted(string protocol)
    {
        var alpn = new SslApplicationProtocol(protocol);
        var client = ClientContext(options: new UpstreamTlsOptions { ApplicationProtocols = [alpn] });
        var (server, c) = await TlsTestPeers.HandshakeAsync(ServerContext(), client);
        Assert.Equal(alpn, server.Stream!.NegotiatedApplicationProtocol);
        await server.Stream.DisposeAsync();
        await c.Stream!.DisposeAsync();
    }

    [Fact]
    public async Task ClientRefusesWrongServerSan()
    {
        var client = ClientContext(options: new UpstreamTlsOptions { MatchSubjectAltNames = [SanMatcher.UriExact("spiffe://cluster.local/ns/mounted-certs/sa/other")] });
        var (_, c) = await TlsTestPeers.HandshakeAsync(ServerContext(), client);
        Assert.Equal(TlsPeerFailure.WrongSan, c.Failure);
        Assert.Null(c.Stream);
    }

    [Fact]
    public async Task ServerRefusesWrongClientSan()
    {
        var server = ServerContext(options: new DownstreamTlsOptions { MatchSubjectAltNames = [SanMatcher.UriPrefix("spiffe://cluster.local/ns/other/")] });
        var (s, _) = await TlsTestPeers.HandshakeAsync(server, ClientContext());
        Assert.Equal(TlsPeerFailure.WrongSan, s.Failure);
    }

    [Fact]
    public async Task DnsSanMatchers()
    {
        var exact = ClientContext(options: new UpstreamTlsOptions { MatchSubjectAltNames = [SanMatcher.DnsExact("SERVER.mounted-certs.svc")] });
        var (s1, c1) = await TlsTestPeers.HandshakeAsync(ServerContext(), exact);
        Assert.Equal(TlsPeerFailure.None, c1.Failure);
        await s1.Stream!.DisposeAsync();
        await c1.Stream!.DisposeAsync();
        var suffix = ClientContext(options: new UpstreamTlsOptions { MatchSubjectAltNames = [SanMatcher.DnsSuffix(".other.svc")] });
        var (_, c2) = await TlsTestPeers.HandshakeAsync(ServerContext(), suffix);
        Assert.Equal(TlsPeerFailure.WrongSan, c2.Failure);
    }

    [Fact]
    public async Task ServerRefusesClientFromAnotherCa()
    {
        var foreign = new TestPki("foreign-root");
        // The client trusts the mesh root (so it accepts the server) but its own certificate comes from another CA.
        var (chain, key, _) = foreign.Issue(TlsTestPeers.ClientId);
        WorkloadCertificateLoader.TryLoad(chain, key, File.ReadAllText(Path.Combine(IdentityTestData.MeshPair("default"), "root-cert.pem")), DateTimeOffset.UtcNow, out var clientCert);
        var (s, _) = await TlsTestPeers.HandshakeAsync(ServerContext(), ClientContext(new StaticCertificateSource(clientCert)));
        Assert.Equal(TlsPeerFailure.UntrustedCa, s.Failure);
    }

    [Fact]
    public async Task ClientRefusesServerFromAnotherCa()
    {
        var foreign = new TestPki("foreign-root");
        var serverCert = foreign.Workload(TlsTestPeers.ServerId);
        var (_, c) = await TlsTestPeers.HandshakeAsync(ServerContext(new StaticCertificateSource(serverCert)), ClientContext());
        Assert.Equal(TlsPeerFailure.UntrustedCa, c.Failure);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ExpiredOrNotYetValidClientIsRefused(bool expired)
    {
        var pki = new TestPki();
        var now = DateTimeOffset.UtcNow;
        var clientCert = expired
            ? pki.Workload(TlsTestPeers.ClientId, notBefore: now.AddDays(-2), notAfter: now.AddHours(-1))
            : pki.Workload(TlsTestPeers.ClientId, notBefore: now.AddHours(1), notAfter: now.AddDays(2));
        var serverCert = pki.Workload(TlsTestPeers.ServerId);
        var (s, _) = await TlsTestPeers.HandshakeAsync(
            ServerContext(new StaticCertificateSource(serverCert)),
            ClientContext(new StaticCertificateSource(clientCert)));
        Assert.Equal(expired ? TlsPeerFailure.Expired : TlsPeerFailure.NotYetValid, s.Failure);
    }

    [Fact]
    public async Task ExpiredServerIsRefusedByTheClient()
    {
        var pki = new TestPki();
        var now = DateTimeOffset.UtcNow;
        var serverCert = pki.Workload(TlsTestPeers.ServerId, notBefore: now.AddDays(-2), notAfter: now.AddHours(-1));
        var (_, c) = await TlsTestPeers.HandshakeAsync(
            ServerContext(new StaticCertificateSource(serverCert)),
            ClientContext(new StaticCertificateSource(pki.Workload(TlsTestPeers.ClientId))));
        Assert.Equal(TlsPeerFailure.Expired, c.Failure);
    }

    [Fact]
    public async Task MissingClientCertificateIsRefused()
    {
        var client = ClientContext(options: new UpstreamTlsOptions { PresentClientCertificate = false });
        var (s, _) = await TlsTestPeers.HandshakeAsync(ServerContext(), client);
        Assert.Equal(TlsPeerFailure.MissingClientCert, s.Failure);
    }

    [Fact]
    public async Task OneWayTlsIsAllowedWhenNotRequired()
    {
        var server = ServerContext(options: new DownstreamTlsOptions { RequireClientCertificate = false });
        var client = ClientContext(options: new UpstreamTlsOptions { PresentClientCertificate = false });
        var (s, c) = await TlsTestPeers.HandshakeAsync(server, client);
        Assert.Equal(TlsPeerFailure.None, s.Failure);
        Assert.True(s.Stream!.PeerId.IsEmpty);
        await s.Stream.DisposeAsync();
        await c.Stream!.DisposeAsync();
    }

    [Fact]
    public async Task MinimumTls13RefusesATls12Client()
    {
        var server = ServerContext(options: new DownstreamTlsOptions { MinimumVersion = TlsVersion.Tls13 });
        var client = ClientContext(options: new UpstreamTlsOptions { MaximumVersion = TlsVersion.Tls12 });
        var (s, c) = await TlsTestPeers.HandshakeAsync(server, client);
        Assert.Equal(TlsPeerFailure.HandshakeFailed, s.Failure);
        Assert.NotEqual(TlsPeerFailure.None, c.Failure);
    }

    [Theory]
    [InlineData("GET / HTTP/1.1\r\nHost: x\r\n\r\n")] // plaintext to a STRICT listener
    [InlineData("\u0016\u0003\u0001\u0000\u0005hello")] // a TLS record header followed by garbage
    public async Task GarbageInsteadOfClientHelloFailsCleanly(string bytes)
    {
        var (serverSide, clientSide) = await TlsTestPeers.ConnectedPairAsync();
        await using var _ = clientSide;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var handshake = ServerContext().AuthenticateAsync(serverSide, false, timeout.Token).AsTask();
        await clientSide.WriteAsync(System.Text.Encoding.Latin1.GetBytes(bytes));
        clientSide.Socket.Shutdown(System.Net.Sockets.SocketShutdown.Send);
        var result = await handshake;
        Assert.Equal(TlsPeerFailure.HandshakeFailed, result.Failure);
        Assert.Null(result.Stream);
    }

    [Fact]
    public async Task NoCertificateYetRefusesBeforeTouchingTheSocket()
    {
        var (serverSide, clientSide) = await TlsTestPeers.ConnectedPairAsync();
        await using var _ = clientSide;
        await using var __ = serverSide;
        var result = await ServerContext(new StaticCertificateSource(null)).AuthenticateAsync(serverSide, true, default);
        Assert.Equal(TlsPeerFailure.NoLocalCertificate, result.Failure);
        Assert.Null(ServerContext(new StaticCertificateSource(null)).GetServerOptions());
    }

    [Fact]
    public async Task RotationReachesNewHandshakesAndLeavesOpenConnectionsAlone()
    {
        var pki = new TestPki();
        var source = new StaticCertificateSource(pki.Workload(TlsTestPeers.ServerId));
        var server = ServerContext(source);
        var client = ClientContext(new StaticCertificateSource(pki.Workload(TlsTestPeers.ClientId)));

        var options1 = server.GetServerOptions();
        Assert.Same(options1, server.GetServerOptions()); // cached per certificate instance, not rebuilt per handshake

        var (s1, c1) = await TlsTestPeers.HandshakeAsync(server, client);
        var serial1 = c1.Stream!.RemoteCertificate!.GetSerialNumberString();

        source.Replace(pki.Workload(TlsTestPeers.ServerId));
        Assert.NotSame(options1, server.GetServerOptions());

        var (s2, c2) = await TlsTestPeers.HandshakeAsync(server, client);
        var serial2 = c2.Stream!.RemoteCertificate!.GetSerialNumberString();
        Assert.NotEqual(serial1, serial2);
        Assert.Equal(source.Current!.SerialNumber, serial2);
        Assert.Equal(serial2, s2.Stream!.LocalSerial);

        // The first connection still carries data, still with the old certificate.
        await c1.Stream.WriteAsync("old"u8.ToArray());
        var buffer = new byte[3];
        await s1.Stream!.ReadExactlyAsync(buffer);
        Assert.Equal("old"u8.ToArray(), buffer);
        Assert.Equal(serial1, c1.Stream.RemoteCertificate!.GetSerialNumberString());

        foreach (var stream in (SslStream[])[s1.Stream, c1.Stream, s2.Stream, c2.Stream]) await stream.DisposeAsync();
    }

    [Fact]
    public async Task EcdsaP256Certificates()
    {
        var pki = new TestPki("ec-root", ecdsa: true);
        var (s, c) = await TlsTestPeers.HandshakeAsync(
            ServerContext(new StaticCertificateSource(pki.Workload(TlsTestPeers.ServerId, ecdsa: true))),
            ClientContext(new StaticCertificateSource(pki.Workload(TlsTestPeers.ClientId, ecdsa: true))));
        Assert.Equal(TlsPeerFailure.None, s.Failure);
        Assert.Equal(TlsPeerFailure.None, c.Failure);
        Assert.Equal(TlsTestPeers.ClientId, s.Stream!.PeerId.ToString());
        await s.Stream.DisposeAsync();
        await c.Stream!.DisposeAsync();
    }

    [Fact]
    public void StatsCountByReason()
    {
        var stats = new TlsStats("listener.inbound.");
        stats.Record(TlsPeerFailure.None);
        stats.Record(TlsPeerFailure.WrongSan);
        stats.Record(TlsPeerFailure.MissingClientCert);
        stats.Record(TlsPeerFailure.Expired);
        stats.Record(TlsPeerFailure.UntrustedCa);
        stats.Record(TlsPeerFailure.HandshakeFailed);
        Assert.Equal(1, stats.Handshake.Value);
        Assert.Equal(1, stats.FailVerifySan.Value);
        Assert.Equal(1, stats.FailVerifyNoCert.Value);
        Assert.Equal(2, stats.FailVerifyError.Value);
        Assert.Equal(1, stats.ConnectionError.Value);
        Assert.Equal("listener.inbound.ssl.fail_verify_san", stats.FailVerifySan.Name);
    }
}
