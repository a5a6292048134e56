using Sidecar.E2E.Tests.Harness;
using Xunit;
using Xunit.Abstractions;

namespace Sidecar.E2E.Tests;

/// <summary>
/// Issue 7's pod: a "pod" network namespace (nginx app, capture rules from `sidecar istio-iptables`, Sidecar as UID/GID 1337 with
/// istio-proxy's virtualOutbound/virtualInbound) and a "remote" namespace on a veth pair, IPv4 and IPv6.
/// peers/pod/pod.sh builds it, drives the traffic and prints one RESULT line per observation; every
/// observation is asserted here. Needs root (CI is root) and nginx, nft, curl, python3, setpriv.
/// </summary>
public sealed class PodCaptureTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("redirect")]
    [InlineData("tproxy")]
    public async Task Pod_traffic_is_captured_both_ways_over_both_families_without_a_loop(string mode)
    {
        string bin = TestEnv.RequireSidecar();
        foreach (var (tool, package) in new[] { ("nginx", "nginx-light"), ("nft", "nftables"), ("curl", "curl"), ("python3", "python3"), ("setpriv", "util-linux") })
        {
            TestEnv.Tool(tool, package);
        }
        using var dir = TestEnv.NewTempDir("pod-" + mode);
        var r = await Proc.Run("bash", [Path.Combine(TestEnv.PeersDir, "pod", "pod.sh"), bin, mode, dir.Path], TimeSpan.FromSeconds(120));
        output.WriteLine(r.ToString());
        Assert.Equal(0, r.ExitCode);
        Dictionary<string, string> results = ParseResults(r.StdOut);

        var expected = new Dictionary<string, string>
        {
            // Before the rules the app sees the remote itself: what changes below is the capture's doing.
            ["precapture_inbound_v4"] = "app saw 10.77.0.2",
            ["sidecar_uid"] = "uid:1337",
            // REDIRECT needs no capability; the TPROXY listener needs CAP_NET_ADMIN (bit 12).
            ["sidecar_capeff"] = mode == "tproxy" ? "0000000000001000" : "0000000000000000",
            // Outbound from the app: captured once on 15001, answered by the original destination.
            ["outbound_v4"] = "remote saw 10.77.0.1",
            ["outbound_v4_captured"] = "1",
            ["outbound_v6"] = "remote saw fd77::1",
            ["outbound_v6_captured"] = "1",
            // The proxy's own UID goes straight out: answered, and the 15001 counter does not move.
            ["uid1337_v4"] = "remote saw 10.77.0.1",
            ["uid1337_v4_captured"] = "0",
            ["uid1337_v6"] = "remote saw fd77::1",
            ["uid1337_v6_captured"] = "0",
            // Inbound to the app port: captured on 15006, reaches nginx from the passthrough source.
            ["inbound_v4"] = "app saw 127.0.0.6",
            ["inbound_v4_captured"] = "1",
            ["inbound_v6"] = "app saw ::6",
            ["inbound_v6_captured"] = "1",
            ["upstream_cx_outbound"] = "2",
            ["upstream_cx_inbound"] = "2",
            // Installed by `sidecar istio-iptables`, removed by `sidecar istio-clean-iptables`.
            ["capture_tables"] = mode == "tproxy" ? "istio-proxy-mangle istio-proxy-nat" : "istio-proxy-nat",
            ["ruleset_after_cleanup"] = "empty",
        };
        if (mode == "tproxy")
        {
            expected["tproxy_rule_used"] = "yes";
        }
        foreach (var (name, value) in expected)
        {
            Assert.True(results.TryGetValue(name, out string? actual), $"no RESULT {name} in the script output");
            Assert.True(value == actual, $"{name}: expected \"{value}\", got \"{actual}\"");
        }
    }

    private static Dictionary<string, string> ParseResults(string stdout)
    {
        var results = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string line in stdout.Split('\n'))
        {
            if (!line.StartsWith("RESULT ", StringComparison.Ordinal)) continue;
            string rest = line["RESULT ".Length..].TrimEnd('\r');
            int space = rest.IndexOf(' ', StringComparison.Ordinal);
            if (space < 0) results[rest] = "";
            else results[rest[..space]] = rest[(space + 1)..];
        }
        return results;
    }
}
