using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Sidecar.Native.Sockets;

/// <summary>
/// SO_MARK (fwmark) on a socket. The proxy marks its upstream sockets so the capture rule
/// (<c>meta mark 0x539 return</c>) lets them through instead of redirecting them back to itself.
/// </summary>
public static class SocketMark
{
    /// <summary>Default mark of the proxy's own upstream sockets (1337, as istio-proxy uses).</summary>
    public const uint ProxyBypass = 0x539;

    /// <summary>
    /// Sets SO_MARK. Call before <c>Connect</c> so the SYN already carries the mark.
    /// Needs CAP_NET_ADMIN (or CAP_NET_RAW on kernel 5.17+), see net/core/sock.c sk_setsockopt().
    /// </summary>
    /// <exception cref="SocketException">EPERM without the capability.</exception>
    public static void Set(Socket socket, uint mark)
    {
        ArgumentNullException.ThrowIfNull(socket);
        Span<byte> value = stackalloc byte[sizeof(uint)];

        // The kernel reads an int in host byte order: native-endian write.
        MemoryMarshal.Write(value, in mark);
        socket.SetRawSocketOption(LinuxSocketOptions.SolSocket, LinuxSocketOptions.SoMark, value);
    }

    /// <summary>Reads SO_MARK (0 when never set). Reading needs no capability.</summary>
    public static uint Get(Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        Span<byte> value = stackalloc byte[sizeof(uint)];
        int written = socket.GetRawSocketOption(LinuxSocketOptions.SolSocket, LinuxSocketOptions.SoMark, value);
        if (written < sizeof(uint))
        {
            return 0;
        }

        return MemoryMarshal.Read<uint>(value);
    }
}
