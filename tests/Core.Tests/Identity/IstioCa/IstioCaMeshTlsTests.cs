using Sidecar.Core.Identity.IstioCa;
using Sidecar.Core.Tests.Tls;
using Sidecar.Core.Tls;
using Xunit;

namespace Sidecar.Core.Tests.Identity.IstioCa;

/// <summary>Certificates from the CA do what they are for: mutual TLS between two workloads, with SAN checks, across a rotation.</summary>
public sealed class IstioCaMeshTlsTests
{
    [Fact]
    public async Task TwoWorkloadsFromTheCaTalkMutualTlsAndSeeTheRotatedSerial()
    {
        await using var bed = await CaTestBed.StartAsync(new Sidecar.TestPeers.IstioCa.TestIstioCaOptions { Lifetime = TimeSpan.FromSeconds(4) });
        await using var serverSource = IstioCaCertificateSource.Start(bed.ClientOptions(CaTestBed.Identity("shop", "server")));
        await using var clientSource = IstioCaCertificateSource.Start(bed.ClientOptions(CaTestBed.Identity("shop", "client")) with { KeyAlgorithm = WorkloadKeyAlgorithm.EcdsaP256 });
        var first = await serverSource.WaitForFirstAsync().WaitAsync(TimeSpan.FromSeconds(20));
        await clientSource.WaitForFirstAsync().WaitAsync(TimeSpan.FromSeconds(20));

        var server = new DownstreamTlsContext(new DownstreamTlsOptions(), serverSource);
        var client = new UpstreamTlsContext(new UpstreamTlsOptions { MatchSubjectAltNames = [SanMatcher.UriExact("spiffe://cluster.local/ns/shop/sa/server")] }, clientSource);
        var (s1, c1) = await TlsTestPeers.HandshakeAsync(server, client);
        Assert.True(s1.Succeeded, s1.Failure.ToString());
        Assert.True(c1.Succeeded, c1.Failure.ToString());
        Assert.Equal("spiffe://cluster.local/ns/shop/sa/client", s1.Stream!.PeerId.ToString());
        Assert.Equal("spiffe://cluster.local/ns/shop/sa/server", c1.Stream!.PeerId.ToString());
        Assert.Equal(first.SerialNumber, s1.Stream.LocalSerial);

        // After the server's rotation a new handshake presents the new serial; the client still trusts it.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (ReferenceEquals(serverSource.Current, first) && DateTime.UtcNow < deadline) await Task.Delay(20);
        var (s2, c2) = await TlsTestPeers.HandshakeAsync(server, client);
        Assert.True(s2.Succeeded && c2.Succeeded, $"{s2.Failure} / {c2.Failure}");
        Assert.NotEqual(first.SerialNumber, s2.Stream!.LocalSerial);

        // A client expecting another identity refuses the CA-issued server certificate.
        var picky = new UpstreamTlsContext(new UpstreamTlsOptions { MatchSubjectAltNames = [SanMatcher.UriExact("spiffe://cluster.local/ns/shop/sa/db")] }, clientSource);
        var (_, c3) = await TlsTestPeers.HandshakeAsync(server, picky);
        Assert.Equal(TlsPeerFailure.WrongSan, c3.Failure);
        foreach (var r in new[] { s1, c1, s2, c2 }) await r.Stream!.DisposeAsync();
    }
}
