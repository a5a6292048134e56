using System.Text.Json;
using Xunit;
using Sidecar.Core.Identity;

namespace Sidecar.Core.Tests.Identity;

/// <summary>
/// Every x509svid_load and x509bundle_parse case of ../shared/conformance/spiffe/EXPECTATIONS.json. An SVID is loaded as
/// go-spiffe's Parse does it: certificates, then key, then SVID rules, then key-matches-leaf. Dates are not checked
/// (the "good" SVIDs expired in 2020/2025; go-spiffe does not check time either).
/// </summary>
public sealed class X509SvidVectorTests
{
    private static JsonElement Expectations()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(IdentityTestData.Spiffe, "EXPECTATIONS.json")));
        return doc.RootElement.Clone();
    }

    /// <summary>The outcome of loading one (certs, key) pair: either the SVID's ID or the first broken rule.</summary>
    private static (string? Id, object Error) LoadSvid(string certsPem, string keyPem)
    {
        var chainError = WorkloadCertificateLoader.TryReadChain(certsPem, out var leaf, out var intermediates);
        if (chainError != CertificateLoadError.None) return (null, chainError);
        var key = PrivateKeyPem.FindKey(keyPem, out var keyError);
        if (key is null) return (null, keyError);
        var svidError = X509Svid.Validate(leaf, [.. intermediates!], out var id);
        if (svidError != X509SvidError.None) return (null, svidError);
        var attach = PrivateKeyPem.TryAttach(leaf!, key.Value, out _);
        if (attach != CertificateLoadError.None) return (null, attach);
        return (id.ToString(), X509SvidError.None);
    }

    /// <summary>go-spiffe's error wording → the error we must report for that case.</summary>
    private static object ExpectedError(string text) => text switch
    {
        _ when text.Contains("cannot parse PEM encoded certificate: no PEM blocks") => CertificateLoadError.ChainNotPem,
        _ when text.Contains("no certificates found") => CertificateLoadError.ChainMissing,
        _ when text.Contains("cannot parse PEM encoded certificate") => CertificateLoadError.ChainUnparsable,
        _ when text.Contains("cannot parse PEM encoded private key: no PEM blocks") => CertificateLoadError.KeyNotPem,
        _ when text.Contains("no private key found") => CertificateLoadError.KeyMissing,
        _ when text.Contains("cannot parse PEM encoded private key") => CertificateLoadError.KeyUnparsable,
        _ when text.Contains("does not match private key") => CertificateLoadError.KeyMismatch,
        _ when text.Contains("contains no URI SAN") => X509SvidError.NoUriSan,
        _ when text.Contains("leaf certificate must not have CA flag") => X509SvidError.LeafIsCa,
        _ when text.Contains("must have 'digitalSignature'") => X509SvidError.LeafMissingDigitalSignature,
        _ when text.Contains("must not have 'keyCertSign'") => X509SvidError.LeafHasKeyCertSign,
        _ when text.Contains("must not have 'cRLSign'") => X509SvidError.LeafHasCrlSign,
        _ when text.Contains("signing certificate must have CA flag") => X509SvidError.SigningCertNotCa,
        _ when text.Contains("signing certificate must have 'keyCertSign'") => X509SvidError.SigningCertMissingKeyCertSign,
        _ => throw new InvalidOperationException("unmapped: " + text),
    };

    [Fact]
    public void EverySvidLoadCase()
    {
        var cases = Expectations().GetProperty("x509svid_load");
        Assert.Equal(18, cases.GetArrayLength());
        var failures = new List<string>();
        foreach (var c in cases.EnumerateArray())
        {
            var name = c.GetProperty("name").GetString();
            var certs = File.ReadAllText(Path.Combine(IdentityTestData.Spiffe, c.GetProperty("certs").GetString()!));
            var key = File.ReadAllText(Path.Combine(IdentityTestData.Spiffe, c.GetProperty("key").GetString()!));
            var (id, error) = LoadSvid(certs, key);
            if (c.GetProperty("valid").GetBoolean())
            {
                if (id != c.GetProperty("spiffe_id").GetString()) failures.Add($"{name}: expected {c.GetProperty("spiffe_id")}, got {error}");
                WorkloadCertificateLoader.TryReadChain(certs, out _, out var rest);
                if (rest!.Count + 1 != c.GetProperty("num_certs").GetInt32()) failures.Add($"{name}: {rest.Count + 1} certs");
            }
            else
            {
                var expected = ExpectedError(c.GetProperty("error_contains").GetString()!);
                if (!expected.Equals(error)) failures.Add($"{name}: expected {expected}, got {error} (id {id})");
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    /// <summary>
    /// go-spiffe's bundle cases, read with Istio's lenient rules instead: a bundle with no usable root is refused (go-spiffe
    /// accepts an empty bundle), and a corrupted certificate is skipped rather than failing the file.
    /// </summary>
    [Theory]
    [InlineData("x509bundle/certs.pem", 2, 0)]
    [InlineData("x509bundle/cert.pem", 1, 0)]
    [InlineData("x509bundle/empty.pem", 0, 0)]
    [InlineData("x509bundle/not-pem.pem", 0, 0)]
    [InlineData("x509bundle/corrupted.pem", 0, 1)]
    public void BundleCases(string file, int roots, int skipped)
    {
        var cases = Expectations().GetProperty("x509bundle_parse").EnumerateArray().Single(c => c.GetProperty("file").GetString() == file);
        var error = TrustBundle.TryParse(File.ReadAllText(Path.Combine(IdentityTestData.Spiffe, file)), out var bundle);
        if (roots == 0)
        {
            Assert.Equal(TrustBundleError.NoValidRoot, error);
            Assert.Null(bundle);
        }
        else
        {
            Assert.True(cases.GetProperty("valid").GetBoolean());
            Assert.Equal(cases.GetProperty("num_authorities").GetInt32(), bundle!.Roots.Count);
            Assert.Equal(roots, bundle.Roots.Count);
            Assert.Equal(skipped, bundle.Skipped);
        }
    }
}
