using System.Globalization;

namespace Sidecar.Native.Nftables;

/// <summary>
/// Pure generator: a <see cref="CaptureConfig"/> to the nftables tables Istio's istio-nftables
/// installs for a sidecar (inet istio-proxy-{nat,mangle,raw}). Rule order matters (first match
/// wins) and follows Istio's so the result is equal to its goldens.
/// </summary>
public sealed class SidecarCaptureRules
{
    private readonly CaptureConfig _cfg;
    private readonly NftTable _nat = SidecarCaptureTables.NewNat();
    private readonly NftTable _mangle = SidecarCaptureTables.NewMangle();
    private readonly NftTable _raw = SidecarCaptureTables.NewRaw();

    private SidecarCaptureRules(CaptureConfig cfg) => _cfg = cfg;

    private bool Tproxy => _cfg.Mode == InboundInterceptionMode.Tproxy;

    private string Loopback4 => _cfg.HostIpv4LoopbackCidr;

    /// <summary>The tables in apply order (nat, mangle, raw); tables without rules render as nothing.</summary>
    public static IReadOnlyList<NftTable> Generate(CaptureConfig cfg)
    {
        ArgumentNullException.ThrowIfNull(cfg);
        var g = new SidecarCaptureRules(cfg);
        g.Build();
        return [g._nat, g._mangle, g._raw];
    }

    /// <summary>The ruleset as an <c>nft -f</c> script (what <c>--dry-run</c> prints).</summary>
    public static string Render(CaptureConfig cfg) => NftScript.Render(Generate(cfg));

    private static string Num(long n) => n.ToString(CultureInfo.InvariantCulture);

    private void Build()
    {
        // DNS capture needs somewhere to send it: without servers and without capture-all it is off (as Istio warns).
        bool redirectDns = _cfg.RedirectDns
            && (_cfg.CaptureAllDns || _cfg.DnsServersV4.Count > 0 || _cfg.DnsServersV6.Count > 0);

        ExcludeInterfaces();
        foreach (string nic in _cfg.RerouteVirtualInterfaces)
        {
            _nat.Insert(IstioNft.Prerouting, 0, $"iifname {nic}", "return");
        }

        if (_cfg.DropInvalid)
        {
            // Out-of-window packets are dropped instead of being answered with a reset.
            _mangle.Append(IstioNft.Prerouting, "meta l4proto tcp ct state invalid", $"jump {IstioNft.Drop}");
            _mangle.Append(IstioNft.Drop, "", "drop");
        }

        // HBONE tunnel port: never captured inbound.
        _nat.Append(IstioNft.Inbound, $"meta l4proto tcp tcp dport {Num(_cfg.InboundTunnelPort)}", "return");
        _nat.Append(IstioNft.Redirect, "meta l4proto tcp", $"redirect to :{Num(_cfg.ProxyPort)}");
        _nat.Append(IstioNft.InRedirect, "meta l4proto tcp", $"redirect to :{Num(_cfg.InboundCapturePort)}");

        InboundPorts();

        _nat.Append(IstioNft.Output, "", $"jump {IstioNft.OutputChain}");
        foreach (ushort port in _cfg.OutboundPortsExclude)
        {
            _nat.Append(IstioNft.OutputChain, $"tcp dport {Num(port)}", "return");
            _nat.Append(IstioNft.OutputChain, $"udp dport {Num(port)}", "return");
        }

        // Upstream connections of the inbound passthrough cluster are bound to 127.0.0.6 / ::6.
        _nat.Append(IstioNft.OutputChain, $"oifname lo ip saddr {IstioNft.InboundPassthroughSourceV4}", "return");
        if (_cfg.EnableIpv6)
        {
            _nat.Append(IstioNft.OutputChain, $"oifname lo ip6 saddr {IstioNft.InboundPassthroughSourceV6}", "return");
        }

        bool loopbackIncluded = _cfg.OutboundIpRangesInclude.HasLoopback;
        foreach (string uid in _cfg.ProxyUids)
        {
            ProxyOwnerRules("skuid", uid, redirectDns, redirectDns, loopbackIncluded);
        }

        foreach (string gid in _cfg.ProxyGids)
        {
            // Istio keeps DNS (port 53) out of the GID self-redirect rule only for the UID: reproduced as is.
            ProxyOwnerRules("skgid", gid, redirectDns, excludeDnsFromSelfRedirect: false, loopbackIncluded);
        }

        OwnerGroups();
        if (redirectDns)
        {
            new DnsCaptureRules(_cfg, _nat, _raw).Build();
        }

        // Envoy-aware apps and container-to-container traffic on localhost are never captured.
        _nat.Append(IstioNft.OutputChain, $"ip daddr {Loopback4}", "return");
        if (_cfg.EnableIpv6)
        {
            _nat.Append(IstioNft.OutputChain, $"ip6 daddr {IstioNft.Ipv6Loopback}", "return");
        }

        foreach (string cidr in _cfg.OutboundIpRangesExclude.V4)
        {
            _nat.Append(IstioNft.OutputChain, $"ip daddr {cidr}", "return");
        }

        if (_cfg.EnableIpv6)
        {
            foreach (string cidr in _cfg.OutboundIpRangesExclude.V6)
            {
                _nat.Append(IstioNft.OutputChain, $"ip6 daddr {cidr}", "return");
            }
        }

        foreach (ushort port in _cfg.OutboundPortsInclude)
        {
            _nat.Append(IstioNft.OutputChain, $"tcp dport {Num(port)}", $"jump {IstioNft.Redirect}");
        }

        OutboundRanges();
        if (Tproxy)
        {
            TproxyMarks();
        }
    }

