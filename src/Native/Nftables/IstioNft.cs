namespace Sidecar.Native.Nftables;

/// <summary>
/// Names and numbers of Istio's native-nftables sidecar capture (istio-nftables, Istio 1.27+). Facts,
/// not policy: the CNI, `istioctl` and operators look for exactly these tables and chains.
/// </summary>
public static class IstioNft
{
    public const string Family = "inet";

    public const string NatTable = "istio-proxy-nat";
    public const string MangleTable = "istio-proxy-mangle";
    public const string RawTable = "istio-proxy-raw";

    /// <summary>Every table the sidecar capture may create; cleanup removes exactly these.</summary>
    public static readonly IReadOnlyList<string> SidecarTables = [NatTable, MangleTable, RawTable];

    public const string Prerouting = "prerouting";
    public const string Output = "output";
    public const string Inbound = "istio-inbound";
    public const string Redirect = "istio-redirect";
    public const string InRedirect = "istio-in-redirect";
    public const string OutputChain = "istio-output";
    public const string OutputDns = "istio-output-dns";
    public const string Divert = "istio-divert";
    public const string Tproxy = "istio-tproxy";
    public const string Drop = "istio-drop";

    /// <summary>TPROXY mode: the mark on packets the proxy sends to the app over the pod IP, so they are not re-captured.</summary>
    public const uint OutboundMark = 1338;

    /// <summary>The agent's DNS proxy port that port-53 traffic is redirected to.</summary>
    public const ushort AgentDnsPort = 15053;

    public const string Ipv6Loopback = "::1/128";
    public const string InboundPassthroughSourceV4 = "127.0.0.6/32";
    public const string InboundPassthroughSourceV6 = "::6/128";
}
