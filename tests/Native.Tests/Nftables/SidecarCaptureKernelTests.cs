using Sidecar.Native.Nftables;
using Sidecar.Native.Tests.Support;

namespace Sidecar.Native.Tests.Nftables;

/// <summary>
/// Privileged: each golden and our ruleset loaded into a throwaway namespace (golden with the nft
/// CLI, ours through libnftables) and compared as the kernel lists them back; atomic failure; clean removal.
/// </summary>
public sealed class SidecarCaptureKernelTests
{
    public static IEnumerable<object[]> Names() => CaptureGoldenCases.Names();

    [RootTheory]
    [MemberData(nameof(Names))]
    public void KernelListsTheSameRulesetAsForTheGolden(string name)
    {
        using TestNamespace ns = TestNamespace.Create();
        ns.LoadNft(NftNamespaceOps.WithGroupStandIns(CaptureGoldenCases.Golden(name)));
        string expected = NftNamespaceOps.ListRuleset(ns);
        NftNamespaceOps.FlushRuleset(ns);
        Assert.Equal("", NftNamespaceOps.ListRuleset(ns).Trim());

        CaptureInvocation inv = CaptureGoldenCases.Parse(CaptureGoldenCases.Get(name));
        NftNamespaceOps.Apply(ns, NftNamespaceOps.WithGroupStandIns(SidecarCaptureRules.Render(inv.Config)));
        string actual = NftNamespaceOps.ListRuleset(ns);
        Assert.Contains("table inet istio-proxy-nat", actual, StringComparison.Ordinal);
        Assert.Equal(expected, actual);
    }

    [RootFact]
    public void Install_ThenReinstallWithOtherMode_LeavesNoStaleTable_ThenCleanRemovesOnlyOurs()
    {
        using TestNamespace ns = TestNamespace.Create();
        ns.LoadNft("table inet someone-else {\n  chain c {\n    type filter hook output priority 0; policy accept;\n  }\n}\n");
        var env = new FakeCaptureEnvironment();
        var err = new StringWriter();

        Assert.Equal(0, CaptureCommand.Install(["-m", "TPROXY", "-b", "*", "--network-namespace", ns.Name], env, TextWriter.Null, err));
        Assert.Contains("table inet istio-proxy-mangle", NftNamespaceOps.ListRuleset(ns), StringComparison.Ordinal);
        Assert.Contains("fwmark 0x539 lookup 133", Shell.Run("ip", "-n", ns.Name, "-4", "rule", "show"), StringComparison.Ordinal);
        Assert.Contains("local default dev lo", Shell.Run("ip", "-n", ns.Name, "-4", "route", "show", "table", "133"), StringComparison.Ordinal);

        // Installing again is fine (the existing rule and route are kept, not duplicated).
        Assert.Equal(0, CaptureCommand.Install(["-m", "TPROXY", "-b", "*", "--network-namespace", ns.Name], env, TextWriter.Null, err));
        Assert.Single(Shell.Run("ip", "-n", ns.Name, "-4", "rule", "show").Split('\n'), l => l.Contains("lookup 133", StringComparison.Ordinal));

        // REDIRECT mode has no mangle table: the previous one must not survive the second transaction.
        Assert.Equal(0, CaptureCommand.Install(["-b", "*", "-i", "*", "--network-namespace", ns.Name], env, TextWriter.Null, err));
        string after = NftNamespaceOps.ListRuleset(ns);
        Assert.DoesNotContain("istio-proxy-mangle", after, StringComparison.Ordinal);
        Assert.Contains("jump istio-redirect", after, StringComparison.Ordinal);
        Assert.DoesNotContain("lookup 133", Shell.Run("ip", "-n", ns.Name, "-4", "rule", "show"), StringComparison.Ordinal);

        Assert.Equal(0, CaptureCommand.Clean(["--network-namespace", ns.Name], env, TextWriter.Null, err));
        string cleaned = NftNamespaceOps.ListRuleset(ns);
        Assert.DoesNotContain("istio-proxy", cleaned, StringComparison.Ordinal);
        Assert.Contains("table inet someone-else", cleaned, StringComparison.Ordinal);
        Assert.Equal("", err.ToString());

        // Clean is idempotent: nothing to remove is not an error.
        Assert.Equal(0, CaptureCommand.Clean(["--network-namespace", ns.Name], env, TextWriter.Null, err));
        NftNamespaceOps.FlushRuleset(ns);
        Assert.Equal(0, CaptureCommand.Install(["--cleanup-only", "--network-namespace", ns.Name], env, TextWriter.Null, err));
        Assert.Equal("", NftNamespaceOps.ListRuleset(ns).Trim());
    }

