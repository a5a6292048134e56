using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Sidecar.Native.Sockets;

/// <summary>
/// Writes <c>struct sockaddr_in</c> / <c>sockaddr_in6</c> for bind/connect (the inverse of <see cref="SockaddrDecoder"/>):
/// family and scope id in host order, port in network order (include/uapi/linux/in.h, in6.h).
/// </summary>
public static class SockaddrEncoder
{
    /// <summary>Room for either family.</summary>
    public const int MaxSize = SockaddrDecoder.SockaddrIn6Size;

    /// <summary>Encodes <paramref name="endpoint"/> into <paramref name="destination"/>; returns the length used.</summary>
    public static int Encode(IPEndPoint endpoint, Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        destination[..MaxSize].Clear();
        if (endpoint.AddressFamily == AddressFamily.InterNetwork)
        {
            MemoryMarshal.Write(destination, SockaddrDecoder.AfInet);
            BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)endpoint.Port);
            endpoint.Address.TryWriteBytes(destination.Slice(4, 4), out _);
            return SockaddrDecoder.SockaddrInSize;
        }
        MemoryMarshal.Write(destination, SockaddrDecoder.AfInet6);
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)endpoint.Port);
        endpoint.Address.TryWriteBytes(destination.Slice(8, 16), out _);
        MemoryMarshal.Write(destination[24..], (uint)endpoint.Address.ScopeId);
        return SockaddrDecoder.SockaddrIn6Size;
    }
}
