using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Sidecar.Core.Transport;
using Sidecar.Core.Transport.Sockets;
using Xunit;
using Xunit.Abstractions;

namespace Sidecar.Core.Tests.Transport;

/// <summary>
/// The proxied-upload shape that once stalled (E2E Upload_100MB with our transport): a client pushes a large body
/// into one connection of ours, an application pump copies it into another connection of ours, and a slow peer reads
/// it out. Small kernel buffers make every send hit EAGAIN often; the pump sometimes continues inline on the loop and
/// sometimes hops to a pool thread, so sends race the loop's writable edges from foreign threads. A stall is any
/// stretch without progress: the test fails with where the bytes stopped instead of hanging.
/// </summary>
public sealed class EpollTransportStallTests(ITestOutputHelper output)
{
    private static readonly TimeSpan StallLimit = TimeSpan.FromSeconds(10);

    [Theory]
    [InlineData(1, 128L << 20)]
    [InlineData(2, 128L << 20)]
    [InlineData(3, 128L << 20)]
    public async Task ProxiedUploadThroughTwoConnectionsNeverStalls(int seed, long total)
    {
        await using var h = await EpollTransportHarness.StartAsync(maxBufferBytes: 1024 * 1024);
        var (sourceClient, sourceServer) = await h.ConnectAsync();
        var (sinkClient, sinkServer) = await h.ConnectAsync();
        using (sourceClient)
        using (sinkClient)
        {
            // Small buffers on the sending side of the sink connection: many EAGAINs, many writable edges.
            Socket sinkSocket = sinkServer.Features.Get<IConnectionSocketFeature>()!.Socket;
            sinkSocket.SendBufferSize = 16 * 1024;
            sinkClient.ReceiveBufferSize = 16 * 1024;
            var progress = new Progress();
            Task writer = Task.Run(() => WriteAsync(sourceClient, total, seed, progress));
            Task reader = Task.Run(() => ReadAsync(sinkClient, total, seed, progress));
            Task pump = PumpAsync(sourceServer.Transport.Input, sinkServer.Transport.Output, seed, progress);
            Task all = Task.WhenAll(writer, pump, reader);
            await WatchAsync(all, progress, sourceServer, sinkServer);
            Assert.Equal(total, progress.Written);
            Assert.Equal(total, progress.Read);
        }
        await sourceServer.DisposeAsync();
        await sinkServer.DisposeAsync();
    }

    /// <summary>
    /// The stall itself, made certain: a flush the kernel cannot take whole (EAGAIN), then no further write from the
    /// application — as after the last chunk of a request body, when the proxy waits for the response. Only the
    /// transport's writable edge can send the tail; it once found the pipe "empty" because the EAGAIN path had marked
    /// the unsent bytes examined, and the peer waited forever for the last megabytes.
    /// </summary>
    [Theory]
    [InlineData(256 * 1024)]
    [InlineData(1024 * 1024)]
    public async Task TailLeftByEagainGoesOutOnTheWritableEdge(int size)
    {
        await using var h = await EpollTransportHarness.StartAsync(maxBufferBytes: 1024 * 1024);
        var (client, server) = await h.ConnectAsync();
        using (client)
        {
            server.Features.Get<IConnectionSocketFeature>()!.Socket.SendBufferSize = 16 * 1024;
            client.ReceiveBufferSize = 16 * 1024;
            byte[] data = new byte[size];
            Fill(data, 0);
            // The first flush fills the kernel (a short write); the second finds it full (EAGAIN). The peer reads
            // nothing meanwhile, and nothing is written afterwards.
            server.Transport.Output.Write(data.AsSpan(0, size / 2));
            ValueTask<FlushResult> first = server.Transport.Output.FlushAsync();
            if (first.IsCompleted) await first;
            server.Transport.Output.Write(data.AsSpan(size / 2));
            // Not awaited: above the pause threshold this flush waits for the sends, which is the point.
            ValueTask<FlushResult> flush = server.Transport.Output.FlushAsync();
            await Task.Delay(200);
            byte[] back = await EpollTransportHarness.ReceiveExactlyAsync(client, size).WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal(data, back);
            await flush.AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        }
        await server.DisposeAsync();
    }

