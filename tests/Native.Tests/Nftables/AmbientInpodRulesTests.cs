using Sidecar.Native.Nftables;
using Sidecar.Native.Tests.Support;

namespace Sidecar.Native.Tests.Nftables;

/// <summary>
/// The ambient in-pod tables. The shared conformance set has no ambient goldens, so these pin the
/// rules that carry the semantics (mark 0x539/0xfff, connmark 0x111, ports) and check the kernel
/// accepts every variant; CaptureTrafficTests checks the behaviour.
/// </summary>
public sealed class AmbientInpodRulesTests
{
    [Fact]
    public void Default_Ipv4_NoDns()
    {
        string[] lines = CaptureGoldenCases.Lines(AmbientInpodRules.Render(new AmbientInpodConfig()));
        Assert.Contains("add rule inet istio-ambient-nat istio-prerouting ip daddr != 127.0.0.1/32 tcp dport != 15008 mark and 0xfff != 0x539 counter redirect to :15006", lines);
        Assert.Contains("add rule inet istio-ambient-nat istio-output meta l4proto tcp ip daddr != 127.0.0.1/32 mark and 0xfff != 0x539 counter redirect to :15001", lines);
        Assert.Contains("add rule inet istio-ambient-nat istio-prerouting meta l4proto tcp ip saddr 169.254.7.127 counter accept", lines);
        Assert.Contains("add rule inet istio-ambient-mangle istio-prerouting meta mark & 0xfff == 0x539 counter ct mark set ct mark & 0xfffff000 | 0x111", lines);
        Assert.Contains("add rule inet istio-ambient-mangle istio-output ct mark and 0xfff == 0x111 counter meta mark set ct mark", lines);
        Assert.Contains("add rule inet istio-ambient-nat output jump istio-output", lines);
        Assert.Contains("add chain inet istio-ambient-mangle output { type route hook output priority -150 ; }", lines);
        Assert.DoesNotContain(lines, l => l.Contains("ip6", StringComparison.Ordinal) || l.Contains("istio-ambient-raw", StringComparison.Ordinal) || l.Contains(":15053", StringComparison.Ordinal));
    }

    [Fact]
    public void DualStackWithDns_AddsV6TwinsDnsAndRawZones()
    {
        string[] lines = CaptureGoldenCases.Lines(AmbientInpodRules.Render(new AmbientInpodConfig { EnableIpv6 = true, RedirectDns = true }));
        Assert.Contains("add rule inet istio-ambient-nat istio-output oifname != lo mark and 0xfff != 0x539 udp dport 53 counter redirect to :15053", lines);
        Assert.Contains("add rule inet istio-ambient-nat istio-output ip6 daddr != ::1/128 tcp dport 53 mark and 0xfff != 0x539 counter redirect to :15053", lines);
        Assert.Contains("add rule inet istio-ambient-nat istio-prerouting meta l4proto tcp ip6 saddr fd16:9254:7127:1337:ffff:ffff:ffff:ffff counter accept", lines);
        Assert.Contains("add rule inet istio-ambient-raw istio-output udp dport 53 meta mark and 0xfff == 0x539 counter ct zone set 1", lines);
        Assert.Contains("add rule inet istio-ambient-raw istio-prerouting udp sport 53 meta mark and 0xfff != 0x539 counter ct zone set 1", lines);
        Assert.Equal(4, lines.Count(l => l.Contains("ip6 daddr != ::1/128", StringComparison.Ordinal)));
    }

    [RootTheory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void KernelAcceptsEveryVariant_AndReplacingRemovesTheOldDnsTable(bool ipv6, bool dns)
    {
        using TestNamespace ns = TestNamespace.Create();
        NftNamespaceOps.Apply(ns, AmbientInpodRules.RenderReplacing(new AmbientInpodConfig { EnableIpv6 = true, RedirectDns = true }));
        Assert.Contains("table inet istio-ambient-raw", NftNamespaceOps.ListRuleset(ns), StringComparison.Ordinal);

        NftNamespaceOps.Apply(ns, AmbientInpodRules.RenderReplacing(new AmbientInpodConfig { EnableIpv6 = ipv6, RedirectDns = dns }));
        string listed = NftNamespaceOps.ListRuleset(ns);
        Assert.Contains("table inet istio-ambient-nat", listed, StringComparison.Ordinal);
        Assert.Equal(dns, listed.Contains("table inet istio-ambient-raw", StringComparison.Ordinal));
        Assert.Equal(ipv6, listed.Contains("ip6 daddr", StringComparison.Ordinal));

        NftNamespaceOps.Apply(ns, NftScript.DeleteTables(AmbientInpodRules.Tables));
        Assert.Equal("", NftNamespaceOps.ListRuleset(ns).Trim());
    }
}
