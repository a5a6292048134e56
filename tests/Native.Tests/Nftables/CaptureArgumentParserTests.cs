using System.Net;
using Sidecar.Native.Nftables;

namespace Sidecar.Native.Tests.Nftables;

public sealed class CaptureArgumentParserTests
{
    private static CaptureParseResult Parse(string[] args, Dictionary<string, string>? env = null, params string[] nameservers)
        => CaptureArgumentParser.Parse(args, new FakeCaptureEnvironment(env, nameservers));

    private static string Error(string[] args, Dictionary<string, string>? env = null)
    {
        CaptureParseResult r = Parse(args, env);
        Assert.Null(r.Invocation);
        return r.Error!;
    }

    [Fact]
    public void Defaults_AreIstios()
    {
        CaptureConfig c = Parse([]).Invocation!.Config;
        Assert.Equal((ushort)15001, c.ProxyPort);
        Assert.Equal((ushort)15006, c.InboundCapturePort);
        Assert.Equal((ushort)15008, c.InboundTunnelPort);
        Assert.Equal(["1337"], c.ProxyUids);
        Assert.Equal(["1337"], c.ProxyGids);
        Assert.Equal(InboundInterceptionMode.Redirect, c.Mode);
        Assert.True(c.InboundPorts.IsEmpty);
        Assert.False(c.EnableIpv6);
    }

    [Fact]
    public void InjectorCommandLine_Parses()
    {
        // What the sidecar injector passes to istio-init (dataplane-map §1.2).
        CaptureInvocation inv = Parse(["-p", "15001", "-z", "15006", "-u", "1337", "-m", "REDIRECT", "-i", "*", "-x", "", "-b", "*",
            "-d", "15090,15021,15020", "--log_output_level=default:info", "--native-nftables", "--run-validation", "--skip-rule-apply"]).Invocation!;
        Assert.True(inv.RunValidation);
        Assert.True(inv.SkipRuleApply);
        Assert.True(inv.Config.OutboundIpRangesInclude.IsWildcard);
        Assert.True(inv.Config.InboundPorts.IsWildcard);
        Assert.Equal([(ushort)15090, (ushort)15021, (ushort)15020], inv.Config.InboundPortsExclude);
    }

    [Fact]
    public void FlagForms_AllSpellingsWork()
    {
        Assert.Equal((ushort)1, Parse(["-p1"]).Invocation!.Config.ProxyPort);
        Assert.Equal((ushort)2, Parse(["-p=2"]).Invocation!.Config.ProxyPort);
        Assert.Equal((ushort)3, Parse(["--envoy-port=3"]).Invocation!.Config.ProxyPort);
        Assert.Equal((ushort)4, Parse(["--envoy-port", "4"]).Invocation!.Config.ProxyPort);
        Assert.False(Parse(["--drop-invalid=false"]).Invocation!.Config.DropInvalid);
        Assert.True(Parse(["--drop-invalid"]).Invocation!.Config.DropInvalid);
    }

    [Fact]
    public void Environment_IsTheFallback_FlagWins()
    {
        var env = new Dictionary<string, string> { ["ENVOY_PORT"] = "16001", ["ISTIO_INBOUND_PORTS"] = "80", ["INVALID_DROP"] = "true", ["ISTIO_META_DNS_CAPTURE"] = "true" };
        CaptureConfig fromEnv = Parse([], env, "10.96.0.10").Invocation!.Config;
        Assert.Equal((ushort)16001, fromEnv.ProxyPort);
        Assert.Equal([(ushort)80], fromEnv.InboundPorts.Ports);
        Assert.True(fromEnv.DropInvalid);
        Assert.True(fromEnv.RedirectDns);
        Assert.Equal([IPAddress.Parse("10.96.0.10")], fromEnv.DnsServersV4);

        Assert.Equal((ushort)17001, Parse(["-p", "17001"], env).Invocation!.Config.ProxyPort);
    }

    [Fact]
    public void CaptureAllDns_DoesNotReadResolvConf()
    {
        CaptureConfig c = Parse(["--redirect-dns", "--capture-all-dns"], null, "10.96.0.10").Invocation!.Config;
        Assert.Empty(c.DnsServersV4);
        Assert.Contains("udp dport 53 counter redirect to :15053", SidecarCaptureRules.Render(c), StringComparison.Ordinal);
    }

