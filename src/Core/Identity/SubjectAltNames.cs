using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Sidecar.Core.Identity;

/// <summary>
/// The URI and DNS entries of a certificate's subjectAltName extension (RFC 5280 §4.2.1.6). .NET exposes DNS names and
/// IP addresses but not URIs, which is where SPIFFE IDs live, so the extension is read here with the ASN.1 reader.
/// </summary>
public sealed class SubjectAltNames
{
    private const string SubjectAltNameOid = "2.5.29.17";

    // GeneralName CHOICE tags (RFC 5280 §4.2.1.6): dNSName [2] IA5String, uniformResourceIdentifier [6] IA5String.
    private static readonly Asn1Tag DnsNameTag = new(TagClass.ContextSpecific, 2);
    private static readonly Asn1Tag UriTag = new(TagClass.ContextSpecific, 6);

    public static readonly SubjectAltNames None = new([], []);

    private SubjectAltNames(string[] uris, string[] dnsNames)
    {
        Uris = uris;
        DnsNames = dnsNames;
    }

    public IReadOnlyList<string> Uris { get; }
    public IReadOnlyList<string> DnsNames { get; }

    /// <summary>False when the extension is present but not valid DER (a malformed certificate, not "no SANs").</summary>
    public static bool TryRead(X509Certificate2 certificate, out SubjectAltNames names)
    {
        names = None;
        foreach (var extension in certificate.Extensions)
        {
            if (extension.Oid?.Value != SubjectAltNameOid) continue;
            return TryDecode(extension.RawData, out names);
        }
        return true;
    }

    internal static bool TryDecode(ReadOnlyMemory<byte> der, out SubjectAltNames names)
    {
        names = None;
        List<string>? uris = null;
        List<string>? dns = null;
        try
        {
            var reader = new AsnReader(der, AsnEncodingRules.DER);
            var sequence = reader.ReadSequence();
            reader.ThrowIfNotEmpty();
            while (sequence.HasData)
            {
                var tag = sequence.PeekTag();
                if (tag.HasSameClassAndValue(UriTag))
                {
                    (uris ??= []).Add(sequence.ReadCharacterString(UniversalTagNumber.IA5String, UriTag));
                }
                else if (tag.HasSameClassAndValue(DnsNameTag))
                {
                    (dns ??= []).Add(sequence.ReadCharacterString(UniversalTagNumber.IA5String, DnsNameTag));
                }
                else
                {
                    sequence.ReadEncodedValue();
                }
            }
        }
        catch (AsnContentException)
        {
            return false;
        }
        catch (CryptographicException)
        {
            return false;
        }
        names = uris is null && dns is null ? None : new SubjectAltNames(uris?.ToArray() ?? [], dns?.ToArray() ?? []);
        return true;
    }
}
