using System.Runtime.InteropServices;

namespace Sidecar.Native.Sockets;

/// <summary>
/// The raw Linux calls behind Sidecar's own socket transport: epoll, eventfd, non-blocking stream I/O and
/// socket setup. Every call returns the kernel's result (-1 on failure, errno through
/// <see cref="Marshal.GetLastPInvokeError"/>); the callers decide what an error means.
/// </summary>
public static unsafe partial class EpollInterop
{
    private const string LibC = "libc";

    // epoll(7), include/uapi/linux/eventpoll.h
    public const uint EpollIn = 0x001;
    public const uint EpollOut = 0x004;
    public const uint EpollErr = 0x008;
    public const uint EpollHup = 0x010;
    public const uint EpollRdHup = 0x2000;
    public const uint EpollEt = 1u << 31;
    public const int EpollCtlAdd = 1;
    public const int EpollCtlDel = 2;
    public const int EpollCloexec = 0x80000;

    // include/uapi/asm-generic/fcntl.h, socket.h
    public const int SockStream = 1;
    public const int SockNonblock = 0x800;
    public const int SockCloexec = 0x80000;
    public const int EfdCloexec = 0x80000;
    public const int EfdNonblock = 0x800;
    public const int MsgNosignal = 0x4000;
    public const int ShutWr = 1;
    public const int ShutRdWr = 2;

    // errno values (include/uapi/asm-generic/errno-base.h, errno.h)
    public const int EIntr = 4;
    public const int EAgain = 11;
    public const int EInProgress = 115;

    // socket options (include/uapi/asm-generic/socket.h, linux/tcp.h, linux/in6.h)
    public const int SolSocket = 1;
    public const int SoReuseAddr = 2;
    public const int SoError = 4;
    public const int SoLinger = 13;
    public const int IpProtoTcp = 6;
    public const int TcpNoDelay = 1;
    public const int IpProtoIpv6 = 41;
    public const int Ipv6V6Only = 26;

    /// <summary>
    /// Size of <c>struct epoll_event</c>: the kernel packs it on x86-64 (12 bytes, data at offset 4) and aligns
    /// it elsewhere (16 bytes, data at offset 8); see include/uapi/linux/eventpoll.h EPOLL_PACKED.
    /// </summary>
    public static readonly int EventSize = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 12 : 16;
    public static readonly int EventDataOffset = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 4 : 8;

    [StructLayout(LayoutKind.Sequential)]
    public struct IoVec
    {
        public byte* Base;
        public nuint Length;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct MsgHdr
    {
        public void* Name;
        public uint NameLength;
        public IoVec* Iov;
        public nuint IovLength;
        public void* Control;
        public nuint ControlLength;
        public int Flags;
    }

    [LibraryImport(LibC, EntryPoint = "epoll_create1", SetLastError = true)]
    public static partial int EpollCreate(int flags);

    [LibraryImport(LibC, EntryPoint = "epoll_ctl", SetLastError = true)]
    public static partial int EpollCtl(int epfd, int op, int fd, byte* ev);

    [LibraryImport(LibC, EntryPoint = "epoll_wait", SetLastError = true)]
    public static partial int EpollWait(int epfd, byte* events, int maxEvents, int timeoutMs);

    [LibraryImport(LibC, EntryPoint = "eventfd", SetLastError = true)]
    public static partial int EventFd(uint initval, int flags);

    [LibraryImport(LibC, EntryPoint = "read", SetLastError = true)]
    public static partial nint Read(int fd, byte* buf, nuint count);

    [LibraryImport(LibC, EntryPoint = "write", SetLastError = true)]
    public static partial nint Write(int fd, byte* buf, nuint count);

    [LibraryImport(LibC, EntryPoint = "recv", SetLastError = true)]
    public static partial nint Recv(int fd, byte* buf, nuint len, int flags);

    [LibraryImport(LibC, EntryPoint = "send", SetLastError = true)]
    public static partial nint Send(int fd, byte* buf, nuint len, int flags);

    [LibraryImport(LibC, EntryPoint = "sendmsg", SetLastError = true)]
    public static partial nint SendMsg(int fd, MsgHdr* msg, int flags);

    [LibraryImport(LibC, EntryPoint = "accept4", SetLastError = true)]
    public static partial int Accept4(int fd, byte* addr, uint* addrLen, int flags);

    [LibraryImport(LibC, EntryPoint = "shutdown", SetLastError = true)]
    public static partial int Shutdown(int fd, int how);

    [LibraryImport(LibC, EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport(LibC, EntryPoint = "socket", SetLastError = true)]
    public static partial int Socket(int domain, int type, int protocol);

    [LibraryImport(LibC, EntryPoint = "setsockopt", SetLastError = true)]
    public static partial int SetSockOpt(int fd, int level, int name, void* value, uint length);

    [LibraryImport(LibC, EntryPoint = "getsockopt", SetLastError = true)]
    public static partial int GetSockOpt(int fd, int level, int name, void* value, uint* length);

    [LibraryImport(LibC, EntryPoint = "bind", SetLastError = true)]
    public static partial int Bind(int fd, byte* addr, uint length);

    [LibraryImport(LibC, EntryPoint = "listen", SetLastError = true)]
    public static partial int Listen(int fd, int backlog);

    [LibraryImport(LibC, EntryPoint = "connect", SetLastError = true)]
    public static partial int Connect(int fd, byte* addr, uint length);

    [LibraryImport(LibC, EntryPoint = "getsockname", SetLastError = true)]
    public static partial int GetSockName(int fd, byte* addr, uint* length);

    [LibraryImport(LibC, EntryPoint = "getpeername", SetLastError = true)]
    public static partial int GetPeerName(int fd, byte* addr, uint* length);

    /// <summary>Sets an int-valued option; false with errno on failure.</summary>
    public static bool SetInt(int fd, int level, int name, int value) => SetSockOpt(fd, level, name, &value, sizeof(int)) == 0;

    /// <summary>SO_LINGER {on, 0}: the next close sends RST instead of FIN (an abort, as Kestrel's Abort does).</summary>
    public static void SetAbortiveClose(int fd)
    {
        long linger = 1; // struct linger { int l_onoff = 1; int l_linger = 0; } little-endian
        SetSockOpt(fd, SolSocket, SoLinger, &linger, 8);
    }
}
