using System.Security.Cryptography.X509Certificates;
using Sidecar.Core.Identity;
using Sidecar.Core.Identity.IstioCa;
using Sidecar.Core.Tls;
using Sidecar.TestPeers.IstioCa;
using Xunit;

namespace Sidecar.Core.Tests.Identity.IstioCa;

/// <summary>One CreateCertificate round trip against the test CA: what we send, and what we refuse to accept.</summary>
public sealed class IstioCaClientTests
{
    [Fact]
    public async Task FetchesAValidatedCertificateForOurIdentity()
    {
        await using var bed = await CaTestBed.StartAsync();
        using var client = new IstioCaClient(bed.ClientOptions());
        var result = await client.FetchAsync(CancellationToken.None);

        Assert.True(result.Succeeded, $"{result.Error}: {result.Detail}");
        var certificate = result.Certificate!;
        Assert.Equal(CaTestBed.Identity(), certificate.SpiffeId);
        Assert.True(certificate.Leaf.HasPrivateKey);
        Assert.Equal(bed.Ca.Requests.Single().IssuedSerial, certificate.SerialNumber);
        // The CA's root (last of cert_chain) is the root file's root: it appears once in the bundle.
        Assert.Equal(bed.Ca.RootPem.Trim(), Assert.Single(certificate.TrustBundle.Roots).ExportCertificatePem().Trim());
        // The CA caps the lifetime (20 s default) below the requested 24 h: the certificate says what we really got.
        Assert.InRange(certificate.NotAfter - certificate.NotBefore, TimeSpan.FromSeconds(19), TimeSpan.FromSeconds(21));
    }

    [Fact]
    public async Task SendsTheCsrTokenAndClusterIdPilotAgentSends()
    {
        await using var bed = await CaTestBed.StartAsync();
        using var client = new IstioCaClient(bed.ClientOptions() with { CertSigner = "my-signer", CertificateTtl = TimeSpan.FromHours(12) });
        var result = await client.FetchAsync(CancellationToken.None);
        Assert.True(result.Succeeded, $"{result.Error}: {result.Detail}");

        var seen = bed.Ca.Requests.Single();
        Assert.Equal("Bearer " + CaTestBed.Token, seen.Authorization);
        Assert.Equal("Kubernetes", seen.ClusterId);
        Assert.Equal(["spiffe://cluster.local/ns/default/sa/bookinfo"], seen.CsrUris);
        Assert.Equal("1.2.840.113549.1.1.1", seen.CsrKeyAlgorithmOid);
        Assert.Equal(2048, seen.CsrKeySize);
        Assert.Equal(12 * 3600, seen.ValiditySeconds);
        Assert.Equal("my-signer", seen.CertSigner);
        Assert.Null(seen.ClientCertificateSubject);
    }

    [Fact]
    public async Task EcdsaModeSendsAP256Key()
    {
        await using var bed = await CaTestBed.StartAsync();
        using var client = new IstioCaClient(bed.ClientOptions() with { KeyAlgorithm = WorkloadKeyAlgorithm.EcdsaP256 });
        var result = await client.FetchAsync(CancellationToken.None);

        Assert.True(result.Succeeded, $"{result.Error}: {result.Detail}");
        var seen = bed.Ca.Requests.Single();
        Assert.Equal("1.2.840.10045.2.1", seen.CsrKeyAlgorithmOid);
        Assert.Equal(256, seen.CsrKeySize);
        Assert.NotNull(result.Certificate!.Leaf.GetECDsaPrivateKey());
    }

    [Fact]
    public async Task TokenIsReadAtEachCall()
    {
        await using var bed = await CaTestBed.StartAsync();
        using var client = new IstioCaClient(bed.ClientOptions());
        Assert.True((await client.FetchAsync(CancellationToken.None)).Succeeded);
        File.WriteAllText(bed.TokenFile, "rotated-token");
        Assert.True((await client.FetchAsync(CancellationToken.None)).Succeeded);

        Assert.Equal(["Bearer " + CaTestBed.Token, "Bearer rotated-token"], bed.Ca.Requests.Select(r => r.Authorization));
    }

    [Fact]
    public async Task MissingTokenIsAClearErrorWithoutACall()
    {
        await using var bed = await CaTestBed.StartAsync();
        File.Delete(bed.TokenFile);
        using var client = new IstioCaClient(bed.ClientOptions());
        var result = await client.FetchAsync(CancellationToken.None);

        Assert.Equal(IstioCaError.TokenUnreadable, result.Error);
        Assert.Contains("istio-token", result.Detail, StringComparison.Ordinal);
        Assert.Empty(bed.Ca.Requests);
    }

    [Fact]
    public async Task PresentsTheWorkloadCertificateWhenAsked()
    {
        await using var bed = await CaTestBed.StartAsync();
        using var first = new IstioCaClient(bed.ClientOptions());
        var issued = (await first.FetchAsync(CancellationToken.None)).Certificate!;
        using var client = new IstioCaClient(bed.ClientOptions(), new StaticCertificateSource(issued));
        Assert.True((await client.FetchAsync(CancellationToken.None)).Succeeded);

        Assert.Null(bed.Ca.Requests[0].ClientCertificateSubject);
        Assert.NotNull(bed.Ca.Requests[1].ClientCertificateSubject);
    }