    [Fact]
    public void ResolvConf_NameserversOnly()
    {
        IReadOnlyList<IPAddress> s = ResolvConf.ParseNameservers("# c\nsearch a.svc\nnameserver 10.96.0.10\nnameserver fd00::a\nnameserver fe80::1%eth0\noptions ndots:5\nnameserver bogus\n");
        Assert.Equal([IPAddress.Parse("10.96.0.10"), IPAddress.Parse("fd00::a")], s);
    }

    [Theory]
    [InlineData("--no-such-flag", "unknown flag: --no-such-flag")]
    [InlineData("-Z", "unknown shorthand flag: 'Z'")]
    [InlineData("stray", "unexpected argument")]
    [InlineData("-p", "flag needs an argument: --envoy-port")]
    public void UnknownOrIncompleteFlags_AreRejected(string arg, string message)
        => Assert.Contains(message, Error([arg]), StringComparison.Ordinal);

    [Fact]
    public void ConflictingPorts_AreRejected()
    {
        Assert.Contains("conflicting ports", Error(["-p", "15006"]), StringComparison.Ordinal);
        Assert.Contains("conflicting ports", Error(["-z", "15008"]), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("-p", "0")]
    [InlineData("-p", "65536")]
    [InlineData("-b", "80,http")]
    [InlineData("-q", "-1")]
    [InlineData("-i", "10.0.0.0")]
    [InlineData("-i", "10.0.0.0/33")]
    [InlineData("-i", "10/8")]
    [InlineData("-x", "fd00::/129")]
    [InlineData("-x", "*")]
    [InlineData("-m", "NAT")]
    [InlineData("-u", "1337; flush ruleset")]
    [InlineData("-k", "eth0 ; flush ruleset")]
    [InlineData("-c", "averyveryverylongnic")]
    [InlineData("-t", "mark")]
    [InlineData("--probe-timeout", "soon")]
    [InlineData("--dual-stack=maybe", null)]
    public void BadValues_AreRejectedWithTheFlagName(string flag, string? value)
    {
        string error = Error(value is null ? [flag] : [flag, value]);
        Assert.Matches(@"^(--[a-z0-9-]+|ISTIO_[A-Z_]+)", error);
    }

    [Fact]
    public void OwnerGroups_IncludeAndExcludeTogether_AreRejected()
        => Assert.Contains("cannot both be set", Error([], new() { ["ISTIO_OUTBOUND_OWNER_GROUPS"] = "java", ["ISTIO_OUTBOUND_OWNER_GROUPS_EXCLUDE"] = "888" }), StringComparison.Ordinal);

    [Fact]
    public void LoopbackCidr_MustBeIpv4Loopback()
        => Assert.Contains("ISTIO_OUTBOUND_IPV4_LOOPBACK_CIDR", Error([], new() { ["ISTIO_OUTBOUND_IPV4_LOOPBACK_CIDR"] = "10.0.0.0/8" }), StringComparison.Ordinal);

    [Fact]
    public void GidDefaultsToUidList()
        => Assert.Equal(["3", "4"], Parse(["-u", "3,4"]).Invocation!.Config.ProxyGids);

    [Fact]
    public void LoopbackInclude_KeepsAppToSelfTrafficCaptured()
    {
        string rules = SidecarCaptureRules.Render(Parse(["-i", "127.1.2.3/32"]).Invocation!.Config);
        Assert.DoesNotContain("skuid != 1337", rules, StringComparison.Ordinal);
        Assert.Contains("ip daddr 127.1.2.3/32 counter jump istio-redirect", rules, StringComparison.Ordinal);
    }

    [Fact]
    public void Command_BadInput_ExitsOneWithMessageOnStderr()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int rc = CaptureCommand.Install(["-b", "80,x"], new FakeCaptureEnvironment(), stdout, stderr);
        Assert.Equal(1, rc);
        Assert.Equal("", stdout.ToString());
        Assert.StartsWith("istio-iptables: --istio-inbound-ports (-b): 'x' is not a port", stderr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void CleanDryRun_PrintsDeletesOfExactlyOurTables()
    {
        var stdout = new StringWriter();
        Assert.Equal(0, CaptureCommand.Clean(["--dry-run"], new FakeCaptureEnvironment(), stdout, TextWriter.Null));
        Assert.Equal(
            "add table inet istio-proxy-nat\ndelete table inet istio-proxy-nat\nadd table inet istio-proxy-mangle\ndelete table inet istio-proxy-mangle\n" +
            "add table inet istio-proxy-raw\ndelete table inet istio-proxy-raw\n",
            stdout.ToString());
    }
}