    private void ExcludeInterfaces()
    {
        foreach (string nic in _cfg.ExcludeInterfaces)
        {
            _nat.Append(IstioNft.Prerouting, $"iifname {nic}", "return");
            _nat.Append(IstioNft.Output, $"oifname {nic}", "return");
        }

        if (Tproxy)
        {
            foreach (string nic in _cfg.ExcludeInterfaces)
            {
                _mangle.Append(IstioNft.Prerouting, $"iifname {nic}", "return");
                _mangle.Append(IstioNft.Output, $"oifname {nic}", "return");
            }
        }
    }

    private void InboundPorts()
    {
        if (_cfg.InboundPorts.IsEmpty)
        {
            return;
        }

        string mark = Num(_cfg.TproxyMark);
        NftTable table = _nat;
        if (Tproxy)
        {
            // Packets of established inbound connections are marked and accepted (policy-routed to lo);
            // new ones go through TPROXY to the inbound capture port.
            _mangle.Append(IstioNft.Divert, "", $"meta mark set {mark}");
            _mangle.Append(IstioNft.Divert, "", "accept");
            string port = Num(_cfg.InboundCapturePort);
            _mangle.Append(IstioNft.Tproxy, $"meta l4proto tcp ip daddr != {Loopback4} tproxy ip to :{port} meta mark set {mark}", "accept");
            if (_cfg.EnableIpv6)
            {
                _mangle.Append(IstioNft.Tproxy, $"meta l4proto tcp ip6 daddr != {IstioNft.Ipv6Loopback} tproxy ip6 to :{port} meta mark set {mark}", "accept");
            }

            table = _mangle;
        }

        table.Append(IstioNft.Prerouting, "meta l4proto tcp", $"jump {IstioNft.Inbound}");
        if (_cfg.InboundPorts.IsWildcard)
        {
            foreach (ushort port in _cfg.InboundPortsExclude)
            {
                table.Append(IstioNft.Inbound, $"meta l4proto tcp tcp dport {Num(port)}", "return");
            }

            CaptureInbound(table, "");
            return;
        }

        foreach (ushort port in _cfg.InboundPorts.Ports)
        {
            CaptureInbound(table, $" tcp dport {Num(port)}");
        }
    }

    private void CaptureInbound(NftTable table, string portMatch)
    {
        if (Tproxy)
        {
            table.Append(IstioNft.Inbound, $"meta l4proto tcp ct state related,established{portMatch}", $"jump {IstioNft.Divert}");
            table.Append(IstioNft.Inbound, $"meta l4proto tcp{portMatch}", $"jump {IstioNft.Tproxy}");
        }
        else
        {
            table.Append(IstioNft.Inbound, $"meta l4proto tcp{portMatch}", $"jump {IstioNft.InRedirect}");
        }
    }

    /// <summary>
    /// The proxy's own traffic (by UID or GID): to the pod's own IP over lo it is inbound (captured on
    /// the inbound port); any other traffic from the proxy is never captured (no loop).
    /// </summary>
    private void ProxyOwnerRules(string key, string owner, bool redirectDns, bool excludeDnsFromSelfRedirect, bool loopbackIncluded)
    {
        string tunnel = Num(_cfg.InboundTunnelPort);
        string notPorts = excludeDnsFromSelfRedirect ? $"{{ 53, {tunnel} }}" : tunnel;
        string inRedirect = $"jump {IstioNft.InRedirect}";
        _nat.Append(IstioNft.OutputChain, $"oifname lo meta l4proto tcp ip daddr != {Loopback4} tcp dport != {notPorts} {key} {owner}", inRedirect);
        if (_cfg.EnableIpv6)
        {
            _nat.Append(IstioNft.OutputChain, $"oifname lo meta l4proto tcp ip6 daddr != {IstioNft.Ipv6Loopback} tcp dport != {notPorts} {key} {owner}", inRedirect);
        }

        // App to itself over lo is not captured unless loopback was asked for explicitly (-i 127.x/…).
        if (!loopbackIncluded)
        {
            // With DNS capture a local resolver's TCP port 53 must still reach the agent.
            string match = redirectDns
                ? $"oifname lo meta l4proto tcp tcp dport != 53 {key} != {owner}"
                : $"oifname lo {key} != {owner}";
            _nat.Append(IstioNft.OutputChain, match, "return");
        }

        _nat.Append(IstioNft.OutputChain, $"{key} {owner}", "return");
    }

