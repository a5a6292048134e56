using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Sidecar.Core.Config.Model;
using Sidecar.Native.Sockets;

namespace Sidecar.Core.Transport.Sockets;

/// <summary>
/// Upstream connections of our transport: a non-blocking connect(2) whose completion (the first writable edge) the
/// socket's own loop reports. The loop is the caller's when it runs on one, so a request's downstream and upstream
/// sockets share a thread.
/// </summary>
internal static class EpollConnector
{
    public static async ValueTask<(ConnectResult Result, EpollConnection? Connection)> ConnectAsync(
        IPEndPoint endpoint, TimeSpan timeout, uint mark, UpstreamBindModel? bind, TransportPipeOptions options, CancellationToken ct, EpollLoop? loop = null)
    {
        int family = endpoint.AddressFamily == AddressFamily.InterNetworkV6 ? SockaddrDecoder.AfInet6 : SockaddrDecoder.AfInet;
        int fd = EpollInterop.Socket(family, EpollInterop.SockStream | EpollInterop.SockNonblock | EpollInterop.SockCloexec, 0);
        if (fd < 0) return (ConnectResult.Refused, null);
        if (!Prepare(fd, endpoint, mark, bind, out int rc, out int errno))
        {
            EpollInterop.Close(fd);
            return (ConnectResult.Refused, null);
        }
        if (rc != 0 && errno != EpollInterop.EInProgress)
        {
            EpollInterop.Close(fd);
            return (ConnectResult.Refused, null);
        }
        TaskCompletionSource<int>? waiter = rc == 0 ? null : new TaskCompletionSource<int>();
        EpollConnection? connection = EpollConnection.Start(loop ?? EpollLoopGroup.Shared.PickForConnect(), fd, options, waiter);
        if (connection is null) return (ConnectResult.Refused, null);
        if (waiter is null) return (ConnectResult.Connected, connection);
        try
        {
            int error = await waiter.Task.WaitAsync(timeout > TimeSpan.Zero ? timeout : Timeout.InfiniteTimeSpan, ct).ConfigureAwait(false);
            if (error == 0) return (ConnectResult.Connected, connection);
            connection.Abort();
            return (ConnectResult.Refused, null);
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            connection.Abort();
            return (ConnectResult.TimedOut, null);
        }
    }

    /// <summary>Options, source bind and connect(2); false when an option or the bind failed (EADDRNOTAVAIL, EPERM).</summary>
    private static unsafe bool Prepare(int fd, IPEndPoint endpoint, uint mark, UpstreamBindModel? bind, out int rc, out int errno)
    {
        rc = -1;
        errno = 0;
        bool v6 = endpoint.AddressFamily == AddressFamily.InterNetworkV6;
        EpollInterop.SetInt(fd, EpollInterop.IpProtoTcp, EpollInterop.TcpNoDelay, 1);
        if (mark != 0 && !EpollInterop.SetInt(fd, LinuxSocketOptions.SolSocket, LinuxSocketOptions.SoMark, (int)mark)) return false;
        byte* address = stackalloc byte[SockaddrEncoder.MaxSize];
        var span = new Span<byte>(address, SockaddrEncoder.MaxSize);
        if (bind?.SourceFor(endpoint.AddressFamily) is IPAddress source)
        {
            if (bind.Freebind && !EpollInterop.SetInt(fd, v6 ? LinuxSocketOptions.SolIpv6 : LinuxSocketOptions.SolIp, v6 ? LinuxSocketOptions.Ipv6Freebind : LinuxSocketOptions.IpFreebind, 1)) return false;
            // Port 0: the kernel picks an ephemeral port for each connection (Envoy's port_value 0).
            int sourceLength = SockaddrEncoder.Encode(new IPEndPoint(source, 0), span);
            if (EpollInterop.Bind(fd, address, (uint)sourceLength) != 0) return false;
        }
        int length = SockaddrEncoder.Encode(endpoint, span);
        rc = EpollInterop.Connect(fd, address, (uint)length);
        if (rc != 0) errno = Marshal.GetLastPInvokeError();
        return true;
    }
}
