using System.Net;
using System.Net.Sockets;
using Sidecar.Native.Sockets;

namespace Sidecar.Native.Tests;

/// <summary>Unprivileged: plain loopback connections in the test's own namespace were never redirected.</summary>
public sealed class OriginalDestinationTests
{
    [Theory]
    [InlineData("127.0.0.1", false)]
    [InlineData("::1", false)]
    [InlineData("127.0.0.1", true)]
    public async Task NotRedirected_ReturnsFalseWithoutThrowing(string address, bool dualMode)
    {
        IPAddress ip = IPAddress.Parse(address);
        using var listener = dualMode
            ? new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp) { DualMode = true }
            : new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(dualMode ? IPAddress.IPv6Any : ip, 0));
        listener.Listen();
        int port = ((IPEndPoint)listener.LocalEndPoint!).Port;

        using var client = new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await client.ConnectAsync(new IPEndPoint(ip, port), cts.Token);
        using Socket accepted = await listener.AcceptAsync(cts.Token);

        Assert.False(OriginalDestination.TryGet(accepted, out IPEndPoint? destination));
        Assert.Null(destination);
    }

    [Fact]
    public void UnboundSocket_False()
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        Assert.False(OriginalDestination.TryGet(s, out IPEndPoint? destination));
        Assert.Null(destination);
    }

    [Fact]
    public void DisposedSocket_Throws()
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        s.Dispose();
        Assert.Throws<ObjectDisposedException>(() => OriginalDestination.TryGet(s, out _));
    }
}
