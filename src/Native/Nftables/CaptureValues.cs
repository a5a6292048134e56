using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Sidecar.Native.Nftables;

/// <summary>
/// Parsers for flag values. Every token that ends up inside an nft script is checked against a
/// strict shape here, so a flag can never inject nft syntax.
/// </summary>
internal static class CaptureValues
{
    /// <summary>Comma list with empty items dropped (istio's config.Split), e.g. "6000,7000," → 2 items.</summary>
    public static List<string> Split(string? s)
    {
        var list = new List<string>();
        if (string.IsNullOrEmpty(s))
        {
            return list;
        }

        foreach (string part in s.Split(','))
        {
            string t = part.Trim();
            if (t.Length > 0)
            {
                list.Add(t);
            }
        }

        return list;
    }

    public static bool TryPort(string s, string what, out ushort port, out string? error)
    {
        error = null;
        if (ushort.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port != 0)
        {
            return true;
        }

        error = $"{what}: '{s}' is not a port (1-65535)";
        return false;
    }

    public static bool TryPorts(string? s, string what, out List<ushort> ports, out string? error)
    {
        ports = [];
        error = null;
        foreach (string item in Split(s))
        {
            if (!TryPort(item, what, out ushort p, out error))
            {
                return false;
            }

            ports.Add(p);
        }

        return true;
    }

    public static bool TryPortSelection(string? s, string what, out PortSelection selection, out string? error)
    {
        selection = PortSelection.None;
        if (s?.Trim() == "*")
        {
            selection = PortSelection.All;
            error = null;
            return true;
        }

        if (!TryPorts(s, what, out List<ushort> ports, out error))
        {
            return false;
        }

        selection = ports.Count == 0 ? PortSelection.None : new PortSelection(false, ports);
        return true;
    }

    /// <summary>CIDR list split by family; "*" is the wildcard. Bare addresses are rejected, as Istio does.</summary>
    public static bool TryIpRanges(string? s, string what, out IpRanges ranges, out string? error)
    {
        ranges = IpRanges.None;
        error = null;
        if (s?.Trim() == "*")
        {
            ranges = IpRanges.All;
            return true;
        }

        var v4 = new List<string>();
        var v6 = new List<string>();
        bool loopback = false;
        foreach (string item in Split(s))
        {
            if (!TryCidr(item, out IPAddress? addr, out int bits))
            {
                error = $"{what}: '{item}' is not a CIDR (address/prefix-length)";
                return false;
            }

            loopback |= IPAddress.IsLoopback(addr!);
            (addr!.AddressFamily == AddressFamily.InterNetwork ? v4 : v6).Add(addr + "/" + bits.ToString(CultureInfo.InvariantCulture));
        }

        ranges = v4.Count == 0 && v6.Count == 0 ? IpRanges.None : new IpRanges(false, v4, v6, loopback);
        return true;
    }

    public static bool TryCidr(string s, out IPAddress? address, out int bits)
    {
        address = null;
        bits = -1;
        int slash = s.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || !int.TryParse(s.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out bits))
        {
            return false;
        }

        ReadOnlySpan<char> host = s.AsSpan(0, slash);
        if (!IPAddress.TryParse(host, out IPAddress? a) || a.IsIPv4MappedToIPv6 || (a.AddressFamily == AddressFamily.InterNetworkV6 && a.ScopeId != 0))
        {
            return false;
        }

        // IPAddress.TryParse also takes "10" or "10.1" (inet_aton forms); a CIDR here is dotted-quad.
        if (a.AddressFamily == AddressFamily.InterNetwork && host.Count('.') != 3)
        {
            return false;
        }

        int max = a.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        if (bits > max)
        {
            return false;
        }

        address = a;
        return true;
    }

    /// <summary>Interface names: what the kernel allows (IFNAMSIZ-1 = 15 bytes) restricted to characters nft takes unquoted.</summary>
    public static bool TryInterfaces(string? s, string what, out List<string> names, out string? error)
    {
        names = Split(s);
        error = null;
        foreach (string n in names)
        {
            if (n.Length > 15 || !OnlyChars(n, static c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.'))
            {
                error = $"{what}: '{n}' is not an interface name";
                return false;
            }
        }

        return true;
    }

    /// <summary>UIDs/GIDs: numbers, or user/group names (POSIX portable names), which nft resolves at load time.</summary>
    public static bool TryOwners(string? s, string what, out List<string> owners, out string? error)
    {
        owners = Split(s);
        error = null;
        foreach (string o in owners)
        {
            bool numeric = uint.TryParse(o, NumberStyles.None, CultureInfo.InvariantCulture, out _);
            bool name = o.Length <= 32 && !char.IsAsciiDigit(o[0]) && o[0] != '-'
                && OnlyChars(o, static c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.');
            if (!numeric && !name)
            {
                error = $"{what}: '{o}' is not a numeric id or a user/group name";
                return false;
            }
        }

        return true;
    }

    public static bool TryUInt(string s, string what, out uint value, out string? error)
    {
        error = null;
        if (uint.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out value))
        {
            return true;
        }

        error = $"{what}: '{s}' is not a non-negative integer";
        return false;
    }

    /// <summary>Go duration subset used for --probe-timeout: "5s", "500ms", "1m", or plain seconds.</summary>
    public static bool TryDuration(string s, out TimeSpan value)
    {
        value = default;
        (string digits, double scale) = s.EndsWith("ms", StringComparison.Ordinal) ? (s[..^2], 0.001)
            : s.EndsWith('s') ? (s[..^1], 1.0)
            : s.EndsWith('m') ? (s[..^1], 60.0)
            : (s, 1.0);
        if (!double.TryParse(digits, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double n) || n <= 0 || n > 3600)
        {
            return false;
        }

        value = TimeSpan.FromSeconds(n * scale);
        return true;
    }

    public static bool TryBool(string s, out bool value)
    {
        value = false;
        switch (s.Trim().ToLowerInvariant())
        {
            case "1" or "t" or "true":
                value = true;
                return true;
            case "0" or "f" or "false" or "":
                return true;
            default:
                return false;
        }
    }

    private static bool OnlyChars(string s, Func<char, bool> ok)
    {
        foreach (char c in s)
        {
            if (!ok(c))
            {
                return false;
            }
        }

        return s.Length > 0;
    }
}
