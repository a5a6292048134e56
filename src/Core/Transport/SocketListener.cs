using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Sidecar.Native.Sockets;

namespace Sidecar.Core.Transport;

/// <summary>Socket options a listener sets before bind (Envoy Listener <c>transparent</c> and <c>freebind</c>).</summary>
public readonly record struct ListenSocketOptions(bool Transparent, bool Freebind)
{
    public bool IsDefault => !Transparent && !Freebind;
}

/// <summary>Binds a listening socket on the configured transport (ours by default, or Kestrel's): pipes over pooled memory.</summary>
public static class SocketListener
{
    public static ValueTask<IConnectionListener> BindAsync(IPEndPoint endpoint, TransportSettings settings, CancellationToken ct)
        => BindAsync(endpoint, settings, default, ct);

    /// <exception cref="SocketException">Bind failed, or EPERM for <c>transparent</c> without CAP_NET_ADMIN/CAP_NET_RAW.</exception>
    public static async ValueTask<IConnectionListener> BindAsync(IPEndPoint endpoint, TransportSettings settings, ListenSocketOptions socketOptions, CancellationToken ct)
    {
        if (settings.Kind == TransportKind.Epoll) return Sockets.EpollListener.Start(CreateBound(endpoint, socketOptions, reuseAddress: true), settings.PipeOptions);
        var options = new SocketTransportOptions
        {
            UnsafePreferInlineScheduling = settings.InlineScheduling,
            NoDelay = true,
            MaxReadBufferSize = settings.MaxBufferBytes,
            MaxWriteBufferSize = settings.MaxBufferBytes,
            Backlog = 1024,
            WaitForDataBeforeAllocatingBuffer = settings.WaitForDataBeforeAllocatingBuffer,
        };
        if (settings.IoQueueCount > 0) options.IOQueueCount = settings.IoQueueCount;
        if (!socketOptions.IsDefault) options.CreateBoundListenSocket = ep => CreateBound(ep, socketOptions, reuseAddress: false);
        var factory = new SocketTransportFactory(Options.Create(options), NullLoggerFactory.Instance);
        return await factory.BindAsync(endpoint, ct).ConfigureAwait(false);
    }

    /// <summary>Kestrel's default listen socket, with our options set between creation and bind (they must precede bind).</summary>
    private static Socket CreateBound(EndPoint endpoint, ListenSocketOptions socketOptions, bool reuseAddress)
    {
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            // As Kestrel's default listen socket does on Unix: a restarted proxy can rebind while old connections sit in TIME_WAIT.
            if (reuseAddress) socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            if (endpoint is IPEndPoint ip && ip.Address.Equals(IPAddress.IPv6Any)) socket.DualMode = true;
            if (socketOptions.Transparent) TransparentSocket.SetTransparent(socket);
            if (socketOptions.Freebind) TransparentSocket.SetFreebind(socket);
            socket.Bind(endpoint);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
