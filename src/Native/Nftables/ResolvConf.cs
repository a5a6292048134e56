using System.Net;

namespace Sidecar.Native.Nftables;

/// <summary>The <c>nameserver</c> lines of a resolv.conf (resolv.conf(5)); anything else is ignored.</summary>
public static class ResolvConf
{
    public static IReadOnlyList<IPAddress> ParseNameservers(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var servers = new List<IPAddress>();
        foreach (string raw in text.Split('\n'))
        {
            string line = raw.Trim();
            if (!line.StartsWith("nameserver", StringComparison.Ordinal))
            {
                continue;
            }

            string[] parts = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);

            // A scoped IPv6 resolver (fe80::1%eth0) cannot be written as an nft address: skipped.
            if (parts.Length >= 2 && parts[0] == "nameserver" && IPAddress.TryParse(parts[1], out IPAddress? a)
                && (a.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6 || a.ScopeId == 0))
            {
                servers.Add(a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a);
            }
        }

        return servers;
    }
}
