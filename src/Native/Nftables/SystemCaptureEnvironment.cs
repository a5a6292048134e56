using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace Sidecar.Native.Nftables;

/// <summary>The real process environment, /etc/resolv.conf and the network interfaces of the current namespace.</summary>
public sealed class SystemCaptureEnvironment : ICaptureEnvironment
{
    public string ResolvConfPath { get; init; } = "/etc/resolv.conf";

    public string? GetVariable(string name) => Environment.GetEnvironmentVariable(name);

    public IReadOnlyList<IPAddress> ResolvConfNameservers()
        => File.Exists(ResolvConfPath) ? ResolvConf.ParseNameservers(File.ReadAllText(ResolvConfPath)) : [];

    /// <summary>
    /// istio-iptables: the first global (not loopback, not link-local) address decides the family;
    /// with dual-stack on, any global IPv6 address turns IPv6 on. A namespace without any global
    /// address (Istio would stop there) gets IPv6 rules only when dual-stack is on.
    /// </summary>
    public bool WantsIpv6(bool dualStack)
    {
        bool sawAny = false;
        foreach (NetworkInterface nic in NetworkInterface.GetAllNetworkInterfaces())
        {
            foreach (UnicastIPAddressInformation u in nic.GetIPProperties().UnicastAddresses)
            {
                IPAddress a = u.Address.IsIPv4MappedToIPv6 ? u.Address.MapToIPv4() : u.Address;
                if (IPAddress.IsLoopback(a) || a.IsIPv6LinkLocal || IsV4LinkLocal(a))
                {
                    continue;
                }

                bool v6 = a.AddressFamily == AddressFamily.InterNetworkV6;
                if (!dualStack)
                {
                    return v6;
                }

                sawAny = true;
                if (v6)
                {
                    return true;
                }
            }
        }

        return !sawAny && dualStack;
    }

    private static bool IsV4LinkLocal(IPAddress a)
    {
        if (a.AddressFamily != AddressFamily.InterNetwork)
        {
            return false;
        }

        Span<byte> b = stackalloc byte[4];
        a.TryWriteBytes(b, out _);
        return b[0] == 169 && b[1] == 254;
    }
}
