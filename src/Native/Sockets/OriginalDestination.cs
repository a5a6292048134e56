using System.Net;
using System.Net.Sockets;

namespace Sidecar.Native.Sockets;

/// <summary>
/// Reads the pre-NAT destination of a connection captured by an nft/iptables REDIRECT or DNAT rule
/// (what Envoy's <c>original_dst</c> listener filter does). Works on accepted TCP sockets only.
/// </summary>
public static class OriginalDestination
{
    /// <summary>
    /// Gets the destination the client originally connected to. Returns false, without throwing,
    /// when the connection was not redirected: the kernel has no conntrack entry (ENOENT), conntrack
    /// is not active for the family (ENOPROTOOPT), or the entry's original destination equals the
    /// socket's own local endpoint. IPv4 connections accepted on a dual-mode IPv6 socket
    /// (<c>::ffff:a.b.c.d</c> local address) are queried with SOL_IP and reported as plain IPv4.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The socket was disposed.</exception>
    public static bool TryGet(Socket socket, out IPEndPoint? destination)
    {
        ArgumentNullException.ThrowIfNull(socket);
        destination = null;
        if (socket.LocalEndPoint is not IPEndPoint local)
        {
            return false;
        }

        IPEndPoint? original;
        if (local.AddressFamily == AddressFamily.InterNetwork || local.Address.IsIPv4MappedToIPv6)
        {
            // net/netfilter/nf_conntrack_proto.c getorigdst(): SOL_IP reads the IPv4 tuple, also
            // for v4-mapped connections on an AF_INET6 socket (inet_sk fields are populated).
            original = Query(socket, LinuxSocketOptions.SolIp, LinuxSocketOptions.SoOriginalDst, SockaddrDecoder.SockaddrInSize);
            local = new IPEndPoint(local.Address.MapToIPv4(), local.Port);
        }
        else if (local.AddressFamily == AddressFamily.InterNetworkV6)
        {
            // net/netfilter/nf_conntrack_proto.c ipv6_getorigdst(): SOL_IPV6 returns sockaddr_in6.
            original = Query(socket, LinuxSocketOptions.SolIpv6, LinuxSocketOptions.Ip6tSoOriginalDst, SockaddrDecoder.SockaddrIn6Size);
        }
        else
        {
            return false;
        }

        // With conntrack active every connection has an entry; an untouched one reports the
        // address it was accepted on, which means "not redirected" to callers.
        if (original is null || SameEndpoint(original, local))
        {
            return false;
        }

        destination = original;
        return true;
    }

    /// <summary>
    /// As <see cref="TryGet(Socket, out IPEndPoint?)"/>, and also recognises TPROXY capture: a transparent
    /// listener's accepted socket keeps the client's destination as its local address (no NAT, so
    /// SO_ORIGINAL_DST has nothing to report), hence a local endpoint other than the one the listener
    /// is bound to is the original destination. <paramref name="listening"/> may be a wildcard address,
    /// in which case only the port tells them apart.
    /// </summary>
    public static bool TryGet(Socket socket, IPEndPoint listening, out IPEndPoint? destination)
    {
        ArgumentNullException.ThrowIfNull(listening);
        if (TryGet(socket, out destination))
        {
            return true;
        }
        if (socket.LocalEndPoint is not IPEndPoint local)
        {
            return false;
        }
        IPAddress address = local.Address.IsIPv4MappedToIPv6 ? local.Address.MapToIPv4() : local.Address;
        bool wildcard = listening.Address.Equals(IPAddress.Any) || listening.Address.Equals(IPAddress.IPv6Any);
        IPAddress bound = listening.Address.IsIPv4MappedToIPv6 ? listening.Address.MapToIPv4() : listening.Address;
        if (local.Port == listening.Port && (wildcard || address.Equals(bound)))
        {
            return false;
        }
        destination = new IPEndPoint(address, local.Port);
        return true;
    }

    private static IPEndPoint? Query(Socket socket, int level, int name, int size)
    {
        Span<byte> buffer = stackalloc byte[SockaddrDecoder.SockaddrIn6Size];
        buffer = buffer[..size];
        int written;
        try
        {
            written = socket.GetRawSocketOption(level, name, buffer);
        }
        catch (SocketException)
        {
            // ENOENT (no NAT/conntrack entry) has no SocketError name; any getsockopt failure means
            // the kernel cannot tell us an original destination, which is "not redirected".
            return null;
        }

        return SockaddrDecoder.TryDecode(buffer[..written], out IPEndPoint? endpoint) ? endpoint : null;
    }

    private static bool SameEndpoint(IPEndPoint a, IPEndPoint b)
        => a.Port == b.Port && a.Address.Equals(b.Address);
}
