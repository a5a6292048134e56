using System.Buffers.Binary;
using System.Net;
using System.Runtime.InteropServices;

namespace Sidecar.Native.Sockets;

/// <summary>
/// Decodes the <c>struct sockaddr_in</c> / <c>struct sockaddr_in6</c> bytes the kernel writes for
/// SO_ORIGINAL_DST. Pure function over bytes so it can be unit-tested without a kernel.
/// </summary>
public static class SockaddrDecoder
{
    /// <summary>AF_INET, include/linux/socket.h.</summary>
    public const ushort AfInet = 2;

    /// <summary>AF_INET6, include/linux/socket.h.</summary>
    public const ushort AfInet6 = 10;

    /// <summary>sizeof(struct sockaddr_in), include/uapi/linux/in.h: family, port, addr, 8 bytes zero padding.</summary>
    public const int SockaddrInSize = 16;

    /// <summary>sizeof(struct sockaddr_in6), include/uapi/linux/in6.h: family, port, flowinfo, addr[16], scope_id.</summary>
    public const int SockaddrIn6Size = 28;

    /// <summary>
    /// Decodes an AF_INET or AF_INET6 socket address. <c>sin_family</c>/<c>sin6_family</c> and
    /// <c>sin6_scope_id</c> are in host byte order; ports are in network byte order (big endian).
    /// Returns false for a short buffer or any other family.
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<byte> sockaddr, out IPEndPoint? endpoint)
    {
        endpoint = null;
        if (sockaddr.Length < 2)
        {
            return false;
        }

        // Host byte order: MemoryMarshal.Read uses the machine's native endianness, like the kernel.
        ushort family = MemoryMarshal.Read<ushort>(sockaddr);
        if (family == AfInet && sockaddr.Length >= 8)
        {
            int port = BinaryPrimitives.ReadUInt16BigEndian(sockaddr[2..]);
            endpoint = new IPEndPoint(new IPAddress(sockaddr.Slice(4, 4)), port);
            return true;
        }

        if (family == AfInet6 && sockaddr.Length >= SockaddrIn6Size)
        {
            int port = BinaryPrimitives.ReadUInt16BigEndian(sockaddr[2..]);
            uint scopeId = MemoryMarshal.Read<uint>(sockaddr[24..]);
            endpoint = new IPEndPoint(new IPAddress(sockaddr.Slice(8, 16), scopeId), port);
            return true;
        }

        return false;
    }
}
