using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Sidecar.Core.Config.Model;
using Sidecar.Native.Sockets;

namespace Sidecar.Core.Transport;

public enum ConnectResult : byte { Connected, Refused, TimedOut }

/// <summary>Opens upstream TCP connections on the same pipe transport as downstream (ours, or Kestrel's).</summary>
public sealed class UpstreamConnector : IDisposable
{
    private readonly SocketConnectionContextFactory _factory;
    private readonly uint _mark;
    private readonly TransportSettings _settings;

    public UpstreamConnector(TransportSettings settings)
    {
        var options = new SocketConnectionFactoryOptions
        {
            UnsafePreferInlineScheduling = settings.InlineScheduling,
            MaxReadBufferSize = settings.MaxBufferBytes,
            MaxWriteBufferSize = settings.MaxBufferBytes,
            WaitForDataBeforeAllocatingBuffer = settings.WaitForDataBeforeAllocatingBuffer,
        };
        if (settings.IoQueueCount > 0) options.IOQueueCount = settings.IoQueueCount;
        _factory = new SocketConnectionContextFactory(options, NullLogger.Instance);
        _mark = settings.UpstreamMark;
        _settings = settings;
    }

    /// <summary>Connects with a deadline; failures are results, not exceptions, for the caller's one error map.</summary>
    public ValueTask<(ConnectResult Result, ConnectionContext? Connection)> ConnectAsync(IPEndPoint endpoint, TimeSpan timeout, CancellationToken ct)
        => ConnectAsync(endpoint, timeout, null, ct);

    /// <summary>As above, binding the cluster's <c>upstream_bind_config</c> source first when it has one for this family.</summary>
    public async ValueTask<(ConnectResult Result, ConnectionContext? Connection)> ConnectAsync(IPEndPoint endpoint, TimeSpan timeout, UpstreamBindModel? bind, CancellationToken ct)
    {
        if (_settings.Kind == TransportKind.Epoll)
        {
            var (r, c) = await Sockets.EpollConnector.ConnectAsync(endpoint, timeout, _mark, bind, _settings.PipeOptions, ct).ConfigureAwait(false);
            return (r, c);
        }
        var (result, socket) = await ConnectSocketAsync(endpoint, timeout, _mark, bind, ct).ConfigureAwait(false);
        return (result, socket is null ? null : _factory.Create(socket));
    }

    /// <summary>A raw connected socket, for relays that need half-close (shutdown of one direction).</summary>
    public static ValueTask<(ConnectResult Result, Socket? Socket)> ConnectSocketAsync(IPEndPoint endpoint, TimeSpan timeout, uint mark, CancellationToken ct)
        => ConnectSocketAsync(endpoint, timeout, mark, null, ct);

    /// <summary>
    /// A raw connected socket bound to the cluster's source address first. A source that cannot be bound
    /// (EADDRNOTAVAIL, EPERM) is reported as <see cref="ConnectResult.Refused"/>: the caller's one
    /// "upstream connect failed" path (503 UF, tcp_proxy close) is the right answer for it too.
    /// </summary>
    public static async ValueTask<(ConnectResult Result, Socket? Socket)> ConnectSocketAsync(IPEndPoint endpoint, TimeSpan timeout, uint mark, UpstreamBindModel? bind, CancellationToken ct)
    {
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            if (mark != 0) SocketMark.Set(socket, mark);
            if (bind?.SourceFor(endpoint.AddressFamily) is IPAddress source)
            {
                if (bind.Freebind) TransparentSocket.SetFreebind(socket);
                // Port 0: the kernel picks an ephemeral port for each connection (Envoy's port_value 0).
                socket.Bind(new IPEndPoint(source, 0));
            }
        }
        catch (SocketException)
        {
            socket.Dispose();
            return (ConnectResult.Refused, null);
        }
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        try
        {
            await socket.ConnectAsync(endpoint, cts.Token).ConfigureAwait(false);
            return (ConnectResult.Connected, socket);
        }
        catch (OperationCanceledException)
        {
            socket.Dispose();
            return (ConnectResult.TimedOut, null);
        }
        catch (SocketException)
        {
            socket.Dispose();
            return (ConnectResult.Refused, null);
        }
    }

    public void Dispose() => _factory.Dispose();
}
