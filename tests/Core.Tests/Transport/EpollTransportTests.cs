using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Sidecar.Core.Transport;
using Sidecar.Core.Transport.Sockets;
using Xunit;

namespace Sidecar.Core.Tests.Transport;

/// <summary>Sidecar's own socket transport, end to end on loopback against plain .NET sockets.</summary>
public sealed class EpollTransportTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Theory]
    [InlineData(1)]
    [InlineData(13)]
    [InlineData(100_000)]
    [InlineData(4 * 1024 * 1024)]
    public async Task EchoesSmallAndLargeWrites(int size)
    {
        await using var h = await EpollTransportHarness.StartAsync();
        var (client, server) = await h.ConnectAsync();
        using (client)
        {
            Task echo = EpollTransportHarness.EchoAsync(server.Transport);
            byte[] data = new byte[size];
            Random.Shared.NextBytes(data);
            Task send = client.SendAsync(data, SocketFlags.None);
            byte[] back = await EpollTransportHarness.ReceiveExactlyAsync(client, size).WaitAsync(Wait);
            await send;
            Assert.Equal(data, back);
            client.Shutdown(SocketShutdown.Send);
            await echo.WaitAsync(Wait);
            Assert.Equal(0, await client.ReceiveAsync(new byte[1], SocketFlags.None).WaitAsync(Wait));
        }
        await server.DisposeAsync();
    }

    [Fact]
    public async Task ClientHalfCloseCompletesInputWhileOutputStillFlows()
    {
        await using var h = await EpollTransportHarness.StartAsync();
        var (client, server) = await h.ConnectAsync();
        using (client)
        {
            await client.SendAsync("ping"u8.ToArray(), SocketFlags.None);
            client.Shutdown(SocketShutdown.Send);
            // Input: the bytes, then end of stream.
            long total = 0;
            while (true)
            {
                ReadResult r = await server.Transport.Input.ReadAsync().AsTask().WaitAsync(Wait);
                total += r.Buffer.Length;
                server.Transport.Input.AdvanceTo(r.Buffer.End);
                if (r.IsCompleted) break;
            }
            Assert.Equal(4, total);
            // Output still works after the peer's FIN.
            await server.Transport.Output.WriteAsync("pong"u8.ToArray());
            Assert.Equal("pong"u8.ToArray(), await EpollTransportHarness.ReceiveExactlyAsync(client, 4).WaitAsync(Wait));
            await server.DisposeAsync();
            Assert.Equal(0, await client.ReceiveAsync(new byte[1], SocketFlags.None).WaitAsync(Wait));
        }
    }

    [Fact]
    public async Task CompletingOutputSendsFinWhileInputStillFlows()
    {
        await using var h = await EpollTransportHarness.StartAsync();
        var (client, server) = await h.ConnectAsync();
        using (client)
        {
            await server.Transport.Output.WriteAsync("bye"u8.ToArray());
            await server.Transport.Output.CompleteAsync();
            Assert.Equal("bye"u8.ToArray(), await EpollTransportHarness.ReceiveExactlyAsync(client, 3).WaitAsync(Wait));
            Assert.Equal(0, await client.ReceiveAsync(new byte[1], SocketFlags.None).WaitAsync(Wait));
            // The other direction is still open: the client can still send and the server still reads.
            await client.SendAsync("late"u8.ToArray(), SocketFlags.None);
            ReadResult r = await server.Transport.Input.ReadAtLeastAsync(4).AsTask().WaitAsync(Wait);
            Assert.Equal("late"u8.ToArray(), r.Buffer.ToArray());
            server.Transport.Input.AdvanceTo(r.Buffer.End);
            await server.Transport.Input.CompleteAsync();
        }
        await server.DisposeAsync();
    }

    [Fact]
    public async Task AbortResetsThePeerAndFailsPendingReads()
    {
        await using var h = await EpollTransportHarness.StartAsync();
        var (client, server) = await h.ConnectAsync();
        using (client)
        {
            ValueTask<ReadResult> pending = server.Transport.Input.ReadAsync();
            server.Abort(new ConnectionAbortedException("test abort"));
            await Assert.ThrowsAsync<ConnectionAbortedException>(async () => await pending.AsTask().WaitAsync(Wait));
            var ex = await Assert.ThrowsAsync<SocketException>(async () => await client.ReceiveAsync(new byte[1], SocketFlags.None).WaitAsync(Wait));
            Assert.Equal(SocketError.ConnectionReset, ex.SocketErrorCode);
        }
    }

    [Fact]
    public async Task PeerResetFailsInputWithConnectionReset()
    {
        await using var h = await EpollTransportHarness.StartAsync();
        var (client, server) = await h.ConnectAsync();
        ValueTask<ReadResult> pending = server.Transport.Input.ReadAsync();
        client.LingerState = new LingerOption(true, 0);
        client.Close(); // RST
        await Assert.ThrowsAsync<ConnectionResetException>(async () => await pending.AsTask().WaitAsync(Wait));
        await server.DisposeAsync();
    }

    [Fact]
    public async Task ConnectionClosedFiresOnceAfterBothDirectionsEnd()
    {
        await using var h = await EpollTransportHarness.StartAsync();
        var (client, server) = await h.ConnectAsync();
        int fired = 0;
        var closed = new TaskCompletionSource();
        server.ConnectionClosed.Register(() =>
        {
            Interlocked.Increment(ref fired);
            closed.TrySetResult();
        });
        using (client)
        {
            Task echo = EpollTransportHarness.EchoAsync(server.Transport);
            client.Shutdown(SocketShutdown.Send);
            await echo.WaitAsync(Wait);
            Assert.False(closed.Task.IsCompleted); // the application has not completed its input yet
            await server.DisposeAsync();
            await closed.Task.WaitAsync(Wait);
            server.Abort(); // after close: nothing more happens
            await Task.Delay(100);
        }
        Assert.Equal(1, Volatile.Read(ref fired));
    }

    [Fact]
    public async Task SlowReaderPausesTheSocketAndBoundsBufferedBytes()
    {
        const long limit = 256 * 1024;
        await using var h = await EpollTransportHarness.StartAsync(limit);
        var (client, server) = await h.ConnectAsync();
        using (client)
        {
            const long total = 8L * 1024 * 1024;
            Task sender = Task.Run(async () =>
            {
                byte[] chunk = new byte[64 * 1024];
                for (long s = 0; s < total; s += chunk.Length) await client.SendAsync(chunk, SocketFlags.None);
                client.Shutdown(SocketShutdown.Send);
            });
            // Nobody reads for a while: the server stops receiving at the pause threshold, the kernel buffers fill,
            // and the client's sends stall.
            await Task.Delay(500);
            Assert.False(sender.IsCompleted, "the sender was never held back");
            ReadResult r = await server.Transport.Input.ReadAsync().AsTask().WaitAsync(Wait);
            // The pipe holds about the pause threshold (plus the last wake-up's reads), not the 8 MiB.
            Assert.InRange(r.Buffer.Length, 1, limit + (256 * 1024) + BlockMemoryPool.Shared.BlockSize);
            long received = r.Buffer.Length;
            server.Transport.Input.AdvanceTo(r.Buffer.End);
            // Reading resumes the socket: everything arrives.
            while (!r.IsCompleted)
            {
                r = await server.Transport.Input.ReadAsync().AsTask().WaitAsync(Wait);
                received += r.Buffer.Length;
                server.Transport.Input.AdvanceTo(r.Buffer.End);
            }
            await sender.WaitAsync(Wait);
            long sent = total;
            Assert.True(sent == received, $"sent {sent}, received {received}, socket gave {((EpollConnection)server).BytesReceived}");
        }
        await server.DisposeAsync();
    }

    [Fact]
    public async Task WritesFromOtherThreadsInterleaveWithTheLoopsReads()
    {
        await using var h = await EpollTransportHarness.StartAsync();
        var (client, server) = await h.ConnectAsync();
        using (client)
        {
            const int chunks = 2000;
            const int chunkSize = 1000;
            // Writer: a thread-pool thread flushing while the loop thread receives on the same socket.
            Task writer = Task.Run(async () =>
            {
                byte[] chunk = new byte[chunkSize];
                for (int i = 0; i < chunks; i++)
                {
                    chunk.AsSpan().Fill((byte)i);
                    await server.Transport.Output.WriteAsync(chunk);
                }
            });
            Task<long> reader = Task.Run(async () =>
            {
                long n = 0;
                while (true)
                {
                    ReadResult r = await server.Transport.Input.ReadAsync();
                    n += r.Buffer.Length;
                    server.Transport.Input.AdvanceTo(r.Buffer.End);
                    if (r.IsCompleted) return n;
                }
            });
            Task clientSend = Task.Run(async () =>
            {
                byte[] data = new byte[chunks * chunkSize];
                await client.SendAsync(data, SocketFlags.None);
                client.Shutdown(SocketShutdown.Send);
            });
            byte[] got = await EpollTransportHarness.ReceiveExactlyAsync(client, chunks * chunkSize).WaitAsync(Wait);
            for (int i = 0; i < chunks; i++) Assert.Equal((byte)i, got[i * chunkSize + (chunkSize / 2)]);
            await writer.WaitAsync(Wait);
            await clientSend.WaitAsync(Wait);
            Assert.Equal(chunks * chunkSize, await reader.WaitAsync(Wait));
        }
        await server.DisposeAsync();
    }

    [Fact]
    public async Task SocketFeatureGivesTheConnectedSocket()
    {
        await using var h = await EpollTransportHarness.StartAsync();
        var (client, server) = await h.ConnectAsync();
        using (client)
        {
            Socket socket = server.Features.Get<IConnectionSocketFeature>()!.Socket;
            Assert.Equal(client.LocalEndPoint, socket.RemoteEndPoint);
            Assert.Equal(client.LocalEndPoint, server.RemoteEndPoint);
            Assert.Equal(h.EndPoint, server.LocalEndPoint);
        }
        await server.DisposeAsync();
    }

    [Fact]
    public async Task UpstreamConnectsAndReportsRefusal()
    {
        await using var h = await EpollTransportHarness.StartAsync();
        using var connector = new UpstreamConnector(h.Settings);
        var (result, upstream) = await connector.ConnectAsync(h.EndPoint, Wait, CancellationToken.None);
        Assert.Equal(ConnectResult.Connected, result);
        await upstream!.Transport.Output.WriteAsync("x"u8.ToArray());
        await upstream.DisposeAsync();

        // A port nobody listens on: bind one, note it, close it.
        var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var closedPort = (IPEndPoint)probe.LocalEndPoint!;
        probe.Dispose();
        var (refused, none) = await connector.ConnectAsync(closedPort, Wait, CancellationToken.None);
        Assert.Equal(ConnectResult.Refused, refused);
        Assert.Null(none);
    }
}
