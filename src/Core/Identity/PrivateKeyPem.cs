using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Sidecar.Core.Identity;

/// <summary>
/// Attaches a PEM private key to a certificate. Accepts PKCS#8 (<c>PRIVATE KEY</c>), PKCS#1 (<c>RSA PRIVATE KEY</c>) and SEC1
/// (<c>EC PRIVATE KEY</c>) for RSA and ECDSA, the key types Istio issues (RSA 2048, ECDSA P-256).
/// </summary>
internal static class PrivateKeyPem
{
    private const string RsaOid = "1.2.840.113549.1.1.1";
    private const string EcOid = "1.2.840.10045.2.1";

    /// <summary>The first private-key block of <paramref name="pem"/>, or null with <paramref name="error"/> set.</summary>
    public static PemBlock? FindKey(ReadOnlySpan<char> pem, out CertificateLoadError error)
    {
        error = CertificateLoadError.None;
        var blocks = PemBlocks.Read(pem, out var malformed);
        foreach (var block in blocks)
        {
            if (block.Label is "PRIVATE KEY" or "RSA PRIVATE KEY" or "EC PRIVATE KEY") return block;
        }
        error = blocks.Count == 0 && malformed == 0 ? CertificateLoadError.KeyNotPem
            : malformed > 0 ? CertificateLoadError.KeyUnparsable
            : CertificateLoadError.KeyMissing;
        return null;
    }

    /// <summary>
    /// A copy of <paramref name="certificate"/> carrying the key. The key must be the one the certificate's public key
    /// belongs to: compared as SubjectPublicKeyInfo bytes, so a mismatch is a clear error rather than a failed handshake.
    /// </summary>
    public static CertificateLoadError TryAttach(X509Certificate2 certificate, PemBlock key, out X509Certificate2? withKey)
    {
        withKey = null;
        var algorithm = certificate.GetKeyAlgorithm();
        try
        {
            if (algorithm == RsaOid)
            {
                using var rsa = RSA.Create();
                if (key.Label == "RSA PRIVATE KEY") rsa.ImportRSAPrivateKey(key.Der, out _);
                else if (key.Label == "PRIVATE KEY") rsa.ImportPkcs8PrivateKey(key.Der, out _);
                else return CertificateLoadError.KeyMismatch;
                if (!SamePublicKey(certificate, rsa.ExportSubjectPublicKeyInfo())) return CertificateLoadError.KeyMismatch;
                withKey = certificate.CopyWithPrivateKey(rsa);
                return CertificateLoadError.None;
            }
            if (algorithm == EcOid)
            {
                using var ecdsa = ECDsa.Create();
                if (key.Label == "EC PRIVATE KEY") ecdsa.ImportECPrivateKey(key.Der, out _);
                else if (key.Label == "PRIVATE KEY") ecdsa.ImportPkcs8PrivateKey(key.Der, out _);
                else return CertificateLoadError.KeyMismatch;
                if (!SamePublicKey(certificate, ecdsa.ExportSubjectPublicKeyInfo())) return CertificateLoadError.KeyMismatch;
                withKey = certificate.CopyWithPrivateKey(ecdsa);
                return CertificateLoadError.None;
            }
            return CertificateLoadError.KeyUnsupported;
        }
        catch (CryptographicException)
        {
            // A PKCS#8 key of the other algorithm lands here too; it cannot belong to this certificate either way.
            return key.Label == "PRIVATE KEY" && !LooksLike(key.Der, algorithm) ? CertificateLoadError.KeyMismatch : CertificateLoadError.KeyUnparsable;
        }
    }

    private static bool SamePublicKey(X509Certificate2 certificate, byte[] keySpki) =>
        certificate.PublicKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(keySpki);

    /// <summary>Whether a PKCS#8 blob names <paramref name="algorithmOid"/> (it decodes, but as a different key type).</summary>
    private static bool LooksLike(byte[] pkcs8, string algorithmOid)
    {
        try
        {
            var info = Pkcs8AlgorithmOid(pkcs8);
            return info is null || info == algorithmOid;
        }
        catch (System.Formats.Asn1.AsnContentException)
        {
            return true;
        }
    }

    private static string? Pkcs8AlgorithmOid(byte[] pkcs8)
    {
        // PrivateKeyInfo ::= SEQUENCE { version INTEGER, privateKeyAlgorithm AlgorithmIdentifier, ... } (RFC 5208 §5)
        var reader = new System.Formats.Asn1.AsnReader(pkcs8, System.Formats.Asn1.AsnEncodingRules.BER);
        var info = reader.ReadSequence();
        info.ReadInteger();
        var algorithm = info.ReadSequence();
        return algorithm.ReadObjectIdentifier();
    }
}
