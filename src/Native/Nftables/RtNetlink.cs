using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Sidecar.Native.Nftables;

/// <summary>
/// A NETLINK_ROUTE socket for the few policy-routing requests TPROXY mode needs (rtnetlink(7)).
/// Each request asks for an ACK and returns the errno the kernel answered (0 = done).
/// The socket belongs to the network namespace of the thread that opened it.
/// </summary>
internal sealed partial class RtNetlink : IDisposable
{
    private const int AfNetlink = 16;
    private const int SockRaw = 3;
    private const int SockCloexec = 0x80000;
    private const int NetlinkRoute = 0;
    private const ushort NlmsgError = 2;

    private readonly int _fd;
    private uint _seq;

    private RtNetlink(int fd) => _fd = fd;

    /// <summary>Opens the socket; null and the errno when that fails.</summary>
    public static RtNetlink? TryOpen(out int errno)
    {
        int fd = socket(AfNetlink, SockRaw | SockCloexec, NetlinkRoute);
        errno = fd < 0 ? Marshal.GetLastPInvokeError() : 0;
        return fd < 0 ? null : new RtNetlink(fd);
    }

    /// <summary>Sends one request (header fields filled in here) and returns the kernel's errno, 0 on success.</summary>
    public unsafe int Request(ushort type, ushort flags, ReadOnlySpan<byte> payload)
    {
        const ushort Request = 0x1, Ack = 0x4;
        int length = 16 + payload.Length;
        byte[] message = new byte[length];
        Span<byte> m = message;
        uint seq = ++_seq;
        BinaryPrimitives.WriteUInt32LittleEndian(m, (uint)length);
        BinaryPrimitives.WriteUInt16LittleEndian(m[4..], type);
        BinaryPrimitives.WriteUInt16LittleEndian(m[6..], (ushort)(flags | Request | Ack));
        BinaryPrimitives.WriteUInt32LittleEndian(m[8..], seq);
        payload.CopyTo(m[16..]);
        fixed (byte* p = message)
        {
            if (send(_fd, p, length, 0) != length)
            {
                return Marshal.GetLastPInvokeError();
            }
        }

        byte[] reply = new byte[8192];
        while (true)
        {
            nint n;
            fixed (byte* p = reply)
            {
                n = recv(_fd, p, reply.Length, 0);
            }

            if (n < 0)
            {
                return Marshal.GetLastPInvokeError();
            }

            // Walk the messages of this datagram; the ACK for our sequence number is an NLMSG_ERROR.
            int offset = 0;
            while (offset + 20 <= n)
            {
                ReadOnlySpan<byte> r = reply.AsSpan(offset, (int)n - offset);
                uint len = BinaryPrimitives.ReadUInt32LittleEndian(r);
                ushort rtype = BinaryPrimitives.ReadUInt16LittleEndian(r[4..]);
                uint rseq = BinaryPrimitives.ReadUInt32LittleEndian(r[8..]);
                if (rtype == NlmsgError && rseq == seq)
                {
                    return -BinaryPrimitives.ReadInt32LittleEndian(r[16..]);
                }

                if (len < 16)
                {
                    break;
                }

                offset += (int)((len + 3) & ~3u);
            }
        }
    }

    public void Dispose() => _ = close(_fd);

    public static uint InterfaceIndex(string name) => if_nametoindex(name);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int socket(int domain, int type, int protocol);

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial nint send(int fd, byte* buffer, nint length, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial nint recv(int fd, byte* buffer, nint length, int flags);

    [LibraryImport("libc")]
    private static partial int close(int fd);

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial uint if_nametoindex(string name);
}
