using System.Net.Sockets;
using Sidecar.Core.Tests.Proxy;
using Xunit;
using Xunit.Abstractions;

namespace Sidecar.Core.Tests.Transport;

/// <summary>
/// Process-wide measurements of our transport (open descriptors, allocated bytes): they run alone, since any other
/// test's sockets or allocations would show up in the same counters.
/// </summary>
[Collection(nameof(ProcessWideAllocationCollection))]
public sealed class EpollTransportResourceTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task ManyConnectionsLeaveNoDescriptorBehind()
    {
        await using var h = await EpollTransportHarness.StartAsync();
        // Warm up (loop threads, eventfd, pool) before taking the baseline.
        var (c0, s0) = await h.ConnectAsync();
        c0.Dispose();
        await s0.DisposeAsync();
        await Task.Delay(200);
        int baseline = EpollTransportHarness.OpenFdCount();
        var closed = new List<Task>();
        for (int i = 0; i < 200; i++)
        {
            var (client, server) = await h.ConnectAsync();
            var tcs = new TaskCompletionSource();
            server.ConnectionClosed.Register(() => tcs.TrySetResult());
            closed.Add(tcs.Task);
            if (i % 3 == 0) server.Abort();
            else if (i % 3 == 1)
            {
                client.Shutdown(SocketShutdown.Send);
                await EpollTransportHarness.EchoAsync(server.Transport).WaitAsync(Wait);
            }
            client.Dispose();
            await server.DisposeAsync();
        }
        await Task.WhenAll(closed).WaitAsync(Wait);
        await Task.Delay(200);
        Assert.InRange(EpollTransportHarness.OpenFdCount(), 0, baseline);
    }

    [Fact]
    public async Task EchoRoundTripAllocatesNothingInSteadyState()
    {
        await using var h = await EpollTransportHarness.StartAsync();
        var (client, server) = await h.ConnectBlockingAsync();
        Task echo = EpollTransportHarness.EchoAsync(server.Transport);
        long perRoundTrip = await Task.Run(() =>
        {
            byte[] message = new byte[64];
            byte[] back = new byte[64];
            for (int i = 0; i < 20_000; i++) RoundTrip(client, message, back); // warm-up: tiering, pools
            const int N = 10_000;
            long best = long.MaxValue;
            for (int window = 0; window < 5; window++)
            {
                long before = GC.GetTotalAllocatedBytes(precise: true);
                for (int i = 0; i < N; i++) RoundTrip(client, message, back);
                long after = GC.GetTotalAllocatedBytes(precise: true);
                output.WriteLine($"window {window}: {after - before} bytes over {N} echo round trips");
                best = Math.Min(best, after - before);
            }
            return best / N;
        });
        Assert.True(perRoundTrip < 1, $"expected 0 B per round trip, measured {perRoundTrip}");
        client.Shutdown(SocketShutdown.Send);
        await echo.WaitAsync(Wait);
        client.Dispose();
        await server.DisposeAsync();
    }

    private static void RoundTrip(Socket client, byte[] message, byte[] back)
    {
        client.Send(message);
        int got = 0;
        while (got < back.Length) got += client.Receive(back.AsSpan(got));
    }
}
