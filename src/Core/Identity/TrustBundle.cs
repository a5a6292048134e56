using System.Security.Cryptography.X509Certificates;

namespace Sidecar.Core.Identity;

/// <summary>Why a trust bundle could not be used.</summary>
public enum TrustBundleError
{
    None = 0,
    /// <summary>No parsable CERTIFICATE block remained (empty file, only garbage, or every certificate broken).</summary>
    NoValidRoot,
}

/// <summary>
/// The set of root certificates a peer's chain must end at (Envoy <c>validation_context.trusted_ca</c>, Istio <c>ROOTCA</c>).
/// Parsed leniently as Istio 1.28 does (<c>security/pkg/pki/util/crypto.go</c> ParseRootCerts): malformed PEM blocks and
/// certificates that do not parse are skipped and counted; the bundle is refused only when no root is left.
/// </summary>
public sealed class TrustBundle
{
    private TrustBundle(X509Certificate2Collection roots, int skipped)
    {
        Roots = roots;
        Skipped = skipped;
    }

    /// <summary>The usable roots, in file order. Not to be modified by callers (it is handed to X509ChainPolicy as is).</summary>
    public X509Certificate2Collection Roots { get; }

    /// <summary>How many PEM blocks were skipped: malformed PEM, undecodable certificates, or non-certificate blocks.</summary>
    public int Skipped { get; }

    public static TrustBundleError TryParse(ReadOnlySpan<char> pem, out TrustBundle? bundle)
    {
        bundle = null;
        var blocks = PemBlocks.Read(pem, out var skipped);
        var roots = new X509Certificate2Collection();
        foreach (var block in blocks)
        {
            if (block.Label != "CERTIFICATE")
            {
                skipped++;
                continue;
            }
            var root = CertificateDer.TryLoad(block.Der);
            if (root is null) skipped++;
            else roots.Add(root);
        }
        if (roots.Count == 0) return TrustBundleError.NoValidRoot;
        bundle = new TrustBundle(roots, skipped);
        return TrustBundleError.None;
    }

    /// <summary>A bundle from certificates already in hand (inline config, tests).</summary>
    public static TrustBundle FromCertificates(X509Certificate2Collection roots) =>
        roots.Count == 0 ? throw new ArgumentException("a trust bundle needs at least one root", nameof(roots)) : new TrustBundle(roots, 0);
}
