using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Sidecar.Core.Transport;

/// <summary>Binds a listening socket through Kestrel's socket transport (pipes over pooled memory).</summary>
public static class SocketListener
{
    public static async ValueTask<IConnectionListener> BindAsync(IPEndPoint endpoint, TransportSettings settings, CancellationToken ct)
    {
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
        var factory = new SocketTransportFactory(Options.Create(options), NullLoggerFactory.Instance);
        return await factory.BindAsync(endpoint, ct).ConfigureAwait(false);
    }
}
