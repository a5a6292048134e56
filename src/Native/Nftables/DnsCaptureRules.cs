using System.Net;

namespace Sidecar.Native.Nftables;

/// <summary>
/// DNS capture (<c>--redirect-dns</c>): port 53 to the agent's DNS proxy on 15053, and conntrack
/// zones that keep the app↔agent and agent↔resolver halves of a UDP exchange apart (otherwise the
/// two flows share a 5-tuple after NAT and replies are misdelivered).
/// </summary>
internal sealed class DnsCaptureRules(CaptureConfig cfg, NftTable nat, NftTable raw)
{
    private static readonly string ToAgent = $"redirect to :{IstioNft.AgentDnsPort}";

    public void Build()
    {
        raw.Append(IstioNft.Output, "", $"jump {IstioNft.OutputDns}");
        nat.Append(IstioNft.OutputChain, "", $"jump {IstioNft.OutputDns}");
        if (cfg.CaptureAllDns)
        {
            nat.Append(IstioNft.OutputDns, "meta l4proto tcp tcp dport 53", ToAgent);
            nat.Append(IstioNft.OutputDns, "udp dport 53", ToAgent);
        }
        else
        {
            // Only the resolvers of resolv.conf: a local DNS forwarder's own upstream queries must not loop back to the agent.
            PerServer("tcp dport 53");
            PerServer("udp dport 53");
        }

        ConntrackZones();
    }

    private void PerServer(string portMatch)
    {
        foreach (IPAddress s in cfg.DnsServersV4)
        {
            nat.Append(IstioNft.OutputDns, $"ip daddr {s}/32 {portMatch}", ToAgent);
        }

        if (!cfg.EnableIpv6)
        {
            return;
        }

        foreach (IPAddress s in cfg.DnsServersV6)
        {
            nat.Append(IstioNft.OutputDns, $"ip6 daddr {s}/128 {portMatch}", ToAgent);
        }
    }

    private void ConntrackZones()
    {
        foreach (string uid in cfg.ProxyUids)
        {
            ProxyZones("skuid", uid);
        }

        foreach (string gid in cfg.ProxyGids)
        {
            ProxyZones("skgid", gid);
        }

        if (cfg.CaptureAllDns)
        {
            raw.Append(IstioNft.Prerouting, "", $"jump {IstioNft.Inbound}");
            raw.Append(IstioNft.OutputDns, "udp dport 53", "ct zone set 2");
            raw.Append(IstioNft.Inbound, "udp sport 53", "ct zone set 1");
            return;
        }

        if (cfg.DnsServersV4.Count > 0 || cfg.DnsServersV6.Count > 0)
        {
            raw.Append(IstioNft.Prerouting, "", $"jump {IstioNft.Inbound}");
        }

        foreach (IPAddress s in cfg.DnsServersV4)
        {
            raw.Append(IstioNft.OutputDns, $"udp dport 53 ip daddr {s}/32", "ct zone set 2");
            raw.Append(IstioNft.Inbound, $"udp sport 53 ip saddr {s}/32", "ct zone set 1");
        }

        if (!cfg.EnableIpv6)
        {
            return;
        }

        foreach (IPAddress s in cfg.DnsServersV6)
        {
            raw.Append(IstioNft.OutputDns, $"udp dport 53 ip6 daddr {s}/128", "ct zone set 2");
            raw.Append(IstioNft.Inbound, $"udp sport 53 ip6 saddr {s}/128", "ct zone set 1");
        }
    }

    // Zone 1: the agent's queries to upstream resolvers; zone 2: the agent's answers to apps.
    private void ProxyZones(string key, string owner)
    {
        raw.Append(IstioNft.OutputDns, $"udp dport 53 meta {key} {owner}", "ct zone set 1");
        raw.Append(IstioNft.OutputDns, $"udp sport {IstioNft.AgentDnsPort} meta {key} {owner}", "ct zone set 2");
    }
}
