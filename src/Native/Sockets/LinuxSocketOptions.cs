namespace Sidecar.Native.Sockets;

/// <summary>
/// Linux socket-option numbers used with <see cref="System.Net.Sockets.Socket.GetRawSocketOption"/>
/// and <see cref="System.Net.Sockets.Socket.SetRawSocketOption"/>. The managed enums have no names
/// for these, so the raw kernel values are spelled out here, once, with their header of origin.
/// </summary>
public static class LinuxSocketOptions
{
    /// <summary>SOL_SOCKET, include/uapi/asm-generic/socket.h (x86-64 and arm64 use the generic value).</summary>
    public const int SolSocket = 1;

    /// <summary>SO_MARK, include/uapi/asm-generic/socket.h.</summary>
    public const int SoMark = 36;

    /// <summary>SOL_IP, include/linux/socket.h (equals IPPROTO_IP).</summary>
    public const int SolIp = 0;

    /// <summary>SOL_IPV6, include/linux/socket.h (equals IPPROTO_IPV6).</summary>
    public const int SolIpv6 = 41;

    /// <summary>SO_ORIGINAL_DST, include/uapi/linux/netfilter_ipv4.h.</summary>
    public const int SoOriginalDst = 80;

    /// <summary>IP6T_SO_ORIGINAL_DST, include/uapi/linux/netfilter_ipv6/ip6_tables.h (same number as v4).</summary>
    public const int Ip6tSoOriginalDst = 80;

    /// <summary>IP_FREEBIND, include/uapi/linux/in.h: bind to an address not (yet) on any interface.</summary>
    public const int IpFreebind = 15;

    /// <summary>IP_TRANSPARENT, include/uapi/linux/in.h: accept TPROXY'd connections and bind foreign addresses.</summary>
    public const int IpTransparent = 19;

    /// <summary>IPV6_TRANSPARENT, include/uapi/linux/in6.h.</summary>
    public const int Ipv6Transparent = 75;

    /// <summary>IPV6_FREEBIND, include/uapi/linux/in6.h.</summary>
    public const int Ipv6Freebind = 78;
}
