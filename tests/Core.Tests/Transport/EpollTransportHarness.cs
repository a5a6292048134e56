using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Sidecar.Core.Transport;

namespace Sidecar.Core.Tests.Transport;

/// <summary>A listener of our transport on loopback, and plain .NET client sockets to talk to it.</summary>
internal sealed class EpollTransportHarness : IAsyncDisposable
{
    private readonly IConnectionListener _listener;

    private EpollTransportHarness(IConnectionListener listener, TransportSettings settings)
    {
        _listener = listener;
        Settings = settings;
    }

    public TransportSettings Settings { get; }
    public IPEndPoint EndPoint => (IPEndPoint)_listener.EndPoint;

    public static async Task<EpollTransportHarness> StartAsync(long maxBufferBytes = 1024 * 1024)
    {
        var settings = new TransportSettings { Kind = TransportKind.Epoll, MaxBufferBytes = maxBufferBytes };
        IConnectionListener listener = await SocketListener.BindAsync(new IPEndPoint(IPAddress.Loopback, 0), settings, CancellationToken.None);
        return new EpollTransportHarness(listener, settings);
    }

    /// <summary>A connected client and the server side of that connection.</summary>
    public async Task<(Socket Client, ConnectionContext Server)> ConnectAsync()
    {
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await client.ConnectAsync(EndPoint);
        ConnectionContext server = (await _listener.AcceptAsync())!;
        return (client, server);
    }

    /// <summary>
    /// As <see cref="ConnectAsync"/> with a client socket that never goes through .NET's async engine, so its blocking
    /// calls allocate nothing (an async-used socket emulates blocking calls with per-call wait objects).
    /// </summary>
    public async Task<(Socket Client, ConnectionContext Server)> ConnectBlockingAsync()
    {
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        client.Connect(EndPoint);
        ConnectionContext server = (await _listener.AcceptAsync())!;
        return (client, server);
    }

    /// <summary>Echoes everything until the client half-closes, then half-closes back.</summary>
    public static async Task EchoAsync(IDuplexPipe pipe)
    {
        while (true)
        {
            ReadResult r = await pipe.Input.ReadAsync();
            foreach (ReadOnlyMemory<byte> segment in r.Buffer) pipe.Output.Write(segment.Span);
            pipe.Input.AdvanceTo(r.Buffer.End);
            FlushResult f = await pipe.Output.FlushAsync();
            if (r.IsCompleted || f.IsCompleted) break;
        }
        await pipe.Output.CompleteAsync();
    }

    public static int OpenFdCount() => Directory.GetFiles("/proc/self/fd").Length;

    public static async Task<byte[]> ReceiveExactlyAsync(Socket socket, int length)
    {
        var buffer = new byte[length];
        int got = 0;
        while (got < length)
        {
            int n = await socket.ReceiveAsync(buffer.AsMemory(got), SocketFlags.None);
            if (n == 0) throw new EndOfStreamException($"EOF after {got} of {length} bytes");
            got += n;
        }
        return buffer;
    }

    public ValueTask DisposeAsync() => _listener.DisposeAsync();
}