    /// <summary>
    /// As above with the sink on a loop of its own (the proxy's shape when an upstream socket was opened from another
    /// thread): every send of the pump runs on a thread foreign to the sink's loop, which handles its writable edges.
    /// </summary>
    [Theory]
    [InlineData(11, 128L << 20)]
    [InlineData(12, 128L << 20)]
    [InlineData(13, 128L << 20)]
    public async Task ProxiedUploadToASocketOfAnotherLoopNeverStalls(int seed, long total)
    {
        await using var h = await EpollTransportHarness.StartAsync(maxBufferBytes: 1024 * 1024);
        using var sinkLoop = new EpollLoop("stall-test-sink");
        using var sinkListener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        sinkListener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        sinkListener.Listen();
        var (sourceClient, sourceServer) = await h.ConnectAsync();
        var (result, sink) = await EpollConnector.ConnectAsync((IPEndPoint)sinkListener.LocalEndPoint!, TimeSpan.FromSeconds(5), 0, null,
            h.Settings.PipeOptions, CancellationToken.None, sinkLoop);
        Assert.Equal(ConnectResult.Connected, result);
        using Socket sinkClient = await sinkListener.AcceptAsync();
        using (sourceClient)
        {
            sink!.Socket.SendBufferSize = 16 * 1024;
            sinkClient.ReceiveBufferSize = 16 * 1024;
            var progress = new Progress();
            Task writer = Task.Run(() => WriteAsync(sourceClient, total, seed, progress));
            Task reader = Task.Run(() => ReadAsync(sinkClient, total, seed, progress));
            Task pump = PumpAsync(sourceServer.Transport.Input, sink.Transport.Output, seed, progress);
            await WatchAsync(Task.WhenAll(writer, pump, reader), progress, sourceServer, sink);
            Assert.Equal(total, progress.Read);
        }
        await sourceServer.DisposeAsync();
        // The private loop must close the sink's fd before it stops.
        var closed = new TaskCompletionSource();
        using (sink.ConnectionClosed.Register(() => closed.TrySetResult()))
        {
            await sink.DisposeAsync();
            await closed.Task.WaitAsync(TimeSpan.FromSeconds(10));
        }
    }

    /// <summary>Fails the test if no byte moves anywhere for <see cref="StallLimit"/>, naming where they stopped.</summary>
    private async Task WatchAsync(Task all, Progress progress, ConnectionContext source, ConnectionContext sink)
    {
        long last = -1;
        DateTime lastMove = DateTime.UtcNow;
        while (!all.IsCompleted)
        {
            await Task.WhenAny(all, Task.Delay(250));
            long now = progress.Written + progress.Pumped + progress.Read;
            if (now != last)
            {
                last = now;
                lastMove = DateTime.UtcNow;
                continue;
            }
            if (DateTime.UtcNow - lastMove > StallLimit)
            {
                string where = $"stalled: client wrote {progress.Written}, source received {((EpollConnection)source).BytesReceived}, " +
                    $"pump copied {progress.Pumped}, sink peer read {progress.Read}";
                output.WriteLine(where);
                Assert.Fail(where);
            }
        }
        await all;
    }

    private static async Task WriteAsync(Socket socket, long total, int seed, Progress progress)
    {
        var random = new Random(seed);
        byte[] chunk = new byte[256 * 1024];
        long sent = 0;
        while (sent < total)
        {
            int size = (int)Math.Min(total - sent, random.Next(1, chunk.Length));
            Fill(chunk.AsSpan(0, size), sent);
            int n = await socket.SendAsync(chunk.AsMemory(0, size), SocketFlags.None);
            sent += n;
            Interlocked.Add(ref progress.Written, n);
            if (random.Next(64) == 0) await Task.Delay(1); // a slow writer now and then: the loop drains the socket
        }
        socket.Shutdown(SocketShutdown.Send);
    }

    private static async Task PumpAsync(PipeReader input, PipeWriter output, int seed, Progress progress)
    {
        var random = new Random(seed * 7919);
        while (true)
        {
            ReadResult r = await input.ReadAsync();
            ReadOnlySequence<byte> buffer = r.Buffer;
            foreach (ReadOnlyMemory<byte> segment in buffer) output.Write(segment.Span);
            input.AdvanceTo(buffer.End);
            Interlocked.Add(ref progress.Pumped, buffer.Length);
            // Half the time the flush (and so the send) runs on a pool thread while the loop handles the sink's edges.
            if (random.Next(2) == 0) await Task.Yield();
            FlushResult f = await output.FlushAsync();
            if (r.IsCompleted || f.IsCompleted) break;
        }
        // As a proxy after a request body: the output stays open (the response is awaited) until the peer has every
        // byte, so nothing but the transport's own writable edges can move the tail — completing Output here would
        // publish it again and hide a tail the sender lost track of.
        while (Volatile.Read(ref progress.Read) < Volatile.Read(ref progress.Pumped)) await Task.Delay(5);
        await output.CompleteAsync();
        await input.CompleteAsync();
    }

    private static async Task ReadAsync(Socket socket, long total, int seed, Progress progress)
    {
        var random = new Random(seed * 104729);
        byte[] buffer = new byte[64 * 1024];
        byte[] expected = new byte[buffer.Length];
        long got = 0;
        while (true)
        {
            int n = await socket.ReceiveAsync(buffer.AsMemory(0, random.Next(1, buffer.Length)), SocketFlags.None);
            if (n == 0) break;
            Fill(expected.AsSpan(0, n), got);
            if (!buffer.AsSpan(0, n).SequenceEqual(expected.AsSpan(0, n))) throw new InvalidDataException($"corrupt bytes at offset {got}");
            got += n;
            Interlocked.Add(ref progress.Read, n);
            if (random.Next(32) == 0) await Task.Delay(1); // a slow reader: the sink's buffer fills
        }
        Assert.Equal(total, got);
    }

    /// <summary>Byte i of the stream is a function of i, so a lost, doubled or reordered block is seen.</summary>
    private static void Fill(Span<byte> span, long offset)
    {
        for (int i = 0; i < span.Length; i++)
        {
            long k = offset + i;
            span[i] = (byte)((k * 31) ^ (k >> 11));
        }
    }

    private sealed class Progress
    {
        public long Written;
        public long Pumped;
        public long Read;
    }
}
