using System.Net;

namespace Sidecar.Native.Nftables;

/// <summary>What one <c>sidecar istio-iptables …</c> run is asked to do, besides the rules themselves.</summary>
public sealed record CaptureInvocation(CaptureConfig Config)
{
    public bool DryRun { get; init; }
    public bool CleanupOnly { get; init; }
    public bool SkipRuleApply { get; init; }
    public bool RunValidation { get; init; }
    public string? NetworkNamespace { get; init; }
    public ushort ProbePort { get; init; } = 15002;
    public TimeSpan ProbeTimeout { get; init; } = TimeSpan.FromSeconds(5);
}

/// <summary>Parse outcome: an invocation, or one message for stderr (expected bad input is not an exception).</summary>
public readonly record struct CaptureParseResult(CaptureInvocation? Invocation, string? Error)
{
    public static CaptureParseResult Fail(string error) => new(null, error);
}

/// <summary>What the parser reads from the machine: environment variables, resolv.conf, the pod's addresses.</summary>
public interface ICaptureEnvironment
{
    string? GetVariable(string name);

    /// <summary>Nameservers of /etc/resolv.conf (read only when DNS capture needs them).</summary>
    IReadOnlyList<IPAddress> ResolvConfNameservers();

    /// <summary>
    /// Whether IPv6 rules are wanted: as istio-iptables decides from the pod's first global address
    /// (or any global IPv6 address when dual-stack is on).
    /// </summary>
    bool WantsIpv6(bool dualStack);
}
