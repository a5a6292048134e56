using Sidecar.Native.Nftables;

namespace Sidecar.Native.Tests.Nftables;

/// <summary>Text equality (after whitespace normalisation) with every shared istio-nftables golden.</summary>
public sealed class SidecarCaptureGoldenTests
{
    [Fact]
    public void EverySharedGoldenHasACase()
    {
        string[] files = Directory.GetFiles(CaptureGoldenCases.GoldenDirectory, "*.golden")
            .Select(f => Path.GetFileNameWithoutExtension(f)).Order(StringComparer.Ordinal).ToArray();
        Assert.NotEmpty(files);
        Assert.Equal(files, CaptureGoldenCases.All.Select(c => c.Name).Order(StringComparer.Ordinal).ToArray());
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void GeneratedRulesetEqualsGolden(string name)
    {
        CaptureInvocation inv = CaptureGoldenCases.Parse(CaptureGoldenCases.Get(name));
        string ours = SidecarCaptureRules.Render(inv.Config);
        Assert.Equal(CaptureGoldenCases.Lines(CaptureGoldenCases.Golden(name)), CaptureGoldenCases.Lines(ours));
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void DryRunPrintsTheGolden(string name)
    {
        CaptureGoldenCases.Case c = CaptureGoldenCases.Get(name);
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int rc = CaptureCommand.Install([.. c.Args, "--dry-run"], new FakeCaptureEnvironment(c.Env, c.Nameservers ?? []), stdout, stderr);
        Assert.Equal(0, rc);
        Assert.Equal("", stderr.ToString());
        Assert.Equal(CaptureGoldenCases.Lines(CaptureGoldenCases.Golden(name)), CaptureGoldenCases.Lines(stdout.ToString()));
    }

    public static IEnumerable<object[]> Names() => CaptureGoldenCases.Names();
}
