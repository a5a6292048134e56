namespace Sidecar.Core.Routing;

/// <summary>Finds a trailing ":port" in a host, aware of bracketed IPv6 literals ("[::1]:80").</summary>
internal static class HostPort
{
    /// <summary>Index of the ':' that starts a numeric port, or -1 when there is none.</summary>
    public static int PortStart(ReadOnlySpan<byte> host)
    {
        int colon = host.LastIndexOf((byte)':');
        int close = host.LastIndexOf((byte)']');
        if (colon < 0 || colon < close || colon == host.Length - 1)
        {
            return -1;
        }

        // "[v6]:port" needs the colon right after the bracket; an unbracketed v6 literal has no port.
        bool bracketed = host[0] == (byte)'[';
        if (bracketed ? close != colon - 1 : host[..colon].IndexOf((byte)':') >= 0)
        {
            return -1;
        }

        foreach (byte b in host[(colon + 1)..])
        {
            if ((uint)(b - '0') > 9)
            {
                return -1;
            }
        }

        return colon;
    }

    public static int PortStart(string host) =>
        PortStart(System.Text.Encoding.Latin1.GetBytes(host));
}
