using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Sidecar.Core.Identity.IstioCa;

/// <summary>
/// A fresh private key and the PKCS#10 request (RFC 2986) that asks Istio's CA to certify it for one SPIFFE ID. A new key
/// per rotation, as pilot-agent does: a leaked key stops being useful at the next rotation.
/// </summary>
public sealed class CertificateSigningRequest : IDisposable
{
    private CertificateSigningRequest(AsymmetricAlgorithm key, string pem)
    {
        Key = key;
        Pem = pem;
    }

    /// <summary>The private key (RSA or ECDsa); the issued leaf is paired with it.</summary>
    public AsymmetricAlgorithm Key { get; }

    /// <summary><c>-----BEGIN CERTIFICATE REQUEST-----</c> text, the <c>csr</c> field of the request.</summary>
    public string Pem { get; }

    /// <summary>The key as PKCS#8 PEM, the form <see cref="WorkloadCertificateLoader"/> reads.</summary>
    public string KeyPem() => Key.ExportPkcs8PrivateKeyPem();

    public static CertificateSigningRequest Create(SpiffeId identity, WorkloadKeyAlgorithm algorithm)
    {
        if (identity.IsEmpty) throw new ArgumentException("a CSR needs a SPIFFE ID", nameof(identity));
        AsymmetricAlgorithm key = algorithm == WorkloadKeyAlgorithm.EcdsaP256
            ? ECDsa.Create(ECCurve.NamedCurves.nistP256)
            : RSA.Create(2048);
        try
        {
            // Empty subject, as pilot-agent's CSRs: the identity lives in the URI SAN only. RFC 5280 §4.2.1.6: with an
            // empty subject the SAN extension must be critical.
            var subject = new X500DistinguishedName([0x30, 0x00]);
            var request = key is ECDsa ecdsa
                ? new CertificateRequest(subject, ecdsa, HashAlgorithmName.SHA256)
                : new CertificateRequest(subject, (RSA)key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            var san = new SubjectAlternativeNameBuilder();
            san.AddUri(new Uri(identity.ToString()));
            request.CertificateExtensions.Add(san.Build(critical: true));
            return new CertificateSigningRequest(key, request.CreateSigningRequestPem());
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    public void Dispose() => Key.Dispose();
}