    [Theory]
    [InlineData(TestCaFault.Unavailable, IstioCaError.CallFailed, "Unavailable")]
    [InlineData(TestCaFault.Garbage, IstioCaError.ResponseMalformed, "LengthOutOfRange")]
    [InlineData(TestCaFault.WrongIdentity, IstioCaError.WrongIdentity, "ns/other/sa/intruder")]
    [InlineData(TestCaFault.UntrustedChain, IstioCaError.UntrustedChain, "UntrustedCa")]
    [InlineData(TestCaFault.LeafOnly, IstioCaError.ChainTooShort, "1 element")]
    [InlineData(TestCaFault.OtherKey, IstioCaError.CertificateRefused, "KeyMismatch")]
    public async Task BadAnswersAreRefusedWithTheReason(TestCaFault fault, IstioCaError expected, string detail)
    {
        await using var bed = await CaTestBed.StartAsync();
        bed.Ca.FailNext(1, fault);
        using var client = new IstioCaClient(bed.ClientOptions());
        var result = await client.FetchAsync(CancellationToken.None);

        Assert.Equal(expected, result.Error);
        Assert.Null(result.Certificate);
        Assert.Contains(detail, result.Detail, StringComparison.Ordinal);
        // The next call is answered normally and accepted: one bad answer does not poison the client.
        Assert.True((await client.FetchAsync(CancellationToken.None)).Succeeded);
    }

    [Fact]
    public async Task WrongServerSanIsRefused()
    {
        await using var bed = await CaTestBed.StartAsync();
        using var client = new IstioCaClient(bed.ClientOptions() with { IstiodSan = "istiod.other-ns.svc" });
        var result = await client.FetchAsync(CancellationToken.None);

        Assert.Equal(IstioCaError.ServerTlsRefused, result.Error);
        Assert.Contains(nameof(TlsPeerFailure.WrongSan), result.Detail, StringComparison.Ordinal);
        Assert.Contains("istiod.other-ns.svc", result.Detail, StringComparison.Ordinal);
        Assert.Empty(bed.Ca.Requests);
    }

    [Theory]
    [InlineData("another-ca", nameof(TlsPeerFailure.UntrustedCa))]
    // Same issuer name, different key: the chain is found but its signature does not verify.
    [InlineData("test-istio-ca", nameof(TlsPeerFailure.BadSignature))]
    public async Task UntrustedServerIsRefused(string otherRootName, string reason)
    {
        await using var bed = await CaTestBed.StartAsync();
        await using var other = await TestIstioCa.StartAsync(new TestIstioCaOptions { RootName = otherRootName });
        // Our root file holds another CA's root: istiod's chain leads nowhere we trust.
        other.WriteRootCert(bed.RootFile);
        using var client = new IstioCaClient(bed.ClientOptions());
        var result = await client.FetchAsync(CancellationToken.None);

        Assert.Equal(IstioCaError.ServerTlsRefused, result.Error);
        Assert.True(result.Detail.Contains(reason, StringComparison.Ordinal), result.Detail);
        Assert.Empty(bed.Ca.Requests);
    }

    [Fact]
    public async Task RootFileChangeRebuildsTheChannel()
    {
        await using var bed = await CaTestBed.StartAsync();
        var goodRoot = File.ReadAllText(bed.RootFile);
        await using var other = await TestIstioCa.StartAsync();
        other.WriteRootCert(bed.RootFile);
        using var client = new IstioCaClient(bed.ClientOptions());
        Assert.Equal(IstioCaError.ServerTlsRefused, (await client.FetchAsync(CancellationToken.None)).Error);

        File.WriteAllText(bed.RootFile, goodRoot);
        var result = await client.FetchAsync(CancellationToken.None);
        Assert.True(result.Succeeded, $"{result.Error}: {result.Detail}");
    }

    [Fact]
    public async Task MissingOrEmptyRootFileIsAClearError()
    {
        await using var bed = await CaTestBed.StartAsync();
        using var client = new IstioCaClient(bed.ClientOptions());
        File.WriteAllText(bed.RootFile, "not a certificate");
        Assert.Equal(IstioCaError.RootInvalid, (await client.FetchAsync(CancellationToken.None)).Error);
        File.Delete(bed.RootFile);
        Assert.Equal(IstioCaError.RootFileUnreadable, (await client.FetchAsync(CancellationToken.None)).Error);
    }

    [Fact]
    public async Task CaDownIsACallFailure()
    {
        string address;
        string root;
        await using (var bed = await CaTestBed.StartAsync())
        {
            address = bed.Ca.Address;
            root = File.ReadAllText(bed.RootFile);
        }
        var directory = Directory.CreateTempSubdirectory("sidecar-ca-down-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(directory, "root.pem"), root);
            using var client = new IstioCaClient(new IstioCaOptions(CaTestBed.Identity())
            {
                Address = address,
                RootCertFile = Path.Combine(directory, "root.pem"),
                TokenFile = null,
                IstiodSan = "istiod.istio-system.svc",
            });
            var result = await client.FetchAsync(CancellationToken.None);
            Assert.Equal(IstioCaError.CallFailed, result.Error);
            Assert.Contains("Unavailable", result.Detail, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, true);
        }
    }

    [Fact]
    public async Task TlsToAPlaintextCaIsAHandshakeFailure()
    {
        await using var bed = await CaTestBed.StartAsync(new TestIstioCaOptions { Plaintext = true });
        using var client = new IstioCaClient(bed.ClientOptions() with { Plaintext = false, IstiodSan = "istiod.istio-system.svc" });
        var result = await client.FetchAsync(CancellationToken.None);

        Assert.Equal(IstioCaError.ServerTlsRefused, result.Error);
        Assert.True(result.Detail.Contains(nameof(TlsPeerFailure.HandshakeFailed), StringComparison.Ordinal), result.Detail);
    }

    [Fact]
    public async Task PlaintextModeWorks()
    {
        await using var bed = await CaTestBed.StartAsync(new TestIstioCaOptions { Plaintext = true });
        using var client = new IstioCaClient(bed.ClientOptions());
        var result = await client.FetchAsync(CancellationToken.None);
        Assert.True(result.Succeeded, $"{result.Error}: {result.Detail}");
    }
}
