using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Sidecar.Native.Sockets;
using Xunit;

namespace Sidecar.Native.Tests;

/// <summary>The raw calls of our transport against the kernel: sockaddr layout, connect/accept4, epoll edges, send/recv.</summary>
public sealed unsafe class EpollInteropTests
{
    [Theory]
    [InlineData("127.0.0.1", 8080)]
    [InlineData("10.1.2.3", 1)]
    [InlineData("::1", 65535)]
    [InlineData("fe80::1%2", 443)]
    public void EncodedSockaddrDecodesBackToTheSameEndpoint(string address, int port)
    {
        var endpoint = new IPEndPoint(IPAddress.Parse(address), port);
        Span<byte> buffer = stackalloc byte[SockaddrEncoder.MaxSize];
        int length = SockaddrEncoder.Encode(endpoint, buffer);
        Assert.Equal(endpoint.AddressFamily == AddressFamily.InterNetwork ? SockaddrDecoder.SockaddrInSize : SockaddrDecoder.SockaddrIn6Size, length);
        Assert.True(SockaddrDecoder.TryDecode(buffer[..length], out IPEndPoint? decoded));
        Assert.Equal(endpoint, decoded);
    }

    [Fact]
    public void EdgeTriggeredReadableEventThenRecvAndSendOverRawFds()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        int fd = EpollInterop.Socket(SockaddrDecoder.AfInet, EpollInterop.SockStream | EpollInterop.SockCloexec, 0);
        Assert.True(fd >= 0, $"socket: errno {Marshal.GetLastPInvokeError()}");
        int epfd = EpollInterop.EpollCreate(EpollInterop.EpollCloexec);
        try
        {
            byte* address = stackalloc byte[SockaddrEncoder.MaxSize];
            int length = SockaddrEncoder.Encode((IPEndPoint)listener.LocalEndPoint!, new Span<byte>(address, SockaddrEncoder.MaxSize));
            Assert.Equal(0, EpollInterop.Connect(fd, address, (uint)length));
            using Socket peer = listener.Accept();

            byte* ev = stackalloc byte[16];
            *(uint*)ev = EpollInterop.EpollIn | EpollInterop.EpollEt;
            *(ulong*)(ev + EpollInterop.EventDataOffset) = 42;
            Assert.Equal(0, EpollInterop.EpollCtl(epfd, EpollInterop.EpollCtlAdd, fd, ev));
            byte* events = stackalloc byte[4 * 16];
            Assert.Equal(0, EpollInterop.EpollWait(epfd, events, 4, 0)); // nothing to read yet

            peer.Send("hello"u8);
            Assert.Equal(1, EpollInterop.EpollWait(epfd, events, 4, 5000));
            Assert.Equal(42UL, *(ulong*)(events + EpollInterop.EventDataOffset));
            Assert.NotEqual(0u, *(uint*)events & EpollInterop.EpollIn);
            // Edge-triggered: the same unread bytes raise no second event.
            Assert.Equal(0, EpollInterop.EpollWait(epfd, events, 4, 0));

            byte* buffer = stackalloc byte[64];
            Assert.Equal(5, (int)EpollInterop.Recv(fd, buffer, 64, 0));
            Assert.Equal("hello"u8.ToArray(), new ReadOnlySpan<byte>(buffer, 5).ToArray());
            Assert.Equal(3, (int)EpollInterop.Send(fd, buffer, 3, EpollInterop.MsgNosignal));
            byte[] back = new byte[3];
            Assert.Equal(3, peer.Receive(back));
            Assert.Equal("hel"u8.ToArray(), back);

            Assert.Equal(0, EpollInterop.Shutdown(fd, EpollInterop.ShutWr));
            Assert.Equal(0, peer.Receive(back)); // FIN
        }
        finally
        {
            EpollInterop.Close(epfd);
            EpollInterop.Close(fd);
        }
    }
}
