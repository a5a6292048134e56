using System.Net;
using System.Net.Sockets;
using Sidecar.Native.Sockets;

namespace Sidecar.Native.Tests;

/// <summary>
/// IP_TRANSPARENT / IP_FREEBIND, and the TPROXY reading of the original destination. Setting
/// IP_TRANSPARENT needs CAP_NET_ADMIN or CAP_NET_RAW: these run as root (CI is root).
/// </summary>
public sealed class TransparentSocketTests
{
    [Theory]
    [InlineData(AddressFamily.InterNetwork, false)]
    [InlineData(AddressFamily.InterNetworkV6, false)]
    [InlineData(AddressFamily.InterNetworkV6, true)]
    public void TransparentIsOffByDefaultAndSetOnRequest(AddressFamily family, bool dualMode)
    {
        using var s = new Socket(family, SocketType.Stream, ProtocolType.Tcp);
        if (dualMode)
        {
            s.DualMode = true;
        }
        Assert.False(TransparentSocket.IsTransparent(s));
        TransparentSocket.SetTransparent(s);
        Assert.True(TransparentSocket.IsTransparent(s));
    }

    [Fact]
    public void FreebindAllowsBindingAnAddressThatIsNotLocal()
    {
        // 192.0.2.0/24 is TEST-NET-1 (RFC 5737): never configured here.
        var foreign = new IPEndPoint(IPAddress.Parse("192.0.2.1"), 0);
        using (var plain = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            SocketException e = Assert.Throws<SocketException>(() => plain.Bind(foreign));
            Assert.Equal(SocketError.AddressNotAvailable, e.SocketErrorCode);
        }
        using var free = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        TransparentSocket.SetFreebind(free);
        free.Bind(foreign);
        Assert.Equal(foreign.Address, ((IPEndPoint)free.LocalEndPoint!).Address);
    }

    /// <summary>
    /// A TPROXY'd connection is accepted by a listener on another port with the client's destination
    /// as its local address. Stand-in without TPROXY: the accepted socket's local endpoint differs from
    /// the "listening" endpoint we pass, exactly as it would under TPROXY.
    /// </summary>
    [Theory]
    [InlineData("127.0.0.1", false)]
    [InlineData("::1", false)]
    [InlineData("127.0.0.1", true)]
    public async Task LocalAddressOtherThanTheListenersIsTheOriginalDestination(string address, bool dualMode)
    {
        IPAddress ip = IPAddress.Parse(address);
        using var listener = dualMode
            ? new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp) { DualMode = true }
            : new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(dualMode ? IPAddress.IPv6Any : ip, 0));
        listener.Listen();
        var bound = (IPEndPoint)listener.LocalEndPoint!;
        using var client = new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await client.ConnectAsync(new IPEndPoint(ip, bound.Port), cts.Token);
        using Socket accepted = await listener.AcceptAsync(cts.Token);

        // The listener it was accepted on: not redirected.
        Assert.False(OriginalDestination.TryGet(accepted, bound, out IPEndPoint? none));
        Assert.Null(none);

        // A wildcard listener on another port (virtualInbound's [::]:15006): the local address is where the client went.
        int otherPort = bound.Port == 15006 ? 15007 : 15006;
        Assert.True(OriginalDestination.TryGet(accepted, new IPEndPoint(IPAddress.IPv6Any, otherPort), out IPEndPoint? original));
        Assert.Equal(new IPEndPoint(ip, bound.Port), original);

        // A specific-address listener on the same port but another address also differs.
        IPAddress elsewhere = ip.AddressFamily == AddressFamily.InterNetwork ? IPAddress.Parse("127.0.0.9") : IPAddress.Parse("::9");
        Assert.True(OriginalDestination.TryGet(accepted, new IPEndPoint(elsewhere, bound.Port), out IPEndPoint? sameport));
        Assert.Equal(new IPEndPoint(ip, bound.Port), sameport);
    }
}
