using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging.Abstractions;

namespace Sidecar.Core.Transport;

public enum ConnectResult : byte { Connected, Refused, TimedOut }

/// <summary>Opens upstream TCP connections and wraps them in the same pipe transport as downstream.</summary>
public sealed class UpstreamConnector : IDisposable
{
    private readonly SocketConnectionContextFactory _factory;
    private readonly uint _mark;

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
    }

    /// <summary>Connects with a deadline; failures are results, not exceptions, for the caller's one error map.</summary>
    public async ValueTask<(ConnectResult Result, ConnectionContext? Connection)> ConnectAsync(IPEndPoint endpoint, TimeSpan timeout, CancellationToken ct)
    {
        var (result, socket) = await ConnectSocketAsync(endpoint, timeout, _mark, ct).ConfigureAwait(false);
        return (result, socket is null ? null : _factory.Create(socket));
    }

    /// <summary>A raw connected socket, for relays that need half-close (shutdown of one direction).</summary>
    public static async ValueTask<(ConnectResult Result, Socket? Socket)> ConnectSocketAsync(IPEndPoint endpoint, TimeSpan timeout, uint mark, CancellationToken ct)
    {
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        if (mark != 0) Sidecar.Native.Sockets.SocketMark.Set(socket, mark);
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
