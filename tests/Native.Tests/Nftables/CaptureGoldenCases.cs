using Sidecar.Native.Nftables;

namespace Sidecar.Native.Tests.Nftables;

/// <summary>
/// The inputs of each shared golden (../shared/conformance/istio/nftables-capture), written as the
/// istio-iptables flags and environment that produce Istio's run_test.go configs. Test-only knobs:
/// IPv6 cases pass --dual-stack (the fake pod is dual-stack exactly then); DNS servers come from the
/// fake resolv.conf.
/// </summary>
internal static class CaptureGoldenCases
{
    public sealed record Case(string Name, string[] Args, Dictionary<string, string>? Env = null, string[]? Nameservers = null);

    public static readonly Case[] All =
    [
        new("basic-exclude-nic", ["-c", "not-istio-nic"]),
        new("drop-invalid", ["--drop-invalid"]),
        new("empty", []),
        new("host-ipv4-loopback-cidr", [], new() { ["ISTIO_OUTBOUND_IPV4_LOOPBACK_CIDR"] = "127.0.0.1/8" }),
        new("inbound-ports-empty-tproxy", ["-m", "TPROXY"]),
        new("inbound-ports-include", ["-b", "32000,31000"]),
        new("inbound-ports-tproxy", ["-b", "32000,31000", "-m", "TPROXY"]),
        new("inbound-ports-wildcard-tproxy", ["--istio-inbound-ports=*", "--istio-inbound-interception-mode", "TPROXY"]),
        new("inbound-ports-wildcard", ["-b*"]),
        new("ip-range", ["-x", "1.1.0.0/16", "-i", "9.9.0.0/16", "--redirect-dns", "-g", "1,2", "-u", "3,4"], Nameservers: ["127.0.0.53"]),
        new("ipnets", ["-i", "10.0.0.0/8"]),
        new("ipv6-dns-outbound-owner-groups-exclude", ["--dual-stack", "--redirect-dns"], new() { ["ISTIO_OUTBOUND_OWNER_GROUPS_EXCLUDE"] = "888,ftp" }),
        new("ipv6-dns-outbound-owner-groups", ["--dual-stack"], new() { ["ISTIO_META_DNS_CAPTURE"] = "true", ["ISTIO_OUTBOUND_OWNER_GROUPS"] = "java,202" }),
        new("ipv6-dns-uid-gid", ["--dual-stack", "--redirect-dns", "-g", "1,2", "-u", "3,4"]),
        new("ipv6-empty-inbound-ports", ["--dual-stack"]),
        new("ipv6-ipnets", ["--dual-stack", "-b", "4000,5000", "-d", "6000,7000,", "-k", "eth0,eth1", "-x", "2001:db8::/32", "-i", "2001:db8::/32"]),
        new("ipv6-outbound-ports", ["--dual-stack"], new() { ["ISTIO_OUTBOUND_PORTS"] = "32000,31000" }),
        new("ipv6-uid-gid", ["--dual-stack", "-b", "4000,5000", "-d", "6000,7000", "-k", "eth0,eth1", "-g", "1,2", "-u", "3,4", "-x", "2001:db8::/32", "-i", "2001:db8::/32"]),
        new("ipv6-virt-interfaces", ["--dual-stack", "-b", "4000,5000", "-k", "eth0,eth1"]),
        new("kube-virt-interfaces", ["-k", "eth1,eth2", "-i", "*"]),
        new("outbound-owner-groups", [], new() { ["ISTIO_OUTBOUND_OWNER_GROUPS"] = "java,202" }),
        new("outbound-owner-groups-exclude", [], new() { ["ISTIO_OUTBOUND_OWNER_GROUPS_EXCLUDE"] = "888,ftp" }),
    ];

    public static string GoldenDirectory
    {
        get
        {
            DirectoryInfo? dir = new(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Sidecar.sln")))
            {
                dir = dir.Parent;
            }

            string root = dir?.FullName ?? throw new InvalidOperationException("Sidecar.sln not found above " + AppContext.BaseDirectory);
            return Path.GetFullPath(Path.Combine(root, "..", "shared", "conformance", "istio", "nftables-capture"));
        }
    }

    public static Case Get(string name) => All.Single(c => c.Name == name);

    public static string Golden(string name) => File.ReadAllText(Path.Combine(GoldenDirectory, name + ".golden"));

    public static CaptureInvocation Parse(Case c)
    {
        CaptureParseResult r = CaptureArgumentParser.Parse(c.Args, new FakeCaptureEnvironment(c.Env, c.Nameservers ?? []));
        Assert.True(r.Invocation is not null, $"{c.Name}: {r.Error}");
        return r.Invocation!;
    }

    /// <summary>Lines without surrounding blanks, so only content (not a trailing newline) is compared.</summary>
    public static string[] Lines(string text)
        => text.Split('\n').Select(l => string.Join(' ', l.Split(' ', StringSplitOptions.RemoveEmptyEntries))).Where(l => l.Length > 0).ToArray();

    public static IEnumerable<object[]> Names() => All.Select(c => new object[] { c.Name });
}
