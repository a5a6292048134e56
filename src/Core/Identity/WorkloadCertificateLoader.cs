using System.Security.Cryptography.X509Certificates;

namespace Sidecar.Core.Identity;

/// <summary>
/// Builds a <see cref="WorkloadCertificate"/> from the three PEM texts Istio mounts (cert-chain, key, root-cert) and says
/// exactly what is wrong when it cannot: a refused set must leave the previous certificate in service.
/// </summary>
public static class WorkloadCertificateLoader
{
    /// <param name="chainPem">Leaf first, then intermediates (a trailing root is harmless, as in Istio's cert-chain.pem).</param>
    /// <param name="keyPem">The leaf's private key.</param>
    /// <param name="rootPem">The trust bundle, parsed leniently.</param>
    /// <param name="now">The time the leaf must be valid at.</param>
    public static CertificateLoadError TryLoad(string chainPem, string keyPem, string rootPem, DateTimeOffset now, out WorkloadCertificate? certificate)
    {
        certificate = null;
        var chainError = TryReadChain(chainPem, out var leaf, out var intermediates);
        if (chainError != CertificateLoadError.None) return chainError;

        var utcNow = now.UtcDateTime;
        if (leaf!.NotAfter.ToUniversalTime() <= utcNow) return CertificateLoadError.Expired;
        if (leaf.NotBefore.ToUniversalTime() > utcNow) return CertificateLoadError.NotYetValid;

        var key = PrivateKeyPem.FindKey(keyPem, out var keyError);
        if (key is null) return keyError;
        var attachError = PrivateKeyPem.TryAttach(leaf, key.Value, out var leafWithKey);
        if (attachError != CertificateLoadError.None) return attachError;

        if (TrustBundle.TryParse(rootPem, out var bundle) != TrustBundleError.None) return CertificateLoadError.RootInvalid;

        certificate = new WorkloadCertificate(leafWithKey!, intermediates!, bundle!);
        return CertificateLoadError.None;
    }

    /// <summary>
    /// Reads every CERTIFICATE block; unlike a trust bundle a chain is strict: one broken block refuses the chain, because
    /// serving a chain with a hole in it would fail every peer's verification.
    /// </summary>
    public static CertificateLoadError TryReadChain(string chainPem, out X509Certificate2? leaf, out X509Certificate2Collection? intermediates)
    {
        leaf = null;
        intermediates = null;
        var blocks = PemBlocks.Read(chainPem, out var malformed);
        if (malformed > 0) return CertificateLoadError.ChainUnparsable;
        if (blocks.Count == 0) return CertificateLoadError.ChainNotPem;
        var rest = new X509Certificate2Collection();
        foreach (var block in blocks)
        {
            if (block.Label != "CERTIFICATE") continue;
            var certificate = CertificateDer.TryLoad(block.Der);
            if (certificate is null) return CertificateLoadError.ChainUnparsable;
            if (leaf is null) leaf = certificate;
            else rest.Add(certificate);
        }
        if (leaf is null) return CertificateLoadError.ChainMissing;
        intermediates = rest;
        return CertificateLoadError.None;
    }
}