    private void OwnerGroups()
    {
        OwnerGroupFilter f = _cfg.OwnerGroups;
        if (f.Exclude.Count > 0)
        {
            foreach (string g in f.Exclude)
            {
                _nat.Append(IstioNft.OutputChain, $"skgid {g}", "return");
            }
        }
        else if (f.Include.Count > 0)
        {
            _nat.Append(IstioNft.OutputChain, string.Join(' ', f.Include.Select(g => $"skgid != {g}")), "return");
        }
    }

    private void OutboundRanges()
    {
        IpRanges include = _cfg.OutboundIpRangesInclude;
        string toRedirect = $"jump {IstioNft.Redirect}";
        if (include.IsWildcard)
        {
            _nat.Append(IstioNft.OutputChain, "", toRedirect);
            foreach (string nic in _cfg.RerouteVirtualInterfaces)
            {
                _nat.Insert(IstioNft.Prerouting, 0, $"iifname {nic}", toRedirect);
            }

            return;
        }

        foreach (string cidr in include.V4)
        {
            foreach (string nic in _cfg.RerouteVirtualInterfaces)
            {
                _nat.Insert(IstioNft.Prerouting, 0, $"iifname {nic} ip daddr {cidr}", toRedirect);
            }

            _nat.Append(IstioNft.OutputChain, $"ip daddr {cidr}", toRedirect);
        }

        if (!_cfg.EnableIpv6)
        {
            return;
        }

        foreach (string cidr in include.V6)
        {
            foreach (string nic in _cfg.RerouteVirtualInterfaces)
            {
                _nat.Insert(IstioNft.Prerouting, 0, $"iifname {nic} ip6 daddr {cidr}", toRedirect);
            }

            _nat.Append(IstioNft.OutputChain, $"ip6 daddr {cidr}", toRedirect);
        }
    }

    private void TproxyMarks()
    {
        string mark = Num(_cfg.TproxyMark);
        string outbound = Num(IstioNft.OutboundMark);

        // The mark a TPROXYed connection got is saved on the connection so replies follow the policy route.
        _mangle.Append(IstioNft.Prerouting, $"meta l4proto tcp mark {mark}", "ct mark set mark");
        _mangle.Append(IstioNft.Output, $"oifname lo meta l4proto tcp mark {mark}", "return");
        foreach (string uid in _cfg.ProxyUids)
        {
            MarkProxyToPod("skuid", uid, outbound);
        }

        foreach (string gid in _cfg.ProxyGids)
        {
            MarkProxyToPod("skgid", gid, outbound);
        }

        _mangle.Append(IstioNft.Output, $"meta l4proto tcp ct mark {mark}", "meta mark set ct mark");
        _mangle.Insert(IstioNft.Inbound, 0, $"meta l4proto tcp mark {mark}", "return");
        _mangle.Insert(IstioNft.Inbound, 1, $"iifname lo meta l4proto tcp ip saddr {IstioNft.InboundPassthroughSourceV4}", "return");
        if (_cfg.EnableIpv6)
        {
            _mangle.Insert(IstioNft.Inbound, 1, $"iifname lo meta l4proto tcp ip6 saddr {IstioNft.InboundPassthroughSourceV6}", "return");
        }

        _mangle.Insert(IstioNft.Inbound, 2, $"iifname lo meta l4proto tcp mark != {outbound}", "return");
    }

    // Proxy outbound to the pod's own IP (app → VIP → proxy → proxy inbound → app) carries mark 1338.
    private void MarkProxyToPod(string key, string owner, string outbound)
    {
        _mangle.Append(IstioNft.Output, $"oifname lo meta l4proto tcp ip daddr != {Loopback4} {key} {owner}", $"meta mark set {outbound}");
        if (_cfg.EnableIpv6)
        {
            _mangle.Append(IstioNft.Output, $"oifname lo meta l4proto tcp ip6 daddr != {IstioNft.Ipv6Loopback} {key} {owner}", $"meta mark set {outbound}");
        }
    }
}
