using System.Net;

namespace Sidecar.Native.Nftables;

/// <summary>How inbound connections reach the proxy: NAT REDIRECT (default) or TPROXY (keeps the original source).</summary>
public enum InboundInterceptionMode
{
    Redirect,
    Tproxy,
}

/// <summary>A port list that may also be "every port" (<c>*</c>) or empty (capture nothing).</summary>
public sealed record PortSelection(bool IsWildcard, IReadOnlyList<ushort> Ports)
{
    public static readonly PortSelection None = new(false, []);
    public static readonly PortSelection All = new(true, []);

    public bool IsEmpty => !IsWildcard && Ports.Count == 0;
}

/// <summary>
/// CIDRs split by family (as istio-iptables' SeparateV4V6 does), or the wildcard <c>*</c>.
/// Texts are kept as given (canonical address + prefix length), e.g. <c>127.0.0.1/8</c>.
/// </summary>
public sealed record IpRanges(bool IsWildcard, IReadOnlyList<string> V4, IReadOnlyList<string> V6, bool HasLoopback)
{
    public static readonly IpRanges None = new(false, [], [], false);
    public static readonly IpRanges All = new(true, [], [], false);
}

/// <summary>
/// Which socket owner groups are captured: all (empty lists), all except <see cref="Exclude"/>, or only <see cref="Include"/>.
/// Entries are numeric GIDs or group names (nft resolves names when the rules are loaded).
/// </summary>
public sealed record OwnerGroupFilter(IReadOnlyList<string> Include, IReadOnlyList<string> Exclude)
{
    public static readonly OwnerGroupFilter Everyone = new([], []);
}

/// <summary>
/// Everything the sidecar capture rules depend on: the parsed, validated equivalent of
/// istio-iptables' flags and environment. Defaults are Istio's.
/// </summary>
public sealed record CaptureConfig
{
    public ushort ProxyPort { get; init; } = 15001;
    public ushort InboundCapturePort { get; init; } = 15006;
    public ushort InboundTunnelPort { get; init; } = 15008;
    public IReadOnlyList<string> ProxyUids { get; init; } = ["1337"];
    public IReadOnlyList<string> ProxyGids { get; init; } = ["1337"];
    public InboundInterceptionMode Mode { get; init; } = InboundInterceptionMode.Redirect;
    public uint TproxyMark { get; init; } = 1337;
    public uint TproxyRouteTable { get; init; } = 133;
    public PortSelection InboundPorts { get; init; } = PortSelection.None;
    public IReadOnlyList<ushort> InboundPortsExclude { get; init; } = [];
    public IReadOnlyList<ushort> OutboundPortsInclude { get; init; } = [];
    public IReadOnlyList<ushort> OutboundPortsExclude { get; init; } = [];
    public IpRanges OutboundIpRangesInclude { get; init; } = IpRanges.None;
    public IpRanges OutboundIpRangesExclude { get; init; } = IpRanges.None;
    public IReadOnlyList<string> RerouteVirtualInterfaces { get; init; } = [];
    public IReadOnlyList<string> ExcludeInterfaces { get; init; } = [];
    public bool RedirectDns { get; init; }
    public bool CaptureAllDns { get; init; }
    public IReadOnlyList<IPAddress> DnsServersV4 { get; init; } = [];
    public IReadOnlyList<IPAddress> DnsServersV6 { get; init; } = [];
    public bool DropInvalid { get; init; }
    public bool EnableIpv6 { get; init; }
    public OwnerGroupFilter OwnerGroups { get; init; } = OwnerGroupFilter.Everyone;
    public string HostIpv4LoopbackCidr { get; init; } = "127.0.0.1/32";
}
