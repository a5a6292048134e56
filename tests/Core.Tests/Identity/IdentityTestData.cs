using Xunit;
using Sidecar.Core.Tests.Config;

namespace Sidecar.Core.Tests.Identity;

/// <summary>Paths of the shared SPIFFE and Istio certificate material beside the repo (../shared/conformance).</summary>
internal static class IdentityTestData
{
    public static string Spiffe => Existing(Path.Combine(RepoPaths.RepoRoot, "..", "shared", "conformance", "spiffe"));

    public static string IstioCerts => Existing(Path.Combine(RepoPaths.RepoRoot, "..", "shared", "conformance", "istio", "certs"));

    /// <summary>tests-testdata-certs/&lt;name&gt; (default, mountedcerts-client, mountedcerts-server, dns, pilot): one root, valid to 2296.</summary>
    public static string MeshPair(string name) => Existing(Path.Combine(IstioCerts, "tests-testdata-certs", name));

    private static string Existing(string path)
    {
        var full = Path.GetFullPath(path);
        Assert.True(Directory.Exists(full), $"conformance material not found at {full} (../shared beside the repo)");
        return full;
    }
}
