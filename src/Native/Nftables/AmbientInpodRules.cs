using System.Globalization;
using System.Net;

namespace Sidecar.Native.Nftables;

/// <summary>
/// Settings of ambient in-pod redirection (istio-cni's rules inside each pod's namespace, which
/// send the pod's traffic to ztunnel's in-pod listeners). Defaults are Istio's
/// (cni/pkg/config: InpodMark 0x539, InpodMask 0xfff, InpodTProxyMark 0x111, probe SNAT addresses).
/// </summary>
public sealed record AmbientInpodConfig
{
    public bool EnableIpv6 { get; init; }
    public bool RedirectDns { get; init; }

    /// <summary>Source the node uses for kubelet probes (host-side SNAT): those connections are not captured.</summary>
    public IPAddress ProbeSnatV4 { get; init; } = IPAddress.Parse("169.254.7.127");
    public IPAddress ProbeSnatV6 { get; init; } = IPAddress.Parse("fd16:9254:7127:1337:ffff:ffff:ffff:ffff");

    /// <summary>Mark on every socket ztunnel opens for the pod (SO_MARK): such traffic is never captured again.</summary>
    public uint Mark { get; init; } = 0x539;
    public uint Mask { get; init; } = 0xfff;

    /// <summary>Connection mark of inbound connections ztunnel accepted, restored on replies.</summary>
    public uint ConnMark { get; init; } = 0x111;

    public ushort OutboundPort { get; init; } = 15001;
    public ushort InboundPlaintextPort { get; init; } = 15006;
    public ushort InboundTunnelPort { get; init; } = 15008;
    public ushort DnsPort { get; init; } = 15053;
}

/// <summary>
/// Pure generator of the ambient in-pod tables <c>inet istio-ambient-{nat,mangle,raw}</c> (Istio 1.28
/// native nftables, cni/pkg/nftables). For the default pod: no ingress mode, no virtual interfaces.
/// </summary>
public sealed class AmbientInpodRules
{
    public const string NatTable = "istio-ambient-nat";
    public const string MangleTable = "istio-ambient-mangle";
    public const string RawTable = "istio-ambient-raw";
    public const string PreroutingChain = "istio-prerouting";
    public const string OutputChain = "istio-output";

    /// <summary>Every table this generator may create; removal deletes exactly these.</summary>
    public static readonly IReadOnlyList<string> Tables = [NatTable, MangleTable, RawTable];

    private readonly AmbientInpodConfig _cfg;
    private readonly NftTable _nat = NewTable(NatTable, "nat", -100, "nat");
    private readonly NftTable _mangle = NewTable(MangleTable, "filter", -150, "route");
    private readonly NftTable _raw = NewTable(RawTable, "filter", -300, "filter");

    private AmbientInpodRules(AmbientInpodConfig cfg) => _cfg = cfg;

    public static IReadOnlyList<NftTable> Generate(AmbientInpodConfig cfg)
    {
        ArgumentNullException.ThrowIfNull(cfg);
        var g = new AmbientInpodRules(cfg);
        g.Build();
        return [g._nat, g._mangle, g._raw];
    }

    public static string Render(AmbientInpodConfig cfg) => NftScript.Render(Generate(cfg));

    /// <summary>One transaction that replaces whatever ambient tables the pod had with the current ones.</summary>
    public static string RenderReplacing(AmbientInpodConfig cfg) => NftScript.DeleteTables(Tables) + Render(cfg);

    private static NftTable NewTable(string name, string preroutingType, int priority, string outputType) => new(name,
    [
        NftChainSpec.Base(IstioNft.Prerouting, preroutingType, "prerouting", priority),
        NftChainSpec.Base(IstioNft.Output, outputType, "output", priority),
        NftChainSpec.Regular(PreroutingChain),
        NftChainSpec.Regular(OutputChain),
    ]);

    private static string Hex(uint v) => "0x" + v.ToString("x", CultureInfo.InvariantCulture);

    private static string Port(ushort p) => p.ToString(CultureInfo.InvariantCulture);