    [RootFact]
    public void Tproxy_DualStack_PolicyRoutes_InstalledAndCleaned()
    {
        using TestNamespace ns = TestNamespace.Create();
        var env = new FakeCaptureEnvironment();
        var err = new StringWriter();
        Assert.True(CaptureCommand.Install(["-m", "TPROXY", "-b", "*", "-t", "1400", "-r", "140", "--dual-stack", "--network-namespace", ns.Name], env, TextWriter.Null, err) == 0, err.ToString());
        Assert.Contains("fwmark 0x578 lookup 140", Shell.Run("ip", "-n", ns.Name, "-6", "rule", "show"), StringComparison.Ordinal);
        Assert.Contains("local default dev lo", Shell.Run("ip", "-n", ns.Name, "-6", "route", "show", "table", "140"), StringComparison.Ordinal);
        Assert.Contains("tproxy ip6 to :15006 meta mark set 0x00000578", NftNamespaceOps.ListRuleset(ns), StringComparison.Ordinal);

        Assert.Equal(0, CaptureCommand.Clean(["-t", "1400", "-r", "140", "--network-namespace", ns.Name], env, TextWriter.Null, err));
        Assert.DoesNotContain("lookup 140", Shell.Run("ip", "-n", ns.Name, "rule", "show") + Shell.Run("ip", "-n", ns.Name, "-6", "rule", "show"), StringComparison.Ordinal);
        Assert.Equal("", Shell.Run("ip", "-n", ns.Name, "-6", "route", "show", "table", "140").Trim());
        Assert.Equal("", NftNamespaceOps.ListRuleset(ns).Trim());
    }

    [RootFact]
    public void FailingApply_LeavesThePreviousRulesetUntouched()
    {
        using TestNamespace ns = TestNamespace.Create();
        var err = new StringWriter();
        Assert.Equal(0, CaptureCommand.Install(["-b", "*", "-i", "10.0.0.0/8", "--network-namespace", ns.Name], new FakeCaptureEnvironment(), TextWriter.Null, err));
        string before = NftNamespaceOps.ListRuleset(ns);
        Assert.Contains("ip daddr 10.0.0.0/8", before, StringComparison.Ordinal);

        // A well-formed group name that does not exist: the parser accepts it, the kernel transaction
        // (which also deletes the old tables first) fails as a whole when nft cannot resolve it.
        var env = new FakeCaptureEnvironment(new() { ["ISTIO_OUTBOUND_OWNER_GROUPS"] = "no-such-group-sc" });
        int rc = CaptureCommand.Install(["-b", "*", "-i", "*", "-m", "TPROXY", "--network-namespace", ns.Name], env, TextWriter.Null, err);

        Assert.Equal(1, rc);
        Assert.Contains("nothing was changed", err.ToString(), StringComparison.Ordinal);
        Assert.True(err.ToString().Contains("no-such-group-sc", StringComparison.Ordinal), err.ToString());
        Assert.Equal(before, NftNamespaceOps.ListRuleset(ns));
    }

    [RootFact]
    public void ApplyIntoMissingNamespace_FailsClearly()
    {
        var err = new StringWriter();
        int rc = CaptureCommand.Install(["--network-namespace", "sc-test-does-not-exist"], new FakeCaptureEnvironment(), TextWriter.Null, err);
        Assert.Equal(1, rc);
        Assert.Contains("cannot open network namespace sc-test-does-not-exist", err.ToString(), StringComparison.Ordinal);
    }
}
