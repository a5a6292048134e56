using System.Net;
using System.Net.Sockets;
using Sidecar.Core.Tests.Http2;
using Xunit;

namespace Sidecar.Core.Tests.Proxy;

/// <summary>
/// A burst of requests to an HTTP/2 cluster with no connection yet shares the one connection being opened, as Envoy's
/// pool does (a connecting connection's streams count as capacity), instead of each request opening its own; and when
/// that connect fails, every request sharing it gets the failure (503 UF) from that one attempt.
/// </summary>
public sealed class Http2UpstreamConnectTests
{
    [Fact]
    public async Task AColdBurstOpensOneUpstreamConnection()
    {
        using var backend = new BlockingH2Backend();
        await using var proxy = await ProxyHarness.StartAsync(backend.Model(ProxyHarness.HttpModel(backend.Port)));
        int failed = await Task.Run(() =>
        {
            using var client = new BlockingH2Client(proxy.EndPoint);
            return client.GetBurst(100, requireOk: false);
        });
        Assert.Equal(0, failed);
        Assert.Equal(1, backend.Connections);
        Assert.Equal(1, proxy.Stat("cluster.backend.upstream_cx_total"));
        Assert.Equal(100, backend.Requests);
    }

    [Fact]
    public async Task AConnectThatTimesOutFailsEveryRequestThatSharedIt()
    {
        // A listener that never accepts, its one-slot queue taken: further SYNs are dropped, so connects hang until
        // the cluster's connect_timeout (1 s) — long enough for the whole burst to join the first request's connect.
        using var silent = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        silent.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        silent.Listen(0);
        int port = ((IPEndPoint)silent.LocalEndPoint!).Port;
        using var filler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        filler.Connect(new IPEndPoint(IPAddress.Loopback, port));
        await using var proxy = await ProxyHarness.StartAsync(BlockingH2Backend.Model(ProxyHarness.HttpModel(port), port));
        int failed = await Task.Run(() =>
        {
            using var client = new BlockingH2Client(proxy.EndPoint);
            return client.GetBurst(50, requireOk: false);
        });
        Assert.Equal(50, failed);
        Assert.Equal(1, proxy.Stat("cluster.backend.upstream_cx_connect_timeout"));
        Assert.Equal(1, proxy.Stat("cluster.backend.upstream_cx_total"));
    }
}