    private void Build()
    {
        bool v6 = _cfg.EnableIpv6;
        string notOurs = $"mark and {Hex(_cfg.Mask)} != {Hex(_cfg.Mark)}";

        _nat.AppendUncounted(IstioNft.Output, "", $"jump {OutputChain}");
        _nat.AppendUncounted(IstioNft.Prerouting, "", $"jump {PreroutingChain}");

        // Kubelet probes arrive SNATed to the probe address and must reach the app directly.
        _nat.Append(PreroutingChain, $"meta l4proto tcp ip saddr {_cfg.ProbeSnatV4}", "accept");
        if (v6)
        {
            _nat.Append(PreroutingChain, $"meta l4proto tcp ip6 saddr {_cfg.ProbeSnatV6}", "accept");
        }

        _nat.Append(OutputChain, $"meta l4proto tcp ip daddr {_cfg.ProbeSnatV4}", "accept");
        if (v6)
        {
            _nat.Append(OutputChain, $"meta l4proto tcp ip6 daddr {_cfg.ProbeSnatV6}", "accept");
        }

        // Inbound plaintext to ztunnel's 15006; HBONE (15008) goes straight to ztunnel's listener.
        string inbound = $"redirect to :{Port(_cfg.InboundPlaintextPort)}";
        _nat.Append(PreroutingChain, $"ip daddr != 127.0.0.1/32 tcp dport != {Port(_cfg.InboundTunnelPort)} {notOurs}", inbound);
        if (v6)
        {
            _nat.Append(PreroutingChain, $"ip6 daddr != {IstioNft.Ipv6Loopback} tcp dport != {Port(_cfg.InboundTunnelPort)} {notOurs}", inbound);
        }

        if (_cfg.RedirectDns)
        {
            string toDns = $"redirect to :{Port(_cfg.DnsPort)}";
            _nat.Append(OutputChain, $"oifname != lo {notOurs} udp dport 53", toDns);
            _nat.Append(OutputChain, $"ip daddr != 127.0.0.1/32 tcp dport 53 {notOurs}", toDns);
            if (v6)
            {
                _nat.Append(OutputChain, $"ip6 daddr != {IstioNft.Ipv6Loopback} tcp dport 53 {notOurs}", toDns);
            }
        }

        // Replies of connections ztunnel accepted inbound keep their path (not re-captured outbound).
        _nat.Append(OutputChain, $"meta l4proto tcp mark and {Hex(_cfg.Mask)} == {Hex(_cfg.ConnMark)}", "accept");
        _nat.Append(OutputChain, "oifname lo ip daddr != 127.0.0.1/32", "accept");
        if (v6)
        {
            _nat.Append(OutputChain, $"oifname lo ip6 daddr != {IstioNft.Ipv6Loopback}", "accept");
        }

        string outbound = $"redirect to :{Port(_cfg.OutboundPort)}";
        _nat.Append(OutputChain, $"meta l4proto tcp ip daddr != 127.0.0.1/32 {notOurs}", outbound);
        if (v6)
        {
            _nat.Append(OutputChain, $"meta l4proto tcp ip6 daddr != {IstioNft.Ipv6Loopback} {notOurs}", outbound);
        }

        Mangle();
        if (_cfg.RedirectDns)
        {
            Raw();
        }
    }

    private void Mangle()
    {
        _mangle.AppendUncounted(IstioNft.Prerouting, "", $"jump {PreroutingChain}");
        _mangle.AppendUncounted(IstioNft.Output, "", $"jump {OutputChain}");

        // Packets ztunnel sends (mark 0x539) tag their connection 0x111, keeping the upper mark bits.
        uint keep = ~_cfg.Mask;
        _mangle.Append(PreroutingChain, $"meta mark & {Hex(_cfg.Mask)} == {Hex(_cfg.Mark)}", $"ct mark set ct mark & {Hex(keep)} | {Hex(_cfg.ConnMark)}");
        _mangle.Append(OutputChain, $"ct mark and {Hex(_cfg.Mask)} == {Hex(_cfg.ConnMark)}", "meta mark set ct mark");
    }

    // DNS conntrack zone 1 for ztunnel's upstream queries and their answers (apart from the app's own exchange).
    private void Raw()
    {
        _raw.AppendUncounted(IstioNft.Prerouting, "", $"jump {PreroutingChain}");
        _raw.AppendUncounted(IstioNft.Output, "", $"jump {OutputChain}");
        _raw.Append(OutputChain, $"udp dport 53 meta mark and {Hex(_cfg.Mask)} == {Hex(_cfg.Mark)}", "ct zone set 1");
        _raw.Append(PreroutingChain, $"udp sport 53 meta mark and {Hex(_cfg.Mask)} != {Hex(_cfg.Mark)}", "ct zone set 1");
    }
}
