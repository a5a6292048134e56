using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Sidecar.TestPeers.IstioCa;

/// <summary>A self-signed root that signs istiod's serving certificate and workload certificates (as istiod's self-signed CA does).</summary>
public sealed class TestCaPki : IDisposable
{
    private readonly RSA _key;

    public TestCaPki(string name)
    {
        _key = RSA.Create(2048);
        var request = new CertificateRequest("CN=" + name + ", O=sidecar-tests", _key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var now = DateTimeOffset.UtcNow;
        Root = request.CreateSelfSigned(now.AddDays(-1), now.AddYears(2));
    }

    /// <summary>The root, with its private key.</summary>
    public X509Certificate2 Root { get; }

    public string RootPem => Root.ExportCertificatePem() + "\n";

    /// <summary>A TLS server certificate (DNS SAN) for the CA endpoint, with its key.</summary>
    public X509Certificate2 IssueServer(string dnsName)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=" + dnsName, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(dnsName);
        request.CertificateExtensions.Add(san.Build());
        var now = DateTimeOffset.UtcNow;
        using var issued = request.Create(Root, now.AddMinutes(-5), now.AddDays(30), NewSerial());
        // Kestrel on Linux wants an exportable key attached; a PFX round trip gives one.
        return X509CertificateLoader.LoadPkcs12(issued.CopyWithPrivateKey(key).Export(X509ContentType.Pfx), null);
    }

    /// <summary>A workload certificate for <paramref name="publicKey"/> with one URI SAN, valid from now for <paramref name="lifetime"/>.</summary>
    public X509Certificate2 IssueWorkload(PublicKey publicKey, string spiffeUri, TimeSpan lifetime)
    {
        var request = new CertificateRequest(new X500DistinguishedName([0x30, 0x00]), publicKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        var san = new SubjectAlternativeNameBuilder();
        san.AddUri(new Uri(spiffeUri));
        request.CertificateExtensions.Add(san.Build(critical: true));
        var now = DateTimeOffset.UtcNow;
        // X.509 times have whole seconds: start at the current second so the certificate is valid immediately.
        var notBefore = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, now.Minute, now.Second, TimeSpan.Zero);
        return request.Create(Root.SubjectName, X509SignatureGenerator.CreateForRSA(_key, RSASignaturePadding.Pkcs1), notBefore, notBefore + lifetime, NewSerial());
    }

    /// <summary>URI SANs of a SubjectAltName extension (RFC 5280 §4.2.1.6: GeneralName uniformResourceIdentifier is [6] IA5String).</summary>
    public static List<string> ReadUris(X509Extension? subjectAltName)
    {
        var uris = new List<string>();
        if (subjectAltName is null) return uris;
        var reader = new AsnReader(subjectAltName.RawData, AsnEncodingRules.DER).ReadSequence();
        var uriTag = new Asn1Tag(TagClass.ContextSpecific, 6);
        while (reader.HasData)
        {
            if (reader.PeekTag() == uriTag) uris.Add(reader.ReadCharacterString(UniversalTagNumber.IA5String, uriTag));
            else reader.ReadEncodedValue();
        }
        return uris;
    }

    private static byte[] NewSerial()
    {
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        return serial;
    }

    public void Dispose()
    {
        Root.Dispose();
        _key.Dispose();
    }
}
