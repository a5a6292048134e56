using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Sidecar.Core.Identity;

/// <summary>
/// Decodes one DER certificate as strictly as Istio's Go parser does. .NET (like OpenSSL) accepts two things Go
/// refuses, and a mesh root bundle must come out with the same roots in both: bytes after the certificate's outer
/// SEQUENCE, and a negative serial number (RFC 5280 §4.1.2.2: the serial MUST be a positive integer).
/// </summary>
internal static class CertificateDer
{
    public static X509Certificate2? TryLoad(byte[] der)
    {
        try
        {
            AsnDecoder.ReadEncodedValue(der, AsnEncodingRules.DER, out _, out _, out var consumed);
            if (consumed != der.Length) return null;
            var certificate = X509CertificateLoader.LoadCertificate(der);
            var serial = certificate.SerialNumberBytes.Span;
            if (serial.IsEmpty || (serial[0] & 0x80) != 0) return null;
            return certificate;
        }
        catch (AsnContentException)
        {
            return null;
        }
        catch (CryptographicException)
        {
            return null;
        }
    }
}
