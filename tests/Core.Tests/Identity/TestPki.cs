using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Xunit;
using Sidecar.Core.Identity;

namespace Sidecar.Core.Tests.Identity;

/// <summary>
/// A throwaway CA for tests that need certificates the shared PKI does not have: expired, not yet valid, a foreign root,
/// fresh serials for rotation, ECDSA leaves.
/// </summary>
internal sealed class TestPki
{
    private readonly X509Certificate2 _caWithKey;
    private readonly X509SignatureGenerator _signer;

    public TestPki(string name = "test-root", bool ecdsa = false)
    {
        var now = DateTimeOffset.UtcNow;
        if (ecdsa)
        {
            var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            _caWithKey = CreateCa(new CertificateRequest("CN=" + name, key, HashAlgorithmName.SHA256), now);
            _signer = X509SignatureGenerator.CreateForECDsa(key);
        }
        else
        {
            var key = RSA.Create(2048);
            _caWithKey = CreateCa(new CertificateRequest("CN=" + name, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1), now);
            _signer = X509SignatureGenerator.CreateForRSA(key, RSASignaturePadding.Pkcs1);
        }
        Root = X509CertificateLoader.LoadCertificate(_caWithKey.RawData);
    }

    public X509Certificate2 Root { get; }

    public string RootPem => Root.ExportCertificatePem();

    public TrustBundle Bundle => TrustBundle.FromCertificates([Root]);

    private static X509Certificate2 CreateCa(CertificateRequest request, DateTimeOffset now)
    {
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        return request.CreateSelfSigned(now.AddDays(-30), now.AddYears(5));
    }

    /// <summary>A leaf with a SPIFFE URI SAN (and optional DNS SAN), as PEM chain + PEM key.</summary>
    public (string ChainPem, string KeyPem, X509Certificate2 Leaf) Issue(
        string? spiffeId,
        string? dns = null,
        DateTimeOffset? notBefore = null,
        DateTimeOffset? notAfter = null,
        bool ecdsa = false)
    {
        var now = DateTimeOffset.UtcNow;
        AsymmetricAlgorithm key = ecdsa ? ECDsa.Create(ECCurve.NamedCurves.nistP256) : RSA.Create(2048);
        try
        {
            var request = ecdsa
                ? new CertificateRequest("CN=workload", (ECDsa)key, HashAlgorithmName.SHA256)
                : new CertificateRequest("CN=workload", (RSA)key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
                [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
            var san = new SubjectAlternativeNameBuilder();
            if (spiffeId is not null) san.AddUri(new Uri(spiffeId));
            if (dns is not null) san.AddDnsName(dns);
            request.CertificateExtensions.Add(san.Build());
            var serial = RandomNumberGenerator.GetBytes(16);
            serial[0] &= 0x7F;
            // The generator form signs with the CA key whatever the leaf's key type (an ECDSA leaf under an RSA root is common).
            var leaf = request.Create(_caWithKey.SubjectName, _signer, notBefore ?? now.AddMinutes(-5), notAfter ?? now.AddDays(1), serial);
            var keyPem = key.ExportPkcs8PrivateKeyPem();
            return (leaf.ExportCertificatePem() + "\n", keyPem, leaf);
        }
        finally
        {
            key.Dispose();
        }
    }

    /// <summary>A ready <see cref="WorkloadCertificate"/> trusting this PKI's root.</summary>
    public WorkloadCertificate Workload(string? spiffeId, string? dns = null, bool ecdsa = false, DateTimeOffset? notBefore = null, DateTimeOffset? notAfter = null)
    {
        var (chain, key, _) = Issue(spiffeId, dns, notBefore, notAfter, ecdsa);
        // Dates are checked by the loader; expired/not-yet-valid test certificates are loaded "as of" a time they are valid at.
        var at = (notBefore ?? DateTimeOffset.UtcNow.AddMinutes(-5)).AddSeconds(1);
        var error = WorkloadCertificateLoader.TryLoad(chain, key, RootPem, at, out var certificate);
        Assert.Equal(CertificateLoadError.None, error);
        return certificate!;
    }

    /// <summary>A workload certificate from a tests-testdata-certs directory (RSA 2048, valid to 2296).</summary>
    public static WorkloadCertificate FromDirectory(string directory)
    {
        var error = WorkloadCertificateLoader.TryLoad(
            File.ReadAllText(Path.Combine(directory, "cert-chain.pem")),
            File.ReadAllText(Path.Combine(directory, "key.pem")),
            File.ReadAllText(Path.Combine(directory, "root-cert.pem")),
            DateTimeOffset.UtcNow,
            out var certificate);
        Assert.Equal(CertificateLoadError.None, error);
        return certificate!;
    }
}
