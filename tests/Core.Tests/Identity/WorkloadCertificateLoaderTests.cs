using System.Security.Cryptography.X509Certificates;
using Xunit;
using Sidecar.Core.Identity;

namespace Sidecar.Core.Tests.Identity;

public sealed class WorkloadCertificateLoaderTests
{
    private static string Read(string dir, string file) => File.ReadAllText(Path.Combine(dir, file));

    [Theory]
    [InlineData("default", "spiffe://cluster.local/ns/default/sa/default")]
    [InlineData("mountedcerts-client", "spiffe://cluster.local/ns/mounted-certs/sa/client")]
    [InlineData("mountedcerts-server", "spiffe://cluster.local/ns/mounted-certs/sa/server")]
    [InlineData("dns", "")]
    public void LoadsIstioTestPki(string name, string expectedId)
    {
        var certificate = TestPki.FromDirectory(IdentityTestData.MeshPair(name));
        Assert.Equal(expectedId, certificate.SpiffeId.ToString());
        Assert.True(certificate.Leaf.HasPrivateKey);
        Assert.Single(certificate.TrustBundle.Roots);
        Assert.Equal(2296, certificate.NotAfter.Year);
    }

    [Fact]
    public void KeyOfAnotherCertificateIsRefused()
    {
        var server = IdentityTestData.MeshPair("mountedcerts-server");
        var client = IdentityTestData.MeshPair("mountedcerts-client");
        var error = WorkloadCertificateLoader.TryLoad(Read(server, "cert-chain.pem"), Read(client, "key.pem"), Read(server, "root-cert.pem"), DateTimeOffset.UtcNow, out var c);
        Assert.Equal(CertificateLoadError.KeyMismatch, error);
        Assert.Null(c);
    }

    [Fact]
    public void EcdsaKeyForRsaCertificateIsAMismatch()
    {
        var pki = new TestPki();
        var (chain, _, _) = pki.Issue("spiffe://td/ns/a/sa/b");
        var (_, ecKey, _) = pki.Issue("spiffe://td/ns/a/sa/b", ecdsa: true);
        Assert.Equal(CertificateLoadError.KeyMismatch, WorkloadCertificateLoader.TryLoad(chain, ecKey, pki.RootPem, DateTimeOffset.UtcNow, out _));
    }

    [Fact]
    public void EcdsaP256AndRsaLoad()
    {
        var pki = new TestPki();
        Assert.NotNull(pki.Workload("spiffe://td/ns/a/sa/ec", ecdsa: true).Leaf.GetECDsaPrivateKey());
        Assert.NotNull(pki.Workload("spiffe://td/ns/a/sa/rsa").Leaf.GetRSAPrivateKey());
    }

    [Theory]
    [InlineData("ec-workload-cert.pem", "ec-workload-key.pem", "EC PRIVATE KEY")] // SEC1
    [InlineData("workload-cert.pem", "workload-key.pem", "RSA PRIVATE KEY")] // PKCS#1
    public void IstioSec1AndPkcs1Keys(string cert, string key, string label)
    {
        var dir = Path.Combine(IdentityTestData.IstioCerts, "pki-testdata");
        var keyPem = Read(dir, key);
        Assert.Contains("BEGIN " + label, keyPem);
        // The root file is only parsed here; chain trust is a handshake matter.
        var error = WorkloadCertificateLoader.TryLoad(Read(dir, cert), keyPem, Read(dir, "root-cert-10y.pem"), new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero), out var certificate);
        Assert.Equal(CertificateLoadError.None, error);
        Assert.True(certificate!.Leaf.HasPrivateKey);
        Assert.True(certificate.SpiffeId.IsEmpty); // DNS SAN only
    }

    [Fact]
    public void ExpiredAndNotYetValidAreRefused()
    {
        var pki = new TestPki();
        var now = DateTimeOffset.UtcNow;
        var (expired, key1, _) = pki.Issue("spiffe://td/ns/a/sa/b", notBefore: now.AddDays(-2), notAfter: now.AddDays(-1));
        Assert.Equal(CertificateLoadError.Expired, WorkloadCertificateLoader.TryLoad(expired, key1, pki.RootPem, now, out _));
        var (future, key2, _) = pki.Issue("spiffe://td/ns/a/sa/b", notBefore: now.AddDays(1), notAfter: now.AddDays(2));
        Assert.Equal(CertificateLoadError.NotYetValid, WorkloadCertificateLoader.TryLoad(future, key2, pki.RootPem, now, out _));
    }

    [Theory]
    [InlineData("", CertificateLoadError.ChainNotPem)]
    [InlineData("garbage", CertificateLoadError.ChainNotPem)]
    [InlineData("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", CertificateLoadError.ChainUnparsable)]
    [InlineData("-----BEGIN CERTIFICATE-----\nMIIB", CertificateLoadError.ChainUnparsable)]
    public void BrokenChainsAreRefused(string chain, CertificateLoadError expected)
    {
        var pki = new TestPki();
        var (_, key, _) = pki.Issue("spiffe://td/ns/a/sa/b");
        Assert.Equal(expected, WorkloadCertificateLoader.TryLoad(chain, key, pki.RootPem, DateTimeOffset.UtcNow, out _));
    }

    [Fact]
    public void BrokenKeyAndRootAreRefused()
    {
        var pki = new TestPki();
        var (chain, key, _) = pki.Issue("spiffe://td/ns/a/sa/b");
        Assert.Equal(CertificateLoadError.KeyNotPem, WorkloadCertificateLoader.TryLoad(chain, "nope", pki.RootPem, DateTimeOffset.UtcNow, out _));
        Assert.Equal(CertificateLoadError.KeyMissing, WorkloadCertificateLoader.TryLoad(chain, chain, pki.RootPem, DateTimeOffset.UtcNow, out _));
        Assert.Equal(CertificateLoadError.KeyUnparsable, WorkloadCertificateLoader.TryLoad(chain, "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----", pki.RootPem, DateTimeOffset.UtcNow, out _));
        Assert.Equal(CertificateLoadError.RootInvalid, WorkloadCertificateLoader.TryLoad(chain, key, "", DateTimeOffset.UtcNow, out _));
    }
}
