using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Sidecar.Native.Sockets;

/// <summary>
/// IP_TRANSPARENT / IP_FREEBIND (and their IPv6 twins) on a socket, before it is bound. A transparent
/// listener accepts connections that a TPROXY rule steered to it while they keep their original
/// destination as the local address; freebind lets a socket bind an address that is not (yet) local.
/// </summary>
public static class TransparentSocket
{
    /// <summary>
    /// Sets IP_TRANSPARENT, and IPV6_TRANSPARENT on an IPv6 socket (a dual-mode socket needs both: the
    /// IPv4 one governs v4-mapped traffic). Needs CAP_NET_ADMIN or CAP_NET_RAW (net/ipv4/ip_sockglue.c
    /// do_ip_setsockopt(), IP_TRANSPARENT).
    /// </summary>
    /// <exception cref="SocketException">EPERM without the capability.</exception>
    public static void SetTransparent(Socket socket) =>
        SetFlag(socket, LinuxSocketOptions.IpTransparent, LinuxSocketOptions.Ipv6Transparent);

    /// <summary>Sets IP_FREEBIND (and IPV6_FREEBIND on an IPv6 socket). Needs no capability.</summary>
    public static void SetFreebind(Socket socket) =>
        SetFlag(socket, LinuxSocketOptions.IpFreebind, LinuxSocketOptions.Ipv6Freebind);

    /// <summary>Reads IP_TRANSPARENT back (for tests and diagnostics).</summary>
    public static bool IsTransparent(Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        Span<byte> value = stackalloc byte[sizeof(int)];
        int level = socket.AddressFamily == AddressFamily.InterNetworkV6 ? LinuxSocketOptions.SolIpv6 : LinuxSocketOptions.SolIp;
        int name = socket.AddressFamily == AddressFamily.InterNetworkV6 ? LinuxSocketOptions.Ipv6Transparent : LinuxSocketOptions.IpTransparent;
        int written = socket.GetRawSocketOption(level, name, value);
        return written >= sizeof(int) && MemoryMarshal.Read<int>(value) != 0;
    }

    private static void SetFlag(Socket socket, int ipv4Name, int ipv6Name)
    {
        ArgumentNullException.ThrowIfNull(socket);
        Span<byte> one = stackalloc byte[sizeof(int)];
        MemoryMarshal.Write(one, 1);
        if (socket.AddressFamily == AddressFamily.InterNetworkV6)
        {
            socket.SetRawSocketOption(LinuxSocketOptions.SolIpv6, ipv6Name, one);
            if (!socket.DualMode)
            {
                return;
            }
        }
        socket.SetRawSocketOption(LinuxSocketOptions.SolIp, ipv4Name, one);
    }
}
