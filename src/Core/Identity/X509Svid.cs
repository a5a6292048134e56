using System.Security.Cryptography.X509Certificates;

namespace Sidecar.Core.Identity;

/// <summary>
/// X.509-SVID rules (SPIFFE X509-SVID spec §2, §4) applied to a leaf and the certificates that sign it. Chain trust and
/// validity dates are checked elsewhere (by the TLS chain policy, or the certificate loader); this checks shape only.
/// </summary>
public static class X509Svid
{
    /// <summary>
    /// The SPIFFE ID of a leaf: its single URI SAN (§2). Does not look at key usage; use <see cref="Validate"/> for the full rules.
    /// </summary>
    public static X509SvidError TryGetSpiffeId(X509Certificate2 leaf, out SpiffeId id, out SpiffeIdError idError)
    {
        id = default;
        idError = SpiffeIdError.None;
        if (!SubjectAltNames.TryRead(leaf, out var names)) return X509SvidError.MalformedSubjectAltName;
        if (names.Uris.Count == 0) return X509SvidError.NoUriSan;
        if (names.Uris.Count > 1) return X509SvidError.MultipleUriSans;
        idError = SpiffeId.TryParse(names.Uris[0], out id);
        return idError == SpiffeIdError.None ? X509SvidError.None : X509SvidError.InvalidSpiffeId;
    }

    /// <summary>
    /// Full SVID check: leaf ID (§2), leaf constraints and key usage (§4.1, §4.3), then every signing certificate in
    /// <paramref name="intermediates"/> (§4.1, §4.3). The order follows the spec so the first broken rule is reported.
    /// </summary>
    public static X509SvidError Validate(X509Certificate2? leaf, IReadOnlyList<X509Certificate2> intermediates, out SpiffeId id)
    {
        id = default;
        if (leaf is null) return X509SvidError.NoCertificate;
        var idResult = TryGetSpiffeId(leaf, out id, out _);
        if (idResult != X509SvidError.None) return idResult;

        if (IsCa(leaf)) return X509SvidError.LeafIsCa;
        var usage = KeyUsage(leaf);
        if ((usage & X509KeyUsageFlags.DigitalSignature) == 0) return X509SvidError.LeafMissingDigitalSignature;
        if ((usage & X509KeyUsageFlags.KeyCertSign) != 0) return X509SvidError.LeafHasKeyCertSign;
        if ((usage & X509KeyUsageFlags.CrlSign) != 0) return X509SvidError.LeafHasCrlSign;

        for (var i = 0; i < intermediates.Count; i++)
        {
            if (!IsCa(intermediates[i])) return X509SvidError.SigningCertNotCa;
            if ((KeyUsage(intermediates[i]) & X509KeyUsageFlags.KeyCertSign) == 0) return X509SvidError.SigningCertMissingKeyCertSign;
        }
        return X509SvidError.None;
    }

    private static bool IsCa(X509Certificate2 certificate) =>
        certificate.Extensions[Oids.BasicConstraints] is X509BasicConstraintsExtension bc && bc.CertificateAuthority;

    private static X509KeyUsageFlags KeyUsage(X509Certificate2 certificate) =>
        certificate.Extensions[Oids.KeyUsage] is X509KeyUsageExtension ku ? ku.KeyUsages : X509KeyUsageFlags.None;

    private static class Oids
    {
        public const string BasicConstraints = "2.5.29.19";
        public const string KeyUsage = "2.5.29.15";
    }
}
