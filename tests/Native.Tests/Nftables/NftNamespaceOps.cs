using Sidecar.Native.Nftables;
using Sidecar.Native.Tests.Support;

namespace Sidecar.Native.Tests.Nftables;

/// <summary>nft inside a throwaway namespace: the CLI as the reference, libnftables (our product path) under test.</summary>
internal static class NftNamespaceOps
{
    // Groups used by some goldens do not exist on the test machine; nft resolves names at load
    // time, so both sides get the same numeric stand-ins before loading.
    private static readonly (string Name, string Id)[] GroupStandIns = [("java", "60001"), ("ftp", "60002")];

    public static string WithGroupStandIns(string ruleset)
    {
        foreach ((string name, string id) in GroupStandIns)
        {
            ruleset = ruleset.Replace($"skgid {name} ", $"skgid {id} ", StringComparison.Ordinal)
                             .Replace($"skgid != {name} ", $"skgid != {id} ", StringComparison.Ordinal);
        }

        return ruleset;
    }

    public static string ListRuleset(TestNamespace ns) => Shell.Run("ip", "netns", "exec", ns.Name, "nft", "list", "ruleset");

    public static void FlushRuleset(TestNamespace ns) => Shell.Run("ip", "netns", "exec", ns.Name, "nft", "flush", "ruleset");

    /// <summary>Applies through libnftables in the namespace; asserts success.</summary>
    public static void Apply(TestNamespace ns, string script)
    {
        NftResult r = CaptureCommand.RunIn(ns.Name, script);
        Assert.True(r.Ok, $"libnftables apply failed: {r.Failure} {r.Error}");
    }
}
