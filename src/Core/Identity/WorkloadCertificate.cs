using System.Security.Cryptography.X509Certificates;

namespace Sidecar.Core.Identity;

/// <summary>
/// One issued workload identity: the leaf with its private key, the intermediates that sign it, and the trust bundle
/// peers are checked against. Immutable; a rotation produces a new instance, so a connection that captured one keeps a
/// consistent view while new handshakes see the next.
/// </summary>
public sealed class WorkloadCertificate
{
    public WorkloadCertificate(X509Certificate2 leaf, X509Certificate2Collection intermediates, TrustBundle trustBundle)
    {
        if (!leaf.HasPrivateKey) throw new ArgumentException("the leaf certificate must carry its private key", nameof(leaf));
        Leaf = leaf;
        Intermediates = intermediates;
        TrustBundle = trustBundle;
        NotBefore = new DateTimeOffset(leaf.NotBefore.ToUniversalTime(), TimeSpan.Zero);
        NotAfter = new DateTimeOffset(leaf.NotAfter.ToUniversalTime(), TimeSpan.Zero);
        // Istio mounted certificates need not be SPIFFE (e.g. DNS-only gateway certs), so a missing ID is not an error here.
        if (X509Svid.TryGetSpiffeId(leaf, out var id, out _) == X509SvidError.None) SpiffeId = id;
    }

    /// <summary>The leaf, with its private key attached.</summary>
    public X509Certificate2 Leaf { get; }

    /// <summary>Certificates between the leaf and a root, sent to peers after the leaf.</summary>
    public X509Certificate2Collection Intermediates { get; }

    public TrustBundle TrustBundle { get; }

    public DateTimeOffset NotBefore { get; }
    public DateTimeOffset NotAfter { get; }

    /// <summary>The leaf's SPIFFE ID, or the default value when the leaf carries none.</summary>
    public SpiffeId SpiffeId { get; }

    /// <summary>The serial number as hex, for logs and rotation checks.</summary>
    public string SerialNumber => Leaf.SerialNumber;
}
