using Xunit;
using Sidecar.Core.Identity;

namespace Sidecar.Core.Tests.Identity;

/// <summary>Lenient root bundles as Istio 1.28 parses them (skip broken entries, fail only when nothing is left).</summary>
public sealed class TrustBundleTests
{
    private static string NodeAgent(string file) => File.ReadAllText(Path.Combine(IdentityTestData.IstioCerts, "nodeagent-cache", file));

    [Fact]
    public void IstioGracefulFailureBundleKeepsTheGoodRoots()
    {
        Assert.Equal(TrustBundleError.None, TrustBundle.TryParse(NodeAgent("root-ca-bundle-with-graceful-failures.pem"), out var bundle));
        // Five CERTIFICATE blocks: a negative-serial root (skipped, as Go does), two SwissSign roots, a block whose base64
        // is fine but whose DER is not a certificate (skipped), and the SwissSign 2022 root. Istio's test expects 3.
        Assert.Equal(3, bundle!.Roots.Count);
        Assert.Equal(2, bundle.Skipped);
        Assert.Contains(bundle.Roots.Cast<System.Security.Cryptography.X509Certificates.X509Certificate2>(), c => c.Subject.Contains("SwissSign RSA TLS Root CA 2022 - 1"));
    }

    [Fact]
    public void EmptyFileIsAnError()
    {
        Assert.Equal(TrustBundleError.NoValidRoot, TrustBundle.TryParse(NodeAgent("emptyfile.pem"), out var bundle));
        Assert.Null(bundle);
    }

    /// <summary>Despite its name and comment, this file holds one valid root; Istio's own test expects 1 valid cert.</summary>
    [Fact]
    public void IstioInvalidPemFileStillYieldsItsOneRoot()
    {
        Assert.Equal(TrustBundleError.None, TrustBundle.TryParse(NodeAgent("invalidpem.pem"), out var bundle));
        Assert.Single(bundle!.Roots);
    }

    [Fact]
    public void SingleRootBundle()
    {
        Assert.Equal(TrustBundleError.None, TrustBundle.TryParse(NodeAgent("root-cert.pem"), out var bundle));
        Assert.Single(bundle!.Roots);
        Assert.Equal(0, bundle.Skipped);
    }

    [Fact]
    public void CraftedBrokenBlocksAreSkippedAndCounted()
    {
        var good = new TestPki("good").RootPem;
        var other = new TestPki("other").RootPem;
        var text = string.Join("\n",
            "# comment lines and blank text between blocks are ignored",
            "-----BEGIN CERTIFICATE-----\nnot base64 at all!!\n-----END CERTIFICATE-----", // bad base64
            good,
            "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----", // base64 fine, DER truncated
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----", // not a certificate
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END PUBLIC KEY-----", // label mismatch
            other,
            "-----BEGIN CERTIFICATE-----\nMIIB"); // truncated at the end of the file
        Assert.Equal(TrustBundleError.None, TrustBundle.TryParse(text, out var bundle));
        Assert.Equal(2, bundle!.Roots.Count);
        Assert.Equal(5, bundle.Skipped);
    }

    [Fact]
    public void OnlyBrokenBlocksIsAnError()
    {
        const string text = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\n";
        Assert.Equal(TrustBundleError.NoValidRoot, TrustBundle.TryParse(text, out _));
    }
}
